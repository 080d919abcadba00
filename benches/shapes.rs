//! Linear time whatever the input's shape: one file version processed (decode, layout,
//! sentences, extraction, dedup signatures: `sluice::process::process`) for each shape × size,
//! printed as MB/s, with each size's worst shape against ordinary news of the same size.
//!
//! `cargo bench --bench shapes` (sizes 10 KB … 8 MiB, the default `pipeline.max_file_bytes`);
//! `SLUICE_BENCH_SIZES=10000,100000` for others; `SLUICE_BENCH_CORPUS=DIR` takes the news text
//! from a folder of `.txt` files (else from `seeds/`). Peak RSS growth per cell is printed too
//! (each cell runs in a child process of its own, so one cell's memory does not hide another's).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sluice::detect::{FileVersion, Job};
use sluice::store::StatIdentity;

const SHAPES: [&str; 5] = [
    "news",
    "tiny paragraphs",
    "one huge line",
    "one huge paragraph",
    "one repeated sentence",
];

fn news_source() -> String {
    let dir = std::env::var_os("SLUICE_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "txt"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `size` bytes (about) of text of the given shape.
fn make(shape: &str, size: usize, news: &str) -> String {
    let repeat = |unit: &str| {
        let mut s = String::with_capacity(size + unit.len());
        while s.len() < size {
            s.push_str(unit);
        }
        s
    };
    let news_of = |n: usize| {
        let mut s = String::with_capacity(n + news.len());
        let mut round = 0u32;
        while s.len() < n {
            // Vary digits per copy so the text is not one page repeated exactly.
            s.extend(news.chars().map(|c| match c.to_digit(10) {
                Some(d) => char::from_digit((d + round) % 10, 10).unwrap_or(c),
                None => c,
            }));
            s.push_str("\n\n");
            round += 1;
        }
        let cut = (0..=n.min(s.len())).rev().find(|&i| s.is_char_boundary(i));
        s.truncate(cut.unwrap_or(0));
        s
    };
    match shape {
        "news" => news_of(size),
        "tiny paragraphs" => repeat("a\n\n"),
        "one huge line" => news_of(size).replace(['\n', '\r'], " "),
        // Lines of body text with no blank line between and no sentence end: one paragraph.
        "one huge paragraph" => news_of(size)
            .replace("\n\n", "\n")
            .replace(['。', '！', '？'], "，"),
        "one repeated sentence" => {
            repeat("某市今年第一季度实现地区生产总值1234.5亿元，同比增长6.8%，张三表示。\n\n")
        }
        _ => unreachable!(),
    }
}

fn version(text: &str) -> Job {
    Job::Version(FileVersion {
        path: "bench.txt".into(),
        stat: StatIdentity::default(),
        sha256: format!("{:064x}", text.len()),
        bytes: Some(text.as_bytes().to_vec()),
        previous_sha256: None,
        permit: None,
    })
}

fn peak_rss_kb() -> u64 {
    sluice::commands::peak_rss_kb().unwrap_or(0)
}

/// One cell, in this process: (seconds, peak RSS growth in KiB, events).
fn cell(shape: &str, size: usize) -> (f64, u64, usize) {
    let news = news_source();
    let text = make(shape, size, &news);
    // Warm the shared tables (dictionary, patterns) on a page of news first.
    let warm: String = news.chars().take(20_000).collect();
    let _ = sluice::process::process(version(&warm));
    drop(news);
    let base = peak_rss_kb();
    // Small cells: the best of a few runs (the machine is noisy).
    let runs = (2_000_000 / size.max(1)).clamp(1, 5);
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let c = sluice::process::process(version(&text));
        best = best.min(started.elapsed().as_secs_f64());
        events = c.events.len();
    }
    let grown = peak_rss_kb().saturating_sub(base);
    (best, grown, events)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--cell") {
        let shape = &args[i + 1];
        let size: usize = args[i + 2].parse().expect("size");
        let (secs, kb, events) = cell(shape, size);
        println!("{secs} {kb} {events}");
        return;
    }
    let sizes: Vec<usize> = std::env::var("SLUICE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000, 8 * 1024 * 1024]);
    let exe = std::env::current_exe().expect("own path");
    let timeout = Duration::from_secs(600);
    println!("shape sweep: one version processed (sluice::process::process), MB/s (peak RSS growth, MB)\n");
    print!("| shape |");
    for s in &sizes {
        print!(" {} |", human(*s));
    }
    println!();
    print!("|---|");
    for _ in &sizes {
        print!("---|");
    }
    println!();
    let mut rates: Vec<Vec<Option<f64>>> = Vec::new();
    for shape in SHAPES {
        print!("| {shape} |");
        let mut row = Vec::new();
        for &size in &sizes {
            let started = Instant::now();
            let mut child = std::process::Command::new(&exe)
                .args(["--cell", shape, &size.to_string()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("run a cell");
            let out = loop {
                if child.try_wait().expect("wait").is_some() {
                    break child.wait_with_output().expect("output");
                }
                if started.elapsed() > timeout {
                    let _ = child.kill();
                    break child.wait_with_output().expect("output");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let text = String::from_utf8_lossy(&out.stdout);
            let parts: Vec<f64> = text
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            match parts.as_slice() {
                [secs, kb, _events] => {
                    let rate = size as f64 / 1e6 / secs;
                    print!(" {rate:.2} ({:.0}) |", kb / 1024.0);
                    row.push(Some(rate));
                }
                _ => {
                    print!(" > {}s |", timeout.as_secs());
                    row.push(None);
                }
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        println!();
        rates.push(row);
    }
    println!();
    for (j, size) in sizes.iter().enumerate() {
        let news = rates[0][j];
        let worst = (1..SHAPES.len())
            .map(|i| (rates[i][j], SHAPES[i]))
            .min_by(|a, b| {
                a.0.unwrap_or(0.0)
                    .partial_cmp(&b.0.unwrap_or(0.0))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        if let (Some(news), Some((Some(w), name))) = (news, worst) {
            println!(
                "{}: worst shape {name} at {w:.2} MB/s, news {news:.2} MB/s: news / worst = {:.2}",
                human(*size),
                news / w
            );
        } else {
            println!("{}: a cell did not finish", human(*size));
        }
    }
}

fn human(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1_000_000 {
        format!("{} MB", n / 1_000_000)
    } else {
        format!("{} KB", n / 1000)
    }
}
