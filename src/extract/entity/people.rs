//! People from context: a title before the name, a speech verb or title of address after it,
//! and (when asked) jieba's `nr` tag.

use super::orgs::{org_before_title, Taken};
use super::text::{Text, Tok};
use super::words::*;
use super::*;

/// The title word (from [`TITLES`]) that starts at token `k`, if any, and its end token.
pub(super) fn title_at(t: &Text, k: usize) -> Option<usize> {
    let first = t.toks.get(k)?;
    if !TITLE_FIRSTS.contains(&first.text.chars().next()?) {
        return None;
    }
    for (j, x) in t.toks.iter().enumerate().skip(k).take(3) {
        if TITLES_SET.contains(&t.text[first.byte_start..x.byte_end]) {
            return Some(j + 1);
        }
    }
    None
}

/// A person's name starting at char `i`: a surname and one or two more Han characters (or a
/// jieba `nr` word there), ended by a boundary.
pub(super) fn name_at(t: &Text, i: usize) -> Option<usize> {
    if let Some(x) = t.tok_starting(i) {
        if x.tag.starts_with("nr")
            && (2..=4).contains(&(x.end - x.start))
            && has_surname(x.text)
            && !NOT_NAMES_SET.contains(x.text)
        {
            return Some(x.end);
        }
    }
    let chars = &t.chars;
    if i + 2 > chars.len() {
        return None;
    }
    let surname_len = if GAZETTEER.surnames.contains(t.str(i, i + 2)) {
        2
    } else if GAZETTEER.surnames.contains(t.str(i, i + 1)) {
        1
    } else {
        return None;
    };
    let run = chars[i..].iter().take_while(|&&c| han(c)).count();
    for total in [surname_len + 2, surname_len + 1] {
        if total <= run && (total == run || ends_name(t, i + total)) {
            return Some(i + total);
        }
    }
    None
}

/// Whether a name may end right before char `at`: punctuation, a speech verb, a title, or a
/// word boundary of jieba's.
pub(super) fn ends_name(t: &Text, at: usize) -> bool {
    let Some(&c) = t.chars.get(at) else {
        return true;
    };
    if !han(c) {
        return true;
    }
    let rest = &t.text[t.bytes[at]..];
    SPEECH
        .iter()
        .chain(TITLES_AFTER.iter())
        .any(|w| rest.starts_with(w))
        || "等和与在是的也还对就从、向为今近曾已正将到".contains(c) && t.starts_word(at)
}

/// The end of a transliterated name whose first part ends at `end`: past each `·` and the Han
/// chars after it (乔治·奇米尔); `end` itself when no dot follows.
pub(super) fn dotted_end(t: &Text, mut end: usize) -> usize {
    let chars = &t.chars;
    while matches!(chars.get(end), Some('·' | '•')) && chars.get(end + 1).is_some_and(|&c| han(c))
    {
        let run = chars[end + 1..]
            .iter()
            .take(6)
            .take_while(|&&c| han(c))
            .count();
        // The part ends where a speech verb or a title of address starts (史蒂夫·科尔曼称).
        let n = (1..run)
            .find(|&n| {
                let rest = &t.text[t.bytes[end + 1 + n]..];
                SPEECH
                    .iter()
                    .chain(TITLES_AFTER.iter())
                    .any(|w| rest.starts_with(w))
            })
            .unwrap_or(run);
        if n > 5 {
            break;
        }
        end += 1 + n;
    }
    end
}

/// A name in Han script (a transliteration: 库克, 蒂姆·库克) of two to eight chars from char `i`,
/// right before a parenthesis that glosses it as a person's name in Latin script of at least
/// `words` words: `库克(Tim Cook)`.
pub(super) fn glossed_name_at(t: &Text, i: usize, words: usize) -> Option<usize> {
    let chars = &t.chars;
    let n = chars[i..]
        .iter()
        .take(9)
        .take_while(|&&c| han(c) || c == '·' || c == '•')
        .count();
    if !(2..=8).contains(&n) || !han(chars[i]) || !matches!(chars.get(i + n)?, '(' | '（') {
        return None;
    }
    let gloss: String = chars[i + n + 1..]
        .iter()
        .take(41)
        .take_while(|&&c| !matches!(c, ')' | '）'))
        .collect();
    (super::latin::person_words(&gloss)? >= words).then_some(i + n)
}

