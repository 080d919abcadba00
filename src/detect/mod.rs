//! What happened to a path: added, changed, moved, removed, unchanged, or unreadable.
//!
//! The detector keeps an in-memory index of every tracked file as it will stand once everything it
//! has handed on is committed. It looks at the disk cheaply first (stat: device, inode, size,
//! mtime and ctime in ns) and reads a file only when that identity changed; the read hashes the
//! bytes as they stream in, and keeps them for decoding when the file is small enough to be
//! decoded at all. Same sha256 as before means a touch: the new identity is recorded, no event.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub mod fence;
pub mod stage;

pub use crate::event::{FailKind, FailStage};

use crate::store::{FileRecord, FileStatus, StatIdentity};
use crate::watch::filter::PathFilter;
use crate::watch::scan::{self, list, relative_escaped};
use fence::{Denied, Fence};

/// What the detector remembers of a tracked file.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub stat: StatIdentity,
    pub sha256: Option<String>,
    pub status: FileStatus,
    pub fail_kind: Option<String>,
}

impl From<&FileRecord> for Tracked {
    fn from(r: &FileRecord) -> Tracked {
        Tracked {
            stat: r.stat,
            sha256: r.sha256.clone(),
            status: r.status,
            fail_kind: r.fail_kind.clone(),
        }
    }
}

/// A new version of a file's bytes, read and hashed, ready to be decoded.
#[derive(Debug)]
pub struct FileVersion {
    pub path: String,
    pub stat: StatIdentity,
    pub sha256: String,
    /// None until [`Detector::load`] has read them (large batches are not held in memory).
    pub bytes: Option<Vec<u8>>,
    /// The sha256 of the version this one replaces, when the path was tracked.
    pub previous_sha256: Option<String>,
    /// Its share of the byte budget, given back when the version is dropped.
    pub permit: Option<crate::budget::Permit>,
}

/// One thing for the pipeline to do, in the order the detector found them.
#[derive(Debug)]
pub enum Job {
    Version(FileVersion),
    /// Same bytes under a new path: nothing is reprocessed.
    Moved {
        from: String,
        to: String,
        sha256: String,
        stat: StatIdentity,
    },
    Removed {
        path: String,
        sha256: Option<String>,
    },
    /// New identity on disk, same bytes (a touch): recorded silently.
    Restat {
        path: String,
        stat: StatIdentity,
    },
    Failed(Failure),
}

impl Job {
    /// The path the job is about (for a move, the new one).
    pub fn path(&self) -> &str {
        match self {
            Job::Version(v) => &v.path,
            Job::Moved { to, .. } => to,
            Job::Removed { path, .. } | Job::Restat { path, .. } => path,
            Job::Failed(f) => &f.path,
        }
    }

    /// The paths the job changes: one, or both of a move's.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Job::Moved { from, to, .. } => vec![from, to],
            other => vec![other.path()],
        }
    }
}

/// A file that could not be taken in; `kind` is the `error.kind` of `sluice.document.failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub path: String,
    pub stage: FailStage,
    pub kind: FailKind,
    pub message: String,
    pub sha256: Option<String>,
    /// Present when the path exists and should be remembered (so the same failure is not
    /// reported again until the file changes).
    pub stat: Option<StatIdentity>,
}

pub struct Detector {
    root: PathBuf,
    filter: PathFilter,
    fence: Fence,
    tracked: BTreeMap<String, Tracked>,
    max_file_bytes: u64,
    /// In the daemon: files found by a walk (not by their own notifications) whose mtime is this
    /// recent are still being written; they are handed back to settle instead of read now.
    defer_recent: Option<std::time::Duration>,
    /// Longest a file may be handed back to settle again and again (`watch.max_wait_ms`).
    defer_max: std::time::Duration,
    /// Files handed back to settle, and since when: when they come back still being written
    /// (nothing else tells, e.g. in fallback scanning), they are handed back again.
    deferred: HashMap<PathBuf, std::time::Instant>,
    /// In the daemon: tracked files found gone with nothing to pair them with, held back for one
    /// more settle before their removal is emitted (path → sha256). A move's two halves can
    /// settle in different looks — the new name found by a walk of a folder created for it, the
    /// old one by its own notification — and a later look pairs them from here.
    held_gone: BTreeMap<String, Option<String>>,
    /// Bytes kept by the look in progress (bounded by `keep_max`).
    kept: std::cell::Cell<u64>,
    /// File content one look keeps in memory; past it, versions are read again when handed on.
    keep_max: u64,
    /// Set on shutdown: a long look stops early (its results are abandoned with the process).
    stop: Option<crate::shutdown::Shutdown>,
    /// Where the time of each read goes (the `read` stage).
    reads: crate::metrics::Timer,
}

