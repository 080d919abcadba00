//! Versioned schema: `PRAGMA user_version` counts the migrations applied. Each migration runs in
//! its own transaction; later issues append to `MIGRATIONS`, never edit a shipped one.

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: tracked files and the log's committed end.
    "CREATE TABLE files (
        path      TEXT PRIMARY KEY,
        dev       INTEGER NOT NULL,
        ino       INTEGER NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        ctime_ns  INTEGER NOT NULL,
        sha256    TEXT,
        status    TEXT NOT NULL,
        fail_kind TEXT,
        document  TEXT NOT NULL,
        segments  TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX files_sha256 ON files(sha256);
    CREATE TABLE log (
        id               INTEGER PRIMARY KEY CHECK (id = 1),
        file_first_seq   INTEGER NOT NULL,
        committed_offset INTEGER NOT NULL,
        next_sequence    INTEGER NOT NULL
    );",
    // 2: the dedup index (src/dedup/index.rs): first holders of exact fingerprints, MinHash
    // signatures, and LSH band keys.
    "CREATE TABLE dedup_exact (
        level    INTEGER NOT NULL,
        fp       BLOB NOT NULL,
        document TEXT NOT NULL,
        item     TEXT NOT NULL,
        PRIMARY KEY (level, fp)
    ) WITHOUT ROWID;
    CREATE TABLE dedup_items (
        id        INTEGER PRIMARY KEY,
        level     INTEGER NOT NULL,
        scheme    INTEGER NOT NULL,
        document  TEXT NOT NULL,
        item      TEXT NOT NULL,
        signature BLOB NOT NULL
    );
    CREATE TABLE dedup_bands (
        key  INTEGER NOT NULL,
        item INTEGER NOT NULL,
        PRIMARY KEY (key, item)
    ) WITHOUT ROWID;",
    // 3: LSH band keys live in memory, computed from the signatures at start
    // (src/dedup/index.rs); new signatures are stored in 32 bits per position.
    "DROP TABLE dedup_bands;",
    // 4: how many changes of each path were committed, kept after the path is removed, so two
    // different events never share an id (event ids mix it in; see pipeline.rs).
    "CREATE TABLE generations (
        path TEXT PRIMARY KEY,
        n    INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 5: NATS mode's outbox: jobs a watcher node has assigned change numbers to and recorded,
    // published after their transaction commits and deleted once the stream has stored them.
    "CREATE TABLE outbox (
        id      INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        msg_id  TEXT NOT NULL,
        payload BLOB NOT NULL
    );",
    // 6: small facts about this state database, by name (a NATS node's incarnation id).
    "CREATE TABLE facts (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 7: which file the live log is (device and inode), checked at every start: a log that is
    // not the file the state describes is never cut or appended to.
    "ALTER TABLE log ADD COLUMN file_dev INTEGER;
    ALTER TABLE log ADD COLUMN file_ino INTEGER;",
    // 8: dedup retention (src/dedup/index.rs): when a row's content left the folder (NULL while
    // its document still holds it), looked up by document and by age.
    "ALTER TABLE dedup_exact ADD COLUMN gone_at INTEGER;
    ALTER TABLE dedup_items ADD COLUMN gone_at INTEGER;
    CREATE INDEX dedup_exact_document ON dedup_exact(document);
    CREATE INDEX dedup_items_document ON dedup_items(document, item);
    CREATE INDEX dedup_exact_gone ON dedup_exact(gone_at) WHERE gone_at IS NOT NULL;
    CREATE INDEX dedup_items_gone ON dedup_items(gone_at) WHERE gone_at IS NOT NULL;",
];

pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_string(),
        source,
    };
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(err)?;
        tx.commit().map_err(err)?;
    }
    Ok(())
}
