//! Evaluation sets for the languages issue (`bench/eval/`, built from public sources: see its
//! SOURCES.md). Ignored: they print figures rather than pass or fail on a threshold.
//!
//! `cargo test --release --test evaluation -- --ignored --nocapture`

use std::path::Path;

use serde_json::Value;
use sluice::extract::date::{dates, Reference, ResolvedFrom};
use sluice::extract::figure::figures;

fn eval_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench/eval")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn day(s: &str) -> Option<time::Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &f).ok()
}

/// Char span of the first occurrence of `surface` in `text` not in `used`.
fn find_span(text: &str, surface: &str, used: &mut Vec<(usize, usize)>) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(p) = text[from..].find(surface) {
        let b = from + p;
        let s = text[..b].chars().count();
        let span = (s, s + surface.chars().count());
        if !used.contains(&span) {
            used.push(span);
            return Some(span);
        }
        from = b + surface.len().max(1);
    }
    None
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Whether a figure's JSON value is the expected `N` or `LOW..HIGH`.
fn value_is(got: &Value, want: &str) -> bool {
    let num = |v: &Value| v.as_f64().or_else(|| v.to_string().parse().ok());
    match (want.split_once(".."), got) {
        (Some((lo, hi)), Value::Array(pair)) if pair.len() == 2 => {
            let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
            num(&pair[0]).is_some_and(|g| close(g, lo))
                && num(&pair[1]).is_some_and(|g| close(g, hi))
        }
        (None, v) if !v.is_array() => {
            let w: f64 = want.parse().unwrap();
            num(v).is_some_and(|g| close(g, w))
        }
        _ => false,
    }
}

fn kind_name(k: &str) -> &str {
    match k {
        "pp" => "percent_point",
        k => k,
    }
}

#[derive(Default)]
struct Score {
    expected: usize,
    right: usize,
    /// Found at the place but with a wrong value, unit or kind.
    wrong: usize,
    missed: usize,
    /// Found where nothing of the kind was marked.
    spurious: usize,
}

impl Score {
    fn print(&self, what: &str) {
        println!(
            "{what}: {} of {} right ({:.1}%), {} wrong values, {} missed, {} found where none was marked",
            self.right,
            self.expected,
            100.0 * self.right as f64 / self.expected.max(1) as f64,
            self.wrong,
            self.missed,
            self.spurious
        );
    }
}

/// One text's expected figures `(surface, kind, value, unit)` against what sluice finds.
fn score_figures(
    text: &str,
    want: &[(String, String, String, String)],
    score: &mut Score,
    log: bool,
) {
    let got: Vec<Value> = figures(text)
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .filter(|f| f["kind"] != "quantity")
        .collect();
    let mut used = Vec::new();
    let mut matched = vec![false; got.len()];
    for (surface, kind, value, unit) in want {
        score.expected += 1;
        let Some((s, e)) = find_span(text, surface, &mut used) else {
            panic!("surface {surface:?} not in {text:?}");
        };
        let hit = got.iter().enumerate().find(|(k, f)| {
            !matched[*k]
                && f["char_start"].as_u64().unwrap() < e as u64
                && (s as u64) < f["char_end"].as_u64().unwrap()
        });
        match hit {
            Some((k, f)) => {
                matched[k] = true;
                if f["kind"] == kind_name(kind)
                    && f["unit"] == unit.as_str()
                    && value_is(&f["value"], value)
                {
                    score.right += 1;
                } else {
                    score.wrong += 1;
                    if log {
                        println!(
                            "  WRONG {surface:?} want {kind} {value} {unit}, got {} {} {} ({})",
                            f["kind"], f["value"], f["unit"], f["text"]
                        );
                    }
                }
            }
            None => {
                score.missed += 1;
                if log {
                    println!("  MISSED {surface:?} ({kind} {value} {unit}) in {text:?}");
                }
            }
        }
    }
    for (f, m) in got.iter().zip(matched) {
        if !m {
            score.spurious += 1;
            if log {
                println!(
                    "  SPURIOUS {} {} {} {} in {text:?}",
                    f["text"], f["kind"], f["value"], f["unit"]
                );
            }
        }
    }
}