/// File content one look keeps in memory by default (see [`Detector::keep_at_most`]).
const BATCH_KEEP_BYTES: u64 = 64 * 1024 * 1024;

/// What one look found: the jobs, and the paths handed back to settle.
#[derive(Debug, Default)]
pub struct Detected {
    pub jobs: Vec<Job>,
    pub deferred: Vec<PathBuf>,
}

/// How a path came to be looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Its own notifications settled (or it is tracked and must be checked).
    Settled,
    /// A walk of a folder found it.
    Walk,
    /// A walk of a folder that just appeared found it: it may be the new half of a move whose
    /// old half (the old name's own notification) settles in the next look.
    NewFolder,
}

/// A path to look at: how it came up, where it is, and whether its name is UTF-8.
#[derive(Debug, Clone)]
struct Candidate {
    source: Source,
    abs: PathBuf,
    bad_name: bool,
}

impl Candidate {
    fn at(root: &Path, rel: &str, source: Source) -> Candidate {
        Candidate {
            source,
            abs: root.join(rel),
            bad_name: false,
        }
    }

    fn listed(l: scan::Listed, source: Source) -> (String, Candidate) {
        (
            l.rel,
            Candidate {
                source,
                abs: l.abs,
                bad_name: l.bad_name,
            },
        )
    }
}

/// What one look at one path found.
enum Outcome {
    Unchanged,
    Gone,
    Restat(StatIdentity),
    /// The bytes, when they were kept.
    Version(StatIdentity, String, Option<Vec<u8>>),
    Failed(Failure),
    Skip,
    Defer,
}

const ELOOP: i32 = 40;

impl Detector {
    /// `root` must be canonical; `fence` says what paths may lead to.
    pub fn new(
        root: PathBuf,
        filter: PathFilter,
        fence: Fence,
        records: impl IntoIterator<Item = (String, Tracked)>,
        max_file_bytes: u64,
    ) -> Detector {
        Detector {
            root,
            filter,
            fence,
            tracked: records.into_iter().collect(),
            max_file_bytes,
            defer_recent: None,
            defer_max: std::time::Duration::ZERO,
            deferred: HashMap::new(),
            held_gone: BTreeMap::new(),
            kept: std::cell::Cell::new(0),
            keep_max: BATCH_KEEP_BYTES,
            stop: None,
            reads: crate::metrics::unregistered_timer(),
        }
    }

    /// Times each read into `reads` (the `read` stage of the metrics).
    pub fn time_reads(mut self, reads: crate::metrics::Timer) -> Detector {
        self.reads = reads;
        self
    }

    /// Keeps at most `bytes` of file content read by one look (the rest is read again when it
    /// is handed on): part of the memory the byte budget does not count.
    pub fn keep_at_most(mut self, bytes: u64) -> Detector {
        self.keep_max = bytes;
        self
    }

    /// Lets a long look end early when `stop` is set.
    pub fn stop_on(mut self, stop: crate::shutdown::Shutdown) -> Detector {
        self.stop = Some(stop);
        self
    }

    /// Daemon mode: hand files that a walk finds mid-write back to settle (see `defer_recent`).
    pub fn defer_recent(
        mut self,
        quiet: std::time::Duration,
        max_wait: std::time::Duration,
    ) -> Detector {
        self.defer_recent = Some(quiet);
        self.defer_max = max_wait;
        self
    }

    pub fn tracked_count(&self) -> usize {
        self.tracked.len()
    }

    /// Full reconcile: everything on disk against everything tracked.
    pub fn reconcile(&mut self) -> Detected {
        let listing = list(&self.root, &self.root, &self.filter);
        let mut candidates: BTreeMap<String, Candidate> = listing
            .files
            .into_iter()
            .map(|l| Candidate::listed(l, Source::Walk))
            .collect();
        let unlisted = listing.unlisted;
        for path in self.tracked.keys() {
            let under_unlisted = unlisted
                .iter()
                .any(|u| u.is_empty() || path == u || path.starts_with(&format!("{u}/")));
            if !under_unlisted {
                candidates
                    .entry(path.clone())
                    .or_insert_with(|| Candidate::at(&self.root, path, Source::Walk));
            }
        }
        self.classify(candidates)
    }

