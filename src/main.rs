//! The `sluice` binary: parses the command line and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// jemalloc, returning freed pages to the kernel after 250 ms (`.cargo/config.toml` sets its
/// options at build time). With glibc's malloc each worker thread grows an arena of its own and
/// keeps the pages of what it freed, so peak RSS was twice what the byte budget held (428 MB
/// against 209 MB for eight 2 MB files one at a time; mimalloc 335 MB), and it was 8% slower on
/// chinanews-dev (`benches/ab.sh`, 7 runs: 0.91 against 0.84 s median wall).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use sluice::commands::{self, CommandError};
use sluice::config::{LogFormat, Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Watch a folder, ingest every change, append NDJSON events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Watch the folder and ingest every change until SIGINT/SIGTERM.
    Run(Common),
    /// Reconcile the folder against the state once, ingest every change, and exit.
    Ingest(Common),
    /// Show what the state holds and whether the log is healthy.
    Status {
        #[command(flatten)]
        common: Common,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// NATS mode: take jobs from the shared stream, process them, publish their events.
    Worker(Common),
    /// NATS mode: append the shared event stream to an NDJSON log (--output).
    Export {
        #[command(flatten)]
        common: Common,
        /// Keep going at the end of the stream instead of exiting.
        #[arg(long)]
        follow: bool,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Settings file (default config/sluice.toml, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder to watch (watch.dir).
    #[arg(long, value_name = "DIR")]
    watch: Option<PathBuf>,
    /// Event log (output.file).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// State database (state.file).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Quiet time before a file is processed (watch.settle_ms).
    #[arg(long, value_name = "N")]
    settle_ms: Option<u64>,
    /// Log format on stderr: text or json (log.format).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// NATS server: run as a watcher node publishing jobs / a worker / an exporter (nats.url).
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// This node's name in NATS mode (nats.node; default the host name).
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Serve /metrics and /healthz on ADDR, e.g. 127.0.0.1:9464 (metrics.addr; off by default).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Any setting as KEY=VALUE (for example output.fsync=never); may be repeated.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl Common {
    fn overrides(&self) -> Result<Overrides, CommandError> {
        let mut pairs = Vec::new();
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                pairs.push((k.to_string(), v));
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        push("watch.dir", path(&self.watch));
        push("output.file", path(&self.output));
        push("state.file", path(&self.state));
        push("watch.settle_ms", self.settle_ms.map(|n| n.to_string()));
        push("log.format", self.log_format.clone());
        push("nats.url", self.nats.clone());
        push("nats.node", self.node.clone());
        push("metrics.addr", self.metrics.clone());
        for kv in &self.set {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                CommandError::Usage(format!(
                    "--set {kv:?}: expected KEY=VALUE, e.g. output.fsync=never"
                ))
            })?;
            pairs.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(Overrides {
            config: self.config.clone(),
            pairs,
        })
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A closed stderr (`sluice run 2>&1 | head`) must not take the daemon down: events that
    // cannot be written are dropped, without the subscriber's own complaint (an `eprintln!`
    // that panics when stderr is gone).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// A line on stderr, or nothing when stderr is gone (never a panic).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (common, json) = match &cli.command {
        Command::Run(c) | Command::Ingest(c) | Command::Worker(c) => (c.clone(), false),
        Command::Status { common, json } => (common.clone(), *json),
        Command::Export { common, .. } => (common.clone(), false),
    };
    let settings = common
        .overrides()
        .and_then(|o| Settings::load(&o, std::env::vars()).map_err(|e| CommandError::Usage(e.0)));
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            say(&format!("sluice: {e}"));
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log.format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            say(&format!("sluice: cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(_) => commands::run(&settings).await,
            Command::Ingest(_) => commands::ingest(&settings).await.map(|_| ()),
            Command::Worker(_) => commands::worker(&settings).await,
            Command::Export { follow, .. } => commands::export(&settings, follow).await,
            Command::Status { .. } => commands::status(&settings).map(|s| {
                let text = if json {
                    serde_json::to_string_pretty(&s).unwrap_or_default()
                } else {
                    s.to_string()
                };
                let _ = writeln!(std::io::stdout(), "{text}");
            }),
        }
    });
    // Blocking threads (a read in flight at shutdown) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CommandError::Usage(m)) => {
            tracing::error!("{m}");
            say(&format!("sluice: {m}"));
            ExitCode::from(2)
        }
        Err(CommandError::Runtime(m)) => {
            tracing::error!("{m}");
            say(&format!("sluice: {m}"));
            ExitCode::from(1)
        }
    }
}
