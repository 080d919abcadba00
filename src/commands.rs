//! The commands: `run` (the daemon), `ingest` (one pass), `status`, and in NATS mode `worker`
//! and `export`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::pipeline::{self, Mode, PipelineError, Progress, Summary};
use crate::store::Store;

/// How a command failed: bad settings exit 2, anything else 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Runtime(String),
}

impl From<PipelineError> for CommandError {
    fn from(e: PipelineError) -> CommandError {
        match e {
            PipelineError::WatchDir(_)
            | PipelineError::Filter(_)
            | PipelineError::Nats(crate::nats::NatsError::Setting(_)) => {
                CommandError::Usage(e.to_string())
            }
            other => CommandError::Runtime(other.to_string()),
        }
    }
}

/// The stop signal alone, for commands that do not watch.
fn shutdown_on_signals() -> watch::Receiver<bool> {
    crate::shutdown::on_signals().shutdown.receiver()
}

/// The `/metrics` and `/healthz` endpoint of a command; it stops when this is dropped.
pub struct MetricsServer(Option<tokio::task::JoinHandle<()>>);

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            server.abort();
        }
    }
}

/// Starts the `/metrics` and `/healthz` endpoint when `metrics.addr` is set. An address that
/// cannot be listened on is a bad setting (exit 2), named as such.
pub fn start_metrics(
    settings: &Settings,
    metrics: &Arc<Metrics>,
) -> Result<MetricsServer, CommandError> {
    let Some(addr) = settings.metrics.addr else {
        return Ok(MetricsServer(None));
    };
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "metrics.addr is not a loopback address: /metrics and /healthz have no \
             authentication and can be reached from other hosts"
        );
    }
    match crate::metrics::serve(addr, metrics.clone()) {
        Ok((_, server)) => Ok(MetricsServer(Some(server))),
        Err(e) => Err(CommandError::Usage(format!(
            "setting metrics.addr: cannot listen on {addr}: {e}; give a free port on an \
             address of this host (e.g. 127.0.0.1:9464), or leave metrics.addr empty"
        ))),
    }
}

/// `sluice run`: watch until SIGINT/SIGTERM.
pub async fn run(settings: &Settings) -> Result<(), CommandError> {
    let metrics = Arc::new(Metrics::new());
    let _server = start_metrics(settings, &metrics)?;
    let signals = crate::shutdown::on_signals();
    let summary = pipeline::run(
        settings,
        Mode::Daemon,
        signals,
        Progress::default(),
        metrics,
    )
    .await?;
    tracing::info!(
        versions = summary.versions,
        failed = summary.failed,
        events = summary.events,
        "sluice stopped"
    );
    Ok(())
}

fn require_nats(settings: &Settings, command: &str) -> Result<(), CommandError> {
    if settings.nats.url.is_empty() {
        return Err(CommandError::Usage(format!(
            "sluice {command} needs a NATS server: give --nats URL (setting nats.url, \
             SLUICE_NATS_URL), e.g. --nats nats://127.0.0.1:4222"
        )));
    }
    Ok(())
}

/// `sluice worker`: take jobs from the shared stream until SIGINT/SIGTERM.
pub async fn worker(settings: &Settings) -> Result<(), CommandError> {
    require_nats(settings, "worker")?;
    let metrics = Arc::new(Metrics::new());
    let _server = start_metrics(settings, &metrics)?;
    let shutdown = shutdown_on_signals();
    let summary = crate::nats::worker::run(settings, shutdown, metrics)
        .await
        .map_err(|e| CommandError::Runtime(e.to_string()))?;
    tracing::info!(
        jobs = summary.jobs,
        versions = summary.versions,
        failed = summary.failed,
        events = summary.events,
        requeued = summary.requeued,
        skipped = summary.skipped,
        "worker stopped"
    );
    Ok(())
}

/// `sluice export`: append the shared event stream to `output.file`.
pub async fn export(settings: &Settings, follow: bool) -> Result<(), CommandError> {
    require_nats(settings, "export")?;
    let metrics = Arc::new(Metrics::new());
    let _server = start_metrics(settings, &metrics)?;
    metrics.health.set_ready();
    let shutdown = shutdown_on_signals();
    let summary = crate::nats::export::run(
        &settings.nats,
        &settings.output.file,
        follow,
        shutdown,
        &metrics,
    )
    .await
    .map_err(|e| CommandError::Runtime(e.to_string()))?;
    tracing::info!(
        lines = summary.lines,
        last_sequence = summary.last_sequence,
        "export done"
    );
    Ok(())
}

