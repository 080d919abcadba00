//! Extraction: what a segment says, in normalized form. Pure functions over `&str` plus the
//! shared word segmenter; no I/O here.
//!
//! - [`number`]: numbers in Arabic and Chinese numerals, mixed forms and ranges, as exact decimals.
//! - [`figure`]: money (with an ISO currency), percentages, percentage points, quantities.
//! - [`date`]: absolute and relative dates, resolved against the page's reference date.
//! - [`entity`]: people, organizations and places (gazetteers, suffix rules, context).
//! - [`keywords`]: top-k keywords of an article (TextRank or TF-IDF).
//!
//! [`extract_page`] runs them all over a laid-out page.

pub mod date;
pub mod entity;
pub mod figure;
pub mod keywords;
pub mod number;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::text::words::Words;
use crate::text::{Page, SegmentKind};

pub use date::{DateMention, Reference, ResolvedFrom};
pub use entity::{Entity, EntityType};
pub use figure::{Figure, FigureKind, Modifier};
pub use keywords::KeywordMethod;

/// The extraction settings (`extract.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Reference for relative dates when no dateline gives a year.
    pub reference_date: Option<time::Date>,
    /// Keywords per article.
    pub keywords: usize,
    pub keyword_method: KeywordMethod,
    /// Whether the trained entity taggers run beside the rules (`extract.entity_models`).
    pub entity_models: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reference_date: None,
            keywords: 8,
            keyword_method: KeywordMethod::Textrank,
            entity_models: true,
        }
    }
}

/// What one segment says.
#[derive(Debug, Clone, Default)]
pub struct SegmentExtraction {
    pub figures: Vec<Figure>,
    pub dates: Vec<DateMention>,
    pub entities: Vec<Entity>,
}

/// What a page says: per segment, per article keywords, and the reference date used.
#[derive(Debug, Clone)]
pub struct PageExtraction {
    pub segments: Vec<SegmentExtraction>,
    pub keywords: Vec<Vec<String>>,
    pub reference: Reference,
}

/// Builds the extractors' tables and compiled patterns now, so that the first page does not
/// pay for them (the word segmenter is [`crate::text::words::shared`]'s own).
pub fn warm_up() {
    entity::warm_up();
    keywords::warm_up();
    let _ = figure::figures("1.5亿元");
    let _ = date::dates(
        "2020年3月1日",
        &date::reference(std::iter::empty(), None, time::Date::MIN),
    );
}

/// Runs every extractor over a laid-out page. `mtime` is the last resort for the reference date.
///
/// Segments in Traditional Chinese (`zh-Hant`) are read through their Simplified shadow
/// ([`crate::text::hant::shadow`], one char for one), so the same rules apply; every text
/// reported (figures, dates, entities, keywords) is cut from the original at the same char
/// offsets.
pub fn extract_page(
    page: &Page,
    words: &Words,
    options: &Options,
    mtime: time::Date,
) -> PageExtraction {
    use crate::text::hant::shadow;
    let traditional: Vec<bool> = page
        .segments
        .iter()
        .map(|s| s.language == "zh-Hant" && matches!(shadow(&s.text), std::borrow::Cow::Owned(_)))
        .collect();
    if !traditional.contains(&true) {
        return extract_shadowed(page, words, options, mtime);
    }
    let mut shadowed = page.clone();
    for (s, &t) in shadowed.segments.iter_mut().zip(&traditional) {
        if t {
            s.text = shadow(&s.text).into_owned();
        }
    }
    for a in &mut shadowed.articles {
        a.authors = a.authors.iter().map(|n| shadow(n).into_owned()).collect();
    }
    let mut out = extract_shadowed(&shadowed, words, options, mtime);
    let original = |i: usize, start: usize, end: usize| -> String {
        page.segments[i]
            .text
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect()
    };
    for (i, found) in out.segments.iter_mut().enumerate() {
        if !traditional[i] {
            continue;
        }
        for f in &mut found.figures {
            f.text = original(i, f.char_start, f.char_end);
        }
        for d in &mut found.dates {
            d.text = original(i, d.char_start, d.char_end);
        }
        for e in &mut found.entities {
            e.text = original(i, e.char_start, e.char_end);
        }
    }
    // A keyword is a word of the shadow: it is given back as the article writes it where it
    // first occurs.
    for (a, keywords) in out.keywords.iter_mut().enumerate() {
        let Some(article) = page.articles.get(a) else {
            continue;
        };
        let (first, last) = article.segments;
        for k in keywords.iter_mut() {
            let found = (first..=last.min(page.segments.len().saturating_sub(1))).find_map(|i| {
                let at = shadowed.segments[i].text.find(k.as_str())?;
                let start = shadowed.segments[i].text[..at].chars().count();
                Some(original(i, start, start + k.chars().count()))
            });
            if let Some(original) = found {
                *k = original;
            }
        }
    }
    out
}

