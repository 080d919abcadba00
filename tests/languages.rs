//! Languages: every segment and document carries its BCP 47 tag, and Traditional Chinese goes
//! through the Simplified rules by its one-for-one shadow, reported as written.

use sluice::extract::{extract_page, Options};
use sluice::text::{analyze, words::shared};

fn page(text: &str) -> (sluice::text::Page, sluice::extract::PageExtraction) {
    let page = analyze(text);
    let mtime = time::Date::from_calendar_date(2026, time::Month::March, 1).unwrap();
    let ex = extract_page(&page, shared(), &Options::default(), mtime);
    (page, ex)
}

fn json(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn a_cna_story_in_traditional_chinese_reads_like_a_simplified_one() {
    let text =
        "台積電第3季營收創新高\n\n中央社記者張建中新竹2023年10月19日電 台積電今天公布第3季財報，\
                合併營收約新台幣5467億3200萬元。董事長劉德音表示，明年營收將成長。\n";
    let (page, ex) = page(text);
    assert_eq!(page.language, "zh-Hant");
    assert!(page.segments.iter().all(|s| s.language == "zh-Hant"));
    let article = &page.articles[0];
    assert_eq!(
        article.dateline.as_deref(),
        Some("中央社記者張建中新竹2023年10月19日電")
    );
    assert_eq!(article.authors, vec!["張建中"]);
    assert_eq!(ex.reference.date.to_string(), "2023-10-19");

    let body = &ex.segments[1];
    let money: Vec<_> = body.figures.iter().map(json).collect();
    let money = money
        .iter()
        .find(|f| f["unit"] == "TWD")
        .unwrap_or_else(|| panic!("no TWD money: {money:?}"));
    assert_eq!(money["text"], "新台幣5467億3200萬元");
    assert_eq!(money["value"], serde_json::json!(546732000000u64));
    assert_eq!(money["modifier"], "about");
    let dates: Vec<_> = body.dates.iter().map(json).collect();
    let value = |t: &str| {
        dates
            .iter()
            .find(|d| d["text"] == t)
            .map(|d| d["value"].clone())
    };
    assert_eq!(
        value("今天"),
        Some(serde_json::json!("2023-10-19")),
        "{dates:?}"
    );
    assert_eq!(value("明年"), Some(serde_json::json!("2024")), "{dates:?}");
    let people: Vec<String> = body
        .entities
        .iter()
        .map(json)
        .filter(|e| e["type"] == "person")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    assert!(people.contains(&"劉德音".to_string()), "{people:?}");
    // Every reported text is the original's, at its offsets.
    let chars: Vec<char> = page.segments[1].text.chars().collect();
    for f in &body.figures {
        let cut: String = chars[f.char_start..f.char_end].iter().collect();
        assert_eq!(cut, f.text);
    }
    for e in &body.entities {
        let cut: String = chars[e.char_start..e.char_end].iter().collect();
        assert_eq!(cut, e.text);
    }
}

#[test]
fn traditional_currencies_and_numerals() {
    let cases = [
        (
            "新台幣7596億元",
            759_600_000_000u64,
            "TWD",
            "新台幣7596億元",
        ),
        ("營收新台幣200萬元", 2_000_000, "TWD", "新台幣200萬元"),
        ("港幣3.14", 0, "HKD", "港幣3.14"),
        ("澳門幣50萬元", 500_000, "MOP", "澳門幣50萬元"),
        ("票價台幣300元", 300, "TWD", "台幣300元"),
        ("人民幣1億元", 100_000_000, "CNY", "1億元"),
    ];
    for (text, value, unit, surface) in cases {
        let (_, ex) = page(&format!("報導\n\n{text}，數字如此。\n"));
        let figures: Vec<_> = ex
            .segments
            .iter()
            .flat_map(|s| s.figures.iter().map(json))
            .collect();
        let f = figures
            .iter()
            .find(|f| f["unit"] == unit)
            .unwrap_or_else(|| panic!("{text}: {figures:?}"));
        assert_eq!(f["text"], surface, "{text}");
        if value > 0 {
            assert_eq!(f["value"], serde_json::json!(value), "{text}");
        } else {
            assert_eq!(f["value"].to_string(), "3.14", "{text}");
        }
    }
}

#[test]
fn taiwan_and_hong_kong_credits_open_stories() {
    for (line, dateline, author) in [
        (
            "【記者王小明／台北報導】行政院今天通過預算案。",
            "【記者王小明／台北報導】",
            Some("王小明"),
        ),
        (
            "〔記者李大同／高雄報導〕高雄港貨櫃量成長。",
            "〔記者李大同／高雄報導〕",
            Some("李大同"),
        ),
        (
            "（中央社記者陳家豪台北19日電）立法院今天三讀通過法案。",
            "（中央社記者陳家豪台北19日電）",
            Some("陳家豪"),
        ),
        (
            "【明報專訊】特區政府昨日公布施政報告。",
            "【明報專訊】",
            None,
        ),
    ] {
        let (page, _) = page(&format!("標題在此\n\n{line}\n"));
        let a = &page.articles[0];
        assert_eq!(a.dateline.as_deref(), Some(dateline), "{line}");
        match author {
            Some(name) => assert_eq!(a.authors, vec![name], "{line}"),
            None => assert!(a.authors.is_empty(), "{line}"),
        }
    }
}

#[test]
fn segments_carry_their_own_language() {
    let (page, _) = page(
        "海口高新区积极探索经济合作模式\n\nApple Inc. reported revenue of $123.9 billion on Thursday.\n\n\
         本报讯 海口国家高新区今年引进企业120家。\n",
    );
    assert_eq!(page.language, "zh-Hans");
    let langs: Vec<&str> = page.segments.iter().map(|s| s.language).collect();
    assert_eq!(langs, vec!["zh-Hans", "en", "zh-Hans"]);
}

/// `(text, value, unit, kind, modifier)` of every figure of `text`.
fn figures_of(text: &str) -> Vec<(String, serde_json::Value, String, String, serde_json::Value)> {
    sluice::extract::figure::figures(text)
        .iter()
        .map(|f| {
            let j = json(f);
            (
                j["text"].as_str().unwrap().to_string(),
                j["value"].clone(),
                j["unit"].as_str().unwrap().to_string(),
                j["kind"].as_str().unwrap().to_string(),
                j["modifier"].clone(),
            )
        })
        .collect()
}

#[test]
fn english_money_and_percent_take_their_scale_and_currency() {
    use serde_json::json as j;
    let one = |text: &str| {
        let got = figures_of(text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        got.into_iter().next().unwrap()
    };
    for (text, surface, value, unit, kind) in [
        (
            "Apple Inc. reported revenue of $123.9 billion.",
            "$123.9 billion",
            j!(123900000000u64),
            "USD",
            "money",
        ),
        (
            "The unit earned $4.2 million.",
            "$4.2 million",
            j!(4200000),
            "USD",
            "money",
        ),
        (
            "a fine of EUR 1.5m was paid",
            "EUR 1.5m",
            j!(1500000),
            "EUR",
            "money",
        ),
        ("costs 20 euros each", "20 euros", j!(20), "EUR", "money"),
        (
            "worth 5 million dollars",
            "5 million dollars",
            j!(5000000),
            "USD",
            "money",
        ),
        (
            "raised US$3 billion",
            "US$3 billion",
            j!(3000000000u64),
            "USD",
            "money",
        ),
        (
            "a HK$2.5bn deal",
            "HK$2.5bn",
            j!(2500000000u64),
            "HKD",
            "money",
        ),
        ("priced at C$10", "C$10", j!(10), "CAD", "money"),
        ("an A$5m grant", "A$5m", j!(5000000), "AUD", "money"),
        (
            "sold for €3.2 million",
            "€3.2 million",
            j!(3200000),
            "EUR",
            "money",
        ),
        ("tickets cost £20", "£20", j!(20), "GBP", "money"),
        (
            "a budget of Rs 500 crore",
            "Rs 500 crore",
            j!(5000000000u64),
            "INR",
            "money",
        ),
        ("paid 40 USD", "40 USD", j!(40), "USD", "money"),
        (
            "a stake of 5 million pounds",
            "5 million pounds",
            j!(5000000),
            "GBP",
            "money",
        ),
        ("a stamp costs 43c", "43c", j!(0.43), "USD", "money"),
        (
            "Shares rose 2.5 percent",
            "2.5 percent",
            j!(2.5),
            "%",
            "percent",
        ),
        ("down 3 per cent", "3 per cent", j!(3), "%", "percent"),
        ("up 1.2 pct on the day", "1.2 pct", j!(1.2), "%", "percent"),
        (
            "cut by 0.25 percentage points",
            "0.25 percentage points",
            j!(0.25),
            "pp",
            "percent_point",
        ),
        (
            "a ¥500 billion stimulus, the yen fell",
            "¥500 billion",
            j!(500000000000u64),
            "JPY",
            "money",
        ),
    ] {
        let (t, v, u, k, _) = one(text);
        assert_eq!(
            (t.as_str(), u.as_str(), k.as_str()),
            (surface, unit, kind),
            "{text}"
        );
        assert_eq!(v.to_string(), value.to_string(), "{text}");
    }
    // Modifiers and ranges.
    assert_eq!(one("about $5 million").4, "about");
    assert_eq!(one("more than 10 percent").4, "over");
    assert_eq!(one("at least 20 euros").4, "at_least");
    assert_eq!(one("up to $3 billion").4, "at_most");
    assert_eq!(one("nearly 40 percent").4, "about");
    let range = one("a $10-20 million fund");
    assert_eq!(range.1, j!([10000000, 20000000]));
    // No figure where English writes none: a bare number, a weight, metres.
    assert!(figures_of("lost 10 pounds in 2024").is_empty());
    assert!(figures_of("ran 5 m and 20 laps").is_empty());
    assert!(figures_of("Mrs 20 came").is_empty());
}

#[test]
fn english_datelines_bylines_and_sign_offs_credit_people_never_agencies() {
    let text = "Apple results beat forecasts\n\nBy Jane Smith and John Doe, Reuters\n\n\
                CUPERTINO, Calif., Jan. 30 (Reuters) - Apple Inc. reported revenue of $123.9 billion.\n\n\
                Shares rose 2.5 percent in late trading.\n\n\
                Reporting by Jane Smith in San Francisco; Editing by Peter Grey\n\n\
                Markets slide on rate fears\n\n\
                NEW YORK (AP) — Stocks fell on Tuesday as investors weighed the outlook.\n";
    let (page, _) = page(text);
    let a = &page.articles[0];
    assert_eq!(
        a.dateline.as_deref(),
        Some("CUPERTINO, Calif., Jan. 30 (Reuters) -")
    );
    for name in ["Jane Smith", "John Doe", "Peter Grey"] {
        assert!(
            a.authors.iter().any(|n| n == name),
            "{name}: {:?}",
            a.authors
        );
    }
    assert!(
        a.authors
            .iter()
            .all(|n| ["Jane Smith", "John Doe", "Peter Grey"].contains(&n.as_str())),
        "{:?}",
        a.authors
    );
    assert!(!a.authors.iter().any(|n| n == "Reuters"), "{:?}", a.authors);
    let b = &page.articles[1];
    assert_eq!(b.title.as_deref(), Some("Markets slide on rate fears"));
    assert_eq!(b.dateline.as_deref(), Some("NEW YORK (AP) —"));
    assert!(b.authors.is_empty(), "{:?}", b.authors);
}

#[test]
fn english_dates_resolve_against_the_reference() {
    use sluice::extract::date::{dates, Reference, ResolvedFrom};
    let at = |y: i32, m: u8, d: u8| Reference {
        date: time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap(),
        source: ResolvedFrom::Dateline,
    };
    let one = |text: &str, r: &Reference| -> (String, serde_json::Value, String) {
        let got: Vec<_> = dates(text, r).iter().map(json).collect();
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        let d = &got[0];
        (
            d["text"].as_str().unwrap().to_string(),
            d["value"].clone(),
            d["resolved_from"].as_str().unwrap().to_string(),
        )
    };
    let nov7 = at(2024, 11, 7); // a Thursday
    let jan3 = at(2024, 1, 3);
    for (text, r, surface, value, from) in [
        (
            "a dividend payable on Dec. 15 to holders",
            &nov7,
            "Dec. 15",
            "2024-12-15",
            "dateline",
        ),
        (
            "sales over the holidays to Dec. 30 rose",
            &jan3,
            "Dec. 30",
            "2023-12-30",
            "dateline",
        ),
        (
            "results on Jan. 30",
            &nov7,
            "Jan. 30",
            "2025-01-30",
            "dateline",
        ),
        (
            "on January 30, 2024 the board met",
            &nov7,
            "January 30, 2024",
            "2024-01-30",
            "text",
        ),
        (
            "on 30 January 2024 the board met",
            &nov7,
            "30 January 2024",
            "2024-01-30",
            "text",
        ),
        (
            "filed on 2024-01-30 in Delaware",
            &nov7,
            "2024-01-30",
            "2024-01-30",
            "text",
        ),
        (
            "sales in March 2023 fell",
            &nov7,
            "March 2023",
            "2023-03",
            "text",
        ),
        (
            "profit in Q3 2024 rose",
            &nov7,
            "Q3 2024",
            "2024-Q3",
            "text",
        ),
        (
            "in the third quarter, profit rose",
            &nov7,
            "the third quarter",
            "2024-Q3",
            "dateline",
        ),
        (
            "in the first half the firm grew",
            &nov7,
            "the first half",
            "2024-H1",
            "dateline",
        ),
        (
            "guidance for fiscal 2025 is weak",
            &nov7,
            "fiscal 2025",
            "2025",
            "text",
        ),
        (
            "said on Monday that",
            &nov7,
            "Monday",
            "2024-11-04",
            "dateline",
        ),
        (
            "said on Saturday it would",
            &nov7,
            "Saturday",
            "2024-11-09",
            "dateline",
        ),
        (
            "met last Thursday with",
            &nov7,
            "last Thursday",
            "2024-10-31",
            "dateline",
        ),
        (
            "will meet next Tuesday",
            &nov7,
            "next Tuesday",
            "2024-11-12",
            "dateline",
        ),
        (
            "prices fell last month",
            &nov7,
            "last month",
            "2024-10",
            "dateline",
        ),
        (
            "plans for next year",
            &jan3,
            "next year",
            "2025",
            "dateline",
        ),
        (
            "shares rose today",
            &nov7,
            "today",
            "2024-11-07",
            "dateline",
        ),
        (
            "shares fell yesterday",
            &nov7,
            "yesterday",
            "2024-11-06",
            "dateline",
        ),
    ] {
        let (t, v, f) = one(text, r);
        assert_eq!((t.as_str(), f.as_str()), (surface, from), "{text}");
        assert_eq!(v, serde_json::json!(value), "{text}");
    }
    let (_, v, _) = one("over 2019-21 the firm grew", &nov7);
    assert_eq!(v, serde_json::json!(["2019", "2021"]));
    // The modal verb is no month.
    assert!(dates("The firm may 5 times over", &nov7).is_empty());
}

#[test]
fn spoken_chinese_money() {
    use serde_json::json as j;
    for (text, surface, value) in [
        ("一斤苹果三块五。", "三块五", j!(3.5)),
        ("公交票一块二毛，", "一块二毛", j!(1.2)),
        ("找了两毛五。", "两毛五", j!(0.25)),
        ("一共五元六角。", "五元六角", j!(5.6)),
        ("卖三块五毛二分。", "三块五毛二分", j!(3.52)),
        ("只要五毛钱。", "五毛钱", j!(0.5)),
        ("菜价一块二。", "一块二", j!(1.2)),
    ] {
        let got = figures_of(text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        let (t, v, u, k, _) = &got[0];
        assert_eq!(
            (t.as_str(), u.as_str(), k.as_str()),
            (surface, "CNY", "money"),
            "{text}"
        );
        assert_eq!(v.to_string(), value.to_string(), "{text}");
    }
    // What only looks like money stays none: pieces, a spice, a second-hand watch.
    for text in ["切成五块。", "放入八角。", "买了一块二手表。"] {
        let money: Vec<_> = figures_of(text)
            .into_iter()
            .filter(|f| f.3 == "money")
            .collect();
        assert!(money.is_empty(), "{text}: {money:?}");
    }
}

/// `(type, text)` of every entity of every segment of `text`.
fn entities_of(text: &str) -> Vec<(String, String)> {
    let (_, ex) = page(text);
    ex.segments
        .iter()
        .flat_map(|s| s.entities.iter())
        .map(|e| (e.kind.name().to_string(), e.text.clone()))
        .collect()
}

fn has(found: &[(String, String)], kind: &str, text: &str) -> bool {
    found.iter().any(|(k, t)| k == kind && t == text)
}

#[test]
fn english_people_organizations_and_places() {
    let found = entities_of(
        "Apple sales slow in China\n\n\
         CUPERTINO, Calif., Jan. 30 (Reuters) - Apple Inc. reported revenue of $123.9 billion, \
         chief executive Tim Cook said, as sales in China slowed. Analysts at Morgan Stanley in \
         New York had expected less. Cook said demand for the iPhone was strong.\n\n\
         The Bank of England and the University of Hong Kong were cited by President Joe Biden, \
         Prime Minister Li Qiang and Dr. Anthony Fauci. Mr. Smith told the Associated Press on \
         Monday that Samsung Electronics Co. Ltd would follow.\n",
    );
    for (kind, text) in [
        ("organization", "Apple Inc."),
        ("organization", "Reuters"),
        ("organization", "Morgan Stanley"),
        ("organization", "Bank of England"),
        ("organization", "University of Hong Kong"),
        ("organization", "Associated Press"),
        ("organization", "Samsung Electronics Co. Ltd"),
        ("place", "CUPERTINO"),
        ("place", "Calif."),
        ("place", "China"),
        ("place", "New York"),
        ("place", "Hong Kong"),
        ("person", "Tim Cook"),
        ("person", "Cook"),
        ("person", "Joe Biden"),
        ("person", "Li Qiang"),
        ("person", "Anthony Fauci"),
        ("person", "Smith"),
    ] {
        assert!(has(&found, kind, text), "{kind} {text}: {found:?}");
    }
    // A wire agency is never a person; sentence openers, months, weekdays and titles are no names.
    let people: Vec<&str> = found
        .iter()
        .filter(|(k, _)| k == "person")
        .map(|(_, t)| t.as_str())
        .collect();
    for not in [
        "Reuters",
        "Analysts",
        "Jan",
        "Monday",
        "President",
        "Mr. Smith",
        "Apple",
    ] {
        assert!(!people.contains(&not), "{not}: {people:?}");
    }
    assert_eq!(people.len(), 6, "{people:?}");
}

#[test]
fn english_words_that_are_no_names_stay_unnamed() {
    for text in [
        "Shares rose sharply on Monday after the company said it would buy back stock.\n",
        "The recipes in Cooking Light are quick. Analysts Expect More.\n",
    ] {
        let found = entities_of(text);
        assert!(found.is_empty(), "{text}: {found:?}");
    }
    // A surname known on the page matches whole words only.
    let found = entities_of("Chef Tim Cook opened Cookhouse. Cook said so.\n");
    let cooks: Vec<_> = found
        .iter()
        .filter(|(_, t)| t.starts_with("Cook"))
        .collect();
    assert_eq!(cooks, vec![&("person".to_string(), "Cook".to_string())]);
}

#[test]
fn mixed_chinese_and_english_names_and_full_width_forms() {
    let found = entities_of(
        "苹果公司首席执行官库克(Tim Cook)表示，公司在中国的销售增长。\n\n\
         Huawei founder Ren Zhengfei (任正非) said the company would keep investing.\n\n\
         微软公司总裁Ｂｒａｄ Ｓｍｉｔｈ出席活动。\n",
    );
    for (kind, text) in [
        ("organization", "苹果公司"),
        ("person", "库克"),
        ("person", "Tim Cook"),
        ("organization", "Huawei"),
        ("person", "Ren Zhengfei"),
        ("person", "任正非"),
        ("person", "Ｂｒａｄ Ｓｍｉｔｈ"),
    ] {
        assert!(has(&found, kind, text), "{kind} {text}: {found:?}");
    }
    // Full-width digits are numbers like any other.
    let got = figures_of("营收１２３亿元");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, serde_json::json!(12300000000u64));
    assert_eq!(got[0].2, "CNY");
}

#[test]
fn english_figures_in_every_written_form() {
    use serde_json::json as j;
    let one = |text: &str| -> (String, serde_json::Value, String, String) {
        let got = figures_of(text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        let (t, v, u, k, _) = got.into_iter().next().unwrap();
        (t, v, u, k)
    };
    for (text, surface, value, unit, kind) in [
        (
            "for $50 - $100, depending",
            "$50 - $100",
            j!([50, 100]),
            "USD",
            "money",
        ),
        (
            "between $2 and $18 each",
            "$2 and $18",
            j!([2, 18]),
            "USD",
            "money",
        ),
        (
            "rents rose 5 to 10 percent",
            "5 to 10 percent",
            j!([5, 10]),
            "%",
            "percent",
        ),
        (
            "worth between 10 and 20 million dollars",
            "10 and 20 million dollars",
            j!([10000000, 20000000]),
            "USD",
            "money",
        ),
        (
            "tickets from 26 to 50 € a seat",
            "26 to 50 €",
            j!([26, 50]),
            "EUR",
            "money",
        ),
        ("a menu at 15.00 € today", "15.00 €", j!(15), "EUR", "money"),
        ("priced $ 22.00 now", "$ 22.00", j!(22), "USD", "money"),
        (
            "costs NT$ 1,160 in Taipei",
            "NT$ 1,160",
            j!(1160),
            "TWD",
            "money",
        ),
        ("sold for CA$1.23 each", "CA$1.23", j!(1.23), "CAD", "money"),
        (
            "listed at $1,190.00 AUD",
            "$1,190.00 AUD",
            j!(1190),
            "AUD",
            "money",
        ),
        ("a €10B fund", "€10B", j!(10000000000u64), "EUR", "money"),
        (
            "debt of $2.174T",
            "$2.174T",
            j!(2174000000000u64),
            "USD",
            "money",
        ),
        (
            "a loss of -$123.46M",
            "-$123.46M",
            j!(-123460000),
            "USD",
            "money",
        ),
        (
            "the rate is −0.25% now",
            "−0.25%",
            j!(-0.25),
            "%",
            "percent",
        ),
        ("apps for 99¢ each", "99¢", j!(0.99), "USD", "money"),
        (
            "it cost 5.65 cents to make",
            "5.65 cents",
            j!(0.0565),
            "USD",
            "money",
        ),
        (
            "pronounced fifty pence",
            "fifty pence",
            j!(0.5),
            "GBP",
            "money",
        ),
        (
            "rates rose 25 basis points",
            "25 basis points",
            j!(0.25),
            "pp",
            "percent_point",
        ),
        ("a 50bp cut", "50bp", j!(0.5), "pp", "percent_point"),
        (
            "raised two million dollars",
            "two million dollars",
            j!(2000000),
            "USD",
            "money",
        ),
        (
            "cut half a million dollars",
            "half a million dollars",
            j!(500000),
            "USD",
            "money",
        ),
        (
            "zero percent interest",
            "zero percent",
            j!(0),
            "%",
            "percent",
        ),
        (
            "twenty-five euros a month",
            "twenty-five euros",
            j!(25),
            "EUR",
            "money",
        ),
        ("a dozen euros", "a dozen euros", j!(12), "EUR", "money"),
        (
            "a ticket costs ¥1000 in Osaka",
            "¥1000",
            j!(1000),
            "JPY",
            "money",
        ),
        ("a bowl is ¥9 in yuan terms", "¥9", j!(9), "CNY", "money"),
        (
            "paid 1.00 US dollar",
            "1.00 US dollar",
            j!(1),
            "USD",
            "money",
        ),
        ("worth 4.3 francs", "4.3 francs", j!(4.3), "CHF", "money"),
        (
            "paid $20 and 43c in all",
            "$20 and 43c",
            j!(20.43),
            "USD",
            "money",
        ),
        ("白菜三块半一斤", "三块半", j!(3.5), "CNY", "money"),
        (
            "a price of 249,00 EUR",
            "249,00 EUR",
            j!(249),
            "EUR",
            "money",
        ),
        (
            "für 9.990,00 € netto",
            "9.990,00 €",
            j!(9990),
            "EUR",
            "money",
        ),
        (
            "valued 10 000 dollars",
            "10 000 dollars",
            j!(10000),
            "USD",
            "money",
        ),
        ("only $.75 each", "$.75", j!(0.75), "USD", "money"),
        (
            "pumped 2 million barrels a day",
            "2 million barrels",
            j!(2000000),
            "barrel",
            "quantity",
        ),
        ("a 1.2 GW plant", "1.2 GW", j!(1.2), "GW", "quantity"),
        (
            "300 square metres of space",
            "300 square metres",
            j!(300),
            "m2",
            "quantity",
        ),
        (
            "shipped 5.5 million tonnes",
            "5.5 million tonnes",
            j!(5500000),
            "t",
            "quantity",
        ),
        ("a road of 12 km", "12 km", j!(12), "km", "quantity"),
    ] {
        let (t, v, u, k) = one(text);
        assert_eq!(
            (t.as_str(), &v, u.as_str(), k.as_str()),
            (surface, &value, unit, kind),
            "{text}"
        );
    }
    // A change between two figures is two figures; a fall is no range.
    let two = figures_of("debt increased from 60 percent to 75 percent of GDP");
    assert_eq!(two.len(), 2, "{two:?}");
    let two = figures_of("prices cut 5% to 3% this year");
    assert_eq!(two.len(), 2, "{two:?}");
    // Numbers grouped the European way give no wrong value: nothing rather than 0 or 19万.
    assert!(figures_of("花了两个半小时").is_empty());
    for text in [
        "a list of 4,19 and 20",
        "in 2019 300 people",
        "筹集4,19万欧元善款",
    ] {
        let got = figures_of(text);
        assert!(
            got.iter().all(|f| f.1 != j!(0) && f.1 != j!(190000)),
            "{text}: {got:?}"
        );
    }
}

#[test]
fn english_names_without_context_come_from_the_trained_model() {
    // Made-up names: no gazetteer, title or known given name says what they are.
    let found = entities_of(
        "Deals\n\nZorvan Klemtis told reporters in Quezon City that the deal would close.\n\n\
         Shares of Halvorsen Petroleum fell after Ingrid Vasquez-Moreau resigned.\n",
    );
    for (kind, text) in [
        ("person", "Zorvan Klemtis"),
        ("place", "Quezon City"),
        ("organization", "Halvorsen Petroleum"),
        ("person", "Ingrid Vasquez-Moreau"),
    ] {
        assert!(has(&found, kind, text), "{kind} {text}: {found:?}");
    }
    // The rules alone find none of the first three.
    let rules = sluice::extract::entity::page_entities(
        &[(
            "Zorvan Klemtis told reporters in Quezon City that Halvorsen Petroleum fell.",
            &[][..],
        )],
        shared(),
        false,
    );
    assert!(rules[0].is_empty(), "{:?}", rules[0]);
}
