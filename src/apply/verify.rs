//! The only way to get something [`apply`](super::apply) will execute: a [`VerifiedPlan`].
//!
//! A plan is verified in one of two ways:
//! - made now by [`plan_checked`] from the access file and the live organization, and not refused
//!   by any guardrail (verified by construction);
//! - read back from a file and checked by [`verify_saved`]: the saved plan is never trusted as
//!   written. Its `refused` flag, age (past or future), access-file hash and organization are
//!   checked; the organization is read again, and in that read every live object its operations
//!   write or delete (derived from the operations themselves, not from their `touches` lists) must
//!   still have the version the plan saw; the plan is made again from the access file and the organization as it is now, every
//!   guardrail is checked again, and each saved operation must be one the file asks for now (same
//!   target and content, compared by [`OpSignature`](crate::plan::OpSignature), never by id), with
//!   at least the dependencies the fresh plan gives it. Any difference refuses the whole plan
//!   ([`Refusal`]), naming each operation that does not match; nothing is written.
//!
//! [`VerifiedPlan`] has private fields, no public constructor and no `Deserialize`, so a refused or
//! unchecked plan cannot reach `apply`:
//!
//! ```compile_fail
//! # async fn f(client: &contentful_access::contentful::Client, plan: contentful_access::plan::Plan) {
//! use contentful_access::apply::{self, ApplyOptions, NoObserver};
//! // A `Plan` (parsed from a file, edited by hand, refused…) is not a `VerifiedPlan`.
//! apply::apply(client, &plan, &ApplyOptions::default(), &mut NoObserver).await;
//! # }
//! ```
//!
//! ```compile_fail
//! // Nor can one be made up from a plan.
//! # fn f(plan: contentful_access::plan::Plan) {
//! let v = contentful_access::apply::VerifiedPlan { plan };
//! # }
//! ```
//!
//! What remains: between verification and each write, someone else can still change the
//! organization. Updates carry the version the plan saw (`X-Contentful-Version`), so such an edit
//! fails the operation instead of being overwritten.

use std::collections::BTreeMap;

use std::ops::Deref;

use chrono::{DateTime, Duration, Utc};

use super::stale::{Staleness, stale_against};
use crate::contentful::{Client, ContentfulError};
use crate::model::{DesiredState, LiveState};
use crate::plan::{
    self, GuardrailResult, OpId, Operation, Plan, PlanError, PlanFileError, PlanOptions,
    check_guardrails, compare, touched_by,
};

/// A plan that may be executed: made now and not refused ([`plan_checked`]), or a saved plan that
/// passed every check of [`verify_saved`]. Reads like the [`Plan`] it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPlan {
    plan: Plan,
}

impl VerifiedPlan {
    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The plan, giving up the right to apply it.
    pub fn into_plan(self) -> Plan {
        self.plan
    }
}

impl Deref for VerifiedPlan {
    type Target = Plan;

    fn deref(&self) -> &Plan {
        &self.plan
    }
}

/// A plan made now: one that may be applied, or one a guardrail refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// No guardrail failed.
    Verified(VerifiedPlan),
    /// A guardrail failed ([`Plan::failed_guardrails`] says which); it is never applied.
    Refused(Plan),
}

impl Planned {
    /// The plan, verified or not (to show it).
    pub fn plan(&self) -> &Plan {
        match self {
            Planned::Verified(v) => v.plan(),
            Planned::Refused(p) => p,
        }
    }
}

/// Plans `desired` against `live` ([`plan::build`]) and returns the plan as verified when no
/// guardrail refuses it.
pub fn plan_checked(
    desired: &DesiredState,
    live: &LiveState,
    opts: &PlanOptions,
) -> Result<Planned, PlanError> {
    let plan = plan::build(desired, live, opts)?;
    Ok(if plan.refused {
        Planned::Refused(plan)
    } else {
        Planned::Verified(VerifiedPlan { plan })
    })
}

/// How [`verify_saved`] judges a saved plan's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The time now.
    pub now: DateTime<Utc>,
    /// A plan older than this is refused.
    pub max_age: Duration,
}

