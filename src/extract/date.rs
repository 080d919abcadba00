//! Dates: absolute (2023年2月17日, 2022年, 2月17日, 2023-2028年, 民國101年, 20世纪二十年代,
//! `January 30, 2024`, `3 Aug 96`, `12/30/2016`) and relative (今年, 去年1月, 上半年, 一季度,
//! 近日, 大前天, 下星期六, 上季度, 3周前, `last Thursday`, `5 days ago`), resolved against the
//! document's reference date. Two dates joined by a dash or `to`/`至` are one range (`Aug 10 to
//! Nov 12, 2013`, 2016年9月3号-2017年10月24号), as are day and month spans written once (`10 - 22
//! August 2012`, 去年9~12月, 前三季度); a weekday next to a date is part of its mention.
//!
//! The reference is the first of: a date with an explicit year in the page's datelines, the
//! `extract.reference_date` setting, the file's mtime ([`Reference`] says which). Values are
//! ISO 8601 at the grain the text gives: `2023-02-17` (day), `2023-02` (month), `2023-Q1`
//! (quarter), `2023-H1` (half), `2023` (year); a range is `[start, end]`. Where the text
//! leaves the value open (`8/10/2012`: day or month first), no date is given rather than a
//! guess. Times of day stay out of the mention.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;
use time::{Date, Duration, Month};

use super::number::parse as parse_number;

/// Where the year (or day) of a date not fully written in the text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedFrom {
    /// The text itself gives the year (2023年2月17日).
    Text,
    /// A dateline of the page with an explicit year.
    Dateline,
    /// The date the document's metadata says it was published (HTML `<meta>`, JSON-LD…).
    Published,
    /// The `extract.reference_date` setting.
    Config,
    /// The file's modification time.
    Mtime,
}

/// The date relative expressions are read against, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub date: Date,
    pub source: ResolvedFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Day,
    Month,
    Quarter,
    Half,
    Year,
}

/// A date's value: one period or a range of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateValue {
    One(String),
    Range(String, String),
}

/// One date of a text, with char offsets into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateMention {
    pub text: String,
    pub value: DateValue,
    pub grain: Grain,
    pub resolved_from: ResolvedFrom,
    pub char_start: usize,
    pub char_end: usize,
}

/// The event form: `{char_end, char_start, grain, resolved_from, text, value}` (keys in order,
/// as every payload object; `value` one ISO string or a `[start, end]` pair).
impl Serialize for DateMention {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Value<'a> {
            One(&'a str),
            Range([&'a str; 2]),
        }
        #[derive(Serialize)]
        struct Out<'a> {
            char_end: usize,
            char_start: usize,
            grain: Grain,
            resolved_from: ResolvedFrom,
            text: &'a str,
            value: Value<'a>,
        }
        Out {
            char_end: self.char_end,
            char_start: self.char_start,
            grain: self.grain,
            resolved_from: self.resolved_from,
            text: &self.text,
            value: match &self.value {
                DateValue::One(v) => Value::One(v),
                DateValue::Range(a, b) => Value::Range([a, b]),
            },
        }
        .serialize(serializer)
    }
}

const NUM: &str = r"[0-9０-９]{1,2}|[一二三四五六七八九十廿卅]{1,3}";
const YEAR: &str = r"[0-9０-９]{4}|[〇○零一二三四五六七八九]{4}";
/// A day's mark: 日, 号 or 號 (the day may go without one: [`day_mark_ok`]).
/// An optional space (ASCII or ideographic) inside a date.
const SP: &str = r"[\x20\u{3000}]?";
const DAY_MARK: &str = r"[日号號]";
/// The dashes and words that join the two ends of a range.
const TO: &str = r"[-—–~～ー至到]+";

/// What may follow a year (`2018年…`) or a relative year (`去年…`): a month, a day, a month
/// range, a half, a quarter, the first n quarters or months, the n-th day. `s` suffixes the
/// group names (one copy per year form).
fn within_pattern(s: &str) -> String {
    format!(
        r"(?:{SP}(?:[,，]{SP})?
              (?:(?P<m{s}>{NUM})(?:{SP}月份?)?{SP}{TO}{SP}(?P<me{s}>{NUM}){SP}月份?
                |(?P<mo{s}>(?P<mm{s}>{NUM}){SP}月份?)(?:{SP}(?P<d{s}>{NUM})(?P<dm{s}>{SP}{DAY_MARK})?)?)
          |(?P<h{s}>[上下]半年)
          |前(?P<fq{s}>[一二三四1-4])[个個]?季度
          |第?(?P<q{s}>[一二三四1-4])季度
          |前(?P<fm{s}>{NUM})[个個]月
          |第(?P<fd{s}>{NUM})天)?"
    )
}

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let abs = within_pattern("a");
    let rel = within_pattern("r");
    let p = format!(
        r"(?x)
        (?P<iso>(?P<iy>[0-9]{{4}})[-/.](?P<im>[0-9]{{1,2}})[-/.](?P<id>[0-9]{{1,2}}))(?:[^0-9]|$)
      | (?P<yr>(?P<ry1>[0-9]{{4}})年?\s*[-—–~～至到]\s*(?P<ry2>[0-9]{{4}})年)
      | (?P<mg>民[國国](?P<mgy>[0-9]{{1,3}})年(?:(?P<mgm>{NUM})月(?:(?P<mgd>{NUM}){DAY_MARK})?)?)
      | (?P<dec>(?P<cen>[0-9]{{2}}|[一二]?十[一二三四五六七八九]?)世纪(?P<dcd>[1-9]0|[一二三四五六七八九]十)年代)
      | (?P<abs>(?P<y>{YEAR}){SP}年度?{abs})
      | (?P<rel>(?P<ry>今年|去年|明年|前年|后年|後年|本年度?|上年度?){rel})
      | (?P<mrg>(?P<mr1>{NUM}){TO}(?P<mr2>{NUM})月份?)
      | (?P<md>(?P<m2>{NUM}){SP}月(?:{SP}(?P<d2>{NUM}){SP}{DAY_MARK}|{TO}(?P<me2>{NUM})月|份)?)
      | (?P<half>[上下]半年)
      | (?P<quarter>第?(?P<q2>[一二三四1-4])季度)
      | (?P<rq>(?P<rqw>上一?|上个|上個|下一?|下个|下個|本|这个?|這個?)季度)
      | (?P<wk>(?P<wkm>上上|下下|上个|上個|下个|下個|上|下|本|这个?|這個?)?
            (?:(?:星期|礼拜|禮拜)(?P<wkd>[一二三四五六日天])|[周週](?P<wkd2>[一二三四五六日])))
      | (?P<off>(?P<on>{NUM}|[两兩]){SP}(?:天|[个個]?星期|[个個]?礼拜|[个個]?禮拜|[周週])(?P<od>之前|以前|前|之后|之後|以后|以後|后|後))
      | (?P<day>今天|今日|昨天|昨日|明天|明日|大前天|前天|大后天|大後天|后天|後天|聽日|听日|琴日|尋日|寻日|近日|日前)
      | (?P<month>(?P<mw>本月|上月|上个月|上個月|下月|下个月|下個月)(?:(?P<md3>{NUM}){DAY_MARK})?)
    "
    );
    Regex::new(&p).expect("date pattern")
});

/// A calendar date as the text writes it: the year if given, the month, the day if any. A
/// range's ends share what only one of them writes ([`join_ranges`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written {
    year: Option<i32>,
    month: u32,
    day: Option<u32>,
}

/// A date as read, before ranges are joined: byte offsets into the text.
#[derive(Debug, Clone)]
struct Piece {
    start: usize,
    end: usize,
    value: DateValue,
    grain: Grain,
    from: ResolvedFrom,
    written: Option<Written>,
    /// A bare weekday (星期六, Monday): it may be the weekday of the date next to it.
    weekday: bool,
}

impl Piece {
    fn new(start: usize, end: usize, (value, grain, from): Found) -> Piece {
        Piece {
            start,
            end,
            value,
            grain,
            from,
            written: None,
            weekday: false,
        }
    }
}

/// Every date of `text`, resolved against `reference`: Chinese and numeric forms, and, in a
/// text with Latin letters, English ones ([`english_dates`]). Two dates joined by a dash or
/// `to`/`至` are one range; a weekday next to a date is part of that date's mention.
pub fn dates(text: &str, reference: &Reference) -> Vec<DateMention> {
    // Without ASCII letters only the English numeric forms can match: 12/30/2016, 9/2012,
    // 30.01.2024, 30-01-16, 2019-20. A segment whose only such bytes are in 3.5% or 2-3 is not
    // run through the English patterns (they were a tenth of Chinese extraction).
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[0-9][-.][0-9]{1,2}[-/.][0-9]|[12][0-9]{3}\s?[-–]").expect("numeric date hint")
    });
    let mut pieces = chinese_pieces(text, reference);
    let (mut letters, mut slash, mut dash_or_dot) = (false, false, false);
    for b in text.bytes() {
        letters |= b.is_ascii_alphabetic();
        slash |= b == b'/';
        dash_or_dot |= b == b'-' || b == b'.';
    }
    if letters || slash || dash_or_dot && NUMERIC.is_match(text) {
        let english = english_pieces(text, reference);
        if !english.is_empty() {
            let overlaps = |e: &Piece| pieces.iter().any(|c| e.start < c.end && c.start < e.end);
            let mut extra: Vec<Piece> = english.into_iter().filter(|e| !overlaps(e)).collect();
            pieces.append(&mut extra);
            pieces.sort_by_key(|d| d.start);
        }
    }
    let pieces = join_ranges(text, absorb_weekdays(text, pieces));
    to_mentions(text, pieces)
}

