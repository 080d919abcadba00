//! Word (.docx) and OpenDocument (.odt) text: their body's paragraphs, headings, lists and
//! tables as blocks, in document order.
//!
//! Headings come from the paragraph's style: Word's built-in `Title` and `heading N` styles
//! (by the style's name, since documents written in other languages give them other ids),
//! or an outline level; OpenDocument's `text:h` and its `Title` style. The title style is
//! level 1 and `heading N` level N + 1, so a document with a title has its Heading 1s as
//! subheadings and one without takes its Heading 1s as titles. Footnotes, endnotes, comments
//! and deleted revisions are dropped; a table is one block, a row per line.

use std::collections::HashMap;

use super::archive::{xml, Archive};
use super::xml::Tok;
use super::{collapse, Body, Limits, Meta, Read, ReadFailure};
use crate::text::{Block, BlockKind, Source};

const DOCX: &str = "a Word document";
const ODT: &str = "an OpenDocument text";

/// What a paragraph style makes of its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Heading(u8),
    Caption,
    List,
}

/// Reads a .docx.
pub fn read_docx(bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let mut zip = Archive::open(bytes, DOCX, limits.max_expanded_bytes)?;
    let document = zip.required("word/document.xml")?;
    let styles = match zip.text("word/styles.xml")? {
        Some(s) => docx_styles(&xml(DOCX, "word/styles.xml", &s)?),
        None => HashMap::new(),
    };
    let meta = match zip.text("docProps/core.xml")? {
        Some(s) => core_meta(&xml(DOCX, "docProps/core.xml", &s)?),
        None => Meta::default(),
    };
    let toks = xml(DOCX, "word/document.xml", &document)?;
    Ok(Read {
        body: Body::Blocks(docx_blocks(&toks, &styles)),
        encoding: "utf-8".into(),
        meta,
    })
}

/// Style id → role, from `word/styles.xml` (a style based on a heading style is one too).
fn docx_styles(toks: &[Tok]) -> HashMap<String, Role> {
    let mut roles = HashMap::new();
    let mut based: Vec<(String, String)> = Vec::new();
    let mut id: Option<String> = None;
    for t in toks {
        if t.opens("style") {
            id = t.attr("styleId").map(str::to_string);
        } else if let (Some(sid), true) = (&id, t.opens("name")) {
            if let Some(role) = t.attr("val").and_then(role_of_name) {
                roles.insert(sid.clone(), role);
            }
        } else if let (Some(sid), true) = (&id, t.opens("outlineLvl")) {
            if let Some(level) = t.attr("val").and_then(|v| v.parse::<u8>().ok()) {
                if level < 9 {
                    roles
                        .entry(sid.clone())
                        .or_insert(Role::Heading((level + 2).min(6)));
                }
            }
        } else if let (Some(sid), true) = (&id, t.opens("basedOn")) {
            if let Some(v) = t.attr("val") {
                based.push((sid.clone(), v.to_string()));
            }
        } else if t.closes("style") {
            id = None;
        }
    }
    for (sid, base) in based {
        if let Some(role) = roles.get(&base).copied() {
            roles.entry(sid).or_insert(role);
        }
    }
    roles
}

/// The role of a paragraph style by its name (or id): `Title`, `heading 2`, `Caption`…
fn role_of_name(name: &str) -> Option<Role> {
    let n = name.to_ascii_lowercase().replace(' ', "");
    if n == "title" {
        return Some(Role::Heading(1));
    }
    if let Some(level) = n.strip_prefix("heading").and_then(|l| l.parse::<u8>().ok()) {
        return Some(Role::Heading((level + 1).clamp(2, 6)));
    }
    if n == "subtitle" {
        return Some(Role::Heading(2));
    }
    if n == "caption" {
        return Some(Role::Caption);
    }
    if n.starts_with("listparagraph") || n.starts_with("listbullet") || n.starts_with("listnumber")
    {
        return Some(Role::List);
    }
    None
}

/// Title, creator and language from `docProps/core.xml` (Dublin Core).
fn core_meta(toks: &[Tok]) -> Meta {
    let mut meta = Meta::default();
    let mut field: Option<&str> = None;
    for t in toks {
        match t {
            Tok::Open { name, .. } => field = Some(name.as_str()),
            Tok::Text(text) => match field {
                Some("title") => meta.title = Some(text.clone()),
                Some("creator") => meta.authors.push(text.clone()),
                Some("language") => meta.language = Some(text.clone()),
                _ => {}
            },
            Tok::Close(_) => field = None,
        }
    }
    meta
}

