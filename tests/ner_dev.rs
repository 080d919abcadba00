//! NER measurement (ignored: it needs the development corpus, which is not part of the project):
//! entity-level precision, recall and F1 per type (exact span and type) on the People's Daily
//! 1998 development split, for sluice and for the jieba-POS-only baseline (nr → PER, ns → LOC,
//! nt → ORG), measured the same way.
//!
//! `cargo test --release --test ner_dev -- --ignored --nocapture`
//! (`SLUICE_NER_DEV` names the .bio file; by default ../shared/corpus/ner-dev/…).

use std::collections::{BTreeMap, HashSet};

use sluice::extract::entity::{jieba_baseline, outermost, page_entities, Entity};
use sluice::extract::EntityType;
use sluice::text::words::shared;

type Span = (usize, usize, &'static str);

fn label(kind: EntityType) -> &'static str {
    match kind {
        EntityType::Person => "PER",
        EntityType::Organization => "ORG",
        EntityType::Place => "LOC",
    }
}

/// Sentences of a BIO file: the text and its gold spans.
fn sentences(bio: &str) -> Vec<(String, HashSet<Span>)> {
    let mut out = Vec::new();
    let (mut text, mut tags) = (String::new(), Vec::<String>::new());
    let mut flush = |text: &mut String, tags: &mut Vec<String>| {
        if !text.is_empty() {
            out.push((std::mem::take(text), spans(tags)));
        }
        tags.clear();
    };
    for line in bio.lines() {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(ch), Some(tag)) => {
                text.push_str(ch);
                tags.push(tag.to_string());
            }
            _ => flush(&mut text, &mut tags),
        }
    }
    flush(&mut text, &mut tags);
    out
}

fn spans(tags: &[String]) -> HashSet<Span> {
    let mut out = HashSet::new();
    let mut open: Option<(usize, &'static str)> = None;
    let kind = |t: &str| -> Option<&'static str> {
        match t.get(2..) {
            Some("PER") => Some("PER"),
            Some("ORG") => Some("ORG"),
            Some("LOC") => Some("LOC"),
            _ => None,
        }
    };
    for (i, t) in tags.iter().enumerate() {
        let continues = t.starts_with("I-") && open.is_some_and(|(_, k)| Some(k) == kind(t));
        if !continues {
            if let Some((s, k)) = open.take() {
                out.insert((s, i, k));
            }
            if t.starts_with("B-") || t.starts_with("I-") {
                open = kind(t).map(|k| (i, k));
            }
        }
    }
    if let Some((s, k)) = open {
        out.insert((s, tags.len(), k));
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
}

fn score(name: &str, gold: &[HashSet<Span>], found: &[HashSet<Span>]) -> String {
    let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
    for (g, f) in gold.iter().zip(found) {
        for s in f {
            let t = by.entry(s.2).or_default();
            if g.contains(s) {
                t.tp += 1
            } else {
                t.fp += 1
            }
        }
        for s in g.difference(f) {
            by.entry(s.2).or_default().fn_ += 1;
        }
    }
    let mut all = Tally::default();
    let mut rows = String::new();
    let row = |k: &str, t: Tally| {
        let p = t.tp as f64 / (t.tp + t.fp).max(1) as f64;
        let r = t.tp as f64 / (t.tp + t.fn_).max(1) as f64;
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        format!("| {name} | {k} | {p:.3} | {r:.3} | {f:.3} |\n")
    };
    for (k, t) in &by {
        rows.push_str(&row(k, *t));
        all.tp += t.tp;
        all.fp += t.fp;
        all.fn_ += t.fn_;
    }
    rows.push_str(&row("all", all));
    rows
}

fn as_spans(entities: &[Entity]) -> HashSet<Span> {
    outermost(entities)
        .into_iter()
        .map(|e| (e.char_start, e.char_end, label(e.kind)))
        .collect()
}

#[test]
#[ignore = "needs ../shared/corpus/ner-dev (development data, not part of the project)"]
fn ner_precision_recall_f1_on_peoples_daily_dev() {
    let path = std::env::var("SLUICE_NER_DEV").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/ner-dev/peoples-daily-1998.dev.bio"
        )
        .into()
    });
    let bio = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sents = sentences(&bio);
    let words = shared();
    let gold: Vec<HashSet<Span>> = sents.iter().map(|(_, g)| g.clone()).collect();
    let run = |use_tags: bool| -> Vec<HashSet<Span>> {
        sents
            .iter()
            .map(|(t, _)| {
                let found = page_entities(&[(t.as_str(), &[])], words, use_tags);
                as_spans(found.first().map_or(&[][..], Vec::as_slice))
            })
            .collect()
    };
    let base: Vec<HashSet<Span>> = sents
        .iter()
        .map(|(t, _)| as_spans(&jieba_baseline(t, words)))
        .collect();
    let mut table =
        String::from("| system | type | precision | recall | F1 |\n|---|---|---|---|---|\n");
    table.push_str(&score("sluice (events: context only)", &gold, &run(false)));
    table.push_str(&score("sluice + jieba nr", &gold, &run(true)));
    table.push_str(&score("jieba POS baseline", &gold, &base));
    println!(
        "{} sentences, {} gold entities\n{table}",
        sents.len(),
        gold.iter().map(HashSet::len).sum::<usize>()
    );
}
