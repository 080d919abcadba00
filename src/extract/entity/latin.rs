//! Names in Latin script — English text, and English inside Chinese (`库克(Tim Cook)`): runs of
//! capitalized words classified by gazetteers and context, with no tagger.
//!
//! - organizations: a suffix (`Inc.`, `Corp`, `Group`, `Bank`, `Ministry`…), a head before `of`
//!   (`Bank of America`, `University of Hong Kong`), or a known name (`data/en/orgs.txt`, wire
//!   agencies among them, and CoNLL-2003 train's unambiguous ORG names);
//! - places: `data/en/places.txt` (countries, states and their dateline abbreviations, cities,
//!   regions) and CoNLL-2003 train's unambiguous LOC names;
//! - people: a title or honorific before the name (`Mr.`, `President`, `chief executive`), or a
//!   name of two to four words whose first is a known given name (or a Chinese surname in
//!   pinyin). A name found once is a name on the whole page, and so is its last word alone.
//!
//! A capitalized word with none of these signals is left alone: wrong is worse than nothing.
//! Full-width Latin letters (`Ｔｉｍ`) are read as their ASCII forms, one char for one, so offsets
//! hold.

use std::sync::LazyLock;

use rustc_hash::FxHashSet;

use super::text::Text;
use super::{entity, han, Entity, EntityType};

/// The entries of a list file: one per line, `#` comments and blank lines skipped; `words` files
/// hold several single-word entries per line.
fn entries(data: &'static str, words: bool) -> impl Iterator<Item = &'static str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(move |l| {
            if words {
                l.split_whitespace().collect::<Vec<_>>()
            } else {
                vec![l]
            }
        })
}

struct Lists {
    places: FxHashSet<&'static str>,
    orgs: FxHashSet<&'static str>,
    given: FxHashSet<&'static str>,
    titles: FxHashSet<&'static str>,
    /// Words (a period included where it is written) that take a period: `Inc.`, `Mr.`, `Calif.`.
    abbreviations: FxHashSet<&'static str>,
    /// The most words any list entry has.
    longest: usize,
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    let places: FxHashSet<&str> = entries(include_str!("../../../data/en/places.txt"), false)
        .chain(entries(
            include_str!("../../../data/en/conll-places.txt"),
            false,
        ))
        .collect();
    let orgs: FxHashSet<&str> = entries(include_str!("../../../data/en/orgs.txt"), false)
        .chain(entries(
            include_str!("../../../data/en/conll-orgs.txt"),
            false,
        ))
        .filter(|o| !places.contains(o))
        .collect();
    let titles: FxHashSet<&str> =
        entries(include_str!("../../../data/en/titles.txt"), false).collect();
    let given: FxHashSet<&str> = entries(include_str!("../../../data/en/given-names.txt"), true)
        .chain(entries(
            include_str!("../../../data/en/given-names-more.txt"),
            true,
        ))
        .filter(|g| !places.contains(g) && !orgs.contains(g))
        .collect();
    let mut abbreviations: FxHashSet<&str> = ORG_SUFFIXES
        .iter()
        .copied()
        .chain(places.iter().copied())
        .chain(titles.iter().copied())
        .chain(["Jr.", "Sr.", "St.", "Mt.", "Ft."])
        .filter(|w| w.ends_with('.') && !w.contains(' '))
        .collect();
    abbreviations.extend(["Jr.", "Sr."]);
    let longest = places
        .iter()
        .chain(orgs.iter())
        .chain(titles.iter())
        .map(|e| e.split(' ').count())
        .max()
        .unwrap_or(1);
    Lists {
        places,
        orgs,
        given,
        titles,
        abbreviations,
        longest,
    }
});

