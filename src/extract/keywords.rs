//! Keywords of an article: jieba-rs TextRank (default) or TF-IDF, stop words filtered.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::LazyLock;

use jieba_rs::{KeywordExtract, KeywordExtractConfig, Tag, TextRank, TfIdf};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::text::words::Words;

/// How keywords are ranked (`extract.keyword_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KeywordMethod {
    #[default]
    Textrank,
    Tfidf,
}

fn config() -> KeywordExtractConfig {
    let mut stop: BTreeSet<String> = jieba_rs::DEFAULT_STOP_WORDS.clone();
    stop.extend(
        include_str!("../../data/stopwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::split_whitespace)
            .map(String::from),
    );
    KeywordExtractConfig::builder()
        .set_stop_words(stop)
        .min_keyword_length(2)
        .use_hmm(true)
        .build()
}

/// The window of the TextRank co-occurrence graph, in tokens.
const TEXTRANK_SPAN: usize = 5;

static TEXTRANK: LazyLock<TextRank> = LazyLock::new(|| TextRank::new(TEXTRANK_SPAN, config()));
static TFIDF: LazyLock<TfIdf> = LazyLock::new(|| TfIdf::new(None::<&mut std::io::Empty>, config()));
/// The stop words of [`config`], for [`textrank_tagged`].
static STOP_WORDS: LazyLock<FxHashSet<String>> =
    LazyLock::new(|| config().stop_words().iter().cloned().collect());

/// Builds the keyword extractors now rather than on the first article.
pub fn warm_up() {
    LazyLock::force(&TEXTRANK);
    LazyLock::force(&STOP_WORDS);
}

/// Parts of speech a keyword may have: nouns, names, verbal nouns, and jieba's own `eng`.
fn allowed_pos() -> Vec<String> {
    ["n", "nr", "ns", "nt", "nz", "vn", "eng", "j", "l"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The `top_k` keywords of `text`, best first.
pub fn keywords(text: &str, words: &Words, top_k: usize, method: KeywordMethod) -> Vec<String> {
    if top_k == 0 || text.trim().is_empty() {
        return Vec::new();
    }
    let found = match method {
        KeywordMethod::Textrank => {
            TEXTRANK.extract_keywords(words.jieba(), text, top_k, allowed_pos())
        }
        KeywordMethod::Tfidf => TFIDF.extract_keywords(words.jieba(), text, top_k, allowed_pos()),
    };
    found
        .into_iter()
        .map(|k| k.keyword)
        .filter(|k| kept(k))
        .collect()
}

/// Whether a ranked keyword is kept: numbers and punctuation are not keywords.
fn kept(k: &str) -> bool {
    !k.chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
}

/// Part of speech allowed for a keyword ([`allowed_pos`]).
fn allowed_tag(tag: &str) -> bool {
    matches!(
        tag,
        "n" | "nr" | "ns" | "nt" | "nz" | "vn" | "eng" | "j" | "l"
    )
}

/// jieba's `KeywordExtractConfig::is_keyword` for [`config`].
fn is_keyword(word: &str) -> bool {
    let mut chars = 0;
    let mut upper = false;
    for c in word.chars() {
        chars += 1;
        upper |= c.is_uppercase();
    }
    if chars < 2 || STOP_WORDS.contains(word) {
        return false;
    }
    !upper || !STOP_WORDS.contains(&word.to_lowercase())
}

/// The TextRank keywords of the texts `segments` were tagged from (with [`super::entity::tag`]),
/// as [`keywords`] finds them in those texts joined with `"\n"`: the same tokens, a `"\n"`
/// token between texts, and the same ranking as jieba's `TextRank` (reproduced here so the
/// tagging is not done twice). Not for texts but the last ending in `'\r'` (jieba reads
/// `"\r\n"` as one token).
pub fn textrank_tagged(segments: &[&[Tag]], top_k: usize) -> Vec<String> {
    let mut input = TextRankInput::default();
    for segment in segments {
        input.push(segment);
    }
    input.keywords(top_k)
}

/// What TextRank keeps of an article's tagged texts, fed one text at a time so that no text's
/// tags need to outlive it: the candidate words, and one id (or none) per token.
#[derive(Default)]
pub struct TextRankInput<'a> {
    word2id: FxHashMap<&'a str, u32>,
    unique_words: Vec<&'a str>,
    /// Per token: the id of its word when it is a keyword candidate, else [`NOT_A_CANDIDATE`].
    candidate_ids: Vec<u32>,
    texts: usize,
}

const NOT_A_CANDIDATE: u32 = u32::MAX;

impl<'a> TextRankInput<'a> {
    /// Adds the next text's tags.
    pub fn push(&mut self, tags: &[Tag<'a>]) {
        if self.texts > 0 {
            // The "\n" between texts: one char, never a keyword.
            self.candidate_ids.push(NOT_A_CANDIDATE);
        }
        self.texts += 1;
        self.push_more(tags);
    }

    /// Adds the tags of the next piece of the text pushed last.
    pub fn push_more(&mut self, tags: &[Tag<'a>]) {
        for t in tags {
            let id = if allowed_tag(t.tag) && is_keyword(t.word) {
                let next_id = self.unique_words.len() as u32;
                *self.word2id.entry(t.word).or_insert_with(|| {
                    self.unique_words.push(t.word);
                    next_id
                })
            } else {
                NOT_A_CANDIDATE
            };
            self.candidate_ids.push(id);
        }
    }

    /// The `top_k` keywords, best first.
    pub fn keywords(self, top_k: usize) -> Vec<String> {
        if top_k == 0 {
            return Vec::new();
        }
        let TextRankInput {
            unique_words,
            candidate_ids,
            ..
        } = self;
        // From here on as in jieba-rs 0.11 `TextRank::extract_keywords`, the hash map included
        // (its iteration order sets the order edges are summed in).
        let mut cooccurence: FxHashMap<(usize, usize), usize> = FxHashMap::default();
        for (i, &u) in candidate_ids.iter().enumerate() {
            if u == NOT_A_CANDIDATE {
                continue;
            }
            for &v in candidate_ids.iter().take(i + TEXTRANK_SPAN).skip(i + 1) {
                if v == NOT_A_CANDIDATE {
                    continue;
                }
                *cooccurence.entry((u as usize, v as usize)).or_insert(0) += 1;
            }
        }
        let edges: Vec<(usize, usize, f64)> = cooccurence
            .iter()
            .map(|(&(u, v), &c)| (u, v, c as f64))
            .collect();
        let ranking = rank(unique_words.len(), &edges);
        let mut heap = BinaryHeap::with_capacity(top_k.min(ranking.len()));
        for (k, v) in ranking.iter().enumerate() {
            let node = HeapNode {
                rank: v * 1e10,
                word_id: k,
            };
            if heap.len() < top_k {
                heap.push(node);
            } else if let Some(mut worst) = heap.peek_mut() {
                if node < *worst {
                    *worst = node;
                }
            }
        }
        let mut res = Vec::with_capacity(heap.len());
        while let Some(w) = heap.pop() {
            res.push(unique_words[w.word_id].to_string());
        }
        res.reverse();
        res.into_iter().filter(|k| kept(k)).collect()
    }
}

/// TextRank over the undirected weighted `edges` of `size` vertices (jieba-rs's
/// `StateDiagram`: neighbours in edge order, 20 in-place sweeps, damping 0.85).
fn rank(size: usize, edges: &[(usize, usize, f64)]) -> Vec<f64> {
    let mut offsets = vec![0usize; size + 1];
    for &(u, v, _) in edges {
        offsets[u + 1] += 1;
        offsets[v + 1] += 1;
    }
    for i in 0..size {
        offsets[i + 1] += offsets[i];
    }
    let m = offsets[size];
    let mut dst = vec![0usize; m];
    let mut weight = vec![0.0; m];
    let mut next = offsets[..size].to_vec();
    for &(u, v, w) in edges {
        dst[next[u]] = v;
        weight[next[u]] = w;
        next[u] += 1;
        dst[next[v]] = u;
        weight[next[v]] = w;
        next[v] += 1;
    }
    let outflow: Vec<f64> = (0..size)
        .map(|v| weight[offsets[v]..offsets[v + 1]].iter().sum())
        .collect();
    let share: Vec<f64> = dst
        .iter()
        .zip(&weight)
        .map(|(&d, &w)| w / outflow[d])
        .collect();
    let damping = 0.85;
    let n = size;
    let mut ranking = vec![1.0 / (n as f64); n];
    for _ in 0..20 {
        for i in 0..n {
            let range = offsets[i]..offsets[i + 1];
            let s: f64 = dst[range.clone()]
                .iter()
                .zip(&share[range])
                .map(|(&d, &share)| share * ranking[d])
                .sum();
            ranking[i] = (1.0 - damping) + damping * s;
        }
    }
    ranking
}

/// A heap entry: the greatest is the worst (lowest rank, then highest id), as in jieba-rs.
#[derive(Debug, Clone, PartialEq)]
struct HeapNode {
    rank: f64,
    word_id: usize,
}

impl Eq for HeapNode {}

impl Ord for HeapNode {
    fn cmp(&self, other: &HeapNode) -> Ordering {
        other
            .rank
            .partial_cmp(&self.rank)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.word_id.cmp(&other.word_id))
    }
}

impl PartialOrd for HeapNode {
    fn partial_cmp(&self, other: &HeapNode) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::words::shared;

    const TEXT: &str =
        "新能源汽车产业园项目开工。新能源汽车核心零部件产业园将带动新能源汽车产业链发展,\
        产业园年产高端智能核心零部件30万套。";

    #[test]
    fn textrank_and_tfidf_rank_the_topic_words_and_drop_stop_words() {
        for method in [KeywordMethod::Textrank, KeywordMethod::Tfidf] {
            let k = keywords(TEXT, shared(), 5, method);
            assert!(!k.is_empty() && k.len() <= 5, "{method:?}: {k:?}");
            assert!(
                k.iter()
                    .any(|w| w.contains("产业园") || w.contains("新能源")),
                "{method:?}: {k:?}"
            );
            assert!(!k.iter().any(|w| w == "的" || w == "将"), "{k:?}");
        }
        assert!(keywords(TEXT, shared(), 0, KeywordMethod::Textrank).is_empty());
    }

    #[test]
    fn textrank_over_tags_matches_textrank_over_the_joined_text() {
        let pages: [&[&str]; 4] = [
            &[TEXT],
            &[
                "新能源汽车产业园项目开工",
                "",
                TEXT,
                "  ",
                "Apple 与 apple 公司 2020年 发布 iPhone。",
            ],
            &[
                "北京市海淀区的清华大学举行活动。",
                "清华大学 与 北京大学 合作,北京 海淀 科技园。",
            ],
            &[
                "\t产业园\n",
                "\n新能源汽车\r\n核心零部件",
                "the of and 新能源",
            ],
        ];
        let w = shared();
        for texts in pages {
            let tags: Vec<Vec<Tag>> = texts
                .iter()
                .map(|t| crate::extract::entity::tag(w, t))
                .collect();
            let tagged: Vec<&[Tag]> = tags.iter().map(|t| &t[..]).collect();
            for k in [1, 3, 8, 50] {
                assert_eq!(
                    textrank_tagged(&tagged, k),
                    keywords(&texts.join("\n"), w, k, KeywordMethod::Textrank),
                    "{texts:?} top {k}"
                );
            }
        }
    }
}
