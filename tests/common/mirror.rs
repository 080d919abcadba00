//! Helpers for tests that ingest repeatedly and read what each pass added (dedup, mirrors).
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use super::harness;

/// The sample page bundled in `seeds/` (the tests never read anything outside the repository).
pub fn seed_page() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
    let mut pages: Vec<PathBuf> = fs::read_dir(dir)
        .expect("seeds/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    pages.sort();
    fs::read_to_string(pages.first().expect("a .txt page in seeds/")).expect("read seed page")
}

/// An environment that remembers how much of the log it has read, for tests that ingest again
/// and again and look only at what each pass added.
pub struct Env {
    pub inner: harness::Env,
    read: usize,
}

impl std::ops::Deref for Env {
    type Target = harness::Env;
    fn deref(&self) -> &harness::Env {
        &self.inner
    }
}

impl std::ops::DerefMut for Env {
    fn deref_mut(&mut self) -> &mut harness::Env {
        &mut self.inner
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            inner: harness::Env::new(),
            read: 0,
        }
    }

    /// The events appended since the last call (every line checked against the schema).
    pub fn new_events(&mut self) -> Vec<Value> {
        let all = self.inner.events();
        let fresh = all[self.read.min(all.len())..].to_vec();
        self.read = all.len();
        fresh
    }

    /// Ingests and returns the new events.
    pub fn ingest_new(&mut self) -> Vec<Value> {
        self.inner.ingest();
        self.new_events()
    }
}

/// The events of one subject, by type.
pub fn of<'a>(events: &'a [Value], subject: &str, kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["subject"] == subject && e["type"] == kind)
        .collect()
}

/// The `document.ingested` data of a subject (the last one).
pub fn document<'a>(events: &'a [Value], subject: &str) -> &'a Value {
    &of(events, subject, "sluice.document.ingested")
        .last()
        .unwrap_or_else(|| panic!("no document.ingested for {subject}"))["data"]
}
