//! `sluice worker`: takes jobs from the shared durable consumer, does the local pipeline's work
//! on each (decode, segment, extract, dedup against the shared index), publishes the events and
//! acks the job only once they are stored.
//!
//! Jobs of one path are applied in generation order: a job whose predecessor is not applied yet
//! goes back (nak with a delay); a job already applied (a redelivery after a crash between
//! publishing and acking) is acked without work, and one applied halfway (events published, path
//! state not yet written) publishes the same event ids again, which the stream drops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, context::Publish, AckKind};
use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::job::{self, Kind, Meta};
use super::shared::{self, Mirror, PathState, SharedIndex};
use super::{NatsError, Shared};
use crate::config::Settings;
use crate::dedup::Dedup;
use crate::event::{self, now_rfc3339, write_line};
use crate::process::{complete, process_with, Pending};
use crate::store::StateOp;

/// How long a job waits before it is offered again when its path's previous job is not applied.
const ORDER_DELAY: Duration = Duration::from_millis(100);

/// Jobs in flight per CPU thread: while one is processed, the others wait on the server.
const JOBS_PER_THREAD: usize = 4;

#[derive(Debug, Default, serde::Serialize)]
pub struct WorkerSummary {
    pub jobs: u64,
    pub versions: u64,
    pub failed: u64,
    pub events: u64,
    pub requeued: u64,
    pub skipped: u64,
}

#[derive(Default)]
struct Counts {
    jobs: AtomicU64,
    versions: AtomicU64,
    failed: AtomicU64,
    events: AtomicU64,
    requeued: AtomicU64,
    skipped: AtomicU64,
}

struct Ctx {
    shared: Shared,
    dedup: Arc<Dedup>,
    index: SharedIndex,
    /// CPU work runs on at most `pipeline.workers` threads; more jobs than that are in flight
    /// so their round trips to the server overlap with it.
    cpu: tokio::sync::Semaphore,
    counts: Counts,
}

/// What became of one job.
enum Outcome {
    Done,
    AlreadyApplied,
    NotYet,
}

