//! A model test of watcher + detector on the real daemon: random sequences of create, write,
//! slow write, rename, delete, touch and restart (SIGTERM or kill -9). After each step the events
//! that appeared are compared with the ones a model of the folder says must appear, and at the end
//! a mirror built from the events alone must equal the folder.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::time::Duration;

use common::harness::*;
use proptest::prelude::*;

const NAMES: &[&str] = &["a.txt", "b.txt", "sub/c.txt", "sub/deep/d.txt"];
const CONTENTS: &[&str] = &[
    "第一篇稿件。\n\n海口高新区积极探索合作模式。\n",
    "第二篇稿件。\n\n西安高新区举办发布会。\n",
    "Third draft.\n\nA paragraph in English.\n",
    "第四篇。\n\n南阳高新区重奖科技创新企业。\n\n第二段。\n",
];

#[derive(Debug, Clone)]
enum Op {
    Write(usize, usize),
    SlowWrite(usize, usize),
    Rename(usize, usize),
    Delete(usize),
    Touch(usize),
    Restart { kill: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let n = NAMES.len();
    let c = CONTENTS.len();
    prop_oneof![
        4 => (0..n, 0..c).prop_map(|(p, c)| Op::Write(p, c)),
        1 => (0..n, 0..c).prop_map(|(p, c)| Op::SlowWrite(p, c)),
        2 => (0..n, 0..n).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (0..n).prop_map(Op::Delete),
        1 => (0..n).prop_map(Op::Touch),
        1 => any::<bool>().prop_map(|kill| Op::Restart { kill }),
    ]
}

/// The file-level events (type, subject) that must follow `op`, given the folder `model`.
fn expect(model: &mut BTreeMap<String, usize>, op: &Op) -> Vec<(String, String)> {
    let ev = |t: &str, p: &str| (format!("sluice.file.{t}"), p.to_string());
    match *op {
        Op::Write(p, c) | Op::SlowWrite(p, c) => {
            let path = NAMES[p].to_string();
            match model.insert(path.clone(), c) {
                None => vec![ev("added", &path)],
                Some(old) if old == c => vec![],
                Some(_) => vec![ev("changed", &path)],
            }
        }
        Op::Rename(a, b) => {
            let (from, to) = (NAMES[a].to_string(), NAMES[b].to_string());
            if from == to || !model.contains_key(&from) {
                return vec![];
            }
            let c = model.remove(&from).unwrap_or_default();
            match model.insert(to.clone(), c) {
                None => vec![ev("moved", &to)],
                Some(old) if old == c => vec![ev("removed", &from)],
                Some(_) => vec![ev("changed", &to), ev("removed", &from)],
            }
        }
        Op::Delete(p) => match model.remove(NAMES[p]) {
            Some(_) => vec![ev("removed", NAMES[p])],
            None => vec![],
        },
        Op::Touch(_) | Op::Restart { .. } => vec![],
    }
}

fn apply(env: &Env, daemon: &mut Option<Daemon>, op: &Op) {
    match *op {
        Op::Write(p, c) => env.write(NAMES[p], CONTENTS[c]),
        Op::SlowWrite(p, c) => {
            let path = env.path(NAMES[p]);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut f = fs::File::create(&path).unwrap();
            for chunk in CONTENTS[c].as_bytes().chunks(12) {
                f.write_all(chunk).unwrap();
                f.flush().unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        Op::Rename(a, b) => {
            let (from, to) = (env.path(NAMES[a]), env.path(NAMES[b]));
            if a != b && from.exists() {
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                fs::rename(from, to).unwrap();
            }
        }
        Op::Delete(p) => {
            let _ = fs::remove_file(env.path(NAMES[p]));
        }
        Op::Touch(p) => {
            if let Ok(f) = fs::File::options().write(true).open(env.path(NAMES[p])) {
                let later = std::time::SystemTime::now() + Duration::from_secs(2);
                f.set_modified(later).unwrap();
            }
        }
        Op::Restart { kill } => {
            let d = daemon.take().unwrap();
            if kill {
                d.kill9();
            } else {
                assert!(d.stop().0.success());
            }
            *daemon = Some(env.start());
        }
    }
}

fn file_events(events: &[serde_json::Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("sluice.file."))
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// path -> sha256, from the events alone.
fn mirror(events: &[serde_json::Value]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for e in events {
        let d = &e["data"];
        match e["type"].as_str().unwrap() {
            "sluice.file.added" | "sluice.file.changed" => {
                m.insert(
                    d["path"].as_str().unwrap().into(),
                    d["sha256"].as_str().unwrap().into(),
                );
            }
            "sluice.file.moved" => {
                m.remove(d["from"].as_str().unwrap());
                m.insert(
                    d["to"].as_str().unwrap().into(),
                    d["sha256"].as_str().unwrap().into(),
                );
            }
            "sluice.file.removed" => {
                m.remove(d["path"].as_str().unwrap());
            }
            _ => {}
        }
    }
    m
}

fn run_case(ops: &[Op]) -> Result<(), TestCaseError> {
    let env = Env::new().with("watch.settle_ms=80");
    let mut daemon = Some(env.start());
    let mut model = BTreeMap::new();
    let mut seen = 0;
    for (step, op) in ops.iter().enumerate() {
        let mut want = expect(&mut model, op);
        want.sort();
        apply(&env, &mut daemon, op);
        // Wait for what must come (slow machines), then for quiet (to catch what must not).
        env.wait_for(Duration::from_secs(20), |e| {
            file_events(&e[seen..]).len() >= want.len()
        });
        let events = env.wait_quiet(Duration::from_millis(400));
        let got = file_events(&events[seen..]);
        prop_assert_eq!(&got, &want, "step {} {:?} of {:?}", step, op, ops);
        seen = events.len();
    }
    if let Some(d) = daemon {
        prop_assert!(d.stop().0.success());
    }
    let events = env.final_events();
    assert_sequences_gap_free(&events);
    assert_versions_contiguous(&events);
    assert_ids_unique(&events);
    let on_disk: BTreeMap<String, String> = model
        .keys()
        .map(|p| {
            (
                p.clone(),
                sluice::detect::sha256_file(&env.path(p)).unwrap(),
            )
        })
        .collect();
    prop_assert_eq!(mirror(&events), on_disk);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(6),
        max_shrink_iters: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_event_log_follows_a_model_of_the_folder(ops in proptest::collection::vec(op(), 4..12)) {
        run_case(&ops)?;
    }
}