    /// Looks at paths the watcher reported (absolute). A folder stands for everything in it and
    /// everything tracked below it.
    pub fn detect_paths(&mut self, paths: impl IntoIterator<Item = PathBuf>) -> Detected {
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        let root = self.root.clone();
        for abs in paths {
            let Some((rel, bad_name)) = relative_escaped(&self.root, &abs) else {
                continue;
            };
            let here = |source| Candidate {
                source,
                abs: abs.clone(),
                bad_name,
            };
            match std::fs::symlink_metadata(&abs) {
                Ok(meta) if meta.is_dir() => {
                    if !self.filter.accepts_dir(&rel) {
                        continue;
                    }
                    let listing = list(&self.root, &abs, &self.filter);
                    for l in listing.files {
                        let (r, c) = Candidate::listed(l, Source::NewFolder);
                        candidates.entry(r).or_insert(c);
                    }
                    if listing.unlisted.is_empty() {
                        for r in self.tracked_below(&rel) {
                            let c = Candidate::at(&root, &r, Source::Walk);
                            candidates.entry(r).or_insert(c);
                        }
                    }
                }
                Ok(_) => {
                    if self.filter.accepts_file(&rel, &abs) || self.tracked.contains_key(&rel) {
                        candidates.insert(rel, here(Source::Settled));
                    }
                }
                Err(_) => {
                    if self.tracked.contains_key(&rel) {
                        candidates.insert(rel.clone(), here(Source::Settled));
                    }
                    for r in self.tracked_below(&rel) {
                        let c = Candidate::at(&root, &r, Source::Settled);
                        candidates.entry(r).or_insert(c);
                    }
                }
            }
        }
        self.classify(candidates)
    }

