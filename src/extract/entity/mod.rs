//! Entities: people, organizations and places, with char spans.
//!
//! jieba's part-of-speech tags alone are poor for names (it tags 高新区 as a person and splits
//! 于秋瑾), so tags are one signal among several:
//! - places: gazetteers shipped in `data/places/` (provinces with short forms, prefecture-level
//!   cities, counties and districts, countries, regions), longest match first;
//! - organizations: a suffix (公司, 集团, 管委会, 高新区, 研究院, 局…) and the name-like words
//!   before it; well-known names in `data/orgs.txt`; `X董事长` / `X总经理` contexts;
//! - people: the article's bylines and signatures (from the layout), titles before a name
//!   (记者 / 通讯员 / 董事长 / 副主任 X), speech verbs after one (X说 / 表示 / 介绍), and jieba's
//!   `nr` tag on a word that starts with a common surname. A name found once is a name
//!   everywhere on the page ([`PageNames`]).
//!
//! Entities may nest: an organization's name can hold a place (海口 in 海口高新区), and both
//! are reported. [`outermost`] keeps only the widest, for flat scoring.

use std::collections::HashSet;

use serde::Serialize;

use jieba_rs::Tag;

use crate::text::script::is_han as han;
use crate::text::words::Words;

mod latin;
pub mod model;
mod orgs;
mod people;
mod places;
mod text;
mod words;

use orgs::{known_orgs, suffixed_orgs};
use people::{context_people, tagged_people};
use places::places;
pub use text::tag;
use text::{toks, Text};
pub use words::is_known_place;
use words::GAZETTEER;

/// Builds the gazetteers and loads the trained models now, so the first page does not pay.
pub fn warm_up() {
    words::warm_up();
    model::warm_up();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Person,
    Organization,
    Place,
}

impl EntityType {
    pub fn name(self) -> &'static str {
        match self {
            EntityType::Person => "person",
            EntityType::Organization => "organization",
            EntityType::Place => "place",
        }
    }
}

/// One entity mention, with char offsets into the text it was found in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entity {
    pub kind: EntityType,
    pub text: String,
    pub char_start: usize,
    pub char_end: usize,
}

/// The event form: `{char_end, char_start, text, type}` (keys in order, as every payload object).
impl Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            char_end: usize,
            char_start: usize,
            text: &'a str,
            #[serde(rename = "type")]
            kind: EntityType,
        }
        Out {
            char_end: self.char_end,
            char_start: self.char_start,
            text: &self.text,
            kind: self.kind,
        }
        .serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// Finders

#[cfg(test)]
fn slice(chars: &[char], s: usize, e: usize) -> String {
    chars[s..e].iter().collect()
}

pub(super) fn entity(kind: EntityType, text: String, s: usize, e: usize) -> Entity {
    Entity {
        kind,
        text,
        char_start: s,
        char_end: e,
    }
}

// ---------------------------------------------------------------------------------------------
// Page level

/// Names a page gives, collected from every segment before entities are reported: a name found
/// with context once is a name wherever it appears on the page.
#[derive(Debug, Default, Clone)]
pub struct PageNames {
    pub people: HashSet<String>,
    pub orgs: HashSet<String>,
}

impl PageNames {
    /// One automaton for every name of the page: each text is then scanned once, whatever the
    /// number of names (a per-name search made pages with thousands of names quadratic).
    pub fn matcher(&self) -> NameMatcher {
        let mut names: Vec<(&str, EntityType)> = self
            .people
            .iter()
            .map(|n| (n.as_str(), EntityType::Person))
            .chain(
                self.orgs
                    .iter()
                    .map(|n| (n.as_str(), EntityType::Organization)),
            )
            .filter(|(n, _)| !n.is_empty())
            .collect();
        names.sort();
        // A contiguous NFA: built in time linear in the names (a DFA's build grows with
        // states × alphabet, and a page may name a hundred thousand things).
        let automaton = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(names.iter().map(|(n, _)| n))
            .ok();
        NameMatcher {
            names: names
                .into_iter()
                .map(|(n, k)| (n.to_string(), n.chars().count(), k))
                .collect(),
            automaton,
        }
    }
}