/// Last words that make a run of capitalized words an organization.
const ORG_SUFFIXES: &[&str] = &[
    "Inc",
    "Inc.",
    "Corp",
    "Corp.",
    "Corporation",
    "Co",
    "Co.",
    "Company",
    "Ltd",
    "Ltd.",
    "Limited",
    "LLC",
    "LLP",
    "PLC",
    "Plc",
    "plc",
    "AG",
    "SA",
    "S.A.",
    "SE",
    "NV",
    "N.V.",
    "GmbH",
    "Group",
    "Holdings",
    "Holding",
    "Bank",
    "Bancorp",
    "Airlines",
    "Airways",
    "Motors",
    "Technologies",
    "Technology",
    "Systems",
    "Partners",
    "Capital",
    "Securities",
    "Investments",
    "Industries",
    "Pharmaceuticals",
    "Energy",
    "Telecom",
    "Communications",
    "Association",
    "Institute",
    "University",
    "College",
    "Academy",
    "Ministry",
    "Department",
    "Agency",
    "Commission",
    "Council",
    "Committee",
    "Authority",
    "Board",
    "Bureau",
    "Party",
    "Federation",
    "Union",
    "Organization",
    "Organisation",
    "Foundation",
    "Fund",
    "Reserve",
    "Exchange",
    "Court",
    "Parliament",
    "Assembly",
    "Times",
    "Post",
    "News",
    "Journal",
    "Press",
    "Herald",
    "Club",
    "Society",
    "Alliance",
    "Army",
    "Navy",
    "Police",
    "Office",
];

/// Words before `of` that make the run an organization: `Bank of England`.
const ORG_HEADS: &[&str] = &[
    "Bank",
    "University",
    "Ministry",
    "Department",
    "Institute",
    "Academy",
    "Bureau",
    "Office",
    "Council",
    "Commission",
    "Court",
    "Federation",
    "Association",
    "Chamber",
    "Church",
    "Board",
    "House",
    "Museum",
    "College",
    "School",
    "Society",
    "League",
    "Union",
    "Party",
];

/// The most words a name of the rules' may have.
const MAX_NAME_WORDS: usize = 12;

/// Small words that may sit inside a name (`Bank of America`, `Ludwig van Beethoven`).
const CONNECTORS: &[&str] = &[
    "of", "for", "de", "du", "da", "van", "von", "der", "la", "&",
];

/// Capitalized words that are not names: sentence openers, pronouns, short weekday forms (the
/// months and weekdays are [`DATE_WORDS`]).
const NOT_NAMES: &[&str] = &[
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "For",
    "But",
    "And",
    "Or",
    "As",
    "If",
    "When",
    "While",
    "After",
    "Before",
    "This",
    "That",
    "These",
    "Those",
    "His",
    "Her",
    "Its",
    "Their",
    "Our",
    "My",
    "He",
    "She",
    "It",
    "They",
    "We",
    "I",
    "You",
    "There",
    "Here",
    "Some",
    "Many",
    "Most",
    "All",
    "No",
    "Not",
    "By",
    "From",
    "With",
    "To",
    "Of",
    "Under",
    "Over",
    "About",
    "Since",
    "Until",
    "Meanwhile",
    "However",
    "Also",
    "Yet",
    "So",
    "Still",
    "Now",
    "Then",
    "Last",
    "Next",
    "According",
    "Earlier",
    "Later",
    "Today",
    "Yesterday",
    "Tomorrow",
    "What",
    "Why",
    "How",
    "Who",
    "Where",
    "Each",
    "Every",
    "Both",
    "One",
    "Two",
    "Three",
    "First",
    "Second",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Shares",
    "Stocks",
    "Analysts",
    "Officials",
    "Reporting",
    "Editing",
    "Writing",
];

/// Capitalized words that end a run: a date is no part of a name (`Monday Apple said`).
const DATE_WORDS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A word of the text: char offsets and its folded form (full-width Latin as ASCII, a
/// possessive `'s` dropped, a period kept where the word takes one).
#[derive(Debug)]
struct Word {
    start: usize,
    end: usize,
    text: String,
}

impl Word {
    fn capitalized(&self) -> bool {
        self.text.chars().next().is_some_and(char::is_uppercase)
    }
}

/// Full-width ASCII forms as ASCII.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '’' => '\'',
        _ => c,
    }
}