    fn tracked_below(&self, rel: &str) -> Vec<String> {
        if rel.is_empty() {
            return self.tracked.keys().cloned().collect();
        }
        let start = format!("{rel}/");
        let end = format!("{rel}0"); // '0' follows '/'
        self.tracked
            .range(start..end)
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn classify(&mut self, candidates: BTreeMap<String, Candidate>) -> Detected {
        let mut jobs = Vec::new();
        let mut deferred = Vec::new();
        self.kept.set(0);
        let mut gone: Vec<(String, Option<String>)> = Vec::new();
        let mut found: Vec<(String, Outcome)> = Vec::new();
        for (rel, cand) in candidates {
            if self.stop.as_ref().is_some_and(|s| s.is_requested()) {
                return Detected::default();
            }
            let outcome = self.inspect(&rel, &cand);
            let abs = cand.abs;
            if !matches!(outcome, Outcome::Defer) {
                self.deferred.remove(&abs);
            }
            if !matches!(outcome, Outcome::Gone) {
                // Back (renamed back, or never really gone): nothing to remove.
                self.held_gone.remove(&rel);
            }
            match outcome {
                Outcome::Unchanged | Outcome::Skip => {}
                Outcome::Defer => {
                    self.deferred
                        .entry(abs.clone())
                        .or_insert_with(std::time::Instant::now);
                    deferred.push(abs)
                }
                Outcome::Gone => {
                    if let Some(t) = self.tracked.get(&rel) {
                        gone.push((rel, t.sha256.clone()));
                    }
                }
                other => found.push((rel, other)),
            }
        }
        // A path gone and a new path with the same bytes in the same look: a move.
        let mut gone_by_sha: HashMap<String, Vec<String>> = HashMap::new();
        let held: Vec<(String, Option<String>)> = self
            .held_gone
            .iter()
            .filter(|(path, _)| !gone.iter().any(|(g, _)| g == *path))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect();
        for (path, sha) in held.iter().chain(&gone) {
            if let Some(sha) = sha {
                gone_by_sha
                    .entry(sha.clone())
                    .or_default()
                    .push(path.clone());
            }
        }
        let mut moved_from = BTreeSet::new();
        for (rel, outcome) in found {
            match outcome {
                Outcome::Version(stat, sha, bytes) => {
                    let from = if self.tracked.contains_key(&rel) {
                        None
                    } else {
                        gone_by_sha.get_mut(&sha).and_then(|v| v.pop())
                    };
                    if let Some(from) = from {
                        let record = self.tracked.remove(&from);
                        self.held_gone.remove(&from);
                        moved_from.insert(from.clone());
                        if let Some(mut t) = record {
                            t.stat = stat;
                            self.tracked.insert(rel.clone(), t);
                        }
                        jobs.push(Job::Moved {
                            from,
                            to: rel,
                            sha256: sha,
                            stat,
                        });
                    } else {
                        let previous_sha256 = self.tracked.get(&rel).and_then(|t| t.sha256.clone());
                        self.tracked.insert(
                            rel.clone(),
                            Tracked {
                                stat,
                                sha256: Some(sha.clone()),
                                status: FileStatus::Ingested,
                                fail_kind: None,
                            },
                        );
                        jobs.push(Job::Version(FileVersion {
                            path: rel,
                            stat,
                            sha256: sha,
                            bytes,
                            previous_sha256,
                            permit: None,
                        }));
                    }
                }
                Outcome::Restat(stat) => {
                    if let Some(t) = self.tracked.get_mut(&rel) {
                        t.stat = stat;
                    }
                    jobs.push(Job::Restat { path: rel, stat });
                }
                Outcome::Failed(failure) => {
                    self.remember_failure(&failure);
                    jobs.push(Job::Failed(failure));
                }
                Outcome::Unchanged | Outcome::Skip | Outcome::Gone | Outcome::Defer => {}
            }
        }
        // A file handed back to settle may be where a gone one went (a move of a fresh file):
        // hold the removals back with it, so both are looked at again in one batch.
        let hold_removals = !deferred.is_empty();
        for (path, sha256) in gone {
            if moved_from.contains(&path) {
                continue;
            }
            if hold_removals {
                self.held_gone.insert(path.clone(), sha256);
                deferred.push(self.root.join(&path));
                continue;
            }
            // In the daemon, a removal with nothing to pair it with waits one more settle: the
            // other half of a move may come in the next look.
            if self.defer_recent.is_some() && !self.held_gone.contains_key(&path) {
                self.held_gone.insert(path.clone(), sha256);
                deferred.push(self.root.join(&path));
                continue;
            }
            self.held_gone.remove(&path);
            self.tracked.remove(&path);
            jobs.push(Job::Removed { path, sha256 });
        }
        Detected { jobs, deferred }
    }

    fn inspect(&self, rel: &str, cand: &Candidate) -> Outcome {
        let (abs, source) = (cand.abs.as_path(), cand.source);
        let previous = self.tracked.get(rel);
        let meta = match std::fs::metadata(abs) {
            Ok(m) => m,
            // Gone, or a link whose target is gone: nothing to read.
            Err(e) if e.kind() == ErrorKind::NotFound => return Outcome::Gone,
            Err(e) => {
                let failure = io_failure(rel, FailStage::Stat, &e, None);
                // The same failure already reported: stay quiet until something changes.
                if previous.and_then(|p| p.fail_kind.as_deref()) == Some(failure.kind.as_str()) {
                    return Outcome::Unchanged;
                }
                // Remember it by its link's identity, so a rescan does not report it again.
                let stat = std::fs::symlink_metadata(abs).ok().map(|m| identity(&m));
                return Outcome::Failed(Failure { stat, ..failure });
            }
        };
        if meta.is_dir() {
            return Outcome::Skip;
        }
        let stat = identity(&meta);
        if let Some(p) = previous {
            // A file refused as too large is looked at again once it fits (after
            // pipeline.max_file_bytes was raised).
            let fits_now = p.fail_kind.as_deref() == Some(FailKind::TooLarge.as_str())
                && stat.size <= self.max_file_bytes;
            if p.stat == stat && !fits_now {
                return Outcome::Unchanged;
            }
        }
        if cand.bad_name {
            return self.refused(
                rel,
                previous,
                stat,
                FailKind::BadName,
                "the file name is not valid UTF-8 (its undecodable bytes are written \\xNN in this \
                 event's path); rename the file to ingest it"
                    .into(),
            );
        }
        if meta.is_file() {
            let deferred_again = self
                .deferred
                .get(abs)
                .is_some_and(|since| since.elapsed() < self.defer_max);
            let walked = matches!(source, Source::Walk | Source::NewFolder);
            if (walked || deferred_again) && self.is_being_written(&meta) {
                return Outcome::Defer;
            }
            // A new file in a new folder waits one settle (in the daemon), so that if it was
            // moved there, the old name's removal is seen first and the two are paired as a move.
            if source == Source::NewFolder
                && previous.is_none()
                && self.defer_recent.is_some()
                && !self.deferred.contains_key(abs)
                && self.held_gone.is_empty()
            {
                return Outcome::Defer;
            }
        }
        let keep = self.kept.get() + stat.size <= self.keep_max;
        match self.read(abs, rel, stat, keep) {
            ReadOutcome::Done(read) => {
                if let Some(p) = previous {
                    // Same bytes: a touch.
                    if p.sha256.as_deref() == Some(read.sha256.as_str()) {
                        return Outcome::Restat(read.stat);
                    }
                }
                match read.content {
                    Content::Bytes(bytes) => {
                        self.kept.set(self.kept.get() + bytes.len() as u64);
                        Outcome::Version(read.stat, read.sha256, Some(bytes))
                    }
                    Content::Unread => Outcome::Version(read.stat, read.sha256, None),
                }
            }
            ReadOutcome::Refused(kind, message) => self.refused(rel, previous, stat, kind, message),
            ReadOutcome::Failed(failure) if failure.kind == FailKind::Vanished => {
                if previous.is_some() {
                    Outcome::Gone
                } else {
                    Outcome::Skip
                }
            }
            ReadOutcome::Failed(failure)
                if failure.kind == FailKind::Changing && self.defer_recent.is_some() =>
            {
                Outcome::Defer
            }
            ReadOutcome::Failed(failure) => Outcome::Failed(*failure),
        }
    }

    /// A path that is not read: reported once, then only its new identity is recorded.
    fn refused(
        &self,
        rel: &str,
        previous: Option<&Tracked>,
        stat: StatIdentity,
        kind: FailKind,
        message: String,
    ) -> Outcome {
        if previous.and_then(|p| p.fail_kind.as_deref()) == Some(kind.as_str()) {
            return Outcome::Restat(stat);
        }
        let stage = if kind == FailKind::TooLarge {
            FailStage::Read
        } else {
            FailStage::Stat
        };
        Outcome::Failed(Failure {
            path: rel.to_string(),
            stage,
            kind,
            message,
            sha256: None,
            stat: Some(stat),
        })
    }

    /// Reads and hashes the file at `abs` through the fence, when it may be read and fits.
    fn read(&self, abs: &Path, rel: &str, stat: StatIdentity, keep: bool) -> ReadOutcome {
        let opened = match self.fence.open(abs, rel) {
            Ok(o) => o,
            Err(Denied::Refused(r)) => return ReadOutcome::Refused(r.kind(), r.message()),
            Err(Denied::Io(e)) => {
                return ReadOutcome::Failed(Box::new(io_failure(
                    rel,
                    FailStage::Read,
                    &e,
                    Some(stat),
                )))
            }
        };
        let size = opened.meta.len();
        if size > self.max_file_bytes {
            return ReadOutcome::Refused(
                FailKind::TooLarge,
                too_large_message(size, self.max_file_bytes),
            );
        }
        let started = std::time::Instant::now();
        let read = read_version(opened, rel, self.max_file_bytes, keep);
        self.reads.observe(started.elapsed().as_secs_f64());
        match read {
            Ok(read) => ReadOutcome::Done(read),
            Err(failure) if failure.kind == FailKind::TooLarge => {
                ReadOutcome::Refused(FailKind::TooLarge, failure.message)
            }
            Err(failure) => ReadOutcome::Failed(failure),
        }
    }
}

/// What reading a path came to.
enum ReadOutcome {
    Done(ReadVersion),
    /// Not read: the fence refused it, or it is over the size limit.
    Refused(FailKind, String),
    Failed(Box<Failure>),
}

fn too_large_message(size: u64, max: u64) -> String {
    format!(
        "{size} bytes is over pipeline.max_file_bytes ({max}); the file is not read (nor hashed); \
         raise that setting to ingest it"
    )
}

impl Detector {
    /// Makes sure a version holds its bytes, reading the file again when the look did not keep
    /// them. If the file changed meanwhile, the version becomes what was read now (and the index
    /// follows), so what is committed is always bytes that were really there.
    pub fn load(&mut self, mut v: FileVersion) -> Job {
        if v.bytes.is_some() {
            return Job::Version(v);
        }
        let abs = self.root.join(&v.path);
        let read = match self.read(&abs, &v.path, v.stat, true) {
            ReadOutcome::Done(read) => read,
            ReadOutcome::Refused(kind, message) => {
                let failure = Failure {
                    path: v.path,
                    stage: if kind == FailKind::TooLarge {
                        FailStage::Read
                    } else {
                        FailStage::Stat
                    },
                    kind,
                    message,
                    sha256: None,
                    stat: Some(v.stat),
                };
                self.remember_failure(&failure);
                return Job::Failed(failure);
            }
            ReadOutcome::Failed(failure)
                if failure.kind == FailKind::Vanished && v.previous_sha256.is_some() =>
            {
                self.tracked.remove(&v.path);
                return Job::Removed {
                    path: v.path,
                    sha256: v.previous_sha256,
                };
            }
            ReadOutcome::Failed(failure) => {
                self.remember_failure(&failure);
                return Job::Failed(*failure);
            }
        };
        let (sha, stat) = (read.sha256, read.stat);
        let Content::Bytes(bytes) = read.content else {
            unreachable!("a read that keeps its bytes returns them")
        };
        if v.previous_sha256.as_ref() == Some(&sha) {
            // Reverted to the committed bytes since the look: nothing to emit.
            if let Some(t) = self.tracked.get_mut(&v.path) {
                t.sha256 = Some(sha);
                t.stat = stat;
                t.status = FileStatus::Ingested;
                t.fail_kind = None;
            }
            return Job::Restat { path: v.path, stat };
        }
        if sha != v.sha256 || stat != v.stat {
            if let Some(t) = self.tracked.get_mut(&v.path) {
                t.sha256 = Some(sha.clone());
                t.stat = stat;
            }
            v.sha256 = sha;
            v.stat = stat;
        }
        v.bytes = Some(bytes);
        Job::Version(v)
    }

