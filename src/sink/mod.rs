//! Where events go: `ndjson`, the durable local log. (In NATS mode the events go to the shared
//! stream instead, `crate::nats`, and `sluice export` writes them out with the same contract.)

pub mod ndjson;
