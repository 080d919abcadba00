//! Text work: bytes to text, text to segments. Pure functions over `&str`; no I/O here.
//!
//! - [`decode`]: bytes to text (encoding detection).
//! - [`normalize`]: the form used for hashing and matching, with offsets back to the original.
//! - [`layout`]: articles and segments; broken paragraphs rejoined; datelines, bylines, credits.
//! - [`sentence`]: sentence bounds inside a segment.
//! - [`words`]: the shared word segmenter (jieba) and its user dictionary.

pub mod decode;
pub mod hant;
pub mod layout;
pub mod normalize;
pub mod script;
pub mod sentence;
pub mod words;

pub use layout::Article;

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
    /// An item of a list (HTML `li`, a Markdown or Word list).
    ListItem,
    /// A table, one row per line and ` | ` between cells.
    Table,
    /// Code (a Markdown code block, HTML `pre`/`code`): never extracted from or used for
    /// near-duplicates.
    Code,
}

/// Where a segment came from in a document that is not plain text (plain text needs none: its
/// `span` indexes the file's decoded text).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// An HTML or XHTML element, by its path from the root (`/html/body/div[2]/p[3]`, the
    /// n-th element of that name among its siblings, from 1); `part` names the file inside an
    /// EPUB.
    Element {
        #[serde(skip_serializing_if = "Option::is_none")]
        part: Option<String>,
        path: String,
    },
    /// A region of a PDF page: the page (from 1) and the box around its lines, in PDF points
    /// from the page's lower left corner (`[x0, y0, x1, y1]`).
    Page { page: u32, r#box: [f32; 4] },
    /// A paragraph of a word-processing document (Word's `w:p`, OpenDocument's `text:p` or
    /// `text:h`, a table counting as one), by its index from 0 in the document body.
    Paragraph { index: usize },
    /// A byte range of the file (Markdown).
    Bytes { byte_start: usize, byte_end: usize },
}

/// What a block of a structured document is, as its format says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A heading of level 1 (the highest) to 6.
    Heading(u8),
    /// Body text: layout still tells a byline, a dateline, a photo credit or a sign-off in it.
    Paragraph,
    ListItem,
    Table,
    Code,
    /// A figure's caption or a photo credit.
    Caption,
}

/// One block of a structured document (HTML, Word, OpenDocument, EPUB, Markdown), its text
/// clean (markup gone, whitespace collapsed).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    pub text: String,
    pub source: Option<Source>,
    /// Whether an article begins here (an EPUB chapter).
    pub opens_article: bool,
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
    /// The segment's text, with lines broken by page layout rejoined.
    pub text: String,
    /// The source region, from its first line's start to its last line's end.
    pub span: Span,
    /// Sentences as half-open char ranges into `text`.
    pub sentences: Vec<(usize, usize)>,
    /// Where in the file it came from, for formats whose text is not the file's.
    pub source: Option<Source>,
    /// BCP 47 tag of its text (see [`hant::language`]; a segment whose Han characters say
    /// nothing either way takes its document's).
    pub language: &'static str,
}

impl Segment {
    /// Id derived from the text's normalized form, so equal text has the same id anywhere.
    pub fn id(&self) -> String {
        segment_id(&self.text)
    }
}

/// Fingerprint of a segment's normalized text (NFKC, width-folded, whitespace collapsed).
pub fn segment_id(text: &str) -> String {
    segment_id_of_normalized(&normalize::normalized(text))
}

/// [`segment_id`] of a text already normalized ([`normalize::normalized`]).
pub fn segment_id_of_normalized(normalized: &str) -> String {
    let mut h = Sha256::new();
    h.update(normalized.as_bytes());
    hex::encode(&h.finalize()[..12])
}

/// A document laid out: its segments in order and its articles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub segments: Vec<Segment>,
    pub articles: Vec<Article>,
    /// The date the document says it was published (HTML metadata, say): relative dates are
    /// read against it when no dateline gives a year.
    pub published: Option<time::Date>,
    /// BCP 47 tag of the whole document's text.
    pub language: &'static str,
}

/// Lays out a decoded document into articles and segments, each with its sentences.
pub fn analyze(text: &str) -> Page {
    let layout::Layout {
        mut segments,
        articles,
    } = layout::layout(text);
    let language = language(text);
    for s in &mut segments {
        s.sentences = sentence::sentences(&s.text);
        s.language = hant::language(&s.text, language);
    }
    Page {
        segments,
        articles,
        published: None,
        language,
    }
}

/// Lays out the blocks of a structured document: returns the document's text (the blocks'
/// texts, a blank line between two; segment spans index it) and its page.
pub fn analyze_blocks(blocks: Vec<Block>) -> (String, Page) {
    let (
        text,
        layout::Layout {
            mut segments,
            articles,
        },
    ) = layout::layout_blocks(blocks);
    let language = language(&text);
    for s in &mut segments {
        s.sentences = match s.kind {
            SegmentKind::Code | SegmentKind::Table => vec![(0, s.text.chars().count())],
            _ => sentence::sentences(&s.text),
        };
        s.language = hant::language(&s.text, language);
    }
    (
        text,
        Page {
            segments,
            articles,
            published: None,
            language,
        },
    )
}

/// The language of a document, as a BCP 47 tag: `zh-Hans`, `zh-Hant`, `en`, `ja`, `ko` or
/// `und` (see [`hant::language`]).
pub fn language(text: &str) -> &'static str {
    hant::language(text, "zh-Hans")
}

/// The segments of a document (see [`analyze`] for its articles too).
pub fn segment(text: &str) -> Vec<Segment> {
    analyze(text).segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_separate_paragraphs_and_spans_point_back() {
        let text = "\n标题\n\n第一段。\n\n  second para.  \n";
        let segs = segment(text);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].kind, SegmentKind::Title);
        assert_eq!(segs[1].text, "第一段。");
        assert_eq!(segs[2].text, "second para.");
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
    fn segment_ids_hash_the_normalized_text() {
        assert_eq!(segment_id("a  b\nc"), segment_id("a b c"));
        assert_eq!(segment_id("图片来源：ＡＢ"), segment_id("图片来源:AB"));
        assert_ne!(segment_id("a b c"), segment_id("a b d"));
    }

    #[test]
    fn language_follows_the_dominant_script() {
        assert_eq!(language("海口高新区积极探索经济合作模式"), "zh-Hans");
        assert_eq!(
            language("The quick brown fox jumps over the lazy dog"),
            "en"
        );
        assert_eq!(language("1234 ..."), "und");
    }
}
