//! The log is never destroyed, never torn, never written by two writers: with real processes,
//! a lost state, a power cut across rotations (the state's WAL removed after `kill -9`), a second
//! daemon, and a log truncated, deleted or replaced under a running daemon.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::harness::*;
use rand::Rng;
use serde_json::Value;

/// Every event of every part and the live file, in order, checked: each line parses and
/// validates, sequences run 1, 2, 3, … across all files, and each part's first line carries the
/// sequence in its name.
fn whole_log(output: &Path) -> Vec<Value> {
    let mut all = Vec::new();
    for part in log_parts(output) {
        let events = read_log(&part);
        let name = part.file_name().unwrap().to_string_lossy().into_owned();
        let first: u64 = name["events-".len().."events-".len() + 20].parse().unwrap();
        if let Some(e) = events.first() {
            assert_eq!(
                e["sequence"].as_str().unwrap().parse::<u64>().unwrap(),
                first,
                "{name} starts at another sequence"
            );
        }
        all.extend(events);
    }
    all.extend(read_log(output));
    assert_sequences_gap_free(&all);
    all
}

/// Each (path, version) committed once.
fn assert_no_version_twice(events: &[Value]) {
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for doc in of_type(events, "sluice.document.ingested") {
        let key = (
            doc["subject"].as_str().unwrap().to_string(),
            doc["data"]["version"].as_str().unwrap().to_string(),
        );
        *seen.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "versions committed twice: {twice:?}");
}

fn snapshot(files: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    files
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect()
}

/// Whether the state's database file, without its WAL, is whole (SQLite's quick check).
fn database_alone_is_whole(state: &Path) -> bool {
    let copy = state.with_extension("alone");
    if std::fs::copy(state, &copy).is_err() {
        return false;
    }
    let whole = rusqlite::Connection::open(&copy)
        .and_then(|c| c.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)))
        .is_ok_and(|r| r == "ok");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    whole
}

fn run_expecting_failure(env: &Env, sub: &str) -> String {
    let out = env.command(sub).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_lost_or_empty_state_beside_an_existing_log_refuses_to_start_and_cuts_nothing() {
    let env = Env::new().with("output.rotate_bytes=8192");
    for i in 0..12 {
        env.write(&format!("f{i}.txt"), article(i));
    }
    env.ingest();
    let files: Vec<PathBuf> = log_parts(&env.output)
        .into_iter()
        .chain([env.output.clone()])
        .collect();
    assert!(files.len() > 1, "the test wants rotated parts");
    let before = snapshot(&files);

    // The state deleted.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", env.state.display()));
    }
    let err = run_expecting_failure(&env, "ingest");
    assert!(
        err.contains(&env.output.display().to_string())
            && err.contains("never written a log")
            && err.contains("state.file"),
        "{err}"
    );
    assert_eq!(snapshot(&files), before, "nothing was cut or overwritten");

    // An empty file where the state should be (a wrong --state, a failed restore).
    std::fs::write(&env.state, b"").unwrap();
    run_expecting_failure(&env, "ingest");
    // A daemon, too.
    let out = env.command("run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(snapshot(&files), before);
    let events = whole_log(&env.output);
    assert_no_version_twice(&events);
}

#[test]
fn kill_9_across_rotations_with_the_states_wal_removed_keeps_every_committed_line() {
    let env = Env::new()
        .with("output.rotate_bytes=6000")
        .with("pipeline.group_commit_max=4");
    for i in 0..120 {
        env.write(&format!("d{}/f{i}.txt", i % 5), article(i));
    }
    let mut rng = test_rng();
    let mut committed: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let mut landed = 0;
    let mut recoveries: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..6 {
        if round > 0 {
            for k in 0..40 {
                let i = (round * 17 + k * 3) % 120;
                env.write(&format!("d{}/f{i}.txt", i % 5), article(1000 * round + i));
            }
        }
        let mut child = env
            .command("ingest")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Killed once it has started committing, at a random moment after.
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut stderr, &mut line).unwrap_or(0) > 0 {
            if line.contains("dedup index loaded") {
                break;
            }
            line.clear();
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        if child.try_wait().unwrap().is_none() {
            landed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // A power cut: whatever the state had not checkpointed is gone. (Unless the kill landed
        // in the middle of a checkpoint: then the database file alone is half written, a state
        // no power cut leaves, since SQLite keeps the WAL until the checkpoint is complete; the
        // round is then a plain crash.)
        if database_alone_is_whole(&env.state) {
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", env.state.display()));
            }
        } else {
            *recoveries
                .entry("kill mid-checkpoint: WAL kept")
                .or_default() += 1;
        }
        // The next start recovers and finishes the work.
        let out = env.ingest();
        let said = String::from_utf8_lossy(&out.stderr);
        for (what, needle) in [
            ("cut", "uncommitted bytes off the end"),
            ("finished", "finished a log rotation"),
            ("rolled back", "rolled back a log rotation"),
        ] {
            if said.contains(needle) {
                *recoveries.entry(what).or_default() += 1;
            }
        }
        let events = whole_log(&env.output);
        assert_versions_contiguous(&events);
        assert_no_version_twice(&events);
        for (part, bytes) in &committed {
            assert_eq!(
                &std::fs::read(part).unwrap_or_default(),
                bytes,
                "committed part {} changed (round {round})",
                part.display()
            );
        }
        committed = snapshot(&log_parts(&env.output));
    }
    eprintln!("{landed} of 6 kills landed mid-run; recoveries: {recoveries:?}");
    assert!(committed.len() > 3, "the test wants rotations");
    // Every file's current version is in the log.
    let events = whole_log(&env.output);
    let versions: std::collections::HashSet<(String, String)> =
        of_type(&events, "sluice.document.ingested")
            .iter()
            .map(|d| {
                (
                    d["subject"].as_str().unwrap().to_string(),
                    d["data"]["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    for i in 0..120 {
        let path = format!("d{}/f{i}.txt", i % 5);
        let sha = sluice::detect::sha256_file(&env.path(&path)).unwrap();
        assert!(versions.contains(&(path.clone(), sha)), "{path} missing");
    }
}

#[test]
fn a_second_daemon_with_another_state_cannot_touch_the_log() {
    let env = Env::new().with("watch.settle_ms=30");
    let daemon = env.start();
    env.write("a.txt", article(1));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested") == ["a.txt"]
    });
    let mut other = Env::new();
    other.output = env.output.clone();
    let out = other.command("run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another sluice writes the event log"), "{err}");
    let out = other.command("ingest").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The first goes on as if nothing happened.
    env.write("b.txt", article(2));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested").len() == 2
    });
    assert!(daemon.stop().0.success());
    let events = env.final_events();
    assert_sequences_gap_free(&events);
    assert_versions_contiguous(&events);
}

