//! Operations: a process-global metrics registry, its Prometheus text rendering, and a minimal
//! HTTP/1.1 endpoint serving `/metrics` and `/healthz`.
//!
//! Every stage updates the registry whether or not the endpoint is on: counters and histograms
//! are plain atomics, so the cost is a few relaxed atomic adds per file version. The only locks
//! are the labelled maps (failure kinds, taken once per failure; event types and queue gauges,
//! once per group commit or scrape) and the health state (taken on transitions and on `/healthz`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sluice::metrics::{self, Stage};
//! let m = metrics::global();
//! m.files_seen.inc();
//! m.failures.inc("not_text");
//! m.observe(Stage::Read, std::time::Duration::from_millis(3));
//! let (addr, _server) = metrics::serve("127.0.0.1:0".parse().unwrap(), m.health.clone())?;
//! m.health.set_ready();
//! # let _ = addr; Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A monotonic count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub const fn new() -> Gauge {
        Gauge(AtomicI64::new(0))
    }

    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts under one label (e.g. `kind`), for label values not known in advance. Takes a lock:
/// keep it off per-segment paths.
#[derive(Debug, Default)]
pub struct LabeledCounter(Mutex<BTreeMap<String, u64>>);

impl LabeledCounter {
    pub fn inc(&self, label: &str) {
        self.add(label, 1);
    }

    pub fn add(&self, label: &str, n: u64) {
        let mut map = lock(&self.0);
        match map.get_mut(label) {
            Some(v) => *v += n,
            None => {
                map.insert(label.to_string(), n);
            }
        }
    }

    /// The count of `label` (0 if never counted).
    pub fn get(&self, label: &str) -> u64 {
        lock(&self.0).get(label).copied().unwrap_or(0)
    }

    /// Every label and its count, sorted by label.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        lock(&self.0).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// A function read at scrape time (a queue's length, say).
pub type Probe = Arc<dyn Fn() -> i64 + Send + Sync>;

enum GaugeValue {
    Value(i64),
    Probe(Probe),
}

/// Gauges under one label (e.g. `queue`): each either set to a value or read from a [`Probe`]
/// when scraped.
#[derive(Default)]
pub struct LabeledGauge(Mutex<BTreeMap<String, GaugeValue>>);

impl LabeledGauge {
    pub fn set(&self, label: &str, v: i64) {
        lock(&self.0).insert(label.to_string(), GaugeValue::Value(v));
    }

    /// Reads `probe` at every scrape (replacing any earlier value or probe of `label`).
    pub fn probe(&self, label: &str, probe: impl Fn() -> i64 + Send + Sync + 'static) {
        lock(&self.0).insert(label.to_string(), GaugeValue::Probe(Arc::new(probe)));
    }

    pub fn get(&self, label: &str) -> Option<i64> {
        let probe = match lock(&self.0).get(label)? {
            GaugeValue::Value(v) => return Some(*v),
            GaugeValue::Probe(p) => p.clone(),
        };
        Some(probe())
    }

    /// Every label and its value now, sorted by label. Probes run outside the lock.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let entries: Vec<(String, Result<i64, Probe>)> = lock(&self.0)
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    GaugeValue::Value(v) => Ok(*v),
                    GaugeValue::Probe(p) => Err(p.clone()),
                };
                (k.clone(), v)
            })
            .collect();
        entries
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_else(|p| p())))
            .collect()
    }
}

/// A probe for a bounded tokio channel: the messages waiting in it (reserved slots included).
/// It holds only a weak sender, so it never keeps the channel open; once every sender is gone it
/// reads 0.
pub fn channel_depth<T: Send + 'static>(
    tx: &tokio::sync::mpsc::Sender<T>,
) -> impl Fn() -> i64 + Send + Sync + 'static {
    let weak = tx.downgrade();
    move || {
        weak.upgrade()
            .map_or(0, |tx| (tx.max_capacity() - tx.capacity()) as i64)
    }
}

