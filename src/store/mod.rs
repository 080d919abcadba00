//! The state database: what sluice has committed, in one SQLite file (WAL mode).
//!
//! It holds the files sluice tracks (their identity on disk, their sha256 and their segments) and
//! the log's committed end (offset and next sequence). Both change only together, in one
//! transaction per group commit, right after the log bytes they describe were written: so on start
//! the state says exactly which prefix of the log is committed.

pub mod lock;
mod schema;

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

/// Errors of the state database, with the file they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this sluice knows ({known}); \
         run a newer sluice or point state.file elsewhere"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
}

/// Where the file stands after its last committed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Ingested,
    Failed,
}

impl FileStatus {
    fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ingested => "ingested",
            FileStatus::Failed => "failed",
        }
    }
    fn parse(s: &str) -> FileStatus {
        if s == "ingested" {
            FileStatus::Ingested
        } else {
            FileStatus::Failed
        }
    }
}

/// What identifies a file's bytes on disk without reading them. Any difference means "hash again".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

/// One tracked path as committed.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    /// Path relative to the watched folder, `/`-separated.
    pub path: String,
    pub stat: StatIdentity,
    /// None when the file could not be read at all.
    pub sha256: Option<String>,
    pub status: FileStatus,
    /// The `error.kind` of the last failure, for failed files.
    pub fail_kind: Option<String>,
    pub document: String,
    /// Segment ids of the committed version, in document order.
    pub segments: Vec<String>,
}

/// Which file on disk: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// The committed end of the event log, and which file the live log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    /// Sequence of the first line in the current (not yet rotated) log file.
    pub file_first_seq: u64,
    /// Bytes of the current log file that are committed.
    pub offset: u64,
    /// Sequence the next line will carry.
    pub next_seq: u64,
    /// The live log file (None in a state written before sluice recorded it).
    pub file: Option<FileId>,
}

impl LogState {
    /// The state of the empty file `file` that continues this log after a rotation.
    pub fn next_file(&self, file: FileId) -> LogState {
        LogState {
            file_first_seq: self.next_seq,
            offset: 0,
            next_seq: self.next_seq,
            file: Some(file),
        }
    }

    /// A log that has no line yet, in the file `file`.
    pub fn empty(file: FileId) -> LogState {
        LogState {
            file_first_seq: 1,
            offset: 0,
            next_seq: 1,
            file: Some(file),
        }
    }
}

/// A change to the tracked files, applied in the same transaction as the log position.
#[derive(Debug, Clone, PartialEq)]
pub enum StateOp {
    Upsert(FileRecord),
    Delete(String),
    /// Same bytes under a new path (and so a new document id).
    Rename {
        from: String,
        to: String,
        stat: StatIdentity,
        document: String,
    },
    /// Same bytes, new identity on disk (a touch).
    Restat {
        path: String,
        stat: StatIdentity,
    },
}

/// A job recorded by a watcher node and not yet stored in the job stream.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxJob {
    pub id: i64,
    pub subject: String,
    pub msg_id: String,
    pub payload: Vec<u8>,
}

/// Counts for `sluice status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StoreCounts {
    pub files: u64,
    pub ingested: u64,
    pub failed: u64,
    pub segments: u64,
}

pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating and migrating) the state database for writing.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: name.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        // WAL + NORMAL: a commit survives a process crash; after a power loss the state can only
        // lag the log, and the log is cut back to the state on start, so the two stay consistent.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        let mut store = Store { conn, path: name };
        schema::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// Opens an existing state database without changing it (for `status`).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
            |source| StoreError::Sqlite {
                path: name.clone(),
                source,
            },
        )?;
        Ok(Store { conn, path: name })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The log's committed end, or None when this state has never written a log.
    pub fn log_state(&self) -> Result<Option<LogState>, StoreError> {
        self.conn
            .query_row(
                "SELECT file_first_seq, committed_offset, next_sequence, file_dev, file_ino \
                 FROM log WHERE id = 1",
                [],
                |r| {
                    let dev: Option<i64> = r.get(3)?;
                    let ino: Option<i64> = r.get(4)?;
                    Ok(LogState {
                        file_first_seq: r.get::<_, i64>(0)? as u64,
                        offset: r.get::<_, i64>(1)? as u64,
                        next_seq: r.get::<_, i64>(2)? as u64,
                        file: dev.zip(ino).map(|(dev, ino)| FileId {
                            dev: dev as u64,
                            ino: ino as u64,
                        }),
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// [`Store::commit`], then a checkpoint that moves the write-ahead log into the database
    /// file: the change survives a power loss and even the loss of the `-wal` file. For the log
    /// states that must be durable before the next line is written (a new log, a rotation).
    pub fn commit_durable(&mut self, ops: &[StateOp], log: LogState) -> Result<(), StoreError> {
        self.commit(ops, log)?;
        let (busy, _, _): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(self.err())?;
        if busy != 0 {
            tracing::warn!(
                state = %self.path,
                "the state's write-ahead log could not be checkpointed (a reader holds it); the \
                 change is committed but kept in the -wal file"
            );
        }
        Ok(())
    }

    /// Every tracked file, for the detector's in-memory index.
    pub fn load_files(&self) -> Result<Vec<FileRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT path, dev, ino, size, mtime_ns, ctime_ns, sha256, status, fail_kind, \
                 document, segments FROM files",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let segments: String = r.get(10)?;
                Ok(FileRecord {
                    path: r.get(0)?,
                    stat: StatIdentity {
                        dev: r.get::<_, i64>(1)? as u64,
                        ino: r.get::<_, i64>(2)? as u64,
                        size: r.get::<_, i64>(3)? as u64,
                        mtime_ns: r.get(4)?,
                        ctime_ns: r.get(5)?,
                    },
                    sha256: r.get(6)?,
                    status: FileStatus::parse(&r.get::<_, String>(7)?),
                    fail_kind: r.get(8)?,
                    document: r.get(9)?,
                    segments: segments
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Starts the transaction of one group commit.
    pub fn begin(&mut self) -> Result<StoreTx<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        Ok(StoreTx { tx, path })
    }

    /// Applies `ops` and records the log position, atomically.
    pub fn commit(&mut self, ops: &[StateOp], log: LogState) -> Result<(), StoreError> {
        let tx = self.begin()?;
        for op in ops {
            tx.apply(op)?;
        }
        tx.set_log(log)?;
        tx.commit()
    }

    /// The outbox's jobs in the order they were recorded: (id, subject, message id, payload).
    pub fn outbox(&self) -> Result<Vec<OutboxJob>, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT id, subject, msg_id, payload FROM outbox ORDER BY id")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(OutboxJob {
                    id: r.get(0)?,
                    subject: r.get(1)?,
                    msg_id: r.get(2)?,
                    payload: r.get(3)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// A named fact about this state database, set once: the stored value, or `make()`'s, stored.
    pub fn fact_or_insert(
        &mut self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM facts WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(v) = found {
            return Ok(v);
        }
        let value = make();
        self.conn
            .execute(
                "INSERT INTO facts (name, value) VALUES (?1, ?2)",
                params![name, value],
            )
            .map_err(err)?;
        Ok(value)
    }

    /// How many jobs wait in the outbox (NATS mode).
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|source| StoreError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    /// Removes the outbox's jobs up to `id` (they are stored in the stream).
    pub fn outbox_done(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM outbox WHERE id <= ?1", params![id])
            .map(|_| ())
            .map_err(|source| StoreError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), \
                 COALESCE(SUM(status = 'ingested'), 0), \
                 COALESCE(SUM(status = 'failed'), 0), \
                 COALESCE(SUM(CASE WHEN segments = '' THEN 0 \
                   ELSE length(segments) - length(replace(segments, ' ', '')) + 1 END), 0) \
                 FROM files",
                [],
                |r| {
                    Ok(StoreCounts {
                        files: r.get::<_, i64>(0)? as u64,
                        ingested: r.get::<_, i64>(1)? as u64,
                        failed: r.get::<_, i64>(2)? as u64,
                        segments: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .map_err(self.err())
    }
}

/// The open transaction of one group commit: reads see the writes made before them in it.
pub struct StoreTx<'a> {
    tx: rusqlite::Transaction<'a>,
    path: String,
}

impl StoreTx<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The open connection, for the dedup index's statements (src/dedup/index.rs).
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Wraps an SQLite error with the state database's path.
    pub fn sql_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The committed segment ids of `path`, or None when it is not tracked.
    pub fn segments_of(&self, path: &str) -> Result<Option<Vec<String>>, StoreError> {
        let found: Option<String> = self
            .tx
            .prepare_cached("SELECT segments FROM files WHERE path = ?1")
            .and_then(|mut s| s.query_row(params![path], |r| r.get(0)).optional())
            .map_err(self.err())?;
        Ok(found.map(|s| {
            s.split(' ')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        }))
    }

    pub fn apply(&self, op: &StateOp) -> Result<(), StoreError> {
        let result = match op {
            StateOp::Upsert(f) => self
                .tx
                .prepare_cached(
                    "INSERT INTO files (path, dev, ino, size, mtime_ns, ctime_ns, sha256, status, \
                     fail_kind, document, segments) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) \
                     ON CONFLICT(path) DO UPDATE SET dev=?2, ino=?3, size=?4, mtime_ns=?5, \
                     ctime_ns=?6, sha256=?7, status=?8, fail_kind=?9, document=?10, segments=?11",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        f.path,
                        f.stat.dev as i64,
                        f.stat.ino as i64,
                        f.stat.size as i64,
                        f.stat.mtime_ns,
                        f.stat.ctime_ns,
                        f.sha256,
                        f.status.as_str(),
                        f.fail_kind,
                        f.document,
                        f.segments.join(" "),
                    ])
                }),
            StateOp::Delete(p) => self
                .tx
                .prepare_cached("DELETE FROM files WHERE path = ?1")
                .and_then(|mut s| s.execute(params![p])),
            StateOp::Rename {
                from,
                to,
                stat,
                document,
            } => self
                .tx
                .prepare_cached("DELETE FROM files WHERE path = ?1")
                .and_then(|mut s| s.execute(params![to]))
                .and_then(|_| {
                    self.tx.prepare_cached(
                        "UPDATE files SET path=?2, dev=?3, ino=?4, size=?5, mtime_ns=?6, \
                         ctime_ns=?7, document=?8 WHERE path=?1",
                    )
                })
                .and_then(|mut s| {
                    s.execute(params![
                        from,
                        to,
                        stat.dev as i64,
                        stat.ino as i64,
                        stat.size as i64,
                        stat.mtime_ns,
                        stat.ctime_ns,
                        document
                    ])
                }),
            StateOp::Restat { path, stat } => self
                .tx
                .prepare_cached(
                    "UPDATE files SET dev=?2, ino=?3, size=?4, mtime_ns=?5, ctime_ns=?6 \
                     WHERE path=?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        path,
                        stat.dev as i64,
                        stat.ino as i64,
                        stat.size as i64,
                        stat.mtime_ns,
                        stat.ctime_ns
                    ])
                }),
        };
        result.map(|_| ()).map_err(self.err())
    }

    /// Adds a job to the outbox (NATS mode), published once this transaction commits.
    pub fn outbox_push(
        &self,
        subject: &str,
        msg_id: &str,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT INTO outbox (subject, msg_id, payload) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![subject, msg_id, payload]))
            .map(|_| ())
            .map_err(self.err())
    }

    /// How many changes of `path` were committed (0 for none).
    pub fn generation(&self, path: &str) -> Result<u64, StoreError> {
        self.tx
            .prepare_cached("SELECT n FROM generations WHERE path = ?1")
            .and_then(|mut s| {
                s.query_row(params![path], |r| r.get::<_, i64>(0))
                    .optional()
            })
            .map(|n| n.unwrap_or(0) as u64)
            .map_err(self.err())
    }

    /// Counts one more committed change of `path` and returns its number (1 for the first).
    /// Removal does not reset it, so a path that comes back with old bytes still counts on.
    pub fn next_generation(&self, path: &str) -> Result<u64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO generations (path, n) VALUES (?1, 1) \
                 ON CONFLICT(path) DO UPDATE SET n = n + 1 RETURNING n",
            )
            .and_then(|mut s| s.query_row(params![path], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
            .map_err(self.err())
    }

    pub fn set_log(&self, log: LogState) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO log (id, file_first_seq, committed_offset, next_sequence, file_dev, \
                 file_ino) VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET \
                 file_first_seq=?1, committed_offset=?2, next_sequence=?3, file_dev=?4, \
                 file_ino=?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    log.file_first_seq as i64,
                    log.offset as i64,
                    log.next_seq as i64,
                    log.file.map(|f| f.dev as i64),
                    log.file.map(|f| f.ino as i64),
                ])
            })
            .map(|_| ())
            .map_err(self.err())
    }

    pub fn commit(self) -> Result<(), StoreError> {
        let path = self.path;
        self.tx
            .commit()
            .map_err(|source| StoreError::Sqlite { path, source })
    }
}

