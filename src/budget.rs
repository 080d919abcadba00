//! A byte budget: how much file content may be held between the detector and the commit step.
//!
//! Channels bound the number of versions in flight; this bounds their bytes, so a backlog of large
//! files slows intake instead of filling memory. A permit is released when the version holding it
//! is dropped (after its text has been processed). Bytes held are mirrored in the metrics gauge
//! `sluice_in_flight_bytes` (summed over every budget of the process).

use std::sync::{Arc, Condvar, Mutex};

use crate::metrics::Gauge;

/// Bytes a version holds per byte of its file from reading to commit: its bytes, decoded text,
/// lines, segments, normalized forms, the text in its events, and the tags of the piece being
/// tagged (10-16 per byte measured by `cargo bench --bench shapes` on its five shapes at 8 MiB).
pub const PER_BYTE: u64 = 20;

/// Bytes a version holds per line of its file, beside [`PER_BYTE`]: each line can become a
/// segment, with its extraction, fingerprint and signature and its event (3.8-6.8 KiB measured
/// per segment, for news and for short paragraphs; a line is charged whether or not it ends up
/// a segment of its own, so the charge is an upper bound).
pub const PER_LINE: u64 = 7 * 1024;

/// What a version with these bytes is charged: [`PER_BYTE`] per byte and [`PER_LINE`] per line
/// that is not blank. Judged from the bytes before they are decoded (one pass, no allocation),
/// so a page of a million short lines is charged for them before it can take the memory.
pub fn weight(bytes: &[u8]) -> u64 {
    let mut lines = 1u64;
    for w in bytes.windows(2) {
        if w[0] == b'\n' && w[1] != b'\n' && w[1] != b'\r' {
            lines += 1;
        }
    }
    (bytes.len() as u64)
        .saturating_mul(PER_BYTE)
        .saturating_add(lines.saturating_mul(PER_LINE))
}

#[derive(Clone)]
pub struct ByteBudget {
    inner: Arc<(Mutex<u64>, Condvar)>,
    cap: u64,
    /// `sluice_in_flight_bytes`: what is held now.
    gauge: Gauge,
}

/// Bytes taken from a [`ByteBudget`]; given back on drop.
pub struct Permit {
    inner: Arc<(Mutex<u64>, Condvar)>,
    bytes: u64,
    gauge: Gauge,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Permit({} bytes)", self.bytes)
    }
}

impl ByteBudget {
    /// A budget of `cap` that shows what it holds in `gauge`.
    pub fn new(cap: u64, gauge: Gauge) -> ByteBudget {
        ByteBudget {
            inner: Arc::new((Mutex::new(0), Condvar::new())),
            cap,
            gauge,
        }
    }

    /// Blocks until `bytes` fit. A request larger than the whole budget waits until nothing else
    /// is held, so one big file always gets through.
    pub fn acquire(&self, bytes: u64) -> Permit {
        let (lock, cvar) = &*self.inner;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + bytes > self.cap {
            used = cvar.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += bytes;
        self.gauge.inc_by(i64::try_from(bytes).unwrap_or(i64::MAX));
        Permit {
            inner: self.inner.clone(),
            bytes,
            gauge: self.gauge.clone(),
        }
    }

    pub fn used(&self) -> u64 {
        *self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.inner;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        *used -= self.bytes;
        self.gauge
            .dec_by(i64::try_from(self.bytes).unwrap_or(i64::MAX));
        cvar.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn acquiring_past_the_cap_waits_for_a_release() {
        let budget = ByteBudget::new(100, Gauge::default());
        let first = budget.acquire(80);
        let b = budget.clone();
        let waiter = std::thread::spawn(move || {
            let _p = b.acquire(30);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "80 + 30 > 100 must wait");
        drop(first);
        waiter.join().unwrap();
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn the_weight_counts_bytes_and_lines_that_are_not_blank() {
        assert_eq!(weight(b"one line"), 8 * PER_BYTE + PER_LINE);
        assert_eq!(weight(b"a\n\nb\r\n\r\nc\n"), 10 * PER_BYTE + 3 * PER_LINE);
        assert!(weight(&b"a\n\n".repeat(1000)) > 1000 * PER_LINE);
    }

    #[test]
    fn one_request_larger_than_the_budget_still_passes_alone() {
        let gauge = Gauge::default();
        let budget = ByteBudget::new(10, gauge.clone());
        let p = budget.acquire(1000);
        assert_eq!((budget.used(), gauge.get()), (1000, 1000));
        drop(p);
        assert_eq!((budget.used(), gauge.get()), (0, 0));
    }
}