/// Every name of a page, found in one pass over a text ([`PageNames::matcher`]).
pub struct NameMatcher {
    /// (name, its length in chars, its kind), by pattern id.
    names: Vec<(String, usize, EntityType)>,
    automaton: Option<aho_corasick::AhoCorasick>,
}

impl NameMatcher {
    /// Every occurrence of every name in `text` (overlapping ones included), as people and
    /// organizations.
    fn find(&self, text: &str, people: &mut Vec<Entity>, orgs: &mut Vec<Entity>) {
        let Some(ac) = &self.automaton else { return };
        // Matches come in the order they end: char offsets are counted on from the last one.
        let (mut byte, mut chars) = (0usize, 0usize);
        for m in ac.find_overlapping_iter(text) {
            chars += text[byte..m.end()].chars().count();
            byte = m.end();
            // A Latin-script name matches whole words only: no Cook inside Cooking.
            let bordered = |before: Option<char>, after: Option<char>| {
                before.is_some_and(latin::joins) || after.is_some_and(latin::joins)
            };
            let matched = &text[m.start()..m.end()];
            let edge_before = matched
                .chars()
                .next()
                .filter(|&c| latin::joins(c))
                .and(text[..m.start()].chars().next_back());
            let edge_after = matched
                .chars()
                .next_back()
                .filter(|&c| latin::joins(c))
                .and(text[m.end()..].chars().next());
            if bordered(edge_before, edge_after) {
                continue;
            }
            let (name, n, kind) = &self.names[m.pattern().as_usize()];
            let e = entity(*kind, name.clone(), chars - n, chars);
            match kind {
                EntityType::Person => people.push(e),
                _ => orgs.push(e),
            }
        }
    }
}

/// What one text yields before page-level names are applied (its chars and tokens are not
/// kept: only what the second pass needs).
pub struct Found<'a> {
    text: &'a str,
    places: Vec<Entity>,
    orgs: Vec<Entity>,
    people: Vec<Entity>,
    /// People by jieba's `nr` tag alone (used only when asked: see [`Found::resolve`]).
    tagged: Vec<Entity>,
    /// What the trained model found (nothing where no model reads the language).
    model: Vec<Entity>,
    /// People the layout credits (bylines, signatures).
    credited: Vec<Entity>,
    language: model::Language,
}

/// First pass over one text, given its tags from [`tag`]: places, organizations, people with
/// context. `credited` are names the layout credits (bylines, signatures), always people.
pub fn find_tagged<'a>(text: &'a str, tags: &[Tag<'a>], credited: &[String]) -> Found<'a> {
    find_tagged_in(text, tags, credited, model::Language::Other)
}

/// [`find_tagged`] with the trained model of `language` beside the rules: the model's entities
/// come first, the rules add what it did not find (and the places inside its organizations);
/// names the layout credits are people whatever the model says.
pub fn find_tagged_in<'a>(
    text: &'a str,
    tags: &[Tag<'a>],
    credited: &[String],
    language: model::Language,
) -> Found<'a> {
    find_tagged_by(text, tags, credited, language, None)
}

/// [`find_tagged_in`] with a given model in place of the shipped one for `language`.
pub fn find_tagged_by<'a>(
    text: &'a str,
    tags: &[Tag<'a>],
    credited: &[String],
    language: model::Language,
    by: Option<&model::Model>,
) -> Found<'a> {
    let t = Text::new(text, toks(tags));
    let places = places(&t);
    let mut orgs = suffixed_orgs(&t, &places);
    orgs.extend(known_orgs(&t));
    let (mut people, title_orgs) = context_people(&t, &orgs, &places);
    orgs.extend(title_orgs);
    let mut layout = Vec::new();
    for name in credited {
        layout.extend(occurrences(&t, name, EntityType::Person));
    }
    people.extend(layout.iter().cloned());
    let model = match (language, by.or_else(|| model::shipped(language))) {
        (model::Language::Chinese, Some(m)) => chinese_model_people(m, text, tags)
            .into_iter()
            .filter(|&(_, sure)| sure >= ZH_PERSON_MARGIN)
            .map(|(e, _)| e)
            .collect(),
        (_, Some(m)) => model::entities_by(m, text, tags, language),
        (_, None) => Vec::new(),
    };
    let (latin_places, latin_orgs, latin_people) = latin::find(&t);
    let mut places = places;
    places.extend(latin_places);
    orgs.extend(latin_orgs);
    people.extend(latin_people);
    Found {
        text,
        tagged: tagged_people(&t.toks),
        places,
        orgs,
        people,
        model,
        credited: layout,
        language,
    }
}

