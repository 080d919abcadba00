//! Criterion benchmarks of each text stage on one document of the sample page, with its
//! throughput in bytes: the statistically careful view of the rows the suite's table prints.
//! `cargo bench --bench stages`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};
use sluice::text::{self, decode::decode, words};

fn page() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .expect("seeds/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    std::fs::read(pages.first().expect("a page in seeds/")).expect("read the page")
}

fn stages(c: &mut Criterion) {
    let bytes = page();
    let text = decode(&bytes).expect("the sample page decodes").text;
    let parsed = text::analyze(&text);
    let w = words::shared();
    let options = sluice::extract::Options::default();
    let day = time::macros::date!(2023 - 02 - 20);
    sluice::extract::warm_up();
    let dedup = sluice::dedup::Dedup::new(sluice::config::DedupSettings::default());

    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("hash", |b| b.iter(|| Sha256::digest(&bytes)));
    g.bench_function("decode", |b| b.iter(|| decode(&bytes)));
    g.bench_function("layout+sentences", |b| b.iter(|| text::analyze(&text)));
    g.bench_function("words", |b| {
        b.iter(|| {
            parsed
                .segments
                .iter()
                .map(|s| w.tokens(&s.text).len())
                .sum::<usize>()
        })
    });
    g.bench_function("extraction", |b| {
        b.iter(|| sluice::extract::extract_page(&parsed, w, &options, day))
    });
    g.bench_function("dedup signatures", |b| {
        b.iter(|| dedup.analyze("doc", "version", &text, &parsed))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = stages
}
criterion_main!(benches);
