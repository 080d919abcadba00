//! The durable append log: `events.ndjson`, written by one writer.
//!
//! Bytes are appended and synced (per `output.fsync`) before the state records the new end; on
//! start the file is cut back to the recorded end, so a torn line or an uncommitted batch never
//! survives a crash. At `output.rotate_bytes` the file is renamed `events-<first sequence>.ndjson`
//! and a new one is started under the old name, which `tail -F` follows.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Fsync;
use crate::store::LogState;

pub struct EventLog {
    path: PathBuf,
    file: File,
    state: LogState,
    fsync: Fsync,
    fsync_interval: Duration,
    last_sync: Instant,
    unsynced: bool,
    rotate_bytes: u64,
}

/// What opening the log found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    Clean,
    /// Uncommitted bytes past the committed end were cut off.
    CutTail(u64),
    /// A rotation had happened but was not yet recorded; the state must record `LogState` now.
    FinishedRotation,
    /// The file is shorter than the state says (it was truncated by hand, or lost unsynced data).
    Shorter {
        expected: u64,
        found: u64,
    },
}

impl EventLog {
    /// Opens the log at its committed end. The returned state is the one to continue from (it
    /// differs from `committed` only after an unrecorded rotation or a shortened file).
    pub fn open(
        path: &Path,
        committed: LogState,
        fsync: Fsync,
        fsync_interval: Duration,
        rotate_bytes: u64,
    ) -> std::io::Result<(EventLog, LogState, Recovery)> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        let mut state = committed;
        let recovery = if len > committed.offset {
            file.set_len(committed.offset)?;
            file.sync_all()?;
            Recovery::CutTail(len - committed.offset)
        } else if len < committed.offset {
            let rotated = rotated_path(path, committed.file_first_seq);
            if rotated.exists() && len == 0 {
                state = LogState {
                    file_first_seq: committed.next_seq,
                    offset: 0,
                    next_seq: committed.next_seq,
                };
                Recovery::FinishedRotation
            } else {
                // Keep only whole lines: a line cut in the middle is dropped with the rest.
                let whole = end_of_last_line(&file, len)?;
                file.set_len(whole)?;
                file.sync_all()?;
                state.offset = whole;
                Recovery::Shorter {
                    expected: committed.offset,
                    found: whole,
                }
            }
        } else {
            Recovery::Clean
        };
        let mut log = EventLog {
            path: path.to_path_buf(),
            file,
            state,
            fsync,
            fsync_interval,
            last_sync: Instant::now(),
            unsynced: false,
            rotate_bytes,
        };
        log.file.seek(SeekFrom::Start(state.offset))?;
        Ok((log, state, recovery))
    }

    pub fn state(&self) -> LogState {
        self.state
    }

    /// Appends complete lines holding `lines` events; returns the state to commit. On error the
    /// file is cut back to where it was, so the caller can retry or stop cleanly.
    pub fn append(&mut self, bytes: &[u8], lines: u64) -> std::io::Result<LogState> {
        self.write(bytes, lines, true)
    }

    /// Appends complete lines without syncing them, whatever `output.fsync` says: the caller
    /// syncs them through [`EventLog::sync_handle`] before it commits the state this returns.
    /// On error the file is cut back to where it was.
    pub fn append_unsynced(&mut self, bytes: &[u8], lines: u64) -> std::io::Result<LogState> {
        self.write(bytes, lines, false)
    }

    /// A second handle on the live file, to sync it from another thread while lines go on being
    /// appended through this one; a sync covers every line written before it started.
    pub fn sync_handle(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }

    fn write(&mut self, bytes: &[u8], lines: u64, sync: bool) -> std::io::Result<LogState> {
        let synced = |log: &mut Self| if sync { log.sync_if_due() } else { Ok(()) };
        if let Err(e) = self.file.write_all(bytes).and_then(|_| synced(self)) {
            let _ = self.file.set_len(self.state.offset);
            let _ = self.file.seek(SeekFrom::Start(self.state.offset));
            return Err(e);
        }
        self.state.offset += bytes.len() as u64;
        self.state.next_seq += lines;
        Ok(self.state)
    }

    fn sync_if_due(&mut self) -> std::io::Result<()> {
        match self.fsync {
            Fsync::Always => self.file.sync_data(),
            Fsync::Interval => {
                self.unsynced = true;
                self.sync_if_interval_passed()
            }
            Fsync::Never => Ok(()),
        }
    }

    /// With `fsync = interval`: syncs when the interval has passed since the last sync.
    pub fn sync_if_interval_passed(&mut self) -> std::io::Result<()> {
        if self.unsynced && self.last_sync.elapsed() >= self.fsync_interval {
            self.sync_now()?;
        }
        Ok(())
    }

    pub fn sync_now(&mut self) -> std::io::Result<()> {
        self.file.sync_data()?;
        self.unsynced = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Rotates when the file has reached `rotate_bytes`; returns the state to commit then.
    pub fn rotate_if_full(&mut self) -> std::io::Result<Option<LogState>> {
        if self.state.offset < self.rotate_bytes {
            return Ok(None);
        }
        self.sync_now()?;
        let rotated = rotated_path(&self.path, self.state.file_first_seq);
        std::fs::rename(&self.path, &rotated)?;
        self.file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)?;
        if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        self.state = LogState {
            file_first_seq: self.state.next_seq,
            offset: 0,
            next_seq: self.state.next_seq,
        };
        tracing::info!(rotated = %rotated.display(), "event log rotated");
        Ok(Some(self.state))
    }
}