/// Byte offsets to char offsets, counted on from the last piece (pieces come in order):
/// linear in the text however many dates it holds.
fn to_mentions(text: &str, pieces: Vec<Piece>) -> Vec<DateMention> {
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut char_at = |b: usize| {
        chars += text[byte..b].chars().count();
        byte = b;
        chars
    };
    pieces
        .into_iter()
        .map(|p| {
            let char_start = char_at(p.start);
            let char_end = char_at(p.end);
            DateMention {
                text: text[p.start..p.end].to_string(),
                value: p.value,
                grain: p.grain,
                resolved_from: p.from,
                char_start,
                char_end,
            }
        })
        .collect()
}

/// A weekday written before a day (`Thursday, December 15, 2011`, `Sun, Mar. 6`) or after it
/// (`9月21日，星期二`) belongs to that day's mention, which keeps the day's value.
fn absorb_weekdays(text: &str, pieces: Vec<Piece>) -> Vec<Piece> {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?,?\s*$")
            .expect("weekday before")
    });
    static AFTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[,，]?\s*[(（]?(?:星期|礼拜|禮拜|[周週])[一二三四五六日天][)）]?")
            .expect("weekday after")
    });
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    let mut skip_until = 0;
    for mut p in pieces {
        if p.start < skip_until {
            continue;
        }
        if p.grain == Grain::Day && !p.weekday {
            let from = floor_boundary(text, p.start.saturating_sub(16));
            if let Some(m) = BEFORE.find(&text[from..p.start]) {
                let start = from + m.start();
                while out.last().is_some_and(|q| q.end > start) {
                    out.pop();
                }
                p.start = start;
            }
            let to = floor_boundary(text, (p.end + 20).min(text.len()));
            if let Some(m) = AFTER.find(&text[p.end..to]) {
                p.end += m.end();
                skip_until = p.end;
            }
        }
        out.push(p);
    }
    out
}

/// The largest char boundary of `text` at or before `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Two dates of one grain with only a dash or `to`/`至`/`到` between them, the first not after
/// the second, are one range. An end without a year takes the other end's (`10 August - 12
/// September 2013`, `January 3, 2017 - February 1st`).
fn join_ranges(text: &str, pieces: Vec<Piece>) -> Vec<Piece> {
    static GAP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:\s+(?:morning|afternoon|evening|night))?\s*(?:[-–—~～ー至到]+|to|through|until|till)\s*$")
            .expect("range gap")
    });
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        if let Some(a) = out.last_mut() {
            let gap = &text[a.end.min(p.start)..p.start];
            if a.grain == p.grain && gap.len() <= 24 && GAP.is_match(gap) {
                if let Some(joined) = join(a, &p) {
                    *a = joined;
                    continue;
                }
            }
        }
        out.push(p);
    }
    out
}

fn join(a: &Piece, b: &Piece) -> Option<Piece> {
    let (DateValue::One(va), DateValue::One(vb)) = (&a.value, &b.value) else {
        return None;
    };
    let (mut va, mut vb) = (va.clone(), vb.clone());
    let mut from = if a.from == ResolvedFrom::Text {
        b.from
    } else {
        a.from
    };
    if let (Some(wa), Some(wb)) = (a.written, b.written) {
        let key = |w: Written| (w.month, w.day.unwrap_or(0));
        match (wa.year, wb.year) {
            (None, Some(y)) => {
                let ya = if key(wa) <= key(wb) { y } else { y - 1 };
                va = written_value(Written {
                    year: Some(ya),
                    ..wa
                })?;
                from = ResolvedFrom::Text;
            }
            (Some(y), None) => {
                let yb = if key(wb) >= key(wa) { y } else { y + 1 };
                vb = written_value(Written {
                    year: Some(yb),
                    ..wb
                })?;
                from = ResolvedFrom::Text;
            }
            (None, None) => {
                // Both ends near the reference: the start's year, the end after it.
                let ya = va.get(..4)?.parse::<i32>().ok()?;
                let yb = if key(wb) >= key(wa) { ya } else { ya + 1 };
                vb = written_value(Written {
                    year: Some(yb),
                    ..wb
                })?;
            }
            _ => {}
        }
    }
    if va > vb {
        return None;
    }
    Some(Piece {
        start: a.start,
        end: b.end,
        value: DateValue::Range(va, vb),
        grain: a.grain,
        from,
        written: None,
        weekday: false,
    })
}

/// The ISO value of a written date with a year.
fn written_value(w: Written) -> Option<String> {
    let y = w.year?;
    match w.day {
        Some(d) => day(y, w.month, d),
        None => (1..=12)
            .contains(&w.month)
            .then(|| format!("{y:04}-{:02}", w.month)),
    }
}

/// Month names, any case but `may` (the modal verb).
const MONTHS: &str = r"(?:(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)|May|MAY)";
const WEEKDAYS: &str = r"(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
/// A day of the month, with an ordinal suffix or none, or an ordinal word (`eighth`,
/// `twenty-fourth`: [`day_number`]).
const D: &str = r"[0-3]?[0-9](?:st|nd|rd|th)?|(?i:(?:twenty|thirty)[-\s]?)?(?i:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)";
/// A year: four digits, or two (`96`, `'96`: see [`two_digit_year`]).
const Y: &str = r"[12][0-9]{3}|'?[0-9]{2}";
/// Between a month and a day or year: `, ` `-` `/` or a space.
const SEP: &str = r"(?:,\s?|[\s/-])";
/// Between the two ends of a range.
const RANGE: &str = r"(?:\s*[-–—]\s*|\s+(?:to|through|until|till)\s+)";
const COUNT: &str = r"[0-9]{1,3}|(?i:an?|one|two|three|four|five|six|seven|eight|nine|ten)";

static ENGLISH: LazyLock<Regex> = LazyLock::new(|| {
    let p = format!(
        r"(?x)
        \b(?:
          (?P<ddm>(?P<a1>{D}){RANGE}(?P<a2>{D})[\s-](?:of\s)?(?P<am>{MONTHS})\b\.?(?:{SEP}(?P<ay>{Y})\b)?)
        | (?P<mdd>(?P<bm>{MONTHS})\.?\s(?P<b1>{D}){RANGE}(?P<b2>{D})\b(?:,?\s(?P<by>{Y})\b)?)
        | (?P<ymd>(?P<cy>[12][0-9]{{3}})[\s/-](?P<cm>{MONTHS})\.?[\s/-](?P<cd>{D})\b)
        | (?P<mdy>(?P<m1>{MONTHS})\.?{SEP}(?P<d1>{D})\b(?P<y1p>{SEP}(?P<y1>{Y})\b)?)
        | (?P<dmy>(?P<d2>{D})(?:\sof\s|[\s/-])?(?P<m2>{MONTHS})\b\.?(?P<y2p>{SEP}(?P<y2>{Y})\b)?)
        | (?P<numr>(?P<r1>[0-9]{{1,2}})/(?P<r2>[0-9]{{1,2}})/(?P<r3>[12][0-9]{{3}}){RANGE}(?P<r4>[0-9]{{1,2}})/(?P<r5>[0-9]{{1,2}})/(?P<r6>[12][0-9]{{3}})\b)
        | (?P<num>(?P<n1>[0-9]{{1,2}})(?P<s1>[-/.])(?P<n2>[0-9]{{1,2}})[-/.](?P<n3>[0-9]{{4}}|[0-9]{{2}})\b)
        | (?P<nmy>(?P<n4>[0-9]{{1,2}})/(?P<n5>[12][0-9]{{3}})\b)
        | (?P<my>(?P<m3>{MONTHS})\.?{SEP}(?P<y3>{Y})\b)
        | (?P<q>(?:Q(?P<qn>[1-4])|(?i:the\s)?(?P<qo>(?i:first|second|third|fourth))[\s-](?i:quarter))(?:\s(?:of\s)?(?P<qy>[12][0-9]{{3}}))?\b)
        | (?P<h>(?:(?i:the\s)?(?P<ho>(?i:first|second))[\s-](?i:half)|H(?P<hn>[12]))(?:\s(?:of\s)?(?P<hy>[12][0-9]{{3}}))?\b)
        | (?P<fy>(?i:fiscal)\s(?:(?i:year)\s)?(?P<fyy>[12][0-9]{{3}})\b)
        | (?P<yr>(?P<yr1>[12][0-9]{{3}})\s?[-–]\s?(?P<yr2>[0-9]{{2}}|[12][0-9]{{3}})\b)
        | (?P<wd>(?:(?P<wm>(?i:last|next|this|past))\s)?(?P<wdn>{WEEKDAYS})\b(?:,?\s(?P<wk>(?i:next|last|this))\s(?i:week)\b)?)
        | (?P<rel>(?P<rw>(?i:last|next|this))\s(?P<ru>(?i:month|year|quarter|qtr))\b)
        | (?P<off>(?P<on>{COUNT})\s(?P<ou>(?i:days?|weeks?))\s(?P<od>(?i:ago|from\snow|(?:before|after)\s(?:yesterday|today|tomorrow)))\b)
        | (?P<inn>(?i:in)\s(?P<inc>{COUNT})\s(?P<inu>(?i:days?|weeks?))\b)
        | (?P<dba>(?i:the\sday\s(?:before\syesterday|after\stomorrow))\b)
        | (?P<dayw>(?i:today|yesterday|tomorrow)\b)
        )"
    );
    Regex::new(&p).expect("english date pattern")
});

