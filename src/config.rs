//! Settings: defaults, then `config/sluice.toml`, then `SLUICE_*` environment variables, then flags.
//!
//! Every setting has one dotted key (`watch.settle_ms`). The file uses the same keys as TOML tables,
//! the environment uses `SLUICE_` + the key upper-cased with `.` turned into `_`
//! (`SLUICE_WATCH_SETTLE_MS`), and a few flags set the most common keys. Every layer goes through
//! [`Settings::set`], so a bad value gets the same message wherever it came from: the setting, where
//! it was set, and what is allowed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A setting that cannot be used; the binary exits 2 with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// When the event log is flushed to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// fsync after every group commit, before the state records it (the default).
    Always,
    /// fsync at most every `output.fsync_interval_ms`.
    Interval,
    /// leave it to the kernel.
    Never,
}

/// Which symbolic links under the watched folder are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymlinkPolicy {
    /// Links (anywhere along a path) are followed only to files inside the watched folder.
    Inside,
    /// Paths through a link are not read at all.
    Never,
    /// Links are followed anywhere the daemon can read (sluice's own files excepted).
    Follow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchSettings {
    pub dir: PathBuf,
    pub settle_ms: u64,
    pub max_wait_ms: u64,
    pub rescan_interval_s: u64,
    /// Scan interval used when the kernel refuses more watches (ENOSPC).
    pub fallback_scan_ms: u64,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Which symbolic links are followed: inside | never | follow.
    pub symlinks: SymlinkPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSettings {
    pub file: PathBuf,
    pub fsync: Fsync,
    pub fsync_interval_ms: u64,
    pub rotate_bytes: u64,
    pub tokens: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    pub file: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Capacity of each channel between stages.
    pub channel_capacity: usize,
    /// Threads for CPU work (decode, segment); 0 means one per core.
    pub workers: usize,
    /// Files larger than this are hashed but not decoded (`document.failed`, kind `too_large`).
    pub max_file_bytes: u64,
    /// Most file versions written by one group commit.
    pub group_commit_max: usize,
    /// Memory held by file versions between reading and commit, at most, counted as 8 bytes per
    /// byte of file (a larger file passes alone).
    pub max_inflight_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractSettings {
    /// Reference for relative dates (今年, 上半年) when no dateline on the page gives a year;
    /// `YYYY-MM-DD`, or empty for the file's mtime.
    pub reference_date: String,
    /// Keywords per article (0 turns keywords off).
    pub keywords: usize,
    pub keyword_method: crate::extract::KeywordMethod,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            reference_date: String::new(),
            keywords: 8,
            keyword_method: crate::extract::KeywordMethod::Textrank,
        }
    }
}

impl ExtractSettings {
    /// The extraction options these settings give (validated settings always convert).
    pub fn options(&self) -> crate::extract::Options {
        crate::extract::Options {
            reference_date: parse_date(&self.reference_date).ok().flatten(),
            keywords: self.keywords,
            keyword_method: self.keyword_method,
        }
    }
}

/// `YYYY-MM-DD`, or None for an empty value.
fn parse_date(raw: &str) -> Result<Option<time::Date>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let well_formed = raw.len() == 10 && raw.split('-').map(str::len).eq([4, 2, 2]);
    well_formed
        .then(|| crate::extract::date::parse_iso_prefix(raw))
        .flatten()
        .map(Some)
        .ok_or_else(|| {
            format!("extract.reference_date must be a date as YYYY-MM-DD (or empty), not {raw:?}")
        })
}

/// The operations endpoint (`/metrics`, `/healthz`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// `IP:PORT` to serve on; empty (the default) turns the endpoint off.
    pub addr: String,
}

impl MetricsSettings {
    /// The address to serve on, or None when the endpoint is off (validated settings always
    /// parse).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        parse_metrics_addr(&self.addr).ok().flatten()
    }
}

