//! What the pipeline makes of each detector [`Job`]: the events of one file version (or move,
//! removal, failure) and the state change that commits it. One job gives one [`Committable`],
//! whose events are written contiguously.

use std::time::Instant;

use serde_json::{json, Value};

use crate::dedup::{Analysis, Dedup};
use crate::detect::{FailKind, Failure, FileVersion, Job};
use crate::event::payload::{
    to_data, DedupData, DocumentFailedData, DocumentIngestedData, ErrorData, FileMovedData,
    FileRemovedData, FileVersionData, SegmentData, Timings,
};
use crate::event::{self, document_id, Event};
use crate::extract::{self, PageExtraction};
use crate::metrics::Stage;
use crate::read::Format;
use crate::store::{FileRecord, FileStatus, StateOp};
use crate::text::{self, decode::decode};

/// What the commit step must complete from the committed state before writing.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Nothing,
    /// Mark segments that the previous version had as `unchanged`, and list the gone ones as
    /// `retracted` in the document event (the last event).
    Version {
        segments: Vec<String>,
    },
    /// List every committed segment of the path as `retracted` (in the only event): the file is
    /// gone, or its new version could not be taken in.
    RetractAll,
}

/// The events and state change of one job, ready for the commit step.
#[derive(Debug, Clone)]
pub struct Committable {
    pub path: String,
    pub events: Vec<Event>,
    pub ops: Vec<StateOp>,
    pub pending: Pending,
    /// Counted as a file version taken in (for progress and summaries).
    pub is_version: bool,
    /// Fingerprints and signatures for the dedup stage's lookups at commit time.
    pub dedup: Option<Box<Analysis>>,
    /// The version's share of the byte budget, held until the commit step is done with it: the
    /// events of a large file weigh more than its bytes.
    pub permit: Option<std::sync::Arc<crate::budget::Permit>>,
}

/// What processing needs to know, passed in (never read from process-wide state): the dedup
/// stage's settings, the extraction options and whether segment events carry tokens.
#[derive(Debug, Clone, Default)]
pub struct Processor {
    pub dedup: Dedup,
    pub extract: extract::Options,
    /// `output.tokens`.
    pub tokens: bool,
    /// Where the stage times go (decode, segment, extract, dedup).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// `formats.off`.
    pub formats_off: Vec<Format>,
    /// `formats.max_*`: the bounds on reading one document.
    pub limits: crate::read::Limits,
}

