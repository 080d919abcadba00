//! Operations: the metrics of one process (a `prometheus-client` registry, rendered in the
//! Prometheus text format 0.0.4) and the HTTP endpoint serving `/metrics` and `/healthz` (hyper).
//!
//! One [`Metrics`] is made per process by the command that runs and passed, as an `Arc`, to
//! each stage that counts something; nothing reaches it through a global. Counters, gauges and
//! histograms are atomics shared by their clones, so a stage may keep the one handle it needs
//! (the byte budget keeps its gauge, the detector its read histogram). Each metric is defined
//! once: its field, and its name and help where [`Metrics::new`] registers it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use sluice::metrics::{self, Metrics, Stage};
//! let m = Arc::new(Metrics::new());
//! m.files_seen.inc();
//! m.failures.inc("not_text");
//! m.observe(Stage::Read, std::time::Duration::from_millis(3));
//! let (addr, _server) = metrics::serve("127.0.0.1:0".parse().unwrap(), m.clone())?;
//! m.health.set_ready();
//! # let _ = addr; Ok(()) }
//! ```

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};
use tokio::task::JoinHandle;

/// A monotonic count (`inc`, `inc_by`, `get`).
pub type Counter = prometheus_client::metrics::counter::Counter;
/// A value that goes up and down (`set`, `inc_by`, `dec_by`, `get`).
pub type Gauge = gauge::Gauge<i64, AtomicI64>;
/// A latency histogram over [`BUCKETS`] (`observe` takes seconds).
pub type Timer = Histogram;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One label, `key="value"`.
type Label = [(&'static str, String); 1];

/// A counter per value of one label.
#[derive(Debug, Clone)]
pub struct LabeledCounter {
    key: &'static str,
    family: Family<Label, Counter>,
}

impl LabeledCounter {
    fn new(key: &'static str) -> LabeledCounter {
        LabeledCounter {
            key,
            family: Family::default(),
        }
    }

    pub fn inc(&self, value: &str) {
        self.add(value, 1);
    }

    pub fn add(&self, value: &str, n: u64) {
        self.family
            .get_or_create(&[(self.key, value.to_string())])
            .inc_by(n);
    }

    pub fn get(&self, value: &str) -> u64 {
        self.family
            .get(&[(self.key, value.to_string())])
            .map_or(0, |c| c.get())
    }
}

/// What a labelled gauge reads: a value set by its owner, or a probe asked at every scrape.
pub type Probe = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A gauge per value of one label; a value may be a probe, read when the metrics are rendered.
#[derive(Clone)]
pub struct LabeledGauge {
    key: &'static str,
    family: Family<Label, Gauge>,
    probes: Arc<Mutex<Vec<(String, Probe)>>>,
}

impl std::fmt::Debug for LabeledGauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabeledGauge")
            .field("key", &self.key)
            .finish()
    }
}

impl LabeledGauge {
    fn new(key: &'static str) -> LabeledGauge {
        LabeledGauge {
            key,
            family: Family::default(),
            probes: Default::default(),
        }
    }

    pub fn set(&self, value: &str, v: i64) {
        lock(&self.probes).retain(|(label, _)| label != value);
        self.family
            .get_or_create(&[(self.key, value.to_string())])
            .set(v);
    }

    /// `value` reads what `probe` returns at each scrape.
    pub fn probe(&self, value: &str, probe: impl Fn() -> i64 + Send + Sync + 'static) {
        let mut probes = lock(&self.probes);
        probes.retain(|(label, _)| label != value);
        probes.push((value.to_string(), Arc::new(probe)));
    }

    pub fn get(&self, value: &str) -> Option<i64> {
        let probe = lock(&self.probes)
            .iter()
            .find(|(label, _)| label == value)
            .map(|(_, p)| p.clone());
        match probe {
            Some(p) => Some(p()),
            None => self
                .family
                .get(&[(self.key, value.to_string())])
                .map(|g| g.get()),
        }
    }