/// `IP:PORT`, or None for an empty value.
fn parse_metrics_addr(raw: &str) -> Result<Option<SocketAddr>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| {
        format!(
            "metrics.addr must be an IP address and port to serve /metrics and /healthz on, \
             such as 127.0.0.1:9464 or [::1]:9464 (empty turns the endpoint off), not {raw:?}"
        )
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
}

/// The levels at which duplicates are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DedupLevel {
    Document,
    Article,
    Segment,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupSettings {
    pub enabled: bool,
    /// Estimated Jaccard similarity from which a text is a near-duplicate.
    pub threshold: f64,
    /// Shingle length: characters for Han text, words for Latin text.
    pub shingle_size: usize,
    /// MinHash permutations (signature length).
    pub permutations: usize,
    /// LSH bands; rows per band = permutations / bands.
    pub bands: usize,
    pub levels: Vec<DedupLevel>,
    /// Segments shorter than this (folded chars) get exact matching only, no near matching.
    pub min_segment_chars: usize,
    /// Content gone from the folder is forgotten by the index after this many days (0: never).
    pub retention_days: u64,
    /// At most this many index rows are kept for content gone from the folder (0: no cap).
    pub retention_entries: u64,
}

impl DedupSettings {
    /// The retention these settings give.
    pub fn retention(&self) -> crate::dedup::index::Retention {
        crate::dedup::index::Retention {
            max_age_s: self.retention_days.saturating_mul(86_400),
            max_rows: self.retention_entries,
        }
    }
}

impl Default for DedupSettings {
    fn default() -> Self {
        DedupSettings {
            enabled: true,
            threshold: 0.8,
            shingle_size: 5,
            permutations: 128,
            bands: 16,
            levels: vec![
                DedupLevel::Document,
                DedupLevel::Article,
                DedupLevel::Segment,
            ],
            min_segment_chars: 50,
            retention_days: 30,
            retention_entries: 200_000,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub watch: WatchSettings,
    pub output: OutputSettings,
    pub state: StateSettings,
    pub pipeline: PipelineSettings,
    pub extract: ExtractSettings,
    pub dedup: DedupSettings,
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    pub nats: NatsSettings,
}

/// Scale-out on NATS JetStream (`sluice run --nats`, `sluice worker`, `sluice export`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsSettings {
    /// Server URL; empty = local mode (the daemon processes and writes its own log).
    pub url: String,
    /// This watcher's name: prefixes its paths in the shared stream and its job subject. Empty =
    /// the host name.
    pub node: String,
    /// Jobs carry file bytes up to this size; larger files go through the object store.
    pub inline_max_bytes: u64,
    /// How long a worker may hold a job before the server gives it to another worker.
    pub ack_wait_ms: u64,
}

impl Default for NatsSettings {
    fn default() -> Self {
        NatsSettings {
            url: String::new(),
            node: String::new(),
            inline_max_bytes: 512 * 1024,
            ack_wait_ms: 30_000,
        }
    }
}

impl NatsSettings {
    /// The node name in force: the setting, or the host name made subject-safe.
    pub fn node_name(&self) -> String {
        let raw = if self.node.is_empty() {
            gethostname::gethostname().to_string_lossy().into_owned()
        } else {
            self.node.clone()
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            dir: PathBuf::from("seeds"),
            settle_ms: 200,
            max_wait_ms: 10_000,
            rescan_interval_s: 300,
            fallback_scan_ms: 2_000,
            include: vec!["**".into()],
            exclude: Vec::new(),
            symlinks: SymlinkPolicy::Inside,
        }
    }
}

impl Default for OutputSettings {
    fn default() -> Self {
        OutputSettings {
            file: PathBuf::from("output/events.ndjson"),
            fsync: Fsync::Always,
            fsync_interval_ms: 1_000,
            rotate_bytes: 256 * 1024 * 1024,
            tokens: false,
        }
    }
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            file: PathBuf::from("output/sluice.db"),
        }
    }
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            channel_capacity: 256,
            workers: 0,
            max_file_bytes: 8 * 1024 * 1024,
            group_commit_max: 512,
            max_inflight_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
        }
    }
}

