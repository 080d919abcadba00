//! The watcher node in NATS mode: the detector's jobs are published to the job stream instead of
//! being processed here. A group of jobs gets its change numbers, its state changes and its jobs
//! (with their bytes) in one transaction of the node's state database — a transactional outbox —
//! and is published after that commits; outbox rows are deleted once the stream has stored them.
//! A crash anywhere publishes the recorded jobs again at the next start, byte for byte (same
//! message ids, dropped by the stream), and never gives one change number to two contents.

use std::collections::HashMap;

use async_nats::jetstream::context::Publish;
use tokio::sync::mpsc;

use super::job::{self, Kind, Meta, Stat};
use super::{NatsError, Shared};
use crate::detect::Job;
use crate::process::process;
use crate::store::{FileRecord, FileStatus, OutboxJob, StateOp, Store};

/// Claims `node` for this state database: a node's change numbers live in its state database,
/// so a second database (another host with the same name, or this host after losing its state
/// file) must not publish under the same name, or its jobs would read as already applied.
pub async fn claim_node(
    shared: &Shared,
    node: &str,
    incarnation: &str,
    state: &std::path::Path,
) -> Result<(), NatsError> {
    use async_nats::jetstream::kv::CreateErrorKind;
    let key = format!("n.{node}");
    match shared
        .paths
        .create(&key, incarnation.to_string().into())
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {
            let held = shared
                .paths
                .get(&key)
                .await
                .map_err(|e| NatsError::js(format!("read {key}"), e))?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            if held == incarnation {
                return Ok(());
            }
            Err(NatsError::Setting(format!(
                "setting nats.node: the name {node:?} belongs to another state database (id \
                 {held}; this one, {}, is {incarnation}). Every watcher node needs its own name \
                 and its own state file; if this node lost its state file, give it a new name \
                 (--node): the old name's change numbers live on in the shared state",
                state.display()
            )))
        }
        Err(e) => Err(NatsError::js(format!("claim node name {key}"), e)),
    }
}

/// A fresh incarnation id for a node's state database.
pub fn new_incarnation(state: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    h.update(std::process::id().to_be_bytes());
    h.update(state.to_string_lossy().as_bytes());
    h.update(gethostname::gethostname().to_string_lossy().as_bytes());
    hex::encode(&h.finalize()[..12])
}

