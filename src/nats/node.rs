//! The watcher node in NATS mode: the detector's jobs are published to the job stream instead of
//! being processed here. A group of jobs is published, its acks awaited, and only then is the
//! group recorded in the node's state database: a crash in between publishes the same jobs
//! again at the next start (same message ids, dropped by the stream), never loses one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_nats::jetstream::context::Publish;
use tokio::sync::mpsc;

use super::job::{self, Kind, Meta, Stat};
use super::{NatsError, Shared};
use crate::detect::Job;
use crate::pipeline::PipelineError;
use crate::process::process;
use crate::store::{FileRecord, FileStatus, StateOp, Store};

pub struct Publisher {
    pub out: Outbox,
    pub store: Store,
    pub group_max: usize,
    /// Called with (jobs published, versions among them) after each recorded group.
    pub on_group: Box<dyn Fn(u64, u64) + Send>,
}

/// Where and as whom jobs are published.
pub struct Outbox {
    pub shared: Shared,
    pub node: String,
    pub source: String,
    pub inline_max: u64,
    pub stop: Arc<AtomicBool>,
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
    ) -> Result<(), PipelineError> {
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            while group.len() < self.group_max {
                match rx.try_recv() {
                    Ok(j) => group.push(j),
                    Err(_) => break,
                }
            }
            self.publish_group(group, &handle)?;
        }
        Ok(())
    }

    fn publish_group(
        &mut self,
        group: Vec<Job>,
        handle: &tokio::runtime::Handle,
    ) -> Result<(), PipelineError> {
        let tx = self.store.begin()?;
        let mut generations: HashMap<String, u64> = HashMap::new();
        let mut outgoing = Vec::with_capacity(group.len());
        let mut silent = Vec::new();
        let mut versions = 0;
        for job in group {
            if let Job::Restat { .. } = job {
                silent.extend(process(job).ops);
                continue;
            }
            let path = match &job {
                Job::Version(v) => v.path.clone(),
                Job::Moved { to, .. } => to.clone(),
                Job::Removed { path, .. } => path.clone(),
                Job::Failed(f) => f.path.clone(),
                Job::Restat { .. } => unreachable!("handled above"),
            };
            let current = |p: &str| -> Result<u64, PipelineError> {
                Ok(match generations.get(p) {
                    Some(&n) => n,
                    None => tx.generation(p)?,
                })
            };
            let generation = current(&path)? + 1;
            let from_generation = match &job {
                Job::Moved { from, .. } => Some(current(from)?),
                _ => None,
            };
            generations.insert(path.clone(), generation);
            versions += u64::from(matches!(job, Job::Version(_)));
            outgoing.push(self.out.outgoing(job, generation, from_generation));
        }
        let published = outgoing.len() as u64;
        let started = std::time::Instant::now();
        handle.block_on(self.out.publish_all(&outgoing))?;
        let metrics = crate::metrics::global();
        metrics.observe(crate::metrics::Stage::Publish, started.elapsed());
        metrics.jobs_published.add(published);
        for out in &outgoing {
            for op in &out.ops {
                tx.apply(op)?;
            }
            tx.next_generation(&out.meta.path)?;
        }
        for op in &silent {
            tx.apply(op)?;
        }
        tx.commit()?;
        (self.on_group)(published, versions);
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

    /// Publishes every job of the group and waits until the stream has stored each one.
    /// Publishes are pipelined; a failed one is sent again (same message id) until it is stored
    /// or the node is stopping.
    async fn publish_all(&self, outgoing: &[Outgoing]) -> Result<(), NatsError> {
        let stop = self.stop.clone();
        let give_up = move || stop.load(Ordering::SeqCst);
        for out in outgoing {
            if let (Some(bytes), Some(name)) = (&out.blob, &out.meta.blob) {
                let blobs = self.shared.blobs.clone();
                super::retry(&format!("store {} bytes", out.meta.path), &give_up, || {
                    let blobs = blobs.clone();
                    async move { blobs.put(name.as_str(), &mut bytes.as_slice()).await }
                })
                .await?;
            }
        }
        let js = &self.shared.js;
        let mut acks = Vec::with_capacity(outgoing.len());
        for out in outgoing {
            let sent = js
                .send_publish(
                    out.meta.subject(),
                    Publish::build()
                        .payload(out.payload.clone().into())
                        .message_id(out.meta.msg_id()),
                )
                .await;
            acks.push(sent.ok());
        }
        for (out, ack) in outgoing.iter().zip(acks) {
            let stored = match ack {
                Some(ack) => ack.await.is_ok(),
                None => false,
            };
            if !stored {
                super::retry(
                    &format!("publish job {}", out.meta.path),
                    &give_up,
                    || async {
                        js.send_publish(
                            out.meta.subject(),
                            Publish::build()
                                .payload(out.payload.clone().into())
                                .message_id(out.meta.msg_id()),
                        )
                        .await?
                        .await
                        .map_err(async_nats::Error::from)
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
