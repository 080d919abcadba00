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

/// What the signals tell the stages: stop (SIGINT, SIGTERM), or look at everything again
/// (SIGHUP, counted).
pub struct Signals {
    pub shutdown: Shutdown,
    pub rescan: watch::Receiver<u64>,
}

/// Turns SIGINT and SIGTERM into the shutdown signal every stage listens to, and SIGHUP into a
/// rescan: a daemon whose terminal went away, or whose operator wants it to look again (after
/// fixing permissions, say), carries on instead of dying mid-commit.
pub fn on_signals() -> Signals {
    let (trigger, shutdown) = Shutdown::new();
    let (rescan_tx, rescan) = watch::channel(0u64);
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot install signal handlers: stop sluice with SIGKILL");
            // Keep the senders: dropping them would read as "stop" everywhere.
            let _keep = (rescan_tx, trigger);
            std::future::pending::<()>().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM received"); break; }
                _ = int.recv() => { tracing::info!("SIGINT received"); break; }
                _ = hup.recv() => {
                    tracing::info!(
                        "SIGHUP received: sluice carries on and looks at the whole folder again \
                         (stop it with SIGTERM or SIGINT)"
                    );
                    rescan_tx.send_modify(|n| *n += 1);
                }
            }
        }
        trigger.fire();
        // The rescan sender lives on with the task's end; a closed channel reads as no rescan.
        drop(rescan_tx);
    });
    Signals { shutdown, rescan }
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
