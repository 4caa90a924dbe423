//! Pure planning: diff the desired state (access file) against the live organization into
//! operations, order them by dependency into concurrent levels, and check guardrails.
//!
//! Nothing here does I/O or reads the clock: [`PlanOptions::created_at`] is injected, so the same
//! inputs always give the same [`Plan`], byte for byte.

mod error;
mod ops;

pub use error::{Diagnostic, PlanError, Unresolved};
pub use ops::*;

use chrono::{DateTime, Utc};

/// Inputs to [`build`] that do not come from the two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Recorded as the plan's creation time (injected: the planner never reads the clock).
    pub created_at: DateTime<Utc>,
}