impl Processor {
    /// The processor a run's settings describe.
    pub fn new(
        settings: &crate::config::Settings,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Processor {
        Processor {
            dedup: Dedup::new(settings.dedup.clone()),
            extract: settings.extract.options(),
            tokens: settings.output.tokens,
            metrics,
            formats_off: settings.formats.off.clone(),
            limits: settings.formats.limits(),
        }
    }

    /// Why a file in `format` is not read, or None when it is.
    fn refuses(&self, format: Format) -> Option<String> {
        if !format.is_read() {
            return Some(format!(
                "{}: sluice recognises this format but does not read its text yet",
                format.describe()
            ));
        }
        self.formats_off.contains(&format).then(|| {
            format!(
                "{}, and formats.off turns {format} off; take it out of formats.off to read \
                 such files",
                format.describe()
            )
        })
    }

    /// Turns one job into its committable form. CPU-bound for versions: run it off the async
    /// threads.
    pub fn process(&self, job: Job) -> Committable {
        process_with(job, self)
    }
}

/// Turns one job into its committable form with the default settings (tools and tests).
pub fn process(job: Job) -> Committable {
    Processor::default().process(job)
}

fn process_with(job: Job, p: &Processor) -> Committable {
    match job {
        Job::Version(mut v) => {
            let permit = v.permit.take().map(std::sync::Arc::new);
            Committable {
                permit,
                ..process_version(v, p)
            }
        }
        Job::Moved {
            from,
            to,
            sha256,
            stat,
        } => {
            let document = document_id(&to);
            let data = to_data(&FileMovedData {
                from: &from,
                to: &to,
                sha256: &sha256,
                document: &document,
                previous_document: &document_id(&from),
            });
            Committable {
                events: vec![Event::new(
                    event::EventType::FileMoved,
                    &to,
                    Some(&sha256),
                    0,
                    data,
                )],
                ops: vec![StateOp::Rename {
                    from,
                    to: to.clone(),
                    stat,
                    document,
                }],
                path: to,
                pending: Pending::Nothing,
                is_version: false,
                permit: None,
                dedup: None,
            }
        }
        Job::Removed { path, sha256 } => {
            let data = to_data(&FileRemovedData {
                path: &path,
                sha256: sha256.as_deref(),
                document: &document_id(&path),
                retracted: [],
            });
            Committable {
                events: vec![Event::new(
                    event::EventType::FileRemoved,
                    &path,
                    sha256.as_deref(),
                    0,
                    data,
                )],
                ops: vec![StateOp::Delete(path.clone())],
                path,
                pending: Pending::RetractAll,
                is_version: false,
                permit: None,
                dedup: None,
            }
        }
        Job::Restat { path, stat } => Committable {
            events: Vec::new(),
            ops: vec![StateOp::Restat {
                path: path.clone(),
                stat,
            }],
            path,
            pending: Pending::Nothing,
            is_version: false,
            permit: None,
            dedup: None,
        },
        Job::Failed(f) => failed(f),
    }
}

/// The failure event of a version that could not be taken in.
pub fn failed(f: Failure) -> Committable {
    let data = to_data(&DocumentFailedData {
        path: &f.path,
        document: &document_id(&f.path),
        sha256: f.sha256.as_deref(),
        stage: f.stage,
        error: ErrorData {
            kind: f.kind,
            message: &f.message,
        },
        retracted: [],
    });
    tracing::warn!(path = %f.path, kind = f.kind.as_str(), "{}", f.message);
    // The failure is recorded (segments cleared) so the state matches the detector's index; a
    // file that vanished leaves nothing to record.
    let ops = if f.kind == FailKind::Vanished {
        Vec::new()
    } else {
        vec![StateOp::Upsert(FileRecord {
            path: f.path.clone(),
            stat: f.stat.unwrap_or_default(),
            sha256: f.sha256.clone(),
            status: FileStatus::Failed,
            fail_kind: Some(f.kind.as_str().to_string()),
            document: document_id(&f.path),
            segments: Vec::new(),
        })]
    };
    Committable {
        events: vec![Event::new(
            event::EventType::DocumentFailed,
            &f.path,
            f.sha256.as_deref(),
            0,
            data,
        )],
        ops,
        path: f.path,
        pending: Pending::RetractAll,
        is_version: true,
        permit: None,
        dedup: None,
    }
}

fn process_version(v: FileVersion, p: &Processor) -> Committable {
    let started = Instant::now();
    let Some(bytes) = v.bytes.as_deref() else {
        return failed(Failure {
            path: v.path,
            stage: crate::event::FailStage::Read,
            kind: FailKind::InternalError,
            message: "the version reached decoding without its bytes".into(),
            sha256: Some(v.sha256),
            stat: None,
        });
    };
    let format = crate::read::sniff(bytes, &v.path);
    if let Some(message) = p.refuses(format) {
        return failed(Failure {
            path: v.path,
            stage: crate::event::FailStage::Decode,
            kind: FailKind::UnsupportedFormat,
            message,
            sha256: Some(v.sha256),
            stat: Some(v.stat),
        });
    }
    let metrics = &p.metrics;
    let (doc_text, encoding, page, meta, decoded_at) = match read_document(format, bytes, p) {
        Ok(read) => read,
        Err(e) => {
            metrics.observe(Stage::Decode, started.elapsed());
            return failed(Failure {
                path: v.path,
                stage: crate::event::FailStage::Decode,
                kind: e.kind,
                message: e.message,
                sha256: Some(v.sha256),
                stat: Some(v.stat),
            });
        }
    };
    metrics.observe(Stage::Decode, decoded_at - started);
    let segments = &page.segments;
    let segmented_at = Instant::now();
    let emit_tokens = p.tokens;
    let extracted = extract::extract_page(
        &page,
        text::words::shared(),
        &p.extract,
        mtime_date(v.stat.mtime_ns),
    );
    let extracted_at = Instant::now();
    metrics.observe(Stage::Segment, segmented_at - decoded_at);
    metrics.observe(Stage::Extract, extracted_at - segmented_at);

    let document = document_id(&v.path);
    let subject = v.path.as_str();
    // Ids hash the version and the one it replaced: A -> B -> A gives new ids the second time,
    // while a re-emission after a crash (same state, same version) gives the same ids.
    let version_key = match &v.previous_sha256 {
        Some(prev) => format!("{}<{prev}", v.sha256),
        None => v.sha256.clone(),
    };
    let sha = Some(version_key.as_str());
    let mut events = Vec::with_capacity(segments.len() + 2);
    let file_type = match v.previous_sha256 {
        Some(_) => event::EventType::FileChanged,
        None => event::EventType::FileAdded,
    };
    let file_data = to_data(&FileVersionData {
        path: &v.path,
        size: v.stat.size,
        mtime: rfc3339_ns(v.stat.mtime_ns),
        sha256: &v.sha256,
        previous_sha256: v.previous_sha256.as_deref(),
    });
    events.push(Event::new(file_type, subject, sha, 0, file_data));

    // Each segment's normalized text, for its id and for dedup.
    let normalized: Vec<String> = segments
        .iter()
        .map(|s| text::normalize::normalized(&s.text))
        .collect();
    let ids = segment_events(
        &mut events,
        &page,
        &normalized,
        &extracted,
        SegmentsOf {
            subject,
            document: &document,
            version: &v.sha256,
            id_key: sha,
            tokens: emit_tokens,
        },
    );

    let articles = articles_table(&page.articles, &extracted);
    let mut counts = json!({
        "segments": segments.len(),
        "articles": page.articles.len(),
        "chars": doc_text.chars().count(),
    });
    for (key, n) in extracted.counts() {
        counts[key] = json!(n);
    }
    let analysing = Instant::now();
    let analysis = p
        .dedup
        .analyze_normalized(&document, &v.sha256, &doc_text, &page, &normalized)
        .map(Box::new);
    if analysis.is_some() {
        metrics.observe(Stage::Dedup, analysing.elapsed());
    }
    let done = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    events.push(Event::new(
        event::EventType::DocumentIngested,
        subject,
        sha,
        0,
        to_data(&DocumentIngestedData {
            document: &document,
            path: &v.path,
            version: &v.sha256,
            previous_version: v.previous_sha256.as_deref(),
            size: v.stat.size,
            encoding: &encoding,
            format: format.as_str(),
            language: page.language,
            metadata: (!meta.is_empty()).then(|| to_data(&meta)),
            articles,
            counts,
            reference_date: extracted.reference_json(),
            dedup: DedupData::new_content(),
            retracted: [],
            timings_ms: Timings {
                decode: ms(started, decoded_at),
                segment: ms(decoded_at, segmented_at),
                extract: ms(segmented_at, extracted_at),
                total: ms(started, done),
            },
        }),
    ));

    Committable {
        ops: vec![StateOp::Upsert(FileRecord {
            path: v.path.clone(),
            stat: v.stat,
            sha256: Some(v.sha256.clone()),
            status: FileStatus::Ingested,
            fail_kind: None,
            document,
            segments: ids.clone(),
        })],
        path: v.path,
        events,
        pending: Pending::Version { segments: ids },
        is_version: true,
        permit: None,
        dedup: analysis,
    }
}

/// A version's text, its encoding, its page laid out and what it says about itself, and when
/// reading ended (the decode stage): plain text is decoded and laid out as lines; every other
/// format goes through its reader.
fn read_document(
    format: Format,
    bytes: &[u8],
    p: &Processor,
) -> Result<(String, String, text::Page, crate::read::Meta, Instant), crate::read::ReadFailure> {
    use crate::read::Body;
    if format == Format::Text {
        let decoded = decode(bytes)?;
        let at = Instant::now();
        let page = text::analyze(&decoded.text);
        return Ok((decoded.text, decoded.encoding, page, Default::default(), at));
    }
    let read = crate::read::read(format, bytes, &p.limits)?;
    let at = Instant::now();
    let (doc_text, mut page) = match read.body {
        Body::Blocks(blocks) => text::analyze_blocks(blocks),
        Body::Lines { text: t, lines } => {
            let mut page = text::analyze(&t);
            place(&mut page, &lines);
            (t, page)
        }
    };
    if page.segments.is_empty() {
        return Err(crate::read::ReadFailure::new(
            FailKind::Empty,
            format!(
                "{} with no text in it; it is ingested once it has some",
                format.describe()
            ),
        ));
    }
    page.published = read.meta.published_date();
    // Authors the document names in its metadata credit its first article when its layout
    // credits no one.
    if let Some(first) = page.articles.first_mut() {
        if first.authors.is_empty() {
            first.authors = read.meta.authors.clone();
        }
    }
    Ok((doc_text, read.encoding, page, read.meta, at))
}

/// Gives each segment laid out from lines the source of its lines: the page of its first line
/// and the box around its lines on that page.
fn place(page: &mut text::Page, lines: &[(usize, text::Source)]) {
    let mut k = 0usize;
    for seg in &mut page.segments {
        while k + 1 < lines.len() && lines[k + 1].0 <= seg.span.byte_start {
            k += 1;
        }
        let mut source: Option<text::Source> = None;
        let mut j = k;
        while j < lines.len() && lines[j].0 < seg.span.byte_end.max(seg.span.byte_start + 1) {
            if let text::Source::Page { page: n, r#box: b } = &lines[j].1 {
                source = Some(match source {
                    None => text::Source::Page {
                        page: *n,
                        r#box: *b,
                    },
                    Some(text::Source::Page {
                        page: first,
                        r#box: acc,
                    }) if first == *n => text::Source::Page {
                        page: first,
                        r#box: [
                            acc[0].min(b[0]),
                            acc[1].min(b[1]),
                            acc[2].max(b[2]),
                            acc[3].max(b[3]),
                        ],
                    },
                    Some(other) => other,
                });
            }
            j += 1;
        }
        seg.source = source;
    }
}

