//! Prints jieba's words and tags of each argument (a debugging aid for the entity rules).
fn main() {
    let w = sluice::text::words::shared();
    for text in std::env::args().skip(1) {
        let tags: Vec<String> = w
            .jieba()
            .tag(&text, true)
            .into_iter()
            .map(|t| format!("{}/{}", t.word, t.tag))
            .collect();
        println!("{}", tags.join(" "));
    }
}
