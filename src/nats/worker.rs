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
use crate::commit;
use crate::config::Settings;
use crate::cpu::CpuPool;
use crate::dedup::Dedup;
use crate::event::{self, now_rfc3339};
use crate::process::{Pending, Processor};
use crate::store::StateOp;

/// How long a job waits before it is offered again when its path's previous job is not applied.
const ORDER_DELAY: Duration = Duration::from_millis(100);

/// How long a job that failed for a passing reason (a timeout, a lost race) waits to be retried.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Longest wait for a large job's bytes from the object store.
const BLOB_TIMEOUT: Duration = Duration::from_secs(120);

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
    processor: Arc<Processor>,
    dedup: Arc<Dedup>,
    index: SharedIndex,
    /// CPU work runs on `pipeline.workers` threads of their own; more jobs than that are in
    /// flight so their round trips to the server overlap with it, and each thread has its next
    /// job queued.
    cpu: CpuPool,
    /// The largest message the server takes.
    max_payload: usize,
    ack_wait: Duration,
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
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<WorkerSummary, NatsError> {
    let processor = Arc::new(Processor::new(settings, metrics.clone()));
    let warm = tokio::task::spawn_blocking(|| {
        let _ = crate::text::words::shared();
        crate::extract::warm_up();
    });
    let name = format!("sluice-worker-{}", std::process::id());
    let shared = super::connect(&settings.nats, &name).await?;
    let dedup = Arc::new(processor.dedup.clone());
    let mirror = Arc::new(Mutex::new(Mirror::default()));
    let watcher = shared::start_mirror(shared.sigs.clone(), dedup.clone(), mirror.clone()).await?;
    let config = pull::Config {
        durable_name: Some(super::WORKERS_CONSUMER.into()),
        description: Some("sluice workers: every job once".into()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_millis(settings.nats.ack_wait_ms),
        max_deliver: -1,
        max_ack_pending: 10_000,
        ..Default::default()
    };
    let mut consumer: jetstream::consumer::PullConsumer = shared
        .jobs
        .get_or_create_consumer(super::WORKERS_CONSUMER, config.clone())
        .await
        .map_err(|e| NatsError::js("job consumer", e))?;
    // The consumer outlives workers: a changed nats.ack_wait_ms is applied to it.
    if consumer.cached_info().config.ack_wait != config.ack_wait {
        match shared.jobs.update_consumer(config.clone()).await {
            Ok(updated) => {
                tracing::info!(
                    ack_wait_ms = settings.nats.ack_wait_ms,
                    "job consumer updated to this nats.ack_wait_ms"
                );
                consumer = updated;
            }
            Err(e) => tracing::warn!(
                "job consumer keeps its ack wait of {:?}: cannot change it to nats.ack_wait_ms \
                 ({e})",
                consumer.cached_info().config.ack_wait
            ),
        }
    }
    let _ = warm.await;
    let depth = tokio::spawn(watch_queue(consumer.clone(), metrics.clone()));
    let workers = settings.workers();
    metrics.health.set_ready();
    tracing::info!(
        workers,
        url = %settings.nats.url,
        "sluice worker taking jobs"
    );
    let max_payload = shared.client.server_info().max_payload;
    let ctx = Arc::new(Ctx {
        index: SharedIndex {
            dedup: dedup.clone(),
            store: shared.dedup.clone(),
            sigs: shared.sigs.clone(),
            mirror,
        },
        shared,
        processor,
        dedup,
        cpu: CpuPool::start("sluice-worker", workers).map_err(|e| {
            NatsError::Other(format!(
                "cannot start {workers} processing threads (pipeline.workers): {e}; set \
                     fewer or raise the process's thread limit"
            ))
        })?,
        max_payload,
        ack_wait: Duration::from_millis(settings.nats.ack_wait_ms),
        counts: Counts::default(),
    });
    loop {
        if *shutdown.borrow() {
            break;
        }
        let messages = match consumer
            .stream()
            .max_messages_per_batch(workers * JOBS_PER_THREAD)
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
    // While the job runs, the server is told it is in progress, so a slow file is not handed to
    // another worker after nats.ack_wait_ms.
    let work = apply(ctx, &meta, inline);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(ctx.ack_wait / 3);
    tick.tick().await;
    // A job still running after ten ack_waits is presumed hung: it stops reporting progress,
    // so the server hands it to another worker.
    let mut reports = 0;
    let outcome = loop {
        tokio::select! {
            r = &mut work => match r {
                Ok(outcome) => break outcome,
                Err(e) => {
                    // Offered again soon rather than after a whole ack_wait (if the server is
                    // reachable at all; otherwise ack_wait does it).
                    let _ = msg.ack_with(AckKind::Nak(Some(RETRY_DELAY))).await;
                    return Err(e);
                }
            },
            _ = tick.tick(), if reports < 30 => {
                reports += 1;
                if reports == 30 {
                    tracing::warn!(path = %meta.path, "job still running after ten ack_waits: no longer holding it");
                }
                let _ = msg.ack_with(AckKind::Progress).await;
            }
        }
    };
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
            ctx.processor.metrics.jobs_acked.inc();
        }
    }
    Ok(())
}