/// One text's expected dates `(surface, value)` against what sluice finds.
fn score_dates(
    text: &str,
    reference: time::Date,
    want: &[(String, String)],
    score: &mut Score,
    log: bool,
) {
    let r = Reference {
        date: reference,
        source: ResolvedFrom::Dateline,
    };
    let got: Vec<Value> = dates(text, &r)
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    let mut used = Vec::new();
    let mut matched = vec![false; got.len()];
    for (surface, value) in want {
        score.expected += 1;
        let Some((s, e)) = find_span(text, surface, &mut used) else {
            panic!("surface {surface:?} not in {text:?}");
        };
        let hit = got.iter().enumerate().find(|(k, d)| {
            !matched[*k]
                && d["char_start"].as_u64().unwrap() < e as u64
                && (s as u64) < d["char_end"].as_u64().unwrap()
        });
        let as_text = |v: &Value| match v {
            Value::Array(p) => format!(
                "{}/{}",
                p[0].as_str().unwrap_or(""),
                p[1].as_str().unwrap_or("")
            ),
            v => v.as_str().unwrap_or("").to_string(),
        };
        match hit {
            Some((k, d)) => {
                matched[k] = true;
                if as_text(&d["value"]) == *value {
                    score.right += 1;
                } else {
                    score.wrong += 1;
                    if log {
                        println!(
                            "  WRONG {surface:?} want {value}, got {} ({}) ref {reference}",
                            as_text(&d["value"]),
                            d["text"]
                        );
                    }
                }
            }
            None => {
                score.missed += 1;
                if log {
                    println!("  MISSED {surface:?} ({value}) ref {reference} in {text:?}");
                }
            }
        }
    }
    for (d, m) in got.iter().zip(matched) {
        if !m && !want.is_empty() {
            score.spurious += 1;
            if log {
                println!("  SPURIOUS {} {} in {text:?}", d["text"], d["value"]);
            }
        }
    }
}

fn tsv(name: &str) -> Vec<Vec<String>> {
    eval_file(name)
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Rows grouped by text (keeping first-seen order).
fn by_text(rows: &[Vec<String>], text_col: usize) -> Vec<(String, Vec<&Vec<String>>)> {
    let mut out: Vec<(String, Vec<&Vec<String>>)> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|(t, _)| *t == r[text_col]) {
            Some((_, v)) => v.push(r),
            None => out.push((r[text_col].clone(), vec![r])),
        }
    }
    out
}

fn log() -> bool {
    std::env::var_os("SLUICE_EVAL_LOG").is_some()
}

#[test]
#[ignore]
fn english_money_and_percent_phrases() {
    let rows = tsv("en-figures.tsv");
    let mut score = Score::default();
    let mut clean = (0, 0);
    for (text, rows) in by_text(&rows, 1) {
        let want: Vec<_> = rows
            .iter()
            .filter(|r| r[3] != "none")
            .map(|r| (r[2].clone(), r[3].clone(), r[4].clone(), r[5].clone()))
            .collect();
        if want.is_empty() {
            clean.0 += 1;
            let mut s = Score::default();
            score_figures(&text, &[], &mut s, log());
            if s.spurious == 0 {
                clean.1 += 1;
            }
            score.spurious += s.spurious;
        } else {
            score_figures(&text, &want, &mut score, log());
        }
    }
    score.print("en-figures.tsv money/percent/pp");
    println!(
        "texts with no figure marked that stay without one: {} of {}",
        clean.1, clean.0
    );
}

#[test]
#[ignore]
fn english_and_chinese_time_expressions() {
    let rows = tsv("dates.tsv");
    for lang in ["en", "zh-Hans", "zh-Hant"] {
        let mut score = Score::default();
        let mine: Vec<_> = rows.iter().filter(|r| r[1] == lang).cloned().collect();
        // One text may be read against several reference dates: a group per (reference, text).
        let keyed: Vec<Vec<String>> = mine
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.push(format!("{}\t{}", r[2], r[3]));
                r
            })
            .collect();
        for (_, rows) in by_text(&keyed, 6) {
            let text = rows[0][3].clone();
            let reference = day(&rows[0][2]).unwrap();
            let want: Vec<_> = rows.iter().map(|r| (r[4].clone(), r[5].clone())).collect();
            score_dates(&text, reference, &want, &mut score, log());
        }
        score.print(&format!("dates.tsv {lang}"));
    }
}

