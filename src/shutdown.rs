//! The stop signal every stage listens to (mini-redis's `Shutdown` is the model): one
//! [`Trigger`] fires it — a signal (SIGINT, SIGTERM) or the pipeline itself when a stage failed —
//! and each stage holds a [`Shutdown`] it can ask (threads) or wait on (tasks).

use tokio::sync::watch;

/// Fires the stop signal of its [`Shutdown`]s.
#[derive(Debug)]
pub struct Trigger {
    tx: watch::Sender<bool>,
}

/// Whether a stop was asked for. Cheap to clone; a trigger that is gone reads as a stop.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Trigger {
    pub fn fire(&self) {
        self.tx.send_replace(true);
    }

    /// A stop signal that never fires unless this trigger does.
    pub fn shutdown(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }
}

impl Shutdown {
    /// A trigger and its first listener.
    pub fn new() -> (Trigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (Trigger { tx }, Shutdown { rx })
    }

    /// Whether a stop was asked for (or the trigger is gone).
    pub fn is_requested(&self) -> bool {
        *self.rx.borrow() || self.rx.has_changed().is_err()
    }

    /// Waits until a stop is asked for (or the trigger is gone).
    pub async fn requested(&mut self) {
        let _ = self.rx.wait_for(|s| *s).await;
    }

    /// The underlying receiver, for code written against a `watch` channel (NATS mode).
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.rx.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fired_or_dropped_trigger_reads_as_a_stop() {
        let (trigger, mut stop) = Shutdown::new();
        assert!(!stop.is_requested());
        trigger.fire();
        assert!(stop.is_requested());
        stop.requested().await;
        let (trigger, mut stop) = Shutdown::new();
        drop(trigger);
        assert!(stop.is_requested());
        stop.requested().await;
    }
}
