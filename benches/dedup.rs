//! Dedup cost beside segmentation, and index lookups as the index grows.
//!
//! ```sh
//! cargo bench --bench dedup                 # corpus: ../shared/corpus/chinanews-dev if present, else seeds/
//! cargo bench --bench dedup -- DIR          # any folder of .txt files
//! ```
//!
//! 1. Every file goes through the real `process_with` (decode, layout, dedup fingerprints and
//!    signatures at document, article and segment level) and then `dedup::resolve` in one SQLite
//!    transaction per file against a state database on disk. MB/s are of file bytes.
//! 2. Index lookups: an index of 10,000 and then 100,000 article signatures (corpus signatures with
//!    half their positions redrawn, so they are distinct but share bands with the corpus; the
//!    first 1,200 are the corpus signatures themselves, so corpus queries hit), and the
//!    time of one near lookup (16 in-memory band lookups + verification of the candidates, read
//!    from SQLite) for corpus articles
//!    (hits) and random signatures (misses), and of one exact lookup.

use std::path::PathBuf;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use sluice::dedup::index::{self, Level};
use sluice::dedup::minhash::Signature;
use sluice::dedup::{compact, Dedup};
use sluice::detect::{FileVersion, Job};
use sluice::process::process;
use sluice::store::StatIdentity;

