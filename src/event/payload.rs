//! The payloads (`data`) of sluice's events, as types. Processing builds them; the commit step
//! changes what only it can know through [`Event`]'s methods below (what a version retracts,
//! dedup verdicts, the time dedup took), so no other module spells a payload key.
//!
//! An event carries its payload as a JSON value (plus fields serialized once on the worker
//! thread, see [`Event::raw`]), and a JSON object's keys are written in key order, whatever the
//! order of the fields here.

use serde::Serialize;
use serde_json::{json, Value};

use super::{Event, EventType, FailKind, FailStage};

/// `sluice.file.added` and `sluice.file.changed`.
#[derive(Debug, Serialize)]
pub struct FileVersionData<'a> {
    pub path: &'a str,
    pub size: u64,
    /// RFC 3339 with nanoseconds, UTC.
    pub mtime: String,
    pub sha256: &'a str,
    /// `file.changed` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<&'a str>,
}

/// `sluice.file.moved`.
#[derive(Debug, Serialize)]
pub struct FileMovedData<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub sha256: &'a str,
    pub document: &'a str,
    pub previous_document: &'a str,
}

/// `sluice.file.removed`.
#[derive(Debug, Serialize)]
pub struct FileRemovedData<'a> {
    pub path: &'a str,
    pub sha256: Option<&'a str>,
    pub document: &'a str,
    /// Filled by the commit step ([`Event::set_retracted`]).
    pub retracted: [&'a str; 0],
}

/// `sluice.document.failed`.
#[derive(Debug, Serialize)]
pub struct DocumentFailedData<'a> {
    pub path: &'a str,
    pub document: &'a str,
    pub sha256: Option<&'a str>,
    pub stage: FailStage,
    pub error: ErrorData<'a>,
    /// Filled by the commit step ([`Event::set_retracted`]).
    pub retracted: [&'a str; 0],
}

#[derive(Debug, Serialize)]
pub struct ErrorData<'a> {
    pub kind: FailKind,
    pub message: &'a str,
}

/// `sluice.document.ingested`.
#[derive(Debug, Serialize)]
pub struct DocumentIngestedData<'a> {
    pub document: &'a str,
    pub path: &'a str,
    pub version: &'a str,
    pub previous_version: Option<&'a str>,
    pub size: u64,
    pub encoding: &'a str,
    /// What the file was read as (`text`, `markdown`, `html`).
    pub format: &'a str,
    pub language: &'a str,
    /// What the document says about itself (title, authors, published, site, language,
    /// pages), for formats that carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// One entry per article (see `process::articles_table`), each with its own `dedup`.
    pub articles: Value,
    /// Segments, articles, chars, and what extraction found by kind.
    pub counts: Value,
    pub reference_date: Value,
    /// `new` until the commit step says otherwise ([`Event::set_dedup`]).
    pub dedup: DedupData,
    /// Filled by the commit step ([`Event::set_retracted`]).
    pub retracted: [&'a str; 0],
    pub timings_ms: Timings,
}

/// What a segment, an article or a document repeats: `{status, of, similarity}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DedupData {
    pub status: &'static str,
    pub of: Option<String>,
    pub similarity: Option<f64>,
}

impl DedupData {
    /// Nothing seen before holds it.
    pub fn new_content() -> DedupData {
        DedupData {
            status: "new",
            of: None,
            similarity: None,
        }
    }
}

/// Where a version's time went, in milliseconds (the commit step adds `dedup` and
/// `dedup_index`).
#[derive(Debug, Serialize)]
pub struct Timings {
    pub decode: f64,
    pub segment: f64,
    pub extract: f64,
    pub total: f64,
}

/// The part of a segment's payload the commit step may still change; the rest is serialized
/// on the worker thread.
#[derive(Debug, Serialize)]
pub struct SegmentData<'a> {
    pub segment: &'a str,
    pub dedup: DedupData,
}

/// A payload as the value an event carries.
pub fn to_data(payload: &impl Serialize) -> Value {
    serde_json::to_value(payload).expect("a payload serializes to JSON")
}

impl Event {
    /// What a version takes back of its path's previous segments (`retracted`).
    pub fn set_retracted(&mut self, ids: &[&str]) {
        self.data["retracted"] = json!(ids);
    }

    /// A segment event's id (`segment`); empty for other events.
    pub fn segment_id(&self) -> &str {
        match self.kind {
            EventType::Segment => self.data["segment"].as_str().unwrap_or_default(),
            _ => "",
        }
    }

    /// Whether the commit step marked this segment as one its path already had.
    pub fn is_unchanged(&self) -> bool {
        self.data["dedup"]["status"] == "unchanged"
    }

    /// Marks a segment as one its path's previous version had.
    pub fn mark_unchanged(&mut self) {
        self.data["dedup"]["status"] = json!("unchanged");
    }

    /// The verdict of a segment or a document.
    pub fn set_dedup(&mut self, verdict: DedupData) {
        self.data["dedup"] = to_data(&verdict);
    }

    /// The verdict of each article of a document event, in article order (None leaves one as
    /// it is).
    pub fn set_article_dedup(&mut self, verdicts: impl IntoIterator<Item = Option<DedupData>>) {
        if let Some(articles) = self.data["articles"].as_array_mut() {
            for (article, verdict) in articles.iter_mut().zip(verdicts) {
                if let Some(verdict) = verdict {
                    article["dedup"] = to_data(&verdict);
                }
            }
        }
    }

    /// The number of articles of a document event.
    pub fn article_count(&self) -> usize {
        self.data["articles"].as_array().map_or(0, Vec::len)
    }

    /// The time dedup took on a document event: analysis on the worker, index at commit.
    pub fn set_dedup_timings(&mut self, analysis_ms: f64, index_ms: f64) {
        if self.data["timings_ms"].is_object() {
            self.data["timings_ms"]["dedup"] = json!(analysis_ms);
            self.data["timings_ms"]["dedup_index"] = json!(index_ms);
        }
    }
}
