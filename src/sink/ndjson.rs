//! The durable append log: `events.ndjson`, written by one writer.
//!
//! Bytes are appended and synced (per `output.fsync`) before the state records the new end; on
//! start the file is cut back to the recorded end, so a torn line or an uncommitted batch never
//! survives a crash. At `output.rotate_bytes` the file becomes `events-<first sequence>.ndjson`
//! and a new one is started under the old name, which `tail -F` follows.
//!
//! What the log never does, whatever it finds:
//! - **Cut what the state cannot prove uncommitted.** The state records which file the live log
//!   is (device and inode) besides its committed end; at start the file must be that file, and its
//!   last committed line must carry the sequence the state expects. A state that knows no log
//!   beside an existing one, a log that was replaced, deleted or shortened: sluice refuses to
//!   start and says what it found ([`LogError::Refused`]).
//! - **Replace a file.** A rotation links the live file to its part's name (which fails if that
//!   name exists), then swaps a new empty file in under the live name; the state records the new
//!   file durably before it receives a line. A crash anywhere in between is finished or rolled back
//!   at the next start, by what the state accounts for.
//! - **Share the file.** `<log>.lock` is held for as long as the log is open.
//! - **Write into a file someone else changed.** Before each write (and every second while idle)
//!   the file must still be the one opened, under its name, at the size sluice left it; else
//!   writing stops with [`LogError::Changed`].

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Fsync;
use crate::store::lock::{Lock, LockError};
use crate::store::{FileId, LogState};

pub struct EventLog {
    path: PathBuf,
    file: File,
    _lock: Lock,
    state: LogState,
    id: FileId,
    fsync: Fsync,
    fsync_interval: Duration,
    last_sync: Instant,
    unsynced: bool,
    rotate_bytes: u64,
}

/// What opening the log found and did. Every value but `Clean` and `CutTail` gives a state that
/// must be committed durably before the first line is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    Clean,
    /// A new log, for a state that had none.
    New,
    /// Uncommitted bytes past the committed end were cut off.
    CutTail(u64),
    /// A rotation had happened (or half happened) but was not yet recorded; it was finished.
    FinishedRotation,
    /// A rotation was under way when the state last committed, over lines the state does not
    /// account for: the part went back to being the live file, cut to its committed end.
    RolledBackRotation {
        cut: u64,
    },
    /// The file is shorter than the state says (lost unsynced data; only with `output.fsync`
    /// other than `always`): kept up to its last whole line.
    Shorter {
        expected: u64,
        found: u64,
    },
}

/// Why the log cannot be opened or written. Each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("event log {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another sluice writes the event log {0} (its lock file is locked); stop it first, or \
         give this one another output.file"
    )]
    Locked(String),
    #[error("event log {path}: {why}; nothing was changed")]
    Refused { path: String, why: String },
    #[error(
        "event log {path} {what} while sluice was writing it; sluice stopped writing so that no \
         line lands in a file it does not own (restore the file, or move the log and the state \
         aside to start a new log)"
    )]
    Changed { path: String, what: String },
    /// Reading or recording the log's state.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

