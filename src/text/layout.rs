//! Layout: a page's lines become articles and segments (title, subheading, byline, photo credit,
//! paragraph), with the paragraphs that page layout broke rejoined.
//!
//! The work goes in four passes, each small enough to read on its own:
//! 1. [`runs`]: non-blank lines, with the number of blank lines before each. When a document
//!    separates paragraphs with blank lines, the lines of one block are a hard-wrapped paragraph
//!    and are joined (a space between Latin words, nothing between Han characters).
//! 2. [`Shape`]: what each run looks like on its own: a heading candidate (short, no
//!    sentence-final punctuation), a photo credit (`图片来源:X`), a sign-off line (`【编辑:X】`),
//!    a Markdown heading, or a paragraph (which may open with a dateline).
//! 3. Rejoin: a paragraph that ends without sentence-final punctuation continues into the next
//!    paragraph; a heading candidate followed by text that starts mid-sentence (`，…`) was a
//!    paragraph piece, not a heading.
//! 4. Articles: an article begins at a headline, at a photo credit that opens a photo story, or
//!    at a dateline after body text. A heading candidate is a headline when it opens the page,
//!    when the article before it was signed off, when it stands apart (more blank lines than
//!    usual around it), or when what follows it opens an article (a byline, a photo credit, a
//!    dateline). Otherwise it is a subheading. Datelines and signatures go into the article's
//!    metadata; the paragraph text stays whole.
//!
//! Matching (datelines, credits, signatures) looks at the normalized form of a run, so
//! full-width and half-width punctuation are one; what is reported is cut from the original.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::{normalize, Normalized};
use super::script::is_han;
use super::{Block, BlockKind, Segment, SegmentKind, Source, Span};

/// One article of a page, with the people and places its layout credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub index: usize,
    pub title: Option<String>,
    /// Everyone credited, in order of appearance: byline, reporters in the dateline, signatures.
    pub authors: Vec<String>,
    pub dateline: Option<String>,
    pub photo_credit: Option<String>,
    /// Indexes of its first and last segment (inclusive).
    pub segments: (usize, usize),
}

/// A page laid out: segments in document order and the articles they belong to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Their sentences are left to `text::analyze`.
    pub segments: Vec<Segment>,
    pub articles: Vec<Article>,
}

/// Longest heading, in chars, for text with Han characters and for Latin text.
const MAX_HEADING_CJK: usize = 48;
const MAX_HEADING_LATIN: usize = 100;
const MAX_HEADING_WORDS: usize = 12;

/// Lays out `text` (the decoded document) into articles and segments.
pub fn layout(text: &str) -> Layout {
    let typical_gap = typical_gap(text);
    // Lines stream through joining and rejoining: only rejoined runs are ever held (a page of
    // a million tiny lines that rejoin into one paragraph never holds a million runs).
    let mut rejoined: Vec<Shaped> = Vec::new();
    let mut pending: Option<Run> = None;
    for run in runs(text) {
        pending = match pending {
            Some(mut prev) if joins_hard_wrap(&prev, &run, typical_gap) => {
                append(&mut prev, &run);
                Some(prev)
            }
            Some(prev) => {
                rejoin(&mut rejoined, prev, typical_gap);
                Some(run)
            }
            None => Some(run),
        };
    }
    if let Some(last) = pending {
        rejoin(&mut rejoined, last, typical_gap);
    }
    assemble(rejoined, typical_gap, false)
}

/// Lays out the blocks of a structured document (see [`super::analyze_blocks`]). Its format
/// already says what is a heading, a list item, a table or code, and where a paragraph ends,
/// so blocks are never joined; paragraphs still go through the same shapes as text (bylines,
/// datelines, credits, sign-offs), and when the document marks no headings at all, headlines
/// are told from their look as in text.
pub fn layout_blocks(blocks: Vec<Block>) -> (String, Layout) {
    let mut text = String::new();
    let mut chars = 0usize;
    let mut shaped: Vec<Shaped> = Vec::with_capacity(blocks.len());
    let mut sources: Vec<Option<Source>> = Vec::with_capacity(blocks.len());
    for block in blocks {
        let trimmed = block.text.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
            chars += 2;
        }
        let n = trimmed.chars().count();
        let span = Span {
            byte_start: text.len(),
            byte_end: text.len() + trimmed.len(),
            char_start: chars,
            char_end: chars + n,
        };
        text.push_str(trimmed);
        chars += n;
        let run = Run {
            text: trimmed.to_string(),
            span,
            gap_before: if shaped.is_empty() { usize::MAX } else { 1 },
            markdown: match block.kind {
                BlockKind::Heading(level) => Markdown::Heading(usize::from(level.clamp(1, 6))),
                _ => Markdown::None,
            },
            probe: probe(trimmed),
            has_han: trimmed.chars().any(is_han),
            opens: block.opens_article,
        };
        let shape = match block.kind {
            BlockKind::ListItem => Shape::Fixed(SegmentKind::ListItem),
            BlockKind::Table => Shape::Fixed(SegmentKind::Table),
            BlockKind::Code => Shape::Fixed(SegmentKind::Code),
            BlockKind::Caption => match shape(&run) {
                Shape::PhotoCredit(credit) => Shape::PhotoCredit(credit),
                _ => Shape::PhotoCredit(run.text.clone()),
            },
            BlockKind::Heading(_) | BlockKind::Paragraph => shape(&run),
        };
        shaped.push(Shaped { run, shape });
        sources.push(block.source);
    }
    let headings = shaped
        .iter()
        .any(|s| matches!(s.shape, Shape::MarkdownHeading(_)));
    let mut layout = assemble(shaped, 1, headings);
    debug_assert_eq!(layout.segments.len(), sources.len());
    for (segment, source) in layout.segments.iter_mut().zip(sources) {
        segment.source = source;
    }
    (text, layout)
}

