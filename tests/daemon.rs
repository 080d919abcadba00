//! The daemon's guarantees, checked on the real binary: every change seen once, nothing else.

mod common;

use std::fs;
use std::io::Write;
use std::time::{Duration, Instant};

use common::harness::*;

const T: Duration = Duration::from_secs(20);

fn ingested_count(events: &[serde_json::Value], subject: &str) -> usize {
    of_type(events, "sluice.document.ingested")
        .iter()
        .filter(|e| e["subject"] == subject)
        .count()
}

#[test]
fn a_file_dropped_into_a_running_daemon_gives_added_segments_and_ingested() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    env.write("news/page.txt", article(1));
    let events = env.wait_for(T, |e| ingested_count(e, "news/page.txt") == 1);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"sluice.file.added"));
    assert_eq!(kinds.last(), Some(&"sluice.document.ingested"));
    let segments = of_type(&events, "sluice.segment");
    assert!(!segments.is_empty());
    assert!(segments.iter().all(|s| s["subject"] == "news/page.txt"));
    let added = &events[0]["data"];
    assert_eq!(added["size"], article(1).len());
    assert_eq!(added["sha256"].as_str().unwrap().len(), 64);
    let (status, took) = daemon.stop();
    assert!(status.success(), "exit {status}");
    assert!(took < Duration::from_secs(10));
    assert_sequences_gap_free(&env.events());
}

#[test]
fn ingest_processes_a_filled_folder_and_exits_0_and_a_second_pass_emits_nothing() {
    let env = Env::new();
    for i in 0..30 {
        env.write(&format!("d{}/f{i}.txt", i % 3), article(i));
    }
    env.ingest();
    let events = env.events();
    assert_eq!(of_type(&events, "sluice.document.ingested").len(), 30);
    assert_eq!(of_type(&events, "sluice.file.added").len(), 30);
    assert_versions_contiguous(&events);
    assert_sequences_gap_free(&events);
    env.ingest();
    assert_eq!(
        env.events().len(),
        events.len(),
        "nothing changed, nothing emitted"
    );
}

