//! The errors that stop a run (the pipeline, a NATS node): each names the file or setting
//! involved and says what to do.

/// Errors that stop the pipeline. Each names the file or setting involved.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("setting watch.dir: {0}")]
    WatchDir(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("event log {path}: {source}")]
    Log {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another sluice holds the state {0} (its lock file is locked); stop it first or give this \
         one another state.file"
    )]
    Locked(String),
    #[error("lock file {path}: {source}")]
    Lock {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("settings: {0}")]
    Filter(String),
    #[error("{0}")]
    Nats(#[from] NatsError),
    #[error("{0}")]
    EventLog(#[from] crate::sink::ndjson::LogError),
    #[error("{0} stopped unexpectedly (a bug: the log above says where); nothing uncommitted was kept, rerun to resume")]
    Internal(&'static str),
    #[error(
        "cannot start {workers} processing threads (pipeline.workers): {source}; set fewer or \
         raise the process's thread limit"
    )]
    Threads {
        workers: usize,
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::store::lock::LockError> for PipelineError {
    fn from(e: crate::store::lock::LockError) -> PipelineError {
        match e {
            crate::store::lock::LockError::Held(p) => {
                PipelineError::Locked(p.display().to_string())
            }
            crate::store::lock::LockError::Io { path, source } => {
                PipelineError::Lock { path, source }
            }
        }
    }
}

/// Errors of the NATS mode; each names what it was doing and what to check.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error(
        "nats.url {url}: cannot connect: {message}; start nats-server with JetStream (-js) or \
         fix the URL"
    )]
    Connect { url: String, message: String },
    #[error("NATS {what}: {message}")]
    JetStream { what: String, message: String },
    /// A setting that cannot work (exit 2).
    #[error("{0}")]
    Setting(String),
    #[error("{0}")]
    Other(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

impl NatsError {
    pub fn js(what: impl Into<String>, e: impl std::fmt::Display) -> NatsError {
        NatsError::JetStream {
            what: what.into(),
            message: e.to_string(),
        }
    }
}