/// Creates the current schema on a bare connection (for unit tests of modules with tables here).
#[cfg(test)]
pub(crate) fn migrate_for_tests(conn: &mut Connection) {
    schema::migrate(conn, ":memory:").expect("migrate");
}

/// Opens a state database on its own, for tools and benchmarks that exercise tables directly.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let name = path.display().to_string();
    let err = |source| StoreError::Sqlite {
        path: name.clone(),
        source,
    };
    let mut conn = Connection::open(path).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    schema::migrate(&mut conn, &name)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, sha: &str) -> FileRecord {
        FileRecord {
            path: path.into(),
            stat: StatIdentity {
                dev: 1,
                ino: 2,
                size: 3,
                mtime_ns: 4,
                ctime_ns: 5,
            },
            sha256: Some(sha.into()),
            status: FileStatus::Ingested,
            fail_kind: None,
            document: "doc".into(),
            segments: vec!["s1".into(), "s2".into()],
        }
    }

    #[test]
    fn commits_survive_reopening_with_the_log_position() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        {
            let mut store = Store::open(&db).unwrap();
            assert_eq!(store.log_state().unwrap(), None);
            let log = LogState {
                file_first_seq: 1,
                offset: 120,
                next_seq: 7,
                file: Some(FileId { dev: 1, ino: 9 }),
            };
            store
                .commit(
                    &[
                        StateOp::Upsert(record("a.txt", "aa")),
                        StateOp::Upsert(record("b.txt", "bb")),
                    ],
                    log,
                )
                .unwrap();
            store
                .commit(&[StateOp::Delete("a.txt".into())], log)
                .unwrap();
        }
        let store = Store::open(&db).unwrap();
        let log = store.log_state().unwrap().unwrap();
        assert_eq!(
            (log.offset, log.file),
            (120, Some(FileId { dev: 1, ino: 9 }))
        );
        let files = store.load_files().unwrap();
        assert_eq!(files, vec![record("b.txt", "bb")]);
        let counts = store.counts().unwrap();
        assert_eq!((counts.files, counts.segments), (1, 2));
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        {
            let conn = Connection::open(&db).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        let err = Store::open(&db).err().unwrap().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