/// Waits for the daemon to exit; returns its exit code.
fn wait_exit(daemon: &mut Daemon, within: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            start.elapsed() < within,
            "the daemon did not stop:\n{}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_log_truncated_under_the_daemon_stops_it_without_writing_a_hole() {
    let env = Env::new().with("watch.settle_ms=30");
    let mut daemon = env.start();
    env.write("a.txt", article(1));
    env.wait_for(Duration::from_secs(20), |e| {
        subjects(e, "sluice.document.ingested") == ["a.txt"]
    });
    // logrotate's copytruncate.
    std::fs::copy(&env.output, env.dir.path().join("copy.ndjson")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&env.output)
        .unwrap()
        .set_len(0)
        .unwrap();
    env.write("b.txt", article(2));
    assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(1));
    let err = daemon.stderr();
    assert!(
        err.contains(&env.output.display().to_string()) && err.contains("truncated"),
        "{err}"
    );
    let bytes = std::fs::read(&env.output).unwrap();
    assert!(!bytes.contains(&0), "a hole of NULs was written");
    assert!(bytes.is_empty(), "nothing was written after the truncation");
    // Status says so, and the next start refuses instead of cutting or appending.
    let status = env.command("status").output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("UNHEALTHY"), "{text}");
    let err = run_expecting_failure(&env, "ingest");
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn a_log_deleted_or_replaced_under_the_daemon_stops_it() {
    for replace in [false, true] {
        let env = Env::new().with("watch.settle_ms=30");
        let mut daemon = env.start();
        env.write("a.txt", article(1));
        env.wait_for(Duration::from_secs(20), |e| {
            subjects(e, "sluice.document.ingested") == ["a.txt"]
        });
        let kept = std::fs::read(&env.output).unwrap();
        std::fs::remove_file(&env.output).unwrap();
        if replace {
            std::fs::write(&env.output, b"").unwrap();
        }
        // Noticed even with nothing to write.
        assert_eq!(wait_exit(&mut daemon, Duration::from_secs(10)), Some(1));
        let err = daemon.stderr();
        assert!(
            err.contains(&env.output.display().to_string())
                && (err.contains("deleted") || err.contains("replaced")),
            "{err}"
        );
        // Nothing went into a file nobody can see: the next start refuses until the log is
        // put back, then catches up.
        env.write("b.txt", article(2));
        run_expecting_failure(&env, "ingest");
        if replace {
            std::fs::remove_file(&env.output).unwrap();
        }
        std::fs::write(&env.output, &kept).unwrap();
        env.ingest();
        let events = env.final_events();
        assert_eq!(
            subjects(&events, "sluice.document.ingested"),
            ["a.txt", "b.txt"]
        );
        assert_sequences_gap_free(&events);
    }
}
