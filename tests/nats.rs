//! NATS mode against a real nats-server (Debian's 2.9.10; `.ci/run` installs it): watcher nodes,
//! several `sluice worker` processes, `sluice export`, and the failures the mode must survive.

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::harness::{self, of_type, Env};
use serde_json::Value;

/// A nats-server with JetStream on a free loopback port and a temporary store.
struct Server {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
    log: PathBuf,
    /// A server configuration file (for limits), if any.
    config: Option<PathBuf>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(dir: &Path, config: Option<&str>) -> Server {
        let config = config.map(|text| {
            let p = dir.join("nats-server.conf");
            fs::write(&p, text).unwrap();
            p
        });
        let mut s = Server {
            child: None,
            port: free_port(),
            store: dir.join("jetstream"),
            log: dir.join("nats-server.log"),
            config,
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let mut cmd = Command::new("nats-server");
        cmd.args([
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-sd",
        ])
        .arg(&self.store);
        if let Some(conf) = &self.config {
            cmd.arg("-c").arg(conf);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.log)
                    .unwrap(),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start nats-server ({e}): install it (apt-get install -y nats-server)"
                )
            });
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nats-server did not listen on {}:\n{}",
                self.port,
                fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGTERM and wait: the server shuts down cleanly (its store stays).
    /// SIGTERM and wait for the exit.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A sluice process (node, worker) with its stderr in a file.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(mut cmd: Command, log: PathBuf) -> Proc {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("start sluice");
        Proc { child, log }
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str) {
        let start = Instant::now();
        while !self.stderr().contains(needle) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "never logged {needle:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "did not stop on SIGTERM:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether these tests can run: `nats-server` is on PATH. When it is not, each test returns at
/// once and one line says so (with `SLUICE_REQUIRE_NATS=1`, as `.ci/run` sets, it is a failure).
fn nats_server_ready() -> bool {
    static SAID: std::sync::Once = std::sync::Once::new();
    let found = Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("SLUICE_REQUIRE_NATS").is_none(),
            "SLUICE_REQUIRE_NATS is set but nats-server is not on PATH: \
             apt-get install -y nats-server"
        );
        // Straight to stderr, past the test harness's capture: one line whoever runs the tests.
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NATS tests skipped: nats-server is not on PATH (Debian: apt-get install -y \
                 nats-server, then cargo test --test nats; .ci/run installs it and requires it)"
            );
        });
    }
    found
}

struct Cluster {
    env: Env,
    server: Server,
}

impl Cluster {
    fn new() -> Cluster {
        Cluster::with_server_config(None)
    }

    fn with_server_config(config: Option<&str>) -> Cluster {
        let env = Env::new()
            .with("watch.settle_ms=50")
            .with("nats.ack_wait_ms=2000")
            .with("pipeline.workers=1");
        let server = Server::start(env.dir.path(), config);
        Cluster { env, server }
    }

    fn command(&self, sub: &str, extra: &[&str]) -> Command {
        let mut cmd = self.env.command(sub);
        cmd.arg("--nats").arg(self.server.url()).args(extra);
        cmd
    }

    fn worker(&self, n: usize) -> Proc {
        self.worker_with(n, &[])
    }

    fn worker_with(&self, n: usize, extra: &[&str]) -> Proc {
        let p = Proc::spawn(
            self.command("worker", extra),
            self.env.dir.path().join(format!("worker-{n}.log")),
        );
        p.wait_log("sluice worker taking jobs");
        p
    }

    /// `sluice run --nats` watching `dir` as `node`, with its own state.
    fn node(&self, node: &str, dir: &Path) -> Proc {
        let state = self.env.dir.path().join(format!("{node}.db"));
        let _ = fs::write(self.env.dir.path().join("none.toml"), "");
        let mut cmd = Command::new(harness::BIN);
        cmd.arg("run")
            .arg("--config")
            .arg(self.env.dir.path().join("none.toml"))
            .arg("--watch")
            .arg(dir)
            .arg("--state")
            .arg(state)
            .args(["--nats", &self.server.url(), "--node", node])
            .env("RUST_LOG", "info");
        for s in &self.env.settings {
            cmd.arg("--set").arg(s);
        }
        let p = Proc::spawn(cmd, self.env.dir.path().join(format!("node-{node}.log")));
        p.wait_log("reconcile scan done");
        p
    }

