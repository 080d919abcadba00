//! A trained sequence tagger for people, organizations and places: an averaged structured
//! perceptron (Collins 2002) over BIO tags with first-order transitions and Viterbi decoding.
//! Characters are the units in Chinese, tokens in English; each unit's features (n-grams in a
//! window, classes, shapes, affixes) are hashed into a fixed table of weights, so a model file
//! is the table itself (no feature strings stored): `2^bits × 7` weights quantized to `i8`.
//!
//! Why by hand: `crfs` reads CRFsuite models but does not train them, and the Rust CRF and
//! perceptron crates found (`crfsuite` bindings need the C library; `perceptron`-style crates
//! are binary classifiers) do not give a sequence tagger trained here byte for byte. The whole
//! of it is ~300 lines: feature hashing, Viterbi, the averaged update.
//!
//! The model files are built by `cargo run --release --example train_entities`, deterministic
//! (fixed seed, one thread): the same corpus gives the same bytes.

use super::EntityType;

/// The tags: O, then B- and I- for person, organization, place.
pub const TAGS: usize = 7;

/// A tag's entity type and whether it begins one (`None` for O).
pub fn tag_kind(t: usize) -> Option<(EntityType, bool)> {
    let kind = match t {
        1 | 2 => EntityType::Person,
        3 | 4 => EntityType::Organization,
        5 | 6 => EntityType::Place,
        _ => return None,
    };
    Some((kind, t % 2 == 1))
}

/// The B- tag of a type.
pub fn begin_tag(kind: EntityType) -> usize {
    match kind {
        EntityType::Person => 1,
        EntityType::Organization => 3,
        EntityType::Place => 5,
    }
}

/// Whether tag `b` may follow tag `a` (an I- only continues its own type).
fn allowed(a: Option<usize>, b: usize) -> bool {
    if b == 0 || b % 2 == 1 {
        return true;
    }
    matches!(a, Some(a) if a != 0 && a.div_ceil(2) == b / 2)
}

/// FNV-1a over 64-bit words, then a final mix: stable across platforms and runs.
pub fn hash(parts: &[u64]) -> u64 {
    hash_iter(parts.iter().copied())
}

/// [`hash`] of parts given one by one (no slice to build).
fn hash_iter(parts: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        h ^= p;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Weights being learned: current, and the running sums that give the average.
pub struct Trainer {
    bits: u32,
    w: Vec<f32>,
    /// Σ (step × update), for the averaged weights `w − u / step`.
    u: Vec<f32>,
    trans: Vec<f32>,
    trans_u: Vec<f32>,
    step: f32,
}

/// A trained model: quantized weights and transitions.
pub struct Model {
    bits: u32,
    scale: f32,
    w: Vec<i8>,
    /// `(TAGS + 1) × TAGS`: the first row is the start.
    trans: Vec<f32>,
}

const MAGIC: &[u8; 8] = b"SLUICEP1";

impl Trainer {
    pub fn new(bits: u32) -> Trainer {
        let n = (1usize << bits) * TAGS;
        Trainer {
            bits,
            w: vec![0.0; n],
            u: vec![0.0; n],
            trans: vec![0.0; (TAGS + 1) * TAGS],
            trans_u: vec![0.0; (TAGS + 1) * TAGS],
            step: 1.0,
        }
    }

    fn row(&self, f: u64) -> usize {
        (f as usize & ((1usize << self.bits) - 1)) * TAGS
    }

    /// One sentence: `features[i]` are unit i's hashed features, `gold[i]` its tag. Decodes with
    /// the current weights and moves them towards the gold path where they differ.
    pub fn learn<F: AsRef<[u64]>>(&mut self, features: &[F], gold: &[usize]) {
        let scores: Vec<[f32; TAGS]> = features
            .iter()
            .map(|fs| {
                let mut s = [0f32; TAGS];
                for &f in fs.as_ref() {
                    let r = self.row(f);
                    for (t, v) in s.iter_mut().enumerate() {
                        *v += self.w[r + t];
                    }
                }
                s
            })
            .collect();
        let guess = viterbi(&scores, &self.trans);
        if guess != gold {
            let step = self.step;
            for (i, fs) in features.iter().enumerate() {
                if guess[i] == gold[i] {
                    continue;
                }
                for &f in fs.as_ref() {
                    let r = self.row(f);
                    self.w[r + gold[i]] += 1.0;
                    self.u[r + gold[i]] += step;
                    self.w[r + guess[i]] -= 1.0;
                    self.u[r + guess[i]] -= step;
                }
            }
            for i in 0..gold.len() {
                let (pg, pp) = if i == 0 {
                    (0, 0)
                } else {
                    (gold[i - 1] + 1, guess[i - 1] + 1)
                };
                if pg == pp && gold[i] == guess[i] {
                    continue;
                }
                self.trans[pg * TAGS + gold[i]] += 1.0;
                self.trans_u[pg * TAGS + gold[i]] += step;
                self.trans[pp * TAGS + guess[i]] -= 1.0;
                self.trans_u[pp * TAGS + guess[i]] -= step;
            }
        }
        self.step += 1.0;
    }

    /// The averaged weights, quantized.
    pub fn finish(&self) -> Model {
        let avg: Vec<f32> = self
            .w
            .iter()
            .zip(&self.u)
            .map(|(w, u)| w - u / self.step)
            .collect();
        let max = avg.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let scale = max / 127.0;
        Model {
            bits: self.bits,
            scale,
            w: avg
                .iter()
                .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8)
                .collect(),
            trans: self
                .trans
                .iter()
                .zip(&self.trans_u)
                .map(|(w, u)| (w - u / self.step) / scale)
                .collect(),
        }
    }
}

