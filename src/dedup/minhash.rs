//! MinHash signatures: a short summary of a text's shingle set whose positions agree with another
//! signature's in proportion to the two sets' Jaccard similarity.
//!
//! Shingles are 5-grams (by default) of the folded text ([`super::fingerprint::fold`]): of
//! characters when the text is mostly Han (or any non-Latin script), of words when it is mostly
//! Latin. Each shingle gets a 64-bit base hash (FNV-1a, then the murmur3 finalizer). A signature
//! is a one-permutation hash with optimal densification ([`MinHasher::signature_of`]): one
//! hash per shingle picks a bin and competes for its minimum, and empty bins borrow from a fixed
//! pseudo-random donor sequence. The classic signature — 128 independent permutations
//! `a_i * x + b_i (mod 2^64)` with odd `a_i` — is kept to measure against
//! ([`MinHasher::signature_by_permutations`]). Seeds come from a fixed splitmix64 stream, so a
//! signature is the same on every run and machine, and signatures stored in the state database
//! stay comparable across restarts.

/// How shingles are cut and how many permutations a signature has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub shingle: usize,
    pub permutations: usize,
}

impl Default for Scheme {
    fn default() -> Self {
        Scheme {
            shingle: 5,
            permutations: 128,
        }
    }
}

impl Scheme {
    /// A number that changes whenever signatures made with this scheme stop being comparable
    /// with signatures made with another (stored with every indexed signature). Its constant
    /// changed when signatures became one-permutation hashes: an index of the earlier
    /// 128-permutation signatures is not compared with them (it starts afresh).
    pub fn id(&self) -> u64 {
        fmix64((self.shingle as u64) << 32 ^ self.permutations as u64 ^ 0x5d1c_e000_0000_0002)
    }
}

/// A MinHash signature: the minimum of each permutation over the shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub Vec<u64>);

impl Signature {
    /// The share of positions where two signatures agree: an unbiased estimate of the Jaccard
    /// similarity of the two shingle sets (0 when the lengths differ).
    pub fn jaccard(&self, other: &Signature) -> f64 {
        if self.0.len() != other.0.len() || self.0.is_empty() {
            return 0.0;
        }
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / self.0.len() as f64
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// The signature stored by [`Signature::to_bytes`]; None when the length is not whole u64s.
    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if !bytes.len().is_multiple_of(8) {
            return None;
        }
        Some(Signature(
            bytes
                .chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    u64::from_le_bytes(b)
                })
                .collect(),
        ))
    }
}

/// The murmur3 64-bit finalizer: spreads every input bit over the whole word.
pub fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether shingles of `folded` are characters (Han and other unspaced scripts) or words.
fn by_words(folded: &str) -> bool {
    let (mut latin, mut other) = (0usize, 0usize);
    for c in folded.chars().take(10_000) {
        if c.is_ascii_alphabetic() {
            latin += 1;
        } else if crate::text::script::is_han(c) || (c.is_alphabetic() && !c.is_ascii()) {
            other += 1;
        }
    }
    // As in `text::language`: a Han character weighs about as much as a 5-letter word.
    latin > other * 5
}

/// The 64-bit hashes of the shingles of `text` (with repeats). Character shingles are cut from
/// the folded text; word shingles from its words (runs of kept chars, lower-cased). A text with
/// fewer units than `k` is one shingle; an empty one has none.
pub fn shingles(text: &str, k: usize) -> Vec<u64> {
    let normalized = crate::text::normalize::normalized(text);
    shingles_of(
        &normalized,
        &super::fingerprint::fold_normalized(&normalized),
        k,
    )
}

/// [`shingles`] of a text already normalized (`normalized`) and folded (`folded`, its kept
/// chars: [`super::fingerprint::fold_normalized`]).
pub fn shingles_of(normalized: &str, folded: &str, k: usize) -> Vec<u64> {
    let k = k.max(1);
    if by_words(folded) {
        let words: Vec<u64> = normalized
            .split(|c: char| !super::fingerprint::is_kept(c))
            .filter(|w| !w.is_empty())
            .map(|w| fmix64(fnv1a(w.to_lowercase().as_bytes())))
            .collect();
        let combine = |ws: &[u64]| {
            fmix64(
                ws.iter()
                    .fold(0u64, |h, &w| h.rotate_left(17).wrapping_mul(31) ^ w),
            )
        };
        if words.is_empty() {
            return Vec::new();
        }
        if words.len() < k {
            return vec![combine(&words)];
        }
        return words.windows(k).map(combine).collect();
    }
    let bounds: Vec<usize> = folded
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(folded.len()))
        .collect();
    let chars = bounds.len() - 1;
    if chars == 0 {
        return Vec::new();
    }
    if chars < k {
        return vec![fmix64(fnv1a(folded.as_bytes()))];
    }
    (0..=chars - k)
        .map(|i| fmix64(fnv1a(&folded.as_bytes()[bounds[i]..bounds[i + k]])))
        .collect()
}