    /// Reads every probe into its gauge (before a render).
    fn refresh(&self) {
        let probes: Vec<(String, Probe)> = lock(&self.probes).clone();
        for (value, probe) in probes {
            self.family.get_or_create(&[(self.key, value)]).set(probe());
        }
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

/// A histogram over [`BUCKETS`] that no registry shows (what a stage times when it was given
/// none).
pub fn unregistered_timer() -> Timer {
    Histogram::new(BUCKETS)
}

/// Everything `/metrics` shows, registered once in [`Metrics::new`].
pub struct Metrics {
    registry: Registry,
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
    healthy: Gauge,
    stages: [Timer; Stage::ALL.len()],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Registers `metric` as `name` (a counter's `_total` is added by the encoder) and returns it.
/// The encoder ends the help with a full stop of its own.
fn register<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help.trim_end_matches('.'), metric.clone());
    metric
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = &mut Registry::default();
        let files_seen = register(
            r,
            "sluice_files_seen",
            "File versions, moves, removals and failures the detector reported (touches excluded).",
            Counter::default(),
        );
        let versions_ingested = register(
            r,
            "sluice_versions_ingested",
            "File versions committed with sluice.document.ingested.",
            Counter::default(),
        );
        let failures = LabeledCounter::new("kind");
        register(
            r,
            "sluice_failures",
            "Committed sluice.document.failed events, by error.kind.",
            failures.family.clone(),
        );
        let events = LabeledCounter::new("type");
        register(
            r,
            "sluice_events",
            "Committed events, by CloudEvents type.",
            events.family.clone(),
        );
        let commits = register(
            r,
            "sluice_commits",
            "Group commits (one log write, one sync, one state transaction each).",
            Counter::default(),
        );
        let log_bytes = register(
            r,
            "sluice_log_bytes",
            "Bytes appended to the event log by this process.",
            Counter::default(),
        );
        let log_size_bytes = register(
            r,
            "sluice_log_size_bytes",
            "Committed size of the current event log file.",
            Gauge::default(),
        );
        let jobs_published = register(
            r,
            "sluice_jobs_published",
            "Jobs published to the work queue (NATS mode).",
            Counter::default(),
        );
        let jobs_acked = register(
            r,
            "sluice_jobs_acked",
            "Jobs acknowledged by workers (NATS mode).",
            Counter::default(),
        );
        let stage_family: Family<Label, Timer, fn() -> Timer> =
            Family::new_with_constructor(unregistered_timer);
        register(
            r,
            "sluice_stage_seconds",
            "Time spent in each pipeline stage, per file version (commit: per group).",
            stage_family.clone(),
        );
        let stages = Stage::ALL
            .map(|stage| stage_family.get_or_create_owned(&[("stage", stage.name().to_string())]));
        let queue_depth = LabeledGauge::new("queue");
        register(
            r,
            "sluice_queue_depth",
            "Messages waiting in each bounded channel between stages.",
            queue_depth.family.clone(),
        );
        let in_flight_bytes = register(
            r,
            "sluice_in_flight_bytes",
            "Bytes charged to the byte budget (pipeline.max_inflight_bytes; 20 per file byte and 7 KiB per line) by versions between reading and commit.",
            Gauge::default(),
        );
        let tracked_files = register(
            r,
            "sluice_tracked_files",
            "Files in the detector's index.",
            Gauge::default(),
        );
        let healthy = register(
            r,
            "sluice_healthy",
            "1 when /healthz answers 200, else 0.",
            Gauge::default(),
        );
        Metrics {
            registry: std::mem::take(r),
            files_seen,
            versions_ingested,
            failures,
            events,
            commits,
            log_bytes,
            log_size_bytes,
            jobs_published,
            jobs_acked,
            queue_depth,
            in_flight_bytes,
            tracked_files,
            health: Arc::new(Health::new()),
            healthy,
            stages,
        }
    }

    /// Counts events as they are committed (local mode) or stored in the stream (NATS mode):
    /// by type, document events as versions ingested, failures by `error.kind`.
    pub fn count_events<'a>(&self, events: impl IntoIterator<Item = &'a crate::event::Event>) {
        let mut by_type: Vec<(crate::event::EventType, u64)> = Vec::with_capacity(8);
        for e in events {
            match by_type.iter_mut().find(|(kind, _)| *kind == e.kind) {
                Some((_, n)) => *n += 1,
                None => by_type.push((e.kind, 1)),
            }
            if e.kind == crate::event::EventType::DocumentFailed {
                self.failures
                    .inc(e.data["error"]["kind"].as_str().unwrap_or("unknown"));
            }
        }
        for (kind, n) in by_type {
            self.events.add(kind.as_str(), n);
            if kind == crate::event::EventType::DocumentIngested {
                self.versions_ingested.inc_by(n);
            }
        }
    }