// ---------------------------------------------------------------------------------------------
// Pass 1: lines to runs

/// A run of source text taken as one piece: a line, or lines joined.
#[derive(Debug, Clone)]
struct Run {
    text: String,
    span: Span,
    /// Blank lines between this run and the one before (usize::MAX for the first).
    gap_before: usize,
    markdown: Markdown,
    probe: Probe,
    /// Whether `text` holds a Han character (kept up to date as runs are joined, so joining
    /// never rescans the text: layout stays linear in the page).
    has_han: bool,
    /// An article begins here whatever the run looks like (an EPUB chapter).
    opens: bool,
}

/// Normalized views of a run's two ends: every pattern looks at a start (datelines, credits,
/// headings) or an end (signatures), so long paragraphs are never normalized whole.
#[derive(Debug, Clone)]
struct Probe {
    head: Normalized,
    tail: String,
    /// The head is the whole run.
    whole: bool,
}

/// Runs up to this many chars are normalized whole (every heading, credit and sign-off fits).
const PROBE_WHOLE: usize = 128;
/// Of longer runs, this many chars at the start (the longest dateline) and at the end (the
/// longest signature).
const PROBE_HEAD: usize = 64;
const PROBE_TAIL: usize = 40;

fn probe(text: &str) -> Probe {
    let whole = text.len() <= PROBE_WHOLE || text.chars().nth(PROBE_WHOLE).is_none();
    let head_end = if whole {
        text.len()
    } else {
        text.char_indices()
            .nth(PROBE_HEAD)
            .map_or(text.len(), |(b, _)| b)
    };
    let mut head = normalize(&text[..head_end]);
    // Traditional text matches the same patterns through its Simplified shadow (one char for
    // one, so offsets hold).
    if let std::borrow::Cow::Owned(s) = super::hant::shadow(&head.text) {
        head.text = s;
    }
    let tail = if whole {
        head.text.clone()
    } else {
        probe_tail(text)
    };
    Probe { head, tail, whole }
}

/// The normalized last [`PROBE_TAIL`] chars of `text`.
fn probe_tail(text: &str) -> String {
    let start = text
        .char_indices()
        .rev()
        .nth(PROBE_TAIL - 1)
        .map_or(0, |(b, _)| b);
    super::hant::shadow(&super::normalize::normalized(&text[start..])).into_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markdown {
    None,
    Heading(usize),
    ListItem,
}

/// The non-blank lines of `text` as runs, in order.
fn runs(text: &str) -> impl Iterator<Item = Run> + '_ {
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut blanks = usize::MAX;
    let mut first = true;
    text.split_inclusive('\n').filter_map(move |line| {
        let line_chars = line.chars().count();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim();
        let run = if trimmed.is_empty() {
            blanks = blanks.saturating_add(1).min(usize::MAX - 1);
            if first {
                blanks = usize::MAX;
            }
            None
        } else {
            let lead = content.len() - content.trim_start().len();
            let lead_chars = content[..lead].chars().count();
            let byte_start = byte + lead;
            let char_start = chars + lead_chars;
            let run = Run {
                text: trimmed.to_string(),
                span: Span {
                    byte_start,
                    byte_end: byte_start + trimmed.len(),
                    char_start,
                    char_end: char_start + trimmed.chars().count(),
                },
                gap_before: if first { usize::MAX } else { blanks },
                markdown: markdown_of(trimmed),
                probe: probe(trimmed),
                has_han: trimmed.chars().any(is_han),
                opens: false,
            };
            first = false;
            blanks = 0;
            Some(run)
        };
        byte += line.len();
        chars += line_chars;
        run
    })
}

fn markdown_of(line: &str) -> Markdown {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        return Markdown::Heading(hashes);
    }
    let bullet = ["- ", "* ", "+ "].iter().any(|b| line.starts_with(b));
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let numbered = digits > 0 && line[digits..].starts_with(". ");
    if bullet || numbered {
        Markdown::ListItem
    } else {
        Markdown::None
    }
}

/// The most common number of blank lines between runs: what "the next paragraph" looks like
/// on this page.
fn typical_gap(text: &str) -> usize {
    let mut counts = [0usize; 4];
    let (mut blanks, mut first) = (0usize, true);
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            blanks += 1;
        } else {
            if !first {
                counts[blanks.min(3)] += 1;
            }
            first = false;
            blanks = 0;
        }
    }
    (0..4)
        .max_by_key(|&g| (counts[g], usize::MAX - g))
        .unwrap_or(0)
}