/// Sets up this process as a watcher node: connects, claims the node's name for this state
/// database, and makes the publisher that records and publishes jobs (`progress` is told of
/// each group).
pub async fn start(
    settings: &crate::config::Settings,
    mut store: Store,
    source: String,
    stop: crate::shutdown::Shutdown,
    on_group: Box<dyn Fn(u64, u64) + Send>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> Result<Publisher, NatsError> {
    let node = settings.nats.node_name();
    let shared = super::connect(&settings.nats, &format!("sluice-node-{node}")).await?;
    let state = &settings.state.file;
    let incarnation = store.fact_or_insert("nats.incarnation", || new_incarnation(state))?;
    claim_node(&shared, &node, &incarnation, state).await?;
    // Within what the server takes in one message, with room for the metadata.
    let server_max = shared.client.server_info().max_payload as u64;
    let inline_max = settings
        .nats
        .inline_max_bytes
        .min(server_max.saturating_sub(64 * 1024));
    Ok(Publisher {
        out: Outbox {
            shared,
            node,
            source,
            inline_max,
            stop,
        },
        store,
        group_max: settings.pipeline.group_commit_max,
        on_group,
        metrics,
    })
}

impl Publisher {
    /// This node's name.
    pub fn node(&self) -> &str {
        &self.out.node
    }
}

pub struct Publisher {
    pub out: Outbox,
    pub store: Store,
    pub group_max: usize,
    /// Called with (jobs published, versions among them) after each recorded group.
    pub on_group: Box<dyn Fn(u64, u64) + Send>,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// Where and as whom jobs are published.
pub struct Outbox {
    pub shared: Shared,
    pub node: String,
    pub source: String,
    pub inline_max: u64,
    pub stop: crate::shutdown::Shutdown,
}

/// One job ready to go out, and what the node records once it is stored.
struct Outgoing {
    meta: Meta,
    payload: Vec<u8>,
    blob: Option<Vec<u8>>,
    ops: Vec<StateOp>,
}

impl Publisher {
    pub fn run(
        mut self,
        mut rx: mpsc::Receiver<Job>,
        handle: tokio::runtime::Handle,
    ) -> Result<(), NatsError> {
        // Jobs recorded before a crash go out first, in their order.
        self.drain_outbox(&handle)?;
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            while group.len() < self.group_max {
                match rx.try_recv() {
                    Ok(j) => group.push(j),
                    Err(_) => break,
                }
            }
            self.record_group(group, &handle)?;
            self.drain_outbox(&handle)?;
        }
        Ok(())
    }

    /// Publishes the outbox and empties it once the stream has stored every job.
    fn drain_outbox(&mut self, handle: &tokio::runtime::Handle) -> Result<(), NatsError> {
        let jobs = self.store.outbox()?;
        let Some(last) = jobs.last().map(|j| j.id) else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        handle.block_on(self.out.publish_all(&jobs))?;
        self.store.outbox_done(last)?;
        let metrics = &self.metrics;
        metrics.observe(crate::metrics::Stage::Publish, started.elapsed());
        metrics.jobs_published.inc_by(jobs.len() as u64);
        Ok(())
    }

    /// Gives a group its change numbers and records it, with its jobs, in one transaction.
    fn record_group(
        &mut self,
        group: Vec<Job>,
        handle: &tokio::runtime::Handle,
    ) -> Result<(), NatsError> {
        let tx = self.store.begin()?;
        let mut generations: HashMap<String, u64> = HashMap::new();
        let mut outgoing = Vec::with_capacity(group.len());
        let mut versions = 0;
        for job in group {
            if let Job::Restat { .. } = job {
                for op in process(job).ops {
                    tx.apply(&op)?;
                }
                continue;
            }
            let path = job.path().to_string();
            // A move changes both paths: the new file at the old path waits for it.
            let from = match &job {
                Job::Moved { from, .. } => Some(from.clone()),
                _ => None,
            };
            let mut bump = |p: &str| -> Result<u64, NatsError> {
                let n = match generations.get(p) {
                    Some(&n) => n,
                    None => tx.generation(p)?,
                } + 1;
                generations.insert(p.to_string(), n);
                tx.next_generation(p)?;
                Ok(n)
            };
            let generation = bump(&path)?;
            let from_generation = from.as_deref().map(&mut bump).transpose()?;
            versions += u64::from(matches!(job, Job::Version(_)));
            let out = self.out.outgoing(job, generation, from_generation);
            for op in &out.ops {
                tx.apply(op)?;
            }
            outgoing.push(out);
        }
        // Bytes too large to travel inline are stored first (content-addressed, so a repeat
        // finds them there).
        handle.block_on(self.out.store_blobs(&outgoing))?;
        for out in &outgoing {
            tx.outbox_push(&out.meta.subject(), &out.meta.msg_id(), &out.payload)?;
        }
        tx.commit()?;
        (self.on_group)(outgoing.len() as u64, versions);
        Ok(())
    }
}

impl Outbox {
    fn outgoing(&self, job: Job, generation: u64, from_generation: Option<u64>) -> Outgoing {
        let mut meta = Meta {
            node: self.node.clone(),
            source: self.source.clone(),
            kind: Kind::Version,
            path: String::new(),
            generation,
            sha256: None,
            previous_sha256: None,
            stat: None,
            from: None,
            from_generation,
            failure: None,
            blob: None,
        };
        let mut bytes = None;
        let ops = match job {
            Job::Version(mut v) => {
                meta.path = v.path.clone();
                meta.sha256 = Some(v.sha256.clone());
                meta.previous_sha256 = v.previous_sha256.clone();
                meta.stat = Some(Stat::from(v.stat));
                bytes = v.bytes.take();
                // Recorded as taken in: the worker's verdict (ingested or failed) is in the
                // shared stream, the node only needs to know these bytes were handed on.
                vec![StateOp::Upsert(FileRecord {
                    path: v.path.clone(),
                    stat: v.stat,
                    sha256: Some(v.sha256.clone()),
                    status: FileStatus::Ingested,
                    fail_kind: None,
                    document: crate::event::document_id(&v.path),
                    segments: Vec::new(),
                })]
            }
            other => {
                match &other {
                    Job::Moved {
                        from,
                        to,
                        sha256,
                        stat,
                    } => {
                        meta.kind = Kind::Moved;
                        meta.path = to.clone();
                        meta.from = Some(from.clone());
                        meta.sha256 = Some(sha256.clone());
                        meta.stat = Some(Stat::from(*stat));
                    }
                    Job::Removed { path, sha256 } => {
                        meta.kind = Kind::Removed;
                        meta.path = path.clone();
                        meta.sha256 = sha256.clone();
                    }
                    Job::Failed(f) => {
                        meta.kind = Kind::Failed;
                        meta.path = f.path.clone();
                        meta.sha256 = f.sha256.clone();
                        meta.stat = f.stat.map(Stat::from);
                        meta.failure =
                            Some((f.stage.to_string(), f.kind.to_string(), f.message.clone()));
                    }
                    Job::Version(_) | Job::Restat { .. } => unreachable!("handled above"),
                }
                process(other).ops
            }
        };
        let mut blob = None;
        let payload = match bytes {
            Some(b) if b.len() as u64 > self.inline_max => {
                meta.blob = meta.sha256.clone();
                blob = Some(b);
                job::encode(&meta, None)
            }
            Some(b) => job::encode(&meta, Some(&b)),
            None => job::encode(&meta, None),
        };
        Outgoing {
            meta,
            payload,
            blob,
            ops,
        }
    }

    /// Stores the bytes of jobs too large to carry them, unless the object is there already.
    async fn store_blobs(&self, outgoing: &[Outgoing]) -> Result<(), NatsError> {
        let stop = self.stop.clone();
        let give_up = move || stop.is_requested();
        for out in outgoing {
            let (Some(bytes), Some(name)) = (&out.blob, &out.meta.blob) else {
                continue;
            };
            let blobs = self.shared.blobs.clone();
            super::retry(&format!("store {} bytes", out.meta.path), &give_up, || {
                let blobs = blobs.clone();
                async move {
                    // Putting again would purge the chunks a worker may be reading.
                    if blobs.info(name.as_str()).await.is_ok() {
                        return Ok(());
                    }
                    blobs
                        .put(name.as_str(), &mut bytes.as_slice())
                        .await
                        .map(|_| ())
                        .map_err(async_nats::Error::from)
                }
            })
            .await?;
        }
        Ok(())
    }

    /// Publishes jobs and waits until the stream has stored each one. Publishes are pipelined;
    /// a failed one is sent again (same message id) until it is stored or the node is stopping.
    async fn publish_all(&self, jobs: &[OutboxJob]) -> Result<(), NatsError> {
        let stop = self.stop.clone();
        let give_up = move || stop.is_requested();
        let js = &self.shared.js;
        let publish = |j: &OutboxJob| {
            Publish::build()
                .payload(j.payload.clone().into())
                .message_id(&j.msg_id)
        };
        // Acks are awaited in batches: the client allows a bounded number in flight.
        for batch in jobs.chunks(1000) {
            let mut acks = Vec::with_capacity(batch.len());
            for j in batch {
                acks.push(js.send_publish(j.subject.clone(), publish(j)).await.ok());
            }
            for (j, ack) in batch.iter().zip(acks) {
                let stored = match ack {
                    Some(ack) => ack.await.is_ok(),
                    None => false,
                };
                if !stored {
                    super::retry("publish a job", &give_up, || async {
                        js.send_publish(j.subject.clone(), publish(j))
                            .await?
                            .await
                            .map_err(async_nats::Error::from)
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }
}