    /// Runs a one-shot command to its end; it must succeed.
    fn run_ok(&self, sub: &str, extra: &[&str]) {
        let out = self
            .command(sub, extra)
            .output()
            .unwrap_or_else(|e| panic!("run sluice {sub}: {e}"));
        assert!(
            out.status.success(),
            "sluice {sub} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `sluice export` to the end of the stream and reads the whole exported log.
    fn export(&self) -> Vec<Value> {
        self.run_ok("export", &[]);
        harness::read_log(&self.env.output)
    }

    /// Waits past the redelivery delay and exports again: nothing may have been added to
    /// `events`, which must hold every one of `subjects` files exactly once. Returns the export.
    fn nothing_more_after(&self, events: &[Value], subjects: usize) -> Vec<Value> {
        std::thread::sleep(Duration::from_secs(4));
        let after = self.export();
        assert_eq!(
            after.len(),
            events.len(),
            "events after everything was done"
        );
        assert_exactly_once(&after, subjects);
        after
    }

    /// Exports until `done` holds (or panics after `timeout`).
    fn export_until(&self, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let events = self.export();
            if done(&events) {
                return events;
            }
            assert!(
                start.elapsed() < timeout,
                "not done after {timeout:?}: {} events, {} documents",
                events.len(),
                of_type(&events, "sluice.document.ingested").len()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn documents(events: &[Value]) -> usize {
    of_type(events, "sluice.document.ingested").len()
}

/// Every file version once: one file event and one document event per subject, segments of a
/// subject all listed by its document, sequences 1..n, ids unique.
fn assert_exactly_once(events: &[Value], subjects: usize) {
    harness::assert_sequences_gap_free(events);
    harness::assert_ids_unique(events);
    let mut per: HashMap<&str, (usize, usize, usize)> = HashMap::new();
    for e in events {
        let s = e["subject"].as_str().unwrap();
        let entry = per.entry(s).or_default();
        match e["type"].as_str().unwrap() {
            "sluice.file.added" => entry.0 += 1,
            "sluice.document.ingested" => entry.1 += 1,
            "sluice.segment" => entry.2 += 1,
            other => panic!("unexpected {other} for {s}"),
        }
    }
    assert_eq!(per.len(), subjects, "subjects seen");
    for (s, (added, docs, _)) in &per {
        assert_eq!((*added, *docs), (1, 1), "{s}: file/document events");
    }
    for doc in of_type(events, "sluice.document.ingested") {
        let s = doc["subject"].as_str().unwrap();
        let counted = doc["data"]["counts"]["segments"].as_u64().unwrap() as usize;
        assert_eq!(per[s].2, counted, "{s}: segment events vs counts.segments");
    }
}

fn text(i: usize) -> String {
    format!(
        "{}\n第{i}段补充：市场监管部门{i}日通报，抽检合格率达到9{}.{}%。\n",
        harness::article(i),
        i % 10,
        i % 7
    )
}

#[test]
fn three_workers_one_killed_every_version_exactly_once() {
    if !nats_server_ready() {
        return;
    }
    let c = Cluster::new();
    const FILES: usize = 2000;
    for i in 0..FILES {
        c.env.write(&format!("d{}/f{i:04}.txt", i % 20), text(i));
    }
    c.run_ok("ingest", &["--node", "n1"]);
    let mut workers: Vec<Proc> = (0..3).map(|n| c.worker(n)).collect();
    c.export_until(Duration::from_secs(300), |e| documents(e) >= 150);
    workers[0].kill9();
    let events = c.export_until(Duration::from_secs(600), |e| documents(e) >= FILES);
    // Past the redelivery delay: a job the killed worker held must not add anything now.
    let after = c.nothing_more_after(&events, FILES);
    assert!(after
        .iter()
        .all(|e| e["subject"].as_str().unwrap().starts_with("n1/d")));
    for w in &mut workers[1..] {
        w.stop();
    }
}

#[test]
fn server_restart_mid_run_loses_and_repeats_nothing() {
    if !nats_server_ready() {
        return;
    }
    let mut c = Cluster::new();
    // Kept running to the end of the test.
    let _node = c.node("n1", &c.env.watch.clone());
    let _workers: Vec<Proc> = (0..2).map(|n| c.worker(n)).collect();
    // A following export rides through the restart too.
    let followed = c.env.dir.path().join("followed.ndjson");
    let mut follow_cmd = c.command("export", &["--follow"]);
    follow_cmd
        .arg("--set")
        .arg(format!("output.file={}", followed.display()));
    let mut follower = Proc::spawn(follow_cmd, c.env.dir.path().join("follow.log"));
    for i in 0..300 {
        c.env.write(&format!("a{i:03}.txt"), text(i));
    }
    c.export_until(Duration::from_secs(300), |e| documents(e) >= 30);
    c.server.stop();
    // Written while the server is down: the node must hold them until it is back.
    for i in 300..500 {
        c.env.write(&format!("b{i:03}.txt"), text(i));
    }
    std::thread::sleep(Duration::from_secs(2));
    c.server.launch();
    let events = c.export_until(Duration::from_secs(600), |e| documents(e) >= 500);
    let after = c.nothing_more_after(&events, 500);
    let start = Instant::now();
    while harness::read_live_log(&followed).len() < after.len() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the following export stopped at {} of {} lines:\n{}",
            harness::read_live_log(&followed).len(),
            after.len(),
            follower.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    follower.stop();
    assert_eq!(
        fs::read(&followed).unwrap(),
        fs::read(&c.env.output).unwrap(),
        "the followed log equals the one exported at the end"
    );
}

#[test]
fn same_file_on_two_nodes_at_once_is_new_once_and_exact_once() {
    if !nats_server_ready() {
        return;
    }
    let c = Cluster::new();
    let (a, b) = (c.env.dir.path().join("a"), c.env.dir.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let _nodes = [c.node("n1", &a), c.node("n2", &b)];
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let _workers: Vec<Proc> = (0..3)
        .map(|n| match n {
            0 => c.worker_with(n, &["--metrics", &metrics_addr]),
            _ => c.worker(n),
        })
        .collect();
    const PAIRS: usize = 12;
    for i in 0..PAIRS {
        let body = text(1000 + i);
        let tmp = c.env.dir.path().join(format!("tmp{i}"));
        fs::write(&tmp, &body).unwrap();
        fs::copy(&tmp, c.env.dir.path().join(format!("tmp{i}b"))).unwrap();
        fs::rename(&tmp, a.join(format!("p{i}.txt"))).unwrap();
        fs::rename(
            c.env.dir.path().join(format!("tmp{i}b")),
            b.join(format!("p{i}.txt")),
        )
        .unwrap();
    }
    let events = c.export_until(Duration::from_secs(300), |e| documents(e) >= 2 * PAIRS);
    harness::assert_sequences_gap_free(&events);
    harness::assert_ids_unique(&events);
    for i in 0..PAIRS {
        let docs: Vec<&Value> = of_type(&events, "sluice.document.ingested")
            .into_iter()
            .filter(|d| {
                d["data"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/p{i}.txt"))
            })
            .collect();
        assert_eq!(docs.len(), 2, "p{i}: one document per node");
        let status = |d: &Value| d["data"]["dedup"]["status"].as_str().unwrap().to_string();
        let mut statuses: Vec<String> = docs.iter().map(|d| status(d)).collect();
        statuses.sort();
        assert_eq!(statuses, ["exact", "new"], "p{i}: verdicts");
        let (new, exact) = if status(docs[0]) == "new" {
            (docs[0], docs[1])
        } else {
            (docs[1], docs[0])
        };
        assert_eq!(
            exact["data"]["dedup"]["of"], new["data"]["document"],
            "p{i}: the exact copy names the new one"
        );
        let segments_of = |d: &Value| {
            of_type(&events, "sluice.segment")
                .iter()
                .filter(|s| s["subject"] == d["subject"])
                .count()
        };
        assert!(segments_of(new) > 0, "p{i}: the new one has its segments");
        assert_eq!(segments_of(exact), 0, "p{i}: a byte copy has none");
    }
    // Near-copies of three of them, after the fact: whichever worker takes one finds the first
    // through its mirror of the shared signatures (written by any worker).
    let new_doc = |i: usize| -> String {
        of_type(&events, "sluice.document.ingested")
            .into_iter()
            .find(|d| {
                d["data"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/p{i}.txt"))
                    && d["data"]["dedup"]["status"] == "new"
            })
            .map(|d| d["data"]["document"].as_str().unwrap().to_string())
            .unwrap()
    };
    for i in 0..3 {
        let edited = text(1000 + i).replacen("举行", "召开", 1);
        assert_ne!(edited, text(1000 + i));
        fs::write(a.join(format!("near{i}.txt")), edited).unwrap();
    }
    let events = c.export_until(Duration::from_secs(120), |e| documents(e) >= 2 * PAIRS + 3);
    for i in 0..3 {
        let doc = of_type(&events, "sluice.document.ingested")
            .into_iter()
            .find(|d| d["subject"] == format!("n1/near{i}.txt"))
            .unwrap();
        assert_eq!(doc["data"]["dedup"]["status"], "near", "near{i}: {doc}");
        assert_eq!(doc["data"]["dedup"]["of"], new_doc(i).as_str(), "near{i}");
    }
    // The first worker's share, as its metrics endpoint tells it.
    let (status, body) = http_get(&metrics_addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http_get(&metrics_addr, "/metrics");
    assert_eq!(status, 200);
    let value = |name: &str| -> f64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {name} in\n{body}"))
    };
    let acked = value("sluice_jobs_acked_total ");
    let ingested = value("sluice_versions_ingested_total ");
    assert!(acked >= 1.0, "worker 0 acked no job");
    assert!(ingested <= acked && ingested <= (2 * PAIRS) as f64);
    let published = value("sluice_stage_seconds_count{stage=\"publish\"} ");
    assert!(
        published >= 1.0 && published <= acked,
        "publish {published}, acked {acked}"
    );
    assert!(value("sluice_stage_seconds_count{stage=\"decode\"} ") >= ingested);
    assert!(body.contains("sluice_queue_depth{queue=\"jobs\"}"));
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the metrics endpoint");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

/// Replays the exported log as a consumer's mirror of the folder (path → sha256), checking each
/// event against what came before it for its path.
fn replay(events: &[Value]) -> HashMap<String, String> {
    let mut files: HashMap<String, String> = HashMap::new();
    for e in events {
        let subject = e["subject"].as_str().unwrap().to_string();
        let sha = e["data"]["sha256"].as_str().unwrap_or_default().to_string();
        match e["type"].as_str().unwrap() {
            "sluice.file.added" => {
                assert!(
                    files.insert(subject.clone(), sha).is_none(),
                    "{subject} added while present (seq {})",
                    e["sequence"]
                );
            }
            "sluice.file.changed" => {
                assert!(
                    files.insert(subject.clone(), sha).is_some(),
                    "{subject} changed while absent (seq {})",
                    e["sequence"]
                );
            }
            "sluice.file.removed" => {
                assert!(
                    files.remove(&subject).is_some(),
                    "{subject} removed while absent (seq {})",
                    e["sequence"]
                );
            }
            "sluice.file.moved" => {
                let from = e["data"]["from"].as_str().unwrap();
                let had = files.remove(from);
                assert_eq!(
                    had.as_deref(),
                    Some(sha.as_str()),
                    "{from} → {subject}: moved from what (seq {})",
                    e["sequence"]
                );
                files.insert(subject, sha);
            }
            _ => {}
        }
    }
    files
}

fn folder_shas(dir: &Path, node: &str) -> HashMap<String, String> {
    use sha2::{Digest, Sha256};
    let mut out = HashMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let sha = hex::encode(Sha256::digest(fs::read(&p).unwrap()));
                out.insert(format!("{node}/{rel}"), sha);
            }
        }
    }
    out
}

/// Exports until the log stops growing for `quiet`.
fn export_quiet(c: &Cluster, quiet: Duration) -> Vec<Value> {
    let mut last = c.export();
    let mut since = Instant::now();
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = c.export();
        if now.len() != last.len() {
            since = Instant::now();
            last = now;
        } else if since.elapsed() >= quiet {
            return now;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "never quiet");
    }
}

#[test]
fn node_killed_mid_publish_and_rotations_keep_every_path_in_order() {
    if !nats_server_ready() {
        return;
    }
    let mut c = Cluster::new();
    // Files over 2 KiB travel through the object store.
    c.env.settings.push("nats.inline_max_bytes=2048".into());
    let watch = c.env.watch.clone();
    let _workers: Vec<Proc> = (0..2).map(|n| c.worker(n)).collect();
    let mut node = c.node("n1", &watch);
    for i in 0..200 {
        c.env.write(&format!("f{i:03}.txt"), text(i));
    }
    for i in 0..10 {
        let big: String = (0..20).map(|k| text(i * 100 + k)).collect();
        assert!(big.len() > 4096);
        c.env.write(&format!("big{i}.txt"), big);
    }
    std::thread::sleep(Duration::from_millis(400));
    node.kill9();
    // While the node is down: edits, removals, and moves.
    for i in 0..40 {
        let p = watch.join(format!("f{i:03}.txt"));
        fs::write(&p, format!("{}\n追加第{i}段。\n", text(i + 500))).unwrap();
    }
    for i in 40..60 {
        fs::remove_file(watch.join(format!("f{i:03}.txt"))).unwrap();
    }
    for i in 60..70 {
        fs::rename(
            watch.join(format!("f{i:03}.txt")),
            watch.join(format!("moved{i:03}.txt")),
        )
        .unwrap();
    }
    let _node = c.node("n1", &watch);
    // Log rotation while running: the file moves away and a new one takes its name at once,
    // so the new file's first version must wait for the move.
    for k in 0..8 {
        let app = watch.join("app.log");
        if app.exists() {
            fs::rename(&app, watch.join(format!("app.log.{k}"))).unwrap();
        }
        fs::write(
            &app,
            format!("第{k}轮日志：系统运行正常，处理请求{k}万次。\n"),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
    let events = export_quiet(&c, Duration::from_secs(4));
    harness::assert_sequences_gap_free(&events);
    harness::assert_ids_unique(&events);
    let mirror = replay(&events);
    assert_eq!(
        mirror,
        folder_shas(&watch, "n1"),
        "the log's view of the folder"
    );
    let big_docs = of_type(&events, "sluice.document.ingested")
        .into_iter()
        .filter(|d| d["subject"].as_str().unwrap().starts_with("n1/big"))
        .count();
    assert_eq!(big_docs, 10, "files sent through the object store");
    let moved = of_type(&events, "sluice.file.moved").len();
    assert!(moved >= 10, "only {moved} moves seen");
    assert_eq!(
        of_type(&events, "sluice.file.removed").len(),
        20,
        "removals"
    );
}

#[test]
fn bad_nats_settings_say_what_to_do() {
    if !nats_server_ready() {
        return;
    }
    let env = Env::new();
    // No server given: a usage error naming the setting.
    let out = env.command("worker").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nats.url"));
    // A server without JetStream: a runtime error that says how to start it.
    let port = free_port();
    let mut plain = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = env
        .command("worker")
        .args(["--nats", &format!("nats://127.0.0.1:{port}")])
        .output()
        .unwrap();
    let _ = plain.kill();
    let _ = plain.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("without JetStream") && stderr.contains("-js"),
        "{stderr}"
    );
    // A bad node name: exit 2 naming nats.node.
    let out = env
        .command("run")
        .args(["--nats", "nats://127.0.0.1:1", "--node", "a.b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nats.node"));
}

#[test]
fn versions_of_one_path_are_applied_in_order_across_workers() {
    use sha2::{Digest, Sha256};
    if !nats_server_ready() {
        return;
    }
    let c = Cluster::new();
    let watch = c.env.watch.clone();
    let _node = c.node("n1", &watch);
    let mut written = Vec::new();
    for v in 0..12 {
        let body = format!("{}\n第{v}版修订。\n", text(7000 + v));
        written.push(hex::encode(Sha256::digest(body.as_bytes())));
        fs::write(watch.join("hot.txt"), &body).unwrap();
        std::thread::sleep(Duration::from_millis(120));
    }
    // All versions wait in the queue; three workers then take them at once.
    std::thread::sleep(Duration::from_millis(500));
    let _workers: Vec<Proc> = (0..3).map(|n| c.worker(n)).collect();
    let events = export_quiet(&c, Duration::from_secs(3));
    harness::assert_sequences_gap_free(&events);
    let versions: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["subject"] == "n1/hot.txt"
                && matches!(
                    e["type"].as_str(),
                    Some("sluice.file.added" | "sluice.file.changed")
                )
        })
        .collect();
    let shas: Vec<&str> = versions
        .iter()
        .map(|e| e["data"]["sha256"].as_str().unwrap())
        .collect();
    // Each version seen is one written, in the order written, ending with the last.
    let mut at = 0;
    for sha in &shas {
        let pos = written[at..]
            .iter()
            .position(|w| w == sha)
            .unwrap_or_else(|| panic!("{sha} out of order in {shas:?}"));
        at += pos + 1;
    }
    assert_eq!(shas.last().copied(), written.last().map(String::as_str));
    assert!(shas.len() >= 6, "only {} versions seen", shas.len());
    // Each change names the version before it.
    for pair in versions.windows(2) {
        assert_eq!(
            pair[1]["data"]["previous_sha256"],
            pair[0]["data"]["sha256"]
        );
    }
    // Each version's `retracted` is computed against the version before it, whichever worker
    // applied that one: every segment of the previous version is either retracted or present
    // again, and nothing present is retracted.
    let mut previous: std::collections::HashSet<String> = Default::default();
    let mut current: std::collections::HashSet<String> = Default::default();
    let mut docs = 0;
    for e in events.iter().filter(|e| e["subject"] == "n1/hot.txt") {
        match e["type"].as_str().unwrap() {
            "sluice.segment" => {
                current.insert(e["data"]["segment"].as_str().unwrap().to_string());
            }
            "sluice.document.ingested" => {
                let retracted: std::collections::HashSet<String> = e["data"]["retracted"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect();
                assert!(
                    retracted.is_disjoint(&current),
                    "retracted a present segment"
                );
                for id in &previous {
                    assert!(
                        retracted.contains(id) || current.contains(id),
                        "segment {id} of the previous version neither kept nor retracted"
                    );
                }
                assert!(
                    retracted.is_subset(&previous),
                    "retracted what was never there"
                );
                previous = std::mem::take(&mut current);
                docs += 1;
            }
            _ => {}
        }
    }
    assert_eq!(docs, shas.len());
}

#[test]
fn a_node_name_belongs_to_one_state_database() {
    if !nats_server_ready() {
        return;
    }
    let c = Cluster::new();
    let watch = c.env.watch.clone();
    let _first = c.node("n1", &watch);
    let other = c.env.dir.path().join("other");
    fs::create_dir_all(&other).unwrap();
    let _ = fs::write(c.env.dir.path().join("none.toml"), "");
    let out = Command::new(harness::BIN)
        .arg("run")
        .arg("--config")
        .arg(c.env.dir.path().join("none.toml"))
        .arg("--watch")
        .arg(&other)
        .arg("--state")
        .arg(c.env.dir.path().join("other.db"))
        .args(["--nats", &c.server.url(), "--node", "n1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nats.node") && stderr.contains("another state database"),
        "{stderr}"
    );
}

#[test]
fn an_event_over_the_servers_max_payload_fails_its_version() {
    // 128 KiB messages: files over 64 KiB go through the object store, and a 150 KB paragraph
    // cannot travel as one event.
    if !nats_server_ready() {
        return;
    }
    let c = Cluster::with_server_config(Some("max_payload: 131072\n"));
    let watch = c.env.watch.clone();
    let _workers: Vec<Proc> = (0..2).map(|n| c.worker(n)).collect();
    let _node = c.node("n1", &watch);
    let paragraph: String = (0..6000)
        .map(|i| format!("第{i}项指标保持稳定增长"))
        .collect();
    assert!(paragraph.len() > 150_000);
    fs::write(watch.join("huge.txt"), format!("标题\n\n{paragraph}\n")).unwrap();
    fs::write(watch.join("copy.txt"), format!("标题\n\n{paragraph}\n")).unwrap();
    c.env.write("small.txt", text(1));
    let events = c.export_until(Duration::from_secs(120), |e| {
        of_type(e, "sluice.document.failed").len() >= 2 && documents(e) >= 1
    });
    let failed = of_type(&events, "sluice.document.failed");
    for f in &failed {
        assert_eq!(f["data"]["error"]["kind"], "too_large", "{f}");
        assert!(f["data"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_payload"));
    }
    // Both copies fail alike (the check comes before any dedup claim).
    assert_eq!(failed.len(), 2);
    assert_eq!(documents(&events), 1, "small.txt is ingested");
}
