//! Trains the entity taggers shipped in `data/` and prints their scores.
//!
//! `cargo run --release --example train_entities -- ../shared/corpus [--bits 20] [--epochs 30] [--no-write] [--zh-only|--en-only] [--sets boson,pd] [--zh-out FILE]`
//!
//! Writes the shipped models `data/entities/zh.model` (trained on all the Chinese sets) and
//! `data/entities/en.model` unless `--no-write`; `--zh-out FILE` writes the Chinese one there
//! instead. Of the Chinese model events keep only people (docs/entities.md); the sweep of
//! their least margin printed here chose `ZH_PERSON_MARGIN`.
//!
//! Chinese (characters): CLUENER 2020 train + dev, BosonNLP, and People's Daily 1998 dev. Their
//! types are mapped to ours: CLUENER `name` → person, `organization`/`company`/`government` →
//! organization, `address`/`scene` → place (the rest — position, book, game, movie — is O);
//! Boson `person_name` → person, `org_name`/`company_name` → organization, `location` → place
//! (product and time are O). The People's Daily figure is by 5-fold cross-validation: each
//! fifth is scored by a model trained on the other four fifths and the other sets, never on
//! sentences it trained on; `--zh-out` trains on all of them. CLUENER (`--sets
//! cluener,boson,pd`) is read with its sentences holding a postal address left out; it lowers
//! the People's Daily score (its guidelines differ), so the default sets are Boson and PD.
//!
//! English (tokens): CoNLL-2003 train, scored on CoNLL-2003 dev (PER/ORG/LOC; MISC is O).
//!
//! Deterministic: a fixed seed orders the sentences of each epoch, one thread, so the same
//! files give the same model bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice::extract::entity::model::{
    chinese_features, chinese_marks, english_features, english_marks, spans, word_marks, Model,
    Trainer,
};
use sluice::extract::entity::EntityType;

/// A sentence: its units (chars or words) and their gold tags.
struct Sentence {
    units: Vec<String>,
    tags: Vec<usize>,
}

fn tag_of(kind: Option<EntityType>, begin: bool) -> usize {
    match kind {
        None => 0,
        Some(k) => sluice::extract::entity::model::begin_tag(k) + usize::from(!begin),
    }
}

/// CLUENER or Boson JSON lines: text and entity_list with begin/end char offsets (end exclusive).
fn json_set(path: &Path, map: &dyn Fn(&str) -> Option<EntityType>, skip: &[&str]) -> Vec<Sentence> {
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("json line");
        let chars: Vec<char> = v["text"].as_str().unwrap_or("").chars().collect();
        // A sentence with an entity of a type that is ours under another guideline (CLUENER's
        // whole postal addresses) teaches the wrong spans: left out.
        let skipped = v["entity_list"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| skip.contains(&e["entity_type"].as_str().unwrap_or("")));
        if skipped {
            continue;
        }
        let mut tags = vec![0; chars.len()];
        for e in v["entity_list"].as_array().into_iter().flatten() {
            let Some(kind) = map(e["entity_type"].as_str().unwrap_or("")) else {
                continue;
            };
            let b = e["entity_index"]["begin"].as_u64().unwrap_or(0) as usize;
            let end = e["entity_index"]["end"].as_u64().unwrap_or(0) as usize;
            if b >= end || end > chars.len() || tags[b..end].iter().any(|&t| t != 0) {
                continue;
            }
            for (k, t) in tags[b..end].iter_mut().enumerate() {
                *t = tag_of(Some(kind), k == 0);
            }
        }
        // Long documents are cut at sentence ends, so one sequence stays short.
        let mut start = 0;
        for i in 0..chars.len() {
            let end = matches!(chars[i], '。' | '！' | '？' | '\n')
                && tags.get(i + 1).is_none_or(|&t| t == 0 || t % 2 == 1);
            if end || i + 1 == chars.len() {
                if i + 1 > start {
                    out.push(Sentence {
                        units: chars[start..=i].iter().map(|c| c.to_string()).collect(),
                        tags: tags[start..=i].to_vec(),
                    });
                }
                start = i + 1;
            }
        }
    }
    out
}