fn latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (c.is_alphabetic() && ('\u{C0}'..='\u{24F}').contains(&c))
}

/// An item of the text as the runs see it: a word, or a mark that ends a run.
#[derive(Debug)]
enum Item {
    Word(Word),
    /// Punctuation, Han or anything else.
    Break,
}

fn items(chars: &[char]) -> Vec<Item> {
    let lists = &*LISTS;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = fold(chars[i]);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if !(latin_letter(c) || c.is_ascii_digit()) {
            out.push(Item::Break);
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        while i < chars.len() {
            let c = fold(chars[i]);
            let next = chars.get(i + 1).map(|&n| fold(n));
            let inner = |n: Option<char>| n.is_some_and(|n| latin_letter(n) || n.is_ascii_digit());
            let joined = (c == '\'' || c == '-' || c == '&') && inner(next) && !text.is_empty();
            if latin_letter(c) || c.is_ascii_digit() || joined {
                text.push(c);
                i += 1;
            } else if c == '.'
                && text.chars().count() == 1
                && text.chars().all(|c| c.is_ascii_uppercase())
            {
                // An initial, or a dotted abbreviation: J. / U.S. / N.Y.
                text.push('.');
                i += 1;
                if !(next.is_some_and(|n| n.is_ascii_uppercase())
                    && chars.get(i + 1).map(|&n| fold(n)) == Some('.'))
                {
                    break;
                }
            } else {
                break;
            }
        }
        // U.S. read as one word: letters and periods alternate.
        while text.ends_with('.')
            && chars
                .get(i)
                .map(|&n| fold(n))
                .is_some_and(|n| n.is_ascii_uppercase())
            && chars.get(i + 1).map(|&n| fold(n)) == Some('.')
        {
            text.push(fold(chars[i]));
            text.push('.');
            i += 2;
        }
        if chars.get(i).map(|&n| fold(n)) == Some('.') && !text.ends_with('.') {
            let dotted = format!("{text}.");
            if lists.abbreviations.contains(dotted.as_str()) {
                text = dotted;
                i += 1;
            }
        }
        let mut end = i;
        for s in ["'s", "'"] {
            if text.len() > s.len() + 1 && text.ends_with(s) {
                text.truncate(text.len() - s.len());
                end = i - s.chars().count();
                break;
            }
        }
        out.push(Item::Word(Word { start, end, text }));
    }
    out
}

/// What the Latin-script runs of a text name: (places, organizations, people).
pub(super) fn find(t: &Text) -> (Vec<Entity>, Vec<Entity>, Vec<Entity>) {
    let (mut places, mut orgs, mut people) = (Vec::new(), Vec::new(), Vec::new());
    if !t
        .chars
        .iter()
        .any(|&c| fold(c).is_ascii_uppercase() || (c.is_uppercase() && latin_letter(c)))
    {
        return (places, orgs, people);
    }
    let items = items(&t.chars);
    // Each run: words that are capitalized (or connectors between such), not interrupted.
    let mut k = 0;
    while k < items.len() {
        let Item::Word(w) = &items[k] else {
            k += 1;
            continue;
        };
        if !w.capitalized() {
            k += 1;
            continue;
        }
        let mut run: Vec<&Word> = vec![w];
        let mut j = k + 1;
        while let Some(Item::Word(n)) = items.get(j) {
            let name = n.capitalized() && !DATE_WORDS.contains(&n.text.as_str());
            let connector = CONNECTORS.contains(&n.text.as_str())
                && matches!(items.get(j + 1), Some(Item::Word(m)) if m.capitalized());
            if !(name || connector) {
                break;
            }
            run.push(n);
            j += 1;
        }
        // A possessive ends the run: Apple's Tim Cook.
        if let Some(p) = run
            .iter()
            .position(|w| t.chars.get(w.end).is_some_and(|&c| fold(c) == '\''))
        {
            run.truncate(p + 1);
            j = k + run.len();
        }
        let before = lower_words_before(&items, k);
        classify(t, &run, &before, &mut places, &mut orgs, &mut people);
        k = j.max(k + 1);
    }
    (places, orgs, people)
}

