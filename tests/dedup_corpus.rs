//! Near-duplicate verdicts measured against brute force on a real corpus (ignored: it needs the
//! development corpus, which is not part of the repository).
//!
//! ```sh
//! cargo test --release --test dedup_corpus -- --ignored --nocapture
//! SLUICE_CORPUS=/path/to/folder cargo test --release --test dedup_corpus -- --ignored --nocapture
//! ```
//!
//! Every file is one article. The truth is the exact Jaccard similarity of the two articles'
//! sets of shingles (character 5-grams of the folded text, as sluice cuts them), for every pair.
//! sluice's verdict on a pair is what its index does: the two become LSH candidates (a band of
//! the 16 × 8 agrees) and the signature estimate is at least the threshold — or the two fold to
//! the same text (exact).

use std::path::PathBuf;

use sluice::dedup::index::{self, Level};
use sluice::dedup::{fingerprint, minhash, Dedup};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("SLUICE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/corpus/chinanews-dev"
            ))
        });
    dir.is_dir().then_some(dir)
}

fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[test]
#[ignore = "needs the development corpus (../shared/corpus/chinanews-dev or SLUICE_CORPUS)"]
fn near_duplicate_verdicts_against_brute_force_jaccard() {
    let Some(dir) = corpus() else {
        eprintln!("no corpus folder; set SLUICE_CORPUS");
        return;
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let dedup = Dedup::default();
    let threshold = dedup.settings.threshold;
    let banding = dedup.banding();
    let sets: Vec<Vec<u64>> = texts
        .iter()
        .map(|t| {
            let mut s = minhash::shingles(t, dedup.settings.shingle_size);
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    let sigs: Vec<Option<minhash::Signature>> = sets
        .iter()
        .map(|s| dedup.hasher().signature_of(s))
        .collect();
    let keys: Vec<Vec<i64>> = sigs
        .iter()
        .map(|s| {
            s.as_ref()
                .map(|s| dedup.keys(Level::Article, s))
                .unwrap_or_default()
        })
        .collect();
    // The index keeps the low 32 bits of each value (b-bit MinHash, b = 32); `wide_keys` are the
    // band keys of the full 64-bit values, to check that nothing changes on this corpus.
    let compacts: Vec<Option<Vec<u32>>> = sigs
        .iter()
        .map(|s| s.as_ref().map(sluice::dedup::compact))
        .collect();
    let tag = dedup.hasher().scheme().id() ^ (Level::Article as u64 + 1) << 56;
    let wide_keys: Vec<Vec<i64>> = sigs
        .iter()
        .map(|s| s.as_ref().map(|s| banding.keys(s, tag)).unwrap_or_default())
        .collect();
    let mut differs_from_64_bits = 0usize;
    let fps: Vec<_> = texts.iter().map(|t| fingerprint::fingerprint(t)).collect();

    let n = texts.len();
    // Bands of true Jaccard: [0.5,0.6) … [0.9,1.0]; per band: pairs, candidates, verdicts.
    let mut bands = [(0usize, 0usize, 0usize); 5];
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut above85, mut found85) = (0usize, 0usize);
    let mut below60_positive = 0usize;
    let mut lowest_false: f64 = 1.0;
    for i in 0..n {
        for j in i + 1..n {
            let inter = intersection(&sets[i], &sets[j]);
            let union = sets[i].len() + sets[j].len() - inter;
            let truth = if union == 0 {
                0.0
            } else {
                inter as f64 / union as f64
            };
            let (candidate, estimate) = match (&compacts[i], &compacts[j]) {
                (Some(a), Some(b)) => (
                    keys[i].iter().zip(&keys[j]).any(|(x, y)| x == y),
                    index::similarity(a, b),
                ),
                _ => (false, 0.0),
            };
            if let (Some(a), Some(b)) = (&sigs[i], &sigs[j]) {
                let wide = wide_keys[i].iter().zip(&wide_keys[j]).any(|(x, y)| x == y);
                differs_from_64_bits += usize::from(wide != candidate || a.jaccard(b) != estimate);
            }
            let verdict = fps[i] == fps[j] || (candidate && estimate >= threshold);
            if truth >= 0.5 {
                let b = (((truth - 0.5) * 10.0).floor() as usize).min(4);
                bands[b].0 += 1;
                bands[b].1 += usize::from(candidate || fps[i] == fps[j]);
                bands[b].2 += usize::from(verdict);
            }
            match (truth >= threshold, verdict) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    lowest_false = lowest_false.min(truth);
                }
                (true, false) => fn_ += 1,
                _ => {}
            }
            if truth >= 0.85 {
                above85 += 1;
                found85 += usize::from(verdict);
            }
            if truth < 0.6 && verdict {
                below60_positive += 1;
            }
        }
    }
    let pairs = n * (n - 1) / 2;
    println!("corpus {} ({n} articles, {pairs} pairs)", dir.display());
    println!(
        "threshold {threshold}, {} permutations, {} bands x {} rows, {}-gram shingles",
        dedup.settings.permutations, banding.bands, banding.rows, dedup.settings.shingle_size
    );
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "at J >= {threshold}: true pairs {}, verdicts {}, TP {tp}, FP {fp}, FN {fn_}; precision {precision:.3}, recall {recall:.3}",
        tp + fn_,
        tp + fp
    );
    println!(
        "recall at J >= 0.85: {found85}/{above85} = {:.3}; verdicts below J = 0.6: {below60_positive}; lowest true J of a false positive: {}",
        found85 as f64 / above85.max(1) as f64,
        if fp > 0 { format!("{lowest_false:.3}") } else { "-".into() }
    );
    let datatrove = sluice::dedup::lsh::Banding { bands: 14, rows: 8 };
    println!("true J      pairs  candidates  verdicts  detection | P(cand) 16x8 at mid | datatrove 14x8 at mid");
    for (b, (pairs, cands, found)) in bands.iter().enumerate() {
        let lo = 0.5 + b as f64 / 10.0;
        let mid = lo + 0.05;
        println!(
            "{lo:.1}-{:.1}  {pairs:>7}  {cands:>10}  {found:>8}  {:>9} | {:>19.3} | {:>21.3}",
            lo + 0.1,
            if *pairs > 0 {
                format!("{:.3}", *found as f64 / *pairs as f64)
            } else {
                "-".into()
            },
            banding.probability(mid),
            datatrove.probability(mid),
        );
    }
    println!(
        "datatrove's published points (14x8): P(detect | J=0.8) = {:.2}, J=0.5 -> {:.2}; ours 16x8: {:.2}, {:.2}",
        datatrove.probability(0.8),
        datatrove.probability(0.5),
        banding.probability(0.8),
        banding.probability(0.5)
    );
    println!("S-curve 16x8 (J, P(candidate)):\n{}", banding.s_curve());
    println!("pairs whose candidacy or estimate differs between 32-bit and 64-bit signatures: {differs_from_64_bits}");
    assert_eq!(
        differs_from_64_bits, 0,
        "32-bit signatures changed a pair's verdict inputs"
    );
    augmented(&dedup, &texts);
}

