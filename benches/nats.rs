//! NATS mode against local mode, on one machine, in one run.
//!
//! `cargo bench --bench nats` (needs `nats-server` on PATH; `.ci/run` installs Debian's) takes the
//! suite's corpus (`SLUICE_BENCH_CORPUS=DIR`, or the one generated from `seeds/`) and measures
//! files/s of:
//! - local mode: `sluice ingest` with 1 and 2 worker threads;
//! - NATS mode with 1, 2 and 3 `sluice worker` processes (one thread each) against one
//!   nats-server with a fresh store: workers are started and ready first, then one watcher node
//!   (`sluice ingest --nats`) publishes the corpus; the clock stops when the job queue is empty
//!   and nothing is unacked.
//!
//! Beside each NATS row it prints the CPU seconds each process used (from /proc), which says
//! where the time goes when adding workers stops helping.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{Corpus, Table};

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn config(dir: &Path) -> PathBuf {
    let p = dir.join("none.toml");
    std::fs::write(&p, "").expect("config");
    p
}

/// CPU seconds (user + system) a process has used so far, children not included.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_log(path: &Path, needle: &str) {
    let start = Instant::now();
    while !std::fs::read_to_string(path)
        .unwrap_or_default()
        .contains(needle)
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never logged {needle:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Jobs waiting plus jobs handed out and not acked, from the server's consumer info.
async fn outstanding(js: &async_nats::jetstream::Context) -> Option<u64> {
    let stream = js.get_stream("SLUICE_JOBS").await.ok()?;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer("workers").await.ok()?;
    let info = consumer.info().await.ok()?;
    Some(info.num_pending + info.num_ack_pending as u64)
}

/// (files/s, events stored, CPU seconds of server / node / all workers)
fn nats(c: &Corpus, workers: usize, rt: &tokio::runtime::Runtime) -> (f64, u64, [f64; 3]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let server = Killed(
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(tmp.path().join("js"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server on PATH (apt-get install -y nats-server)"),
    );
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let config = config(tmp.path());
    let common = |cmd: &mut Command| {
        cmd.arg("--config")
            .arg(&config)
            .arg("--nats")
            .arg(&url)
            .env("RUST_LOG", "info");
    };
    let procs: Vec<Killed> = (0..workers)
        .map(|n| {
            let log = tmp.path().join(format!("worker-{n}.log"));
            let mut cmd = Command::new(BIN);
            cmd.arg("worker");
            common(&mut cmd);
            cmd.args(["--set", "pipeline.workers=1"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log"));
            let child = Killed(cmd.spawn().expect("sluice worker"));
            wait_log(&log, "sluice worker taking jobs");
            child
        })
        .collect();
    let started = Instant::now();
    let mut node = Command::new(BIN);
    node.arg("ingest");
    common(&mut node);
    node.args(["--node", "bench", "--watch"])
        .arg(&c.dir)
        .arg("--state")
        .arg(tmp.path().join("node.db"));
    let node = Killed(node.stderr(Stdio::null()).spawn().expect("sluice ingest"));
    let node_pid = node.0.id();
    let mut node = node;
    let (secs, events, node_cpu) = rt.block_on(async {
        let client = async_nats::connect(&url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut node_cpu = 0.0;
        let mut node_done = false;
        loop {
            if !node_done {
                node_cpu = cpu_seconds(node_pid).max(node_cpu);
                if let Ok(Some(status)) = node.0.try_wait() {
                    assert!(status.success(), "the node failed");
                    node_done = true;
                }
            }
            if node_done && outstanding(&js).await == Some(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        let events = js
            .get_stream("SLUICE_EVENTS")
            .await
            .expect("events stream")
            .info()
            .await
            .expect("events info")
            .state
            .messages;
        (secs, events, node_cpu)
    });
    let worker_cpu: f64 = procs.iter().map(|p| cpu_seconds(p.0.id())).sum();
    let server_cpu = cpu_seconds(server.0.id());
    drop(procs);
    drop(server);
    (
        c.files.len() as f64 / secs,
        events,
        [server_cpu, node_cpu, worker_cpu],
    )
}

fn main() {
    let corpus = corpus::from_env();
    let mut t = Table::for_corpus(&corpus);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for workers in [1, 2] {
        t.row(
            format!("local: sluice ingest, {workers} thread(s)"),
            format!(
                "{:.0} files/s",
                corpus.files.len() as f64 / corpus::ingest(&corpus, workers).0
            ),
        );
    }
    let mut one = 0.0;
    for workers in [1, 2, 3] {
        let (rate, events, [server, node, worker]) = nats(&corpus, workers, &rt);
        if workers == 1 {
            one = rate;
        }
        t.row(
            format!("NATS: {workers} worker process(es), 1 thread each"),
            format!(
                "{rate:.0} files/s ({:.2}x one worker), {events} events stored; CPU s: \
                 nats-server {server:.1}, node {node:.1}, workers {worker:.1}",
                rate / one
            ),
        );
    }
    t.print("sluice NATS benchmark, one nats-server on this machine");
}
