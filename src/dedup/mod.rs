//! Deduplication: is this text new, a copy, or a near copy of something ever ingested?
//!
//! - [`fingerprint`]: exact fingerprints of folded text (normalized, no spaces or punctuation).
//! - [`minhash`]: shingles and MinHash signatures (pure, deterministic).
//! - [`lsh`]: banding of signatures into candidate keys, and its S-curve.
//! - [`index`]: the index: persisted in the state database, answered from memory.
//!
//! The work is split in two, like the rest of the pipeline: [`analyze`] computes fingerprints and
//! signatures (and their band keys) of one version on a worker thread (CPU work, in parallel), and
//! [`verdicts`] looks them up in the committer's in-memory [`Index`] and indexes what is new, in
//! the committer's transaction (sequential, so of two identical files in one group the first is
//! `new` and the second `exact`, always). It returns typed [`Verdicts`]; putting them into events
//! is the commit step's work (`crate::commit`): this module knows nothing of the event format.
//!
//! Verdicts, in order of precedence, for each segment: `unchanged` (in this path's previous
//! version; told by the caller), `exact` (same fingerprint first seen in another
//! document), `near` (estimated Jaccard ≥ threshold with a text of another document; the best one
//! is reported), else `new`. Matches inside the same document are not reported: a document's own
//! history is told by `unchanged` and `retracted`.

pub mod fingerprint;
pub mod index;
pub mod lsh;
pub mod minhash;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::text::Page;
use fingerprint::Fingerprint;
use index::Compact;
pub use index::{Index, Level};
use lsh::Banding;
use minhash::{MinHasher, Scheme, Signature};

/// The `dedup.*` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupSettings {
    pub enabled: bool,
    /// Estimated Jaccard similarity from which a text is a near-duplicate.
    pub threshold: f64,
    /// Shingle length: characters for Han text, words for Latin text.
    pub shingle_size: usize,
    /// MinHash permutations (signature length).
    pub permutations: usize,
    /// LSH bands; rows per band = permutations / bands.
    pub bands: usize,
    pub levels: Vec<Level>,
    /// Segments shorter than this (folded chars) get exact matching only, no near matching.
    pub min_segment_chars: usize,
    /// Content gone from the folder is forgotten by the index after this many days (0: never).
    pub retention_days: u64,
    /// At most this many index rows are kept for content gone from the folder (0: no cap).
    pub retention_entries: u64,
}

impl DedupSettings {
    /// The retention these settings give.
    pub fn retention(&self) -> index::Retention {
        index::Retention {
            max_age_s: self.retention_days.saturating_mul(86_400),
            max_rows: self.retention_entries,
        }
    }
}

impl Default for DedupSettings {
    fn default() -> Self {
        DedupSettings {
            enabled: true,
            threshold: 0.8,
            shingle_size: 5,
            permutations: 128,
            bands: 16,
            levels: vec![Level::Document, Level::Article, Level::Segment],
            min_segment_chars: 50,
            retention_days: 30,
            retention_entries: 200_000,
        }
    }
}

/// The dedup stage's configuration with its precomputed permutation seeds and banding.
#[derive(Debug, Clone)]
pub struct Dedup {
    pub settings: DedupSettings,
    hasher: MinHasher,
    banding: Banding,
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup::new(DedupSettings::default())
    }
}

/// Fingerprint and (for texts long enough) compact signature and its band keys, of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    pub fp: Fingerprint,
    pub sig: Option<Compact>,
    pub keys: Vec<i64>,
}

/// Everything [`resolve`] needs about one version, computed off the committer.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub document: String,
    pub version: String,
    pub whole: Option<Sketch>,
    pub articles: Vec<Option<Sketch>>,
    /// One per emitted segment, in order.
    pub segments: Vec<Option<Sketch>>,
    /// Time spent computing this, for `timings_ms.dedup`.
    pub ms: f64,
}

