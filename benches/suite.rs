//! The benchmark suite: one table for one corpus.
//!
//! `cargo bench --bench suite` measures, on the same corpus in the same run:
//! - each stage alone (read + hash, decode, layout + sentences, words, extraction, dedup,
//!   serialize + write), in MB/s of input bytes, best of a few rounds, one thread;
//! - `sluice ingest` end to end with 1 and with 2 worker threads (MB/s, files/s, peak RSS):
//!   `SLUICE_BENCH_RUNS` runs of each (default 5), interleaved, as medians with their ranges, and
//!   the median of the 2/1 ratios of each pair of runs;
//! - the ceilings: sha256 of the corpus bytes and bare jieba-rs `cut` of its text;
//! - two Python peers, installed into a venv by `benches/peer/setup.sh`, and the ratios:
//!   `benches/peer/peer.py` (hashlib, jieba, regex figures, datasketch MinHash LSH, JSON lines)
//!   and `benches/peer/peer_full.py` (the same plus jieba.posseg entities, textrank keywords,
//!   JioNLP money and time parsing, LSH per paragraph: sluice's work, as a Python user would
//!   do it).
//!
//! The corpus is `SLUICE_BENCH_CORPUS=DIR` (every file below it), or by default one generated from
//! `seeds/` with variations so a fresh clone can run it. `SLUICE_BENCH_PEER=0` skips the peers;
//! the first runs up to 3 times (median), the fuller one (about a minute) once.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sluice::config::DedupSettings;
use sluice::dedup::Dedup;
use sluice::detect::{FileVersion, Job};
use sluice::event::{source_uri, write_line};
use sluice::process::{segment_events, Processor, SegmentsOf};
use sluice::store::StatIdentity;
use sluice::text::{self, decode::decode, words};

const ROUNDS: usize = 3;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{ingest, mbps, Corpus, Table};

