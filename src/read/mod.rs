//! What format a file is in, told from its content first (magic bytes, the entries of a zip,
//! markup at the start) and its name second; and whether sluice reads that format.
//!
//! Sniffing looks at a bounded prefix of the bytes (and, for a zip, at its first local entry
//! headers within that prefix), so it costs the same on any file.

use serde::{Deserialize, Serialize};

use crate::event::FailKind;
use crate::text::decode::DecodeFailure;
use crate::text::Block;

pub mod archive;
pub mod epub;
pub mod html;
pub mod markdown;
pub mod office;
pub mod pdf;
mod xml;

/// The bounds a reader keeps on one document (`formats.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_expanded_bytes: u64,
    pub max_pdf_pages: u32,
    pub max_html_depth: u32,
}

impl Default for Limits {
    /// The shipped defaults of `formats.max_*`.
    fn default() -> Self {
        Limits {
            max_expanded_bytes: 64 * 1024 * 1024,
            max_pdf_pages: 2000,
            max_html_depth: 1000,
        }
    }
}

/// Why a document could not be read; `kind` is the `error.kind` of `sluice.document.failed`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ReadFailure {
    pub kind: FailKind,
    pub message: String,
}

impl ReadFailure {
    pub fn new(kind: FailKind, message: impl Into<String>) -> ReadFailure {
        ReadFailure {
            kind,
            message: message.into(),
        }
    }
}

impl From<DecodeFailure> for ReadFailure {
    fn from(e: DecodeFailure) -> Self {
        ReadFailure::new(e.kind, e.message)
    }
}

/// What a document says about itself (HTML `<meta>`, Open Graph and JSON-LD; Markdown front
/// matter; the core properties of an office document; an EPUB's package metadata).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// As the document writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// A PDF's page count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

impl Meta {
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }

    /// The published date as a calendar date, when it reads as one.
    pub fn published_date(&self) -> Option<time::Date> {
        self.published.as_deref().and_then(parse_date)
    }

    fn clean(mut self) -> Meta {
        let tidy = |s: Option<String>| s.map(|t| collapse(&t)).filter(|t| !t.is_empty());
        self.title = tidy(self.title);
        self.published = tidy(self.published);
        self.site = tidy(self.site);
        self.language = tidy(self.language);
        let mut seen = std::collections::HashSet::new();
        self.authors = self
            .authors
            .into_iter()
            .map(|a| collapse(&a))
            .filter(|a| !a.is_empty() && seen.insert(a.clone()))
            .collect();
        self
    }
}

/// Reads a date written as `2024-03-30`, `2024-03-30T10:00:00+08:00`, `2024/3/30 10:00`,
/// `20240330` or `2024年3月30日`.
pub fn parse_date(s: &str) -> Option<time::Date> {
    let digits: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(3)
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect();
    let (y, m, d) = match digits.as_slice() {
        [ymd] if (10_000_101..100_000_000).contains(ymd) => {
            (ymd / 10_000, ymd / 100 % 100, ymd % 100)
        }
        [y, m, d, ..] => (*y, *m, *d),
        _ => return None,
    };
    if !(1000..=9999).contains(&y) {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

/// Whitespace collapsed to single spaces, trimmed. A run of whitespace that holds a line break
/// between two CJK characters is dropped: markup and Markdown break lines where Chinese has no
/// space.
pub fn collapse(s: &str) -> String {
    let cjk = |c: char| {
        crate::text::script::is_han(c)
            || ('\u{3000}'..='\u{303f}').contains(&c)
            || ('\u{ff00}'..='\u{ffef}').contains(&c)
    };
    let mut out = String::with_capacity(s.len());
    let (mut pending, mut broke) = (false, false);
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{a0}' {
            pending = !out.is_empty();
            broke |= matches!(c, '\n' | '\r');
            continue;
        }
        if pending {
            let prev = out.chars().next_back();
            if !(broke && prev.is_some_and(cjk) && cjk(c)) {
                out.push(' ');
            }
            pending = false;
            broke = false;
        }
        out.push(c);
    }
    out
}

/// A document's text as a reader gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Blocks whose kinds the format says (HTML, Word, OpenDocument, EPUB, Markdown).
    Blocks(Vec<Block>),
    /// Lines in reading order, laid out as plain text is (a PDF's text layer: its paragraphs
    /// broken by the page's lines), with where each line came from.
    Lines {
        text: String,
        /// `(byte offset of a line in text, its source)`, in order.
        lines: Vec<(usize, crate::text::Source)>,
    },
}

/// A document read.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub body: Body,
    /// What the text was decoded from (`utf-8` for the XML parts of a zip, `pdf` for a PDF's
    /// text layer, the page's charset for HTML).
    pub encoding: String,
    pub meta: Meta,
}

