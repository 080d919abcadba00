//! End-to-end benchmark of the real `sluice` release binary against temporary folders.
//!
//! ```sh
//! cargo bench --bench daemon                       # every section, full size
//! cargo bench --bench daemon -- latency ingest     # only the sections whose name contains a filter
//! SLUICE_BENCH_SCALE=0.05 cargo bench --bench daemon   # a quick run
//! ```
//!
//! Sections: `latency` (drop-to-`document.ingested` latency of the daemon), `ingest` (one pass
//! over many small files), `reconcile` (start-up with many unchanged tracked files), `sha256`
//! (coreutils `sha256sum` against `sluice::detect::sha256_file`), `churn` (RSS and state growth
//! per version while files are rewritten again and again). Progress goes to stderr; a
//! markdown table with every figure goes to stdout at the end.
//!
//! Sizes (each defaults to its full size times `SLUICE_BENCH_SCALE`, default 1):
//! `SLUICE_BENCH_LATENCY_FILES` (1000), `SLUICE_BENCH_LATENCY_RATE` (files/s, 50),
//! `SLUICE_BENCH_SETTLE_MS` (50), `SLUICE_BENCH_INGEST_FILES` (20000),
//! `SLUICE_BENCH_RECONCILE_FILES` (100000), `SLUICE_BENCH_SHA_MIB` (1024),
//! `SLUICE_BENCH_SHA_REPS` (3, not scaled; best run reported), `SLUICE_BENCH_CHURN_FILES` (200),
//! `SLUICE_BENCH_CHURN_VERSIONS` (30000). `SLUICE_BENCH_TMPDIR` chooses where the
//! temporary folders go (default: the system temp dir); `SLUICE_BENCH_KEEP=1` keeps them.
//!
//! The children run with the repository's `config/sluice.toml`, `RUST_LOG=info`, and no other
//! `SLUICE_*` variables in their environment (so the bench's own variables cannot leak into them).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sluice");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const INGESTED: &str = "sluice.document.ingested";
const FAILED: &str = "sluice.document.failed";

// ---------------------------------------------------------------------------------------------
// Options, report
// ---------------------------------------------------------------------------------------------

struct Opts {
    scale: f64,
    filters: Vec<String>,
    tmp_root: PathBuf,
    keep: bool,
}

impl Opts {
    fn from_env() -> Opts {
        let scale = env_f64("SLUICE_BENCH_SCALE").unwrap_or(1.0);
        assert!(
            scale > 0.0,
            "SLUICE_BENCH_SCALE must be a positive number, got {scale}"
        );
        // `cargo bench` passes `--bench`; every argument that is not a flag is a section filter.
        let filters = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .map(|a| a.to_lowercase())
            .collect();
        let tmp_root = std::env::var_os("SLUICE_BENCH_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let keep = std::env::var("SLUICE_BENCH_KEEP").is_ok_and(|v| v == "1");
        Opts {
            scale,
            filters,
            tmp_root,
            keep,
        }
    }

    fn wants(&self, section: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| section.contains(f.as_str()))
    }

    /// `var` if set, else `full` times the scale (at least `min`).
    fn size(&self, var: &str, full: usize, min: usize) -> usize {
        match std::env::var(var) {
            Ok(v) => v
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{var} must be a whole number, got {v:?}")),
            Err(_) => ((full as f64 * self.scale).round() as usize).max(min),
        }
    }

    fn tempdir(&self, prefix: &str) -> tempfile::TempDir {
        fs::create_dir_all(&self.tmp_root).expect("create SLUICE_BENCH_TMPDIR");
        let mut dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&self.tmp_root)
            .expect("create a temporary folder");
        if self.keep {
            dir.disable_cleanup(true);
            progress(format!("keeping {}", dir.path().display()));
        }
        dir
    }
}

fn env_f64(var: &str) -> Option<f64> {
    std::env::var(var).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a number, got {v:?}"))
    })
}

#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
    problems: Vec<String>,
}

impl Report {
    fn row(&mut self, section: &str, figure: impl Into<String>, value: impl Into<String>) {
        let (figure, value) = (figure.into(), value.into());
        progress(format!("  {section}: {figure} = {value}"));
        self.rows.push((section.to_string(), figure, value));
    }

