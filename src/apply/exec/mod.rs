//! Executing a plan: level by level, operations of one level concurrently, each write journaled,
//! conflicts (409) and duplicates (422) resolved by re-reading what is there, lost answers
//! resolved by re-reading whether the write landed, dependents of a failure (or of an unknown
//! outcome) skipped, and nothing new started once the run is stopped.
//!
//! Every operation takes one of three shapes ([`shapes::Shape`]): a create (POST, recognised afterwards
//! by its natural key), an update (PUT with the planned `sys.version`) or a delete (re-read, then
//! DELETE with the version just read). [`shapes::shape`] is the table of what varies between the
//! thirteen operation kinds; [`create`], [`update`] and [`delete`] hold what does not;
//! [`deletes`] reads a level's collections before its deletes and [`failures`] words what went wrong.

mod create;
mod delete;
mod deletes;
mod failures;
mod shapes;
mod update;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::report::{ApplyReport, OpFailure, OpOutcome, OpStatus};
use super::{
    ApplyEvent, ApplyObserver, ApplyOptions, JournalPhase, JournalRecord, StopReason,
    UNREACHABLE_AFTER, VerifiedPlan,
};
use crate::contentful::request::Request;
use crate::contentful::{Client, ContentfulError, ReadScope};
use crate::model::{LiveSpace, LiveState};
use crate::plan::{
    MembershipRef, ObjectKind, OpId, OpKind, Operation, Plan, TeamRef, created_role_op,
};

use create::create;
use delete::delete;
use deletes::read_before_deletes;
use failures::plain_failure;
use shapes::{Shape, shape};
use update::update;

/// How many times a write whose answer was lost, and which a re-read showed was not applied, is
/// sent again (each time only after that re-read).
const MAX_RESENDS: u32 = 2;