fn extract_shadowed(
    page: &Page,
    words: &Words,
    options: &Options,
    mtime: time::Date,
) -> PageExtraction {
    let mut reference = date::reference(
        page.articles.iter().filter_map(|a| a.dateline.as_deref()),
        options.reference_date,
        mtime,
    );
    // A dateline's year comes first, then the document's own published date.
    if let (Some(date), false) = (
        page.published,
        reference.source == date::ResolvedFrom::Dateline,
    ) {
        reference = date::Reference {
            date,
            source: date::ResolvedFrom::Published,
        };
    }
    let credited: Vec<&[String]> = page
        .segments
        .iter()
        .map(|s| {
            s.article
                .and_then(|a| page.articles.get(a))
                .map_or(&[][..], |a| a.authors.as_slice())
        })
        .collect();
    // Which articles rank keywords from the tags of their body (the others rank the joined
    // text themselves), and which segments are their body.
    let in_body = |s: &crate::text::Segment| {
        matches!(
            s.kind,
            SegmentKind::Title
                | SegmentKind::Subheading
                | SegmentKind::Paragraph
                | SegmentKind::ListItem
        )
    };
    let body_of = |a: &crate::text::Article| -> Vec<usize> {
        let first = a.segments.0;
        page.segments
            .get(a.segments.0..=a.segments.1)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, s)| in_body(s))
            .map(|(k, _)| first + k)
            .collect()
    };
    let text = |i: usize| page.segments[i].text.as_str();
    let bodies: Vec<Vec<usize>> = page.articles.iter().map(body_of).collect();
    let wanted: Vec<bool> = bodies
        .iter()
        .map(|body| options.keywords > 0 && !body.iter().all(|&i| text(i).trim().is_empty()))
        .collect();
    // jieba reads "\r\n" as one token: a text ending in '\r' would change the tokens of the
    // joined body.
    let reusable: Vec<bool> = bodies
        .iter()
        .map(|body| {
            options.keyword_method == KeywordMethod::Textrank
                && !body.iter().rev().skip(1).any(|&i| text(i).ends_with('\r'))
        })
        .collect();
    let mut ranked: Vec<keywords::TextRankInput> = page
        .articles
        .iter()
        .map(|_| keywords::TextRankInput::default())
        .collect();
    let mut body_article: Vec<Option<usize>> = vec![None; page.segments.len()];
    for (a, body) in bodies.iter().enumerate() {
        if wanted[a] && reusable[a] {
            for &i in body {
                body_article[i] = Some(a);
            }
        }
    }
    // One tagging per segment, for entities and keywords both; its tags are dropped once both
    // have taken what they need, so a page never holds every segment's tags at once. A long
    // segment is tagged a piece (of whole sentences) at a time, so no text holds the tags of
    // more than a piece either.
    let found: Vec<entity::Found> = page
        .segments
        .iter()
        .zip(&credited)
        .enumerate()
        .map(|(i, (s, credited))| {
            let mut found: Option<entity::Found> = None;
            for (k, (offset, piece)) in pieces(s).into_iter().enumerate() {
                let tags = entity::tag(words, piece);
                if let Some(a) = body_article[i] {
                    if k == 0 {
                        ranked[a].push(&tags);
                    } else {
                        ranked[a].push_more(&tags);
                    }
                }
                let language = if options.entity_models {
                    entity::model::Language::of(s.language)
                } else {
                    entity::model::Language::Other
                };
                let next = entity::find_tagged_in(piece, &tags, credited, language);
                found = Some(match found {
                    None => next,
                    Some(f) => f.join(&s.text, next, offset),
                });
            }
            found.unwrap_or_else(|| entity::find_tagged(&s.text, &[], credited))
        })
        .collect();
    let entities = entity::resolve_page(found, false);
    let segments = page
        .segments
        .iter()
        .zip(entities)
        .map(|(s, entities)| {
            // Code is never read for facts.
            if s.kind == SegmentKind::Code {
                return SegmentExtraction::default();
            }
            SegmentExtraction {
                figures: figure::figures(&s.text),
                dates: date::dates(&s.text, &reference),
                entities,
            }
        })
        .collect();
    let keywords = ranked
        .into_iter()
        .enumerate()
        .map(|(a, input)| {
            if !wanted[a] {
                Vec::new()
            } else if reusable[a] {
                input.keywords(options.keywords)
            } else {
                let joined: Vec<&str> = bodies[a].iter().map(|&i| text(i)).collect();
                keywords::keywords(
                    &joined.join("\n"),
                    words,
                    options.keywords,
                    options.keyword_method,
                )
            }
        })
        .collect();
    PageExtraction {
        segments,
        keywords,
        reference,
    }
}

