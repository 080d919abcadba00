//! The shared state in JetStream KV: the dedup index (exact fingerprints, MinHash signatures)
//! and the committed state of each path.
//!
//! - `sluice_dedup`: `x.<level>.<fingerprint>` = holder, written with `create` (first writer
//!   wins, so of two workers racing on one text exactly one gets `new`); `c.<sha256>` = the first
//!   document with those bytes (whole-file copies).
//! - `sluice_sigs`: `s.<level>.<item hash>` = scheme, document, item and signature. Every worker
//!   watches the bucket and keeps the LSH band index of all signatures in memory (band keys are
//!   derived from the signature, so one write per text instead of one per band).
//! - `sluice_paths`: `p.<node>.<path hash>` = the path's generation and segment ids, changed only
//!   by compare-and-set on the entry's revision.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_nats::jetstream::kv;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dedup::fingerprint::Fingerprint;
use crate::dedup::index::{Bands, Level, Match};
use crate::dedup::{Backend, Dedup};

use super::NatsError;

/// The committed state of one path, as the workers keep it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathState {
    /// Generation of the last job applied (0: none yet).
    pub generation: u64,
    /// Segment ids of the current version (empty when the path is gone or failed).
    pub segments: Vec<String>,
}

pub fn path_key(node: &str, path: &str) -> String {
    let h = Sha256::digest(path.as_bytes());
    format!("p.{node}.{}", hex::encode(&h[..16]))
}

/// Reads a path's state and the revision to compare-and-set against (0: no entry yet).
pub async fn read_path(paths: &kv::Store, key: &str) -> Result<(PathState, u64), NatsError> {
    match paths
        .entry(key)
        .await
        .map_err(|e| NatsError::js(format!("read path state {key}"), e))?
    {
        Some(e) if e.operation == kv::Operation::Put => {
            let state = serde_json::from_slice(&e.value).map_err(|err| {
                NatsError::Other(format!("path state {key} is not sluice's: {err}"))
            })?;
            Ok((state, e.revision))
        }
        Some(e) => Ok((PathState::default(), e.revision)),
        None => Ok((PathState::default(), 0)),
    }
}

/// Writes a path's state if nobody changed it since `revision`; false when someone did.
pub async fn write_path(
    paths: &kv::Store,
    key: &str,
    state: &PathState,
    revision: u64,
) -> Result<bool, NatsError> {
    let value = serde_json::to_vec(state).expect("path state serializes");
    match paths.update(key, value.into(), revision).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
        Err(e) => Err(NatsError::js(format!("write path state {key}"), e)),
    }
}

/// One indexed signature as every worker's mirror holds it.
struct Indexed {
    document: String,
    item: String,
    sig: Box<[u32]>,
}

/// The LSH band index of all signatures in `sluice_sigs`, kept current by a watch.
#[derive(Default)]
pub struct Mirror {
    bands: Bands,
    items: Vec<Indexed>,
    keys: HashSet<String>,
}