/// Upper bounds (seconds) of the latency histogram buckets; `+Inf` follows.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram over [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    /// Non-cumulative counts; the last one is over the largest bound (`+Inf` only).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// What a histogram held at one moment, as the exposition format wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Cumulative counts for each of [`BUCKETS`], then `+Inf`.
    pub cumulative: Vec<u64>,
    /// Equal to the `+Inf` bucket by construction.
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let cumulative: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            count: total,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// The timed stages (label `stage` of `sluice_stage_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and hashing a file (the detector; one observation per read).
    Read,
    /// Encoding detection and decoding to text.
    Decode,
    /// Layout analysis: articles, segments, sentences.
    Segment,
    /// Figures, dates, entities and keywords.
    Extract,
    /// Dedup analysis on the workers: fingerprints, shingles, MinHash signatures.
    Dedup,
    /// Dedup index lookups and updates at commit time, per version (part of `commit`).
    DedupLookup,
    /// One group commit: dedup lookups, the log write and its sync, the SQLite transaction.
    Commit,
    /// NATS mode: publishing a group of jobs (node) or one job's events (worker) until the
    /// stream has stored them.
    Publish,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Read,
        Stage::Decode,
        Stage::Segment,
        Stage::Extract,
        Stage::Dedup,
        Stage::DedupLookup,
        Stage::Commit,
        Stage::Publish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Decode => "decode",
            Stage::Segment => "segment",
            Stage::Extract => "extract",
            Stage::Dedup => "dedup",
            Stage::DedupLookup => "dedup_lookup",
            Stage::Commit => "commit",
            Stage::Publish => "publish",
        }
    }
}

/// Whether the process is doing its job: what `/healthz` answers. Starts "not ready".
///
/// Two sources: the pipeline's own state (starting, running, stopping, failed), and a problem
/// a stage reports while the pipeline runs on (the watched folder is missing). Either makes
/// `/healthz` answer 503 with its reason; the pipeline's own failure is said first.
#[derive(Debug)]
pub struct Health {
    state: Mutex<Result<(), String>>,
    problem: Mutex<Option<String>>,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

/// One line: the reason is the whole response body.
fn one_line(reason: String) -> String {
    reason.replace(['\r', '\n'], " ")
}

impl Health {
    pub fn new() -> Health {
        Health {
            state: Mutex::new(Err("starting".into())),
            problem: Mutex::new(None),
        }
    }

    pub fn set_ready(&self) {
        *lock(&self.state) = Ok(());
    }

    /// Not healthy, for the one-line `reason` `/healthz` gives (e.g. "the committer failed: …").
    pub fn set_unready(&self, reason: impl Into<String>) {
        *lock(&self.state) = Err(one_line(reason.into()));
    }

    /// A problem that keeps the daemon from doing all its job while it runs on (None: solved).
    pub fn set_problem(&self, problem: Option<String>) {
        *lock(&self.problem) = problem.map(one_line);
    }