impl<'a> Found<'a> {
    /// What [`find_tagged`] found in one piece of a long text, then in the next: `later` was
    /// found in the text's piece that starts `offset` chars in; `text` is the whole text.
    pub fn join(mut self, text: &'a str, later: Found<'a>, offset: usize) -> Found<'a> {
        let shift = |v: Vec<Entity>| {
            v.into_iter().map(move |mut e| {
                e.char_start += offset;
                e.char_end += offset;
                e
            })
        };
        self.text = text;
        self.places.extend(shift(later.places));
        self.orgs.extend(shift(later.orgs));
        self.people.extend(shift(later.people));
        self.tagged.extend(shift(later.tagged));
        self.model.extend(shift(later.model));
        self.credited.extend(shift(later.credited));
        self
    }

    /// Adds what this text names to the page's names.
    pub fn collect(&self, names: &mut PageNames) {
        names
            .people
            .extend(self.people.iter().map(|e| e.text.clone()));
        // A transliterated name (拉斐尔·德鲁格里) is named by its last part alone later on.
        names.people.extend(self.people.iter().filter_map(|e| {
            let (_, last) = e.text.rsplit_once(['·', '•'])?;
            (last.chars().count() >= 2 && last.chars().all(han)).then(|| last.to_string())
        }));
        // A Latin-script person named in full is named by the last word alone later on.
        names.people.extend(
            self.people
                .iter()
                .filter_map(|e| latin::surname(&e.text))
                .map(str::to_string),
        );
        names.orgs.extend(self.orgs.iter().map(|e| e.text.clone()));
        for e in &self.model {
            match e.kind {
                EntityType::Person => names.people.insert(e.text.clone()),
                EntityType::Organization => names.orgs.insert(e.text.clone()),
                EntityType::Place => false,
            };
        }
    }

    /// Second pass: every entity of the text, page names applied, overlaps settled.
    pub fn resolve(self, names: &NameMatcher, use_tags: bool) -> Vec<Entity> {
        let Found {
            text,
            places,
            mut orgs,
            mut people,
            tagged,
            model,
            credited,
            language,
        } = self;
        names.find(text, &mut people, &mut orgs);
        if use_tags {
            people.extend(tagged);
        }
        let (known, orgs): (Vec<Entity>, Vec<Entity>) = orgs
            .into_iter()
            .partition(|o| GAZETTEER.orgs.contains(&o.text));
        let settled = settle(orgs, known, places, people);
        glossed(
            text,
            combine_with_model(model, &credited, settled, language),
        )
    }
}

/// Every occurrence of `name` in the text, overlapping ones included, by char offsets.
fn occurrences(t: &Text, name: &str, kind: EntityType) -> Vec<Entity> {
    let Some(first) = name.chars().next() else {
        return Vec::new();
    };
    let n = name.chars().count();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = t.text.get(from..).and_then(|rest| rest.find(name)) {
        let b = from + p;
        // A match of a whole string starts on a char boundary.
        if let Ok(i) = t.bytes.binary_search(&b) {
            out.push(entity(kind, name.to_string(), i, i + n));
        }
        from = b + first.len_utf8();
    }
    out
}

/// Spans, sorted by start, answering "does anything here overlap [a, b)?" in O(log n).
struct Spans {
    starts: Vec<usize>,
    /// The largest end among the spans up to each index.
    max_end: Vec<usize>,
}

