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
    /// `YYYY-MM-DD` in the file, `""` (None) for the file's mtime.
    #[serde(with = "date_or_empty")]
    pub reference_date: Option<time::Date>,
    /// Keywords per article (0 turns keywords off).
    pub keywords: usize,
    pub keyword_method: crate::extract::KeywordMethod,
    /// Whether the trained entity taggers (data/entities/) run beside the rules; off, entities
    /// come from the rules alone (faster, fewer people found).
    pub entity_models: bool,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            reference_date: None,
            keywords: 8,
            keyword_method: crate::extract::KeywordMethod::Textrank,
            entity_models: true,
        }
    }
}

impl ExtractSettings {
    /// The extraction options these settings give.
    pub fn options(&self) -> crate::extract::Options {
        crate::extract::Options {
            reference_date: self.reference_date,
            keywords: self.keywords,
            keyword_method: self.keyword_method,
            entity_models: self.entity_models,
        }
    }
}

/// `extract.reference_date` in the settings file: `YYYY-MM-DD`, or `""` for none.
mod date_or_empty {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<time::Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            )),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<time::Date>, D::Error> {
        let raw = String::deserialize(d)?;
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
                serde::de::Error::custom(format!(
                    "must be a date as YYYY-MM-DD (or empty), not {raw:?}"
                ))
            })
    }
}

/// The operations endpoint (`/metrics`, `/healthz`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// `IP:PORT` to serve on; `""` (None, the default) turns the endpoint off.
    #[serde(with = "addr_or_empty")]
    pub addr: Option<SocketAddr>,
}

/// `metrics.addr` in the settings file: `IP:PORT`, or `""` for none.
mod addr_or_empty {
    use std::net::SocketAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&a.map(|a| a.to_string()).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let raw = String::deserialize(d)?;
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "must be an IP address and port to serve /metrics and /healthz on, such as \
                 127.0.0.1:9464 or [::1]:9464 (empty turns the endpoint off), not {raw:?}"
            ))
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
}

pub use crate::dedup::DedupSettings;

/// Which file formats are read, and the bounds on reading a document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormatsSettings {
    /// Formats not to read: a file in one of them gives one `document.failed` of kind
    /// `unsupported_format` that names this setting.
    pub off: Vec<crate::read::Format>,
    /// The most a zip-based document (.docx, .odt, .epub) may expand to, all parts read
    /// together; past it the document fails as `too_large` (a zip bomb stops here).
    pub max_expanded_bytes: u64,
    /// The most pages of a PDF that are read; a longer PDF fails as `too_large`.
    pub max_pdf_pages: u32,
    /// The deepest element nesting an HTML page may have; a deeper page fails as
    /// `malformed_document`.
    pub max_html_depth: u32,
}

impl Default for FormatsSettings {
    fn default() -> Self {
        let limits = crate::read::Limits::default();
        FormatsSettings {
            off: Vec::new(),
            max_expanded_bytes: limits.max_expanded_bytes,
            max_pdf_pages: limits.max_pdf_pages,
            max_html_depth: limits.max_html_depth,
        }
    }
}