/// Whether `next` continues `prev`'s block: the page separates paragraphs with blank lines, and
/// the two lines have none between them.
fn joins_hard_wrap(prev: &Run, next: &Run, typical_gap: usize) -> bool {
    typical_gap != 0
        && next.gap_before == 0
        && next.markdown == Markdown::None
        && !matches!(prev.markdown, Markdown::Heading(_))
}

/// Whether a line `next` that continues `text` is joined to it with a space: between Latin
/// words it is, between Han text (or anything beside it) it is not.
pub fn joins_with_space(text: &str, next: &str, has_han: bool) -> bool {
    let a = text.chars().next_back();
    let b = next.chars().next();
    matches!((a, b), (Some(a), Some(b)) if !is_cjk(a) && !is_cjk(b) && !has_han)
}

/// Appends `next` to `run`: nothing between Han text, a space between Latin words.
fn append(run: &mut Run, next: &Run) {
    if joins_with_space(&run.text, &next.text, run.has_han || next.has_han) {
        run.text.push(' ');
    }
    run.has_han |= next.has_han;
    run.text.push_str(&next.text);
    run.span.byte_end = next.span.byte_end;
    run.span.char_end = next.span.char_end;
    if run.probe.whole {
        run.probe = probe(&run.text);
    } else {
        // A long run's head does not change as it grows: only its tail is looked at again.
        run.probe.tail = probe_tail(&run.text);
    }
}

/// Han characters and the full-width punctuation written around them.
fn is_cjk(c: char) -> bool {
    is_han(c)
        || matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}' | '\u{2018}'..='\u{201f}'
            | '\u{2026}' | '\u{3040}'..='\u{30ff}' | '\u{ac00}'..='\u{d7af}')
}

// ---------------------------------------------------------------------------------------------
// Pass 2: shapes

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// Short, without sentence-final punctuation: a headline, subheading or byline.
    Heading,
    MarkdownHeading(usize),
    /// `图片来源:X`, with X.
    PhotoCredit(String),
    /// A line that only credits people (`【编辑:X】`, `(记者 X)`): it closes an article.
    SignOff(Vec<String>),
    Paragraph,
    /// A segment of the kind its structured document says (list item, table, code).
    Fixed(SegmentKind),
}

fn shape(run: &Run) -> Shape {
    if let Markdown::Heading(level) = run.markdown {
        return Shape::MarkdownHeading(level);
    }
    if !run.probe.whole {
        return Shape::Paragraph;
    }
    let norm = run.probe.head.text.as_str();
    if let Some(c) = PHOTO_CREDIT.captures(norm) {
        return Shape::PhotoCredit(c[1].trim().to_string());
    }
    if let Some(names) = latin_sign_off(norm) {
        return Shape::SignOff(names);
    }
    if let Some(c) = SIGN_OFF_LINE.captures(norm) {
        // One of the two alternatives matched: take whichever group took part.
        let names = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        return Shape::SignOff(names_in(names));
    }
    if run.markdown == Markdown::None && looks_like_heading(&run.text, norm) {
        Shape::Heading
    } else {
        Shape::Paragraph
    }
}

fn looks_like_heading(text: &str, norm: &str) -> bool {
    // Headlines carry at most one clause break; a piece with more is the start of a sentence.
    let clauses = norm
        .chars()
        .filter(|c| matches!(c, ',' | ';' | '、'))
        .count();
    if ends_sentence(text, norm) || norm.contains('。') || clauses > 1 || dateline(norm).is_some()
    {
        return false;
    }
    let chars = text.chars().count();
    if text.chars().any(is_han) {
        chars <= MAX_HEADING_CJK
    } else {
        let first_lower = text.chars().next().is_some_and(char::is_lowercase);
        chars <= MAX_HEADING_LATIN
            && text.split_whitespace().count() <= MAX_HEADING_WORDS
            && !first_lower
    }
}

/// Whether text ends a sentence: its last char, past closing quotes and brackets, is
/// sentence-final punctuation (a colon or semicolon also ends a paragraph), or it ends with a
/// signature (`tail`: the normalized end of the text).
fn ends_sentence(text: &str, tail: &str) -> bool {
    let core = text.trim_end().trim_end_matches(|c: char| {
        matches!(
            c,
            '”' | '’' | '」' | '』' | '）' | ')' | '》' | '】' | '"' | '\''
        )
    });
    core.chars().next_back().is_some_and(|c| {
        matches!(
            c,
            '。' | '！' | '？' | '!' | '?' | '.' | '…' | '；' | ';' | '：' | ':'
        )
    }) || signature(tail).is_some()
}

