//! Figures: money with its currency, percentages and percentage points, and quantities with
//! their unit, each with the modifier the text puts on it (超 10亿元 → over, 17%以上 → at_least).
//!
//! A figure is a number or range ([`super::number`]) followed by a unit, or a currency sign
//! followed by a number. Values are in the unit's base: 227.03亿元 is 22703000000 CNY, 5万吨 is
//! 50000 吨.

use serde::Serialize;

use super::number::{amount_at, arabic_digit, chinese_digit, number_at, Amount, Dec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    Money,
    Percent,
    PercentPoint,
    Quantity,
}

impl FigureKind {
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::Money => "money",
            FigureKind::Percent => "percent",
            FigureKind::PercentPoint => "percent_point",
            FigureKind::Quantity => "quantity",
        }
    }
}

/// How the text qualifies a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modifier {
    /// 超 / 超过 / 逾 / 突破
    Over,
    /// 以上 / 至少 / 不少于
    AtLeast,
    /// 多 / 余
    MoreThan,
    /// 约 / 近 / 左右
    About,
    /// 以下 / 不到 / 不足 / 不超过
    AtMost,
}

/// One figure of a text, with char offsets into that text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub kind: FigureKind,
    pub text: String,
    pub value: Amount,
    pub unit: String,
    pub modifier: Option<Modifier>,
    pub char_start: usize,
    pub char_end: usize,
}

impl Figure {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The event form: `{char_end, char_start, kind, modifier, text, unit, value}` (keys in order,
/// as every payload object; `value` an exact number or a `[low, high]` pair).
impl Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            char_end: usize,
            char_start: usize,
            kind: FigureKind,
            modifier: Option<Modifier>,
            text: &'a str,
            unit: &'a str,
            value: serde_json::Value,
        }
        Out {
            char_end: self.char_end,
            char_start: self.char_start,
            kind: self.kind,
            modifier: self.modifier,
            text: &self.text,
            unit: &self.unit,
            value: self.value.to_json(),
        }
        .serialize(serializer)
    }
}

/// Units written after a number: (text, kind, unit reported). Longest match wins.
const UNITS: &[(&str, FigureKind, &str)] = &[
    ("人民币", FigureKind::Money, "CNY"),
    ("元人民币", FigureKind::Money, "CNY"),
    ("元", FigureKind::Money, "CNY"),
    ("块钱", FigureKind::Money, "CNY"),
    ("美元", FigureKind::Money, "USD"),
    ("美金", FigureKind::Money, "USD"),
    ("港元", FigureKind::Money, "HKD"),
    ("港币", FigureKind::Money, "HKD"),
    ("欧元", FigureKind::Money, "EUR"),
    ("日元", FigureKind::Money, "JPY"),
    ("英镑", FigureKind::Money, "GBP"),
    ("韩元", FigureKind::Money, "KRW"),
    ("澳元", FigureKind::Money, "AUD"),
    ("加元", FigureKind::Money, "CAD"),
    ("卢布", FigureKind::Money, "RUB"),
    ("新台币", FigureKind::Money, "TWD"),
    ("台币", FigureKind::Money, "TWD"),
    ("澳门币", FigureKind::Money, "MOP"),
    ("澳门元", FigureKind::Money, "MOP"),
    ("瑞士法郎", FigureKind::Money, "CHF"),
    ("新加坡元", FigureKind::Money, "SGD"),
    ("%", FigureKind::Percent, "%"),
    ("％", FigureKind::Percent, "%"),
    ("个百分点", FigureKind::PercentPoint, "pp"),
    ("百分点", FigureKind::PercentPoint, "pp"),
    ("吨", FigureKind::Quantity, "吨"),
    ("公斤", FigureKind::Quantity, "公斤"),
    ("千克", FigureKind::Quantity, "千克"),
    ("克", FigureKind::Quantity, "克"),
    ("亩", FigureKind::Quantity, "亩"),
    ("公顷", FigureKind::Quantity, "公顷"),
    ("平方公里", FigureKind::Quantity, "平方公里"),
    ("平方千米", FigureKind::Quantity, "平方千米"),
    ("平方米", FigureKind::Quantity, "平方米"),
    ("平米", FigureKind::Quantity, "平方米"),
    ("立方米", FigureKind::Quantity, "立方米"),
    ("方", FigureKind::Quantity, "立方米"),
    ("公里", FigureKind::Quantity, "公里"),
    ("千米", FigureKind::Quantity, "千米"),
    ("米", FigureKind::Quantity, "米"),
    ("升", FigureKind::Quantity, "升"),
    ("桶", FigureKind::Quantity, "桶"),
    ("台", FigureKind::Quantity, "台"),
    ("套", FigureKind::Quantity, "套"),
    ("家", FigureKind::Quantity, "家"),
    ("个", FigureKind::Quantity, "个"),
    ("个月", FigureKind::Quantity, "个月"),
    ("项", FigureKind::Quantity, "项"),
    ("人", FigureKind::Quantity, "人"),
    ("人次", FigureKind::Quantity, "人次"),
    ("名", FigureKind::Quantity, "名"),
    ("位", FigureKind::Quantity, "位"),
    ("例", FigureKind::Quantity, "例"),
    ("户", FigureKind::Quantity, "户"),
    ("辆", FigureKind::Quantity, "辆"),
    ("件", FigureKind::Quantity, "件"),
    ("座", FigureKind::Quantity, "座"),
    ("架", FigureKind::Quantity, "架"),
    ("艘", FigureKind::Quantity, "艘"),
    ("所", FigureKind::Quantity, "所"),
    ("头", FigureKind::Quantity, "头"),
    ("只", FigureKind::Quantity, "只"),
    ("株", FigureKind::Quantity, "株"),
    ("份", FigureKind::Quantity, "份"),
    ("批", FigureKind::Quantity, "批"),
    ("度", FigureKind::Quantity, "度"),
    ("千瓦时", FigureKind::Quantity, "千瓦时"),
    ("千瓦", FigureKind::Quantity, "千瓦"),
    ("兆瓦", FigureKind::Quantity, "兆瓦"),
    ("千伏安", FigureKind::Quantity, "千伏安"),
    ("千伏", FigureKind::Quantity, "千伏"),
    ("标准箱", FigureKind::Quantity, "标准箱"),
    ("kVA", FigureKind::Quantity, "kVA"),
    ("KVA", FigureKind::Quantity, "kVA"),
    ("kW", FigureKind::Quantity, "kW"),
    ("KW", FigureKind::Quantity, "kW"),
    ("kWh", FigureKind::Quantity, "kWh"),
    ("MW", FigureKind::Quantity, "MW"),
    ("GW", FigureKind::Quantity, "GW"),
    ("km", FigureKind::Quantity, "km"),
    ("kg", FigureKind::Quantity, "kg"),
    ("TEU", FigureKind::Quantity, "TEU"),
];

/// Rates written after a unit (4万吨/日) that belong to it.
const PER: &[&str] = &["/日", "/天", "/年", "/小时", "/时", "/月"];