    pub fn check(&self) -> Result<(), String> {
        lock(&self.state).clone()?;
        match lock(&self.problem).clone() {
            Some(p) => Err(p),
            None => Ok(()),
        }
    }
}

/// Everything `/metrics` shows. Use [`global`]; [`Metrics::new`] is for tests.
pub struct Metrics {
    /// File versions, moves, removals and failures the detector reported (touches excluded).
    pub files_seen: Counter,
    /// Versions committed with `sluice.document.ingested`.
    pub versions_ingested: Counter,
    /// Committed `sluice.document.failed` events by `error.kind`.
    pub failures: LabeledCounter,
    /// Committed events by CloudEvents `type`.
    pub events: LabeledCounter,
    /// Group commits (one write, one sync, one transaction each).
    pub commits: Counter,
    /// Bytes appended to the event log by this process.
    pub log_bytes: Counter,
    /// Committed size of the current event log file (drops to 0 at a rotation).
    pub log_size_bytes: Gauge,
    /// Jobs published to the work queue (NATS mode).
    pub jobs_published: Counter,
    /// Jobs acknowledged by workers (NATS mode).
    pub jobs_acked: Counter,
    /// Messages waiting in each channel between stages, by `queue`.
    pub queue_depth: LabeledGauge,
    /// Bytes charged to the byte budget (`pipeline.max_inflight_bytes`) by versions in flight.
    pub in_flight_bytes: Gauge,
    /// Files in the detector's index.
    pub tracked_files: Gauge,
    /// What `/healthz` answers; also exported as `sluice_healthy`.
    pub health: Arc<Health>,
    stages: [Histogram; Stage::ALL.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The process's registry.
pub fn global() -> &'static Metrics {
    static GLOBAL: OnceLock<Metrics> = OnceLock::new();
    GLOBAL.get_or_init(Metrics::new)
}

impl Metrics {
    /// Counts events as they are committed (local mode) or stored in the stream (NATS mode):
    /// by type, document events as versions ingested, failures by `error.kind`.
    pub fn count_events<'a>(&self, events: impl IntoIterator<Item = &'a crate::event::Event>) {
        let mut by_type: Vec<(&'static str, u64)> = Vec::with_capacity(8);
        for e in events {
            match by_type.iter_mut().find(|(kind, _)| *kind == e.kind) {
                Some((_, n)) => *n += 1,
                None => by_type.push((e.kind, 1)),
            }
            if e.kind == crate::event::DOCUMENT_FAILED {
                self.failures
                    .inc(e.data["error"]["kind"].as_str().unwrap_or("unknown"));
            }
        }
        for (kind, n) in by_type {
            self.events.add(kind, n);
            if kind == crate::event::DOCUMENT_INGESTED {
                self.versions_ingested.add(n);
            }
        }
    }

    pub fn new() -> Metrics {
        Metrics {
            files_seen: Counter::new(),
            versions_ingested: Counter::new(),
            failures: LabeledCounter::default(),
            events: LabeledCounter::default(),
            commits: Counter::new(),
            log_bytes: Counter::new(),
            log_size_bytes: Gauge::new(),
            jobs_published: Counter::new(),
            jobs_acked: Counter::new(),
            queue_depth: LabeledGauge::default(),
            in_flight_bytes: Gauge::new(),
            tracked_files: Gauge::new(),
            health: Arc::new(Health::new()),
            stages: Default::default(),
        }
    }

    pub fn stage(&self, stage: Stage) -> &Histogram {
        &self.stages[stage as usize]
    }

    pub fn observe(&self, stage: Stage, d: Duration) {
        self.stage(stage).observe(d);
    }

    /// Every metric in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            family(out, name, help, "counter");
            let _ = writeln!(out, "{name} {v}");
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: i64| {
            family(out, name, help, "gauge");
            let _ = writeln!(out, "{name} {v}");
        };
        counter(
            &mut out,
            "sluice_files_seen_total",
            "File versions, moves, removals and failures the detector reported (touches excluded).",
            self.files_seen.get(),
        );
        counter(
            &mut out,
            "sluice_versions_ingested_total",
            "File versions committed with sluice.document.ingested.",
            self.versions_ingested.get(),
        );
        labeled(
            &mut out,
            "sluice_failures_total",
            "Committed sluice.document.failed events, by error.kind.",
            "counter",
            "kind",
            self.failures.snapshot(),
        );
        labeled(
            &mut out,
            "sluice_events_total",
            "Committed events, by CloudEvents type.",
            "counter",
            "type",
            self.events.snapshot(),
        );
        counter(
            &mut out,
            "sluice_commits_total",
            "Group commits (one log write, one sync, one state transaction each).",
            self.commits.get(),
        );
        counter(
            &mut out,
            "sluice_log_bytes_total",
            "Bytes appended to the event log by this process.",
            self.log_bytes.get(),
        );
        gauge(
            &mut out,
            "sluice_log_size_bytes",
            "Committed size of the current event log file.",
            self.log_size_bytes.get(),
        );
        counter(
            &mut out,
            "sluice_jobs_published_total",
            "Jobs published to the work queue (NATS mode).",
            self.jobs_published.get(),
        );
        counter(
            &mut out,
            "sluice_jobs_acked_total",
            "Jobs acknowledged by workers (NATS mode).",
            self.jobs_acked.get(),
        );
        family(
            &mut out,
            "sluice_stage_seconds",
            "Time spent in each pipeline stage, per file version (commit: per group).",
            "histogram",
        );
        for stage in Stage::ALL {
            histogram(
                &mut out,
                "sluice_stage_seconds",
                ("stage", stage.name()),
                &self.stage(stage).snapshot(),
            );
        }
        labeled(
            &mut out,
            "sluice_queue_depth",
            "Messages waiting in each bounded channel between stages.",
            "gauge",
            "queue",
            self.queue_depth.snapshot(),
        );
        gauge(
            &mut out,
            "sluice_in_flight_bytes",
            "Bytes charged to the byte budget (pipeline.max_inflight_bytes; 20 per file byte and 7 KiB per line) by versions between reading and commit.",
            self.in_flight_bytes.get(),
        );
        gauge(
            &mut out,
            "sluice_tracked_files",
            "Files in the detector's index.",
            self.tracked_files.get(),
        );
        gauge(
            &mut out,
            "sluice_healthy",
            "1 when /healthz answers 200, else 0.",
            i64::from(self.health.check().is_ok()),
        );
        out
    }
}

/// `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', r"\\").replace('\n', r"\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format wants it: `\`, `"` and newline escaped.
pub fn escape_label_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str(r"\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str(r"\n"),
            c => s.push(c),
        }
    }
    s
}