/// Whether text starts the way only a sentence's continuation does.
fn starts_mid_sentence(text: &str) -> bool {
    text.chars().next().is_some_and(|c| {
        c.is_lowercase()
            || matches!(
                c,
                '，' | ','
                    | '、'
                    | '。'
                    | '.'
                    | '；'
                    | ';'
                    | '：'
                    | ':'
                    | '！'
                    | '!'
                    | '？'
                    | '?'
                    | '）'
                    | ')'
                    | '”'
                    | '’'
                    | '」'
                    | '』'
                    | '》'
                    | '%'
                    | '％'
            )
    })
}

// ---------------------------------------------------------------------------------------------
// Pass 3: rejoin

#[derive(Debug, Clone)]
struct Shaped {
    run: Run,
    shape: Shape,
}

/// Adds one run to the rejoined runs `out`: it continues the last one when that was a piece
/// of a broken paragraph or heading.
fn rejoin(out: &mut Vec<Shaped>, run: Run, typical_gap: usize) {
    let shape = shape(&run);
    let near = run.gap_before <= typical_gap;
    // Whether the run before the previous one is running body text (not signed off): only
    // there can a short line be the first piece of a broken paragraph.
    let after_body = out.len() >= 2 && {
        let before = &out[out.len() - 2];
        before.shape == Shape::Paragraph && signature(&before.run.probe.tail).is_none()
    };
    if let Some(prev) = out.last_mut() {
        let continues = matches!(shape, Shape::Paragraph | Shape::Heading)
            && dateline(&run.probe.head.text).is_none()
            && near;
        let broken_paragraph = prev.shape == Shape::Paragraph
            && prev.run.markdown == Markdown::None
            && !ends_sentence(&prev.run.text, &prev.run.probe.tail)
            && (shape == Shape::Paragraph || starts_mid_sentence(&run.text));
        let broken_heading = prev.shape == Shape::Heading
            && (starts_mid_sentence(&run.text)
                || shape == Shape::Paragraph
                    && after_body
                    && piece_of_sentence(&prev.run.text, &run.text));
        if continues && (broken_paragraph || broken_heading) {
            append(&mut prev.run, &run);
            prev.shape = Shape::Paragraph;
            return;
        }
    }
    out.push(Shaped { run, shape });
}

/// Whether a short line `head` followed by paragraph text `next` reads as one sentence broken in
/// two: it has clause breaks (headlines rarely do), it is a lone character, or a dictionary
/// word runs across the break (`东京都知` + `事小池…`: 知事).
fn piece_of_sentence(head: &str, next: &str) -> bool {
    let clause = head.chars().any(|c| matches!(c, '，' | ',' | '；' | ';'));
    clause || head.chars().count() == 1 || word_across(head, next)
}

/// Whether jieba (dictionary words only, no HMM guesses) cuts a word across the end of `a`
/// and the start of `b`.
fn word_across(a: &str, b: &str) -> bool {
    const SIDE: usize = 4;
    let tail: Vec<char> = a.chars().rev().take(SIDE).collect();
    let (Some(&last), Some(first)) = (tail.first(), b.chars().next()) else {
        return false;
    };
    if !is_han(last) || !is_han(first) {
        return false;
    }
    let joint = tail.len();
    let mut probe: String = tail.into_iter().rev().collect();
    probe.extend(b.chars().take(SIDE));
    super::words::shared()
        .jieba()
        .cut(&probe, false)
        .iter()
        .any(|t| t.start < joint && t.end > joint)
}

// ---------------------------------------------------------------------------------------------
// Pass 4: articles

struct Builder {
    layout: Layout,
    /// The current article has body text (a paragraph).
    has_body: bool,
    /// The current article was signed off: what follows starts a new one.
    closed: bool,
}

impl Builder {
    fn open(&mut self) -> usize {
        let index = self.layout.articles.len();
        let first = self.layout.segments.len();
        // An article opened (by a chapter) and still empty is the one a headline opens.
        if index > 0 && self.layout.articles[index - 1].segments.0 == first {
            return index - 1;
        }
        self.layout.articles.push(Article {
            index,
            title: None,
            authors: Vec::new(),
            dateline: None,
            photo_credit: None,
            segments: (first, first),
        });
        self.has_body = false;
        self.closed = false;
        index
    }

    fn current(&mut self) -> usize {
        match self.layout.articles.len() {
            0 => self.open(),
            n => n - 1,
        }
    }

    fn article(&mut self) -> &mut Article {
        let i = self.current();
        &mut self.layout.articles[i]
    }

    fn push(&mut self, kind: SegmentKind, text: String, span: Span) {
        let article = self.current();
        let index = self.layout.segments.len();
        self.layout.articles[article].segments.1 = index;
        self.layout.segments.push(Segment {
            kind,
            article: Some(article),
            text,
            span,
            // Split by `text::analyze` once the page is laid out.
            sentences: Vec::new(),
            source: None,
            language: "und",
        });
    }

    fn last_kind(&self) -> Option<SegmentKind> {
        self.layout.segments.last().map(|b| b.kind)
    }
}

