//! Deduplication, end to end through the real binary: exact copies, near copies, incremental
//! changes, and a consumer that keeps a mirror of the folder from the events alone.

mod common;

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use common::mirror::{document, of, seed_page, Env};

fn segments<'a>(events: &'a [Value], subject: &str) -> Vec<&'a Value> {
    of(events, subject, "sluice.segment")
}

fn statuses(events: &[Value], subject: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for s in segments(events, subject) {
        let status = s["data"]["dedup"]["status"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_byte_copy_under_another_name_is_exact_with_no_segments() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("page.txt", &page);
    let first = env.ingest_new();
    let original = document(&first, "page.txt");
    assert_eq!(original["dedup"]["status"], "new");
    assert!(!segments(&first, "page.txt").is_empty());

    env.write("copy/of-page.txt", &page);
    let events = env.ingest_new();
    let copy = document(&events, "copy/of-page.txt");
    assert_eq!(copy["dedup"]["status"], "exact");
    assert_eq!(copy["dedup"]["of"], original["document"]);
    assert_eq!(copy["dedup"]["similarity"], 1.0);
    assert!(segments(&events, "copy/of-page.txt").is_empty());
    for article in copy["articles"].as_array().unwrap() {
        assert_eq!(article["dedup"]["status"], "exact");
    }
}

#[test]
fn two_equal_files_in_one_pass_are_one_new_and_one_exact() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("a.txt", &page);
    env.write("b.txt", &page);
    let events = env.ingest_new();
    let docs: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "sluice.document.ingested")
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["data"]["dedup"]["status"], "new");
    assert_eq!(docs[1]["data"]["dedup"]["status"], "exact");
    assert_eq!(docs[1]["data"]["dedup"]["of"], docs[0]["data"]["document"]);
    let second = docs[1]["subject"].as_str().unwrap();
    assert!(segments(&events, second).is_empty());
}

