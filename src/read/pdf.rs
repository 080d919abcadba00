//! PDF text layers in reading order.
//!
//! `pdf-extract` (over `lopdf`, pure Rust) interprets each page's content streams and gives
//! every glyph with its position, decoded through the font's ToUnicode map or its encoding
//! (CID fonts with Identity-H and a ToUnicode map, as CJK fonts are embedded, included). The
//! order a PDF stores its text in is not the order it is read in, so nothing here trusts it:
//! 1. glyphs are grouped into line pieces by baseline, and a row is cut where the gap to the
//!    next glyph is wider than [`GUTTER`] times the font size (two columns share baselines);
//! 2. the pieces of a page are ordered by a recursive XY-cut: the region is split at the widest
//!    empty band across it, vertical bands (column gutters) weighing more than horizontal ones,
//!    until no band is left; a headline spanning columns lies above a horizontal band and so
//!    comes before its columns;
//! 3. in each leaf, lines become paragraphs where the gap between lines opens, where a line is
//!    indented, or where the font size changes; a heading (larger type) stands apart;
//! 4. lines in the top and bottom margins that repeat on other pages (digits aside) or are
//!    only a page number are running headers and footers, and are dropped.
//!
//! The result is text with a blank line between paragraphs and a line break inside them, laid
//! out by the same code as plain text (which rejoins CJK lines without a space and Latin ones
//! with one); a word hyphenated at a line's end is rejoined here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::LazyLock;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use regex::Regex;

use super::{Body, Limits, Meta, Read, ReadFailure};
use crate::event::FailKind;
use crate::text::Source;

/// A gap wider than this many font sizes between two glyphs on one baseline is a gutter.
pub const GUTTER: f32 = 0.9;
/// Pages with more line pieces than this are ordered top to bottom, left to right, without
/// the XY-cut (which could take quadratic time on a hostile page).
const MAX_CUT_PIECES: usize = 20_000;

#[derive(Debug, Clone)]
struct Glyph {
    x: f32,
    /// Baseline, in PDF space (up is larger).
    y: f32,
    advance: f32,
    size: f32,
    text: String,
}

#[derive(Debug, Default)]
struct PageGlyphs {
    number: u32,
    height: f32,
    bottom: f32,
    glyphs: Vec<Glyph>,
}

#[derive(Default)]
struct Collector {
    pages: Vec<PageGlyphs>,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.pages.push(PageGlyphs {
            number: page_num,
            height: (media_box.ury - media_box.lly) as f32,
            bottom: media_box.lly as f32,
            glyphs: Vec::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let size = (font_size * scale) as f32;
        let Some(page) = self.pages.last_mut() else {
            return Ok(());
        };
        // Control characters are no text (a broken font maps codes to NULs).
        let char: String = char.chars().filter(|c| !c.is_control()).collect();
        if !size.is_finite() || size <= 0.0 || char.is_empty() {
            return Ok(());
        }
        page.glyphs.push(Glyph {
            x: trm.m31 as f32,
            y: trm.m32 as f32,
            advance: (width * font_size * scale) as f32,
            size,
            // A space the PDF draws is kept as a marker (its width may be anything).
            text: if char.trim().is_empty() {
                " ".into()
            } else {
                char.to_string()
            },
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Reads a PDF's text layer.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| {
        let why = e.to_string();
        if why.to_ascii_lowercase().contains("decrypt") || why.to_ascii_lowercase().contains("password") {
            ReadFailure::new(
                FailKind::UnsupportedFormat,
                format!("an encrypted PDF that opens only with a password ({why}): sluice reads no encrypted documents"),
            )
        } else {
            ReadFailure::new(FailKind::MalformedDocument, format!("a PDF that cannot be parsed: {why}"))
        }
    })?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(ReadFailure::new(
            FailKind::UnsupportedFormat,
            "an encrypted PDF that opens only with a password: sluice reads no encrypted documents",
        ));
    }
    bounded_streams(&doc, limits.max_expanded_bytes)?;
    unicode_cmaps(&mut doc);
    let pages = doc.get_pages();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if count > limits.max_pdf_pages {
        return Err(ReadFailure::new(
            FailKind::TooLarge,
            format!(
                "a PDF of {count} pages, more than formats.max_pdf_pages ({}); raise the setting if such documents are expected",
                limits.max_pdf_pages
            ),
        ));
    }
    let mut collector = Collector::default();
    let numbers: Vec<u32> = pages.keys().copied().collect();
    for n in numbers {
        // The parser panics on some malformed objects: a page it cannot read fails the
        // document, and never the daemon.
        let result = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut collector, n)
        }));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(ReadFailure::new(
                    FailKind::MalformedDocument,
                    format!("a PDF whose page {n} cannot be read: {e:?}"),
                ))
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                return Err(ReadFailure::new(
                    FailKind::MalformedDocument,
                    format!("a PDF whose page {n} cannot be read: the parser gave up ({why})"),
                ));
            }
        }
    }
    if collector.pages.iter().all(|p| p.glyphs.is_empty()) {
        return Err(ReadFailure::new(
            FailKind::UnsupportedFormat,
            format!(
                "a PDF of {count} page(s) with no text layer (scanned images?): sluice does not recognise text in images"
            ),
        ));
    }
    let meta = Meta {
        title: info_string(&doc, b"Title"),
        authors: info_string(&doc, b"Author").into_iter().collect(),
        pages: Some(count),
        ..Meta::default()
    };
    let (text, lines) = lay_out(collector.pages);
    Ok(Read {
        body: Body::Lines { text, lines },
        encoding: "pdf".into(),
        meta,
    })
}

