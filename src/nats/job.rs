//! A job on the wire: one JSON line of metadata, then the file's bytes (when inline).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detect::{FailKind, FailStage, Failure, FileVersion, Job};
use crate::store::StatIdentity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Version,
    Moved,
    Removed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl From<StatIdentity> for Stat {
    fn from(s: StatIdentity) -> Stat {
        Stat {
            dev: s.dev,
            ino: s.ino,
            size: s.size,
            mtime_ns: s.mtime_ns,
            ctime_ns: s.ctime_ns,
        }
    }
}

impl From<&Stat> for StatIdentity {
    fn from(s: &Stat) -> StatIdentity {
        StatIdentity {
            dev: s.dev,
            ino: s.ino,
            size: s.size,
            mtime_ns: s.mtime_ns,
            ctime_ns: s.ctime_ns,
        }
    }
}

/// What a worker needs to redo the job exactly as the local pipeline would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub node: String,
    /// The `source` attribute of the node's events.
    pub source: String,
    pub kind: Kind,
    /// Path relative to the node's watched folder.
    pub path: String,
    /// The path's change number on its node: jobs of one path are applied in this order.
    pub generation: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<Stat>,
    /// Moves: the old path, and the change number the move gives it (one more than its last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_generation: Option<u64>,
    /// Failures: stage, error kind and message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<(String, String, String)>,
    /// Bytes not inline: the object store name holding them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl Meta {
    /// The `Nats-Msg-Id` of the job: node, path, version and generation (a rescan publishes the
    /// same id; A → B → A gives the third version a new one).
    pub fn msg_id(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.node.as_str(),
            self.path.as_str(),
            self.sha256.as_deref().unwrap_or(""),
            self.from.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        h.update(self.generation.to_be_bytes());
        format!("job-{}", hex::encode(&h.finalize()[..16]))
    }

    pub fn subject(&self) -> String {
        format!("sluice.jobs.{}", self.node)
    }

    /// The path as the shared stream names it: `<node>/<path>`, so paths of different nodes
    /// never meet under one document id.
    pub fn shared_path(&self) -> String {
        shared_path(&self.node, &self.path)
    }

    /// The job as the local pipeline's [`Job`], with node-qualified paths and these bytes.
    pub fn to_job(&self, bytes: Option<Vec<u8>>) -> Job {
        let path = self.shared_path();
        let stat = self.stat.as_ref().map(StatIdentity::from);
        match self.kind {
            Kind::Version => Job::Version(FileVersion {
                path,
                stat: stat.unwrap_or_default(),
                sha256: self.sha256.clone().unwrap_or_default(),
                bytes,
                previous_sha256: self.previous_sha256.clone(),
                permit: None,
            }),
            Kind::Moved => Job::Moved {
                from: shared_path(&self.node, self.from.as_deref().unwrap_or("")),
                to: path,
                sha256: self.sha256.clone().unwrap_or_default(),
                stat: stat.unwrap_or_default(),
            },
            Kind::Removed => Job::Removed {
                path,
                sha256: self.sha256.clone(),
            },
            Kind::Failed => {
                let (stage, kind, message) = self.failure.clone().unwrap_or_default();
                Job::Failed(Failure {
                    path,
                    // A stage this version does not know (a newer node) reads as `read`.
                    stage: FailStage::parse(&stage).unwrap_or(FailStage::Read),
                    // A kind this version does not know (a newer node) reads as an I/O error.
                    kind: FailKind::parse(&kind).unwrap_or(FailKind::IoError),
                    message,
                    sha256: self.sha256.clone(),
                    stat,
                })
            }
        }
    }
}

pub fn shared_path(node: &str, path: &str) -> String {
    format!("{node}/{path}")
}

/// Encodes a job: the metadata line, `\n`, then the inline bytes (if any).
pub fn encode(meta: &Meta, bytes: Option<&[u8]>) -> Vec<u8> {
    let mut out = serde_json::to_vec(meta).expect("job metadata serializes");
    out.push(b'\n');
    if let Some(b) = bytes {
        out.extend_from_slice(b);
    }
    out
}

/// Decodes a job; the bytes are None for jobs without content or with a blob.
pub fn decode(payload: &[u8]) -> Result<(Meta, Option<Vec<u8>>), String> {
    let nl = payload
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("job without a metadata line")?;
    let meta: Meta =
        serde_json::from_slice(&payload[..nl]).map_err(|e| format!("job metadata: {e}"))?;
    let bytes =
        (meta.kind == Kind::Version && meta.blob.is_none()).then(|| payload[nl + 1..].to_vec());
    Ok((meta, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: Kind) -> Meta {
        Meta {
            node: "n1".into(),
            source: "sluice://h/d".into(),
            kind,
            path: "a/b.txt".into(),
            generation: 3,
            sha256: Some("ab".repeat(32)),
            previous_sha256: None,
            stat: Some(Stat {
                dev: 1,
                ino: 2,
                size: 3,
                mtime_ns: 4,
                ctime_ns: 5,
            }),
            from: None,
            from_generation: None,
            failure: None,
            blob: None,
        }
    }

    #[test]
    fn round_trip_keeps_bytes_with_newlines() {
        let m = meta(Kind::Version);
        let bytes = b"line one\nline two\n\x00binary".to_vec();
        let (back, got) = decode(&encode(&m, Some(&bytes))).unwrap();
        assert_eq!(back, m);
        assert_eq!(got.unwrap(), bytes);
    }

    #[test]
    fn msg_id_tells_generations_and_nodes_apart() {
        let a = meta(Kind::Version);
        let mut b = a.clone();
        b.generation += 1;
        let mut c = a.clone();
        c.node = "n2".into();
        assert_ne!(a.msg_id(), b.msg_id());
        assert_ne!(a.msg_id(), c.msg_id());
        assert_eq!(a.msg_id(), a.clone().msg_id());
    }

    #[test]
    fn failed_job_rebuilds_the_failure() {
        let mut m = meta(Kind::Failed);
        m.failure = Some(("decode".into(), "not_text".into(), "looks binary".into()));
        match m.to_job(None) {
            Job::Failed(f) => {
                assert_eq!(f.path, "n1/a/b.txt");
                assert_eq!((f.stage, f.kind), (FailStage::Decode, FailKind::NotText));
            }
            other => panic!("{other:?}"),
        }
    }
}