/// The best score of a path ending in each tag at each unit under emission `scores` and
/// `trans` (the start row first), with I- tags only after their own type, and the tag before
/// it on that path.
fn forward(scores: &[[f32; TAGS]], trans: &[f32]) -> (Vec<[f32; TAGS]>, Vec<[u8; TAGS]>) {
    let n = scores.len();
    let mut best = vec![[f32::NEG_INFINITY; TAGS]; n];
    let mut back = vec![[0u8; TAGS]; n];
    if n == 0 {
        return (best, back);
    }
    for t in 0..TAGS {
        if allowed(None, t) {
            best[0][t] = trans[t] + scores[0][t];
        }
    }
    for i in 1..n {
        for t in 0..TAGS {
            let mut b = f32::NEG_INFINITY;
            let mut arg = 0;
            for p in 0..TAGS {
                if !allowed(Some(p), t) || best[i - 1][p] == f32::NEG_INFINITY {
                    continue;
                }
                let v = best[i - 1][p] + trans[(p + 1) * TAGS + t];
                if v > b {
                    b = v;
                    arg = p;
                }
            }
            best[i][t] = b + scores[i][t];
            back[i][t] = arg as u8;
        }
    }
    (best, back)
}

/// The best tag path through [`forward`]'s scores.
fn best_path(best: &[[f32; TAGS]], back: &[[u8; TAGS]]) -> Vec<usize> {
    let n = best.len();
    if n == 0 {
        return Vec::new();
    }
    let mut t = (0..TAGS)
        .max_by(|&a, &b| best[n - 1][a].total_cmp(&best[n - 1][b]))
        .unwrap_or(0);
    let mut path = vec![0; n];
    for i in (0..n).rev() {
        path[i] = t;
        t = back[i][t] as usize;
    }
    path
}

/// The best tag path under emission `scores` and `trans`.
fn viterbi(scores: &[[f32; TAGS]], trans: &[f32]) -> Vec<usize> {
    let (best, back) = forward(scores, trans);
    best_path(&best, &back)
}