/// Reads a document of `format` (not plain text: that is decoded and laid out as it is).
pub fn read(format: Format, bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let read = match format {
        Format::Html => html::read(bytes, limits),
        Format::Markdown => markdown::read(bytes),
        Format::Docx => office::read_docx(bytes, limits),
        Format::Odt => office::read_odt(bytes, limits),
        Format::Epub => epub::read(bytes, limits),
        Format::Pdf => pdf::read(bytes, limits),
        Format::Text | Format::Doc | Format::Rtf => Err(ReadFailure::new(
            FailKind::InternalError,
            format!("{} is not read by a document reader", format.describe()),
        )),
    }?;
    Ok(Read {
        meta: read.meta.clean(),
        ..read
    })
}

/// A file format sluice recognises (the `format` of `sluice.document.ingested`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Plain text in any encoding sluice decodes.
    Text,
    /// CommonMark / GitHub Markdown (told by its name: Markdown is text).
    Markdown,
    /// HTML or XHTML.
    Html,
    Pdf,
    /// Office Open XML word processing (Word 2007 and later).
    Docx,
    /// OpenDocument text.
    Odt,
    Epub,
    /// Legacy Word (OLE2 compound file).
    Doc,
    /// Rich Text Format.
    Rtf,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Text,
        Format::Markdown,
        Format::Html,
        Format::Pdf,
        Format::Docx,
        Format::Odt,
        Format::Epub,
        Format::Doc,
        Format::Rtf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Odt => "odt",
            Format::Epub => "epub",
            Format::Doc => "doc",
            Format::Rtf => "rtf",
        }
    }

    /// What a person calls it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Text => "a text file",
            Format::Markdown => "a Markdown file",
            Format::Html => "an HTML page",
            Format::Pdf => "a PDF document",
            Format::Docx => "a Word document (.docx)",
            Format::Odt => "an OpenDocument text (.odt)",
            Format::Epub => "an EPUB book",
            Format::Doc => "a legacy Word document (.doc, the binary format before Word 2007)",
            Format::Rtf => "an RTF document",
        }
    }

    /// Whether sluice reads the format's text (the others fail as `unsupported_format`, named
    /// in the message).
    pub fn is_read(self) -> bool {
        !matches!(self, Format::Doc | Format::Rtf)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much of the start of a file sniffing looks at.
const SNIFF_BYTES: usize = 64 * 1024;

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_ENTRY: &[u8] = b"PK\x03\x04";

/// The format of a file with these bytes at `path` (relative, `/`-separated).
pub fn sniff(bytes: &[u8], path: &str) -> Format {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if head.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    if head.starts_with(OLE2) {
        return Format::Doc;
    }
    if head.starts_with(b"{\\rtf") {
        return Format::Rtf;
    }
    if head.starts_with(ZIP_ENTRY) {
        if let Some(f) = zip_format(head) {
            return f;
        }
    }
    if looks_like_html(head) {
        return Format::Html;
    }
    let ext = extension(path);
    match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" => Format::Markdown,
        "html" | "htm" | "xhtml" if has_markup(head) => Format::Html,
        _ => Format::Text,
    }
}

fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The document format a zip holds, from the names of its first entries (an OpenDocument or
/// EPUB file starts with a stored `mimetype` entry; a .docx names `word/` or its content types).
fn zip_format(head: &[u8]) -> Option<Format> {
    let mut at = 0;
    for _ in 0..64 {
        let entry = head.get(at..)?;
        if !entry.starts_with(ZIP_ENTRY) || entry.len() < 30 {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([entry[i], entry[i + 1]]) as usize;
        let u32_at =
            |i: usize| u32::from_le_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
        let flags = u16_at(6);
        let compressed = u32_at(18) as usize;
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let name = entry.get(30..30 + name_len)?;
        let data_at = 30 + name_len + extra_len;
        if name == b"mimetype" {
            let data = entry.get(data_at..data_at + compressed.min(100))?;
            let data = String::from_utf8_lossy(data);
            let mime = data.trim();
            return match mime {
                "application/epub+zip" => Some(Format::Epub),
                m if m.starts_with("application/vnd.oasis.opendocument.text") => Some(Format::Odt),
                _ => None,
            };
        }
        // Every OOXML file (Excel and PowerPoint too) opens with [Content_Types].xml: only a
        // word/ part makes it a word processing document.
        if name.starts_with(b"word/") {
            return Some(Format::Docx);
        }
        // Sizes after the data (bit 3) are unknown here: stop looking.
        if flags & 0x08 != 0 {
            return None;
        }
        at += data_at + compressed;
    }
    None
}

/// Whether the start of the file (after a BOM and whitespace, in an ASCII-compatible or UTF-16
/// encoding) opens an HTML document.
fn looks_like_html(head: &[u8]) -> bool {
    let text = ascii_view(head);
    let t = text.trim_start();
    let t = t.strip_prefix("<?xml").map_or(t, |rest| {
        rest.split_once("?>")
            .map_or("", |(_, after)| after.trim_start())
    });
    let lower: String = t.chars().take(512).collect::<String>().to_ascii_lowercase();
    let lower = skip_comments(&lower);
    ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|tag| lower.starts_with(tag))
}

/// Whether markup tags appear early (for a `.html` name that does not start with a tag).
fn has_markup(head: &[u8]) -> bool {
    let lower = ascii_view(head).to_ascii_lowercase();
    ["<p", "<div", "<meta", "<title", "<article", "<br"]
        .iter()
        .any(|tag| lower.contains(tag))
}

fn skip_comments(mut s: &str) -> &str {
    while let Some(rest) = s.strip_prefix("<!--") {
        s = rest
            .split_once("-->")
            .map_or("", |(_, after)| after.trim_start());
    }
    s
}

/// The first 4 KiB as ASCII: a UTF-8 (or GBK, Big5: ASCII-compatible) BOM is skipped, UTF-16
/// keeps every other byte; other bytes become spaces.
fn ascii_view(head: &[u8]) -> String {
    let head = &head[..head.len().min(4096)];
    let (bytes, step, offset): (&[u8], usize, usize) =
        if let Some(rest) = head.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
            (rest, 1, 0)
        } else if let Some(rest) = head.strip_prefix(&[0xFF, 0xFE]) {
            (rest, 2, 0)
        } else if let Some(rest) = head.strip_prefix(&[0xFE, 0xFF]) {
            (rest, 2, 1)
        } else {
            (head, 1, 0)
        };
    bytes
        .iter()
        .skip(offset)
        .step_by(step)
        .map(|&b| if b.is_ascii() { b as char } else { ' ' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip with one stored entry per (name, data), as `zip` tools write them.
    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend_from_slice(ZIP_ENTRY);
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 4]); // crc (not checked)
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn magic_bytes_win_over_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3", "paper.txt"), Format::Pdf);
        let mut ole = OLE2.to_vec();
        ole.extend_from_slice(&[0; 512]);
        assert_eq!(sniff(&ole, "letter.docx"), Format::Doc);
        assert_eq!(sniff(b"{\\rtf1\\ansi hello}", "a.txt"), Format::Rtf);
        assert_eq!(sniff(b"plain words", "notes.pdf"), Format::Text);
    }

    #[test]
    fn zips_are_told_apart_by_their_entries() {
        let epub = zip(&[
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", b"<x/>"),
        ]);
        assert_eq!(sniff(&epub, "book.zip"), Format::Epub);
        let odt = zip(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
        assert_eq!(sniff(&odt, "a"), Format::Odt);
        let docx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<r/>"),
            ("word/document.xml", b"<w:document/>"),
        ]);
        assert_eq!(sniff(&docx, "report"), Format::Docx);
        let xlsx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert_eq!(sniff(&xlsx, "sheet.xlsx"), Format::Text);
        // A truncated zip is not a document (decoding then says it is not text).
        assert_eq!(sniff(&docx[..20], "report.docx"), Format::Text);
    }

    #[test]
    fn html_is_told_by_its_opening_markup_in_any_ascii_compatible_encoding() {
        for page in [
            "<!DOCTYPE html><html><head><title>t</title></head></html>",
            "\n\n  <html lang=\"zh\">",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0\">",
            "<!-- saved page --><HTML><BODY>",
            "\u{feff}<html>",
        ] {
            assert_eq!(sniff(page.as_bytes(), "page.txt"), Format::Html, "{page}");
        }
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<html><body>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(sniff(&utf16, "x"), Format::Html);
        // GBK bytes after the tag do not matter.
        let mut gbk = b"<html><head><meta charset=gbk>".to_vec();
        gbk.extend_from_slice(&[0xD6, 0xD0, 0xCE, 0xC4]);
        assert_eq!(sniff(&gbk, "x"), Format::Html);
        // Text that mentions a tag later is text.
        assert_eq!(
            sniff(b"How to write <html> in a page", "howto.txt"),
            Format::Text
        );
        // A fragment named .html.
        assert_eq!(sniff(b"<p>one</p><p>two</p>", "frag.html"), Format::Html);
        assert_eq!(sniff(b"no markup", "frag.html"), Format::Text);
    }

    #[test]
    fn markdown_is_told_by_its_name() {
        assert_eq!(
            sniff("# 标题\n\n正文".as_bytes(), "news/a.md"),
            Format::Markdown
        );
        assert_eq!(sniff(b"# x", "README.MARKDOWN"), Format::Markdown);
        assert_eq!(sniff(b"# x", "notes.txt"), Format::Text);
        assert_eq!(sniff(b"# x", ".md"), Format::Text);
    }

    #[test]
    fn every_format_has_a_distinct_name() {
        let names: std::collections::HashSet<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names.len(), Format::ALL.len());
    }
}