/// The blocks of `word/document.xml`'s body.
fn docx_blocks(toks: &[Tok], styles: &HashMap<String, Role>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut index = 0usize;
    let mut i = 0usize;
    // Only the body's own paragraphs and tables are blocks (a table's paragraphs are its
    // cells; headers and footers live in other parts).
    let mut depth_in_body: Option<usize> = None;
    let mut depth = 0usize;
    while i < toks.len() {
        let t = &toks[i];
        match t {
            Tok::Open { name, .. } => {
                depth += 1;
                if name == "body" {
                    depth_in_body = Some(depth);
                } else if depth_in_body.is_some_and(|d| depth == d + 1) {
                    if name == "p" {
                        let end = matching(toks, i);
                        if let Some(b) = docx_paragraph(&toks[i..end], styles, index) {
                            blocks.push(b);
                        }
                        index += 1;
                        depth -= 1;
                        i = end + 1;
                        continue;
                    }
                    if name == "tbl" {
                        let end = matching(toks, i);
                        let text = table_text(&toks[i..end], "tr", &["tc"], &["p"]);
                        blocks.push(block(BlockKind::Table, text, index));
                        index += 1;
                        depth -= 1;
                        i = end + 1;
                        continue;
                    }
                }
            }
            Tok::Close(name) => {
                if name == "body" {
                    depth_in_body = None;
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Text(_) => {}
        }
        i += 1;
    }
    blocks
}

fn block(kind: BlockKind, text: String, index: usize) -> Block {
    Block {
        kind,
        text,
        source: Some(Source::Paragraph { index }),
        opens_article: false,
    }
}

/// The index of the token that closes the element opened at `toks[start]` (or the last).
fn matching(toks: &[Tok], start: usize) -> usize {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(start) {
        match t {
            Tok::Open { .. } => depth += 1,
            Tok::Close(_) => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            Tok::Text(_) => {}
        }
    }
    toks.len().saturating_sub(1)
}

/// Elements whose text is not the paragraph's: deleted revisions, field instructions, and
/// what only points elsewhere (footnote references live in their own part).
const DOCX_SKIP: &[&str] = &[
    "delText",
    "instrText",
    "footnoteReference",
    "endnoteReference",
];

fn docx_paragraph(toks: &[Tok], styles: &HashMap<String, Role>, index: usize) -> Option<Block> {
    let mut role: Option<Role> = None;
    let mut text = String::new();
    let mut in_t = false;
    let mut skip = 0usize;
    for t in toks {
        match t {
            Tok::Open { name, .. } => {
                if skip > 0 || DOCX_SKIP.contains(&name.as_str()) {
                    skip += 1;
                    continue;
                }
                match name.as_str() {
                    "pStyle" => {
                        // A style says more than numbering (a numbered heading is a heading),
                        // but a plain style does not undo a list.
                        if let Some(r) = t
                            .attr("val")
                            .and_then(|v| styles.get(v).copied().or_else(|| role_of_name(v)))
                        {
                            role = Some(r);
                        }
                    }
                    "outlineLvl" => {
                        let level = t.attr("val").and_then(|v| v.parse::<u8>().ok());
                        if let (None, Some(l)) = (role, level.filter(|l| *l < 9)) {
                            role = Some(Role::Heading((l + 2).min(6)));
                        }
                    }
                    "numPr" if role.is_none() => role = Some(Role::List),
                    "t" => in_t = true,
                    "tab" => text.push(' '),
                    "br" | "cr" => text.push('\n'),
                    _ => {}
                }
            }
            Tok::Close(name) => {
                if skip > 0 {
                    skip -= 1;
                } else if name == "t" {
                    in_t = false;
                }
            }
            Tok::Text(s) => {
                if in_t && skip == 0 {
                    text.push_str(s);
                }
            }
        }
    }
    let text = collapse(&text);
    if text.is_empty() {
        return None;
    }
    let kind = match role {
        Some(Role::Heading(l)) => BlockKind::Heading(l),
        Some(Role::Caption) => BlockKind::Caption,
        Some(Role::List) => BlockKind::ListItem,
        None => BlockKind::Paragraph,
    };
    Some(block(kind, text, index))
}

/// A table's text: rows (`row` elements) one per line, cells (`cell` names) joined by ` | `,
/// each cell's paragraphs (`para` names) joined by a space. Nested tables read into their cell.
fn table_text(toks: &[Tok], row: &str, cell: &[&str], para: &[&str]) -> String {
    let mut rows: Vec<String> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut cell_depth: Option<usize> = None;
    for t in toks {
        match t {
            Tok::Open { name, .. } => {
                depth += 1;
                if cell.contains(&name.as_str()) && cell_depth.is_none() {
                    cell_depth = Some(depth);
                    current.clear();
                } else if (para.contains(&name.as_str()) && !current.is_empty())
                    || matches!(name.as_str(), "tab" | "s")
                {
                    current.push(' ');
                }
            }
            Tok::Close(name) => {
                if cell_depth == Some(depth) && cell.contains(&name.as_str()) {
                    cells.push(collapse(&current));
                    cell_depth = None;
                } else if name == row && cell_depth.is_none() {
                    if cells.iter().any(|c| !c.is_empty()) {
                        rows.push(cells.join(" | "));
                    }
                    cells.clear();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Text(s) => {
                if cell_depth.is_some() {
                    current.push_str(s);
                }
            }
        }
    }
    rows.join("\n")
}

/// Reads an .odt.
pub fn read_odt(bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let mut zip = Archive::open(bytes, ODT, limits.max_expanded_bytes)?;
    let content = zip.required("content.xml")?;
    let meta = match zip.text("meta.xml")? {
        Some(s) => core_meta(&xml(ODT, "meta.xml", &s)?),
        None => Meta::default(),
    };
    let toks = xml(ODT, "content.xml", &content)?;
    // Automatic styles (P1, P2…) name the style they derive from: a `Title` paragraph may be
    // written with one of them.
    let mut parents: HashMap<String, String> = HashMap::new();
    for t in &toks {
        if t.opens("style") {
            if let (Some(n), Some(p)) = (t.attr("name"), t.attr("parent-style-name")) {
                parents.insert(n.to_string(), p.to_string());
            }
        }
    }
    Ok(Read {
        body: Body::Blocks(odt_blocks(&toks, &parents)),
        encoding: "utf-8".into(),
        meta,
    })
}

/// Elements of OpenDocument text whose content is not the body's flow.
const ODT_SKIP: &[&str] = &["note", "annotation", "tracked-changes", "bookmark-ref"];

fn odt_blocks(toks: &[Tok], parents: &HashMap<String, String>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut index = 0usize;
    let mut i = 0usize;
    let mut in_text = false;
    let mut list_depth = 0usize;
    while i < toks.len() {
        let t = &toks[i];
        match t {
            Tok::Open { name, .. } => match name.as_str() {
                "text" if !in_text => in_text = true,
                "list" if in_text => list_depth += 1,
                n if in_text && ODT_SKIP.contains(&n) => {
                    i = matching(toks, i) + 1;
                    continue;
                }
                "table" if in_text => {
                    let end = matching(toks, i);
                    let text = table_text(&toks[i..end], "table-row", &["table-cell"], &["p", "h"]);
                    blocks.push(block(BlockKind::Table, text, index));
                    index += 1;
                    i = end + 1;
                    continue;
                }
                "p" | "h" if in_text => {
                    let end = matching(toks, i);
                    let style = t.attr("style-name").unwrap_or_default();
                    let style = parents.get(style).map_or(style, String::as_str);
                    let kind = if name == "h" {
                        let level = t
                            .attr("outline-level")
                            .and_then(|l| l.parse::<u8>().ok())
                            .unwrap_or(1);
                        BlockKind::Heading((level + 1).clamp(2, 6))
                    } else if list_depth > 0 {
                        BlockKind::ListItem
                    } else {
                        match role_of_name(style) {
                            Some(Role::Heading(l)) => BlockKind::Heading(l),
                            Some(Role::Caption) => BlockKind::Caption,
                            Some(Role::List) => BlockKind::ListItem,
                            None => BlockKind::Paragraph,
                        }
                    };
                    let text = odt_text(&toks[i..end]);
                    if !text.is_empty() {
                        blocks.push(block(kind, text, index));
                    }
                    index += 1;
                    i = end + 1;
                    continue;
                }
                _ => {}
            },
            Tok::Close(name) => {
                if name == "list" {
                    list_depth = list_depth.saturating_sub(1);
                } else if name == "text" && list_depth == 0 {
                    in_text = false;
                }
            }
            Tok::Text(_) => {}
        }
        i += 1;
    }
    blocks
}

/// A paragraph's text: spans and links read through, `text:s` and tabs as spaces, notes
/// dropped.
fn odt_text(toks: &[Tok]) -> String {
    let mut text = String::new();
    let mut skip = 0usize;
    for t in toks {
        match t {
            Tok::Open { name, .. } => {
                if skip > 0 || ODT_SKIP.contains(&name.as_str()) {
                    skip += 1;
                } else if matches!(name.as_str(), "s" | "tab") {
                    text.push(' ');
                } else if name == "line-break" {
                    text.push('\n');
                }
            }
            Tok::Close(_) => skip = skip.saturating_sub(1),
            Tok::Text(s) => {
                if skip == 0 {
                    text.push_str(s);
                }
            }
        }
    }
    collapse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_styles_by_name_and_outline_level() {
        assert_eq!(role_of_name("heading 1"), Some(Role::Heading(2)));
        assert_eq!(role_of_name("Title"), Some(Role::Heading(1)));
        assert_eq!(role_of_name("Normal"), None);
        let styles = r#"<w:styles><w:style w:styleId="1"><w:name w:val="heading 1"/></w:style>
            <w:style w:styleId="a5"><w:name w:val="标题样式"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style></w:styles>"#;
        let roles = docx_styles(&super::super::xml::tokens(styles).unwrap());
        assert_eq!(roles.get("1"), Some(&Role::Heading(2)));
        assert_eq!(roles.get("a5"), Some(&Role::Heading(3)));
    }

    #[test]
    fn body_paragraphs_tables_and_dropped_footnote_marks() {
        let doc = r#"<w:document><w:body>
            <w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>标题</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">正文 </w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:t>第二句。</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        let blocks = docx_blocks(&super::super::xml::tokens(doc).unwrap(), &HashMap::new());
        let got: Vec<(BlockKind, &str)> =
            blocks.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (BlockKind::Heading(1), "标题"),
                (BlockKind::Paragraph, "正文 第二句。"),
                (BlockKind::Table, "a | b\n1 | 2"),
            ]
        );
        assert_eq!(blocks[2].source, Some(Source::Paragraph { index: 2 }));
    }
}