    /// Keeps a failed path in the index with its failure, as the commit will record it, so the
    /// same failure is not reported again until something changes. A path that vanished is
    /// simply forgotten.
    fn remember_failure(&mut self, failure: &Failure) {
        if failure.kind == FailKind::Vanished {
            self.tracked.remove(&failure.path);
            return;
        }
        self.tracked.insert(
            failure.path.clone(),
            Tracked {
                stat: failure.stat.unwrap_or_default(),
                sha256: failure.sha256.clone(),
                status: FileStatus::Failed,
                fail_kind: Some(failure.kind.as_str().to_string()),
            },
        );
    }

    /// Modified within `defer_recent` (and not stamped far in the future): a walk caught it
    /// mid-write, and its own notifications will say when it is done.
    fn is_being_written(&self, meta: &Metadata) -> bool {
        let (Some(quiet), Ok(mtime)) = (self.defer_recent, meta.modified()) else {
            return false;
        };
        let now = std::time::SystemTime::now();
        match now.duration_since(mtime) {
            Ok(age) => age < quiet,
            Err(ahead) => ahead.duration() < std::time::Duration::from_secs(1),
        }
    }
}

/// The identity of a file on disk, from its metadata.
pub fn identity(m: &Metadata) -> StatIdentity {
    StatIdentity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: m
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(m.mtime_nsec()),
        ctime_ns: m
            .ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(m.ctime_nsec()),
    }
}