impl Dedup {
    pub fn new(settings: DedupSettings) -> Dedup {
        let scheme = Scheme {
            shingle: settings.shingle_size,
            permutations: settings.permutations,
        };
        Dedup {
            hasher: MinHasher::new(scheme),
            banding: Banding::new(settings.permutations, settings.bands),
            settings,
        }
    }

    pub fn hasher(&self) -> &MinHasher {
        &self.hasher
    }

    pub fn banding(&self) -> Banding {
        self.banding
    }

    fn wants(&self, level: Level) -> bool {
        self.settings.enabled && self.settings.levels.contains(&level)
    }

    /// The scheme id as stored (SQLite integers are signed).
    pub fn scheme_id(&self) -> i64 {
        self.hasher.scheme().id() as i64
    }

    /// Band keys of a signature at a level (of the low 32 bits of its values, as indexed).
    pub fn keys(&self, level: Level, sig: &Signature) -> Vec<i64> {
        self.compact_keys(level, &compact(sig))
    }

    /// Band keys of a compact signature at a level.
    pub fn compact_keys(&self, level: Level, sig: &[u32]) -> Vec<i64> {
        let wide = Signature(sig.iter().map(|&v| u64::from(v)).collect());
        self.banding
            .keys(&wide, self.hasher.scheme().id() ^ (level as u64 + 1) << 56)
    }

    /// The committer's index, loaded from the state database.
    pub fn load_index(&self, conn: &rusqlite::Connection) -> rusqlite::Result<Index> {
        Index::load(
            conn,
            self.scheme_id(),
            self.settings.permutations,
            |level, sig| self.compact_keys(level, sig),
        )
    }

    /// The unit of one text at `level` (given folded: [`fingerprint::fold`]): its fingerprint,
    /// and the compact form of `sig` (the MinHash signature of its shingles) when the text is
    /// long enough for near matching.
    fn unit(
        &self,
        level: Level,
        folded: &str,
        min_chars: usize,
        sig: Option<&Signature>,
    ) -> Sketch {
        let sig = if folded.chars().count() >= min_chars.max(1) {
            sig.map(|bins| compact(&self.hasher.densified(bins.clone())))
        } else {
            None
        };
        let keys = sig
            .as_ref()
            .map(|s| self.compact_keys(level, s))
            .unwrap_or_default();
        Sketch {
            fp: fingerprint::of_folded(folded),
            sig,
            keys,
        }
    }

    /// Fingerprints and signatures of a laid-out version (`text` is the decoded document).
    /// None when dedup is disabled.
    pub fn analyze(
        &self,
        document: &str,
        version: &str,
        text: &str,
        page: &Page,
    ) -> Option<Analysis> {
        if !self.settings.enabled {
            return None;
        }
        let normalized: Vec<String> = page
            .segments
            .iter()
            .map(|s| crate::text::normalize::normalized(&s.text))
            .collect();
        self.analyze_normalized(document, version, text, page, &normalized)
    }