/// The best path and, per unit, its margin: how much the best path's score exceeds that of
/// the best path giving this unit another tag (max-marginals from the forward pass and a
/// backward pass: linear in the units, like Viterbi).
fn margins(scores: &[[f32; TAGS]], trans: &[f32]) -> (Vec<usize>, Vec<f32>) {
    let n = scores.len();
    let (fwd, back) = forward(scores, trans);
    let path = best_path(&fwd, &back);
    if n == 0 {
        return (path, Vec::new());
    }
    let mut bwd = vec![[0f32; TAGS]; n];
    for i in (0..n - 1).rev() {
        for t in 0..TAGS {
            bwd[i][t] = (0..TAGS)
                .filter(|&u| allowed(Some(t), u))
                .map(|u| trans[(t + 1) * TAGS + u] + scores[i + 1][u] + bwd[i + 1][u])
                .fold(f32::NEG_INFINITY, f32::max);
        }
    }
    let margin = (0..n)
        .map(|i| {
            let m = |t: usize| fwd[i][t] + bwd[i][t];
            let rival = (0..TAGS)
                .filter(|&t| t != path[i])
                .map(m)
                .fold(f32::NEG_INFINITY, f32::max);
            m(path[i]) - rival
        })
        .collect();
    (path, margin)
}

impl Model {
    /// The best tags for units with these features.
    pub fn tag<F: AsRef<[u64]>>(&self, features: &[F]) -> Vec<usize> {
        viterbi(&self.scores(features), &self.trans)
    }

    /// The best tags and each unit's margin ([`margins`]), in units of the quantized weights.
    pub fn tag_with_margins<F: AsRef<[u64]>>(&self, features: &[F]) -> (Vec<usize>, Vec<f32>) {
        margins(&self.scores(features), &self.trans)
    }

    fn scores<F: AsRef<[u64]>>(&self, features: &[F]) -> Vec<[f32; TAGS]> {
        let mask = (1usize << self.bits) - 1;
        features
            .iter()
            .map(|fs| {
                let mut s = [0i32; TAGS];
                for &f in fs.as_ref() {
                    let r = (f as usize & mask) * TAGS;
                    for (t, v) in s.iter_mut().enumerate() {
                        *v += i32::from(self.w[r + t]);
                    }
                }
                s.map(|v| v as f32)
            })
            .collect()
    }

    /// The file form: magic, bits, scale, transitions, weights (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.w.len() + 512);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.scale.to_le_bytes());
        for t in &self.trans {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend(self.w.iter().map(|&v| v as u8));
        out
    }

    /// Reads [`Model::to_bytes`]' form.
    pub fn from_bytes(b: &[u8]) -> Option<Model> {
        if b.get(..8)? != MAGIC {
            return None;
        }
        let word = |at: usize| -> Option<[u8; 4]> { b.get(at..at + 4)?.try_into().ok() };
        let bits = u32::from_le_bytes(word(8)?);
        if !(8..=26).contains(&bits) {
            return None;
        }
        let scale = f32::from_le_bytes(word(12)?);
        let nt = (TAGS + 1) * TAGS;
        let trans: Vec<f32> = (0..nt)
            .map(|k| word(16 + 4 * k).map(f32::from_le_bytes))
            .collect::<Option<_>>()?;
        let start = 16 + 4 * nt;
        let n = (1usize << bits) * TAGS;
        let w: Vec<i8> = b.get(start..start + n)?.iter().map(|&v| v as i8).collect();
        (b.len() == start + n).then_some(Model {
            bits,
            scale,
            w,
            trans,
        })
    }
}

