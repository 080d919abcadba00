//! Bad input never stops the daemon: each bad file gives one `sluice.document.failed` with the
//! kind that says what happened, and the daemon keeps serving.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::harness::*;

#[test]
fn each_bad_file_gives_one_failed_event_of_its_kind_and_the_daemon_keeps_serving() {
    let mut env = Env::new()
        .with("watch.settle_ms=50")
        .with("pipeline.max_file_bytes=2000");
    // Root reads everything: run the daemon as `nobody` so permissions mean something.
    if running_as_root() {
        env.as_nobody();
        for dir in [env.dir.path().to_path_buf(), env.watch.clone()] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        }
        let out = env.output.parent().unwrap().to_path_buf();
        fs::create_dir_all(&out).unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let daemon = env.start();

    env.write(
        "image.bin",
        [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ],
    );
    let junk: Vec<u8> = (0..600)
        .map(|i| if i % 2 == 0 { 0x81 } else { 0x7F })
        .collect();
    env.write("junk.txt", junk);
    env.write("empty.txt", "");
    env.write("secret.txt", article(1));
    fs::set_permissions(env.path("secret.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    env.write("big.txt", "大".repeat(1000));
    std::os::unix::fs::symlink(env.path("loop-b"), env.path("loop-a")).unwrap();
    std::os::unix::fs::symlink(env.path("loop-a"), env.path("loop-b")).unwrap();

    let expected = [
        ("big.txt", "too_large"),
        ("empty.txt", "empty"),
        ("image.bin", "not_text"),
        ("junk.txt", "decode_error"),
        ("loop-a", "symlink_loop"),
        ("loop-b", "symlink_loop"),
        ("secret.txt", "permission_denied"),
    ];
    env.wait_for(Duration::from_secs(20), |e| {
        failures(e).len() >= expected.len()
    });

    // Still serving.
    env.write("good.txt", article(2));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested") == ["good.txt"]
    });
    let events = env.wait_quiet(Duration::from_millis(500));
    let got = failures(&events);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(p, k)| (p.to_string(), k.to_string()))
        .collect();
    assert_eq!(got, want);
    for e in of_type(&events, "sluice.document.failed") {
        let message = e["data"]["error"]["message"].as_str().unwrap();
        assert!(message.len() > 10, "a failure must say what happened: {e}");
    }
    let big = of_type(&events, "sluice.document.failed")
        .into_iter()
        .find(|e| e["subject"] == "big.txt")
        .unwrap();
    assert!(big["data"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("pipeline.max_file_bytes"));
    assert!(
        big["data"]["sha256"].is_null(),
        "a file over the limit is not read, not even hashed"
    );

    // Failures are remembered: a restart does not report them again.
    assert!(daemon.stop().0.success());
    let daemon = env.start();
    let after = env.wait_quiet(Duration::from_millis(500));
    assert_eq!(
        after.len(),
        events.len(),
        "{}",
        summary(&after[events.len()..])
    );

    // Fixing the permission gets the file ingested.
    fs::set_permissions(env.path("secret.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested").contains(&"secret.txt".to_string())
    });
    assert!(daemon.stop().0.success());
    assert_sequences_gap_free(&env.events());
}
