//! HTML and XHTML pages: decoded with sluice's own encoding detection, parsed by html5ever (the
//! `scraper` crate's tree), their main content found and read into blocks, their metadata
//! taken from `<meta>`, Open Graph and JSON-LD.
//!
//! Main content is found the way Readability and trafilatura find it, with thresholds that
//! count a Han character as three Latin ones (a Chinese paragraph of a dozen characters says
//! as much as an English one of forty letters, and Readability's 25-character floor drops it):
//! 1. Boilerplate subtrees are never looked at: scripts, styles, forms, `nav`, `aside`,
//!    `footer`, ARIA landmarks that are not the main one, hidden elements, and elements whose
//!    class or id names navigation, sharing, comments, related or recommended lists, ads,
//!    sidebars, breadcrumbs or copyright lines.
//! 2. Every paragraph (a `p`, `pre` or `td`, or a container's own text between its block
//!    children) of at least [`MIN_PARAGRAPH`] units scores `1 + commas + min(units / 100, 3)`
//!    for its parent, half that for its grandparent and a sixth for the one above; a container
//!    starts from a bonus by its tag and by words in its class and id (`content`, `article`,
//!    `正文`…), and its score is scaled by one minus its link density.
//! 3. The best container is the content, with those of its siblings that score at least a
//!    fifth of it, or that are paragraphs of plain prose.
//! 4. The content is walked in order: headings, paragraphs (split at `<br>`), list items,
//!    tables (a row per line), captions and code become blocks; lists and paragraphs that are
//!    mostly links, and short lines that only ask to share, print or read more, are dropped.
//!    The page's headline (its `h1`, or the heading its `<title>` repeats) opens the blocks when
//!    the content does not hold it.

use std::sync::LazyLock;

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use encoding_rs::Encoding;
use regex::Regex;
use rustc_hash::FxHashMap;
use scraper::{Html, Node};
use serde_json::Value;

use super::{collapse, Body, Limits, Meta, Read, ReadFailure};
use crate::event::FailKind;
use crate::text::{Block, BlockKind, Source};

/// Units (a Han character 3, any other non-space character 1) below which text is not a
/// paragraph for scoring.
pub const MIN_PARAGRAPH: f32 = 25.0;

/// Reads an HTML page.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let (text, encoding) = decode(bytes)?;
    check_depth(&text, limits.max_html_depth)?;
    let doc = Html::parse_document(&text);
    let meta = metadata(&doc);
    let blocks = main_blocks(&doc, &meta);
    Ok(Read {
        body: Body::Blocks(blocks),
        encoding,
        meta,
    })
}

/// The blocks of a whole XHTML document (an EPUB chapter, `part` its name in the book): no
/// main-content search (a chapter is all content), the same boilerplate rules.
pub fn chapter(text: &str, part: &str, limits: &Limits) -> Result<(Vec<Block>, Meta), ReadFailure> {
    check_depth(text, limits.max_html_depth)?;
    let doc = Html::parse_document(text);
    let meta = metadata(&doc);
    let info = measure(&doc);
    let body = body_of(&doc);
    let mut e = Emitter::new(&info, Some(part));
    e.walk(body);
    Ok((e.blocks, meta))
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// The page's text and the encoding it was in (see [`decode`]), for tools that compare
/// extractors on the same text.
pub fn decode_page(bytes: &[u8]) -> Result<(String, String), ReadFailure> {
    decode(bytes)
}

/// The page's text and the encoding it was in: a byte-order mark; else each charset its
/// `<meta>` tags declare (in the first 4 KiB), the first that decodes the page without an
/// error; else sluice's own detection, as for text. A page that declares UTF-8 but is in GBK
/// (they exist) is read as GBK.
fn decode(bytes: &[u8]) -> Result<(String, String), ReadFailure> {
    if Encoding::for_bom(bytes).is_none() {
        for label in declared_charsets(bytes) {
            let Some(enc) = Encoding::for_label(label.as_bytes()) else {
                continue;
            };
            // A page cannot be UTF-16 by its own ASCII declaration.
            if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                continue;
            }
            if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
                return Ok((text.into_owned(), enc.name().to_ascii_lowercase()));
            }
        }
    }
    let decoded = crate::text::decode::decode(bytes)?;
    Ok((decoded.text, decoded.encoding))
}

static CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_\-:.]+)"#).expect("charset pattern")
});

/// The charsets declared by `<meta charset>` and `<meta http-equiv content="…; charset=…">`
/// in the page's first 4 KiB, in order.
fn declared_charsets(bytes: &[u8]) -> Vec<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(head) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return Vec::new();
    };
    CHARSET
        .captures_iter(head)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_ascii_lowercase()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Nesting bound

/// Elements that close themselves or are closed by the next of their kind: they never nest a
/// page deeper, written closed or not.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "rb", "rt", "rp", "html", "head", "body",
];

/// Elements whose content is raw text (a `<` inside is no tag).
const RAW: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "noscript",
    "plaintext",
];

