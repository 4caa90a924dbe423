//! Executing a plan: level by level, operations of one level concurrently, each write journaled,
//! conflicts (409) and duplicates (422) resolved by re-reading what is there, lost answers
//! resolved by re-reading whether the write landed, dependents of a failure (or of an unknown
//! outcome) skipped, and nothing new started once the run is stopped.
//!
//! Every operation takes one of three shapes ([`Shape`]): a create (POST, recognised afterwards
//! by its natural key), an update (PUT with the planned `sys.version`) or a delete (re-read, then
//! DELETE with the version just read). [`shape`] is the table of what varies between the
//! thirteen operation kinds; [`create`], [`update`] and [`delete`] hold what does not.

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
use crate::contentful::request::{self, Request};
use crate::contentful::{Client, ContentfulError, ReadScope};
use crate::model::{LiveState, ObjectMeta, OrgRole, SpaceAccess};
use crate::plan::{MembershipRef, ObjectKind, OpId, OpKind, Operation, Plan, TeamRef};

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
    // Role writes are not wired to the client yet: a plan with role operations starts nothing
    // rather than applying the grants without the roles they name.
    let roles_unsupported = plan.operations.iter().any(|o| o.kind.role_name().is_some());
    let halted = || {
        if roles_unsupported || opts.stop.is_stopped() {
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
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ctx = Ctx {
            client,
            org: &plan.organization,
            created: created.clone(),
            journal: tx,
            names: &opts.user_names,
            rereads: SharedRereads::default(),
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
    let stopped = if roles_unsupported {
        Some(StopReason::RoleWritesUnsupported)
    } else if opts.stop.is_stopped() {
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
    /// The collections this level's deletes are checked in instead of one `GET` each, when that
    /// is fewer requests ([`read_before_deletes`]).
    before_delete: Option<(BTreeSet<ObjectKind>, LiveState)>,
}

/// The kind of object a delete operation removes; `None` for other operations, and for teams
/// (few, and a team list item may lack the `sys.version` the DELETE needs).
fn deleted_kind(kind: &OpKind) -> Option<ObjectKind> {
    match kind {
        OpKind::RemoveOrgMember { .. } => Some(ObjectKind::OrgMembership),
        OpKind::RemoveTeamMember { .. } => Some(ObjectKind::TeamMembership),
        OpKind::DeleteTeamSpaceMembership { .. } => Some(ObjectKind::TeamSpaceMembership),
        OpKind::DeleteSpaceMembership { .. } => Some(ObjectKind::SpaceMembership),
        _ => None,
    }
}

/// A level's deletes re-read each object first. When a level deletes more objects of one kind
/// than its collection has pages, the collection is read once for all of them (the same rule as
/// a saved plan's staleness check, [`super::stale`]): 300 deleted space memberships in an
/// organization of 8 pages cost 9 reads, not 300 (issue 20). A failed read falls back to the
/// per-object reads, which report their own failures.
async fn read_before_deletes(
    client: &Client,
    org: &str,
    ops: &[&Operation],
) -> Option<(BTreeSet<ObjectKind>, LiveState)> {
    let mut per_kind: BTreeMap<ObjectKind, usize> = BTreeMap::new();
    for kind in ops.iter().filter_map(|op| deleted_kind(&op.kind)) {
        *per_kind.entry(kind).or_default() += 1;
    }
    if per_kind
        .values()
        .all(|&n| n <= super::stale::PER_OBJECT_UP_TO)
    {
        return None;
    }
    match super::stale::read_by_pages(client, org, &per_kind).await {
        Ok(read) => read,
        Err(e) => {
            tracing::debug!(error = %e, "reading the collections before deletes failed; reading each object instead");
            None
        }
    }
}

/// A re-read shared by the operations of a level, or why it failed.
type Reread = Result<Arc<LiveState>, Arc<ContentfulError>>;
type SharedRereads = tokio::sync::Mutex<BTreeMap<ReadScope, Arc<tokio::sync::OnceCell<Reread>>>>;

impl Ctx<'_> {
    /// The level's re-read of `scope`: the first caller reads, the others wait for its answer.
    async fn shared_reread(&self, scope: ReadScope) -> Reread {
        let cell = self.rereads.lock().await.entry(scope).or_default().clone();
        cell.get_or_init(|| async {
            self.client
                .read_scoped(self.org, &[], scope, None)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .await
        .clone()
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

fn failure(e: &ContentfulError, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        status: e.status(),
        object_id: object_id.map(str::to_string),
        request_id: e.request_id().map(str::to_string),
        message: e.to_string(),
    }
}

fn plain_failure(message: String, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        status: None,
        object_id: object_id.map(str::to_string),
        request_id: None,
        message,
    }
}

fn gone(e: &ContentfulError, id: &str) -> OpFailure {
    plain_failure(format!("{e}; the object no longer exists"), Some(id))
}

/// The write's answer was lost and re-reading showed it was not applied.
fn not_applied(e: &ContentfulError, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        message: format!(
            "{e}; the response was lost and a re-read shows the change was not applied"
        ),
        ..failure(e, object_id)
    }
}

/// The write's answer was lost and re-reading failed too.
fn unknown(e: &ContentfulError, reread: &ContentfulError, object_id: Option<&str>) -> NotDone {
    NotDone::Unknown(OpFailure {
        message: format!(
            "{e}; the response was lost and re-reading failed too ({reread}): the change may or may not have been applied, check it and plan again"
        ),
        ..failure(e, object_id)
    })
}

/// The failure for an object someone else changed while this run was under way.
fn changed_during_apply(
    meta: &ObjectMeta,
    planned: u64,
    names: &BTreeMap<String, String>,
) -> OpFailure {
    let by = match meta.updated_by.as_deref() {
        Some(id) => match names.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_string(),
        },
        None => "an unknown user".to_string(),
    };
    let at = meta
        .updated_at
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "an unknown time".to_string());
    OpFailure {
        status: Some(409),
        object_id: Some(meta.id.clone()),
        request_id: None,
        message: format!(
            "changed during apply by {by} at {at} (now version {}, planned against {planned}); not overwritten, plan again",
            meta.version
        ),
    }
}

/// The fields operations set on an object, as planned or as re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    OrgRole(OrgRole),
    Team {
        name: String,
        description: String,
    },
    /// A team membership: nothing is set on it but its existence.
    Member,
    Access {
        admin: bool,
        role_ids: BTreeSet<String>,
    },
}