/// Currency signs written before a number.
const SIGNS: &[(&str, &str)] = &[
    ("SGD$", "SGD"),
    ("US$", "USD"),
    ("AU$", "AUD"),
    ("CA$", "CAD"),
    ("MX$", "MXN"),
    ("SG$", "SGD"),
    ("HK$", "HKD"),
    ("NT$", "TWD"),
    ("NZ$", "NZD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("₹", "INR"),
    ("Rs.", "INR"),
    ("Rs", "INR"),
    ("¥", "CNY"),
    ("￥", "CNY"),
    ("$", "USD"),
    ("＄", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
];

/// Modifiers written right before a figure, longest first, with the characters before them
/// that make them part of another word (签约 is not 约, 最近 is not 近).
const BEFORE: &[(&str, Modifier, &str)] = &[
    ("超过", Modifier::Over, ""),
    ("不超过", Modifier::AtMost, ""),
    ("突破", Modifier::Over, ""),
    ("逾", Modifier::Over, ""),
    ("超", Modifier::Over, "赶高"),
    ("至少", Modifier::AtLeast, ""),
    ("最少", Modifier::AtLeast, ""),
    ("不少于", Modifier::AtLeast, ""),
    ("不低于", Modifier::AtLeast, ""),
    ("大约", Modifier::About, ""),
    ("约", Modifier::About, "签合预节公制协条违履邀相誓契"),
    ("将近", Modifier::About, ""),
    ("接近", Modifier::About, ""),
    ("近", Modifier::About, "最附将接临靠亲"),
    ("不到", Modifier::AtMost, ""),
    ("不足", Modifier::AtMost, ""),
];

/// Modifiers of two or more characters may stand a short verb away (至少新增50亿元).
const MAX_GAP: usize = 2;

/// Modifiers written right after a figure.
const AFTER: &[(&str, Modifier)] = &[
    ("以上", Modifier::AtLeast),
    ("以下", Modifier::AtMost),
    ("以内", Modifier::AtMost),
    ("左右", Modifier::About),
    ("之多", Modifier::MoreThan),
];

/// Words joining figures that share a modifier written before the first (超10亿元或1亿美元).
const JOINERS: &[&str] = &["或者", "以及", "或", "和", "及", "、"];

/// Every figure of `text`, in order, with char offsets into `text`.
pub fn figures(text: &str) -> Vec<Figure> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Figure> = Vec::new();
    let mut prefixed: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match figure_at(&chars, i, out.last().map_or(0, |f| f.char_end)) {
            Some((mut f, end)) => {
                currency_before(&chars, &mut f, out.last().map_or(0, |f| f.char_end));
                let floor = out.last().map_or(0, |f| f.char_end);
                let before = modifier_before(&chars, f.char_start, floor)
                    .or_else(|| english_modifier_before(&chars, f.char_start, floor));
                let after = modifier_after(&chars, end);
                let from_before = f.modifier.is_none() && before.is_some() && after.is_none();
                f.modifier = f.modifier.or(after).or(before);
                if f.modifier.is_none() {
                    if let (Some(prev), Some(true)) = (out.last(), prefixed.last()) {
                        if joined(&chars, prev.char_end, f.char_start) {
                            f.modifier = prev.modifier;
                        }
                    }
                }
                prefixed.push(from_before);
                i = end;
                out.push(f);
            }
            None => i += 1,
        }
    }
    yen_by_context(text, &mut out);
    negatives(&chars, &mut out);
    let out = english_ranges(&chars, out);
    yen_in_english(text, out)
}

/// A minus right before a figure that starts a word (`−0.25%`, `-$123.46M`, `(-15€`) makes it
/// negative; a hyphen between two numbers is a range, not a sign.
fn negatives(chars: &[char], figures: &mut [Figure]) {
    let mut floor = 0;
    for f in figures.iter_mut() {
        let s = f.char_start;
        let minus = s > floor
            && matches!(chars[s - 1], '-' | '−')
            && (s == 1 || matches!(chars[s - 2], ' ' | '(' | '（' | '\n' | '\t'))
            && f.kind != FigureKind::Quantity
            && matches!(f.value, Amount::One(_));
        if minus {
            if let Some(v) = f.value.map(|v| v.mul_int(-1)) {
                f.value = v;
                f.char_start -= 1;
                f.text = chars[f.char_start..f.char_end].iter().collect();
            }
        }
        floor = f.char_end;
    }
}

/// `¥` in English text (no Han in it) is the yen's sign, unless the text speaks of China's
/// money.
fn yen_in_english(text: &str, mut figures: Vec<Figure>) -> Vec<Figure> {
    let signed = |f: &Figure| f.unit == "CNY" && f.text.starts_with(['¥', '￥']);
    if !figures.iter().any(signed) || text.chars().any(crate::text::script::is_han) {
        return figures;
    }
    let lower = text.to_lowercase();
    let china = ["yuan", "rmb", "renminbi", "china", "chinese", "cny"]
        .iter()
        .any(|w| lower.contains(w));
    if !china {
        for f in figures.iter_mut().filter(|f| signed(f)) {
            f.unit = "JPY".into();
        }
    }
    figures
}

/// What joins the two ends of an English range (`$50 - $100`, `5 to 10 percent`); `and` only
/// after `between`.
const RANGE_WORDS: &[&str] = &[" - ", "-", " – ", "–", " to ", "to "];

/// Whether `chars[a..b]` joins two ends of a range; `between` says a `between` opens the range
/// before `low_start`.
fn range_joint(chars: &[char], a: usize, b: usize, low_start: usize) -> bool {
    let between: String = chars.get(a..b).unwrap_or_default().iter().collect();
    // `from 60 percent to 75 percent` is a change between two figures, not a range.
    if RANGE_WORDS.contains(&between.as_str()) {
        return !opened_by(chars, low_start, "from ");
    }
    between == " and " && opened_by_between(chars, low_start)
}

/// Whether `word` (ignoring ASCII case) is written right before `start`.
fn opened_by(chars: &[char], start: usize, word: &str) -> bool {
    let n = word.chars().count();
    start >= n
        && chars[start - n..start]
            .iter()
            .zip(word.chars())
            .all(|(c, w)| c.eq_ignore_ascii_case(&w))
}

/// Whether `low` is below `high` (a range runs upwards; `cut 5% to 3%` is no range).
fn ascending(low: Dec, high: Dec) -> bool {
    let (l, h): (f64, f64) = (
        low.to_string().parse().unwrap_or(f64::NAN),
        high.to_string().parse().unwrap_or(f64::NAN),
    );
    l < h
}

/// Whether `between ` is written right before `start`.
fn opened_by_between(chars: &[char], start: usize) -> bool {
    opened_by(chars, start, "between ")
}

/// The power of ten (−2..=12) by which `raw` becomes `value`.
fn scale_between(raw: Dec, value: Dec) -> Option<i32> {
    let v = value.to_string();
    (-2..=12).find(|&p: &i32| {
        let scaled = if p >= 0 {
            raw.mul_pow10(p as u32)
        } else {
            raw.div_pow10((-p) as u32)
        };
        scaled.is_some_and(|x| x.to_string() == v)
    })
}