/// `headings`: the document marks its headings (a structured document): a short paragraph is
/// then a byline or a subheading, never a headline.
fn assemble(runs: Vec<Shaped>, typical_gap: usize, headings: bool) -> Layout {
    let top_markdown = runs
        .iter()
        .filter_map(|u| match u.shape {
            Shape::MarkdownHeading(l) => Some(l),
            _ => None,
        })
        .min();
    let mut b = Builder {
        layout: Layout::default(),
        has_body: false,
        closed: false,
    };
    for i in 0..runs.len() {
        let Shaped { run, shape } = &runs[i];
        let text = run.text.clone();
        if run.opens {
            b.open();
        }
        match shape {
            Shape::Fixed(kind) => {
                b.current();
                b.has_body |= *kind == SegmentKind::ListItem;
                b.push(*kind, text, run.span);
            }
            Shape::MarkdownHeading(level) => {
                let heading = if headings {
                    text
                } else {
                    run.text.trim_start_matches('#').trim().to_string()
                };
                if Some(*level) == top_markdown {
                    let a = b.open();
                    b.layout.articles[a].title = Some(heading.clone());
                    b.push(SegmentKind::Title, heading, run.span);
                } else {
                    b.push(SegmentKind::Subheading, heading, run.span);
                }
            }
            Shape::Heading => {
                let norm = run.probe.head.text.as_str();
                let under_title = matches!(b.last_kind(), Some(SegmentKind::Title));
                if under_title && !b.has_body {
                    if let Some(names) = byline_names(norm) {
                        b.article().authors.extend(as_written(&run.text, names));
                        b.push(SegmentKind::Byline, text, run.span);
                        continue;
                    }
                }
                if !headings && is_headline(&runs, i, &b, typical_gap) {
                    let a = b.open();
                    b.layout.articles[a].title = Some(text.clone());
                    b.push(SegmentKind::Title, text, run.span);
                } else {
                    b.push(SegmentKind::Subheading, text, run.span);
                }
            }
            Shape::PhotoCredit(credit) => {
                // In a document that marks its headings, only a heading opens an article: a
                // caption is part of the article it sits in.
                if !headings && (b.has_body || b.closed) || b.layout.articles.is_empty() {
                    b.open();
                }
                b.article().photo_credit.get_or_insert(credit.clone());
                b.push(SegmentKind::PhotoCredit, text, run.span);
            }
            Shape::SignOff(names) => {
                b.article()
                    .authors
                    .extend(as_written(&run.text, names.clone()));
                b.push(SegmentKind::Byline, text, run.span);
                b.closed = true;
            }
            Shape::Paragraph => paragraph(&mut b, run),
        }
    }
    b.layout
}

fn paragraph(b: &mut Builder, run: &Run) {
    let norm = &run.probe.head;
    let opening = dateline(&norm.text);
    if opening.is_some() && (b.has_body || b.closed) {
        b.open();
    }
    if let Some((end, names)) = opening {
        let article = b.article();
        if article.dateline.is_none() {
            let chars = norm.original_char(end);
            let cut: String = run.text.chars().take(chars).collect();
            article.dateline = Some(cut.trim_end().to_string());
            article.authors.extend(as_written(&run.text, names));
        }
    }
    if let Some(names) = signature(&run.probe.tail) {
        b.article().authors.extend(as_written(&run.text, names));
        b.closed = true;
    }
    b.current();
    b.has_body = true;
    b.push(SegmentKind::Paragraph, run.text.clone(), run.span);
}

/// Whether the heading candidate `runs[i]` opens a new article (see the module docs).
fn is_headline(runs: &[Shaped], i: usize, b: &Builder, typical_gap: usize) -> bool {
    if b.layout.articles.is_empty() || b.closed {
        return true;
    }
    if !b.has_body {
        // A second short line under a headline is its deck (a subheading).
        return false;
    }
    let apart = runs[i].run.gap_before > typical_gap
        || runs
            .get(i + 1)
            .is_some_and(|n| n.run.gap_before > typical_gap);
    apart || opens_article(&runs[i + 1..])
}

/// Whether what follows a heading candidate is the start of an article: a byline, a photo
/// credit, or a paragraph that opens with a dateline (further short lines are skipped).
fn opens_article(rest: &[Shaped]) -> bool {
    for (k, next) in rest.iter().enumerate() {
        match &next.shape {
            Shape::PhotoCredit(_) => return true,
            Shape::Heading => {
                if k == 0 && byline_names(&next.run.probe.head.text).is_some() {
                    return true;
                }
                if k >= 2 {
                    return false;
                }
            }
            Shape::Paragraph => return dateline(&next.run.probe.head.text).is_some(),
            Shape::MarkdownHeading(_) | Shape::SignOff(_) | Shape::Fixed(_) => return false,
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Patterns (on normalized text: full-width `：（）` are already `:()`)

static PHOTO_CREDIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[(\[]?(?:图片来源|图片|图源|图)\s?[:/]\s?([^()\[\]]{1,40})[)\]]?$")
        .expect("photo credit pattern")
});

static SIGN_OFF_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:【(?:责任编辑|责编|编辑)\s?[:：]\s?([^】]{1,30})】|\((?:责任编辑|责编|记者|通讯员|编辑)\s?:?\s?([^()]{1,30})\))$")
        .expect("sign-off pattern")
});

