//! Prints what sluice's readers make of a document: its format, metadata and blocks (or, for
//! a PDF, its text in reading order). `cargo run --example read_document -- FILE`
fn main() {
    let path = std::env::args().nth(1).expect("usage: read_document FILE");
    let bytes = std::fs::read(&path).expect("readable file");
    let format = sluice::read::sniff(&bytes, &path);
    println!("format: {format}");
    match sluice::read::read(format, &bytes, &sluice::read::Limits::default()) {
        Ok(read) => {
            println!("encoding: {}\nmeta: {:?}", read.encoding, read.meta);
            match read.body {
                sluice::read::Body::Blocks(blocks) => {
                    for b in blocks {
                        println!("{:?}\t{}\t{:?}", b.kind, b.text, b.source);
                    }
                }
                sluice::read::Body::Lines { text, .. } => println!("{text}"),
            }
        }
        Err(e) => println!("failed ({}): {}", e.kind.as_str(), e.message),
    }
}