/// A month or a year standing alone: a capitalized month name (`in May`, `December`), a year
/// after a word that makes it one (`in 2010`, `by 2015`, `late 2012`, `the 2008 election`).
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    let p = r"(?x)
        \b(?i:in|since|by|until|till|from|through|during|of|early|late|mid|before|after|around|last|next|this)[\s-]+
          (?P<pm>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b
      | \b(?i:in|since|by|until|till|from|through|during|of|early|late|mid|before|after|around|the|a|circa|to|and|or|summer|spring|autumn|fall|winter)[\s-]+
          (?P<y>1[89][0-9]{2}|20[0-9]{2})\b
      | \b(?P<m>January|February|April|June|July|August|September|October|November|December)\b";
    Regex::new(p).expect("bare month or year")
});

fn month_number(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    names
        .iter()
        .position(|n| lower.starts_with(n))
        .map(|i| i as u32 + 1)
}

fn ordinal(word: &str) -> Option<u32> {
    match word.to_ascii_lowercase().as_str() {
        "first" => Some(1),
        "second" => Some(2),
        "third" => Some(3),
        "fourth" => Some(4),
        _ => None,
    }
}

/// A day of the month in digits (`24`, `24th`) or words (`twenty-fourth`).
fn day_number(s: &str) -> Option<u32> {
    let lower = s.to_ascii_lowercase();
    if let Ok(n) = lower.trim_end_matches(char::is_alphabetic).parse() {
        return Some(n);
    }
    let words = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
    ];
    let (tens, unit) = if let Some(rest) = lower.strip_prefix("twenty") {
        (20, rest.trim_start_matches(['-', ' ']))
    } else if let Some(rest) = lower.strip_prefix("thirty") {
        (30, rest.trim_start_matches(['-', ' ']))
    } else {
        (0, lower.as_str())
    };
    match unit {
        "thirtieth" => Some(30),
        u => words
            .iter()
            .position(|w| *w == u)
            .map(|i| tens + i as u32 + 1),
    }
}

/// A count in digits or words (`5`, `a`, `ten`).
fn count(word: &str) -> Option<i64> {
    let words = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let lower = word.to_ascii_lowercase();
    if lower == "a" || lower == "an" {
        return Some(1);
    }
    if let Some(i) = words.iter().position(|w| *w == lower) {
        return Some(i as i64 + 1);
    }
    lower.parse().ok()
}

/// Month `m`, day `d` without a year: the year that puts it nearest the reference (a report
/// dated Jan. 3 speaking of Dec. 30 means the year before).
fn nearest_year(m: u32, d: u32, r: &Reference) -> Option<Date> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let day = u8::try_from(d).ok()?;
    let y = r.date.year();
    [y - 1, y, y + 1]
        .iter()
        .filter_map(|&y| Date::from_calendar_date(y, month, day).ok())
        .min_by_key(|date| (*date - r.date).whole_days().abs())
}

/// Month `m` without a year: the year that puts it nearest the reference's month.
fn nearest_month_year(m: u32, r: &Reference) -> i32 {
    let y = r.date.year();
    let here = y * 12 + i32::from(u8::from(r.date.month())) - 1;
    [y - 1, y, y + 1]
        .into_iter()
        .min_by_key(|c| (c * 12 + m as i32 - 1 - here).abs())
        .unwrap_or(y)
}

/// A two-digit year (`3 Aug 96`) is the one of its century nearest the reference. It counts
/// only where the date ends with it (a punctuation, a time or the text's end next), not
/// before a word (`on Aug 9 96 people`).
fn two_digit_year(text: &str, digits: &str, end: usize, r: &Reference) -> Option<i32> {
    let quoted = digits.starts_with('\'');
    let yy: i32 = digits.trim_start_matches('\'').parse().ok()?;
    if text[end..].starts_with(':') {
        // 7 May 11:00: a time, no year.
        return None;
    }
    let rest = text[end..].trim_start();
    let next = rest.chars().next();
    let ends = quoted
        || next.is_none_or(|c| {
            c.is_ascii_digit()
                || (c.is_ascii_punctuation() && c != '%' && c != '-' && c != '/' && c != '.')
                || c == '.' && !rest[1..].starts_with(|d: char| d.is_ascii_digit())
        });
    if !ends {
        return None;
    }
    Some(nearest_century(yy, r))
}

/// The year ending in the two digits `yy` nearest the reference's.
fn nearest_century(yy: i32, r: &Reference) -> i32 {
    let y = r.date.year();
    let c = y.div_euclid(100) * 100;
    [c - 100 + yy, c + yy, c + 100 + yy]
        .into_iter()
        .min_by_key(|cand| (cand - y).abs())
        .unwrap_or(c + yy)
}

/// English dates: `Jan. 30`, `January 30, 2024`, `30 January 2024`, `2018 March 18`,
/// `3 Aug 96`, `10 - 22 August 2012`, `August 10 - 22, 2012`, `12/30/2016`, `9/2012`,
/// `January 2024`, `Q3 2024`, `the third quarter`, `first half`, `fiscal 2024`, `2019-21`,
/// `Monday`, `last Thursday`, `this Friday`, `Friday next week`, `next month`, `5 days ago`,
/// `in 3 days`, `today`, and bare months and years (`in May`, `in 2010`). A date without a
/// year is resolved against the reference.
pub fn english_dates(text: &str, r: &Reference) -> Vec<DateMention> {
    to_mentions(text, english_pieces(text, r))
}

fn english_pieces(text: &str, r: &Reference) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for caps in ENGLISH.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some((end, found, written)) = read_english(text, &caps, r) else {
            continue;
        };
        let mut p = Piece::new(whole.start(), end, found);
        p.written = written;
        p.weekday = caps.name("wd").is_some() && caps.name("wm").is_none();
        out.push(p);
    }
    let mut bare = Vec::new();
    for caps in BARE.captures_iter(text) {
        let Some(m) = caps
            .name("pm")
            .or_else(|| caps.name("m"))
            .or_else(|| caps.name("y"))
        else {
            continue;
        };
        if out.iter().any(|p| m.start() < p.end && p.start < m.end()) {
            continue;
        }
        let after = text[m.end()..].trim_start_matches('.');
        let found = if caps.name("y").is_some() {
            // Not an amount or a count: 2010,000 / 2010.5 / 2010%.
            if after.starts_with(['%', ',', '.'])
                && after[1..].starts_with(|c: char| c.is_ascii_digit())
                || after.starts_with('%')
            {
                continue;
            }
            // A count of things (the 2000 people, by 2000 votes), unless the word before is
            // one only a year follows (in 2000, since 2000).
            let yearly = [
                "in", "since", "during", "until", "till", "through", "early", "late",
            ]
            .iter()
            .chain(&[
                "mid", "circa", "summer", "spring", "autumn", "fall", "winter",
            ])
            .any(|w| {
                caps[0]
                    .get(..w.len())
                    .is_some_and(|b| b.eq_ignore_ascii_case(w))
            });
            if !yearly && counted(after) {
                continue;
            }
            (
                DateValue::One(m.as_str().to_string()),
                Grain::Year,
                ResolvedFrom::Text,
            )
        } else {
            // A name (August Wilson) is followed by a capitalized word.
            if caps.name("m").is_some()
                && after
                    .strip_prefix(' ')
                    .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                continue;
            }
            let Some(mo) = month_number(m.as_str()) else {
                continue;
            };
            let y = nearest_month_year(mo, r);
            (
                DateValue::One(format!("{y:04}-{mo:02}")),
                Grain::Month,
                r.source,
            )
        };
        bare.push(Piece::new(m.start(), m.end(), found));
    }
    if !bare.is_empty() {
        out.append(&mut bare);
        out.sort_by_key(|p| p.start);
    }
    out
}

