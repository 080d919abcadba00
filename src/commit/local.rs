//! The local commit stage: the single writer of the event log and the state database. Results
//! are committed in groups: one SQLite transaction per group, committed once a log sync covers all
//! its lines; with `output.fsync = always`, results that arrive while the log syncs join the group
//! and their lines are written at once. Each version goes through the shared steps of
//! [`crate::commit`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::commit;
use crate::config::Fsync;
use crate::dedup::{Dedup, Index};
use crate::error::PipelineError;
use crate::event::now_rfc3339;
use crate::metrics::{Metrics, Stage};
use crate::own::OwnFiles;
use crate::process::{Committable, Pending};
use crate::progress::{Counters, Progress};
use crate::sink::ndjson::EventLog;
use crate::store::{StateOp, Store, StoreTx};

/// How often an idle committer checks that nobody changed the log under it.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// What the index holds of a path's previous version is gone from the folder unless the new
/// version holds it too (marked present again by the lookups); a moved path's rows follow it.
fn forget_previous(
    index: &mut Index,
    tx: &StoreTx,
    c: &Committable,
    now: i64,
) -> Result<(), PipelineError> {
    match &c.pending {
        Pending::Nothing => {
            for op in &c.ops {
                if let StateOp::Rename { from, document, .. } = op {
                    Index::rename_document(tx.conn(), &crate::event::document_id(from), document)
                        .map_err(|e| tx.sql_err(e))?;
                }
            }
        }
        _ => index
            .forget_document(tx.conn(), &crate::event::document_id(&c.path), now)
            .map_err(|e| tx.sql_err(e))?,
    }
    Ok(())
}

fn log_err(path: &str) -> impl Fn(std::io::Error) -> PipelineError + '_ {
    move |source| PipelineError::Log {
        path: path.to_string(),
        source,
    }
}

/// The single writer: group commit of log bytes and state.
pub struct Committer {
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
    metrics: Arc<Metrics>,
}

/// How often the dedup index drops content gone from the folder past `dedup.retention_days`
/// (past `dedup.retention_entries`, at once).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Committer {
    /// The committer of `log` and `store`, for the settings' group size and fsync policy.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        log: EventLog,
        store: Store,
        settings: &crate::config::Settings,
        source: String,
        dedup: Arc<Dedup>,
        own: Arc<OwnFiles>,
        counters: Arc<Counters>,
        progress: Progress,
        metrics: Arc<Metrics>,
    ) -> Committer {
        Committer {
            log_path: settings.output.file.display().to_string(),
            log,
            store,
            source,
            group_max: settings.pipeline.group_commit_max,
            fsync: settings.output.fsync,
            fsync_interval: Duration::from_millis(settings.output.fsync_interval_ms),
            counters,
            progress,
            dedup,
            own,
            last_prune: Instant::now(),
            index: None,
            metrics,
        }
    }

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

    pub fn run(
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
        let metrics = self.metrics.clone();
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
                    forget_previous(&mut index, &tx, &c, now)?;
                }
                if !matches!(c.pending, Pending::Nothing) {
                    let previous = tx.segments_of(&c.path)?;
                    let (lookup, analysed) = (Instant::now(), c.dedup.is_some());
                    let mut backend = crate::dedup::Local {
                        index: &mut index,
                        conn: tx.conn(),
                    };
                    commit::resolve(&mut c, previous.as_deref(), &self.dedup, &mut backend)
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
                    let first = seq;
                    commit::stamp(
                        &mut c,
                        generation,
                        &self.source,
                        &time,
                        first,
                        &mut buf,
                        |e, _| {
                            seq += 1;
                            if e.kind == crate::event::EventType::DocumentFailed {
                                failed += 1;
                            }
                        },
                    );
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
        self.counters.failed.fetch_add(failed, Ordering::Relaxed);
        metrics.commits.inc();
        metrics.log_bytes.inc_by(bytes);
        metrics.log_size_bytes.set(self.log.state().offset as i64);
        metrics.count_events(taken.iter().flat_map(|c| &c.events));
        metrics.observe(Stage::Commit, started.elapsed());
        self.counters
            .committed(&self.progress, taken.len() as u64, versions, lines);
        Ok(closed)
    }
}
