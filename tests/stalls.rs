//! Files that used to stall the daemon or get committed wrong: a huge sparse file (hashed for
//! minutes before), and a file rewritten while it was read (whose bytes, mixed from two writes,
//! never existed).

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use common::harness::*;

#[test]
fn a_huge_sparse_file_does_not_hold_back_the_file_after_it() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    // 20 GiB that take no disk: reading it whole took 78 s; 8 EiB would never end.
    let huge = std::fs::File::create(env.path("huge.txt")).unwrap();
    huge.set_len(20 << 30).unwrap();
    drop(huge);
    std::thread::sleep(Duration::from_millis(200));
    let dropped = Instant::now();
    env.write("small.txt", article(1));
    env.wait_for(Duration::from_secs(15), |e| {
        subjects(e, "sluice.document.ingested") == ["small.txt"]
    });
    eprintln!(
        "small file ingested {:?} after it was written",
        dropped.elapsed()
    );
    let events = env.wait_for(Duration::from_secs(15), |e| {
        failures(e) == [("huge.txt".to_string(), "too_large".to_string())]
    });
    let huge = of_type(&events, "sluice.document.failed")[0];
    assert!(huge["data"]["sha256"].is_null(), "not read, not hashed");
    assert!(daemon.stop().0.success());
}

/// `len` bytes of one letter: every whole version of the file below.
fn uniform(letter: u8, len: usize) -> Vec<u8> {
    let mut v = vec![letter; len];
    for i in (99..len).step_by(100) {
        v[i] = b'\n';
    }
    v
}

#[test]
fn a_file_rewritten_while_it_is_read_is_never_committed_as_a_mix_of_two_writes() {
    let env = Env::new()
        .with("watch.settle_ms=20")
        .with("watch.max_wait_ms=100");
    let daemon = env.start();
    const LEN: usize = 1 << 20;
    env.write("busy.txt", uniform(b'a', LEN));
    let whole: Vec<String> = (b'a'..=b'z')
        .map(|l| {
            let path = env.dir.path().join("probe");
            std::fs::write(&path, uniform(l, LEN)).unwrap();
            sluice::detect::sha256_file(&path).unwrap()
        })
        .collect();
    // Rewritten in place, again and again, without pause: a read that spans a write sees the
    // start of one version and the end of another.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(env.path("busy.txt"))
        .unwrap();
    let started = Instant::now();
    let mut n = 0u8;
    while started.elapsed() < Duration::from_secs(3) {
        let content = uniform(b'a' + n % 26, LEN);
        for chunk in content.chunks(256 * 1024) {
            file.write_all(chunk).unwrap();
        }
        file.seek(SeekFrom::Start(0)).unwrap();
        n = n.wrapping_add(1);
    }
    drop(file);
    let last = sluice::detect::sha256_file(&env.path("busy.txt")).unwrap();
    let events = env.wait_for(Duration::from_secs(60), |e| {
        of_type(e, "sluice.document.ingested")
            .last()
            .is_some_and(|d| d["data"]["version"] == last.as_str())
    });
    let versions: Vec<&str> = of_type(&events, "sluice.document.ingested")
        .iter()
        .map(|d| d["data"]["version"].as_str().unwrap())
        .collect();
    assert!(!versions.is_empty());
    for v in &versions {
        assert!(
            whole.iter().any(|w| w == v),
            "a version whose bytes never existed was committed: {v}"
        );
    }
    eprintln!(
        "{} versions committed while it was rewritten {n} times",
        versions.len()
    );
    assert!(daemon.stop().0.success());
}