/// Runs until `shutdown` turns true; jobs in flight are finished first.
pub async fn run(
    settings: &Settings,
    mut shutdown: watch::Receiver<bool>,
) -> Result<WorkerSummary, NatsError> {
    crate::text::words::set_emit_tokens(settings.output.tokens);
    crate::extract::set_options(settings.extract.options());
    let warm = tokio::task::spawn_blocking(|| {
        let _ = crate::text::words::shared();
        crate::extract::warm_up();
    });
    let name = format!("sluice-worker-{}", std::process::id());
    let shared = super::connect(&settings.nats, &name).await?;
    let dedup = Arc::new(Dedup::new(settings.dedup.clone()));
    let mirror = Arc::new(Mutex::new(Mirror::default()));
    let watcher = shared::start_mirror(shared.sigs.clone(), dedup.clone(), mirror.clone()).await?;
    let consumer: jetstream::consumer::PullConsumer = shared
        .jobs
        .get_or_create_consumer(
            super::WORKERS_CONSUMER,
            pull::Config {
                durable_name: Some(super::WORKERS_CONSUMER.into()),
                description: Some("sluice workers: every job once".into()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_millis(settings.nats.ack_wait_ms),
                max_deliver: -1,
                max_ack_pending: 10_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| NatsError::js("job consumer", e))?;
    let _ = warm.await;
    let depth = tokio::spawn(watch_queue(consumer.clone()));
    let workers = settings.workers();
    let metrics = crate::metrics::global();
    metrics.health.set_ready();
    tracing::info!(
        workers,
        url = %settings.nats.url,
        "sluice worker taking jobs"
    );
    let ctx = Arc::new(Ctx {
        index: SharedIndex {
            dedup: dedup.clone(),
            store: shared.dedup.clone(),
            sigs: shared.sigs.clone(),
            mirror,
        },
        shared,
        dedup,
        cpu: tokio::sync::Semaphore::new(workers.max(1)),
        counts: Counts::default(),
    });
    loop {
        if *shutdown.borrow() {
            break;
        }
        let messages = match consumer
            .stream()
            .max_messages_per_batch(workers * JOBS_PER_THREAD * 2)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
        {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("NATS job consumer: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut stop = shutdown.clone();
        let until_stop = messages.take_until(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        let handled = until_stop
            .map(|m| {
                let ctx = ctx.clone();
                async move {
                    match m {
                        Ok(msg) => handle(&ctx, msg).await,
                        Err(e) => Err(NatsError::js("receive job", e)),
                    }
                }
            })
            .buffer_unordered(workers.max(1) * JOBS_PER_THREAD);
        let mut handled = std::pin::pin!(handled);
        let mut broken = false;
        while let Some(r) = handled.next().await {
            if let Err(e) = r {
                // The job was not acked: the server offers it again after nats.ack_wait_ms.
                tracing::warn!("{e}");
                broken = matches!(e, NatsError::JetStream { .. });
            }
        }
        if broken && !*shutdown.borrow() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if shutdown.has_changed().unwrap_or(true) && *shutdown.borrow_and_update() {
            break;
        }
    }
    watcher.abort();
    depth.abort();
    metrics.health.set_unready("stopped");
    let c = &ctx.counts;
    Ok(WorkerSummary {
        jobs: c.jobs.load(Ordering::Relaxed),
        versions: c.versions.load(Ordering::Relaxed),
        failed: c.failed.load(Ordering::Relaxed),
        events: c.events.load(Ordering::Relaxed),
        requeued: c.requeued.load(Ordering::Relaxed),
        skipped: c.skipped.load(Ordering::Relaxed),
    })
}

async fn handle(ctx: &Arc<Ctx>, msg: jetstream::Message) -> Result<(), NatsError> {
    let (meta, inline) = match job::decode(&msg.payload) {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(subject = %msg.subject, "not a sluice job ({e}): dropped");
            msg.ack_with(AckKind::Term)
                .await
                .map_err(|e| NatsError::js("terminate job", e))?;
            return Ok(());
        }
    };
    let outcome = apply(ctx, &msg, &meta, inline).await?;
    match outcome {
        Outcome::NotYet => {
            ctx.counts.requeued.fetch_add(1, Ordering::Relaxed);
            msg.ack_with(AckKind::Nak(Some(ORDER_DELAY)))
                .await
                .map_err(|e| NatsError::js("requeue job", e))?;
        }
        Outcome::AlreadyApplied | Outcome::Done => {
            if matches!(outcome, Outcome::AlreadyApplied) {
                ctx.counts.skipped.fetch_add(1, Ordering::Relaxed);
            }
            msg.double_ack()
                .await
                .map_err(|e| NatsError::js(format!("ack job {}", meta.path), e))?;
            ctx.counts.jobs.fetch_add(1, Ordering::Relaxed);
            crate::metrics::global().jobs_acked.inc();
        }
    }
    Ok(())
}

async fn apply(
    ctx: &Arc<Ctx>,
    msg: &jetstream::Message,
    meta: &Meta,
    inline: Option<Vec<u8>>,
) -> Result<Outcome, NatsError> {
    let paths = &ctx.shared.paths;
    let key = shared::path_key(&meta.node, &meta.path);
    let (state, revision) = shared::read_path(paths, &key).await?;
    if state.generation >= meta.generation {
        return Ok(Outcome::AlreadyApplied);
    }
    if state.generation + 1 < meta.generation {
        return Ok(Outcome::NotYet);
    }
    let from = match (&meta.kind, &meta.from) {
        (Kind::Moved, Some(from)) => {
            let from_key = shared::path_key(&meta.node, from);
            let (from_state, from_rev) = shared::read_path(paths, &from_key).await?;
            if from_state.generation < meta.from_generation.unwrap_or(0) {
                return Ok(Outcome::NotYet);
            }
            Some((from_key, from_state, from_rev))
        }
        _ => None,
    };
    let bytes = match (&meta.kind, &meta.blob) {
        (Kind::Version, Some(name)) => Some(fetch_blob(&ctx.shared, name).await?),
        _ => inline,
    };
    if msg.info().map(|i| i.delivered > 1).unwrap_or(false) {
        tracing::debug!(path = %meta.path, "job delivered again");
    }

    // The CPU work, on a blocking thread; the dedup lookups block on the runtime from there.
    let job = meta.to_job(bytes);
    let previous = match &from {
        Some((_, from_state, _)) => from_state.segments.clone(),
        None => state.segments.clone(),
    };
    let generation = meta.generation;
    let dedup = ctx.dedup.clone();
    let work = {
        let _cpu = ctx
            .cpu
            .acquire()
            .await
            .expect("the CPU semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let mut c = process_with(job, &dedup);
            if !matches!(c.pending, Pending::Nothing) {
                complete(&mut c, Some(&previous));
            }
            c
        })
        .await
    };
    let mut c = match work {
        Ok(c) => c,
        // A bug in a stage must not turn the job into a poison message: it becomes a failure
        // event like in local mode.
        Err(e) => {
            tracing::error!(path = %meta.path, "processing panicked: {e}");
            let mut c = process_with(
                crate::detect::Job::Failed(crate::detect::Failure {
                    path: meta.shared_path(),
                    stage: "process",
                    kind: "internal_error",
                    message: format!("processing failed unexpectedly: {e}"),
                    sha256: meta.sha256.clone(),
                    stat: meta.stat.as_ref().map(crate::store::StatIdentity::from),
                }),
                &ctx.dedup,
            );
            complete(&mut c, Some(&state.segments));
            c
        }
    };
    // Dedup against the shared index: claims in one concurrent round, verdicts from them and
    // the in-memory band index, new signatures written in one concurrent round.
    if let Some(analysis) = c.dedup.clone() {
        let started = Instant::now();
        let mut backend = ctx.index.prefetch(&analysis, &c).await?;
        crate::dedup::resolve(&ctx.dedup, &mut backend, &mut c)?;
        backend.write(&ctx.index.sigs).await?;
        crate::metrics::global().observe(crate::metrics::Stage::DedupLookup, started.elapsed());
    }
    for e in &mut c.events {
        e.id = event::committed_id(&e.id, generation);
    }

    // Events, in order, each under its id: a second publication of the same id is dropped.
    let time = now_rfc3339();
    let published = Instant::now();
    let js = &ctx.shared.js;
    let mut acks = Vec::with_capacity(c.events.len());
    for e in &c.events {
        let mut line = Vec::with_capacity(1024);
        write_line(&mut line, e, &meta.source, &time, 0);
        let subject = format!("sluice.events.{}", type_token(e.kind));
        let ack = js
            .send_publish(
                subject,
                Publish::build().payload(line.into()).message_id(&e.id),
            )
            .await
            .map_err(|err| NatsError::js(format!("publish events of {}", meta.path), err))?;
        acks.push(ack);
    }
    for ack in acks {
        ack.await
            .map_err(|err| NatsError::js(format!("store events of {}", meta.path), err))?;
    }

    // The path's new state, compare-and-set: losing means another delivery of this job got
    // there first with the same events.
    let segments = match c.ops.first() {
        Some(StateOp::Upsert(r)) => r.segments.clone(),
        Some(StateOp::Rename { .. }) => from
            .as_ref()
            .map(|(_, s, _)| s.segments.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let new_state = PathState {
        generation: meta.generation,
        segments,
    };
    shared::write_path(paths, &key, &new_state, revision).await?;
    if let Some((from_key, from_state, from_rev)) = from {
        let gone = PathState {
            generation: from_state.generation,
            segments: Vec::new(),
        };
        shared::write_path(paths, &from_key, &gone, from_rev).await?;
    }
    let m = crate::metrics::global();
    m.observe(crate::metrics::Stage::Publish, published.elapsed());
    m.count_events(&c.events);
    let counts = &ctx.counts;
    counts
        .events
        .fetch_add(c.events.len() as u64, Ordering::Relaxed);
    counts
        .versions
        .fetch_add(u64::from(c.is_version), Ordering::Relaxed);
    let failed = c
        .events
        .iter()
        .filter(|e| e.kind == event::DOCUMENT_FAILED)
        .count();
    counts.failed.fetch_add(failed as u64, Ordering::Relaxed);
    Ok(Outcome::Done)
}

/// Keeps the job queue's depth in the metrics: jobs waiting, and jobs handed out but not acked.
async fn watch_queue(mut consumer: jetstream::consumer::PullConsumer) {
    let metrics = crate::metrics::global();
    loop {
        match consumer.info().await {
            Ok(info) => {
                metrics
                    .queue_depth
                    .set("jobs", info.num_pending.min(i64::MAX as u64) as i64);
                metrics
                    .queue_depth
                    .set("jobs_unacked", info.num_ack_pending as i64);
                metrics.health.set_ready();
            }
            Err(e) => {
                metrics
                    .health
                    .set_unready(format!("cannot reach the job stream: {e}"));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn fetch_blob(shared: &Shared, name: &str) -> Result<Vec<u8>, NatsError> {
    let started = Instant::now();
    let mut object = shared
        .blobs
        .get(name)
        .await
        .map_err(|e| NatsError::js(format!("object {name}"), e))?;
    let mut bytes = Vec::new();
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| NatsError::js(format!("read object {name}"), e))?;
    tracing::debug!(
        name,
        bytes = bytes.len(),
        ms = started.elapsed().as_millis() as u64,
        "job bytes fetched from the object store"
    );
    Ok(bytes)
}

/// The subject token of an event type: `sluice.segment` → `segment`,
/// `sluice.document.ingested` → `document.ingested`.
pub fn type_token(kind: &str) -> &str {
    kind.strip_prefix("sluice.").unwrap_or(kind)
}
