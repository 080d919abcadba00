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
use std::sync::Arc;
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

/// How often the watched folder itself is looked at (removed, or replaced by a new one).
const ROOT_CHECK: Duration = Duration::from_millis(250);

/// The kernel watch on the folder, and whether the kernel refused it (then the folder is
/// scanned every `watch.fallback_scan_ms` instead).
struct KernelWatch {
    _watcher: Option<notify::RecommendedWatcher>,
    fallback: bool,
}

impl KernelWatch {
    fn start(
        root: &std::path::Path,
        ntx: mpsc::Sender<notify::Result<notify::Event>>,
        fallback_ms: u64,
    ) -> KernelWatch {
        let watcher = notify::recommended_watcher(move |res| {
            let _ = ntx.blocking_send(res);
        });
        match watcher {
            Ok(mut w) => {
                let fallback = match w.watch(root, RecursiveMode::Recursive) {
                    Ok(()) => false,
                    Err(e) => {
                        report_watch_failure(root, &e, fallback_ms);
                        true
                    }
                };
                KernelWatch {
                    _watcher: Some(w),
                    fallback,
                }
            }
            Err(e) => {
                report_watch_failure(root, &e, fallback_ms);
                KernelWatch {
                    _watcher: None,
                    fallback: true,
                }
            }
        }
    }
}

/// The watched folder's identity (device, inode), or None while it is missing.
fn folder_id(root: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(root)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// The watched folder (`watch.dir`), checked to be one, in one spelling (links and `..` resolved): the one
/// every path is compared in.
pub fn folder(dir: &std::path::Path) -> Result<PathBuf, String> {
    let root = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => Ok(std::fs::canonicalize(&root).unwrap_or(root)),
        Ok(_) => Err(format!("{} is not a folder", root.display())),
        Err(e) => Err(format!(
            "{}: {e}; create it or point watch.dir (--watch, SLUICE_WATCH) at a folder",
            root.display()
        )),
    }
}

/// Runs until `shutdown` turns true or the receiver is gone. `rescan` changing (SIGHUP) asks
/// for a full scan. A missing watched folder is reported to `health`.
pub async fn run(
    root: PathBuf,
    settings: WatchSettings,
    tx: mpsc::Sender<WatchMsg>,
    mut deferred: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    mut shutdown: watch::Receiver<bool>,
    mut rescan: watch::Receiver<u64>,
    health: Arc<crate::metrics::Health>,
) {
    let (ntx, mut nrx) = mpsc::channel::<notify::Result<notify::Event>>(NOTIFY_QUEUE);
    let mut kernel = KernelWatch::start(&root, ntx.clone(), settings.fallback_scan_ms);
    let mut fallback = kernel.fallback;
    // The folder being watched; when it is removed (or removed and made again), the kernel watch
    // is gone with it: notice, say so (log and /healthz), and watch the new one when it comes.
    let mut watched = folder_id(&root);
    let mut missing_since: Option<std::time::SystemTime> = None;
    let mut last_root_check = Instant::now();
    let mut rescan_open = true;

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
            r = rescan.changed(), if rescan_open => {
                match r {
                    Ok(()) => scan_wanted = true,
                    Err(_) => rescan_open = false,
                }
            }
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
        // The folder is looked at every ROOT_CHECK, and before every full scan: a scan never
        // ingests from a folder /healthz still calls missing.
        let now = Instant::now();
        if scan_wanted || now.duration_since(last_root_check) >= ROOT_CHECK {
            last_root_check = now;
            let id = folder_id(&root);
            if id != watched {
                match id {
                    None => {
                        let since = std::time::SystemTime::now();
                        missing_since = Some(since);
                        let why = format!(
                            "the watched folder {} is missing (removed or unmounted) \
                             since {}; nothing is ingested until it is back",
                            root.display(),
                            crate::event::rfc3339(since)
                        );
                        tracing::error!("{why}");
                        health.set_problem(Some(why));
                    }
                    Some(_) => {
                        kernel = KernelWatch::start(&root, ntx.clone(), settings.fallback_scan_ms);
                        fallback = kernel.fallback;
                        match missing_since.take() {
                            Some(since) => tracing::warn!(
                                "the watched folder {} is back (it was missing since \
                                 {}): watching it again and scanning it whole",
                                root.display(),
                                crate::event::rfc3339(since)
                            ),
                            None => tracing::warn!(
                                "the watched folder {} was replaced by a new one: \
                                 watching the new one and scanning it whole",
                                root.display()
                            ),
                        }
                        health.set_problem(None);
                        scan_wanted = true;
                    }
                }
                watched = id;
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