/// Up to three lower-case words right before item `k`, nearest last.
fn lower_words_before(items: &[Item], k: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut p = k;
    while p > 0 && out.len() < 3 {
        p -= 1;
        match &items[p] {
            Item::Word(w) if !w.capitalized() => out.push(w.text.as_str()),
            _ => break,
        }
    }
    out.reverse();
    out
}

/// The lookup form of words: joined by single spaces; a word in capitals (more than four
/// letters: NATO stays) in title case, as datelines write cities.
fn key(words: &[&Word]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let letters = w.text.chars().filter(|c| c.is_alphabetic()).count();
        if letters > 4 && w.text.chars().all(|c| !c.is_lowercase()) {
            let mut cs = w.text.chars();
            if let Some(f) = cs.next() {
                out.push(f);
                out.extend(cs.flat_map(char::to_lowercase));
            }
        } else {
            out.push_str(&w.text);
        }
    }
    out
}

fn span(t: &Text, kind: EntityType, words: &[&Word]) -> Option<Entity> {
    let (first, last) = (words.first()?, words.last()?);
    Some(entity(
        kind,
        t.str(first.start, last.end).to_string(),
        first.start,
        last.end,
    ))
}

fn classify(
    t: &Text,
    run: &[&Word],
    before: &[&str],
    places: &mut Vec<Entity>,
    orgs: &mut Vec<Entity>,
    people: &mut Vec<Entity>,
) {
    let lists = &*LISTS;
    let whole = key(run);
    if lists.orgs.contains(whole.as_str()) || lists.places.contains(whole.as_str()) {
        let kind = if lists.orgs.contains(whole.as_str()) {
            EntityType::Organization
        } else {
            EntityType::Place
        };
        match kind {
            EntityType::Place => places.extend(span(t, kind, run)),
            _ => {
                orgs.extend(span(t, kind, run));
                nested_places(t, run, places);
            }
        }
        return;
    }
    let mut run = run;
    // Sentence openers and other capitalized non-names in front.
    while let Some(w) = run.first() {
        let t = w.text.as_str();
        if NOT_NAMES.contains(&t) || DATE_WORDS.contains(&t) || CONNECTORS.contains(&t) {
            run = &run[1..];
        } else {
            break;
        }
    }
    while run
        .last()
        .is_some_and(|w| CONNECTORS.contains(&w.text.as_str()))
    {
        run = &run[..run.len() - 1];
    }
    if run.is_empty() {
        return;
    }
    // No name is a dozen capitalized words long: a longer run is a headline or a list, and
    // only the known names inside it are taken.
    if run.len() > MAX_NAME_WORDS {
        known_inside(t, run, places, orgs);
        return;
    }
    let whole = key(run);
    if lists.orgs.contains(whole.as_str()) {
        orgs.extend(span(t, EntityType::Organization, run));
        nested_places(t, run, places);
        return;
    }
    let last = run[run.len() - 1].text.as_str();
    let head_of =
        run.len() >= 3 && ORG_HEADS.contains(&run[0].text.as_str()) && run[1].text == "of";
    if (run.len() >= 2 && ORG_SUFFIXES.contains(&last)) || head_of {
        // A title in front is not part of the organization (President of the Bank…).
        orgs.extend(span(t, EntityType::Organization, run));
        nested_places(t, run, places);
        return;
    }
    if lists.places.contains(whole.as_str()) {
        places.extend(span(t, EntityType::Place, run));
        return;
    }
    // A title in front (`President Joe Biden`, `Mr. Cook`), or a lower-case one before the run
    // (`chief executive Tim Cook`).
    let mut titled = (1..=before.len()).any(|n| {
        lists
            .titles
            .contains(before[before.len() - n..].join(" ").as_str())
    });
    let mut rest = run;
    'strip: loop {
        for n in (1..=rest.len().min(3)).rev() {
            let words: Vec<&str> = rest[..n].iter().map(|w| w.text.as_str()).collect();
            if lists.titles.contains(words.join(" ").as_str()) {
                titled = true;
                rest = &rest[n..];
                continue 'strip;
            }
        }
        break;
    }
    if rest.len() != run.len() && !rest.is_empty() {
        // What follows a title may itself be a place or an organization (the President of
        // France is not a person named France).
        let k = key(rest);
        if lists.places.contains(k.as_str()) || lists.orgs.contains(k.as_str()) {
            return classify(t, rest, &[], places, orgs, people);
        }
    }
    if let Some(person) = person(rest, titled) {
        people.extend(span(t, EntityType::Person, person));
        return;
    }
    // Nothing for the whole run: a person further in (`Chef Tim Cook`, `Apple CEO Tim Cook`),
    // and the longest known names before, left to right.
    let mut end = run.len();
    for i in 1..run.len() {
        let mut titled = false;
        let mut from = i;
        for n in (1..=(run.len() - i).min(3)).rev() {
            let words: Vec<&str> = run[i..i + n].iter().map(|w| w.text.as_str()).collect();
            if lists.titles.contains(words.join(" ").as_str()) {
                titled = true;
                from = i + n;
                break;
            }
        }
        if let Some(p) = person(&run[from..], titled) {
            people.extend(span(t, EntityType::Person, p));
            end = i;
            break;
        }
    }
    known_inside(t, &run[..end], places, orgs);
}