#[test]
fn touch_edit_rename_delete_each_give_exactly_their_event() {
    let env = Env::new().with("watch.settle_ms=50");
    env.write("a.txt", article(1));
    let daemon = env.start();
    let base = env.wait_for(T, |e| ingested_count(e, "a.txt") == 1).len();

    // touch: no events at all
    let f = fs::File::options()
        .write(true)
        .open(env.path("a.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(3))
        .unwrap();
    drop(f);
    let events = env.wait_quiet(Duration::from_millis(600));
    assert_eq!(
        events.len(),
        base,
        "touch emitted:\n{}",
        summary(&events[base..])
    );

    // edit: changed, with the previous sha256
    let old_sha = events[0]["data"]["sha256"].clone();
    env.write("a.txt", article(2));
    let events = env.wait_for(T, |e| ingested_count(e, "a.txt") == 2);
    let changed = of_type(&events, "sluice.file.changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["data"]["previous_sha256"], old_sha);
    let doc = of_type(&events, "sluice.document.ingested")[1];
    assert_eq!(doc["data"]["previous_version"], old_sha);

    // rename: moved, nothing reprocessed
    let before = events.len();
    fs::rename(env.path("a.txt"), env.path("b.txt")).unwrap();
    env.wait_for(T, |e| !of_type(e, "sluice.file.moved").is_empty());
    let events = env.wait_quiet(Duration::from_millis(500));
    assert_eq!(events.len(), before + 1, "{}", summary(&events[before..]));
    let moved = &events[before];
    assert_eq!(moved["data"]["from"], "a.txt");
    assert_eq!(moved["data"]["to"], "b.txt");
    assert_eq!(moved["subject"], "b.txt");

    // delete: removed, with the file's segments retracted
    fs::remove_file(env.path("b.txt")).unwrap();
    let events = env.wait_for(T, |e| !of_type(e, "sluice.file.removed").is_empty());
    let removed = of_type(&events, "sluice.file.removed")[0];
    assert_eq!(removed["subject"], "b.txt");
    let last_doc = of_type(&events, "sluice.document.ingested")[1];
    let segment_count = last_doc["data"]["counts"]["segments"].as_u64().unwrap() as usize;
    assert_eq!(
        removed["data"]["retracted"].as_array().unwrap().len(),
        segment_count
    );

    assert!(daemon.stop().0.success());
    assert_versions_contiguous(&env.final_events());
    assert_sequences_gap_free(&env.final_events());
}

#[test]
fn an_atomic_save_is_one_change_and_the_temp_file_is_never_ingested() {
    let env = Env::new().with("watch.settle_ms=100");
    env.write("doc.txt", article(1));
    let daemon = env.start();
    env.wait_for(T, |e| ingested_count(e, "doc.txt") == 1);
    // An editor's save: write a temp file beside it, then rename over.
    env.write("doc.txt.new", article(2));
    fs::rename(env.path("doc.txt.new"), env.path("doc.txt")).unwrap();
    env.write(".doc.txt.swp", "vim swap");
    env.write("doc.txt~", "backup");
    env.wait_for(T, |e| ingested_count(e, "doc.txt") == 2);
    let events = env.wait_quiet(Duration::from_millis(500));
    assert_eq!(of_type(&events, "sluice.file.changed").len(), 1);
    for e in &events {
        let s = e["subject"].as_str().unwrap();
        assert_eq!(s, "doc.txt", "unexpected event for {s}: {}", e["type"]);
    }
    assert!(daemon.stop().0.success());
}

#[test]
fn a_file_written_in_20_chunks_over_2_seconds_is_processed_once_when_complete() {
    let env = Env::new().with("watch.settle_ms=200");
    let daemon = env.start();
    let full: String = (0..20)
        .map(|i| format!("第{i}段,慢慢写入的内容。\n\n"))
        .collect();
    let mut f = fs::File::create(env.path("slow.txt")).unwrap();
    for i in 0..20 {
        f.write_all(format!("第{i}段,慢慢写入的内容。\n\n").as_bytes())
            .unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(f);
    env.wait_for(T, |e| ingested_count(e, "slow.txt") == 1);
    let events = env.wait_quiet(Duration::from_millis(800));
    assert_eq!(
        ingested_count(&events, "slow.txt"),
        1,
        "{}",
        summary(&events)
    );
    assert_eq!(
        of_type(&events, "sluice.file.added")[0]["data"]["size"],
        full.len()
    );
    assert_eq!(of_type(&events, "sluice.segment").len(), 20);
    assert!(daemon.stop().0.success());
}

#[test]
fn changes_made_while_stopped_are_caught_up_and_nothing_committed_is_emitted_again() {
    let env = Env::new();
    env.write("keep.txt", article(1));
    env.write("edit.txt", article(2));
    env.write("gone.txt", article(3));
    env.write("move-me.txt", article(4));
    env.ingest();
    let first = env.events().len();

    env.write("edit.txt", article(20));
    fs::remove_file(env.path("gone.txt")).unwrap();
    fs::rename(env.path("move-me.txt"), env.path("moved.txt")).unwrap();
    env.write("new.txt", article(5));

    let daemon = env.start();
    env.wait_for(T, |e| {
        e[first..]
            .iter()
            .filter(|x| x["type"].as_str().unwrap().starts_with("sluice.file."))
            .count()
            >= 4
    });
    let events = env.wait_quiet(Duration::from_millis(700));
    let later = &events[first..];
    let mut seen: Vec<String> = later
        .iter()
        .filter(|e| e["type"] != "sluice.segment" && e["type"] != "sluice.document.ingested")
        .map(|e| {
            format!(
                "{} {}",
                e["type"].as_str().unwrap(),
                e["subject"].as_str().unwrap()
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "sluice.file.added new.txt",
            "sluice.file.changed edit.txt",
            "sluice.file.moved moved.txt",
            "sluice.file.removed gone.txt",
        ]
    );
    assert!(daemon.stop().0.success());
    env.start().stop();
    assert_eq!(
        env.events().len(),
        events.len(),
        "a restart re-emitted committed events"
    );
    assert_sequences_gap_free(&env.events());
}

#[test]
fn a_nested_folder_created_and_filled_at_once_is_not_missed() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    fs::create_dir_all(env.path("a/b/c")).unwrap();
    env.write("a/b/c/f.txt", "x");
    fs::create_dir_all(env.path("p/q")).unwrap();
    env.write("p/q/g.txt", "y");
    env.wait_for(T, |e| {
        ingested_count(e, "a/b/c/f.txt") == 1 && ingested_count(e, "p/q/g.txt") == 1
    });
    // A folder moved in from outside brings its files; a folder removed takes them.
    let outside = env.dir.path().join("outside");
    fs::create_dir_all(outside.join("deep")).unwrap();
    fs::write(outside.join("deep/h.txt"), "h").unwrap();
    fs::rename(&outside, env.path("moved-in")).unwrap();
    env.wait_for(T, |e| ingested_count(e, "moved-in/deep/h.txt") == 1);
    fs::remove_dir_all(env.path("a")).unwrap();
    env.wait_for(T, |e| subjects(e, "sluice.file.removed") == ["a/b/c/f.txt"]);
    assert!(daemon.stop().0.success());
}

#[test]
fn a_stopped_daemon_catches_up_5000_files_created_while_it_was_frozen() {
    let env = Env::new().with("watch.settle_ms=50");
    let daemon = env.start();
    daemon.signal("STOP");
    for i in 0..5000 {
        env.write(
            &format!("burst/{}/f{i}.txt", i % 50),
            format!("文件{i}的内容。\n"),
        );
    }
    daemon.signal("CONT");
    env.wait_for(Duration::from_secs(120), |e| {
        of_type(e, "sluice.document.ingested").len() >= 5000
    });
    let events = env.wait_quiet(Duration::from_millis(1000));
    let mut docs = subjects(&events, "sluice.document.ingested");
    assert_eq!(docs.len(), 5000);
    docs.sort();
    docs.dedup();
    assert_eq!(docs.len(), 5000, "a file was ingested twice");
    assert_sequences_gap_free(&events);
    assert_versions_contiguous(&events);
    assert!(daemon.stop().0.success());
}

#[test]
fn a_gbk_copy_of_the_sample_page_decodes_to_the_same_text() {
    let env = Env::new();
    let page = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/seeds/000_ba3ce05b4ae51aa8.txt"
    ))
    .unwrap();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&page);
    assert!(!unmappable);
    env.write("utf8.txt", &page);
    env.write("gbk.txt", &gbk);
    env.ingest();
    let events = env.events();
    let texts = |subject: &str| -> Vec<String> {
        of_type(&events, "sluice.segment")
            .iter()
            .filter(|e| e["subject"] == subject)
            .map(|e| e["data"]["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!texts("utf8.txt").is_empty());
    assert_eq!(texts("utf8.txt"), texts("gbk.txt"));
    let docs = of_type(&events, "sluice.document.ingested");
    let encoding =
        |s: &str| docs.iter().find(|d| d["subject"] == s).unwrap()["data"]["encoding"].clone();
    assert_eq!(encoding("utf8.txt"), "utf-8");
    assert!(encoding("gbk.txt") == "gbk" || encoding("gbk.txt") == "gb18030");
}

#[test]
fn the_log_rotates_and_sequences_continue_across_files() {
    let env = Env::new().with("output.rotate_bytes=8192");
    for i in 0..20 {
        env.write(&format!("f{i}.txt"), article(i));
    }
    env.ingest();
    env.write("late.txt", article(99));
    env.ingest();
    let out_dir = env.output.parent().unwrap();
    let mut rotated: Vec<_> = fs::read_dir(out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("events-")
        })
        .collect();
    rotated.sort();
    assert!(!rotated.is_empty(), "nothing rotated");
    let mut all = Vec::new();
    for p in &rotated {
        let lines = read_log(p);
        let first: u64 = lines[0]["sequence"].as_str().unwrap().parse().unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(name, format!("events-{first:020}.ndjson"));
        all.extend(lines);
    }
    all.extend(env.events());
    assert_sequences_gap_free(&all);
    assert_eq!(of_type(&all, "sluice.document.ingested").len(), 21);
}

#[test]
fn status_reports_the_state_and_a_healthy_log() {
    let env = Env::new();
    env.write("a.txt", article(1));
    env.ingest();
    let out = env.command("status").arg("--json").output().unwrap();
    assert!(out.status.success());
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["files_tracked"], 1);
    assert_eq!(s["log_health"], "ok");
    assert_eq!(s["last_sequence"], env.events().len());
    assert_eq!(s["daemon_running"], false);
    // A torn tail (as a crash leaves it) is reported, then cut at the next start.
    fs::OpenOptions::new()
        .append(true)
        .open(&env.output)
        .unwrap()
        .write_all(b"{\"torn")
        .unwrap();
    let out = env.command("status").arg("--json").output().unwrap();
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["log_health"], "uncommitted_tail");
    env.ingest();
    assert_eq!(
        env.events().len(),
        s["last_sequence"].as_u64().unwrap() as usize
    );
    let text = env.command("status").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("log health     ok"));
}

