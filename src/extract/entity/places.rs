//! Places: gazetteer names, longest match first.

use super::text::Text;
use super::words::{len_bit, GAZETTEER};
use super::*;

/// Gazetteer places, longest match first, left to right. A short form must start where a word
/// starts (河南山区 holds no 南山).
pub(super) fn places(t: &Text) -> Vec<Entity> {
    let g = &*GAZETTEER;
    let chars = &t.chars;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(&lens) = g.place_lens.get(&chars[i]) else {
            i += 1;
            continue;
        };
        let longest = (2..=g.max_place.min(chars.len() - i)).rev().find(|&n| {
            lens & len_bit(n) != 0
                && g.places.contains(t.str(i, i + n))
                && (n > 2 || t.starts_word(i))
        });
        match longest {
            Some(n) => {
                let mut end = i + n;
                // 黄河流域, 长江沿线: a river's basin is a place too.
                if chars.get(end..end + 2) == Some(&['流', '域'][..]) {
                    end += 2;
                }
                if end > i + n {
                    out.push(entity(EntityType::Place, t.str(i, i + n).into(), i, i + n));
                }
                out.push(entity(EntityType::Place, t.str(i, end).into(), i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// When a gazetteer place straddles the left edge (在内蒙古: jieba cut 在内 / 蒙古), start at it.
/// `places` come in text order and do not overlap (but for a basin and its river, which share
/// a start), so only the last ones starting before `start` can hold it.
pub(super) fn extend_over_place(places: &[Entity], start: usize) -> usize {
    let before = places.partition_point(|p| p.char_start < start);
    places[..before]
        .iter()
        .rev()
        .take_while(|p| p.char_start == places[before - 1].char_start)
        .filter(|p| p.char_end > start)
        .min_by_key(|p| p.char_start)
        .map_or(start, |p| p.char_start)
}