fn labeled<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    help: &str,
    kind: &str,
    label: &str,
    values: Vec<(String, V)>,
) {
    family(out, name, help, kind);
    for (value, v) in values {
        let _ = writeln!(
            out,
            "{name}{{{label}=\"{}\"}} {v}",
            escape_label_value(&value)
        );
    }
}

fn histogram(out: &mut String, name: &str, label: (&str, &str), h: &HistogramSnapshot) {
    let (key, value) = (label.0, escape_label_value(label.1));
    for (i, n) in h.cumulative.iter().enumerate() {
        let le = BUCKETS
            .get(i)
            .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        let _ = writeln!(out, "{name}_bucket{{{key}=\"{value}\",le=\"{le}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_sum{{{key}=\"{value}\"}} {}", h.sum_seconds);
    let _ = writeln!(out, "{name}_count{{{key}=\"{value}\"}} {}", h.count);
}

// ----- the HTTP endpoint -----

/// Largest request head read; a longer one gets 431.
const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its request head, and to take the response.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a client to close after the response.
const LINGER: Duration = Duration::from_secs(1);
/// Connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 64;

/// Binds `addr` and serves `GET`/`HEAD` `/metrics` (the [`global`] registry) and `/healthz`
/// (from `health`) until the returned task is aborted or the runtime stops. Logs
/// `metrics listening on ADDR` with the bound address, which is also returned (so port 0
/// works). Must be called from within a tokio runtime.
pub fn serve(addr: SocketAddr, health: Arc<Health>) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "metrics listening on {bound}");
    let handle = tokio::spawn(async move {
        let mut open: std::collections::VecDeque<Connection> = Default::default();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    open.retain(|c| !c.task.is_finished());
                    if open.len() >= MAX_CONNECTIONS {
                        // Full: the oldest connection that has not sent its request yet (a
                        // client holding idle connections) makes room; a probe sends its request
                        // at once, so it is never the one to go. When every connection is being
                        // answered, the new one is closed unanswered.
                        match open.iter().position(|c| c.waiting.load(Ordering::Relaxed)) {
                            Some(i) => {
                                if let Some(idle) = open.remove(i) {
                                    idle.task.abort();
                                }
                            }
                            None => continue,
                        }
                    }
                    let health = health.clone();
                    let waiting = Arc::new(AtomicBool::new(true));
                    let flag = waiting.clone();
                    let task = tokio::spawn(async move {
                        if let Err(e) = answer(stream, &health, &flag).await {
                            tracing::debug!("metrics endpoint: {e}");
                        }
                    });
                    open.push_back(Connection {
                        task: task.abort_handle(),
                        waiting,
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("metrics endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok((bound, handle))
}

/// A connection being served: its task, and whether it is still waiting for its request head.
struct Connection {
    task: tokio::task::AbortHandle,
    waiting: Arc<AtomicBool>,
}

/// What the request head came to.
enum Head {
    Complete(Vec<u8>),
    TooLarge,
    /// Closed (or timed out) before a whole head arrived.
    Incomplete(Vec<u8>),
}

async fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Head::Incomplete(buf));
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        let tail = &buf[from..];
        if tail.windows(4).any(|w| w == b"\r\n\r\n") || tail.windows(2).any(|w| w == b"\n\n") {
            return Ok(Head::Complete(buf));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Head::TooLarge);
        }
    }
}

