//! The word lists and gazetteers entities are found with: places and organizations from
//! `data/places/`, `data/orgs.txt` and `data/names/`, context words from `data/words/` (suffixes,
//! titles, speech verbs, words that are never names…), each loaded and hashed once.

use std::sync::LazyLock;

use rustc_hash::{FxHashMap, FxHashSet};

/// A word list from a file of `data/words/`, in file order.
pub(super) type WordList = LazyLock<Vec<&'static str>>;

/// The entries of a word list file: one per line, `#` comments and blank lines skipped.
pub(super) fn words(data: &'static str) -> Vec<&'static str> {
    lines(data).collect()
}

/// Short forms that are ordinary words and are never read as places by themselves.
pub(super) static NOT_SHORT_FORMS: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/not-short-forms.txt")));

pub(super) struct Gazetteer {
    pub(super) places: FxHashSet<String>,
    pub(super) orgs: FxHashSet<String>,
    pub(super) surnames: FxHashSet<String>,
    pub(super) max_place: usize,
    pub(super) max_org: usize,
    /// By first character, the lengths (in chars) of the places and organizations that start
    /// with it, as bits (`len_bit`), to skip most positions and most lengths at once.
    pub(super) place_lens: FxHashMap<char, u64>,
    pub(super) org_lens: FxHashMap<char, u64>,
}

/// The bit of a name length in a `Gazetteer` length mask; lengths from 63 on share one bit.
pub(super) fn len_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

pub(super) fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(str::split_whitespace)
}

/// The forms of a division's full name that the news uses: the name and, for names with a
/// division suffix, the name without it (常州市 → 常州), unless that is an ordinary word.
pub(super) fn forms(name: &str, out: &mut FxHashSet<String>) {
    out.insert(name.to_string());
    for suffix in [
        "特别行政区",
        "自治州",
        "自治县",
        "自治区",
        "地区",
        "林区",
        "新区",
        "市",
        "省",
        "县",
        "区",
        "盟",
    ] {
        if let Some(short) = name.strip_suffix(suffix) {
            let short = short.trim_end_matches("各族").trim_end_matches(|c| {
                "土家族苗族彝羌藏蒙古回壮维吾尔傣白哈尼景颇傈僳布依侗黎瑶朝鲜柯尔克孜哈萨克"
                    .contains(c)
            });
            if short.chars().count() >= 2 && !NOT_SHORT_FORMS.contains(&short) {
                out.insert(short.to_string());
            }
            break;
        }
    }
}

pub(super) static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut places = FxHashSet::default();
    for data in [
        include_str!("../../../data/places/provinces.txt"),
        include_str!("../../../data/places/cities.txt"),
        include_str!("../../../data/places/counties.txt"),
    ] {
        for name in lines(data) {
            forms(name, &mut places);
        }
    }
    for data in [
        include_str!("../../../data/places/countries.txt"),
        include_str!("../../../data/places/regions.txt"),
        include_str!("../../../data/places/world-cities.txt"),
    ] {
        places.extend(lines(data).map(String::from));
    }
    let orgs: FxHashSet<String> = lines(include_str!("../../../data/orgs.txt"))
        .map(String::from)
        .collect();
    let surnames = lines(include_str!("../../../data/names/surnames.txt"))
        .map(String::from)
        .collect();
    let max = |s: &FxHashSet<String>| s.iter().map(|p| p.chars().count()).max().unwrap_or(1);
    let lens = |s: &FxHashSet<String>| {
        let mut m: FxHashMap<char, u64> = FxHashMap::default();
        for p in s {
            if let Some(c) = p.chars().next() {
                *m.entry(c).or_default() |= len_bit(p.chars().count());
            }
        }
        m
    };
    Gazetteer {
        place_lens: lens(&places),
        org_lens: lens(&orgs),
        max_place: max(&places),
        max_org: max(&orgs),
        places,
        orgs,
        surnames,
    }
});

/// Whether `name` is in the place gazetteer.
pub fn is_known_place(name: &str) -> bool {
    GAZETTEER.places.contains(name)
}

/// Organization suffixes, longest first within a family. The name before them comes from the
/// words around.
pub(super) static ORG_SUFFIXES: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/org-suffixes.txt")));

