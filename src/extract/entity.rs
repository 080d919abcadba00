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
use std::sync::LazyLock;

use serde::Serialize;

use jieba_rs::Tag;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::text::words::Words;

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
// Gazetteers

/// Short forms that are ordinary words and are never read as places by themselves.
const NOT_SHORT_FORMS: &[&str] = &[
    "东方", "和平", "长安", "新城", "城关", "白云", "南山", "普陀", "宝山", "新华", "城中", "城东",
    "城西", "城南", "城北", "市中", "向阳", "永定", "安定", "太平", "长寿", "江北", "江南", "河东",
    "河西", "城阳", "金水", "二七", "上街", "平安", "安宁", "合作", "共和", "兴业", "大方", "富民",
    "安康", "永安", "新建", "南湖", "东湖", "西湖", "鼓楼", "天桥", "新市", "天山", "龙华", "光明",
    "青山", "中原", "江岸", "雨花", "开福", "金州", "新北", "钟楼", "天宁", "武进", "海城", "汉南",
    "海棠", "天涯", "吉阳", "秀英", "美兰", "象山", "七星", "资源", "兴安", "全州", "临桂", "雁山",
    "叠彩", "秀峰", "白沙", "昌江", "乐东", "保亭", "琼中", "文山", "红河", "海北", "海西", "海东",
    "黄南", "果洛", "阿里", "山南", "那曲", "来宾", "崇左", "百色", "玉林", "北海", "白山", "白城",
    "黑河", "伊春", "中山", "朝阳", "吉林", "海南", "仙桃", "金川", "南海", "顺德", "前海", "临港",
];

struct Gazetteer {
    places: FxHashSet<String>,
    orgs: FxHashSet<String>,
    surnames: FxHashSet<String>,
    max_place: usize,
    max_org: usize,
    /// By first character, the lengths (in chars) of the places and organizations that start
    /// with it, as bits (`len_bit`), to skip most positions and most lengths at once.
    place_lens: FxHashMap<char, u64>,
    org_lens: FxHashMap<char, u64>,
}

/// The bit of a name length in a `Gazetteer` length mask; lengths from 63 on share one bit.
fn len_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(str::split_whitespace)
}

