//! Reading throughput per format, beside plain text, in one run: each fixture of
//! `tests/fixtures/formats/` (and the seed page as plain text) read and laid out into segments
//! (`sluice::read::read` + layout; no extraction, no dedup), best of five rounds of enough
//! repetitions to last about half a second. Prints MB/s of file bytes and documents (for the
//! PDFs, pages) per second.
//!
//! `cargo bench --bench formats`

use std::path::Path;
use std::time::{Duration, Instant};

use sluice::read::{read, sniff, Body, Format, Limits};

fn laid_out(format: Format, bytes: &[u8]) -> usize {
    if format == Format::Text {
        let text = sluice::text::decode::decode(bytes).expect("text").text;
        return sluice::text::analyze(&text).segments.len();
    }
    let doc = read(format, bytes, &Limits::default()).expect("a readable fixture");
    match doc.body {
        Body::Blocks(blocks) => sluice::text::analyze_blocks(blocks).1.segments.len(),
        Body::Lines { text, .. } => sluice::text::analyze(&text).segments.len(),
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(root.join("seeds")).expect("seeds/") {
        let path = entry.expect("entry").path();
        files.push((
            format!("seeds/{}", path.file_name().unwrap().to_string_lossy()),
            std::fs::read(&path).unwrap(),
        ));
    }
    for name in [
        "source.md",
        "english.html",
        "portal-gbk.html",
        "news.docx",
        "news.odt",
        "book.epub",
        "newspaper.pdf",
        "newspaper-shuffled.pdf",
    ] {
        let bytes = std::fs::read(root.join("tests/fixtures/formats").join(name)).unwrap();
        files.push((name.to_string(), bytes));
    }
    // Warm the word segmenter (layout asks it about words across line breaks).
    let _ = sluice::text::analyze("预热。\n");
    println!(
        "{:<26} {:>7} {:>9} {:>10} {:>12}",
        "file", "format", "KiB", "MB/s", "docs/s"
    );
    for (name, bytes) in &files {
        let format = sniff(bytes, name);
        let segments = laid_out(format, bytes);
        let once = {
            let t = Instant::now();
            std::hint::black_box(laid_out(format, bytes));
            t.elapsed().max(Duration::from_micros(1))
        };
        let reps =
            (Duration::from_millis(500).as_nanos() / once.as_nanos()).clamp(1, 100_000) as usize;
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(laid_out(format, bytes));
            }
            best = best.min(t.elapsed());
        }
        let per = best.as_secs_f64() / reps as f64;
        println!(
            "{name:<26} {format:>7} {:>9.1} {:>10.2} {:>12.0}   ({segments} segments)",
            bytes.len() as f64 / 1024.0,
            bytes.len() as f64 / 1e6 / per,
            1.0 / per
        );
    }
}
