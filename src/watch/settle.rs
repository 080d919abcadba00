//! Settle: a path is handed on only once it has been quiet for `settle`, or once it has waited
//! `max_wait` since its first event (for files that never go quiet).
//!
//! Closing a file after writing is deliberately not taken as "complete": writers that append in
//! chunks (`>>` in a shell loop, rsync's partial files) close between chunks, and a file must be
//! processed once, after it is complete.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Settle {
    settle: Duration,
    max_wait: Duration,
    /// path -> (first event, last event)
    pending: HashMap<PathBuf, (Instant, Instant)>,
}

impl Settle {
    pub fn new(settle: Duration, max_wait: Duration) -> Settle {
        Settle {
            settle,
            max_wait,
            pending: HashMap::new(),
        }
    }

    /// Records activity on `path` at `now`.
    pub fn touch(&mut self, path: PathBuf, now: Instant) {
        self.pending
            .entry(path)
            .and_modify(|(_, last)| *last = now)
            .or_insert((now, now));
    }

    /// Removes and returns every path that is ready at `now`, sorted.
    pub fn ready(&mut self, now: Instant) -> Vec<PathBuf> {
        let (settle, max_wait) = (self.settle, self.max_wait);
        let mut ready = Vec::new();
        self.pending.retain(|path, (first, last)| {
            let done =
                now.duration_since(*last) >= settle || now.duration_since(*first) >= max_wait;
            if done {
                ready.push(path.clone());
            }
            !done
        });
        ready.sort();
        ready
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_path_is_ready_only_after_it_was_quiet_for_the_settle_time() {
        let t0 = Instant::now();
        let mut s = Settle::new(ms(200), ms(10_000));
        s.touch("a".into(), t0);
        s.touch("a".into(), t0 + ms(150));
        assert!(s.ready(t0 + ms(300)).is_empty(), "only 150 ms quiet");
        assert_eq!(s.ready(t0 + ms(350)), vec![PathBuf::from("a")]);
        assert!(s.is_empty());
    }

    #[test]
    fn a_path_that_never_goes_quiet_is_released_at_max_wait() {
        let t0 = Instant::now();
        let mut s = Settle::new(ms(200), ms(1_000));
        for i in 0..20 {
            s.touch("busy".into(), t0 + ms(i * 100));
            let released = s.ready(t0 + ms(i * 100));
            if i < 10 {
                assert!(released.is_empty(), "released early at {i}");
            } else {
                assert_eq!(released.len(), 1);
                return;
            }
        }
        panic!("never released");
    }
}