/// Fails a page whose tags nest deeper than `max` (counted over the markup in one pass, before
/// any parsing: a tree builder takes time in proportion to depth at every tag).
pub fn check_depth(text: &str, max: u32) -> Result<(), ReadFailure> {
    let b = text.as_bytes();
    let (mut i, mut depth, mut deepest) = (0usize, 0u32, 0u32);
    let find = |from: usize, pat: &[u8]| -> usize {
        b[from.min(b.len())..]
            .windows(pat.len())
            .position(|w| w.eq_ignore_ascii_case(pat))
            .map_or(b.len(), |p| from + p)
    };
    while i < b.len() {
        let Some(p) = memchr(b'<', &b[i..]) else {
            break;
        };
        i += p + 1;
        if b[i..].starts_with(b"!--") {
            i = find(i + 3, b"-->") + 3;
            continue;
        }
        if matches!(b.get(i), Some(b'!' | b'?')) {
            i = find(i, b">") + 1;
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'-' || b[end] == b':')
        {
            end += 1;
        }
        if end == start {
            continue;
        }
        let name = text[start..end].to_ascii_lowercase();
        let close = find(end, b">");
        let self_closed = close > 0 && close < b.len() && b[close - 1] == b'/';
        i = close + 1;
        if FLAT.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        if RAW.contains(&name.as_str()) && !self_closed {
            let end_tag = format!("</{name}");
            i = find(i, end_tag.as_bytes());
            continue;
        }
        if !self_closed {
            depth += 1;
            deepest = deepest.max(depth);
            if deepest > max {
                return Err(ReadFailure::new(
                    FailKind::MalformedDocument,
                    format!(
                        "an HTML page whose elements nest deeper than formats.max_html_depth \
                         ({max}); raise the setting if such pages are expected"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

// ---------------------------------------------------------------------------------------------
// Metadata

/// What the page says about itself. JSON-LD comes first, then Open Graph and other `<meta>`
/// names, then `<title>` and `<html lang>`.
pub fn metadata(doc: &Html) -> Meta {
    let mut meta = Meta::default();
    let mut og_title = None;
    let mut title_tag = None;
    let mut published: Vec<(u8, String)> = Vec::new();
    for node in doc.tree.root().descendants() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        match el.name() {
            "html" => meta.language = el.attr("lang").or(el.attr("xml:lang")).map(str::to_string),
            "title" if title_tag.is_none() => title_tag = Some(text_of(node)),
            "time" => {
                let pub_marked = el
                    .attr("itemprop")
                    .is_some_and(|p| p.eq_ignore_ascii_case("datePublished"))
                    || el.attr("pubdate").is_some()
                    || el.attr("class").is_some_and(|c| c.contains("pubdate"));
                if pub_marked {
                    if let Some(d) = el.attr("datetime") {
                        published.push((2, d.to_string()));
                    }
                }
            }
            "script"
                if el
                    .attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) =>
            {
                if let Ok(v) = serde_json::from_str::<Value>(&text_of(node)) {
                    json_ld(&v, &mut meta, &mut published, 0);
                }
            }
            "meta" => {
                let key = el
                    .attr("property")
                    .or(el.attr("name"))
                    .or(el.attr("itemprop"))
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let Some(content) = el.attr("content").map(str::trim).filter(|c| !c.is_empty())
                else {
                    continue;
                };
                match key.as_str() {
                    "og:title" | "twitter:title" => {
                        og_title.get_or_insert_with(|| content.to_string());
                    }
                    "og:site_name" | "application-name" => {
                        meta.site.get_or_insert_with(|| content.to_string());
                    }
                    "author" | "article:author" | "byl" | "dc.creator" | "sailthru.author"
                        if !content.starts_with("http") =>
                    {
                        meta.authors.extend(split_names(content));
                    }
                    "article:published_time" | "og:published_time" | "datepublished" => {
                        published.push((1, content.to_string()))
                    }
                    "pubdate" | "publishdate" | "publish-date" | "publish_date" | "ptime"
                    | "dc.date" | "dc.date.issued" | "sailthru.date" | "parsely-pub-date"
                    | "date" | "og:release_date" => published.push((3, content.to_string())),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if meta.title.is_none() {
        meta.title = og_title.or_else(|| title_tag.map(|t| strip_site(&t, meta.site.as_deref())));
    }
    published.sort_by_key(|(rank, _)| *rank);
    if meta.published.is_none() {
        meta.published = published
            .into_iter()
            .map(|(_, d)| d)
            .find(|d| super::parse_date(d).is_some());
    }
    meta
}

/// JSON-LD: the first article-like object gives headline, authors, date and publisher.
fn json_ld(v: &Value, meta: &mut Meta, published: &mut Vec<(u8, String)>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                json_ld(item, meta, published, depth + 1);
            }
        }
        Value::Object(o) => {
            if let Some(graph) = o.get("@graph") {
                json_ld(graph, meta, published, depth + 1);
            }
            let types: Vec<&str> = match o.get("@type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let article = types.iter().any(|t| {
                t.ends_with("Article")
                    || matches!(
                        *t,
                        "BlogPosting" | "Report" | "ReportageNews" | "LiveBlogPosting"
                    )
            });
            if !article {
                return;
            }
            if let Some(h) = o.get("headline").and_then(Value::as_str) {
                meta.title.get_or_insert_with(|| h.to_string());
            }
            if let Some(d) = o.get("datePublished").and_then(Value::as_str) {
                published.push((0, d.to_string()));
            }
            if meta.authors.is_empty() {
                meta.authors.extend(ld_names(o.get("author")));
            }
            if let Some(p) = o.get("publisher") {
                if let Some(name) = ld_names(Some(p)).into_iter().next() {
                    meta.site.get_or_insert(name);
                }
            }
        }
        _ => {}
    }
}

fn ld_names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => split_names(s),
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .map(split_names)
            .unwrap_or_default(),
        Some(Value::Array(a)) => a.iter().flat_map(|x| ld_names(Some(x))).collect(),
        _ => Vec::new(),
    }
}

fn split_names(s: &str) -> Vec<String> {
    s.split([',', ';', '、', '，', '；', '|'])
        .map(|n| {
            n.trim()
                .trim_start_matches("By ")
                .trim_start_matches("by ")
                .trim()
                .to_string()
        })
        // A name has letters (a CMS writes a user number there at times).
        .filter(|n| n.chars().any(char::is_alphabetic) && n.chars().count() <= 40)
        .collect()
}

/// `<title>` without the site's name after a separator (`标题_新浪网`, `Title - Site`).
fn strip_site(title: &str, site: Option<&str>) -> String {
    let title = collapse(title);
    for sep in [" - ", " | ", "_", " – ", " — ", "－", "|"] {
        if let Some((head, tail)) = title.rsplit_once(sep) {
            let named = site.is_some_and(|s| tail.contains(s) || s.contains(tail.trim()));
            if named && !head.trim().is_empty() {
                return head.trim().to_string();
            }
        }
    }
    title
}

/// The text under `node`, scripts, styles and the like left out.
fn text_of(node: NodeRef<'_, Node>) -> String {
    let mut s = String::new();
    let mut skipping = Skipper::default();
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) => {
                if skipping.opening() {
                    continue;
                }
                match n.value() {
                    Node::Text(t) => s.push_str(t),
                    Node::Element(e) if RAW_TEXT.contains(&e.name()) && n.id() != node.id() => {
                        skipping.skip(n.id())
                    }
                    _ => {}
                }
            }
            Edge::Close(n) => {
                skipping.closing(n.id());
            }
        }
    }
    s
}

