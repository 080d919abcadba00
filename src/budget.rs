//! A byte budget: how much file content may be held between the detector and the commit step.
//!
//! Channels bound the number of versions in flight; this bounds their bytes, so a backlog of large
//! files slows intake instead of filling memory. A permit is released when the version holding it
//! is dropped (after its text has been processed). Bytes held are mirrored in the metrics gauge
//! `sluice_in_flight_bytes` (summed over every budget of the process).

use std::sync::{Arc, Condvar, Mutex};

#[derive(Clone)]
pub struct ByteBudget {
    inner: Arc<(Mutex<u64>, Condvar)>,
    cap: u64,
}

/// Bytes taken from a [`ByteBudget`]; given back on drop.
pub struct Permit {
    inner: Arc<(Mutex<u64>, Condvar)>,
    bytes: u64,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Permit({} bytes)", self.bytes)
    }
}

impl ByteBudget {
    pub fn new(cap: u64) -> ByteBudget {
        ByteBudget {
            inner: Arc::new((Mutex::new(0), Condvar::new())),
            cap,
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
        crate::metrics::global()
            .in_flight_bytes
            .add(i64::try_from(bytes).unwrap_or(i64::MAX));
        Permit {
            inner: self.inner.clone(),
            bytes,
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
        crate::metrics::global()
            .in_flight_bytes
            .add(-i64::try_from(self.bytes).unwrap_or(i64::MAX));
        cvar.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn acquiring_past_the_cap_waits_for_a_release() {
        let budget = ByteBudget::new(100);
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
    fn one_request_larger_than_the_budget_still_passes_alone() {
        let budget = ByteBudget::new(10);
        let p = budget.acquire(1000);
        assert_eq!(budget.used(), 1000);
        drop(p);
        assert_eq!(budget.used(), 0);
    }
}
