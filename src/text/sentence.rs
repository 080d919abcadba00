//! Sentences of one segment, as char offsets into the segment's text.
//!
//! Text with Han characters follows Chinese punctuation: a sentence ends after `。！？!?`, after
//! `……`, or after a `.` that is not between letters or digits (`6.9%` and `U.S.` do not end
//! one), and takes its closing quotes and brackets (`”’」』）》`) with it. A stop inside an open
//! quote or bracket ends nothing unless the quote closes right after it (`“方便、快速。”`).
//! Other text uses the Unicode sentence boundaries (UAX #29), glued back together after common
//! abbreviations (`Mr.`, `Dr.`, `U.S.`, `e.g.`, `i.e.`).

use unicode_segmentation::UnicodeSegmentation;

use super::script::is_han;

/// Half-open char ranges of the sentences of `text`, in order, trimmed of surrounding whitespace.
pub fn sentences(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let ends = if chars.iter().any(|&c| is_han(c)) {
        let balanced = quotes_balance(&chars);
        cjk_ends(&chars, balanced)
    } else {
        latin_ends(text)
    };
    spans_from_ends(&chars, &ends)
}

fn is_stop(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '｡')
}

fn is_opener(c: char) -> bool {
    matches!(
        c,
        '“' | '‘' | '「' | '『' | '（' | '(' | '《' | '〈' | '【' | '〔' | '［' | '['
    )
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        '”' | '’' | '」' | '』' | '）' | ')' | '》' | '〉' | '】' | '〕' | '］' | ']'
    )
}

/// Whether every opener has its closer; when not, quote depth is ignored (a stray quote must not
/// swallow the rest of a paragraph).
fn quotes_balance(chars: &[char]) -> bool {
    let mut depth = 0i64;
    for &c in chars {
        if is_opener(c) {
            depth += 1;
        } else if is_closer(c) {
            depth -= 1;
            if depth < 0 {
                return false;
            }
        }
    }
    depth == 0
}

/// A `.` ends a Chinese sentence unless it sits against an ASCII letter or digit.
fn is_period_stop(chars: &[char], i: usize) -> bool {
    let near = |j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
    };
    chars[i] == '.' && !near(i.checked_sub(1)) && !near(Some(i + 1))
}

fn cjk_ends(chars: &[char], track_depth: bool) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let stop_run = if is_stop(c) || is_period_stop(chars, i) {
            1
        } else if c == '…' && chars.get(i + 1) == Some(&'…') {
            2
        } else {
            0
        };
        if stop_run == 0 {
            if track_depth && is_opener(c) {
                depth += 1;
            } else if track_depth && is_closer(c) {
                depth = depth.saturating_sub(1);
            }
            i += 1;
            continue;
        }
        // Take the whole run of stops and the closers that follow it.
        let mut j = i + stop_run;
        while j < chars.len() && (is_stop(chars[j]) || chars[j] == '…') {
            j += 1;
        }
        while j < chars.len() && (is_closer(chars[j]) || matches!(chars[j], '"' | '\'')) {
            if track_depth && is_closer(chars[j]) {
                depth = depth.saturating_sub(1);
            }
            j += 1;
        }
        if depth == 0 {
            ends.push(j);
        }
        i = j;
    }
    ends
}

const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "etc.", "e.g.", "i.e.",
    "u.s.", "u.k.", "u.n.", "inc.", "ltd.", "co.", "corp.", "no.", "fig.", "gen.", "gov.", "sen.",
    "rep.", "jan.", "feb.", "mar.", "apr.", "aug.", "sept.", "sep.", "oct.", "nov.", "dec.",
    "a.m.", "p.m.", "approx.", "dept.", "est.", "mt.", "ft.",
];

/// Whether a sentence candidate ends with an abbreviation (or an initial like `J.`), so the
/// boundary after it is not a real one.
fn ends_with_abbreviation(sentence: &str) -> bool {
    let Some(last) = sentence.split_whitespace().last() else {
        return false;
    };
    let last = last.trim_start_matches(['(', '"', '\'', '“', '‘']);
    let lower = last.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    let mut cs = last.chars();
    matches!((cs.next(), cs.next(), cs.next()), (Some(a), Some('.'), None) if a.is_uppercase())
}

fn latin_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars_before = 0;
    for (_, s) in text.split_sentence_bound_indices() {
        chars_before += s.chars().count();
        if ends_with_abbreviation(s) {
            continue;
        }
        ends.push(chars_before);
    }
    ends
}

fn spans_from_ends(chars: &[char], ends: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(ends.len() + 1);
    let mut start = 0;
    let all_ends = ends.iter().copied().chain(std::iter::once(chars.len()));
    for end in all_ends {
        let end = end.min(chars.len());
        if end <= start {
            continue;
        }
        let mut s = start;
        let mut e = end;
        while s < e && chars[s].is_whitespace() {
            s += 1;
        }
        while e > s && chars[e - 1].is_whitespace() {
            e -= 1;
        }
        if s < e {
            out.push((s, e));
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        sentences(text)
            .into_iter()
            .map(|(s, e)| chars[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn chinese_splits_after_full_stops_and_marks() {
        assert_eq!(
            split("今天下雨。明天呢？晴天！好"),
            ["今天下雨。", "明天呢？", "晴天！", "好"]
        );
    }

    #[test]
    fn closing_quotes_stay_with_their_sentence() {
        assert_eq!(
            split("他说:“方便、快速。”先声药业深有感触。"),
            ["他说:“方便、快速。”", "先声药业深有感触。"]
        );
        assert_eq!(split("《好书》。（完）"), ["《好书》。", "（完）"]);
    }

    #[test]
    fn a_stop_inside_open_quotes_or_brackets_does_not_split() {
        assert_eq!(
            split("马跃说:“新炉子建成后。电耗可降低。”另外,标煤总降。"),
            ["马跃说:“新炉子建成后。电耗可降低。”", "另外,标煤总降。"]
        );
        assert_eq!(
            split("公司(注意。此处)成立。完"),
            ["公司(注意。此处)成立。", "完"]
        );
    }

    #[test]
    fn a_decimal_point_is_no_boundary() {
        assert_eq!(
            split("同比增长6.9%;增加值46.32亿元。下一句"),
            ["同比增长6.9%;增加值46.32亿元。", "下一句"]
        );
    }

    #[test]
    fn ascii_punctuation_counts_inside_chinese() {
        assert_eq!(
            split("能带来什么?方便!好的.再见"),
            ["能带来什么?", "方便!", "好的.", "再见"]
        );
    }

    #[test]
    fn ellipsis_pair_ends_a_sentence() {
        assert_eq!(split("等一下……然后呢"), ["等一下……", "然后呢"]);
    }

    #[test]
    fn stray_quotes_do_not_swallow_the_paragraph() {
        assert_eq!(
            split("核心就是统筹。”马跃认为,要强链。下一步。"),
            ["核心就是统筹。”", "马跃认为,要强链。", "下一步。"]
        );
    }

    #[test]
    fn offsets_are_chars_of_the_segment_text() {
        let text = "甲。 乙。";
        assert_eq!(sentences(text), [(0, 2), (3, 5)]);
    }

    #[test]
    fn english_uses_unicode_bounds_and_keeps_abbreviations() {
        assert_eq!(
            split("Mr. Smith met Dr. Jones in the U.S. on Monday. They talked, e.g. about rain. Fine!"),
            [
                "Mr. Smith met Dr. Jones in the U.S. on Monday.",
                "They talked, e.g. about rain.",
                "Fine!"
            ]
        );
    }
}