/// `本报讯`, `本报讯 (特约通讯员 X) 2月17日`, `本报北京3月3日电`.
static DATELINE_PAPER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^本报(?:讯|\p{Han}{0,8}?\d{1,2}月\d{1,2}日电)(?: ?\(([^()]{1,40})\))?(?: ?\d{1,2}月\d{1,2}日(?:电)?)?")
        .expect("paper dateline pattern")
});

/// `中新网3月30日电`, `新华社北京3月3日电`, `中新社香港3月30日电(记者曾平)`.
static DATELINE_AGENCY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\p{Han}{2,12}?\d{1,2}月\d{1,2}日电(?: ?\(([^()]{1,40})\))?")
        .expect("agency dateline pattern")
});

/// Taiwan's Central News Agency, on the Simplified shadow of the text:
/// `中央社记者张建中新竹2023年10月19日电`, `(中央社记者X台北19日电)`, `中央社台北19日综合外电报导`.
/// A reporter's name is taken as three characters when that leaves a place of two or more
/// (most names are), else two.
static DATELINE_TW: LazyLock<Regex> = LazyLock::new(|| {
    let body = r"中央社(?:记者((?:\p{Han}{3}|\p{Han}{2})(?:、\p{Han}{2,3})*))?\p{Han}{2,8}?(?:\d{4}年)?(?:\d{1,2}月)?\d{1,2}日(?:综合外电|综合|专)?电(?:报导)?";
    // In parentheses, or bare: a closing parenthesis is the dateline's only after an opening one.
    Regex::new(&format!(r"^(?:\({body}\)|{body})")).expect("CNA dateline pattern")
});

/// Reporters' credits that open Taiwan and Hong Kong stories: `【记者X/台北报导】`,
/// `〔记者X/台北报导〕`, `记者X/台北报导`, `【明报专讯】`, `(星岛日报报道)`.
static DATELINE_REPORTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[【〔\[(]?记者((?:\p{Han}{2,4})(?:、\p{Han}{2,4})*)/\p{Han}{2,8}?报[导道][】〕\])]?|[【〔\[(]\p{Han}{2,8}?(?:专讯|报道|报导)[】〕\])])")
        .expect("reported-by dateline pattern")
});

/// `BEIJING, March 3 (Xinhua) --`.
/// `CUPERTINO, Calif., Jan. 30 (Reuters) -`, `NEW YORK (AP) —`: a city in capitals, a state or
/// country, then a date, an agency or both, then a dash. (The agency is no one's name: it is
/// not captured.)
static DATELINE_LATIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^[A-Z][A-Z .'\-]{1,30}(?:, [A-Z][A-Za-z.]{1,15})?",
        r"(?:, [A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?(?: \([A-Za-z .&\-]{1,30}\))?|(?: \([A-Za-z .&\-]{1,30}\)))",
        r" ?(?:--|—|–|-) "
    ))
    .expect("latin dateline pattern")
});

/// Wire agencies and newsrooms that bylines and sign-offs name beside people: never a person.
const AGENCIES: &[&str] = &[
    "Reuters",
    "AP",
    "Associated Press",
    "The Associated Press",
    "AFP",
    "Agence France-Presse",
    "Bloomberg",
    "Bloomberg News",
    "Xinhua",
    "Kyodo",
    "Kyodo News",
    "Yonhap",
    "dpa",
    "DPA",
    "ANSA",
    "EFE",
    "TASS",
    "UPI",
    "PTI",
    "CNA",
    "Dow Jones",
    "CNN",
    "BBC",
];