/// English ranges whose ends are written apart: two figures of one kind and unit joined by a
/// range word (`$50 - $100`, `¥290 to ¥300`, `between $2 and $18`), or a bare number before a
/// figure (`5 to 10 percent`, `between 10 and 20 million dollars`: the low end takes the high
/// end's scale).
fn english_ranges(chars: &[char], figures: Vec<Figure>) -> Vec<Figure> {
    let mut out: Vec<Figure> = Vec::with_capacity(figures.len());
    let mut it = figures.into_iter().peekable();
    while let Some(mut f) = it.next() {
        let money_or_percent = f.kind != FigureKind::Quantity;
        if let (Some(g), Amount::One(low), true) = (it.peek(), f.value, money_or_percent) {
            if let Amount::One(high) = g.value {
                if g.kind == f.kind
                    && g.unit == f.unit
                    && ascending(low, high)
                    && range_joint(chars, f.char_end, g.char_start, f.char_start)
                {
                    let g = it.next().unwrap_or_else(|| unreachable!());
                    f.value = Amount::Range(low, high);
                    f.char_end = g.char_end;
                    f.text = chars[f.char_start..f.char_end].iter().collect();
                    f.modifier = f.modifier.or(g.modifier);
                    out.push(f);
                    continue;
                }
            }
        }
        // `$20 and 43c`: dollars and cents, one sum.
        if let (Some(g), Amount::One(dollars)) = (it.peek(), f.value) {
            let between: String = chars[f.char_end..g.char_start].iter().collect();
            if let (Amount::One(cents), true) = (g.value, between == " and ") {
                if f.kind == FigureKind::Money
                    && f.unit == g.unit
                    && f.text.contains('$')
                    && g.text.ends_with(['c', '¢'])
                    && !g.text.contains('.')
                {
                    if let Some(sum) = dollars.checked_add(cents) {
                        let g = it.next().unwrap_or_else(|| unreachable!());
                        f.value = Amount::One(sum);
                        f.char_end = g.char_end;
                        f.text = chars[f.char_start..f.char_end].iter().collect();
                        out.push(f);
                        continue;
                    }
                }
            }
        }
        let floor = out.last().map_or(0, |p| p.char_end);
        if let (Amount::One(high), true) = (f.value, money_or_percent) {
            if let Some((low, start)) = bare_low_end(chars, f.char_start, floor, &f.text, high) {
                f.value = Amount::Range(low, high);
                f.char_start = start;
                f.text = chars[f.char_start..f.char_end].iter().collect();
            }
        }
        out.push(f);
    }
    out
}

/// A bare number ending in a range word right before a figure at `start` (`5 to ` before
/// `10 percent`), at or after `floor`: its value at the figure's scale, and where it starts.
fn bare_low_end(
    chars: &[char],
    start: usize,
    floor: usize,
    text: &str,
    high: Dec,
) -> Option<(Dec, usize)> {
    // The separator, then digits (with , and .) before it.
    for joint in RANGE_WORDS.iter().copied().chain([" and "]) {
        let n = joint.chars().count();
        if start < n + 1 + floor || !ends_with_at(chars, start, joint) {
            continue;
        }
        let end = start - n;
        let mut b = end;
        while b > floor && (chars[b - 1].is_ascii_digit() || matches!(chars[b - 1], ',' | '.')) {
            b -= 1;
        }
        if b == end || !chars[b].is_ascii_digit() || (b > 0 && chars[b - 1].is_alphanumeric()) {
            return None;
        }
        if joint == " and " && !opened_by_between(chars, b) {
            return None;
        }
        if joint == "-" && b > 0 && matches!(chars[b - 1], '-' | '/') {
            return None;
        }
        let digits: String = chars[b..end].iter().collect();
        let low = super::number::parse(&digits)?;
        // The high end's own number, and so its scale (`20 million dollars` is 20 × 10^6).
        let raw: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '.'))
            .collect();
        let raw = super::number::parse(raw.trim_end_matches(['.', ',']))?;
        let p = scale_between(raw, high)?;
        let low = if p >= 0 {
            low.mul_pow10(p as u32)?
        } else {
            low.div_pow10((-p) as u32)?
        };
        return ascending(low, high).then_some((low, b));
    }
    None
}

/// `¥` is the yen's sign as much as the yuan's: in a text that speaks of Japan it is JPY.
fn yen_by_context(text: &str, figures: &mut [Figure]) {
    let signed = |f: &Figure| f.unit == "CNY" && f.text.starts_with(['¥', '￥']);
    if !figures.iter().any(signed) {
        return;
    }
    let lower = text.to_lowercase();
    let japan = ["yen", "japan", "tokyo", "nikkei", "日元", "日本", "东京"]
        .iter()
        .any(|w| lower.contains(w));
    if japan {
        for f in figures.iter_mut().filter(|f| signed(f)) {
            f.unit = "JPY".into();
        }
    }
}

/// Currency names written before a number whose unit is only 元 (新台币5467亿元,
/// 港币3亿元), longest first.
const CURRENCY_BEFORE: &[(&str, &str)] = &[
    ("新台币", "TWD"),
    ("澳门币", "MOP"),
    ("澳门元", "MOP"),
    ("台币", "TWD"),
    ("港币", "HKD"),
    ("港元", "HKD"),
    ("美元", "USD"),
    ("美金", "USD"),
    ("日元", "JPY"),
    ("日币", "JPY"),
    ("欧元", "EUR"),
    ("英镑", "GBP"),
    ("韩元", "KRW"),
];

/// A money figure in plain 元 that a currency name right before it qualifies: the figure takes
/// that currency and begins at its name.
fn currency_before(chars: &[char], f: &mut Figure, floor: usize) {
    if f.kind != FigureKind::Money || f.unit != "CNY" || !f.text.ends_with('元') {
        return;
    }
    for (name, code) in CURRENCY_BEFORE {
        let n = name.chars().count();
        if f.char_start >= floor + n && ends_with_at(chars, f.char_start, name) {
            f.char_start -= n;
            f.unit = (*code).to_string();
            f.text = chars[f.char_start..f.char_end].iter().collect();
            return;
        }
    }
}

fn joined(chars: &[char], from: usize, to: usize) -> bool {
    let between: String = chars.get(from..to).unwrap_or_default().iter().collect();
    JOINERS.contains(&between.as_str())
}

/// A figure starting at `i` (a sign, 百分之, a number, or a bare 亿元 before 以上); returns it
/// and its end. `floor` is where the previous figure ended.
fn figure_at(chars: &[char], i: usize, floor: usize) -> Option<(Figure, usize)> {
    if let Some(f) = signed_money(chars, i) {
        return Some(f);
    }
    if let Some(f) = percent_in_words(chars, i) {
        return Some(f);
    }
    if let Some(f) = named_money(chars, i) {
        return Some(f);
    }
    if let Some(f) = spoken_money(chars, i, floor) {
        return Some(f);
    }
    if let Some(f) = english_figure(chars, i, floor) {
        return Some(f);
    }
    if let Some(f) = written_figure(chars, i) {
        return Some(f);
    }
    if !number_may_start(chars, i, floor) {
        return None;
    }
    if let Some(f) = bare_multiplier(chars, i) {
        return Some(f);
    }
    let (amount, end, num) = amount_at(chars, i)?;
    let (kind, unit, unit_end) = unit_at(chars, end)?;
    if num.chinese && !chinese_numeral_fits(chars, i, end, &unit) {
        return None;
    }
    let mut value = amount;
    let mut end = unit_end;
    // 10%-20%: a range whose ends both carry the unit.
    if let (Amount::One(low), Some(&sep)) = (amount, chars.get(end)) {
        if super::number::range_separator(sep) {
            if let Some((Amount::One(high), hend, _)) = amount_at(chars, end + 1) {
                if let Some((k2, u2, uend)) = unit_at(chars, hend) {
                    if k2 == kind && u2 == unit {
                        value = Amount::Range(low, high);
                        end = uend;
                    }
                }
            }
        }
    }
    let modifier = num.more.then_some(Modifier::MoreThan);
    Some((make(chars, kind, i, end, value, &unit, modifier), end))
}

fn make(
    chars: &[char],
    kind: FigureKind,
    start: usize,
    end: usize,
    value: Amount,
    unit: &str,
    modifier: Option<Modifier>,
) -> Figure {
    Figure {
        kind,
        text: chars[start..end].iter().collect(),
        value,
        unit: unit.to_string(),
        modifier,
        char_start: start,
        char_end: end,
    }
}

