//! Traditional Chinese through the Simplified rules: a *shadow* of a text maps each Traditional
//! character to its Simplified form one for one (OpenCC's TSCharacters, `data/opencc/`), so
//! every char offset found in the shadow is an offset into the original, and what is reported
//! is cut from the original. Also the language tags of a text (BCP 47: `zh-Hans`, `zh-Hant`,
//! `en`, `ja`, `ko`, `und`).

use std::borrow::Cow;
use std::sync::LazyLock;

use rustc_hash::{FxHashMap, FxHashSet};

use super::script::is_han;

struct Table {
    to_simplified: FxHashMap<char, char>,
    /// Characters only Traditional text uses, and only Simplified text uses.
    traditional_only: FxHashSet<char>,
    simplified_only: FxHashSet<char>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut to_simplified = FxHashMap::default();
    for line in include_str!("../../data/opencc/ts-characters.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut it = line.split('\t').filter_map(|p| p.chars().next());
        if let (Some(t), Some(s)) = (it.next(), it.next()) {
            to_simplified.insert(t, s);
        }
    }
    let keys: FxHashSet<char> = to_simplified.keys().copied().collect();
    let values: FxHashSet<char> = to_simplified.values().copied().collect();
    Table {
        traditional_only: keys.difference(&values).copied().collect(),
        simplified_only: values.difference(&keys).copied().collect(),
        to_simplified,
    }
});

/// The Simplified form of `c` (itself when it has none).
pub fn simplified(c: char) -> char {
    TABLE.to_simplified.get(&c).copied().unwrap_or(c)
}

/// `text` with every Traditional character replaced by its Simplified form, one char for one
/// (borrowed when nothing changes).
pub fn shadow(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| TABLE.to_simplified.contains_key(&c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(simplified).collect())
}

/// The BCP 47 tag of `text`: `zh-Hant` or `zh-Hans` when Han characters carry it (Hant when it
/// uses more Traditional-only than Simplified-only characters; a Han text that uses neither
/// takes `han_default`), `ja` or `ko` when kana or Hangul are a tenth of its letters, `en` when
/// Latin letters dominate, `und` when it has no letters. Looks at the first 20,000 chars.
pub fn language(text: &str, han_default: &'static str) -> &'static str {
    let t = &*TABLE;
    let (mut han, mut latin, mut kana, mut hangul, mut trad, mut simp) = (0usize, 0, 0, 0, 0, 0);
    for c in text.chars().take(20_000) {
        if is_han(c) {
            han += 1;
            trad += usize::from(t.traditional_only.contains(&c));
            simp += usize::from(t.simplified_only.contains(&c));
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        } else if ('\u{3040}'..='\u{30ff}').contains(&c) {
            kana += 1;
        } else if ('\u{ac00}'..='\u{d7af}').contains(&c) || ('\u{1100}'..='\u{11ff}').contains(&c) {
            hangul += 1;
        }
    }
    let letters = han + latin + kana + hangul;
    if letters == 0 {
        return "und";
    }
    if kana * 10 >= letters {
        return "ja";
    }
    if hangul * 10 >= letters {
        return "ko";
    }
    // A Han character carries about as much as a Latin word (~5 letters).
    if han * 5 < latin {
        return "en";
    }
    match trad.cmp(&simp) {
        std::cmp::Ordering::Greater => "zh-Hant",
        std::cmp::Ordering::Less => "zh-Hans",
        std::cmp::Ordering::Equal => han_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shadow_maps_one_char_for_one() {
        let text = "合併營收約新台幣5467億3200萬元，台積電董事長劉德音說。";
        let s = shadow(text);
        assert_eq!(s, "合并营收约新台币5467亿3200万元，台积电董事长刘德音说。");
        assert_eq!(s.chars().count(), text.chars().count());
        assert!(matches!(shadow("海口高新区"), Cow::Borrowed(_)));
    }

    #[test]
    fn languages_by_script() {
        assert_eq!(
            language("中央社記者張建中新竹電，台積電營收創新高。", "zh-Hans"),
            "zh-Hant"
        );
        assert_eq!(
            language("海口高新区积极探索经济合作模式。", "zh-Hans"),
            "zh-Hans"
        );
        assert_eq!(language("中文", "zh-Hant"), "zh-Hant");
        assert_eq!(language("中国", "zh-Hant"), "zh-Hans");
        assert_eq!(
            language("Apple Inc. reported revenue of $123.9 billion.", "zh-Hans"),
            "en"
        );
        assert_eq!(
            language("東京都の小池知事は会見で述べた。", "zh-Hans"),
            "ja"
        );
        assert_eq!(language("서울시는 오늘 발표했다", "zh-Hans"), "ko");
        assert_eq!(language("2024 — 3.5", "zh-Hans"), "und");
    }
}