/// Longest piece of a segment tagged at once, in chars (every news paragraph fits).
const PIECE_CHARS: usize = 16_384;

/// A segment's text in pieces of whole sentences of at most [`PIECE_CHARS`] (a longer sentence
/// is cut at a space, or at the limit): (char offset, piece). One piece for an ordinary segment.
fn pieces(s: &crate::text::Segment) -> Vec<(usize, &str)> {
    let text = s.text.as_str();
    if text.len() <= PIECE_CHARS {
        return vec![(0, text)];
    }
    // Byte offset of each char, and the end.
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = bytes.len() - 1;
    let starts: Vec<usize> = s.sentences.iter().map(|&(start, _)| start).collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars {
        let limit = at + PIECE_CHARS;
        let end = if limit >= chars {
            chars
        } else {
            // The last sentence start within the limit; else the last space; else the limit.
            let k = starts.partition_point(|&x| x <= limit);
            match starts[..k].last() {
                Some(&start) if start > at => start,
                _ => (at + 1..limit)
                    .rev()
                    .find(|&i| text[bytes[i]..].starts_with(char::is_whitespace))
                    .unwrap_or(limit),
            }
        };
        out.push((at, &text[bytes[at]..bytes[end]]));
        at = end;
    }
    out
}

impl PageExtraction {
    /// Counts for the document event: totals and one per kind (`figures_money`,
    /// `entities_person`…).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut c = BTreeMap::new();
        for kind in [
            FigureKind::Money,
            FigureKind::Percent,
            FigureKind::PercentPoint,
            FigureKind::Quantity,
        ] {
            c.insert(format!("figures_{}", kind.name()), 0);
        }
        for kind in [
            EntityType::Person,
            EntityType::Organization,
            EntityType::Place,
        ] {
            c.insert(format!("entities_{}", kind.name()), 0);
        }
        let (mut figures, mut dates, mut entities) = (0, 0, 0);
        for s in &self.segments {
            figures += s.figures.len();
            dates += s.dates.len();
            entities += s.entities.len();
            for f in &s.figures {
                *c.entry(format!("figures_{}", f.kind.name())).or_default() += 1;
            }
            for e in &s.entities {
                *c.entry(format!("entities_{}", e.kind.name())).or_default() += 1;
            }
        }
        c.insert("figures".into(), figures);
        c.insert("dates".into(), dates);
        c.insert("entities".into(), entities);
        c
    }

    /// The reference date as the document event reports it.
    pub fn reference_json(&self) -> Value {
        json!({
            "date": format!("{:04}-{:02}-{:02}", self.reference.date.year(), u8::from(self.reference.date.month()), self.reference.date.day()),
            "resolved_from": self.reference.source,
        })
    }
}