/// Elements whose text is never read.
const RAW_TEXT: &[&str] = &["script", "style", "noscript", "template", "svg", "iframe"];

// ---------------------------------------------------------------------------------------------
// Walking a tree past the subtrees left out

/// Which subtree a traversal is skipping: it is entered by [`Skipper::skip`] at its root's
/// opening edge and left at that root's closing edge.
#[derive(Default)]
struct Skipper(Option<NodeId>);

impl Skipper {
    /// Whether this opening edge lies in a skipped subtree.
    fn opening(&self) -> bool {
        self.0.is_some()
    }

    fn skip(&mut self, id: NodeId) {
        self.0 = Some(id);
    }

    /// Whether this closing edge lies in (or ends) a skipped subtree.
    fn closing(&mut self, id: NodeId) -> bool {
        match self.0 {
            Some(s) => {
                if s == id {
                    self.0 = None;
                }
                true
            }
            None => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring: text, links and commas per element, bottom-up in one pass

/// What one element holds (its skipped subtrees left out).
#[derive(Debug, Clone, Copy, Default)]
struct Info {
    units: f32,
    links: f32,
    commas: u32,
    /// Units of its own text: not inside a block-level child.
    own: f32,
    /// Its place among its parent's children of its name, from 1.
    nth: u32,
    /// It holds block-level elements (a table that does is for layout).
    has_blocks: bool,
}

struct Measured {
    info: FxHashMap<NodeId, Info>,
}

impl Measured {
    fn get(&self, id: NodeId) -> Info {
        self.info.get(&id).copied().unwrap_or_default()
    }

    fn density(&self, id: NodeId) -> f32 {
        let i = self.get(id);
        if i.units <= 0.0 {
            0.0
        } else {
            (i.links / i.units).min(1.0)
        }
    }
}

fn units(text: &str) -> (f32, u32) {
    let (mut u, mut commas) = (0f32, 0u32);
    for c in text.chars() {
        if crate::text::script::is_han(c) {
            u += 3.0;
        } else if !c.is_whitespace() {
            u += 1.0;
        }
        if matches!(c, ',' | '，' | '、' | '；' | ';') {
            commas += 1;
        }
    }
    (u, commas)
}

const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "td",
    "th",
    "ul",
    "caption",
    "br",
];

fn is_block(name: &str) -> bool {
    BLOCK.contains(&name)
}

fn measure(doc: &Html) -> Measured {
    // Once with only what is surely boilerplate left out, to know the page's text; then with
    // what is named like boilerplate left out too, unless it holds half of that text.
    let first = measure_with(doc, &|n| boilerplate(n) == Cut::Hard);
    let page = first.get(body_of(doc).id()).units;
    measure_with(doc, &|n| match boilerplate(n) {
        Cut::Hard => true,
        Cut::Soft => first.get(n.id()).units < page * 0.5,
        Cut::Keep => false,
    })
}

fn measure_with(doc: &Html, left_out: &dyn Fn(NodeRef<'_, Node>) -> bool) -> Measured {
    struct Acc {
        id: NodeId,
        info: Info,
        names: FxHashMap<String, u32>,
    }
    let mut info: FxHashMap<NodeId, Info> = FxHashMap::default();
    let mut stack: Vec<Acc> = Vec::new();
    let mut skipping = Skipper::default();
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.opening() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        if left_out(node) {
                            skipping.skip(node.id());
                            continue;
                        }
                        let nth = stack.last_mut().map_or(1, |p| {
                            let n = p.names.entry(el.name().to_string()).or_insert(0);
                            *n += 1;
                            *n
                        });
                        stack.push(Acc {
                            id: node.id(),
                            info: Info {
                                nth,
                                ..Info::default()
                            },
                            names: FxHashMap::default(),
                        });
                    }
                    Node::Text(t) => {
                        if let Some(top) = stack.last_mut() {
                            let (u, c) = units(t);
                            top.info.units += u;
                            top.info.own += u;
                            top.info.commas += c;
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping.closing(node.id()) {
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let Some(mut acc) = stack.pop() else {
                    continue;
                };
                debug_assert_eq!(acc.id, node.id());
                let name = el.name();
                if name == "a" {
                    acc.info.links = acc.info.units;
                }
                if let Some(parent) = stack.last_mut() {
                    parent.info.units += acc.info.units;
                    parent.info.links += acc.info.links;
                    parent.info.commas += acc.info.commas;
                    if !is_block(name) {
                        parent.info.own += acc.info.own;
                    }
                    // A table holding these is for layout; its own rows and cells are not.
                    if is_block(name)
                        && !matches!(
                            name,
                            "tr" | "td" | "th" | "tbody" | "thead" | "tfoot" | "caption" | "br"
                        )
                    {
                        parent.info.has_blocks = true;
                    }
                    parent.info.has_blocks |= acc.info.has_blocks;
                }
                info.insert(acc.id, acc.info);
            }
        }
    }
    Measured { info }
}

// ---------------------------------------------------------------------------------------------
// Boilerplate

/// Tags whose subtrees are never content.
const NEVER: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button",
    "input", "select", "textarea", "nav", "aside", "footer", "menu", "object", "embed", "audio",
    "video", "head", "link", "meta", "map", "dialog",
];

static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[-_\s])(?:nav|navbar|navigation|menu|menus|footer|foot|breadcrumbs?|crumbs?|sidebar|side|sidenav|share|sharing|social|comments?|cmt|reply|replies|related|relate|recommend|recommends|rec|hot|hotnews|rank|ranking|ad|ads|advert|advertisement|adsbygoogle|banner|sponsor|sponsored|promo|subscribe|newsletter|login|signin|copyright|pagination|pager|tags?|toolbar|widget|popup|modal|cookie|disclaimer|skip|masthead|topbar|bottom|more-news|most-read|popular|trending|jump)(?:$|[-_\s\d])",
    )
    .expect("negative class pattern")
});

