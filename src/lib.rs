//! sluice: a streaming ingestion daemon.
//!
//! A map of the crate, in the order a file version travels through it:
//!
//! - [`config`]: settings from defaults, `config/sluice.toml`, `SLUICE_*` and flags.
//! - [`watch`]: kernel notifications, settle, and reconcile scans → paths to look at.
//! - [`detect`]: stat, then streaming sha256 → added / changed / moved / removed / unchanged.
//! - [`process`]: one detected job → its events and the state change that commits it.
//! - [`text`]: decoding and segmentation (pure functions).
//! - [`extract`]: figures, dates, entities and keywords of the segments (pure functions).
//! - [`dedup`]: fingerprints, MinHash + LSH, and the index in the state (resolved at commit).
//! - [`pipeline`]: the stages wired with bounded channels; group commit.
//! - [`cpu`]: the threads the CPU work of processing runs on.
//! - [`budget`]: the byte budget that bounds file content in flight.
//! - [`sink`]: the durable NDJSON log.
//! - [`store`]: the SQLite state (tracked files, the log's committed end).
//! - [`lock`]: the lock files that keep a second sluice off a state or a log.
//! - [`event`]: the CloudEvents envelope and deterministic ids.
//! - [`metrics`]: the process-global metrics registry and the `/metrics` + `/healthz` endpoint.
//! - [`commands`]: `run`, `ingest` and `status`, called by the thin binary.

pub mod budget;
pub mod commands;
pub mod commit;
pub mod config;
pub mod cpu;
pub mod dedup;
pub mod detect;
pub mod error;
pub mod event;
pub mod extract;
pub mod lock;
pub mod metrics;
pub mod nats;
pub mod own;
pub mod pipeline;
pub mod process;
pub mod progress;
pub mod schedule;
pub mod shutdown;
pub mod sink;
pub mod store;
pub mod text;
pub mod watch;
