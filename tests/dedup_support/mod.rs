//! A small harness for the dedup tests: runs `sluice ingest` on a temporary folder and reads the
//! events it appended since the last look.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_sluice");

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

pub struct Env {
    pub dir: tempfile::TempDir,
    pub watch: PathBuf,
    pub output: PathBuf,
    pub state: PathBuf,
    pub settings: Vec<String>,
    read: usize,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = dir.path().join("watch");
        fs::create_dir_all(&watch).unwrap();
        Env {
            output: dir.path().join("out/events.ndjson"),
            state: dir.path().join("out/sluice.db"),
            watch,
            dir,
            settings: Vec::new(),
            read: 0,
        }
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.watch.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, content).unwrap();
    }

    pub fn ingest(&self) {
        let config = self.dir.path().join("none.toml");
        fs::write(&config, "").unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("ingest")
            .arg("--config")
            .arg(&config)
            .arg("--watch")
            .arg(&self.watch)
            .arg("--output")
            .arg(&self.output)
            .arg("--state")
            .arg(&self.state)
            .env("RUST_LOG", "warn")
            .env_remove("SLUICE_CONFIG");
        for s in &self.settings {
            cmd.arg("--set").arg(s);
        }
        let out = cmd.output().expect("run sluice ingest");
        assert!(
            out.status.success(),
            "sluice ingest failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Every event in the log.
    pub fn events(&self) -> Vec<Value> {
        let text = fs::read_to_string(&self.output).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("an event is JSON"))
            .collect()
    }

    /// The events appended since the last call.
    pub fn new_events(&mut self) -> Vec<Value> {
        let all = self.events();
        let fresh = all[self.read.min(all.len())..].to_vec();
        self.read = all.len();
        fresh
    }

    /// Ingests and returns the new events.
    pub fn ingest_new(&mut self) -> Vec<Value> {
        self.ingest();
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
