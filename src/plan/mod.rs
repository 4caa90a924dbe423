//! Pure planning: diff the desired state (access file) against the live organization into
//! operations, order them by dependency into concurrent levels, and check guardrails.
//!
//! Nothing here does I/O or reads the clock: [`PlanOptions::created_at`] is injected, so the same
//! inputs always give the same [`Plan`], byte for byte.

mod diff;
mod document;
mod error;
mod guardrails;
mod ops;
mod order;
pub mod role_diff;
mod roles;
pub mod signature;
mod simulate;

pub(crate) use diff::Index;
pub use document::PlanFileError;
pub use error::{Diagnostic, PlanError, Unresolved};
pub use ops::*;
pub use roles::UnmanagedRole;
pub use signature::{OpSignature, OpTarget, Unmatched, compare, signature, touched_by};
pub use simulate::simulate;

use chrono::{DateTime, Utc};

use crate::model::{DesiredState, LiveState};

/// Inputs to [`build`] that do not come from the two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Recorded as the plan's creation time, and the time the plan is made at: access whose
    /// `expires` has passed by then is removed (injected: the planner never reads the clock).
    pub created_at: DateTime<Utc>,
}

/// Plans the changes that make `live` match `desired`.
///
/// Fails when names in the file do not resolve against the organization (every such problem is
/// reported, see [`PlanError`]). A plan that breaks a guardrail is still returned, with
/// [`Plan::refused`] set and the failing [`GuardrailResult`]s saying why.
pub fn build(
    desired: &DesiredState,
    live: &LiveState,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    // One index of the live state, shared by the diff and the ordering.
    let ix = diff::Index::new(live);
    let diff = diff::diff(desired, live, &ix, opts.created_at)?;
    let (operations, levels) = order::order(diff.drafts, desired, live, &ix);
    let after = simulate::simulate_ops(live, &operations, &levels);
    let guardrails = guardrails::check(desired, live, &after, &operations);
    let refused = guardrails.iter().any(|g| !g.passed);
    tracing::debug!(
        operations = operations.len(),
        levels = levels.len(),
        refused,
        "plan built"
    );
    Ok(Plan {
        format_version: FORMAT_VERSION,
        organization: desired.organization.clone(),
        config_path: desired.source_path.clone(),
        config_sha256: desired.source_sha256.clone(),
        config_included: desired.included.clone(),
        created_at: opts.created_at,
        summary: Summary::of(&operations),
        operations,
        levels,
        guardrails,
        refused,
        pending: diff.pending,
        unmanaged: diff.unmanaged,
        waiting: diff.waiting,
        unmanaged_roles: diff.unmanaged_roles,
    })
}

/// Checks every guardrail for `ops` (run in the order of `levels`) against `live`, as [`build`]
/// does for the operations it plans. Used to re-check a part of a plan on its own.
pub fn check_guardrails(
    desired: &DesiredState,
    live: &LiveState,
    ops: &[Operation],
    levels: &[Vec<OpId>],
) -> Vec<GuardrailResult> {
    let after = simulate::simulate_ops(live, ops, levels);
    guardrails::check(desired, live, &after, ops)
}