/// Executes `plan` against the organization `client` talks to and reports what happened to each
/// operation. Never fails as a whole: every problem is an operation's [`OpStatus::Failed`] (or
/// [`OpStatus::Unknown`] when its answer was lost and re-reading failed too), and the operations
/// that depend on it are [`OpStatus::Skipped`].
///
/// Once [`ApplyOptions::stop`] is set, or [`UNREACHABLE_AFTER`] requests in a row got no
/// response, no further operation starts: those in flight finish and are recorded, the rest are
/// [`OpStatus::NotStarted`] and [`ApplyReport::stopped`] says why. Only a [`VerifiedPlan`] can be
/// given: a plan made now that no guardrail refused ([`super::plan_checked`]), or a saved plan
/// that passed [`super::verify_saved`].
pub async fn apply(
    client: &Client,
    plan: &VerifiedPlan,
    opts: &ApplyOptions,
    events: &mut impl ApplyObserver,
) -> ApplyReport {
    let plan: &Plan = plan.plan();
    let by_id: BTreeMap<&OpId, &Operation> = plan.operations.iter().map(|o| (&o.id, o)).collect();
    let mut outcomes: BTreeMap<OpId, OpOutcome> = BTreeMap::new();
    // For every failed, unknown or skipped operation: the operation at the root of it.
    let mut root_failure: BTreeMap<OpId, OpId> = BTreeMap::new();
    let mut created = Created::default();
    let levels = plan.levels.len();
    // Transport failures in a row when the run decided the API is unreachable (0: not decided).
    let unreachable = AtomicUsize::new(0);
    let halted = || {
        if opts.stop.is_stopped() {
            return true;
        }
        if unreachable.load(Ordering::SeqCst) > 0 {
            return true;
        }
        let dropped = usize::try_from(client.stats().consecutive_dropped).unwrap_or(usize::MAX);
        if dropped >= UNREACHABLE_AFTER {
            unreachable.store(dropped, Ordering::SeqCst);
            return true;
        }
        false
    };
    for (index, level) in plan.levels.iter().enumerate() {
        let mut runnable: Vec<&Operation> = Vec::new();
        for id in level {
            let Some(op) = by_id.get(id).copied() else {
                continue;
            };
            let status = match op.depends_on.iter().find_map(|d| root_failure.get(d)) {
                Some(root) => {
                    let root = root.clone();
                    root_failure.insert(op.id.clone(), root.clone());
                    OpStatus::Skipped { because: root }
                }
                None if halted() => OpStatus::NotStarted,
                None => {
                    runnable.push(op);
                    continue;
                }
            };
            let outcome = outcome_of(op, status);
            events.event(&ApplyEvent::Finished(outcome.clone()));
            outcomes.insert(op.id.clone(), outcome);
        }
        if runnable.is_empty() {
            continue;
        }
        events.event(&ApplyEvent::LevelStarted {
            level: index,
            levels,
            ops: runnable.iter().map(|o| o.id.clone()).collect(),
        });
        let before_delete = if halted() {
            None
        } else {
            read_before_deletes(client, &plan.organization, &runnable).await
        };
        let role_create_spaces = role_create_spaces(&runnable);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ctx = Ctx {
            client,
            org: &plan.organization,
            created: created.clone(),
            journal: tx,
            names: &opts.user_names,
            rereads: SharedRereads::default(),
            role_create_spaces,
            before_delete,
        };
        let mut running = futures::stream::iter(runnable.into_iter().map(|op| {
            let ctx = &ctx;
            let halted = &halted;
            // Futures start when `buffer_unordered` first polls them, so this check happens
            // right before the operation would begin, not when the level was queued.
            async move {
                if halted() {
                    return (op, None);
                }
                (op, Some(run_op(ctx, op).await))
            }
        }))
        .buffer_unordered(opts.parallelism.max(1));
        loop {
            tokio::select! {
                biased;
                Some(record) = rx.recv() => events.event(&ApplyEvent::Journal(record)),
                next = running.next() => {
                    let Some((op, result)) = next else { break };
                    while let Ok(record) = rx.try_recv() {
                        events.event(&ApplyEvent::Journal(record));
                    }
                    let status = match result {
                        None => OpStatus::NotStarted,
                        Some(Ok(done)) => {
                            if let Some(id) = done.created_id.clone() {
                                match &op.kind {
                                    OpKind::Invite { .. } => {
                                        created.memberships.insert(op.id.clone(), id);
                                    }
                                    OpKind::CreateTeam { .. } => {
                                        created.teams.insert(op.id.clone(), id);
                                    }
                                    OpKind::CreateRole { .. } => {
                                        created.roles.insert(op.id.clone(), id);
                                    }
                                    _ => {}
                                }
                            }
                            OpStatus::Applied {
                                already_done: done.already_done,
                                object_id: done.created_id,
                                confirmed_after_lost_response: done.after_lost_response,
                            }
                        }
                        Some(Err(NotDone::Failed(failure))) => {
                            root_failure.insert(op.id.clone(), op.id.clone());
                            OpStatus::Failed(failure)
                        }
                        Some(Err(NotDone::Unknown(failure))) => {
                            root_failure.insert(op.id.clone(), op.id.clone());
                            OpStatus::Unknown(failure)
                        }
                    };
                    let outcome = outcome_of(op, status);
                    events.event(&ApplyEvent::Finished(outcome.clone()));
                    outcomes.insert(op.id.clone(), outcome);
                }
            }
        }
        drop(running);
        while let Ok(record) = rx.try_recv() {
            events.event(&ApplyEvent::Journal(record));
        }
    }
    let outcomes: Vec<OpOutcome> = plan
        .operations
        .iter()
        .filter_map(|op| outcomes.remove(&op.id))
        .collect();
    let stopped = if opts.stop.is_stopped() {
        Some(StopReason::Interrupted)
    } else {
        match unreachable.load(Ordering::SeqCst) {
            0 => None,
            n => Some(StopReason::Unreachable {
                consecutive_failures: n,
            }),
        }
    };
    ApplyReport {
        organization: plan.organization.clone(),
        outcomes,
        stopped,
    }
}

fn outcome_of(op: &Operation, status: OpStatus) -> OpOutcome {
    OpOutcome {
        id: op.id.clone(),
        action: op.action,
        kind: op.kind.name().to_string(),
        description: op.kind.describe(),
        status,
    }
}

/// Ids of objects created earlier in this run, by the operation that created them.
#[derive(Debug, Clone, Default)]
struct Created {
    memberships: BTreeMap<OpId, String>,
    teams: BTreeMap<OpId, String>,
    /// Custom roles, whose ids replace the `created_by:` role ids of later grants.
    roles: BTreeMap<OpId, String>,
}

struct Ctx<'a> {
    client: &'a Client,
    org: &'a str,
    created: Created,
    journal: mpsc::UnboundedSender<JournalRecord>,
    names: &'a BTreeMap<String, String>,
    /// This level's re-reads after a 422, one per scope, shared by every 422 of the level:
    /// twenty duplicate invites read the memberships once, not twenty times (issue 20).
    rereads: SharedRereads,
    /// The spaces this level creates roles in: a role create's 422 re-reads the roles of all of
    /// them (one organization-wide roles read), shared by the role creates of every space.
    role_create_spaces: BTreeSet<String>,
    /// The collections this level's deletes are checked in instead of one `GET` each, when that
    /// is fewer requests ([`read_before_deletes`]).
    before_delete: Option<(BTreeSet<ObjectKind>, LiveState)>,
}

