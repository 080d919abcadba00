//! Text work: bytes to text, text to segments. Pure functions over `&str`; no I/O here.

pub mod decode;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The role a segment plays on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Title,
    Subheading,
    Byline,
    PhotoCredit,
    Paragraph,
}

/// Where a segment's source lies in the decoded document, in bytes and in chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub byte_start: usize,
    pub byte_end: usize,
    pub char_start: usize,
    pub char_end: usize,
}

/// One unit of a document as the pipeline emits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub kind: SegmentKind,
    pub article: Option<usize>,
    pub text: String,
    pub span: Span,
}

impl Segment {
    /// Id derived from the text's normalized form, so equal text has the same id anywhere.
    pub fn id(&self) -> String {
        segment_id(&self.text)
    }
}

/// Whitespace-insensitive fingerprint of a segment's text.
pub fn segment_id(text: &str) -> String {
    let mut h = Sha256::new();
    for word in text.split_whitespace() {
        h.update(word.as_bytes());
        h.update(b" ");
    }
    hex::encode(&h.finalize()[..12])
}

/// The language of a document: `zh` when Han characters dominate its letters, `en` when Latin
/// letters do, `und` otherwise.
pub fn language(text: &str) -> &'static str {
    let (mut han, mut latin) = (0usize, 0usize);
    for c in text.chars().take(20_000) {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c) {
            han += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    // A Han character carries about as much as a Latin word (~5 letters).
    if han == 0 && latin == 0 {
        "und"
    } else if han * 5 >= latin {
        "zh"
    } else {
        "en"
    }
}

/// Splits a document into one paragraph per block of non-blank lines.
pub fn segment(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut block: Option<(usize, usize)> = None; // byte range of the current block
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() {
            if let Some((start, end)) = block.take() {
                segments.push(make_segment(text, start, end));
            }
        } else {
            let start = pos + (content.len() - content.trim_start().len());
            let end = pos + content.trim_end().len();
            block = Some(match block {
                Some((s, _)) => (s, end),
                None => (start, end),
            });
        }
        pos += line.len();
    }
    if let Some((start, end)) = block {
        segments.push(make_segment(text, start, end));
    }
    segments
}

fn make_segment(text: &str, start: usize, end: usize) -> Segment {
    let char_start = text[..start].chars().count();
    let body = &text[start..end];
    Segment {
        kind: SegmentKind::Paragraph,
        article: Some(0),
        text: body.to_string(),
        span: Span {
            byte_start: start,
            byte_end: end,
            char_start,
            char_end: char_start + body.chars().count(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_separate_paragraphs_and_spans_point_back() {
        let text = "\n标题\n\n第一段,\n续行。\n\n  second para  \n";
        let segs = segment(text);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[1].text, "第一段,\n续行。");
        assert_eq!(segs[2].text, "second para");
        for s in &segs {
            assert_eq!(&text[s.span.byte_start..s.span.byte_end], s.text);
            let by_chars: String = text
                .chars()
                .skip(s.span.char_start)
                .take(s.span.char_end - s.span.char_start)
                .collect();
            assert_eq!(by_chars, s.text);
        }
    }

    #[test]
    fn segment_ids_ignore_whitespace_only() {
        assert_eq!(segment_id("a  b\nc"), segment_id("a b c"));
        assert_ne!(segment_id("a b c"), segment_id("a b d"));
    }

    #[test]
    fn language_follows_the_dominant_script() {
        assert_eq!(language("海口高新区积极探索经济合作模式"), "zh");
        assert_eq!(
            language("The quick brown fox jumps over the lazy dog"),
            "en"
        );
        assert_eq!(language("1234 ..."), "und");
    }
}