async fn answer(mut stream: TcpStream, health: &Health, waiting: &AtomicBool) -> io::Result<()> {
    let head = tokio::time::timeout(IO_TIMEOUT, read_head(&mut stream)).await;
    waiting.store(false, Ordering::Relaxed);
    let response = match head {
        Ok(Ok(Head::Complete(head))) => respond(&head, health),
        Ok(Ok(Head::TooLarge)) => Response::text(431, "request head over 8 KiB\n"),
        Ok(Ok(Head::Incomplete(head))) if head.is_empty() => return Ok(()),
        Ok(Ok(Head::Incomplete(_))) => Response::text(400, "incomplete request\n"),
        Ok(Err(e)) => return Err(e),
        Err(_) => Response::text(408, "request timed out\n"),
    };
    let bytes = response.to_bytes();
    tokio::time::timeout(IO_TIMEOUT, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await
    .map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "client too slow to take the response",
        )
    })??;
    // Closing with unread input would reset the connection and could lose the response on the
    // client's side (a refused oversized head): read what is left, briefly, first.
    let _ = tokio::time::timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
    Ok(())
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq)]
struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
    /// A HEAD request: the headers of the GET, no body.
    head_only: bool,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            head_only: false,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        if self.status == 405 {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if !self.head_only {
            bytes.extend_from_slice(self.body.as_bytes());
        }
        bytes
    }
}