impl Mirror {
    fn insert(&mut self, dedup: &Dedup, key: &str, value: &[u8]) {
        if self.keys.contains(key) {
            return;
        }
        let Some((scheme, level, document, item, sig)) = decode_sig(value) else {
            tracing::warn!(key, "signature entry not in sluice's format: ignored");
            return;
        };
        if scheme != dedup.scheme_id() || sig.len() != dedup.settings.permutations {
            return;
        }
        let id = self.items.len() as u32;
        for k in dedup.compact_keys(level, &sig) {
            self.bands.insert(k as u64, id);
        }
        self.items.push(Indexed {
            document,
            item,
            sig: sig.into_boxed_slice(),
        });
        self.keys.insert(key.to_string());
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

fn level_from(n: u8) -> Option<Level> {
    [Level::Document, Level::Article, Level::Segment]
        .into_iter()
        .find(|l| *l as u8 == n)
}

fn encode_sig(scheme: i64, level: Level, document: &str, item: &str, sig: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + document.len() + item.len() + sig.len() * 4);
    out.extend_from_slice(&scheme.to_le_bytes());
    out.push(level as u8);
    for s in [document, item] {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    for v in sig {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

type Decoded = (i64, Level, String, String, Vec<u32>);

fn decode_sig(b: &[u8]) -> Option<Decoded> {
    let scheme = i64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let level = level_from(*b.get(8)?)?;
    let mut at = 9;
    let mut strings = Vec::with_capacity(2);
    for _ in 0..2 {
        let n = u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        strings.push(String::from_utf8(b.get(at..at + n)?.to_vec()).ok()?);
        at += n;
    }
    let rest = b.get(at..)?;
    if rest.len() % 4 != 0 {
        return None;
    }
    let sig = rest
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let item = strings.pop()?;
    let document = strings.pop()?;
    Some((scheme, level, document, item, sig))
}

/// Starts the watch that keeps `mirror` current and returns once it holds every signature
/// stored when it started.
pub async fn start_mirror(
    sigs: kv::Store,
    dedup: Arc<Dedup>,
    mirror: Arc<Mutex<Mirror>>,
) -> Result<tokio::task::JoinHandle<()>, NatsError> {
    let mut stream = sigs.stream.clone();
    let stored = stream
        .info()
        .await
        .map_err(|e| NatsError::js("signature bucket info", e))?
        .state
        .messages;
    let mut watch = sigs
        .watch_all_from_revision(1)
        .await
        .map_err(|e| NatsError::js("watch signatures", e))?;
    let started = std::time::Instant::now();
    let mut loaded = 0u64;
    let mut last = 0u64;
    if stored > 0 {
        while let Some(entry) = watch.next().await {
            let entry = entry.map_err(|e| NatsError::js("watch signatures", e))?;
            last = entry.revision;
            if entry.operation == kv::Operation::Put {
                lock(&mirror).insert(&dedup, &entry.key, &entry.value);
            }
            loaded += 1;
            if entry.delta == 0 {
                break;
            }
        }
    }
    tracing::info!(
        signatures = lock(&mirror).len(),
        entries = loaded,
        ms = started.elapsed().as_millis() as u64,
        "shared dedup index loaded"
    );
    Ok(tokio::spawn(async move {
        // A watch that ends (server restarted, connection lost) starts again after the last
        // revision seen, so no signature stored meanwhile is missed.
        loop {
            while let Some(entry) = watch.next().await {
                match entry {
                    Ok(e) => {
                        last = last.max(e.revision);
                        if e.operation == kv::Operation::Put {
                            lock(&mirror).insert(&dedup, &e.key, &e.value);
                        }
                    }
                    Err(e) => {
                        tracing::warn!("signature watch: {e}");
                        break;
                    }
                }
            }
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                match sigs.watch_all_from_revision(last + 1).await {
                    Ok(w) => {
                        tracing::info!(after = last, "signature watch resumed");
                        watch = w;
                        break;
                    }
                    Err(e) => tracing::warn!("signature watch: {e}; trying again"),
                }
            }
        }
    }))
}

fn lock(m: &Mutex<Mirror>) -> std::sync::MutexGuard<'_, Mirror> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `create`, and on a lost race the value that won.
async fn create_or_get(
    store: &kv::Store,
    key: String,
    value: Vec<u8>,
) -> Result<Option<Vec<u8>>, NatsError> {
    match store.create(&key, value.into()).await {
        Ok(_) => Ok(None),
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
            match store
                .get(&key)
                .await
                .map_err(|e| NatsError::js(format!("read {key}"), e))?
            {
                Some(held) => Ok(Some(held.to_vec())),
                None => Err(NatsError::Other(format!(
                    "{key} exists but has no value (being written?); the job is retried"
                ))),
            }
        }
        Err(e) => Err(NatsError::js(format!("create {key}"), e)),
    }
}

fn exact_key(level: Level, fp: &Fingerprint) -> String {
    format!("x.{}.{}", level as u8, hex::encode(fp))
}

/// The dedup [`Backend`] of one version over KV. Its exact claims are made up front, all at
/// once ([`SharedIndex::prefetch`]); [`crate::dedup::resolve`] then runs without a round trip,
/// and the signatures it indexes are written together afterwards ([`Prefetched::write`]).
pub struct Prefetched {
    document: String,
    copy_of: Option<String>,
    claims: HashMap<String, Option<(String, String)>>,
    dedup: Arc<Dedup>,
    mirror: Arc<Mutex<Mirror>>,
    puts: Vec<(String, Vec<u8>)>,
}

/// The shared index as one worker sees it.
#[derive(Clone)]
pub struct SharedIndex {
    pub dedup: Arc<Dedup>,
    pub store: kv::Store,
    pub sigs: kv::Store,
    pub mirror: Arc<Mutex<Mirror>>,
}

impl SharedIndex {
    /// Claims, concurrently, the version's bytes and every fingerprint it has (first writer
    /// wins; a claim already held by this document reads as its own).
    /// `tag` names the job (its version and change number): a claim this job made in an
    /// earlier, interrupted delivery counts as won again, so a redelivery gives the same verdicts.
    pub async fn prefetch(
        &self,
        a: &crate::dedup::Analysis,
        path: &str,
        seen: &crate::dedup::SegmentsSeen,
        tag: &str,
    ) -> Result<Prefetched, NatsError> {
        let document = crate::event::document_id(path);
        // Whole-file copies first, as `resolve` asks: a copy claims nothing else.
        let copy_of = create_or_get(
            &self.store,
            format!("c.{}", a.version),
            document.clone().into_bytes(),
        )
        .await?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(|holder| *holder != document);
        if copy_of.is_some() {
            return Ok(Prefetched {
                copy_of,
                document,
                claims: HashMap::new(),
                dedup: self.dedup.clone(),
                mirror: self.mirror.clone(),
                puts: Vec::new(),
            });
        }
        let mut keys: Vec<(String, Vec<u8>)> = Vec::new();
        let mut add = |level: Level, unit: &Option<crate::dedup::Sketch>, item: &str| {
            if let Some(u) = unit {
                keys.push((
                    exact_key(level, &u.fp),
                    format!("{}\n{item}\n{tag}", a.document).into_bytes(),
                ));
            }
        };
        add(Level::Document, &a.whole, &a.version);
        for (i, unit) in a.articles.iter().enumerate() {
            add(
                Level::Article,
                unit,
                &crate::dedup::article_ref(&a.document, i),
            );
        }
        // As `verdicts` walks them: segments with their units, `unchanged` ones skipped.
        for (i, unit) in a.segments.iter().enumerate() {
            if !seen.unchanged.get(i).copied().unwrap_or(false) {
                add(
                    Level::Segment,
                    unit,
                    seen.ids.get(i).map_or("", String::as_str),
                );
            }
        }
        // A text repeated inside the version is claimed once, with its first item.
        let mut seen = HashSet::new();
        keys.retain(|(k, _)| seen.insert(k.clone()));
        // At most a few hundred claims in flight at once.
        let claims: Vec<(String, Option<Vec<u8>>)> = futures::stream::iter(keys)
            .map(|(k, v)| async move {
                create_or_get(&self.store, k.clone(), v)
                    .await
                    .map(|r| (k, r))
            })
            .buffered(256)
            .try_collect()
            .await?;
        let claims = claims
            .into_iter()
            .map(|(k, held)| {
                let holder = held.and_then(|b| {
                    let s = String::from_utf8_lossy(&b);
                    let mut parts = s.splitn(3, '\n');
                    let (d, i, t) = (
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                    );
                    // Claimed by this very job before it was interrupted: won again.
                    (t != tag || d != a.document).then(|| (d.to_string(), i.to_string()))
                });
                (k, holder)
            })
            .collect();
        Ok(Prefetched {
            copy_of: None,
            document,
            claims,
            dedup: self.dedup.clone(),
            mirror: self.mirror.clone(),
            puts: Vec::new(),
        })
    }
}

impl Prefetched {
    /// Writes the signatures indexed by `resolve`, concurrently.
    pub async fn write(self, sigs: &kv::Store) -> Result<(), NatsError> {
        futures::future::try_join_all(self.puts.into_iter().map(|(key, value)| async move {
            sigs.put(&key, value.into())
                .await
                .map_err(|e| NatsError::js(format!("write signature {key}"), e))
        }))
        .await?;
        Ok(())
    }
}

impl Backend for Prefetched {
    type Error = NatsError;

    fn tracked_copy(&mut self, _sha256: &str, path: &str) -> Result<Option<String>, NatsError> {
        debug_assert_eq!(crate::event::document_id(path), self.document);
        Ok(self.copy_of.clone())
    }

    fn claim_exact(
        &mut self,
        level: Level,
        fp: &Fingerprint,
        document: &str,
        item: &str,
    ) -> Result<Option<(String, String)>, NatsError> {
        match self.claims.get_mut(&exact_key(level, fp)) {
            // Held by someone else, or by this document already.
            Some(Some(held)) => Ok(Some(held.clone())),
            // Won by this version: the first unit with it is new; a repeat later in the same
            // version sees it held by its own document.
            Some(slot @ None) => {
                *slot = Some((document.to_string(), item.to_string()));
                Ok(None)
            }
            None => Err(NatsError::Other(format!(
                "fingerprint of {document} at level {level:?} was not claimed first (a bug)"
            ))),
        }
    }

    fn near(
        &mut self,
        _level: Level,
        keys: &[i64],
        sig: &[u32],
        exclude_document: &str,
        threshold: f64,
    ) -> Result<Option<Match>, NatsError> {
        let mirror = lock(&self.mirror);
        let mut candidates = Vec::new();
        for &k in keys {
            mirror.bands.get(k as u64, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<Match> = None;
        for id in candidates {
            let it = &mirror.items[id as usize];
            if it.document != exclude_document {
                Match::offer(&mut best, threshold, sig, &it.sig, &it.document, &it.item);
            }
        }
        Ok(best)
    }

    fn insert_near(
        &mut self,
        level: Level,
        document: &str,
        item: &str,
        sig: &[u32],
        _keys: &[i64],
    ) -> Result<(), NatsError> {
        // One key per distinct signature: a new version of an article is a new key, so every
        // mirror keeps both versions, like the local index.
        let value = encode_sig(self.dedup.scheme_id(), level, document, item, sig);
        let key = format!(
            "s.{}.{}",
            level as u8,
            hex::encode(&Sha256::digest(&value)[..16])
        );
        lock(&self.mirror).insert(&self.dedup, &key, &value);
        self.puts.push((key, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_entries_round_trip() {
        let sig: Vec<u32> = (0..128).map(|i| i * 7 + 1).collect();
        let b = encode_sig(42, Level::Article, "doc", "doc#1", &sig);
        let (scheme, level, d, i, s) = decode_sig(&b).unwrap();
        assert_eq!(
            (scheme, level, d.as_str(), i.as_str()),
            (42, Level::Article, "doc", "doc#1")
        );
        assert_eq!(s, sig);
        assert!(decode_sig(&b[..b.len() - 1]).is_none());
    }

    #[test]
    fn path_keys_are_per_node() {
        assert_ne!(path_key("a", "x.txt"), path_key("b", "x.txt"));
        assert!(path_key("a", "dir with space/ü.txt")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.'));
    }
}
