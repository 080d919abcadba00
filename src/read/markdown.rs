//! Markdown through a CommonMark parser (`pulldown-cmark`, with GitHub tables, strikethrough
//! and footnotes): headings, paragraphs, list items, tables and code blocks as blocks; emphasis,
//! link and image markup gone from the text; YAML front matter (`---` … `---`) read as
//! metadata (title, author/authors, date, lang), never as text. Footnote definitions and raw
//! HTML blocks are dropped.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{collapse, Body, Meta, Read, ReadFailure};
use crate::text::{decode::decode, Block, BlockKind, Source};

/// What is being collected.
struct Open {
    kind: BlockKind,
    text: String,
    start: usize,
}

/// Reads a Markdown file (decoded the way text is).
pub fn read(bytes: &[u8]) -> Result<Read, ReadFailure> {
    let decoded = decode(bytes)?;
    let (blocks, meta) = parse(&decoded.text);
    Ok(Read {
        body: Body::Blocks(blocks),
        encoding: decoded.encoding,
        meta,
    })
}

/// The blocks and front matter of Markdown `text`; `Source::Bytes` ranges index `text`.
pub fn parse(text: &str) -> (Vec<Block>, Meta) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut blocks: Vec<Block> = Vec::new();
    let mut meta = Meta::default();
    let mut open: Vec<Open> = Vec::new();
    // Inside what is dropped (footnote definitions, raw HTML, front matter) or collected whole
    // (a table, whose rows and cells are joined at its end).
    let mut dropped = 0usize;
    let mut in_meta = false;
    let mut table: Option<(Vec<String>, Vec<String>, String, usize)> = None;
    let push = |blocks: &mut Vec<Block>, o: Open, end: usize| {
        let text = match o.kind {
            BlockKind::Code => o.text.trim_end().to_string(),
            _ => collapse(&o.text),
        };
        if !text.is_empty() {
            blocks.push(Block {
                kind: o.kind,
                text,
                source: Some(Source::Bytes {
                    byte_start: o.start,
                    byte_end: end,
                }),
                opens_article: false,
            });
        }
    };
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        if in_meta {
            match event {
                Event::Text(t) => front_matter(&t, &mut meta),
                Event::End(TagEnd::MetadataBlock(_)) => in_meta = false,
                _ => {}
            }
            continue;
        }
        if let Some((rows, cells, cell, start)) = table.as_mut() {
            match event {
                Event::End(TagEnd::TableCell) => cells.push(collapse(&std::mem::take(cell))),
                Event::End(TagEnd::TableHead) | Event::End(TagEnd::TableRow) => {
                    if cells.iter().any(|c| !c.is_empty()) {
                        rows.push(cells.join(" | "));
                    }
                    cells.clear();
                }
                Event::End(TagEnd::Table) => {
                    let o = Open {
                        kind: BlockKind::Table,
                        text: rows.join("\n"),
                        start: *start,
                    };
                    table = None;
                    if !o.text.is_empty() {
                        blocks.push(Block {
                            kind: BlockKind::Table,
                            text: o.text,
                            source: Some(Source::Bytes {
                                byte_start: o.start,
                                byte_end: range.end,
                            }),
                            opens_article: false,
                        });
                    }
                }
                Event::Text(t) | Event::Code(t) => cell.push_str(&t),
                Event::SoftBreak | Event::HardBreak => cell.push(' '),
                _ => {}
            }
            continue;
        }
        if dropped > 0 {
            match event {
                Event::Start(Tag::FootnoteDefinition(_)) | Event::Start(Tag::HtmlBlock) => {
                    dropped += 1
                }
                Event::End(TagEnd::FootnoteDefinition) | Event::End(TagEnd::HtmlBlock) => {
                    dropped -= 1
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_meta = true,
            Event::Start(Tag::FootnoteDefinition(_)) | Event::Start(Tag::HtmlBlock) => dropped += 1,
            Event::Start(Tag::Table(_)) => {
                table = Some((Vec::new(), Vec::new(), String::new(), range.start));
            }
            Event::Start(Tag::Heading { level, .. }) => open.push(Open {
                kind: BlockKind::Heading(level as u8),
                text: String::new(),
                start: range.start,
            }),
            Event::Start(Tag::CodeBlock(_)) => open.push(Open {
                kind: BlockKind::Code,
                text: String::new(),
                start: range.start,
            }),
            Event::Start(Tag::Item) => open.push(Open {
                kind: BlockKind::ListItem,
                text: String::new(),
                start: range.start,
            }),
            Event::Start(Tag::List(_)) => {
                // An item's text before its nested list is a block of its own.
                if let Some(o) = open.last_mut().filter(|o| o.kind == BlockKind::ListItem) {
                    let taken = Open {
                        kind: BlockKind::ListItem,
                        text: std::mem::take(&mut o.text),
                        start: o.start,
                    };
                    o.start = range.start;
                    push(&mut blocks, taken, range.start);
                }
            }
            Event::Start(Tag::Paragraph) => {
                // A paragraph of a list item is the item's text.
                if open.last().is_some_and(|o| o.kind == BlockKind::ListItem) {
                    if let Some(o) = open.last_mut() {
                        o.text.push(' ');
                    }
                } else {
                    open.push(Open {
                        kind: BlockKind::Paragraph,
                        text: String::new(),
                        start: range.start,
                    });
                }
            }
            Event::End(TagEnd::Paragraph)
                if open.last().is_some_and(|o| o.kind == BlockKind::Paragraph) =>
            {
                if let Some(o) = open.pop() {
                    push(&mut blocks, o, range.end);
                }
            }
            Event::End(TagEnd::Heading(_))
            | Event::End(TagEnd::CodeBlock)
            | Event::End(TagEnd::Item) => {
                if let Some(o) = open.pop() {
                    push(&mut blocks, o, range.end);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(o) = open.last_mut() {
                    o.text.push_str(&t);
                }
            }
            Event::SoftBreak => {
                if let Some(o) = open.last_mut() {
                    o.text.push('\n');
                }
            }
            Event::HardBreak => {
                if let Some(o) = open.last_mut() {
                    o.text.push('\n');
                }
            }
            _ => {}
        }
    }
    while let Some(o) = open.pop() {
        push(&mut blocks, o, text.len());
    }
    // A page whose front matter gives its title and whose text does not repeat it as a heading
    // is headed by it (as a static site renders it).
    if let Some(title) = meta
        .title
        .as_deref()
        .map(collapse)
        .filter(|t| !t.is_empty())
    {
        let headed = blocks
            .iter()
            .any(|b| matches!(b.kind, BlockKind::Heading(1)) || b.text == title);
        if !headed {
            blocks.insert(
                0,
                Block {
                    kind: BlockKind::Heading(1),
                    text: title,
                    source: None,
                    opens_article: false,
                },
            );
        }
    }
    (blocks, meta)
}

/// `key: value` lines of YAML front matter: title, author / authors (a string, a `[a, b]`
/// list or `- a` lines), date, lang / language.
fn front_matter(yaml: &str, meta: &mut Meta) {
    let unquote = |v: &str| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
    let mut list_key: Option<String> = None;
    for line in yaml.lines() {
        let trimmed = line.trim();
        if let (Some(item), Some(key)) = (trimmed.strip_prefix("- "), list_key.as_deref()) {
            if matches!(key, "author" | "authors") {
                meta.authors.push(unquote(item));
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        list_key = value.is_empty().then(|| key.clone());
        match key.as_str() {
            "title" => meta.title = Some(unquote(value)),
            "date" | "published" => meta.published = Some(unquote(value)),
            "lang" | "language" => meta.language = Some(unquote(value)),
            "author" | "authors" if !value.is_empty() => {
                let inner = value.trim_start_matches('[').trim_end_matches(']');
                meta.authors
                    .extend(inner.split(',').map(unquote).filter(|a| !a.is_empty()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(md: &str) -> Vec<(BlockKind, String)> {
        parse(md).0.into_iter().map(|b| (b.kind, b.text)).collect()
    }

    #[test]
    fn blocks_by_kind_with_markup_gone() {
        let md = "---\ntitle: 标题\nauthors: [张三, Li Si]\ndate: 2024-03-30\n---\n\n# 标题\n\n\
                  这是**重要**的[链接](http://x)。\n\n- 第一项\n- 第二项\n  - 嵌套\n\n\
                  | a | b |\n|---|---|\n| 1 | 2 |\n\n```\nlet x = 1;\n```\n\n脚注[^1]。\n\n[^1]: 脚注内容\n";
        let (blocks, meta) = parse(md);
        assert_eq!(meta.title.as_deref(), Some("标题"));
        assert_eq!(meta.authors, vec!["张三", "Li Si"]);
        assert_eq!(meta.published.as_deref(), Some("2024-03-30"));
        let got: Vec<(BlockKind, &str)> =
            blocks.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (BlockKind::Heading(1), "标题"),
                (BlockKind::Paragraph, "这是重要的链接。"),
                (BlockKind::ListItem, "第一项"),
                (BlockKind::ListItem, "第二项"),
                (BlockKind::ListItem, "嵌套"),
                (BlockKind::Table, "a | b\n1 | 2"),
                (BlockKind::Code, "let x = 1;"),
                (BlockKind::Paragraph, "脚注。"),
            ]
        );
        let Some(Source::Bytes {
            byte_start,
            byte_end,
        }) = blocks[1].source
        else {
            panic!("no byte range");
        };
        assert!(md[byte_start..byte_end].starts_with("这是**重要**"));
    }

    #[test]
    fn soft_breaks_join_like_text() {
        assert_eq!(
            kinds("第一行\n第二行。\n\nfirst line\nsecond line."),
            vec![
                (BlockKind::Paragraph, "第一行第二行。".to_string()),
                (BlockKind::Paragraph, "first line second line.".to_string()),
            ]
        );
    }
}
