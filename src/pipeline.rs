//! The stages, wired. Nothing here does a stage's work; it only connects them:
//!
//! ```text
//! watcher (async) --WatchMsg--> detector (thread) --Job--> processor (async, N worker threads,
//!   results in order per path) --Committable--> committer (thread: dedup fix-ups; one SQLite
//!   transaction per group, committed once a log sync covers all its lines; results that arrive
//!   while the log syncs join the group and their lines are written at once)
//! ```
//!
//! Every channel is bounded (`pipeline.channel_capacity`), so a slow stage slows intake instead of
//! growing a queue. The processor keeps the order of each path's jobs, so the versions of one file
//! are committed in the order they were detected, while different files do not wait for each
//! other; one job's events are written contiguously.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{mpsc, watch};

use crate::budget::ByteBudget;
use crate::config::{Fsync, Settings};
use crate::cpu::CpuPool;
use crate::dedup::{Dedup, Index};
use crate::detect::fence::{Fence, OwnFiles};
use crate::detect::{Detector, Job, Tracked};
use crate::event::{now_rfc3339, source_uri, write_line};
use crate::metrics::{self, channel_depth, Stage};
use crate::process::{complete, process_with, Committable};
use crate::sink::ndjson::{EventLog, Recovery};
use crate::store::Store;
use crate::watch::{filter::PathFilter, WatchMsg};

/// Errors that stop the pipeline. Each names the file or setting involved.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("setting watch.dir: {0}")]
    WatchDir(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("event log {path}: {source}")]
    Log {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another sluice holds the state {0} (its lock file is locked); stop it first or give this \
         one another state.file"
    )]
    Locked(String),
    #[error("lock file {path}: {source}")]
    Lock {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("settings: {0}")]
    Filter(String),
    #[error("{0}")]
    Nats(#[from] crate::nats::NatsError),
    #[error("{0}")]
    EventLog(#[from] crate::sink::ndjson::LogError),
    #[error("{0} stopped unexpectedly (a bug: the log above says where); nothing uncommitted was kept, rerun to resume")]
    Internal(&'static str),
    #[error(
        "cannot start {workers} processing threads (pipeline.workers): {source}; set fewer or \
         raise the process's thread limit"
    )]
    Threads {
        workers: usize,
        #[source]
        source: std::io::Error,
    },
}

/// Run until stopped (`Daemon`) or until one reconcile pass is committed (`Once`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Daemon,
    Once,
}

/// What a run did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub versions: u64,
    pub failed: u64,
    pub events: u64,
    pub commits: u64,
    pub elapsed_ms: u64,
    pub tracked: u64,
}

/// Counters shared by the stages.
#[derive(Default)]
struct Counters {
    versions: AtomicU64,
    failed: AtomicU64,
    events: AtomicU64,
    commits: AtomicU64,
    tracked: AtomicU64,
}