    /// The histogram of one stage; a clone shares it.
    pub fn stage(&self, stage: Stage) -> &Timer {
        &self.stages[stage as usize]
    }

    pub fn observe(&self, stage: Stage, d: Duration) {
        self.stage(stage).observe(d.as_secs_f64());
    }

    /// Every metric in the Prometheus text exposition format 0.0.4 (probes read now).
    pub fn render(&self) -> String {
        self.queue_depth.refresh();
        self.healthy.set(i64::from(self.health.check().is_ok()));
        let mut out = String::with_capacity(8 * 1024);
        prometheus_text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

// ----- the HTTP endpoint -----

/// Time a client has to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request head read (hyper's smallest read buffer); a longer one gets 431.
const MAX_HEAD: usize = 8 * 1024;
/// Connections served at once.
const MAX_CONNECTIONS: usize = 64;

/// Binds `addr` and serves `GET`/`HEAD` `/metrics` and `/healthz` from `metrics` until the
/// returned task is aborted or the runtime stops. Logs `metrics listening on ADDR` with the bound
/// address, which is also returned (so port 0 works). Must be called from within a tokio
/// runtime.
///
/// Each connection answers one request and closes (`Connection: close`). At most
/// [`MAX_CONNECTIONS`] are open at once; when full, the oldest connection that has not sent a
/// request yet (a client holding idle connections) makes room, so a probe, which sends its
/// request at once, is answered. When every open connection is being answered, the new one is
/// closed unanswered.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "metrics listening on {bound}");
    let handle = tokio::spawn(async move {
        let mut open: std::collections::VecDeque<Connection> = Default::default();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("metrics endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            open.retain(|c| !c.task.is_finished());
            if open.len() >= MAX_CONNECTIONS {
                match open.iter().position(|c| c.waiting.load(Ordering::Relaxed)) {
                    Some(i) => {
                        if let Some(idle) = open.remove(i) {
                            idle.task.abort();
                        }
                    }
                    None => continue,
                }
            }
            let waiting = Arc::new(AtomicBool::new(true));
            let task = tokio::spawn(answer(stream, metrics.clone(), waiting.clone()));
            open.push_back(Connection {
                task: task.abort_handle(),
                waiting,
            });
        }
    });
    Ok((bound, handle))
}

/// A connection being served: its task, and whether it is still waiting for its request head.
struct Connection {
    task: tokio::task::AbortHandle,
    waiting: Arc<AtomicBool>,
}

async fn answer(stream: tokio::net::TcpStream, metrics: Arc<Metrics>, waiting: Arc<AtomicBool>) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        waiting.store(false, Ordering::Relaxed);
        let response = respond(request.method(), request.uri().path(), &metrics);
        async move { Ok::<_, Infallible>(response) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .keep_alive(false)
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!("metrics endpoint: {e}");
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const PLAIN: &str = "text/plain; charset=utf-8";

/// The response to one request (hyper leaves out the body of a `HEAD`).
fn respond(method: &Method, path: &str, metrics: &Metrics) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            PLAIN,
            "only GET and HEAD\n".into(),
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match path {
        "/metrics" => text(
            StatusCode::OK,
            prometheus_text::CONTENT_TYPE,
            metrics.render(),
        ),
        "/healthz" => match metrics.health.check() {
            Ok(()) => text(StatusCode::OK, PLAIN, "ok\n".into()),
            Err(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                PLAIN,
                format!("{reason}\n"),
            ),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            PLAIN,
            "not found: try /metrics or /healthz\n".into(),
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

        let text = m.render();
        let buckets = samples(&text, "sluice_stage_seconds_bucket");
        let decode: Vec<_> = buckets
            .iter()
            .filter(|(l, _)| l.starts_with("stage=\"decode\""))
            .collect();
        assert_eq!(decode.len(), BUCKETS.len() + 1);
        // le=0.0005: 1; le=0.001: 2; le=0.005: 4; le=0.05: 5; le=10: 5; +Inf: 6.
        let counts: Vec<&str> = decode.iter().map(|(_, v)| *v).collect();
        assert_eq!(counts[0], "1");
        assert_eq!(counts[1], "2");
        assert_eq!(counts[3], "4");
        assert_eq!(counts[6], "5");
        assert_eq!(counts[BUCKETS.len() - 1], "5");
        assert_eq!(decode[0].0, "stage=\"decode\",le=\"0.0005\"");
        assert_eq!(decode[10].0, "stage=\"decode\",le=\"1\"");
        assert_eq!(
            *decode.last().unwrap(),
            &("stage=\"decode\",le=\"+Inf\"", "6")
        );
        assert!(samples(&text, "sluice_stage_seconds_count").contains(&("stage=\"decode\"", "6")));
        let sum = samples(&text, "sluice_stage_seconds_sum")
            .into_iter()
            .find(|(l, _)| *l == "stage=\"decode\"")
            .map(|(_, v)| v.parse::<f64>().unwrap())
            .unwrap();
        assert!((sum - 20.0468).abs() < 1e-6, "{sum}");
        assert!(samples(&text, "sluice_stage_seconds_count").contains(&("stage=\"read\"", "0")));
        assert_eq!(
            text.matches("# TYPE sluice_stage_seconds histogram")
                .count(),
            1
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.failures.inc("weird\"kind\\\n");
        m.failures.add("not_text", 2);
        m.failures.inc("不是文本");
        let text = m.render();
        assert!(
            text.contains("sluice_failures_total{kind=\"weird\\\"kind\\\\\\n\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("sluice_failures_total{kind=\"not_text\"} 2\n"));
        assert!(text.contains("sluice_failures_total{kind=\"不是文本\"} 1\n"));
        assert_eq!(m.failures.get("not_text"), 2);
        assert_eq!(m.failures.get("empty"), 0);
    }

    #[test]
    fn every_family_has_help_and_type_and_counters_end_in_total() {
        let m = Metrics::new();
        m.files_seen.inc_by(3);
        // A labelled family is shown once it has a series.
        m.failures.inc("not_text");
        m.events.inc("sluice.document.failed");
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
                let help = text
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("# HELP {name} ")))
                    .unwrap_or_else(|| panic!("{name} has no HELP"));
                assert!(help.ends_with('.') && !help.ends_with(".."), "{help}");
            }
        }
        assert!(types >= 14, "{types} families:\n{text}");
        assert!(text.contains("sluice_files_seen_total 3\n"));
        assert!(text.contains("sluice_queue_depth{queue=\"commit\"} 2\n"));
        assert!(text.contains("sluice_queue_depth{queue=\"process\"} 7\n"));
        assert_eq!(m.queue_depth.get("process"), Some(7));
        assert!(text.contains("sluice_healthy 0\n"));
        m.health.set_ready();
        assert!(m.render().contains("sluice_healthy 1\n"));
    }

