//! Every event the library builds validates against `docs/events.schema.json`, and lines that
//! break the contract do not.

mod common;

use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use common::schema::validate_line;
use sluice::commit::complete;
use sluice::detect::{FailKind, FailStage, Failure, FileVersion, Job};
use sluice::event::{self, now_rfc3339, source_uri, write_line};
use sluice::process::{process, Committable, Pending};
use sluice::store::StatIdentity;

/// The sample newspaper page shipped in `seeds/`.
fn seed_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let first = files.first().expect("a .txt seed");
    std::fs::read_to_string(first).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn stat(size: usize) -> StatIdentity {
    StatIdentity {
        dev: 2049,
        ino: 1234,
        size: size as u64,
        mtime_ns: 1_764_304_375_123_456_789,
        ctime_ns: 1_764_304_375_123_456_789,
    }
}

fn version(path: &str, bytes: &[u8], previous_sha256: Option<String>) -> Job {
    Job::Version(FileVersion {
        path: path.into(),
        stat: stat(bytes.len()),
        sha256: sha256(bytes),
        bytes: Some(bytes.to_vec()),
        previous_sha256,
        permit: None,
    })
}

fn segment_ids(c: &Committable) -> Vec<String> {
    match &c.pending {
        Pending::Version { segments } => segments.clone(),
        other => panic!("not a version: {other:?}"),
    }
}

/// Writes committables the way the sink does: one line per event, consecutive sequences.
struct Log {
    source: String,
    next_seq: u64,
    lines: Vec<String>,
}

