//! No input stalls the daemon: pages shaped to be slow are processed in time linear in their
//! size. (Throughput per shape and size is measured by `cargo bench --bench shapes`; these tests
//! only check that such pages finish, with deadlines a quadratic stage misses many times over.)

mod common;

use std::time::Duration;

use common::harness::*;

/// Far more than a linear pass needs in a debug build; what used to be quadratic takes minutes.
const DEADLINE: Duration = Duration::from_secs(120);

/// A page of `paragraphs` news paragraphs naming about as many different people and
/// organizations (each found by its context once, then looked for on the whole page).
fn page_of_many_names(paragraphs: usize) -> String {
    const SURNAMES: &[char] = &['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
    const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红";
    let given: Vec<char> = GIVEN.chars().collect();
    let mut page = String::from("多地举行项目签约仪式\n\n");
    for i in 0..paragraphs {
        let name: String = [
            SURNAMES[i % SURNAMES.len()],
            given[(i / 10) % given.len()],
            given[(i / 300) % given.len()],
        ]
        .iter()
        .collect();
        let org = format!(
            "{}{}科技有限公司",
            given[i % given.len()],
            given[(i / 7) % given.len()]
        );
        page.push_str(&format!(
            "记者{name}报道，{org}第{i}期项目总投资{}亿元，{name}表示将加快建设。\n\n",
            i % 90 + 1
        ));
    }
    page
}

/// A page of `paragraphs` English paragraphs, each naming a different person (by title, so their
/// surnames are then looked for on the whole page) and organization.
fn english_page_of_many_names(paragraphs: usize) -> String {
    let word = |mut n: usize| {
        let mut w = String::from("Q");
        for _ in 0..4 {
            w.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
        }
        w
    };
    let mut page = String::from("Deals of the day\n\n");
    for i in 0..paragraphs {
        page.push_str(&format!(
            "Mr. {} {} said {} Holdings Inc. would pay $5 million in New York.\n\n",
            word(i),
            word(i + 7),
            word(i + 13)
        ));
    }
    page
}

#[test]
fn two_million_tiny_paragraphs_and_a_page_of_ten_thousand_names_finish_in_linear_time() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    // 200,000 tiny paragraphs (600 KB): joined into one paragraph, each join used to rescan it.
    env.write("tiny.txt", "a\n\n".repeat(200_000));
    // About 1.5 MB naming thousands of people: each name used to be searched in every segment.
    env.write("names.txt", page_of_many_names(12_000));
    env.write("small.txt", article(1));
    // One paragraph of 1.2 MB of capitalized words: one run of names, classified once.
    env.write(
        "capitals.txt",
        "Bank of Tim Cook Mr. Smith Inc. Paris ".repeat(32_000),
    );
    // About 0.7 MB of English paragraphs naming 10,000 people and organizations.
    env.write("english.txt", english_page_of_many_names(10_000));
    let events = env.wait_for(DEADLINE, |e| {
        subjects(e, "sluice.document.ingested").len() == 5
    });
    let english = of_type(&events, "sluice.document.ingested")
        .into_iter()
        .find(|d| d["subject"] == "english.txt")
        .unwrap()
        .clone();
    assert!(
        // Every paragraph names a person, an organization and a place (the model and the
        // rules may disagree on some of the made-up names' kinds).
        english["data"]["counts"]["entities"].as_u64().unwrap() >= 25_000,
        "{}",
        english["data"]["counts"]
    );
    let names = of_type(&events, "sluice.document.ingested")
        .into_iter()
        .find(|d| d["subject"] == "names.txt")
        .unwrap()
        .clone();
    assert!(
        names["data"]["counts"]["entities_person"].as_u64().unwrap() > 10_000,
        "{}",
        names["data"]["counts"]
    );
    assert!(daemon.stop().0.success());
}