/// The page with `share` of its Han characters replaced by other Han characters, at random.
fn substitute_han(page: &str, share: f64, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let han: Vec<usize> = page
        .chars()
        .enumerate()
        .filter(|(_, c)| ('\u{4e00}'..='\u{9fff}').contains(c))
        .map(|(i, _)| i)
        .collect();
    let n = (han.len() as f64 * share).round() as usize;
    let mut chosen = std::collections::HashSet::new();
    while chosen.len() < n {
        chosen.insert(han[rng.random_range(0..han.len())]);
    }
    page.chars()
        .enumerate()
        .map(|(i, c)| {
            if chosen.contains(&i) {
                char::from_u32(0x4e00 + (c as u32 - 0x4e00 + rng.random_range(1..20000)) % 0x5000)
                    .unwrap_or('中')
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn one_percent_of_han_characters_substituted_is_near_above_0_85() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("page.txt", &page);
    let original = document(&env.ingest_new(), "page.txt")["document"].clone();
    env.write("noisy.txt", substitute_han(&page, 0.01, 42));
    let events = env.ingest_new();
    let doc = document(&events, "noisy.txt");
    assert_eq!(doc["dedup"]["status"], "near", "{}", doc["dedup"]);
    assert_eq!(doc["dedup"]["of"], original);
    let similarity = doc["dedup"]["similarity"].as_f64().unwrap();
    eprintln!("1% Han substituted: document similarity {similarity}");
    assert!(similarity >= 0.85, "similarity {similarity}");
    // Untouched paragraphs are exact copies; touched long ones mostly near.
    let counts = statuses(&events, "noisy.txt");
    eprintln!("segment verdicts: {counts:?}");
    assert!(counts.get("exact").copied().unwrap_or(0) > counts.get("new").copied().unwrap_or(0));
    assert!(counts.get("near").copied().unwrap_or(0) > 0);
}

#[test]
fn a_dropped_paragraph_and_an_added_sentence_is_near_above_0_8() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("page.txt", &page);
    let original = document(&env.ingest_new(), "page.txt")["document"].clone();
    let paragraphs: Vec<&str> = page.split("\n\n").collect();
    let dropped = paragraphs
        .iter()
        .position(|p| p.starts_with("“乐城有引进优势"))
        .expect("the paragraph to drop");
    let grown = paragraphs
        .iter()
        .position(|p| p.starts_with("在省内“飞地”发展上"))
        .expect("the paragraph to grow");
    let edited: Vec<String> = paragraphs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != dropped)
        .map(|(i, p)| {
            if i == grown {
                format!("{p}与此同时,海口高新区还将联合周边市县共同举办招商推介活动。")
            } else {
                p.to_string()
            }
        })
        .collect();
    env.write("edited.txt", edited.join("\n\n"));
    let events = env.ingest_new();
    let doc = document(&events, "edited.txt");
    assert_eq!(doc["dedup"]["status"], "near", "{}", doc["dedup"]);
    assert_eq!(doc["dedup"]["of"], original);
    let similarity = doc["dedup"]["similarity"].as_f64().unwrap();
    eprintln!("paragraph dropped + sentence added: document similarity {similarity}");
    assert!(similarity >= 0.8, "similarity {similarity}");
    // Every other segment is an exact copy; the grown one (168 chars, 140 of them old: true
    // 5-gram Jaccard about 0.81) is near or new depending on the estimate.
    let segs = segments(&events, "edited.txt");
    let (grown, rest): (Vec<&Value>, Vec<&Value>) = segs.into_iter().partition(|s| {
        s["data"]["text"]
            .as_str()
            .unwrap()
            .starts_with("在省内“飞地”发展上")
    });
    assert_eq!(grown.len(), 1);
    eprintln!("grown paragraph: {}", grown[0]["data"]["dedup"]);
    assert!(["near", "new"].contains(&grown[0]["data"]["dedup"]["status"].as_str().unwrap()));
    assert!(rest.iter().all(|s| s["data"]["dedup"]["status"] == "exact"));
}

/// ASCII punctuation to full width and back, and a blank line more between paragraphs.
fn swap_punctuation(page: &str) -> String {
    let pairs = [
        (',', '，'),
        ('?', '？'),
        (':', '：'),
        ('(', '（'),
        (')', '）'),
        (';', '；'),
        ('!', '！'),
    ];
    page.chars()
        .map(|c| {
            pairs
                .iter()
                .find_map(|&(a, f)| {
                    if c == a {
                        Some(f)
                    } else if c == f {
                        Some(a)
                    } else {
                        None
                    }
                })
                .unwrap_or(c)
        })
        .collect::<String>()
        .replace("\n\n", "\n\n\n")
}

#[test]
fn the_page_in_gbk_or_with_other_punctuation_and_spacing_is_exact() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("page.txt", &page);
    let original = document(&env.ingest_new(), "page.txt")["document"].clone();
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&page);
    assert!(!lossy, "the sample page is GBK-encodable");
    env.write("gbk.txt", &gbk);
    env.write("punct.txt", swap_punctuation(&page));
    let events = env.ingest_new();
    for path in ["gbk.txt", "punct.txt"] {
        let doc = document(&events, path);
        assert_eq!(doc["dedup"]["status"], "exact", "{path}: {}", doc["dedup"]);
        assert_eq!(doc["dedup"]["of"], original, "{path}");
        let counts = statuses(&events, path);
        assert_eq!(
            counts.keys().collect::<Vec<_>>(),
            ["exact"],
            "{path}: {counts:?}"
        );
    }
    assert_eq!(document(&events, "gbk.txt")["encoding"], "gbk");
}

#[test]
fn one_sentence_edited_in_place_changes_one_segment_and_retracts_one_id() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("page.txt", &page);
    let before = env.ingest_new();
    let old = "去年,苏生生物在乐城完成了首例骨再生替代物手术。";
    assert!(page.contains(old));
    let old_segment = segments(&before, "page.txt")
        .into_iter()
        .find(|s| s["data"]["text"].as_str().unwrap().contains(old))
        .expect("the paragraph with the sentence")["data"]["segment"]
        .clone();
    env.write(
        "page.txt",
        page.replace(
            old,
            "去年,苏生生物在乐城顺利完成了国内首例骨再生替代物手术。",
        ),
    );
    let events = env.ingest_new();
    let segs = segments(&events, "page.txt");
    assert_eq!(segs.len(), segments(&before, "page.txt").len());
    let changed: Vec<&&Value> = segs
        .iter()
        .filter(|s| s["data"]["dedup"]["status"] != "unchanged")
        .collect();
    assert_eq!(changed.len(), 1, "one changed segment");
    assert_eq!(changed[0]["data"]["dedup"]["status"], "new");
    let doc = document(&events, "page.txt");
    assert_eq!(doc["retracted"], serde_json::json!([old_segment]));
    assert_eq!(
        doc["dedup"]["status"], "new",
        "its own previous version is not a duplicate"
    );
}

#[test]
fn with_dedup_disabled_a_copy_is_ingested_in_full() {
    let mut env = Env::new();
    env.settings.push("dedup.enabled=false".into());
    let page = seed_page();
    env.write("a.txt", &page);
    env.write("b.txt", &page);
    let events = env.ingest_new();
    assert_eq!(document(&events, "b.txt")["dedup"]["status"], "new");
    assert_eq!(
        segments(&events, "b.txt").len(),
        segments(&events, "a.txt").len()
    );
}