/// `unit tag` lines (BIO with PER/ORG/LOC), a blank line between sentences; CoNLL's last
/// column is the tag. `-DOCSTART-` lines are skipped.
fn bio_set(path: &Path) -> Vec<Sentence> {
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut cur = Sentence {
        units: Vec::new(),
        tags: Vec::new(),
    };
    for line in data.lines().chain(std::iter::once("")) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() || parts[0] == "-DOCSTART-" {
            if !cur.units.is_empty() {
                out.push(std::mem::replace(
                    &mut cur,
                    Sentence {
                        units: Vec::new(),
                        tags: Vec::new(),
                    },
                ));
            }
            continue;
        }
        let tag = parts[parts.len() - 1];
        let kind = match tag.get(2..) {
            Some("PER") => Some(EntityType::Person),
            Some("ORG") => Some(EntityType::Organization),
            Some("LOC") => Some(EntityType::Place),
            _ => None,
        };
        // IOB1 (CoNLL) opens an entity with I- too: a new one starts where the type changes.
        let prev = cur.tags.last().copied().unwrap_or(0);
        let same = kind.is_some_and(|k| {
            prev != 0 && sluice::extract::entity::model::tag_kind(prev).map(|(p, _)| p) == Some(k)
        });
        let begin = tag.starts_with("B-") || !same;
        cur.units.push(parts[0].to_string());
        cur.tags.push(tag_of(kind, begin));
    }
    out
}

fn features(s: &Sentence, chinese: bool) -> Vec<Vec<u64>> {
    if chinese {
        let chars: Vec<char> = s.units.iter().filter_map(|u| u.chars().next()).collect();
        let text: String = chars.iter().collect();
        let tags = sluice::extract::entity::tag(sluice::text::words::shared(), &text);
        chinese_features(
            &chars,
            &chinese_marks(&chars),
            &word_marks(&tags, chars.len()),
        )
        .iter()
        .map(|f| f.to_vec())
        .collect()
    } else {
        let words: Vec<&str> = s.units.iter().map(String::as_str).collect();
        english_features(&words, &english_marks(&words))
    }
}

/// xorshift64*, for a fixed order of sentences per epoch.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn train(sets: &[&[Vec<Vec<u64>>]], gold: &[&[Sentence]], bits: u32, epochs: usize) -> Model {
    let mut all: Vec<(&Vec<Vec<u64>>, &[usize])> = Vec::new();
    for (fs, ss) in sets.iter().zip(gold) {
        for (f, s) in fs.iter().zip(ss.iter()) {
            all.push((f, &s.tags));
        }
    }
    let mut t = Trainer::new(bits);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..epochs {
        for i in (1..all.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            all.swap(i, j);
        }
        for (f, g) in &all {
            t.learn(f, g);
        }
    }
    t.finish()
}

type Span = (usize, usize, EntityType);

/// The least margins at which the Chinese model's people are scored (quantized-weight units).
const MARGINS: [f32; 9] = [0.0, 25.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 600.0];

/// The rules' entities of a sentence (outermost, as scored flat), as spans.
fn rules(s: &Sentence) -> Vec<Span> {
    let text: String = s.units.concat();
    let found = sluice::extract::entity::page_entities(
        &[(&text, &[][..])],
        sluice::text::words::shared(),
        false,
    );
    sluice::extract::entity::outermost(&found[0])
        .iter()
        .map(|e| (e.char_start, e.char_end, e.kind))
        .collect()
}

/// The entities of a sentence as the pipeline finds them, with `model` for Chinese.
fn as_shipped(s: &Sentence, model: &Model) -> Vec<Span> {
    let text: String = s.units.concat();
    let found = sluice::extract::entity::page_entities_in(
        &[(&text, &[][..])],
        sluice::text::words::shared(),
        sluice::extract::entity::model::Language::Chinese,
        Some(model),
    );
    sluice::extract::entity::outermost(&found[0])
        .iter()
        .map(|e| (e.char_start, e.char_end, e.kind))
        .collect()
}

/// `first`, then each span of `then` that overlaps none of them.
fn combine(first: &[Span], then: &[Span]) -> Vec<Span> {
    let mut out = first.to_vec();
    out.extend(
        then.iter()
            .filter(|b| !first.iter().any(|a| a.0 < b.1 && b.0 < a.1)),
    );
    out
}

fn count(got: &[Span], want: &[Span], counts: &mut BTreeMap<&'static str, (usize, usize, usize)>) {
    for kind in [
        EntityType::Person,
        EntityType::Organization,
        EntityType::Place,
    ] {
        let c = counts.entry(kind.name()).or_default();
        let g: Vec<_> = want.iter().filter(|x| x.2 == kind).collect();
        let p: Vec<_> = got.iter().filter(|x| x.2 == kind).collect();
        c.0 += p.iter().filter(|x| g.contains(x)).count();
        c.1 += p.len();
        c.2 += g.len();
    }
}