fn load(dir: &PathBuf) -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|x| x == "txt"));
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().to_string();
            Some((name, std::fs::read(p).ok()?))
        })
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = arg.map(PathBuf::from).unwrap_or_else(|| {
        let dev = manifest.join("../shared/corpus/chinanews-dev");
        if dev.is_dir() {
            dev
        } else {
            manifest.join("seeds")
        }
    });
    let files = load(&dir);
    let total_bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mb = total_bytes as f64 / 1e6;
    println!(
        "corpus {} : {} files, {:.2} MB",
        dir.display(),
        files.len(),
        mb
    );
    let dedup = Dedup::default();

    // 1. Processing and resolving, file by file.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut conn = sluice::store::open_connection(&tmp.path().join("bench.db")).expect("state");
    let mut idx = dedup.load_index(&conn).expect("load");
    let (mut decode_ms, mut segment_ms, mut dedup_ms, mut resolve_ms) = (0.0, 0.0, 0.0, 0.0);
    let mut index_ms = 0.0;
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for (name, bytes) in &files {
        let mut c = process(Job::Version(FileVersion {
            path: name.clone(),
            stat: StatIdentity::default(),
            sha256: sha(bytes),
            bytes: Some(bytes.clone()),
            previous_sha256: None,
            permit: None,
        }));
        let started = Instant::now();
        let tx = conn.transaction().expect("begin");
        sluice::commit::resolve(
            &mut c,
            None,
            &dedup,
            &mut sluice::dedup::Local {
                index: &mut idx,
                conn: &tx,
            },
        )
        .expect("resolve");
        tx.commit().expect("commit");
        resolve_ms += started.elapsed().as_secs_f64() * 1000.0;
        if let Some(doc) = c.events.last() {
            let t = &doc.data["timings_ms"];
            decode_ms += t["decode"].as_f64().unwrap_or(0.0);
            segment_ms += t["segment"].as_f64().unwrap_or(0.0);
            dedup_ms += t["dedup"].as_f64().unwrap_or(0.0);
            index_ms += t["dedup_index"].as_f64().unwrap_or(0.0);
            let status = doc.data["dedup"]["status"].as_str().unwrap_or("-");
            *verdicts.entry(status.to_string()).or_default() += 1;
        }
    }
    let rate = |ms: f64| mb / (ms / 1000.0).max(1e-9);
    println!(
        "decode                  {decode_ms:9.1} ms  {:8.1} MB/s",
        rate(decode_ms)
    );
    println!(
        "segmentation (layout)   {segment_ms:9.1} ms  {:8.1} MB/s",
        rate(segment_ms)
    );
    println!(
        "dedup signatures        {dedup_ms:9.1} ms  {:8.1} MB/s  (fingerprints + 128 x 64-bit MinHash at document, article, segment level)",
        rate(dedup_ms)
    );
    println!(
        "dedup index             {resolve_ms:9.1} ms  {:8.1} MB/s  (lookups + inserts, one transaction per file: {:.3} ms per file)",
        rate(resolve_ms),
        resolve_ms / files.len().max(1) as f64
    );
    println!(
        "  of which in resolve (timings_ms.dedup_index, lookups + inserts without the commit): {:.3} ms per file",
        index_ms / files.len().max(1) as f64
    );
    println!("document verdicts: {verdicts:?}");
    let (exact, items) = index::sizes(&conn).expect("sizes");
    let (_, bands) = idx.len();
    println!("index after the corpus: {exact} fingerprints, {items} signatures, {bands} band keys");
    let started = Instant::now();
    let reloaded = dedup.load_index(&conn).expect("load");
    println!(
        "index loaded again from the database in {:.1} ms ({:?})",
        started.elapsed().as_secs_f64() * 1000.0,
        reloaded.len()
    );

    // 1b. Signature work, side by side: each level shingled and hashed on its own text (before
    // 2026-11-28; a page that is one article shared its signature) against segments hashed once
    // and articles and documents as unions (position-wise minimum) of their segments'.
    let pages: Vec<(String, sluice::text::Page)> = files
        .iter()
        .filter_map(|(_, b)| sluice::text::decode::decode(b).ok())
        .map(|d| {
            let page = sluice::text::analyze(&d.text);
            (d.text, page)
        })
        .collect();
    let h = dedup.hasher();
    let joined = |page: &sluice::text::Page, a: &sluice::text::Article| -> String {
        let (first, end) = a.segments;
        page.segments
            .get(first..=end.min(page.segments.len().saturating_sub(1)))
            .unwrap_or_default()
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut per_level_ms = f64::MAX;
    let mut union_ms = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for (text, page) in &pages {
            let segs: Vec<_> = page.segments.iter().map(|s| h.signature(&s.text)).collect();
            let arts: Vec<_> = page
                .articles
                .iter()
                .map(|a| h.signature(&joined(page, a)))
                .collect();
            let doc = (page.articles.len() != 1).then(|| h.signature(text));
            std::hint::black_box((segs, arts, doc));
        }
        per_level_ms = per_level_ms.min(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        for (text, page) in &pages {
            std::hint::black_box(dedup.analyze("d", "v", text, page));
        }
        union_ms = union_ms.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    // 1c. MinHash alone over every segment's shingle set: one-permutation hashing with optimal
    // densification (the signatures in use since issue 18) beside the 128-permutation loop it
    // replaced (four permutations at a time, branch-free minimum) and that loop's first form
    // (every permutation per shingle, compare and store; same results as the second).
    let sets: Vec<Vec<u64>> = pages
        .iter()
        .flat_map(|(_, p)| p.segments.iter().map(|s| h.shingle_set(&s.text)))
        .filter(|s| !s.is_empty())
        .collect();
    let perms: Vec<(u64, u64)> = h.permutations().collect();
    let plain = |set: &[u64]| {
        let mut mins = vec![u64::MAX; perms.len()];
        for &x in set {
            for (m, &(a, b)) in mins.iter_mut().zip(&perms) {
                let v = a.wrapping_mul(x).wrapping_add(b);
                if v < *m {
                    *m = v;
                }
            }
        }
        mins
    };
    let (mut one_ms, mut blocked_ms, mut plain_ms) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let started = Instant::now();
        for set in &sets {
            std::hint::black_box(h.signature_of(set));
        }
        one_ms = one_ms.min(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        for set in &sets {
            std::hint::black_box(h.signature_by_permutations(set));
        }
        blocked_ms = blocked_ms.min(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        for set in &sets {
            std::hint::black_box(plain(set));
        }
        plain_ms = plain_ms.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    assert!(sets
        .iter()
        .all(|s| h.signature_by_permutations(s).map(|sig| sig.0) == Some(plain(s))));
    let shingles: usize = sets.iter().map(Vec::len).sum();
    println!(
        "minhash, {} segment sets ({shingles} shingles): one permutation, densified {one_ms:.1} ms; 128 permutations {blocked_ms:.1} ms ({:.1}x); their first loop {plain_ms:.1} ms ({:.1}x)",
        sets.len(),
        blocked_ms / one_ms,
        plain_ms / one_ms
    );
    println!(
        "signatures, per level   {per_level_ms:9.1} ms  {:8.1} MB/s",
        rate(per_level_ms)
    );
    println!(
        "analyze, union of segs  {union_ms:9.1} ms  {:8.1} MB/s  ({:.2}x; includes fingerprints and band keys)",
        rate(union_ms),
        per_level_ms / union_ms
    );

    // 2. Lookups as the index grows.
    let bases: Vec<Signature> = files
        .iter()
        .filter_map(|(_, b)| dedup.hasher().signature(&String::from_utf8_lossy(b)))
        .collect();
    if bases.is_empty() {
        return;
    }
    let mut rng = StdRng::seed_from_u64(5);
    let mut conn = sluice::store::open_connection(&tmp.path().join("lookup.db")).expect("state");
    let mut idx = dedup.load_index(&conn).expect("load");
    let mut indexed = 0usize;
    for target in [10_000usize, 100_000] {
        let started = Instant::now();
        let tx = conn.transaction().expect("begin");
        while indexed < target {
            let base = &bases[indexed % bases.len()];
            // The first round holds the corpus itself, so corpus queries find a match.
            let redraw = if indexed < bases.len() { 0.0 } else { 0.5 };
            let sig = Signature(
                base.0
                    .iter()
                    .map(|&v| {
                        if rng.random_bool(redraw) {
                            rng.random()
                        } else {
                            v
                        }
                    })
                    .collect(),
            );
            let keys = dedup.keys(Level::Article, &sig);
            let doc = format!("synthetic-{indexed}");
            let fp: [u8; 16] = rng.random();
            idx.insert_exact(&tx, Level::Article, &fp, &doc, &doc)
                .expect("insert");
            idx.insert_near(&tx, Level::Article, &doc, &doc, &compact(&sig), &keys)
                .expect("insert");
            indexed += 1;
        }
        tx.commit().expect("commit");
        let build = started.elapsed();
        let queries = 2_000;
        let mut time = |sigs: &mut dyn Iterator<Item = Signature>| {
            let started = Instant::now();
            let mut hits = 0usize;
            let mut count = 0usize;
            for sig in sigs {
                let keys = dedup.keys(Level::Article, &sig);
                if idx
                    .near(&conn, &keys, &compact(&sig), "", 0.8)
                    .expect("lookup")
                    .is_some()
                {
                    hits += 1;
                }
                count += 1;
            }
            (
                started.elapsed().as_secs_f64() * 1e6 / count.max(1) as f64,
                hits,
                count,
            )
        };
        let (hit_us, hits, n_hit) = time(&mut bases.iter().cycle().take(queries).cloned());
        let mut qrng = StdRng::seed_from_u64(9);
        let (miss_us, _, n_miss) =
            time(&mut (0..queries).map(|_| Signature((0..128).map(|_| qrng.random()).collect())));
        let started = Instant::now();
        for i in 0..queries {
            let fp: [u8; 16] = qrng.random();
            let _ = idx.exact(&conn, Level::Article, &fp).expect("exact");
            let _ = i;
        }
        let exact_us = started.elapsed().as_secs_f64() * 1e6 / queries as f64;
        println!(
            "index of {target:>6} articles (built in {:.1} s): near lookup {hit_us:7.1} µs (corpus queries, {hits}/{n_hit} with a match >= 0.8), {miss_us:7.1} µs (random, {n_miss}); exact lookup {exact_us:5.1} µs",
            build.as_secs_f64()
        );
    }
    let db = tmp.path().join("lookup.db");
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(tmp.path().join("lookup.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "index database at 100k articles: {:.1} MB",
        size as f64 / 1e6
    );
}