/// Whose segments [`segment_events`] makes events for.
pub struct SegmentsOf<'a> {
    /// The path, as events name it.
    pub subject: &'a str,
    pub document: &'a str,
    /// The version's sha256.
    pub version: &'a str,
    /// What event ids hash besides the subject and the index (the version, and the one it
    /// replaced).
    pub id_key: Option<&'a str>,
    /// Whether segment events carry tokens (`output.tokens`).
    pub tokens: bool,
}

/// Appends one `sluice.segment` event per segment of `page` to `events` (`normalized[i]` is
/// segment `i`'s normalized text, which its id hashes); returns the segment ids in order. Only
/// what the commit step may still change (`segment`, `dedup`) stays a value; the rest of each
/// payload is serialized here, on the worker thread.
pub fn segment_events(
    events: &mut Vec<Event>,
    page: &text::Page,
    normalized: &[String],
    extracted: &PageExtraction,
    of: SegmentsOf,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(page.segments.len());
    let none = extract::SegmentExtraction::default();
    for (index, seg) in page.segments.iter().enumerate() {
        let id = match normalized.get(index) {
            Some(n) => text::segment_id_of_normalized(n),
            None => seg.id(),
        };
        let found = extracted.segments.get(index).unwrap_or(&none);
        let data = to_data(&SegmentData {
            segment: &id,
            dedup: DedupData::new_content(),
        });
        // Every payload object has its keys in order.
        let mut raw = vec![
            event::raw_field("article", &seg.article),
            event::raw_field("dates", &found.dates),
            event::raw_field("document", of.document),
            event::raw_field("entities", &found.entities),
            event::raw_field("figures", &found.figures),
            event::raw_field("index", &index),
            event::raw_field("kind", &seg.kind),
            event::raw_field("language", &seg.language),
            event::raw_field("sentences", &Sentences(&seg.sentences)),
        ];
        if let Some(source) = &seg.source {
            raw.push(event::raw_field("source", source));
        }
        raw.extend([
            event::raw_field("span", &SpanOut(&seg.span)),
            event::raw_field("text", &seg.text),
            event::raw_field("version", of.version),
        ]);
        if of.tokens {
            let tokens = json!(text::words::shared().tokens(&seg.text));
            raw.push(event::raw_field("tokens", &tokens));
        }
        let e = Event::new(
            event::EventType::Segment,
            of.subject,
            of.id_key,
            index as u64,
            data,
        );
        events.push(e.with_raw(raw));
        ids.push(id);
    }
    ids
}

