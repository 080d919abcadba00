//! Keywords of an article: jieba-rs TextRank (default) or TF-IDF, stop words filtered.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jieba_rs::{KeywordExtract, KeywordExtractConfig, TextRank, TfIdf};
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

static TEXTRANK: LazyLock<TextRank> = LazyLock::new(|| TextRank::new(5, config()));
static TFIDF: LazyLock<TfIdf> = LazyLock::new(|| TfIdf::new(None::<&mut std::io::Empty>, config()));

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
        .filter(|k| {
            !k.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
        })
        .collect()
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
}
