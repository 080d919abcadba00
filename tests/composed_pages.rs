//! Generality of the layout, measured on pages composed from real articles.
//!
//! Each file of the chinanews development corpus (`../shared/corpus/chinanews-dev`, beside the
//! project, or `SLUICE_CHINANEWS_DIR`) is one article: headline, blank line, paragraphs. The
//! composer shuffles them (fixed seed) into pages of 3 to 8 articles and breaks about 15% of
//! the paragraphs in two at a random point, the way page layout does. The measurement reports
//! article-boundary F1 and the paragraph exact-match rate.
//!
//! The corpus is not part of the project, so these tests are ignored by default:
//! `cargo test --release --test composed_pages -- --ignored --nocapture`.

use std::collections::HashSet;
use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sluice::text::{analyze, SegmentKind};

const SEED: u64 = 20_230_217;
const BREAK_RATE: f64 = 0.15;

struct Source {
    title: String,
    paragraphs: Vec<String>,
    /// The closing `【编辑:X】` line, when the article has one.
    sign_off: Option<String>,
}

/// One composed page and what a perfect layout would find in it.
struct Composed {
    text: String,
    /// Char offsets where articles start (their headline).
    article_starts: Vec<usize>,
    titles: Vec<(usize, String)>,
    /// (char offset, text) of every paragraph, whole.
    paragraphs: Vec<(usize, String)>,
    /// Offsets of the paragraphs that were broken.
    broken: HashSet<usize>,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SLUICE_CHINANEWS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/chinanews-dev")
        });
    dir.is_dir().then_some(dir)
}

fn load(dir: &PathBuf) -> Vec<Source> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let mut blocks: Vec<String> = text
                .replace("\r\n", "\n")
                .split("\n\n")
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .collect();
            let sign_off = blocks
                .last()
                .filter(|b| b.starts_with('【') && b.contains("编辑"))
                .cloned();
            if sign_off.is_some() {
                blocks.pop();
            }
            let title = blocks.first()?.clone();
            Some(Source {
                title,
                paragraphs: blocks[1..].to_vec(),
                sign_off,
            })
        })
        .collect()
}

fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '!' | '?' | '…' | '；' | ';' | '：' | ':' | '”' | '’' | '）' | ')'
    )
}

/// Composes pages from all articles, in a shuffled order.
fn compose(sources: &[Source], keep_sign_offs: bool, rng: &mut StdRng) -> Vec<Composed> {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut pages = Vec::new();
    let mut at = 0;
    while at < order.len() {
        let n = rng.random_range(3..=8).min(order.len() - at);
        pages.push(page(
            order[at..at + n].iter().map(|&i| &sources[i]),
            keep_sign_offs,
            rng,
        ));
        at += n;
    }
    pages
}

fn page<'a>(
    articles: impl Iterator<Item = &'a Source>,
    keep_sign_offs: bool,
    rng: &mut StdRng,
) -> Composed {
    let mut c = Composed {
        text: String::new(),
        article_starts: Vec::new(),
        titles: Vec::new(),
        paragraphs: Vec::new(),
        broken: HashSet::new(),
    };
    let mut chars = 0;
    let mut push = |c: &mut Composed, s: &str| {
        if !c.text.is_empty() {
            c.text.push_str("\n\n");
            chars += 2;
        }
        let at = chars;
        c.text.push_str(s);
        chars += s.chars().count();
        at
    };
    for a in articles {
        let at = push(&mut c, &a.title);
        c.article_starts.push(at);
        c.titles.push((at, a.title.clone()));
        for p in &a.paragraphs {
            let cs: Vec<char> = p.chars().collect();
            // A break falls mid-sentence: after a sentence-final mark it would be a real
            // paragraph end that no reader could tell from a layout break.
            let points: Vec<usize> = (1..cs.len())
                .filter(|&i| !ends_sentence(cs[i - 1]) && !cs[i - 1].is_whitespace())
                .filter(|&i| !cs[i].is_whitespace())
                .collect();
            if !points.is_empty() && rng.random_bool(BREAK_RATE) {
                let cut = points[rng.random_range(0..points.len())];
                let first: String = cs[..cut].iter().collect();
                let second: String = cs[cut..].iter().collect();
                let at = push(&mut c, &first);
                push(&mut c, &second);
                c.paragraphs.push((at, p.clone()));
                c.broken.insert(at);
            } else {
                let at = push(&mut c, p);
                c.paragraphs.push((at, p.clone()));
            }
        }
        if keep_sign_offs {
            if let Some(s) = &a.sign_off {
                push(&mut c, s);
            }
        }
    }
    c.text.push('\n');
    c
}

#[derive(Default)]
struct Score {
    gold_starts: usize,
    found_starts: usize,
    right_starts: usize,
    paragraphs: usize,
    paragraphs_exact: usize,
    blocks_exact: usize,
    broken: usize,
    broken_exact: usize,
    titles: usize,
    titles_exact: usize,
}