/// What a read kept of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    /// Not kept now (the batch's memory is spent): read again later.
    Unread,
}

/// One read of a file: its sha256, the identity it had while read, and its bytes if kept.
#[derive(Debug)]
pub struct ReadVersion {
    pub sha256: String,
    pub stat: StatIdentity,
    pub content: Content,
}

/// Times a file is read again when it changed while it was read.
const READ_ATTEMPTS: usize = 3;

/// Reads and hashes an opened file in one pass, at most `max_bytes` of it. Keeps the bytes when
/// `keep`. The identity is checked before and after: a file that changed while it was read is
/// read again (from the start), so the hash is always of bytes that were really there at one
/// moment; after [`READ_ATTEMPTS`] it is a `changing` failure.
pub fn read_version(
    opened: fence::Opened,
    rel: &str,
    max_bytes: u64,
    keep: bool,
) -> Result<ReadVersion, Box<Failure>> {
    let mut file = opened.file;
    let mut before = identity(&opened.meta);
    let mut result = Err(Box::new(Failure {
        path: rel.to_string(),
        stage: FailStage::Read,
        kind: FailKind::Changing,
        message: format!(
            "the file changed every time it was read ({READ_ATTEMPTS} times); it is read again \
             when it changes next"
        ),
        sha256: None,
        stat: Some(before),
    }));
    for attempt in 0..READ_ATTEMPTS {
        if attempt > 0 {
            use std::io::Seek;
            if let Err(e) = file.seek(std::io::SeekFrom::Start(0)) {
                result = Err(Box::new(io_failure(rel, FailStage::Read, &e, Some(before))));
                break;
            }
        }
        let read = hash_bounded(&mut file, rel, before, max_bytes, keep);
        let after = match file.metadata() {
            Ok(m) => identity(&m),
            Err(e) => {
                result = Err(Box::new(io_failure(rel, FailStage::Read, &e, Some(before))));
                break;
            }
        };
        let read = match read {
            Ok(r) => r,
            Err(f) => {
                result = Err(f);
                break;
            }
        };
        if after == before {
            result = Ok(ReadVersion {
                sha256: read.0,
                stat: after,
                content: read.1,
            });
            break;
        }
        tracing::debug!(
            path = rel,
            attempt,
            "changed while it was read: reading it again"
        );
        before = after;
    }
    result
}

/// sha256 of at most `max_bytes` of `file`, and the bytes when `keep`. More than that is a
/// `too_large` failure (a file that grew while it was read, or one that never ends).
fn hash_bounded(
    file: &mut File,
    rel: &str,
    stat: StatIdentity,
    max_bytes: u64,
    keep: bool,
) -> Result<(String, Content), Box<Failure>> {
    let fail = |e: std::io::Error| Box::new(io_failure(rel, FailStage::Read, &e, Some(stat)));
    let mut hasher = Sha256::new();
    let mut limited = file.take(max_bytes.saturating_add(1));
    let mut total = 0u64;
    let content = if keep {
        let mut bytes = Vec::with_capacity((stat.size.min(max_bytes) as usize).min(64 << 20) + 1);
        limited.read_to_end(&mut bytes).map_err(fail)?;
        hasher.update(&bytes);
        total = bytes.len() as u64;
        Content::Bytes(bytes)
    } else {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            };
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        Content::Unread
    };
    if total > max_bytes {
        return Err(Box::new(Failure {
            path: rel.to_string(),
            stage: FailStage::Read,
            kind: FailKind::TooLarge,
            message: format!(
                "the file grew over pipeline.max_file_bytes ({max_bytes}) while it was read; \
                 raise that setting to ingest it"
            ),
            sha256: None,
            stat: Some(stat),
        }));
    }
    Ok((hex::encode(hasher.finalize()), content))
}

