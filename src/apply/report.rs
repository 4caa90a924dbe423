//! The result of an apply, per operation (applied, failed with Contentful's status, object id and
//! `requestId`, or skipped because of which failure). `crate::render::apply_report_text` renders it.

use serde::Serialize;

use super::StopReason;
use crate::plan::{Action, OpId};

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpFailure {
    /// HTTP status, when Contentful answered.
    pub status: Option<u16>,
    /// `sys.id` of the object the operation wrote, when it had one.
    pub object_id: Option<String>,
    /// Contentful's `requestId`, for support.
    pub request_id: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// What happened to one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OpStatus {
    /// Done: written now, or found already as desired (after a conflict or a duplicate).
    Applied {
        /// True when nothing had to be written because the object was already as desired.
        already_done: bool,
        /// `sys.id` of what the operation created, when it created something.
        object_id: Option<String>,
        /// True when the write's response was lost (a 5xx from a proxy, a dropped connection, a
        /// timeout) and re-reading the object showed the write had been applied.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        confirmed_after_lost_response: bool,
    },
    /// Failed (not applied); its dependents were skipped.
    Failed(OpFailure),
    /// The write's response was lost and re-reading the object failed too: it may or may not
    /// have been applied. Its dependents were skipped; check the object by hand.
    Unknown(OpFailure),
    /// Not attempted because an operation it depends on (directly or not) failed or has an
    /// unknown outcome.
    Skipped {
        /// The failed (or unknown) operation.
        because: OpId,
    },
    /// Not attempted because the run was stopped ([`ApplyReport::stopped`]) before it started.
    NotStarted,
}

/// One operation's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpOutcome {
    /// The operation's id.
    pub id: OpId,
    /// Add, change or remove.
    pub action: Action,
    /// The kind's name (`invite`, `change_org_role`, …).
    pub kind: String,
    /// One line saying what the operation does.
    pub description: String,
    /// What happened.
    pub status: OpStatus,
}

/// What [`super::apply`] did: every operation of the plan, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The organization id.
    pub organization: String,
    /// One outcome per operation.
    pub outcomes: Vec<OpOutcome>,
    /// Why the run stopped before starting every operation, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
}

impl ApplyReport {
    /// Applied operations as (added, changed, removed).
    pub fn applied_counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for o in &self.outcomes {
            if matches!(o.status, OpStatus::Applied { .. }) {
                match o.action {
                    Action::Add => c.0 += 1,
                    Action::Change => c.1 += 1,
                    Action::Remove => c.2 += 1,
                }
            }
        }
        c
    }

    /// The failed operations.
    pub fn failed(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Failed(_)))
    }

    /// The skipped operations.
    pub fn skipped(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Skipped { .. }))
    }

    /// The operations whose outcome is unknown (response lost, re-read failed).
    pub fn unknown(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Unknown(_)))
    }

    /// The operations not started because the run stopped.
    pub fn not_started(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::NotStarted))
    }

    /// True when every operation was applied (nothing failed, unknown, skipped or not started).
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none()
            && self
                .outcomes
                .iter()
                .all(|o| matches!(o.status, OpStatus::Applied { .. }))
    }

    /// The last line: `Apply complete: X added, Y changed, Z removed.`,
    /// `Apply failed: N of M operations failed, K skipped.` (with `U outcome unknown` when some
    /// are), or `Apply stopped (interrupted): …` naming how many were not started.
    pub fn last_line(&self) -> String {
        if self.succeeded() {
            let (a, c, r) = self.applied_counts();
            return format!("Apply complete: {a} added, {c} changed, {r} removed.");
        }
        let unknown = self.unknown().count();
        let unknown = if unknown > 0 {
            format!(", {unknown} OUTCOME UNKNOWN")
        } else {
            String::new()
        };
        let counts = format!(
            "{} of {} operations failed{unknown}, {} skipped",
            self.failed().count(),
            self.outcomes.len(),
            self.skipped().count()
        );
        match self.stopped {
            Some(reason) => {
                let applied = self
                    .outcomes
                    .iter()
                    .filter(|o| matches!(o.status, OpStatus::Applied { .. }))
                    .count();
                format!(
                    "Apply stopped ({reason}): {applied} applied, {counts}, {} not started.",
                    self.not_started().count()
                )
            }
            None => format!("Apply failed: {counts}."),
        }
    }
}