/// Whether a number may begin at `i`: not inside a word of Latin letters and digits (RISC-V,
/// 2.5D are not figures; 4x12500kVA is), not an ordinal (第二十三).
fn number_may_start(chars: &[char], i: usize, floor: usize) -> bool {
    let Some(&c) = chars.get(i) else { return false };
    let numeral = |c: char| arabic_digit(c).is_some() || chinese_digit(c).is_some();
    if !numeral(c) && !matches!(c, '十' | '亿' | '万') {
        return false;
    }
    if i == 0 || i <= floor {
        return i >= floor;
    }
    let prev = chars[i - 1];
    if arabic_digit(prev).is_some() || matches!(prev, '.' | '．' | '第' | '/' | '／') {
        return false;
    }
    // The decimals after a decimal comma (249,00 EUR), or a group of three after a space that
    // groups thousands (10 000 dollars), are no number of their own.
    let digit_before = i >= 2 && chars[i - 2].is_ascii_digit();
    if digit_before && prev == ',' {
        return false;
    }
    if digit_before
        && prev == ' '
        && chars[i..].iter().take_while(|c| c.is_ascii_digit()).count() == 3
        && chars
            .get(i + 3)
            .is_none_or(|c| !c.is_ascii_digit() && !matches!(c, '.' | ','))
    {
        return false;
    }
    if chinese_digit(c).is_some() && (chinese_digit(prev).is_some() || prev == '十') {
        return false;
    }
    !prev.is_ascii_alphabetic() || matches!(prev, 'x' | 'X')
}

/// Chinese numerals are common inside words (一方面, 三大产业); take them as figures only for
/// units that they really count, and never one alone before 度 (一度 is "once").
fn chinese_numeral_fits(chars: &[char], start: usize, end: usize, unit: &str) -> bool {
    let len = end - start;
    !(unit == "度"
        || unit == "立方米"
        || (len == 1 && matches!(chars.get(start), Some('一')) && unit == "人"))
}

/// The unit at `i`, longest match first, with a rate (/日) kept on it.
fn unit_at(chars: &[char], i: usize) -> Option<(FigureKind, String, usize)> {
    let (text, kind, unit) = UNITS
        .iter()
        .filter(|(t, _, _)| starts_with_at(chars, i, t))
        .max_by_key(|(t, _, _)| t.chars().count())?;
    let mut end = i + text.chars().count();
    // A Latin unit must end a Latin word: 5kg, not 5kgs.
    if text.is_ascii() && chars.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    // 两个半小时 is two and a half hours, not two of anything: a count before 半 is none.
    if *kind == FigureKind::Quantity && chars.get(end) == Some(&'半') {
        return None;
    }
    let mut unit = unit.to_string();
    if *kind == FigureKind::Quantity {
        if let Some(per) = PER.iter().find(|p| starts_with_at(chars, end, p)) {
            end += per.chars().count();
            unit.push_str(per);
        }
    }
    Some((*kind, unit, end))
}

fn starts_with_at(chars: &[char], i: usize, word: &str) -> bool {
    super::number::starts_with_at(chars, i, word)
}

fn ends_with_at(chars: &[char], end: usize, word: &str) -> bool {
    let n = word.chars().count();
    end >= n && starts_with_at(chars, end - n, word)
}