/// Fails a PDF whose Flate streams, all together, inflate past `cap`
/// (`formats.max_expanded_bytes`): a content stream of zeros compressed a thousandfold is a
/// zip bomb too. Each stream is inflated into a counter (nothing is kept), so this costs one
/// pass over what the parser would inflate anyway.
fn bounded_streams(doc: &pdf_extract::Document, cap: u64) -> Result<(), ReadFailure> {
    use std::io::Read as _;
    let mut total = 0u64;
    for object in doc.objects.values() {
        let pdf_extract::Object::Stream(stream) = object else {
            continue;
        };
        let flate = stream
            .filters()
            .is_ok_and(|f| f.iter().any(|name| *name == b"FlateDecode"));
        if !flate {
            total = total.saturating_add(stream.content.len() as u64);
            continue;
        }
        let left = cap.saturating_sub(total);
        let n = std::io::copy(
            &mut flate2::read::ZlibDecoder::new(stream.content.as_slice()).take(left + 1),
            &mut std::io::sink(),
        )
        .unwrap_or(0);
        total = total.saturating_add(n);
        if total > cap {
            return Err(ReadFailure::new(
                FailKind::TooLarge,
                format!(
                    "a PDF whose streams inflate past formats.max_expanded_bytes ({cap} bytes); \
                     raise the setting if such documents are expected"
                ),
            ));
        }
    }
    Ok(())
}

/// The predefined CMaps whose codes are UCS-2 / UTF-16 (BMP) values: Adobe's Unicode CMaps
/// for Chinese, Japanese and Korean, used by CJK fonts that are not embedded.
const UNICODE_CMAPS: &[&[u8]] = &[
    b"UniGB-UCS2-H",
    b"UniGB-UTF16-H",
    b"UniCNS-UCS2-H",
    b"UniCNS-UTF16-H",
    b"UniJIS-UCS2-H",
    b"UniJIS-UTF16-H",
    b"UniKS-UCS2-H",
    b"UniKS-UTF16-H",
    b"UniGB-UCS2-V",
    b"UniGB-UTF16-V",
    b"UniCNS-UCS2-V",
    b"UniCNS-UTF16-V",
    b"UniJIS-UCS2-V",
    b"UniJIS-UTF16-V",
    b"UniKS-UCS2-V",
    b"UniKS-UTF16-V",
];