/// Whether the text after a number starts with a noun that is counted, not dated: `people`,
/// `workers`, `votes` (the 2000 people), unlike `the 2012 elections`, `the 2008 crisis`.
fn counted(after: &str) -> bool {
    const COUNTED: &[&str] = &[
        "people",
        "persons",
        "men",
        "women",
        "children",
        "workers",
        "employees",
        "staff",
        "jobs",
        "votes",
        "voters",
        "units",
        "cases",
        "deaths",
        "troops",
        "soldiers",
        "students",
        "residents",
        "homes",
        "houses",
        "households",
        "cars",
        "vehicles",
        "shares",
        "tons",
        "tonnes",
        "points",
        "copies",
        "miles",
        "kilometres",
        "kilometers",
        "metres",
        "meters",
        "feet",
        "acres",
        "hectares",
        "barrels",
        "passengers",
        "visitors",
        "tourists",
        "patients",
        "members",
        "customers",
        "participants",
        "delegates",
        "officers",
        "police",
        "protesters",
        "refugees",
        "migrants",
        "animals",
        "cattle",
        "birds",
        "trees",
        "items",
        "pieces",
        "words",
        "pages",
        "signatures",
        "applications",
        "complaints",
        "calls",
        "rooms",
        "beds",
        "seats",
        "tickets",
        "dollars",
        "euros",
        "yuan",
        "pounds",
        "yen",
        "rupees",
        "others",
        "more",
    ];
    let Some(word) = after.strip_prefix(' ') else {
        return false;
    };
    let word = word
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    COUNTED.contains(&word)
}

/// The weekday (0 = Monday) written just before byte `start`, if any.
fn weekday_before(text: &str, start: usize) -> Option<i64> {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*$").expect("weekday")
    });
    let from = floor_boundary(text, start.saturating_sub(16));
    let c = BEFORE.captures(&text[from..start])?;
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let w = c.get(1)?.as_str().to_ascii_lowercase();
    names.iter().position(|n| *n == w).map(|i| i as i64)
}

fn read_english(
    text: &str,
    caps: &Captures<'_>,
    r: &Reference,
) -> Option<(usize, Found, Option<Written>)> {
    let whole = caps.get(0)?;
    let end = whole.end();
    let int = |name: &str| {
        caps.name(name).and_then(|m| {
            m.as_str()
                .trim_end_matches(char::is_alphabetic)
                .parse::<i32>()
                .ok()
        })
    };
    let uint = |name: &str| int(name).and_then(|v| u32::try_from(v).ok());
    let dayn = |name: &str| caps.name(name).and_then(|m| day_number(m.as_str()));
    // A year group: four digits as written, two digits nearest the reference.
    let year_of = |name: &str| -> Option<Option<i32>> {
        let Some(m) = caps.name(name) else {
            return Some(None);
        };
        if m.as_str().len() == 4 {
            return Some(m.as_str().parse().ok());
        }
        two_digit_year(text, m.as_str(), m.end(), r).map(Some)
    };
    // A day: with its year, else the year nearest the reference.
    let day_of = |w: Written, end: usize| -> Option<(usize, Found, Option<Written>)> {
        let d = w.day?;
        let found = match w.year {
            Some(y) => (
                DateValue::One(day(y, w.month, d)?),
                Grain::Day,
                ResolvedFrom::Text,
            ),
            None => (
                DateValue::One(iso_day(nearest_year(w.month, d, r)?)),
                Grain::Day,
                r.source,
            ),
        };
        Some((end, found, Some(w)))
    };
    let range = |a: Written, b: Written, end: usize| -> Option<(usize, Found, Option<Written>)> {
        let (_, fa, _) = day_of(a, end)?;
        let (_, fb, _) = day_of(b, end)?;
        let (DateValue::One(va), DateValue::One(vb)) = (fa.0, fb.0) else {
            return None;
        };
        (va < vb).then_some((end, (DateValue::Range(va, vb), Grain::Day, fa.2), None))
    };
    if caps.name("ddm").is_some() || caps.name("mdd").is_some() {
        // 10 - 22 August 2012, August 10 - 22, 2012: two days of one month.
        let (d1, d2, mo, y) = if caps.name("ddm").is_some() {
            ("a1", "a2", "am", "ay")
        } else {
            ("b1", "b2", "bm", "by")
        };
        let month = month_number(caps.name(mo)?.as_str())?;
        let year = year_of(y)?;
        let a = Written {
            year,
            month,
            day: Some(dayn(d1)?),
        };
        let b = Written {
            day: Some(dayn(d2)?),
            ..a
        };
        return range(a, b, end);
    }
    if caps.name("ymd").is_some() {
        let w = Written {
            year: int("cy"),
            month: month_number(caps.name("cm")?.as_str())?,
            day: dayn("cd"),
        };
        return day_of(w, end);
    }
    for (g, m, d, y, yp) in [
        ("mdy", "m1", "d1", "y1", "y1p"),
        ("dmy", "m2", "d2", "y2", "y2p"),
    ] {
        if caps.name(g).is_none() {
            continue;
        }
        let month = month_number(caps.name(m)?.as_str())?;
        let day = Some(dayn(d)?);
        return match year_of(y) {
            Some(year) => day_of(Written { year, month, day }, end),
            // A two-digit number that is no year ends the date before it.
            None => day_of(
                Written {
                    year: None,
                    month,
                    day,
                },
                caps.name(yp)?.start(),
            ),
        };
    }
    if caps.name("numr").is_some() {
        // 8/10/2012 - 8/15/2012: both ends are written in one order, month/day or day/month,
        // which one end may settle for the other.
        let ends = [
            (uint("r1")?, uint("r2")?, int("r3")?),
            (uint("r4")?, uint("r5")?, int("r6")?),
        ];
        let read = |month_first: bool| -> Option<(String, String)> {
            let [a, b] = ends.map(|(x, y, yr)| {
                if month_first {
                    day(yr, x, y)
                } else {
                    day(yr, y, x)
                }
            });
            Some((a?, b?)).filter(|(a, b)| a < b)
        };
        let (a, b) = match (read(true), read(false)) {
            (Some(md), None) => md,
            (None, Some(dm)) => dm,
            (Some(md), Some(dm)) if md == dm => md,
            _ => return None,
        };
        return Some((
            end,
            (DateValue::Range(a, b), Grain::Day, ResolvedFrom::Text),
            None,
        ));
    }
    if caps.name("num").is_some() {
        // 12/30/2016, 30-12-16: the order is month/day or day/month, whichever the numbers
        // allow; where both do, only a weekday before the date settles it.
        let (a, b) = (uint("n1")?, uint("n2")?);
        let y3 = caps.name("n3")?.as_str();
        if caps.name("s1")?.as_str() == "." && y3.len() == 2 {
            return None;
        }
        let year = if y3.len() == 4 {
            y3.parse().ok()?
        } else {
            nearest_century(y3.parse().ok()?, r)
        };
        let md = day(year, a, b);
        let dm = day(year, b, a);
        let value = match (md, dm) {
            (Some(x), Some(y)) if x == y => x,
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (Some(x), Some(y)) => {
                let w = weekday_before(text, whole.start())?;
                let on = |v: &str| {
                    parse_iso_prefix(v).map(|d| i64::from(d.weekday().number_days_from_monday()))
                };
                match (on(&x) == Some(w), on(&y) == Some(w)) {
                    (true, false) => x,
                    (false, true) => y,
                    _ => return None,
                }
            }
            (None, None) => return None,
        };
        return Some((
            end,
            (DateValue::One(value), Grain::Day, ResolvedFrom::Text),
            None,
        ));
    }
    if caps.name("nmy").is_some() {
        let (m, y) = (uint("n4")?, int("n5")?);
        if !(1..=12).contains(&m) || text[end..].starts_with(['/', '-']) {
            return None;
        }
        let v = format!("{y:04}-{m:02}");
        return Some((
            end,
            (DateValue::One(v), Grain::Month, ResolvedFrom::Text),
            None,
        ));
    }
    if caps.name("my").is_some() {
        let m = month_number(caps.name("m3")?.as_str())?;
        let y = year_of("y3")??;
        let w = Written {
            year: Some(y),
            month: m,
            day: None,
        };
        return Some((
            end,
            (
                DateValue::One(written_value(w)?),
                Grain::Month,
                ResolvedFrom::Text,
            ),
            Some(w),
        ));
    }
    let year_or_ref = |name: &str| match int(name) {
        Some(y) => (y, ResolvedFrom::Text),
        None => (r.date.year(), r.source),
    };
    if caps.name("q").is_some() {
        let q = uint("qn").or_else(|| ordinal(caps.name("qo")?.as_str()))?;
        let (y, from) = year_or_ref("qy");
        return Some((
            end,
            (DateValue::One(format!("{y:04}-Q{q}")), Grain::Quarter, from),
            None,
        ));
    }
    if caps.name("h").is_some() {
        let h = uint("hn").or_else(|| ordinal(caps.name("ho")?.as_str()))?;
        let (y, from) = year_or_ref("hy");
        return Some((
            end,
            (DateValue::One(format!("{y:04}-H{h}")), Grain::Half, from),
            None,
        ));
    }
    if caps.name("fy").is_some() {
        let v = format!("{:04}", int("fyy")?);
        return Some((
            end,
            (DateValue::One(v), Grain::Year, ResolvedFrom::Text),
            None,
        ));
    }
    if caps.name("yr").is_some() {
        let a = int("yr1")?;
        let b_text = caps.name("yr2")?.as_str();
        let b = if b_text.len() == 2 {
            a / 100 * 100 + b_text.parse::<i32>().ok()?
        } else {
            b_text.parse().ok()?
        };
        if b <= a || b - a > 50 {
            return None;
        }
        let v = DateValue::Range(a.to_string(), b.to_string());
        return Some((end, (v, Grain::Year, ResolvedFrom::Text), None));
    }
    let on_day = |shift: i64| -> Option<(usize, Found, Option<Written>)> {
        let d = r.date.checked_add(Duration::days(shift))?;
        Some((
            end,
            (DateValue::One(iso_day(d)), Grain::Day, r.source),
            None,
        ))
    };
    if let Some(w) = caps.name("wdn") {
        let names = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let target = names
            .iter()
            .position(|n| w.as_str().eq_ignore_ascii_case(n))? as i64;
        let today = i64::from(r.date.weekday().number_days_from_monday());
        let back = (today - target).rem_euclid(7);
        let week = caps.name("wk").map(|m| m.as_str().to_ascii_lowercase());
        let shift = match (
            caps.name("wm").map(|m| m.as_str().to_ascii_lowercase()),
            week,
        ) {
            // Friday next week: that day of the (Monday-based) week after, or before.
            (None, Some(w)) if w == "next" => target - today + 7,
            (None, Some(w)) if w == "last" => target - today - 7,
            (None, Some(_)) => target - today,
            (_, Some(_)) => return None,
            // The one before this week's (or before today, if today is that day).
            (Some(m), None) if m == "last" || m == "past" => -(if back == 0 { 7 } else { back }),
            (Some(m), None) if m == "next" => {
                let ahead = (target - today).rem_euclid(7);
                if ahead == 0 {
                    7
                } else {
                    ahead
                }
            }
            // This Friday: the one of the reference's Monday-based week.
            (Some(_), None) => target - today,
            // A bare weekday in news is the nearest one (within three days either way).
            (None, None) => nearest_weekday(today, target),
        };
        return on_day(shift);
    }
    if caps.name("rel").is_some() {
        let which = caps.name("rw")?.as_str().to_ascii_lowercase();
        let step = match which.as_str() {
            "last" => -1,
            "next" => 1,
            _ => 0,
        };
        let unit = caps.name("ru")?.as_str().to_ascii_lowercase();
        let (y, mo) = (r.date.year(), i32::from(u8::from(r.date.month())));
        if unit == "year" {
            let v = format!("{:04}", y + step);
            return Some((end, (DateValue::One(v), Grain::Year, r.source), None));
        }
        if unit == "quarter" || unit == "qtr" {
            let q = (mo - 1) / 3 + step;
            let v = format!("{:04}-Q{}", y + q.div_euclid(4), q.rem_euclid(4) + 1);
            return Some((end, (DateValue::One(v), Grain::Quarter, r.source), None));
        }
        let total = y * 12 + (mo - 1) + step;
        let v = format!(
            "{:04}-{:02}",
            total.div_euclid(12),
            total.rem_euclid(12) + 1
        );
        return Some((end, (DateValue::One(v), Grain::Month, r.source), None));
    }
    let unit_days = |u: &str| {
        if u.to_ascii_lowercase().starts_with('w') {
            7
        } else {
            1
        }
    };
    if caps.name("off").is_some() {
        // 5 days ago, 10 days from now, a week before yesterday.
        let n = count(caps.name("on")?.as_str())? * unit_days(caps.name("ou")?.as_str());
        let how = caps.name("od")?.as_str().to_ascii_lowercase();
        let base = if how.ends_with("yesterday") {
            -1
        } else if how.ends_with("tomorrow") {
            1
        } else {
            0
        };
        let sign = if how.starts_with("ago") || how.starts_with("before") {
            -1
        } else {
            1
        };
        return on_day(base + sign * n);
    }
    if caps.name("inn").is_some() {
        // in 3 days: that many days after the reference.
        return on_day(count(caps.name("inc")?.as_str())? * unit_days(caps.name("inu")?.as_str()));
    }
    if let Some(m) = caps.name("dba") {
        return on_day(if m.as_str().to_ascii_lowercase().ends_with("yesterday") {
            -2
        } else {
            2
        });
    }
    if let Some(m) = caps.name("dayw") {
        let shift = match m.as_str().to_ascii_lowercase().as_str() {
            "yesterday" => -1,
            "tomorrow" => 1,
            _ => 0,
        };
        return on_day(shift);
    }
    None
}

