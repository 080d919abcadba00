//! Word-segmentation F1 of the tokens sluice emits, on the SIGHAN 2005 PKU test set
//! (`../shared/corpus/wordseg-dev`, or `SLUICE_WORDSEG_DIR`): precision, recall and F1 over word
//! spans. jieba's published figure on this set is 0.818.
//!
//! The data is not part of the project, so the test is ignored by default:
//! `cargo test --release --test pku_wordseg -- --ignored --nocapture`.

use std::collections::HashSet;
use std::path::PathBuf;

use sluice::text::words;

/// Word spans of a sequence of words, in chars of the text without whitespace.
fn spans<'a>(words: impl Iterator<Item = &'a str>) -> HashSet<(usize, usize)> {
    let mut at = 0;
    words
        .map(|w| {
            let n = w.chars().filter(|c| !c.is_whitespace()).count();
            let span = (at, at + n);
            at += n;
            span
        })
        .filter(|(s, e)| e > s)
        .collect()
}

#[test]
#[ignore = "reads ../shared/corpus/wordseg-dev, which is not part of the project"]
fn pku_word_segmentation_f1() {
    let dir = std::env::var_os("SLUICE_WORDSEG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/wordseg-dev")
        });
    let (Ok(test), Ok(gold)) = (
        std::fs::read_to_string(dir.join("pku_test.utf8")),
        std::fs::read_to_string(dir.join("pku_test_gold.utf8")),
    ) else {
        println!("wordseg-dev corpus not found in {}: skipped", dir.display());
        return;
    };
    let w = words::shared();
    let (mut right, mut found, mut wanted) = (0usize, 0usize, 0usize);
    for (line, gold_line) in test.lines().zip(gold.lines()) {
        let line = line.trim_end_matches('\r');
        let ours = spans(w.tokens(line).iter().map(|t| t.text.as_str()));
        let theirs = spans(gold_line.split_whitespace());
        right += ours.intersection(&theirs).count();
        found += ours.len();
        wanted += theirs.len();
    }
    let p = right as f64 / found.max(1) as f64;
    let r = right as f64 / wanted.max(1) as f64;
    let f1 = 2.0 * p * r / (p + r).max(f64::MIN_POSITIVE);
    println!("PKU test: P {p:.4} R {r:.4} F1 {f1:.4} ({wanted} gold words); jieba published 0.818");
    assert!(f1 > 0.75, "F1 {f1:.4} is far below jieba's published 0.818");
}
