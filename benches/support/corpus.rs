//! The corpus the suite and the NATS bench run on: `SLUICE_BENCH_CORPUS=DIR` (every file below
//! it) or one generated from `seeds/` with variations; and the table they print.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Corpus {
    pub dir: PathBuf,
    pub files: Vec<(String, Vec<u8>)>,
    pub bytes: u64,
    pub _keep: Option<tempfile::TempDir>,
}

pub fn load(dir: &Path, keep: Option<tempfile::TempDir>) -> Corpus {
    let mut paths: Vec<PathBuf> = walk(dir);
    paths.sort();
    let files: Vec<(String, Vec<u8>)> = paths
        .iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(dir).ok()?.to_string_lossy().into_owned();
            Some((rel, std::fs::read(p).ok()?))
        })
        .collect();
    let bytes = files.iter().map(|(_, b)| b.len() as u64).sum();
    Corpus {
        dir: dir.to_path_buf(),
        files,
        bytes,
        _keep: keep,
    }
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// 1,000 documents made from the seed page: its articles rotated, figures and names varied.
pub fn generated() -> Corpus {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let page: String = walk(&seeds)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let blocks: Vec<&str> = page
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    for i in 0..1000usize {
        let start = (i * 7) % blocks.len();
        let take = 6 + i % 9;
        let doc: Vec<String> = (0..take)
            .map(|k| {
                blocks[(start + k) % blocks.len()]
                    .chars()
                    .map(|c| match c.to_digit(10) {
                        Some(d) => char::from_digit((d + i as u32) % 10, 10).unwrap_or(c),
                        None => c,
                    })
                    .collect()
            })
            .collect();
        let path = tmp.path().join(format!("{:02}/doc{i:04}.txt", i % 20));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, doc.join("\n\n")).unwrap();
    }
    let dir = tmp.path().to_path_buf();
    load(&dir, Some(tmp))
}

pub fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9)
}

pub struct Table(pub Vec<(String, String)>);

impl Table {
    /// A table whose first row names the corpus.
    pub fn for_corpus(c: &Corpus) -> Table {
        let mut t = Table(Vec::new());
        t.row(
            "corpus",
            format!(
                "{} ({} files, {:.2} MB)",
                c.dir.display(),
                c.files.len(),
                c.bytes as f64 / 1e6
            ),
        );
        t
    }

    pub fn row(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let (what, value) = (what.into(), value.into());
        eprintln!("{what}: {value}");
        self.0.push((what, value));
    }

    /// Prints the table as markdown on stdout, under `title` (which gets the core count).
    pub fn print(&self, title: &str) {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!();
        println!("{title} ({cores} cores)");
        println!();
        println!("| measure | value |");
        println!("|---|---|");
        for (what, value) in &self.0 {
            println!("| {what} | {value} |");
        }
    }
}

/// The corpus named by `SLUICE_BENCH_CORPUS`, or the generated one.
pub fn from_env() -> Corpus {
    match std::env::var("SLUICE_BENCH_CORPUS") {
        Ok(dir) => load(Path::new(&dir), None),
        Err(_) => generated(),
    }
}

/// Runs `sluice ingest` on the corpus with a fresh state; returns (seconds, peak RSS KiB).
pub fn ingest(c: &Corpus, workers: usize) -> (f64, u64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("none.toml");
    std::fs::write(&config, "").expect("config");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("ingest")
        .arg("--config")
        .arg(&config)
        .arg("--watch")
        .arg(&c.dir)
        .arg("--output")
        .arg(tmp.path().join("events.ndjson"))
        .arg("--state")
        .arg(tmp.path().join("sluice.db"))
        .arg("--set")
        .arg(format!("pipeline.workers={workers}"))
        .env("RUST_LOG", "info")
        .output()
        .expect("run sluice ingest");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sluice ingest failed: {stderr}");
    let rss = stderr
        .split("peak_rss_kb=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (secs, rss)
}