/// Why a saved plan is not applied. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The plan file says it was refused by guardrails; such a plan is never applied.
    MarkedRefused {
        /// The failed guardrails, as the file lists them.
        failed: Vec<GuardrailResult>,
    },
    /// The plan is for another organization than the access file manages.
    OtherOrganization {
        /// The organization in the plan.
        plan: String,
        /// The organization in the access file.
        file: String,
    },
    /// The plan is too old, from the future, made from another version of the access file, or
    /// objects it writes changed since.
    Stale(Vec<Staleness>),
    /// Planned again now, the access file breaks guardrails (for the saved operations alone, when
    /// they are fewer than the file asks for).
    Guardrails(Vec<GuardrailResult>),
    /// Operations the access file does not ask for now (or not like this).
    Operations(Vec<OpMismatch>),
    /// `apply --reviewed`: planned now, the access file asks for operations the reviewed plan
    /// did not have ([`verify_reviewed`]).
    Unreviewed(Vec<Unreviewed>),
}

/// An operation of the fresh plan that the reviewed plan does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreviewed {
    /// Its id in the fresh plan.
    pub id: OpId,
    /// What it does.
    pub description: String,
    /// What the reviewed plan did for the same target instead, if anything.
    pub reviewed_instead: Option<String>,
}

/// A saved operation that is not one the access file asks for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpMismatch {
    /// The operation's id in the saved plan.
    pub id: OpId,
    /// What the saved operation does.
    pub description: String,
    /// Why it does not match.
    pub reason: MismatchReason,
}

/// Why a saved operation does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchReason {
    /// The file asks for nothing like it now.
    NotAsked,
    /// The file asks for something else for the same target.
    Differs {
        /// What the file asks for instead.
        wanted: String,
    },
    /// It repeats an earlier operation of the saved plan, which the file asks for once.
    Repeats {
        /// The earlier operation.
        first: OpId,
    },
    /// The file asks for it, but only after an operation the saved plan does not run first.
    MissingDependency {
        /// The operation it must wait for.
        needs: String,
    },
}

impl Refusal {
    /// True when a guardrail or the verification of the operations refused the plan (exit code 3),
    /// false when it is merely out of date (exit code 1).
    pub fn is_guardrail(&self) -> bool {
        !matches!(self, Refusal::Stale(_))
    }
}