/// A segment's sentences as the event has them: `[{char_end, char_start}, …]`.
struct Sentences<'a>(&'a [(usize, usize)]);

impl serde::Serialize for Sentences<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Sentence {
            char_end: usize,
            char_start: usize,
        }
        serializer.collect_seq(self.0.iter().map(|&(start, end)| Sentence {
            char_end: end,
            char_start: start,
        }))
    }
}

/// A segment's span as the event has it: `{byte_end, byte_start, char_end, char_start}`.
struct SpanOut<'a>(&'a text::Span);

impl serde::Serialize for SpanOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Out {
            byte_end: usize,
            byte_start: usize,
            char_end: usize,
            char_start: usize,
        }
        let s = self.0;
        Out {
            byte_end: s.byte_end,
            byte_start: s.byte_start,
            char_end: s.char_end,
            char_start: s.char_start,
        }
        .serialize(serializer)
    }
}

/// The article table of the document event: one entry per article, with its segment range.
fn articles_table(articles: &[text::Article], extracted: &PageExtraction) -> Value {
    let rows: Vec<Value> = articles
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let keywords = extracted.keywords.get(i).cloned().unwrap_or_default();
            json!({
                "index": a.index, "title": a.title, "authors": a.authors, "dateline": a.dateline,
                "photo_credit": a.photo_credit, "keywords": keywords,
                "segments": [a.segments.0, a.segments.1],
                "dedup": to_data(&DedupData::new_content()),
            })
        })
        .collect();
    Value::Array(rows)
}

