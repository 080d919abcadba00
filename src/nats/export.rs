//! `sluice export`: appends the EVENTS stream, in stream order, to an NDJSON log with the local
//! log's contract. Each line's `sequence` is its stream sequence, so the log is gap-free exactly
//! when the stream is, and a restarted export resumes after the last whole line of the file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use futures::StreamExt;
use tokio::sync::watch;

use super::NatsError;
use crate::config::NatsSettings;
use crate::event::format_sequence;

/// The `sequence` member as workers write it, before the stream gives the line its place.
const PLACEHOLDER: &[u8] = b"\"sequence\":\"00000000000000000000\"";

#[derive(Debug, Default, serde::Serialize)]
pub struct ExportSummary {
    pub lines: u64,
    pub last_sequence: u64,
}

/// Runs until the end of the stream (or, with `follow`, until `shutdown`).
pub async fn run(
    nats: &NatsSettings,
    output: &Path,
    follow: bool,
    mut shutdown: watch::Receiver<bool>,
    metrics: &crate::metrics::Metrics,
) -> Result<ExportSummary, NatsError> {
    let written = &metrics.log_bytes;
    // One writer per log: a second export (or a local daemon) on this file is refused.
    let _lock = crate::store::lock::exclusive(output).map_err(|e| match e {
        crate::store::lock::LockError::Held(p) => NatsError::Other(format!(
            "another sluice writes {} (its lock file is locked); stop it first or export to \
             another --output",
            p.display()
        )),
        other => NatsError::Other(other.to_string()),
    })?;
    let (mut file, mut last) = open_output(output)?;
    let client = super::client(nats, "sluice-export").await?;
    let js = async_nats::jetstream::new(client);
    let mut stream = super::ensure_stream(&js, super::events_config()).await?;
    let info = stream
        .info()
        .await
        .map_err(|e| NatsError::js("events stream info", e))?;
    let (end, created) = (info.state.last_sequence, info.created);
    tracing::info!(
        output = %output.display(),
        resume_after = last,
        stream_end = end,
        follow,
        "export starting"
    );
    let mut summary = ExportSummary {
        lines: 0,
        last_sequence: last,
    };
    if last > end {
        return Err(NatsError::Other(format!(
            "{}: the log ends at sequence {last} but {} ends at {end}: the stream was recreated \
             or lost its tail, and its sequences no longer match this log; export to a new file",
            output.display(),
            super::EVENTS_STREAM
        )));
    }
    if !follow && last >= end {
        return Ok(summary);
    }
    let mut buf = Vec::with_capacity(1 << 20);
    let err = |e: std::io::Error| NatsError::Other(format!("{}: {e}", output.display()));
    // One ordered consumer from the next sequence; when it breaks (server restarted, connection
    // lost) or stalls, a new one starts after the last line written.
    'consumer: loop {
        flush(&mut file, &mut buf, written).map_err(err)?;
        if *shutdown.borrow() {
            break;
        }
        let messages = match stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: last + 1,
                },
                ..Default::default()
            })
            .await
        {
            Ok(c) => c.messages().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let mut messages = match messages {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("events consumer: {e}; trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        loop {
            // Take what is there without waiting, then write it out in one piece.
            let wait = if buf.is_empty() {
                Duration::from_secs(5)
            } else {
                Duration::from_millis(5)
            };
            let next = tokio::select! {
                m = tokio::time::timeout(wait, messages.next()) => m,
                _ = shutdown.wait_for(|s| *s) => break 'consumer,
            };
            let msg = match next {
                Ok(Some(Ok(msg))) => msg,
                Err(_) if !buf.is_empty() => {
                    flush(&mut file, &mut buf, written).map_err(err)?;
                    continue;
                }
                Err(_) => {
                    // Idle: fine when the stream has nothing new, a stall otherwise, and an
                    // error when the stream is not the one this log follows any more.
                    match stream.info().await {
                        Ok(info) if info.created != created || info.state.last_sequence < last => {
                            flush(&mut file, &mut buf, written).map_err(err)?;
                            return Err(NatsError::Other(format!(
                                "{}: {} was deleted and created again (or lost its tail) while \
                                 exporting; its sequences no longer continue this log, so export \
                                 stops; export to a new file",
                                output.display(),
                                super::EVENTS_STREAM
                            )));
                        }
                        Ok(info) if info.state.last_sequence > last => {
                            tracing::warn!(
                                last,
                                stream_end = info.state.last_sequence,
                                "events consumer stalled; starting a new one"
                            );
                            continue 'consumer;
                        }
                        _ => continue,
                    }
                }
                Ok(Some(Err(e))) => {
                    tracing::warn!("reading events: {e}; starting a new consumer");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue 'consumer;
                }
                Ok(None) => continue 'consumer,
            };
            let seq = msg
                .info()
                .map_err(|e| NatsError::js("event metadata", e))?
                .stream_sequence;
            if seq <= last {
                // A consumer that started over from the beginning: start one after `last`.
                continue 'consumer;
            }
            if seq != last + 1 {
                flush(&mut file, &mut buf, written).map_err(err)?;
                return Err(NatsError::Other(format!(
                    "{}: the stream jumps from sequence {last} to {seq} (messages were removed \
                     from {}); the exported log would have a gap, so export stops here",
                    output.display(),
                    super::EVENTS_STREAM
                )));
            }
            let line = stamp(&msg.payload, seq).ok_or_else(|| {
                NatsError::Other(format!(
                    "event {seq} of {} is not a sluice event line",
                    super::EVENTS_STREAM
                ))
            })?;
            buf.extend_from_slice(&line);
            last = seq;
            summary.lines += 1;
            summary.last_sequence = seq;
            if buf.len() >= 1 << 20 {
                flush(&mut file, &mut buf, written).map_err(err)?;
            }
            if !follow && last >= end {
                break 'consumer;
            }
        }
    }
    flush(&mut file, &mut buf, written).map_err(err)?;
    Ok(summary)
}

