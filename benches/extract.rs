//! Extraction throughput beside segmentation alone, in the same run.
//!
//! `SLUICE_BENCH_CORPUS=../shared/corpus/chinanews-dev cargo bench --bench extract`
//! Without the variable, the corpus is the bundled seeds/ pages repeated to about 2 MB.
//! Prints MB/s (decoded UTF-8 bytes) for: segmentation (layout + sentences), and segmentation
//! followed by extraction (figures, dates, entities, keywords); then the same for English news
//! (the paragraphs of `bench/eval/en-news.jsonl`, 75 real ones, as pages of ten, repeated to
//! about 2 MB) in the same run.

use std::path::Path;
use std::time::Instant;

use sluice::extract::{extract_page, Options};
use sluice::text::{analyze, words::shared};

fn corpus() -> (String, Vec<String>) {
    if let Ok(dir) = std::env::var("SLUICE_BENCH_CORPUS") {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        let texts = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        return (dir, texts);
    }
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let pages: Vec<String> = std::fs::read_dir(&seeds)
        .expect("seeds/")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let mut texts = Vec::new();
    let mut total = 0;
    while total < 2_000_000 && !pages.is_empty() {
        for p in &pages {
            total += p.len();
            texts.push(p.clone());
        }
    }
    ("seeds/ (repeated)".into(), texts)
}

