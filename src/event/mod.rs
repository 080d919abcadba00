//! The output contract: CloudEvents 1.0 envelopes around sluice's payloads.
//!
//! An [`Event`] is built by the pipeline without a sequence number or a time; the sink stamps both
//! when it writes the line, so the sequence is assigned in log order by a single writer.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub mod payload;

/// The CloudEvents `type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    FileAdded,
    FileChanged,
    FileMoved,
    FileRemoved,
    Segment,
    DocumentIngested,
    DocumentFailed,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::FileAdded,
        EventType::FileChanged,
        EventType::FileMoved,
        EventType::FileRemoved,
        EventType::Segment,
        EventType::DocumentIngested,
        EventType::DocumentFailed,
    ];

    /// The name the log carries, `sluice.…`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::FileAdded => "sluice.file.added",
            EventType::FileChanged => "sluice.file.changed",
            EventType::FileMoved => "sluice.file.moved",
            EventType::FileRemoved => "sluice.file.removed",
            EventType::Segment => "sluice.segment",
            EventType::DocumentIngested => "sluice.document.ingested",
            EventType::DocumentFailed => "sluice.document.failed",
        }
    }

    /// The type named `s` in a log line.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The step at which a version failed: the `stage` of `sluice.document.failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailStage {
    /// Looking at the path (what it is, where it leads).
    Stat,
    Read,
    Decode,
    /// Processing panicked.
    Process,
    /// NATS mode: the version's events do not fit in what the server takes.
    Publish,
}