/// A re-read shared by the operations of a level, or why it failed.
type Reread = Result<Arc<LiveState>, Arc<ContentfulError>>;
/// The level's re-reads by what they cover: collections, and the spaces whose roles are read
/// (none: no roles).
type SharedRereads =
    tokio::sync::Mutex<BTreeMap<(ReadScope, BTreeSet<String>), Arc<tokio::sync::OnceCell<Reread>>>>;

/// The spaces `ops` create roles in.
fn role_create_spaces(ops: &[&Operation]) -> BTreeSet<String> {
    ops.iter()
        .filter_map(|op| match &op.kind {
            OpKind::CreateRole { space_id, .. } => Some(space_id.clone()),
            _ => None,
        })
        .collect()
}

impl Ctx<'_> {
    /// The level's re-read of `scope` (and, when `roles_of` names a space, of the roles of every
    /// space this level creates roles in): the first caller reads, the others wait for its
    /// answer. Role creates answering 422 in twenty spaces read the organization's roles once,
    /// not twenty times (issue 20); each looks up its own space in the shared state.
    async fn shared_reread(&self, scope: ReadScope, roles_of: Option<&str>) -> Reread {
        let spaces = match roles_of {
            None => BTreeSet::new(),
            Some(space) if self.role_create_spaces.contains(space) => {
                self.role_create_spaces.clone()
            }
            // Not one of the level's role creates (no operation kind does this today): its
            // space alone, never a read that leaves it out.
            Some(space) => BTreeSet::from([space.to_string()]),
        };
        let key = (scope, spaces);
        let cell = self
            .rereads
            .lock()
            .await
            .entry(key.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            self.read_now(scope, &key.1)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
    }

    /// Reads `scope` now, and the roles of space `roles_of`, for one operation (after a lost
    /// answer, which must see its own resend).
    async fn reread(
        &self,
        scope: ReadScope,
        roles_of: Option<&str>,
    ) -> Result<LiveState, ContentfulError> {
        let spaces: BTreeSet<String> = roles_of.map(str::to_string).into_iter().collect();
        self.read_now(scope, &spaces).await
    }

    /// Reads `scope` now, and the roles of the spaces `roles_of` (through one organization-wide
    /// roles read, kept for those spaces only; no roles read when it is empty).
    async fn read_now(
        &self,
        scope: ReadScope,
        roles_of: &BTreeSet<String>,
    ) -> Result<LiveState, ContentfulError> {
        if roles_of.is_empty() {
            return self.client.read_scoped(self.org, &[], scope, None).await;
        }
        let ids: Vec<String> = roles_of.iter().cloned().collect();
        let known = ids
            .iter()
            .map(|id| LiveSpace {
                id: id.clone(),
                name: String::new(),
                roles: BTreeMap::new(),
            })
            .collect();
        self.client
            .read_scoped(self.org, &ids, scope, Some(known))
            .await
    }
}

/// A finished operation.
#[derive(Debug, Default)]
struct Done {
    created_id: Option<String>,
    already_done: bool,
    after_lost_response: bool,
}

impl Done {
    fn written(id: Option<String>) -> Done {
        Done {
            created_id: id,
            ..Done::default()
        }
    }

    fn already(id: Option<String>) -> Done {
        Done {
            created_id: id,
            already_done: true,
            ..Done::default()
        }
    }

    fn confirmed(id: Option<String>) -> Done {
        Done {
            created_id: id,
            after_lost_response: true,
            ..Done::default()
        }
    }
}

/// An operation that did not get done.
#[derive(Debug)]
enum NotDone {
    /// Not applied.
    Failed(OpFailure),
    /// Maybe applied, maybe not: the answer was lost and re-reading failed.
    Unknown(OpFailure),
}

impl From<OpFailure> for NotDone {
    fn from(f: OpFailure) -> Self {
        NotDone::Failed(f)
    }
}