/// Suffixes that attach to the organization right before them (海口高新区 + 管委会).
pub(super) static ATTACHING: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/attaching.txt")));

/// Words ending in an organization suffix that are not organizations.
pub(super) static NOT_ORGS: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/not-orgs.txt")));

/// Words that never start or make up the name part of an organization.
pub(super) static GENERIC: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/generic.txt")));

/// Titles written after an organization and before a person's name.
pub(super) static TITLES: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/titles.txt")));

/// Verbs of saying after a person's name.
pub(super) static SPEECH: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/speech.txt")));

/// Titles and forms of address written right after a name (江泽民主席, 王先生).
pub(super) static TITLES_AFTER: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/titles-after.txt")));

/// Words jieba may tag as names that are not, on their own.
pub(super) static NOT_NAMES: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/not-names.txt")));

pub(super) type WordSet = LazyLock<FxHashSet<&'static str>>;

pub(super) fn word_set(words: &[&'static str]) -> FxHashSet<&'static str> {
    words.iter().copied().collect()
}

pub(super) static ATTACHING_SET: WordSet = LazyLock::new(|| word_set(&ATTACHING));

pub(super) static NOT_ORGS_SET: WordSet = LazyLock::new(|| word_set(&NOT_ORGS));

pub(super) static GENERIC_SET: WordSet = LazyLock::new(|| word_set(&GENERIC));

pub(super) static TITLES_SET: WordSet = LazyLock::new(|| word_set(&TITLES));

pub(super) static SPEECH_SET: WordSet = LazyLock::new(|| word_set(&SPEECH));

pub(super) static TITLES_AFTER_SET: WordSet = LazyLock::new(|| word_set(&TITLES_AFTER));

pub(super) static NOT_NAMES_SET: WordSet = LazyLock::new(|| word_set(&NOT_NAMES));

pub(super) static NEVER_IN_NAME_SET: WordSet = LazyLock::new(|| word_set(&NEVER_IN_NAME));

pub(super) static COMMON_VERBS_ADVERBS_SET: WordSet =
    LazyLock::new(|| word_set(&COMMON_VERBS_ADVERBS));

/// First characters of [`TITLES`], to skip most tokens in `title_at` at once.
pub(super) static TITLE_FIRSTS: LazyLock<FxHashSet<char>> =
    LazyLock::new(|| TITLES.iter().filter_map(|t| t.chars().next()).collect());

/// [`ORG_SUFFIXES`] by last character, longest first, as chars.
pub(super) type SuffixTable = FxHashMap<char, Vec<(&'static str, Vec<char>)>>;

pub(super) static SUFFIXES: LazyLock<SuffixTable> = LazyLock::new(|| {
    let mut m: SuffixTable = FxHashMap::default();
    for &s in ORG_SUFFIXES.iter() {
        let cs: Vec<char> = s.chars().collect();
        if let Some(&last) = cs.last() {
            m.entry(last).or_default().push((s, cs));
        }
    }
    for v in m.values_mut() {
        v.sort_by_key(|(_, cs)| std::cmp::Reverse(cs.len()));
    }
    m
});

/// Builds the lookup tables now rather than on the first text.
pub fn warm_up() {
    LazyLock::force(&GAZETTEER);
    for s in [
        &ATTACHING_SET,
        &NOT_ORGS_SET,
        &GENERIC_SET,
        &TITLES_SET,
        &SPEECH_SET,
        &TITLES_AFTER_SET,
        &NOT_NAMES_SET,
        &NEVER_IN_NAME_SET,
        &COMMON_VERBS_ADVERBS_SET,
    ] {
        LazyLock::force(s);
    }
    LazyLock::force(&TITLE_FIRSTS);
    LazyLock::force(&SUFFIXES);
}

/// Words that end a name on the left (pronouns, determiners, "its subsidiary"…).
pub(super) static NEVER_IN_NAME: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/never-in-name.txt")));

/// Verbs and adverbs that never sit inside a name.
pub(super) static COMMON_VERBS_ADVERBS: WordList =
    LazyLock::new(|| words(include_str!("../../../data/words/common-verbs-adverbs.txt")));
