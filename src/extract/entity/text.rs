//! One text as the finders see it: its chars, their byte offsets and jieba's tokens, indexed
//! by start.

use jieba_rs::Tag;

use super::han;
use super::words::*;
use crate::text::words::Words;

/// A tagged word, with char offsets (`start`, `end`) and byte offsets into its text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tok<'a> {
    pub(super) text: &'a str,
    pub(super) tag: &'a str,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) byte_start: usize,
    pub(super) byte_end: usize,
}

pub(super) fn toks<'a>(tags: &[Tag<'a>]) -> Vec<Tok<'a>> {
    tags.iter()
        .map(|t| Tok {
            text: t.word,
            tag: t.tag,
            start: t.start,
            end: t.end,
            byte_start: t.byte_start,
            byte_end: t.byte_end,
        })
        .collect()
}

/// jieba's tags of `text` (with the HMM for unknown words), as entities and keywords use them.
pub fn tag<'a>(words: &'a Words, text: &'a str) -> Vec<Tag<'a>> {
    words.jieba().tag(text, true)
}

/// One text with its chars, their byte offsets and its tokens indexed by start.
pub(super) struct Text<'a> {
    pub(super) text: &'a str,
    pub(super) chars: Vec<char>,
    /// The byte offset of each char, then the text's length.
    pub(super) bytes: Vec<usize>,
    pub(super) toks: Vec<Tok<'a>>,
    /// Per char offset (and one past the end): the token starting there, or `NO_TOK`.
    pub(super) tok_at: Vec<usize>,
}

pub(super) const NO_TOK: usize = usize::MAX;

impl<'a> Text<'a> {
    pub(super) fn new(text: &'a str, toks: Vec<Tok<'a>>) -> Self {
        let mut chars = Vec::with_capacity(text.len() / 3 + 1);
        let mut bytes = Vec::with_capacity(text.len() / 3 + 2);
        for (b, c) in text.char_indices() {
            chars.push(c);
            bytes.push(b);
        }
        bytes.push(text.len());
        let mut tok_at = vec![NO_TOK; chars.len() + 1];
        for (k, t) in toks.iter().enumerate() {
            if let Some(slot) = tok_at.get_mut(t.start) {
                if *slot == NO_TOK {
                    *slot = k;
                }
            }
        }
        Text {
            text,
            chars,
            bytes,
            toks,
            tok_at,
        }
    }

    /// The text of chars `s..e`.
    pub(super) fn str(&self, s: usize, e: usize) -> &'a str {
        &self.text[self.bytes[s]..self.bytes[e]]
    }

    /// The token that starts at char `i`.
    pub(super) fn tok_starting(&self, i: usize) -> Option<&Tok<'a>> {
        match self.tok_at.get(i) {
            Some(&k) if k != NO_TOK => self.toks.get(k),
            _ => None,
        }
    }

    /// Whether a token starts at char `i`.
    pub(super) fn starts_word(&self, i: usize) -> bool {
        self.tok_at.get(i).is_some_and(|&k| k != NO_TOK)
    }
}

/// Whether a token can be part of an organization's name. jieba tags unknown names oddly
/// (先声/d 再明/d, 冶炼/v), so two-character verbs and adverbs pass unless they are common ones.
pub(super) fn name_like(t: &Tok) -> bool {
    let text = t.text;
    if NEVER_IN_NAME_SET.contains(text)
        || is_verb_stop(text)
        || text
            .chars()
            .any(|c| !(han(c) || c.is_ascii_alphanumeric() || "()（）·&-".contains(c)))
    {
        return false;
    }
    let n = t.end - t.start;
    match t.tag {
        "n" | "nr" | "nrt" | "nrfg" | "ns" | "nt" | "nz" | "nw" | "j" | "eng" | "vn" | "an"
        | "l" | "b" | "ng" | "g" | "k" | "h" | "z" | "s" => true,
        "v" | "d" | "a" => n == 2 && !COMMON_VERBS_ADVERBS_SET.contains(text),
        _ => false,
    }
}

/// Verbs that end a name on the left: 与, 在, 由, 推动, 打造…
pub(super) fn is_verb_stop(word: &str) -> bool {
    matches!(
        word,
        "成立"
            | "推动"
            | "打造"
            | "建立"
            | "建设"
            | "举行"
            | "举办"
            | "召开"
            | "设立"
            | "成为"
            | "发布"
            | "引进"
            | "签约"
            | "签订"
            | "合作"
            | "联合"
            | "共同"
            | "通过"
            | "位于"
            | "落户"
            | "还有"
            | "包括"
            | "支持"
            | "表示"
            | "认为"
            | "介绍"
            | "参与"
            | "组织"
            | "开展"
            | "实现"
            | "完成"
            | "加快"
            | "推进"
            | "进行"
            | "获得"
            | "获评"
            | "获批"
            | "入选"
            | "新增"
            | "新建"
            | "引导"
            | "带动"
            | "依托"
            | "对接"
            | "携手"
            | "牵头"
            | "联手"
            | "揭牌"
            | "授牌"
            | "对外开放"
            | "是"
            | "暨"
            | "落地"
            | "前往"
            | "来到"
            | "走进"
            | "走访"
            | "调研"
            | "考察"
            | "视察"
            | "参观"
            | "入驻"
            | "进驻"
            | "牵手"
    )
}
