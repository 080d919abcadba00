//! Runs the real `sluice` binary against temporary folders and reads back its event log.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_sluice");

/// A watched folder, an output log and a state database in one temporary directory.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub watch: PathBuf,
    pub output: PathBuf,
    pub state: PathBuf,
    /// Extra `--set KEY=VALUE` settings for every command.
    pub settings: Vec<String>,
    /// A command the binary runs under (`setpriv …` to run as nobody, `unshare …` for limits).
    pub prefix: Vec<String>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = dir.path().join("watch");
        fs::create_dir_all(&watch).unwrap();
        Env {
            output: dir.path().join("out/events.ndjson"),
            state: dir.path().join("out/sluice.db"),
            watch,
            dir,
            settings: Vec::new(),
            prefix: Vec::new(),
        }
    }

    /// Runs the binary as `nobody` (to test permissions when the tests run as root).
    pub fn as_nobody(&mut self) {
        self.prefix = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
        .map(String::from)
        .to_vec();
    }

    pub fn with(mut self, setting: &str) -> Env {
        self.settings.push(setting.to_string());
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.watch.join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, content).unwrap();
    }

    /// A command for `sub` with this environment's paths and settings.
    pub fn command(&self, sub: &str) -> Command {
        let mut cmd = match self.prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        cmd.arg(sub)
            .arg("--config")
            .arg(self.dir.path().join("none.toml"))
            .arg("--watch")
            .arg(&self.watch)
            .arg("--output")
            .arg(&self.output)
            .arg("--state")
            .arg(&self.state);
        for s in &self.settings {
            cmd.arg("--set").arg(s);
        }
        // An empty settings file: the tests do not depend on the repository's config.
        let _ = fs::write(self.dir.path().join("none.toml"), "");
        cmd.env("RUST_LOG", "info").env_remove("SLUICE_CONFIG");
        cmd
    }

    pub fn ingest(&self) -> Output {
        let out = self.command("ingest").output().expect("run sluice ingest");
        assert!(
            out.status.success(),
            "sluice ingest failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts `sluice run` and waits until its start-up reconcile is done.
    pub fn start(&self) -> Daemon {
        self.start_with(&[])
    }

    /// [`Env::start`] with more command-line arguments.
    pub fn start_with(&self, args: &[&str]) -> Daemon {
        let log = self.dir.path().join(format!(
            "daemon-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let child = self
            .command("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("start sluice run");
        let daemon = Daemon { child, log };
        daemon.wait_log("reconcile scan done", Duration::from_secs(30));
        daemon
    }

    /// Every whole line of the log, parsed, checked for the line contract (a line a running
    /// daemon is still writing is not read yet).
    pub fn events(&self) -> Vec<Value> {
        read_live_log(&self.output)
    }

    /// The whole log once no sluice is writing it: it must not end in a torn line.
    pub fn final_events(&self) -> Vec<Value> {
        read_log(&self.output)
    }

    /// Polls the log until `done` holds, or panics after `timeout` showing what was there.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            if start.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?}; log has {} events:\n{}",
                    events.len(),
                    summary(&events)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the log has not grown for `quiet`.
    pub fn wait_quiet(&self, quiet: Duration) -> Vec<Value> {
        let mut last = (usize::MAX, Instant::now());
        loop {
            let n = fs::metadata(&self.output)
                .map(|m| m.len() as usize)
                .unwrap_or(0);
            if n != last.0 {
                last = (n, Instant::now());
            } else if last.1.elapsed() >= quiet {
                return self.events();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads a log that no sluice is writing: it must end with a whole line, and every line must
/// be valid JSON and a valid event.
pub fn read_log(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "log ends with a torn line"
    );
    parse_lines(&text)
}

/// Reads a log that a running daemon may be appending to: a last line still being written is
/// left for the next read.
pub fn read_live_log(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let whole = text.rfind('\n').map_or("", |i| &text[..=i]);
    parse_lines(whole)
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            if let Err(e) = super::schema::validate_line(line) {
                panic!("line does not validate against docs/events.schema.json: {e}\n{line}");
            }
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON line {line}: {e}"))
        })
        .collect()
}

/// A running `sluice run`.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.stderr().contains(needle) {
            assert!(
                start.elapsed() < timeout,
                "daemon never logged {needle:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// SIGTERM, then waits (at most 10 s) for the exit.
    pub fn stop(mut self) -> (ExitStatus, Duration) {
        let start = Instant::now();
        self.signal("TERM");
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!(
                    "daemon did not exit within 10 s of SIGTERM:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

pub fn subjects(events: &[Value], kind: &str) -> Vec<String> {
    of_type(events, kind)
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The rotated parts of the log `output` (`events-<20 digits>.ndjson` beside it), in order.
pub fn log_parts(output: &Path) -> Vec<PathBuf> {
    let dir = output.parent().unwrap();
    let mut parts: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("events-") && n.ends_with(".ndjson") && n.len() == 34
        })
        .collect();
    parts.sort();
    parts
}

/// A random generator for a test, seeded from `SLUICE_TEST_SEED` or at random (the seed is
/// printed, so a failure can be replayed).
pub fn test_rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed: u64 = std::env::var("SLUICE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (set SLUICE_TEST_SEED to replay)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// A port nothing listens on now (taken from the kernel, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request over a plain socket: (status, head, body).
pub fn http(port: u16, method: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics port");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    (status, head.to_string(), body.to_string())
}

/// (subject, error kind) of every `sluice.document.failed`, sorted.
pub fn failures(events: &[Value]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = of_type(events, "sluice.document.failed")
        .iter()
        .map(|e| {
            (
                e["subject"].as_str().unwrap().to_string(),
                e["data"]["error"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    f.sort();
    f
}

/// Whether the tests run as root (then permissions are tested as `nobody`).
pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Types and subjects, one per line, for failure messages.
pub fn summary(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] != "sluice.segment")
        .map(|e| format!("{} {} {}", e["sequence"], e["type"], e["subject"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sequences are 1..=n, in order, gap-free and unique.
pub fn assert_sequences_gap_free(events: &[Value]) {
    for (i, e) in events.iter().enumerate() {
        let seq: u64 = e["sequence"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            seq,
            i as u64 + 1,
            "sequence gap or repeat at line {}",
            i + 1
        );
    }
}

/// Distinct events never share an id (a consumer de-duplicates by id).
pub fn assert_ids_unique(events: &[Value]) {
    let mut seen = std::collections::HashMap::new();
    for e in events {
        if let Some(first) =
            seen.insert(e["id"].as_str().unwrap().to_string(), e["sequence"].clone())
        {
            panic!(
                "id {} of line {} repeats line {first}",
                e["id"], e["sequence"]
            );
        }
    }
}

/// Every version's events are contiguous: file event, its segments, its document event.
pub fn assert_versions_contiguous(events: &[Value]) {
    let mut open: Option<String> = None;
    for e in events {
        let t = e["type"].as_str().unwrap();
        let subject = e["subject"].as_str().unwrap().to_string();
        match t {
            "sluice.file.added" | "sluice.file.changed" => {
                assert!(
                    open.is_none(),
                    "version of {open:?} interrupted by {subject}"
                );
                open = Some(subject);
            }
            "sluice.segment" => assert_eq!(open.as_ref(), Some(&subject), "stray segment"),
            "sluice.document.ingested" | "sluice.document.failed" => {
                if t == "sluice.document.ingested" || open.is_some() {
                    assert_eq!(
                        open.take().as_ref(),
                        Some(&subject),
                        "document event out of place"
                    );
                }
            }
            _ => assert!(open.is_none(), "{t} inside the version of {open:?}"),
        }
    }
    assert!(open.is_none(), "unfinished version of {open:?}");
}

/// A paragraph of real-looking Chinese news text, different for each `n`.
pub fn article(n: usize) -> String {
    format!(
        "第{n}号标题：高新区发展新动能\n\n本报讯 {n}月,高新区举行重大项目集中签约仪式,共签约项目{n}个,总投资{n}亿元。\n\n\
         据介绍,这些项目涵盖新能源、生物医药和智能制造等领域,编号{n}。\n"
    )
}