/// The source path of a move: its state key, state and revision, and the change number the
/// move gives it.
struct Source {
    key: String,
    state: PathState,
    revision: u64,
    generation: u64,
}

async fn apply(ctx: &Arc<Ctx>, meta: &Meta, inline: Option<Vec<u8>>) -> Result<Outcome, NatsError> {
    let paths = &ctx.shared.paths;
    let key = shared::path_key(&meta.node, &meta.path);
    let (state, revision) = shared::read_path(paths, &key).await?;
    let source = match (&meta.kind, &meta.from) {
        (Kind::Moved, Some(from)) => {
            let key = shared::path_key(&meta.node, from);
            let (state, revision) = shared::read_path(paths, &key).await?;
            Some(Source {
                key,
                state,
                revision,
                generation: meta.from_generation.unwrap_or(0),
            })
        }
        _ => None,
    };
    if state.generation >= meta.generation {
        // Applied. A move interrupted between its two writes finishes its source path here.
        if let Some(src) = &source {
            if src.state.generation < src.generation {
                clear_source(paths, src).await?;
            }
        }
        return Ok(Outcome::AlreadyApplied);
    }
    if state.generation + 1 < meta.generation {
        return Ok(Outcome::NotYet);
    }
    if let Some(src) = &source {
        if src.state.generation + 1 < src.generation {
            return Ok(Outcome::NotYet);
        }
    }
    let mut missing = None;
    let bytes = match (&meta.kind, &meta.blob) {
        (Kind::Version, Some(name)) => match fetch_blob(&ctx.shared, name).await? {
            Some(b) => Some(b),
            None => {
                missing = Some(name.clone());
                None
            }
        },
        _ => inline,
    };

    // The CPU work, on the worker's processing threads.
    let job = meta.to_job(bytes);
    let previous = match &source {
        Some(src) => src.state.segments.clone(),
        None => state.segments.clone(),
    };
    let processor = ctx.processor.clone();
    let work = {
        let previous = previous.clone();
        ctx.cpu
            .run(move || {
                let mut c = processor.process(job);
                if !matches!(c.pending, Pending::Nothing) {
                    commit::complete(&mut c, Some(&previous));
                }
                c
            })
            .await
    };
    let mut c = match work {
        // Bytes that are gone from the object store cannot come back: a failure, not a retry.
        Ok(_) if missing.is_some() => failure(
            meta,
            crate::event::FailStage::Read,
            crate::detect::FailKind::Vanished,
            format!(
                "the job's bytes (object {} in {}) are gone from the object store",
                missing.as_deref().unwrap_or_default(),
                super::BLOBS_BUCKET
            ),
            &previous,
        ),
        Ok(c) => c,
        // A bug in a stage must not turn the job into a poison message: it becomes a failure
        // event like in local mode.
        Err(e) => {
            let mut c = commit::panicked(
                meta.shared_path(),
                meta.sha256.clone(),
                meta.stat.as_ref().map(crate::store::StatIdentity::from),
                &e,
            );
            commit::complete(&mut c, Some(&previous));
            c
        }
    };
    // An event over the server's max_payload could never be published: the version fails
    // instead, before it claims anything in the shared index. Measured only when it could
    // happen (the dedup verdicts added later are a few hundred bytes).
    let limit = ctx.max_payload.saturating_sub(64 * 1024);
    let could_be_large =
        meta.stat.as_ref().map_or(0, |s| s.size as usize) * 4 + previous.len() * 32 > limit / 2;
    if could_be_large {
        if let Some(big) = c
            .events
            .iter()
            .map(event::Event::payload_len)
            .max()
            .filter(|&n| n > limit)
        {
            c = failure(
                meta,
                crate::event::FailStage::Publish,
                crate::detect::FailKind::TooLarge,
                format!(
                    "an event of this version would be about {big} bytes, over the NATS \
                     server's max_payload ({}); raise max_payload in the server's configuration \
                     or lower pipeline.max_file_bytes",
                    ctx.max_payload
                ),
                &previous,
            );
        }
    }
    // Dedup against the shared index: claims in one concurrent round, verdicts from them and
    // the in-memory band index, new signatures written in one concurrent round.
    if let Some(analysis) = c.dedup.take() {
        let started = Instant::now();
        let tag = format!("{}@{}", analysis.version, meta.generation);
        let seen = commit::segments_seen(&c);
        let mut backend = ctx.index.prefetch(&analysis, &c.path, &seen, &tag).await?;
        let verdicts = crate::dedup::verdicts(&ctx.dedup, &mut backend, &analysis, &c.path, &seen)?;
        commit::apply(&mut c, &verdicts, analysis.ms);
        backend.write(&ctx.index.sigs).await?;
        (ctx.processor.metrics).observe(crate::metrics::Stage::DedupLookup, started.elapsed());
    }
    let time = now_rfc3339();
    let lines = event_lines(&mut c, meta, &time);

    // Another delivery of this job (after an ack_wait ran out) may have finished meanwhile;
    // if it stopped between a move's two writes, the source path is finished here.
    if shared::read_path(paths, &key).await?.0.generation >= meta.generation {
        if let Some(src) = &source {
            let (now, revision) = shared::read_path(paths, &src.key).await?;
            if now.generation < src.generation {
                clear_source(
                    paths,
                    &Source {
                        key: src.key.clone(),
                        state: now,
                        revision,
                        generation: src.generation,
                    },
                )
                .await?;
            }
        }
        return Ok(Outcome::AlreadyApplied);
    }
    // Events in order, each under its id (a second publication of an id is dropped); the
    // commit marker (the last event) only once all the others are stored.
    let published = Instant::now();
    let js = &ctx.shared.js;
    let publish = |(subject, line): &(String, Vec<u8>), id: &str| {
        js.send_publish(
            subject.clone(),
            Publish::build().payload(line.clone().into()).message_id(id),
        )
    };
    let store_err = |err: &dyn std::fmt::Display| {
        NatsError::js(format!("publish events of {}", meta.path), err)
    };
    if let Some((last, rest)) = lines.split_last() {
        let mut acks = Vec::with_capacity(rest.len());
        for (line, e) in rest.iter().zip(&c.events) {
            acks.push(publish(line, &e.id).await.map_err(|e| store_err(&e))?);
        }
        for ack in acks {
            ack.await.map_err(|e| store_err(&e))?;
        }
        let id = &c.events[lines.len() - 1].id;
        publish(last, id)
            .await
            .map_err(|e| store_err(&e))?
            .await
            .map_err(|e| store_err(&e))?;
    }

    // The path's new state, compare-and-set; then the source path of a move.
    let segments = match c.ops.first() {
        Some(StateOp::Upsert(r)) => r.segments.clone(),
        Some(StateOp::Rename { .. }) => previous,
        _ => Vec::new(),
    };
    let new_state = PathState {
        generation: meta.generation,
        segments,
    };
    set_path(paths, &key, &new_state, revision).await?;
    if let Some(src) = &source {
        clear_source(paths, src).await?;
    }
    let m = &ctx.processor.metrics;
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
        .filter(|e| e.kind == event::EventType::DocumentFailed)
        .count();
    counts.failed.fetch_add(failed as u64, Ordering::Relaxed);
    Ok(Outcome::Done)
}