impl FailStage {
    pub const ALL: [FailStage; 5] = [
        FailStage::Stat,
        FailStage::Read,
        FailStage::Decode,
        FailStage::Process,
        FailStage::Publish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailStage::Stat => "stat",
            FailStage::Read => "read",
            FailStage::Decode => "decode",
            FailStage::Process => "process",
            FailStage::Publish => "publish",
        }
    }

    /// The stage named `s` (as a NATS job carries it).
    pub fn parse(s: &str) -> Option<FailStage> {
        FailStage::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FailStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a file version could not be taken in: the `error.kind` of `sluice.document.failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    NotText,
    DecodeError,
    Empty,
    TooLarge,
    PermissionDenied,
    Vanished,
    SymlinkLoop,
    IoError,
    InternalError,
    /// A link that leads outside the watched folder (`watch.symlinks = inside`).
    OutsideWatch,
    /// A link, with `watch.symlinks = never`.
    SymlinkRefused,
    /// A path that leads to sluice's own log or state.
    OwnFile,
    /// A FIFO, socket or device node.
    SpecialFile,
    /// A path longer than the kernel takes (ENAMETOOLONG).
    PathTooLong,
    /// A file name that is not UTF-8.
    BadName,
    /// The file changed every time it was read.
    Changing,
    /// A format sluice recognises but does not read (or was told not to: `formats.off`).
    UnsupportedFormat,
    /// A document whose format is recognised but whose structure is broken (a corrupt zip or
    /// PDF, HTML nested past `formats.max_html_depth`).
    MalformedDocument,
}

impl FailKind {
    pub const ALL: [FailKind; 18] = [
        FailKind::NotText,
        FailKind::DecodeError,
        FailKind::Empty,
        FailKind::TooLarge,
        FailKind::PermissionDenied,
        FailKind::Vanished,
        FailKind::SymlinkLoop,
        FailKind::IoError,
        FailKind::InternalError,
        FailKind::OutsideWatch,
        FailKind::SymlinkRefused,
        FailKind::OwnFile,
        FailKind::SpecialFile,
        FailKind::PathTooLong,
        FailKind::BadName,
        FailKind::Changing,
        FailKind::UnsupportedFormat,
        FailKind::MalformedDocument,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::NotText => "not_text",
            FailKind::DecodeError => "decode_error",
            FailKind::Empty => "empty",
            FailKind::TooLarge => "too_large",
            FailKind::PermissionDenied => "permission_denied",
            FailKind::Vanished => "vanished",
            FailKind::SymlinkLoop => "symlink_loop",
            FailKind::IoError => "io_error",
            FailKind::InternalError => "internal_error",
            FailKind::OutsideWatch => "outside_watch",
            FailKind::SymlinkRefused => "symlink_refused",
            FailKind::OwnFile => "own_file",
            FailKind::SpecialFile => "special_file",
            FailKind::PathTooLong => "path_too_long",
            FailKind::BadName => "bad_name",
            FailKind::Changing => "changing",
            FailKind::UnsupportedFormat => "unsupported_format",
            FailKind::MalformedDocument => "malformed_document",
        }
    }

    /// The kind named `s` (as stored in the state or carried by a NATS job).
    pub fn parse(s: &str) -> Option<FailKind> {
        FailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event before the sink gives it a place in the log.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventType,
    /// Path relative to the watched folder, `/`-separated.
    pub subject: String,
    pub id: String,
    /// The payload (a JSON object), or, when `raw` holds the rest, the fields that may still
    /// change after processing (a segment's `segment` and `dedup`).
    pub data: Value,
    /// Payload fields serialized once, where they were made (on a worker thread): (key, JSON),
    /// sorted by key, none of them also in `data`. The line carries them verbatim among `data`'s
    /// own fields, in key order, as if they were in `data`. Empty for most events.
    pub raw: Vec<(&'static str, Box<RawValue>)>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.kind == other.kind
            && self.subject == other.subject
            && self.id == other.id
            && self.data == other.data
            && self.raw.len() == other.raw.len()
            && self
                .raw
                .iter()
                .zip(&other.raw)
                .all(|(a, b)| a.0 == b.0 && a.1.get() == b.1.get())
    }
}

impl Event {
    /// `index` tells apart several events of one type for the same file version (segments).
    pub fn new(
        kind: EventType,
        subject: &str,
        sha256: Option<&str>,
        index: u64,
        data: Value,
    ) -> Event {
        Event {
            kind,
            subject: subject.to_string(),
            id: event_id(kind.as_str(), subject, sha256.unwrap_or(""), index),
            data,
            raw: Vec::new(),
        }
    }

    /// The event with payload fields already serialized (see [`Event::raw`]; sorted here).
    pub fn with_raw(mut self, mut raw: Vec<(&'static str, Box<RawValue>)>) -> Event {
        raw.sort_by_key(|(k, _)| *k);
        debug_assert!(raw.iter().all(|(k, _)| self.data.get(*k).is_none()));
        self.raw = raw;
        self
    }

    /// The whole payload as one value (`data` with the `raw` fields read back in).
    pub fn payload(&self) -> Value {
        let mut v = self.data.clone();
        if let Value::Object(map) = &mut v {
            for (k, raw) in &self.raw {
                let field = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                map.insert((*k).to_string(), field);
            }
        }
        v
    }

    /// The length of the payload's JSON.
    pub fn payload_len(&self) -> usize {
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0 += b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut n = Count(0);
        let _ = serde_json::to_writer(&mut n, &Payload(self));
        n.0
    }
}

/// A field for [`Event::with_raw`]: `value` serialized now.
pub fn raw_field<T: Serialize + ?Sized>(
    key: &'static str,
    value: &T,
) -> (&'static str, Box<RawValue>) {
    // The payload types serialize to JSON without fail (string keys, finite numbers).
    let raw = serde_json::value::to_raw_value(value).unwrap_or_else(|e| {
        tracing::error!(key, "payload field not serializable: {e}");
        RawValue::from_string("null".to_string()).expect("null is JSON")
    });
    (key, raw)
}

/// An event's payload as it is written: `data`'s fields and the `raw` ones, merged in key order.
struct Payload<'a>(&'a Event);

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let map = match &e.data {
            Value::Object(map) if !e.raw.is_empty() => map,
            other => return other.serialize(serializer),
        };
        let mut out = serializer.serialize_map(Some(map.len() + e.raw.len()))?;
        let mut own = map.iter().peekable();
        let mut raw = e.raw.iter().peekable();
        loop {
            let take_own = match (own.peek(), raw.peek()) {
                (Some((k, _)), Some((r, _))) => k.as_str() < *r,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_own {
                if let Some((k, v)) = own.next() {
                    out.serialize_entry(k, v)?;
                }
            } else if let Some((k, v)) = raw.next() {
                out.serialize_entry(k, v)?;
            }
        }
        out.end()
    }
}

/// Deterministic id of an event: re-emitting it after a crash gives the same id.
pub fn event_id(kind: &str, subject: &str, sha256: &str, index: u64) -> String {
    let mut h = Sha256::new();
    for part in [kind, subject, sha256] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.update(index.to_be_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The id an event is written with: its content id mixed with the generation of its path (how
/// many changes of the path were committed, counted in the state). A re-emission after a crash
/// has the same generation and so the same id; a later change with the same bytes (A → B → A →
/// B, or remove and re-add) has a new one.
pub fn committed_id(id: &str, generation: u64) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update(generation.to_be_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Stable id of a document: derived from its path relative to the watched folder.
pub fn document_id(subject: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sluice.document\0");
    h.update(subject.as_bytes());
    hex::encode(&h.finalize()[..12])
}

/// Formats a sequence number the way the log carries it: 20 digits, zero-padded.
pub fn format_sequence(seq: u64) -> String {
    format!("{seq:020}")
}

#[derive(Serialize)]
struct Envelope<'a> {
    specversion: &'static str,
    id: &'a str,
    source: &'a str,
    #[serde(rename = "type")]
    kind: EventType,
    subject: &'a str,
    time: &'a str,
    sequence: String,
    datacontenttype: &'static str,
    data: Payload<'a>,
}

/// Appends the event's line (with its `\n`) to `out`.
pub fn write_line(out: &mut Vec<u8>, event: &Event, source: &str, time: &str, sequence: u64) {
    let envelope = Envelope {
        specversion: "1.0",
        id: &event.id,
        source,
        kind: event.kind,
        subject: &event.subject,
        time,
        sequence: format_sequence(sequence),
        datacontenttype: "application/json",
        data: Payload(event),
    };
    // Serializing a Value-backed struct into a Vec cannot fail.
    serde_json::to_writer(&mut *out, &envelope).expect("serialize event");
    out.push(b'\n');
}

/// RFC 3339 time in UTC with milliseconds, as CloudEvents wants it.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// `t` in RFC 3339, UTC, milliseconds.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// The `source` attribute: this host and the watched folder.
pub fn source_uri(watch_dir: &std::path::Path) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let path = watch_dir.to_string_lossy().replace('\\', "/");
    let mut escaped = String::new();
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            escaped.push(b as char);
        } else {
            escaped.push_str(&format!("%{b:02X}"));
        }
    }
    format!("sluice://{host}/{escaped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_depend_on_every_part() {
        let a = event_id(EventType::Segment.as_str(), "a.txt", "abc", 1);
        assert_eq!(a, event_id(EventType::Segment.as_str(), "a.txt", "abc", 1));
        assert_ne!(a, event_id(EventType::Segment.as_str(), "a.txt", "abc", 2));
        assert_ne!(a, event_id(EventType::Segment.as_str(), "b.txt", "abc", 1));
        assert_ne!(a, event_id(EventType::Segment.as_str(), "a.txt", "abd", 1));
        assert_ne!(
            a,
            event_id(EventType::FileAdded.as_str(), "a.txt", "abc", 1)
        );
        // parts cannot run into each other
        assert_ne!(event_id("t", "ab", "c", 0), event_id("t", "a", "bc", 0));
    }

    #[test]
    fn a_line_is_one_cloudevent_with_a_twenty_digit_sequence() {
        let e = Event::new(
            EventType::FileAdded,
            "news/a.txt",
            Some("ff"),
            0,
            serde_json::json!({"x": 1}),
        );
        let mut out = Vec::new();
        write_line(&mut out, &e, "sluice://h/w", "2026-01-01T00:00:00.000Z", 42);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["sequence"], "00000000000000000042");
        assert_eq!(v["type"], EventType::FileAdded.as_str());
        assert_eq!(v["subject"], "news/a.txt");
        assert_eq!(v["data"]["x"], 1);
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
    }

    #[test]
    fn raw_fields_are_written_in_key_order_among_the_others() {
        let whole = serde_json::json!({
            "a": 1, "b": [1, 2], "dedup": {"status": "new"}, "m": "x", "segment": "s",
            "text": "文本\n\"", "z": null,
        });
        let split = Event::new(
            EventType::Segment,
            "p.txt",
            Some("h"),
            3,
            serde_json::json!({
                "dedup": {"status": "new"}, "segment": "s",
            }),
        )
        .with_raw(vec![
            raw_field("z", &Value::Null),
            raw_field("a", &1),
            raw_field("text", "文本\n\""),
            raw_field("m", "x"),
            raw_field("b", &[1, 2]),
        ]);
        let plain = Event::new(EventType::Segment, "p.txt", Some("h"), 3, whole.clone());
        let line = |e: &Event| {
            let mut out = Vec::new();
            write_line(&mut out, e, "sluice://h/w", "2020-01-01T00:00:00.000Z", 9);
            out
        };
        assert_eq!(line(&split), line(&plain));
        assert_eq!(split.payload(), whole);
        assert_eq!(
            split.payload_len(),
            serde_json::to_vec(&whole).unwrap().len()
        );
        assert_eq!(plain.payload_len(), split.payload_len());
        // Raw fields sort below and above the fields set later (a key before "dedup" and one
        // after "text").
        assert_eq!(split.raw.first().map(|r| r.0), Some("a"));
        assert_eq!(split.raw.last().map(|r| r.0), Some("z"));
    }

    #[test]
    fn the_source_is_a_valid_uri_whatever_the_folder_name() {
        let s = source_uri(std::path::Path::new("/data/新闻 稿#1"));
        assert!(
            s.ends_with("/data/%E6%96%B0%E9%97%BB%20%E7%A8%BF%231"),
            "{s}"
        );
    }

    #[test]
    fn time_is_rfc3339_utc_with_milliseconds() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z'));
    }
}
