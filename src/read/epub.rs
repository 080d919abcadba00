//! EPUB books: the package (`META-INF/container.xml` → the OPF) gives the metadata and the
//! spine; each spine document is read as XHTML through the HTML reader (all of it content, the
//! same boilerplate rules) and opens an article of its own. The navigation document and
//! anything that is not XHTML are skipped.

use std::collections::HashMap;

use super::archive::{xml, Archive};
use super::xml::Tok;
use super::{Body, Limits, Meta, Read, ReadFailure};
use crate::event::FailKind;

const EPUB: &str = "an EPUB book";

pub fn read(bytes: &[u8], limits: &Limits) -> Result<Read, ReadFailure> {
    let mut zip = Archive::open(bytes, EPUB, limits.max_expanded_bytes)?;
    let container = zip.required("META-INF/container.xml")?;
    let opf_path = xml(EPUB, "META-INF/container.xml", &container)?
        .iter()
        .find(|t| t.opens("rootfile"))
        .and_then(|t| t.attr("full-path"))
        .map(str::to_string)
        .ok_or_else(|| {
            ReadFailure::new(
                FailKind::MalformedDocument,
                "an EPUB book whose META-INF/container.xml names no package (rootfile)",
            )
        })?;
    let opf = zip.required(&opf_path)?;
    let toks = xml(EPUB, &opf_path, &opf)?;
    let base = match opf_path.rfind('/') {
        Some(i) => &opf_path[..=i],
        None => "",
    };
    let meta = package_meta(&toks);
    let mut manifest: HashMap<&str, (&str, &str, bool)> = HashMap::new();
    for t in &toks {
        if t.opens("item") {
            if let (Some(id), Some(href)) = (t.attr("id"), t.attr("href")) {
                let media = t.attr("media-type").unwrap_or_default();
                let nav = t
                    .attr("properties")
                    .is_some_and(|p| p.split_whitespace().any(|w| w == "nav"));
                manifest.insert(id, (href, media, nav));
            }
        }
    }
    let mut blocks = Vec::new();
    for t in toks.iter().filter(|t| t.opens("itemref")) {
        if t.attr("linear") == Some("no") {
            continue;
        }
        let Some(&(href, media, nav)) = t.attr("idref").and_then(|id| manifest.get(id)) else {
            continue;
        };
        if nav || !(media.contains("html") || media.is_empty()) {
            continue;
        }
        let part = resolve(base, href);
        let Some(text) = zip.text(&part)? else {
            continue;
        };
        let (mut chapter, _) = super::html::chapter(&text, &part, limits)?;
        if let Some(first) = chapter.first_mut() {
            first.opens_article = true;
        }
        blocks.append(&mut chapter);
    }
    Ok(Read {
        body: Body::Blocks(blocks),
        encoding: "utf-8".into(),
        meta,
    })
}

/// `href` (percent-escapes and `..` resolved) relative to the package's folder.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let mut decoded = Vec::new();
    let bytes = href.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            if let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                decoded.push(v);
                i += 3;
                continue;
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let joined = format!("{base}{}", String::from_utf8_lossy(&decoded));
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn package_meta(toks: &[Tok]) -> Meta {
    let mut meta = Meta::default();
    let mut field: Option<&str> = None;
    let mut in_meta = false;
    for t in toks {
        match t {
            Tok::Open { name, .. } => {
                if name == "metadata" {
                    in_meta = true;
                }
                field = in_meta.then_some(name.as_str());
            }
            Tok::Text(text) => match field {
                Some("title") => {
                    meta.title.get_or_insert_with(|| text.clone());
                }
                Some("creator") => meta.authors.push(text.clone()),
                Some("date") => {
                    meta.published.get_or_insert_with(|| text.clone());
                }
                Some("language") => {
                    meta.language.get_or_insert_with(|| text.clone());
                }
                Some("publisher") => {
                    meta.site.get_or_insert_with(|| text.clone());
                }
                _ => {}
            },
            Tok::Close(name) => {
                field = None;
                if name == "metadata" {
                    in_meta = false;
                }
            }
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_resolve_against_the_package() {
        assert_eq!(
            resolve("OEBPS/", "text/ch%201.xhtml#x"),
            "OEBPS/text/ch 1.xhtml"
        );
        assert_eq!(resolve("OEBPS/text/", "../ch2.xhtml"), "OEBPS/ch2.xhtml");
        assert_eq!(resolve("", "ch3.xhtml"), "ch3.xhtml");
    }
}