/// Exact-span counts per type: (true positives, found, gold).
fn score(
    model: &Model,
    feats: &[Vec<Vec<u64>>],
    gold: &[Sentence],
    counts: &mut BTreeMap<&'static str, (usize, usize, usize)>,
) {
    for (f, s) in feats.iter().zip(gold) {
        count(&spans(&model.tag(f)), &spans(&s.tags), counts);
    }
}

fn report(what: &str, counts: &BTreeMap<&'static str, (usize, usize, usize)>) {
    let f1 = |tp: usize, found: usize, gold: usize| {
        let p = tp as f64 / found.max(1) as f64;
        let r = tp as f64 / gold.max(1) as f64;
        (p, r, 2.0 * p * r / (p + r).max(1e-9))
    };
    let mut all = (0, 0, 0);
    for (kind, &(tp, found, gold)) in counts {
        let (p, r, f) = f1(tp, found, gold);
        println!("{what:<40} {kind:<13} P {p:.3} R {r:.3} F1 {f:.3}");
        all = (all.0 + tp, all.1 + found, all.2 + gold);
    }
    let (p, r, f) = f1(all.0, all.1, all.2);
    println!("{what:<40} {:<13} P {p:.3} R {r:.3} F1 {f:.3}", "all");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus = PathBuf::from(args.first().map_or("../shared/corpus", String::as_str));
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let bits: u32 = value("--bits").map_or(20, |v| v.parse().expect("--bits N"));
    let epochs: usize = value("--epochs").map_or(30, |v| v.parse().expect("--epochs N"));
    let write = !args.iter().any(|a| a == "--no-write");
    let sets: Vec<&str> = value("--sets").map_or(vec!["boson", "pd"], |v| v.split(',').collect());
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/entities");

    if !args.iter().any(|a| a == "--en-only") {
        let cluener = |t: &str| match t {
            "name" => Some(EntityType::Person),
            "organization" | "company" | "government" => Some(EntityType::Organization),
            "address" | "scene" => Some(EntityType::Place),
            // government bodies are organizations in People's Daily too
            _ => None,
        };
        let boson = |t: &str| match t {
            "person_name" => Some(EntityType::Person),
            "org_name" | "company_name" => Some(EntityType::Organization),
            "location" => Some(EntityType::Place),
            _ => None,
        };
        let train_dir = corpus.join("ner-train");
        let cluener_skip: Vec<&str> = if args.iter().any(|a| a == "--cluener-addresses") {
            Vec::new()
        } else {
            vec!["address"]
        };
        let mut others: Vec<Sentence> = Vec::new();
        if sets.contains(&"cluener") {
            others.extend(json_set(
                &train_dir.join("cluener-train.jsonl"),
                &cluener,
                &cluener_skip,
            ));
            others.extend(json_set(
                &train_dir.join("cluener-dev.jsonl"),
                &cluener,
                &cluener_skip,
            ));
        }
        if sets.contains(&"boson") {
            others.extend(json_set(&train_dir.join("boson.jsonl"), &boson, &[]));
        }
        let pd = bio_set(&corpus.join("ner-dev/peoples-daily-1998.dev.bio"));
        let use_pd = sets.contains(&"pd");
        let of: Vec<Vec<Vec<u64>>> = others.iter().map(|s| features(s, true)).collect();
        let pf: Vec<Vec<Vec<u64>>> = pd.iter().map(|s| features(s, true)).collect();
        println!(
            "chinese: {} sentences from the other sets, {} People's Daily",
            others.len(),
            pd.len()
        );
        let mut counts = BTreeMap::new();
        let (mut by_rules, mut rules_first, mut model_first, mut shipped) = (
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
        );
        let mut by_margin = [(0usize, 0usize, 0usize); MARGINS.len()];
        let t0 = std::time::Instant::now();
        for fold in 0..5 {
            let (mut trf, mut trs, mut tef, mut tes) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (i, (f, s)) in pf.iter().zip(pd.iter()).enumerate() {
                if i % 5 == fold {
                    tef.push(f.clone());
                    tes.push(Sentence {
                        units: s.units.clone(),
                        tags: s.tags.clone(),
                    });
                } else if use_pd {
                    trf.push(f.clone());
                    trs.push(Sentence {
                        units: s.units.clone(),
                        tags: s.tags.clone(),
                    });
                }
            }
            let model = train(&[&of, &trf], &[&others, &trs], bits, epochs);
            score(&model, &tef, &tes, &mut counts);
            for (f, s) in tef.iter().zip(&tes) {
                let m = spans(&model.tag(f));
                let r = rules(s);
                let want = spans(&s.tags);
                count(&r, &want, &mut by_rules);
                count(&combine(&r, &m), &want, &mut rules_first);
                count(&combine(&m, &r), &want, &mut model_first);
                count(&as_shipped(s, &model), &want, &mut shipped);
                // People of the model as events keep them, at each least margin.
                let text: String = s.units.concat();
                let tags = sluice::extract::entity::tag(sluice::text::words::shared(), &text);
                let people = sluice::extract::entity::chinese_model_people(&model, &text, &tags);
                let gold: Vec<&Span> = want.iter().filter(|x| x.2 == EntityType::Person).collect();
                for (k, &at) in MARGINS.iter().enumerate() {
                    let kept: Vec<Span> = people
                        .iter()
                        .filter(|(_, sure)| *sure >= at)
                        .map(|(e, _)| (e.char_start, e.char_end, e.kind))
                        .collect();
                    let c = &mut by_margin[k];
                    c.0 += kept.iter().filter(|x| gold.contains(x)).count();
                    c.1 += kept.len();
                    c.2 += gold.len();
                }
            }
        }
        report("  rules alone", &by_rules);
        report(
            "  rules, then the model where they found nothing",
            &rules_first,
        );
        report(
            "  the model, then rules where it found nothing",
            &model_first,
        );
        report("  as in events (rules first, model people)", &shipped);
        for (&at, &(tp, found, gold)) in MARGINS.iter().zip(&by_margin) {
            let (p, r) = (
                tp as f64 / found.max(1) as f64,
                tp as f64 / gold.max(1) as f64,
            );
            println!(
                "  model people kept at margin >= {at:<5} P {p:.3} R {r:.3} F1 {:.3}",
                2.0 * p * r / (p + r).max(1e-9)
            );
        }
        report(
            &format!("People's Daily dev, 5-fold ({})", sets.join("+")),
            &counts,
        );
        println!("  ({:.1} s for five trainings)", t0.elapsed().as_secs_f64());
        let path = value("--zh-out")
            .map(PathBuf::from)
            .or_else(|| write.then(|| out_dir.join("zh.model")));
        if let Some(path) = path {
            let model = train(&[&of, &pf], &[&others, &pd], bits, epochs);
            let bytes = model.to_bytes();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).expect("the Chinese model's folder");
            }
            std::fs::write(&path, &bytes).expect("write the Chinese model");
            println!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
    }
    if !args.iter().any(|a| a == "--zh-only") {
        let train_set = bio_set(&corpus.join("ner-train/conll2003-en-train.txt"));
        let dev = bio_set(&corpus.join("ner-train/conll2003-en-dev.txt"));
        let tf: Vec<_> = train_set.iter().map(|s| features(s, false)).collect();
        let df: Vec<_> = dev.iter().map(|s| features(s, false)).collect();
        let model = train(&[&tf], &[&train_set], bits, epochs);
        let mut counts = BTreeMap::new();
        score(&model, &df, &dev, &mut counts);
        report("CoNLL-2003 English dev", &counts);
        let mut shipped = BTreeMap::new();
        for s in &dev {
            let text = s.units.join(" ");
            // Char offsets of each word in the joined text.
            let mut at = Vec::new();
            let mut c = 0;
            for u in &s.units {
                at.push((c, c + u.chars().count()));
                c += u.chars().count() + 1;
            }
            let found = sluice::extract::entity::page_entities_in(
                &[(&text, &[][..])],
                sluice::text::words::shared(),
                sluice::extract::entity::model::Language::English,
                Some(&model),
            );
            let got: Vec<Span> = sluice::extract::entity::outermost(&found[0])
                .iter()
                .filter_map(|e| {
                    let s = at.iter().position(|w| w.0 == e.char_start)?;
                    let t = at.iter().position(|w| w.1 == e.char_end)?;
                    Some((s, t + 1, e.kind))
                })
                .collect();
            count(&got, &spans(&s.tags), &mut shipped);
        }
        report("  as in events (model, then rules)", &shipped);
        if write {
            let bytes = model.to_bytes();
            std::fs::create_dir_all(&out_dir).expect("data/entities");
            std::fs::write(out_dir.join("en.model"), &bytes).expect("write en.model");
            println!("wrote data/entities/en.model ({} bytes)", bytes.len());
        }
    }
}
