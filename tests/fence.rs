//! Nothing from outside the watched folder reaches the log: links are judged by where they lead,
//! sluice's own files are never read back, and files that cannot or must not be read (FIFOs,
//! sockets, devices, paths too long, names that are not UTF-8) give one failure each.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use common::harness::*;
use serde_json::Value;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn links_that_lead_outside_are_refused_and_their_targets_never_read() {
    let env = Env::new();
    let secret = env.dir.path().join("secret.txt");
    std::fs::write(&secret, "这是机密文件的第一行。\n\n第二行也是机密。\n").unwrap();
    std::fs::create_dir_all(env.dir.path().join("elsewhere")).unwrap();
    std::fs::write(
        env.dir.path().join("elsewhere/inner.txt"),
        "另一份机密内容在这里。\n",
    )
    .unwrap();
    symlink(&secret, env.path("secret-link.txt")).unwrap();
    symlink("/etc/passwd", env.path("passwd.txt")).unwrap();
    symlink("/proc/self/maps", env.path("maps.txt")).unwrap();
    // A link to a folder outside: a path through it is refused too.
    symlink(env.dir.path().join("elsewhere"), env.path("dir")).unwrap();
    // Links that stay inside are followed.
    env.write("real.txt", article(1));
    symlink(env.path("real.txt"), env.path("alias.txt")).unwrap();
    env.ingest();
    let events = env.final_events();
    assert_eq!(
        failures(&events),
        pairs(&[
            ("maps.txt", "outside_watch"),
            ("passwd.txt", "outside_watch"),
            ("secret-link.txt", "outside_watch"),
        ])
    );
    for e in of_type(&events, "sluice.document.failed") {
        assert!(e["data"]["sha256"].is_null(), "nothing was hashed: {e}");
        let message = e["data"]["error"]["message"].as_str().unwrap();
        assert!(message.contains("watch.symlinks"), "{message}");
    }
    let all = std::fs::read_to_string(&env.output).unwrap();
    for needle in ["机密", "root:", "[heap]", "/usr/lib"] {
        assert!(
            !all.contains(needle),
            "{needle:?} from outside reached the log"
        );
    }
    let mut docs = subjects(&events, "sluice.document.ingested");
    docs.sort();
    assert_eq!(docs, ["alias.txt", "real.txt"]);

    // Reported once: another pass (and a changed target) says nothing new.
    std::fs::write(&secret, "新的机密。\n").unwrap();
    env.ingest();
    assert_eq!(env.final_events().len(), events.len());
}

#[test]
fn with_symlinks_never_no_link_is_followed_and_with_follow_every_one_is() {
    let env = Env::new().with("watch.symlinks=never");
    env.write("real.txt", article(1));
    symlink(env.path("real.txt"), env.path("alias.txt")).unwrap();
    let outside = env.dir.path().join("outside.txt");
    std::fs::write(&outside, article(2)).unwrap();
    symlink(&outside, env.path("out.txt")).unwrap();
    env.ingest();
    let events = env.final_events();
    assert_eq!(
        failures(&events),
        pairs(&[
            ("alias.txt", "symlink_refused"),
            ("out.txt", "symlink_refused")
        ])
    );
    assert_eq!(subjects(&events, "sluice.document.ingested"), ["real.txt"]);

    let env = Env::new().with("watch.symlinks=follow");
    std::fs::write(env.dir.path().join("outside.txt"), article(2)).unwrap();
    symlink(env.dir.path().join("outside.txt"), env.path("out.txt")).unwrap();
    env.ingest();
    let events = env.final_events();
    assert!(failures(&events).is_empty(), "{:?}", failures(&events));
    assert_eq!(subjects(&events, "sluice.document.ingested"), ["out.txt"]);
}

