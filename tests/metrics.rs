//! The operations endpoint on the real binary: `/metrics` tells what the daemon did, `/healthz`
//! says it is serving, and a bad `metrics.addr` is refused with exit 2.

mod common;

use std::fs;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::harness::*;

const T: Duration = Duration::from_secs(20);

const STAGES: [&str; 7] = [
    "read",
    "decode",
    "segment",
    "extract",
    "dedup",
    "dedup_lookup",
    "commit",
];

/// The samples of a scrape: (name, labels as written between the braces, value).
fn parse(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}').unwrap_or_else(|| panic!("{l}"))),
                None => (series, ""),
            };
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {l}")),
            };
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

fn value(samples: &[(String, String, f64)], name: &str, labels: &str) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && l == labels)
        .map(|s| s.2)
}

fn sum_of(samples: &[(String, String, f64)], name: &str) -> f64 {
    samples
        .iter()
        .filter(|(n, ..)| n == name)
        .map(|s| s.2)
        .sum()
}

fn log_size(env: &Env) -> f64 {
    fs::metadata(&env.output).map(|m| m.len()).unwrap_or(0) as f64
}

#[test]
fn metrics_report_what_the_daemon_did_and_healthz_says_it_serves() {
    let env = Env::new().with("watch.settle_ms=50");
    let port = free_port();
    let daemon = env.start_with(&["--metrics", &format!("127.0.0.1:{port}")]);
    daemon.wait_log(&format!("metrics listening on 127.0.0.1:{port}"), T);

    for i in 0..3 {
        env.write(&format!("news/page{i}.txt"), article(i + 1));
    }
    env.write(
        "image.bin",
        [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ],
    );
    let events = env.wait_for(T, |e| {
        of_type(e, "sluice.document.ingested").len() == 3
            && of_type(e, "sluice.document.failed").len() == 1
    });
    let failed = of_type(&events, "sluice.document.failed");
    assert_eq!(failed[0]["data"]["error"]["kind"], "not_text");

    // The counters are bumped right after the commit that wrote the lines: poll briefly.
    let start = Instant::now();
    let (head, samples) = loop {
        let (status, head, body) = http(port, "GET", "/metrics");
        assert_eq!(status, 200, "{head}\n{body}");
        let samples = parse(&body);
        let settled = value(&samples, "sluice_versions_ingested_total", "") == Some(3.0)
            && value(&samples, "sluice_log_bytes_total", "") == Some(log_size(&env))
            && value(&samples, "sluice_in_flight_bytes", "") == Some(0.0);
        if settled {
            break (head, samples);
        }
        assert!(start.elapsed() < T, "metrics never caught up:\n{body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );

    let v = |name: &str, labels: &str| {
        value(&samples, name, labels).unwrap_or_else(|| panic!("no {name}{{{labels}}}"))
    };
    assert!(v("sluice_files_seen_total", "") >= 4.0);
    assert_eq!(v("sluice_versions_ingested_total", ""), 3.0);
    assert_eq!(v("sluice_failures_total", "kind=\"not_text\""), 1.0);
    assert_eq!(sum_of(&samples, "sluice_failures_total"), 1.0);
    assert_eq!(
        v("sluice_events_total", "type=\"sluice.document.ingested\""),
        3.0
    );
    assert_eq!(
        sum_of(&samples, "sluice_events_total"),
        env.events().len() as f64,
        "every line of the log is counted once"
    );
    assert!(v("sluice_commits_total", "") >= 1.0);
    assert_eq!(v("sluice_log_bytes_total", ""), log_size(&env));
    assert_eq!(v("sluice_log_size_bytes", ""), log_size(&env));
    assert_eq!(v("sluice_tracked_files", ""), 4.0);
    assert_eq!(v("sluice_healthy", ""), 1.0);
    for queue in ["detect", "process", "commit"] {
        assert!(v("sluice_queue_depth", &format!("queue=\"{queue}\"")) >= 0.0);
    }

    for stage in STAGES {
        let label = format!("stage=\"{stage}\"");
        let count = v("sluice_stage_seconds_count", &label);
        assert!(count > 0.0, "stage {stage} was never observed");
        assert!(v("sluice_stage_seconds_sum", &label) >= 0.0);
        let buckets: Vec<(&str, f64)> = samples
            .iter()
            .filter(|(n, l, _)| {
                n == "sluice_stage_seconds_bucket" && l.starts_with(&format!("{label},le="))
            })
            .map(|(_, l, x)| (l.rsplit_once("le=").unwrap().1, *x))
            .collect();
        assert_eq!(buckets.len(), 15, "{stage}: {buckets:?}");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{stage}: buckets not cumulative: {buckets:?}"
        );
        assert_eq!(buckets.last().unwrap(), &("\"+Inf\"", count), "{stage}");
    }
    // Every text version and the binary file went through decode.
    assert!(v("sluice_stage_seconds_count", "stage=\"decode\"") >= 4.0);
    assert!(v("sluice_stage_seconds_count", "stage=\"read\"") >= 4.0);

    let (status, _, body) = http(port, "GET", "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, _) = http(port, "GET", "/nope");
    assert_eq!(status, 404);
    let (status, head, _) = http(port, "POST", "/metrics");
    assert_eq!(status, 405, "{head}");
    let (status, head, body) = http(port, "HEAD", "/metrics");
    assert_eq!(status, 200);
    assert!(
        body.is_empty() && head.contains("Content-Length: "),
        "{head}"
    );

    let (status, _) = daemon.stop();
    assert!(status.success(), "exit {status}");
}

#[test]
fn a_metrics_address_that_cannot_be_used_exits_2_naming_metrics_addr() {
    let env = Env::new();
    let out = env
        .command("run")
        .args(["--metrics", "nonsense"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("metrics.addr") && stderr.contains("127.0.0.1:9464"),
        "{stderr}"
    );

    // The port is taken: same exit, the message says which setting and why.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = env
        .command("ingest")
        .arg("--metrics")
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("metrics.addr") && stderr.contains("cannot listen"),
        "{stderr}"
    );
    drop(taken);

    // Off by default: nothing listens.
    let out = env.ingest();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("metrics listening"));
}

#[test]
fn healthz_answers_while_a_client_holds_every_idle_connection_it_can() {
    let env = Env::new().with("watch.settle_ms=50");
    let port = free_port();
    let daemon = env.start_with(&["--metrics", &format!("127.0.0.1:{port}")]);
    daemon.wait_log(&format!("metrics listening on 127.0.0.1:{port}"), T);
    // A client opens connections and never sends a request: more than the endpoint serves at once.
    let idle: Vec<std::net::TcpStream> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(idle.len() >= 80, "only {} connections opened", idle.len());
    std::thread::sleep(Duration::from_millis(200));
    let mut ok = 0;
    for _ in 0..19 {
        let (status, _, body) = http(port, "GET", "/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        ok += 1;
    }
    assert_eq!(ok, 19);
    drop(idle);
    assert!(daemon.stop().0.success());
}
