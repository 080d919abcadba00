//! The dedup index in the state database (tables of migration 2), read and written inside the
//! group commit's transaction so that a version sees everything committed before it, including
//! earlier versions of the same group.
//!
//! - `dedup_exact (level, fp) → (document, item)`: the first holder of each fingerprint.
//! - `dedup_items (id, level, scheme, document, item, signature)`: one row per indexed text.
//! - `dedup_bands (key, item)`: LSH band keys → items, the primary key makes a lookup one B-tree
//!   seek per band.
//!
//! Nothing is ever deleted: the index answers "seen before" for everything ever ingested, also
//! after the file that held it was changed or removed.

use rusqlite::{params, Connection, OptionalExtension};

use super::fingerprint::Fingerprint;
use super::minhash::Signature;

/// What is indexed: whole documents, articles, or segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Document = 0,
    Article = 1,
    Segment = 2,
}

/// Most candidates taken from one band key: a text that thousands of others resemble costs at
/// most this many signature checks per band.
const MAX_PER_KEY: i64 = 64;

/// An indexed text similar to the one looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub document: String,
    pub item: String,
    pub similarity: f64,
}

/// The first holder of `fp` at `level`.
pub fn exact(
    conn: &Connection,
    level: Level,
    fp: &Fingerprint,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached("SELECT document, item FROM dedup_exact WHERE level = ?1 AND fp = ?2")?
        .query_row(params![level as i64, &fp[..]], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
}

/// Records `fp` as held by `(document, item)` unless someone holds it already.
pub fn insert_exact(
    conn: &Connection,
    level: Level,
    fp: &Fingerprint,
    document: &str,
    item: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO dedup_exact (level, fp, document, item) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![level as i64, &fp[..], document, item])
    .map(|_| ())
}

/// The most similar indexed text of another document, when its estimated Jaccard similarity is
/// at least `threshold`. Ties go to the text indexed first.
pub fn near(
    conn: &Connection,
    keys: &[i64],
    sig: &Signature,
    scheme: i64,
    exclude_document: &str,
    threshold: f64,
) -> rusqlite::Result<Option<Match>> {
    let mut candidates: Vec<i64> = Vec::new();
    let mut by_key = conn.prepare_cached("SELECT item FROM dedup_bands WHERE key = ?1 LIMIT ?2")?;
    for key in keys {
        let rows = by_key.query_map(params![key, MAX_PER_KEY], |r| r.get::<_, i64>(0))?;
        for id in rows {
            candidates.push(id?);
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    let mut item = conn.prepare_cached(
        "SELECT document, item, scheme, signature FROM dedup_items WHERE id = ?1",
    )?;
    let mut best: Option<Match> = None;
    for id in candidates {
        let row = item
            .query_row(params![id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            })
            .optional()?;
        let Some((document, name, their_scheme, bytes)) = row else {
            continue;
        };
        if their_scheme != scheme || document == exclude_document {
            continue;
        }
        let Some(theirs) = Signature::from_bytes(&bytes) else {
            continue;
        };
        let similarity = sig.jaccard(&theirs);
        if similarity >= threshold && best.as_ref().is_none_or(|b| similarity > b.similarity) {
            best = Some(Match {
                document,
                item: name,
                similarity,
            });
        }
    }
    Ok(best)
}

/// Indexes a signature under its band keys.
pub fn insert_near(
    conn: &Connection,
    level: Level,
    scheme: i64,
    document: &str,
    item: &str,
    sig: &Signature,
    keys: &[i64],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO dedup_items (level, scheme, document, item, signature) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        level as i64,
        scheme,
        document,
        item,
        sig.to_bytes()
    ])?;
    let id = conn.last_insert_rowid();
    let mut band =
        conn.prepare_cached("INSERT OR IGNORE INTO dedup_bands (key, item) VALUES (?1, ?2)")?;
    for key in keys {
        band.execute(params![key, id])?;
    }
    Ok(())
}

/// The document of another tracked path whose committed version has exactly these bytes.
pub fn tracked_copy(
    conn: &Connection,
    sha256: &str,
    path: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT document FROM files WHERE sha256 = ?1 AND path <> ?2 AND status = 'ingested' \
         ORDER BY path LIMIT 1",
    )?
    .query_row(params![sha256, path], |r| r.get(0))
    .optional()
}

/// Rows in the index, per table (for `status` and benchmarks).
pub fn sizes(conn: &Connection) -> rusqlite::Result<(u64, u64, u64)> {
    let count = |table: &str| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    Ok((
        count("dedup_exact")?,
        count("dedup_items")?,
        count("dedup_bands")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::lsh::Banding;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate_for_tests(&mut conn);
        conn
    }

    #[test]
    fn the_first_holder_of_a_fingerprint_stays() {
        let conn = db();
        let fp = [7u8; 16];
        insert_exact(&conn, Level::Segment, &fp, "doc-a", "seg-1").unwrap();
        insert_exact(&conn, Level::Segment, &fp, "doc-b", "seg-2").unwrap();
        assert_eq!(
            exact(&conn, Level::Segment, &fp).unwrap(),
            Some(("doc-a".into(), "seg-1".into()))
        );
        assert_eq!(exact(&conn, Level::Document, &fp).unwrap(), None);
    }

    #[test]
    fn near_finds_the_most_similar_other_document_above_the_threshold() {
        let conn = db();
        let banding = Banding::new(16, 4);
        let base: Vec<u64> = (0..16).collect();
        let mut close = base.clone();
        close[15] = 99;
        let mut far = base.clone();
        for v in far.iter_mut().skip(4) {
            *v += 1000;
        }
        for (doc, sig) in [("far", &far), ("close", &close), ("self", &base)] {
            let sig = Signature(sig.clone());
            insert_near(
                &conn,
                Level::Segment,
                1,
                doc,
                doc,
                &sig,
                &banding.keys(&sig, 9),
            )
            .unwrap();
        }
        let q = Signature(base);
        let found = near(&conn, &banding.keys(&q, 9), &q, 1, "self", 0.8).unwrap();
        assert_eq!(
            found.map(|m| (m.document, m.similarity)),
            Some(("close".into(), 15.0 / 16.0))
        );
        let none = near(&conn, &banding.keys(&q, 9), &q, 2, "self", 0.8).unwrap();
        assert_eq!(none, None, "another scheme's signatures are not compared");
    }
}
