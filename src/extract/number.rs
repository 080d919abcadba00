//! Numbers as written in Chinese news: Arabic digits (with thousands separators, full-width
//! digits), Chinese numerals (三千五百万, 二〇二三, 两), mixed forms (508亿, 1.5万, 9000多万) and
//! ranges (50亿-100亿, 3至5万, 10~20), read into exact decimals.
//!
//! Values are [`Dec`]: an `i128` mantissa and a decimal scale, so 227.03亿 is exactly
//! 22703000000 and 6.9 stays 6.9 — no float ever touches a value.

use std::fmt;
use std::str::FromStr;

/// An exact decimal: `mantissa × 10^-scale`, kept with no trailing zeros in the fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dec {
    mantissa: i128,
    scale: u32,
}

/// Largest scale kept; more fractional digits than this are not news figures.
const MAX_SCALE: u32 = 18;

impl Dec {
    pub const ZERO: Dec = Dec {
        mantissa: 0,
        scale: 0,
    };

    pub fn from_int(n: i128) -> Dec {
        Dec {
            mantissa: n,
            scale: 0,
        }
    }

    /// `mantissa × 10^-scale`, normalized.
    pub fn new(mantissa: i128, scale: u32) -> Dec {
        Dec { mantissa, scale }.normalized()
    }

    fn normalized(mut self) -> Dec {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        if self.mantissa == 0 {
            self.scale = 0;
        }
        self
    }

    /// `self × 10^k`, or None on overflow.
    pub fn mul_pow10(self, k: u32) -> Option<Dec> {
        if k <= self.scale {
            return Some(Dec::new(self.mantissa, self.scale - k));
        }
        let p = 10i128.checked_pow(k - self.scale)?;
        Some(Dec::new(self.mantissa.checked_mul(p)?, 0))
    }

    /// `self / 10^k`, or None past the kept scale.
    pub fn div_pow10(self, k: u32) -> Option<Dec> {
        let scale = self.scale.checked_add(k)?;
        (scale <= MAX_SCALE).then(|| Dec::new(self.mantissa, scale))
    }

    /// `self × n`, or None on overflow.
    pub fn mul_int(self, n: i128) -> Option<Dec> {
        Some(Dec::new(self.mantissa.checked_mul(n)?, self.scale))
    }

    /// `self + other`, or None on overflow.
    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        let scale = self.scale.max(other.scale);
        let a = self
            .mantissa
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other
            .mantissa
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some(Dec::new(a.checked_add(b)?, scale))
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// The value as an integer when it has no fraction.
    pub fn as_int(&self) -> Option<i128> {
        (self.scale == 0).then_some(self.mantissa)
    }

    /// The value as an exact JSON number (serde_json's `arbitrary_precision` keeps the digits).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Number::from_str(&self.to_string())
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl FromStr for Dec {
    type Err = ();

    /// Plain decimal text: ASCII digits with an optional `.` fraction.
    fn from_str(s: &str) -> Result<Dec, ()> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let frac = &frac[..frac.len().min(MAX_SCALE as usize)];
        let mut m: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or(())?;
        }
        Ok(Dec::new(m, frac.len() as u32))
    }
}

/// A number found in text: its value, its char range, and how it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num {
    pub value: Dec,
    pub start: usize,
    pub end: usize,
    /// 多 / 余 written after the digits (9000多万, 10余家): "more than".
    pub more: bool,
    /// The power of ten applied by 万 / 亿 / 千万… after Arabic digits (0 when none).
    pub multiplier: u32,
    /// Written in Chinese numerals.
    pub chinese: bool,
}

/// A number or a range of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    One(Dec),
    Range(Dec, Dec),
}

impl Amount {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Amount::One(v) => v.to_json(),
            Amount::Range(a, b) => serde_json::Value::Array(vec![a.to_json(), b.to_json()]),
        }
    }

    pub fn map(self, f: impl Fn(Dec) -> Option<Dec>) -> Option<Amount> {
        Some(match self {
            Amount::One(v) => Amount::One(f(v)?),
            Amount::Range(a, b) => Amount::Range(f(a)?, f(b)?),
        })
    }
}

/// The value of an Arabic digit, ASCII or full-width.
pub fn arabic_digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