/// The forms of a division's full name that the news uses: the name and, for names with a
/// division suffix, the name without it (常州市 → 常州), unless that is an ordinary word.
fn forms(name: &str, out: &mut FxHashSet<String>) {
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

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut places = FxHashSet::default();
    for data in [
        include_str!("../../data/places/provinces.txt"),
        include_str!("../../data/places/cities.txt"),
        include_str!("../../data/places/counties.txt"),
    ] {
        for name in lines(data) {
            forms(name, &mut places);
        }
    }
    for data in [
        include_str!("../../data/places/countries.txt"),
        include_str!("../../data/places/regions.txt"),
        include_str!("../../data/places/world-cities.txt"),
    ] {
        places.extend(lines(data).map(String::from));
    }
    let orgs: FxHashSet<String> = lines(include_str!("../../data/orgs.txt"))
        .map(String::from)
        .collect();
    let surnames = lines(include_str!("../../data/names/surnames.txt"))
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

// ---------------------------------------------------------------------------------------------
// Context words

/// Organization suffixes, longest first within a family. The name before them comes from the
/// words around.
const ORG_SUFFIXES: &[&str] = &[
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "分公司",
    "公司",
    "集团",
    "管理委员会",
    "管委会",
    "党工委",
    "委员会",
    "高新区",
    "经开区",
    "开发区",
    "先行区",
    "试验区",
    "示范区",
    "保税区",
    "自贸区",
    "合作区",
    "产业园",
    "工业园",
    "科技园",
    "研究院",
    "研究所",
    "研究中心",
    "设计院",
    "科学院",
    "工程院",
    "医院",
    "大学",
    "学院",
    "中学",
    "小学",
    "银行",
    "管理局",
    "监督管理局",
    "药监局",
    "统计局",
    "公安局",
    "税务局",
    "局",
    "协会",
    "学会",
    "商会",
    "基金会",
    "联合会",
    "办公室",
    "法院",
    "检察院",
    "政府",
    "市委",
    "省委",
    "县委",
    "区委",
    "党委",
    "出版社",
    "报社",
    "电视台",
    "交易所",
    "数据中心",
    "技术中心",
    "服务中心",
    "厂",
    "部",
    "厅",
    "署",
    "社",
];

/// Suffixes that attach to the organization right before them (海口高新区 + 管委会).
const ATTACHING: &[&str] = &[
    "有限公司",
    "有限责任公司",
    "股份有限公司",
    "管委会",
    "管理委员会",
    "党工委",
    "党委",
    "分公司",
    "办公室",
    "委员会",
    "研究院",
    "研究中心",
];

/// Words ending in an organization suffix that are not organizations.
const NOT_ORGS: &[&str] = &[
    "格局",
    "布局",
    "结局",
    "大局",
    "全局",
    "开局",
    "时局",
    "僵局",
    "政局",
    "战局",
    "定局",
    "出局",
    "当局",
    "局部",
    "中心",
    "重心",
    "核心",
    "信心",
    "决心",
    "部",
    "全部",
    "内部",
    "外部",
    "局",
    "本部",
    "总部",
    "干部",
    "部分",
    "东部",
    "西部",
    "南部",
    "北部",
    "中部",
    "头部",
    "腰部",
    "面部",
    "底部",
    "顶部",
    "社",
    "公社",
    "结社",
    "报社",
    "旅行社",
    "合作社",
    "厂",
    "工厂",
    "厅",
    "大厅",
    "客厅",
    "餐厅",
    "展厅",
    "署",
    "部署",
    "签署",
    "公司",
    "子公司",
    "分公司",
    "集团",
    "学院",
    "大学",
    "银行",
    "医院",
    "政府",
    "协会",
    "中学",
    "小学",
    "党委",
    "市委",
    "省委",
    "县委",
    "区委",
];

/// Words that never start or make up the name part of an organization.
const GENERIC: &[&str] = &[
    "该",
    "本",
    "其",
    "这",
    "那",
    "此",
    "各",
    "每",
    "全资",
    "控股",
    "旗下",
    "国家",
    "地方",
    "当地",
    "本土",
    "有关",
    "相关",
    "这家",
    "一家",
    "多家",
    "两家",
    "其他",
    "其它",
    "此次",
    "省级",
    "市级",
    "县级",
    "区级",
    "国家级",
    "上市",
    "科技型",
    "龙头",
    "重点",
    "专业",
    "企业",
    "现场",
    "活动",
    "项目",
    "我们",
    "他们",
    "我",
    "你",
    "他",
    "她",
    "这个",
    "一个",
    "新",
    "原",
    "前",
    "后",
    "各地",
    "全国",
    "全省",
    "全市",
    "全区",
    "全县",
    "省内",
    "省外",
    "国内",
    "国外",
    "境内",
    "境外",
    "海内外",
    "中外",
    "下游",
    "上游",
    "高质量",
    "发展",
    "创新",
    "驱动",
    "合作",
    "经济",
    "产业",
    "园区",
    "本地",
    "外地",
    "异地",
    "飞地",
    "自贸港",
    "省际",
    "市县",
    "区域",
    "所在",
    "所属",
    "直属",
    "下属",
    "成员",
    "会员",
    "部门",
    "单位",
    "机构",
    "政府",
    "市政府",
    "区政府",
    "县政府",
    "省政府",
    "一批",
    "一大批",
    "多个",
    "首个",
    "首家",
    "唯一",
    "世界级",
    "国际级",
    "百亿级",
];

/// Titles written after an organization and before a person's name.
const TITLES: &[&str] = &[
    "董事长",
    "副董事长",
    "总经理",
    "副总经理",
    "经理",
    "副经理",
    "总裁",
    "副总裁",
    "首席执行官",
    "CEO",
    "董事",
    "总监",
    "创始人",
    "负责人",
    "党委书记",
    "书记",
    "副书记",
    "主任",
    "副主任",
    "院长",
    "副院长",
    "校长",
    "副校长",
    "局长",
    "副局长",
    "行长",
    "副行长",
    "所长",
    "副所长",
    "秘书长",
    "副秘书长",
    "会长",
    "副会长",
    "主席",
    "副主席",
    "部长",
    "副部长",
    "厅长",
    "副厅长",
    "处长",
    "副处长",
    "科长",
    "省长",
    "副省长",
    "市长",
    "副市长",
    "县长",
    "副县长",
    "区长",
    "副区长",
    "镇长",
    "村长",
    "总理",
    "副总理",
    "发言人",
    "新闻发言人",
    "教授",
    "副教授",
    "研究员",
    "副研究员",
    "专家",
    "工程师",
    "总工程师",
    "医生",
    "主治医师",
    "护士长",
    "队长",
    "站长",
    "记者",
    "本报记者",
    "见习记者",
    "实习记者",
    "通讯员",
    "特约通讯员",
    "本报通讯员",
    "实习生",
    "编辑",
    "总编辑",
    "主编",
    "摄影",
    "作者",
    "大使",
    "总统",
    "首相",
    "国王",
    "委员",
];

/// Verbs of saying after a person's name.
const SPEECH: &[&str] = &[
    "说",
    "表示",
    "介绍",
    "认为",
    "指出",
    "强调",
    "告诉",
    "透露",
    "坦言",
    "称",
    "谈到",
    "提到",
    "提出",
    "建议",
    "解释",
    "回忆",
    "感慨",
    "笑着说",
    "补充",
    "直言",
    "呼吁",
];

/// Titles and forms of address written right after a name (江泽民主席, 王先生).
const TITLES_AFTER: &[&str] = &[
    "主席",
    "总理",
    "总书记",
    "书记",
    "同志",
    "先生",
    "女士",
    "教授",
    "院士",
    "委员长",
    "部长",
    "省长",
    "市长",
    "县长",
    "局长",
    "大使",
    "总统",
    "首相",
    "博士",
    "老师",
    "师傅",
    "医生",
];

/// Words jieba may tag as names that are not, on their own.
const NOT_NAMES: &[&str] = &[
    "高新区",
    "高新",
    "金川",
    "常州",
    "武汉",
    "海口",
    "黄河",
    "文化",
    "华润",
    "明年",
    "白天",
    "方便",
    "于是",
    "安全",
    "和平",
    "任务",
    "项目",
    "周年",
    "林业",
    "包括",
    "成都",
    "高速",
    "万元",
    "罗马",
    "胡同",
    "向前",
    "沙发",
    "温度",
    "江山",
    "高度",
    "高峰",
    "程序",
    "高层",
    "高端",
    "高温",
    "黄金",
    "白色",
    "金融",
    "石油",
    "华人",
    "华侨",
    "明星",
    "马上",
    "时间",
    "时代",
    "江湖",
    "方案",
    "方式",
    "方面",
    "关于",
    "关键",
    "连续",
    "王国",
    "严重",
    "常态",
    "常规",
    "应对",
    "应急",
    "应用",
    "管理",
    "管控",
    "宁静",
    "龙头",
    "齐全",
    "武装",
    "司法",
];

fn han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

// ---------------------------------------------------------------------------------------------
// Word sets: the lists above, hashed once.

type WordSet = LazyLock<FxHashSet<&'static str>>;

fn word_set(words: &[&'static str]) -> FxHashSet<&'static str> {
    words.iter().copied().collect()
}

static ATTACHING_SET: WordSet = LazyLock::new(|| word_set(ATTACHING));
static NOT_ORGS_SET: WordSet = LazyLock::new(|| word_set(NOT_ORGS));
static GENERIC_SET: WordSet = LazyLock::new(|| word_set(GENERIC));
static TITLES_SET: WordSet = LazyLock::new(|| word_set(TITLES));
static SPEECH_SET: WordSet = LazyLock::new(|| word_set(SPEECH));
static TITLES_AFTER_SET: WordSet = LazyLock::new(|| word_set(TITLES_AFTER));
static NOT_NAMES_SET: WordSet = LazyLock::new(|| word_set(NOT_NAMES));
static NEVER_IN_NAME_SET: WordSet = LazyLock::new(|| word_set(NEVER_IN_NAME));
static COMMON_VERBS_ADVERBS_SET: WordSet = LazyLock::new(|| word_set(COMMON_VERBS_ADVERBS));

/// First characters of [`TITLES`], to skip most tokens in `title_at` at once.
static TITLE_FIRSTS: LazyLock<FxHashSet<char>> =
    LazyLock::new(|| TITLES.iter().filter_map(|t| t.chars().next()).collect());

/// [`ORG_SUFFIXES`] by last character, longest first, as chars.
type SuffixTable = FxHashMap<char, Vec<(&'static str, Vec<char>)>>;
static SUFFIXES: LazyLock<SuffixTable> = LazyLock::new(|| {
    let mut m: SuffixTable = FxHashMap::default();
    for s in ORG_SUFFIXES {
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

// ---------------------------------------------------------------------------------------------
// Tokens

/// A tagged word, with char offsets (`start`, `end`) and byte offsets into its text.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    tag: &'a str,
    start: usize,
    end: usize,
    byte_start: usize,
    byte_end: usize,
}

fn toks<'a>(tags: &[Tag<'a>]) -> Vec<Tok<'a>> {
    tags.iter()
        .map(|t| Tok {
            text: t.word,
            tag: t.tag,
            start: t.start,
            end: t.end,
            byte_start: t.byte_start,
            byte_end: t.byte_end,
        })
        .collect()
}

/// jieba's tags of `text` (with the HMM for unknown words), as entities and keywords use them.
pub fn tag<'a>(words: &'a Words, text: &'a str) -> Vec<Tag<'a>> {
    words.jieba().tag(text, true)
}

/// One text with its chars, their byte offsets and its tokens indexed by start.
struct Text<'a> {
    text: &'a str,
    chars: Vec<char>,
    /// The byte offset of each char, then the text's length.
    bytes: Vec<usize>,
    toks: Vec<Tok<'a>>,
    /// Per char offset (and one past the end): the token starting there, or `NO_TOK`.
    tok_at: Vec<usize>,
}

const NO_TOK: usize = usize::MAX;

impl<'a> Text<'a> {
    fn new(text: &'a str, toks: Vec<Tok<'a>>) -> Self {
        let mut chars = Vec::with_capacity(text.len() / 3 + 1);
        let mut bytes = Vec::with_capacity(text.len() / 3 + 2);
        for (b, c) in text.char_indices() {
            chars.push(c);
            bytes.push(b);
        }
        bytes.push(text.len());
        let mut tok_at = vec![NO_TOK; chars.len() + 1];
        for (k, t) in toks.iter().enumerate() {
            if let Some(slot) = tok_at.get_mut(t.start) {
                if *slot == NO_TOK {
                    *slot = k;
                }
            }
        }
        Text {
            text,
            chars,
            bytes,
            toks,
            tok_at,
        }
    }

    /// The text of chars `s..e`.
    fn str(&self, s: usize, e: usize) -> &'a str {
        &self.text[self.bytes[s]..self.bytes[e]]
    }

    /// The token that starts at char `i`.
    fn tok_starting(&self, i: usize) -> Option<&Tok<'a>> {
        match self.tok_at.get(i) {
            Some(&k) if k != NO_TOK => self.toks.get(k),
            _ => None,
        }
    }

    /// Whether a token starts at char `i`.
    fn starts_word(&self, i: usize) -> bool {
        self.tok_at.get(i).is_some_and(|&k| k != NO_TOK)
    }
}