#[test]
fn the_index_survives_a_restart() {
    let mut env = Env::new();
    let page = seed_page();
    env.write("a.txt", &page);
    env.ingest_new();
    env.write("later.txt", substitute_han(&page, 0.005, 7));
    let events = env.ingest_new();
    assert_eq!(document(&events, "later.txt")["dedup"]["status"], "near");
    // Each `ingest_new` is a new process: the in-memory index is loaded from the state database,
    // with fingerprints (exact) and band keys (near) of everything committed before.
    env.write("again.txt", swap_punctuation(&page));
    let events = env.ingest_new();
    let doc = document(&events, "again.txt");
    assert_eq!(doc["dedup"]["status"], "exact", "{}", doc["dedup"]);
    env.write("third.txt", substitute_han(&page, 0.005, 9));
    let events = env.ingest_new();
    assert_eq!(document(&events, "third.txt")["dedup"]["status"], "near");
}

/// A consumer of the log that keeps, for every path, the segments it holds: id → (version,
/// text, indexes). It knows only the events.
/// What a consumer holds of one segment id of one path: (version, text, indexes).
type Held = HashMap<String, (String, String, Vec<u64>)>;

/// Per path, its segments as (id, text, sorted indexes), sorted.
type View = HashMap<String, Vec<(String, String, Vec<u64>)>>;

#[derive(Default)]
struct Mirror {
    files: HashMap<String, Held>,
    paths: HashMap<String, String>,
}

impl Mirror {
    fn apply(&mut self, events: &[Value]) {
        let mut block_segments = 0;
        for e in events {
            let subject = e["subject"].as_str().unwrap().to_string();
            let d = &e["data"];
            match e["type"].as_str().unwrap() {
                "sluice.file.added" | "sluice.file.changed" => block_segments = 0,
                "sluice.segment" => {
                    block_segments += 1;
                    let id = d["segment"].as_str().unwrap().to_string();
                    let version = d["version"].as_str().unwrap().to_string();
                    let text = d["text"].as_str().unwrap().to_string();
                    let index = d["index"].as_u64().unwrap();
                    let held = self.files.entry(subject).or_default();
                    let entry = held
                        .entry(id)
                        .or_insert_with(|| (version.clone(), text.clone(), Vec::new()));
                    if entry.0 != version {
                        *entry = (version, text, Vec::new());
                    }
                    entry.2.push(index);
                }
                "sluice.document.ingested" => {
                    let copied = d["dedup"]["status"] == "exact"
                        && block_segments == 0
                        && d["counts"]["segments"].as_u64() > Some(0);
                    if copied {
                        let of = d["dedup"]["of"].as_str().unwrap();
                        let from = self.paths.get(of).expect("the copied document is held");
                        let content = self.files.get(from).cloned().unwrap_or_default();
                        self.files.insert(subject.clone(), content);
                    } else {
                        let held = self.files.entry(subject.clone()).or_default();
                        for id in d["retracted"].as_array().unwrap() {
                            held.remove(id.as_str().unwrap());
                        }
                    }
                    self.paths
                        .insert(d["document"].as_str().unwrap().to_string(), subject);
                }
                "sluice.file.moved" => {
                    let from = d["from"].as_str().unwrap();
                    let held = self.files.remove(from).unwrap_or_default();
                    self.files.insert(subject.clone(), held);
                    self.paths
                        .insert(d["document"].as_str().unwrap().to_string(), subject);
                }
                "sluice.file.removed" => {
                    let mut held = self.files.remove(&subject).unwrap_or_default();
                    for id in d["retracted"].as_array().unwrap() {
                        held.remove(id.as_str().unwrap());
                    }
                    assert!(
                        held.is_empty(),
                        "{subject}: removal retracts everything held"
                    );
                }
                other => panic!("unexpected event {other}: {e}"),
            }
        }
    }

    /// What is held, as (id, text, indexes) sorted, per path.
    fn view(&self) -> View {
        self.files
            .iter()
            .map(|(path, held)| {
                let mut v: Vec<_> = held
                    .iter()
                    .map(|(id, (_, text, idx))| {
                        let mut idx = idx.clone();
                        idx.sort_unstable();
                        (id.clone(), text.clone(), idx)
                    })
                    .collect();
                v.sort();
                (path.clone(), v)
            })
            .collect()
    }
}