impl Spans {
    fn new<'a>(spans: impl Iterator<Item = &'a Entity>) -> Spans {
        let mut v: Vec<(usize, usize)> = spans.map(|e| (e.char_start, e.char_end)).collect();
        v.sort_unstable();
        let mut max = 0;
        let max_end = v
            .iter()
            .map(|&(_, e)| {
                max = max.max(e);
                max
            })
            .collect();
        Spans {
            starts: v.into_iter().map(|(s, _)| s).collect(),
            max_end,
        }
    }

    /// Whether one of the spans holds [a, b) whole.
    fn holds(&self, a: usize, b: usize) -> bool {
        let upto = self.starts.partition_point(|&s| s <= a);
        upto > 0 && self.max_end[upto - 1] >= b
    }

    fn overlaps(&self, a: usize, b: usize) -> bool {
        let before_b = self.starts.partition_point(|&s| s < b);
        before_b > 0 && self.max_end[before_b - 1] > a
    }
}

/// Whether a sorted list holds a value strictly between `a` and `b`.
fn any_between(sorted: &[usize], a: usize, b: usize) -> bool {
    let i = sorted.partition_point(|&x| x <= a);
    sorted.get(i).is_some_and(|&x| x < b)
}

/// Overlaps: organizations win over people and keep the places inside them; a person never
/// overlaps a place or an organization; duplicates go; order is by position. Each rule is a
/// lookup in sorted spans, so a text with many entities costs n log n, not n².
fn settle(
    orgs: Vec<Entity>,
    known: Vec<Entity>,
    places: Vec<Entity>,
    people: Vec<Entity>,
) -> Vec<Entity> {
    let span = |e: &Entity| (e.char_start, e.char_end);
    let mut orgs = widest(orgs);
    let org_spans: HashSet<(usize, usize)> = orgs.iter().map(span).collect();
    orgs.extend(known.into_iter().filter(|k| !org_spans.contains(&span(k))));
    let place_spans: HashSet<(usize, usize)> = places.iter().map(span).collect();
    orgs.retain(|o| !place_spans.contains(&span(o)));
    let taken = Spans::new(orgs.iter().chain(places.iter()));
    let people: Vec<Entity> = widest(people)
        .into_iter()
        .filter(|p| !taken.overlaps(p.char_start, p.char_end))
        .collect();
    // A place that straddles an organization's edge (an organization starts or ends strictly
    // inside it) was a misreading.
    let mut starts: Vec<usize> = orgs.iter().map(|o| o.char_start).collect();
    let mut ends: Vec<usize> = orgs.iter().map(|o| o.char_end).collect();
    starts.sort_unstable();
    ends.sort_unstable();
    let places: Vec<Entity> = places
        .into_iter()
        .filter(|p| {
            !any_between(&starts, p.char_start, p.char_end)
                && !any_between(&ends, p.char_start, p.char_end)
        })
        .collect();
    let mut all: Vec<Entity> = orgs.into_iter().chain(places).chain(people).collect();
    all.sort_by_key(|e| (e.char_start, std::cmp::Reverse(e.char_end), e.kind));
    all.dedup();
    all
}

