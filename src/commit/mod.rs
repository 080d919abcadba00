//! What every file version goes through between processing and its lines in the log, in local
//! mode and on a NATS worker alike — one path, so a change to what a version commits is made once:
//!
//! 1. [`complete`] it from the path's committed segments (`unchanged` marks, `retracted` lists);
//! 2. get its dedup [`Verdicts`] from a backend (the local index, or the shared one in NATS KV)
//!    and [`apply`] them to its events ([`resolve`] does both for a backend that needs no
//!    preparation);
//! 3. [`stamp`] it: each event gets its committed id (mixed with the path's change number) and is
//!    rendered as its line.
//!
//! A panic while processing becomes the version's failure event ([`panicked`]). The local
//! group commit (the log and the state database) is [`local`].

pub mod local;

use crate::dedup::{self, Backend, Dedup, SegmentsSeen, Status, Verdict, Verdicts};
use crate::detect::{FailKind, Failure};
use crate::event::payload::DedupData;
use crate::event::{self, Event, EventType};
use crate::process::{failed, Committable, Pending};
use crate::store::StatIdentity;

/// Completes a committable from the committed segments of its path (`previous`, None when the
/// path was not tracked): `unchanged` marks and `retracted` lists.
pub fn complete(c: &mut Committable, previous: Option<&[String]>) {
    let previous = previous.unwrap_or(&[]);
    match &c.pending {
        Pending::Nothing => {}
        Pending::RetractAll => {
            if let Some(e) = c.events.first_mut() {
                e.set_retracted(&previous.iter().map(String::as_str).collect::<Vec<_>>());
            }
        }
        Pending::Version { segments } => {
            let before: std::collections::HashSet<&str> =
                previous.iter().map(String::as_str).collect();
            let now: std::collections::HashSet<&str> =
                segments.iter().map(String::as_str).collect();
            for e in c.events.iter_mut().filter(|e| e.kind == EventType::Segment) {
                if before.contains(e.segment_id()) {
                    e.mark_unchanged();
                }
            }
            let retracted: Vec<&str> = previous
                .iter()
                .map(String::as_str)
                .filter(|id| !now.contains(id))
                .collect();
            if let Some(doc) = c.events.last_mut() {
                doc.set_retracted(&retracted);
            }
        }
    }
}

/// What the dedup index must know of a version's segments: their ids, and which ones
/// [`complete`] marked `unchanged`.
pub fn segments_seen(c: &Committable) -> SegmentsSeen {
    let mut seen = SegmentsSeen::default();
    for e in c.events.iter().filter(|e| e.kind == EventType::Segment) {
        seen.ids.push(e.segment_id().to_string());
        seen.unchanged.push(e.is_unchanged());
    }
    seen
}

/// A verdict as the events carry it: `{status, of, similarity}`.
fn verdict_data(v: &Verdict) -> DedupData {
    let status = match v.status {
        Status::Exact => "exact",
        Status::Near => "near",
    };
    DedupData {
        status,
        of: Some(v.of.clone()),
        similarity: Some(v.similarity),
    }
}

/// Puts the verdicts on a version into its events: a byte copy loses its segment events and
/// says `exact` of the document (and of each article) it copies; otherwise each segment, article
/// and the document say what they repeat. `analysis_ms` and the verdicts' lookup time go to
/// `timings_ms`.
pub fn apply(c: &mut Committable, v: &Verdicts, analysis_ms: f64) {
    let Some(doc_pos) = c
        .events
        .iter()
        .rposition(|e| e.kind == EventType::DocumentIngested)
    else {
        return;
    };
    if let Some(of) = &v.copy_of {
        c.events.retain(|e| e.kind != EventType::Segment);
        let exact = |of: String| {
            verdict_data(&Verdict {
                status: Status::Exact,
                of,
                similarity: 1.0,
            })
        };
        if let Some(doc) = c.events.last_mut() {
            doc.set_dedup(exact(of.clone()));
            let articles = (0..doc.article_count()).map(|i| Some(exact(dedup::article_ref(of, i))));
            doc.set_article_dedup(articles.collect::<Vec<_>>());
            doc.set_dedup_timings(analysis_ms, v.index_ms);
        }
        return;
    }
    let segments = c.events.iter_mut().filter(|e| e.kind == EventType::Segment);
    for (e, verdict) in segments.zip(&v.segments) {
        if let Some(verdict) = verdict {
            e.set_dedup(verdict_data(verdict));
        }
    }
    let doc = &mut c.events[doc_pos];
    doc.set_article_dedup(v.articles.iter().map(|a| a.as_ref().map(verdict_data)));
    if let Some(verdict) = &v.document {
        doc.set_dedup(verdict_data(verdict));
    }
    doc.set_dedup_timings(analysis_ms, v.index_ms);
}

/// Steps 1 and 2 for a backend that needs no preparation: completes the version from the
/// path's `previous` segments, then looks it up and applies the verdicts.
pub fn resolve<B: Backend>(
    c: &mut Committable,
    previous: Option<&[String]>,
    dedup: &Dedup,
    backend: &mut B,
) -> Result<(), B::Error> {
    complete(c, previous);
    let Some(a) = c.dedup.take() else {
        return Ok(());
    };
    let seen = segments_seen(c);
    let v = dedup::verdicts(dedup, backend, &a, &c.path, &seen)?;
    apply(c, &v, a.ms);
    Ok(())
}

/// Step 3: gives each event its committed id (the path's change number `generation` mixed in)
/// and appends its line to `out` (`sequence` from `first_seq` on; 0 for a line whose place is
/// given later, as in NATS mode). `each` sees every event with its line's range in `out`.
pub fn stamp(
    c: &mut Committable,
    generation: u64,
    source: &str,
    time: &str,
    first_seq: u64,
    out: &mut Vec<u8>,
    mut each: impl FnMut(&Event, std::ops::Range<usize>),
) {
    for (k, e) in c.events.iter_mut().enumerate() {
        e.id = event::committed_id(&e.id, generation);
        let start = out.len();
        let seq = if first_seq == 0 {
            0
        } else {
            first_seq + k as u64
        };
        event::write_line(out, e, source, time, seq);
        each(e, start..out.len());
    }
}

/// A panic while processing `path`, as that version's failure event (a bug must not lose the
/// version's event, nor turn a NATS job into a poison message).
pub fn panicked(
    path: String,
    sha256: Option<String>,
    stat: Option<StatIdentity>,
    panic: &str,
) -> Committable {
    tracing::error!(path, "processing panicked: {panic}");
    failed(Failure {
        path,
        stage: crate::event::FailStage::Process,
        kind: FailKind::InternalError,
        message: format!("processing failed unexpectedly: {panic}"),
        sha256,
        stat,
    })
}