fn main() {
    let (name, texts) = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    let t = Instant::now();
    let words = shared();
    let _ = words.cut("预热"); // load the dictionary outside the timings
    println!(
        "jieba dictionary load: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    sluice::extract::entity::model::warm_up();
    println!(
        "entity models (Chinese, English) load: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    sluice::extract::warm_up();
    println!(
        "extraction tables and patterns (models loaded): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mtime = time::macros::date!(2020 - 04 - 01);
    let options = Options::default();

    let t = Instant::now();
    let mut segments = 0;
    for text in &texts {
        segments += analyze(text).segments.len();
    }
    let seg = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (mut figures, mut entities, mut dates) = (0, 0, 0);
    for text in &texts {
        let page = analyze(text);
        let ex = extract_page(&page, words, &options, mtime);
        for s in &ex.segments {
            figures += s.figures.len();
            entities += s.entities.len();
            dates += s.dates.len();
        }
    }
    let both = t.elapsed().as_secs_f64();
    let rules_only = Options {
        entity_models: false,
        ..Options::default()
    };
    let t = Instant::now();
    for text in &texts {
        std::hint::black_box(extract_page(&analyze(text), words, &rules_only, mtime));
    }
    let without = t.elapsed().as_secs_f64();

    // Each extractor alone over the same segments (laid out once, outside the timings).
    let pages: Vec<_> = texts.iter().map(|t| analyze(t)).collect();
    let segs: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.segments.iter().map(|s| s.text.as_str()))
        .collect();
    let reference = sluice::extract::date::reference(std::iter::empty(), None, mtime);
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let mut n = 0usize;
    let tag = time(&mut || {
        for s in &segs {
            n += sluice::extract::entity::tag(words, s).len();
        }
    });
    let cut = time(&mut || {
        for s in &segs {
            n += words.jieba().cut(s, true).len();
        }
    });
    let cut_pages = time(&mut || {
        for t in &texts {
            n += words.jieba().cut(t, true).len();
        }
    });
    let tags: Vec<_> = segs
        .iter()
        .map(|s| sluice::extract::entity::tag(words, s))
        .collect();
    let ents = time(&mut || {
        for (s, t) in segs.iter().zip(&tags) {
            n += sluice::extract::entity::page_entities_tagged(
                &[(s, &[][..])],
                std::slice::from_ref(t),
                false,
            )
            .len();
        }
    });
    let ents_model = time(&mut || {
        for (s, t) in segs.iter().zip(&tags) {
            let found = sluice::extract::entity::find_tagged_in(
                s,
                t,
                &[],
                sluice::extract::entity::model::Language::Chinese,
            );
            n += sluice::extract::entity::resolve_page(vec![found], false).len();
        }
    });
    let figs = time(&mut || {
        for s in &segs {
            n += sluice::extract::figure::figures(s).len();
        }
    });
    let dats = time(&mut || {
        for s in &segs {
            n += sluice::extract::date::dates(s, &reference).len();
        }
    });
    let keys = time(&mut || {
        for t in &tags {
            n += sluice::extract::keywords::textrank_tagged(&[&t[..]], options.keywords).len();
        }
    });
    std::hint::black_box(n);

    println!(
        "corpus: {name}: {} files, {mb:.2} MB, {segments} segments",
        texts.len()
    );
    println!(
        "segmentation alone:        {:8.2} MB/s ({seg:.2} s)",
        mb / seg
    );
    println!(
        "segmentation + extraction: {:8.2} MB/s ({both:.2} s; {figures} figures, {dates} dates, {entities} entities)",
        mb / both
    );
    println!(
        "  the same without the entity models: {:8.2} MB/s ({without:.2} s)",
        mb / without
    );
    for (what, secs) in [
        ("jieba cut (HMM), whole files", cut_pages),
        ("jieba cut (HMM), per segment", cut),
        ("jieba tag (HMM), per segment", tag),
        ("entities by rules, given tags", ents),
        ("entities by rules + model, given tags", ents_model),
        ("figures", figs),
        ("dates", dats),
        ("keywords (TextRank), given tags", keys),
    ] {
        println!("  {what:<38} {:8.2} MB/s ({secs:.3} s)", mb / secs);
    }
    english(words, &options, mtime);
}

/// Segmentation, then segmentation and extraction, over English news pages.
fn english(words: &sluice::text::words::Words, options: &Options, mtime: time::Date) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/eval/en-news.jsonl");
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let paragraphs: Vec<String> = data
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let pages: Vec<String> = paragraphs
        .chunks(10)
        .map(|c| format!("News of the day\n\n{}\n", c.join("\n\n")))
        .collect();
    let mut texts = Vec::new();
    let mut total = 0;
    while total < 2_000_000 && !pages.is_empty() {
        for p in &pages {
            total += p.len();
            texts.push(p.clone());
        }
    }
    let mb = total as f64 / 1e6;
    let t = Instant::now();
    let mut segments = 0;
    for text in &texts {
        segments += analyze(text).segments.len();
    }
    let seg = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (mut figures, mut entities, mut dates) = (0, 0, 0);
    for text in &texts {
        let ex = extract_page(&analyze(text), words, options, mtime);
        for s in &ex.segments {
            figures += s.figures.len();
            entities += s.entities.len();
            dates += s.dates.len();
        }
    }
    let both = t.elapsed().as_secs_f64();
    // Entities of the same segments by the rules alone, and by rules and the trained model.
    let pages: Vec<_> = texts.iter().map(|t| analyze(t)).collect();
    let segs: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.segments.iter().map(|s| s.text.as_str()))
        .collect();
    let t = Instant::now();
    let mut n = 0;
    for s in &segs {
        n += sluice::extract::entity::page_entities(&[(s, &[][..])], words, false)[0].len();
    }
    let rules = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut m = 0;
    for s in &segs {
        m += sluice::extract::entity::page_entities_in(
            &[(s, &[][..])],
            words,
            sluice::extract::entity::model::Language::English,
            None,
        )[0]
        .len();
    }
    let model = t.elapsed().as_secs_f64();
    println!(
        "english: bench/eval/en-news.jsonl repeated: {} pages, {mb:.2} MB, {segments} segments",
        texts.len()
    );
    println!(
        "segmentation alone:        {:8.2} MB/s ({seg:.2} s)",
        mb / seg
    );
    println!(
        "segmentation + extraction: {:8.2} MB/s ({both:.2} s; {figures} figures, {dates} dates, {entities} entities)",
        mb / both
    );
    println!(
        "  entities by rules alone            {:8.2} MB/s ({rules:.3} s; {n} entities)",
        mb / rules
    );
    println!(
        "  entities by rules and the model    {:8.2} MB/s ({model:.3} s; {m} entities)",
        mb / model
    );
}
