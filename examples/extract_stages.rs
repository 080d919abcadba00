//! Times the stages of extraction one by one over a corpus directory (MB/s of decoded text):
//! `cargo run --release --example extract_stages -- /work/shared/corpus/chinanews-dev`
use std::time::Instant;

use jieba_rs::KeywordExtract;
use sluice::extract::{entity, figure, keywords, Options};
use sluice::text::{analyze, words::shared};

fn main() {
    let dir = std::env::args().nth(1).expect("a corpus directory");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let words = shared();
    let _ = words.cut("预热");
    let pages: Vec<_> = texts.iter().map(|t| analyze(t)).collect();
    let t = Instant::now();
    let _ = sluice::extract::extract_page(
        &pages[0],
        words,
        &Options::default(),
        time::macros::date!(2020 - 04 - 01),
    );
    println!(
        "first extract_page (warm-up) {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let time = |name: &str, f: &dyn Fn() -> usize| {
        let t = Instant::now();
        let n = f();
        let s = t.elapsed().as_secs_f64();
        println!("{name:24} {:8.2} MB/s ({s:.3} s, {n})", mb / s);
    };
    time("jieba cut (hmm)", &|| {
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| words.jieba().cut(&s.text, true).len())
            .sum()
    });
    time("jieba tag (hmm)", &|| {
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| words.jieba().tag(&s.text, true).len())
            .sum()
    });
    time("entities", &|| {
        pages
            .iter()
            .map(|p| {
                let texts: Vec<(&str, &[String])> = p
                    .segments
                    .iter()
                    .map(|s| (s.text.as_str(), &[][..]))
                    .collect();
                entity::page_entities(&texts, words, false).len()
            })
            .sum()
    });
    time("figures", &|| {
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| figure::figures(&s.text).len())
            .sum()
    });
    time("dates", &|| {
        let r = sluice::extract::date::reference(
            std::iter::empty(),
            None,
            time::macros::date!(2020 - 04 - 01),
        );
        pages
            .iter()
            .flat_map(|p| &p.segments)
            .map(|s| sluice::extract::date::dates(&s.text, &r).len())
            .sum()
    });
    time("extract_page", &|| {
        pages
            .iter()
            .map(|p| {
                sluice::extract::extract_page(
                    p,
                    words,
                    &Options::default(),
                    time::macros::date!(2020 - 04 - 01),
                )
                .segments
                .len()
            })
            .sum()
    });
    time("keywords", &|| {
        pages
            .iter()
            .map(|p| {
                let body: Vec<&str> = p.segments.iter().map(|s| s.text.as_str()).collect();
                keywords::keywords(&body.join("\n"), words, 8, Default::default()).len()
            })
            .sum()
    });
    time("textrank alone", &|| {
        let tr = jieba_rs::TextRank::default();
        pages
            .iter()
            .map(|p| {
                let body: Vec<&str> = p.segments.iter().map(|s| s.text.as_str()).collect();
                tr.extract_keywords(words.jieba(), &body.join("\n"), 8, vec![])
                    .len()
            })
            .sum()
    });
}