/// Spans `(start, end, type)` of the entities in a tag path (an I- without its B- opens one).
pub fn spans(tags: &[usize]) -> Vec<(usize, usize, EntityType)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, EntityType)> = None;
    for (i, &t) in tags.iter().enumerate() {
        let kind = tag_kind(t);
        let continues = matches!((kind, open), (Some((k, false)), Some((_, o))) if k == o);
        if continues {
            continue;
        }
        if let Some((s, k)) = open.take() {
            out.push((s, i, k));
        }
        if let Some((k, _)) = kind {
            open = Some((i, k));
        }
    }
    if let Some((s, k)) = open {
        out.push((s, tags.len(), k));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Features

fn class(c: char) -> u64 {
    if crate::text::script::is_han(c) {
        1
    } else if c.is_ascii_digit() || ('０'..='９').contains(&c) {
        2
    } else if c.is_alphabetic() {
        3
    } else if c.is_whitespace() {
        4
    } else {
        5
    }
}

/// What jieba says of the word holding a character: its tag, the character's position in it
/// (1 begin, 2 middle, 3 end, 4 a word of one character), the word itself when it is short (at
/// most four characters, else 0), and the tags of the words before and after.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordMark {
    pub tag: u64,
    pub position: u64,
    pub word: u64,
    pub before: u64,
    pub after: u64,
}

/// [`WordMark`]s of a text's characters from its jieba tags ([`super::tag`]); `chars` is the
/// text's length in chars.
pub fn word_marks(tags: &[jieba_rs::Tag], chars: usize) -> Vec<WordMark> {
    let th = |t: &str| hash(&t.bytes().map(u64::from).collect::<Vec<_>>());
    let mut out = vec![WordMark::default(); chars];
    for (k, t) in tags.iter().enumerate() {
        let n = t.end.saturating_sub(t.start);
        let tag = th(t.tag);
        let word = if n <= 4 { word_hash(t.word) } else { 0 };
        let before = k.checked_sub(1).map_or(1, |p| th(tags[p].tag));
        let after = tags.get(k + 1).map_or(1, |x| th(x.tag));
        let (a, b) = (t.start.min(chars), t.end.min(chars));
        for (i, slot) in out[a..b].iter_mut().enumerate().map(|(k, o)| (a + k, o)) {
            let position = if n == 1 {
                4
            } else if i == t.start {
                1
            } else if i + 1 == t.end {
                3
            } else {
                2
            };
            *slot = WordMark {
                tag,
                position,
                word,
                before,
                after,
            };
        }
    }
    out
}

/// The features of each character of a Chinese text: characters and bigrams in a window of
/// two, character classes, and whether the character is a common surname or ends a common
/// organization or place suffix (from the rules' own lists).
pub fn chinese_features(chars: &[char], marks: &[u64], words: &[WordMark]) -> Vec<[u64; 20]> {
    let at = |i: isize| -> u64 {
        if i < 0 || i as usize >= chars.len() {
            0x11_0000 // out of the text
        } else {
            chars[i as usize] as u64
        }
    };
    (0..chars.len() as isize)
        .map(|i| {
            let c = |d: isize| at(i + d);
            let cl = |d: isize| {
                let k = i + d;
                if k < 0 || k as usize >= chars.len() {
                    0
                } else {
                    class(chars[k as usize])
                }
            };
            let m = marks.get(i as usize).copied().unwrap_or(0);
            let w = words.get(i as usize).copied().unwrap_or_default();
            [
                hash(&[15, w.position, w.tag]),
                hash(&[16, w.tag, c(0)]),
                hash(&[17, w.before, w.position]),
                hash(&[18, w.word]),
                hash(&[19, w.after, w.position]),
                hash(&[20, w.position, w.tag, m]),
                hash(&[1]),
                hash(&[2, c(0)]),
                hash(&[3, c(-1)]),
                hash(&[4, c(1)]),
                hash(&[5, c(-2)]),
                hash(&[6, c(2)]),
                hash(&[7, c(-1), c(0)]),
                hash(&[8, c(0), c(1)]),
                hash(&[9, c(-2), c(-1)]),
                hash(&[10, c(1), c(2)]),
                hash(&[11, c(-1), c(1)]),
                hash(&[12, cl(-1), cl(0), cl(1)]),
                hash(&[13, m]),
                hash(&[14, m, c(0)]),
            ]
        })
        .collect()
}