impl FormatsSettings {
    /// The bounds the readers keep.
    pub fn limits(&self) -> crate::read::Limits {
        crate::read::Limits {
            max_expanded_bytes: self.max_expanded_bytes,
            max_pdf_pages: self.max_pdf_pages,
            max_html_depth: self.max_html_depth,
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
    pub formats: FormatsSettings,
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

/// Short environment names kept for the three paths everyone sets.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("SLUICE_WATCH", "watch.dir"),
    ("SLUICE_OUTPUT", "output.file"),
    ("SLUICE_STATE", "state.file"),
];

/// A value given as text, read as the type the key has now (`current`).
fn text_value(current: &toml::Value, raw: &str) -> Result<toml::Value, &'static str> {
    use toml::Value;
    let t = raw.trim();
    Ok(match current {
        Value::Integer(_) => {
            Value::Integer(t.replace('_', "").parse().map_err(|_| "a whole number")?)
        }
        Value::Float(_) => Value::Float(t.parse().map_err(|_| "a number")?),
        Value::Boolean(_) => Value::Boolean(match t {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err("true or false"),
        }),
        Value::Array(_) => Value::Array(
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        _ => Value::String(t.to_string()),
    })
}

/// serde's "unknown variant `x`, expected one of `a`, `b`" said the way the other errors are.
fn plain(message: &str, raw: &str) -> String {
    match message.split_once("expected one of ") {
        Some((_, allowed)) => format!(
            "must be one of {}, not {:?}",
            allowed.replace('`', ""),
            raw.trim()
        ),
        None => message.replace('`', ""),
    }
}

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
                .or_else(|| Settings::keys().into_iter().find(|k| env_name(k) == *name));
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

    /// Every key a setting has, `section.name`, in the order of the sections and their fields.
    /// Derived from the settings themselves: a field added to a section is a key, with its
    /// environment name, its `--set` and its place in `config/sluice.toml`'s test.
    pub fn keys() -> Vec<String> {
        let table = Settings::default().to_table();
        table
            .iter()
            .flat_map(|(section, t)| {
                t.as_table()
                    .into_iter()
                    .flat_map(|t| t.keys())
                    .map(move |name| format!("{section}.{name}"))
            })
            .collect()
    }

    /// The settings as the TOML table they are written as.
    pub fn to_table(&self) -> toml::Table {
        toml::Table::try_from(self).expect("settings serialize to a TOML table")
    }

    /// Sets one key from its text form (a flag or an environment variable), read the way the
    /// key's type reads (a number, true/false, a comma-separated list, a string); the value then
    /// goes through the same deserialization as the settings file, so the error for a bad value
    /// is the same wherever it came from and says what the key accepts.
    pub fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
        let unknown = || {
            format!(
                "unknown setting {key:?}; known: {}",
                Settings::keys().join(", ")
            )
        };
        let (section, name) = key.split_once('.').ok_or_else(unknown)?;
        let mut table = self.to_table();
        let fields = table
            .get_mut(section)
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(unknown)?;
        let current = fields.get(name).ok_or_else(unknown)?;
        let value = text_value(current, raw)
            .map_err(|what| format!("{key} must be {what}, not {raw:?}"))?;
        fields.insert(name.to_string(), value);
        *self = table
            .try_into()
            .map_err(|e: toml::de::Error| format!("{key}: {}", plain(e.message(), raw)))?;
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
        if self.formats.max_expanded_bytes == 0 {
            return bad("formats.max_expanded_bytes", "must be at least 1");
        }
        if self.formats.max_pdf_pages == 0 {
            return bad("formats.max_pdf_pages", "must be at least 1");
        }
        if !(16..=100_000).contains(&self.formats.max_html_depth) {
            return bad("formats.max_html_depth", "must be between 16 and 100000");
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
        assert!(
            err.contains("output.fsync")
                && err.contains("must be one of always, interval, never, not \"sometimes\""),
            "{err}"
        );
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
        let keys = Settings::keys();
        assert!(keys.len() >= 35, "{keys:?}");
        for key in &keys {
            assert!(env_name(key).starts_with("SLUICE_"));
            let mut s = Settings::default();
            // Every key must be known to `set`: a bad value is an error about the value, never
            // "unknown setting".
            if let Err(e) = s.set(key, "\u{1}") {
                assert!(!e.contains("unknown setting"), "{key}: {e}");
            }
            // And a key set to its own default's text leaves the settings as they were.
            let default = Settings::default().to_table();
            let (section, name) = key.split_once('.').unwrap();
            let text = match &default[section][name] {
                toml::Value::String(v) => v.clone(),
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            let mut s = Settings::default();
            s.set(key, &text)
                .unwrap_or_else(|e| panic!("{key} = {text:?}: {e}"));
            assert_eq!(s.to_table(), default, "{key}");
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
        let err = s.set("extract.keyword_method", "bm25").unwrap_err();
        assert!(err.contains("textrank") && err.contains("tfidf"), "{err}");
        let file = "[extract]\nreference_date = \"soon\"\n";
        let err = toml::from_str::<Settings>(file).unwrap_err().to_string();
        assert!(
            err.contains("reference_date") && err.contains("YYYY-MM-DD"),
            "{err}"
        );
    }

    #[test]
    fn dedup_settings_are_checked_and_named() {
        let mut s = Settings::default();
        s.set("dedup.levels", "document, segment").unwrap();
        assert_eq!(
            s.dedup.levels,
            [crate::dedup::Level::Document, crate::dedup::Level::Segment]
        );
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
        assert_eq!(parsed.dedup.levels, [crate::dedup::Level::Article]);
        assert_eq!(parsed.dedup.permutations, 128);
    }

    #[test]
    fn metrics_addr_is_off_by_default_and_must_be_a_socket_address() {
        let s = Settings::default();
        assert_eq!(s.metrics.addr, None);
        let mut s = Settings::default();
        s.set("metrics.addr", " 127.0.0.1:9464 ").unwrap();
        assert_eq!(s.metrics.addr, Some("127.0.0.1:9464".parse().unwrap()));
        s.set("metrics.addr", "[::1]:0").unwrap();
        assert_eq!(s.metrics.addr, Some("[::1]:0".parse().unwrap()));
        s.set("metrics.addr", "").unwrap();
        assert_eq!(s.metrics.addr, None);
        for bad in ["nonsense", "localhost:9464", "127.0.0.1", ":9464"] {
            let err = s.set("metrics.addr", bad).unwrap_err();
            assert!(
                err.contains("metrics.addr") && err.contains("127.0.0.1:9464"),
                "{err}"
            );
        }
        let err = toml::from_str::<Settings>("[metrics]\naddr = \"9464\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("addr") && err.contains("127.0.0.1:9464"),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_settings_file_lists_every_setting_with_its_real_default() {
        let text = include_str!("../config/sluice.toml");
        let parsed: Settings = toml::from_str(text).unwrap();
        parsed.validate().unwrap();
        let file: toml::Table = toml::from_str(text).unwrap();
        let defaults = Settings::default().to_table();
        for key in Settings::keys() {
            let (section, name) = key.split_once('.').unwrap();
            let listed = file.get(section).and_then(|t| t.get(name));
            assert!(listed.is_some(), "config/sluice.toml does not list {key}");
            assert_eq!(
                listed,
                defaults.get(section).and_then(|t| t.get(name)),
                "config/sluice.toml gives {key} another value than its default"
            );
        }
        assert_eq!(
            file, defaults,
            "config/sluice.toml holds a key that is not a setting"
        );
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
