//! Dumps the full extraction of every file given (files or directories, sorted) as JSON lines:
//! one line per file with the reference date, per-article keywords (TextRank and TF-IDF) and
//! per-segment figures, dates and entities. Used to check that performance work leaves the
//! output byte-identical:
//!
//! `cargo run --release --example extract_dump -- /work/shared/corpus/chinanews-dev seeds > dump.jsonl`
//!
//! Files go through `decode` and `analyze` as in `process.rs`.
use std::path::PathBuf;

use serde_json::json;
use sluice::extract::{extract_page, KeywordMethod, Options};

fn main() {
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in std::env::args().skip(1) {
        let p = PathBuf::from(&arg);
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap_or_else(|e| panic!("{arg}: {e}"))
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p);
        }
    }
    let words = sluice::text::words::shared();
    let mtime = time::macros::date!(2020 - 03 - 30);
    let textrank = Options::default();
    let tfidf = Options {
        keyword_method: KeywordMethod::Tfidf,
        ..Options::default()
    };
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(decoded) = sluice::text::decode::decode(&bytes) else {
            println!(
                "{}",
                json!({"path": path.display().to_string(), "undecodable": true})
            );
            continue;
        };
        let page = sluice::text::analyze(&decoded.text);
        let ex = extract_page(&page, words, &textrank, mtime);
        let ex_tfidf = extract_page(&page, words, &tfidf, mtime);
        let segments: Vec<_> = ex
            .segments
            .iter()
            .map(|s| {
                json!({
                    "figures": s.figures,
                    "dates": s.dates,
                    "entities": s.entities,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "path": path.display().to_string(),
                "reference": ex.reference_json(),
                "counts": ex.counts(),
                "keywords_textrank": ex.keywords,
                "keywords_tfidf": ex_tfidf.keywords,
                "segments": segments,
            })
        );
    }
}