/// The value of a Chinese digit (including 两 and the zero forms 零 〇 ○).
pub fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | '○' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// Power of ten of a Chinese unit character.
fn chinese_unit(c: char) -> Option<u32> {
    Some(match c {
        '十' | '拾' => 1,
        '百' | '佰' => 2,
        '千' | '仟' => 3,
        '万' | '萬' => 4,
        '亿' => 8,
        _ => return None,
    })
}

/// Units of measure that begin with a numeral unit character: 5千瓦 is five kilowatts, not
/// 5000 瓦, so a multiplier stops where one of these begins.
const UNITS_STARTING_WITH_MULTIPLIER: &[&str] = &[
    "千瓦",
    "千米",
    "千克",
    "千伏",
    "千卡",
    "千兆",
    "百分",
    "万分",
    "十分",
    "千分",
    "百亿级",
    "千亿级",
    "万亿级",
    "百强",
    "千年",
    "百年",
    "万年",
];

/// Whether `word` is written at char `i` of `chars`.
pub fn starts_with_at(chars: &[char], i: usize, word: &str) -> bool {
    (i..)
        .zip(word.chars())
        .all(|(k, w)| chars.get(k) == Some(&w))
}

fn blocks_multiplier(chars: &[char], i: usize) -> bool {
    UNITS_STARTING_WITH_MULTIPLIER
        .iter()
        .any(|u| starts_with_at(chars, i, u))
}

/// Reads 多/余 at `i`, returning the index after it.
fn more_at(chars: &[char], i: usize) -> Option<usize> {
    matches!(chars.get(i), Some('多' | '余')).then_some(i + 1)
}

/// Reads the number that starts exactly at `i`, if any.
pub fn number_at(chars: &[char], i: usize) -> Option<Num> {
    let c = *chars.get(i)?;
    if arabic_digit(c).is_some() {
        arabic_at(chars, i)
    } else if chinese_digit(c).is_some() || matches!(c, '十' | '拾') {
        chinese_at(chars, i)
    } else {
        None
    }
}

/// Arabic digits, then optional 多/余 and 万/亿/千万… multipliers.
fn arabic_at(chars: &[char], start: usize) -> Option<Num> {
    let mut text = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if let Some(d) = arabic_digit(c) {
            text.push(char::from(b'0' + d as u8));
            i += 1;
        } else if c == ',' && group_of_three(chars, i + 1) && !text.contains('.') {
            i += 1;
        } else if matches!(c, '.' | '．')
            && !text.contains('.')
            && chars.get(i + 1).and_then(|&n| arabic_digit(n)).is_some()
        {
            text.push('.');
            i += 1;
        } else {
            break;
        }
    }
    let mut value: Dec = text.parse().ok()?;
    let mut more = false;
    if let Some(next) = more_at(chars, i) {
        if chars.get(next).copied().and_then(chinese_unit).is_some() {
            more = true;
            i = next;
        }
    }
    let mut multiplier = 0;
    while let Some(p) = chars.get(i).copied().and_then(chinese_unit) {
        if blocks_multiplier(chars, i) || (p == 1 && multiplier == 0) {
            break;
        }
        multiplier += p;
        i += 1;
    }
    if multiplier > 0 {
        value = value.mul_pow10(multiplier)?;
    }
    // 5467亿3200万: a smaller part, itself multiplied, follows a multiplied integer.
    if multiplier >= 8 && !more && !text.contains('.') {
        if let Some(rest) = chars
            .get(i)
            .filter(|&&c| arabic_digit(c).is_some())
            .and_then(|_| arabic_at(chars, i))
        {
            if rest.multiplier > 0 && rest.multiplier < multiplier && !rest.more {
                if let Some(sum) = value.checked_add(rest.value) {
                    value = sum;
                    i = rest.end;
                }
            }
        }
    }
    if let Some(next) = more_at(chars, i) {
        more = true;
        i = next;
    }
    Some(Num {
        value,
        start,
        end: i,
        more,
        multiplier,
        chinese: false,
    })
}

fn group_of_three(chars: &[char], i: usize) -> bool {
    (0..3).all(|k| chars.get(i + k).and_then(|&c| arabic_digit(c)).is_some())
        && chars.get(i + 3).and_then(|&c| arabic_digit(c)).is_none()
}

