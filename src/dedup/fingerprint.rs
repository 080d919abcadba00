//! Exact fingerprints: what two texts share when they differ only in encoding, character width,
//! spacing or punctuation.
//!
//! The folded form is the normalized text (NFKC, width folding; see [`crate::text::normalize`])
//! with whitespace and punctuation removed. Letters, digits, Han characters and the few symbols
//! that change a meaning (`%`, currency signs, `+`, `<`, `=`, `>`, `°`) are kept, so "增长5%" and
//! "增长5" stay different while "增长5%。" and "增长 5% ." fold alike.

use sha2::{Digest, Sha256};

use crate::text::normalize::normalized;

/// 128-bit fingerprint of a folded text.
pub type Fingerprint = [u8; 16];

/// Whether a normalized char survives folding.
pub fn is_kept(c: char) -> bool {
    // The common case first: ASCII, and CJK Unified Ideographs (alphabetic, but the general
    // Unicode table lookup for them is slow).
    if c.is_ascii_alphanumeric() || crate::text::script::is_han(c) {
        return true;
    }
    c.is_alphanumeric()
        || matches!(
            c,
            '%' | '‰' | '$' | '¥' | '€' | '£' | '+' | '<' | '=' | '>' | '°'
        )
}

/// The folded form of `text`: normalized, then only the kept chars.
pub fn fold(text: &str) -> String {
    fold_normalized(&normalized(text))
}

/// The folded form of a text already normalized.
pub fn fold_normalized(normalized: &str) -> String {
    normalized.chars().filter(|&c| is_kept(c)).collect()
}

/// Fingerprint of an already folded text.
pub fn of_folded(folded: &str) -> Fingerprint {
    let digest = Sha256::digest(folded.as_bytes());
    let mut fp = [0u8; 16];
    fp.copy_from_slice(&digest[..16]);
    fp
}

/// Fingerprint of `text` (folds it first).
pub fn fingerprint(text: &str) -> Fingerprint {
    of_folded(&fold(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_spacing_and_punctuation_do_not_change_the_fingerprint() {
        let a = fingerprint("近年来，海口高新区积极探索“飞地”经济合作模式。");
        let b = fingerprint("近年来,海口高新区  积极探索\"飞地\"经济合作模式.\n");
        let c = fingerprint("近年来 海口高新区积极探索飞地经济合作模式");
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn letters_digits_and_meaningful_symbols_do() {
        assert_ne!(fingerprint("增长5%"), fingerprint("增长5"));
        assert_ne!(fingerprint("增长5%"), fingerprint("增长6%"));
        assert_eq!(fingerprint("ＡＢＣ１２３"), fingerprint("ABC 123"));
    }

    #[test]
    fn folding_keeps_han_latin_and_digits_only() {
        assert_eq!(fold("（记者 张三）3月5日，Ａ股。"), "记者张三3月5日A股");
    }
}
