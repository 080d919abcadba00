//! Text-stage throughput: layout + sentences, words through sluice's `Words`, and bare jieba-rs
//! `cut` of the same documents in the same run.
//!
//! `cargo bench --bench text` reads every `.txt` under `SLUICE_BENCH_CORPUS` (for instance
//! `../shared/corpus/chinanews-dev`); without it, a corpus is generated from `seeds/` (the
//! sample page, its articles rotated and its figures varied, 200 documents).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jieba_rs::Jieba;
use sluice::text::{analyze, layout::layout, sentence::sentences, words::Words};

const ROUNDS: usize = 3;

fn read_corpus(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "txt"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// Documents made from the seed pages: blocks rotated and digits shifted per copy.
fn generated_corpus() -> Vec<String> {
    let seeds = read_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut docs = Vec::new();
    for i in 0..200usize {
        for seed in &seeds {
            let blocks: Vec<&str> = seed.split("\n\n").collect();
            let k = (i * 7) % blocks.len().max(1);
            let rotated = [&blocks[k..], &blocks[..k]].concat().join("\n\n");
            let varied: String = rotated
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_digit((d + i as u32) % 10, 10).unwrap_or(c),
                    None => c,
                })
                .collect();
            docs.push(varied);
        }
    }
    docs
}

/// Best of a few rounds.
fn time(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        out = std::hint::black_box(f());
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn main() {
    let (name, docs) = match std::env::var_os("SLUICE_BENCH_CORPUS") {
        Some(dir) => (
            PathBuf::from(&dir).display().to_string(),
            read_corpus(Path::new(&dir)),
        ),
        None => ("generated from seeds/".to_string(), generated_corpus()),
    };
    let bytes: usize = docs.iter().map(String::len).sum();
    if bytes == 0 {
        eprintln!("no .txt documents in the corpus ({name})");
        return;
    }
    let mb = bytes as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();

    let words = Words::new();
    let jieba = Jieba::new();
    // Warm up once (lazy patterns, the shared segmenter used by the layout).
    let _ = analyze(&docs[0]);

    let (analyzed, segments) = time(|| docs.iter().map(|d| analyze(d).segments.len()).sum());
    let pages: Vec<_> = docs.iter().map(|d| analyze(d)).collect();
    let (layout_only, _) = time(|| docs.iter().map(|d| layout(d).segments.len()).sum());
    let (sentences_only, _) = time(|| {
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| sentences(&s.text).len())
            .sum()
    });
    let (ours, n_ours) = time(|| {
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| words.tokens(&s.text).len())
            .sum()
    });
    let (bare, n_bare) = time(|| docs.iter().map(|d| jieba.cut(d, true).len()).sum());

    println!(
        "corpus: {name}: {} documents, {mb:.2} MB, {segments} segments",
        docs.len()
    );
    println!(
        "layout + sentences : {:8.2} MB/s ({:.3} s)",
        rate(analyzed),
        analyzed.as_secs_f64()
    );
    println!("  layout alone     : {:8.2} MB/s", rate(layout_only));
    println!("  sentences alone  : {:8.2} MB/s", rate(sentences_only));
    println!(
        "words (sluice Words): {:8.2} MB/s ({:.3} s, {n_ours} tokens)",
        rate(ours),
        ours.as_secs_f64()
    );
    println!(
        "bare jieba-rs cut  : {:8.2} MB/s ({:.3} s, {n_bare} tokens)",
        rate(bare),
        bare.as_secs_f64()
    );
    println!(
        "layout + sentences cost {:.1}% of bare jieba cut time (goal: under 15%)",
        100.0 * analyzed.as_secs_f64() / bare.as_secs_f64()
    );
}