/// How the trained model's entities and the rules' combine (measured on People's Daily dev by
/// `cargo run --release --example train_entities`, and held to the seed page's gold by
/// tests/extract_gold.rs):
///
/// - English: the model's entities first, then each of the rules' that overlaps none of them;
/// - Chinese: the rules' entities first (their suffix-built organizations and gazetteer places
///   are whole where the model cuts them short: 海口高新区), then the model's people that
///   overlap none of them (only people with a Chinese name's shape reach here: a surname, two
///   or three characters, no known place or non-name word, or a name in another script).
///
/// Either way names the layout credits are people whatever the model says, and the rules'
/// places inside a kept organization stay (nested).
pub fn combine_with_model(
    model: Vec<Entity>,
    credited: &[Entity],
    rules: Vec<Entity>,
    language: model::Language,
) -> Vec<Entity> {
    if model.is_empty() {
        return rules;
    }
    // Every test below is a lookup in sorted spans: a segment with a hundred thousand names
    // costs n log n, not n².
    let layout = Spans::new(credited.iter());
    let model: Vec<Entity> = model
        .into_iter()
        .filter(|m| !layout.overlaps(m.char_start, m.char_end))
        .collect();
    let (first, then) = match language {
        model::Language::English => {
            // A name of the rules' that spans more than the model's pieces of it is whole
            // (University of Hong Kong over University + Hong Kong). The model's spans do not
            // overlap one another: those inside a rule's span are found by binary search.
            let mut by_start: Vec<(usize, usize)> =
                model.iter().map(|m| (m.char_start, m.char_end)).collect();
            by_start.sort_unstable();
            let covers_some = |r: &Entity| {
                let from = by_start.partition_point(|&(s, _)| s < r.char_start);
                by_start[from..]
                    .iter()
                    .take_while(|&&(s, _)| s < r.char_end)
                    .any(|&(s, e)| e <= r.char_end && e - s < r.char_end - r.char_start)
            };
            let (wide, rest): (Vec<Entity>, Vec<Entity>) = rules
                .into_iter()
                .partition(|r| r.kind != EntityType::Place && covers_some(r));
            let wide_spans = Spans::new(wide.iter());
            let mut first: Vec<Entity> = model
                .into_iter()
                .filter(|m| !wide_spans.holds(m.char_start, m.char_end))
                .collect();
            first.extend(wide);
            (first, rest)
        }
        _ => (rules, model),
    };
    let taken = Spans::new(first.iter());
    let orgs = Spans::new(first.iter().filter(|m| m.kind == EntityType::Organization));
    let exact: HashSet<(usize, usize)> = first.iter().map(|e| (e.char_start, e.char_end)).collect();
    let mut all = first;
    for r in then {
        let free = !taken.overlaps(r.char_start, r.char_end);
        let nested = r.kind == EntityType::Place
            && orgs.holds(r.char_start, r.char_end)
            && !exact.contains(&(r.char_start, r.char_end));
        if free || nested {
            all.push(r);
        }
    }
    all.sort_by_key(|e| (e.char_start, std::cmp::Reverse(e.char_end), e.kind));
    all.dedup();
    all
}

/// The least margin ([`model::scored_entities`]) of a Chinese model's person kept in events,
/// chosen on People's Daily dev by cross-validation (`cargo run --release --example
/// train_entities`, which prints people's precision and recall at each margin).
pub const ZH_PERSON_MARGIN: f32 = 50.0;

/// The people the Chinese model finds in `text` that events may keep, with their margins: of
/// the Chinese model only people are taken — its organizations and places, measured against
/// the rules' on 2020 news, are more often wrong (中方, a single 中 or 美, 福建 cut from
/// 福建省; docs/entities.md) — and of those only names with a name's shape ([`person_shaped`])
/// that jieba reads as one ([`jieba_name`]).
pub fn chinese_model_people(m: &model::Model, text: &str, tags: &[Tag]) -> Vec<(Entity, f32)> {
    // Sentence by sentence, as the model was trained, and only where jieba sees a name: a
    // person kept must hold a word jieba tags as a name ([`jieba_name`]; or be written in
    // another script), so elsewhere the model has nothing to give.
    let mut found = Vec::new();
    let (mut s_char, mut s_byte, mut k) = (0, 0, 0);
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((ci, (bi, c))) = chars.next() {
        if !(matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | '\n') || chars.peek().is_none())
        {
            continue;
        }
        let (e_char, e_byte) = (ci + 1, bi + c.len_utf8());
        let from = k;
        while k < tags.len() && tags[k].start < e_char {
            k += 1;
        }
        let sentence = &text[s_byte..e_byte];
        let named = tags[from..k].iter().any(|t| t.tag.starts_with("nr"))
            || sentence.contains(['·', '•'])
            || sentence.contains(|c: char| c.is_ascii_uppercase());
        if named {
            let shifted: Vec<Tag> = tags[from..k]
                .iter()
                .filter(|t| t.start >= s_char && t.end <= e_char)
                .map(|t| Tag {
                    start: t.start - s_char,
                    end: t.end - s_char,
                    byte_start: t.byte_start - s_byte,
                    byte_end: t.byte_end - s_byte,
                    ..*t
                })
                .collect();
            found.extend(
                model::scored_entities(m, sentence, &shifted, model::Language::Chinese)
                    .into_iter()
                    .map(|(mut e, sure)| {
                        e.char_start += s_char;
                        e.char_end += s_char;
                        (e, sure)
                    }),
            );
        }
        (s_char, s_byte) = (e_char, e_byte);
    }
    found.retain(|(e, _)| {
        e.kind == EntityType::Person
            && person_shaped(&e.text)
            && (!e.text.chars().any(han) || jieba_name(tags, e.char_start, e.char_end))
    });
    found
}