/// The permutation seeds `(a_i, b_i)` of a scheme, `a_i` odd.
fn seeds(n: usize) -> Vec<(u64, u64)> {
    let mut state: u64 = 0x51ce_d0de_d0b5_eed5;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        fmix64(state)
    };
    (0..n).map(|_| (next() | 1, next())).collect()
}

/// Computes signatures for one scheme; holds its permutation seeds and each bin's donor order.
#[derive(Debug, Clone)]
pub struct MinHasher {
    scheme: Scheme,
    a: Vec<u64>,
    b: Vec<u64>,
    /// Row `i`: the order in which empty bin `i` looks for a donor (a fixed pseudo-random
    /// permutation of the bins, the same for every text).
    order: Vec<u16>,
    /// Row `i`: the place of each bin in row `i` of `order`.
    rank: Vec<u16>,
}

impl MinHasher {
    pub fn new(scheme: Scheme) -> MinHasher {
        let bins = scheme.permutations.clamp(1, usize::from(u16::MAX));
        let (a, b) = seeds(bins).into_iter().unzip();
        // Fisher-Yates from a fixed splitmix64 stream per row: the same on every machine.
        let mut order = Vec::with_capacity(bins * bins);
        let mut rank = vec![0u16; bins * bins];
        for i in 0..bins {
            let mut row: Vec<u16> = (0..bins as u16).collect();
            let mut state = fmix64(i as u64 ^ 0x0de5_1f1e_d000_0000);
            for k in (1..bins).rev() {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let pick = (((fmix64(state) >> 32) * (k as u64 + 1)) >> 32) as usize;
                row.swap(k, pick);
            }
            for (place, &bin) in row.iter().enumerate() {
                rank[i * bins + usize::from(bin)] = place as u16;
            }
            order.extend(row);
        }
        MinHasher {
            scheme,
            a,
            b,
            order,
            rank,
        }
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The permutations `(a_i, b_i)`: permutation `i` maps `x` to `a_i * x + b_i (mod 2^64)`.
    pub fn permutations(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.a.iter().copied().zip(self.b.iter().copied())
    }

    /// The signature of a set of shingle hashes; None for an empty set.
    ///
    /// One-permutation hashing with optimal densification (Shrivastava, ICML 2017): each shingle
    /// is hashed once; the high bits of the hash choose one of the signature's bins and the
    /// hash is that bin's candidate minimum. A bin no shingle fell in takes the value of the
    /// first non-empty bin of its own fixed pseudo-random sequence of bins (the same sequence
    /// for every text, so two similar texts copy from the same donors). The share of equal
    /// positions estimates the Jaccard similarity with about the variance of 128 independent
    /// permutations, at one multiply-add per shingle instead of 128.
    pub fn signature_of(&self, shingles: &[u64]) -> Option<Signature> {
        self.bins_of(shingles).map(|raw| self.densified(raw))
    }

    /// The bins of [`MinHasher::signature_of`] before densification: `u64::MAX` where no
    /// shingle fell. The position-wise minimum of two texts' bins is the bins of the union of
    /// their shingle sets (an article's from its segments'); densify only the final union.
    pub fn bins_of(&self, shingles: &[u64]) -> Option<Signature> {
        if shingles.is_empty() {
            return None;
        }
        let bins = self.a.len() as u64;
        let (a, b) = (self.a[0], self.b[0]);
        let mut mins = vec![u64::MAX; self.a.len()];
        // Shingle hashes are already mixed; an odd multiplier and an offset make a bijection,
        // whose high bits choose the bin.
        for &x in shingles {
            let h = a.wrapping_mul(x).wrapping_add(b);
            let bin = (((h >> 32) * bins) >> 32) as usize;
            mins[bin] = mins[bin].min(h);
        }
        Some(Signature(mins))
    }

    /// Fills each empty bin (`u64::MAX`) with the value of the first filled bin in its own fixed
    /// pseudo-random order of the bins (optimal densification: taking the first filled bin of a
    /// random sequence with repeats is taking it in a random permutation). With few filled bins
    /// the donor is the filled bin of least rank, else the first filled one in the order: either
    /// way about sqrt(bins) steps per empty bin at worst on average.
    pub fn densified(&self, mut raw: Signature) -> Signature {
        let bins = raw.0.len();
        if bins != self.a.len() {
            return raw;
        }
        let filled: Vec<usize> = (0..bins).filter(|&j| raw.0[j] != u64::MAX).collect();
        if filled.len() == bins || filled.is_empty() {
            return raw;
        }
        let few = filled.len() * filled.len() <= bins;
        let values = raw.0.clone();
        for i in 0..bins {
            if values[i] != u64::MAX {
                continue;
            }
            let donor = if few {
                let rank = &self.rank[i * bins..(i + 1) * bins];
                filled.iter().copied().min_by_key(|&j| rank[j])
            } else {
                self.order[i * bins..(i + 1) * bins]
                    .iter()
                    .map(|&j| usize::from(j))
                    .find(|&j| values[j] != u64::MAX)
            };
            if let Some(j) = donor {
                raw.0[i] = values[j];
            }
        }
        raw
    }

    /// The classic signature (kept to measure the one-permutation estimate against): the
    /// minimum of each of the scheme's independent permutations `a_i * x + b_i` over the
    /// shingles, 128 multiply-adds per shingle.
    pub fn signature_by_permutations(&self, shingles: &[u64]) -> Option<Signature> {
        if shingles.is_empty() {
            return None;
        }
        // Four permutations at a time over all the shingles: their seeds and minima stay in
        // registers, and the minimum is taken without a branch (a compare-and-store per
        // permutation and shingle mispredicts while the minima are still falling).
        const LANES: usize = 4;
        let mut mins = vec![u64::MAX; self.a.len()];
        let mut m = mins.chunks_exact_mut(LANES);
        let mut a = self.a.chunks_exact(LANES);
        let mut b = self.b.chunks_exact(LANES);
        for ((m, a), b) in (&mut m).zip(&mut a).zip(&mut b) {
            let (a, b) = ([a[0], a[1], a[2], a[3]], [b[0], b[1], b[2], b[3]]);
            let mut lane = [u64::MAX; LANES];
            for &x in shingles {
                for j in 0..LANES {
                    lane[j] = lane[j].min(a[j].wrapping_mul(x).wrapping_add(b[j]));
                }
            }
            m.copy_from_slice(&lane);
        }
        // Permutation counts that are not a multiple of four: the rest one at a time.
        for ((m, &a), &b) in m
            .into_remainder()
            .iter_mut()
            .zip(a.remainder())
            .zip(b.remainder())
        {
            *m = shingles
                .iter()
                .map(|&x| a.wrapping_mul(x).wrapping_add(b))
                .fold(u64::MAX, u64::min);
        }
        Some(Signature(mins))
    }

    /// The signature of `text` (None when it has no shingle).
    pub fn signature(&self, text: &str) -> Option<Signature> {
        self.signature_of(&self.shingle_set(text))
    }

    /// The distinct shingles of `text`, sorted: a repeated shingle cannot change a minimum, so
    /// each is hashed once, and equal sets (a page that is one article) can share a signature.
    pub fn shingle_set(&self, text: &str) -> Vec<u64> {
        distinct(shingles(text, self.scheme.shingle))
    }

    /// [`MinHasher::shingle_set`] of a text already normalized and folded (see [`shingles_of`]).
    pub fn shingle_set_of(&self, normalized: &str, folded: &str) -> Vec<u64> {
        distinct(shingles_of(normalized, folded, self.scheme.shingle))
    }
}

fn distinct(mut set: Vec<u64>) -> Vec<u64> {
    set.sort_unstable();
    set.dedup();
    set
}

/// The exact Jaccard similarity of two shingle sets (for measuring the estimate).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    use std::collections::HashSet;
    let a: HashSet<u64> = a.iter().copied().collect();
    let b: HashSet<u64> = b.iter().copied().collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> MinHasher {
        MinHasher::new(Scheme::default())
    }