    /// [`Dedup::analyze`] with each segment's normalized text given (`normalized[i]` for
    /// `page.segments[i]`, from [`crate::text::normalize::normalized`]).
    pub fn analyze_normalized(
        &self,
        document: &str,
        version: &str,
        text: &str,
        page: &Page,
        normalized: &[String],
    ) -> Option<Analysis> {
        if !self.settings.enabled {
            return None;
        }
        let started = Instant::now();
        let min = self.settings.min_segment_chars;
        // Each segment's shingles are hashed once, into bins. The bins of an article or of the
        // whole document are the position-wise minimum of its segments' bins: exactly the bins
        // of the union of their shingle sets (shingles never span two segments); each unit's
        // signature is its bins densified.
        let near = [Level::Document, Level::Article, Level::Segment]
            .into_iter()
            .any(|l| self.wants(l));
        // Each segment is normalized and folded once, for its fingerprint and its shingles; an
        // article's folded text is its segments' folded texts one after the other (folding
        // drops the "\n" they would be joined with, and NFKC composes nothing across it).
        // Code is never used for near-duplicates: it has no signature (an exact repeat of it is
        // still told by its fingerprint).
        let (folded, seg_sigs): (Vec<String>, Vec<Option<Signature>>) = normalized
            .iter()
            .zip(&page.segments)
            .map(|(normalized, segment)| {
                if segment.kind == crate::text::SegmentKind::Code {
                    return (fingerprint::fold_normalized(normalized), None);
                }
                let folded = fingerprint::fold_normalized(normalized);
                let sig = near
                    .then(|| {
                        self.hasher
                            .bins_of(&self.hasher.shingle_set_of(normalized, &folded))
                    })
                    .flatten();
                (folded, sig)
            })
            .unzip();
        let whole = self.wants(Level::Document).then(|| {
            let sig = union(&seg_sigs);
            self.unit(Level::Document, &fingerprint::fold(text), min, sig.as_ref())
        });
        let articles = page
            .articles
            .iter()
            .map(|a| {
                self.wants(Level::Article).then(|| {
                    let (first, end) = a.segments;
                    let range = first..=end.min(page.segments.len().saturating_sub(1));
                    let body: String = folded.get(range.clone()).unwrap_or_default().concat();
                    let sig = union(seg_sigs.get(range).unwrap_or_default());
                    self.unit(Level::Article, &body, min, sig.as_ref())
                })
            })
            .collect();
        let segments = seg_sigs
            .iter()
            .zip(&folded)
            .map(|(sig, folded)| {
                self.wants(Level::Segment)
                    .then(|| self.unit(Level::Segment, folded, min, sig.as_ref()))
            })
            .collect();
        Some(Analysis {
            document: document.to_string(),
            version: version.to_string(),
            whole,
            articles,
            segments,
            ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

/// The position-wise minimum of bins ([`MinHasher::bins_of`]): the bins of the union of their
/// sets.
fn union(sigs: &[Option<Signature>]) -> Option<Signature> {
    let mut out: Option<Signature> = None;
    for sig in sigs.iter().flatten() {
        match &mut out {
            None => out = Some(sig.clone()),
            Some(acc) => {
                for (m, &v) in acc.0.iter_mut().zip(&sig.0) {
                    *m = (*m).min(v);
                }
            }
        }
    }
    out
}

/// The compact form of a signature: the low 32 bits of each value.
pub fn compact(sig: &Signature) -> Compact {
    sig.0.iter().map(|&v| v as u32).collect()
}

/// A similarity as the events carry it: four decimals.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Name of an article in `of`: its document and index.
pub fn article_ref(document: &str, index: usize) -> String {
    format!("{document}#{index}")
}

/// Where the dedup verdicts come from: the local index in the state database, or the shared one
/// in NATS JetStream KV. Lookups and inserts of one version happen in one call of [`verdicts`].
pub trait Backend {
    type Error;
    /// The document of another tracked path whose current version has exactly these bytes.
    fn tracked_copy(&mut self, sha256: &str, path: &str) -> Result<Option<String>, Self::Error>;
    /// Records `fp` at `level` as held by `(document, item)` unless someone holds it already;
    /// returns the holder found (which may be `document` itself).
    fn claim_exact(
        &mut self,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> Result<Option<(String, String)>, Self::Error>;
    /// The most similar indexed text of another document at or above `threshold`.
    fn near(
        &mut self,
        level: Level,
        keys: &[i64],
        sig: &[u32],
        exclude_document: &str,
        threshold: f64,
    ) -> Result<Option<index::Match>, Self::Error>;
    /// Indexes a signature under its band keys.
    fn insert_near(
        &mut self,
        level: Level,
        document: &str,
        item: &str,
        sig: &[u32],
        keys: &[i64],
    ) -> Result<(), Self::Error>;
    /// The new version of `document` still holds `(level, fp)` as `item`: what the index holds
    /// of it is present again (for retention; a backend without retention does nothing).
    fn present(
        &mut self,
        _level: Level,
        _fp: &Fingerprint,
        _document: &str,
        _item: &str,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The local backend: the in-memory band index over the state database's tables, inside the
/// committer's transaction.
pub struct Local<'a> {
    pub index: &'a mut Index,
    pub conn: &'a rusqlite::Connection,
}

impl Backend for Local<'_> {
    type Error = rusqlite::Error;
    fn tracked_copy(&mut self, sha256: &str, path: &str) -> rusqlite::Result<Option<String>> {
        index::tracked_copy(self.conn, sha256, path)
    }
    fn claim_exact(
        &mut self,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> rusqlite::Result<Option<(String, String)>> {
        match self.index.exact(self.conn, level, fp)? {
            Some(held) => Ok(Some(held)),
            None => {
                self.index
                    .insert_exact(self.conn, level, fp, document, item)?;
                Ok(None)
            }
        }
    }
    fn near(
        &mut self,
        _level: Level,
        keys: &[i64],
        sig: &[u32],
        exclude_document: &str,
        threshold: f64,
    ) -> rusqlite::Result<Option<index::Match>> {
        self.index
            .near(self.conn, keys, sig, exclude_document, threshold)
    }
    fn insert_near(
        &mut self,
        level: Level,
        document: &str,
        item: &str,
        sig: &[u32],
        keys: &[i64],
    ) -> rusqlite::Result<()> {
        self.index
            .insert_near(self.conn, level, document, item, sig, keys)
    }
    fn present(
        &mut self,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> rusqlite::Result<()> {
        self.index.present(self.conn, level, fp, document, item)
    }
}

/// How a text was found again: a copy of another document's text, or a near copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exact,
    Near,
}

/// The verdict on one text that is not new: what it repeats, and how closely.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    /// The segment id, article reference or document id it repeats.
    pub of: String,
    pub similarity: f64,
}

/// The verdicts on one version, level by level (None: new, or `unchanged` for a segment the
/// caller said so of).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdicts {
    /// The whole file is a byte copy of this tracked document: nothing else was looked up.
    pub copy_of: Option<String>,
    pub document: Option<Verdict>,
    pub articles: Vec<Option<Verdict>>,
    pub segments: Vec<Option<Verdict>>,
    /// Time the lookups took, ms.
    pub index_ms: f64,
}

/// What the caller knows of a version's segments that the index needs: each one's id (the
/// item it is indexed under) and whether it is `unchanged` from the path's previous version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentsSeen {
    pub ids: Vec<String>,
    pub unchanged: Vec<bool>,
}

/// Looks up one unit, indexes it when it is new, and gives its verdict (None: new).
fn lookup<B: Backend>(
    dedup: &Dedup,
    backend: &mut B,
    level: Level,
    unit: &Sketch,
    document: &str,
    item: &str,
    report: &dyn Fn(&str, &str) -> String,
) -> Result<Option<Verdict>, B::Error> {
    match backend.claim_exact(level, &unit.fp, document, item)? {
        Some((holder, held)) if holder != document => {
            return Ok(Some(Verdict {
                status: Status::Exact,
                of: report(&holder, &held),
                similarity: 1.0,
            }));
        }
        // Seen in this document already (an earlier version or an earlier repeat): its
        // signature is indexed too, and it is present again.
        Some((_, held)) => {
            backend.present(level, &unit.fp, document, &held)?;
            return Ok(None);
        }
        None => {}
    }
    let Some(sig) = &unit.sig else {
        return Ok(None);
    };
    let threshold = dedup.settings.threshold;
    let found = backend.near(level, &unit.keys, sig, document, threshold)?;
    backend.insert_near(level, document, item, sig, &unit.keys)?;
    Ok(found.map(|m| Verdict {
        status: Status::Near,
        of: report(&m.document, &m.item),
        similarity: round4(m.similarity),
    }))
}

/// The verdicts on one version's texts from the index, indexing what is new (through
/// `backend`: for the local index, if the transaction is rolled back, the index must be loaded
/// again). A version whose bytes equal another tracked file's is a copy and nothing else is
/// looked up. `seen` says which segments are `unchanged` (not looked up, marked present).
pub fn verdicts<B: Backend>(
    dedup: &Dedup,
    backend: &mut B,
    a: &Analysis,
    path: &str,
    seen: &SegmentsSeen,
) -> Result<Verdicts, B::Error> {
    let started = Instant::now();
    let mut out = Verdicts::default();
    if let Some(of) = backend.tracked_copy(&a.version, path)? {
        out.copy_of = Some(of);
        out.index_ms = started.elapsed().as_secs_f64() * 1000.0;
        return Ok(out);
    }
    let as_is = |_: &str, item: &str| item.to_string();
    for (i, unit) in a.segments.iter().enumerate() {
        let Some(unit) = unit else {
            out.segments.push(None);
            continue;
        };
        let id = seen.ids.get(i).map_or("", String::as_str);
        if seen.unchanged.get(i).copied().unwrap_or(false) {
            backend.present(Level::Segment, &unit.fp, &a.document, id)?;
            out.segments.push(None);
            continue;
        }
        let v = lookup(
            dedup,
            backend,
            Level::Segment,
            unit,
            &a.document,
            id,
            &as_is,
        )?;
        out.segments.push(v);
    }
    for (i, unit) in a.articles.iter().enumerate() {
        let v = match unit {
            Some(unit) => {
                let item = article_ref(&a.document, i);
                lookup(
                    dedup,
                    backend,
                    Level::Article,
                    unit,
                    &a.document,
                    &item,
                    &as_is,
                )?
            }
            None => None,
        };
        out.articles.push(v);
    }
    if let Some(unit) = &a.whole {
        let holder = |document: &str, _: &str| document.to_string();
        out.document = lookup(
            dedup,
            backend,
            Level::Document,
            unit,
            &a.document,
            &a.version,
            &holder,
        )?;
    }
    out.index_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_folds_like_its_segments_joined() {
        // What `analyze` relies on: folding texts joined with "\n" gives their folded forms one
        // after the other, whatever they start or end with (combining marks, full width,
        // spaces, half-width kana with a voiced mark).
        let parts = [
            "\u{301}开头是组合符",
            "结尾是e",
            "\u{301}",
            "ＡＢＣ（３月）\u{3000}",
            " ｶ",
            "\u{ff9e}ﾊﾟ",
            "",
            "增长5%。",
        ];
        for i in 0..parts.len() {
            for j in i..parts.len() {
                let joined = parts[i..=j].join("\n");
                let concat: String = parts[i..=j].iter().map(|p| fingerprint::fold(p)).collect();
                assert_eq!(fingerprint::fold(&joined), concat, "{:?}", &parts[i..=j]);
            }
        }
    }

    #[test]
    fn the_union_of_signatures_is_the_signature_of_the_union() {
        let dedup = Dedup::default();
        let h = dedup.hasher();
        let parts = [
            "海口高新区举行重大项目集中签约仪式，共签约项目12个，总投资508亿元。",
            "据介绍，这些项目涵盖新能源、生物医药和智能制造等领域。",
            "The council approved the budget on Tuesday after a long debate.",
        ];
        let sigs: Vec<Option<Signature>> =
            parts.iter().map(|p| h.bins_of(&h.shingle_set(p))).collect();
        let mut all: Vec<u64> = parts.iter().flat_map(|p| h.shingle_set(p)).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(union(&sigs), h.bins_of(&all));
        assert_eq!(union(&sigs).map(|b| h.densified(b)), h.signature_of(&all));
        assert_eq!(union(&sigs[..1]), sigs[0]);
        // Densified signatures would not do: a bin one part borrowed must take the other's own.
        let dense: Vec<Option<Signature>> = parts.iter().map(|p| h.signature(p)).collect();
        assert_ne!(union(&dense), h.signature_of(&all));
        assert_eq!(union(&[None, None]), None);
    }
}