/// Whether jieba reads chars `s..e` as a name: whole words (a name does not start or end
/// inside a word: 健康宝 holds no 康宝, 长舒一口气 no 舒一), one of them tagged as a person's
/// name (余/m 村/n is no name; 孔帆/nr, 王/nr 众/ng are), and no place or organization
/// suffix at its end (林草局). Without jieba's words (`tags` empty) nothing is known against it.
fn jieba_name(tags: &[Tag], s: usize, e: usize) -> bool {
    if tags.is_empty() {
        return true;
    }
    let from = tags.partition_point(|t| t.start < s);
    let words: Vec<&Tag> = tags[from..].iter().take_while(|t| t.start < e).collect();
    let whole =
        tags.get(from).is_some_and(|t| t.start == s) && words.last().is_some_and(|t| t.end == e);
    // A place's or an office's last character ends no one's name.
    const SUFFIXES: &str = "村镇乡县市省区湖路街港湾站局厂园";
    let last = words.last().and_then(|t| t.word.chars().next_back());
    whole
        && words.iter().any(|t| t.tag.starts_with("nr"))
        && !last.is_some_and(|c| SUFFIXES.contains(c))
}

/// Whether a name the model calls a person looks like one: in Han script, a surname and two or
/// three characters in all (four after a two-character surname: 欧阳小雨), or a transliteration
/// with its dot (乔治·奇米尔); no known place and no word that is never a name; any name in
/// another script.
fn person_shaped(name: &str) -> bool {
    if !name.chars().any(han) {
        return true;
    }
    if name.contains(['·', '•']) {
        return name.chars().all(|c| han(c) || matches!(c, '·' | '•'));
    }
    let n = name.chars().count();
    let two = name.chars().take(2).collect::<String>();
    let long_surname = GAZETTEER.surnames.contains(&two);
    ((2..=3).contains(&n) || n == 4 && long_surname)
        && name.chars().all(han)
        && people::has_surname(name)
        && !words::NOT_NAMES_SET.contains(name)
        && !is_known_place(name)
}

/// A name glossed in the other script in parentheses right after it (`库克(Tim Cook)`,
/// `Ren Zhengfei (任正非)`) names the same entity: the gloss takes its kind, unless something
/// was found in it already.
fn glossed(text: &str, mut all: Vec<Entity>) -> Vec<Entity> {
    if !text.contains(['(', '（']) {
        return all;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut more = Vec::new();
    for e in &all {
        let mut i = e.char_end;
        while chars.get(i) == Some(&' ') {
            i += 1;
        }
        if !matches!(chars.get(i), Some('(' | '（')) {
            continue;
        }
        let open = i + 1;
        let Some(len) = chars[open..]
            .iter()
            .take(41)
            .position(|&c| matches!(c, ')' | '）'))
        else {
            continue;
        };
        let gloss: String = chars[open..open + len].iter().collect();
        let trimmed = gloss.trim();
        let words = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '-' | '·' | '\'' | '&'))
        };
        if !words(trimmed) || latin::has_han(trimmed) == latin::has_han(&e.text) {
            continue;
        }
        // A person's gloss reads as a name; an organization's may be an acronym; a place's
        // gloss is too often something else (伦敦(ICE) is an exchange).
        let fits = match e.kind {
            EntityType::Person => latin::has_han(trimmed) || latin::person_words(trimmed).is_some(),
            EntityType::Organization => true,
            EntityType::Place => false,
        };
        if !fits {
            continue;
        }
        let lead = gloss.len() - gloss.trim_start().len();
        let s = open + gloss[..lead].chars().count();
        let n = trimmed.chars().count();
        if all.iter().any(|o| o.char_start < s + n && s < o.char_end) {
            continue;
        }
        more.push(entity(e.kind, trimmed.to_string(), s, s + n));
    }
    if more.is_empty() {
        return all;
    }
    all.extend(more);
    all.sort_by_key(|e| (e.char_start, std::cmp::Reverse(e.char_end), e.kind));
    all.dedup();
    all
}