impl Content {
    fn access(access: &SpaceAccess, role_ids: &[String]) -> Content {
        Content::Access {
            admin: matches!(access, SpaceAccess::Admin),
            role_ids: role_ids.iter().cloned().collect(),
        }
    }

    /// Whether an object with this content is as `wanted` (an admin's roles do not matter).
    fn satisfies(&self, wanted: &Content) -> bool {
        match (self, wanted) {
            (
                Content::Access { admin, role_ids },
                Content::Access {
                    admin: want_admin,
                    role_ids: want_roles,
                },
            ) => admin == want_admin && (*admin || role_ids == want_roles),
            _ => self == wanted,
        }
    }
}

/// An object as re-read.
struct Current {
    meta: ObjectMeta,
    content: Content,
}

impl Current {
    /// A (team) space membership's access as it is now.
    fn access(admin: bool, role_ids: BTreeSet<String>, meta: ObjectMeta) -> Current {
        Current {
            content: Content::Access { admin, role_ids },
            meta,
        }
    }
}

/// Where an existing object lives, to re-read it.
#[derive(Debug, Clone)]
enum Target {
    OrgMembership { id: String },
    Team { id: String },
    TeamMembership { team_id: String, id: String },
    TeamSpaceMembership { space_id: String, id: String },
    SpaceMembership { space_id: String, id: String },
}

impl Target {
    fn kind(&self) -> ObjectKind {
        match self {
            Target::OrgMembership { .. } => ObjectKind::OrgMembership,
            Target::Team { .. } => ObjectKind::Team,
            Target::TeamMembership { .. } => ObjectKind::TeamMembership,
            Target::TeamSpaceMembership { .. } => ObjectKind::TeamSpaceMembership,
            Target::SpaceMembership { .. } => ObjectKind::SpaceMembership,
        }
    }

