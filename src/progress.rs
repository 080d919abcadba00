//! What a run tells as it goes and when it ends: counters the stages bump, hooks for a progress
//! bar, and the summary.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
pub struct Counters {
    pub versions: AtomicU64,
    pub failed: AtomicU64,
    pub events: AtomicU64,
    pub commits: AtomicU64,
    pub tracked: AtomicU64,
}

/// Hooks for a terminal progress bar: total known after the reconcile, one tick per committed job.
#[derive(Clone, Default)]
pub struct Progress {
    pub on_total: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    pub on_commit: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl Counters {
    /// The run's summary, after `elapsed_ms`.
    pub fn summary(&self, elapsed_ms: u64) -> Summary {
        Summary {
            versions: self.versions.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            tracked: self.tracked.load(Ordering::Relaxed),
            elapsed_ms,
        }
    }

    /// One group committed: `jobs` of them, `versions` file versions among them, `lines` lines.
    pub fn committed(&self, progress: &Progress, jobs: u64, versions: u64, lines: u64) {
        self.versions.fetch_add(versions, Ordering::Relaxed);
        self.events.fetch_add(lines, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = &progress.on_commit {
            f(jobs);
        }
    }
}
