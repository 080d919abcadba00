//! Operations that must not kill the daemon: a closed stderr, SIGHUP, the watched folder removed
//! and made again; and inputs at the edge of text (a byte-order mark alone, Chinese UTF-16
//! without one).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::harness::*;

const T: Duration = Duration::from_secs(20);

#[test]
fn a_closed_stderr_does_not_stop_the_daemon() {
    let env = Env::new().with("watch.settle_ms=30");
    let mut child = env
        .command("run")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away (as `sluice run 2>&1 | head -c 10` does): every later log line fails.
    drop(child.stderr.take());
    for i in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        env.write(&format!("f{i}.txt"), article(i));
    }
    env.wait_for(T, |e| subjects(e, "sluice.document.ingested").len() == 3);
    assert!(child.try_wait().unwrap().is_none(), "the daemon died");
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn sighup_makes_the_daemon_look_again_and_carry_on() {
    let env = Env::new().with("watch.settle_ms=30");
    let daemon = env.start();
    let scans = || daemon.stderr().matches("reconcile scan done").count();
    assert_eq!(scans(), 1);
    daemon.signal("HUP");
    let start = Instant::now();
    while scans() < 2 {
        assert!(
            start.elapsed() < T,
            "no rescan after SIGHUP:\n{}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(daemon.stderr().contains("SIGHUP received"));
    env.write("after.txt", article(1));
    env.wait_for(T, |e| {
        subjects(e, "sluice.document.ingested") == ["after.txt"]
    });
    let (status, _) = daemon.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn the_watched_folder_removed_and_made_again_is_watched_again() {
    let env = Env::new().with("watch.settle_ms=30");
    let port = free_port();
    let daemon = env.start_with(&["--metrics", &format!("127.0.0.1:{port}")]);
    daemon.wait_log("metrics listening", T);
    env.write("a.txt", article(1));
    env.wait_for(T, |e| subjects(e, "sluice.document.ingested") == ["a.txt"]);
    std::fs::remove_dir_all(&env.watch).unwrap();
    // The gap is said: in the log and in /healthz.
    let start = Instant::now();
    loop {
        let (status, _, body) = http(port, "GET", "/healthz");
        if status == 503 && body.contains("missing") {
            break;
        }
        assert!(start.elapsed() < T, "healthz still says {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon.wait_log("is missing", T);
    std::fs::create_dir_all(&env.watch).unwrap();
    // Not "is back" alone: the missing message says "until it is back".
    daemon.wait_log("is back (it was missing since", T);
    env.write("b.txt", article(2));
    let events = env.wait_for(T, |e| {
        subjects(e, "sluice.document.ingested").contains(&"b.txt".to_string())
    });
    // a.txt went with the folder.
    assert_eq!(subjects(&events, "sluice.file.removed"), ["a.txt"]);
    // And /healthz is well again.
    let start = Instant::now();
    loop {
        let (status, _, body) = http(port, "GET", "/healthz");
        if (status, body.as_str()) == (200, "ok\n") {
            break;
        }
        assert!(
            start.elapsed() < T,
            "healthz still says {status} {body}\n{}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(daemon.stop().0.success());
}

#[test]
fn a_bom_alone_is_empty_and_chinese_utf16_without_a_bom_is_read() {
    let env = Env::new();
    env.write("bom-only.txt", [0xEF, 0xBB, 0xBF]);
    let text = "海口高新区发展新动能\n\n近年来，海口高新区积极探索“飞地”经济合作模式，与博鳌乐城国际医疗旅游先行区联手打造合作示范区。\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    env.write("utf16.txt", utf16);
    env.ingest();
    let events = env.final_events();
    assert_eq!(
        failures(&events),
        [("bom-only.txt".to_string(), "empty".to_string())]
    );
    let doc = of_type(&events, "sluice.document.ingested")[0];
    assert_eq!(doc["subject"], "utf16.txt");
    assert_eq!(doc["data"]["encoding"], "utf-16le");
    let segments = of_type(&events, "sluice.segment");
    assert_eq!(segments[0]["data"]["text"], "海口高新区发展新动能");
}