    #[test]
    fn two_registries_do_not_share_counts() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.commits.inc();
        assert!(a.render().contains("sluice_commits_total 1\n"));
        assert!(b.render().contains("sluice_commits_total 0\n"));
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
        let m = Metrics::new();
        let body = |r: Response<Full<Bytes>>| {
            let status = r.status().as_u16();
            let bytes =
                futures::executor::block_on(http_body_util::BodyExt::collect(r.into_body()))
                    .unwrap()
                    .to_bytes();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        };
        let r = respond(&Method::GET, "/healthz", &m);
        assert_eq!(body(r), (503, "starting\n".to_string()));
        m.health.set_ready();
        assert_eq!(
            body(respond(&Method::GET, "/healthz", &m)),
            (200, "ok\n".into())
        );
        m.health
            .set_unready("the committer failed: disk full\nsecond line");
        assert_eq!(
            body(respond(&Method::GET, "/healthz", &m)),
            (503, "the committer failed: disk full second line\n".into())
        );
        let r = respond(&Method::GET, "/metrics", &m);
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert!(body(r).1.contains("# TYPE sluice_files_seen_total counter"));
        assert_eq!(respond(&Method::GET, "/nope", &m).status(), 404);
        let post = respond(&Method::POST, "/metrics", &m);
        assert_eq!(post.status(), 405);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
    }

    async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn the_server_answers_over_tcp_and_caps_the_head() {
        let m = Arc::new(Metrics::new());
        m.health.set_ready();
        let (addr, server) = serve("127.0.0.1:0".parse().unwrap(), m).unwrap();
        assert_ne!(addr.port(), 0);
        let ok = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Connection: close\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nok\n"), "{ok}");
        let head = exchange(addr, b"HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
        assert!(head.contains("Content-Length: "), "{head}");
        let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 10_000));
        huge.extend_from_slice(b"\r\n\r\n");
        let refused = exchange(addr, &huge).await;
        assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
        let garbage = exchange(addr, b"GET\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
        server.abort();
    }
}