/// The shape of a word: capitals as X, lower case as x, digits as d, others kept, runs folded.
fn shape(w: &str) -> u64 {
    let mut parts = Vec::new();
    let mut last = '\0';
    for c in w.chars() {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        if s != last {
            parts.push(s as u64);
            last = s;
        }
    }
    hash(&parts)
}

fn word_hash(w: &str) -> u64 {
    hash_iter(w.chars().map(u64::from))
}

/// The features of each token of an English sentence: the word, its lower case, shape, prefixes
/// and suffixes, neighbours (two each side), and gazetteer marks (`marks[i]`, bits).
pub fn english_features(words: &[&str], marks: &[u64]) -> Vec<Vec<u64>> {
    // Each word's hashes once (a window reads each five times).
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let lower_h: Vec<u64> = lower.iter().map(|w| word_hash(w)).collect();
    let shape_h: Vec<u64> = words.iter().map(|w| shape(w)).collect();
    let cased_h: Vec<u64> = words.iter().map(|w| word_hash(w)).collect();
    let at = |v: &[u64], i: isize| -> u64 {
        if i < 0 || i as usize >= words.len() {
            1
        } else {
            v[i as usize]
        }
    };
    let lw = |i: isize| at(&lower_h, i);
    let sh = |i: isize| at(&shape_h, i);
    // A headline in capitals (CoNLL's `RUGBY UNION - CUTTITTA BACK FOR ITALY`) capitalizes
    // every word: there capitals say nothing of names.
    let letters = words
        .iter()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    let upper = words
        .iter()
        .filter(|w| w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase))
        .count();
    let shouting = u64::from(letters >= 2 && upper * 10 >= letters * 8);
    (0..words.len() as isize)
        .map(|i| {
            let chars: Vec<char> = lower[i as usize].chars().collect();
            let affix = |n: usize, front: bool| -> u64 {
                let n = n.min(chars.len());
                let part = if front {
                    &chars[..n]
                } else {
                    &chars[chars.len() - n..]
                };
                hash_iter(part.iter().map(|&c| u64::from(c)))
            };
            let m = marks.get(i as usize).copied().unwrap_or(0);
            let mk = |d: isize| -> u64 {
                let k = i + d;
                if k < 0 {
                    1 << 40
                } else {
                    marks.get(k as usize).copied().unwrap_or(1 << 41)
                }
            };
            let cased = |d: isize| at(&cased_h, i + d);
            let first = u64::from(i == 0);
            vec![
                hash(&[121, affix(4, false)]),
                hash(&[122, affix(4, true)]),
                hash(&[123, mk(-1)]),
                hash(&[124, mk(1)]),
                hash(&[125, cased(-1)]),
                hash(&[126, cased(1)]),
                hash(&[127, sh(-2)]),
                hash(&[128, sh(2)]),
                hash(&[129, lw(-1), sh(0)]),
                hash(&[130, sh(0), lw(1)]),
                hash(&[131, first, lw(0)]),
                hash(&[132, shouting, sh(0)]),
                hash(&[133, shouting, lw(0)]),
                hash(&[101]),
                hash(&[102, cased_h[i as usize]]),
                hash(&[103, lw(0)]),
                hash(&[104, sh(0)]),
                hash(&[105, affix(2, false)]),
                hash(&[106, affix(3, false)]),
                hash(&[107, affix(2, true)]),
                hash(&[108, affix(3, true)]),
                hash(&[109, lw(-1)]),
                hash(&[110, lw(1)]),
                hash(&[111, lw(-2)]),
                hash(&[112, lw(2)]),
                hash(&[113, sh(-1), sh(0)]),
                hash(&[114, sh(0), sh(1)]),
                hash(&[115, lw(-1), lw(0)]),
                hash(&[116, lw(0), lw(1)]),
                hash(&[117, first, sh(0)]),
                hash(&[118, m]),
                hash(&[119, m, sh(0)]),
                hash(&[120, sh(-1), sh(0), sh(1)]),
            ]
        })
        .collect()
}