static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:article|content|main|body|text|post|entry|story|detail|news[-_]?text|正文|内容|artibody|zoom)",
    )
    .expect("positive class pattern")
});

/// Roles of landmarks that are not the page's content.
const ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alert",
];

/// How sure it is that an element's subtree is not content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Never content: scripts, styles, `nav`, `aside`, `footer`, hidden elements, landmarks
    /// that are not the main one.
    Hard,
    /// Named like boilerplate (its class or id, a `header` without the headline, a `form`):
    /// left out unless it holds at least half the page's text, for then it wraps the page (an
    /// ASP.NET `form`, a `div class="…-nav"` around everything).
    Soft,
    Keep,
}

fn boilerplate(node: NodeRef<'_, Node>) -> Cut {
    let Node::Element(el) = node.value() else {
        return Cut::Keep;
    };
    let name = el.name();
    if name == "form" {
        return Cut::Soft;
    }
    if NEVER.contains(&name) {
        return Cut::Hard;
    }
    if el.attr("hidden").is_some()
        || el.attr("aria-hidden").is_some_and(|v| v == "true")
        || el.attr("style").is_some_and(|s| {
            let s = s.to_ascii_lowercase().replace(' ', "");
            s.contains("display:none") || s.contains("visibility:hidden")
        })
        || el
            .attr("role")
            .is_some_and(|r| ROLES.contains(&r.to_ascii_lowercase().as_str()))
    {
        return Cut::Hard;
    }
    if matches!(name, "html" | "body" | "main" | "article" | "h1") {
        return Cut::Keep;
    }
    // A page's header holds its headline at times: only a header without one is boilerplate.
    if name == "header" {
        let headline = node
            .descendants()
            .any(|d| matches!(d.value(), Node::Element(e) if e.name() == "h1"));
        return if headline { Cut::Keep } else { Cut::Soft };
    }
    let words = format!(
        "{} {}",
        el.attr("class").unwrap_or_default(),
        el.id().unwrap_or_default()
    );
    if NEGATIVE.is_match(&words) && !POSITIVE_STRONG.is_match(&words) {
        Cut::Soft
    } else {
        Cut::Keep
    }
}

/// Class words that keep an element even when a negative word is beside them
/// (`article-body tags-inline` is still the body).
static POSITIVE_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:article[-_]?(?:body|content|text)|post[-_]?(?:body|content)|entry[-_]?content|main[-_]?content|正文)")
        .expect("strong positive pattern")
});

// ---------------------------------------------------------------------------------------------
// Scoring

fn element_name<'a>(node: &NodeRef<'a, Node>) -> Option<&'a str> {
    match node.value() {
        Node::Element(e) => Some(e.name()),
        _ => None,
    }
}

