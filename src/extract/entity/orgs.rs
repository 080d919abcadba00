//! Organizations: a suffix and the name-like words before it, well-known names, and the
//! organization written before a title (金川冶炼董事长).

use std::collections::HashSet;

use super::places::extend_over_place;
use super::text::{name_like, Text, Tok};
use super::words::*;
use super::*;

/// The organization suffix that ends exactly at `end`, longest first, and its length in chars.
pub(super) fn suffix_ending_at(chars: &[char], end: usize) -> Option<(&'static str, usize)> {
    let last = *chars.get(end.checked_sub(1)?)?;
    SUFFIXES
        .get(&last)?
        .iter()
        .find(|(_, cs)| end >= cs.len() && chars[end - cs.len()..end] == cs[..])
        .map(|(s, cs)| (*s, cs.len()))
}

/// Organizations ending in a suffix. The name is the run of name-like words before the suffix
/// (a place that jieba split is taken whole; a parenthesized place stays in: 新兴际华创新药械
/// (海南)科技有限公司).
pub(super) fn suffixed_orgs(t: &Text, places: &[Entity]) -> Vec<Entity> {
    let (chars, toks) = (&t.chars, &t.toks);
    let mut out: Vec<Entity> = Vec::new();
    for (k, tok) in toks.iter().enumerate() {
        let Some((suffix, suffix_len)) = suffix_ending_at(chars, tok.end) else {
            continue;
        };
        let tok_len = tok.end - tok.start;
        // The suffix must end the word (格局 is no 局) unless the word is a known org form.
        let within = suffix_len <= tok_len;
        if within && NOT_ORGS_SET.contains(tok.text) && tok.text != suffix {
            continue;
        }
        let attaching = ATTACHING_SET.contains(suffix);
        let suffix_start = tok.end - suffix_len;
        let mut start = tok.start;
        let mut j = k;
        let floor = match out.last() {
            // 集团 + 有限公司: a legal form or an office attaches to the name right before it.
            Some(o) if attaching && o.char_end == suffix_start => o.char_start,
            Some(o) => o.char_end,
            None => 0,
        };
        while j > 0 {
            let prev = &toks[j - 1];
            if prev.start < floor {
                break;
            }
            let paren = paren_place(toks, j);
            if let Some(open) = paren {
                start = toks[open].start;
                j = open;
                continue;
            }
            let prev_suffixed = suffix_ending_at(chars, prev.end).is_some();
            let attaches_over = attaching && prev_suffixed && j == k;
            if !(name_like(prev) || attaches_over)
                || (prev_suffixed && !attaches_over && !is_known_place(prev.text))
            {
                break;
            }
            start = prev.start;
            j -= 1;
            if start + 14 < suffix_start {
                break;
            }
        }
        start = extend_over_place(places, start);
        if start >= suffix_start && tok_len <= suffix_len {
            continue;
        }
        let name_part = t.str(start, suffix_start);
        if !valid_name_part(t, name_part, start, suffix_start) {
            continue;
        }
        // A one-character suffix (局, 厂, 部…) needs a place or a proper name before it.
        if suffix_len == 1
            && !t.tok_starting(start).is_some_and(|x| {
                is_known_place(x.text) || matches!(x.tag, "ns" | "nt" | "nz" | "j")
            })
        {
            continue;
        }
        let org = entity(
            EntityType::Organization,
            t.str(start, tok.end).into(),
            start,
            tok.end,
        );
        // Keep the widest of overlapping candidates.
        while out
            .last()
            .is_some_and(|o| o.char_start >= start && o.char_end <= tok.end)
        {
            out.pop();
        }
        out.push(org);
    }
    out
}

/// `(海南)` ending right before token `j`: the index of its opening token.
pub(super) fn paren_place(toks: &[Tok], j: usize) -> Option<usize> {
    if j < 3 {
        return None;
    }
    let (open, inner, close) = (&toks[j - 3], &toks[j - 2], &toks[j - 1]);
    let opens = matches!(open.text, "(" | "（");
    let closes = matches!(close.text, ")" | "）");
    (opens && closes && is_known_place(inner.text) && j >= 4 && name_like(&toks[j - 4]))
        .then_some(j - 3)
}

/// Whether chars `start..end` (`name`) can be an organization's name part.
pub(super) fn valid_name_part(t: &Text, name: &str, start: usize, end: usize) -> bool {
    let n = end - start;
    if n == 0 || !(n >= 2 || is_known_place(name)) {
        return false;
    }
    // The tokens inside `start..end`: tokens tile the text in order, so they are a run.
    let first = t.toks.partition_point(|x| x.start < start);
    let mut inside = t.toks[first..]
        .iter()
        .take_while(|x| x.end <= end)
        .peekable();
    let all_generic = inside.peek().is_some() && inside.all(|x| GENERIC_SET.contains(x.text));
    !all_generic
        && !name.starts_with(|c: char| {
            c.is_ascii_digit() || crate::extract::number::chinese_digit(c).is_some() || c == '十'
        })
}

/// Well-known organizations named without a suffix.
pub(super) fn known_orgs(t: &Text) -> Vec<Entity> {
    let g = &*GAZETTEER;
    let chars = &t.chars;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let lens = match g.org_lens.get(&chars[i]) {
            Some(&lens) if t.starts_word(i) => lens,
            _ => {
                i += 1;
                continue;
            }
        };
        let hit = (2..=g.max_org.min(chars.len() - i))
            .rev()
            .find(|&n| lens & len_bit(n) != 0 && g.orgs.contains(t.str(i, i + n)));
        match hit {
            Some(n) => {
                out.push(entity(
                    EntityType::Organization,
                    t.str(i, i + n).into(),
                    i,
                    i + n,
                ));
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

/// What a text already names, as sets: where organizations end, and the spans of places.
pub(super) struct Taken {
    pub(super) org_ends: HashSet<usize>,
    pub(super) places: HashSet<(usize, usize)>,
}

/// The organization written before the title at token `k` (金川冶炼董事长): name-like words
/// back to a boundary, when they are not already a place or an organization.
pub(super) fn org_before_title(t: &Text, k: usize, taken: &Taken) -> Option<Entity> {
    let (chars, toks) = (&t.chars, &t.toks);
    let end = toks.get(k)?.start;
    if taken.org_ends.contains(&end) {
        return None;
    }
    let mut j = k;
    while j > 0 && name_like(&toks[j - 1]) && end - toks[j - 1].start <= 10 {
        j -= 1;
    }
    let start = toks.get(j)?.start;
    let text = t.str(start, end);
    let n = end - start;
    let title = toks.get(k).map_or("", |x| x.text);
    if text.ends_with('副')
        || text.ends_with("常务")
        || TITLES_SET.contains(format!("{text}{title}").as_str())
        || !(2..=10).contains(&n)
        || taken.places.contains(&(start, end))
        || !valid_name_part(t, text, start, end)
    {
        return None;
    }
    // Only at a clause start: 。金川冶炼董事长, not 与会的企业董事长.
    let left = start.checked_sub(1).and_then(|p| chars.get(p));
    if left.is_some_and(|&c| han(c)) {
        return None;
    }
    Some(entity(EntityType::Organization, text.into(), start, end))
}