/// Gazetteer marks of each character of a Chinese text, as bits: 1 a surname starts here, 2/4
/// a known place begins/continues here (longest match, at most 8 chars), 8/16 the same for a
/// known organization, 32 an organization suffix ends here.
pub fn chinese_marks(chars: &[char]) -> Vec<u64> {
    use super::words::GAZETTEER;
    let g = &*GAZETTEER;
    let text: String = chars.iter().collect();
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let mut marks = vec![0u64; chars.len()];
    let longest = |i: usize, set: &rustc_hash::FxHashSet<String>, max: usize| {
        (2..=max.min(8).min(chars.len() - i))
            .rev()
            .find(|&n| set.contains(&text[bytes[i]..bytes[i + n]]))
    };
    let suffixes = [
        "公司",
        "集团",
        "银行",
        "大学",
        "学院",
        "医院",
        "委员会",
        "政府",
        "局",
        "部",
        "厅",
        "协会",
        "中心",
        "研究院",
        "研究所",
        "党",
    ];
    let mut i = 0;
    while i < chars.len() {
        if g.surnames.contains(&text[bytes[i]..bytes[i + 1]]) {
            marks[i] |= 1;
        }
        for s in suffixes {
            if text[bytes[i]..].starts_with(s) {
                marks[i + s.chars().count() - 1] |= 32;
            }
        }
        i += 1;
    }
    for (set, max, begin) in [(&g.places, g.max_place, 2u64), (&g.orgs, g.max_org, 8)] {
        let mut i = 0;
        while i < chars.len() {
            if let Some(n) = longest(i, set, max) {
                marks[i] |= begin;
                for m in &mut marks[i + 1..i + n] {
                    *m |= begin * 2;
                }
                i += n;
            } else {
                i += 1;
            }
        }
    }
    marks
}

/// Gazetteer marks of each word of an English sentence ([`super::latin::marks`]).
pub fn english_marks(words: &[&str]) -> Vec<u64> {
    super::latin::marks(words)
}

// ---------------------------------------------------------------------------------------------
// The shipped models

/// Which model reads a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Simplified Chinese, or Traditional read through its Simplified shadow.
    Chinese,
    English,
    /// No model: rules alone.
    Other,
}

impl Language {
    /// The model for a segment's BCP 47 tag.
    pub fn of(tag: &str) -> Language {
        match tag {
            "zh-Hans" | "zh-Hant" => Language::Chinese,
            "en" => Language::English,
            _ => Language::Other,
        }
    }
}

static EN: std::sync::LazyLock<Option<Model>> = std::sync::LazyLock::new(|| {
    load(
        "data/entities/en.model",
        include_bytes!("../../../data/entities/en.model"),
    )
});

static ZH: std::sync::LazyLock<Option<Model>> = std::sync::LazyLock::new(|| {
    load(
        "data/entities/zh.model",
        include_bytes!("../../../data/entities/zh.model"),
    )
});

fn load(name: &str, bytes: &[u8]) -> Option<Model> {
    let m = Model::from_bytes(bytes);
    if m.is_none() {
        tracing::error!(
            model = name,
            "the entity model is not a sluice model file; entities come from rules alone. Rebuild it with `cargo run --release --example train_entities -- ../shared/corpus`"
        );
    }
    m
}

/// Loads the shipped model now (it is decoded once per process).
pub fn warm_up() {
    let _ = (&*EN, &*ZH);
}

