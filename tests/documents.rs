//! Documents made by real tools, ingested by the real binary: a two-column Chinese newspaper
//! page set by ReportLab in an embedded CJK font (and the same page with its text objects in
//! shuffled order), Word and OpenDocument files and an EPUB made by pandoc, Markdown with front
//! matter, and HTML pages (UTF-8 and GBK) wrapped in heavy boilerplate. Each comes out as the
//! articles, titles and paragraphs it was written with, every event valid against the schema.
//! The fixtures and the scripts that made them are in `tests/fixtures/formats/`.

mod common;

use std::path::Path;

use common::harness::*;
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Ingests the named fixtures; returns every event, each checked against the schema.
fn ingest(names: &[&str]) -> Vec<Value> {
    let env = Env::new();
    for name in names {
        env.write(name, fixture(name));
    }
    let out = env.ingest();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&env.output).unwrap();
    for line in text.lines() {
        common::schema::validate_line(line).unwrap_or_else(|e| panic!("{e}\n{line}"));
    }
    env.events()
}

fn segments<'a>(events: &'a [Value], subject: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["subject"] == subject && e["type"] == "sluice.segment")
        .collect()
}

fn document<'a>(events: &'a [Value], subject: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["subject"] == subject && e["type"] == "sluice.document.ingested")
        .unwrap_or_else(|| panic!("{subject} was not ingested: {}", summary(events)))
}