fn tag_bonus(node: &NodeRef<'_, Node>) -> f32 {
    let Node::Element(el) = node.value() else {
        return 0.0;
    };
    let by_tag = match el.name() {
        "article" => 10.0,
        "main" => 8.0,
        "div" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" | "header" => -5.0,
        _ => 0.0,
    };
    let words = format!(
        "{} {}",
        el.attr("class").unwrap_or_default(),
        el.id().unwrap_or_default()
    );
    let by_class = if POSITIVE.is_match(&words) { 25.0 } else { 0.0 };
    by_tag + by_class
}

/// The content's root elements, in document order.
fn content_roots<'a>(doc: &'a Html, m: &Measured) -> Vec<NodeRef<'a, Node>> {
    let mut scores: FxHashMap<NodeId, f32> = FxHashMap::default();
    let add = |node: NodeRef<'a, Node>, s: f32, scores: &mut FxHashMap<NodeId, f32>| {
        if element_name(&node).is_none() || !m.info.contains_key(&node.id()) {
            return;
        }
        let e = scores.entry(node.id()).or_insert_with(|| tag_bonus(&node));
        *e += s;
    };
    for node in doc.tree.root().descendants() {
        let Some(name) = element_name(&node) else {
            continue;
        };
        let Some(info) = m.info.get(&node.id()) else {
            continue;
        };
        let paragraph = matches!(name, "p" | "pre" | "td");
        let own_text = !paragraph
            && info.own >= MIN_PARAGRAPH
            && matches!(
                name,
                "div"
                    | "section"
                    | "article"
                    | "main"
                    | "td"
                    | "font"
                    | "span"
                    | "center"
                    | "blockquote"
            );
        let text = if paragraph { info.units } else { info.own };
        if !(paragraph || own_text) || text < MIN_PARAGRAPH {
            continue;
        }
        let s = 1.0 + info.commas as f32 + (text / 100.0).min(3.0);
        let mut level = 0usize;
        let mut next = if own_text { Some(node) } else { node.parent() };
        while let Some(a) = next {
            if level > 2 {
                break;
            }
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                _ => 6.0,
            };
            add(a, s / div, &mut scores);
            level += 1;
            next = a.parent();
        }
    }
    let best = scores
        .iter()
        .map(|(id, s)| (*id, s * (1.0 - m.density(*id))))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    let Some((top_id, top)) = best else {
        return vec![body_of(doc)];
    };
    let Some(top_node) = doc.tree.get(top_id) else {
        return vec![body_of(doc)];
    };
    let Some(parent) = top_node.parent() else {
        return vec![top_node];
    };
    let threshold = (top * 0.2).max(10.0);
    parent
        .children()
        .filter(|s| {
            if s.id() == top_id {
                return true;
            }
            let Some(name) = element_name(s) else {
                return false;
            };
            if !m.info.contains_key(&s.id()) {
                return false;
            }
            let score = scores
                .get(&s.id())
                .map_or(0.0, |v| v * (1.0 - m.density(s.id())));
            // A sibling holding little text is a date or source line, not more of the body.
            if score >= threshold && m.get(s.id()).units >= 80.0 {
                return true;
            }
            if name == "p" {
                let info = m.get(s.id());
                let density = m.density(s.id());
                return (info.units >= 80.0 && density < 0.25)
                    || (info.units > 0.0 && density == 0.0 && ends_sentence(&text_of(*s)));
            }
            false
        })
        .collect()
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['。', '！', '？', '.', '!', '?', '”', '"'])
}

fn body_of(doc: &Html) -> NodeRef<'_, Node> {
    doc.tree
        .root()
        .descendants()
        .find(|n| element_name(n) == Some("body"))
        .unwrap_or_else(|| doc.tree.root())
}

// ---------------------------------------------------------------------------------------------
// Emitting blocks

static CAPTION_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:caption|pic[-_]?info|img[-_]?(?:desc|info|txt|title)|photo[-_]?(?:desc|credit|caption)|credit|figure[-_]?text|wp-caption-text)")
        .expect("caption class pattern")
});

/// Short lines that only ask the reader to do something with the page.
static ASKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:分享到|分享|扫一扫|扫描二维码|打印本页|打印|关闭窗口|返回顶部|返回首页|返回|上一篇|下一篇|相关阅读|相关新闻|相关文章|推荐阅读|热门推荐|延伸阅读|更多|点击查看|点击进入|收藏|举报|纠错|字号|share|tweet|print|email|advertisement|related|read more|see more|sign up|subscribe|follow us|copyright|©|all rights reserved)")
        .expect("asks pattern")
});

struct Ctx {
    kind: BlockKind,
    node: NodeId,
}

struct Emitter<'m> {
    m: &'m Measured,
    part: Option<&'m str>,
    blocks: Vec<Block>,
    ctx: Vec<Ctx>,
    text: String,
    links: f32,
    /// Depth of `a` elements around the text being read.
    in_link: usize,
    /// Inside `pre`: whitespace is kept.
    pre: usize,
    paths: FxHashMap<NodeId, String>,
    doc_root: Option<NodeId>,
}

impl<'m> Emitter<'m> {
    fn new(m: &'m Measured, part: Option<&'m str>) -> Self {
        Emitter {
            m,
            part,
            blocks: Vec::new(),
            ctx: Vec::new(),
            text: String::new(),
            links: 0.0,
            in_link: 0,
            pre: 0,
            paths: FxHashMap::default(),
            doc_root: None,
        }
    }

