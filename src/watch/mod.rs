//! Watching the folder: kernel notifications (notify, recursive) through [`settle::Settle`], plus
//! full reconcile scans at start, after an overflow, every `watch.rescan_interval_s`, and every
//! `watch.fallback_scan_ms` when the kernel refuses more watches.
//!
//! Files that a walk of a new folder (or a reconcile) found still being written come back from the
//! detector and are settled like any other path.
//!
//! The output is a stream of [`WatchMsg`]: settled paths, or "scan everything". Sending never
//! blocks this task: paths that cannot be handed on yet stay in a pending list (bounded by the
//! number of distinct paths), while notifications keep being absorbed.

pub mod filter;
pub mod scan;
pub mod settle;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use notify::{ErrorKind as NotifyErrorKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use crate::config::WatchSettings;
use settle::Settle;

/// What the watcher asks the detector to look at.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchMsg {
    /// Absolute paths that had activity and are now settled.
    Paths(Vec<PathBuf>),
    /// Reconcile the whole folder against the state.
    FullScan,
}

/// Notifications waiting between notify's thread and the settle task. When full, notify's thread
/// waits, the kernel queue overflows, and the overflow triggers a full scan: memory stays bounded
/// and nothing is missed.
const NOTIFY_QUEUE: usize = 16_384;

/// Runs until `shutdown` turns true or the receiver is gone.
pub async fn run(
    root: PathBuf,
    settings: WatchSettings,
    tx: mpsc::Sender<WatchMsg>,
    mut deferred: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (ntx, mut nrx) = mpsc::channel::<notify::Result<notify::Event>>(NOTIFY_QUEUE);
    let watcher = notify::recommended_watcher(move |res| {
        let _ = ntx.blocking_send(res);
    });
    let mut fallback = false;
    let _watcher = match watcher {
        Ok(mut w) => {
            if let Err(e) = w.watch(&root, RecursiveMode::Recursive) {
                fallback = true;
                report_watch_failure(&root, &e, settings.fallback_scan_ms);
            }
            Some(w)
        }
        Err(e) => {
            fallback = true;
            report_watch_failure(&root, &e, settings.fallback_scan_ms);
            None
        }
    };

    let settle_time = Duration::from_millis(settings.settle_ms);
    let mut settle = Settle::new(settle_time, Duration::from_millis(settings.max_wait_ms));
    let tick = (settle_time / 4).clamp(Duration::from_millis(5), Duration::from_millis(25));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let rescan_every = Duration::from_secs(settings.rescan_interval_s);
    let fallback_every = Duration::from_millis(settings.fallback_scan_ms);
    let mut last_scan = Instant::now();
    // The start-up reconcile: the watch is in place first, so nothing falls between the two.
    let mut scan_wanted = true;
    let mut ready: Vec<PathBuf> = Vec::new();

    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            ev = nrx.recv() => {
                let Some(ev) = ev else { break };
                let now = Instant::now();
                match ev {
                    Ok(event) => {
                        if event.need_rescan() {
                            tracing::warn!("kernel event queue overflowed; scanning the whole folder");
                            scan_wanted = true;
                        }
                        tracing::trace!(kind = ?event.kind, paths = ?event.paths, "notification");
                        if !changes_content(&event.kind) {
                            continue;
                        }
                        for path in event.paths {
                            settle.touch(path, now);
                        }
                    }
                    Err(e) if matches!(e.kind, NotifyErrorKind::MaxFilesWatch) => {
                        if !fallback {
                            fallback = true;
                            report_watch_failure(&root, &e, settings.fallback_scan_ms);
                        }
                        scan_wanted = true;
                    }
                    Err(e) => {
                        tracing::warn!("file notification error ({e}); scanning the whole folder");
                        scan_wanted = true;
                    }
                }
            }
            Some(paths) = deferred.recv() => {
                let now = Instant::now();
                for path in paths {
                    settle.touch(path, now);
                }
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                let every = if fallback { fallback_every.min(rescan_every) } else { rescan_every };
                if now.duration_since(last_scan) >= every {
                    scan_wanted = true;
                }
                ready.extend(settle.ready(now));
            }
        }
        if scan_wanted {
            match tx.try_send(WatchMsg::FullScan) {
                Ok(()) => {
                    scan_wanted = false;
                    last_scan = Instant::now();
                }
                Err(mpsc::error::TrySendError::Closed(_)) => break,
                Err(mpsc::error::TrySendError::Full(_)) => {}
            }
        }
        if !ready.is_empty() {
            match tx.try_send(WatchMsg::Paths(std::mem::take(&mut ready))) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => break,
                Err(mpsc::error::TrySendError::Full(WatchMsg::Paths(back))) => ready = back,
                Err(mpsc::error::TrySendError::Full(_)) => {}
            }
        }
    }
    tracing::debug!(pending = settle.len(), "watcher stopped");
}

/// Opening and reading (sluice's own reads among them) change nothing; everything else may.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

fn report_watch_failure(root: &std::path::Path, e: &notify::Error, every_ms: u64) {
    if matches!(e.kind, NotifyErrorKind::MaxFilesWatch) {
        tracing::error!(
            folder = %root.display(),
            "the kernel refused more file watches (fs.inotify.max_user_watches is exhausted): \
             falling back to scanning the folder every {every_ms} ms (watch.fallback_scan_ms). \
             Raise the limit, e.g. `sysctl fs.inotify.max_user_watches=1048576`, for prompt pick-up."
        );
    } else {
        tracing::error!(
            folder = %root.display(),
            "cannot watch the folder ({e}): falling back to scanning it every {every_ms} ms \
             (watch.fallback_scan_ms)"
        );
    }
}