fn kinds(events: &[Value], subject: &str) -> Vec<(String, String)> {
    segments(events, subject)
        .iter()
        .map(|s| {
            (
                s["data"]["kind"].as_str().unwrap().to_string(),
                s["data"]["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, t)| (k.to_string(), t.to_string()))
        .collect()
}

#[test]
fn a_two_column_pdf_page_reads_in_reading_order_whatever_its_storage_order() {
    let events = ingest(&["newspaper.pdf", "newspaper-shuffled.pdf"]);
    let expected: Vec<Value> = serde_json::from_slice(&fixture("newspaper.json")).unwrap();
    for subject in ["newspaper.pdf", "newspaper-shuffled.pdf"] {
        let doc = document(&events, subject);
        assert_eq!(doc["data"]["format"], "pdf");
        assert_eq!(doc["data"]["metadata"]["pages"], 1);
        let articles = doc["data"]["articles"].as_array().unwrap();
        assert_eq!(articles.len(), expected.len(), "{subject}: {articles:?}");
        let segs = segments(&events, subject);
        let mut exact = 0usize;
        let mut total = 0usize;
        for (a, want) in expected.iter().enumerate() {
            assert_eq!(articles[a]["title"], want["title"], "{subject}");
            let paragraphs: Vec<&str> = segs
                .iter()
                .filter(|s| s["data"]["article"] == a && s["data"]["kind"] == "paragraph")
                .map(|s| s["data"]["text"].as_str().unwrap())
                .collect();
            for p in want["paragraphs"].as_array().unwrap() {
                total += 1;
                exact += usize::from(paragraphs.contains(&p.as_str().unwrap()));
            }
        }
        let share = exact as f64 / total as f64;
        assert!(
            share >= 0.95,
            "{subject}: {exact} of {total} paragraphs exact"
        );
        // The byline is credited; the running head and the page number are gone.
        assert_eq!(
            articles[0]["authors"],
            serde_json::json!(["周明远"]),
            "{subject}"
        );
        for s in &segs {
            let text = s["data"]["text"].as_str().unwrap();
            assert!(
                !text.contains("城市晨报") && !text.contains("第3版") && text != "3",
                "{text}"
            );
            let source = &s["data"]["source"];
            assert_eq!(source["type"], "page");
            assert_eq!(source["page"], 1);
        }
    }
    // Both files say the same, in the same order.
    assert_eq!(
        kinds(&events, "newspaper.pdf"),
        kinds(&events, "newspaper-shuffled.pdf")
    );
}

/// What `source.md` says, as pandoc's Word and OpenDocument files carry it.
fn news_blocks() -> Vec<(String, String)> {
    pairs(&[
        ("title", "海口高新区探索经济合作新模式"),
        ("byline", "记者 林晓"),
        (
            "paragraph",
            "本报海口3月30日电 海口国家高新区近日与多家企业签订合作协议，总投资约12亿元，涵盖生物医药和数字经济两个领域。",
        ),
        (
            "paragraph",
            "据介绍，新模式以“飞地园区”为核心，企业在高新区注册、在外地生产，税收按比例分成。",
        ),
        ("subheading", "合作项目一览"),
        ("list_item", "生物医药产业园二期，投资5亿元"),
        ("list_item", "数字经济孵化中心，投资7亿元"),
        (
            "table",
            "项目 | 投资额 | 开工时间\n产业园二期 | 5亿元 | 2024年5月\n孵化中心 | 7亿元 | 2024年8月",
        ),
        ("paragraph", "高新区管委会表示，明年将再引进20家企业。"),
    ])
}

#[test]
fn word_opendocument_and_markdown_keep_headings_lists_and_tables() {
    let events = ingest(&["news.docx", "news.odt", "source.md"]);
    for (subject, format) in [
        ("news.docx", "docx"),
        ("news.odt", "odt"),
        ("source.md", "markdown"),
    ] {
        let doc = document(&events, subject);
        assert_eq!(doc["data"]["format"], format);
        assert_eq!(kinds(&events, subject), news_blocks(), "{subject}");
        let articles = doc["data"]["articles"].as_array().unwrap();
        assert_eq!(articles.len(), 1, "{subject}");
        assert_eq!(
            articles[0]["authors"],
            serde_json::json!(["林晓"]),
            "{subject}"
        );
        assert_eq!(articles[0]["dateline"], "本报海口3月30日电", "{subject}");
        // The footnote is dropped, its mark too.
        for s in segments(&events, subject) {
            assert!(!s["data"]["text"].as_str().unwrap().contains("数据来源"));
        }
        // The table's figures are still found.
        let table = segments(&events, subject)
            .into_iter()
            .find(|s| s["data"]["kind"] == "table")
            .unwrap();
        assert!(
            !table["data"]["figures"].as_array().unwrap().is_empty(),
            "{subject}"
        );
    }
    let docx = segments(&events, "news.docx");
    assert_eq!(
        docx[0]["data"]["source"],
        serde_json::json!({"type": "paragraph", "index": 0})
    );
    // Markdown: front matter is metadata, its date the reference for relative dates (明年).
    let md = document(&events, "source.md");
    assert_eq!(md["data"]["metadata"]["published"], "2024-03-30");
    assert_eq!(md["data"]["reference_date"]["date"], "2024-03-30");
    let last = segments(&events, "source.md").into_iter().last().unwrap();
    let span = &last["data"]["span"];
    assert!(span["char_end"].as_u64() > span["char_start"].as_u64());
    assert_eq!(last["data"]["source"]["type"], "bytes");
}

#[test]
fn an_epub_gives_one_article_per_chapter_in_spine_order() {
    let events = ingest(&["book.epub"]);
    let doc = document(&events, "book.epub");
    assert_eq!(doc["data"]["format"], "epub");
    assert_eq!(doc["data"]["metadata"]["title"], "城市笔记");
    let titles: Vec<&str> = doc["data"]["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap_or_default())
        .collect();
    // pandoc's title page, then the two chapters.
    assert_eq!(
        titles,
        vec!["城市笔记", "第一章 清晨的码头", "第二章 午后的书店"]
    );
    let segs = segments(&events, "book.epub");
    let chapter2: Vec<&str> = segs
        .iter()
        .filter(|s| s["data"]["article"] == 2)
        .map(|s| s["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        chapter2,
        vec![
            "第二章 午后的书店",
            "书店在老街的尽头，店主是一位退休的中学老师。",
            "他说，来这里的人不多，但每一位都会坐上一整个下午。"
        ]
    );
    assert_eq!(segs[2]["data"]["source"]["part"], "EPUB/text/ch001.xhtml");
}

/// Strings of the pages' boilerplate: none may appear in any segment.
const BOILERPLATE: &[&str] = &[
    "登录",
    "注册",
    "首页",
    "本地新闻",
    "评论",
    "分享到",
    "微博",
    "相关新闻",
    "地铁四号线首段",
    "网友评论",
    "期待二期",
    "热点排行",
    "中考成绩",
    "广告",
    "关于我们",
    "版权所有",
    "统计代码",
    "Skip to content",
    "Local",
    "Weather",
    "cookies",
    "Share on",
    "morning briefing",
    "newsletter",
    "Subscribe",
    "Related stories",
    "Storm season",
    "Comments",
    "first to comment",
    "All rights reserved",
    "Privacy",
];

#[test]
fn html_pages_give_their_article_and_none_of_their_boilerplate() {
    let events = ingest(&["portal-gbk.html", "english.html"]);
    let portal = document(&events, "portal-gbk.html");
    assert_eq!(portal["data"]["format"], "html");
    assert_eq!(portal["data"]["encoding"], "gbk");
    assert_eq!(portal["data"]["metadata"]["site"], "江城新闻网");
    assert_eq!(
        portal["data"]["reference_date"]["resolved_from"],
        "published"
    );
    assert_eq!(portal["data"]["reference_date"]["date"], "2024-06-28");
    assert_eq!(
        kinds(&events, "portal-gbk.html"),
        pairs(&[
            ("title", "江城地铁三号线今起试运营"),
            (
                "paragraph",
                "本报讯（记者 何立新）6月28日上午9时，江城地铁三号线一期工程正式开通试运营。线路全长31.4公里，共设车站24座，其中换乘站6座，工程总投资约228亿元。"
            ),
            (
                "paragraph",
                "三号线串联起城北高铁站、中心商务区和南部大学城，首班车6时30分发车，末班车22时30分发车，高峰时段行车间隔为4分钟。"
            ),
            ("photo_credit", "图为三号线列车驶出城北高铁站。 摄影 赵宁"),
            (
                "paragraph",
                "据市轨道交通集团介绍，试运营期间票价执行现行线网标准，起步价2元，乘客可使用交通卡、手机扫码和银行卡乘车。"
            ),
            ("subheading", "沿线居民：通勤时间缩短一半"),
            (
                "paragraph",
                "家住大学城的刘先生说，以前开车去中心商务区要一个多小时，现在坐地铁三十分钟就到了。"
            ),
            (
                "paragraph",
                "市轨道交通集团表示，三号线二期工程预计明年年底完工，届时线路将延伸至临空经济区。"
            ),
            ("byline", "（责任编辑：孙薇）"),
        ])
    );
    let article = &portal["data"]["articles"][0];
    assert_eq!(article["authors"], serde_json::json!(["何立新", "孙薇"]));

    let english = document(&events, "english.html");
    assert_eq!(
        english["data"]["metadata"]["authors"],
        serde_json::json!(["Maria Delgado"])
    );
    assert_eq!(english["data"]["reference_date"]["date"], "2024-11-07");
    let texts = kinds(&events, "english.html");
    assert_eq!(
        texts[0],
        (
            "title".into(),
            "Harbor town votes to rebuild its seawall".into()
        )
    );
    assert_eq!(texts[1], ("byline".into(), "By Maria Delgado".into()));
    assert!(texts.contains(&(
        "photo_credit".into(),
        "Waves break over the old seawall in January. Photo by Sam Okafor".into()
    )));
    assert!(texts.contains(&("subheading".into(), "A long debate".into())));
    assert_eq!(
        texts.last().unwrap().1,
        "The town council will meet on Dec. 15 to choose a design firm."
    );
    assert_eq!(
        texts.iter().filter(|(k, _)| k == "paragraph").count(),
        5,
        "{texts:?}"
    );

    for subject in ["portal-gbk.html", "english.html"] {
        for s in segments(&events, subject) {
            let text = s["data"]["text"].as_str().unwrap();
            for b in BOILERPLATE {
                assert!(
                    !text.contains(b),
                    "{subject}: boilerplate {b:?} in {text:?}"
                );
            }
            assert_eq!(s["data"]["source"]["type"], "element");
        }
    }
}

#[test]
fn a_pdf_in_a_cjk_font_that_is_not_embedded_reads_through_its_unicode_cmap() {
    let events = ingest(&["songti-cid.pdf"]);
    assert_eq!(
        kinds(&events, "songti-cid.pdf"),
        pairs(&[
            ("title", "春季植树活动启动"),
            (
                "paragraph",
                "本报讯 全市春季义务植树活动昨日启动，计划种植各类苗木三十万株。"
            ),
        ])
    );
}
