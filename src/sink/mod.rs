//! Where events go. `ndjson` is the durable local log; a NATS sink comes with scale-out.

pub mod ndjson;