/// Whether a token can be part of an organization's name. jieba tags unknown names oddly
/// (先声/d 再明/d, 冶炼/v), so two-character verbs and adverbs pass unless they are common ones.
fn name_like(t: &Tok) -> bool {
    let text = t.text;
    if NEVER_IN_NAME_SET.contains(text)
        || is_verb_stop(text)
        || text
            .chars()
            .any(|c| !(han(c) || c.is_ascii_alphanumeric() || "()（）·&-".contains(c)))
    {
        return false;
    }
    let n = t.end - t.start;
    match t.tag {
        "n" | "nr" | "nrt" | "nrfg" | "ns" | "nt" | "nz" | "nw" | "j" | "eng" | "vn" | "an"
        | "l" | "b" | "ng" | "g" | "k" | "h" | "z" | "s" => true,
        "v" | "d" | "a" => n == 2 && !COMMON_VERBS_ADVERBS_SET.contains(text),
        _ => false,
    }
}

/// Words that end a name on the left (pronouns, determiners, "its subsidiary"…).
const NEVER_IN_NAME: &[&str] = &[
    "该",
    "本",
    "其",
    "这",
    "那",
    "此",
    "各",
    "每",
    "全资",
    "控股",
    "旗下",
    "这家",
    "一家",
    "多家",
    "两家",
    "其他",
    "其它",
    "此次",
    "现场",
    "活动",
    "我们",
    "他们",
    "所在",
    "所属",
    "直属",
    "下属",
    "省级",
    "市级",
    "县级",
    "区级",
    "国家级",
    "特约",
];

