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
use std::sync::{LazyLock, RwLock};

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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reference_date: None,
            keywords: 8,
            keyword_method: KeywordMethod::Textrank,
        }
    }
}

// Process-wide, like the word settings: each pipeline run sets them from its configuration
// before work starts; `process` reads them inside its blocking task.
static OPTIONS: LazyLock<RwLock<Options>> = LazyLock::new(|| RwLock::new(Options::default()));

/// Sets the extraction options for this process (from `extract.*`).
pub fn set_options(options: Options) {
    if let Ok(mut o) = OPTIONS.write() {
        *o = options;
    }
}

/// The extraction options in force.
pub fn options() -> Options {
    OPTIONS.read().map(|o| *o).unwrap_or_default()
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
pub fn extract_page(
    page: &Page,
    words: &Words,
    options: &Options,
    mtime: time::Date,
) -> PageExtraction {
    let reference = date::reference(
        page.articles.iter().filter_map(|a| a.dateline.as_deref()),
        options.reference_date,
        mtime,
    );
    let credited: Vec<&[String]> = page
        .segments
        .iter()
        .map(|s| {
            s.article
                .and_then(|a| page.articles.get(a))
                .map_or(&[][..], |a| a.authors.as_slice())
        })
        .collect();
    let texts: Vec<(&str, &[String])> = page
        .segments
        .iter()
        .zip(&credited)
        .map(|(s, c)| (s.text.as_str(), *c))
        .collect();
    // One tagging per segment, for entities and keywords both.
    let tags: Vec<Vec<jieba_rs::Tag>> = page
        .segments
        .iter()
        .map(|s| entity::tag(words, &s.text))
        .collect();
    let entities = entity::page_entities_tagged(&texts, &tags, false);
    let segments = page
        .segments
        .iter()
        .zip(entities)
        .map(|(s, entities)| SegmentExtraction {
            figures: figure::figures(&s.text),
            dates: date::dates(&s.text, &reference),
            entities,
        })
        .collect();
    let keywords = page
        .articles
        .iter()
        .map(|a| {
            let body: Vec<usize> = page
                .segments
                .get(a.segments.0..=a.segments.1)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    matches!(
                        s.kind,
                        SegmentKind::Title | SegmentKind::Subheading | SegmentKind::Paragraph
                    )
                })
                .map(|(k, _)| a.segments.0 + k)
                .collect();
            let text = |i: usize| page.segments[i].text.as_str();
            if options.keywords == 0 || body.iter().all(|&i| text(i).trim().is_empty()) {
                return Vec::new();
            }
            // jieba reads "\r\n" as one token: a text ending in '\r' would change the tokens
            // of the joined body.
            let reusable = options.keyword_method == KeywordMethod::Textrank
                && !body.iter().rev().skip(1).any(|&i| text(i).ends_with('\r'));
            if reusable {
                let tagged: Vec<&[jieba_rs::Tag]> = body.iter().map(|&i| &tags[i][..]).collect();
                keywords::textrank_tagged(&tagged, options.keywords)
            } else {
                let joined: Vec<&str> = body.iter().map(|&i| text(i)).collect();
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