    fn path(&mut self, node: NodeRef<'_, Node>) -> String {
        if let Some(p) = self.paths.get(&node.id()) {
            return p.clone();
        }
        let mut parts = Vec::new();
        let mut cur = Some(node);
        while let Some(n) = cur {
            if let Some(name) = element_name(&n) {
                parts.push(format!("{name}[{}]", self.m.get(n.id()).nth.max(1)));
            }
            cur = n.parent();
        }
        parts.reverse();
        let p = format!("/{}", parts.join("/"));
        self.paths.insert(node.id(), p.clone());
        p
    }

    fn flush(&mut self, tree: &ego_tree::Tree<Node>) {
        let raw = std::mem::take(&mut self.text);
        let links = std::mem::replace(&mut self.links, 0.0);
        let Some(ctx) = self.ctx.last() else {
            return;
        };
        let kind = ctx.kind;
        let node = ctx.node;
        let text = if kind == BlockKind::Code {
            raw.trim_matches('\n').trim_end().to_string()
        } else {
            collapse(&raw)
        };
        if text.is_empty() {
            return;
        }
        let (u, _) = units(&text);
        let dense = u > 0.0 && links / u > 0.5;
        if dense
            && matches!(
                kind,
                BlockKind::Paragraph | BlockKind::ListItem | BlockKind::Caption
            )
        {
            return;
        }
        if u < 60.0 && ASKS.is_match(&text) && kind != BlockKind::Heading(1) {
            return;
        }
        let Some(n) = tree.get(node) else {
            return;
        };
        let path = self.path(n);
        self.blocks.push(Block {
            kind,
            text,
            source: Some(Source::Element {
                part: self.part.map(str::to_string),
                path,
            }),
            opens_article: false,
        });
    }

    fn kind_of(&self, node: &NodeRef<'_, Node>, name: &str) -> Option<BlockKind> {
        let Node::Element(el) = node.value() else {
            return None;
        };
        let classes = format!(
            "{} {}",
            el.attr("class").unwrap_or_default(),
            el.id().unwrap_or_default()
        );
        Some(match name {
            "h1" => BlockKind::Heading(1),
            "h2" => BlockKind::Heading(2),
            "h3" => BlockKind::Heading(3),
            "h4" => BlockKind::Heading(4),
            "h5" => BlockKind::Heading(5),
            "h6" => BlockKind::Heading(6),
            "li" | "dt" | "dd" => BlockKind::ListItem,
            "figcaption" => BlockKind::Caption,
            "pre" => BlockKind::Code,
            _ if is_block(name) || CAPTION_CLASS.is_match(&classes) => {
                if CAPTION_CLASS.is_match(&classes) {
                    BlockKind::Caption
                } else {
                    // Inside a list item or caption, a div is still that.
                    match self.ctx.last().map(|c| c.kind) {
                        Some(k @ (BlockKind::ListItem | BlockKind::Caption)) => k,
                        _ => BlockKind::Paragraph,
                    }
                }
            }
            _ => return None,
        })
    }