/// The words as a person's name: up to four name-like words (initials and `Jr.` allowed), after
/// a title, or two or more beginning with a known given name.
fn person<'w, 'a>(words: &'w [&'a Word], titled: bool) -> Option<&'w [&'a Word]> {
    let lists = &*LISTS;
    let name_like = |w: &&Word| {
        !CONNECTORS.contains(&w.text.as_str())
            && w.text.chars().any(char::is_lowercase)
            && w.text.chars().next().is_some_and(char::is_uppercase)
    };
    let initial = |w: &&Word| w.text.len() == 2 && w.text.ends_with('.');
    let ok = !words.is_empty()
        && words.len() <= 4
        && words
            .iter()
            .all(|w| name_like(w) || initial(w) || w.text == "Jr." || w.text == "Sr.")
        && (words.len() > 1 || !lists.places.contains(words[0].text.as_str()))
        && (titled || (words.len() >= 2 && lists.given.contains(words[0].text.as_str())));
    ok.then_some(words)
}

/// The longest known names inside a run, left to right.
fn known_inside(t: &Text, run: &[&Word], places: &mut Vec<Entity>, orgs: &mut Vec<Entity>) {
    let lists = &*LISTS;
    let mut i = 0;
    while i < run.len() {
        let mut found = false;
        for n in (1..=(run.len() - i).min(lists.longest)).rev() {
            let part = &run[i..i + n];
            let k = key(part);
            if lists.orgs.contains(k.as_str()) {
                orgs.extend(span(t, EntityType::Organization, part));
            } else if lists.places.contains(k.as_str()) {
                places.extend(span(t, EntityType::Place, part));
            } else {
                continue;
            }
            i += n;
            found = true;
            break;
        }
        if !found {
            i += 1;
        }
    }
}

/// Places named inside an organization's name (New York in New York Stock Exchange).
fn nested_places(t: &Text, run: &[&Word], places: &mut Vec<Entity>) {
    let lists = &*LISTS;
    for i in 0..run.len() {
        for n in (1..=(run.len() - i).min(lists.longest)).rev() {
            if n == run.len() {
                continue;
            }
            let part = &run[i..i + n];
            if lists.places.contains(key(part).as_str()) {
                places.extend(span(t, EntityType::Place, part));
                break;
            }
        }
    }
}

/// Whether `c` is a letter that a Latin-script name cannot border (a match of `Cook` inside
/// `Cooking` is no name; a digit may follow: `CMHK5G`).
pub(super) fn joins(c: char) -> bool {
    latin_letter(fold(c))
}

