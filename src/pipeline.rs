//! The stages, wired. Nothing here does a stage's work; it only connects them:
//!
//! ```text
//! watcher (task) --WatchMsg--> detector (thread) --Job--> processing (task on the CPU pool,
//!   in order per path) --Committable--> commit (thread: the log and the state, in groups)
//!                                   or, in NATS mode: --Job--> job publisher (thread)
//! ```
//!
//! - watcher: [`crate::watch::run`]; detector: [`crate::detect::stage`]; processing:
//!   [`crate::schedule::process_in_order`]; commit: [`crate::commit::local`]; job publisher:
//!   [`crate::nats::node`].
//!
//! Every channel is bounded (`pipeline.channel_capacity`), so a slow stage slows intake instead of
//! growing a queue. The processing stage keeps the order of each path's jobs, so the versions of
//! one file are committed in the order they were detected, while different files do not wait
//! for each other; one job's events are written contiguously.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

pub use crate::error::PipelineError;
pub use crate::progress::{Progress, Summary};

use crate::budget::ByteBudget;
use crate::commit::local::Committer;
use crate::config::Settings;
use crate::cpu::CpuPool;
use crate::detect::fence::Fence;
use crate::detect::stage::DetectStage;
use crate::detect::{Detector, Job, Tracked};
use crate::event::source_uri;
use crate::metrics::{channel_depth, Health, Metrics, Stage};
use crate::own::OwnFiles;
use crate::process::{Committable, Processor};
use crate::progress::Counters;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::watch::{filter::PathFilter, WatchMsg};

/// Run until stopped (`Daemon`) or until one reconcile pass is committed (`Once`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Daemon,
    Once,
}

/// Where detected jobs end up: processed here and committed to the local log, or published to
/// NATS as jobs for workers.
enum Sink {
    Local(crate::sink::ndjson::EventLog),
    Nats,
}

/// Time the pipeline gets to drain after a stop signal before in-flight work is abandoned (it is
/// re-derived at the next start, since nothing uncommitted survives in the log).
const DRAIN_DEADLINE: Duration = Duration::from_secs(8);

