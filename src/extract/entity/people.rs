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
                people.push(entity(EntityType::Person, t.str(i, end).into(), i, end));
                if let Some(org) = org_before_title(t, k, &taken) {
                    new_orgs.push(org);
                }
            }
        }
        // Name before a speech verb or a title of address: 曾胜说, 马跃表示.
        let tok = &toks[k];
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