/// The response to one request head.
fn respond(head: &[u8], health: &Health) -> Response {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Response::text(400, "bad request line\n");
    };
    if !version.starts_with("HTTP/1.") {
        return Response::text(400, "HTTP/1.x only\n");
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Response::text(405, "only GET and HEAD\n"),
    };
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let mut response = match path {
        "/metrics" => Response {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: global().render(),
            head_only: false,
        },
        "/healthz" => match health.check() {
            Ok(()) => Response::text(200, "ok\n"),
            Err(reason) => Response::text(503, format!("{reason}\n")),
        },
        _ => Response::text(404, "not found: try /metrics or /healthz\n"),
    };
    response.head_only = head_only;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample lines of `text` named `name` (with labels), as (labels, value).
    fn samples<'a>(text: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let (n, labels) = series.split_once('{').unwrap_or((series, ""));
                (n == name).then_some((labels.trim_end_matches('}'), value))
            })
            .collect()
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_equals_count() {
        let m = Metrics::new();
        for ms in [0.1, 0.7, 3.0, 3.0, 40.0, 20_000.0] {
            m.observe(Stage::Decode, Duration::from_secs_f64(ms / 1000.0));
        }
        let snap = m.stage(Stage::Decode).snapshot();
        assert_eq!(snap.count, 6);
        assert_eq!(snap.cumulative.last(), Some(&6));
        assert!(snap.cumulative.windows(2).all(|w| w[0] <= w[1]));
        // le=0.0005: 1; le=0.001: 2; le=0.005: 4; le=0.05: 5; le=10: 5; +Inf: 6.
        assert_eq!(snap.cumulative[0], 1);
        assert_eq!(snap.cumulative[1], 2);
        assert_eq!(snap.cumulative[3], 4);
        assert_eq!(snap.cumulative[6], 5);
        assert_eq!(snap.cumulative[BUCKETS.len() - 1], 5);
        assert!(
            (snap.sum_seconds - 20.0468).abs() < 1e-6,
            "{}",
            snap.sum_seconds
        );

        let text = m.render();
        let buckets = samples(&text, "sluice_stage_seconds_bucket");
        let decode: Vec<_> = buckets
            .iter()
            .filter(|(l, _)| l.starts_with("stage=\"decode\""))
            .collect();
        assert_eq!(decode.len(), BUCKETS.len() + 1);
        assert_eq!(decode[0].0, "stage=\"decode\",le=\"0.0005\"");
        assert_eq!(decode[0].1, "1");
        assert_eq!(decode[10].0, "stage=\"decode\",le=\"1\"");
        assert_eq!(
            *decode.last().unwrap(),
            &("stage=\"decode\",le=\"+Inf\"", "6")
        );
        assert!(samples(&text, "sluice_stage_seconds_count").contains(&("stage=\"decode\"", "6")));
        assert!(samples(&text, "sluice_stage_seconds_count").contains(&("stage=\"read\"", "0")));
        assert_eq!(
            text.matches("# TYPE sluice_stage_seconds histogram")
                .count(),
            1
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("x\ny"), r"x\ny");
        assert_eq!(escape_label_value("不是文本"), "不是文本");
        let m = Metrics::new();
        m.failures.inc("weird\"kind\\\n");
        m.failures.add("not_text", 2);
        let text = m.render();
        assert!(
            text.contains("sluice_failures_total{kind=\"weird\\\"kind\\\\\\n\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("sluice_failures_total{kind=\"not_text\"} 2\n"));
        assert_eq!(m.failures.get("not_text"), 2);
        assert_eq!(m.failures.get("empty"), 0);
    }

    #[test]
    fn every_family_has_help_and_type_and_counters_end_in_total() {
        let m = Metrics::new();
        m.files_seen.add(3);
        m.queue_depth.set("commit", 2);
        m.queue_depth.probe("process", || 7);
        let text = m.render();
        assert!(text.ends_with('\n'));
        let mut types = 0;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                types += 1;
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(name.starts_with("sluice_"), "{name}");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
                assert!(
                    text.contains(&format!("# HELP {name} ")),
                    "{name} has no HELP"
                );
            }
        }
        assert!(types >= 14);
        assert!(text.contains("sluice_files_seen_total 3\n"));
        assert!(text.contains("sluice_queue_depth{queue=\"commit\"} 2\n"));
        assert!(text.contains("sluice_queue_depth{queue=\"process\"} 7\n"));
        assert!(text.contains("sluice_healthy 0\n"));
        m.health.set_ready();
        assert!(m.render().contains("sluice_healthy 1\n"));
    }

    #[test]
    fn a_channel_probe_counts_waiting_messages_and_reads_0_once_senders_are_gone() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(8);
        let depth = channel_depth(&tx);
        assert_eq!(depth(), 0);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(depth(), 2);
        rx.try_recv().unwrap();
        assert_eq!(depth(), 1);
        drop(tx);
        assert_eq!(depth(), 0);
        // The probe did not keep the channel open.
        rx.try_recv().unwrap();
        assert!(rx.try_recv().is_err());
        assert!(rx.is_closed());
    }

    #[test]
    fn requests_are_routed_by_method_and_path() {
        let health = Health::new();
        let r = respond(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &health);
        assert_eq!((r.status, r.body.as_str()), (503, "starting\n"));
        health.set_ready();
        let r = respond(b"GET /healthz HTTP/1.1\r\n\r\n", &health);
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
        health.set_unready("the committer failed: disk full\nsecond line");
        let r = respond(b"GET /healthz HTTP/1.0\r\n\r\n", &health);
        assert_eq!(r.status, 503);
        assert_eq!(r.body, "the committer failed: disk full second line\n");

        let r = respond(b"GET /metrics?x=1 HTTP/1.1\r\n\r\n", &health);
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
        assert!(r.body.contains("# TYPE sluice_files_seen_total counter"));

        let head = respond(b"HEAD /metrics HTTP/1.1\r\n\r\n", &health);
        let bytes = head.to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.ends_with("\r\n\r\n"), "HEAD has no body");
        assert!(text.contains("Connection: close\r\n"));

        assert_eq!(respond(b"GET /nope HTTP/1.1\r\n\r\n", &health).status, 404);
        let post = respond(b"POST /metrics HTTP/1.1\r\n\r\n", &health);
        assert_eq!(post.status, 405);
        assert!(String::from_utf8(post.to_bytes())
            .unwrap()
            .contains("Allow: GET, HEAD\r\n"));
        assert_eq!(respond(b"GET\r\n\r\n", &health).status, 400);
        assert_eq!(respond(b"GET / SPDY/3\r\n\r\n", &health).status, 400);
    }

    #[tokio::test]
    async fn the_server_answers_over_tcp_and_caps_the_head() {
        let health = Arc::new(Health::new());
        health.set_ready();
        let (addr, server) = serve("127.0.0.1:0".parse().unwrap(), health).unwrap();
        assert_ne!(addr.port(), 0);
        let get = |request: Vec<u8>| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&request).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let ok = get(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()).await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nok\n"), "{ok}");
        let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 10_000));
        let refused = get(huge).await;
        assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
        server.abort();
    }
}