/// Every key that [`Settings::set`] accepts, in file order.
pub const KEYS: &[&str] = &[
    "watch.dir",
    "watch.settle_ms",
    "watch.max_wait_ms",
    "watch.rescan_interval_s",
    "watch.fallback_scan_ms",
    "watch.include",
    "watch.exclude",
    "watch.symlinks",
    "output.file",
    "output.fsync",
    "output.fsync_interval_ms",
    "output.rotate_bytes",
    "output.tokens",
    "state.file",
    "pipeline.channel_capacity",
    "pipeline.workers",
    "pipeline.max_file_bytes",
    "pipeline.group_commit_max",
    "pipeline.max_inflight_bytes",
    "extract.reference_date",
    "extract.keywords",
    "extract.keyword_method",
    "dedup.enabled",
    "dedup.threshold",
    "dedup.shingle_size",
    "dedup.permutations",
    "dedup.bands",
    "dedup.levels",
    "dedup.min_segment_chars",
    "dedup.retention_days",
    "dedup.retention_entries",
    "metrics.addr",
    "log.format",
    "nats.url",
    "nats.node",
    "nats.inline_max_bytes",
    "nats.ack_wait_ms",
];

/// Short environment names kept for the three paths everyone sets.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("SLUICE_WATCH", "watch.dir"),
    ("SLUICE_OUTPUT", "output.file"),
    ("SLUICE_STATE", "state.file"),
];

/// The environment variable that sets `key`.
pub fn env_name(key: &str) -> String {
    format!("SLUICE_{}", key.replace('.', "_").to_uppercase())
}

/// Where the settings file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "config/sluice.toml";

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub pairs: Vec<(String, String)>,
}

impl Settings {
    /// Builds the settings from all layers. `env` is passed in so tests need not touch the process.
    pub fn load(
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let config_path = overrides
            .config
            .clone()
            .or_else(|| {
                env.iter()
                    .find(|(k, _)| k == "SLUICE_CONFIG")
                    .map(|(_, v)| PathBuf::from(v))
            })
            .map(|p| (p, true))
            .unwrap_or_else(|| (PathBuf::from(DEFAULT_CONFIG), false));
        let mut settings = Settings::from_file(&config_path.0, config_path.1)?;
        for (name, value) in &env {
            if name == "SLUICE_CONFIG" || !name.starts_with("SLUICE_") {
                continue;
            }
            let key = ENV_ALIASES
                .iter()
                .find(|(alias, _)| alias == name)
                .map(|(_, key)| key.to_string())
                .or_else(|| {
                    KEYS.iter()
                        .find(|k| env_name(k) == *name)
                        .map(|k| k.to_string())
                });
            match key {
                Some(key) => settings
                    .set(&key, value)
                    .map_err(|e| ConfigError(format!("environment {name}={value:?}: {e}")))?,
                None => tracing::warn!("ignoring unknown environment variable {name}"),
            }
        }
        for (key, value) in &overrides.pairs {
            settings
                .set(key, value)
                .map_err(|e| ConfigError(format!("flag for {key} = {value:?}: {e}")))?;
        }
        settings.validate()?;
        Ok(settings)
    }