/// `sluice ingest`: reconcile the folder once, commit every change, exit.
pub async fn ingest(settings: &Settings) -> Result<Summary, CommandError> {
    let metrics = Arc::new(Metrics::new());
    let _server = start_metrics(settings, &metrics)?;
    let signals = crate::shutdown::on_signals();
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} changes ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        let (total, tick) = (bar.clone(), bar.clone());
        Progress {
            on_total: Some(Arc::new(move |n| total.set_length(n))),
            on_commit: Some(Arc::new(move |n| tick.inc(n))),
        }
    } else {
        Progress::default()
    };
    let summary = pipeline::run(settings, Mode::Once, signals, progress, metrics).await?;
    tracing::info!(
        versions = summary.versions,
        failed = summary.failed,
        events = summary.events,
        commits = summary.commits,
        tracked = summary.tracked,
        elapsed_ms = summary.elapsed_ms,
        peak_rss_kb = peak_rss_kb().unwrap_or(0),
        "ingest done"
    );
    Ok(summary)
}

/// The process's peak resident set size (VmHWM), in KiB, where /proc tells it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What `sluice status` reports.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub state: String,
    pub log: String,
    pub files_tracked: u64,
    pub ingested: u64,
    pub failed: u64,
    pub segments: u64,
    pub last_sequence: Option<u64>,
    pub log_bytes: u64,
    pub committed_bytes: u64,
    /// `ok`, `uncommitted_tail` (cut at the next start), `rotation_pending` (finished or rolled
    /// back at the next start) or `broken` (the next start refuses; `log_problem` says why).
    pub log_health: String,
    pub log_problem: Option<String>,
    pub daemon_running: bool,
    /// NATS node: jobs recorded but not yet stored in the job stream (published at next start).
    pub outbox: u64,
}

pub fn status(settings: &Settings) -> Result<Status, CommandError> {
    let state_path = &settings.state.file;
    if !state_path.exists() {
        return Err(CommandError::Runtime(format!(
            "no state database at {} (state.file): sluice has not run with these settings yet",
            state_path.display()
        )));
    }
    let store =
        Store::open_read_only(state_path).map_err(|e| CommandError::Runtime(e.to_string()))?;
    let counts = store
        .counts()
        .map_err(|e| CommandError::Runtime(e.to_string()))?;
    let committed = store
        .log_state()
        .map_err(|e| CommandError::Runtime(e.to_string()))?;
    let log_bytes = std::fs::metadata(&settings.output.file)
        .map(|m| m.len())
        .unwrap_or(0);
    let health = crate::sink::ndjson::health(&settings.output.file, committed);
    let log = committed.unwrap_or(crate::store::LogState {
        file_first_seq: 1,
        offset: 0,
        next_seq: 1,
        file: None,
    });
    let daemon_running = crate::store::lock::is_held(state_path);
    Ok(Status {
        state: state_path.display().to_string(),
        log: settings.output.file.display().to_string(),
        files_tracked: counts.files,
        ingested: counts.ingested,
        failed: counts.failed,
        segments: counts.segments,
        last_sequence: log.next_seq.checked_sub(1).filter(|s| *s > 0),
        log_bytes,
        committed_bytes: log.offset,
        log_health: health.name().into(),
        log_problem: match &health {
            crate::sink::ndjson::Health::Broken(why) => Some(why.clone()),
            _ => None,
        },
        daemon_running,
        // A state from before the outbox existed has none.
        outbox: store.outbox_len().unwrap_or(0),
    })
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "state          {}", self.state)?;
        writeln!(f, "log            {}", self.log)?;
        writeln!(
            f,
            "files tracked  {} ({} ingested, {} failed)",
            self.files_tracked, self.ingested, self.failed
        )?;
        writeln!(f, "segments       {}", self.segments)?;
        match self.last_sequence {
            Some(s) => writeln!(f, "last sequence  {s:020}")?,
            None => writeln!(f, "last sequence  (none yet)")?,
        }
        writeln!(
            f,
            "log size       {} bytes ({} committed)",
            self.log_bytes, self.committed_bytes
        )?;
        let health = match self.log_health.as_str() {
            "ok" => "ok: the log ends where the state says".to_string(),
            "uncommitted_tail" => format!(
                "uncommitted tail of {} bytes (a crash left it; it is cut at the next start)",
                self.log_bytes.saturating_sub(self.committed_bytes)
            ),
            "rotation_pending" => {
                "a rotation was cut short by a crash; the next start finishes or rolls it back"
                    .to_string()
            }
            _ => format!(
                "UNHEALTHY: {}",
                self.log_problem.as_deref().unwrap_or("unknown problem")
            ),
        };
        writeln!(f, "log health     {health}")?;
        if self.outbox > 0 {
            writeln!(
                f,
                "NATS outbox    {} jobs recorded, not yet stored in the job stream (published \
                 when the node runs)",
                self.outbox
            )?;
        }
        write!(
            f,
            "daemon         {}",
            if self.daemon_running {
                "running"
            } else {
                "not running"
            }
        )
    }
}
