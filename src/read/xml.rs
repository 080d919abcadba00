//! The XML of office documents and EPUB packages as a flat list of tokens: elements by their
//! local name (namespace prefixes dropped: `w:p` is `p`), attributes by theirs, text with its
//! entities resolved. The parts are bounded by `formats.max_expanded_bytes`, so holding one
//! part's tokens is bounded too.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One token of an XML part.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An element begins (an empty element gives `Open` then `Close`).
    Open {
        name: String,
        attrs: Vec<(String, String)>,
    },
    Close(String),
    Text(String),
}

impl Tok {
    /// The value of the attribute with this local name, on an `Open`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Tok::Open { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    pub fn opens(&self, name: &str) -> bool {
        matches!(self, Tok::Open { name: n, .. } if n == name)
    }

    pub fn closes(&self, name: &str) -> bool {
        matches!(self, Tok::Close(n) if n == name)
    }
}

fn local(name: &str) -> String {
    match name.rfind(':') {
        Some(i) => name[i + 1..].to_string(),
        None => name.to_string(),
    }
}

/// The tokens of `xml`, or what is wrong with it.
pub fn tokens(xml: &str) -> Result<Vec<Tok>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => open(&mut out, &e, false),
            Event::Empty(e) => open(&mut out, &e, true),
            Event::End(e) => out.push(Tok::Close(local(e.name().as_ref()))),
            Event::Text(t) => push_text(&mut out, &t.xml10_content()),
            Event::CData(t) => push_text(&mut out, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string),
                };
                if let Some(text) = resolved {
                    push_text(&mut out, &text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn open(out: &mut Vec<Tok>, e: &quick_xml::events::BytesStart<'_>, empty: bool) {
    let name = local(e.name().as_ref());
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            (local(a.key.as_ref()), value)
        })
        .collect();
    out.push(Tok::Open {
        name: name.clone(),
        attrs,
    });
    if empty {
        out.push(Tok::Close(name));
    }
}

fn push_text(out: &mut Vec<Tok>, text: &str) {
    if let Some(Tok::Text(prev)) = out.last_mut() {
        prev.push_str(text);
    } else {
        out.push(Tok::Text(text.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_go_and_entities_resolve() {
        let toks =
            tokens(r#"<w:p a:x="1&amp;2"><w:t>A &lt;b&gt; &#x4E2D;</w:t><w:br/></w:p>"#).unwrap();
        assert_eq!(toks[0].attr("x"), Some("1&2"));
        assert!(toks[0].opens("p"));
        assert_eq!(toks[2], Tok::Text("A <b> 中".into()));
        assert!(toks[4].opens("br") && toks[5].closes("br"));
        assert!(tokens("<a><b></a>").is_err());
    }
}