    /// Emits the blocks of the subtree at `root`.
    fn walk(&mut self, root: NodeRef<'_, Node>) {
        let tree = root.tree();
        self.doc_root.get_or_insert(root.id());
        let mut skipping = Skipper::default();
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skipping.opening() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(t) => {
                            self.text.push_str(t);
                            if self.in_link > 0 {
                                self.links += units(t).0;
                            }
                        }
                        Node::Element(el) => {
                            let name = el.name();
                            if !self.m.info.contains_key(&node.id()) {
                                // A boilerplate subtree (not measured).
                                skipping.skip(node.id());
                                continue;
                            }
                            match name {
                                "br" | "hr" => {
                                    self.flush(tree);
                                    continue;
                                }
                                "a" => self.in_link += 1,
                                "ul" | "ol" | "dl" => {
                                    let items = node
                                        .children()
                                        .filter(|c| {
                                            matches!(element_name(c), Some("li" | "dt" | "dd"))
                                        })
                                        .count();
                                    if items >= 2 && self.m.density(node.id()) > 0.5 {
                                        skipping.skip(node.id());
                                        continue;
                                    }
                                }
                                "table" if !self.m.get(node.id()).has_blocks => {
                                    self.flush(tree);
                                    if self.table(node) {
                                        skipping.skip(node.id());
                                        continue;
                                    }
                                }
                                "img" => {}
                                _ => {}
                            }
                            if let Some(kind) = self.kind_of(&node, name) {
                                self.flush(tree);
                                if kind == BlockKind::Code {
                                    self.pre += 1;
                                }
                                self.ctx.push(Ctx {
                                    kind,
                                    node: node.id(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if skipping.closing(node.id()) {
                        continue;
                    }
                    let Node::Element(el) = node.value() else {
                        continue;
                    };
                    if el.name() == "a" {
                        self.in_link = self.in_link.saturating_sub(1);
                    }
                    if self.ctx.last().is_some_and(|c| c.node == node.id()) {
                        self.flush(tree);
                        if let Some(c) = self.ctx.pop() {
                            if c.kind == BlockKind::Code {
                                self.pre = self.pre.saturating_sub(1);
                            }
                        }
                    }
                }
            }
        }
        self.flush(tree);
    }

    /// A data table as one block: a row per line, ` | ` between cells (a one-cell table is a
    /// paragraph). False, and nothing emitted, for a table that lays out prose (a cell of more
    /// than [`MAX_CELL`] units): its content is walked as any other.
    fn table(&mut self, table: NodeRef<'_, Node>) -> bool {
        let mut rows: Vec<String> = Vec::new();
        let mut cells = 0usize;
        for row in table
            .descendants()
            .filter(|d| element_name(d) == Some("tr"))
        {
            let texts: Vec<String> = row
                .children()
                .filter(|c| matches!(element_name(c), Some("td" | "th")))
                .map(|c| collapse(&text_of(c)))
                .collect();
            if texts.iter().any(|t| units(t).0 > MAX_CELL) {
                return false;
            }
            if texts.iter().any(|t| !t.is_empty()) {
                cells += texts.len();
                rows.push(texts.join(" | "));
            }
        }
        if rows.is_empty() {
            return true;
        }
        let kind = if cells == 1 {
            BlockKind::Paragraph
        } else {
            BlockKind::Table
        };
        let path = self.path(table);
        self.blocks.push(Block {
            kind,
            text: rows.join("\n"),
            source: Some(Source::Element {
                part: self.part.map(str::to_string),
                path,
            }),
            opens_article: false,
        });
        true
    }
}

/// The most units a data table's cell holds; a longer cell is prose laid out by a table.
const MAX_CELL: f32 = 300.0;

/// The main content's blocks, headed by the page's headline when the content does not hold it.
fn main_blocks(doc: &Html, meta: &Meta) -> Vec<Block> {
    let m = measure(doc);
    let roots = content_roots(doc, &m);
    let mut e = Emitter::new(&m, None);
    for root in &roots {
        e.walk(*root);
    }
    let mut blocks = e.blocks;
    let has_title = blocks.iter().any(|b| b.kind == BlockKind::Heading(1));
    if !has_title {
        let mut headline = headline(doc, &m, meta.title.as_deref());
        if let Some((text, node)) = headline.take() {
            // Content that repeats the headline as its first block is headed by it already.
            if blocks.first().is_some_and(|b| b.text == text) {
                blocks[0].kind = BlockKind::Heading(1);
            } else {
                let source = node.and_then(|id| doc.tree.get(id)).map(|n| {
                    let mut e = Emitter::new(&m, None);
                    Source::Element {
                        part: None,
                        path: e.path(n),
                    }
                });
                let mut head = vec![Block {
                    kind: BlockKind::Heading(1),
                    text,
                    source,
                    opens_article: false,
                }];
                if let Some(h1) = node.and_then(|id| doc.tree.get(id)) {
                    head.extend(bylines_beside(h1, &m, &roots));
                }
                blocks.splice(0..0, head);
            }
        }
    }
    blocks
}

static BYLINE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:byline|by-line|author|writer|reporter|dateline|作者|记者)")
        .expect("byline class pattern")
});

/// The byline beside a headline that lies outside the content (in the article's header):
/// elements after it in its parent, or its parent's parent, whose class or id names a byline.
fn bylines_beside(h1: NodeRef<'_, Node>, m: &Measured, roots: &[NodeRef<'_, Node>]) -> Vec<Block> {
    let mut out = Vec::new();
    let inside_roots = |n: &NodeRef<'_, Node>| {
        roots
            .iter()
            .any(|r| r.id() == n.id() || n.ancestors().any(|a| a.id() == r.id()))
    };
    let mut scopes = Vec::new();
    if let Some(p) = h1.parent() {
        scopes.push(p);
        if let Some(pp) = p.parent() {
            scopes.push(pp);
        }
    }
    for scope in scopes {
        for n in scope.descendants() {
            let Node::Element(el) = n.value() else {
                continue;
            };
            if !m.info.contains_key(&n.id()) || inside_roots(&n) || n.id() == h1.id() {
                continue;
            }
            let words = format!(
                "{} {}",
                el.attr("class").unwrap_or_default(),
                el.id().unwrap_or_default()
            );
            let text = collapse(&text_of(n));
            if BYLINE_CLASS.is_match(&words) && !text.is_empty() && text.chars().count() <= 80 {
                let mut e = Emitter::new(m, None);
                out.push(Block {
                    kind: BlockKind::Paragraph,
                    text,
                    source: Some(Source::Element {
                        part: None,
                        path: e.path(n),
                    }),
                    opens_article: false,
                });
                return out;
            }
        }
    }
    out
}