#[test]
fn a_bad_setting_exits_2_naming_the_setting_and_the_allowed_values() {
    let env = Env::new().with("output.fsync=sometimes");
    let out = env.command("ingest").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("output.fsync") && err.contains("always, interval, never"),
        "{err}"
    );

    let env = Env::new();
    let out = env
        .command("ingest")
        .env("SLUICE_WATCH_SETTLE_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLUICE_WATCH_SETTLE_MS"));

    let mut env = Env::new();
    env.watch = env.dir.path().join("missing");
    let out = env.command("ingest").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("watch.dir"));
}

#[test]
fn a_second_daemon_on_the_same_state_is_refused() {
    let env = Env::new();
    let daemon = env.start();
    let out = env.command("ingest").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another sluice"));
    assert!(daemon.stop().0.success());
}

#[test]
fn sigint_stops_the_daemon_with_exit_0_within_10_seconds() {
    let env = Env::new().with("watch.settle_ms=20");
    let daemon = env.start();
    for i in 0..300 {
        env.write(&format!("f{i}.txt"), article(i));
    }
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    daemon.signal("INT");
    let mut daemon = daemon;
    let status = loop {
        if let Some(s) = daemon.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit within 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    // What was committed is whole; the rest is picked up at the next start.
    assert_versions_contiguous(&env.events());
    env.ingest();
    let events = env.events();
    assert_eq!(of_type(&events, "sluice.document.ingested").len(), 300);
    assert_sequences_gap_free(&events);
}

#[test]
fn every_fsync_policy_commits_the_same_events() {
    let mut counts = Vec::new();
    for policy in ["always", "interval", "never"] {
        let env = Env::new()
            .with(&format!("output.fsync={policy}"))
            .with("output.fsync_interval_ms=50")
            .with("watch.settle_ms=30");
        for i in 0..20 {
            env.write(&format!("f{i}.txt"), article(i));
        }
        env.ingest();
        let daemon = env.start();
        env.write("late.txt", article(99));
        env.wait_for(T, |e| ingested_count(e, "late.txt") == 1);
        assert!(daemon.stop().0.success());
        let events = env.events();
        assert_sequences_gap_free(&events);
        let out = env.command("status").arg("--json").output().unwrap();
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(s["log_health"], "ok", "{policy}");
        counts.push(events.len());
    }
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}

#[test]
fn reverting_and_redoing_an_edit_or_re_adding_a_file_never_repeats_an_event_id() {
    let env = Env::new();
    for content in [article(1), article(2), article(1), article(2)] {
        env.write("a.txt", content);
        env.ingest();
    }
    for _ in 0..2 {
        env.write("r.txt", article(7));
        env.ingest();
        fs::remove_file(env.path("r.txt")).unwrap();
        env.ingest();
    }
    let events = env.events();
    assert_eq!(of_type(&events, "sluice.file.changed").len(), 3);
    assert_eq!(of_type(&events, "sluice.file.removed").len(), 2);
    assert_ids_unique(&events);
}

#[test]
fn the_log_and_state_inside_the_watched_folder_are_never_ingested_however_spelled() {
    let mut env = Env::new().with("watch.settle_ms=30");
    let twisted = env.watch.join("..").join("watch");
    env.output = twisted.join("ev.ndjson");
    env.state = twisted.join("state.db");
    let daemon = env.start();
    env.write("a.txt", article(1));
    env.wait_for(T, |e| ingested_count(e, "a.txt") == 1);
    let events = env.wait_quiet(Duration::from_millis(600));
    for e in &events {
        assert_eq!(
            e["subject"], "a.txt",
            "sluice ingested its own file: {}",
            e["subject"]
        );
    }
    assert!(daemon.stop().0.success());
}

#[test]
fn a_file_dated_far_in_the_future_is_ingested() {
    let env = Env::new();
    env.write("future.txt", article(1));
    env.write("ok.txt", article(2));
    let f = fs::File::options()
        .write(true)
        .open(env.path("future.txt"))
        .unwrap();
    let year_2300 = std::time::UNIX_EPOCH + Duration::from_secs(10_413_792_000);
    f.set_modified(year_2300).unwrap();
    drop(f);
    env.ingest();
    let events = env.events();
    assert_eq!(ingested_count(&events, "future.txt"), 1);
    assert_eq!(ingested_count(&events, "ok.txt"), 1);
}

#[test]
fn a_slow_file_does_not_hold_back_the_files_after_it() {
    let env = Env::new()
        .with("watch.settle_ms=50")
        .with("pipeline.workers=2");
    let _daemon = env.start();
    // A large page takes far longer to segment and extract than a small one: about 1 MB, so
    // that even a release build is still busy with it when the small files come in.
    let big: String = (0..6000).map(common::harness::article).collect();
    assert!(big.len() > 1_000_000);
    env.write("big.txt", &big);
    std::thread::sleep(Duration::from_millis(150));
    for i in 0..5 {
        env.write(
            &format!("small{i}.txt"),
            common::harness::article(10_000 + i),
        );
    }
    let events = env.wait_for(Duration::from_secs(120), |e| {
        subjects(e, "sluice.document.ingested").len() == 6
    });
    let order = subjects(&events, "sluice.document.ingested");
    let big_at = order.iter().position(|s| s == "big.txt").unwrap();
    assert_eq!(
        big_at, 5,
        "the small files, dropped after the big one, are committed before it: {order:?}"
    );
    // The big file's events are still one contiguous block.
    common::harness::assert_versions_contiguous(&events);
}

#[test]
fn a_file_moved_into_a_folder_created_for_it_is_one_move() {
    let env = Env::new().with("watch.settle_ms=80");
    let _daemon = env.start();
    let mut current = "start.txt".to_string();
    env.write(&current, common::harness::article(1));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested").len() == 1
    });
    for i in 0..12 {
        // A new nested folder, and the file renamed into it right away: the new name is found
        // by the walk of the new folder, the old one by its own notification.
        let dir = format!("n{i}/deep");
        fs::create_dir_all(env.path(&dir)).unwrap();
        let next = format!("{dir}/f{i}.txt");
        fs::rename(env.path(&current), env.path(&next)).unwrap();
        env.wait_for(Duration::from_secs(20), |e| {
            subjects(e, "sluice.file.moved").len() == i + 1
                || !subjects(e, "sluice.file.removed").is_empty()
        });
        let events = env.wait_quiet(Duration::from_millis(300));
        assert_eq!(
            subjects(&events, "sluice.file.removed").len(),
            0,
            "move {i} came out as a removal:\n{}",
            summary(&events)
        );
        assert_eq!(subjects(&events, "sluice.file.added").len(), 1);
        current = next;
    }
}