/// Chinese and numeric dates of `text`.
fn chinese_pieces(text: &str, reference: &Reference) -> Vec<Piece> {
    static LIST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"^[、和及]\s?(?P<d>{NUM}){DAY_MARK}")).expect("day list")
    });
    let mut out = Vec::new();
    for caps in PATTERN.captures_iter(text) {
        let Some((whole, found, written)) = read(&caps, reference) else {
            continue;
        };
        let (start, mut end) = (whole.start(), whole.end());
        let mut written = written;
        // A day without its mark (2016年6月29) ends at a punctuation, a space or the text's end;
        // else only the month is read.
        let mut found = found;
        if let Some((mark_less, month_end)) = mark_less_day(&caps) {
            if !day_mark_ok(text, mark_less) {
                end = month_end;
                if let Some(w) = written.as_mut() {
                    w.day = None;
                    found = (
                        DateValue::One(written_value(*w).unwrap_or_default()),
                        Grain::Month,
                        found.2,
                    );
                }
            }
        }
        if !boundary_ok(text, start, end) {
            continue;
        }
        let weekday = caps.name("wk").is_some();
        if !chinese_date_stands(text, &caps, start) {
            continue;
        }
        let mut piece = Piece::new(start, end, found);
        piece.written = written;
        piece.weekday = weekday;
        out.push(piece);
        // 8月14日、15日、16日: the days listed after a day are of its month.
        let Some(w) = written.filter(|w| w.day.is_some()) else {
            continue;
        };
        let mut at = end;
        while let Some(c) = LIST.captures(&text[at..]) {
            let (Some(all), Some(d)) = (c.get(0), c.name("d").and_then(|d| small(d.as_str())))
            else {
                break;
            };
            let next = Written { day: Some(d), ..w };
            let year = next.year.unwrap_or(reference.date.year());
            let Some(v) = written_value(Written {
                year: Some(year),
                ..next
            }) else {
                break;
            };
            let day_start = at
                + all
                    .as_str()
                    .find(|ch: char| !"、和及 ".contains(ch))
                    .unwrap_or(0);
            let mut p = Piece::new(
                day_start,
                at + all.end(),
                (
                    DateValue::One(v),
                    Grain::Day,
                    out.last().map_or(ResolvedFrom::Text, |p: &Piece| p.from),
                ),
            );
            p.written = Some(next);
            out.push(p);
            at += all.end();
        }
    }
    out
}

/// Whether a Chinese match is a date of its own, not a repetition, a length, a phrase or a
/// time counted from some event:
/// - not 每周一, 一周一次, 均为周一, 周一、三、五 (a bare weekday after a numeral, 每, 为, 是
///   or 逢, or in a list);
/// - not 每年12月, 次年6月 (a month without a year after 每年, 每月, 次年, 当年…);
/// - not 人间四月 (a month in Chinese numerals needs 份 or a day);
/// - not 确诊7天后 (a time after, unlike a time ago, counts from the reference only where it
///   stands alone: at the start of the text or after a space).
fn chinese_date_stands(text: &str, caps: &Captures, start: usize) -> bool {
    let before = text[..start].chars().next_back();
    if caps.name("wk").is_some() && caps.name("wkm").is_none() {
        // 每周一至周五: the 每 reaches over the range. 周一、三、五: a list of weekdays is a
        // timetable.
        let near: String = text[..start].chars().rev().take(4).collect();
        let after = caps.name("wk").map_or("", |w| &text[w.end()..]);
        return !before.is_some_and(|c| "一二三四五六七八九十两几为是逢、0123456789".contains(c))
            && !near.contains('每')
            && !after.starts_with('、')
            && !timetable(text, start, after);
    }
    if caps.name("md").is_some() || caps.name("mrg").is_some() {
        // 每年12月, 次年6月, 当年3月: a recurring month, or one of a year the text gave before.
        let years = ["每年", "每月", "次年", "翌年", "当年", "當年", "同年"];
        if years.iter().any(|y| text[..start].ends_with(y)) {
            return false;
        }
        if let Some(m) = caps.name("m2") {
            let chinese = !m
                .as_str()
                .starts_with(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c));
            let whole = caps.name("md").map_or("", |w| w.as_str());
            if chinese && caps.name("d2").is_none() && !whole.ends_with('份') {
                return false;
            }
        }
    }
    if let Some(od) = caps.name("od") {
        // In running text (确诊7天后, 。52天后，, a paragraph's 9天后，他…) it counts from the
        // event just told; after 将于, 预计 it counts from the day of the report.
        if !od.as_str().ends_with('前') {
            let future = [
                "将于", "将在", "将", "預計", "预计", "計劃", "计划", "再过", "再過",
            ]
            .iter()
            .any(|w| text[..start].ends_with(w));
            let after = caps.get(0).map_or("", |w| &text[w.end()..]);
            return future
                || before.is_none_or(char::is_whitespace) && !after.starts_with(['，', ',', '、']);
        }
    }
    true
}

