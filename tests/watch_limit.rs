//! When the kernel refuses more watches, sluice says so loudly and falls back to scanning: no file
//! is missed. The limit is lowered inside a user namespace, so nothing else on the machine is
//! affected.

mod common;

use std::process::Command;
use std::time::Duration;

use common::harness::*;

fn user_namespaces_work() -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c"])
        .arg("echo 4 > /proc/sys/user/max_inotify_watches")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn with_inotify_watches_exhausted_files_are_still_ingested_by_scanning() {
    if !user_namespaces_work() {
        eprintln!("SKIPPED: unprivileged user namespaces are not available on this machine");
        return;
    }
    let mut env = Env::new()
        .with("watch.settle_ms=50")
        .with("watch.fallback_scan_ms=300");
    for i in 0..10 {
        std::fs::create_dir_all(env.path(&format!("dir{i}"))).unwrap();
    }
    env.prefix = [
        "unshare",
        "--user",
        "--map-root-user",
        "sh",
        "-c",
        "echo 4 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
    ]
    .map(String::from)
    .to_vec();
    let daemon = env.start();
    assert!(
        daemon.stderr().contains("max_user_watches"),
        "the refusal must be reported loudly:\n{}",
        daemon.stderr()
    );
    for i in 0..10 {
        env.write(&format!("dir{i}/f.txt"), article(i));
    }
    let events = env.wait_for(Duration::from_secs(20), |e| {
        of_type(e, "sluice.document.ingested").len() == 10
    });
    assert_sequences_gap_free(&events);
    assert!(daemon.stop().0.success());
}