/// Verbs and adverbs that never sit inside a name.
const COMMON_VERBS_ADVERBS: &[&str] = &[
    "共同",
    "已经",
    "正在",
    "不断",
    "积极",
    "全面",
    "进一步",
    "一同",
    "一起",
    "分别",
    "均",
    "主要",
    "重点",
    "大力",
    "加快",
    "充分",
    "认真",
    "深入",
    "切实",
    "坚持",
    "实施",
    "贯彻",
    "落实",
    "提升",
    "提高",
    "加强",
    "鼓励",
    "吸引",
    "利用",
    "发挥",
    "形成",
    "带来",
    "需要",
    "希望",
    "计划",
    "准备",
    "开始",
    "继续",
    "加入",
    "出台",
    "制定",
    "完善",
    "培育",
    "壮大",
    "做大",
    "做强",
    "拥有",
    "具有",
    "作为",
    "成功",
    "正式",
    "目前",
    "同时",
    "随着",
    "根据",
    "按照",
    "围绕",
    "着眼",
    "聚焦",
    "集中",
    "举行",
    "召开",
    "表彰",
    "奖励",
    "获得",
    "面向",
    "服务",
    "帮助",
    "邀请",
    "组建",
    "投资",
    "贯彻落实",
    "认真贯彻",
    "争创",
    "展示",
    "类似",
    "建成",
    "打响",
    "创建",
    "申报",
    "认定",
];