/// Whether a bare weekday belongs to a timetable, not to one day: its sentence lists weekdays
/// (周二、四、六出行，周日居家), says 每周 or 逢, names opening hours (工作时间, 营业时间), or a
/// clock time follows the weekday or its range (周一至周五09:00-12:00).
fn timetable(text: &str, start: usize, after: &str) -> bool {
    const ENDS: [char; 6] = ['。', '！', '？', '；', '!', '?'];
    let from = text[..start]
        .rfind(|c: char| ENDS.contains(&c) || c == '\n')
        .map_or(0, |i| {
            i + text[i..].chars().next().map_or(1, char::len_utf8)
        });
    let to = after
        .find(|c: char| ENDS.contains(&c) || c == '\n')
        .map_or(text.len(), |i| text.len() - after.len() + i);
    let sentence = &text[from..to];
    static LISTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:周|星期|礼拜|禮拜)[一二三四五六日天][、和及][一二三四五六日天周星礼禮]|每周|每週|每逢|逢周|逢星期|工作时间|工作時間|营业时间|營業時間|开放时间|開放時間|办公时间|辦公時間|工作日")
            .expect("timetable words")
    });
    static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:(?:至|到|-|~|—|－)(?:周|星期|礼拜|禮拜)?[一二三四五六日天])?[(（\s]*[0-9０-９]{1,2}[:：][0-9０-９]{2}")
            .expect("clock after a weekday")
    });
    LISTED.is_match(sentence) || CLOCK.is_match(after)
}

/// The end of a day written without 日/号 (`2016年6月29`), and the end of its month.
fn mark_less_day(caps: &Captures) -> Option<(usize, usize)> {
    for s in ["a", "r"] {
        if let (Some(d), None, Some(mo)) = (
            caps.name(&format!("d{s}")),
            caps.name(&format!("dm{s}")),
            caps.name(&format!("mo{s}")),
        ) {
            return Some((d.end(), mo.end()));
        }
    }
    None
}

/// A day without its mark must end the date: a space, a punctuation or the text's end next.
fn day_mark_ok(text: &str, end: usize) -> bool {
    match text[end..].chars().next() {
        None => true,
        Some(c) => {
            c.is_whitespace()
                || (c.is_ascii_punctuation() && c != '%' && c != '.')
                || "，。、；：）".contains(c)
        }
    }
}

/// A date must not be cut out of a longer number (12023年, 13月): no digit before it, and
/// none after it if it ends with one (a time may follow 上个礼拜五16时, 今天5点).
fn boundary_ok(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let last = text[..end].chars().next_back();
    let digit =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    !digit(before) && (!digit(after) || !digit(last))
}

type Found = (DateValue, Grain, ResolvedFrom);

fn read<'t>(
    caps: &Captures<'t>,
    r: &Reference,
) -> Option<(regex::Match<'t>, Found, Option<Written>)> {
    let num = |name: &str| caps.name(name).and_then(|m| small(m.as_str()));
    let plain = |m: regex::Match<'t>, f: Found| Some((m, f, None));
    if let Some(m) = caps.name("iso") {
        let y = caps.name("iy").and_then(|y| y.as_str().parse().ok())?;
        let v = day(y, num("im")?, num("id")?)?;
        return plain(m, (DateValue::One(v), Grain::Day, ResolvedFrom::Text));
    }
    if let Some(m) = caps.name("yr") {
        let (a, b) = (
            year(caps.name("ry1")?.as_str())?,
            year(caps.name("ry2")?.as_str())?,
        );
        if a >= b {
            return None;
        }
        let v = DateValue::Range(a.to_string(), b.to_string());
        return plain(m, (v, Grain::Year, ResolvedFrom::Text));
    }
    if let Some(m) = caps.name("mg") {
        // 民國 (Minguo) years count from 1912.
        let y = 1911 + i32::try_from(num("mgy")?).ok()?;
        let w = match num("mgm") {
            Some(mo) => Written {
                year: Some(y),
                month: mo,
                day: num("mgd"),
            },
            None => {
                return plain(
                    m,
                    (
                        DateValue::One(y.to_string()),
                        Grain::Year,
                        ResolvedFrom::Text,
                    ),
                )
            }
        };
        let grain = if w.day.is_some() {
            Grain::Day
        } else {
            Grain::Month
        };
        return Some((
            m,
            (DateValue::One(written_value(w)?), grain, ResolvedFrom::Text),
            Some(w),
        ));
    }
    if let Some(m) = caps.name("dec") {
        // 20世纪二十年代: the ten years 1920 to 1929.
        let c = i32::try_from(num("cen")?).ok()?;
        let d = i32::try_from(num("dcd")?).ok()?;
        if !(11..=21).contains(&c) || d % 10 != 0 || d > 90 {
            return None;
        }
        let start = (c - 1) * 100 + d;
        let v = DateValue::Range(start.to_string(), (start + 9).to_string());
        return plain(m, (v, Grain::Year, ResolvedFrom::Text));
    }
    if let Some(m) = caps.name("abs") {
        let y = year(caps.name("y")?.as_str())?;
        let (f, w) = within_year(caps, y, "a", ResolvedFrom::Text)?;
        return Some((m, f, w));
    }
    if let Some(m) = caps.name("rel") {
        let base = r.date.year();
        let y = match caps.name("ry")?.as_str() {
            "去年" | "上年" | "上年度" => base - 1,
            "明年" => base + 1,
            "前年" => base - 2,
            "后年" | "後年" => base + 2,
            _ => base,
        };
        let (f, w) = within_year(caps, y, "r", r.source)?;
        return Some((m, f, w));
    }
    if let Some(m) = caps.name("mrg") {
        let (a, b) = (num("mr1")?, num("mr2")?);
        if !months_in_order(a, b) {
            return None;
        }
        let y = r.date.year();
        let v = DateValue::Range(format!("{y:04}-{a:02}"), format!("{y:04}-{b:02}"));
        return plain(m, (v, Grain::Month, r.source));
    }
    if let Some(m) = caps.name("md") {
        let y = r.date.year();
        if let Some(e) = num("me2") {
            let a = num("m2")?;
            if !months_in_order(a, e) {
                return None;
            }
            let v = DateValue::Range(format!("{y:04}-{a:02}"), format!("{y:04}-{e:02}"));
            return plain(m, (v, Grain::Month, r.source));
        }
        let w = Written {
            year: None,
            month: num("m2")?,
            day: num("d2"),
        };
        let v = written_value(Written { year: Some(y), ..w })?;
        let grain = if w.day.is_some() {
            Grain::Day
        } else {
            Grain::Month
        };
        return Some((m, (DateValue::One(v), grain, r.source), Some(w)));
    }
    if let Some(m) = caps.name("half") {
        let v = format!(
            "{}-H{}",
            r.date.year(),
            if m.as_str().starts_with('上') { 1 } else { 2 }
        );
        return plain(m, (DateValue::One(v), Grain::Half, r.source));
    }
    if let Some(m) = caps.name("quarter") {
        let v = format!("{}-Q{}", r.date.year(), num("q2")?);
        return plain(m, (DateValue::One(v), Grain::Quarter, r.source));
    }
    if let Some(m) = caps.name("rq") {
        // 上季度, 下个季度, 本季度: the quarter before, after or of the reference.
        let step = match caps.name("rqw")?.as_str().chars().next() {
            Some('上') => -1,
            Some('下') => 1,
            _ => 0,
        };
        let q = i32::from(u8::from(r.date.month()) - 1) / 3 + step;
        let (y, q) = (r.date.year() + q.div_euclid(4), q.rem_euclid(4) + 1);
        return plain(
            m,
            (
                DateValue::One(format!("{y:04}-Q{q}")),
                Grain::Quarter,
                r.source,
            ),
        );
    }
    if let Some(m) = caps.name("wk") {
        let w = caps.name("wkd").or_else(|| caps.name("wkd2"))?.as_str();
        let target = "一二三四五六日".find(w).map(|b| b / 3).unwrap_or(6) as i64;
        let today = i64::from(r.date.weekday().number_days_from_monday());
        let shift = match caps.name("wkm").map(|x| x.as_str()) {
            // 上周五, 下星期六: that day of the (Monday-based) week before or after.
            Some("上上") => target - today - 14,
            Some("下下") => target - today + 14,
            Some(x) if x.starts_with('上') => target - today - 7,
            Some(x) if x.starts_with('下') => target - today + 7,
            Some(_) => target - today,
            None => nearest_weekday(today, target),
        };
        let d = r.date.checked_add(Duration::days(shift))?;
        return plain(m, (DateValue::One(iso_day(d)), Grain::Day, r.source));
    }
    if let Some(m) = caps.name("off") {
        // 7天后, 3周前: that many days or weeks from the reference.
        let n = i64::from(match caps.name("on")?.as_str() {
            "两" | "兩" => 2,
            s => small(s)?,
        });
        let unit = if m.as_str().contains('天') { 1 } else { 7 };
        let sign = if caps.name("od")?.as_str().ends_with('前') {
            -1
        } else {
            1
        };
        let d = r.date.checked_add(Duration::days(sign * n * unit))?;
        return plain(m, (DateValue::One(iso_day(d)), Grain::Day, r.source));
    }
    if let Some(m) = caps.name("day") {
        let shift = match m.as_str() {
            "昨天" | "昨日" | "琴日" | "尋日" | "寻日" => -1,
            "明天" | "明日" | "聽日" | "听日" => 1,
            "前天" => -2,
            "后天" | "後天" => 2,
            "大前天" => -3,
            "大后天" | "大後天" => 3,
            _ => 0,
        };
        let d = r.date.checked_add(Duration::days(shift))?;
        let v = iso_day(d);
        return plain(m, (DateValue::One(v), Grain::Day, r.source));
    }
    if let Some(m) = caps.name("month") {
        let (y, mo) = (r.date.year(), u32::from(u8::from(r.date.month())));
        let (y, mo) = match caps.name("mw")?.as_str() {
            "上月" | "上个月" | "上個月" if mo == 1 => (y - 1, 12),
            "上月" | "上个月" | "上個月" => (y, mo - 1),
            "下月" | "下个月" | "下個月" if mo == 12 => (y + 1, 1),
            "下月" | "下个月" | "下個月" => (y, mo + 1),
            _ => (y, mo),
        };
        if let Some(d) = num("md3") {
            // 下个月9号: a day of that month.
            return plain(m, (DateValue::One(day(y, mo, d)?), Grain::Day, r.source));
        }
        let v = format!("{y:04}-{mo:02}");
        return plain(m, (DateValue::One(v), Grain::Month, r.source));
    }
    None
}