/// `Reporting by Jane Smith; Editing by John Doe`, `(Additional reporting by A and B)`: the
/// people a wire story's last line credits.
fn latin_sign_off(norm: &str) -> Option<Vec<String>> {
    let line = norm.trim_start_matches('(').trim_end_matches(['.', ')']);
    let lower = line.to_ascii_lowercase();
    let credits = [
        "reporting by ",
        "writing by ",
        "editing by ",
        "compiled by ",
        "additional reporting by ",
    ];
    if !credits.iter().any(|c| lower.starts_with(c)) {
        return None;
    }
    let mut names = Vec::new();
    for part in line.split(';') {
        let part = part.trim();
        let at = part.to_ascii_lowercase().find(" by ")?;
        for name in part[at + 4..].split(", ").flat_map(|p| p.split(" and ")) {
            // `Jane Smith in San Francisco`: where the reporter was is not the name.
            let name = name.split(" in ").next().unwrap_or_default().trim();
            let capitalised = name.chars().next().is_some_and(char::is_uppercase);
            if capitalised && name.split_whitespace().count() <= 4 && !AGENCIES.contains(&name) {
                names.push(name.to_string());
            }
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Characters after `日电` that make it a word (`电网`, `电视`…) rather than a dateline's `电`.
const DIAN_WORDS: &str = "网视力话台厂站器子脑影池商动气价量费源信报车梯路";

/// The dateline that opens `norm`: its end (normalized char offset) and the people it names.
fn dateline(norm: &str) -> Option<(usize, Vec<String>)> {
    let found = DATELINE_PAPER
        .captures(norm)
        .or_else(|| {
            DATELINE_AGENCY.captures(norm).filter(|c| {
                let end = c.get(0).map_or(0, |m| m.end());
                // A bare `…日电网` is a word, not a dateline (unless a reporter note follows).
                c.get(1).is_some()
                    || !norm[end..]
                        .chars()
                        .next()
                        .is_some_and(|n| DIAN_WORDS.contains(n))
            })
        })
        .or_else(|| DATELINE_TW.captures(norm))
        .or_else(|| DATELINE_REPORTED.captures(norm))
        .or_else(|| DATELINE_LATIN.captures(norm))?;
    let whole = found.get(0)?;
    // The credit is the first group that took part (patterns with alternatives have several).
    let names = (1..found.len())
        .find_map(|i| found.get(i))
        .map(|m| names_in(m.as_str()))
        .unwrap_or_default();
    Some((norm[..whole.end()].chars().count(), names))
}

/// Names found in the Simplified shadow of `text`, as `text` writes them (張建中, not 张建中):
/// each is cut from `text` where the shadow has it.
fn as_written(text: &str, names: Vec<String>) -> Vec<String> {
    let std::borrow::Cow::Owned(shadow) = super::hant::shadow(text) else {
        return names;
    };
    names
        .into_iter()
        .map(|name| match shadow.find(&name) {
            Some(at) => {
                let start = shadow[..at].chars().count();
                text.chars()
                    .skip(start)
                    .take(name.chars().count())
                    .collect()
            }
            None => name,
        })
        .collect()
}

/// Roles written before reporters' names.
const ROLES: &[&str] = &[
    "特约通讯员",
    "本报通讯员",
    "本报记者",
    "见习记者",
    "实习记者",
    "通讯员",
    "实习生",
    "记者",
    "摄影",
    "编辑",
    "作者",
];

/// The person names in a credit such as `胡乌达木 特约通讯员 赵小丽` or `记者冯国栋`.
fn names_in(credit: &str) -> Vec<String> {
    credit
        .split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，' | ';' | '；' | '/'))
        .filter_map(|w| {
            let mut w = w.trim_matches(|c: char| c == ':' || c == '：');
            while let Some(rest) = ROLES.iter().find_map(|r| w.strip_prefix(r)) {
                w = rest.trim_start_matches([':', '：']);
            }
            let n = w.chars().count();
            let name_like = (2..=4).contains(&n) && w.chars().all(is_han);
            let latin_name = !w.is_empty() && w.chars().all(|c| c.is_alphabetic() || c == '.');
            (name_like || (latin_name && !w.chars().any(is_han))).then(|| w.to_string())
        })
        .collect()
}

/// A signature at the end of a paragraph: ` 樊佳`, ` 吴燕翎 陈莘子` after sentence-final
/// punctuation, `【编辑:X】`, `(记者 X)`.
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:[。!?”」』)] (\p{Han}{2,3}(?: \p{Han}{2,3})?)",
        r"|【(?:责任编辑|责编|编辑) ?: ?([^】]{1,30})】",
        r"|\((?:记者|通讯员) ?:? ?([^()]{1,30})\))$"
    ))
    .expect("signature pattern")
});

fn signature(norm: &str) -> Option<Vec<String>> {
    let c = SIGNATURE.captures(norm)?;
    let names = (1..=3).find_map(|i| c.get(i))?;
    Some(names_in(names.as_str())).filter(|n| !n.is_empty())
}

static BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?:作者|记者|文|文/图|图/文|撰文|本报记者) ?[:/]? ?)?",
        r"(\p{Han}{2,4}(?:[ 、]\p{Han}{2,4}){0,3})$"
    ))
    .expect("byline pattern")
});

static BYLINE_LATIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i:by) ([A-Z][\w.'\-]+(?: [A-Z][\w.'\-]+){0,3}(?:(?:,| and) [A-Z][\w.'\-]+(?: [A-Z][\w.'\-]+){0,3})*)$")
        .expect("latin byline pattern")
});