    fn id(&self) -> &str {
        match self {
            Target::OrgMembership { id }
            | Target::Team { id }
            | Target::TeamMembership { id, .. }
            | Target::TeamSpaceMembership { id, .. }
            | Target::SpaceMembership { id, .. } => id,
        }
    }

    /// Reads the object now (one GET).
    async fn read(&self, c: &Client, org: &str) -> Result<Current, ContentfulError> {
        Ok(match self {
            Target::OrgMembership { id } => {
                let m = c.get_org_membership(org, id).await?;
                Current {
                    content: Content::OrgRole(m.role),
                    meta: m.meta,
                }
            }
            Target::Team { id } => {
                let t = c.get_team(org, id).await?;
                Current {
                    content: Content::Team {
                        name: t.name,
                        description: t.description,
                    },
                    meta: t.meta,
                }
            }
            Target::TeamMembership { team_id, id } => {
                let m = c.get_team_membership(org, team_id, id).await?;
                Current {
                    content: Content::Member,
                    meta: m.meta,
                }
            }
            Target::TeamSpaceMembership { space_id, id } => {
                let m = c.get_team_space_membership(space_id, id).await?;
                Current::access(m.admin, m.role_ids, m.meta)
            }
            Target::SpaceMembership { space_id, id } => {
                let m = c.get_space_membership(space_id, id).await?;
                Current::access(m.admin, m.role_ids, m.meta)
            }
        })
    }
}

/// Recognises a created object by its natural key in a re-read organization; returns its id.
type Find<'a> = Box<dyn Fn(&LiveState) -> Option<String> + Send + Sync + 'a>;

/// Builds a versioned request for the version given.
type Versioned<'a> = Box<dyn Fn(u64) -> Request + Send + Sync + 'a>;

/// The three shapes an operation takes.
enum Shape<'a> {
    /// POST a new object. Contentful has no idempotency keys, so after a lost answer (or a 422
    /// duplicate) the object is looked for by its natural key with `find`.
    /// `scope` is what a re-read covers: only the collection(s) `find` looks in.
    Create {
        request: Request,
        find: Find<'a>,
        scope: ReadScope,
    },
    /// PUT with the planned version; afterwards the object must satisfy `wanted`. `before` is
    /// what the plan saw, for kinds whose planned version may be unknown (teams: list items
    /// may come without `sys.version`, read as 0).
    Update {
        target: Target,
        planned: &'a ObjectMeta,
        before: Option<Content>,
        wanted: Content,
        request: Versioned<'a>,
    },
    /// Re-read, refuse if the version moved since the plan, DELETE with that version.
    Delete {
        target: Target,
        planned: &'a ObjectMeta,
        request: Versioned<'a>,
    },
}