#[test]
fn links_to_sluices_own_log_and_state_are_never_read_and_lookalikes_are() {
    // The log inside the watched folder, rotating often.
    let mut env = Env::new().with("output.rotate_bytes=4096");
    env.output = env.watch.join("out/events.ndjson");
    env.state = env.dir.path().join("state/sluice.db");
    for i in 0..6 {
        env.write(&format!("news/{i}.txt"), article(i));
    }
    env.ingest();
    let out = env.watch.join("out");
    let part = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("events-") && name.len() == "events-".len() + 20 + ".ndjson".len()
        })
        .expect("a rotated part");
    symlink(&env.output, env.path("log.txt")).unwrap();
    symlink(&part, env.path("part.txt")).unwrap();
    symlink(&env.state, env.path("state.txt")).unwrap();
    symlink("../out/events.ndjson", env.path("news/relative.txt")).unwrap();
    std::fs::hard_link(&env.output, env.path("hard.txt")).unwrap();
    // Producer files that only look like rotated logs are ingested.
    std::fs::write(out.join("events-2024.csv"), "甲,乙\n一,二\n").unwrap();
    std::fs::write(out.join("events-.md"), "# 标题\n\n正文一段。\n").unwrap();
    env.ingest();
    let size = std::fs::metadata(&env.output).unwrap().len();
    let events = all_parts(&out);
    let fails = failures(&events);
    for link in ["log.txt", "part.txt", "news/relative.txt", "hard.txt"] {
        assert!(
            fails.contains(&(link.to_string(), "own_file".to_string())),
            "{link}: {fails:?}"
        );
    }
    // The state is outside the folder: its link is refused as leading outside.
    assert!(fails.contains(&("state.txt".to_string(), "outside_watch".to_string())));
    let docs = subjects(&events, "sluice.document.ingested");
    for f in ["out/events-2024.csv", "out/events-.md"] {
        assert!(docs.contains(&f.to_string()), "{f} not ingested: {docs:?}");
    }
    // Nothing feeds the log back into itself: another pass writes nothing.
    env.ingest();
    assert_eq!(std::fs::metadata(&env.output).unwrap().len(), size);
}

/// Every event in the log's rotated parts and its live file, in sequence order.
fn all_parts(dir: &Path) -> Vec<Value> {
    let live = dir.join("events.ndjson");
    let mut parts = log_parts(&live);
    parts.push(live);
    let events: Vec<Value> = parts.iter().flat_map(|p| read_log(p)).collect();
    assert_sequences_gap_free(&events);
    events
}

#[test]
fn fifos_sockets_devices_long_paths_and_bad_names_fail_once_each_and_never_block() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    let mkfifo = std::process::Command::new("mkfifo")
        .arg(env.path("pipe.txt"))
        .status()
        .unwrap();
    assert!(mkfifo.success());
    let _socket = std::os::unix::net::UnixListener::bind(env.path("socket.txt")).unwrap();
    let is_root = running_as_root();
    if is_root {
        let mknod = std::process::Command::new("mknod")
            .arg(env.path("zero.txt"))
            .args(["c", "1", "5"])
            .status()
            .unwrap();
        assert!(mknod.success());
    }
    // A file name that is not UTF-8.
    let bad = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe.txt");
    std::fs::write(env.watch.join(bad), article(3)).unwrap();
    // A folder nested deeper than PATH_MAX (4096 bytes) can hold, made by relative steps.
    let deep = make_deep(&env.watch.join("deep"), 4200);
    env.write("good.txt", article(1));
    let mut expected = vec![
        ("bad-\\xFF\\xFE.txt", "bad_name"),
        ("pipe.txt", "special_file"),
        ("socket.txt", "special_file"),
    ];
    if is_root {
        expected.push(("zero.txt", "special_file"));
    }
    let n = expected.len();
    let events = env.wait_for(Duration::from_secs(30), |e| {
        failures(e).len() > n && subjects(e, "sluice.document.ingested") == ["good.txt"]
    });
    let fails = failures(&events);
    for (path, kind) in &expected {
        assert!(
            fails.contains(&(path.to_string(), kind.to_string())),
            "{path} {kind}: {fails:?}"
        );
    }
    let long: Vec<_> = fails.iter().filter(|(_, k)| k == "path_too_long").collect();
    assert_eq!(long.len(), 1, "{fails:?}");
    assert!(
        long[0].0.starts_with(&deep),
        "{} not under {deep}",
        long[0].0
    );
    // Still serving, and nothing is reported twice: not after a rescan, not after a restart.
    env.write("good2.txt", article(2));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested").len() == 2
    });
    assert!(daemon.stop().0.success());
    let before = env.events().len();
    let daemon = env.start();
    std::thread::sleep(Duration::from_millis(500));
    assert!(daemon.stop().0.success());
    let after = env.final_events();
    assert_eq!(after.len(), before, "{}", summary(&after[before..]));
}

/// Makes folders `base/aaaa…/aaaa…/…` until the path is `len` bytes long, stepping in with
/// relative paths (the kernel refuses the whole path at once); returns its relative form.
fn make_deep(base: &Path, len: usize) -> String {
    std::fs::create_dir_all(base).unwrap();
    let script = format!(
        "import os\nos.chdir({base:?})\nn=len({base:?})\nwhile n < {len}:\n    os.mkdir('d'*200)\n    os.chdir('d'*200)\n    n += 201\nopen('f.txt','w').write('深处的文件。')\n",
        base = base.display().to_string()
    );
    let ok = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3 could not build the deep folder");
    "deep/".to_string()
}