/// Best wall time of a few rounds of `f`.
fn best(mut f: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn version(name: &str, bytes: &[u8]) -> Job {
    Job::Version(FileVersion {
        path: name.to_string(),
        stat: StatIdentity {
            size: bytes.len() as u64,
            mtime_ns: 1_700_000_000_000_000_000,
            ..StatIdentity::default()
        },
        sha256: hex::encode(Sha256::digest(bytes)),
        bytes: Some(bytes.to_vec()),
        previous_sha256: None,
        permit: None,
    })
}

fn stages(c: &Corpus, t: &mut Table) {
    let texts: Vec<String> = c
        .files
        .iter()
        .filter_map(|(_, b)| decode(b).ok().map(|d| d.text))
        .collect();
    let _ = words::shared(); // the dictionary loads once, at start, outside the timings
    let read = best(|| {
        for (rel, _) in &c.files {
            let bytes = std::fs::read(c.dir.join(rel)).unwrap_or_default();
            std::hint::black_box(Sha256::digest(&bytes));
        }
    });
    t.row(
        "stage: read + hash",
        format!("{:.1} MB/s", mbps(c.bytes, read)),
    );
    let dec = best(|| {
        for (_, b) in &c.files {
            std::hint::black_box(decode(b).ok());
        }
    });
    t.row("stage: decode", format!("{:.1} MB/s", mbps(c.bytes, dec)));
    let pages: Vec<text::Page> = texts.iter().map(|s| text::analyze(s)).collect();
    let lay = best(|| {
        for s in &texts {
            std::hint::black_box(text::analyze(s));
        }
    });
    t.row(
        "stage: layout + sentences",
        format!("{:.1} MB/s", mbps(c.bytes, lay)),
    );
    let w = words::shared();
    let wd = best(|| {
        for p in &pages {
            for seg in &p.segments {
                std::hint::black_box(w.tokens(&seg.text));
            }
        }
    });
    t.row(
        "stage: words (jieba through sluice)",
        format!("{:.1} MB/s", mbps(c.bytes, wd)),
    );
    let options = sluice::extract::Options::default();
    let day = time::macros::date!(2023 - 02 - 20);
    let ex = best(|| {
        for p in &pages {
            std::hint::black_box(sluice::extract::extract_page(p, w, &options, day));
        }
    });
    t.row(
        "stage: extraction",
        format!("{:.1} MB/s", mbps(c.bytes, ex)),
    );

    // Dedup: signatures (timed by the worker, in the document event) plus index resolution at
    // commit, into a fresh index.
    let off = Processor {
        dedup: Dedup::new(DedupSettings {
            enabled: false,
            ..DedupSettings::default()
        }),
        ..Processor::default()
    };
    let committables: Vec<_> = c
        .files
        .iter()
        .map(|(n, b)| off.process(version(n, b)))
        .collect();
    let dedup = Dedup::new(DedupSettings::default());
    let with_dedup = Processor::default();
    let dd = (0..ROUNDS)
        .map(|_| {
            let with: Vec<_> = c
                .files
                .iter()
                .map(|(n, b)| with_dedup.process(version(n, b)))
                .collect();
            let signatures_ms: f64 = with
                .iter()
                .filter_map(|c| c.events.last())
                .filter_map(|e| e.data["timings_ms"]["dedup"].as_f64())
                .sum();
            let tmp = tempfile::tempdir().expect("tempdir");
            let mut conn =
                sluice::store::open_connection(&tmp.path().join("bench.db")).expect("state db");
            let started = Instant::now();
            let mut index = dedup.load_index(&conn).expect("load index");
            let tx = conn.transaction().expect("begin");
            for mut c in with {
                sluice::commit::resolve(
                    &mut c,
                    None,
                    &dedup,
                    &mut sluice::dedup::Local {
                        index: &mut index,
                        conn: &tx,
                    },
                )
                .expect("resolve");
            }
            tx.commit().expect("commit");
            started.elapsed() + Duration::from_secs_f64(signatures_ms / 1000.0)
        })
        .min()
        .unwrap_or_default();
    t.row(
        "stage: dedup (signatures + index)",
        format!("{:.1} MB/s", mbps(c.bytes, dd)),
    );

    // Serialization happens in two places: a segment's payload on the worker (when its events
    // are made: `segment_events`, which also hashes the segment ids), the envelopes and the
    // other events' payloads in the commit step (`write_line`). Both are timed here; the
    // layout, extraction and normalization they start from are not.
    let source = source_uri(&c.dir);
    let laid_out: Vec<_> = c
        .files
        .iter()
        .map(|(_, b)| {
            decode(b).ok().map(|d| {
                let page = text::analyze(&d.text);
                let ex = sluice::extract::extract_page(&page, w, &options, day);
                let normalized: Vec<String> = page
                    .segments
                    .iter()
                    .map(|s| text::normalize::normalized(&s.text))
                    .collect();
                (page, ex, normalized)
            })
        })
        .collect();
    let ser = best(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut buf = Vec::new();
        let mut seq = 1;
        let mut line = |e: &sluice::event::Event| {
            write_line(&mut buf, e, &source, "2026-11-28T00:00:00.000Z", seq);
            seq += 1;
        };
        for (c, laid_out) in committables.iter().zip(&laid_out) {
            let mut segments = Vec::new();
            if let Some((page, ex, normalized)) = laid_out {
                segment_events(
                    &mut segments,
                    page,
                    normalized,
                    ex,
                    SegmentsOf {
                        subject: &c.path,
                        document: "d",
                        version: "v",
                        id_key: Some("v"),
                        tokens: false,
                    },
                );
            }
            for e in c
                .events
                .iter()
                .filter(|e| e.kind != sluice::event::EventType::Segment)
            {
                line(e);
            }
            for e in &segments {
                line(e);
            }
        }
        let path = tmp.path().join("events.ndjson");
        std::fs::write(&path, &buf).expect("write");
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .expect("sync");
    });
    t.row(
        "stage: serialize + write",
        format!("{:.1} MB/s", mbps(c.bytes, ser)),
    );

    // Ceilings.
    let all: Vec<u8> = c
        .files
        .iter()
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    let sha = best(|| {
        std::hint::black_box(Sha256::digest(&all));
    });
    t.row(
        "ceiling: sha256 of the corpus bytes",
        format!("{:.1} MB/s", mbps(c.bytes, sha)),
    );
    let jieba = jieba_rs::Jieba::new();
    let cut = best(|| {
        for s in &texts {
            std::hint::black_box(jieba.cut(s, true));
        }
    });
    t.row(
        "ceiling: bare jieba-rs cut (HMM)",
        format!("{:.1} MB/s", mbps(c.bytes, cut)),
    );
}

