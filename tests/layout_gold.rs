//! Acceptance: the bundled sample page lays out exactly as its hand-checked structure says
//! (`tests/fixtures/seed-structure.json`, a copy of the gold facts).

use serde_json::Value;
use sluice::text::{analyze, SegmentKind};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kind_name(k: SegmentKind) -> &'static str {
    match k {
        SegmentKind::Title => "title",
        SegmentKind::Subheading => "subheading",
        SegmentKind::Byline => "byline",
        SegmentKind::PhotoCredit => "photo_credit",
        SegmentKind::Paragraph => "paragraph",
        SegmentKind::ListItem => "list_item",
        SegmentKind::Table => "table",
        SegmentKind::Code => "code",
    }
}

fn gold() -> (String, Value) {
    let fixture = std::fs::read_to_string(root().join("tests/fixtures/seed-structure.json"))
        .expect("fixture tests/fixtures/seed-structure.json");
    let gold: Value = serde_json::from_str(&fixture).expect("fixture is JSON");
    let file = gold["file"].as_str().expect("file name").to_string();
    let text = std::fs::read_to_string(root().join("seeds").join(&file)).expect("seed page");
    (text, gold)
}

#[test]
fn the_sample_page_has_the_gold_articles_and_segments() {
    let (text, gold) = gold();
    let page = analyze(&text);
    let articles = gold["articles"].as_array().expect("articles");
    assert_eq!(page.articles.len(), articles.len(), "article count");

    let mut expected = Vec::new();
    for (a, article) in articles.iter().enumerate() {
        for block in article["blocks"].as_array().expect("blocks") {
            expected.push((
                a,
                block["kind"].as_str().unwrap_or_default().to_string(),
                block["text"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    let got: Vec<(usize, String, String)> = page
        .segments
        .iter()
        .map(|s| {
            (
                s.article.unwrap_or(usize::MAX),
                kind_name(s.kind).to_string(),
                s.text.clone(),
            )
        })
        .collect();
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "segment {i}");
    }
    assert_eq!(got.len(), 58);
    assert_eq!(got.len(), expected.len(), "segment count");
}

#[test]
fn the_sample_page_has_the_gold_article_metadata() {
    let (text, gold) = gold();
    let page = analyze(&text);
    for (got, want) in page
        .articles
        .iter()
        .zip(gold["articles"].as_array().expect("articles"))
    {
        let s = |v: &Value| v.as_str().map(String::from);
        assert_eq!(got.title, s(&want["title"]), "title of {}", got.index);
        assert_eq!(
            got.dateline,
            s(&want["dateline"]),
            "dateline of {}",
            got.index
        );
        assert_eq!(
            got.photo_credit,
            s(&want["photo_credit"]),
            "photo credit of {}",
            got.index
        );
        let authors: Vec<String> = want["authors"]
            .as_array()
            .expect("authors")
            .iter()
            .filter_map(s)
            .collect();
        assert_eq!(got.authors, authors, "authors of {}", got.index);
        let (first, last) = got.segments;
        assert!(page.segments[first..=last]
            .iter()
            .all(|s| s.article == Some(got.index)));
    }
}

#[test]
fn rejoined_paragraph_spans_cover_their_source_lines() {
    let (text, gold) = gold();
    let page = analyze(&text);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let blocks = gold["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .flat_map(|a| a["blocks"].as_array().cloned().unwrap_or_default());
    for (seg, block) in page.segments.iter().zip(blocks) {
        let lines: Vec<usize> = block["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .filter_map(|l| l.as_u64().map(|l| l as usize))
            .collect();
        let (first, last) = (lines[0], lines[lines.len() - 1]);
        assert_eq!(seg.span.byte_start, line_starts[first - 1], "{}", seg.text);
        let end_of_last = text[line_starts[last - 1]..]
            .find('\n')
            .map_or(text.len(), |e| line_starts[last - 1] + e);
        assert_eq!(seg.span.byte_end, end_of_last, "{}", seg.text);
        let chars = text[..seg.span.byte_start].chars().count();
        assert_eq!(seg.span.char_start, chars);
    }
}