/// ¥100万, US$5亿, €3.2万.
fn signed_money(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    let (sign, unit) = SIGNS.iter().find(|(s, _)| starts_with_at(chars, i, s))?;
    // Rs and R$ are signs only where a word does not go on (Mrs, HRs).
    if sign.starts_with(|c: char| c.is_ascii_alphabetic())
        && i > 0
        && chars[i - 1].is_alphanumeric()
    {
        return None;
    }
    let mut at = i + sign.chars().count();
    // One space may follow a sign before its digits: `$ 22.00`, `NT$ 1,160`.
    if chars.get(at) == Some(&' ')
        && chars
            .get(at + 1)
            .is_some_and(|c| arabic_digit(*c).is_some())
    {
        at += 1;
    }
    // Cents written as a fraction of the sign's unit: `$.75`.
    if chars.get(at) == Some(&'.') && sign.ends_with('$') {
        let n = chars[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 2 && chars.get(at + 3).is_none_or(|c| !c.is_alphanumeric()) {
            let cents: String = chars[at + 1..at + 3].iter().collect();
            let value = super::number::parse(&cents)?.div_pow10(2)?;
            let end = at + 3;
            return Some((
                make(
                    chars,
                    FigureKind::Money,
                    i,
                    end,
                    Amount::One(value),
                    unit,
                    None,
                ),
                end,
            ));
        }
    }
    // A minus after the sign: `$-99.99`.
    let negative = matches!(chars.get(at), Some('-' | '−'))
        && chars.get(at + 1).is_some_and(|c| c.is_ascii_digit());
    if negative {
        at += 1;
    }
    let (amount, end, num) = amount_at(chars, at)?;
    if num.chinese {
        return None;
    }
    let (mut amount, mut end) = scaled(chars, amount, end, num.multiplier)?;
    // B and T in capitals touching a signed amount: `€10B`, `$2.174T`.
    if end == num.end && num.multiplier == 0 {
        for (letter, p) in [('B', 9), ('T', 12)] {
            if chars.get(end) == Some(&letter)
                && chars.get(end + 1).is_none_or(|c| !c.is_alphanumeric())
            {
                amount = amount.map(|v| v.mul_pow10(p))?;
                end += 1;
            }
        }
    }
    if negative {
        amount = amount.map(|v| v.mul_int(-1))?;
    }
    // A code after a dollar amount says which dollar: `$1,190.00 AUD`.
    let mut unit = *unit;
    if chars.get(end) == Some(&' ') {
        if let Some((code, e)) = CODES
            .iter()
            .find_map(|c| word_at(chars, end + 1, c).map(|e| (*c, e)))
        {
            if unit == "USD" && sign.ends_with('$') && *sign == "$" {
                unit = iso(code);
                end = e;
            }
        }
    }
    let modifier = num.more.then_some(Modifier::MoreThan);
    let f = make(chars, FigureKind::Money, i, end, amount, unit, modifier);
    Some((f, end))
}

// ---------------------------------------------------------------------------------------------
// English

/// Scale words after a number, with their power of ten. Spelled-out words may follow a space;
/// the letter forms (5m, $20k, 2bn) only touch the number (5 m is five metres).
const SCALES: &[(&str, u32, bool)] = &[
    ("trillion", 12, true),
    ("billion", 9, true),
    ("million", 6, true),
    ("thousand", 3, true),
    ("crore", 7, true),
    ("lakh", 5, true),
    ("tn", 12, true),
    ("bn", 9, true),
    ("mn", 6, true),
    ("m", 6, false),
    ("k", 3, false),
];

/// Currency words after a number (and its scale), longest first. `pound`/`pounds` are money
/// only after a scale word or before `sterling`, since they weigh too.
const CURRENCY_AFTER: &[(&str, &str)] = &[
    ("new taiwan dollars", "TWD"),
    ("hong kong dollars", "HKD"),
    ("australian dollars", "AUD"),
    ("canadian dollars", "CAD"),
    ("singapore dollars", "SGD"),
    ("us dollars", "USD"),
    ("u.s. dollars", "USD"),
    ("dollars", "USD"),
    ("dollar", "USD"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("yuan", "CNY"),
    ("renminbi", "CNY"),
    ("yen", "JPY"),
    ("rupees", "INR"),
    ("swiss francs", "CHF"),
    ("us dollar", "USD"),
    ("francs", "CHF"),
    ("franc", "CHF"),
    ("rand", "ZAR"),
    ("rupiah", "IDR"),
    ("ringgit", "MYR"),
    ("baht", "THB"),
    ("dirhams", "AED"),
    ("riyals", "SAR"),
    ("roubles", "RUB"),
    ("rubles", "RUB"),
];

/// English units after a number and a space: (as written, unit reported, case-sensitive), longest
/// first. `m` and `pounds` are left out: 5 m and 10 pounds are as often a distance or a weight
/// as anything.
const UNITS_EN: &[(&str, &str, bool)] = &[
    ("square kilometres", "km2", false),
    ("square kilometers", "km2", false),
    ("square metres", "m2", false),
    ("square meters", "m2", false),
    ("square feet", "ft2", false),
    ("cubic metres", "m3", false),
    ("cubic meters", "m3", false),
    ("kilometres", "km", false),
    ("kilometers", "km", false),
    ("kilograms", "kg", false),
    ("megawatts", "MW", false),
    ("gigawatts", "GW", false),
    ("hectares", "ha", false),
    ("barrels", "barrel", false),
    ("barrel", "barrel", false),
    ("tonnes", "t", false),
    ("tonne", "t", false),
    ("tons", "t", false),
    ("miles", "mile", false),
    ("acres", "acre", false),
    ("sq km", "km2", true),
    ("sq m", "m2", true),
    ("km2", "km2", true),
    ("kWh", "kWh", true),
    ("MWh", "MWh", true),
    ("GWh", "GWh", true),
    ("TWh", "TWh", true),
    ("MW", "MW", true),
    ("GW", "GW", true),
    ("kW", "kW", true),
    ("km", "km", true),
    ("kg", "kg", true),
    ("bpd", "barrel/day", true),
];

/// The ISO code of a currency code as written: RMB is CNY.
fn iso(code: &str) -> &str {
    if code == "RMB" {
        "CNY"
    } else {
        code
    }
}

/// ISO codes written before (EUR 20) or after (20 EUR) a number.
const CODES: &[&str] = &[
    "USD", "EUR", "GBP", "JPY", "CNY", "RMB", "HKD", "TWD", "AUD", "CAD", "CHF", "INR", "KRW",
    "SGD", "NZD", "RUB", "BRL", "MOP", "AED", "SAR", "MXN", "ZAR", "SEK", "NOK", "DKK", "PLN",
    "THB", "MYR", "IDR", "PHP", "VND", "ILS",
];

/// Percent words after a number.
const PERCENT_WORDS: &[(&str, FigureKind)] = &[
    ("percentage points", FigureKind::PercentPoint),
    ("percentage point", FigureKind::PercentPoint),
    ("per cent", FigureKind::Percent),
    ("percent", FigureKind::Percent),
    ("pct", FigureKind::Percent),
];

/// Whether `word` is written at `i`, ignoring ASCII case, and ends a word there.
fn word_at(chars: &[char], i: usize, word: &str) -> Option<usize> {
    let mut k = i;
    for w in word.chars() {
        let c = *chars.get(k)?;
        if !c.eq_ignore_ascii_case(&w) {
            return None;
        }
        k += 1;
    }
    let ends = chars.get(k).is_none_or(|c| !c.is_alphanumeric());
    ends.then_some(k)
}

/// After `end`, one space or none.
fn after_space(chars: &[char], end: usize) -> usize {
    if chars.get(end) == Some(&' ') {
        end + 1
    } else {
        end
    }
}

/// The amount times the English scale word after it (123.9 billion), with the new end.
/// A number that already carries a Chinese multiplier takes no English one.
fn scaled(chars: &[char], amount: Amount, end: usize, multiplier: u32) -> Option<(Amount, usize)> {
    if multiplier > 0 {
        return Some((amount, end));
    }
    for &(word, p, spaced) in SCALES {
        let at = if spaced { after_space(chars, end) } else { end };
        if let Some(e) = word_at(chars, at, word) {
            let value = match amount {
                Amount::One(v) => Amount::One(v.mul_pow10(p)?),
                Amount::Range(a, b) => Amount::Range(a.mul_pow10(p)?, b.mul_pow10(p)?),
            };
            return Some((value, e));
        }
    }
    Some((amount, end))
}

/// A figure written the English way at `i`: `EUR 1.5m`, `20 euros`, `5 million dollars`,
/// `2.5 percent`, `0.25 percentage points`, `40 USD`. A bare number is no figure.
fn english_figure(chars: &[char], i: usize, floor: usize) -> Option<(Figure, usize)> {
    // A code before the number.
    if chars.get(i).is_some_and(char::is_ascii_uppercase)
        && (i == 0 || !chars[i - 1].is_alphanumeric())
    {
        for code in CODES {
            if let Some(e) = word_at(chars, i, code) {
                if chars.get(e) == Some(&' ')
                    && chars.get(e + 1).is_some_and(|c| c.is_ascii_digit())
                {
                    let (amount, end, num) = amount_at(chars, e + 1)?;
                    let (amount, end) = scaled(chars, amount, end, num.multiplier)?;
                    let unit = iso(code);
                    return Some((
                        make(chars, FigureKind::Money, i, end, amount, unit, None),
                        end,
                    ));
                }
            }
        }
        return None;
    }
    if !chars.get(i).is_some_and(|c| c.is_ascii_digit()) || !number_may_start(chars, i, floor) {
        return None;
    }
    if let Some(f) = grouped_money(chars, i) {
        return Some(f);
    }
    let (amount, end, num) = amount_at(chars, i)?;
    if num.chinese || num.multiplier > 0 {
        return None;
    }
    let (amount, end_scaled) = scaled(chars, amount, end, 0)?;
    let has_scale = end_scaled != end;
    let at = after_space(chars, end_scaled);
    for &(word, kind) in PERCENT_WORDS {
        if has_scale {
            break;
        }
        if let Some(e) = word_at(chars, at, word) {
            let unit = if kind == FigureKind::PercentPoint {
                "pp"
            } else {
                "%"
            };
            return Some((make(chars, kind, i, e, amount, unit, None), e));
        }
    }
    if !has_scale {
        for word in ["basis points", "basis point", "bps", "bp"] {
            let spaced = word != "bp";
            let at = if spaced { at } else { end };
            if let Some(e) = word_at(chars, at, word) {
                let value = amount.map(|v| v.div_pow10(2))?;
                return Some((
                    make(chars, FigureKind::PercentPoint, i, e, value, "pp", None),
                    e,
                ));
            }
        }
    }
    for &(word, code) in CURRENCY_AFTER {
        if let Some(e) = word_at(chars, at, word) {
            return Some((make(chars, FigureKind::Money, i, e, amount, code, None), e));
        }
    }
    // Quantities in English units after a space (touching symbols such as 5MW are the unit
    // table's): `2 million barrels`, `300 square metres`, `1.2 GW`.
    if at > end_scaled {
        for &(word, unit, exact) in UNITS_EN {
            let e = if exact {
                starts_with_at(chars, at, word)
                    .then(|| at + word.chars().count())
                    .filter(|&e| chars.get(e).is_none_or(|c| !c.is_alphanumeric()))
            } else {
                word_at(chars, at, word)
            };
            if let Some(e) = e {
                return Some((
                    make(chars, FigureKind::Quantity, i, e, amount, unit, None),
                    e,
                ));
            }
        }
    }
    // A sign after the number, as much of Europe writes it: `15.00 €`, `34.99€`.
    if let Some(&c) = chars.get(at) {
        let unit = match c {
            '€' => Some("EUR"),
            '£' => Some("GBP"),
            '₹' => Some("INR"),
            _ => None,
        };
        if let Some(unit) = unit {
            return Some((
                make(chars, FigureKind::Money, i, at + 1, amount, unit, None),
                at + 1,
            ));
        }
    }
    // Cents and pence: `99¢`, `5.65 cents`, `50 pence`.
    if !has_scale {
        let cents = if chars.get(end) == Some(&'¢') {
            Some((end + 1, "USD"))
        } else if let Some(e) = word_at(chars, at, "cents").or_else(|| word_at(chars, at, "cent")) {
            Some((e, "USD"))
        } else {
            word_at(chars, at, "pence").map(|e| (e, "GBP"))
        };
        if let Some((e, unit)) = cents {
            let value = amount.map(|v| v.div_pow10(2))?;
            return Some((make(chars, FigureKind::Money, i, e, value, unit, None), e));
        }
    }
    // 43c: cents, when the number is a whole one below 100 touching the c.
    if !has_scale
        && chars.get(end) == Some(&'c')
        && chars.get(end + 1).is_none_or(|c| !c.is_alphanumeric())
    {
        if let Amount::One(v) = amount {
            let cents = chars[i..end].iter().collect::<String>();
            if cents.len() <= 2 && cents.chars().all(|c| c.is_ascii_digit()) {
                let value = Amount::One(v.div_pow10(2)?);
                return Some((
                    make(chars, FigureKind::Money, i, end + 1, value, "USD", None),
                    end + 1,
                ));
            }
        }
    }
    for word in ["pounds", "pound"] {
        if let Some(e) = word_at(chars, at, word) {
            let sterling = word_at(chars, after_space(chars, e), "sterling");
            if has_scale || sterling.is_some() {
                let e = sterling.unwrap_or(e);
                return Some((make(chars, FigureKind::Money, i, e, amount, "GBP", None), e));
            }
        }
    }
    if chars.get(at.saturating_sub(1)) == Some(&' ') || at == end_scaled {
        for code in CODES {
            if let Some(e) = word_at(chars, at, code) {
                let unit = iso(code);
                return Some((make(chars, FigureKind::Money, i, e, amount, unit, None), e));
            }
        }
    }
    None
}

/// English number words and their values.
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// A number written in English words at `i` (`two million`, `twenty-five`, `a dozen`,
/// `half a million`, `one hundred and five`): its value and end. `a`/`an`/`half a` count only
/// before a scale word.
fn written_number(chars: &[char], i: usize) -> Option<(Dec, usize)> {
    if i > 0 && chars[i - 1].is_alphanumeric() {
        return None;
    }
    let word = |at: usize| -> Option<(&'static str, usize)> {
        let mut best = None;
        for w in [
            "hundred", "thousand", "million", "billion", "trillion", "dozen", "half", "and", "an",
            "a",
        ] {
            if let Some(e) = word_at(chars, at, w) {
                best = Some((w, e));
                break;
            }
        }
        best.or_else(|| {
            NUMBER_WORDS
                .iter()
                .find_map(|(w, _)| word_at(chars, at, w).map(|e| (*w, e)))
        })
    };
    let value_of = |w: &str| NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v);
    let mut total = Dec::ZERO; // finished groups (× thousand and up)
    let mut group = Dec::ZERO; // the group being read (below a thousand)
    let mut any = false;
    let mut article = false; // a / an / half a read, waiting for a scale
    let mut half = false;
    let mut at = i;
    let mut end = i;
    // A written number is a few words long: no run of words is read past a dozen (and an
    // article takes only a scale word after it), so a text of "a a a …" costs linear time.
    let mut read = 0;
    while let Some((w, e)) = word(at) {
        read += 1;
        if read > 12 {
            break;
        }
        match w {
            "a" | "an" if (!any || half) && !article => {
                article = true;
            }
            "a" | "an" => break,
            "half" if !any => {
                half = true;
            }
            "and" if any && !article => {}
            "hundred" | "thousand" | "million" | "billion" | "trillion" | "dozen" => {
                let base = if article && !any {
                    Dec::from_int(1)
                } else {
                    group
                };
                if !any && !article {
                    break;
                }
                let p = match w {
                    "hundred" => 2,
                    "thousand" => 3,
                    "million" => 6,
                    "billion" => 9,
                    "trillion" => 12,
                    _ => 0,
                };
                if w == "dozen" {
                    group = base.mul_int(12)?;
                } else if p == 2 {
                    group = base.mul_pow10(2)?;
                } else {
                    total = total.checked_add(base.mul_pow10(p)?)?;
                    group = Dec::ZERO;
                }
                any = true;
                article = false;
                end = e;
            }
            n => {
                let v = value_of(n)?;
                if article {
                    break;
                }
                group = group.checked_add(Dec::from_int(i128::from(v)))?;
                any = true;
                end = e;
                // twenty-five
                if v >= 20 && chars.get(e) == Some(&'-') {
                    if let Some((u, e2)) = word(e + 1) {
                        if let Some(u) = value_of(u).filter(|u| (1..10).contains(u)) {
                            group = group.checked_add(Dec::from_int(i128::from(u)))?;
                            end = e2;
                            at = e2;
                            if chars.get(at) == Some(&' ') {
                                at += 1;
                                continue;
                            }
                            break;
                        }
                    }
                }
            }
        }
        at = e;
        if chars.get(at) == Some(&' ') {
            at += 1;
        } else {
            break;
        }
    }
    if !any {
        return None;
    }
    let mut value = total.checked_add(group)?;
    if half {
        value = value.mul_int(5)?.div_pow10(1)?;
    }
    Some((value, end))
}

/// Money or a percentage written in words: `two million dollars`, `zero percent`,
/// `half a million dollars`, `fifty pence`, `One Rand`.
fn written_figure(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    if !chars.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let (value, end) = written_number(chars, i)?;
    let at = after_space(chars, end);
    let amount = Amount::One(value);
    for &(word, kind) in PERCENT_WORDS {
        if let Some(e) = word_at(chars, at, word) {
            let unit = if kind == FigureKind::PercentPoint {
                "pp"
            } else {
                "%"
            };
            return Some((make(chars, kind, i, e, amount, unit, None), e));
        }
    }
    for &(word, code) in CURRENCY_AFTER {
        if let Some(e) = word_at(chars, at, word) {
            return Some((make(chars, FigureKind::Money, i, e, amount, code, None), e));
        }
    }
    for (word, unit) in [("cents", "USD"), ("pence", "GBP")] {
        if let Some(e) = word_at(chars, at, word) {
            let v = Amount::One(value.div_pow10(2)?);
            return Some((make(chars, FigureKind::Money, i, e, v, unit, None), e));
        }
    }
    None
}

/// Money written with a decimal comma (`249,00 EUR`, `9.990,00 €`: points group thousands) or
/// with spaces grouping thousands (`10 000 dollars`), read only where a currency follows, so
/// that a list such as `4,19` is never taken for a number.
fn grouped_money(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    let digits = |at: usize| {
        chars[at.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let lead = digits(i);
    if !(1..=3).contains(&lead) {
        return None;
    }
    let mut k = i + lead;
    let mut int = chars[i..k].iter().collect::<String>();
    // Groups of three after '.' or ' ', all with the same separator.
    let sep = *chars.get(k)?;
    let mut groups = 0;
    if matches!(sep, '.' | ' ') {
        while chars.get(k) == Some(&sep) && digits(k + 1) == 3 {
            int.extend(&chars[k + 1..k + 4]);
            k += 4;
            groups += 1;
        }
    }
    let mut value = super::number::parse(&int)?;
    let decimal_comma = chars.get(k) == Some(&',') && digits(k + 1) == 2 && sep != ' ';
    if decimal_comma {
        let cents: String = chars[k + 1..k + 3].iter().collect();
        value = value.checked_add(super::number::parse(&cents)?.div_pow10(2)?)?;
        k += 3;
    } else if !(sep == ' ' && groups > 0) {
        return None;
    }
    if chars
        .get(k)
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, ',' | '.'))
    {
        return None;
    }
    let at = after_space(chars, k);
    let unit = match chars.get(at) {
        Some('€') => Some(("EUR", at + 1)),
        Some('£') => Some(("GBP", at + 1)),
        _ => CODES
            .iter()
            .find_map(|c| word_at(chars, at, c).map(|e| (*c, e)))
            .or_else(|| {
                CURRENCY_AFTER
                    .iter()
                    .find_map(|(w, c)| word_at(chars, at, w).map(|e| (*c, e)))
            }),
    };
    let (unit, end) = unit?;
    let unit = iso(unit);
    Some((
        make(
            chars,
            FigureKind::Money,
            i,
            end,
            Amount::One(value),
            unit,
            None,
        ),
        end,
    ))
}

/// English modifiers written before a figure (and the space after them), longest first.
const BEFORE_EN: &[(&str, Modifier)] = &[
    ("approximately", Modifier::About),
    ("no more than", Modifier::AtMost),
    ("more than", Modifier::Over),
    ("less than", Modifier::AtMost),
    ("fewer than", Modifier::AtMost),
    ("at least", Modifier::AtLeast),
    ("roughly", Modifier::About),
    ("nearly", Modifier::About),
    ("almost", Modifier::About),
    ("around", Modifier::About),
    ("about", Modifier::About),
    ("up to", Modifier::AtMost),
    ("under", Modifier::AtMost),
    ("over", Modifier::Over),
    ("some", Modifier::About),
];

fn english_modifier_before(chars: &[char], start: usize, floor: usize) -> Option<Modifier> {
    if start < floor + 2 || chars.get(start - 1) != Some(&' ') {
        return None;
    }
    let end = start - 1;
    for &(word, modifier) in BEFORE_EN {
        let n = word.chars().count();
        if end < floor + n {
            continue;
        }
        let begin = end - n;
        let matches = chars[begin..end]
            .iter()
            .zip(word.chars())
            .all(|(c, w)| c.eq_ignore_ascii_case(&w));
        let starts_word = begin == 0 || !chars[begin - 1].is_alphanumeric();
        if matches && starts_word {
            return Some(modifier);
        }
    }
    None
}

/// One digit (Arabic or Chinese) at `i`.
fn one_digit(chars: &[char], i: usize) -> Option<u32> {
    chars
        .get(i)
        .and_then(|&c| arabic_digit(c).or_else(|| chinese_digit(c)))
}

/// Whether a spoken amount may end at `i`: the text does not go on with a word there (一块二手表
/// is a second-hand watch, not 1.2 yuan).
fn spoken_end(chars: &[char], i: usize) -> bool {
    match chars.get(i) {
        None => true,
        Some(&c) => {
            !crate::text::script::is_han(c) || matches!(c, '钱' | '的' | '一' | '左' | '多')
        }
    }
}

/// Spoken and colloquial money: 三块五 (3.5), 一块二毛 (1.2), 两毛五 (0.25), 五元六角 (5.6),
/// 八角 (0.8), 三块五毛二分 (3.52), 十块钱. In yuan (CNY). A 块 or 毛 with nothing after it that
/// makes it money (五块 is five pieces) is no figure.
fn spoken_money(chars: &[char], i: usize, floor: usize) -> Option<(Figure, usize)> {
    let c = *chars.get(i)?;
    if chinese_digit(c).is_none() && !matches!(c, '十') && arabic_digit(c).is_none() {
        return None;
    }
    if !number_may_start(chars, i, floor) {
        return None;
    }
    let num = number_at(chars, i)?;
    if num.more || num.multiplier > 0 && !num.chinese {
        return None;
    }
    let mut k = num.end;
    let mut value = num.value;
    let dec = |n: u32, scale: u32| Dec::new(i128::from(n), scale);
    let unit = *chars.get(k)?;
    let (yuan, jiao_first) = match unit {
        '块' | '元' => (true, false),
        '毛' | '角' => (false, true),
        _ => return None,
    };
    k += 1;
    if jiao_first {
        // 两毛五: tenths, then hundredths; a lone 五毛 is money only as 五毛钱 (八角 is a spice).
        value = value.div_pow10(1)?;
        if let Some(d) = one_digit(chars, k) {
            value = value.checked_add(dec(d, 2))?;
            k += 1;
            if chars.get(k) == Some(&'分') {
                k += 1;
            }
        } else if chars.get(k) == Some(&'钱') {
            k += 1;
        } else {
            return None;
        }
        if !spoken_end(chars, k) {
            return None;
        }
        let f = make(
            chars,
            FigureKind::Money,
            i,
            k,
            Amount::One(value),
            "CNY",
            None,
        );
        return Some((f, k));
    }
    debug_assert!(yuan);
    // 块 / 元, then a tenths digit (with or without 毛/角), then hundredths (分).
    let mut spoken = unit == '元' && chars.get(k).is_some_and(|&c| chinese_digit(c).is_some());
    if let Some(d) = one_digit(chars, k) {
        value = value.checked_add(dec(d, 1))?;
        k += 1;
        spoken = true;
        if matches!(chars.get(k), Some('毛' | '角')) {
            k += 1;
            if let Some(d) = one_digit(chars, k) {
                value = value.checked_add(dec(d, 2))?;
                k += 1;
                if chars.get(k) == Some(&'分') {
                    k += 1;
                }
            }
        }
    } else if chars.get(k) == Some(&'半') && chars.get(k + 1) != Some(&'年') {
        // 三块半: and a half.
        value = value.checked_add(dec(5, 1))?;
        k += 1;
        spoken = true;
    } else if unit == '块' && chars.get(k) == Some(&'钱') {
        // 十块钱 is the 块钱 unit's: left to it.
        return None;
    }
    if !spoken || !spoken_end(chars, k) || unit == '元' && !num.chinese {
        return None;
    }
    let f = make(
        chars,
        FigureKind::Money,
        i,
        k,
        Amount::One(value),
        "CNY",
        None,
    );
    Some((f, k))
}

/// A currency's name before a number that no unit follows: 港币3.14, 新台币200.
fn named_money(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    let (name, code) = CURRENCY_BEFORE
        .iter()
        .chain(&[("人民币", "CNY")])
        .find(|(n, _)| starts_with_at(chars, i, n))?;
    let at = i + name.chars().count();
    let (amount, end, num) = amount_at(chars, at)?;
    if num.chinese || unit_at(chars, end).is_some() {
        return None;
    }
    let modifier = num.more.then_some(Modifier::MoreThan);
    Some((
        make(chars, FigureKind::Money, i, end, amount, code, modifier),
        end,
    ))
}

/// 百分之六点九, 百分之十五, 百分之百.
fn percent_in_words(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    if !starts_with_at(chars, i, "百分之") {
        return None;
    }
    let at = i + 3;
    let (value, end) = if chars.get(at) == Some(&'百') {
        (Dec::from_int(100), at + 1)
    } else {
        let n = number_at(chars, at)?;
        (n.value, n.end)
    };
    let f = make(
        chars,
        FigureKind::Percent,
        i,
        end,
        Amount::One(value),
        "%",
        None,
    );
    Some((f, end))
}

/// 亿元以上: a bare 亿/万 before a currency, qualified by 以上/以下, is one of that multiplier.
fn bare_multiplier(chars: &[char], i: usize) -> Option<(Figure, usize)> {
    let power = match chars.get(i)? {
        '亿' => 8,
        '万' => 4,
        _ => return None,
    };
    if i > 0
        && (chinese_digit(chars[i - 1]).is_some()
            || matches!(chars[i - 1], '十' | '百' | '千' | '万'))
    {
        return None;
    }
    let (kind, unit, end) = unit_at(chars, i + 1)?;
    if kind != FigureKind::Money || modifier_after(chars, end).is_none() {
        return None;
    }
    let value = Dec::from_int(1).mul_pow10(power)?;
    Some((
        make(chars, kind, i, end, Amount::One(value), &unit, None),
        end,
    ))
}

fn modifier_after(chars: &[char], end: usize) -> Option<Modifier> {
    AFTER
        .iter()
        .find(|(w, _)| starts_with_at(chars, end, w))
        .map(|&(_, m)| m)
}

/// The modifier written before a figure that starts at `start`, looking no further back than
/// `floor` (the previous figure's end).
fn modifier_before(chars: &[char], start: usize, floor: usize) -> Option<Modifier> {
    for gap in 0..=MAX_GAP {
        if start < floor + gap {
            break;
        }
        let end = start - gap;
        let gap_is_han = chars[end..start]
            .iter()
            .all(|&c| crate::text::script::is_han(c));
        if !gap_is_han {
            break;
        }
        for &(word, modifier, not_after) in BEFORE {
            let n = word.chars().count();
            if (gap > 0 && n < 2) || !ends_with_at(chars, end, word) || end - n < floor {
                continue;
            }
            let before = end.checked_sub(n + 1).and_then(|k| chars.get(k));
            if before.is_some_and(|c| not_after.contains(*c)) {
                continue;
            }
            return Some(modifier);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Figure {
        let fs = figures(text);
        assert_eq!(fs.len(), 1, "{text}: {fs:?}");
        fs.into_iter().next().expect("one figure")
    }

    fn dec(s: &str) -> Dec {
        s.parse().expect("decimal")
    }

    #[test]
    fn money_is_in_yuan_and_exact() {
        let f = one("总产值227.03亿元,同比");
        assert_eq!(f.kind, FigureKind::Money);
        assert_eq!(f.text, "227.03亿元");
        assert_eq!(f.value, Amount::One(dec("22703000000")));
        assert_eq!(f.unit, "CNY");
        assert_eq!(f.to_json()["value"].to_string(), "22703000000");
        assert_eq!((f.char_start, f.char_end), (3, 11));
    }

    #[test]
    fn currencies_by_name_and_sign() {
        assert_eq!(one("投资1亿美元").unit, "USD");
        assert_eq!(one("募资30亿港元").unit, "HKD");
        assert_eq!(one("价值5000万欧元").unit, "EUR");
        assert_eq!(one("亏损20亿日元").unit, "JPY");
        assert_eq!(one("罚款3万英镑").unit, "GBP");
        let f = one("售价¥1,299");
        assert_eq!(
            (f.unit.as_str(), f.value),
            ("CNY", Amount::One(dec("1299")))
        );
        assert_eq!(one("融资$2.5亿").value, Amount::One(dec("250000000")));
        assert_eq!(one("€30").unit, "EUR");
    }

    #[test]
    fn modifiers_before_and_after() {
        assert_eq!(one("打造产值超120亿元的").modifier, Some(Modifier::Over));
        assert_eq!(one("支持9000多万元。").modifier, Some(Modifier::MoreThan));
        let f = one("投资5000万元以上工业项目");
        assert_eq!(
            (f.text.as_str(), f.modifier),
            ("5000万元", Some(Modifier::AtLeast))
        );
        assert_eq!(one("增长17%以上").modifier, Some(Modifier::AtLeast));
        assert_eq!(one("约300人").modifier, Some(Modifier::About));
        assert_eq!(one("300人左右").modifier, Some(Modifier::About));
        assert_eq!(one("不到10家").modifier, Some(Modifier::AtMost));
        assert_eq!(one("降低到7900度以下").modifier, Some(Modifier::AtMost));
        assert_eq!(
            one("至少新增50亿-100亿元的产值").modifier,
            Some(Modifier::AtLeast)
        );
        assert_eq!(one("集中签约32个项目").modifier, None);
        assert_eq!(one("最近3家").modifier, None);
    }

    #[test]
    fn a_modifier_before_joined_figures_applies_to_each() {
        let fs = figures("总投资超10亿元或1亿美元的项目");
        assert_eq!(fs.len(), 2);
        assert!(fs.iter().all(|f| f.modifier == Some(Modifier::Over)));
        assert_eq!(fs[1].unit, "USD");
    }

    #[test]
    fn a_bare_multiplier_before_a_bound_is_one_of_it() {
        let f = one("新引进计划投资亿元以上工业项目");
        assert_eq!(f.text, "亿元");
        assert_eq!(f.value, Amount::One(dec("100000000")));
        assert_eq!(f.modifier, Some(Modifier::AtLeast));
        assert!(figures("百亿级俱乐部").is_empty());
    }

    #[test]
    fn percentages_and_points() {
        let f = one("同比增长6.9%;");
        assert_eq!(
            (f.kind, f.value.to_json().to_string()),
            (FigureKind::Percent, "6.9".into())
        );
        let f = one("占比百分之六点九");
        assert_eq!(
            (f.kind, f.value),
            (FigureKind::Percent, Amount::One(dec("6.9")))
        );
        let f = one("增长6.9个百分点");
        assert_eq!(f.kind, FigureKind::PercentPoint);
        assert_eq!(
            one("下降10%-20%").value,
            Amount::Range(dec("10"), dec("20"))
        );
    }

    #[test]
    fn quantities_in_the_base_unit() {
        let f = one("节水项目可节水150万吨");
        assert_eq!(
            (f.unit.as_str(), f.value),
            ("吨", Amount::One(dec("1500000")))
        );
        assert_eq!(one("4万吨/日污水").unit, "吨/日");
        assert_eq!(one("共建200亩以上").modifier, Some(Modifier::AtLeast));
        let f = one("4x12500kVA硅铁矿热炉");
        assert_eq!((f.text.as_str(), f.unit.as_str()), ("12500kVA", "kVA"));
        assert_eq!(one("年产30万套").value, Amount::One(dec("300000")));
        assert_eq!(
            one("3至5万人").value,
            Amount::Range(dec("30000"), dec("50000"))
        );
        assert_eq!(one("两个区域").value, Amount::One(dec("2")));
    }

    #[test]
    fn not_figures() {
        for text in [
            "RISC-V CPU",
            "2.5D封装",
            "第二十三届",
            "启明930产品",
            "占广西2/3",
            "一方面",
            "一度成为",
            "2023年",
        ] {
            assert!(figures(text).is_empty(), "{text}: {:?}", figures(text));
        }
    }
}
