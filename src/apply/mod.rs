//! The only module that changes Contentful: executes a [`VerifiedPlan`] level by level with
//! version-aware writes. A plan is verified when made now and not refused ([`plan_checked`]), or
//! when a saved plan passes [`verify_saved`] (re-read, re-planned, every guardrail checked again,
//! each operation one the access file asks for now); nothing else can be applied.
//!
//! [`apply`] runs the operations of one level concurrently (at most
//! [`ApplyOptions::parallelism`] at a time; every request still goes through the client's shared
//! pacer). Updates send the `sys.version` the plan saw as `X-Contentful-Version`; a 409 re-reads the
//! object and either finds the desired state already there (done) or fails the operation as
//! "changed during apply", never overwriting blindly. A failed operation does not stop independent
//! ones; its dependents are skipped. Progress and journal records go to an [`ApplyObserver`], so
//! the library itself never prints. [`check_stale`] re-reads what a saved plan touches, and
//! [`rehearse`] applies a plan to an in-process sandbox seeded from the live organization.

mod exec;
mod rehearse;
mod report;
mod stale;
mod stop;
mod verify;

pub use exec::apply;
pub use rehearse::{Rehearsal, rehearse};
pub use report::{ApplyReport, OpFailure, OpOutcome, OpStatus};
pub use stale::{Staleness, check_stale, stale_against};
pub use stop::{StopReason, StopSignal, UNREACHABLE_AFTER};
pub use verify::{
    CLOCK_SKEW, MismatchReason, OpMismatch, Planned, Refusal, Unreviewed, VerifiedPlan,
    VerifyError, VerifyOptions, mismatches, plan_checked, verify_reviewed, verify_saved,
};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::plan::OpId;

/// How [`apply`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// At most this many operations of one level run at the same time (at least 1).
    pub parallelism: usize,
    /// Names (emails) of user ids, to say who changed an object during the apply; an id not
    /// listed is shown as is.
    pub user_names: BTreeMap<String, String>,
    /// Set it (from a signal handler, another task) to stop the run: nothing new starts, what is
    /// in flight finishes and is recorded, the rest is reported as not started.
    pub stop: StopSignal,
}

impl Default for ApplyOptions {
    /// Four operations at a time, no user names, a fresh (not stopped) [`StopSignal`].
    fn default() -> Self {
        ApplyOptions {
            parallelism: 4,
            user_names: BTreeMap::new(),
            stop: StopSignal::new(),
        }
    }
}

impl ApplyOptions {
    /// Takes the emails of `live`'s users as the names of their ids.
    pub fn with_users_of(mut self, live: &crate::model::LiveState) -> Self {
        self.user_names = live
            .users
            .values()
            .map(|u| (u.id.clone(), u.email.to_string()))
            .collect();
        self
    }
}

/// Whether a journal record announces a write or reports its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalPhase {
    /// The write is about to be sent.
    Attempt,
    /// The write finished (successfully or not).
    Outcome,
}

/// One line of the apply journal (`--journal FILE`): a write about to be sent, or its outcome.
/// Never contains the management token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalRecord {
    /// When this was recorded.
    pub time: DateTime<Utc>,
    /// The operation the write belongs to.
    pub op: OpId,
    /// Attempt or outcome.
    pub phase: JournalPhase,
    /// HTTP method (`POST`, `PUT`, `DELETE`, or `GET` for a re-read after a conflict).
    pub method: &'static str,
    /// Request path (no host, no credentials).
    pub path: String,
    /// HTTP status of the outcome (absent for attempts and for failures without a response).
    pub status: Option<u16>,
    /// Contentful's `requestId`, when the outcome carried one.
    pub request_id: Option<String>,
    /// `sys.id` of the object written or created, when known.
    pub object_id: Option<String>,
    /// `ok`, `already_done`, or `failed: <message>` (outcomes only).
    pub result: Option<String>,
}

/// Something [`apply`] reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEvent {
    /// A level starts: its index (0-based), the number of levels and its operations.
    LevelStarted {
        /// Index of the level.
        level: usize,
        /// Number of levels in the plan.
        levels: usize,
        /// Operations of the level that will run (skipped ones excluded).
        ops: Vec<OpId>,
    },
    /// A write is sent or finished.
    Journal(JournalRecord),
    /// An operation finished: applied, failed or skipped.
    Finished(OpOutcome),
}

/// Receives [`ApplyEvent`]s as they happen: the binary prints progress and writes the journal.
pub trait ApplyObserver {
    /// Called for every event, in the order they happen.
    fn event(&mut self, event: &ApplyEvent);
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl ApplyObserver for NoObserver {
    fn event(&mut self, _event: &ApplyEvent) {}
}

impl<F: FnMut(&ApplyEvent)> ApplyObserver for F {
    fn event(&mut self, event: &ApplyEvent) {
        self(event)
    }
}

/// Why [`check_stale`] or [`rehearse`] could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A request to Contentful failed.
    #[error(transparent)]
    Contentful(#[from] crate::contentful::ContentfulError),
    /// The rehearsal sandbox could not start.
    #[error("cannot start the rehearsal sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// The access file does not resolve against the organization.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
}
