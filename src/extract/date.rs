//! Dates: absolute (2023年2月17日, 2022年, 2月17日, 2023-2028年) and relative (今年, 去年1月,
//! 上半年, 一季度, 近日), resolved against the document's reference date.
//!
//! The reference is the first of: a date with an explicit year in the page's datelines, the
//! `extract.reference_date` setting, the file's mtime ([`Reference`] says which). Values are
//! ISO 8601 at the grain the text gives: `2023-02-17` (day), `2023-02` (month), `2023-Q1`
//! (quarter), `2023-H1` (half), `2023` (year); a range is `[start, end]`.

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

const NUM: &str = r"[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3}";
const YEAR: &str = r"[0-9０-９]{4}|[〇○零一二三四五六七八九]{4}";

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let p = format!(
        r"(?x)
        (?P<iso>(?P<iy>[0-9]{{4}})[-/.](?P<im>[0-9]{{1,2}})[-/.](?P<id>[0-9]{{1,2}}))(?:[^0-9]|$)
      | (?P<yr>(?P<ry1>[0-9]{{4}})年?\s*[-—–~～至到]\s*(?P<ry2>[0-9]{{4}})年)
      | (?P<abs>(?P<y>{YEAR})年(?:度)?(?:(?P<m>{NUM})月(?:份)?(?:(?P<d>{NUM})[日号])?
            |(?P<ah>[上下]半年)|第?(?P<aq>[一二三四1-4])季度)?)
      | (?P<rel>(?P<ry>今年|去年|明年|前年|本年度?|上年度?)
            (?:(?P<rm>{NUM})月(?:份)?(?:(?P<rd>{NUM})[日号])?|(?P<rh>[上下]半年)|第?(?P<rq>[一二三四1-4])季度)?)
      | (?P<md>(?P<m2>{NUM})月(?:(?P<d2>{NUM})[日号]))
      | (?P<half>[上下]半年)
      | (?P<quarter>第?(?P<q2>[一二三四1-4])季度)
      | (?P<day>今天|今日|昨天|昨日|明天|明日|前天|近日|日前)
      | (?P<month>本月|上月|上个月|下月|下个月)
    "
    );
    Regex::new(&p).expect("date pattern")
});

/// Every date of `text`, resolved against `reference`: Chinese and numeric forms, and, in a
/// text with Latin letters, English ones ([`english_dates`]).
pub fn dates(text: &str, reference: &Reference) -> Vec<DateMention> {
    let mut out = chinese_dates(text, reference);
    if text.bytes().any(|b| b.is_ascii_alphabetic()) {
        let english = english_dates(text, reference);
        if !english.is_empty() {
            let overlaps = |e: &DateMention| {
                out.iter()
                    .any(|c| e.char_start < c.char_end && c.char_start < e.char_end)
            };
            let mut extra: Vec<DateMention> =
                english.into_iter().filter(|e| !overlaps(e)).collect();
            out.append(&mut extra);
            out.sort_by_key(|d| d.char_start);
        }
    }
    out
}

const MONTHS: &str = r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?";
const WEEKDAYS: &str = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";

