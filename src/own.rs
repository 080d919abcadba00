//! sluice's own files: its event log (the live file, its rotated parts, its lock) and its state
//! database (with its side files and lock). Never ingested, whatever name leads to them: the
//! watcher's filter skips them by name when they sit in the watched folder, and the fence
//! (`detect::fence`) refuses any path that leads to one.

use std::collections::HashSet;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// sluice's own files: never ingested, whatever name leads to them.
#[derive(Debug)]
pub struct OwnFiles {
    /// Canonical paths: the log and its lock, the state database, its side files and its lock.
    names: Vec<PathBuf>,
    /// The log's folder (canonical), stem and extension: rotated parts are `<stem>-<20 digits>.<ext>`
    /// there.
    log_dir: PathBuf,
    log_stem: String,
    log_ext: String,
    /// (device, inode) of every file the log has been: the live file and its rotated parts.
    ids: Mutex<HashSet<(u64, u64)>>,
}

impl OwnFiles {
    /// sluice's files for this log and state; the rotated parts already beside the log are
    /// recognized by their identities from now on.
    pub fn new(output: &Path, state: &Path) -> Arc<OwnFiles> {
        let output = canonical(output);
        let state = canonical(state);
        let mut names = vec![output.clone(), with_suffix(&output, ".lock"), state.clone()];
        for suffix in ["-wal", "-shm", "-journal", ".lock"] {
            names.push(with_suffix(&state, suffix));
        }
        let own = OwnFiles {
            names,
            log_dir: output.parent().map(Path::to_path_buf).unwrap_or_default(),
            log_stem: output
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            log_ext: output
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default(),
            ids: Mutex::new(HashSet::new()),
        };
        for path in [&output, &state] {
            if let Ok(m) = std::fs::metadata(path) {
                own.note(m.dev(), m.ino());
            }
        }
        if let Ok(entries) = std::fs::read_dir(&own.log_dir) {
            for entry in entries.flatten() {
                if own.is_part_name(&entry.path()) {
                    if let Ok(m) = std::fs::metadata(entry.path()) {
                        own.note(m.dev(), m.ino());
                    }
                }
            }
        }
        Arc::new(own)
    }

    /// Records one more identity of the log (a new live file after a rotation).
    pub fn note(&self, dev: u64, ino: u64) {
        self.ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((dev, ino));
    }

    fn has_id(&self, dev: u64, ino: u64) -> bool {
        self.ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(dev, ino))
    }

    /// Whether `path` has the name of one of the log's rotated parts (`<stem>-<20 digits><ext>`
    /// in the log's folder).
    fn is_part_name(&self, path: &Path) -> bool {
        if path.parent() != Some(self.log_dir.as_path()) {
            return false;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        name.strip_prefix(self.log_stem.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(self.log_ext.as_str()))
            .is_some_and(|digits| digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Whether the file at `abs` (a canonical path as the filter sees it) is one of sluice's:
    /// by name for the log, the state and their side files; by identity for rotated parts.
    pub fn is_own_path(&self, abs: &Path) -> bool {
        if self.names.iter().any(|p| p == abs) {
            return true;
        }
        self.is_part_name(abs)
            && std::fs::symlink_metadata(abs).is_ok_and(|m| self.has_id(m.dev(), m.ino()))
    }

    /// Whether a file found at its real path `real` with metadata `meta` is one of sluice's.
    pub fn is_own(&self, real: &Path, meta: &Metadata) -> bool {
        self.names.iter().any(|p| p == real) || self.has_id(meta.dev(), meta.ino())
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The canonical form of `p` (links and `..` resolved) when it exists; else its parent's
/// canonical form joined with its name; else its absolute form.
pub fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|c| c.join(name))
            .unwrap_or(abs),
        _ => abs,
    }
}