/// Hooks for a terminal progress bar: total known after the reconcile, one tick per committed job.
#[derive(Clone, Default)]
pub struct Progress {
    pub on_total: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    pub on_commit: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

/// Time the pipeline gets to drain after a stop signal before in-flight work is abandoned (it is
/// re-derived at the next start, since nothing uncommitted survives in the log).
const DRAIN_DEADLINE: Duration = Duration::from_secs(8);

/// How often an idle committer checks that nobody changed the log under it.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Runs the pipeline. Returns when `Once` has committed everything, or when `shutdown` turns true
/// and the pipeline has drained (or the drain deadline passed).
pub async fn run(
    settings: &Settings,
    mode: Mode,
    signals: crate::commands::Signals,
    progress: Progress,
) -> Result<Summary, PipelineError> {
    let crate::commands::Signals {
        mut shutdown,
        rescan,
    } = signals;
    let started = Instant::now();
    let metrics = metrics::global();
    metrics
        .health
        .set_unready("starting: opening the state database");
    crate::text::words::set_emit_tokens(settings.output.tokens);
    crate::extract::set_options(settings.extract.options());
    // Load the dictionary and build the extraction tables now, not on the first file.
    tokio::task::spawn_blocking(|| {
        let _ = crate::text::words::shared();
        crate::extract::warm_up();
    });
    let root = std::path::absolute(&settings.watch.dir)
        .map_err(|e| PipelineError::WatchDir(format!("{}: {e}", settings.watch.dir.display())))?;
    match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(PipelineError::WatchDir(format!(
                "{} is not a folder",
                root.display()
            )))
        }
        Err(e) => {
            return Err(PipelineError::WatchDir(format!(
                "{}: {e}; create it or point watch.dir (--watch, SLUICE_WATCH) at a folder",
                root.display()
            )))
        }
    }
    // One spelling of the folder (links and `..` resolved), the one every path is compared in.
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let _lock = crate::lock::exclusive(&settings.state.file).map_err(|e| match e {
        crate::lock::LockError::Held(p) => PipelineError::Locked(p.display().to_string()),
        crate::lock::LockError::Io { path, source } => PipelineError::Lock { path, source },
    })?;
    let mut store = Store::open(&settings.state.file)?;
    // NATS mode: jobs go to the shared stream; there is no local log.
    let nats = if settings.nats.url.is_empty() {
        None
    } else {
        let node = settings.nats.node_name();
        let shared = crate::nats::connect(&settings.nats, &format!("sluice-node-{node}")).await?;
        let state = &settings.state.file;
        let incarnation = store.fact_or_insert("nats.incarnation", || {
            crate::nats::node::new_incarnation(state)
        })?;
        crate::nats::node::claim_node(&shared, &node, &incarnation, state).await?;
        Some((shared, node))
    };
    let local_log = match nats {
        None => {
            let (log, log_state) = open_log(settings, &mut store)?;
            metrics.log_size_bytes.set(log_state.offset as i64);
            Some((log, log_state))
        }
        Some(_) => None,
    };
    let records = store.load_files()?;
    tracing::info!(
        watch = %root.display(),
        tracked = records.len(),
        next_sequence = local_log.as_ref().map(|(_, l)| l.next_seq),
        nats = nats.as_ref().map(|(_, node)| node.as_str()),
        "sluice starting"
    );
    let own = OwnFiles::new(&settings.output.file, &settings.state.file);
    let filter = PathFilter::new(
        &settings.watch.include,
        &settings.watch.exclude,
        own.clone(),
    )
    .map_err(|e| PipelineError::Filter(e.to_string()))?;
    let mut detector = Detector::new(
        root.clone(),
        filter,
        Fence::new(root.clone(), settings.watch.symlinks, own.clone()),
        records.iter().map(|r| (r.path.clone(), Tracked::from(r))),
        settings.pipeline.max_file_bytes,
    );
    // What one look keeps of the files it read, outside the budget: a quarter of it at most.
    detector = detector.keep_at_most((settings.pipeline.max_inflight_bytes / 4).min(64 << 20));
    if mode == Mode::Daemon {
        detector = detector.defer_recent(
            Duration::from_millis(settings.watch.settle_ms),
            Duration::from_millis(settings.watch.max_wait_ms),
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    detector = detector.stop_on(stop.clone());
    drop(records);

    let cap = settings.pipeline.channel_capacity;
    let (watch_tx, watch_rx) = mpsc::channel::<WatchMsg>(4);
    // Files a walk found mid-write go back to settle; at most one entry per file found.
    let (defer_tx, defer_rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let (job_tx, job_rx) = mpsc::channel::<Job>(cap);
    let counters = Arc::new(Counters::default());
    metrics
        .queue_depth
        .probe("detect", channel_depth(&watch_tx));
    metrics.queue_depth.probe("process", channel_depth(&job_tx));

    let watcher = match mode {
        Mode::Daemon => Some(tokio::spawn(crate::watch::run(
            root.clone(),
            settings.watch.clone(),
            watch_tx,
            defer_rx,
            shutdown.clone(),
            rescan,
        ))),
        Mode::Once => {
            // The only message: the detector stops once it is handled and the sender is gone.
            let once = watch_tx;
            let _ = once.send(WatchMsg::FullScan).await;
            None
        }
    };
    let detect_thread = DetectStage {
        detector,
        rx: watch_rx,
        tx: job_tx,
        defer: defer_tx,
        budget: ByteBudget::new(settings.pipeline.max_inflight_bytes),
        stop: stop.clone(),
        counters: counters.clone(),
        progress: progress.clone(),
    }
    .spawn();
    let handle = tokio::runtime::Handle::current();
    let (done_tx, mut done_rx) = mpsc::channel::<Result<(), PipelineError>>(1);
    let (processor, commit_thread) = match (local_log, nats) {
        (Some((log, _)), _) => {
            let (commit_tx, commit_rx) = mpsc::channel::<Committable>(cap);
            metrics
                .queue_depth
                .probe("commit", channel_depth(&commit_tx));
            let dedup = Arc::new(Dedup::new(settings.dedup.clone()));
            let workers = settings.workers();
            let pool = CpuPool::start("sluice-worker", workers)
                .map_err(|source| PipelineError::Threads { workers, source })?;
            let processor = tokio::spawn(run_processor(
                job_rx,
                commit_tx,
                pool,
                shutdown.clone(),
                dedup.clone(),
            ));
            let committer = Committer {
                log,
                log_path: settings.output.file.display().to_string(),
                store,
                source: source_uri(&root),
                group_max: settings.pipeline.group_commit_max,
                fsync: settings.output.fsync,
                fsync_interval: Duration::from_millis(settings.output.fsync_interval_ms),
                counters: counters.clone(),
                progress,
                dedup,
                own: own.clone(),
                last_prune: Instant::now(),
                index: None,
            };
            let thread = spawn_last_stage("sluice-commit", "the committer", done_tx, move || {
                committer.run(commit_rx, handle)
            });
            (Some(processor), thread)
        }
        (None, Some((shared, node))) => {
            // Within what the server takes in one message, with room for the metadata.
            let server_max = shared.client.server_info().max_payload as u64;
            let inline_max = settings
                .nats
                .inline_max_bytes
                .min(server_max.saturating_sub(64 * 1024));
            let on_group = {
                let counters = counters.clone();
                let progress = progress.clone();
                Box::new(move |jobs: u64, versions: u64| {
                    counters.versions.fetch_add(versions, Ordering::Relaxed);
                    counters.events.fetch_add(jobs, Ordering::Relaxed);
                    counters.commits.fetch_add(1, Ordering::Relaxed);
                    if let Some(f) = &progress.on_commit {
                        f(jobs);
                    }
                })
            };
            let publisher = crate::nats::node::Publisher {
                out: crate::nats::node::Outbox {
                    shared,
                    node,
                    source: source_uri(&root),
                    inline_max,
                    stop: stop.clone(),
                },
                store,
                group_max: settings.pipeline.group_commit_max,
                on_group,
            };
            let thread =
                spawn_last_stage("sluice-publish", "the job publisher", done_tx, move || {
                    publisher.run(job_rx, handle)
                });
            (None, thread)
        }
        (None, None) => unreachable!("one of the two sinks is set up"),
    };
    metrics.health.set_ready();

    let result = tokio::select! {
        r = done_rx.recv() => r.unwrap_or(Err(PipelineError::Internal("the commit thread"))),
        _ = shutdown.wait_for(|s| *s) => {
            tracing::info!("stop requested: finishing in-flight versions");
            metrics.health.set_unready("stopping: finishing in-flight versions");
            stop.store(true, Ordering::SeqCst);
            match tokio::time::timeout(DRAIN_DEADLINE, done_rx.recv()).await {
                Ok(r) => r.unwrap_or(Err(PipelineError::Internal("the commit thread"))),
                Err(_) => {
                    tracing::warn!("drain deadline passed: abandoning in-flight versions (they are re-derived at the next start)");
                    Ok(())
                }
            }
        }
    };
    stop.store(true, Ordering::SeqCst);
    match &result {
        Ok(()) => metrics.health.set_unready("stopped"),
        Err(e) => metrics.health.set_unready(format!("stopped: {e}")),
    }
    if let Some(w) = watcher {
        w.abort();
    }
    if let Some(p) = processor {
        p.abort();
    }
    if commit_thread.is_finished() && commit_thread.join().is_err() {
        return Err(PipelineError::Internal("the commit thread"));
    }
    if detect_thread.is_finished() && detect_thread.join().is_err() {
        return Err(PipelineError::Internal("the detector thread"));
    }
    result?;
    Ok(Summary {
        versions: counters.versions.load(Ordering::Relaxed),
        failed: counters.failed.load(Ordering::Relaxed),
        events: counters.events.load(Ordering::Relaxed),
        commits: counters.commits.load(Ordering::Relaxed),
        tracked: counters.tracked.load(Ordering::Relaxed),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn open_log(
    settings: &Settings,
    store: &mut Store,
) -> Result<(EventLog, crate::store::LogState), PipelineError> {
    let committed = store.log_state()?;
    let path = &settings.output.file;
    let (log, state, recovery) = EventLog::open(
        path,
        committed,
        settings.output.fsync,
        Duration::from_millis(settings.output.fsync_interval_ms),
        settings.output.rotate_bytes,
    )?;
    let durable = |store: &mut Store| store.commit_durable(&[], state);
    match recovery {
        Recovery::Clean => {}
        Recovery::New => durable(store)?,
        Recovery::CutTail(n) => tracing::warn!(
            log = %path.display(),
            "cut {n} uncommitted bytes off the end of the event log (left by a crash); \
             their versions are re-derived"
        ),
        Recovery::FinishedRotation => {
            tracing::info!("finished a log rotation interrupted by a crash");
            durable(store)?;
        }
        Recovery::RolledBackRotation { cut } => {
            tracing::warn!(
                log = %path.display(),
                "rolled back a log rotation the state had not recorded, and cut {cut} \
                 uncommitted bytes; their versions are re-derived"
            );
            durable(store)?;
        }
        Recovery::Shorter { expected, found } => {
            tracing::error!(
                log = %path.display(),
                "the event log is shorter than committed ({found} < {expected} bytes): it lost \
                 unsynced data (output.fsync = {:?}). Continuing at its last whole line; \
                 sequences continue from the state.",
                settings.output.fsync
            );
            durable(store)?;
        }
    }
    Ok((log, state))
}

/// The detector stage: its own thread, since it stats, walks and reads (blocking I/O).
struct DetectStage {
    detector: Detector,
    rx: mpsc::Receiver<WatchMsg>,
    tx: mpsc::Sender<Job>,
    /// Files found mid-write go back to the watcher's settle.
    defer: mpsc::UnboundedSender<Vec<PathBuf>>,
    budget: ByteBudget,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    progress: Progress,
}

impl DetectStage {
    fn spawn(self) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("sluice-detect".into())
            .spawn(move || self.run())
            .expect("spawn detector thread")
    }

    fn run(mut self) {
        while let Some(msg) = self.rx.blocking_recv() {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let started = Instant::now();
            let full_scan = msg == WatchMsg::FullScan;
            let detected = match msg {
                WatchMsg::FullScan => self.detector.reconcile(),
                WatchMsg::Paths(paths) => self.detector.detect_paths(paths),
            };
            if !detected.deferred.is_empty() {
                tracing::debug!(
                    files = detected.deferred.len(),
                    "still being written: back to settle"
                );
                let _ = self.defer.send(detected.deferred);
            }
            let tracked = self.detector.tracked_count() as u64;
            self.counters.tracked.store(tracked, Ordering::Relaxed);
            let m = metrics::global();
            m.tracked_files.set(tracked as i64);
            m.files_seen.add(
                detected
                    .jobs
                    .iter()
                    .filter(|j| !matches!(j, Job::Restat { .. }))
                    .count() as u64,
            );
            if full_scan {
                tracing::info!(
                    changes = detected.jobs.len(),
                    tracked,
                    ms = started.elapsed().as_millis() as u64,
                    "reconcile scan done"
                );
                if let Some(f) = &self.progress.on_total {
                    f(detected.jobs.len() as u64);
                }
            }
            for job in detected.jobs {
                if self.stop.load(Ordering::SeqCst) || !self.hand_on(job) {
                    return;
                }
            }
        }
    }

    /// Sends one job on; a version first waits for room in the byte budget and gets its bytes.
    fn hand_on(&mut self, job: Job) -> bool {
        let job = match job {
            Job::Version(v) => {
                // Charged at what the version will hold until its commit, judged from its bytes
                // (read first: the detector's one file in hand is outside the budget).
                match self.detector.load(v) {
                    Job::Version(mut v) => {
                        let weight = crate::budget::weight(v.bytes.as_deref().unwrap_or_default());
                        v.permit = Some(self.budget.acquire(weight));
                        Job::Version(v)
                    }
                    other => other,
                }
            }
            other => other,
        };
        self.tx.blocking_send(job).is_ok()
    }
}

/// Runs `process` on the pool's threads and passes each result on as soon as it is ready. Twice
/// as many jobs as threads are handed out, so each thread has its next job queued behind the one
/// it is on. Jobs of one path keep their order: a job whose path (or, for a move, either path)
/// has a job in flight waits for it, and holds back the jobs behind it meanwhile. Different files do not wait for each other, so one slow file does not stall the
/// rest.
async fn run_processor(
    mut rx: mpsc::Receiver<Job>,
    tx: mpsc::Sender<Committable>,
    pool: CpuPool,
    mut shutdown: watch::Receiver<bool>,
    dedup: Arc<Dedup>,
) {
    let depth = 2 * pool.threads();
    let mut running = futures::stream::FuturesUnordered::new();
    let mut busy: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut waiting: Option<Job> = None;
    // Taking new jobs: until the channel closes or a stop is requested (on a stop, the jobs in
    // flight finish and are committed; the rest is re-derived at the next start).
    let mut open = true;
    loop {
        if open && *shutdown.borrow() {
            open = false;
            waiting = None;
        }
        if let Some(job) = waiting.take() {
            let paths = job_paths(&job);
            if paths.iter().any(|p| busy.contains_key(p)) {
                waiting = Some(job);
            } else {
                for p in &paths {
                    *busy.entry(p.clone()).or_default() += 1;
                }
                let path = job_path(&job).to_string();
                let dedup_for_task = dedup.clone();
                let result = pool.run(move || process_with(job, &dedup_for_task));
                let dedup = dedup.clone();
                running.push(async move {
                    let c = match result.await {
                        Ok(c) => c,
                        Err(e) => panicked(path, &e, &dedup),
                    };
                    (paths, c)
                });
            }
        }
        if running.is_empty() && !open {
            break;
        }
        tokio::select! {
            biased;
            changed = shutdown.changed(), if open => {
                // A dropped sender reads as a stop, as everywhere else.
                if changed.is_err() {
                    open = false;
                    waiting = None;
                }
            }
            done = running.next(), if !running.is_empty() => {
                let Some((paths, c)) = done else { continue };
                for p in paths {
                    if let Some(n) = busy.get_mut(&p) {
                        *n -= 1;
                        if *n == 0 {
                            busy.remove(&p);
                        }
                    }
                }
                if tx.send(c).await.is_err() {
                    break;
                }
            }
            job = rx.recv(), if open && waiting.is_none() && running.len() < depth => {
                match job {
                    None => open = false,
                    Some(job) => waiting = Some(job),
                }
            }
        }
    }
    // After a failed committer, the jobs still queued (at most `depth`) are processed and
    // dropped; the threads then end.
    drop(running);
    let _ = tokio::task::spawn_blocking(move || pool.join()).await;
}

/// The failure a panic in processing becomes, so that the version still gets its event.
fn panicked(path: String, e: &str, dedup: &Dedup) -> Committable {
    tracing::error!(path, "processing panicked: {e}");
    process_with(
        Job::Failed(crate::detect::Failure {
            path,
            stage: "process",
            kind: crate::detect::FailKind::InternalError,
            message: format!("processing failed unexpectedly: {e}"),
            sha256: None,
            stat: None,
        }),
        dedup,
    )
}

/// Starts the pipeline's last stage (the committer, or in NATS mode the job publisher) on its
/// own thread: its result goes to `done`, and a failure also makes `/healthz` unready.
fn spawn_last_stage(
    name: &str,
    what: &'static str,
    done: mpsc::Sender<Result<(), PipelineError>>,
    run: impl FnOnce() -> Result<(), PipelineError> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = run();
            if let Err(e) = &result {
                metrics::global()
                    .health
                    .set_unready(format!("{what} failed: {e}"));
            }
            let _ = done.blocking_send(result);
        })
        .unwrap_or_else(|e| panic!("spawn {name} thread: {e}"))
}

/// The paths a job changes: one, or both of a move's.
fn job_paths(job: &Job) -> Vec<String> {
    match job {
        Job::Moved { from, to, .. } => vec![from.clone(), to.clone()],
        other => vec![job_path(other).to_string()],
    }
}

fn log_err(path: &str) -> impl Fn(std::io::Error) -> PipelineError + '_ {
    move |source| PipelineError::Log {
        path: path.to_string(),
        source,
    }
}

pub(crate) fn job_path(job: &Job) -> &str {
    match job {
        Job::Version(v) => &v.path,
        Job::Moved { to, .. } => to,
        Job::Removed { path, .. } | Job::Restat { path, .. } => path,
        Job::Failed(f) => &f.path,
    }
}

/// The single writer: group commit of log bytes and state.
struct Committer {
    log: EventLog,
    log_path: String,
    store: Store,
    source: String,
    group_max: usize,
    fsync: Fsync,
    fsync_interval: Duration,
    counters: Arc<Counters>,
    progress: Progress,
    dedup: Arc<Dedup>,
    /// sluice's own files: each new live log is added at rotation.
    own: Arc<OwnFiles>,
    /// When the dedup index last dropped what retention no longer keeps.
    last_prune: Instant,
    /// The dedup index in memory: loaded from the state database by the first group and kept in
    /// step by every committed one. A group that fails stops the committer (the log is cut back
    /// to the committed end at the next start), so the index is never reused after a failure.
    index: Option<Index>,
}

/// How often the dedup index drops content gone from the folder past `dedup.retention_days`
/// (past `dedup.retention_entries`, at once).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Committer {
    /// Drops from the dedup index what retention no longer keeps, in a transaction of its own:
    /// when there are more gone rows than `dedup.retention_entries`, and every minute for age.
    fn prune_if_due(&mut self) -> Result<(), PipelineError> {
        let retention = self.dedup.settings.retention();
        let Some(index) = self.index.as_mut() else {
            return Ok(());
        };
        let over_cap = retention.max_rows > 0 && index.gone() > retention.max_rows;
        let timed = self.last_prune.elapsed() >= PRUNE_EVERY;
        if !(over_cap || timed && index.wants_prune(retention)) {
            return Ok(());
        }
        self.last_prune = Instant::now();
        let started = Instant::now();
        let tx = self.store.begin()?;
        let dropped = index
            .prune(tx.conn(), crate::dedup::index::now_s(), retention)
            .map_err(|e| tx.sql_err(e))?;
        tx.commit()?;
        if dropped > 0 {
            tracing::info!(
                dropped,
                kept_gone = index.gone(),
                ms = started.elapsed().as_millis() as u64,
                "dedup index: forgot content gone from the folder (dedup.retention_*)"
            );
        }
        Ok(())
    }

    fn run(
        mut self,
        mut rx: mpsc::Receiver<Committable>,
        handle: tokio::runtime::Handle,
    ) -> Result<(), PipelineError> {
        // While idle, the log is looked at every second (a file truncated, deleted or replaced
        // under the daemon is noticed even when nothing is being written).
        let idle = match self.fsync {
            Fsync::Interval => self.fsync_interval.min(IDLE_CHECK),
            _ => IDLE_CHECK,
        };
        loop {
            let first = match handle.block_on(async { tokio::time::timeout(idle, rx.recv()).await })
            {
                Ok(item) => item,
                Err(_) => {
                    self.log.check_unchanged()?;
                    self.log
                        .sync_if_interval_passed()
                        .map_err(log_err(&self.log_path))?;
                    continue;
                }
            };
            let Some(first) = first else { break };
            let mut group = vec![first];
            while group.len() < self.group_max {
                match rx.try_recv() {
                    Ok(c) => group.push(c),
                    Err(_) => break,
                }
            }
            if self.commit_group(group, &mut rx, &handle)? {
                break;
            }
        }
        self.log.sync_now().map_err(log_err(&self.log_path))?;
        Ok(())
    }

    /// One transaction for the group. Its lines are written at once; with `output.fsync =
    /// always`, while the log syncs, the results that come in meanwhile join the transaction and
    /// their lines are written too (so a slow sync does not hold back when they appear), then the
    /// log syncs again until a sync covers every line; only then does the state commit. Returns
    /// whether the results channel closed meanwhile.
    fn commit_group(
        &mut self,
        group: Vec<Committable>,
        rx: &mut mpsc::Receiver<Committable>,
        handle: &tokio::runtime::Handle,
    ) -> Result<bool, PipelineError> {
        let started = Instant::now();
        let metrics = metrics::global();
        let tx = self.store.begin()?;
        let mut index = match self.index.take() {
            Some(index) => index,
            None if self.dedup.settings.enabled => {
                let started = std::time::Instant::now();
                let index = self
                    .dedup
                    .load_index(tx.conn())
                    .map_err(|e| tx.sql_err(e))?;
                let (fingerprints, band_keys) = index.len();
                tracing::info!(
                    fingerprints,
                    band_keys,
                    ms = started.elapsed().as_millis() as u64,
                    "dedup index loaded"
                );
                index
            }
            None => Index::new(self.dedup.scheme_id(), self.dedup.settings.permutations),
        };
        let always = self.fsync == Fsync::Always;
        let retain = self.dedup.settings.enabled;
        let now = crate::dedup::index::now_s();
        let mut taken: Vec<Committable> = Vec::with_capacity(group.len());
        let (mut versions, mut failed, mut bytes) = (0u64, 0u64, 0u64);
        let first_seq = self.log.state().next_seq;
        let log_path = self.log_path.clone();
        // Completes, resolves and records a batch in the transaction and writes its lines.
        let mut add = |log: &mut EventLog,
                       taken: &mut Vec<Committable>,
                       batch: Vec<Committable>|
         -> Result<(), PipelineError> {
            let mut seq = log.state().next_seq;
            let time = now_rfc3339();
            let mut buf = Vec::with_capacity(batch.len() * 4096);
            for mut c in batch {
                if retain {
                    // What the index holds of this path's previous version is gone from the
                    // folder unless the new version holds it too (marked present again by the
                    // lookups below); a moved path's rows follow it.
                    match &c.pending {
                        crate::process::Pending::Nothing => {
                            for op in &c.ops {
                                if let crate::store::StateOp::Rename { from, document, .. } = op {
                                    crate::dedup::Index::rename_document(
                                        tx.conn(),
                                        &crate::event::document_id(from),
                                        document,
                                    )
                                    .map_err(|e| tx.sql_err(e))?;
                                }
                            }
                        }
                        _ => index
                            .forget_document(tx.conn(), &crate::event::document_id(&c.path), now)
                            .map_err(|e| tx.sql_err(e))?,
                    }
                }
                if !matches!(c.pending, crate::process::Pending::Nothing) {
                    let previous = tx.segments_of(&c.path)?;
                    complete(&mut c, previous.as_deref());
                    let (lookup, analysed) = (Instant::now(), c.dedup.is_some());
                    let mut backend = crate::dedup::Local {
                        index: &mut index,
                        conn: tx.conn(),
                    };
                    crate::dedup::resolve(&self.dedup, &mut backend, &mut c)
                        .map_err(|e| tx.sql_err(e))?;
                    if analysed {
                        metrics.observe(Stage::DedupLookup, lookup.elapsed());
                    }
                }
                for op in &c.ops {
                    tx.apply(op)?;
                }
                if !c.events.is_empty() {
                    let generation = tx.next_generation(&c.path)?;
                    for e in &mut c.events {
                        e.id = crate::event::committed_id(&e.id, generation);
                    }
                }
                for e in &c.events {
                    write_line(&mut buf, e, &self.source, &time, seq);
                    seq += 1;
                    if e.kind == crate::event::DOCUMENT_FAILED {
                        failed += 1;
                    }
                }
                versions += u64::from(c.is_version);
                taken.push(c);
            }
            let lines = seq - log.state().next_seq;
            let written = if always {
                log.append_unsynced(&buf, lines)
            } else {
                log.append(&buf, lines)
            };
            written?;
            bytes += buf.len() as u64;
            Ok(())
        };
        add(&mut self.log, &mut taken, group)?;
        let mut closed = false;
        if always {
            loop {
                let file = self.log.sync_handle()?;
                let mut sync = handle.spawn_blocking(move || file.sync_data());
                let mut more = false;
                enum Step {
                    Synced(Result<std::io::Result<()>, tokio::task::JoinError>),
                    Result(Option<Committable>),
                }
                let synced = loop {
                    let room = !closed && taken.len() < self.group_max;
                    let step = handle.block_on(async {
                        tokio::select! {
                            biased;
                            r = &mut sync => Step::Synced(r),
                            c = rx.recv(), if room => Step::Result(c),
                        }
                    });
                    match step {
                        Step::Synced(r) => break r,
                        Step::Result(None) => closed = true,
                        Step::Result(Some(c)) => {
                            let mut batch = vec![c];
                            while taken.len() + batch.len() < self.group_max {
                                match rx.try_recv() {
                                    Ok(c) => batch.push(c),
                                    Err(_) => break,
                                }
                            }
                            add(&mut self.log, &mut taken, batch)?;
                            more = true;
                        }
                    }
                };
                match synced {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(log_err(&log_path)(e)),
                    Err(e) => return Err(log_err(&log_path)(std::io::Error::other(e))),
                }
                // Lines written while it ran may not be covered: sync again for them.
                if !more {
                    break;
                }
            }
        }
        let state = self.log.state();
        tx.set_log(state)?;
        tx.commit()?;
        self.index = Some(index);
        self.prune_if_due()?;
        if let Some(rotated) = self.log.rotate_if_full()? {
            // Durable before the new file receives a line: a power cut never leaves the state
            // behind a rotation.
            self.store.commit_durable(&[], rotated)?;
            let id = self.log.id();
            self.own.note(id.dev, id.ino);
        }
        let lines = state.next_seq - first_seq;
        self.counters
            .versions
            .fetch_add(versions, Ordering::Relaxed);
        self.counters.failed.fetch_add(failed, Ordering::Relaxed);
        self.counters.events.fetch_add(lines, Ordering::Relaxed);
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        metrics.commits.inc();
        metrics.log_bytes.add(bytes);
        metrics.log_size_bytes.set(self.log.state().offset as i64);
        metrics.count_events(taken.iter().flat_map(|c| &c.events));
        metrics.observe(Stage::Commit, started.elapsed());
        if let Some(f) = &self.progress.on_commit {
            f(taken.len() as u64);
        }
        Ok(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::FileVersion;
    use crate::store::StatIdentity;

    fn version(path: &str, text: &str) -> Job {
        Job::Version(FileVersion {
            path: path.into(),
            stat: StatIdentity::default(),
            sha256: format!("{path}:{}", text.len()),
            bytes: Some(text.as_bytes().to_vec()),
            previous_sha256: None,
            permit: None,
        })
    }

    /// Runs the processing stage with two workers over `jobs`; returns the versions (path and
    /// sha256) in the order their results came out.
    async fn processed(jobs: Vec<Job>) -> Vec<String> {
        let (job_tx, job_rx) = mpsc::channel(16);
        let (commit_tx, mut commit_rx) = mpsc::channel(16);
        let (_stop, stop_rx) = watch::channel(false);
        let processor = tokio::spawn(run_processor(
            job_rx,
            commit_tx,
            CpuPool::start("test-worker", 2).expect("start the pool"),
            stop_rx,
            Arc::new(Dedup::default()),
        ));
        for job in jobs {
            job_tx.send(job).await.expect("send job");
        }
        drop(job_tx);
        let mut out = Vec::new();
        while let Some(c) = commit_rx.recv().await {
            let doc = c.events.last().expect("events");
            out.push(doc.data["version"].as_str().unwrap_or("?").to_string());
        }
        processor.await.expect("processor");
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_paths_versions_keep_their_order_while_other_paths_pass_a_slow_one() {
        let slow = "某市今年第一季度实现地区生产总值1234.5亿元，同比增长6.8%。\n\n".repeat(4000);
        let quick = "第二版。\n";
        let order = processed(vec![
            version("a.txt", &slow),
            version("b.txt", "另一个文件。\n"),
            version("a.txt", quick),
        ])
        .await;
        let at = |v: &str| order.iter().position(|o| o == v).expect(v);
        let (slow_a, quick_a) = (
            format!("a.txt:{}", slow.len()),
            format!("a.txt:{}", quick.len()),
        );
        assert_eq!(order.len(), 3, "{order:?}");
        // The quick second version of a.txt waited for the slow first one…
        assert!(at(&slow_a) < at(&quick_a), "{order:?}");
        // …while b.txt, on the other worker, did not.
        assert!(
            at(&format!("b.txt:{}", "另一个文件。\n".len())) < at(&slow_a),
            "{order:?}"
        );
    }
}
