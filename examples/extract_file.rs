//! Prints what extraction finds in a file (for checking unseen text by eye).
fn main() {
    let w = sluice::text::words::shared();
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let page = sluice::text::analyze(&text);
        let ex = sluice::extract::extract_page(
            &page,
            w,
            &sluice::extract::Options::default(),
            time::macros::date!(2020 - 03 - 30),
        );
        println!("== {path} keywords {:?}", ex.keywords);
        for s in &ex.segments {
            for f in &s.figures {
                println!(
                    "  fig {} {} = {} {} {:?}",
                    f.kind.name(),
                    f.text,
                    f.value.to_json(),
                    f.unit,
                    f.modifier
                );
            }
            for d in &s.dates {
                println!("  date {} = {:?} {:?}", d.text, d.value, d.grain);
            }
            for e in &s.entities {
                println!("  ent {} {}", e.kind.name(), e.text);
            }
        }
    }
}