impl Ctx<'_> {
    fn record(&self, op: &OpId, phase: JournalPhase, req: &Request) -> JournalRecord {
        JournalRecord {
            time: Utc::now(),
            op: op.clone(),
            phase,
            method: req.method_name(),
            path: req.path.clone(),
            status: None,
            request_id: None,
            object_id: None,
            result: None,
        }
    }

    /// Sends one write, journaling the attempt before and the outcome after; the journal takes
    /// method and path from the request itself.
    async fn write<T>(
        &self,
        op: &OpId,
        req: &Request,
        send: impl AsyncFnOnce(&Client, &Request) -> Result<T, ContentfulError>,
        object_id: impl Fn(&T) -> Option<String>,
    ) -> Result<T, ContentfulError> {
        let _ = self
            .journal
            .send(self.record(op, JournalPhase::Attempt, req));
        let result = send(self.client, req).await;
        let mut rec = self.record(op, JournalPhase::Outcome, req);
        match &result {
            Ok(v) => {
                rec.object_id = object_id(v);
                rec.result = Some("ok".to_string());
            }
            Err(e) => {
                rec.status = e.status();
                rec.request_id = e.request_id().map(str::to_string);
                rec.result = Some(format!("failed: {e}"));
            }
        }
        let _ = self.journal.send(rec);
        result
    }

    /// After a lost answer that a re-read showed not applied: journals that, and allows one more
    /// send of the write, or fails the operation once [`MAX_RESENDS`] are used up.
    fn resend(
        &self,
        op: &OpId,
        req: &Request,
        e: &ContentfulError,
        object_id: Option<&str>,
        resends: &mut u32,
    ) -> Result<(), NotDone> {
        self.resolved(op, req, object_id, NOT_APPLIED);
        if *resends >= MAX_RESENDS {
            return Err(failures::not_applied(e, object_id).into());
        }
        *resends += 1;
        Ok(())
    }

    /// Journals what re-reading after a lost answer showed (a second outcome for the write).
    fn resolved(&self, op: &OpId, req: &Request, object_id: Option<&str>, result: &str) {
        let mut rec = self.record(op, JournalPhase::Outcome, req);
        rec.object_id = object_id.map(str::to_string);
        rec.result = Some(result.to_string());
        let _ = self.journal.send(rec);
    }

    fn team_id(&self, team: &TeamRef) -> Result<String, OpFailure> {
        match team {
            TeamRef::Existing(id) => Ok(id.clone()),
            TeamRef::CreatedBy(op) => {
                self.created.teams.get(op).cloned().ok_or_else(|| {
                    plain_failure(format!("the team {op} creates is not known"), None)
                })
            }
        }
    }

    /// The role ids a grant sends: a role created earlier in this run (`created_by:op-N`) by the
    /// id its creation returned. A provisional id is never sent to Contentful: one whose creation
    /// is not known (it failed, and the grant should have been skipped) fails the grant.
    fn role_ids(&self, ids: &[String]) -> Result<Vec<String>, OpFailure> {
        substitute_roles(&self.created.roles, ids)
    }

    fn membership_id(&self, m: &MembershipRef) -> Result<String, OpFailure> {
        match m {
            MembershipRef::Existing(id) => Ok(id.clone()),
            MembershipRef::InvitedBy(op) => {
                self.created.memberships.get(op).cloned().ok_or_else(|| {
                    plain_failure(
                        format!("the organization membership {op} creates is not known"),
                        None,
                    )
                })
            }
        }
    }
}

/// `ids` with every `created_by:` id replaced by the id of the role its operation created
/// (`created`), sorted; an error for a provisional id whose creation is not in `created`.
fn substitute_roles(
    created: &BTreeMap<OpId, String>,
    ids: &[String],
) -> Result<Vec<String>, OpFailure> {
    let mut out = ids
        .iter()
        .map(|id| match created_role_op(id) {
            None => Ok(id.clone()),
            Some(op) => created.get(&op).cloned().ok_or_else(|| {
                plain_failure(
                    format!(
                        "the role {op} creates is not known (not created in this run); the grant is not sent"
                    ),
                    None,
                )
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

const CONFIRMED: &str = "applied (confirmed after a lost response)";
const NOT_APPLIED: &str = "not applied (re-read after a lost response)";
const UNKNOWN: &str = "unknown (response lost, re-read failed)";

async fn run_op(ctx: &Ctx<'_>, op: &Operation) -> Result<Done, NotDone> {
    match shape(ctx, &op.kind)? {
        Shape::Create {
            request,
            find,
            scope,
            roles_of,
            conflict,
        } => {
            create(
                ctx,
                &op.id,
                &request,
                &find,
                conflict.as_ref(),
                (scope, roles_of),
            )
            .await
        }
        Shape::Update {
            target,
            planned,
            before,
            wanted,
            request,
        } => update(ctx, &op.id, &target, planned, before, &wanted, &request).await,
        Shape::Delete {
            target,
            planned,
            request,
        } => delete(ctx, &op.id, &target, planned, &request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provisional_role_id_is_replaced_and_never_passed_through() {
        let created: BTreeMap<OpId, String> = [(OpId::nth(1), "role-9".to_string())].into();
        let ids = ["created_by:op-001".to_string(), "editor".to_string()];
        assert_eq!(
            substitute_roles(&created, &ids).ok(),
            Some(vec!["editor".to_string(), "role-9".to_string()])
        );
        // The creation failed (or never ran): the grant fails instead of sending `created_by:`.
        let ids = ["created_by:op-002".to_string()];
        let err = substitute_roles(&created, &ids).err();
        assert!(err.is_some_and(|f| f.message.contains("the role op-002 creates is not known")),);
        assert_eq!(
            substitute_roles(&BTreeMap::new(), &["editor".to_string()]).ok(),
            Some(vec!["editor".to_string()])
        );
    }
}