/// The page's headline: the `h1` (or `h2`) its title repeats, else its first `h1` that is not
/// a link, else the title its metadata gives.
fn headline(doc: &Html, m: &Measured, title: Option<&str>) -> Option<(String, Option<NodeId>)> {
    let candidates: Vec<(String, NodeId, &str)> = doc
        .tree
        .root()
        .descendants()
        .filter_map(|n| {
            let name = element_name(&n)?;
            if !matches!(name, "h1" | "h2") || !m.info.contains_key(&n.id()) {
                return None;
            }
            let text = collapse(&text_of(n));
            (!text.is_empty()).then_some((text, n.id(), name))
        })
        .collect();
    if let Some(title) = title {
        let t = collapse(title);
        if let Some((text, id, _)) = candidates.iter().find(|(text, _, _)| {
            text.chars().count() >= 4 && (t.contains(text.as_str()) || text.contains(t.as_str()))
        }) {
            return Some((text.clone(), Some(*id)));
        }
    }
    if let Some((text, id, _)) = candidates
        .iter()
        .find(|(_, id, name)| *name == "h1" && m.density(*id) < 0.5)
    {
        return Some((text.clone(), Some(*id)));
    }
    title.map(|t| (collapse(t), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(html: &str) -> Read {
        read(html.as_bytes(), &Limits::default()).unwrap()
    }

    fn texts(r: &Read) -> Vec<(BlockKind, String)> {
        match &r.body {
            Body::Blocks(b) => b.iter().map(|b| (b.kind, b.text.clone())).collect(),
            Body::Lines { .. } => panic!("blocks expected"),
        }
    }

    #[test]
    fn main_content_without_boilerplate() {
        let html = r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>标题一_示例网</title>
            <meta property="og:site_name" content="示例网"><meta name="author" content="王五">
            <meta property="article:published_time" content="2024-03-30T09:00:00+08:00"></head>
            <body><div class="nav"><a href="/">首页</a><a href="/a">国内</a><a href="/b">国际</a></div>
            <div class="main"><h1>标题一</h1>
            <div class="article-content"><p>第一段讲了一件事，内容很长，足够长。</p>
            <p>第二段。</p><ul><li>要点一</li><li>要点二</li></ul>
            <figure><img src="x.jpg"><figcaption>图为现场。</figcaption></figure>
            <div class="share">分享到：微博 微信</div></div>
            <div class="related"><h3>相关新闻</h3><ul><li><a href="1">别的新闻一</a></li><li><a href="2">别的新闻二</a></li></ul></div>
            </div><div class="footer">版权所有 示例网</div><script>var x = "<p>不</p>";</script></body></html>"#;
        let r = read_str(html);
        assert_eq!(r.meta.site.as_deref(), Some("示例网"));
        assert_eq!(r.meta.title.as_deref(), Some("标题一"));
        assert_eq!(r.meta.authors, vec!["王五"]);
        assert_eq!(
            r.meta.published_date().map(|d| d.to_string()),
            Some("2024-03-30".into())
        );
        assert_eq!(r.meta.language.as_deref(), Some("zh-CN"));
        assert_eq!(
            texts(&r),
            vec![
                (BlockKind::Heading(1), "标题一".into()),
                (
                    BlockKind::Paragraph,
                    "第一段讲了一件事，内容很长，足够长。".into()
                ),
                (BlockKind::Paragraph, "第二段。".into()),
                (BlockKind::ListItem, "要点一".into()),
                (BlockKind::ListItem, "要点二".into()),
                (BlockKind::Caption, "图为现场。".into()),
            ]
        );
    }

    #[test]
    fn meta_charset_that_lies_falls_back_to_detection() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<html><head><meta charset=\"utf-8\"></head><body><p>中文内容，这是一段新闻。</p></body></html>");
        let (text, enc) = decode(&gbk).unwrap();
        assert!(text.contains("中文内容"));
        assert_eq!(enc, "gbk");
        let (gbk2, _, _) = encoding_rs::GBK.encode("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head><body><p>中文</p></body></html>");
        assert_eq!(decode(&gbk2).unwrap().1, "gbk");
    }

    #[test]
    fn depth_is_bounded_before_parsing() {
        let deep = "<div>".repeat(5000);
        let e = read(deep.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(e.kind, FailKind::MalformedDocument);
        assert!(e.message.contains("formats.max_html_depth"));
        // Thousands of unclosed paragraphs are flat, not deep.
        let flat = format!("<body>{}</body>", "<p>段落。".repeat(5000));
        assert!(read(flat.as_bytes(), &Limits::default()).is_ok());
    }

    #[test]
    fn tables_keep_rows_and_br_splits_paragraphs() {
        let html = "<html><body><div id=\"content\"><p>第一行文字比较长，用来作为正文。<br>第二行文字。</p>\
                    <table><tr><th>项目</th><th>金额</th></tr><tr><td>收入</td><td>5亿元</td></tr></table></div></body></html>";
        let r = read_str(html);
        let t = texts(&r);
        assert!(
            t.contains(&(BlockKind::Paragraph, "第二行文字。".into())),
            "{t:?}"
        );
        assert!(
            t.contains(&(BlockKind::Table, "项目 | 金额\n收入 | 5亿元".into())),
            "{t:?}"
        );
    }

    #[test]
    fn json_ld_gives_headline_authors_and_date() {
        let html = r#"<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Rates rise","datePublished":"2024-01-30T08:00:00Z","author":[{"@type":"Person","name":"Jane Roe"},{"@type":"Person","name":"John Doe"}],"publisher":{"@type":"Organization","name":"Daily"}}</script></head><body><p>Body.</p></body></html>"#;
        let r = read_str(html);
        assert_eq!(r.meta.title.as_deref(), Some("Rates rise"));
        assert_eq!(r.meta.authors, vec!["Jane Roe", "John Doe"]);
        assert_eq!(r.meta.site.as_deref(), Some("Daily"));
        assert_eq!(r.meta.published.as_deref(), Some("2024-01-30T08:00:00Z"));
    }
}