/// Streaming sha256 of a whole file (for benchmarks and tools).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

const ENAMETOOLONG: i32 = 36;

fn io_failure(
    rel: &str,
    stage: FailStage,
    e: &std::io::Error,
    stat: Option<StatIdentity>,
) -> Failure {
    let (kind, what) = match e.kind() {
        ErrorKind::NotFound => (
            FailKind::Vanished,
            "the file vanished before it could be read",
        ),
        ErrorKind::PermissionDenied => (
            FailKind::PermissionDenied,
            "sluice may not read this file; grant read permission and it is picked up",
        ),
        _ if e.raw_os_error() == Some(ELOOP) => (
            FailKind::SymlinkLoop,
            "the path is a symbolic link that loops back on itself",
        ),
        _ if e.raw_os_error() == Some(ENAMETOOLONG) => (
            FailKind::PathTooLong,
            "the path is longer than the kernel accepts (ENAMETOOLONG), so nothing there can be read; \
             move it higher up the folder tree to ingest it",
        ),
        _ => (FailKind::IoError, "reading the file failed"),
    };
    Failure {
        path: rel.to_string(),
        stage,
        kind,
        message: format!("{what} ({e})"),
        sha256: None,
        stat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector_with(root: &Path, max_file_bytes: u64) -> Detector {
        let root = std::fs::canonicalize(root).unwrap();
        let own = fence::OwnFiles::new(&root.join("out/events.ndjson"), &root.join("out/s.db"));
        let filter = PathFilter::new(&["**".into()], &[], own.clone()).unwrap();
        let fence = Fence::new(root.clone(), crate::config::SymlinkPolicy::Inside, own);
        Detector::new(root, filter, fence, Vec::new(), max_file_bytes)
    }

    fn detector(root: &Path) -> Detector {
        detector_with(root, 1024)
    }

    fn kinds(jobs: &[Job]) -> Vec<String> {
        jobs.iter()
            .map(|j| match j {
                Job::Version(v) if v.previous_sha256.is_some() => format!("changed {}", v.path),
                Job::Version(v) => format!("added {}", v.path),
                Job::Moved { from, to, .. } => format!("moved {from} {to}"),
                Job::Removed { path, .. } => format!("removed {path}"),
                Job::Restat { path, .. } => format!("restat {path}"),
                Job::Failed(f) => format!("failed {} {}", f.kind, f.path),
            })
            .collect()
    }

    #[test]
    fn add_touch_change_move_remove() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root);
        std::fs::write(root.join("a.txt"), "one").unwrap();
        assert_eq!(kinds(&d.reconcile().jobs), ["added a.txt"]);
        assert!(
            d.reconcile().jobs.is_empty(),
            "nothing changed, nothing to do"
        );

        let f = File::options()
            .write(true)
            .open(root.join("a.txt"))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(
            kinds(&d.reconcile().jobs),
            ["restat a.txt"],
            "touch: same bytes"
        );

        std::fs::write(root.join("a.txt"), "two").unwrap();
        assert_eq!(kinds(&d.reconcile().jobs), ["changed a.txt"]);

        std::fs::rename(root.join("a.txt"), root.join("b.txt")).unwrap();
        assert_eq!(kinds(&d.reconcile().jobs), ["moved a.txt b.txt"]);

        std::fs::remove_file(root.join("b.txt")).unwrap();
        assert_eq!(kinds(&d.reconcile().jobs), ["removed b.txt"]);
    }

    #[test]
    fn delete_and_recreate_with_new_content_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root);
        std::fs::write(root.join("a.txt"), "one").unwrap();
        d.reconcile();
        std::fs::remove_file(root.join("a.txt")).unwrap();
        std::fs::write(root.join("a.txt"), "uno").unwrap();
        assert_eq!(
            kinds(&d.detect_paths([root.join("a.txt")]).jobs),
            ["changed a.txt"]
        );
    }

    #[test]
    fn a_removed_folder_removes_everything_tracked_below_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root);
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        std::fs::write(root.join("x/y/1.txt"), "1").unwrap();
        std::fs::write(root.join("x/2.txt"), "2").unwrap();
        std::fs::write(root.join("x0.txt"), "3").unwrap();
        assert_eq!(
            d.detect_paths([root.join("x"), root.join("x0.txt")])
                .jobs
                .len(),
            3
        );
        std::fs::remove_dir_all(root.join("x")).unwrap();
        assert_eq!(
            kinds(&d.detect_paths([root.join("x")]).jobs),
            ["removed x/2.txt", "removed x/y/1.txt"]
        );
    }

    #[test]
    fn a_walk_hands_back_files_still_being_written_but_settled_paths_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root).defer_recent(
            std::time::Duration::from_secs(30),
            std::time::Duration::from_millis(200),
        );
        std::fs::create_dir_all(root.join("new")).unwrap();
        std::fs::write(root.join("new/fresh.txt"), "half of it").unwrap();
        let found = d.detect_paths([root.join("new")]);
        assert!(found.jobs.is_empty());
        assert_eq!(found.deferred, vec![root.join("new/fresh.txt")]);
        // Back from settle and still fresh: handed back again, up to the longest wait.
        let found = d.detect_paths([root.join("new/fresh.txt")]);
        assert_eq!(found.deferred, vec![root.join("new/fresh.txt")]);
        std::thread::sleep(std::time::Duration::from_millis(250));
        let found = d.detect_paths([root.join("new/fresh.txt")]);
        assert_eq!(kinds(&found.jobs), ["added new/fresh.txt"]);
        // A fresh file moved while a walk looks: the removal waits for the deferred file, and
        // the two pair up as a move when they come back together.
        std::fs::rename(root.join("new/fresh.txt"), root.join("new/renamed.txt")).unwrap();
        let found = d.reconcile();
        assert!(found.jobs.is_empty());
        assert_eq!(found.deferred.len(), 2);
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert_eq!(
            kinds(&d.detect_paths(found.deferred).jobs),
            ["moved new/fresh.txt new/renamed.txt"]
        );
    }

    #[test]
    fn a_version_not_kept_is_loaded_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root);
        std::fs::write(root.join("a.txt"), "first").unwrap();
        let Job::Version(mut v) = d.reconcile().jobs.remove(0) else {
            panic!("expected a version")
        };
        v.bytes = None; // as if the look had run out of memory to keep it
        std::fs::write(root.join("a.txt"), "second").unwrap();
        let Job::Version(v) = d.load(v) else {
            panic!("expected a version")
        };
        assert_eq!(v.bytes.as_deref(), Some(&b"second"[..]));
        assert_eq!(v.sha256, sha256_file(&root.join("a.txt")).unwrap());
        assert!(
            d.reconcile().jobs.is_empty(),
            "the index follows what was loaded"
        );
        std::fs::remove_file(root.join("a.txt")).unwrap();
        let v = FileVersion {
            path: "a.txt".into(),
            stat: StatIdentity::default(),
            sha256: "x".into(),
            bytes: None,
            previous_sha256: None,
            permit: None,
        };
        assert!(matches!(d.load(v), Job::Failed(f) if f.kind == FailKind::Vanished));
    }

    #[test]
    fn files_over_the_limit_are_not_read_and_are_taken_once_the_limit_is_raised() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut d = detector(root);
        std::fs::write(root.join("big.txt"), vec![b'a'; 4096]).unwrap();
        let jobs = d.reconcile().jobs;
        assert_eq!(kinds(&jobs), ["failed too_large big.txt"]);
        let Job::Failed(f) = &jobs[0] else { panic!() };
        assert_eq!(f.sha256, None, "not even hashed");
        assert!(
            d.reconcile().jobs.is_empty(),
            "the same failure is not reported twice"
        );
        // The next start, with the limit raised: the same file, unchanged, is read now.
        let tracked: Vec<(String, Tracked)> = d.tracked.clone().into_iter().collect();
        let mut d = detector_with(root, 8192);
        d.tracked = tracked.into_iter().collect();
        assert_eq!(kinds(&d.reconcile().jobs), ["added big.txt"]);
    }

    #[test]
    fn special_files_links_outside_and_bad_names_fail_once_each() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("w");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(dir.path().join("secret"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link.txt")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status()
            .unwrap();
        assert!(fifo.success());
        let bad = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(root.join(bad), "bytes").unwrap();
        let mut d = detector(&root);
        let jobs = d.reconcile().jobs;
        assert_eq!(
            kinds(&jobs),
            [
                "failed bad_name caf\\xE9.txt",
                "failed outside_watch link.txt",
                "failed special_file pipe"
            ]
        );
        for job in &jobs {
            let Job::Failed(f) = job else { panic!() };
            assert_eq!(f.sha256, None, "nothing behind {} was read", f.path);
        }
        assert!(d.reconcile().jobs.is_empty(), "each is reported once");
        // The link's target changes: still refused, and not reported again.
        std::fs::write(dir.path().join("secret"), "another secret").unwrap();
        assert!(d
            .reconcile()
            .jobs
            .iter()
            .all(|j| matches!(j, Job::Restat { .. })));
        std::fs::remove_file(root.join(bad)).unwrap();
        assert_eq!(kinds(&d.reconcile().jobs), ["removed caf\\xE9.txt"]);
    }
}