pub(super) fn has_surname(name: &str) -> bool {
    let mut ends = name.char_indices().map(|(b, c)| b + c.len_utf8());
    let one = ends.next().unwrap_or(0);
    let two = ends.next().unwrap_or(one);
    GAZETTEER.surnames.contains(&name[..one]) || GAZETTEER.surnames.contains(&name[..two])
}

/// People and title-context organizations found from context in one text.
pub(super) fn context_people(
    t: &Text,
    orgs: &[Entity],
    places: &[Entity],
) -> (Vec<Entity>, Vec<Entity>) {
    let (chars, toks) = (&t.chars, &t.toks);
    let mut people = Vec::new();
    let mut new_orgs = Vec::new();
    let taken = Taken {
        org_ends: orgs.iter().map(|o| o.char_end).collect(),
        places: places.iter().map(|p| (p.char_start, p.char_end)).collect(),
    };
    for k in 0..toks.len() {
        // Title before a name: 副主任马跃, 特约通讯员 于秋瑾.
        if let Some(after) = title_at(t, k) {
            let mut i = toks.get(after).map_or(chars.len(), |x| x.start);
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if let Some(end) = name_at(t, i) {
                // A transliterated name goes on past its dot: 乔治·奇米尔.
                let end = dotted_end(t, end);
                people.push(entity(EntityType::Person, t.str(i, end).into(), i, end));
                if let Some(org) = org_before_title(t, k, &taken) {
                    new_orgs.push(org);
                }
            } else if let Some(end) = glossed_name_at(t, i, 1) {
                people.push(entity(EntityType::Person, t.str(i, end).into(), i, end));
            }
        }
        // A name jieba takes for one (库克/nrt), glossed in Latin script: 库克(Tim Cook).
        let tok = &toks[k];
        if tok.tag.starts_with("nr")
            && (2..=4).contains(&(tok.end - tok.start))
            && (tok.start == 0
                || !han(chars[tok.start - 1])
                || "的和与及、".contains(chars[tok.start - 1]))
            && glossed_name_at(t, tok.start, 2) == Some(tok.end)
            && !NOT_NAMES_SET.contains(tok.text)
            && !is_known_place(tok.text)
        {
            people.push(entity(
                EntityType::Person,
                tok.text.into(),
                tok.start,
                tok.end,
            ));
        }
        // Name before a speech verb or a title of address: 曾胜说, 马跃表示.
        if SPEECH_SET.contains(tok.text) || TITLES_AFTER_SET.contains(tok.text) {
            for len in [3usize, 2, 4] {
                if tok.start < len {
                    continue;
                }
                let s = tok.start - len;
                let cand = t.str(s, tok.start);
                // The name must start a word. (It must also be clear on its left: text start,
                // not Han, after a title, or a word start no token straddles; tokens tile the
                // text, so a word start always is.)
                if t.starts_word(s)
                    && chars[s..tok.start].iter().all(|&c| han(c))
                    && has_surname(cand)
                    && name_at(t, s) == Some(tok.start)
                    && !NOT_NAMES_SET.contains(cand)
                    && !is_known_place(cand)
                    && (len < 4 || s == 0 || !han(chars[s - 1]))
                {
                    people.push(entity(EntityType::Person, cand.into(), s, tok.start));
                    break;
                }
            }
        }
    }
    (people, new_orgs)
}

/// jieba `nr` words that look like names: a surname first, two to three characters.
pub(super) fn tagged_people(toks: &[Tok]) -> Vec<Entity> {
    toks.iter()
        .filter(|t| t.tag == "nr" || t.tag == "nrfg")
        .filter(|t| {
            let n = t.end - t.start;
            (2..=3).contains(&n)
                && has_surname(t.text)
                && !NOT_NAMES_SET.contains(t.text)
                && !is_known_place(t.text)
        })
        .map(|t| entity(EntityType::Person, t.text.into(), t.start, t.end))
        .collect()
}