/// The line with its sequence filled in (and its newline), or None when it has no placeholder.
pub fn stamp(payload: &[u8], seq: u64) -> Option<Vec<u8>> {
    let at = payload
        .windows(PLACEHOLDER.len())
        .position(|w| w == PLACEHOLDER)?;
    let mut line = payload.to_vec();
    let digits = format_sequence(seq);
    let start = at + b"\"sequence\":\"".len();
    line[start..start + 20].copy_from_slice(digits.as_bytes());
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    Some(line)
}

fn flush(
    file: &mut File,
    buf: &mut Vec<u8>,
    written: &crate::metrics::Counter,
) -> std::io::Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    file.write_all(buf)?;
    file.sync_data()?;
    written.inc_by(buf.len() as u64);
    buf.clear();
    Ok(())
}

/// Opens the log for appending after its last whole line (a torn tail is cut) and returns the
/// sequence of that line (0 for an empty or new file).
pub fn open_output(path: &Path) -> Result<(File, u64), NatsError> {
    let err = |e: std::io::Error| {
        NatsError::Other(format!(
            "export output {}: {e}; check --output and the folder's permissions",
            path.display()
        ))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(err)?;
    let len = file.metadata().map_err(err)?.len();
    // Read back from the end until a whole line is in view.
    let mut tail = Vec::new();
    let mut window = 64 * 1024u64;
    let (keep, last_line) = loop {
        let from = len.saturating_sub(window);
        file.seek(SeekFrom::Start(from)).map_err(err)?;
        tail.clear();
        file.read_to_end(&mut tail).map_err(err)?;
        let cut = tail.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        match cut {
            Some(end) => {
                let start = tail[..end - 1]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map(|i| i + 1);
                match start {
                    Some(s) => break (from + end as u64, tail[s..end - 1].to_vec()),
                    None if from == 0 => break (end as u64, tail[..end - 1].to_vec()),
                    None => {}
                }
            }
            None if from == 0 => break (0, Vec::new()),
            None => {}
        }
        window *= 4;
    };
    if keep < len {
        tracing::warn!(
            output = %path.display(),
            "cut {} bytes of a torn last line (left by a crash); they are exported again",
            len - keep
        );
        file.set_len(keep).map_err(err)?;
    }
    file.seek(SeekFrom::End(0)).map_err(err)?;
    let last = if last_line.is_empty() {
        0
    } else {
        let v: serde_json::Value = serde_json::from_slice(&last_line).map_err(|e| {
            NatsError::Other(format!(
                "export output {}: the last line is not JSON ({e}); point --output at a log \
                 written by sluice export",
                path.display()
            ))
        })?;
        v["sequence"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                NatsError::Other(format!(
                    "export output {}: the last line has no sequence; point --output at a log \
                     written by sluice export",
                    path.display()
                ))
            })?
    };
    Ok((file, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_fills_the_envelope_sequence_only() {
        let line = br#"{"id":"x","subject":"\"sequence\":\"00000000000000000000\"","sequence":"00000000000000000000","data":{}}"#;
        let out = stamp(line, 42).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["sequence"], "00000000000000000042");
        assert_eq!(v["subject"], "\"sequence\":\"00000000000000000000\"");
        assert!(out.ends_with(b"\n"));
        assert!(stamp(b"{}", 1).is_none());
    }

    #[test]
    fn resume_point_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.ndjson");
        std::fs::write(
            &p,
            "{\"sequence\":\"00000000000000000001\"}\n{\"sequence\":\"00000000000000000002\"}\n{\"seq",
        )
        .unwrap();
        let (_f, last) = open_output(&p).unwrap();
        assert_eq!(last, 2);
        assert!(std::fs::read_to_string(&p).unwrap().ends_with("02\"}\n"));
        let fresh = dir.path().join("new.ndjson");
        assert_eq!(open_output(&fresh).unwrap().1, 0);
    }
}