/// Of overlapping mentions of one kind, the widest.
fn widest(mut v: Vec<Entity>) -> Vec<Entity> {
    v.sort_by_key(|e| (e.char_start, std::cmp::Reverse(e.char_end)));
    let mut out: Vec<Entity> = Vec::new();
    for e in v {
        if out.last().is_some_and(|o| e.char_start < o.char_end) {
            continue;
        }
        out.push(e);
    }
    out
}

/// Entities of several texts of one page (segments), with page-level names applied.
pub fn page_entities(
    texts: &[(&str, &[String])],
    words: &Words,
    use_tags: bool,
) -> Vec<Vec<Entity>> {
    let tags: Vec<Vec<Tag>> = texts.iter().map(|(t, _)| tag(words, t)).collect();
    page_entities_tagged(texts, &tags, use_tags)
}

/// [`page_entities`] with each text's tags from [`tag`] (`tags[i]` for `texts[i]`).
pub fn page_entities_tagged<'a>(
    texts: &[(&'a str, &[String])],
    tags: &[Vec<Tag<'a>>],
    use_tags: bool,
) -> Vec<Vec<Entity>> {
    let found: Vec<Found> = texts
        .iter()
        .zip(tags)
        .map(|((t, credited), tags)| find_tagged(t, tags, credited))
        .collect();
    resolve_page(found, use_tags)
}

/// [`page_entities`] as the pipeline finds them in a language: rules and the trained model
/// (`by`, or the shipped one) combined.
pub fn page_entities_in(
    texts: &[(&str, &[String])],
    words: &Words,
    language: model::Language,
    by: Option<&model::Model>,
) -> Vec<Vec<Entity>> {
    let tags: Vec<Vec<Tag>> = texts.iter().map(|(t, _)| tag(words, t)).collect();
    let found: Vec<Found> = texts
        .iter()
        .zip(&tags)
        .map(|((t, credited), tags)| find_tagged_by(t, tags, credited, language, by))
        .collect();
    resolve_page(found, false)
}

/// The second pass over a page's texts ([`find_tagged`] of each): every name found anywhere on
/// the page is looked for in every text.
pub fn resolve_page(mut found: Vec<Found>, use_tags: bool) -> Vec<Vec<Entity>> {
    // A Chinese model's person that begins a place or an organization the rules found on the
    // page names that place (伊春 of 伊春市, 林草 of 林草局, 鹿鸣 of 鹿鸣林场), not a person.
    let mut begins: HashSet<String> = HashSet::new();
    for f in &found {
        for e in f.places.iter().chain(&f.orgs) {
            for (i, _) in e.text.char_indices().skip(2).take(4) {
                begins.insert(e.text[..i].to_string());
            }
            begins.insert(e.text.clone());
        }
    }
    for f in &mut found {
        if f.language == model::Language::Chinese {
            f.model.retain(|m| !begins.contains(&m.text));
        }
    }
    let mut names = PageNames::default();
    for f in &found {
        f.collect(&mut names);
    }
    let matcher = names.matcher();
    found
        .into_iter()
        .map(|f| f.resolve(&matcher, use_tags))
        .collect()
}

/// Entities of one text on its own.
pub fn entities(text: &str, words: &Words) -> Vec<Entity> {
    page_entities(&[(text, &[])], words, true)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// The widest non-overlapping entities, for flat (one label per character) scoring.
pub fn outermost(entities: &[Entity]) -> Vec<Entity> {
    widest(entities.to_vec())
}

/// The jieba-only baseline: `nr` → person, `ns` → place, `nt` → organization.
pub fn jieba_baseline(text: &str, words: &Words) -> Vec<Entity> {
    tag(words, text)
        .into_iter()
        .filter_map(|t| {
            let kind = match t.tag {
                "nr" => EntityType::Person,
                "ns" => EntityType::Place,
                "nt" => EntityType::Organization,
                _ => return None,
            };
            Some(entity(kind, t.word.to_string(), t.start, t.end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::words::shared;

    fn of(kind: EntityType, text: &str) -> Vec<String> {
        entities(text, shared())
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.text)
            .collect()
    }

    #[test]
    fn places_from_the_gazetteer_with_short_forms() {
        let p = of(
            EntityType::Place,
            "江苏省常州市和广西壮族自治区桂林市七星区,以及美国和日本",
        );
        for want in [
            "江苏省",
            "常州市",
            "广西壮族自治区",
            "桂林市",
            "七星区",
            "美国",
            "日本",
        ] {
            assert!(p.contains(&want.to_string()), "{want} missing from {p:?}");
        }
        assert!(of(EntityType::Place, "他在河南山区工作").contains(&"河南".to_string()));
        assert!(!of(EntityType::Place, "世界和平").contains(&"和平".to_string()));
    }

    #[test]
    fn organizations_by_suffix_stop_at_verbs_and_function_words() {
        let o = of(
            EntityType::Organization,
            "活动由星河电子科技有限公司和华夏重工集团共同举办。",
        );
        assert!(o.contains(&"星河电子科技有限公司".to_string()), "{o:?}");
        assert!(o.contains(&"华夏重工集团".to_string()), "{o:?}");
        assert!(of(EntityType::Organization, "形成“前区后厂”格局").is_empty());
    }

    #[test]
    fn people_from_titles_and_speech_verbs() {
        let text = "东方机械公司总经理李建国说,今年订单增加。";
        assert_eq!(of(EntityType::Person, text), vec!["李建国".to_string()]);
        let text = "“我们很满意。”张红梅表示。";
        assert_eq!(of(EntityType::Person, text), vec!["张红梅".to_string()]);
    }

    #[test]
    fn a_name_credited_by_the_layout_is_a_person() {
        let found = page_entities(
            &[(
                "本报讯 (特约通讯员 欧阳小雨) 会议召开。",
                &["欧阳小雨".to_string()],
            )],
            shared(),
            false,
        );
        let people: Vec<&str> = found[0]
            .iter()
            .filter(|e| e.kind == EntityType::Person)
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(people, vec!["欧阳小雨"]);
    }

    fn people_in(text: &str, language: model::Language) -> Vec<String> {
        page_entities_in(&[(text, &[][..])], shared(), language, None)[0]
            .iter()
            .filter(|e| e.kind == EntityType::Person)
            .map(|e| e.text.clone())
            .collect()
    }

    #[test]
    fn the_chinese_model_adds_people_the_rules_cannot_see() {
        // No title, no speech verb: the rules find no one; the model finds both.
        let text = "王建国和李秀英昨天一起到达了成都，参观了三家工厂。";
        assert!(people_in(text, model::Language::Other).is_empty());
        assert_eq!(
            people_in(text, model::Language::Chinese),
            ["王建国", "李秀英"]
        );
        // A village, a common word, a word inside another are no people.
        for text in [
            "他们来到余村考察，看望余村的村民。",
            "女性患者康复出院后回到家中。",
            "市民进入商场前需出示北京健康宝。",
        ] {
            assert!(
                people_in(text, model::Language::Chinese).is_empty(),
                "{text}: {:?}",
                people_in(text, model::Language::Chinese)
            );
        }
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = "据新华社报道,北京市海淀区的清华大学举行活动。";
        let chars: Vec<char> = text.chars().collect();
        for e in entities(text, shared()) {
            assert_eq!(slice(&chars, e.char_start, e.char_end), e.text);
        }
    }
}
