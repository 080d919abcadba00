//! Which script a character is written in, as the text stages ask it.

/// Han characters: the CJK Unified Ideographs with their extensions A to F (U+3400–U+4DBF,
/// U+4E00–U+9FFF, U+20000–U+2FFFF) and the compatibility ideographs (U+F900–U+FAFF). The one
/// Han check of the crate (normalization keeps its own fast-path ranges, which are about what
/// NFKC leaves alone, not about script).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}'
        | '\u{20000}'..='\u{2ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_covers_the_extensions_and_not_kana_or_hangul() {
        for c in ['中', '㐀', '𠮷', '豈'] {
            assert!(is_han(c), "{c}");
        }
        for c in ['あ', 'ア', '한', 'a', '。'] {
            assert!(!is_han(c), "{c}");
        }
    }
}