/// The names of a line that is only a byline: `郭萃`, `吴燕翎 陈莘子`, `作者 高瑞峰`, `By Ann Lee`.
fn byline_names(norm: &str) -> Option<Vec<String>> {
    if let Some(c) = BYLINE.captures(norm) {
        return Some(names_in(&c[1])).filter(|n| !n.is_empty());
    }
    let c = BYLINE_LATIN.captures(norm)?;
    Some(
        c[1].split(',')
            .flat_map(|p| p.split(" and "))
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty() && !AGENCIES.contains(&p.as_str()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(l: &Layout) -> Vec<(SegmentKind, &str)> {
        l.segments
            .iter()
            .map(|b| (b.kind, b.text.as_str()))
            .collect()
    }

    use SegmentKind::*;

    #[test]
    fn a_broken_cjk_paragraph_is_rejoined_with_nothing_between() {
        let first = "原来每天排放污水达到4500吨,现在我们一吨污水都不向外排放,为阿拉善高新区的污水处理解决了难";
        let text = format!("标题在此\n\n{first}\n\n题,为全盟节水指标腾出了空间。\n");
        let l = layout(&text);
        let joined = format!("{first}题,为全盟节水指标腾出了空间。");
        assert_eq!(
            kinds(&l),
            [(Title, "标题在此"), (Paragraph, joined.as_str())]
        );
        let span = l.segments[1].span;
        assert_eq!(span.char_start, 6);
        assert_eq!(span.char_end, 6 + first.chars().count() + 2 + 15);
        assert_eq!(span.byte_end, text.trim_end().len());
    }

    #[test]
    fn a_heading_is_never_joined_to_a_paragraph() {
        let l = layout("正文第一段已经写完了。\n\n小标题在这里\n\n下一段从这里开始。\n");
        assert_eq!(l.segments[1].kind, Subheading);
        assert_eq!(l.segments.len(), 3);
    }

    #[test]
    fn datelines_and_signatures_go_to_the_article() {
        let l = layout(
            "某地新闻标题\n\n本报讯 (记者 张三) 3月5日,某地召开会议。 李四\n\n另一条新闻标题\n\n新华社北京3月3日电(记者王五)会议开幕。\n\n【编辑:赵六】\n",
        );
        assert_eq!(l.articles.len(), 2);
        let a = &l.articles[0];
        assert_eq!(a.dateline.as_deref(), Some("本报讯 (记者 张三) 3月5日"));
        assert_eq!(a.authors, ["张三", "李四"]);
        let b = &l.articles[1];
        assert_eq!(b.dateline.as_deref(), Some("新华社北京3月3日电(记者王五)"));
        assert_eq!(b.authors, ["王五", "赵六"]);
        assert_eq!(l.segments[4].kind, Byline);
        assert_eq!(
            l.segments[1].text,
            "本报讯 (记者 张三) 3月5日,某地召开会议。 李四"
        );
    }

    #[test]
    fn a_photo_credit_after_body_text_opens_a_photo_story() {
        let l = layout("标题一\n\n正文。\n\n图片来源：某地\n\n图为现场。\n");
        assert_eq!(l.articles.len(), 2);
        assert_eq!(l.articles[1].title, None);
        assert_eq!(l.articles[1].photo_credit.as_deref(), Some("某地"));
    }

    #[test]
    fn a_reporter_line_signs_off_an_article() {
        let l = layout("标题一\n\n正文。\n\n(记者 张三)\n\n标题二\n\n正文。\n");
        assert_eq!(l.segments[2].kind, Byline);
        assert_eq!(l.articles.len(), 2);
        assert_eq!(l.articles[0].authors, ["张三"]);
    }

    #[test]
    fn a_byline_is_a_lone_name_under_a_headline() {
        let l = layout("标题一\n\n张三 李四\n\n正文。\n");
        assert_eq!(l.segments[1].kind, Byline);
        assert_eq!(l.articles[0].authors, ["张三", "李四"]);
    }

    #[test]
    fn english_dateline_is_recognized() {
        let l = layout("Talks open\n\nBEIJING, March 3 (Xinhua) -- Talks opened on Monday.\n");
        assert_eq!(
            l.articles[0].dateline.as_deref(),
            Some("BEIJING, March 3 (Xinhua) --")
        );
    }

    #[test]
    fn hard_wrapped_english_lines_join_with_a_space() {
        let l = layout(
            "A Title\n\nThe quick brown fox\njumps over the lazy dog.\n\nSecond paragraph here.\n",
        );
        assert_eq!(
            kinds(&l),
            [
                (Title, "A Title"),
                (Paragraph, "The quick brown fox jumps over the lazy dog."),
                (Paragraph, "Second paragraph here.")
            ]
        );
    }

    #[test]
    fn markdown_top_headings_open_articles() {
        let l =
            layout("# One\n\nText one.\n\n## Part\n\nMore text.\n\n# Two\n\n- item a\n- item b\n");
        assert_eq!(l.articles.len(), 2);
        assert_eq!(l.articles[1].title.as_deref(), Some("Two"));
        assert_eq!(l.segments[2].kind, Subheading);
        assert_eq!(l.segments[2].text, "Part");
        assert_eq!(l.segments.len(), 7);
    }

    #[test]
    fn a_short_piece_that_splits_a_word_is_a_paragraph() {
        let l = layout("标题\n\n正文开始。\n\n东京都知\n\n事小池百合子对此表示欢迎。\n");
        assert_eq!(l.segments.len(), 3);
        assert_eq!(l.segments[2].text, "东京都知事小池百合子对此表示欢迎。");
    }

    #[test]
    fn a_short_piece_followed_by_mid_sentence_text_is_a_paragraph() {
        let l = layout("标题\n\n正文开始。\n\n据介绍\n\n,此次活动很成功。\n");
        assert_eq!(l.segments.len(), 3);
        assert_eq!(l.segments[2].text, "据介绍,此次活动很成功。");
    }
}
