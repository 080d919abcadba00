//! The events that carry extraction results (segments with figures, dates and entities; the
//! document event with keywords, counts and the reference date) validate against
//! `docs/events.schema.json`.

mod common;

use sha2::{Digest, Sha256};
use sluice::detect::{FileVersion, Job};
use sluice::event::{source_uri, write_line};
use sluice::process::process;
use sluice::store::StatIdentity;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lines_of(path: &str, text: &str) -> Vec<String> {
    let bytes = text.as_bytes().to_vec();
    let c = process(Job::Version(FileVersion {
        path: path.into(),
        stat: StatIdentity {
            size: bytes.len() as u64,
            mtime_ns: 1_676_851_200_000_000_000,
            ..StatIdentity::default()
        },
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes: Some(bytes),
        previous_sha256: None,
        permit: None,
    }));
    let source = source_uri(&root().join("seeds"));
    c.events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut out = Vec::new();
            write_line(
                &mut out,
                e,
                &source,
                "2026-11-28T04:32:55.123Z",
                i as u64 + 1,
            );
            String::from_utf8(out).expect("utf-8")
        })
        .collect()
}

fn assert_valid(lines: &[String]) {
    for line in lines {
        if let Err(e) = common::schema::validate_line(line.trim_end()) {
            panic!("{e}\n{line}");
        }
    }
}

#[test]
fn the_sample_page_events_validate_with_their_extractions() {
    let file = "000_ba3ce05b4ae51aa8.txt";
    let text = std::fs::read_to_string(root().join("seeds").join(file)).expect("seed");
    let lines = lines_of(file, &text);
    assert_valid(&lines);
    let all = lines.join("");
    // Large amounts stay exact JSON numbers, not floats.
    assert!(all.contains(r#""value":22703000000}"#), "227.03亿元 exact");
    assert!(!all.contains("22703000000.0"));
    assert!(all.contains(r#""value":6.9}"#));
    assert!(all.contains(r#""resolved_from":"mtime""#));
}

#[test]
fn percent_points_ranges_and_relative_dates_validate() {
    let text = "标题\n\n本报讯 今年上半年,利润增长6.9个百分点,投资50亿-100亿元,《2023-2028年规划》,一季度增长。\n";
    let lines = lines_of("a.txt", text);
    assert_valid(&lines);
    let all = lines.join("");
    assert!(all.contains(r#""kind":"percent_point""#));
    assert!(all.contains(r#""value":[5000000000,10000000000]"#));
    assert!(all.contains(r#""value":["2023","2028"]"#));
    assert!(all.contains(r#""grain":"half""#) && all.contains(r#""grain":"quarter""#));
}