/// English words of a text with their char spans, cut as CoNLL-2003 cuts them: runs of letters
/// and digits (with `.`, `'`, `-`, `,` inside a run: U.S., O'Brien, 1,000), `'s` apart, every
/// other mark a word of its own.
pub fn english_words(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() && !crate::text::script::is_han(c);
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if !word(c) {
            out.push((i, i + 1));
            i += 1;
            continue;
        }
        let s = i;
        while i < chars.len() {
            let inner = matches!(chars[i], '.' | '\'' | '’' | '-' | ',' | '&')
                && chars.get(i + 1).is_some_and(|&n| word(n))
                && !(matches!(chars[i], '\'' | '’')
                    && chars.get(i + 1).is_some_and(|&n| n == 's' || n == 'S')
                    && chars.get(i + 2).is_none_or(|&n| !word(n)));
            if !(word(chars[i]) || inner) {
                break;
            }
            i += 1;
        }
        // A trailing period of an abbreviation in capitals (U.S.).
        if chars.get(i) == Some(&'.') && chars[s..i].contains(&'.') {
            i += 1;
        }
        out.push((s, i));
        if matches!(chars.get(i), Some('\'' | '’'))
            && chars.get(i + 1).is_some_and(|&n| n == 's' || n == 'S')
            && chars.get(i + 2).is_none_or(|&n| !word(n))
        {
            out.push((i, i + 2));
            i += 2;
        }
    }
    out
}

/// The shipped model of `language`, loaded on first use.
pub fn shipped(language: Language) -> Option<&'static Model> {
    match language {
        Language::English => EN.as_ref(),
        Language::Chinese => ZH.as_ref(),
        Language::Other => None,
    }
}