/// The corpus has few real near-duplicate pairs, so the curve is also measured on made ones:
/// each article against a copy with a random share (0–14%) of its Han characters replaced,
/// which spreads the true Jaccard over 0.4–1.0.
fn augmented(dedup: &Dedup, texts: &[String]) {
    let mut state = 0x5eed_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        minhash::fmix64(state)
    };
    let banding = dedup.banding();
    let threshold = dedup.settings.threshold;
    let mut bands = [(0usize, 0usize); 6];
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for text in texts {
        let rate = (next() % 1400) as f64 / 10_000.0;
        let copy: String = text
            .chars()
            .map(|c| {
                let han = ('\u{4e00}'..='\u{9fff}').contains(&c);
                if han && ((next() % 1_000_000) as f64) < rate * 1_000_000.0 {
                    char::from_u32(0x4e00 + (next() % 0x5000) as u32).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect();
        let (a, b) = (
            minhash::shingles(text, dedup.settings.shingle_size),
            minhash::shingles(&copy, dedup.settings.shingle_size),
        );
        let truth = minhash::jaccard(&a, &b);
        let (Some(sa), Some(sb)) = (
            dedup.hasher().signature_of(&a),
            dedup.hasher().signature_of(&b),
        ) else {
            continue;
        };
        let (ka, kb) = (
            dedup.keys(Level::Article, &sa),
            dedup.keys(Level::Article, &sb),
        );
        let verdict = ka.iter().zip(&kb).any(|(x, y)| x == y) && sa.jaccard(&sb) >= threshold;
        if truth >= 0.4 {
            let band = (((truth - 0.4) * 10.0).floor() as usize).min(5);
            bands[band].0 += 1;
            bands[band].1 += usize::from(verdict);
        }
        match (truth >= threshold, verdict) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    println!(
        "augmented pairs (article vs. a copy with 0-14% of Han chars replaced): precision {:.3}, recall {:.3} at J >= {threshold} (TP {tp}, FP {fp}, FN {fn_})",
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fn_).max(1) as f64
    );
    println!("true J      pairs  verdicts  detection | P(cand) 16x8 at mid");
    for (i, (pairs, found)) in bands.iter().enumerate() {
        let lo = 0.4 + i as f64 / 10.0;
        println!(
            "{lo:.1}-{:.1}  {pairs:>6}  {found:>8}  {:>9} | {:.3}",
            lo + 0.1,
            if *pairs > 0 {
                format!("{:.3}", *found as f64 / *pairs as f64)
            } else {
                "-".into()
            },
            banding.probability(lo + 0.05)
        );
    }
}

/// One-permutation hashing with optimal densification (the signatures in use) against 128
/// independent permutations (the ones they replaced), on made pairs of known Jaccard
/// similarity: the same pairs through both, verdicts as the index gives them (an LSH band of
/// 16 x 8 agrees on the compact values and the estimate is at least 0.8), per band of true J.
/// Needs no corpus; ignored for its length (about 15 s in release).
#[test]
#[ignore]
fn one_permutation_against_128_permutations_on_made_pairs() {
    let dedup = Dedup::default();
    let (h, banding) = (dedup.hasher(), dedup.banding());
    let mut state = 0x5eed_u64;
    let mut rand = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        minhash::fmix64(state)
    };
    const BANDS: usize = 12; // 0.40-0.45 .. 0.95-1.00
                             // Per estimator: per band (pairs, verdicts), and the absolute errors of the estimate.
    let mut detect = [[(0usize, 0usize); BANDS]; 2];
    let mut errors: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut confusion = [(0usize, 0usize, 0usize); 2]; // TP, FP, FN at J >= 0.8
    let pairs = 150_000;
    for _ in 0..pairs {
        // A union of 30 to 2,000 shingles (short segments to long articles), J in 0.4..1.
        let union = 30 + (rand() % 1971) as usize;
        let j = 0.4 + (rand() % 6001) as f64 / 10_000.0;
        let shared = ((union as f64 * j).round() as usize).max(1);
        let rest = union - shared;
        let only_a = rest / 2 + (rest % 2) * (rand() % 2) as usize;
        let common: Vec<u64> = (0..shared).map(|_| rand()).collect();
        let mut a = common.clone();
        a.extend((0..only_a).map(|_| rand()));
        let mut b = common;
        b.extend((0..rest - only_a).map(|_| rand()));
        let truth = shared as f64 / union as f64;
        let band = (((truth - 0.4) / 0.05) as usize).min(BANDS - 1);
        for k in 0..2 {
            let sign = |s: &[u64]| {
                if k == 0 {
                    h.signature_of(s)
                } else {
                    h.signature_by_permutations(s)
                }
            };
            let (sa, sb) = (sign(&a).unwrap(), sign(&b).unwrap());
            let (ca, cb) = (sluice::dedup::compact(&sa), sluice::dedup::compact(&sb));
            let ka = banding.keys(
                &minhash::Signature(ca.iter().map(|&v| u64::from(v)).collect()),
                1,
            );
            let kb = banding.keys(
                &minhash::Signature(cb.iter().map(|&v| u64::from(v)).collect()),
                1,
            );
            let candidate = ka.iter().zip(&kb).any(|(x, y)| x == y);
            let estimate = index::similarity(&ca, &cb);
            let verdict = candidate && estimate >= 0.8;
            errors[k].push((estimate - truth).abs());
            let d = &mut detect[k][band];
            d.0 += 1;
            d.1 += usize::from(verdict);
            let c = &mut confusion[k];
            match (verdict, truth >= 0.8) {
                (true, true) => c.0 += 1,
                (true, false) => c.1 += 1,
                (false, true) => c.2 += 1,
                _ => {}
            }
        }
    }
    println!("{pairs} made pairs, unions of 30-2,000 shingles, J uniform in 0.4-1.0");
    println!("true J       pairs  one-permutation  128 permutations  difference");
    let mut worst: f64 = 0.0;
    for (band, (&(n, one), &(_, classic))) in detect[0].iter().zip(&detect[1]).enumerate() {
        let (p1, p2) = (one as f64 / n as f64, classic as f64 / n as f64);
        worst = worst.max((p1 - p2).abs());
        println!(
            "{:.2}-{:.2}  {n:8}  {p1:15.4}  {p2:16.4}  {:+10.4}",
            0.4 + band as f64 * 0.05,
            0.45 + band as f64 * 0.05,
            p1 - p2
        );
    }
    for (k, name) in ["one permutation, densified", "128 permutations"]
        .iter()
        .enumerate()
    {
        let (tp, fp, fn_) = confusion[k];
        let e = &mut errors[k];
        e.sort_by(f64::total_cmp);
        println!(
            "{name:<27} at J >= 0.8: precision {:.4} recall {:.4}; estimate error mean {:.4}, 99th percentile {:.4}",
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / (tp + fn_).max(1) as f64,
            e.iter().sum::<f64>() / e.len() as f64,
            e[e.len() * 99 / 100]
        );
    }
    println!("largest difference in detection per band: {worst:.4}");
    // Verdicts as good: precision and recall at J >= 0.8 within 0.01 of the 128 permutations',
    // and no band's detection off by more than 0.02 (a band's own sampling error is ~0.006).
    let pr = |(tp, fp, fn_): (usize, usize, usize)| {
        (
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / (tp + fn_).max(1) as f64,
        )
    };
    let ((p1, r1), (p2, r2)) = (pr(confusion[0]), pr(confusion[1]));
    assert!(
        (p1 - p2).abs() <= 0.01 && (r1 - r2).abs() <= 0.01,
        "P {p1}/{p2} R {r1}/{r2}"
    );
    assert!(worst <= 0.02, "detection per band differs by {worst}");
}