/// Verbs that end a name on the left: 与, 在, 由, 推动, 打造…
fn is_verb_stop(word: &str) -> bool {
    matches!(
        word,
        "成立"
            | "推动"
            | "打造"
            | "建立"
            | "建设"
            | "举行"
            | "举办"
            | "召开"
            | "设立"
            | "成为"
            | "发布"
            | "引进"
            | "签约"
            | "签订"
            | "合作"
            | "联合"
            | "共同"
            | "通过"
            | "位于"
            | "落户"
            | "还有"
            | "包括"
            | "支持"
            | "表示"
            | "认为"
            | "介绍"
            | "参与"
            | "组织"
            | "开展"
            | "实现"
            | "完成"
            | "加快"
            | "推进"
            | "进行"
            | "获得"
            | "获评"
            | "获批"
            | "入选"
            | "新增"
            | "新建"
            | "引导"
            | "带动"
            | "依托"
            | "对接"
            | "携手"
            | "牵头"
            | "联手"
            | "揭牌"
            | "授牌"
            | "对外开放"
            | "是"
            | "暨"
            | "落地"
            | "前往"
            | "来到"
            | "走进"
            | "走访"
            | "调研"
            | "考察"
            | "视察"
            | "参观"
            | "入驻"
            | "进驻"
            | "牵手"
    )
}