    fn from_file(path: &Path, required: bool) -> Result<Settings, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                ConfigError(format!(
                    "config file {}: {}Fix the setting named above; every setting and its \
                     allowed values are listed in config/sluice.toml.",
                    path.display(),
                    e
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Settings::default())
            }
            Err(e) => Err(ConfigError(format!(
                "config file {}: cannot read it: {e}",
                path.display()
            ))),
        }
    }

    /// Sets one key from its text form; the error says what the key accepts.
    pub fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(key: &str, raw: &str) -> Result<T, String> {
            raw.trim()
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{key} must be a whole number, not {raw:?}"))
        }
        fn boolean(key: &str, raw: &str) -> Result<bool, String> {
            match raw {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(format!("{key} must be true or false, not {raw:?}")),
            }
        }
        fn list(raw: &str) -> Vec<String> {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }
        match key {
            "watch.dir" => self.watch.dir = PathBuf::from(raw),
            "watch.settle_ms" => self.watch.settle_ms = num(key, raw)?,
            "watch.max_wait_ms" => self.watch.max_wait_ms = num(key, raw)?,
            "watch.rescan_interval_s" => self.watch.rescan_interval_s = num(key, raw)?,
            "watch.fallback_scan_ms" => self.watch.fallback_scan_ms = num(key, raw)?,
            "watch.include" => self.watch.include = list(raw),
            "watch.exclude" => self.watch.exclude = list(raw),
            "watch.symlinks" => {
                self.watch.symlinks = match raw {
                    "inside" => SymlinkPolicy::Inside,
                    "never" => SymlinkPolicy::Never,
                    "follow" => SymlinkPolicy::Follow,
                    _ => {
                        return Err(format!(
                            "watch.symlinks must be one of inside, never, follow; not {raw:?}"
                        ))
                    }
                }
            }
            "output.file" => self.output.file = PathBuf::from(raw),
            "output.fsync" => {
                self.output.fsync = match raw {
                    "always" => Fsync::Always,
                    "interval" => Fsync::Interval,
                    "never" => Fsync::Never,
                    _ => {
                        return Err(format!(
                            "output.fsync must be one of always, interval, never; not {raw:?}"
                        ))
                    }
                }
            }
            "output.fsync_interval_ms" => self.output.fsync_interval_ms = num(key, raw)?,
            "output.rotate_bytes" => self.output.rotate_bytes = num(key, raw)?,
            "output.tokens" => self.output.tokens = boolean(key, raw)?,
            "state.file" => self.state.file = PathBuf::from(raw),
            "pipeline.channel_capacity" => self.pipeline.channel_capacity = num(key, raw)?,
            "pipeline.workers" => self.pipeline.workers = num(key, raw)?,
            "pipeline.max_file_bytes" => self.pipeline.max_file_bytes = num(key, raw)?,
            "pipeline.group_commit_max" => self.pipeline.group_commit_max = num(key, raw)?,
            "pipeline.max_inflight_bytes" => self.pipeline.max_inflight_bytes = num(key, raw)?,
            "extract.reference_date" => {
                parse_date(raw)?;
                self.extract.reference_date = raw.trim().to_string();
            }
            "extract.keywords" => self.extract.keywords = num(key, raw)?,
            "extract.keyword_method" => {
                self.extract.keyword_method = match raw {
                    "textrank" => crate::extract::KeywordMethod::Textrank,
                    "tfidf" => crate::extract::KeywordMethod::Tfidf,
                    _ => {
                        return Err(format!(
                            "extract.keyword_method must be textrank or tfidf, not {raw:?}"
                        ))
                    }
                }
            }
            "dedup.enabled" => self.dedup.enabled = boolean(key, raw)?,
            "dedup.threshold" => {
                self.dedup.threshold = raw.trim().parse().map_err(|_| {
                    format!("dedup.threshold must be a number between 0 and 1, not {raw:?}")
                })?
            }
            "dedup.shingle_size" => self.dedup.shingle_size = num(key, raw)?,
            "dedup.permutations" => self.dedup.permutations = num(key, raw)?,
            "dedup.bands" => self.dedup.bands = num(key, raw)?,
            "dedup.levels" => {
                self.dedup.levels = list(raw)
                    .iter()
                    .map(|l| match l.as_str() {
                        "document" => Ok(DedupLevel::Document),
                        "article" => Ok(DedupLevel::Article),
                        "segment" => Ok(DedupLevel::Segment),
                        _ => Err(format!(
                            "dedup.levels takes document, article and segment (comma-separated), \
                             not {l:?}"
                        )),
                    })
                    .collect::<Result<_, _>>()?
            }
            "dedup.min_segment_chars" => self.dedup.min_segment_chars = num(key, raw)?,
            "dedup.retention_days" => self.dedup.retention_days = num(key, raw)?,
            "dedup.retention_entries" => self.dedup.retention_entries = num(key, raw)?,
            "metrics.addr" => {
                parse_metrics_addr(raw)?;
                self.metrics.addr = raw.trim().to_string();
            }
            "log.format" => {
                self.log.format = match raw {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(format!("log.format must be text or json, not {raw:?}")),
                }
            }
            "nats.url" => self.nats.url = raw.trim().to_string(),
            "nats.node" => self.nats.node = raw.trim().to_string(),
            "nats.inline_max_bytes" => self.nats.inline_max_bytes = num(key, raw)?,
            "nats.ack_wait_ms" => self.nats.ack_wait_ms = num(key, raw)?,
            _ => {
                return Err(format!(
                    "unknown setting {key:?}; known: {}",
                    KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Range checks that no type can express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("setting {key}: {why}")));
        if self.watch.settle_ms > 600_000 {
            return bad("watch.settle_ms", "must be at most 600000 (10 minutes)");
        }
        if self.watch.max_wait_ms < self.watch.settle_ms {
            return bad(
                "watch.max_wait_ms",
                "must be at least watch.settle_ms (it bounds how long a busy file may wait)",
            );
        }
        if self.watch.rescan_interval_s == 0 {
            return bad(
                "watch.rescan_interval_s",
                "must be at least 1 (seconds between full reconcile scans)",
            );
        }
        if self.watch.fallback_scan_ms < 100 {
            return bad("watch.fallback_scan_ms", "must be at least 100");
        }
        if self.output.rotate_bytes < 4096 {
            return bad("output.rotate_bytes", "must be at least 4096 bytes");
        }
        if self.output.fsync == Fsync::Interval && self.output.fsync_interval_ms == 0 {
            return bad(
                "output.fsync_interval_ms",
                "must be at least 1 with fsync = interval",
            );
        }
        if !(1..=1 << 20).contains(&self.pipeline.channel_capacity) {
            return bad("pipeline.channel_capacity", "must be between 1 and 1048576");
        }
        if self.pipeline.workers > 1024 {
            return bad(
                "pipeline.workers",
                "must be at most 1024 (0 = one per core)",
            );
        }
        if self.pipeline.max_file_bytes > 1 << 40 {
            return bad(
                "pipeline.max_file_bytes",
                "must be at most 1 TiB (1099511627776)",
            );
        }
        if self.pipeline.group_commit_max > 1 << 20 {
            return bad("pipeline.group_commit_max", "must be at most 1048576");
        }
        if self.pipeline.group_commit_max == 0 {
            return bad("pipeline.group_commit_max", "must be at least 1");
        }
        if self.pipeline.max_inflight_bytes == 0 {
            return bad("pipeline.max_inflight_bytes", "must be at least 1");
        }
        if self.pipeline.max_file_bytes == 0 {
            return bad("pipeline.max_file_bytes", "must be at least 1");
        }
        if let Err(e) = parse_date(&self.extract.reference_date) {
            return bad("extract.reference_date", &e);
        }
        if let Err(e) = parse_metrics_addr(&self.metrics.addr) {
            return bad("metrics.addr", &e);
        }
        if self.extract.keywords > 100 {
            return bad("extract.keywords", "must be at most 100");
        }
        let d = &self.dedup;
        if !(d.threshold > 0.0 && d.threshold <= 1.0) {
            return bad(
                "dedup.threshold",
                "must be above 0 and at most 1 (e.g. 0.8)",
            );
        }
        if !(1..=32).contains(&d.shingle_size) {
            return bad("dedup.shingle_size", "must be between 1 and 32");
        }
        if !(1..=1024).contains(&d.permutations) {
            return bad("dedup.permutations", "must be between 1 and 1024");
        }
        if d.bands == 0 || d.bands > d.permutations || !d.permutations.is_multiple_of(d.bands) {
            return bad(
                "dedup.bands",
                &format!(
                    "must divide dedup.permutations ({}) evenly, e.g. 16 bands of 8 rows for 128",
                    d.permutations
                ),
            );
        }
        if d.retention_days > 36_500 {
            return bad(
                "dedup.retention_days",
                "must be at most 36500 (100 years; 0 keeps gone content forever)",
            );
        }
        if self.nats.inline_max_bytes > 900 * 1024 {
            return bad(
                "nats.inline_max_bytes",
                "at most 921600 (a NATS message is at most 1 MiB by default; larger files go \
                 through the object store)",
            );
        }
        if !(1_000..=300_000).contains(&self.nats.ack_wait_ms) {
            return bad(
                "nats.ack_wait_ms",
                "between 1000 and 300000 (how long a silent worker keeps a job before another \
                 gets it; it must stay well under the streams' 10-minute duplicate window)",
            );
        }
        if !self.nats.node.is_empty()
            && !self
                .nats
                .node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad(
                "nats.node",
                "letters, digits, '-' and '_' only (it is a NATS subject token and a path prefix)",
            );
        }
        for key in ["watch.include", "watch.exclude"] {
            let globs = if key == "watch.include" {
                &self.watch.include
            } else {
                &self.watch.exclude
            };
            for glob in globs {
                if let Err(e) = globset::Glob::new(glob) {
                    return bad(key, &format!("{glob:?} is not a valid glob: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Worker threads to use for CPU stages.
    pub fn workers(&self) -> usize {
        if self.pipeline.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.pipeline.workers
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let overrides = Overrides {
            config: Some(PathBuf::from("/nonexistent-but-required.toml")),
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        Settings::load(
            &overrides,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn a_named_config_file_that_is_missing_is_an_error() {
        let err = load(&[], &[]).unwrap_err();
        assert!(err.0.contains("nonexistent-but-required.toml"), "{err}");
    }

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "[watch]\nsettle_ms = 10\nmax_wait_ms = 20000\n[output]\nfsync = \"never\"\n",
        )
        .unwrap();
        let env = vec![
            ("SLUICE_WATCH_SETTLE_MS".to_string(), "20".to_string()),
            ("SLUICE_OUTPUT_FSYNC".to_string(), "interval".to_string()),
        ];
        let overrides = Overrides {
            config: Some(file),
            pairs: vec![("watch.settle_ms".into(), "30".into())],
        };
        let s = Settings::load(&overrides, env).unwrap();
        assert_eq!(s.watch.settle_ms, 30);
        assert_eq!(s.output.fsync, Fsync::Interval);
        assert_eq!(s.watch.max_wait_ms, 20000);
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_allowed_values() {
        let mut s = Settings::default();
        let err = s.set("output.fsync", "sometimes").unwrap_err();
        assert!(err.contains("output.fsync") && err.contains("always, interval, never"));
        let err = s.set("watch.settle_ms", "soon").unwrap_err();
        assert!(err.contains("watch.settle_ms"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "[watch]\nsettel_ms = 10\n").unwrap();
        let overrides = Overrides {
            config: Some(file),
            pairs: vec![],
        };
        let err = Settings::load(&overrides, Vec::new()).unwrap_err();
        assert!(err.0.contains("settel_ms"), "{err}");
    }

    #[test]
    fn every_key_has_an_environment_name_and_is_settable() {
        for key in KEYS {
            assert!(env_name(key).starts_with("SLUICE_"));
            let mut s = Settings::default();
            // Every key must be known to `set`: a bad value is an error about the value, never
            // "unknown setting".
            if let Err(e) = s.set(key, "\u{1}") {
                assert!(!e.contains("unknown setting"), "{key}: {e}");
            }
        }
    }

    #[test]
    fn extract_settings_are_checked() {
        let mut s = Settings::default();
        s.set("extract.reference_date", "2023-02-20").unwrap();
        s.set("extract.keyword_method", "tfidf").unwrap();
        let o = s.extract.options();
        assert_eq!(o.reference_date, Some(time::macros::date!(2023 - 02 - 20)));
        assert_eq!(o.keyword_method, crate::extract::KeywordMethod::Tfidf);
        let err = s.set("extract.reference_date", "20.2.2023").unwrap_err();
        assert!(err.contains("extract.reference_date") && err.contains("YYYY-MM-DD"));
        assert!(s
            .set("extract.keyword_method", "bm25")
            .unwrap_err()
            .contains("textrank or tfidf"));
        s.extract.reference_date = "soon".into();
        assert!(s
            .validate()
            .unwrap_err()
            .0
            .contains("extract.reference_date"));
    }

    #[test]
    fn dedup_settings_are_checked_and_named() {
        let mut s = Settings::default();
        s.set("dedup.levels", "document, segment").unwrap();
        assert_eq!(s.dedup.levels, [DedupLevel::Document, DedupLevel::Segment]);
        assert!(s
            .set("dedup.levels", "page")
            .unwrap_err()
            .contains("dedup.levels"));
        s.set("dedup.bands", "12").unwrap();
        assert!(s.validate().unwrap_err().0.contains("dedup.bands"));
        s.set("dedup.bands", "32").unwrap();
        s.set("dedup.threshold", "1.5").unwrap();
        assert!(s.validate().unwrap_err().0.contains("dedup.threshold"));
        let toml = "[dedup]\nthreshold = 0.9\nlevels = [\"article\"]\n";
        let parsed: Settings = toml::from_str(toml).unwrap();
        assert_eq!(parsed.dedup.levels, [DedupLevel::Article]);
        assert_eq!(parsed.dedup.permutations, 128);
    }

    #[test]
    fn metrics_addr_is_off_by_default_and_must_be_a_socket_address() {
        let s = Settings::default();
        assert_eq!(s.metrics.socket_addr(), None);
        let mut s = Settings::default();
        s.set("metrics.addr", " 127.0.0.1:9464 ").unwrap();
        assert_eq!(
            s.metrics.socket_addr(),
            Some("127.0.0.1:9464".parse().unwrap())
        );
        s.set("metrics.addr", "[::1]:0").unwrap();
        assert_eq!(s.metrics.socket_addr(), Some("[::1]:0".parse().unwrap()));
        s.set("metrics.addr", "").unwrap();
        assert_eq!(s.metrics.socket_addr(), None);
        for bad in ["nonsense", "localhost:9464", "127.0.0.1", ":9464"] {
            let err = s.set("metrics.addr", bad).unwrap_err();
            assert!(
                err.contains("metrics.addr") && err.contains("127.0.0.1:9464"),
                "{err}"
            );
        }
        let parsed: Settings = toml::from_str("[metrics]\naddr = \"9464\"\n").unwrap();
        let err = parsed.validate().unwrap_err();
        assert!(err.0.contains("setting metrics.addr"), "{err}");
    }

    #[test]
    fn the_shipped_settings_file_parses_and_lists_every_key() {
        let text = include_str!("../config/sluice.toml");
        let parsed: Settings = toml::from_str(text).unwrap();
        parsed.validate().unwrap();
        let table: toml::Table = toml::from_str(text).unwrap();
        for key in KEYS {
            let (section, name) = key.split_once('.').unwrap();
            assert!(
                table.get(section).and_then(|t| t.get(name)).is_some(),
                "config/sluice.toml does not list {key}"
            );
        }
    }

    #[test]
    fn max_wait_below_settle_is_refused() {
        let err = load(&[], &[]).err();
        assert!(err.is_some());
        let mut s = Settings::default();
        s.watch.max_wait_ms = 10;
        let err = s.validate().unwrap_err();
        assert!(err.0.contains("watch.max_wait_ms"));
    }
}