/// Chinese numerals: 三千五百万, 二〇二三, 十二, 六点九, 一万五.
fn chinese_at(chars: &[char], start: usize) -> Option<Num> {
    let mut end = start;
    while let Some(&c) = chars.get(end) {
        let numeral = chinese_digit(c).is_some() || chinese_unit(c).is_some();
        let point = c == '点'
            && chars
                .get(end + 1)
                .copied()
                .and_then(chinese_digit)
                .is_some();
        if !(numeral || point) || (chinese_unit(c).is_some() && blocks_multiplier(chars, end)) {
            break;
        }
        end += 1;
    }
    let run: Vec<char> = chars[start..end].to_vec();
    let point = run.iter().position(|&c| c == '点');
    let (int_part, frac_part) = match point {
        Some(p) => (&run[..p], &run[p + 1..]),
        None => (&run[..], &run[..0]),
    };
    let mut value = chinese_integer(int_part)?;
    if !frac_part.is_empty() {
        let mut m: i128 = 0;
        for &c in frac_part {
            m = m.checked_mul(10)? + i128::from(chinese_digit(c)?);
        }
        value = value.checked_add(Dec::new(m, frac_part.len() as u32))?;
    }
    let mut i = end;
    let mut more = false;
    if let Some(next) = more_at(chars, i) {
        more = true;
        i = next;
    }
    Some(Num {
        value,
        start,
        end: i,
        more,
        multiplier: 0,
        chinese: true,
    })
}

/// The integer written by Chinese numerals: positional (二〇二三) or with units (三千五百万).
fn chinese_integer(run: &[char]) -> Option<Dec> {
    if run.is_empty() {
        return None;
    }
    if run.len() > 1 && run.iter().all(|&c| chinese_digit(c).is_some()) {
        let mut m: i128 = 0;
        for &c in run {
            m = m.checked_mul(10)? + i128::from(chinese_digit(c)?);
        }
        return Some(Dec::from_int(m));
    }
    // big: the part counted in 亿; mid: in 万; small: below 万.
    let (mut big, mut mid, mut small, mut digit): (i128, i128, i128, Option<i128>) =
        (0, 0, 0, None);
    let mut last_unit: Option<u32> = None;
    for (k, &c) in run.iter().enumerate() {
        if let Some(d) = chinese_digit(c) {
            digit = Some(i128::from(d));
            if d == 0 {
                last_unit = None;
            }
            continue;
        }
        let p = chinese_unit(c)?;
        match p {
            1..=3 => {
                // 十 alone at the start means ten.
                let d = digit.unwrap_or(if p == 1 && (k == 0 || digit.is_none()) {
                    1
                } else {
                    0
                });
                small = small.checked_add(d.checked_mul(10i128.pow(p))?)?;
                last_unit = Some(p);
            }
            4 => {
                mid = small.checked_add(digit.unwrap_or(0))?;
                small = 0;
                last_unit = Some(4);
                if mid == 0 && big == 0 {
                    return None;
                }
            }
            _ => {
                let below = mid
                    .checked_mul(10_000)?
                    .checked_add(small)?
                    .checked_add(digit.unwrap_or(0))?;
                // 万亿: a 万 right before 亿 multiplies.
                big = big.checked_add(below.checked_mul(100_000_000)?)?;
                if big == 0 {
                    return None;
                }
                mid = 0;
                small = 0;
                last_unit = Some(8);
            }
        }
        digit = None;
    }
    // A trailing digit right after a unit counts in the next lower place: 三千五 = 3500.
    let tail = match (digit, last_unit) {
        (Some(d), Some(p)) if p >= 2 => d.checked_mul(10i128.pow(p - 1))?,
        (Some(d), _) => d,
        (None, _) => 0,
    };
    let total = big
        .checked_add(mid.checked_mul(10_000)?)?
        .checked_add(small)?
        .checked_add(tail)?;
    Some(Dec::from_int(total))
}

/// Separators between the two ends of a range.
pub fn range_separator(c: char) -> bool {
    matches!(c, '-' | '－' | '–' | '—' | '~' | '～' | '〜' | '至' | '到')
}

