//! The memory budget holds: peak RSS stays under `pipeline.max_inflight_bytes` plus a fixed base,
//! on many large files at once and on a page shaped to be heavy (a million tiny paragraphs).
//! The fixed base is what a run over one small file takes (the runtime, the dictionary) plus
//! what one look may keep of the files it read (a quarter of the budget).

mod common;

use common::harness::*;

/// Room for one of the large files below at a time (each is charged about 100 MiB), so the
/// test checks that the others wait.
const BUDGET: u64 = 128 << 20;

/// The peak RSS (KiB) `sluice ingest` reported for a run.
fn peak_kb(out: &std::process::Output) -> u64 {
    let err = String::from_utf8_lossy(&out.stderr);
    err.rsplit("peak_rss_kb=")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak_rss_kb in:\n{err}"))
}

/// News-like text of about `bytes` bytes: paragraphs of ordinary length, figures varied.
fn news(bytes: usize, seed: usize) -> String {
    let mut s = String::with_capacity(bytes + 1024);
    let mut i = seed * 100_000;
    while s.len() < bytes {
        s.push_str(&article(i));
        s.push_str(&format!(
            "\n{i}号园区今年以来新签约项目{}个，计划总投资{}亿元，预计年产值增长{}.5%。\n\n",
            i % 37,
            i % 91 + 3,
            i % 9
        ));
        i += 1;
    }
    s
}

fn base_kb() -> u64 {
    let env = Env::new();
    env.write("one.txt", article(1));
    peak_kb(&env.ingest())
}

fn assert_within_budget(what: &str, peak: u64, base: u64) {
    let limit = base + (BUDGET + BUDGET / 4) / 1024;
    eprintln!(
        "{what}: peak {} MiB, base {} MiB, limit {} MiB",
        peak / 1024,
        base / 1024,
        limit / 1024
    );
    assert!(
        peak <= limit,
        "{what}: peak RSS {peak} KiB over the budget plus the base ({limit} KiB)"
    );
}

#[test]
fn eight_large_files_at_once_stay_within_the_budget() {
    let base = base_kb();
    let env = Env::new()
        .with(&format!("pipeline.max_inflight_bytes={BUDGET}"))
        .with("pipeline.workers=2");
    for i in 0..8 {
        env.write(&format!("big{i}.txt"), news(1_000_000, i));
    }
    let out = env.ingest();
    assert_eq!(
        subjects(&env.final_events(), "sluice.document.ingested").len(),
        8
    );
    assert_within_budget("eight 1 MB files", peak_kb(&out), base);
}

#[test]
fn a_million_tiny_paragraphs_stay_within_the_budget() {
    let base = base_kb();
    let env = Env::new().with(&format!("pipeline.max_inflight_bytes={BUDGET}"));
    env.write("tiny.txt", "a\n\n".repeat(1_000_000));
    let out = env.ingest();
    assert_eq!(
        subjects(&env.final_events(), "sluice.document.ingested"),
        ["tiny.txt"]
    );
    assert_within_budget("1,000,000 tiny paragraphs", peak_kb(&out), base);
}
