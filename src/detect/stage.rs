//! The detector stage: its own thread, since it stats, walks and reads (blocking I/O). It turns
//! the watcher's messages into jobs, hands files found mid-write back to settle, and charges each
//! version to the byte budget before handing it on.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{Detector, Job};
use crate::budget::ByteBudget;
use crate::metrics::Metrics;
use crate::progress::{Counters, Progress};
use crate::shutdown::Shutdown;
use crate::watch::WatchMsg;

/// The detector stage: its own thread, since it stats, walks and reads (blocking I/O).
pub struct DetectStage {
    pub detector: Detector,
    pub rx: mpsc::Receiver<WatchMsg>,
    pub tx: mpsc::Sender<Job>,
    /// Files found mid-write go back to the watcher's settle.
    pub defer: mpsc::UnboundedSender<Vec<PathBuf>>,
    pub budget: ByteBudget,
    pub stop: Shutdown,
    pub counters: Arc<Counters>,
    pub progress: Progress,
    pub metrics: Arc<Metrics>,
    /// `formats.max_expanded_bytes`: a zip-based document is charged for what it expands to.
    pub max_expanded_bytes: u64,
}

impl DetectStage {
    pub fn spawn(self) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("sluice-detect".into())
            .spawn(move || self.run())
            .expect("spawn detector thread")
    }

    fn run(mut self) {
        while let Some(msg) = self.rx.blocking_recv() {
            if self.stop.is_requested() {
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
            let m = &self.metrics;
            m.tracked_files.set(tracked as i64);
            m.files_seen.inc_by(
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
                if self.stop.is_requested() || !self.hand_on(job) {
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
                        let bytes = v.bytes.as_deref().unwrap_or_default();
                        let weight = crate::budget::weight(bytes).max(
                            crate::read::archive::expanded(bytes, self.max_expanded_bytes)
                                .saturating_mul(crate::budget::PER_BYTE),
                        );
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