/// The entities `model` finds in `text` (spans in chars), given the text's jieba tags (used by
/// the Chinese model).
pub fn entities_by(
    model: &Model,
    text: &str,
    tags: &[jieba_rs::Tag],
    language: Language,
) -> Vec<super::Entity> {
    scored_entities(model, text, tags, language)
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

/// [`entities_by`] with each entity's margin: the least margin of its units and of the unit
/// after it (how sure the model is of its start, its inside and its end). Chinese only; an
/// English entity's margin is infinite (not computed).
pub fn scored_entities(
    model: &Model,
    text: &str,
    tags: &[jieba_rs::Tag],
    language: Language,
) -> Vec<(super::Entity, f32)> {
    let chars: Vec<char> = text.chars().collect();
    let make = |s: usize, e: usize, kind: EntityType| -> super::Entity {
        super::entity(kind, chars[s..e].iter().collect(), s, e)
    };
    match language {
        Language::Chinese => {
            let marks = chinese_marks(&chars);
            let words = word_marks(tags, chars.len());
            let f = chinese_features(&chars, &marks, &words);
            // A person that jieba's dictionary knows as one common word (牛鼻子/n, an idiom's
            // "key point") is a misreading.
            let common = |s: usize, e: usize| {
                let from = tags.partition_point(|t| t.start < s);
                tags[from..].iter().take_while(|t| t.start == s).any(|t| {
                    t.end == e
                        && matches!(
                            t.tag,
                            "n" | "v"
                                | "a"
                                | "d"
                                | "i"
                                | "l"
                                | "vn"
                                | "an"
                                | "ad"
                                | "m"
                                | "q"
                                | "r"
                                | "t"
                                | "f"
                                | "s"
                                | "c"
                                | "p"
                                | "u"
                                | "y"
                                | "z"
                        )
                })
            };
            // A word alone in quotation marks is a figure of speech in Chinese news (“牛鼻子”,
            // “领头羊”), not a person.
            let quoted = |s: usize, e: usize| {
                s > 0
                    && matches!(chars[s - 1], '“' | '「' | '‘' | '"' | '『')
                    && matches!(chars.get(e), Some('”' | '」' | '’' | '"' | '』'))
            };
            let (path, margin) = model.tag_with_margins(&f);
            spans(&path)
                .into_iter()
                .filter(|&(s, e, _)| chars[s..e].iter().any(|c| c.is_alphanumeric()))
                .filter(|&(s, e, k)| k != EntityType::Person || !(common(s, e) || quoted(s, e)))
                .map(|(s, e, k)| {
                    let sure = margin[s..(e + 1).min(margin.len())]
                        .iter()
                        .copied()
                        .fold(f32::INFINITY, f32::min);
                    (make(s, e, k), sure)
                })
                .collect()
        }
        Language::English => {
            let spans_w = english_words(&chars);
            let words: Vec<String> = spans_w
                .iter()
                .map(|&(s, e)| chars[s..e].iter().collect())
                .collect();
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let marks = english_marks(&refs);
            // Sentence by sentence, as the model was trained; a dateline (`CITY, State, Mon. D
            // (Agency) -`) is a sentence of its own.
            let mut out = Vec::new();
            let mut start = 0;
            for k in 0..refs.len() {
                let next_opens = refs
                    .get(k + 1)
                    .is_none_or(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()));
                let ends = matches!(refs[k], "." | "!" | "?") && next_opens
                    || matches!(refs[k], "-" | "—" | "–") && k > 0 && refs[k - 1] == ")";
                if !(ends || k + 1 == refs.len()) {
                    continue;
                }
                let f = english_features(&refs[start..=k], &marks[start..=k]);
                for (s, e, kind) in spans(&model.tag(&f)) {
                    let (s, e) = (s + start, e + start);
                    // A month or another word that is never a name alone is none; a name
                    // starts with a capital and holds no word longer than a word (text run
                    // together without spaces is no name).
                    let named = refs[s..e]
                        .iter()
                        .any(|w| w.chars().any(char::is_alphabetic))
                        && !marks[s..e].iter().all(|m| m & 128 != 0)
                        && refs[s].chars().next().is_some_and(char::is_uppercase)
                        && refs[s..e].iter().all(|w| w.chars().count() <= 25);
                    if named {
                        // An abbreviation keeps its period (Apple Inc., Calif.).
                        let mut end = spans_w[e - 1].1;
                        if chars.get(end) == Some(&'.') && super::latin::takes_period(refs[e - 1]) {
                            end += 1;
                        }
                        out.push((make(spans_w[s].0, end, kind), f32::INFINITY));
                    }
                }
                start = k + 1;
            }
            out
        }
        Language::Other => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(words: &[&str]) -> Vec<Vec<u64>> {
        english_features(words, &vec![0; words.len()])
    }

    #[test]
    fn a_trained_model_tags_what_it_learned_and_survives_its_file_form() {
        let data: Vec<(Vec<&str>, Vec<usize>)> = vec![
            (
                vec!["Qwen", "Lodd", "visited", "Arvel", "."],
                vec![1, 2, 0, 5, 0],
            ),
            (
                vec!["Arvel", "welcomed", "Qwen", "Lodd", "."],
                vec![5, 0, 1, 2, 0],
            ),
            (
                vec!["Zintco", "hired", "Qwen", "Lodd", "."],
                vec![3, 0, 1, 2, 0],
            ),
        ];
        let mut t = Trainer::new(12);
        for _ in 0..10 {
            for (w, g) in &data {
                t.learn(&sentence(w), g);
            }
        }
        let m = t.finish();
        for (w, g) in &data {
            assert_eq!(&m.tag(&sentence(w)), g, "{w:?}");
        }
        let back = Model::from_bytes(&m.to_bytes()).expect("its own bytes");
        assert_eq!(back.to_bytes(), m.to_bytes());
        assert_eq!(
            spans(&back.tag(&sentence(&data[0].0))),
            vec![(0, 2, EntityType::Person), (3, 4, EntityType::Place)]
        );
        // Not a model file: refused, never a panic.
        assert!(Model::from_bytes(b"SLUICEP1").is_none());
        assert!(Model::from_bytes(&m.to_bytes()[..100]).is_none());
        assert!(Model::from_bytes(b"not a model at all").is_none());
    }

    #[test]
    fn the_shipped_english_model_loads() {
        assert!(EN.is_some());
    }

    #[test]
    fn an_i_tag_only_continues_its_own_type() {
        let scores = vec![[0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0]; 2];
        let trans = vec![0.0; (TAGS + 1) * TAGS];
        let path = viterbi(&scores, &trans);
        assert_ne!(path[0], 2, "an I- cannot open a sentence: {path:?}");
        assert!(path[1] != 2 || path[0] == 1 || path[0] == 2, "{path:?}");
    }
}