/// How many times each end-to-end measurement is repeated (`SLUICE_BENCH_RUNS`, default 5).
fn runs() -> usize {
    std::env::var("SLUICE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1)
}

/// The median of `v` (sorted in place), and its smallest and largest values.
fn spread(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// `sluice ingest` with 1 and with 2 workers, runs interleaved (1, 2, 1, 2, …) so that both
/// see the same machine; medians with their ranges, and the 2/1 ratio of each pair of runs.
/// Returns the median MB/s of the faster setting.
fn end_to_end(c: &Corpus, t: &mut Table) -> f64 {
    let n = runs();
    let mb = c.bytes as f64 / 1e6;
    let mut secs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut rss = [0u64; 2];
    let mut ratios = Vec::new();
    for _ in 0..n {
        for (k, workers) in [1, 2].into_iter().enumerate() {
            let (s, r) = ingest(c, workers);
            secs[k].push(s);
            rss[k] = rss[k].max(r);
        }
        let last = |k: usize| secs[k].last().copied().unwrap_or(f64::NAN);
        ratios.push(last(0) / last(1));
    }
    let mut best = 0.0f64;
    for (k, workers) in [1, 2].into_iter().enumerate() {
        let (median, fastest, slowest) = spread(&mut secs[k]);
        t.row(
            format!("end to end: sluice ingest, {workers} worker(s) (median of {n})"),
            format!(
                "{:.2} MB/s ({:.2}-{:.2}), {:.0} files/s, {median:.2} s, peak RSS {:.1} MiB",
                mb / median,
                mb / slowest,
                mb / fastest,
                c.files.len() as f64 / median,
                rss[k] as f64 / 1024.0
            ),
        );
        best = best.max(mb / median);
    }
    let (ratio, low, high) = spread(&mut ratios);
    t.row(
        "end to end: 2 workers / 1 worker (median of the pairs)",
        format!("{ratio:.2}x ({low:.2}-{high:.2})"),
    );
    best
}

/// A Python peer: `script` in benches/peer/, `what` it does (for the row), `runs` of it.
struct Peer {
    script: &'static str,
    what: &'static str,
    runs: usize,
}

fn peer(c: &Corpus, t: &mut Table, sluice_mbps: f64, p: &Peer) {
    if std::env::var("SLUICE_BENCH_PEER").is_ok_and(|v| v == "0") {
        t.row(
            format!("peer: Python ({})", p.what),
            "skipped (SLUICE_BENCH_PEER=0)",
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let setup = Command::new("bash")
        .arg(root.join("benches/peer/setup.sh"))
        .output();
    let python = match setup {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            t.row(
                "peer (Python)",
                format!(
                    "not run: setup failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            );
            return;
        }
        Err(e) => {
            t.row("peer (Python)", format!("not run: {e}"));
            return;
        }
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let once = || {
        let out = Command::new(&python)
            .arg(root.join("benches/peer").join(p.script))
            .arg(&c.dir)
            .arg(tmp.path().join("peer.jsonl"))
            .output();
        out.ok().and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split("seconds=")
                .nth(1)
                .and_then(|s| s.trim().parse::<f64>().ok())
        })
    };
    // Fewer runs than sluice's: one run takes seconds (the fuller peer's, a minute).
    let n = runs().min(p.runs);
    let mut secs: Vec<f64> = Vec::new();
    for _ in 0..n {
        match once() {
            Some(s) => secs.push(s),
            None => {
                t.row(
                    format!("peer: {}", p.script),
                    "not run: it printed no timing",
                );
                return;
            }
        }
    }
    let (median, fastest, slowest) = spread(&mut secs);
    let mb = c.bytes as f64 / 1e6;
    t.row(
        format!("peer: Python ({}) (median of {n})", p.what),
        format!(
            "{:.2} MB/s ({:.2}-{:.2}), {:.0} files/s, {median:.2} s",
            mb / median,
            mb / slowest,
            mb / fastest,
            c.files.len() as f64 / median
        ),
    );
    t.row(
        format!("sluice (faster end to end median) / {} median", p.script),
        format!("{:.1}x", sluice_mbps / (mb / median)),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is a filter we do not need.
    let corpus = corpus::from_env();
    let mut t = Table::for_corpus(&corpus);
    stages(&corpus, &mut t);
    let best = end_to_end(&corpus, &mut t);
    // The first peer cuts words and matches money with a regex; the second does sluice's work
    // with the libraries a Python user would pick for it (benches/peer/peer_full.py).
    for p in [
        Peer {
            script: "peer.py",
            what: "hashlib, jieba, regex, datasketch LSH",
            runs: 3,
        },
        Peer {
            script: "peer_full.py",
            what: "+ jieba.posseg, textrank, JioNLP money and time, LSH per paragraph",
            runs: 1,
        },
    ] {
        peer(&corpus, &mut t, best, &p);
    }
    t.print("sluice benchmark suite");
}
