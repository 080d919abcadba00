//! sluice: a streaming ingestion daemon.
//!
//! A map of the crate, in the order a file version travels through it. No module reaches one
//! that reaches it back (`tests/modules.rs` checks).
//!
//! - [`config`]: settings from defaults, `config/sluice.toml`, `SLUICE_*` and flags; each key
//!   derived from its field.
//! - [`watch`]: kernel notifications, settle, and reconcile scans → paths to look at.
//! - [`detect`]: stat, then streaming sha256 → added / changed / moved / removed / unchanged;
//!   `detect::fence` keeps every read inside the watched folder, `detect::stage` is the
//!   detector's thread (byte budget charged there).
//! - [`own`]: sluice's own files (log, state, their parts), which are never ingested.
//! - [`schedule`]: jobs onto the CPU pool, results handed on in per-path order.
//! - [`read`]: what format a file is in (content first, name second), and which are read.
//! - [`process`]: one detected job → its events and the state change that commits it
//!   ([`process::Processor`] carries the settings it needs).
//! - [`text`]: decoding and segmentation (pure functions); `text::script` the one Han test.
//! - [`extract`]: figures, dates, entities (`extract::entity::{places, orgs, people}`, word
//!   lists in `data/words/`) and keywords (pure functions).
//! - [`dedup`]: fingerprints, MinHash + LSH, the index in the state; typed verdicts.
//! - [`commit`]: the steps every version takes before its lines are written, in local mode and
//!   on a NATS worker alike; `commit::local` the group committer (the single writer).
//! - [`pipeline`]: the stages wired with bounded channels, nothing else.
//! - [`cpu`]: the threads the CPU work of processing runs on.
//! - [`budget`]: the byte budget that bounds file content in flight.
//! - [`sink`]: the durable NDJSON log and its recovery at start.
//! - [`store`]: the SQLite state (tracked files, the log's committed end); `store::lock` the
//!   lock files that keep a second sluice off a state or a log.
//! - [`event`]: the CloudEvents envelope, event types, deterministic ids; `event::payload` the
//!   payload types.
//! - [`error`]: the errors that stop a run (pipeline, NATS).
//! - [`progress`]: a run's counters, its progress bar hooks and its summary.
//! - [`shutdown`]: the stop signal every stage listens to, and the process's signals.
//! - [`metrics`]: the registry (`prometheus-client`) and the `/metrics` + `/healthz` endpoint
//!   (hyper), passed to the stages.
//! - [`nats`]: NATS mode (`job` wire format, `node` publisher, `worker`, `shared`, `export`).
//! - [`commands`]: `run`, `ingest`, `status`, `worker`, `export`, called by the thin binary.

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
pub mod metrics;
pub mod nats;
pub mod own;
pub mod pipeline;
pub mod process;
pub mod progress;
pub mod read;
pub mod schedule;
pub mod shutdown;
pub mod sink;
pub mod store;
pub mod text;
pub mod watch;