/// Lets the parser read CJK text set in a font that names one of Adobe's Unicode CMaps and
/// carries no ToUnicode map (it knows only Identity-H and embedded maps): such a font's codes
/// are the characters themselves, so the font is given a ToUnicode map that says so and the
/// two-byte Identity encoding its codes have. Only glyph widths are then approximate (the
/// font's default width), which reading order tolerates.
fn unicode_cmaps(doc: &mut pdf_extract::Document) {
    use pdf_extract::{Dictionary, Object, Stream};
    let fonts: Vec<(pdf_extract::ObjectId, bool)> = doc
        .objects
        .iter()
        .filter_map(|(id, o)| {
            let d = o.as_dict().ok()?;
            let encoding = d.get(b"Encoding").ok()?.as_name().ok()?;
            let subtype = d.get(b"Subtype").ok()?.as_name().ok()?;
            (subtype == b"Type0"
                && UNICODE_CMAPS.contains(&encoding)
                && d.get(b"ToUnicode").is_err())
            .then(|| (*id, encoding.ends_with(b"-V")))
        })
        .collect();
    if fonts.is_empty() {
        return;
    }
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /sluice-ucs2 def\n\
         /CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // A bfrange may differ only in its last byte: 256 ranges of 256 codes.
    for chunk in 0..2u32 {
        cmap.push_str("128 beginbfrange\n");
        for hi in chunk * 128..(chunk + 1) * 128 {
            cmap.push_str(&format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>\n"));
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let stream = doc.add_object(Stream::new(Dictionary::new(), cmap.into_bytes()));
    for (id, vertical) in fonts {
        if let Ok(Object::Dictionary(d)) = doc.get_object_mut(id) {
            d.set("ToUnicode", Object::Reference(stream));
            let identity: &[u8] = if vertical {
                b"Identity-V"
            } else {
                b"Identity-H"
            };
            d.set("Encoding", Object::Name(identity.to_vec()));
        }
    }
}

fn info_string(doc: &pdf_extract::Document, key: &[u8]) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let dict = match info {
        pdf_extract::Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        pdf_extract::Object::Dictionary(d) => d,
        _ => return None,
    };
    let pdf_extract::Object::String(bytes, _) = dict.get(key).ok()? else {
        return None;
    };
    let text = if bytes.starts_with(&[0xFE, 0xFF]) {
        encoding_rs::UTF_16BE.decode(&bytes[2..]).0.into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

// ---------------------------------------------------------------------------------------------
// Lines

/// A piece of a text line: glyphs on one baseline with no gutter between them.
#[derive(Debug, Clone)]
struct Piece {
    x0: f32,
    x1: f32,
    /// Baseline.
    y: f32,
    size: f32,
    text: String,
}

impl Piece {
    fn top(&self) -> f32 {
        self.y + self.size * 0.85
    }
    fn bottom(&self) -> f32 {
        self.y - self.size * 0.2
    }
}

fn is_cjk(c: char) -> bool {
    crate::text::script::is_han(c)
        || matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}' | '\u{3040}'..='\u{30ff}' | '\u{ac00}'..='\u{d7af}')
}

/// The line pieces of one page's glyphs.
fn pieces(mut glyphs: Vec<Glyph>) -> Vec<Piece> {
    glyphs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    // Rows: glyphs whose baselines are within a third of their size of the row's first.
    let mut rows: Vec<Vec<Glyph>> = Vec::new();
    for g in glyphs {
        match rows.last_mut() {
            Some(row) if (row[0].y - g.y).abs() <= row[0].size.min(g.size) * 0.35 => row.push(g),
            _ => rows.push(vec![g]),
        }
    }
    let mut out = Vec::new();
    for mut row in rows {
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut current: Option<Piece> = None;
        let mut last_end = f32::MIN;
        let mut last_char: Option<char> = None;
        let mut drawn_space = false;
        for g in row {
            if g.text == " " {
                drawn_space = true;
                continue;
            }
            let gap = g.x - last_end;
            let first = g.text.chars().next();
            match current.as_mut() {
                Some(p) if gap <= GUTTER * g.size.max(p.size) => {
                    let space = std::mem::take(&mut drawn_space)
                        || gap > 0.18 * g.size
                            && !(last_char.is_some_and(is_cjk) && first.is_some_and(is_cjk));
                    if space {
                        p.text.push(' ');
                    }
                    p.text.push_str(&g.text);
                    p.x1 = p.x1.max(g.x + g.advance);
                    p.size = p.size.max(g.size);
                }
                _ => {
                    drawn_space = false;
                    if let Some(p) = current.take() {
                        out.push(p);
                    }
                    current = Some(Piece {
                        x0: g.x,
                        x1: g.x + g.advance,
                        y: g.y,
                        size: g.size,
                        text: g.text.clone(),
                    });
                }
            }
            last_end = last_end.max(g.x + g.advance);
            last_char = g.text.chars().next_back();
        }
        if let Some(p) = current {
            out.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// XY-cut

/// `pieces` in reading order.
fn xy_cut(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    if pieces.len() > MAX_CUT_PIECES {
        let mut p = pieces;
        p.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
        return vec![p];
    }
    let mut leaves = Vec::new();
    let mut stack = vec![pieces];
    // Depth first, first region first: regions are pushed in reverse.
    while let Some(region) = stack.pop() {
        match split(&region) {
            Some(parts) => {
                for p in parts.into_iter().rev() {
                    stack.push(p);
                }
            }
            None => {
                let mut leaf = region;
                leaf.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
                leaves.push(leaf);
            }
        }
    }
    leaves
}

fn median_size(pieces: &[Piece]) -> f32 {
    let mut sizes: Vec<f32> = pieces.iter().map(|p| p.size).collect();
    sizes.sort_by(f32::total_cmp);
    sizes.get(sizes.len() / 2).copied().unwrap_or(10.0)
}

/// The widest empty band across the region, as its two sides (top before bottom, left before
/// right), or None when no band is wide enough.
fn split(region: &[Piece]) -> Option<Vec<Vec<Piece>>> {
    if region.len() < 2 {
        return None;
    }
    let size = median_size(region);
    // Vertical bands: gaps in the projection onto x.
    let mut xs: Vec<(f32, f32)> = region.iter().map(|p| (p.x0, p.x1)).collect();
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let v = widest_gap(&xs);
    // Horizontal bands: gaps in the projection onto y (top to bottom, as -y).
    let mut ys: Vec<(f32, f32)> = region.iter().map(|p| (-p.top(), -p.bottom())).collect();
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    let h = widest_gap(&ys);
    let v_score = v
        .map(|(_, w)| w / size * 1.6)
        .filter(|s| *s >= GUTTER * 1.6);
    // A gap between two lines of running text is no band: only a wider one (between a headline
    // and its columns, between stacked articles) is.
    let h_score = h.map(|(_, w)| w / size).filter(|s| *s > 0.8);
    let vertical = match (v_score, h_score) {
        (Some(a), Some(b)) => a >= b,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => return None,
    };
    let (first, second): (Vec<Piece>, Vec<Piece>) = if vertical {
        let at = v?.0;
        region.iter().cloned().partition(|p| p.x1 <= at)
    } else {
        let at = -h?.0;
        region.iter().cloned().partition(|p| p.bottom() >= at)
    };
    if first.is_empty() || second.is_empty() {
        return None;
    }
    Some(vec![first, second])
}

/// The middle and width of the widest gap between intervals sorted by start.
fn widest_gap(intervals: &[(f32, f32)]) -> Option<(f32, f32)> {
    let mut reach = intervals.first()?.1;
    let mut best: Option<(f32, f32)> = None;
    for &(start, end) in &intervals[1..] {
        if start > reach {
            let w = start - reach;
            if best.is_none_or(|(_, bw)| w > bw) {
                best = Some(((start + reach) / 2.0, w));
            }
        }
        reach = reach.max(end);
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Paragraphs and margins

static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[-—–·\s]*\d{1,4}[-—–·\s]*|第\s?\d{1,4}\s?[页版]|page\s+\d{1,4}(?:\s+of\s+\d{1,4})?|\d{1,4}\s*/\s*\d{1,4})$")
        .expect("page number pattern")
});

fn margin_key(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The pages' text with a blank line between paragraphs, and each line's offset and source.
fn lay_out(pages: Vec<PageGlyphs>) -> (String, Vec<(usize, Source)>) {
    let page_count = pages.len();
    let mut per_page: Vec<(u32, f32, f32, Vec<Piece>)> = pages
        .into_iter()
        .map(|p| (p.number, p.height, p.bottom, pieces(p.glyphs)))
        .collect();
    // Running headers and footers: margin lines that repeat across pages, or page numbers.
    let in_margin = |p: &Piece, height: f32, bottom: f32| {
        let rel = (p.y - bottom) / height.max(1.0);
        !(0.07..=0.93).contains(&rel)
    };
    let mut counts: rustc_hash::FxHashMap<String, usize> = rustc_hash::FxHashMap::default();
    for (_, height, bottom, ps) in &per_page {
        let mut seen = rustc_hash::FxHashSet::default();
        for p in ps.iter().filter(|p| in_margin(p, *height, *bottom)) {
            let key = margin_key(&p.text);
            if seen.insert(key.clone()) {
                *counts.entry(key).or_insert(0) += 1;
            }
        }
    }
    for (_, height, bottom, ps) in &mut per_page {
        let body = median_size(ps);
        ps.retain(|p| {
            if !in_margin(p, *height, *bottom) {
                return true;
            }
            let repeated =
                page_count >= 2 && counts.get(&margin_key(&p.text)).copied().unwrap_or(0) >= 2;
            // Set smaller than the body, in the margin: a running head even on a lone page.
            let small = p.size < body * 0.95 && p.text.chars().count() <= 60;
            !(repeated || small || PAGE_NUMBER.is_match(p.text.trim()))
        });
    }

    let mut text = String::new();
    let mut lines: Vec<(usize, Source)> = Vec::new();
    for (number, _, _, ps) in per_page {
        let body = median_size(&ps);
        let mut page_start = true;
        let mut last_size: Option<f32> = None;
        for leaf in xy_cut(ps) {
            let left = leaf.iter().map(|p| p.x0).fold(f32::MAX, f32::min);
            let mut prev: Option<&Piece> = None;
            for p in &leaf {
                let new_paragraph = match prev {
                    None => true,
                    Some(q) => {
                        let gap = q.bottom() - p.top();
                        let size_change = (p.size - q.size).abs() > 0.15 * q.size.max(p.size);
                        let indented = p.x0 > left + 1.2 * p.size && q.x0 <= left + 0.5 * q.size;
                        gap > 0.6 * p.size.max(q.size) || size_change || indented
                    }
                };
                let heading = p.size > body * 1.25;
                let was_heading = last_size.is_some_and(|s| s > body * 1.25);
                if !text.is_empty() {
                    if std::mem::take(&mut page_start) {
                        text.push_str("\n\n\n");
                    } else if new_paragraph {
                        // A heading stands apart: two blank lines around it.
                        text.push_str(if heading || was_heading {
                            "\n\n\n"
                        } else {
                            "\n\n"
                        });
                    } else if text.ends_with('-')
                        && text[..text.len() - 1]
                            .chars()
                            .next_back()
                            .is_some_and(char::is_alphabetic)
                        && p.text.chars().next().is_some_and(char::is_lowercase)
                    {
                        // A word hyphenated across the line break.
                        text.pop();
                    } else {
                        // The lines of a paragraph are joined the way layout joins a
                        // hard-wrapped paragraph of text.
                        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
                        let so_far = &text[line_start..];
                        let han = so_far.chars().any(crate::text::script::is_han)
                            || p.text.chars().any(crate::text::script::is_han);
                        if crate::text::layout::joins_with_space(so_far, &p.text, han) {
                            text.push(' ');
                        }
                    }
                }
                let at = text.len();
                text.push_str(p.text.trim());
                lines.push((
                    at,
                    Source::Page {
                        page: number,
                        r#box: [p.x0, p.bottom(), p.x1, p.top()],
                    },
                ));
                page_start = false;
                last_size = Some(p.size);
                prev = Some(p);
            }
        }
    }
    (text.trim_end().to_string(), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyphs(text: &str, x: f32, y: f32, size: f32) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                x: x + i as f32 * size,
                y,
                advance: size,
                size,
                text: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn two_columns_under_a_headline_read_column_by_column() {
        let mut g = Vec::new();
        // Stored in a shuffled order: right column, headline, left column.
        g.extend(glyphs("右栏第一行", 320.0, 700.0, 10.0));
        g.extend(glyphs("右栏第二行", 320.0, 686.0, 10.0));
        g.extend(glyphs("通栏大标题", 100.0, 740.0, 20.0));
        g.extend(glyphs("左栏第一行", 60.0, 700.0, 10.0));
        g.extend(glyphs("左栏第二行", 60.0, 686.0, 10.0));
        let (text, lines) = lay_out(vec![PageGlyphs {
            number: 1,
            height: 842.0,
            bottom: 0.0,
            glyphs: g,
        }]);
        assert_eq!(
            text,
            "通栏大标题\n\n\n左栏第一行左栏第二行\n\n右栏第一行右栏第二行"
        );
        assert_eq!(lines.len(), 5);
        assert!(matches!(lines[0].1, Source::Page { page: 1, .. }));
    }

    #[test]
    fn running_heads_and_page_numbers_go() {
        let page = |n: u32| {
            let mut g = glyphs("每日新闻", 60.0, 820.0, 9.0);
            g.extend(glyphs("正文内容。", 60.0, 400.0, 10.0));
            g.extend(glyphs(&n.to_string(), 300.0, 20.0, 9.0));
            PageGlyphs {
                number: n,
                height: 842.0,
                bottom: 0.0,
                glyphs: g,
            }
        };
        let (text, _) = lay_out(vec![page(1), page(2)]);
        assert_eq!(text, "正文内容。\n\n\n正文内容。");
    }

    #[test]
    fn not_a_pdf_fails_as_malformed() {
        let e = read(b"%PDF-1.4\ngarbage", &Limits::default()).unwrap_err();
        assert_eq!(e.kind, FailKind::MalformedDocument);
    }
}