/// Why [`verify_saved`] did not produce a [`VerifiedPlan`].
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The plan was checked and refused.
    #[error("the saved plan is refused")]
    Refused(Refusal),
    /// The plan's operations, dependencies and levels do not fit together.
    #[error(transparent)]
    File(#[from] PlanFileError),
    /// Reading the organization failed.
    #[error(transparent)]
    Contentful(#[from] ContentfulError),
    /// The access file does not resolve against the organization.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// A plan dated later than this after `now` is from the future (allows for clocks of two
/// machines that disagree a little).
pub const CLOCK_SKEW: Duration = Duration::seconds(60);

/// Verifies a saved plan against the access file it must come from (`desired`) and the
/// organization as it is now; see the module docs for every check. Reads, never writes.
pub async fn verify_saved(
    client: &Client,
    saved: Plan,
    desired: &DesiredState,
    opts: &VerifyOptions,
) -> Result<VerifiedPlan, VerifyError> {
    saved.verify()?;
    if saved.refused || saved.guardrails.iter().any(|g| !g.passed) {
        return Err(VerifyError::Refused(Refusal::MarkedRefused {
            failed: saved.failed_guardrails().cloned().collect(),
        }));
    }
    if saved.organization != desired.organization {
        return Err(VerifyError::Refused(Refusal::OtherOrganization {
            plan: saved.organization.clone(),
            file: desired.organization.clone(),
        }));
    }
    // The organization is read once: to plan again, and to check the saved plan's objects'
    // versions in that same read (no `GET` per object, no pages of their own; issue 20).
    let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
    let live = client
        .read_live_state(&desired.organization, &spaces)
        .await?;
    let stale = stale_against(
        &saved,
        Some(&desired.source_sha256),
        opts.now,
        opts.max_age,
        &live,
    );
    if !stale.is_empty() {
        return Err(VerifyError::Refused(Refusal::Stale(stale)));
    }
    let fresh = plan::build(
        desired,
        &live,
        &PlanOptions {
            created_at: opts.now,
        },
    )?;
    if fresh.refused {
        return Err(VerifyError::Refused(Refusal::Guardrails(
            fresh.failed_guardrails().cloned().collect(),
        )));
    }
    let mismatches = mismatches(&saved, &fresh);
    if !mismatches.is_empty() {
        return Err(VerifyError::Refused(Refusal::Operations(mismatches)));
    }
    // Fewer operations than the file asks for now: check the guardrails for these alone (a
    // removal may be safe only together with a grant the saved plan does not have).
    let comparison = compare(&saved, &fresh);
    if !comparison.missing.is_empty() {
        let kept: BTreeMap<&OpId, ()> = comparison.matched.iter().map(|(_, f)| (f, ())).collect();
        let ops: Vec<Operation> = fresh
            .operations
            .iter()
            .filter(|o| kept.contains_key(&o.id))
            .cloned()
            .collect();
        let levels: Vec<Vec<OpId>> = fresh
            .levels
            .iter()
            .map(|l| {
                l.iter()
                    .filter(|id| kept.contains_key(id))
                    .cloned()
                    .collect()
            })
            .collect();
        let failed: Vec<GuardrailResult> = check_guardrails(desired, &live, &ops, &levels)
            .into_iter()
            .filter(|g| !g.passed)
            .collect();
        if !failed.is_empty() {
            return Err(VerifyError::Refused(Refusal::Guardrails(failed)));
        }
    }
    let mut plan = saved;
    // What the operations touch, as derived from them (the list in the file is not trusted).
    for op in &mut plan.operations {
        op.touches = touched_by(&op.kind);
    }
    Ok(VerifiedPlan { plan })
}

/// `apply --reviewed`: accepts `fresh` (planned now from the access file and checked by every
/// guardrail, hence a [`VerifiedPlan`]) only when each of its operations is one `reviewed` has,
/// compared by target and content ([`compare`], never by id). Operations of `reviewed` that are no
/// longer needed are simply not in `fresh`, so they are not done. Otherwise refuses, listing every
/// unreviewed operation; a reviewed plan for another organization is refused too. Pure: nothing
/// is read or written.
///
/// The reviewed plan's age and access-file hash are not checked: what runs is `fresh`, and every
/// operation of it was reviewed; a review may take days and `main` may have moved meanwhile.
pub fn verify_reviewed(fresh: VerifiedPlan, reviewed: &Plan) -> Result<VerifiedPlan, Refusal> {
    if reviewed.organization != fresh.organization {
        return Err(Refusal::OtherOrganization {
            plan: reviewed.organization.clone(),
            file: fresh.organization.clone(),
        });
    }
    let comparison = compare(&fresh, reviewed);
    if comparison.unmatched.is_empty() {
        return Ok(fresh);
    }
    let list = comparison
        .unmatched
        .iter()
        .map(|u| Unreviewed {
            id: u.id.clone(),
            description: fresh
                .op(&u.id)
                .map(|o| o.kind.describe())
                .unwrap_or_else(|| u.id.to_string()),
            reviewed_instead: u
                .same_target
                .as_ref()
                .and_then(|id| reviewed.op(id))
                .map(|o| o.kind.describe()),
        })
        .collect();
    Err(Refusal::Unreviewed(list))
}

/// The operations of `saved` that `fresh` (planned now from the same file) does not have, or
/// has only with a dependency `saved` does not order before them.
pub fn mismatches(saved: &Plan, fresh: &Plan) -> Vec<OpMismatch> {
    let comparison = compare(saved, fresh);
    let describe_op = |p: &Plan, id: &OpId| {
        p.op(id)
            .map(|o| o.kind.describe())
            .unwrap_or_else(|| id.to_string())
    };
    let mut out: Vec<OpMismatch> = comparison
        .unmatched
        .iter()
        .map(|u| OpMismatch {
            id: u.id.clone(),
            description: describe_op(saved, &u.id),
            reason: match (&u.repeats, &u.same_target) {
                (Some(first), _) => MismatchReason::Repeats {
                    first: first.clone(),
                },
                (None, Some(f)) => MismatchReason::Differs {
                    wanted: describe_op(fresh, f),
                },
                (None, None) => MismatchReason::NotAsked,
            },
        })
        .collect();
    let saved_of: BTreeMap<&OpId, &OpId> = comparison.matched.iter().map(|(s, f)| (f, s)).collect();
    for (s, f) in &comparison.matched {
        let (Some(s_op), Some(f_op)) = (saved.op(s), fresh.op(f)) else {
            continue;
        };
        for dep in &f_op.depends_on {
            let ordered = saved_of
                .get(dep)
                .is_some_and(|sd| s_op.depends_on.contains(sd));
            if !ordered {
                out.push(OpMismatch {
                    id: s.clone(),
                    description: s_op.kind.describe(),
                    reason: MismatchReason::MissingDependency {
                        needs: describe_op(fresh, dep),
                    },
                });
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
