//! The dedup index: persisted in the state database (tables of migrations 2 and 3), and answered
//! from memory. The committer is the only writer, so it loads the in-memory part once
//! ([`Index::load`]) and keeps it in step with what its transactions insert.
//!
//! In the database:
//! - `dedup_exact (level, fp) → (document, item)`: the first holder of each fingerprint.
//! - `dedup_items (id, level, scheme, document, item, signature)`: one row per indexed text; the
//!   signature is its 128 minimums cut to their low 32 bits (512 bytes; rows written before
//!   migration 3 hold full 64-bit values and are read the same way).
//!
//! In memory:
//! - a set of 64-bit tags of every `(level, fp)`: a lookup that misses it (almost every one) costs
//!   no SQL; one that hits reads the holder from `dedup_exact`.
//! - the LSH band table `key → ids` of the current scheme's signatures, rebuilt from the stored
//!   signatures at load (band keys are not stored). It is a sorted pair of arrays (12 bytes per
//!   key) with a small hash map of recent inserts that is merged into it now and then. As the
//!   SQL table it replaces, it keeps at most [`MAX_PER_KEY`] ids per key, the first indexed.
//!   Signatures are read from `dedup_items` only for the candidates.
//!
//! What is forgotten: a row whose document's current version no longer holds it (the file was
//! changed, removed or failed) is marked gone (`gone_at`), and gone rows are dropped after
//! `dedup.retention_days` or beyond `dedup.retention_entries` ([`Index::prune`]). Until then, the
//! index answers "seen before" for content that has left the folder too.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rusqlite::{params, Connection, OptionalExtension};

use super::fingerprint::Fingerprint;

/// What is indexed (and the levels `dedup.levels` names): whole documents, articles, or
/// segments. The discriminant is what the database stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Document = 0,
    Article = 1,
    Segment = 2,
}

impl Level {
    fn from_i64(v: i64) -> Option<Level> {
        match v {
            0 => Some(Level::Document),
            1 => Some(Level::Article),
            2 => Some(Level::Segment),
            _ => None,
        }
    }
}

/// Most candidates taken from one band key: a text that thousands of others resemble costs at
/// most this many signature checks per band. Ids past it are never looked at, so not kept.
pub const MAX_PER_KEY: usize = 64;

/// A compact signature: the low 32 bits of each MinHash minimum (b-bit MinHash with b = 32).
/// Two different 64-bit minimums agree in their low 32 bits with probability 2^-32, so the
/// estimate is that of the full signature but for that.
pub type Compact = Vec<u32>;

