//! Stopping an apply part-way: [`StopSignal`] is what a caller (the binary's SIGINT/SIGTERM
//! handler, a test) sets to say "start nothing new"; [`StopReason`] is why a run stopped early,
//! as recorded in [`ApplyReport::stopped`](super::ApplyReport::stopped).
//!
//! Once stopped, [`apply`](super::apply) starts no further operation, lets the ones in flight
//! finish (their outcomes are journaled and reported as usual) and reports every other remaining
//! operation as [`OpStatus::NotStarted`](super::OpStatus::NotStarted).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;

/// How many transport failures in a row (requests that got no response at all: connection
/// refused, reset, timed out), counted across operations, make [`apply`](super::apply) decide the
/// API is unreachable and stop with [`StopReason::Unreachable`]. Five is one write's full retry
/// budget at the default `max_attempts`: one operation that exhausted its retries without hearing
/// from the server at all, or several that each failed the same way, with no response in between.
pub const UNREACHABLE_AFTER: usize = 5;

/// A flag shared between an apply and whoever may interrupt it. Cheap to clone; clones share the
/// flag, and once stopped it stays stopped.
#[derive(Clone)]
pub struct StopSignal {
    tx: Arc<watch::Sender<bool>>,
}

impl StopSignal {
    /// A signal that is not stopped.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        StopSignal { tx: Arc::new(tx) }
    }

    /// Asks every apply holding this signal (or a clone) to start nothing new.
    pub fn stop(&self) {
        self.tx.send_replace(true);
    }

    /// True once [`StopSignal::stop`] was called on this signal or a clone.
    pub fn is_stopped(&self) -> bool {
        *self.tx.borrow()
    }

    /// Waits until the signal is stopped (returns at once if it already is).
    pub async fn stopped(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal::new()
    }
}

impl fmt::Debug for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopSignal")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

impl PartialEq for StopSignal {
    /// Two signals are equal when they are the same flag (one is a clone of the other).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.tx, &other.tx)
    }
}

impl Eq for StopSignal {}

/// Why an apply stopped before running every operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The caller stopped it ([`StopSignal::stop`]): Ctrl-C, SIGTERM.
    Interrupted,
    /// The API stopped answering: this many transport failures in a row
    /// (at least [`UNREACHABLE_AFTER`]).
    Unreachable {
        /// Transport failures in a row when the run stopped.
        consecutive_failures: usize,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Interrupted => write!(f, "interrupted"),
            StopReason::Unreachable {
                consecutive_failures,
            } => write!(
                f,
                "Contentful unreachable ({consecutive_failures} requests in a row got no response)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_clone_stops_the_original_and_waiting_returns_once_stopped() {
        let signal = StopSignal::new();
        assert!(!signal.is_stopped());
        let clone = signal.clone();
        assert_eq!(signal, clone);
        assert_ne!(signal, StopSignal::new());
        let waiter = tokio::spawn({
            let s = signal.clone();
            async move { s.stopped().await }
        });
        clone.stop();
        assert!(signal.is_stopped());
        assert!(waiter.await.is_ok());
        // Already stopped: returns at once.
        signal.stopped().await;
    }
}