    #[test]
    fn han_text_is_shingled_by_characters_and_latin_by_words() {
        assert_eq!(shingles("海口高新区积极探索", 5).len(), 5);
        assert_eq!(shingles("海口，高新区。积极 探索", 5).len(), 5);
        assert_eq!(
            shingles("the quick brown fox jumps over the lazy dog", 5).len(),
            5
        );
        assert_eq!(shingles("短句", 5).len(), 1);
        assert!(shingles("。，", 5).is_empty());
    }

    #[test]
    fn signatures_are_deterministic_and_equal_texts_agree_fully() {
        let h = hasher();
        let a = h
            .signature("近年来,海口高新区积极探索飞地经济合作模式")
            .unwrap();
        let b = h
            .signature("近年来，海口高新区积极探索“飞地”经济合作模式。")
            .unwrap();
        assert_eq!(a.0.len(), 128);
        assert_eq!(a.jaccard(&b), 1.0);
        assert_eq!(
            hasher().signature("近年来海口高新区").unwrap().0[0],
            {
                let s = shingles("近年来海口高新区", 5);
                h.signature_of(&s).unwrap().0[0]
            }
        );
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a));
    }

    #[test]
    fn every_permutation_count_gives_the_plain_minimum() {
        // The blocked loop against the definition, for counts with and without a remainder.
        let mut state = 11u64;
        let shingles: Vec<u64> = (0..257)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                fmix64(state)
            })
            .collect();
        for permutations in [1, 3, 4, 5, 7, 128, 130] {
            let h = MinHasher::new(Scheme {
                shingle: 5,
                permutations,
            });
            let plain: Vec<u64> =
                h.a.iter()
                    .zip(&h.b)
                    .map(|(&a, &b)| {
                        shingles
                            .iter()
                            .map(|&x| a.wrapping_mul(x).wrapping_add(b))
                            .min()
                            .unwrap()
                    })
                    .collect();
            assert_eq!(
                h.signature_by_permutations(&shingles).unwrap().0,
                plain,
                "{permutations}"
            );
            assert_eq!(
                h.signature_by_permutations(&shingles[..1]).unwrap().0.len(),
                permutations
            );
            // One-permutation hashing: every bin filled, by a shingle or a donor.
            let one = h.signature_of(&shingles[..1]).unwrap();
            assert_eq!(one.0.len(), permutations);
            assert!(one.0.iter().all(|&v| v == one.0[0]), "{permutations}");
            assert!(h
                .signature_of(&shingles)
                .unwrap()
                .0
                .iter()
                .all(|&v| v != u64::MAX));
        }
    }

    #[test]
    fn the_estimate_tracks_the_true_jaccard() {
        // Sets of random shingles with a known overlap: the estimate is within a few standard
        // errors (sqrt(J(1-J)/128) ≈ 0.04) on average.
        let h = hasher();
        let mut state = 7u64;
        let mut rand = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            fmix64(state)
        };
        // Large sets and sets smaller than the 128 bins (a short segment: most bins borrowed).
        for (base, extra) in [(300, 100), (30, 10)] {
            let (mut one, mut classic) = (0.0, 0.0);
            let trials = 200;
            for t in 0..trials {
                let shared: Vec<u64> = (0..base + t % 40 * base / 30).map(|_| rand()).collect();
                let only_a: Vec<u64> = (0..extra).map(|_| rand()).collect();
                let only_b: Vec<u64> = (0..extra / 2 + t % 40).map(|_| rand()).collect();
                let a: Vec<u64> = shared.iter().chain(&only_a).copied().collect();
                let b: Vec<u64> = shared.iter().chain(&only_b).copied().collect();
                let truth = jaccard(&a, &b);
                let est = |f: &dyn Fn(&[u64]) -> Option<Signature>| {
                    f(&a).unwrap().jaccard(&f(&b).unwrap())
                };
                one += (est(&|s| h.signature_of(s)) - truth).abs();
                classic += (est(&|s| h.signature_by_permutations(s)) - truth).abs();
            }
            let (one, classic) = (one / trials as f64, classic / trials as f64);
            assert!(one < 0.045, "{base}: mean absolute error {one}");
            assert!(one < classic + 0.01, "{base}: {one} against {classic}");
        }
    }
}