static ENGLISH: LazyLock<Regex> = LazyLock::new(|| {
    let p = format!(
        r"(?x)
        \b(?:
          (?P<mdy>(?P<m1>{MONTHS})\.?\s(?P<d1>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(?P<y1>[12][0-9]{{3}})\b)?)
        | (?P<dmy>(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\s(?P<m2>{MONTHS})\b\.?(?:,?\s(?P<y2>[12][0-9]{{3}})\b)?)
        | (?P<my>(?P<m3>{MONTHS})\.?\s(?P<y3>[12][0-9]{{3}})\b)
        | (?P<q>(?:Q(?P<qn>[1-4])|(?i:the\s)?(?P<qo>(?i:first|second|third|fourth))\s(?i:quarter))(?:\s(?:of\s)?(?P<qy>[12][0-9]{{3}}))?\b)
        | (?P<h>(?:(?i:the\s)?(?P<ho>(?i:first|second))\s(?i:half)|H(?P<hn>[12]))(?:\s(?:of\s)?(?P<hy>[12][0-9]{{3}}))?\b)
        | (?P<fy>(?i:fiscal)\s(?:(?i:year)\s)?(?P<fyy>[12][0-9]{{3}})\b)
        | (?P<yr>(?P<yr1>[12][0-9]{{3}})\s?[-–]\s?(?P<yr2>[0-9]{{2}}|[12][0-9]{{3}})\b)
        | (?P<wd>(?:(?P<wm>(?i:last|next|this))\s)?(?P<wdn>{WEEKDAYS})\b)
        | (?P<rel>(?P<rw>(?i:last|next|this))\s(?P<ru>(?i:month|year))\b)
        | (?P<dayw>(?i:today|yesterday|tomorrow)\b)
        )"
    );
    Regex::new(&p).expect("english date pattern")
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

/// English dates: `Jan. 30`, `January 30, 2024`, `30 January 2024`, `January 2024`, `Q3 2024`,
/// `the third quarter`, `first half`, `fiscal 2024`, `2019-21`, `Monday`, `last Thursday`,
/// `next month`, `today`. A date without a year is resolved against the reference.
pub fn english_dates(text: &str, r: &Reference) -> Vec<DateMention> {
    let mut out = Vec::new();
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut char_at = |b: usize| {
        chars += text[byte..b].chars().count();
        byte = b;
        chars
    };
    for caps in ENGLISH.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some((value, grain, from)) = read_english(&caps, r) else {
            continue;
        };
        let char_start = char_at(whole.start());
        let char_end = char_at(whole.end());
        out.push(DateMention {
            text: whole.as_str().to_string(),
            value,
            grain,
            resolved_from: from,
            char_start,
            char_end,
        });
    }
    out
}

fn read_english(caps: &Captures<'_>, r: &Reference) -> Option<Found> {
    let int = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<i32>().ok());
    let day_of = |m: u32, d: u32, y: Option<i32>| -> Option<Found> {
        match y {
            Some(y) => Some((
                DateValue::One(day(y, m, d)?),
                Grain::Day,
                ResolvedFrom::Text,
            )),
            None => Some((
                DateValue::One(iso_day(nearest_year(m, d, r)?)),
                Grain::Day,
                r.source,
            )),
        }
    };
    if caps.name("mdy").is_some() {
        let m = month_number(caps.name("m1")?.as_str())?;
        return day_of(m, u32::try_from(int("d1")?).ok()?, int("y1"));
    }
    if caps.name("dmy").is_some() {
        let m = month_number(caps.name("m2")?.as_str())?;
        return day_of(m, u32::try_from(int("d2")?).ok()?, int("y2"));
    }
    if caps.name("my").is_some() {
        let m = month_number(caps.name("m3")?.as_str())?;
        let v = format!("{:04}-{m:02}", int("y3")?);
        return Some((DateValue::One(v), Grain::Month, ResolvedFrom::Text));
    }
    let year_or_ref = |name: &str| match int(name) {
        Some(y) => (y, ResolvedFrom::Text),
        None => (r.date.year(), r.source),
    };
    if caps.name("q").is_some() {
        let q = int("qn")
            .and_then(|q| u32::try_from(q).ok())
            .or_else(|| ordinal(caps.name("qo")?.as_str()))?;
        let (y, from) = year_or_ref("qy");
        return Some((DateValue::One(format!("{y:04}-Q{q}")), Grain::Quarter, from));
    }
    if caps.name("h").is_some() {
        let h = int("hn")
            .and_then(|h| u32::try_from(h).ok())
            .or_else(|| ordinal(caps.name("ho")?.as_str()))?;
        let (y, from) = year_or_ref("hy");
        return Some((DateValue::One(format!("{y:04}-H{h}")), Grain::Half, from));
    }
    if caps.name("fy").is_some() {
        return Some((
            DateValue::One(format!("{:04}", int("fyy")?)),
            Grain::Year,
            ResolvedFrom::Text,
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
        return Some((
            DateValue::Range(a.to_string(), b.to_string()),
            Grain::Year,
            ResolvedFrom::Text,
        ));
    }
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
        let shift = match caps.name("wm").map(|m| m.as_str().to_ascii_lowercase()) {
            // The one before this week's (or before today, if today is that day).
            Some(m) if m == "last" => -(if back == 0 { 7 } else { back }),
            Some(m) if m == "next" => {
                let ahead = (target - today).rem_euclid(7);
                if ahead == 0 {
                    7
                } else {
                    ahead
                }
            }
            // A bare weekday in news is the nearest one (within three days either way).
            _ => {
                if back <= 3 {
                    -back
                } else {
                    7 - back
                }
            }
        };
        let d = r.date.checked_add(Duration::days(shift))?;
        return Some((DateValue::One(iso_day(d)), Grain::Day, r.source));
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
            return Some((
                DateValue::One(format!("{:04}", y + step)),
                Grain::Year,
                r.source,
            ));
        }
        let total = y * 12 + (mo - 1) + step;
        let v = format!(
            "{:04}-{:02}",
            total.div_euclid(12),
            total.rem_euclid(12) + 1
        );
        return Some((DateValue::One(v), Grain::Month, r.source));
    }
    if let Some(m) = caps.name("dayw") {
        let shift = match m.as_str().to_ascii_lowercase().as_str() {
            "yesterday" => -1,
            "tomorrow" => 1,
            _ => 0,
        };
        let d = r.date.checked_add(Duration::days(shift))?;
        return Some((DateValue::One(iso_day(d)), Grain::Day, r.source));
    }
    None
}

/// Chinese and numeric dates of `text`.
fn chinese_dates(text: &str, reference: &Reference) -> Vec<DateMention> {
    let mut out = Vec::new();
    // Char offsets counted on from the last match, not from the start for each (matches come
    // in order): linear in the text however many dates it holds.
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut char_at = |b: usize| {
        chars += text[byte..b].chars().count();
        byte = b;
        chars
    };
    for caps in PATTERN.captures_iter(text) {
        let Some((whole, found)) = read(&caps, reference) else {
            continue;
        };
        let (start, end) = (whole.start(), whole.end());
        if !boundary_ok(text, start, end) {
            continue;
        }
        let (value, grain, from) = found;
        let char_start = char_at(start);
        let char_end = char_at(end);
        out.push(DateMention {
            text: text[start..end].to_string(),
            value,
            grain,
            resolved_from: from,
            char_start,
            char_end,
        });
    }
    out
}

/// A date must not be cut out of a longer number (12023年, 13月).
fn boundary_ok(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let digit =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    !digit(before) && (!digit(after) || text[start..end].ends_with(['日', '号', '年', '月', '度']))
}

type Found = (DateValue, Grain, ResolvedFrom);

fn read<'t>(caps: &Captures<'t>, r: &Reference) -> Option<(regex::Match<'t>, Found)> {
    let num = |name: &str| caps.name(name).and_then(|m| small(m.as_str()));
    if let Some(m) = caps.name("iso") {
        let y = caps.name("iy").and_then(|y| y.as_str().parse().ok())?;
        let v = day(y, num("im")?, num("id")?)?;
        return Some((m, (DateValue::One(v), Grain::Day, ResolvedFrom::Text)));
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
        return Some((m, (v, Grain::Year, ResolvedFrom::Text)));
    }
    if let Some(m) = caps.name("abs") {
        let y = year(caps.name("y")?.as_str())?;
        let f = within_year(caps, y, "m", "d", "ah", "aq", ResolvedFrom::Text)?;
        return Some((m, f));
    }
    if let Some(m) = caps.name("rel") {
        let base = r.date.year();
        let y = match caps.name("ry")?.as_str() {
            "去年" | "上年" | "上年度" => base - 1,
            "明年" => base + 1,
            "前年" => base - 2,
            _ => base,
        };
        let f = within_year(caps, y, "rm", "rd", "rh", "rq", r.source)?;
        return Some((m, f));
    }
    if let Some(m) = caps.name("md") {
        let v = day(r.date.year(), num("m2")?, num("d2")?)?;
        return Some((m, (DateValue::One(v), Grain::Day, r.source)));
    }
    if let Some(m) = caps.name("half") {
        let v = format!(
            "{}-H{}",
            r.date.year(),
            if m.as_str().starts_with('上') { 1 } else { 2 }
        );
        return Some((m, (DateValue::One(v), Grain::Half, r.source)));
    }
    if let Some(m) = caps.name("quarter") {
        let v = format!("{}-Q{}", r.date.year(), num("q2")?);
        return Some((m, (DateValue::One(v), Grain::Quarter, r.source)));
    }
    if let Some(m) = caps.name("day") {
        let shift = match m.as_str() {
            "昨天" | "昨日" => -1,
            "明天" | "明日" => 1,
            "前天" => -2,
            _ => 0,
        };
        let d = r.date.checked_add(Duration::days(shift))?;
        let v = iso_day(d);
        return Some((m, (DateValue::One(v), Grain::Day, r.source)));
    }
    if let Some(m) = caps.name("month") {
        let (y, mo) = (r.date.year(), u32::from(u8::from(r.date.month())));
        let (y, mo) = match m.as_str() {
            "上月" | "上个月" if mo == 1 => (y - 1, 12),
            "上月" | "上个月" => (y, mo - 1),
            "下月" | "下个月" if mo == 12 => (y + 1, 1),
            "下月" | "下个月" => (y, mo + 1),
            _ => (y, mo),
        };
        let v = format!("{y:04}-{mo:02}");
        return Some((m, (DateValue::One(v), Grain::Month, r.source)));
    }
    None
}

