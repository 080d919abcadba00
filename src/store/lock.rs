//! Exclusive locks that keep a second sluice off a file: `<file>.lock` beside it, held with
//! `flock` for as long as the process runs (the kernel drops it when the process dies, so a
//! `kill -9` never leaves a stale lock).
//!
//! The state database and the event log each have one: two daemons with one state would commit
//! over each other, and two daemons with different states but one log would interleave and cut
//! each other's lines.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Holds a lock file for as long as it lives.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("{0}")]
    Held(PathBuf),
    #[error("lock file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// `<file>.lock`.
pub fn lock_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Takes the exclusive lock of `file` without waiting.
pub fn exclusive(file: &Path) -> Result<Lock, LockError> {
    let path = lock_path(file);
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match lock.try_lock() {
        Ok(()) => Ok(Lock { _file: lock }),
        Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held(file.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(io(source)),
    }
}

/// Whether another process holds the lock of `file`.
pub fn is_held(file: &Path) -> bool {
    File::open(lock_path(file))
        .map(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("events.ndjson");
        let first = exclusive(&file).unwrap();
        assert!(matches!(exclusive(&file), Err(LockError::Held(_))));
        assert!(is_held(&file));
        drop(first);
        assert!(!is_held(&file));
        exclusive(&file).unwrap();
    }
}
