//! Plain English text and Markdown get sensible articles and paragraphs.

use sluice::text::{analyze, SegmentKind};

#[test]
fn plain_english_hard_wrapped_lines_join_into_paragraphs() {
    let text = "River Levels Rise\n\nBEIJING, March 3 (Xinhua) -- Water levels rose on Monday after\nheavy rain, Mr. Li said.\n\nOfficials in the U.S. and China\nexpect more rain.\n";
    let page = analyze(text);
    let kinds: Vec<_> = page.segments.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SegmentKind::Title,
            SegmentKind::Paragraph,
            SegmentKind::Paragraph
        ]
    );
    assert_eq!(
        page.segments[1].text,
        "BEIJING, March 3 (Xinhua) -- Water levels rose on Monday after heavy rain, Mr. Li said."
    );
    assert_eq!(page.segments[1].sentences.len(), 1);
    assert_eq!(
        page.articles[0].dateline.as_deref(),
        Some("BEIJING, March 3 (Xinhua) --")
    );
}

#[test]
fn markdown_headings_make_articles_and_subheadings() {
    let text = "# First post\n\nSome text that is\nwrapped by hand.\n\n## Details\n\n- one item\n- another item\n\n# Second post\n\nMore text.\n";
    let page = analyze(text);
    assert_eq!(page.articles.len(), 2);
    assert_eq!(page.articles[0].title.as_deref(), Some("First post"));
    let texts: Vec<(SegmentKind, &str)> = page
        .segments
        .iter()
        .map(|s| (s.kind, s.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (SegmentKind::Title, "First post"),
            (SegmentKind::Paragraph, "Some text that is wrapped by hand."),
            (SegmentKind::Subheading, "Details"),
            (SegmentKind::Paragraph, "- one item"),
            (SegmentKind::Paragraph, "- another item"),
            (SegmentKind::Title, "Second post"),
            (SegmentKind::Paragraph, "More text."),
        ]
    );
}