#[test]
#[ignore]
fn english_news_paragraphs() {
    let (mut figs, mut ds) = (Score::default(), Score::default());
    for line in eval_file("en-news.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let p: Value = serde_json::from_str(line).unwrap();
        let text = p["text"].as_str().unwrap();
        let want_f: Vec<_> = p["figures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap().to_string();
                (s("text"), s("kind"), s("value"), s("unit"))
            })
            .collect();
        score_figures(text, &want_f, &mut figs, log());
        // A paragraph of unknown date is marked for absolute dates only.
        let reference = day(p["reference"].as_str().unwrap_or("")).unwrap_or(time::Date::MIN);
        let want_d: Vec<_> = p["dates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["text"].as_str().unwrap().to_string(),
                    d["value"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        score_dates(text, reference, &want_d, &mut ds, log());
    }
    figs.print("en-news.jsonl figures");
    ds.print("en-news.jsonl dates");
}

/// English entities by the rules and gazetteers alone on CoNLL-2003 English dev (beside the
/// project in `../shared/corpus/ner-train/`; skipped when absent). Exact span and type over
/// PER/ORG/LOC, MISC ignored; each document is one page (names propagate within it).
#[test]
#[ignore]
fn english_entities_on_conll_dev() {
    use std::collections::HashSet;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/ner-train/conll2003-en-dev.txt");
    let Ok(data) = std::fs::read_to_string(&path) else {
        println!("{} absent: skipped", path.display());
        return;
    };
    // Documents of sentences of (token, tag).
    let mut docs: Vec<Vec<Vec<(String, String)>>> = vec![Vec::new()];
    let mut sent = Vec::new();
    for line in data.lines() {
        if line.starts_with("-DOCSTART-") {
            docs.push(Vec::new());
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            if !sent.is_empty() {
                docs.last_mut().unwrap().push(std::mem::take(&mut sent));
            }
            continue;
        }
        sent.push((parts[0].to_string(), parts[parts.len() - 1].to_string()));
    }
    let kinds = [("PER", "person"), ("ORG", "organization"), ("LOC", "place")];
    let mut counts = std::collections::BTreeMap::<&str, (usize, usize, usize)>::new();
    for doc in docs.iter().filter(|d| !d.is_empty()) {
        // Each sentence as text: tokens joined by spaces, with each token's char span.
        let mut texts = Vec::new();
        let mut gold: Vec<HashSet<(usize, usize, &str)>> = Vec::new();
        for s in doc {
            let mut text = String::new();
            let mut spans = Vec::new();
            for (w, _) in s {
                if !text.is_empty() {
                    text.push(' ');
                }
                let a = text.chars().count();
                text.push_str(w);
                spans.push((a, text.chars().count()));
            }
            let mut g = HashSet::new();
            let mut open: Option<(usize, usize, &str)> = None;
            for (k, (_, tag)) in s.iter().enumerate() {
                let ty = tag.get(2..).unwrap_or("");
                let ours = kinds.iter().find(|(c, _)| *c == ty).map(|(_, o)| *o);
                let cont = tag.starts_with("I-") && open.is_some_and(|o| Some(o.2) == ours);
                if cont {
                    if let Some(o) = open.as_mut() {
                        o.1 = spans[k].1;
                    }
                    continue;
                }
                if let Some(o) = open.take() {
                    g.insert(o);
                }
                if let Some(o) = ours {
                    open = Some((spans[k].0, spans[k].1, o));
                }
            }
            if let Some(o) = open.take() {
                g.insert(o);
            }
            texts.push(text);
            gold.push(g);
        }
        let input: Vec<(&str, &[String])> = texts.iter().map(|t| (t.as_str(), &[][..])).collect();
        let found =
            sluice::extract::entity::page_entities(&input, sluice::text::words::shared(), false);
        for (g, f) in gold.iter().zip(found) {
            let f: HashSet<(usize, usize, &str)> = sluice::extract::entity::outermost(&f)
                .iter()
                .map(|e| (e.char_start, e.char_end, e.kind.name()))
                .collect();
            for (_, o) in kinds {
                let c = counts.entry(o).or_default();
                let gs: HashSet<_> = g.iter().filter(|x| x.2 == o).collect();
                let fs: HashSet<_> = f.iter().filter(|x| x.2 == o).collect();
                c.0 += gs.intersection(&fs).count();
                c.1 += fs.len();
                c.2 += gs.len();
            }
        }
    }
    let mut all = (0, 0, 0);
    for (kind, (tp, found, gold)) in &counts {
        let (p, r) = (
            *tp as f64 / *found.max(&1) as f64,
            *tp as f64 / *gold.max(&1) as f64,
        );
        println!(
            "conll dev {kind:<12} P {p:.3} R {r:.3} F1 {:.3}",
            2.0 * p * r / (p + r).max(1e-9)
        );
        all = (all.0 + tp, all.1 + found, all.2 + gold);
    }
    let (p, r) = (
        all.0 as f64 / all.1.max(1) as f64,
        all.0 as f64 / all.2.max(1) as f64,
    );
    println!(
        "conll dev all          P {p:.3} R {r:.3} F1 {:.3}",
        2.0 * p * r / (p + r).max(1e-9)
    );
}