/// A number or range at `i`: 50亿-100亿, 3至5万 (the multiplier of the high end applies to a
/// low end written without one), 10~20. Returns the amount, its end, and the number parts.
pub fn amount_at(chars: &[char], i: usize) -> Option<(Amount, usize, Num)> {
    let low = number_at(chars, i)?;
    if let Some(&sep) = chars.get(low.end) {
        if range_separator(sep) {
            let mut j = low.end + 1;
            if sep == '—' && chars.get(j) == Some(&'—') {
                j += 1;
            }
            if let Some(high) = number_at(chars, j).filter(|h| h.chinese == low.chinese) {
                let mut lo = low.value;
                if low.multiplier == 0 && high.multiplier > 0 && !low.chinese {
                    lo = lo.mul_pow10(high.multiplier)?;
                }
                let joined = Num {
                    more: low.more || high.more,
                    end: high.end,
                    ..low
                };
                return Some((Amount::Range(lo, high.value), high.end, joined));
            }
        }
    }
    Some((Amount::One(low.value), low.end, low))
}

/// Reads `text` as one whole number (for tests and callers with isolated numbers).
pub fn parse(text: &str) -> Option<Dec> {
    let chars: Vec<char> = text.chars().collect();
    let n = number_at(&chars, 0)?;
    (n.end == chars.len()).then_some(n.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        s.parse().expect("decimal")
    }

    #[test]
    fn decimals_are_exact_and_print_without_float_noise() {
        assert_eq!(parse("227.03亿"), Some(d("22703000000")));
        assert_eq!(
            parse("227.03亿").map(|v| v.to_string()),
            Some("22703000000".into())
        );
        assert_eq!(parse("6.9").map(|v| v.to_string()), Some("6.9".into()));
        assert_eq!(parse("0.1").map(|v| v.to_string()), Some("0.1".into()));
        assert_eq!(d("1.50").to_string(), "1.5");
        assert_eq!(d("0.05").to_string(), "0.05");
        assert_eq!(
            serde_json::to_string(&parse("227.03亿").map(|v| v.to_json())).ok(),
            Some("22703000000".into())
        );
    }

    #[test]
    fn arabic_forms_with_separators_full_width_and_multipliers() {
        assert_eq!(parse("1,234,567"), Some(d("1234567")));
        assert_eq!(parse("１２３"), Some(d("123")));
        assert_eq!(parse("508亿"), Some(d("50800000000")));
        assert_eq!(parse("1.5万"), Some(d("15000")));
        assert_eq!(parse("3千万"), Some(d("30000000")));
        assert_eq!(parse("2万亿"), Some(d("2000000000000")));
        let chars: Vec<char> = "9000多万元".chars().collect();
        let n = number_at(&chars, 0).expect("number");
        assert_eq!((n.value, n.more, n.end), (d("90000000"), true, 6));
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(parse("三千五百万"), Some(d("35000000")));
        assert_eq!(parse("二〇二三"), Some(d("2023")));
        assert_eq!(parse("二○二三"), Some(d("2023")));
        assert_eq!(parse("两"), Some(d("2")));
        assert_eq!(parse("十二"), Some(d("12")));
        assert_eq!(parse("二十"), Some(d("20")));
        assert_eq!(parse("一百零五"), Some(d("105")));
        assert_eq!(parse("三千五"), Some(d("3500")));
        assert_eq!(parse("一亿五千万"), Some(d("150000000")));
        assert_eq!(parse("六点九"), Some(d("6.9")));
        assert_eq!(parse("十万"), Some(d("100000")));
    }

    #[test]
    fn a_unit_that_starts_with_a_numeral_is_not_a_multiplier() {
        let chars: Vec<char> = "5千瓦".chars().collect();
        assert_eq!(
            number_at(&chars, 0).map(|n| (n.value, n.end)),
            Some((d("5"), 1))
        );
        let chars: Vec<char> = "100万千瓦".chars().collect();
        assert_eq!(
            number_at(&chars, 0).map(|n| (n.value, n.end)),
            Some((d("1000000"), 4))
        );
    }

    #[test]
    fn ranges_share_the_high_end_multiplier() {
        let r = |s: &str| {
            let chars: Vec<char> = s.chars().collect();
            amount_at(&chars, 0).map(|(a, end, _)| (a, end))
        };
        assert_eq!(
            r("50亿-100亿元"),
            Some((Amount::Range(d("5000000000"), d("10000000000")), 8))
        );
        assert_eq!(
            r("3至5万"),
            Some((Amount::Range(d("30000"), d("50000")), 4))
        );
        assert_eq!(r("10~20"), Some((Amount::Range(d("10"), d("20")), 5)));
    }

    #[test]
    fn overflow_is_no_number_not_a_panic() {
        let long = "9".repeat(60);
        assert_eq!(parse(&long), None);
        assert_eq!(parse(&format!("{long}亿")), None);
    }
}