/// Writes a path's state by compare-and-set. Losing the race is fine when the winner applied
/// this change number (another delivery of the same job); anything else is an error, and the
/// job is tried again.
async fn set_path(
    paths: &async_nats::jetstream::kv::Store,
    key: &str,
    state: &PathState,
    revision: u64,
) -> Result<(), NatsError> {
    if shared::write_path(paths, key, state, revision).await? {
        return Ok(());
    }
    let (now, _) = shared::read_path(paths, key).await?;
    if now.generation >= state.generation {
        return Ok(());
    }
    Err(NatsError::Other(format!(
        "path state {key} changed under this job (now at change {}, writing {}); retried",
        now.generation, state.generation
    )))
}

/// The source path of a move is left empty, at the move's change number for it.
async fn clear_source(
    paths: &async_nats::jetstream::kv::Store,
    src: &Source,
) -> Result<(), NatsError> {
    let gone = PathState {
        generation: src.generation,
        segments: Vec::new(),
    };
    set_path(paths, &src.key, &gone, src.revision).await
}

/// A version that cannot be taken in, as its `document.failed`, completed against the path's
/// previous segments.
fn failure(
    meta: &Meta,
    stage: crate::event::FailStage,
    kind: crate::detect::FailKind,
    message: String,
    previous: &[String],
) -> crate::process::Committable {
    let mut c = crate::process::failed(crate::detect::Failure {
        path: meta.shared_path(),
        stage,
        kind,
        message,
        sha256: meta.sha256.clone(),
        stat: meta.stat.as_ref().map(crate::store::StatIdentity::from),
    });
    commit::complete(&mut c, Some(previous));
    c
}