/// Runs the pipeline. Returns when `Once` has committed everything, or when a stop is signalled
/// and the pipeline has drained (or the drain deadline passed).
pub async fn run(
    settings: &Settings,
    mode: Mode,
    signals: crate::shutdown::Signals,
    progress: Progress,
    metrics: Arc<Metrics>,
) -> Result<Summary, PipelineError> {
    let crate::shutdown::Signals {
        shutdown: mut signalled,
        rescan,
    } = signals;
    let started = Instant::now();
    metrics
        .health
        .set_unready("starting: opening the state database");
    // Load the dictionary and build the extraction tables now, not on the first file.
    tokio::task::spawn_blocking(|| {
        let _ = crate::text::words::shared();
        crate::extract::warm_up();
    });
    let root = crate::watch::folder(&settings.watch.dir).map_err(PipelineError::WatchDir)?;
    let _lock = crate::store::lock::exclusive(&settings.state.file)?;
    let mut store = Store::open(&settings.state.file)?;
    let sink = if settings.nats.url.is_empty() {
        let (log, state) = crate::sink::ndjson::open_recovered(settings, &mut store)?;
        metrics.log_size_bytes.set(state.offset as i64);
        Sink::Local(log)
    } else {
        Sink::Nats
    };
    let records = store.load_files()?;
    tracing::info!(
        watch = %root.display(),
        tracked = records.len(),
        next_sequence = match &sink {
            Sink::Local(log) => Some(log.state().next_seq),
            Sink::Nats => None,
        },
        nats = !settings.nats.url.is_empty(),
        "sluice starting"
    );
    // The stop every stage listens to: fired by a signal, or here when a stage failed.
    let (trigger, stop) = Shutdown::new();
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
    )
    // What one look keeps of the files it read, outside the budget: a quarter of it at most.
    .keep_at_most((settings.pipeline.max_inflight_bytes / 4).min(64 << 20))
    .stop_on(stop.clone())
    .time_reads(metrics.stage(Stage::Read).clone());
    if mode == Mode::Daemon {
        detector = detector.defer_recent(
            Duration::from_millis(settings.watch.settle_ms),
            Duration::from_millis(settings.watch.max_wait_ms),
        );
    }
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
            stop.receiver(),
            rescan,
            metrics.health.clone(),
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
        budget: ByteBudget::new(
            settings.pipeline.max_inflight_bytes,
            metrics.in_flight_bytes.clone(),
        ),
        stop: stop.clone(),
        counters: counters.clone(),
        progress: progress.clone(),
        metrics: metrics.clone(),
        max_expanded_bytes: settings.formats.max_expanded_bytes,
    }
    .spawn();
    let handle = tokio::runtime::Handle::current();
    let (done_tx, mut done_rx) = mpsc::channel::<Result<(), PipelineError>>(1);
    let source = source_uri(&root);
    let (processor, last_thread) = match sink {
        Sink::Local(log) => {
            let (commit_tx, commit_rx) = mpsc::channel::<Committable>(cap);
            metrics
                .queue_depth
                .probe("commit", channel_depth(&commit_tx));
            let processor = Arc::new(Processor::new(settings, metrics.clone()));
            let workers = settings.workers();
            let pool = CpuPool::start("sluice-worker", workers)
                .map_err(|source| PipelineError::Threads { workers, source })?;
            let dedup = Arc::new(processor.dedup.clone());
            let processing = tokio::spawn(crate::schedule::process_in_order(
                job_rx,
                commit_tx,
                pool,
                stop.clone(),
                processor,
            ));
            let committer = Committer::new(
                log,
                store,
                settings,
                source,
                dedup,
                own,
                counters.clone(),
                progress,
                metrics.clone(),
            );
            let health = metrics.health.clone();
            let thread = spawn_last_stage(
                "sluice-commit",
                "the committer",
                health,
                done_tx,
                move || committer.run(commit_rx, handle),
            );
            (Some(processing), thread)
        }
        Sink::Nats => {
            let on_group = {
                let (counters, progress) = (counters.clone(), progress.clone());
                Box::new(move |jobs: u64, versions: u64| {
                    counters.committed(&progress, jobs, versions, jobs)
                })
            };
            let publisher = crate::nats::node::start(
                settings,
                store,
                source,
                stop.clone(),
                on_group,
                metrics.clone(),
            )
            .await?;
            tracing::info!(node = publisher.node(), "publishing jobs to NATS");
            let health = metrics.health.clone();
            let thread = spawn_last_stage(
                "sluice-publish",
                "the job publisher",
                health,
                done_tx,
                move || publisher.run(job_rx, handle).map_err(PipelineError::from),
            );
            (None, thread)
        }
    };
    metrics.health.set_ready();

    let result = tokio::select! {
        r = done_rx.recv() => r.unwrap_or(Err(PipelineError::Internal("the commit thread"))),
        _ = signalled.requested() => {
            tracing::info!("stop requested: finishing in-flight versions");
            metrics.health.set_unready("stopping: finishing in-flight versions");
            trigger.fire();
            match tokio::time::timeout(DRAIN_DEADLINE, done_rx.recv()).await {
                Ok(r) => r.unwrap_or(Err(PipelineError::Internal("the commit thread"))),
                Err(_) => {
                    tracing::warn!("drain deadline passed: abandoning in-flight versions (they are re-derived at the next start)");
                    Ok(())
                }
            }
        }
    };
    trigger.fire();
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
    if last_thread.is_finished() && last_thread.join().is_err() {
        return Err(PipelineError::Internal("the commit thread"));
    }
    if detect_thread.is_finished() && detect_thread.join().is_err() {
        return Err(PipelineError::Internal("the detector thread"));
    }
    result?;
    Ok(counters.summary(started.elapsed().as_millis() as u64))
}

/// Starts the pipeline's last stage (the committer, or in NATS mode the job publisher) on its
/// own thread: its result goes to `done`, and a failure also makes `/healthz` unready.
fn spawn_last_stage(
    name: &str,
    what: &'static str,
    health: Arc<Health>,
    done: mpsc::Sender<Result<(), PipelineError>>,
    run: impl FnOnce() -> Result<(), PipelineError> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = run();
            if let Err(e) = &result {
                health.set_unready(format!("{what} failed: {e}"));
            }
            let _ = done.blocking_send(result);
        })
        .unwrap_or_else(|e| panic!("spawn {name} thread: {e}"))
}