// ---------------------------------------------------------------------------------------------
// Finders

#[cfg(test)]
fn slice(chars: &[char], s: usize, e: usize) -> String {
    chars[s..e].iter().collect()
}

/// Gazetteer places, longest match first, left to right. A short form must start where a word
/// starts (河南山区 holds no 南山).
fn places(t: &Text) -> Vec<Entity> {
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

fn entity(kind: EntityType, text: String, s: usize, e: usize) -> Entity {
    Entity {
        kind,
        text,
        char_start: s,
        char_end: e,
    }
}

/// The organization suffix that ends exactly at `end`, longest first, and its length in chars.
fn suffix_ending_at(chars: &[char], end: usize) -> Option<(&'static str, usize)> {
    let last = *chars.get(end.checked_sub(1)?)?;
    SUFFIXES
        .get(&last)?
        .iter()
        .find(|(_, cs)| end >= cs.len() && chars[end - cs.len()..end] == cs[..])
        .map(|(s, cs)| (*s, cs.len()))
}

/// Organizations ending in a suffix. The name is the run of name-like words before the suffix
/// (a place that jieba split is taken whole; a parenthesized place stays in: 新兴际华创新药械
/// (海南)科技有限公司).
fn suffixed_orgs(t: &Text, places: &[Entity]) -> Vec<Entity> {
    let (chars, toks) = (&t.chars, &t.toks);
    let mut out: Vec<Entity> = Vec::new();
    for (k, tok) in toks.iter().enumerate() {
        let Some((suffix, suffix_len)) = suffix_ending_at(chars, tok.end) else {
            continue;
        };
        let tok_len = tok.end - tok.start;
        // The suffix must end the word (格局 is no 局) unless the word is a known org form.
        let within = suffix_len <= tok_len;
        if within && NOT_ORGS_SET.contains(tok.text) && tok.text != suffix {
            continue;
        }
        let attaching = ATTACHING_SET.contains(suffix);
        let suffix_start = tok.end - suffix_len;
        let mut start = tok.start;
        let mut j = k;
        let floor = match out.last() {
            // 集团 + 有限公司: a legal form or an office attaches to the name right before it.
            Some(o) if attaching && o.char_end == suffix_start => o.char_start,
            Some(o) => o.char_end,
            None => 0,
        };
        while j > 0 {
            let prev = &toks[j - 1];
            if prev.start < floor {
                break;
            }
            let paren = paren_place(toks, j);
            if let Some(open) = paren {
                start = toks[open].start;
                j = open;
                continue;
            }
            let prev_suffixed = suffix_ending_at(chars, prev.end).is_some();
            let attaches_over = attaching && prev_suffixed && j == k;
            if !(name_like(prev) || attaches_over)
                || (prev_suffixed && !attaches_over && !is_known_place(prev.text))
            {
                break;
            }
            start = prev.start;
            j -= 1;
            if start + 14 < suffix_start {
                break;
            }
        }
        start = extend_over_place(places, start);
        if start >= suffix_start && tok_len <= suffix_len {
            continue;
        }
        let name_part = t.str(start, suffix_start);
        if !valid_name_part(t, name_part, start, suffix_start) {
            continue;
        }
        // A one-character suffix (局, 厂, 部…) needs a place or a proper name before it.
        if suffix_len == 1
            && !t.tok_starting(start).is_some_and(|x| {
                is_known_place(x.text) || matches!(x.tag, "ns" | "nt" | "nz" | "j")
            })
        {
            continue;
        }
        let org = entity(
            EntityType::Organization,
            t.str(start, tok.end).into(),
            start,
            tok.end,
        );
        // Keep the widest of overlapping candidates.
        while out
            .last()
            .is_some_and(|o| o.char_start >= start && o.char_end <= tok.end)
        {
            out.pop();
        }
        out.push(org);
    }
    out
}

/// `(海南)` ending right before token `j`: the index of its opening token.
fn paren_place(toks: &[Tok], j: usize) -> Option<usize> {
    if j < 3 {
        return None;
    }
    let (open, inner, close) = (&toks[j - 3], &toks[j - 2], &toks[j - 1]);
    let opens = matches!(open.text, "(" | "（");
    let closes = matches!(close.text, ")" | "）");
    (opens && closes && is_known_place(inner.text) && j >= 4 && name_like(&toks[j - 4]))
        .then_some(j - 3)
}

/// When a gazetteer place straddles the left edge (在内蒙古: jieba cut 在内 / 蒙古), start at it.
/// `places` come in text order and do not overlap (but for a basin and its river, which share
/// a start), so only the last ones starting before `start` can hold it.
fn extend_over_place(places: &[Entity], start: usize) -> usize {
    let before = places.partition_point(|p| p.char_start < start);
    places[..before]
        .iter()
        .rev()
        .take_while(|p| p.char_start == places[before - 1].char_start)
        .filter(|p| p.char_end > start)
        .min_by_key(|p| p.char_start)
        .map_or(start, |p| p.char_start)
}

/// Whether chars `start..end` (`name`) can be an organization's name part.
fn valid_name_part(t: &Text, name: &str, start: usize, end: usize) -> bool {
    let n = end - start;
    if n == 0 || !(n >= 2 || is_known_place(name)) {
        return false;
    }
    // The tokens inside `start..end`: tokens tile the text in order, so they are a run.
    let first = t.toks.partition_point(|x| x.start < start);
    let mut inside = t.toks[first..]
        .iter()
        .take_while(|x| x.end <= end)
        .peekable();
    let all_generic = inside.peek().is_some() && inside.all(|x| GENERIC_SET.contains(x.text));
    !all_generic
        && !name.starts_with(|c: char| {
            c.is_ascii_digit() || super::number::chinese_digit(c).is_some() || c == '十'
        })
}

/// Well-known organizations named without a suffix.
fn known_orgs(t: &Text) -> Vec<Entity> {
    let g = &*GAZETTEER;
    let chars = &t.chars;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let lens = match g.org_lens.get(&chars[i]) {
            Some(&lens) if t.starts_word(i) => lens,
            _ => {
                i += 1;
                continue;
            }
        };
        let hit = (2..=g.max_org.min(chars.len() - i))
            .rev()
            .find(|&n| lens & len_bit(n) != 0 && g.orgs.contains(t.str(i, i + n)));
        match hit {
            Some(n) => {
                out.push(entity(
                    EntityType::Organization,
                    t.str(i, i + n).into(),
                    i,
                    i + n,
                ));
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

/// The title word (from [`TITLES`]) that starts at token `k`, if any, and its end token.
fn title_at(t: &Text, k: usize) -> Option<usize> {
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
fn name_at(t: &Text, i: usize) -> Option<usize> {
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
fn ends_name(t: &Text, at: usize) -> bool {
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

fn has_surname(name: &str) -> bool {
    let mut ends = name.char_indices().map(|(b, c)| b + c.len_utf8());
    let one = ends.next().unwrap_or(0);
    let two = ends.next().unwrap_or(one);
    GAZETTEER.surnames.contains(&name[..one]) || GAZETTEER.surnames.contains(&name[..two])
}

/// People and title-context organizations found from context in one text.
fn context_people(t: &Text, orgs: &[Entity], places: &[Entity]) -> (Vec<Entity>, Vec<Entity>) {
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

/// What a text already names, as sets: where organizations end, and the spans of places.
struct Taken {
    org_ends: HashSet<usize>,
    places: HashSet<(usize, usize)>,
}

/// The organization written before the title at token `k` (金川冶炼董事长): name-like words
/// back to a boundary, when they are not already a place or an organization.
fn org_before_title(t: &Text, k: usize, taken: &Taken) -> Option<Entity> {
    let (chars, toks) = (&t.chars, &t.toks);
    let end = toks.get(k)?.start;
    if taken.org_ends.contains(&end) {
        return None;
    }
    let mut j = k;
    while j > 0 && name_like(&toks[j - 1]) && end - toks[j - 1].start <= 10 {
        j -= 1;
    }
    let start = toks.get(j)?.start;
    let text = t.str(start, end);
    let n = end - start;
    let title = toks.get(k).map_or("", |x| x.text);
    if text.ends_with('副')
        || text.ends_with("常务")
        || TITLES_SET.contains(format!("{text}{title}").as_str())
        || !(2..=10).contains(&n)
        || taken.places.contains(&(start, end))
        || !valid_name_part(t, text, start, end)
    {
        return None;
    }
    // Only at a clause start: 。金川冶炼董事长, not 与会的企业董事长.
    let left = start.checked_sub(1).and_then(|p| chars.get(p));
    if left.is_some_and(|&c| han(c)) {
        return None;
    }
    Some(entity(EntityType::Organization, text.into(), start, end))
}

/// jieba `nr` words that look like names: a surname first, two to three characters.
fn tagged_people(toks: &[Tok]) -> Vec<Entity> {
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
        let automaton = aho_corasick::AhoCorasick::builder()
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
}

/// First pass over one text: places, organizations, people with context. `credited` are
/// names the layout credits (bylines, signatures), always people.
pub fn find<'a>(text: &'a str, words: &'a Words, credited: &[String]) -> Found<'a> {
    find_tagged(text, &tag(words, text), credited)
}

/// [`find`] with the text's tags from [`tag`].
pub fn find_tagged<'a>(text: &'a str, tags: &[Tag<'a>], credited: &[String]) -> Found<'a> {
    let t = Text::new(text, toks(tags));
    let places = places(&t);
    let mut orgs = suffixed_orgs(&t, &places);
    orgs.extend(known_orgs(&t));
    let (mut people, title_orgs) = context_people(&t, &orgs, &places);
    orgs.extend(title_orgs);
    for name in credited {
        people.extend(occurrences(&t, name, EntityType::Person));
    }
    Found {
        text,
        tagged: tagged_people(&t.toks),
        places,
        orgs,
        people,
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
        self
    }

    /// Adds what this text names to the page's names.
    pub fn collect(&self, names: &mut PageNames) {
        names
            .people
            .extend(self.people.iter().map(|e| e.text.clone()));
        names.orgs.extend(self.orgs.iter().map(|e| e.text.clone()));
    }

    /// Second pass: every entity of the text, page names applied, overlaps settled.
    pub fn resolve(self, names: &NameMatcher, use_tags: bool) -> Vec<Entity> {
        let Found {
            text,
            places,
            mut orgs,
            mut people,
            tagged,
        } = self;
        names.find(text, &mut people, &mut orgs);
        if use_tags {
            people.extend(tagged);
        }
        let (known, orgs): (Vec<Entity>, Vec<Entity>) = orgs
            .into_iter()
            .partition(|o| GAZETTEER.orgs.contains(&o.text));
        settle(orgs, known, places, people)
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

/// The second pass over a page's texts ([`find_tagged`] of each): every name found anywhere on
/// the page is looked for in every text.
pub fn resolve_page(found: Vec<Found>, use_tags: bool) -> Vec<Vec<Entity>> {
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

    #[test]
    fn spans_point_into_the_text() {
        let text = "据新华社报道,北京市海淀区的清华大学举行活动。";
        let chars: Vec<char> = text.chars().collect();
        for e in entities(text, shared()) {
            assert_eq!(slice(&chars, e.char_start, e.char_end), e.text);
        }
    }
}