/// Months `a` before `b`, both of the year: the ends of a month range.
fn months_in_order(a: u32, b: u32) -> bool {
    (1..=12).contains(&a) && a < b && b <= 12
}

/// The shift from weekday `today` to the nearest weekday `target` (0 = Monday), past or
/// future, a tie going to the past.
fn nearest_weekday(today: i64, target: i64) -> i64 {
    let back = (today - target).rem_euclid(7);
    if back <= 3 {
        -back
    } else {
        7 - back
    }
}

/// The month, month range, day, half, quarter, first quarters or months, or n-th day of year
/// `y` that the groups suffixed `s` hold (or the year).
fn within_year(
    caps: &Captures,
    y: i32,
    s: &str,
    from: ResolvedFrom,
) -> Option<(Found, Option<Written>)> {
    let g = |name: &str| caps.name(&format!("{name}{s}"));
    let num = |name: &str| g(name).and_then(|m| small(m.as_str()));
    let month_range = |a: u32, b: u32| -> Option<(Found, Option<Written>)> {
        if !months_in_order(a, b) {
            return None;
        }
        let v = DateValue::Range(format!("{y:04}-{a:02}"), format!("{y:04}-{b:02}"));
        Some(((v, Grain::Month, from), None))
    };
    if let (Some(a), Some(b)) = (num("m"), num("me")) {
        return month_range(a, b);
    }
    if let Some(mo) = num("mm") {
        let w = Written {
            year: Some(y),
            month: mo,
            day: num("d"),
        };
        let grain = if w.day.is_some() {
            Grain::Day
        } else {
            Grain::Month
        };
        return Some(((DateValue::One(written_value(w)?), grain, from), Some(w)));
    }
    if let Some(h) = g("h") {
        let n = if h.as_str().starts_with('上') { 1 } else { 2 };
        return Some((
            (DateValue::One(format!("{y:04}-H{n}")), Grain::Half, from),
            None,
        ));
    }
    if let Some(n) = num("fq") {
        // 前三季度: the first quarter to the third.
        if !(2..=4).contains(&n) {
            return None;
        }
        let v = DateValue::Range(format!("{y:04}-Q1"), format!("{y:04}-Q{n}"));
        return Some(((v, Grain::Quarter, from), None));
    }
    if let Some(q) = num("q") {
        return Some((
            (DateValue::One(format!("{y:04}-Q{q}")), Grain::Quarter, from),
            None,
        ));
    }
    if let Some(n) = num("fm") {
        // 前三个月: January to the third month.
        return month_range(1, n);
    }
    if let Some(n) = num("fd") {
        // 第三天: the n-th day of the year.
        let first = Date::from_calendar_date(y, Month::January, 1).ok()?;
        let d = first.checked_add(Duration::days(i64::from(n) - 1))?;
        if d.year() != y || n == 0 {
            return None;
        }
        return Some(((DateValue::One(iso_day(d)), Grain::Day, from), None));
    }
    Some(((DateValue::One(format!("{y:04}")), Grain::Year, from), None))
}

/// A small number written in Arabic or Chinese numerals (廿 twenty, 卅 thirty).
fn small(s: &str) -> Option<u32> {
    for (lead, tens) in [('廿', 20), ('卅', 30)] {
        if let Some(rest) = s.strip_prefix(lead) {
            return Some(tens + if rest.is_empty() { 0 } else { small(rest)? });
        }
    }
    parse_number(s)?
        .as_int()
        .and_then(|n| u32::try_from(n).ok())
}

/// A plausible calendar year.
fn year(s: &str) -> Option<i32> {
    let y = i32::try_from(parse_number(s)?.as_int()?).ok()?;
    (1000..=2999).contains(&y).then_some(y)
}

fn day(y: i32, m: u32, d: u32) -> Option<String> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    Some(iso_day(date))
}

fn iso_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The first date with an explicit year in `datelines`, as a reference (missing month or day
/// taken as the first).
pub fn reference_from_datelines<'a>(datelines: impl IntoIterator<Item = &'a str>) -> Option<Date> {
    let probe = Reference {
        date: Date::MIN,
        source: ResolvedFrom::Mtime,
    };
    for line in datelines {
        for d in dates(line, &probe) {
            if d.resolved_from != ResolvedFrom::Text {
                continue;
            }
            let DateValue::One(v) = &d.value else {
                continue;
            };
            if let Some(date) = parse_iso_prefix(v) {
                return Some(date);
            }
        }
    }
    None
}