/// The UTC calendar date of a file's mtime: the last resort for the reference date.
fn mtime_date(ns: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

fn rfc3339_ns(ns: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(ns as i128)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000000000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StatIdentity;

    fn version(text: &str, previous: Option<&str>) -> FileVersion {
        FileVersion {
            path: "news/a.txt".into(),
            stat: StatIdentity::default(),
            sha256: format!("{:x}", text.len()),
            bytes: Some(text.as_bytes().to_vec()),
            previous_sha256: previous.map(String::from),
            permit: None,
        }
    }

    #[test]
    fn a_version_is_file_event_then_segments_then_document_event() {
        let c = process(Job::Version(version("一段。\n\n二段。\n", None)));
        let kinds: Vec<event::EventType> = c.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                event::EventType::FileAdded,
                event::EventType::Segment,
                event::EventType::Segment,
                event::EventType::DocumentIngested
            ]
        );
        assert_eq!(c.events[2].payload()["index"], 1);
        assert_eq!(c.events[3].data["articles"][0]["segments"], json!([0, 1]));
        assert_eq!(c.events[3].data["language"], "zh-Hans");
    }

    #[test]
    fn an_edit_marks_kept_segments_unchanged_and_retracts_the_gone_one() {
        let old = process(Job::Version(version("甲。\n\n乙。\n", None)));
        let Pending::Version { segments: old_ids } = old.pending.clone() else {
            panic!()
        };
        let mut new = process(Job::Version(version("甲。\n\n丙。\n", Some("x"))));
        crate::commit::complete(&mut new, Some(&old_ids));
        assert_eq!(new.events[0].kind, event::EventType::FileChanged);
        assert_eq!(new.events[0].data["previous_sha256"], "x");
        assert_eq!(new.events[1].data["dedup"]["status"], "unchanged");
        assert_eq!(new.events[2].data["dedup"]["status"], "new");
        assert_eq!(new.events[3].data["retracted"], json!([old_ids[1]]));
    }

    #[test]
    fn segments_carry_sentences_and_articles_their_metadata() {
        let text = "会议召开\n\n本报讯 (记者 张三) 3月5日,会议召开。代表发言。\n";
        let c = process(Job::Version(version(text, None)));
        let para = &c.events[2].payload();
        assert_eq!(para["kind"], "paragraph");
        assert_eq!(
            para["sentences"],
            json!([{"char_start": 0, "char_end": 22}, {"char_start": 22, "char_end": 27}])
        );
        assert!(para.get("tokens").is_none());
        let article = &c.events[3].data["articles"][0];
        assert_eq!(article["title"], "会议召开");
        assert_eq!(article["dateline"], "本报讯 (记者 张三) 3月5日");
        assert_eq!(article["authors"], json!(["张三"]));
        assert_eq!(article["segments"], json!([0, 1]));
    }

    #[test]
    fn segments_carry_figures_dates_and_entities_and_the_document_counts_them() {
        let text = "园区投资\n\n本报讯 (记者 张三) 3月5日,园区总投资227.03亿元,同比增长6.9%。\n";
        let c = process(Job::Version(version(text, None)));
        let para = &c.events[2].payload();
        let figures = para["figures"].as_array().cloned().unwrap_or_default();
        assert_eq!(figures.len(), 2, "{figures:?}");
        assert_eq!(figures[0]["value"].to_string(), "22703000000");
        assert_eq!(figures[0]["unit"], "CNY");
        assert_eq!(figures[1]["value"].to_string(), "6.9");
        let chars: Vec<char> = para["text"].as_str().unwrap_or_default().chars().collect();
        let start = figures[0]["char_start"].as_u64().unwrap_or(0) as usize;
        let end = figures[0]["char_end"].as_u64().unwrap_or(0) as usize;
        assert_eq!(chars[start..end].iter().collect::<String>(), "227.03亿元");
        assert_eq!(para["dates"][0]["text"], "3月5日");
        assert_eq!(para["dates"][0]["resolved_from"], "mtime");
        assert!(para["entities"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["type"] == "person" && e["text"] == "张三")));
        let doc = &c.events[3].data;
        assert_eq!(doc["counts"]["figures_money"], 1);
        assert_eq!(doc["counts"]["figures_percent"], 1);
        assert_eq!(doc["counts"]["dates"], 1);
        assert!(doc["articles"][0]["keywords"]
            .as_array()
            .is_some_and(|k| !k.is_empty()));
    }

    #[test]
    fn undecodable_bytes_give_one_failed_event() {
        let c = process(Job::Version(FileVersion {
            bytes: Some(vec![0, 1, 2, 3, 0, 0, 0xFF, 0xFE, 0x00, 0x00, 0x10]),
            ..version("", None)
        }));
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0].kind, event::EventType::DocumentFailed);
        assert_eq!(c.events[0].data["error"]["kind"], "not_text");
    }
}