/// The share of positions where two compact signatures agree (0 when the lengths differ).
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// A stored signature: 4 bytes per position, or 8 (rows of migration 2; cut to the low 32 bits).
pub fn compact_from_bytes(bytes: &[u8], permutations: usize) -> Option<Compact> {
    let width = bytes.len().checked_div(permutations)?;
    if permutations == 0 || bytes.len() != width * permutations || !matches!(width, 4 | 8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(width)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

fn compact_to_bytes(sig: &[u32]) -> Vec<u8> {
    sig.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Hasher for keys that are already uniform 64-bit hashes (band keys, fingerprint tags).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type Fast = BuildHasherDefault<PassThrough>;

/// The in-memory tag of a fingerprint at a level (fingerprints are sha256 prefixes: uniform).
fn tag(level: Level, fp: &Fingerprint) -> u64 {
    let mut lo = [0u8; 8];
    lo.copy_from_slice(&fp[..8]);
    u64::from_le_bytes(lo) ^ (level as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Bits of a band key that pick its bucket in [`Bands::starts`].
const BUCKET_BITS: u32 = 16;

/// Band key → ids (ascending, at most [`MAX_PER_KEY`]). Also the band index of the NATS
/// workers' signature mirror.
#[derive(Debug, Default)]
pub(crate) struct Bands {
    /// Sorted by (key, id).
    keys: Vec<u64>,
    ids: Vec<u32>,
    /// Where each bucket of keys (their top [`BUCKET_BITS`] bits) starts in `keys`, plus the end:
    /// band keys are hashes, so a lookup searches a handful of entries instead of the whole
    /// array (whose binary search was one cache miss per step). Empty when `keys` is.
    starts: Vec<u32>,
    /// Inserted since the last merge; every id here is larger than any in the arrays.
    recent: HashMap<u64, Vec<u32>, Fast>,
    recent_len: usize,
}

impl Bands {
    fn run(&self, key: u64) -> &[u32] {
        let (lo, hi) = match self.starts.get((key >> (64 - BUCKET_BITS)) as usize..) {
            Some([lo, hi, ..]) => (*lo as usize, *hi as usize),
            _ => (0, self.keys.len()),
        };
        let start = lo + self.keys[lo..hi].partition_point(|&k| k < key);
        let end = start + self.keys[start..hi].partition_point(|&k| k == key);
        &self.ids[start..end]
    }

    /// Rebuilds `starts` after `keys` changed.
    fn reindex(&mut self) {
        if self.keys.is_empty() {
            self.starts = Vec::new();
            return;
        }
        let buckets = 1usize << BUCKET_BITS;
        let mut starts = vec![0u32; buckets + 1];
        for &k in &self.keys {
            starts[(k >> (64 - BUCKET_BITS)) as usize + 1] += 1;
        }
        for i in 0..buckets {
            starts[i + 1] += starts[i];
        }
        self.starts = starts;
    }

    pub(crate) fn get(&self, key: u64, out: &mut Vec<u32>) {
        let run = self.run(key);
        out.extend_from_slice(run);
        if let Some(more) = self.recent.get(&key) {
            out.extend(more.iter().take(MAX_PER_KEY.saturating_sub(run.len())));
        }
    }

    /// Adds `id` under `key`; ids must come in ascending order.
    pub(crate) fn insert(&mut self, key: u64, id: u32) {
        let held = self.run(key).len() + self.recent.get(&key).map_or(0, Vec::len);
        if held >= MAX_PER_KEY {
            return;
        }
        let more = self.recent.entry(key).or_default();
        if more.last().is_none_or(|&l| l < id) {
            more.push(id);
            self.recent_len += 1;
        }
        if self.recent_len >= 32_768 + self.keys.len() / 16 {
            self.merge();
        }
    }

    /// Drops `gone` ids from every key (their rows were deleted).
    fn remove(&mut self, gone: &HashSet<u32>) {
        if gone.is_empty() {
            return;
        }
        self.merge();
        let mut w = 0;
        for r in 0..self.keys.len() {
            if !gone.contains(&self.ids[r]) {
                self.keys[w] = self.keys[r];
                self.ids[w] = self.ids[r];
                w += 1;
            }
        }
        self.keys.truncate(w);
        self.ids.truncate(w);
        self.keys.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.reindex();
    }

    /// Moves the recent inserts into the sorted arrays.
    fn merge(&mut self) {
        if self.recent_len == 0 {
            return;
        }
        let mut recent: Vec<(u64, u32)> = self
            .recent
            .drain()
            .flat_map(|(k, ids)| ids.into_iter().map(move |id| (k, id)))
            .collect();
        recent.sort_unstable();
        self.recent = HashMap::default();
        self.recent_len = 0;
        // In place from the back: growing the arrays is a remap, not a second copy.
        let (mut i, mut j) = (self.keys.len(), recent.len());
        let total = i + j;
        self.keys.resize(total, 0);
        self.ids.resize(total, 0);
        let mut w = total;
        while j > 0 {
            w -= 1;
            if i > 0 && (self.keys[i - 1], self.ids[i - 1]) > recent[j - 1] {
                i -= 1;
                self.keys[w] = self.keys[i];
                self.ids[w] = self.ids[i];
            } else {
                j -= 1;
                (self.keys[w], self.ids[w]) = recent[j];
            }
        }
        self.reindex();
    }
}

/// An indexed text similar to the one looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub document: String,
    pub item: String,
    pub similarity: f64,
}

impl Match {
    /// Keeps in `best` the candidate `(document, item)` with signature `theirs` if it is at least
    /// `threshold` similar to `sig` and more similar than `best` (ties keep the earlier).
    pub fn offer(
        best: &mut Option<Match>,
        threshold: f64,
        sig: &[u32],
        theirs: &[u32],
        document: &str,
        item: &str,
    ) {
        let s = similarity(sig, theirs);
        if s >= threshold && best.as_ref().is_none_or(|b| s > b.similarity) {
            *best = Some(Match {
                document: document.to_string(),
                item: item.to_string(),
                similarity: s,
            });
        }
    }
}

/// The in-memory part of the index, for one signature scheme.
#[derive(Debug)]
pub struct Index {
    scheme: i64,
    permutations: usize,
    exact: HashSet<u64, Fast>,
    bands: Bands,
    candidates: Vec<u32>,
    /// Rows (of both tables) whose content is gone from the folder: kept until retention drops
    /// them ([`Index::prune`]).
    gone: u64,
}

/// How long the index remembers content that is no longer in the folder (`dedup.retention_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Rows gone longer than this many seconds are dropped (0: never by age).
    pub max_age_s: u64,
    /// At most this many gone rows are kept, the most recently gone (0: no cap).
    pub max_rows: u64,
}

/// Seconds since the Unix epoch.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Index {
    /// An empty index (as for an empty database).
    pub fn new(scheme: i64, permutations: usize) -> Index {
        Index {
            scheme,
            permutations,
            exact: HashSet::default(),
            bands: Bands::default(),
            candidates: Vec::new(),
            gone: 0,
        }
    }

    /// Rows held for content that is gone from the folder.
    pub fn gone(&self) -> u64 {
        self.gone
    }

    /// Marks every row of `document` gone (at `now`): its version was replaced, removed or
    /// failed. The rows of the new version are marked present again as they are looked up
    /// ([`Index::present`]) or inserted.
    pub fn forget_document(
        &mut self,
        conn: &Connection,
        document: &str,
        now: i64,
    ) -> rusqlite::Result<()> {
        let mut n = 0;
        for table in ["dedup_exact", "dedup_items"] {
            n += conn
                .prepare_cached(&format!(
                    "UPDATE {table} SET gone_at = ?2 WHERE document = ?1 AND gone_at IS NULL"
                ))?
                .execute(params![document, now])?;
        }
        self.gone += n as u64;
        Ok(())
    }

    /// Marks the rows of `(document, item)` at `level` present again: the fingerprint it holds,
    /// and its signature.
    pub fn present(
        &mut self,
        conn: &Connection,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> rusqlite::Result<()> {
        let exact = conn
            .prepare_cached(
                "UPDATE dedup_exact SET gone_at = NULL WHERE level = ?1 AND fp = ?2 \
                 AND document = ?3 AND gone_at IS NOT NULL",
            )?
            .execute(params![level as i64, &fp[..], document])?;
        let items = conn
            .prepare_cached(
                "UPDATE dedup_items SET gone_at = NULL WHERE level = ?1 AND document = ?2 \
                 AND item = ?3 AND gone_at IS NOT NULL",
            )?
            .execute(params![level as i64, document, item])?;
        self.gone = self.gone.saturating_sub((exact + items) as u64);
        Ok(())
    }

    /// A path moved: its rows follow it to its new document id.
    pub fn rename_document(conn: &Connection, from: &str, to: &str) -> rusqlite::Result<()> {
        for table in ["dedup_exact", "dedup_items"] {
            conn.prepare_cached(&format!(
                "UPDATE {table} SET document = ?2 WHERE document = ?1"
            ))?
            .execute(params![from, to])?;
        }
        Ok(())
    }

    /// Whether [`Index::prune`] has work: more gone rows than `retention` keeps, or any at all
    /// when they may be old enough to drop.
    pub fn wants_prune(&self, retention: Retention) -> bool {
        (retention.max_rows > 0 && self.gone > retention.max_rows)
            || (retention.max_age_s > 0 && self.gone > 0)
    }

    /// Drops the rows whose content has been gone longer than `retention.max_age_s`, then the
    /// oldest gone beyond `retention.max_rows`, from the database and from memory. Returns the
    /// rows dropped.
    pub fn prune(
        &mut self,
        conn: &Connection,
        now: i64,
        retention: Retention,
    ) -> rusqlite::Result<u64> {
        let mut dropped_tags: Vec<u64> = Vec::new();
        let mut dropped_ids: HashSet<u32> = HashSet::new();
        let mut dropped = 0u64;
        // (table, what identifies a row, its deletion)
        let mut take = |conn: &Connection, which: &str| -> rusqlite::Result<u64> {
            let exact: Vec<(i64, Vec<u8>)> = conn
                .prepare(&format!(
                    "SELECT level, fp FROM dedup_exact WHERE gone_at IS NOT NULL AND {which}"
                ))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (level, fp) in &exact {
                if let (Some(level), Ok(fp)) =
                    (Level::from_i64(*level), <[u8; 16]>::try_from(fp.as_slice()))
                {
                    dropped_tags.push(tag(level, &fp));
                }
            }
            let ids: Vec<i64> = conn
                .prepare(&format!(
                    "SELECT id FROM dedup_items WHERE gone_at IS NOT NULL AND {which}"
                ))?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            dropped_ids.extend(ids.iter().filter_map(|&id| u32::try_from(id).ok()));
            let n = conn.execute(
                &format!("DELETE FROM dedup_exact WHERE gone_at IS NOT NULL AND {which}"),
                [],
            )? + conn.execute(
                &format!("DELETE FROM dedup_items WHERE gone_at IS NOT NULL AND {which}"),
                [],
            )?;
            Ok(n as u64)
        };
        if retention.max_age_s > 0 {
            let cutoff = now.saturating_sub(retention.max_age_s as i64);
            dropped += take(conn, &format!("gone_at < {cutoff}"))?;
        }
        let left = self.gone.saturating_sub(dropped);
        if retention.max_rows > 0 && left > retention.max_rows {
            // The gone_at from which rows are kept: the max_rows most recently gone of both
            // tables together.
            let keep_from: Option<i64> = conn
                .query_row(
                    "SELECT gone_at FROM (SELECT gone_at FROM dedup_exact WHERE gone_at IS NOT \
                     NULL UNION ALL SELECT gone_at FROM dedup_items WHERE gone_at IS NOT NULL) \
                     ORDER BY gone_at DESC LIMIT 1 OFFSET ?1",
                    params![retention.max_rows as i64],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(t) = keep_from {
                dropped += take(conn, &format!("gone_at <= {t}"))?;
            }
        }
        for t in dropped_tags {
            self.exact.remove(&t);
        }
        self.bands.remove(&dropped_ids);
        self.gone = self.gone.saturating_sub(dropped);
        Ok(dropped)
    }

    /// Loads the index from the database: every fingerprint's tag, and the band keys of every
    /// signature of `scheme` (`keys` computes them from a compact signature at a level).
    pub fn load(
        conn: &Connection,
        scheme: i64,
        permutations: usize,
        keys: impl Fn(Level, &[u32]) -> Vec<i64>,
    ) -> rusqlite::Result<Index> {
        let mut index = Index::new(scheme, permutations);
        let mut stmt = conn.prepare("SELECT level, fp FROM dedup_exact")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (Some(level), Ok(fp)) = (
                Level::from_i64(r.get(0)?),
                <[u8; 16]>::try_from(r.get_ref(1)?.as_blob()?),
            ) else {
                continue;
            };
            index.exact.insert(tag(level, &fp));
        }
        let mut stmt = conn.prepare(
            "SELECT id, level, signature FROM dedup_items WHERE scheme = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query(params![scheme])?;
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let (Some(level), Ok(id)) = (Level::from_i64(r.get(1)?), u32::try_from(id)) else {
                continue;
            };
            let Some(sig) = compact_from_bytes(r.get_ref(2)?.as_blob()?, permutations) else {
                continue;
            };
            pairs.extend(keys(level, &sig).into_iter().map(|k| (k as u64, id)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        // At most MAX_PER_KEY ids per key, the smallest (first indexed).
        let mut run = 0;
        let mut last = None;
        for (k, id) in pairs {
            if last == Some(k) {
                run += 1;
            } else {
                last = Some(k);
                run = 1;
            }
            if run <= MAX_PER_KEY {
                index.bands.keys.push(k);
                index.bands.ids.push(id);
            }
        }
        index.bands.keys.shrink_to_fit();
        index.bands.ids.shrink_to_fit();
        index.bands.reindex();
        index.gone = conn.query_row(
            "SELECT (SELECT COUNT(*) FROM dedup_exact WHERE gone_at IS NOT NULL) + \
             (SELECT COUNT(*) FROM dedup_items WHERE gone_at IS NOT NULL)",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64;
        Ok(index)
    }

    /// Fingerprints and band keys held (for `status` and benchmarks).
    pub fn len(&self) -> (usize, usize) {
        (
            self.exact.len(),
            self.bands.keys.len() + self.bands.recent_len,
        )
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// The first holder of `fp` at `level`.
    pub fn exact(
        &self,
        conn: &Connection,
        level: Level,
        fp: &Fingerprint,
    ) -> rusqlite::Result<Option<(String, String)>> {
        if !self.exact.contains(&tag(level, fp)) {
            return Ok(None);
        }
        conn.prepare_cached("SELECT document, item FROM dedup_exact WHERE level = ?1 AND fp = ?2")?
            .query_row(params![level as i64, &fp[..]], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
    }

    /// Records `fp` as held by `(document, item)` unless someone holds it already.
    pub fn insert_exact(
        &mut self,
        conn: &Connection,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO dedup_exact (level, fp, document, item) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![level as i64, &fp[..], document, item])?;
        self.exact.insert(tag(level, fp));
        Ok(())
    }

    /// The most similar indexed text of another document, when its estimated Jaccard similarity
    /// is at least `threshold`. Ties go to the text indexed first.
    pub fn near(
        &mut self,
        conn: &Connection,
        keys: &[i64],
        sig: &[u32],
        exclude_document: &str,
        threshold: f64,
    ) -> rusqlite::Result<Option<Match>> {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        for &key in keys {
            self.bands.get(key as u64, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let result = self.verify(conn, &candidates, sig, exclude_document, threshold);
        self.candidates = candidates;
        result
    }

    fn verify(
        &self,
        conn: &Connection,
        candidates: &[u32],
        sig: &[u32],
        exclude_document: &str,
        threshold: f64,
    ) -> rusqlite::Result<Option<Match>> {
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut item = conn.prepare_cached(
            "SELECT document, item, scheme, signature FROM dedup_items WHERE id = ?1",
        )?;
        let mut best: Option<Match> = None;
        for &id in candidates {
            let mut rows = item.query(params![id])?;
            let Some(r) = rows.next()? else { continue };
            let their_scheme: i64 = r.get(2)?;
            let document = r.get_ref(0)?.as_str()?;
            if their_scheme != self.scheme || document == exclude_document {
                continue;
            }
            let Some(theirs) = compact_from_bytes(r.get_ref(3)?.as_blob()?, self.permutations)
            else {
                continue;
            };
            let item = r.get_ref(1)?.as_str()?;
            Match::offer(&mut best, threshold, sig, &theirs, document, item);
        }
        Ok(best)
    }

    /// Indexes a signature under its band keys.
    pub fn insert_near(
        &mut self,
        conn: &Connection,
        level: Level,
        document: &str,
        item: &str,
        sig: &[u32],
        keys: &[i64],
    ) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO dedup_items (level, scheme, document, item, signature) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            level as i64,
            self.scheme,
            document,
            item,
            compact_to_bytes(sig)
        ])?;
        let id = conn.last_insert_rowid();
        let id = u32::try_from(id).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, id))?;
        for &key in keys {
            self.bands.insert(key as u64, id);
        }
        Ok(())
    }
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

/// Rows in the index, per table: fingerprints and signatures (for `status` and benchmarks).
pub fn sizes(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let count = |table: &str| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
    };
    Ok((count("dedup_exact")?, count("dedup_items")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::lsh::Banding;
    use crate::dedup::minhash::Signature;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate_for_tests(&mut conn);
        conn
    }

    fn keys(banding: Banding) -> impl Fn(Level, &[u32]) -> Vec<i64> {
        move |_, sig| banding.keys(&Signature(sig.iter().map(|&v| u64::from(v)).collect()), 9)
    }

    #[test]
    fn content_gone_from_the_folder_is_forgotten_by_age_and_beyond_the_cap() {
        let conn = db();
        let banding = Banding::new(16, 4);
        let mut index = Index::new(1, 16);
        let sig: Vec<u32> = (0..16).collect();
        let keys_of = keys(banding);
        for (doc, n) in [("doc-a", 1u8), ("doc-b", 2), ("doc-c", 3)] {
            index
                .insert_exact(&conn, Level::Segment, &[n; 16], doc, "s")
                .unwrap();
            index
                .insert_near(
                    &conn,
                    Level::Segment,
                    doc,
                    "s",
                    &sig,
                    &keys_of(Level::Segment, &sig),
                )
                .unwrap();
        }
        // doc-a changed at t=100 but kept its text; doc-b changed at t=100 and lost it; doc-c
        // changed at t=500 and lost it.
        index.forget_document(&conn, "doc-a", 100).unwrap();
        index
            .present(&conn, Level::Segment, &[1; 16], "doc-a", "s")
            .unwrap();
        index.forget_document(&conn, "doc-b", 100).unwrap();
        index.forget_document(&conn, "doc-c", 500).unwrap();
        assert_eq!(index.gone(), 4);
        let reloaded = Index::load(&conn, 1, 16, keys(banding)).unwrap();
        assert_eq!(reloaded.gone(), 4, "the count survives a restart");
        // By age: gone for more than 300 s at t=600 is doc-b only.
        let age = Retention {
            max_age_s: 300,
            max_rows: 0,
        };
        assert_eq!(index.prune(&conn, 600, age).unwrap(), 2);
        assert_eq!(index.exact(&conn, Level::Segment, &[2; 16]).unwrap(), None);
        assert!(index
            .exact(&conn, Level::Segment, &[1; 16])
            .unwrap()
            .is_some());
        assert!(index
            .exact(&conn, Level::Segment, &[3; 16])
            .unwrap()
            .is_some());
        let near = index
            .near(&conn, &keys_of(Level::Segment, &sig), &sig, "doc-x", 0.9)
            .unwrap()
            .unwrap();
        assert_ne!(near.document, "doc-b");
        // Beyond the cap of one: doc-c's two rows, gone at the same second, go together.
        let cap = Retention {
            max_age_s: 0,
            max_rows: 1,
        };
        assert!(index.wants_prune(cap));
        assert_eq!(index.prune(&conn, 600, cap).unwrap(), 2);
        assert_eq!(index.gone(), 0);
        assert_eq!(index.exact(&conn, Level::Segment, &[3; 16]).unwrap(), None);
        assert!(
            index
                .exact(&conn, Level::Segment, &[1; 16])
                .unwrap()
                .is_some(),
            "present content is never dropped"
        );
    }

    #[test]
    fn the_first_holder_of_a_fingerprint_stays() {
        let conn = db();
        let mut index = Index::new(1, 16);
        let fp = [7u8; 16];
        index
            .insert_exact(&conn, Level::Segment, &fp, "doc-a", "seg-1")
            .unwrap();
        index
            .insert_exact(&conn, Level::Segment, &fp, "doc-b", "seg-2")
            .unwrap();
        assert_eq!(
            index.exact(&conn, Level::Segment, &fp).unwrap(),
            Some(("doc-a".into(), "seg-1".into()))
        );
        assert_eq!(index.exact(&conn, Level::Document, &fp).unwrap(), None);
        let loaded = Index::load(&conn, 1, 16, keys(Banding::new(16, 4))).unwrap();
        assert_eq!(
            loaded.exact(&conn, Level::Segment, &fp).unwrap(),
            Some(("doc-a".into(), "seg-1".into()))
        );
        assert_eq!(loaded.exact(&conn, Level::Article, &fp).unwrap(), None);
    }

    #[test]
    fn near_finds_the_most_similar_other_document_above_the_threshold() {
        let conn = db();
        let banding = Banding::new(16, 4);
        let key = keys(banding);
        let mut index = Index::new(1, 16);
        let base: Vec<u32> = (0..16).collect();
        let mut close = base.clone();
        close[15] = 99;
        let mut far = base.clone();
        for v in far.iter_mut().skip(4) {
            *v += 1000;
        }
        for (doc, sig) in [("far", &far), ("close", &close), ("self", &base)] {
            index
                .insert_near(
                    &conn,
                    Level::Segment,
                    doc,
                    doc,
                    sig,
                    &key(Level::Segment, sig),
                )
                .unwrap();
        }
        let q = base;
        let found = index
            .near(&conn, &key(Level::Segment, &q), &q, "self", 0.8)
            .unwrap();
        assert_eq!(
            found.map(|m| (m.document, m.similarity)),
            Some(("close".into(), 15.0 / 16.0))
        );
        // The same from an index loaded from the database (a restart).
        let mut loaded = Index::load(&conn, 1, 16, &key).unwrap();
        let found = loaded
            .near(&conn, &key(Level::Segment, &q), &q, "self", 0.8)
            .unwrap();
        assert_eq!(found.map(|m| m.document), Some("close".into()));
        let mut other = Index::load(&conn, 2, 16, &key).unwrap();
        assert!(other.is_empty());
        let none = other
            .near(&conn, &key(Level::Segment, &q), &q, "self", 0.8)
            .unwrap();
        assert_eq!(none, None, "another scheme's signatures are not compared");
    }

    #[test]
    fn a_band_key_keeps_its_first_ids_across_merges_and_loads() {
        let mut bands = Bands::default();
        for id in 0..200u32 {
            bands.insert(u64::from(id % 3), id);
            bands.insert(1000 + u64::from(id), id);
        }
        let first = |b: &Bands, k: u64| {
            let mut out = Vec::new();
            b.get(k, &mut out);
            out
        };
        let expect: Vec<u32> = (0..200).filter(|i| i % 3 == 1).take(MAX_PER_KEY).collect();
        assert_eq!(first(&bands, 1), expect);
        bands.merge();
        assert!(bands.recent.is_empty());
        assert!(bands.keys.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(first(&bands, 1), expect);
        assert_eq!(first(&bands, 1100), vec![100]);
        bands.insert(1, 500);
        bands.insert(7, 501);
        assert_eq!(first(&bands, 1), expect);
        assert_eq!(first(&bands, 7), vec![501]);
    }

    #[test]
    fn bucketed_lookups_agree_with_a_plain_map_across_the_key_space() {
        let mut bands = Bands::default();
        let mut plain: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let mut keys = Vec::new();
        for id in 0..5_000u32 {
            // Keys spread over all buckets, some repeated, some at bucket edges.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = match id % 7 {
                0 => u64::MAX,
                1 => 0,
                2 => (x >> 48) << 48,
                3 if !keys.is_empty() => keys[(x % keys.len() as u64) as usize],
                _ => x,
            };
            keys.push(key);
            bands.insert(key, id);
            let ids = plain.entry(key).or_default();
            if ids.len() < MAX_PER_KEY {
                ids.push(id);
            }
            if id == 2_500 {
                bands.merge();
            }
        }
        for merged in [false, true] {
            if merged {
                bands.merge();
            }
            for (key, ids) in &plain {
                let mut out = Vec::new();
                bands.get(*key, &mut out);
                assert_eq!(&out, ids, "key {key:#x}, merged {merged}");
            }
            let mut out = Vec::new();
            bands.get(0x0123_4567_89ab_cdef, &mut out);
            assert!(out.is_empty());
        }
    }

    #[test]
    fn signatures_are_stored_in_32_bits_and_old_64_bit_rows_still_read() {
        let sig: Vec<u32> = vec![1, 2, u32::MAX, 4];
        assert_eq!(
            compact_from_bytes(&compact_to_bytes(&sig), 4),
            Some(sig.clone())
        );
        let wide = Signature(vec![1 | 7 << 40, 2, u64::MAX, 4]);
        assert_eq!(compact_from_bytes(&wide.to_bytes(), 4), Some(sig));
        assert_eq!(compact_from_bytes(&[0; 12], 4), None);
    }
}
