//! kill -9 at random moments: the log never keeps a torn line or an uncommitted batch, and every
//! file version is committed exactly once.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::harness::*;
use rand::Rng;

#[test]
fn kill_9_at_random_moments_during_a_500_file_ingest_loses_and_repeats_nothing() {
    let env = Env::new();
    for i in 0..500 {
        env.write(&format!("d{}/f{i}.txt", i % 7), article(i));
    }
    let mut rng = test_rng();
    let mut kills = 0;
    for round in 0..5 {
        // Change a few files between rounds, so restarts also see edits and removals.
        if round > 0 {
            env.write(&format!("d0/f{}.txt", round * 7), article(1000 + round));
        }
        let mut child = env
            .command("ingest")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(5..150)));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whatever the kill left must still be a clean prefix after the next start.
    }
    eprintln!("{kills} of 5 kills landed mid-run");
    env.ingest();
    let events = env.final_events();
    assert_sequences_gap_free(&events);
    assert_versions_contiguous(&events);
    assert_ids_unique(&events);

    // Each version (path, sha256) is committed exactly once.
    let mut versions: HashMap<(String, String), usize> = HashMap::new();
    for doc in of_type(&events, "sluice.document.ingested") {
        let key = (
            doc["subject"].as_str().unwrap().to_string(),
            doc["data"]["version"].as_str().unwrap().to_string(),
        );
        *versions.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = versions.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "versions emitted twice: {repeated:?}");

    // And the last version of every file on disk is among them.
    for i in 0..500 {
        let path = format!("d{}/f{i}.txt", i % 7);
        let sha = sluice::detect::sha256_file(&env.path(&path)).unwrap();
        assert!(
            versions.contains_key(&(path.clone(), sha)),
            "{path} missing its current version"
        );
    }
    // A final pass finds nothing left to do.
    let before = events.len();
    env.ingest();
    assert_eq!(env.events().len(), before);
}

#[test]
fn kill_9_of_the_daemon_mid_burst_then_restart_commits_every_file_once() {
    let env = Env::new().with("watch.settle_ms=30");
    let daemon = env.start();
    for i in 0..400 {
        env.write(&format!("f{i}.txt"), article(i));
    }
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill9();
    let daemon = env.start();
    env.wait_for(Duration::from_secs(60), |e| {
        of_type(e, "sluice.document.ingested").len() >= 400
    });
    let events = env.wait_quiet(Duration::from_millis(500));
    let mut docs = subjects(&events, "sluice.document.ingested");
    docs.sort();
    docs.dedup();
    assert_eq!(docs.len(), 400);
    assert_eq!(of_type(&events, "sluice.document.ingested").len(), 400);
    assert_sequences_gap_free(&events);
    assert!(daemon.stop().0.success());
}