/// What the folder holds, segmented the way sluice does.
fn folder_view(env: &Env) -> View {
    let mut view = HashMap::new();
    for entry in std::fs::read_dir(&env.watch).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let text = sluice::text::decode::decode(&bytes)
            .expect("decodable")
            .text;
        let mut by_id: HashMap<String, (String, Vec<u64>)> = HashMap::new();
        for (i, s) in sluice::text::segment(&text).iter().enumerate() {
            by_id
                .entry(s.id())
                .or_insert_with(|| (s.text.clone(), Vec::new()))
                .1
                .push(i as u64);
        }
        let mut v: Vec<_> = by_id
            .into_iter()
            .map(|(id, (text, idx))| (id, text, idx))
            .collect();
        v.sort();
        view.insert(name, v);
    }
    view
}

#[test]
fn a_consumer_applying_segments_and_retractions_mirrors_the_folder_over_random_edits() {
    let mut env = Env::new();
    let page = seed_page();
    let paragraphs: Vec<String> = page
        .split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    let mut files: HashMap<&str, Vec<String>> = HashMap::new();
    let mut mirror = Mirror::default();
    let render = |ps: &[String]| ps.join("\n\n") + "\n";
    for round in 0..24 {
        for _ in 0..rng.random_range(1..4) {
            let name = names[rng.random_range(0..names.len())];
            let op = rng.random_range(0..10);
            match (files.contains_key(name), op) {
                (false, _) => {
                    let start = rng.random_range(0..paragraphs.len() - 8);
                    let len = rng.random_range(3..8);
                    files.insert(name, paragraphs[start..start + len].to_vec());
                }
                (true, 0) => {
                    files.remove(name);
                }
                (true, 1) => {
                    // Byte copy of another file.
                    let others: Vec<&str> = files.keys().copied().filter(|n| *n != name).collect();
                    if let Some(other) = others.first() {
                        let content = files[other].clone();
                        files.insert(name, content);
                    }
                }
                (true, 2) => {
                    // Move to a free name.
                    if let Some(free) = names.iter().find(|n| !files.contains_key(*n)) {
                        let content = files.remove(name).unwrap();
                        std::fs::rename(env.watch.join(name), env.watch.join(free)).unwrap();
                        files.insert(free, content);
                        continue;
                    }
                }
                (true, _) => {
                    let ps = files.get_mut(name).unwrap();
                    let at = rng.random_range(0..ps.len());
                    match rng.random_range(0..4) {
                        0 if ps.len() > 1 => {
                            ps.remove(at);
                        }
                        1 => ps.insert(
                            at,
                            paragraphs[rng.random_range(0..paragraphs.len())].clone(),
                        ),
                        2 => ps[at].push_str("这是新增加的一句话。"),
                        _ => {
                            let other = rng.random_range(0..ps.len());
                            ps.swap(at, other)
                        }
                    }
                }
            }
            for n in names {
                let path = env.watch.join(n);
                match files.get(n) {
                    Some(ps) => {
                        let content = render(ps);
                        if std::fs::read_to_string(&path).ok().as_deref() != Some(&content) {
                            std::fs::write(&path, content).unwrap();
                        }
                    }
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        let events = env.ingest_new();
        mirror.apply(&events);
        assert_eq!(mirror.view(), folder_view(&env), "round {round}");
    }
}

#[test]
fn content_that_left_the_folder_is_forgotten_beyond_dedup_retention_entries() {
    for (cap, verdict) in [("0", "exact"), ("1", "new")] {
        let mut env = Env::new();
        env.settings.push(format!("dedup.retention_entries={cap}"));
        let page = seed_page();
        env.write("a.txt", &page);
        env.ingest_new();
        // a.txt's text leaves the folder…
        env.write(
            "a.txt",
            "另一篇文章\n\n这是一篇完全不同的文章，讲的是另一件事情，与原来的内容毫无关系。\n",
        );
        env.ingest_new();
        // …and comes back under another name: seen before, unless retention forgot it.
        env.write("b.txt", &page);
        let events = env.ingest_new();
        assert_eq!(
            document(&events, "b.txt")["dedup"]["status"],
            verdict,
            "dedup.retention_entries={cap}"
        );
        let conn = rusqlite::Connection::open(&env.state).unwrap();
        let gone: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM dedup_exact WHERE gone_at IS NOT NULL) + \
                 (SELECT COUNT(*) FROM dedup_items WHERE gone_at IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if cap == "1" {
            assert!(gone <= 1, "{gone} gone rows kept with a cap of 1");
        } else {
            assert!(gone > 10, "{gone}: without a cap the old text is kept");
        }
    }
}