/// The length of `file`'s first `len` bytes up to and including its last `\n` (0 if none).
fn end_of_last_line(file: &File, len: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// `events.ndjson` rotated at first sequence N is `events-<N, 20 digits>.ndjson`.
pub fn rotated_path(path: &Path, first_seq: u64) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "events".into());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{first_seq:020}{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> LogState {
        LogState {
            file_first_seq: 1,
            offset: 0,
            next_seq: 1,
        }
    }

    #[test]
    fn an_uncommitted_tail_is_cut_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, rec) =
            EventLog::open(&path, start(), Fsync::Always, Duration::ZERO, 1 << 20).unwrap();
        assert_eq!(rec, Recovery::Clean);
        let committed = log.append(b"{\"a\":1}\n", 1).unwrap();
        log.append(b"{\"b\":2}\n{\"torn", 1).unwrap();
        drop(log);
        let (_, state, rec) =
            EventLog::open(&path, committed, Fsync::Always, Duration::ZERO, 1 << 20).unwrap();
        assert_eq!(rec, Recovery::CutTail(14));
        assert_eq!(state, committed);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n");
    }

    #[test]
    fn a_log_shorter_than_committed_keeps_only_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) =
            EventLog::open(&path, start(), Fsync::Always, Duration::ZERO, 1 << 20).unwrap();
        log.append(b"{\"a\":1}\n", 1).unwrap();
        let committed = log.append(b"{\"b\":2}\n", 1).unwrap();
        drop(log);
        // Lost its last 3 bytes (unsynced data after a power loss, or a truncation by hand).
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(committed.offset - 3).unwrap();
        let (_, state, rec) =
            EventLog::open(&path, committed, Fsync::Always, Duration::ZERO, 1 << 20).unwrap();
        assert_eq!(
            rec,
            Recovery::Shorter {
                expected: 16,
                found: 8
            }
        );
        assert_eq!(state.offset, 8);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n");
    }

    #[test]
    fn rotation_renames_with_the_first_sequence_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) =
            EventLog::open(&path, start(), Fsync::Never, Duration::ZERO, 4096).unwrap();
        log.append(&vec![b'x'; 4095], 3).unwrap();
        assert_eq!(log.rotate_if_full().unwrap(), None);
        log.append(b"\n", 1).unwrap();
        let state = log.rotate_if_full().unwrap().unwrap();
        assert_eq!(
            state,
            LogState {
                file_first_seq: 5,
                offset: 0,
                next_seq: 5
            }
        );
        assert_eq!(
            std::fs::metadata(dir.path().join("events-00000000000000000001.ndjson"))
                .unwrap()
                .len(),
            4096
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn a_rotation_that_was_not_recorded_is_finished_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) =
            EventLog::open(&path, start(), Fsync::Never, Duration::ZERO, 4096).unwrap();
        let committed = log.append(&vec![b'x'; 4096], 2).unwrap();
        log.rotate_if_full().unwrap();
        drop(log); // crash before the state recorded the rotation
        let (_, state, rec) =
            EventLog::open(&path, committed, Fsync::Never, Duration::ZERO, 4096).unwrap();
        assert_eq!(rec, Recovery::FinishedRotation);
        assert_eq!(
            state,
            LogState {
                file_first_seq: 3,
                offset: 0,
                next_seq: 3
            }
        );
    }
}