impl Score {
    fn add(&mut self, c: &Composed) {
        let page = analyze(&c.text);
        let found: HashSet<usize> = page
            .articles
            .iter()
            .filter_map(|a| page.segments.get(a.segments.0).map(|s| s.span.char_start))
            .collect();
        let gold: HashSet<usize> = c.article_starts.iter().copied().collect();
        self.gold_starts += gold.len();
        self.found_starts += found.len();
        self.right_starts += gold.intersection(&found).count();
        let paragraphs: HashSet<(usize, &str)> = page
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Paragraph)
            .map(|s| (s.span.char_start, s.text.as_str()))
            .collect();
        // Blocks of the body whatever their kind: the corpus counts decks, subheadings and
        // credit lines of an article body among its "paragraphs".
        let blocks: HashSet<(usize, &str)> = page
            .segments
            .iter()
            .filter(|s| s.kind != SegmentKind::Title)
            .map(|s| (s.span.char_start, s.text.as_str()))
            .collect();
        let show = std::env::var("SLUICE_SHOW_MISSES").is_ok();
        for (at, text) in &c.paragraphs {
            let exact = paragraphs.contains(&(*at, text.as_str()));
            self.blocks_exact += blocks.contains(&(*at, text.as_str())) as usize;
            if show && !exact {
                let near: Vec<String> = page
                    .segments
                    .iter()
                    .filter(|s| {
                        s.span.char_start <= *at && s.span.char_end > *at
                            || s.span.char_start >= *at
                                && s.span.char_start < *at + text.chars().count()
                    })
                    .map(|s| {
                        format!(
                            "{:?}:{}",
                            s.kind,
                            s.text.chars().take(60).collect::<String>()
                        )
                    })
                    .collect();
                println!(
                    "MISS broken={} gold={}\n   got {:?}",
                    c.broken.contains(at),
                    text.chars().take(60).collect::<String>(),
                    near
                );
            }
            self.paragraphs += 1;
            self.paragraphs_exact += exact as usize;
            if c.broken.contains(at) {
                self.broken += 1;
                self.broken_exact += exact as usize;
            }
        }
        let titles: HashSet<(usize, &str)> = page
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Title)
            .map(|s| (s.span.char_start, s.text.as_str()))
            .collect();
        for (at, t) in &c.titles {
            self.titles += 1;
            self.titles_exact += titles.contains(&(*at, t.as_str())) as usize;
        }
    }

    fn f1(&self) -> (f64, f64, f64) {
        let p = self.right_starts as f64 / self.found_starts.max(1) as f64;
        let r = self.right_starts as f64 / self.gold_starts.max(1) as f64;
        (p, r, 2.0 * p * r / (p + r).max(f64::MIN_POSITIVE))
    }

    fn report(&self, name: &str, pages: usize) {
        let (p, r, f1) = self.f1();
        let rate = |a: usize, b: usize| a as f64 / b.max(1) as f64;
        println!(
            "{name}: {pages} pages, {} articles | article boundaries P {p:.4} R {r:.4} F1 {f1:.4} | \
             paragraphs exact {:.4} ({}/{}), as any body block {:.4} | broken paragraphs rejoined exactly {:.4} ({}/{}) | \
             titles exact {:.4}",
            self.gold_starts,
            rate(self.paragraphs_exact, self.paragraphs),
            self.paragraphs_exact,
            self.paragraphs,
            rate(self.blocks_exact, self.paragraphs),
            rate(self.broken_exact, self.broken),
            self.broken_exact,
            self.broken,
            rate(self.titles_exact, self.titles),
        );
    }
}

fn measure(keep_sign_offs: bool) -> Option<Score> {
    let Some(dir) = corpus_dir() else {
        println!("chinanews-dev corpus not found (../shared/corpus/chinanews-dev or SLUICE_CHINANEWS_DIR): skipped");
        return None;
    };
    let sources = load(&dir);
    let mut rng = StdRng::seed_from_u64(SEED);
    let pages = compose(&sources, keep_sign_offs, &mut rng);
    let mut score = Score::default();
    for page in &pages {
        score.add(page);
    }
    let name = if keep_sign_offs {
        "with 【编辑】 lines"
    } else {
        "without 【编辑】 lines"
    };
    score.report(name, pages.len());
    Some(score)
}

#[test]
#[ignore = "reads ../shared/corpus/chinanews-dev, which is not part of the project"]
fn composed_pages_keep_their_articles_and_paragraphs() {
    if let Some(score) = measure(true) {
        assert!(score.f1().2 > 0.9, "article-boundary F1 fell below 0.9");
    }
}

#[test]
#[ignore = "reads ../shared/corpus/chinanews-dev, which is not part of the project"]
fn composed_pages_without_sign_offs_keep_their_articles() {
    if let Some(score) = measure(false) {
        assert!(score.f1().2 > 0.8, "article-boundary F1 fell below 0.8");
    }
}

/// The composer itself, on two made-up articles: breaks fall mid-sentence and the gold points
/// at the right places.
#[test]
fn the_composer_marks_where_articles_and_paragraphs_are() {
    let sources = [
        Source {
            title: "标题一".into(),
            paragraphs: vec!["第一段文字,没有结束的意思还在继续说。".into(); 20],
            sign_off: Some("【编辑:某某】".into()),
        },
        Source {
            title: "标题二".into(),
            paragraphs: vec!["另一段。".into()],
            sign_off: None,
        },
    ];
    let mut rng = StdRng::seed_from_u64(SEED);
    let c = page(sources.iter(), true, &mut rng);
    let chars: Vec<char> = c.text.chars().collect();
    for (at, t) in &c.titles {
        let got: String = chars[*at..*at + t.chars().count()].iter().collect();
        assert_eq!(&got, t);
    }
    assert_eq!(c.article_starts.len(), 2);
    assert_eq!(c.paragraphs.len(), 21);
    assert!(
        !c.broken.is_empty(),
        "a 15% rate over 20 paragraphs breaks some"
    );
}