/// The last word of a Latin-script person's name of two words or more (`Cook` of `Tim Cook`),
/// by which the rest of the page names them.
pub(super) fn surname(name: &str) -> Option<&str> {
    let mut words = name.split(' ');
    let first = words.next()?;
    let last = words.next_back()?;
    let ok =
        |w: &str| w.chars().count() >= 3 && w.chars().all(|c| latin_letter(fold(c)) || c == '-');
    (ok(first) && ok(last) && !last.ends_with('.')).then_some(last)
}

/// Whether a text holds Han script (the parenthesis rule pairs the two scripts).
pub(super) fn has_han(s: &str) -> bool {
    s.chars().any(han)
}

/// How many words a text holds if it reads as a person's name in Latin script (`Tim Cook`,
/// `KunjanShah` written without its space: two): one to four words, each a capital then
/// lower-case letters (initials, hyphens and `De`/`van` particles allowed); `None` for anything
/// else (`PMI`, `CARTAGO`, `Elizabeth St`).
pub(super) fn person_words(text: &str) -> Option<usize> {
    let text = text.trim();
    let words: Vec<String> = text
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().map(fold).collect())
        .collect();
    if words.is_empty() || words.len() > 4 || text.chars().count() < 3 {
        return None;
    }
    let mut count = 0;
    for w in &words {
        let initial =
            w.len() == 2 && w.ends_with('.') && w.starts_with(|c: char| c.is_ascii_uppercase());
        if initial || CONNECTORS.contains(&w.as_str()) {
            count += 1;
            continue;
        }
        let mut chars = w.chars();
        if !chars
            .next()
            .is_some_and(|c| c.is_uppercase() && latin_letter(c))
            || !w.chars().all(|c| latin_letter(c) || c == '-' || c == '\'')
            || !w.chars().any(char::is_lowercase)
        {
            return None;
        }
        // Capitals right after a lower-case letter start words written together (KunjanShah);
        // a hyphen joins one word (Blanc-Mesnil).
        count += 1;
        let mut prev = ' ';
        for c in w.chars() {
            if c.is_uppercase() && prev.is_lowercase() {
                count += 1;
            }
            prev = c;
        }
    }
    let last = words.last()?;
    let street = [
        "St", "Street", "Road", "Rd", "Ave", "Avenue", "City", "County",
    ];
    (!street.iter().any(|s| last.ends_with(s))).then_some(count)
}

/// Gazetteer marks of each word, as bits: 1/2 a known place begins/continues here (longest
/// match), 4/8 the same for a known organization, 16 a known given name, 32 a title, 64 an
/// organization suffix, 128 a word that is never a name by itself (`The`, months).
pub(super) fn marks(words: &[&str]) -> Vec<u64> {
    let lists = &*LISTS;
    let mut marks = vec![0u64; words.len()];
    for (i, w) in words.iter().enumerate() {
        if lists.given.contains(w) {
            marks[i] |= 16;
        }
        if lists.titles.contains(w) {
            marks[i] |= 32;
        }
        if ORG_SUFFIXES.contains(w) {
            marks[i] |= 64;
        }
        if NOT_NAMES.contains(w) || DATE_WORDS.contains(w) {
            marks[i] |= 128;
        }
    }
    for (set, begin) in [(&lists.places, 1u64), (&lists.orgs, 4)] {
        let mut i = 0;
        while i < words.len() {
            let n = (1..=lists.longest.min(words.len() - i))
                .rev()
                .find(|&n| set.contains(words[i..i + n].join(" ").as_str()));
            match n {
                Some(n) => {
                    marks[i] |= begin;
                    for m in &mut marks[i + 1..i + n] {
                        *m |= begin * 2;
                    }
                    i += n;
                }
                None => i += 1,
            }
        }
    }
    marks
}

/// Whether a word is written with a period after it as an abbreviation (`Inc`, `Calif`).
pub(super) fn takes_period(word: &str) -> bool {
    LISTS.abbreviations.contains(format!("{word}.").as_str())
}