impl LogError {
    fn io(path: &Path) -> impl Fn(std::io::Error) -> LogError + '_ {
        move |source| LogError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<LockError> for LogError {
    fn from(e: LockError) -> LogError {
        match e {
            LockError::Held(p) => LogError::Locked(p.display().to_string()),
            LockError::Io { path, source } => LogError::Io { path, source },
        }
    }
}

fn id_of(m: &std::fs::Metadata) -> FileId {
    FileId {
        dev: m.dev(),
        ino: m.ino(),
    }
}

/// What the log's folder holds: the live file and its rotated parts.
struct Found {
    live: Option<std::fs::Metadata>,
    /// (first sequence, path, metadata), by first sequence.
    parts: Vec<(u64, PathBuf, std::fs::Metadata)>,
}

impl Found {
    fn look(path: &Path) -> Result<Found, LogError> {
        let io = LogError::io(path);
        let live = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_file() => Some(m),
            Ok(_) => {
                return Err(LogError::Refused {
                    path: path.display().to_string(),
                    why: "it is not a regular file (a link, a folder or a device); point \
                          output.file at a file"
                        .into(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let mut parts = Vec::new();
        let dir = parent_dir(path);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found { live, parts }),
            Err(e) => return Err(io(e)),
        };
        for entry in entries {
            let entry = entry.map_err(&io)?;
            let p = entry.path();
            if let Some(first) = part_sequence(path, &p) {
                let m = std::fs::symlink_metadata(&p).map_err(&io)?;
                parts.push((first, p, m));
            }
        }
        parts.sort_by_key(|(first, _, _)| *first);
        Ok(Found { live, parts })
    }

    fn part(&self, first: u64) -> Option<&(u64, PathBuf, std::fs::Metadata)> {
        self.parts.iter().find(|(f, _, _)| *f == first)
    }

    fn live_len(&self) -> u64 {
        self.live.as_ref().map_or(0, |m| m.len())
    }
}

impl EventLog {
    /// Opens the log at its committed end (`committed`: the state's record, None when the state
    /// has never written a log). The returned state is the one to continue from; after any
    /// [`Recovery`] but `Clean` and `CutTail`, commit it durably before writing.
    pub fn open(
        path: &Path,
        committed: Option<LogState>,
        fsync: Fsync,
        fsync_interval: Duration,
        rotate_bytes: u64,
    ) -> Result<(EventLog, LogState, Recovery), LogError> {
        let io = LogError::io(path);
        std::fs::create_dir_all(parent_dir(path)).map_err(&io)?;
        let lock = crate::store::lock::exclusive(path)?;
        let found = Found::look(path)?;
        let refuse = |why: String| LogError::Refused {
            path: path.display().to_string(),
            why,
        };
        let (state, recovery) = match committed {
            None => {
                if found.live_len() > 0 || !found.parts.is_empty() {
                    return Err(refuse(unknown_log(path, &found)));
                }
                let file = open_live(path).map_err(&io)?;
                let id = id_of(&file.metadata().map_err(&io)?);
                sync_dir(path).map_err(&io)?;
                (LogState::empty(id), Recovery::New)
            }
            Some(c) => recover(path, &found, c, fsync).map_err(|e| match e {
                Recover::Refuse(why) => refuse(why),
                Recover::Io(e) => io(e),
            })?,
        };
        let file = open_live(path).map_err(&io)?;
        let meta = file.metadata().map_err(&io)?;
        let id = id_of(&meta);
        if state.file != Some(id) || meta.len() != state.offset {
            return Err(refuse(format!(
                "after recovery the file is {} bytes (inode {}) where {} bytes in inode {:?} were \
                 expected; another program is changing it",
                meta.len(),
                id.ino,
                state.offset,
                state.file.map(|f| f.ino)
            )));
        }
        let log = EventLog {
            path: path.to_path_buf(),
            file,
            _lock: lock,
            state,
            id,
            fsync,
            fsync_interval,
            last_sync: Instant::now(),
            unsynced: false,
            rotate_bytes,
        };
        Ok((log, state, recovery))
    }

    pub fn state(&self) -> LogState {
        self.state
    }

    /// The live file's device and inode.
    pub fn id(&self) -> FileId {
        self.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends complete lines holding `lines` events; returns the state to commit. On error the
    /// file is cut back to where it was, so the caller can retry or stop cleanly.
    pub fn append(&mut self, bytes: &[u8], lines: u64) -> Result<LogState, LogError> {
        self.write(bytes, lines, true)
    }

    /// Appends complete lines without syncing them, whatever `output.fsync` says: the caller
    /// syncs them through [`EventLog::sync_handle`] before it commits the state this returns.
    /// On error the file is cut back to where it was.
    pub fn append_unsynced(&mut self, bytes: &[u8], lines: u64) -> Result<LogState, LogError> {
        self.write(bytes, lines, false)
    }

    /// A second handle on the live file, to sync it from another thread while lines go on being
    /// appended through this one; a sync covers every line written before it started.
    pub fn sync_handle(&self) -> Result<File, LogError> {
        self.file.try_clone().map_err(LogError::io(&self.path))
    }

    /// Checks that the file is still the one sluice opened, still under its name, and exactly as
    /// long as sluice left it: nobody truncated it (logrotate's `copytruncate`), deleted it,
    /// replaced it or wrote to it.
    pub fn check_unchanged(&self) -> Result<(), LogError> {
        let io = LogError::io(&self.path);
        let changed = |what: String| LogError::Changed {
            path: self.path.display().to_string(),
            what,
        };
        let held = self.file.metadata().map_err(&io)?;
        if held.nlink() == 0 {
            return Err(changed("was deleted".into()));
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if id_of(&m) == self.id => {}
            Ok(_) => return Err(changed("was replaced by another file".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(changed("was moved away or deleted".into()))
            }
            Err(e) => return Err(io(e)),
        }
        let (len, expected) = (held.len(), self.state.offset);
        if len < expected {
            return Err(changed(format!(
                "was truncated to {len} bytes (sluice had written {expected}; logrotate's \
                 copytruncate does this: rotate sluice's log with output.rotate_bytes instead)"
            )));
        }
        if len > expected {
            return Err(changed(format!(
                "grew by {} bytes that sluice did not write (another program appends to it)",
                len - expected
            )));
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8], lines: u64, sync: bool) -> Result<LogState, LogError> {
        self.check_unchanged()?;
        let synced = |log: &mut Self| if sync { log.sync_if_due() } else { Ok(()) };
        if let Err(e) = self.file.write_all(bytes).and_then(|_| synced(self)) {
            let _ = self.file.set_len(self.state.offset);
            return Err(LogError::io(&self.path)(e));
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

    /// Rotates when the file has reached `rotate_bytes`; returns the state to commit then,
    /// durably, before the next line is written.
    pub fn rotate_if_full(&mut self) -> Result<Option<LogState>, LogError> {
        if self.state.offset < self.rotate_bytes {
            return Ok(None);
        }
        self.check_unchanged()?;
        self.sync_now().map_err(LogError::io(&self.path))?;
        let io = LogError::io(&self.path);
        let part = rotated_path(&self.path, self.state.file_first_seq);
        link_part(&self.path, &part)?;
        let file = swap_in_new(&self.path).map_err(&io)?;
        self.id = id_of(&file.metadata().map_err(&io)?);
        self.file = file;
        self.state = self.state.next_file(self.id);
        tracing::info!(rotated = %part.display(), "event log rotated");
        Ok(Some(self.state))
    }
}

/// Opens the log at `output.file` against the state's record, recovers what a crash left (see
/// [`Recovery`]), and commits the recovered record durably when it changed.
pub fn open_recovered(
    settings: &crate::config::Settings,
    store: &mut crate::store::Store,
) -> Result<(EventLog, LogState), LogError> {
    let committed = store.log_state()?;
    let path = &settings.output.file;
    let (log, state, recovery) = EventLog::open(
        path,
        committed,
        settings.output.fsync,
        Duration::from_millis(settings.output.fsync_interval_ms),
        settings.output.rotate_bytes,
    )?;
    let durable = |store: &mut crate::store::Store| store.commit_durable(&[], state);
    match recovery {
        Recovery::Clean => {}
        Recovery::New => durable(store)?,
        Recovery::CutTail(n) => tracing::warn!(
            log = %path.display(),
            "cut {n} uncommitted bytes off the end of the event log (left by a crash); \
             their versions are re-derived"
        ),
        Recovery::FinishedRotation => {
            tracing::info!("finished a log rotation interrupted by a crash");
            durable(store)?;
        }
        Recovery::RolledBackRotation { cut } => {
            tracing::warn!(
                log = %path.display(),
                "rolled back a log rotation the state had not recorded, and cut {cut} \
                 uncommitted bytes; their versions are re-derived"
            );
            durable(store)?;
        }
        Recovery::Shorter { expected, found } => {
            tracing::error!(
                log = %path.display(),
                "the event log is shorter than committed ({found} < {expected} bytes): it lost \
                 unsynced data (output.fsync = {:?}). Continuing at its last whole line; \
                 sequences continue from the state.",
                settings.output.fsync
            );
            durable(store)?;
        }
    }
    Ok((log, state))
}

/// Why recovery did not happen.
enum Recover {
    Refuse(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for Recover {
    fn from(e: std::io::Error) -> Recover {
        Recover::Io(e)
    }
}

/// Brings the log's folder to the state `c` describes, or says why it cannot.
fn recover(
    path: &Path,
    found: &Found,
    c: LogState,
    fsync: Fsync,
) -> Result<(LogState, Recovery), Recover> {
    let live_id = found.live.as_ref().map(id_of);
    let part = found.part(c.file_first_seq);
    let part_is_it = part.is_some_and(|(_, _, m)| Some(id_of(m)) == c.file && live_id != c.file);
    let live_is_it = match live_id {
        _ if part_is_it => false,
        Some(id) if Some(id) == c.file => true,
        // Not the inode the state recorded (a restored copy, or a state from before sluice
        // recorded it): the content must agree.
        Some(_) if c.offset == 0 => c.file.is_none() || found.live_len() == 0,
        Some(_) => found.live_len() >= c.offset && check_committed(path, &c).is_ok(),
        None if c.file.is_none() && c.offset == 0 && part.is_none() => {
            // An old state whose log held nothing yet: start the file.
            let file = open_live(path)?;
            let id = id_of(&file.metadata()?);
            return Ok((
                LogState {
                    file: Some(id),
                    ..c
                },
                Recovery::New,
            ));
        }
        None => false,
    };
    if live_is_it {
        let mut c = LogState { file: live_id, ..c };
        let len = found.live_len();
        if let Some((_, part_path, part_meta)) = part {
            // A rotation stopped after linking the part: finish it when the state accounts for
            // every line, else undo the link (below; the same inode stays under the live name).
            if Some(id_of(part_meta)) != live_id {
                return Err(Recover::Refuse(format!(
                    "{} has the name of the live file's rotated part but is another file; move \
                     it away",
                    part_path.display()
                )));
            }
            if len == c.offset {
                check_committed(path, &c).map_err(Recover::Refuse)?;
                let file = swap_in_new(path)?;
                let next = c.next_file(id_of(&file.metadata()?));
                return Ok((next, Recovery::FinishedRotation));
            }
        }
        if len < c.offset {
            if fsync == Fsync::Always || part.is_some() {
                return Err(Recover::Refuse(format!(
                    "it is {len} bytes long but the state says {} bytes (sequences {}..{}) were \
                     committed to it, and with output.fsync = always they were synced: something \
                     else truncated it. Restore the file; or move the log and the state aside to \
                     start a new log",
                    c.offset,
                    c.file_first_seq,
                    c.next_seq.saturating_sub(1)
                )));
            }
            // With fsync interval or never, a power loss can take the tail the state counted:
            // keep the whole lines that are left.
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let whole = end_of_last_line(&file, len)?;
            file.set_len(whole)?;
            file.sync_all()?;
            let expected = c.offset;
            c.offset = whole;
            return Ok((
                c,
                Recovery::Shorter {
                    expected,
                    found: whole,
                },
            ));
        }
        check_committed(path, &c).map_err(Recover::Refuse)?;
        let mut recovery = Recovery::Clean;
        if let Some((_, part_path, _)) = part {
            std::fs::remove_file(part_path)?;
            sync_dir(path)?;
            recovery = Recovery::RolledBackRotation {
                cut: len - c.offset,
            };
        }
        if len > c.offset {
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(c.offset)?;
            file.sync_all()?;
            if recovery == Recovery::Clean {
                recovery = Recovery::CutTail(len - c.offset);
            }
        }
        if c.file.is_none() {
            c.file = live_id;
        }
        return Ok((c, recovery));
    }
    // The file the state describes was renamed to its part's name: the rotation got that far.
    if let Some((_, part_path, part_meta)) = part.filter(|_| part_is_it) {
        if found.live_len() > 0 {
            return Err(Recover::Refuse(format!(
                "the state's last record is of the file now named {} (a rotation it did not \
                 record), yet the live file holds {} bytes sluice never accounted for; move the \
                 live file away",
                part_path.display(),
                found.live_len()
            )));
        }
        let part_len = part_meta.len();
        if part_len == c.offset {
            check_committed(part_path, &c).map_err(Recover::Refuse)?;
            let file = match found.live {
                Some(_) => open_live(path)?,
                None => swap_in_new(path)?,
            };
            let next = c.next_file(id_of(&file.metadata()?));
            return Ok((next, Recovery::FinishedRotation));
        }
        if part_len > c.offset {
            check_committed(part_path, &c).map_err(Recover::Refuse)?;
            // Back under the live name (never over a file with content: it is empty or absent).
            if found.live.is_some() {
                std::fs::remove_file(path)?;
            }
            std::fs::hard_link(part_path, path)?;
            std::fs::remove_file(part_path)?;
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(c.offset)?;
            file.sync_all()?;
            sync_dir(path)?;
            return Ok((
                c,
                Recovery::RolledBackRotation {
                    cut: part_len - c.offset,
                },
            ));
        }
        return Err(Recover::Refuse(format!(
            "{} is {part_len} bytes but the state says {} were committed to it; restore it",
            part_path.display(),
            c.offset
        )));
    }
    Err(Recover::Refuse(match found.live.as_ref() {
        None => format!(
            "it is missing, but the state says {} bytes (sequences {}..{}) were committed to it. \
             Restore the file (or point output.file at it); or, to start a new log, move the \
             state aside too",
            c.offset,
            c.file_first_seq,
            c.next_seq.saturating_sub(1)
        ),
        Some(m) => format!(
            "it is not the file the state describes (inode {} where the state recorded {:?}): \
             it was replaced or recreated. Restore the original (or point output.file and \
             state.file at a log and the state that wrote it); or move both aside to start a new \
             log",
            m.ino(),
            c.file.map(|f| f.ino)
        ),
    }))
}

/// What to say about a log the state does not know.
fn unknown_log(path: &Path, found: &Found) -> String {
    let mut what = Vec::new();
    if found.live_len() > 0 {
        let seq = File::open(path)
            .ok()
            .and_then(|f| first_sequence(&f, found.live_len()).ok().flatten());
        what.push(match seq {
            Some(s) => format!("{} bytes from sequence {s}", found.live_len()),
            None => format!("{} bytes", found.live_len()),
        });
    }
    if !found.parts.is_empty() {
        what.push(format!("{} rotated parts beside it", found.parts.len()));
    }
    format!(
        "the state has never written a log, but this one holds {}: it was written with another \
         state. Point state.file (--state) at the state that wrote it; or move the log (and its \
         rotated parts) away to start a new one",
        what.join(" and ")
    )
}

/// Checks that the committed part of the file at `path` is what `c` describes: it ends with a
/// whole line at `c.offset`, and that line carries sequence `c.next_seq - 1` (and the first line
/// `c.file_first_seq`).
fn check_committed(path: &Path, c: &LogState) -> Result<(), String> {
    if c.offset == 0 {
        return Ok(());
    }
    let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let last = last_sequence(&file, c.offset).map_err(|e| format!("cannot read it: {e}"))?;
    let first = first_sequence(&file, c.offset).map_err(|e| format!("cannot read it: {e}"))?;
    let want_last = c.next_seq.saturating_sub(1);
    if last != Some(want_last) || first != Some(c.file_first_seq) {
        return Err(format!(
            "its committed part does not hold what the state says: lines {}..{} up to byte {}, \
             where it has {}..{}. It is not the log this state wrote (or it was edited). Point \
             output.file and state.file at a log and the state that wrote it; or move both aside \
             to start a new log",
            c.file_first_seq,
            want_last,
            c.offset,
            first.map_or("?".into(), |s| s.to_string()),
            last.map_or("?".into(), |s| s.to_string()),
        ));
    }
    Ok(())
}

/// The `sequence` of a line (looked for near its start, where sluice writes it).
fn sequence_in(line: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"sequence\":\"";
    let head = &line[..line.len().min(16 * 1024)];
    let at = head.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = head.get(at..at + 20)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The sequence of the file's first line (within its first `len` bytes).
fn first_sequence(file: &File, len: u64) -> std::io::Result<Option<u64>> {
    let mut buf = vec![0u8; len.min(16 * 1024) as usize];
    file.read_exact_at(&mut buf, 0)?;
    Ok(sequence_in(&buf))
}

/// The sequence of the line that ends at byte `end` (None if no whole line ends there).
fn last_sequence(file: &File, end: u64) -> std::io::Result<Option<u64>> {
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, end - 1)?;
    if last[0] != b'\n' {
        return Ok(None);
    }
    let start = end_of_last_line(file, end - 1)?;
    let mut buf = vec![0u8; (end - start).min(16 * 1024) as usize];
    file.read_exact_at(&mut buf, start)?;
    Ok(sequence_in(&buf))
}

/// The length of `file`'s first `len` bytes up to and including its last `\n` (0 if none).
fn end_of_last_line(file: &File, len: u64) -> std::io::Result<u64> {
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

/// Opens (creating) the live file for appending.
fn open_live(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// Gives the live file's inode the part's name too; never replaces a file of that name.
fn link_part(path: &Path, part: &Path) -> Result<(), LogError> {
    match std::fs::hard_link(path, part) {
        Ok(()) => sync_dir(path).map_err(LogError::io(path)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(LogError::Refused {
            path: path.display().to_string(),
            why: format!(
                "cannot rotate: {} already exists and sluice never replaces a file; move it away",
                part.display()
            ),
        }),
        Err(e) => Err(LogError::io(path)(e)),
    }
}

/// Puts a new empty file under the live name in one step (the old one lives on under its part's
/// name), and syncs the folder.
fn swap_in_new(path: &Path) -> std::io::Result<File> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "events.ndjson".into());
    let next = parent_dir(path).join(format!(".{name}.next"));
    // Left by a crash mid-rotation: never named as the log, never written to.
    let _ = std::fs::remove_file(&next);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&next)?
        .sync_all()?;
    std::fs::rename(&next, path)?;
    sync_dir(path)?;
    open_live(path)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(parent_dir(path))?.sync_all()
}

/// `events.ndjson` rotated at first sequence N is `events-<N, 20 digits>.ndjson`.
pub fn rotated_path(path: &Path, first_seq: u64) -> PathBuf {
    let (stem, ext) = stem_and_ext(path);
    path.with_file_name(format!("{stem}-{first_seq:020}{ext}"))
}

fn stem_and_ext(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "events".into());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (stem, ext)
}

/// The first sequence in the name of `candidate` when it is one of `log`'s rotated parts.
pub fn part_sequence(log: &Path, candidate: &Path) -> Option<u64> {
    if candidate
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        != log.parent().map(Path::to_path_buf).unwrap_or_default()
    {
        return None;
    }
    let (stem, ext) = stem_and_ext(log);
    let name = candidate.file_name()?.to_str()?;
    let digits = name
        .strip_prefix(stem.as_str())?
        .strip_prefix('-')?
        .strip_suffix(ext.as_str())?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// How the log on disk stands against the state, for `sluice status` (reads only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Bytes past the committed end (a crash left them; they are cut at the next start).
    UncommittedTail(u64),
    /// A rotation was under way; it is finished or rolled back at the next start.
    RotationPending,
    /// Something the next start refuses, and why.
    Broken(String),
}

impl Health {
    pub fn name(&self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::UncommittedTail(_) => "uncommitted_tail",
            Health::RotationPending => "rotation_pending",
            Health::Broken(_) => "broken",
        }
    }
}

/// Judges the log at `path` against the state's record without changing anything.
pub fn health(path: &Path, committed: Option<LogState>) -> Health {
    let found = match Found::look(path) {
        Ok(f) => f,
        Err(e) => return Health::Broken(e.to_string()),
    };
    let Some(c) = committed else {
        return if found.live_len() > 0 || !found.parts.is_empty() {
            Health::Broken(unknown_log(path, &found))
        } else {
            Health::Ok
        };
    };
    let live_id = found.live.as_ref().map(id_of);
    if let Some((_, _, m)) = found.part(c.file_first_seq) {
        if Some(id_of(m)) == c.file {
            return Health::RotationPending;
        }
    }
    if c.file.is_some() && live_id != c.file {
        return Health::Broken(match found.live {
            None => "the live file is missing".into(),
            Some(_) => "the live file is not the one the state describes (replaced)".into(),
        });
    }
    let len = found.live_len();
    if len < c.offset {
        return Health::Broken(format!(
            "it is {len} bytes, shorter than the {} bytes committed (truncated)",
            c.offset
        ));
    }
    if let Err(why) = check_committed(path, &c) {
        return Health::Broken(why);
    }
    if len > c.offset {
        Health::UncommittedTail(len - c.offset)
    } else {
        Health::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64) -> Vec<u8> {
        format!("{{\"specversion\":\"1.0\",\"sequence\":\"{seq:020}\",\"data\":{{}}}}\n")
            .into_bytes()
    }

    fn lines(from: u64, n: u64) -> Vec<u8> {
        (from..from + n).flat_map(line).collect()
    }

    fn open(
        path: &Path,
        committed: Option<LogState>,
        rotate: u64,
    ) -> Result<(EventLog, LogState, Recovery), LogError> {
        EventLog::open(path, committed, Fsync::Never, Duration::ZERO, rotate)
    }

    #[test]
    fn a_new_log_is_recorded_and_an_uncommitted_tail_is_cut_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, first, rec) = open(&path, None, 1 << 20).unwrap();
        assert_eq!(rec, Recovery::New);
        assert!(first.file.is_some());
        let committed = log.append(&line(1), 1).unwrap();
        log.append(&line(2), 1).unwrap();
        log.append(b"{\"torn", 0).unwrap();
        drop(log);
        let (_, state, rec) = open(&path, Some(committed), 1 << 20).unwrap();
        assert_eq!(rec, Recovery::CutTail(line(2).len() as u64 + 6));
        assert_eq!(state, committed);
        assert_eq!(std::fs::read(&path).unwrap(), line(1));
    }

    #[test]
    fn a_state_that_knows_no_log_refuses_one_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, lines(1, 3)).unwrap();
        let err = open(&path, None, 1 << 20).err().unwrap().to_string();
        assert!(
            err.contains("never written a log") && err.contains("state.file"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), lines(1, 3), "nothing cut");
        // Only rotated parts beside an empty live file: refused too.
        std::fs::write(&path, b"").unwrap();
        std::fs::write(rotated_path(&path, 1), lines(1, 3)).unwrap();
        assert!(open(&path, None, 1 << 20).is_err());
    }

    #[test]
    fn a_replaced_or_shortened_log_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        let committed = log.append(&lines(1, 4), 4).unwrap();
        drop(log);
        // Replaced by another file with other lines (which may even get the same inode number:
        // the content check catches that).
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, lines(100, 9)).unwrap();
        let err = open(&path, Some(committed), 1 << 20)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("not the file the state describes")
                || err.contains("does not hold what the state says"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), lines(100, 9));
        // Truncated in place, with fsync = always: refused.
        std::fs::remove_file(&path).unwrap();
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        let committed = log.append(&lines(1, 4), 4).unwrap();
        drop(log);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(10).unwrap();
        let err = EventLog::open(
            &path,
            Some(committed),
            Fsync::Always,
            Duration::ZERO,
            1 << 20,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 10);
        // Same inode, same length, other content (edited): refused.
        f.set_len(0).unwrap();
        std::fs::write(&path, lines(5, 4)).unwrap();
        let err = open(&path, Some(committed), 1 << 20)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("does not hold what the state says"), "{err}");
    }

    #[test]
    fn with_fsync_never_a_shorter_log_keeps_its_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        log.append(&line(1), 1).unwrap();
        let committed = log.append(&line(2), 1).unwrap();
        drop(log);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(committed.offset - 3).unwrap();
        let (_, state, rec) = open(&path, Some(committed), 1 << 20).unwrap();
        let one = line(1).len() as u64;
        assert_eq!(
            rec,
            Recovery::Shorter {
                expected: committed.offset,
                found: one
            }
        );
        assert_eq!(state.offset, one);
        assert_eq!(std::fs::read(&path).unwrap(), line(1));
    }

    #[test]
    fn rotation_links_the_part_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 64).unwrap();
        let three = lines(1, 3);
        log.append(&three, 3).unwrap();
        let state = log.rotate_if_full().unwrap().unwrap();
        assert_eq!(
            (state.file_first_seq, state.offset, state.next_seq),
            (4, 0, 4)
        );
        assert_eq!(state.file, Some(log.id()));
        assert_eq!(std::fs::read(rotated_path(&path, 1)).unwrap(), three);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        // A file already under the next part's name is never replaced.
        std::fs::write(rotated_path(&path, 4), b"keep me").unwrap();
        log.append(&lines(4, 3), 3).unwrap();
        let err = log.rotate_if_full().err().unwrap().to_string();
        assert!(err.contains("never replaces"), "{err}");
        assert_eq!(std::fs::read(rotated_path(&path, 4)).unwrap(), b"keep me");
    }

    #[test]
    fn a_rotation_cut_short_is_finished_or_rolled_back_by_what_the_state_accounts_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let part = rotated_path(&path, 1);
        // Stopped after the link: the state accounts for every line, so it is finished.
        let (mut log, _, _) = open(&path, None, 64).unwrap();
        let committed = log.append(&lines(1, 3), 3).unwrap();
        drop(log);
        std::fs::hard_link(&path, &part).unwrap();
        let (_, state, rec) = open(&path, Some(committed), 64).unwrap();
        assert_eq!(rec, Recovery::FinishedRotation);
        assert_eq!((state.file_first_seq, state.offset), (4, 0));
        assert_eq!(std::fs::read(&part).unwrap(), lines(1, 3));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);

        // Stopped after the swap, state recorded nothing of it: finished.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let part = rotated_path(&path, 1);
        let (mut log, _, _) = open(&path, None, 64).unwrap();
        let committed = log.append(&lines(1, 3), 3).unwrap();
        log.rotate_if_full().unwrap().unwrap();
        drop(log);
        let (_, state, rec) = open(&path, Some(committed), 64).unwrap();
        assert_eq!(rec, Recovery::FinishedRotation);
        assert_eq!(state.next_seq, 4);
        assert_eq!(std::fs::read(&part).unwrap(), lines(1, 3));

        // The state lost its last commits (a power cut): it accounts for 2 of the part's 3
        // lines. The part goes back under the live name, cut to the committed end.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let part = rotated_path(&path, 1);
        let (mut log, _, _) = open(&path, None, 64).unwrap();
        let behind = log.append(&lines(1, 2), 2).unwrap();
        log.append(&lines(3, 1), 1).unwrap();
        log.rotate_if_full().unwrap().unwrap();
        drop(log);
        let (_, state, rec) = open(&path, Some(behind), 64).unwrap();
        assert_eq!(
            rec,
            Recovery::RolledBackRotation {
                cut: line(3).len() as u64
            }
        );
        assert_eq!(state, behind);
        assert!(!part.exists());
        assert_eq!(std::fs::read(&path).unwrap(), lines(1, 2));
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (_log, state, _) = open(&path, None, 1 << 20).unwrap();
        let err = open(&path, Some(state), 1 << 20).err().unwrap();
        assert!(matches!(err, LogError::Locked(_)), "{err}");
    }

    #[test]
    fn writing_stops_when_the_file_is_changed_under_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        log.append(&lines(1, 2), 2).unwrap();
        // copytruncate
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let err = log.append(&line(3), 1).err().unwrap().to_string();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "no hole written"
        );
        // deleted
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        log.append(&lines(1, 2), 2).unwrap();
        std::fs::remove_file(&path).unwrap();
        let err = log.append(&line(3), 1).err().unwrap().to_string();
        assert!(err.contains("deleted"), "{err}");
        // replaced
        std::fs::write(&path, b"").unwrap();
        assert!(log.check_unchanged().is_err());
    }

    #[test]
    fn health_reads_what_the_next_start_would_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let (mut log, _, _) = open(&path, None, 1 << 20).unwrap();
        let committed = log.append(&lines(1, 2), 2).unwrap();
        assert_eq!(health(&path, Some(committed)), Health::Ok);
        log.append(&line(3), 1).unwrap();
        assert!(matches!(
            health(&path, Some(committed)),
            Health::UncommittedTail(_)
        ));
        assert!(matches!(health(&path, None), Health::Broken(_)));
        drop(log);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(health(&path, Some(committed)), Health::Broken(_)));
    }
}