/// Gives the events their committed ids and renders each as its line (with the sequence the
/// stream gives it later) and subject.
fn event_lines(
    c: &mut crate::process::Committable,
    meta: &Meta,
    time: &str,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::with_capacity(c.events.len() * 1024);
    let mut lines = Vec::with_capacity(c.events.len());
    commit::stamp(
        c,
        meta.generation,
        &meta.source,
        time,
        0,
        &mut out,
        |e, range| {
            lines.push((format!("sluice.events.{}", type_token(e.kind)), range));
        },
    );
    lines
        .into_iter()
        .map(|(subject, range)| (subject, out[range].to_vec()))
        .collect()
}

/// Keeps the job queue's depth in the metrics: jobs waiting, and jobs handed out but not acked.
async fn watch_queue(
    mut consumer: jetstream::consumer::PullConsumer,
    metrics: Arc<crate::metrics::Metrics>,
) {
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

/// The bytes of a large job from the object store; None when the object does not exist.
async fn fetch_blob(shared: &Shared, name: &str) -> Result<Option<Vec<u8>>, NatsError> {
    use async_nats::jetstream::object_store::GetErrorKind;
    let started = Instant::now();
    let read = async {
        let mut object = match shared.blobs.get(name).await {
            Ok(o) => o,
            Err(e) if e.kind() == GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(NatsError::js(format!("object {name}"), e)),
        };
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| NatsError::js(format!("read object {name}"), e))?;
        Ok(Some(bytes))
    };
    let bytes = tokio::time::timeout(BLOB_TIMEOUT, read)
        .await
        .map_err(|_| NatsError::js(format!("read object {name}"), "timed out"))??;
    tracing::debug!(
        name,
        ms = started.elapsed().as_millis() as u64,
        "job bytes fetched from the object store"
    );
    Ok(bytes)
}

/// The subject token of an event type: `sluice.segment` → `segment`,
/// `sluice.document.ingested` → `document.ingested`.
pub fn type_token(kind: crate::event::EventType) -> &'static str {
    let name = kind.as_str();
    name.strip_prefix("sluice.").unwrap_or(name)
}