/// Reads `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (missing parts are the first).
pub fn parse_iso_prefix(v: &str) -> Option<Date> {
    let mut parts = v.split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    let d: u8 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// The reference date: a dateline's explicit date, else `configured`, else `mtime`.
pub fn reference<'a>(
    datelines: impl IntoIterator<Item = &'a str>,
    configured: Option<Date>,
    mtime: Date,
) -> Reference {
    if let Some(date) = reference_from_datelines(datelines) {
        return Reference {
            date,
            source: ResolvedFrom::Dateline,
        };
    }
    match configured {
        Some(date) => Reference {
            date,
            source: ResolvedFrom::Config,
        },
        None => Reference {
            date: mtime,
            source: ResolvedFrom::Mtime,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn r() -> Reference {
        Reference {
            date: date!(2023 - 02 - 20),
            source: ResolvedFrom::Config,
        }
    }

    fn values(text: &str) -> Vec<(String, DateValue, Grain, ResolvedFrom)> {
        dates(text, &r())
            .into_iter()
            .map(|d| (d.text, d.value, d.grain, d.resolved_from))
            .collect()
    }

    fn one(v: &str) -> DateValue {
        DateValue::One(v.to_string())
    }

    #[test]
    fn absolute_dates_at_their_grain() {
        let t = ResolvedFrom::Text;
        assert_eq!(
            values("2023年2月17日,2022年,二〇二三年十二月"),
            vec![
                ("2023年2月17日".into(), one("2023-02-17"), Grain::Day, t),
                ("2022年".into(), one("2022"), Grain::Year, t),
                ("二〇二三年十二月".into(), one("2023-12"), Grain::Month, t),
            ]
        );
        assert_eq!(values("2023-03-05")[0].1, one("2023-03-05"));
        assert_eq!(values("2022年度")[0].1, one("2022"));
    }

    #[test]
    fn a_year_range() {
        let v = values("《2023-2028年工业产业发展规划》");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, "2023-2028年");
        assert_eq!(v[0].1, DateValue::Range("2023".into(), "2028".into()));
        assert_eq!(v[0].2, Grain::Year);
    }

    #[test]
    fn dates_without_a_year_take_the_reference_year() {
        let v = values("2月17日,中新网3月30日电");
        assert_eq!(v[0].1, one("2023-02-17"));
        assert_eq!(v[0].3, ResolvedFrom::Config);
        assert_eq!(v[1].0, "3月30日");
        assert_eq!(v[1].1, one("2023-03-30"));
    }

    #[test]
    fn relative_dates() {
        let v = values("今年上半年,去年5月,明年,今年1月,一季度,近日,昨天,上个月");
        let got: Vec<(String, DateValue, Grain)> =
            v.into_iter().map(|(t, v, g, _)| (t, v, g)).collect();
        assert_eq!(
            got,
            vec![
                ("今年上半年".into(), one("2023-H1"), Grain::Half),
                ("去年5月".into(), one("2022-05"), Grain::Month),
                ("明年".into(), one("2024"), Grain::Year),
                ("今年1月".into(), one("2023-01"), Grain::Month),
                ("一季度".into(), one("2023-Q1"), Grain::Quarter),
                ("近日".into(), one("2023-02-20"), Grain::Day),
                ("昨天".into(), one("2023-02-19"), Grain::Day),
                ("上个月".into(), one("2023-01"), Grain::Month),
            ]
        );
    }

    #[test]
    fn impossible_dates_and_durations_are_skipped() {
        assert!(values("2月30日").is_empty());
        assert!(values("13个月").is_empty());
        assert!(values("5000年").is_empty());
    }

    #[test]
    fn the_reference_prefers_a_dateline_year_then_the_setting_then_mtime() {
        let mtime = date!(2026 - 11 - 28);
        let conf = Some(date!(2023 - 01 - 01));
        let got = reference(["新华社北京2023年3月3日电"], conf, mtime);
        assert_eq!(
            (got.date, got.source),
            (date!(2023 - 03 - 03), ResolvedFrom::Dateline)
        );
        let got = reference(["本报讯 2月17日"], conf, mtime);
        assert_eq!(got.source, ResolvedFrom::Config);
        let got = reference([], None, mtime);
        assert_eq!((got.date, got.source), (mtime, ResolvedFrom::Mtime));
    }
    fn at(y: i32, m: u8, d: u8) -> Reference {
        Reference {
            date: Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap(),
            source: ResolvedFrom::Dateline,
        }
    }

    /// (surface, value) of every date of `text` read against `r`; a range as `start/end`.
    fn read_at(text: &str, r: &Reference) -> Vec<(String, String)> {
        dates(text, r)
            .into_iter()
            .map(|d| {
                let v = match d.value {
                    DateValue::One(v) => v,
                    DateValue::Range(a, b) => format!("{a}/{b}"),
                };
                (d.text, v)
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn english_weekday_dates_two_digit_years_and_ranges() {
        let r = at(2012, 8, 10);
        for (text, want) in [
            (
                "Thursday, December 15, 2011 rates",
                vec![("Thursday, December 15, 2011", "2011-12-15")],
            ),
            ("3 Aug 96", vec![("3 Aug 96", "1996-08-03")]),
            ("Aug 9, 96", vec![("Aug 9, 96", "1996-08-09")]),
            ("7 May 11:00", vec![("7 May", "2012-05-07")]),
            ("2018 March 18", vec![("2018 March 18", "2018-03-18")]),
            ("10-August 2012", vec![("10-August 2012", "2012-08-10")]),
            (
                "10 - 22 August 2012",
                vec![("10 - 22 August 2012", "2012-08-10/2012-08-22")],
            ),
            (
                "August 10 - 22, 2012",
                vec![("August 10 - 22, 2012", "2012-08-10/2012-08-22")],
            ),
            (
                "Aug 10 to Nov 12, 2013",
                vec![("Aug 10 to Nov 12, 2013", "2013-08-10/2013-11-12")],
            ),
            (
                "10 August - 12 September 2013",
                vec![("10 August - 12 September 2013", "2013-08-10/2013-09-12")],
            ),
            ("May eighth, 2010", vec![("May eighth, 2010", "2010-05-08")]),
            ("5 days ago", vec![("5 days ago", "2012-08-05")]),
            (
                "the day after tomorrow",
                vec![("the day after tomorrow", "2012-08-12")],
            ),
            (
                "12-30-16 and 25/05/2015",
                vec![("12-30-16", "2016-12-30"), ("25/05/2015", "2015-05-25")],
            ),
            (
                "sales in 2010 fell in May",
                vec![("2010", "2010"), ("May", "2012-05")],
            ),
        ] {
            assert_eq!(read_at(text, &r), pairs(&want), "{text}");
        }
        // Day or month first cannot be told apart: nothing rather than a guess.
        assert!(read_at("on 8/10/2012", &r).is_empty());
        assert_eq!(
            read_at("8/10/2012 - 8/15/2012", &r),
            pairs(&[("8/10/2012 - 8/15/2012", "2012-08-10/2012-08-15")])
        );
        // A two-digit number before a word is no year; a count is no year.
        assert_eq!(
            read_at("on Aug 9 96 people", &r),
            pairs(&[("Aug 9", "2012-08-09")])
        );
        // Numeric forms in text without Latin letters still go through the English patterns.
        assert_eq!(
            read_at("日期：30.01.2024，增长3.5%", &r),
            pairs(&[("30.01.2024", "2024-01-30")])
        );
        assert_eq!(
            read_at("赛季 2019–20，增长3.5%", &r),
            read_at("season 2019–20", &r)
        );
        assert!(read_at("增长3.5%，2-3个", &r).is_empty());
        assert!(read_at("the 2010 people", &r).is_empty());
        assert!(read_at("by 2000 votes and 1999 workers", &r).is_empty());
        assert_eq!(
            read_at("the 2008 crisis and the 2012 elections", &r),
            pairs(&[("2008", "2008"), ("2012", "2012")])
        );
        assert_eq!(
            read_at("in 2000 sales fell", &r),
            pairs(&[("2000", "2000")])
        );
        assert!(read_at("sold 2010 units", &r).is_empty());
        assert!(read_at("The March on Washington. May I ask?", &r).is_empty());
        // This Saturday is the reference's week's; today - next friday is a range.
        let tue = at(2022, 8, 2);
        assert_eq!(
            read_at("This Saturday", &tue),
            pairs(&[("This Saturday", "2022-08-06")])
        );
        let sat = at(2012, 8, 4);
        assert_eq!(
            read_at("today - next friday", &sat),
            pairs(&[("today - next friday", "2012-08-04/2012-08-10")])
        );
    }

    #[test]
    fn chinese_spaces_mark_less_days_weekdays_and_ranges() {
        let r = at(2014, 9, 1); // a Monday
        for (text, want) in [
            ("2016年6月29", vec![("2016年6月29", "2016-06-29")]),
            (
                "2019 年 10 月 30 日",
                vec![("2019 年 10 月 30 日", "2019-10-30")],
            ),
            ("2014年, 3月5日早上", vec![("2014年, 3月5日", "2014-03-05")]),
            (
                "二零一六年，九月三号",
                vec![("二零一六年，九月三号", "2016-09-03")],
            ),
            ("十一月廿六日", vec![("十一月廿六日", "2014-11-26")]),
            (
                "大前天和大后天",
                vec![("大前天", "2014-08-29"), ("大后天", "2014-09-04")],
            ),
            (
                "7天后开幕，3周前",
                vec![("7天后", "2014-09-08"), ("3周前", "2014-08-11")],
            ),
            ("他将于7天后出院", vec![("7天后", "2014-09-08")]),
            ("星期四", vec![("星期四", "2014-09-04")]),
            ("上个礼拜三16时", vec![("上个礼拜三", "2014-08-27")]),
            ("下星期六", vec![("下星期六", "2014-09-13")]),
            (
                "2016年9月3号-2017年10月24号",
                vec![("2016年9月3号-2017年10月24号", "2016-09-03/2017-10-24")],
            ),
            ("去年9~12月", vec![("去年9~12月", "2013-09/2013-12")]),
            (
                "2018年前三季度",
                vec![("2018年前三季度", "2018-Q1/2018-Q3")],
            ),
            ("上季度", vec![("上季度", "2014-Q2")]),
            ("下个月9号", vec![("下个月9号", "2014-10-09")]),
            ("9月21日，星期二", vec![("9月21日，星期二", "2014-09-21")]),
            (
                "8月14日、15日",
                vec![("8月14日", "2014-08-14"), ("15日", "2014-08-15")],
            ),
            ("民國101年5月25日", vec![("民國101年5月25日", "2012-05-25")]),
        ] {
            assert_eq!(read_at(text, &r), pairs(&want), "{text}");
        }
        // A number of days or a repetition is no date; a count of months is no month.
        assert!(read_at("每周一开会", &r).is_empty());
        assert!(read_at("今年6月30家企业", &r) == pairs(&[("今年6月", "2014-06")]));
        assert!(read_at("每年12月", &r).is_empty());
        assert!(read_at("人间四月天", &r).is_empty());
        assert!(read_at("确诊7天后", &r).is_empty());
        assert!(read_at("9天后，他在专栏写道", &r).is_empty());
        // A timetable is no day: a list of weekdays, opening hours, a clock after a range.
        assert!(read_at("男性为周二、四、六出行，周日只能居家。", &r).is_empty());
        assert!(read_at("工作时间(周一至周五09:00-12:00)", &r).is_empty());
        assert!(read_at("营业时间为周六上午", &r).is_empty());
        assert_eq!(
            read_at("外长周二抵达。周二、四出行。", &r),
            pairs(&[("周二", "2014-09-02")])
        );
        assert!(read_at("均为周一", &r).is_empty());
        assert!(read_at("每周一至周五", &r).is_empty());
        assert!(read_at("分别为周一、周三、周五执飞", &r).is_empty());
        assert!(read_at("每年12月至次年6月", &r).is_empty());
    }
}