/// The table: each operation kind as one of the three shapes.
fn shape<'a>(ctx: &Ctx<'a>, kind: &'a OpKind) -> Result<Shape<'a>, OpFailure> {
    let org = ctx.org;
    Ok(match kind {
        // The client's role writes (create, update with X-Contentful-Version, delete) come with
        // the roles-read branch; until they are merged a role operation fails without a request.
        OpKind::CreateRole { .. } | OpKind::UpdateRole { .. } | OpKind::DeleteRole { .. } => {
            return Err(plain_failure(
                format!(
                    "{}: this build cannot write roles yet (issue 15, in progress)",
                    kind.describe()
                ),
                None,
            ));
        }
        OpKind::Invite {
            email,
            role,
            first_name,
            last_name,
        }
        | OpKind::Reinvite {
            email,
            role,
            first_name,
            last_name,
            ..
        } => {
            // A re-invite is done when the pending membership's invitation is newer than the
            // expired one; an invite when the member is there with the role.
            let invited_after = match kind {
                OpKind::Reinvite { invited_at, .. } => Some(*invited_at),
                _ => None,
            };
            Shape::Create {
                scope: ReadScope {
                    org_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::invite(
                    org,
                    email,
                    *role,
                    first_name.as_deref(),
                    last_name.as_deref(),
                ),
                find: Box::new(move |live| {
                    live.membership_by_email(email)
                        .filter(|(_, m)| match invited_after {
                            Some(after) => m.meta.created_at.is_some_and(|at| at > after),
                            None => m.role == *role,
                        })
                        .map(|(_, m)| m.meta.id.clone())
                }),
            }
        }
        OpKind::ChangeOrgRole { membership, to, .. } => Shape::Update {
            target: Target::OrgMembership {
                id: membership.id.clone(),
            },
            planned: membership,
            before: None,
            wanted: Content::OrgRole(*to),
            request: Box::new(move |v| request::update_org_membership(org, &membership.id, v, *to)),
        },
        OpKind::RemoveOrgMember { membership, .. } => Shape::Delete {
            target: Target::OrgMembership {
                id: membership.id.clone(),
            },
            planned: membership,
            request: Box::new(move |v| {
                request::delete_org_membership(org, &membership.id).version(v)
            }),
        },
        OpKind::CreateTeam { name, description } => Shape::Create {
            scope: ReadScope {
                teams: true,
                ..ReadScope::NONE
            },
            request: request::create_team(org, name, description),
            find: Box::new(move |live| {
                live.teams
                    .values()
                    .find(|t| &t.name == name && &t.description == description)
                    .map(|t| t.meta.id.clone())
            }),
        },
        OpKind::UpdateTeam {
            team,
            name,
            description_before,
            description_after,
        } => Shape::Update {
            target: Target::Team {
                id: team.id.clone(),
            },
            planned: team,
            before: Some(Content::Team {
                name: name.clone(),
                description: description_before.clone(),
            }),
            wanted: Content::Team {
                name: name.clone(),
                description: description_after.clone(),
            },
            request: Box::new(move |v| {
                request::update_team(org, &team.id, v, name, description_after)
            }),
        },
        OpKind::DeleteTeam { team, .. } => Shape::Delete {
            target: Target::Team {
                id: team.id.clone(),
            },
            planned: team,
            request: Box::new(move |v| request::delete_team(org, &team.id).version(v)),
        },
        OpKind::AddTeamMember {
            team, membership, ..
        } => {
            let team_id = ctx.team_id(team)?;
            let om_id = ctx.membership_id(membership)?;
            Shape::Create {
                scope: ReadScope {
                    team_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_team_membership(org, &team_id, &om_id),
                find: Box::new(move |live| {
                    live.team_memberships
                        .values()
                        .find(|tm| tm.team_id == team_id && tm.org_membership_id == om_id)
                        .map(|tm| tm.meta.id.clone())
                }),
            }
        }
        OpKind::RemoveTeamMember {
            team_id,
            team_membership,
            ..
        } => Shape::Delete {
            target: Target::TeamMembership {
                team_id: team_id.clone(),
                id: team_membership.id.clone(),
            },
            planned: team_membership,
            request: Box::new(move |v| {
                request::delete_team_membership(org, team_id, &team_membership.id).version(v)
            }),
        },
        OpKind::CreateTeamSpaceMembership {
            team,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let team_id = ctx.team_id(team)?;
            let admin = matches!(access, SpaceAccess::Admin);
            let wanted = Content::access(access, role_ids);
            Shape::Create {
                scope: ReadScope {
                    team_space_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_team_space_membership(space_id, &team_id, admin, role_ids),
                find: Box::new(move |live| {
                    live.team_space_memberships
                        .values()
                        .find(|t| {
                            t.team_id == team_id
                                && &t.space_id == space_id
                                && Content::Access {
                                    admin: t.admin,
                                    role_ids: t.role_ids.clone(),
                                }
                                .satisfies(&wanted)
                        })
                        .map(|t| t.meta.id.clone())
                }),
            }
        }
        OpKind::UpdateTeamSpaceMembership {
            team_id,
            space_id,
            tsm,
            after,
            role_ids,
            ..
        } => Shape::Update {
            target: Target::TeamSpaceMembership {
                space_id: space_id.clone(),
                id: tsm.id.clone(),
            },
            planned: tsm,
            before: None,
            wanted: Content::access(after, role_ids),
            request: Box::new(move |v| {
                let admin = matches!(after, SpaceAccess::Admin);
                request::update_team_space_membership(
                    space_id, &tsm.id, v, team_id, admin, role_ids,
                )
            }),
        },
        OpKind::DeleteTeamSpaceMembership { space_id, tsm, .. } => Shape::Delete {
            target: Target::TeamSpaceMembership {
                space_id: space_id.clone(),
                id: tsm.id.clone(),
            },
            planned: tsm,
            request: Box::new(move |v| {
                request::delete_team_space_membership(space_id, &tsm.id).version(v)
            }),
        },
        OpKind::CreateSpaceMembership {
            email,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let admin = matches!(access, SpaceAccess::Admin);
            let wanted = Content::access(access, role_ids);
            Shape::Create {
                scope: ReadScope {
                    org_memberships: true,
                    space_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_space_membership(space_id, email, admin, role_ids),
                find: Box::new(move |live| {
                    let (user, _) = live.membership_by_email(email)?;
                    live.space_memberships
                        .values()
                        .find(|m| {
                            m.user_id == user.id
                                && &m.space_id == space_id
                                && Content::Access {
                                    admin: m.admin,
                                    role_ids: m.role_ids.clone(),
                                }
                                .satisfies(&wanted)
                        })
                        .map(|m| m.meta.id.clone())
                }),
            }
        }
        OpKind::UpdateSpaceMembership {
            space_id,
            space_membership: sm,
            after,
            role_ids,
            ..
        } => Shape::Update {
            target: Target::SpaceMembership {
                space_id: space_id.clone(),
                id: sm.id.clone(),
            },
            planned: sm,
            before: None,
            wanted: Content::access(after, role_ids),
            request: Box::new(move |v| {
                let admin = matches!(after, SpaceAccess::Admin);
                request::update_space_membership(space_id, &sm.id, v, admin, role_ids)
            }),
        },
        OpKind::DeleteSpaceMembership {
            space_id,
            space_membership: sm,
            ..
        } => Shape::Delete {
            target: Target::SpaceMembership {
                space_id: space_id.clone(),
                id: sm.id.clone(),
            },
            planned: sm,
            request: Box::new(move |v| {
                request::delete_space_membership(space_id, &sm.id).version(v)
            }),
        },
    })
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

const CONFIRMED: &str = "applied (confirmed after a lost response)";
const NOT_APPLIED: &str = "not applied (re-read after a lost response)";
const UNKNOWN: &str = "unknown (response lost, re-read failed)";

async fn run_op(ctx: &Ctx<'_>, op: &Operation) -> Result<Done, NotDone> {
    match shape(ctx, &op.kind)? {
        Shape::Create {
            request,
            find,
            scope,
        } => create(ctx, &op.id, &request, &find, scope).await,
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

/// POST; on a 422 duplicate or a lost answer, look for the object by its natural key in the
/// collection (`scope`) read again. A lost answer whose object is not there is sent again (the
/// check comes first, so a retry never creates a duplicate of a create that landed). The 422s of
/// one level share one re-read per scope ([`Ctx::shared_reread`]); a lost answer reads afresh,
/// since it must see its own resend.
async fn create(
    ctx: &Ctx<'_>,
    op: &OpId,
    req: &Request,
    find: &Find<'_>,
    scope: ReadScope,
) -> Result<Done, NotDone> {
    let mut resends = 0;
    loop {
        let result = ctx
            .write(
                op,
                req,
                async |c: &Client, r: &Request| c.send_create(r).await,
                |id: &String| Some(id.clone()),
            )
            .await;
        let e = match result {
            Ok(id) => return Ok(Done::written(Some(id))),
            Err(e) => e,
        };
        let duplicate = e.status() == Some(422);
        if !duplicate && !e.response_lost() {
            return Err(failure(&e, None).into());
        }
        let reread = if duplicate {
            ctx.shared_reread(scope).await
        } else {
            ctx.client
                .read_scoped(ctx.org, &[], scope, None)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        };
        let live = match reread {
            Ok(live) => live,
            Err(e2) if duplicate => return Err(failure(&e2, None).into()),
            Err(e2) => {
                ctx.resolved(op, req, None, UNKNOWN);
                return Err(unknown(&e, &e2, None));
            }
        };
        match find(&live) {
            Some(id) if duplicate => return Ok(Done::already(Some(id))),
            Some(id) => {
                ctx.resolved(op, req, Some(&id), CONFIRMED);
                return Ok(Done::confirmed(Some(id)));
            }
            None if duplicate => return Err(failure(&e, None).into()),
            None => {
                ctx.resolved(op, req, None, NOT_APPLIED);
                if resends >= MAX_RESENDS {
                    return Err(not_applied(&e, None).into());
                }
                resends += 1;
            }
        }
    }
}

/// PUT with the planned version. A 409 re-reads: already as wanted is done, anything else was
/// changed by someone else and is not overwritten. A lost answer re-reads: as wanted is applied,
/// unchanged is sent again, changed is refused, unreadable is unknown.
async fn update(
    ctx: &Ctx<'_>,
    op: &OpId,
    target: &Target,
    planned: &ObjectMeta,
    before: Option<Content>,
    wanted: &Content,
    request: &Versioned<'_>,
) -> Result<Done, NotDone> {
    let id = target.id();
    let mut version = planned.version;
    // Team list items may come without `sys.version` (read as 0), so a team planned at
    // version 0 is read once first: unchanged since the plan, its real version is used.
    if version == 0
        && let Some(before) = &before
    {
        match target.read(ctx.client, ctx.org).await {
            Ok(cur) if cur.content.satisfies(wanted) => return Ok(Done::already(None)),
            Ok(cur) if cur.content.satisfies(before) => version = cur.meta.version,
            Ok(cur) => {
                return Err(changed_during_apply(&cur.meta, planned.version, ctx.names).into());
            }
            Err(e) => return Err(failure(&e, Some(id)).into()),
        }
    }
    let mut resends = 0;
    loop {
        let req = request(version);
        let result = ctx
            .write(
                op,
                &req,
                async |c: &Client, r: &Request| c.send_update(r).await,
                |m: &ObjectMeta| Some(m.id.clone()),
            )
            .await;
        let e = match result {
            Ok(_) => return Ok(Done::written(None)),
            Err(e) => e,
        };
        if e.is_not_found() {
            return Err(gone(&e, id).into());
        }
        let lost = e.response_lost();
        if !lost && !e.is_version_mismatch() {
            return Err(failure(&e, Some(id)).into());
        }
        let cur = match target.read(ctx.client, ctx.org).await {
            Ok(cur) => cur,
            Err(e2) if e2.is_not_found() => return Err(gone(&e, id).into()),
            Err(e2) if lost => {
                ctx.resolved(op, &req, Some(id), UNKNOWN);
                return Err(unknown(&e, &e2, Some(id)));
            }
            Err(e2) => return Err(failure(&e2, Some(id)).into()),
        };
        if cur.content.satisfies(wanted) {
            if lost {
                ctx.resolved(op, &req, Some(id), CONFIRMED);
                return Ok(Done::confirmed(None));
            }
            return Ok(Done::already(None));
        }
        if lost && cur.meta.version == version {
            ctx.resolved(op, &req, Some(id), NOT_APPLIED);
            if resends >= MAX_RESENDS {
                return Err(not_applied(&e, Some(id)).into());
            }
            resends += 1;
            continue;
        }
        return Err(changed_during_apply(&cur.meta, planned.version, ctx.names).into());
    }
}

/// Re-reads the object right before deleting it (one GET, or the level's read of its collection
/// when that was fewer requests, see [`read_before_deletes`]): gone is done, a version that moved
/// since the plan is refused as changed during apply, otherwise DELETE with the version just
/// read. The window between that GET and the DELETE remains; `X-Contentful-Version` on the
/// DELETE closes it where Contentful checks the version on deletes (unconfirmed).
async fn delete(
    ctx: &Ctx<'_>,
    op: &OpId,
    target: &Target,
    planned: &ObjectMeta,
    request: &Versioned<'_>,
) -> Result<Done, NotDone> {
    let id = target.id();
    // From the level's read of the collection when there is one and it has the object; an
    // object missing from it is read on its own (a page read while others delete may skip it).
    let paged = ctx
        .before_delete
        .as_ref()
        .filter(|(kinds, _)| kinds.contains(&target.kind()))
        .and_then(|(_, live)| super::stale::seen_in(live, target.kind(), id))
        .map(|(meta, _)| meta);
    let cur = match paged {
        Some(meta) => meta,
        None => match target.read(ctx.client, ctx.org).await {
            Ok(cur) => cur.meta,
            Err(e) if e.is_not_found() => return Ok(Done::already(None)),
            Err(e) => return Err(failure(&e, Some(id)).into()),
        },
    };
    // A team planned at version 0 came from a list without versions: nothing to compare.
    let unversioned = planned.version == 0 && matches!(target, Target::Team { .. });
    if !unversioned && cur.version != planned.version {
        return Err(changed_during_apply(&cur, planned.version, ctx.names).into());
    }
    let version = cur.version;
    let mut resends = 0;
    loop {
        let req = request(version);
        let result = ctx
            .write(
                op,
                &req,
                async |c: &Client, r: &Request| c.send_delete(r).await,
                |_: &()| None,
            )
            .await;
        let e = match result {
            Ok(()) => return Ok(Done::written(None)),
            Err(e) if e.is_not_found() => return Ok(Done::already(None)),
            Err(e) => e,
        };
        let lost = e.response_lost();
        if !lost && !e.is_version_mismatch() {
            return Err(failure(&e, Some(id)).into());
        }
        let now = match target.read(ctx.client, ctx.org).await {
            Ok(now) => now,
            Err(e2) if e2.is_not_found() && lost => {
                ctx.resolved(op, &req, Some(id), CONFIRMED);
                return Ok(Done::confirmed(None));
            }
            Err(e2) if e2.is_not_found() => return Ok(Done::already(None)),
            Err(e2) if lost => {
                ctx.resolved(op, &req, Some(id), UNKNOWN);
                return Err(unknown(&e, &e2, Some(id)));
            }
            Err(e2) => return Err(failure(&e2, Some(id)).into()),
        };
        if lost && now.meta.version == version {
            ctx.resolved(op, &req, Some(id), NOT_APPLIED);
            if resends >= MAX_RESENDS {
                return Err(not_applied(&e, Some(id)).into());
            }
            resends += 1;
            continue;
        }
        return Err(changed_during_apply(&now.meta, planned.version, ctx.names).into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_compare_ignoring_order_and_admin_ignores_roles() {
        let access = |admin, roles: &[&str]| Content::Access {
            admin,
            role_ids: roles.iter().map(|r| r.to_string()).collect(),
        };
        let wanted = Content::access(&SpaceAccess::Admin, &[]);
        assert!(access(true, &["x"]).satisfies(&wanted));
        assert!(!access(false, &[]).satisfies(&wanted));
        let wanted = Content::Access {
            admin: false,
            role_ids: ["a".to_string(), "b".to_string()].into(),
        };
        assert!(access(false, &["b", "a"]).satisfies(&wanted));
        assert!(!access(false, &["a"]).satisfies(&wanted));
        assert!(!access(true, &["a", "b"]).satisfies(&wanted));
        assert!(Content::Member.satisfies(&Content::Member));
        assert!(!Content::OrgRole(OrgRole::Admin).satisfies(&Content::OrgRole(OrgRole::Member)));
    }

    #[test]
    fn a_conflicting_edit_names_who_and_when() {
        let mut meta = ObjectMeta::new("sm1", 7);
        meta.updated_by = Some("user-42".into());
        meta.updated_at = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .ok()
            .map(|t| t.with_timezone(&Utc));
        let names = [("user-42".to_string(), "carla@acme.example".to_string())].into();
        let f = changed_during_apply(&meta, 5, &names);
        assert_eq!(f.status, Some(409));
        assert_eq!(f.object_id.as_deref(), Some("sm1"));
        assert!(f.message.contains(
            "changed during apply by carla@acme.example (user-42) at 2026-11-23T08:00:00"
        ));
        let f = changed_during_apply(&meta, 5, &BTreeMap::new());
        assert!(f.message.contains("by user-42 at "));
        assert!(f.message.contains("now version 7, planned against 5"));
    }
}
