//! The normalized form of a text: what hashing and matching look at, never what is emitted.
//!
//! NFKC (which also folds full-width ASCII such as `：（３` to `:(3` and half-width katakana to
//! full width), then every run of whitespace collapsed to one ASCII space and trimmed at both
//! ends. Each normalized char remembers the original char it came from, so a match found in the
//! normalized form can be mapped back to offsets in the decoded original.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// A normalized text with a map back to the original's char offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    /// `origin[i]` is the original char offset of normalized char `i`; one extra entry at the
    /// end holds the original length, so an exclusive end maps too.
    origin: Vec<usize>,
}

impl Normalized {
    /// Original char offset of normalized char offset `i` (an exclusive end maps to the end of
    /// the original char it follows).
    pub fn original_char(&self, i: usize) -> usize {
        self.origin
            .get(i)
            .or_else(|| self.origin.last())
            .copied()
            .unwrap_or(0)
    }
}

/// The normalized text being built: chars with their original offsets, and a space owed
/// before the next char when whitespace was seen.
struct Builder {
    out: String,
    /// None when only the text is wanted ([`normalized`]): no map is built.
    origin: Option<Vec<usize>>,
    pending_space: Option<usize>,
}

impl Builder {
    /// Adds one normalized char that came from original char `at`.
    fn push(&mut self, c: char, at: usize) {
        if c.is_whitespace() {
            self.pending_space.get_or_insert(at);
            return;
        }
        if let Some(space_at) = self.pending_space.take() {
            if !self.out.is_empty() {
                self.out.push(' ');
                if let Some(origin) = &mut self.origin {
                    origin.push(space_at);
                }
            }
        }
        self.out.push(c);
        if let Some(origin) = &mut self.origin {
            origin.push(at);
        }
    }

    /// Adds the NFKC form of a base char and its combining marks (from original char `start`).
    fn flush(&mut self, cluster: &mut String, start: usize) {
        for c in cluster.nfkc() {
            self.push(c, start);
        }
        cluster.clear();
    }
}

/// Normalizes `text` (NFKC, width folding, whitespace collapsed) keeping the offset map.
pub fn normalize(text: &str) -> Normalized {
    let (text, origin) = build(text, true);
    Normalized {
        text,
        origin: origin.unwrap_or_default(),
    }
}

/// The normalized text, and the offset map when `map` is set.
fn build(text: &str, map: bool) -> (String, Option<Vec<usize>>) {
    let mut b = Builder {
        out: String::with_capacity(text.len()),
        origin: map.then(|| Vec::with_capacity(text.len())),
        pending_space: None,
    };
    let mut cluster = String::new();
    let mut cluster_start = 0;
    let mut total = 0;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        total = i + 1;
        // Fast path: chars whose NFKC form is known without a table walk (the bulk of Chinese
        // and English text), emitted directly unless a combining mark could follow into them.
        let simple = fold_simple(c).or_else(|| {
            // An ASCII letter is final unless a combining mark follows it (e + ◌́ → é).
            let next_plain = chars
                .peek()
                .is_none_or(|&(_, n)| n.is_ascii() || fold_simple(n).is_some());
            (c.is_ascii_alphabetic() && next_plain).then_some(c)
        });
        let simple = if c == '\n' || c == ' ' {
            Some(' ')
        } else {
            simple
        };
        if let Some(folded) = simple {
            if !cluster.is_empty() {
                b.flush(&mut cluster, cluster_start);
            }
            b.push(folded, i);
            continue;
        }
        // A combining mark stays with its base so that NFKC can compose them.
        if (is_stable(c) || canonical_combining_class(c) == 0) && !cluster.is_empty() {
            b.flush(&mut cluster, cluster_start);
        }
        if cluster.is_empty() {
            cluster_start = i;
        }
        cluster.push(c);
    }
    b.flush(&mut cluster, cluster_start);
    if let Some(origin) = &mut b.origin {
        origin.push(total);
    }
    (b.out, b.origin)
}

/// Chars that NFKC leaves alone and that no combining mark follows into a new char when alone:
/// printable ASCII and the common Han block (the bulk of the text), a fast path.
fn is_stable(c: char) -> bool {
    matches!(c, '!'..='~' | '\u{4e00}'..='\u{9fff}' | '\u{3001}'..='\u{3003}'
        | '\u{3008}'..='\u{3011}' | '\u{2018}'..='\u{201d}')
}

/// NFKC of `c` when it is one char that needs no table: stable chars map to themselves,
/// full-width ASCII (U+FF01..U+FF5E) to ASCII, the ideographic space and tabs to a space. A
/// stable char followed by a combining mark would compose, so Latin letters are left to the
/// full path (`is_stable` covers punctuation and digits only on that side).
fn fold_simple(c: char) -> Option<char> {
    match c {
        '\u{4e00}'..='\u{9fff}' | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' => Some(c),
        '\u{2018}'..='\u{201d}' => Some(c),
        '!'..='@' | '['..='`' | '{'..='~' => Some(c),
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0),
        '\u{3000}' | '\t' | '\r' => Some(' '),
        _ => None,
    }
}

/// The normalized text alone (for hashing), without building the offset map.
pub fn normalized(text: &str) -> String {
    build(text, false).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_and_its_combining_mark_compose_like_the_precomposed_char() {
        assert_eq!(normalized("cafe\u{301} Ａb"), normalized("café Ab"));
        assert_eq!(normalized("cafe\u{301}"), "café");
    }

    #[test]
    fn full_width_forms_fold_and_whitespace_collapses() {
        let n = normalize("  图片来源：ＡＢＣ（３月）\u{3000}\n 完 ");
        assert_eq!(n.text, "图片来源:ABC(3月) 完");
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let original = "ａ  ｂ：c";
        let n = normalize(original);
        assert_eq!(n.text, "a b:c");
        let colon = n.text.find(':').map(|b| n.text[..b].chars().count());
        assert_eq!(colon, Some(3));
        assert_eq!(n.original_char(3), 4);
        assert_eq!(n.original_char(2), 3);
        assert_eq!(n.original_char(5), original.chars().count());
    }

    #[test]
    fn the_text_alone_is_the_text_of_the_mapped_form() {
        for t in [
            "",
            "  ",
            "e\u{301}",
            "\u{301}a",
            "图片来源：ＡＢＣ（３月）\u{3000}\n 完 ",
            "ｶﾞ ﾊﾟ Ａ\tb\r\nc",
        ] {
            assert_eq!(normalized(t), normalize(t).text, "{t:?}");
        }
    }

    #[test]
    fn combining_marks_compose_with_their_base() {
        assert_eq!(normalized("e\u{301}te\u{301}"), "été");
    }
}