    fn problem(&mut self, section: &str, what: impl Into<String>) {
        let what = what.into();
        progress(format!("  PROBLEM ({section}): {what}"));
        self.problems.push(format!("{section}: {what}"));
    }
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

// ---------------------------------------------------------------------------------------------
// Input generation
// ---------------------------------------------------------------------------------------------

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Paragraphs of the bundled seed pages, used to build distinct Chinese documents.
struct Corpus {
    paragraphs: Vec<String>,
}

impl Corpus {
    fn load() -> Corpus {
        let dir = Path::new(MANIFEST_DIR).join("seeds");
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        let mut paragraphs = Vec::new();
        for f in files {
            let text = fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            paragraphs.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        assert!(
            !paragraphs.is_empty(),
            "no paragraphs in {}/*.txt",
            dir.display()
        );
        Corpus { paragraphs }
    }

    /// Document `i`: a numbered title, then seed paragraphs in an order shuffled by `i`, cut to
    /// about `target` bytes. Different `i` give different bytes.
    fn document(&self, i: usize, target: usize) -> String {
        let mut rng = Rng::new(i as u64 + 1);
        let mut order: Vec<usize> = (0..self.paragraphs.len()).collect();
        for k in (1..order.len()).rev() {
            order.swap(k, rng.below(k + 1));
        }
        let mut doc = format!("第{i}号稿件：编号{i:06}的样本文档\n\n");
        for (n, &p) in order.iter().cycle().enumerate() {
            let remaining = target.saturating_sub(doc.len());
            if remaining < 90 {
                break;
            }
            let para = &self.paragraphs[p];
            let para = if n == 0 {
                format!("（{i}）{para}")
            } else {
                para.clone()
            };
            doc.push_str(truncate(&para, remaining - 2));
            doc.push_str("\n\n");
        }
        doc
    }

    /// A tiny document (~100–200 bytes) for the reconcile section.
    fn tiny(&self, i: usize) -> String {
        let para = &self.paragraphs[i % self.paragraphs.len()];
        format!("简讯第{i}号。{}\n", truncate(para, 120))
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Writes `count` files made by `make(i)` as `dir/dNNN/fNNNNNN.txt`, spread over `folders`
/// subfolders, on all cores. Returns the total bytes written.
fn write_tree(
    dir: &Path,
    count: usize,
    folders: usize,
    make: &(dyn Fn(usize) -> String + Sync),
) -> u64 {
    for d in 0..folders {
        fs::create_dir_all(dir.join(format!("d{d:03}"))).expect("create subfolder");
    }
    let threads = thread::available_parallelism().map_or(4, |n| n.get());
    let total = std::sync::atomic::AtomicU64::new(0);
    thread::scope(|s| {
        for t in 0..threads {
            let total = &total;
            s.spawn(move || {
                let mut bytes = 0u64;
                for i in (t..count).step_by(threads) {
                    let text = make(i);
                    let path = dir.join(format!("d{:03}/f{i:06}.txt", i % folders));
                    fs::write(&path, text.as_bytes()).expect("write input file");
                    bytes += text.len() as u64;
                }
                total.fetch_add(bytes, Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// The watched folder, event log and state database of one run.
struct Layout {
    watch: PathBuf,
    output: PathBuf,
    state: PathBuf,
}

impl Layout {
    fn under(root: &Path) -> Layout {
        let l = Layout {
            watch: root.join("watch"),
            output: root.join("out/events.ndjson"),
            state: root.join("out/sluice.db"),
        };
        fs::create_dir_all(&l.watch).expect("create watch folder");
        fs::create_dir_all(root.join("out")).expect("create output folder");
        l
    }

    fn command(&self, sub: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg(sub)
            .arg("--config")
            .arg(Path::new(MANIFEST_DIR).join("config/sluice.toml"))
            .arg("--watch")
            .arg(&self.watch)
            .arg("--output")
            .arg(&self.output)
            .arg("--state")
            .arg(&self.state)
            .args(extra)
            .current_dir(self.watch.parent().expect("layout root"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env("RUST_LOG", "info");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SLUICE_") {
                c.env_remove(k);
            }
        }
        c
    }
}

/// Collects a child's stderr on a thread: the lines that matter and the last few.
#[derive(Default)]
struct Stderr {
    interesting: Vec<String>,
    tail: std::collections::VecDeque<String>,
    warnings: usize,
    errors: usize,
    started: Option<Instant>,
}

fn capture_stderr(child: &mut Child) -> (Arc<Mutex<Stderr>>, thread::JoinHandle<()>) {
    let pipe = child.stderr.take().expect("piped stderr");
    let shared = Arc::new(Mutex::new(Stderr::default()));
    let sink = shared.clone();
    let handle = thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut s = sink.lock().unwrap();
            if line.contains("reconcile scan done") && s.started.is_none() {
                s.started = Some(Instant::now());
            }
            if line.contains(" WARN ") {
                s.warnings += 1;
            }
            if line.contains(" ERROR ") {
                s.errors += 1;
            }
            if line.contains("reconcile scan done")
                || line.contains("ingest done")
                || line.contains("sluice stopped")
                || ((line.contains(" WARN ") || line.contains(" ERROR "))
                    && s.interesting.len() < 50)
            {
                s.interesting.push(line.clone());
            }
            s.tail.push_back(line);
            if s.tail.len() > 30 {
                s.tail.pop_front();
            }
        }
    });
    (shared, handle)
}

/// `name=<digits>` in a tracing text line.
fn field(line: &str, name: &str) -> Option<u64> {
    let key = format!("{name}=");
    let at = line
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || !line.as_bytes()[i - 1].is_ascii_alphanumeric())?
        .0;
    let rest = &line[at + key.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`).
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmHWM")
}

/// One finished `sluice ingest`.
struct IngestRun {
    wall: Duration,
    status: ExitStatus,
    polled_hwm_kb: u64,
    stderr: Stderr,
}

impl IngestRun {
    fn done_line(&self) -> Option<&str> {
        self.stderr
            .interesting
            .iter()
            .rev()
            .find(|l| l.contains("ingest done"))
            .map(String::as_str)
    }
    fn reconcile_line(&self) -> Option<&str> {
        self.stderr
            .interesting
            .iter()
            .find(|l| l.contains("reconcile scan done"))
            .map(String::as_str)
    }
    fn logged(&self, name: &str) -> Option<u64> {
        self.done_line().and_then(|l| field(l, name))
    }
    fn check(&self, section: &str, report: &mut Report) {
        if !self.status.success() {
            report.problem(
                section,
                format!(
                    "`sluice ingest` exited with {}; last stderr lines:\n{}",
                    self.status,
                    self.stderr
                        .tail
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            );
        }
        if self.done_line().is_none() {
            report.problem(section, "no \"ingest done\" line on stderr");
        }
        if self.stderr.errors > 0 || self.stderr.warnings > 0 {
            report.problem(
                section,
                format!(
                    "{} WARN and {} ERROR lines on stderr, e.g.:\n{}",
                    self.stderr.warnings,
                    self.stderr.errors,
                    self.stderr
                        .interesting
                        .iter()
                        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            );
        }
    }
}

/// Runs `sluice ingest` to the end, polling its VmHWM every 20 ms.
/// The two peak-RSS rows of a run: as sluice logged it, and as polled from /proc.
fn rss_rows(report: &mut Report, section: &str, prefix: &str, run: &IngestRun) {
    report.row(
        section,
        format!("{prefix}peak RSS (logged peak_rss_kb)"),
        run.logged("peak_rss_kb")
            .map_or("n/a".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0)),
    );
    report.row(
        section,
        format!("{prefix}peak RSS (VmHWM polled every 20 ms)"),
        format!("{:.1} MiB", run.polled_hwm_kb as f64 / 1024.0),
    );
}

fn run_ingest(layout: &Layout) -> IngestRun {
    let started = Instant::now();
    let mut child = layout
        .command("ingest", &[])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    let (stderr, reader) = capture_stderr(&mut child);
    let pid = child.id();
    let mut hwm = 0;
    let status = loop {
        if let Some(v) = vm_hwm_kb(pid) {
            hwm = hwm.max(v);
        }
        match child.try_wait().expect("wait for sluice ingest") {
            Some(status) => break status,
            None => thread::sleep(Duration::from_millis(20)),
        }
    };
    let wall = started.elapsed();
    reader.join().expect("stderr reader");
    let stderr = Arc::try_unwrap(stderr)
        .ok()
        .expect("stderr reader finished")
        .into_inner()
        .unwrap();
    IngestRun {
        wall,
        status,
        polled_hwm_kb: hwm,
        stderr,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the event log
// ---------------------------------------------------------------------------------------------

/// The files rotated out of the log at `path` (see `sluice::sink::ndjson::rotated_path`), oldest
/// first: their names hold a zero-padded first sequence, so name order is sequence order.
fn rotated_parts(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else {
        return Vec::new();
    };
    let prefix = format!("{}-", stem.to_string_lossy());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut parts: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.strip_prefix(&prefix)
                            .and_then(|rest| rest.strip_suffix(&ext))
                            .is_some_and(|seq| {
                                seq.len() == 20 && seq.bytes().all(|b| b.is_ascii_digit())
                            })
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts
}

/// What a whole event log holds, with the checks the contract promises.
#[derive(Default)]
struct LogStats {
    lines: u64,
    bytes: u64,
    by_type: BTreeMap<String, u64>,
    ingested_per_subject: HashMap<String, u32>,
    failed: Vec<String>,
    bad_lines: u64,
    torn_tail: bool,
    sequence_gaps: u64,
    first_sequence: Option<u64>,
    last_sequence: Option<u64>,
}

impl LogStats {
    /// The log at `path` and the parts rotated out of it (`<stem>-<first sequence>.<ext>` beside
    /// it, read first, in sequence order).
    fn read(path: &Path) -> LogStats {
        let mut stats = LogStats::default();
        let mut parts = rotated_parts(path);
        parts.push(path.to_path_buf());
        let mut bytes = Vec::new();
        for part in &parts {
            let Ok(b) = fs::read(part) else { continue };
            // A torn line is only possible at the end of the live file.
            stats.torn_tail = !b.is_empty() && !b.ends_with(b"\n");
            bytes.extend_from_slice(&b);
        }
        stats.bytes = bytes.len() as u64;
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            stats.lines += 1;
            let Ok(v) = serde_json::from_slice::<Value>(line) else {
                stats.bad_lines += 1;
                continue;
            };
            let kind = v["type"].as_str().unwrap_or("?").to_string();
            let subject = v["subject"].as_str().unwrap_or("").to_string();
            if let Some(seq) = v["sequence"].as_str().and_then(|s| s.parse::<u64>().ok()) {
                if let Some(last) = stats.last_sequence {
                    if seq != last + 1 {
                        stats.sequence_gaps += 1;
                    }
                }
                stats.first_sequence.get_or_insert(seq);
                stats.last_sequence = Some(seq);
            } else {
                stats.bad_lines += 1;
            }
            if kind == INGESTED {
                *stats.ingested_per_subject.entry(subject).or_default() += 1;
            } else if kind == FAILED {
                stats
                    .failed
                    .push(format!("{subject}: {}", v["data"]["error"]));
            }
            *stats.by_type.entry(kind).or_default() += 1;
        }
        stats
    }

    fn duplicated(&self) -> Vec<(&str, u32)> {
        let mut d: Vec<(&str, u32)> = self
            .ingested_per_subject
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(s, &n)| (s.as_str(), n))
            .collect();
        d.sort();
        d
    }

    fn type_summary(&self) -> String {
        self.by_type
            .iter()
            .map(|(k, v)| format!("{}={v}", k.trim_start_matches("sluice.")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Reports every broken promise; `expected` are the subjects that must be ingested once.
    fn check(&self, section: &str, expected: &[String], report: &mut Report) {
        let missing: Vec<&String> = expected
            .iter()
            .filter(|s| !self.ingested_per_subject.contains_key(*s))
            .collect();
        if !missing.is_empty() {
            report.problem(
                section,
                format!(
                    "{} of {} files have no {INGESTED} line, e.g. {:?}",
                    missing.len(),
                    expected.len(),
                    &missing[..missing.len().min(5)]
                ),
            );
        }
        let dup = self.duplicated();
        if !dup.is_empty() {
            report.problem(
                section,
                format!(
                    "{} files have more than one {INGESTED} line, e.g. {:?}",
                    dup.len(),
                    &dup[..dup.len().min(5)]
                ),
            );
        }
        if !self.failed.is_empty() {
            report.problem(
                section,
                format!(
                    "{} {FAILED} lines, e.g. {:?}",
                    self.failed.len(),
                    &self.failed[..self.failed.len().min(3)]
                ),
            );
        }
        if self.bad_lines > 0 || self.torn_tail {
            report.problem(
                section,
                format!(
                    "log has {} unparsable lines, torn tail: {}",
                    self.bad_lines, self.torn_tail
                ),
            );
        }
        if self.sequence_gaps > 0 {
            report.problem(
                section,
                format!("log sequence has {} gaps", self.sequence_gaps),
            );
        }
    }
}

/// Follows the event log while the daemon writes it, timing each `document.ingested` line.
struct Tail {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
    handle: thread::JoinHandle<()>,
}

impl Tail {
    fn start(path: PathBuf) -> Tail {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let handle = thread::spawn(move || {
            let mut file = loop {
                if let Ok(f) = File::open(&path) {
                    break f;
                }
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                thread::sleep(Duration::from_millis(1));
            };
            let mut pending: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 1 << 16];
            let marker = format!("\"type\":\"{INGESTED}\"");
            loop {
                let n = file.read(&mut buf).expect("read event log");
                if n == 0 {
                    if stop2.load(Ordering::SeqCst) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
                let now = Instant::now();
                pending.extend_from_slice(&buf[..n]);
                while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=nl).collect();
                    let text = String::from_utf8_lossy(&line);
                    if !text.contains(&marker) {
                        continue;
                    }
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        let subject = v["subject"].as_str().unwrap_or("").to_string();
                        seen2.lock().unwrap().push((subject, now));
                    }
                }
            }
        });
        Tail { stop, seen, handle }
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn finish(self) -> Vec<(String, Instant)> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("tail thread");
        Arc::try_unwrap(self.seen)
            .expect("tail finished")
            .into_inner()
            .unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency(opts: &Opts, corpus: &Corpus, report: &mut Report) {
    let files = opts.size("SLUICE_BENCH_LATENCY_FILES", 1000, 10);
    let rate = env_f64("SLUICE_BENCH_LATENCY_RATE").unwrap_or(50.0);
    latency_at(opts, corpus, report, "latency", files, rate);
}

/// What one steady-rate run measured.
struct RateRun {
    p50: f64,
    p95: f64,
    p99: f64,
    /// Files ingested per second over the run (last ingested line − first drop).
    ingested_per_s: f64,
}

/// Drop-to-ingested latency at rising rates; saturation is the first rate whose p99 goes over
/// settle_ms + 50 ms or whose ingestion falls behind the drops.
fn saturation(opts: &Opts, corpus: &Corpus, report: &mut Report) {
    const S: &str = "saturation";
    let settle_ms = opts.size("SLUICE_BENCH_SETTLE_MS", 50, 50).max(1) as f64;
    let seconds = opts.size("SLUICE_BENCH_SATURATION_SECONDS", 4, 1) as f64;
    let mut saturated = None;
    for rate in [25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0] {
        let files = ((rate * seconds) as usize).max(20);
        let Some(run) = latency_at(
            opts,
            corpus,
            report,
            &format!("rate {rate:.0}/s"),
            files,
            rate,
        ) else {
            break;
        };
        report.row(
            S,
            format!("{rate:.0} files/s offered"),
            format!(
                "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, ingested {:.0} files/s",
                run.p50, run.p95, run.p99, run.ingested_per_s
            ),
        );
        if saturated.is_none() && (run.p99 > settle_ms + 50.0 || run.ingested_per_s < 0.9 * rate) {
            saturated = Some(rate);
        }
    }
    report.row(
        S,
        "saturation (p99 > settle_ms + 50 ms, or ingestion < 90% of the rate)",
        match saturated {
            Some(r) => format!("at {r:.0} files/s"),
            None => "not reached up to 1600 files/s".into(),
        },
    );
}

fn latency_at(
    opts: &Opts,
    corpus: &Corpus,
    report: &mut Report,
    section: &str,
    files: usize,
    rate: f64,
) -> Option<RateRun> {
    let settle_ms = opts.size("SLUICE_BENCH_SETTLE_MS", 50, 50).max(1);
    progress(format!(
        "latency: {files} files of ~2 KB at {rate} files/s, settle_ms={settle_ms}"
    ));
    let root = opts.tempdir("sluice-bench-latency-");
    let layout = Layout::under(root.path());
    let staging = root.path().join("staging");
    fs::create_dir_all(&staging).expect("create staging folder");
    let names: Vec<String> = (0..files).map(|i| format!("drop{i:05}.txt")).collect();
    let mut bytes = 0;
    for (i, name) in names.iter().enumerate() {
        let text = corpus.document(i, 2048);
        bytes += text.len();
        fs::write(staging.join(name), text).expect("write staged file");
    }

    let settle = settle_ms.to_string();
    let mut child = layout
        .command("run", &["--settle-ms", &settle])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    let spawned = Instant::now();
    let (stderr, reader) = capture_stderr(&mut child);
    let tail = Tail::start(layout.output.clone());
    let ready = loop {
        if let Some(t) = stderr.lock().unwrap().started {
            break Some(t);
        }
        if let Some(status) = child.try_wait().expect("poll daemon") {
            report.problem(
                section,
                format!("daemon exited before it was ready: {status}"),
            );
            break None;
        }
        if spawned.elapsed() > Duration::from_secs(30) {
            report.problem(section, "no \"reconcile scan done\" within 30 s");
            break None;
        }
        thread::sleep(Duration::from_millis(2));
    };
    let Some(ready) = ready else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    report.row(
        section,
        "daemon start to \"reconcile scan done\" (empty folder)",
        format!(
            "{:.0} ms",
            ready.duration_since(spawned).as_secs_f64() * 1e3
        ),
    );

    // Drop: rename from the staging folder (same filesystem), on a fixed schedule.
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut dropped: HashMap<String, Instant> = HashMap::with_capacity(files);
    let t0 = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let due = t0 + interval * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let at = Instant::now();
        fs::rename(staging.join(name), layout.watch.join(name)).expect("rename into watch");
        dropped.insert(name.clone(), at);
        if (i + 1) % 250 == 0 {
            progress(format!(
                "latency: dropped {}/{files}, {} ingested so far",
                i + 1,
                tail.count()
            ));
        }
    }
    let drop_span = t0.elapsed();
    let last_drop = Instant::now();
    // Wait for every file, then a little longer to catch duplicates.
    let deadline = last_drop + Duration::from_secs(30);
    while tail.count() < files && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let all_in = tail.count() >= files;
    thread::sleep(Duration::from_millis(1000));

    // SIGTERM and a clean exit within 10 s.
    let term_at = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for daemon") {
            break Some(s);
        }
        if term_at.elapsed() > Duration::from_secs(15) {
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let stop_ms = term_at.elapsed().as_secs_f64() * 1e3;
    let seen = tail.finish();
    match status {
        Some(s) => {
            report.row(section, "SIGTERM to exit", format!("{stop_ms:.0} ms, {s}"));
            if !s.success() {
                report.problem(section, format!("daemon exited with {s} after SIGTERM"));
            }
            if stop_ms > 10_000.0 {
                report.problem(
                    section,
                    format!("daemon took {stop_ms:.0} ms to stop (> 10 s)"),
                );
            }
        }
        None => {
            report.problem(section, "daemon still running 15 s after SIGTERM; killed");
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    reader.join().expect("stderr reader");

    // Latencies from the first ingested line of each dropped file.
    let mut first_seen: HashMap<&str, Instant> = HashMap::new();
    for (subject, at) in &seen {
        first_seen.entry(subject.as_str()).or_insert(*at);
    }
    let mut lat: Vec<f64> = dropped
        .iter()
        .filter_map(|(name, at)| {
            first_seen
                .get(name.as_str())
                .map(|seen| seen.saturating_duration_since(*at).as_secs_f64() * 1e3)
        })
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let mean = lat.iter().sum::<f64>() / lat.len().max(1) as f64;
    report.row(
        section,
        "files dropped (rename in) / achieved rate",
        format!(
            "{files} / {:.1} files/s ({:.1} KB avg)",
            (files - 1) as f64 / drop_span.as_secs_f64().max(1e-9),
            bytes as f64 / files as f64 / 1e3
        ),
    );
    report.row(
        section,
        "files with a document.ingested line",
        format!("{} of {files}", lat.len()),
    );
    for (p, label) in [(50.0, "p50"), (95.0, "p95"), (99.0, "p99"), (100.0, "max")] {
        report.row(
            section,
            format!("drop → document.ingested {label} (settle {settle_ms} ms)"),
            format!("{:.1} ms", percentile(&lat, p)),
        );
    }
    report.row(
        section,
        "drop → document.ingested mean",
        format!("{mean:.1} ms"),
    );
    if !all_in {
        report.problem(
            section,
            format!(
                "only {} of {files} files ingested 30 s after the last drop",
                first_seen.len()
            ),
        );
    }
    let slow = lat.iter().filter(|&&l| l > settle_ms as f64 + 50.0).count();
    if slow > 0 {
        report.problem(
            section,
            format!(
                "{slow} of {} files took longer than settle_ms + 50 ms = {} ms (max {:.1} ms)",
                lat.len(),
                settle_ms + 50,
                percentile(&lat, 100.0)
            ),
        );
    }
    let stats = LogStats::read(&layout.output);
    report.row(section, "event log", stats.type_summary());
    stats.check(section, &names, report);
    let last_seen = first_seen.values().max().copied();
    let ingested_per_s = last_seen.map_or(0.0, |last| {
        first_seen.len() as f64 / last.saturating_duration_since(t0).as_secs_f64().max(1e-9)
    });
    let err = stderr.lock().unwrap();
    if err.errors > 0 || err.warnings > 0 {
        report.problem(
            section,
            format!(
                "daemon logged {} WARN and {} ERROR lines, e.g.:\n{}",
                err.warnings,
                err.errors,
                err.interesting
                    .iter()
                    .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        );
    }
    Some(RateRun {
        p50: percentile(&lat, 50.0),
        p95: percentile(&lat, 95.0),
        p99: percentile(&lat, 99.0),
        ingested_per_s,
    })
}

fn subjects(count: usize, folders: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("d{:03}/f{i:06}.txt", i % folders))
        .collect()
}

fn ingest(opts: &Opts, corpus: &Corpus, report: &mut Report) {
    const S: &str = "ingest";
    let files = opts.size("SLUICE_BENCH_INGEST_FILES", 20_000, 100);
    let folders = 100;
    progress(format!(
        "ingest: writing {files} files of 1–2 KB in {folders} folders"
    ));
    let root = opts.tempdir("sluice-bench-ingest-");
    let layout = Layout::under(root.path());
    let bytes = write_tree(&layout.watch, files, folders, &|i| {
        corpus.document(i, 1024 + (i * 7919) % 1024)
    });
    progress("ingest: running `sluice ingest`");
    let run = run_ingest(&layout);
    run.check(S, report);
    let secs = run.wall.as_secs_f64();
    report.row(
        S,
        "input",
        format!(
            "{files} files, {:.1} MB, {folders} folders",
            bytes as f64 / 1e6
        ),
    );
    report.row(S, "wall time", format!("{secs:.2} s"));
    report.row(
        S,
        "throughput",
        format!("{:.0} files/s", files as f64 / secs),
    );
    report.row(
        S,
        "throughput (input bytes, MB = 10^6 B)",
        format!("{:.2} MB/s", bytes as f64 / 1e6 / secs),
    );
    rss_rows(report, S, "", &run);
    if let Some(line) = run.done_line() {
        report.row(
            S,
            "sluice's own figures",
            format!(
                "elapsed_ms={} versions={} events={} commits={}",
                field(line, "elapsed_ms").unwrap_or(0),
                field(line, "versions").unwrap_or(0),
                field(line, "events").unwrap_or(0),
                field(line, "commits").unwrap_or(0)
            ),
        );
    }
    let stats = LogStats::read(&layout.output);
    report.row(
        S,
        "event log",
        format!(
            "{:.1} MB, {}",
            stats.bytes as f64 / 1e6,
            stats.type_summary()
        ),
    );
    stats.check(S, &subjects(files, folders), report);
}

fn reconcile(opts: &Opts, corpus: &Corpus, report: &mut Report) {
    const S: &str = "reconcile";
    let files = opts.size("SLUICE_BENCH_RECONCILE_FILES", 100_000, 100);
    let folders = 1000.min(files);
    progress(format!(
        "reconcile: writing {files} tiny files in {folders} folders"
    ));
    let root = opts.tempdir("sluice-bench-reconcile-");
    let layout = Layout::under(root.path());
    let bytes = write_tree(&layout.watch, files, folders, &|i| corpus.tiny(i));
    progress("reconcile: first `sluice ingest` (setup, not the measured figure)");
    let first = run_ingest(&layout);
    first.check(S, report);
    report.row(
        S,
        "setup: first ingest of all files",
        format!(
            "{} files ({:.1} MB) in {:.2} s, peak RSS {} MiB",
            files,
            bytes as f64 / 1e6,
            first.wall.as_secs_f64(),
            first
                .logged("peak_rss_kb")
                .map_or("n/a".into(), |kb| format!("{:.1}", kb as f64 / 1024.0))
        ),
    );
    let log_before = LogStats::read(&layout.output);
    log_before.check(S, &subjects(files, folders), report);

    progress("reconcile: second `sluice ingest`, nothing changed (measured)");
    let second = run_ingest(&layout);
    second.check(S, report);
    report.row(
        S,
        format!("start-up reconcile with {files} unchanged tracked files: wall time"),
        format!("{:.3} s", second.wall.as_secs_f64()),
    );
    rss_rows(report, S, "… ", &second);
    if let Some(line) = second.reconcile_line() {
        report.row(
            S,
            "… reconcile scan (sluice's log)",
            format!(
                "ms={} changes={} tracked={}",
                field(line, "ms").unwrap_or(0),
                field(line, "changes").unwrap_or(0),
                field(line, "tracked").unwrap_or(0)
            ),
        );
        if field(line, "changes") != Some(0) {
            report.problem(S, format!("second ingest found changes: {line}"));
        }
    }
    let log_after = LogStats::read(&layout.output);
    if log_after.lines != log_before.lines || log_after.bytes != log_before.bytes {
        report.problem(
            S,
            format!(
                "second ingest with nothing changed wrote {} more lines ({} → {})",
                log_after.lines as i64 - log_before.lines as i64,
                log_before.type_summary(),
                log_after.type_summary()
            ),
        );
    }
}

fn sha256(opts: &Opts, report: &mut Report) {
    const S: &str = "sha256";
    let mib = opts.size("SLUICE_BENCH_SHA_MIB", 1024, 16);
    let reps = std::env::var("SLUICE_BENCH_SHA_REPS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let root = opts.tempdir("sluice-bench-sha256-");
    let path = root.path().join("big.bin");
    progress(format!("sha256: writing a {mib} MiB file"));
    {
        let mut f = std::io::BufWriter::new(File::create(&path).expect("create big file"));
        let mut rng = Rng::new(42);
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for chunk in buf.chunks_exact_mut(8) {
                chunk.copy_from_slice(&rng.next().to_le_bytes());
            }
            f.write_all(&buf).expect("write big file");
        }
        f.flush().expect("flush big file");
    }
    let size = fs::metadata(&path).expect("stat big file").len();
    progress("sha256: reading it once so both runs are warm (page cache)");
    {
        let mut f = File::open(&path).expect("open big file");
        let mut buf = vec![0u8; 1 << 20];
        while f.read(&mut buf).expect("read big file") > 0 {}
    }

    let mut best_coreutils = f64::INFINITY;
    let mut best_sluice = f64::INFINITY;
    let (mut digest_coreutils, mut digest_sluice) = (String::new(), String::new());
    for rep in 0..reps {
        progress(format!("sha256: run {}/{reps}", rep + 1));
        let t = Instant::now();
        let out = Command::new("sha256sum")
            .arg(&path)
            .output()
            .expect("run sha256sum");
        best_coreutils = best_coreutils.min(t.elapsed().as_secs_f64());
        assert!(out.status.success(), "sha256sum failed: {}", out.status);
        digest_coreutils = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();

        let t = Instant::now();
        digest_sluice = sluice::detect::sha256_file(&path).expect("sluice sha256_file");
        best_sluice = best_sluice.min(t.elapsed().as_secs_f64());
    }
    let gbps = |secs: f64| size as f64 / 1e9 / secs;
    let version = Command::new("sha256sum")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "sha256sum".into());
    report.row(
        S,
        "file",
        format!(
            "{:.2} GiB, warm page cache (read once before timing; caches cannot be dropped), best of {reps}",
            size as f64 / (1u64 << 30) as f64
        ),
    );
    report.row(
        S,
        format!("`{version}`"),
        format!("{:.2} GB/s ({best_coreutils:.3} s)", gbps(best_coreutils)),
    );
    report.row(
        S,
        "sluice::detect::sha256_file",
        format!("{:.2} GB/s ({best_sluice:.3} s)", gbps(best_sluice)),
    );
    report.row(
        S,
        "ratio sluice / sha256sum (throughput)",
        format!("{:.2}×", best_coreutils / best_sluice),
    );
    if digest_coreutils != digest_sluice {
        report.problem(
            S,
            format!("digests differ: sha256sum {digest_coreutils}, sluice {digest_sluice}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn command_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// A named section and what runs it.
type Section<'a> = (&'static str, &'a dyn Fn(&mut Report));

fn vm_rss_kb(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmRSS")
}

/// Bytes of the state database with its side files.
fn state_bytes(state: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| fs::metadata(format!("{}{s}", state.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Long-running growth: a folder whose files are rewritten again and again. Each new version
/// leaves its previous text to the dedup index as content gone from the folder; RSS and state
/// size are sampled as versions pile up, with the default retention and with a small cap.
fn churn(opts: &Opts, corpus: &Corpus, report: &mut Report) {
    let files = opts.size("SLUICE_BENCH_CHURN_FILES", 200, 20);
    let versions = opts.size("SLUICE_BENCH_CHURN_VERSIONS", 30_000, 2_000);
    for (label, cap) in [
        ("retention_entries=0, no cap", Some(0)),
        ("default retention", None),
        ("retention_entries=20000", Some(20_000)),
    ] {
        let section = format!("churn ({label})");
        progress(format!(
            "churn: {versions} versions of {files} files, {label}"
        ));
        let root = opts.tempdir("sluice-bench-churn-");
        let layout = Layout::under(root.path());
        let cap_arg = cap.map(|c| format!("dedup.retention_entries={c}"));
        // One log file: the tail follows it by its open descriptor.
        let mut args = vec![
            "--settle-ms",
            "20",
            "--set",
            "output.rotate_bytes=1099511627776",
        ];
        if let Some(c) = &cap_arg {
            args.extend(["--set", c.as_str()]);
        }
        let mut child = layout
            .command("run", &args)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let (stderr, reader) = capture_stderr(&mut child);
        let tail = Tail::start(layout.output.clone());
        let spawned = Instant::now();
        while stderr.lock().unwrap().started.is_none() {
            assert!(
                spawned.elapsed() < Duration::from_secs(30),
                "daemon never ready"
            );
            thread::sleep(Duration::from_millis(5));
        }
        let pid = child.id();
        let staging = root.path().join("staging");
        fs::create_dir_all(&staging).expect("staging");
        let mut samples: Vec<(usize, u64, u64)> = Vec::new();
        let t0 = Instant::now();
        for v in 0..versions {
            // At most 200 versions ahead of what is ingested: the daemon's pace, not the disk's.
            while v > tail.count() + 200 {
                thread::sleep(Duration::from_millis(2));
            }
            let name = format!("f{:04}.txt", v % files);
            let tmp = staging.join(&name);
            fs::write(&tmp, corpus.document(v, 1500)).expect("write version");
            fs::rename(&tmp, layout.watch.join(&name)).expect("rename into watch");
            if v % (versions / 10).max(1) == 0 || v + 1 == versions {
                samples.push((
                    tail.count(),
                    vm_rss_kb(pid).unwrap_or(0),
                    state_bytes(&layout.state),
                ));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while tail.count() < versions && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let secs = t0.elapsed().as_secs_f64();
        samples.push((
            tail.count(),
            vm_rss_kb(pid).unwrap_or(0),
            state_bytes(&layout.state),
        ));
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = child.wait();
        let _ = reader.join();
        let ingested = tail.finish().len();
        let (first, last) = (
            samples[1.min(samples.len() - 1)],
            samples[samples.len() - 1],
        );
        let per_k =
            |a: u64, b: u64| (b as f64 - a as f64) / ((last.0 - first.0).max(1) as f64 / 1000.0);
        report.row(
            &section,
            "versions ingested",
            format!("{ingested} in {secs:.1} s"),
        );
        report.row(
            &section,
            "RSS at 10% / 100% of the versions",
            format!(
                "{:.1} / {:.1} MiB",
                first.1 as f64 / 1024.0,
                last.1 as f64 / 1024.0
            ),
        );
        report.row(
            &section,
            "RSS growth per 1,000 versions (10% to 100%)",
            format!("{:.0} KiB", per_k(first.1, last.1)),
        );
        report.row(
            &section,
            "state at 10% / 100% of the versions",
            format!(
                "{:.1} / {:.1} MiB",
                first.2 as f64 / 1048576.0,
                last.2 as f64 / 1048576.0
            ),
        );
        report.row(
            &section,
            "state growth per 1,000 versions (10% to 100%)",
            format!("{:.0} KiB", per_k(first.2 / 1024, last.2 / 1024)),
        );
        let trace: Vec<String> = samples
            .iter()
            .map(|(n, rss, st)| {
                format!(
                    "{n}: {:.0}/{:.0}",
                    *rss as f64 / 1024.0,
                    *st as f64 / 1048576.0
                )
            })
            .collect();
        report.row(
            &section,
            "samples (versions: RSS MiB/state MiB)",
            trace.join(", "),
        );
        // A file rewritten again before its last version settled has one version fewer: that is
        // settling doing its job, not a miss (the other sections check for misses).
        report.row(
            &section,
            "versions rewritten before they settled (never seen)",
            (versions - ingested.min(versions)).to_string(),
        );
    }
}

fn main() {
    let opts = Opts::from_env();
    progress(format!(
        "binary {BIN}, scale {}, temp folders under {}",
        opts.scale,
        opts.tmp_root.display()
    ));
    let corpus = Corpus::load();
    let mut report = Report::default();
    let sections: [Section; 6] = [
        ("latency", &|r| latency(&opts, &corpus, r)),
        ("saturation", &|r| saturation(&opts, &corpus, r)),
        ("ingest", &|r| ingest(&opts, &corpus, r)),
        ("reconcile", &|r| reconcile(&opts, &corpus, r)),
        ("sha256", &|r| sha256(&opts, r)),
        ("churn", &|r| churn(&opts, &corpus, r)),
    ];
    let mut ran = 0;
    for (name, run) in sections {
        if opts.wants(name) {
            progress(format!("== {name} =="));
            run(&mut report);
            ran += 1;
        }
    }
    if ran == 0 {
        eprintln!(
            "no section matches {:?}; sections: latency, saturation, ingest, reconcile, sha256, \
             churn",
            opts.filters
        );
        std::process::exit(2);
    }

    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into());
    let date = command_line("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]);
    let commit = command_line("git", &["-C", MANIFEST_DIR, "rev-parse", "--short", "HEAD"]);
    let dirty = !command_line(
        "git",
        &["-C", MANIFEST_DIR, "status", "--porcelain", "--", "src"],
    )
    .is_empty();
    println!();
    println!("## sluice daemon benchmark");
    println!();
    println!(
        "Machine: nproc {}, kernel {}, CPU {cpu}. Date: {date}. sluice {commit}{}. Scale {}.",
        command_line("nproc", &[]),
        command_line("uname", &["-r"]),
        if dirty { " (src/ modified)" } else { "" },
        opts.scale
    );
    println!();
    println!("| section | figure | value |");
    println!("|---|---|---|");
    for (section, figure, value) in &report.rows {
        println!("| {section} | {figure} | {value} |");
    }
    println!();
    if report.problems.is_empty() {
        println!("No problems found (no missed, failed or duplicated files; clean exits).");
    } else {
        println!("Problems found:");
        for p in &report.problems {
            println!("- {}", p.replace('\n', "\n  "));
        }
    }
}
