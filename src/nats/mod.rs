//! Scale-out on NATS JetStream: watcher nodes publish jobs, workers process them against a
//! shared dedup index, events land in one durable stream that `sluice export` writes out.
//!
//! ```text
//! sluice run --nats (each node)   --job--> SLUICE_JOBS (work queue, sluice.jobs.<node>)
//!                                            | one durable pull consumer "workers"
//! sluice worker --nats (any host) <---------+   dedup: KV sluice_dedup (exact, create = first
//!      |                                        writer wins), KV sluice_sigs (MinHash signatures)
//!      |                                        order per path: KV sluice_paths (generation, CAS)
//!      +--events--> SLUICE_EVENTS (sluice.events.<type>, Nats-Msg-Id = event id)
//! sluice export --nats --output FILE <--- ordered consumer, `sequence` = stream sequence
//! ```
//!
//! Every guarantee rests on one JetStream primitive: a job is removed only when a worker acks it
//! (after its events are stored), a redelivered job republishes the same event ids (dropped by
//! the stream's duplicate window), and path state and exact fingerprints change only through
//! compare-and-set writes.

pub mod export;
pub mod job;
pub mod node;
pub mod shared;
pub mod worker;

use std::time::Duration;

use async_nats::jetstream::{self, kv, object_store, stream};

use crate::config::NatsSettings;

pub const JOBS_STREAM: &str = "SLUICE_JOBS";
pub const EVENTS_STREAM: &str = "SLUICE_EVENTS";
pub const DEDUP_BUCKET: &str = "sluice_dedup";
pub const SIGS_BUCKET: &str = "sluice_sigs";
pub const PATHS_BUCKET: &str = "sluice_paths";
pub const BLOBS_BUCKET: &str = "sluice_blobs";
pub const WORKERS_CONSUMER: &str = "workers";
/// How long the streams remember message ids: a job or event published again within it is
/// dropped. It must exceed the longest redelivery delay (`nats.ack_wait_ms`) by far.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

pub use crate::error::NatsError;

/// A connection and the JetStream resources sluice uses, created when missing.
#[derive(Clone)]
pub struct Shared {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub jobs: stream::Stream,
    pub events: stream::Stream,
    pub dedup: kv::Store,
    pub sigs: kv::Store,
    pub paths: kv::Store,
    pub blobs: object_store::ObjectStore,
}

/// Connects (retrying until the server is there) and makes sure the streams and buckets exist.
pub async fn connect(settings: &NatsSettings, name: &str) -> Result<Shared, NatsError> {
    let client = client(settings, name).await?;
    let mut js = jetstream::new(client.clone());
    js.set_timeout(Duration::from_secs(10));
    match connect_resources(client.clone(), js).await {
        Err(e) if client.connection_state() != async_nats::connection::State::Connected => {
            Err(NatsError::Connect {
                url: settings.url.clone(),
                message: format!("no connection after 10 s ({e})"),
            })
        }
        Err(NatsError::JetStream { what, message })
            if message.contains("jetstream unavailable") =>
        {
            Err(NatsError::JetStream {
                what,
                message: format!(
                    "{message}: the server at nats.url {} runs without JetStream; start it with \
                     -js (and a store directory, -sd DIR)",
                    settings.url
                ),
            })
        }
        other => other,
    }
}

async fn connect_resources(
    client: async_nats::Client,
    js: jetstream::Context,
) -> Result<Shared, NatsError> {
    let jobs = ensure_stream(
        &js,
        stream::Config {
            name: JOBS_STREAM.into(),
            subjects: vec!["sluice.jobs.>".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        },
    )
    .await?;
    let events = ensure_stream(&js, events_config()).await?;
    let dedup = ensure_kv(&js, DEDUP_BUCKET).await?;
    let sigs = ensure_kv(&js, SIGS_BUCKET).await?;
    let paths = ensure_kv(&js, PATHS_BUCKET).await?;
    let blobs = match js.get_object_store(BLOBS_BUCKET).await {
        Ok(s) => s,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: BLOBS_BUCKET.into(),
                description: Some("sluice: file bytes of jobs over nats.inline_max_bytes".into()),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| NatsError::js(format!("object store {BLOBS_BUCKET}"), e))?,
    };
    Ok(Shared {
        client,
        js,
        jobs,
        events,
        dedup,
        sigs,
        paths,
        blobs,
    })
}

/// A client that reconnects forever (a restarted server is waited for, not an error).
pub async fn client(settings: &NatsSettings, name: &str) -> Result<async_nats::Client, NatsError> {
    let url = settings.url.clone();
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => tracing::warn!("NATS: disconnected"),
                async_nats::Event::Connected => tracing::info!("NATS: connected"),
                other => tracing::debug!("NATS: {other}"),
            }
        })
        .connect(url.as_str())
        .await
        .map_err(|e| NatsError::Connect {
            url,
            message: e.to_string(),
        })
}

pub fn events_config() -> stream::Config {
    stream::Config {
        name: EVENTS_STREAM.into(),
        subjects: vec!["sluice.events.>".into()],
        retention: stream::RetentionPolicy::Limits,
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    }
}

pub async fn ensure_stream(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Stream, NatsError> {
    let name = config.name.clone();
    js.get_or_create_stream(config)
        .await
        .map_err(|e| NatsError::js(format!("stream {name}"), e))
}

/// Opens a KV bucket, creating its stream by hand when missing: the same stream a KV bucket is
/// (history 1, rollups, no deletes, direct gets, discard new), created without the client's
/// `create_key_value`, which newer clients cannot run against a 2.9 server.
async fn ensure_kv(js: &jetstream::Context, bucket: &str) -> Result<kv::Store, NatsError> {
    if let Ok(store) = js.get_key_value(bucket).await {
        return Ok(store);
    }
    ensure_stream(
        js,
        stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            storage: stream::StorageType::File,
            ..Default::default()
        },
    )
    .await?;
    js.get_key_value(bucket)
        .await
        .map_err(|e| NatsError::js(format!("KV bucket {bucket}"), e))
}

/// Retries `f` with backoff until it succeeds or `give_up` says stop; each failure is logged
/// once per attempt with `what`.
pub async fn retry<T, E: std::fmt::Display, F, Fut>(
    what: &str,
    give_up: impl Fn() -> bool,
    mut f: F,
) -> Result<T, NatsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut delay = Duration::from_millis(50);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                if give_up() {
                    return Err(NatsError::js(what, e));
                }
                tracing::warn!("NATS {what}: {e}; retrying in {} ms", delay.as_millis());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}