impl Log {
    fn new() -> Log {
        Log {
            source: source_uri(&Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")),
            next_seq: 1,
            lines: Vec::new(),
        }
    }

    /// Completes `c` from `previous` (the committed segments of its path) and writes it.
    fn write(&mut self, mut c: Committable, previous: Option<&[String]>) -> Vec<Value> {
        complete(&mut c, previous);
        let time = now_rfc3339();
        let mut written = Vec::new();
        for e in &c.events {
            let mut buf = Vec::new();
            write_line(&mut buf, e, &self.source, &time, self.next_seq);
            self.next_seq += 1;
            let line = String::from_utf8(buf).unwrap();
            written.push(serde_json::from_str(&line).unwrap());
            self.lines.push(line);
        }
        written
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[test]
fn every_event_the_library_builds_validates() {
    let seed = seed_text();
    let mut log = Log::new();

    // A new file: file.added, its segments in order, document.ingested.
    let added = process(version("news/page1.txt", seed.as_bytes(), None));
    let first_ids = segment_ids(&added);
    assert!(first_ids.len() > 3, "the seed has several paragraphs");
    let evs = log.write(added, None);
    assert_eq!(evs[0]["type"], event::EventType::FileAdded.as_str());
    assert_eq!(
        evs.last().unwrap()["type"],
        event::EventType::DocumentIngested.as_str()
    );
    assert!(types(&evs[1..evs.len() - 1])
        .iter()
        .all(|t| *t == event::EventType::Segment.as_str()));

    // An edit: one paragraph gone, one new; kept ones unchanged, the gone one retracted.
    let mut paragraphs: Vec<&str> = seed.split("\n\n").collect();
    paragraphs.remove(paragraphs.len() / 2);
    let edited = format!(
        "{}\n\n新增段落:今年上半年产值增长6.9%,达到1.2亿元。\n",
        paragraphs.join("\n\n")
    );
    let changed = process(version(
        "news/page1.txt",
        edited.as_bytes(),
        Some(sha256(seed.as_bytes())),
    ));
    let second_ids = segment_ids(&changed);
    let evs = log.write(changed, Some(&first_ids));
    assert_eq!(evs[0]["type"], event::EventType::FileChanged.as_str());
    assert!(evs
        .iter()
        .any(|e| e["data"]["dedup"]["status"] == "unchanged"));
    let doc = evs.last().unwrap();
    assert_eq!(doc["type"], event::EventType::DocumentIngested.as_str());
    assert!(!doc["data"]["retracted"].as_array().unwrap().is_empty());
    assert!(doc["data"]["previous_version"].is_string());

    // A move, then removals (with and without a known sha256).
    log.write(
        process(Job::Moved {
            from: "news/page1.txt".into(),
            to: "archive/2023/page1.txt".into(),
            sha256: sha256(edited.as_bytes()),
            stat: stat(edited.len()),
        }),
        None,
    );
    let evs = log.write(
        process(Job::Removed {
            path: "archive/2023/page1.txt".into(),
            sha256: Some(sha256(edited.as_bytes())),
        }),
        Some(&second_ids),
    );
    assert_eq!(
        evs[0]["data"]["retracted"].as_array().unwrap().len(),
        second_ids.len()
    );
    log.write(
        process(Job::Removed {
            path: "locked.txt".into(),
            sha256: None,
        }),
        None,
    );

    // Failures: from decoding, and from the detector and the pipeline.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    for (path, bytes) in [("image.txt", &png[..]), ("empty.txt", &b""[..])] {
        let evs = log.write(process(version(path, bytes, None)), None);
        assert_eq!(types(&evs), [event::EventType::DocumentFailed.as_str()]);
        assert!(evs[0]["data"]["sha256"].is_string());
    }
    // Every kind of failure the code knows is in the schema.
    for (i, kind) in FailKind::ALL.into_iter().enumerate() {
        // ... at every stage.
        let stage = FailStage::ALL[i % FailStage::ALL.len()];
        let sha = (i % 2 == 0).then(|| sha256(kind.as_str().as_bytes()));
        let evs = log.write(
            process(Job::Failed(Failure {
                path: format!("bad/{kind}.txt"),
                stage,
                kind,
                message: format!("it failed: {kind}"),
                sha256: sha,
                stat: None,
            })),
            None,
        );
        assert_eq!(evs[0]["data"]["error"]["kind"], kind.as_str());
        assert_eq!(evs[0]["data"]["stage"], stage.as_str());
    }

    let mut seen = std::collections::BTreeSet::new();
    for line in &log.lines {
        if let Err(e) = validate_line(line) {
            panic!("{e}\n{line}");
        }
        let v: Value = serde_json::from_str(line).unwrap();
        seen.insert(v["type"].as_str().unwrap().to_string());
    }
    for t in [
        event::EventType::FileAdded.as_str(),
        event::EventType::FileChanged.as_str(),
        event::EventType::FileMoved.as_str(),
        event::EventType::FileRemoved.as_str(),
        event::EventType::Segment.as_str(),
        event::EventType::DocumentIngested.as_str(),
        event::EventType::DocumentFailed.as_str(),
    ] {
        assert!(seen.contains(t), "no {t} event was checked");
    }
}

#[test]
fn the_largest_sequence_still_has_twenty_digits() {
    let c = process(Job::Removed {
        path: "a.txt".into(),
        sha256: None,
    });
    let mut buf = Vec::new();
    write_line(
        &mut buf,
        &c.events[0],
        "sluice://h/w",
        &now_rfc3339(),
        u64::MAX,
    );
    validate_line(std::str::from_utf8(&buf).unwrap()).unwrap();
}

/// A valid line of the given type, built by the library, as a JSON value to break.
fn valid(kind: &str) -> Value {
    let text = "标题\n\n第一段,产值增长6.9%。\n";
    let c = process(version("news/a.txt", text.as_bytes(), None));
    let e = c.events.iter().find(|e| e.kind.as_str() == kind).unwrap();
    let mut buf = Vec::new();
    write_line(&mut buf, e, "sluice://h/w", "2026-11-28T04:32:55.123Z", 42);
    let line = std::str::from_utf8(&buf).unwrap();
    validate_line(line).unwrap();
    serde_json::from_str(line).unwrap()
}

/// `v` must fail validation, with an error at the JSON pointer `at`.
fn assert_fails(what: &str, v: &Value, at: &str) {
    let line = serde_json::to_string(v).unwrap();
    match validate_line(&line) {
        Ok(()) => panic!("{what}: should not validate\n{line}"),
        Err(e) => assert!(
            e.contains(&format!("{at}: ")),
            "{what}: expected an error at {at}, got: {e}"
        ),
    }
}

#[test]
fn lines_that_break_the_contract_fail() {
    let mut v = valid(event::EventType::FileAdded.as_str());
    v["sequence"] = json!("0000000000000000042");
    assert_fails("sequence with 19 digits", &v, "/sequence");

    let mut v = valid(event::EventType::FileAdded.as_str());
    v["sequence"] = json!(42);
    assert_fails("sequence as a number", &v, "/sequence");

    let mut v = valid(event::EventType::FileAdded.as_str());
    v["data"].as_object_mut().unwrap().remove("sha256");
    assert_fails("file.added without data.sha256", &v, "/data");

    let mut v = valid(event::EventType::FileAdded.as_str());
    v["data"]["sha256"] = json!("ABC");
    assert_fails("sha256 not 64 lowercase hex digits", &v, "/data/sha256");

    let mut v = valid(event::EventType::FileAdded.as_str());
    v["data"]["previous_sha256"] = v["data"]["sha256"].clone();
    assert_fails("file.added with previous_sha256", &v, "/data");

    let mut v = valid(event::EventType::FileAdded.as_str());
    v["type"] = json!(event::EventType::FileChanged.as_str());
    assert_fails("file.changed without previous_sha256", &v, "/data");

    let mut v = valid(event::EventType::Segment.as_str());
    v["data"]["kind"] = json!("banner");
    assert_fails("segment kind banner", &v, "/data/kind");

    let mut v = valid(event::EventType::Segment.as_str());
    v["data"]["dedup"]["status"] = json!("duplicate");
    assert_fails("unknown dedup status", &v, "/data/dedup/status");

    let mut v = valid(event::EventType::Segment.as_str());
    v["data"]["entities"] =
        json!([{"type": "animal", "text": "猫", "char_start": 0, "char_end": 1}]);
    assert_fails("entity of an unknown type", &v, "/data/entities/0/type");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["data"].as_object_mut().unwrap().remove("retracted");
    assert_fails("document.ingested without retracted", &v, "/data");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["time"] = json!("28/11/2026 04:32");
    assert_fails("time not RFC 3339", &v, "/time");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["specversion"] = json!("0.3");
    assert_fails("CloudEvents 0.3", &v, "/specversion");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["type"] = json!("sluice.document.deleted");
    assert_fails("unknown type", &v, "/type");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["extra"] = json!(1);
    assert_fails("unknown envelope attribute", &v, "/");

    let mut v = valid(event::EventType::DocumentIngested.as_str());
    v["source"] = json!("file:///seeds");
    assert_fails("source not sluice://", &v, "/source");

    let v = valid(event::EventType::DocumentIngested.as_str());
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    assert!(
        validate_line(&pretty).is_err(),
        "an event over several lines"
    );
    assert!(
        validate_line("{\"specversion\":\"1.0\"").is_err(),
        "a torn line"
    );
}

#[test]
fn extraction_results_shaped_as_the_design_says_validate() {
    let mut v = valid(event::EventType::Segment.as_str());
    v["data"]["sentences"] = json!([{"char_start": 0, "char_end": 13}]);
    v["data"]["entities"] = json!([
        {"type": "place", "text": "海口高新区", "char_start": 0, "char_end": 5},
        {"type": "person", "text": "郭萃", "char_start": 6, "char_end": 8, "confidence": 0.9}
    ]);
    v["data"]["figures"] = json!([
        {"kind": "percent", "text": "6.9%", "value": 6.9, "unit": "%", "modifier": null,
         "char_start": 8, "char_end": 12},
        {"kind": "money", "text": "超过1.2亿元", "value": 120000000, "unit": "CNY",
         "modifier": "over", "char_start": 0, "char_end": 7},
        {"kind": "quantity", "text": "3至5万吨", "value": [30000, 50000], "unit": "吨",
         "modifier": null, "char_start": 0, "char_end": 6}
    ]);
    v["data"]["dates"] = json!([
        {"text": "2023年2月17日", "value": "2023-02-17", "grain": "day", "resolved_from": "text",
         "char_start": 0, "char_end": 10},
        {"text": "2022年至2023年", "value": ["2022", "2023"], "grain": "year",
         "resolved_from": "text", "char_start": 0, "char_end": 10}
    ]);
    v["data"]["dedup"] =
        json!({"status": "near", "of": "0123456789abcdef01234567", "similarity": 0.87});
    let line = serde_json::to_string(&v).unwrap();
    if let Err(e) = validate_line(&line) {
        panic!("{e}\n{line}");
    }

    v["data"]["figures"][2]["value"] = json!([30000]);
    assert_fails("a range with one bound", &v, "/data/figures/2/value");
}