/// The month, day, half or quarter of year `y` that the named groups hold (or the year).
fn within_year(
    caps: &Captures,
    y: i32,
    month: &str,
    dayg: &str,
    half: &str,
    quarter: &str,
    from: ResolvedFrom,
) -> Option<Found> {
    let num = |name: &str| caps.name(name).and_then(|m| small(m.as_str()));
    if let Some(m) = caps.name(month) {
        let mo = small(m.as_str())?;
        if let Some(d) = num(dayg) {
            return Some((DateValue::One(day(y, mo, d)?), Grain::Day, from));
        }
        if !(1..=12).contains(&mo) {
            return None;
        }
        return Some((
            DateValue::One(format!("{y:04}-{mo:02}")),
            Grain::Month,
            from,
        ));
    }
    if let Some(h) = caps.name(half) {
        let n = if h.as_str().starts_with('上') { 1 } else { 2 };
        return Some((DateValue::One(format!("{y:04}-H{n}")), Grain::Half, from));
    }
    if let Some(q) = num(quarter) {
        return Some((DateValue::One(format!("{y:04}-Q{q}")), Grain::Quarter, from));
    }
    Some((DateValue::One(format!("{y:04}")), Grain::Year, from))
}

/// A small number written in Arabic or Chinese numerals.
fn small(s: &str) -> Option<u32> {
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
}
