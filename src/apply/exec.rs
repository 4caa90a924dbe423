//! Executing a plan: level by level, operations of one level concurrently, each write journaled,
//! conflicts (409) and duplicates (422) resolved by re-reading what is there, dependents of a
//! failure skipped.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::Utc;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::report::{ApplyReport, OpFailure, OpOutcome, OpStatus, describe};
use super::{
    ApplyEvent, ApplyObserver, ApplyOptions, JournalPhase, JournalRecord, StopReason, VerifiedPlan,
};
use crate::contentful::{Client, ContentfulError};
use crate::model::{LiveState, ObjectMeta, SpaceAccess};
use crate::plan::{MembershipRef, OpId, OpKind, Operation, Plan, TeamRef};

/// Executes `plan` against the organization `client` talks to and reports what happened to each
/// operation. Never fails as a whole: every problem is an operation's [`OpStatus::Failed`], and the
/// operations that depend on it are [`OpStatus::Skipped`]. Once [`ApplyOptions::stop`] is set,
/// nothing new starts: operations in flight finish and are recorded, the rest are
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
    // For every failed or skipped operation: the failed operation at the root of it.
    let mut root_failure: BTreeMap<OpId, OpId> = BTreeMap::new();
    let mut created = Created::default();
    let levels = plan.levels.len();
    for (index, level) in plan.levels.iter().enumerate() {
        let mut runnable: Vec<&Operation> = Vec::new();
        for id in level {
            let Some(op) = by_id.get(id).copied() else {
                continue;
            };
            match op.depends_on.iter().find_map(|d| root_failure.get(d)) {
                Some(root) => {
                    let root = root.clone();
                    root_failure.insert(op.id.clone(), root.clone());
                    let outcome = outcome_of(op, OpStatus::Skipped { because: root });
                    events.event(&ApplyEvent::Finished(outcome.clone()));
                    outcomes.insert(op.id.clone(), outcome);
                }
                None if opts.stop.is_stopped() => {
                    let outcome = outcome_of(op, OpStatus::NotStarted);
                    events.event(&ApplyEvent::Finished(outcome.clone()));
                    outcomes.insert(op.id.clone(), outcome);
                }
                None => runnable.push(op),
            }
        }
        if runnable.is_empty() {
            continue;
        }
        events.event(&ApplyEvent::LevelStarted {
            level: index,
            levels,
            ops: runnable.iter().map(|o| o.id.clone()).collect(),
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ctx = Ctx {
            client,
            org: &plan.organization,
            created: created.clone(),
            journal: tx,
            names: &opts.user_names,
        };
        let mut running = futures::stream::iter(runnable.into_iter().map(|op| {
            let ctx = &ctx;
            let stop = &opts.stop;
            // Futures start when `buffer_unordered` first polls them, so this check happens
            // right before the operation would begin, not when the level was queued.
            async move {
                if stop.is_stopped() {
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
                                confirmed_after_lost_response: false,
                            }
                        }
                        Some(Err(failure)) => {
                            root_failure.insert(op.id.clone(), op.id.clone());
                            OpStatus::Failed(failure)
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
    let outcomes = plan
        .operations
        .iter()
        .filter_map(|op| outcomes.remove(&op.id))
        .collect();
    let stopped = opts.stop.is_stopped().then_some(StopReason::Interrupted);
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
        description: describe(&op.kind),
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
}

/// A finished operation.
struct Done {
    created_id: Option<String>,
    already_done: bool,
}

impl Done {
    fn written(id: Option<String>) -> Done {
        Done {
            created_id: id,
            already_done: false,
        }
    }

    fn already(id: Option<String>) -> Done {
        Done {
            created_id: id,
            already_done: true,
        }
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

fn access_matches(
    live_admin: bool,
    live_roles: &std::collections::BTreeSet<String>,
    admin: bool,
    role_ids: &[String],
) -> bool {
    live_admin == admin && (admin || live_roles.iter().eq(sorted(role_ids).iter()))
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}

impl Ctx<'_> {
    fn record(
        &self,
        op: &OpId,
        phase: JournalPhase,
        method: &'static str,
        path: &str,
    ) -> JournalRecord {
        JournalRecord {
            time: Utc::now(),
            op: op.clone(),
            phase,
            method,
            path: path.to_string(),
            status: None,
            request_id: None,
            object_id: None,
            result: None,
        }
    }

    /// Sends one write, journaling the attempt before and the outcome after.
    async fn write<T, F>(
        &self,
        op: &OpId,
        method: &'static str,
        path: String,
        object_id: impl Fn(&T) -> Option<String>,
        send: F,
    ) -> Result<T, ContentfulError>
    where
        F: Future<Output = Result<T, ContentfulError>>,
    {
        let _ = self
            .journal
            .send(self.record(op, JournalPhase::Attempt, method, &path));
        let result = send.await;
        let mut rec = self.record(op, JournalPhase::Outcome, method, &path);
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

    /// The live organization, read again to see whether a refused create is already there.
    async fn reread(&self) -> Result<LiveState, OpFailure> {
        self.client
            .read_live_state(self.org, &[])
            .await
            .map_err(|e| failure(&e, None))
    }
}

/// What to do with the outcome of a create that Contentful refused as a duplicate (422): look at
/// the organization again and accept it when the desired object is already there.
async fn after_duplicate(
    ctx: &Ctx<'_>,
    err: ContentfulError,
    find: impl FnOnce(&LiveState) -> Option<String>,
) -> Result<Done, OpFailure> {
    if err.status() != Some(422) {
        return Err(failure(&err, None));
    }
    let live = ctx.reread().await?;
    match find(&live) {
        Some(id) => Ok(Done::already(Some(id))),
        None => Err(failure(&err, None)),
    }
}

/// What to do after a versioned update: on 409, re-read and accept only when the object already
/// is as desired.
async fn after_update<T>(
    names: &BTreeMap<String, String>,
    result: Result<ObjectMeta, ContentfulError>,
    meta: &ObjectMeta,
    reread: impl Future<Output = Result<T, ContentfulError>>,
    current: impl FnOnce(&T) -> (&ObjectMeta, bool),
) -> Result<Done, OpFailure> {
    match result {
        Ok(_) => Ok(Done::written(None)),
        Err(e) if e.is_version_mismatch() => match reread.await {
            Ok(obj) => {
                let (now, as_desired) = current(&obj);
                if as_desired {
                    Ok(Done::already(None))
                } else {
                    Err(changed_during_apply(now, meta.version, names))
                }
            }
            Err(e2) if e2.is_not_found() => Err(plain_failure(
                format!("{e}; the object no longer exists"),
                Some(&meta.id),
            )),
            Err(e2) => Err(failure(&e2, Some(&meta.id))),
        },
        Err(e) if e.is_not_found() => Err(plain_failure(
            format!("{e}; the object no longer exists"),
            Some(&meta.id),
        )),
        Err(e) => Err(failure(&e, Some(&meta.id))),
    }
}

/// A delete that finds the object already gone has nothing left to do.
fn after_delete(result: Result<(), ContentfulError>, id: &str) -> Result<Done, OpFailure> {
    match result {
        Ok(()) => Ok(Done::written(None)),
        Err(e) if e.is_not_found() => Ok(Done::already(None)),
        Err(e) => Err(failure(&e, Some(id))),
    }
}

fn meta_id(m: &ObjectMeta) -> Option<String> {
    Some(m.id.clone())
}

async fn run_op(ctx: &Ctx<'_>, op: &Operation) -> Result<Done, OpFailure> {
    let c = ctx.client;
    let org = ctx.org;
    let id = &op.id;
    match &op.kind {
        OpKind::Invite {
            email,
            role,
            first_name,
            last_name,
        } => {
            let path = format!("/organizations/{org}/invitations");
            let r = ctx
                .write(
                    id,
                    "POST",
                    path,
                    |i: &crate::contentful::Invited| Some(i.org_membership_id.clone()),
                    c.invite(
                        org,
                        email,
                        *role,
                        first_name.as_deref(),
                        last_name.as_deref(),
                    ),
                )
                .await;
            match r {
                Ok(invited) => Ok(Done::written(Some(invited.org_membership_id))),
                Err(e) => {
                    after_duplicate(ctx, e, |live| {
                        live.membership_by_email(email)
                            .filter(|(_, m)| m.role == *role)
                            .map(|(_, m)| m.meta.id.clone())
                    })
                    .await
                }
            }
        }
        OpKind::ChangeOrgRole { membership, to, .. } => {
            let path = format!(
                "/organizations/{org}/organization_memberships/{}",
                membership.id
            );
            let r = ctx
                .write(
                    id,
                    "PUT",
                    path,
                    meta_id,
                    c.update_org_membership(org, &membership.id, membership.version, *to),
                )
                .await;
            after_update(
                ctx.names,
                r,
                membership,
                c.get_org_membership(org, &membership.id),
                |m| (&m.meta, m.role == *to),
            )
            .await
        }
        OpKind::RemoveOrgMember { membership, .. } => {
            let path = format!(
                "/organizations/{org}/organization_memberships/{}",
                membership.id
            );
            let r = ctx
                .write(
                    id,
                    "DELETE",
                    path,
                    |_| None,
                    c.delete_org_membership(org, &membership.id),
                )
                .await;
            after_delete(r, &membership.id)
        }
        OpKind::CreateTeam { name, description } => {
            let path = format!("/organizations/{org}/teams");
            let r = ctx
                .write(
                    id,
                    "POST",
                    path,
                    meta_id,
                    c.create_team(org, name, description),
                )
                .await;
            match r {
                Ok(meta) => Ok(Done::written(Some(meta.id))),
                Err(e) => {
                    after_duplicate(ctx, e, |live| {
                        live.teams
                            .values()
                            .find(|t| &t.name == name && &t.description == description)
                            .map(|t| t.meta.id.clone())
                    })
                    .await
                }
            }
        }
        OpKind::UpdateTeam {
            team,
            name,
            description_before,
            description_after,
        } => {
            // Team list items may come without `sys.version` (read as 0), so a team planned at
            // version 0 is read once first: unchanged since the plan, its real version is used.
            let mut version = team.version;
            if version == 0 {
                match c.get_team(org, &team.id).await {
                    Ok(t) if &t.name == name && &t.description == description_after => {
                        return Ok(Done::already(None));
                    }
                    Ok(t) if &t.name == name && &t.description == description_before => {
                        version = t.meta.version;
                    }
                    Ok(t) => return Err(changed_during_apply(&t.meta, team.version, ctx.names)),
                    Err(e) => return Err(failure(&e, Some(&team.id))),
                }
            }
            let path = format!("/organizations/{org}/teams/{}", team.id);
            let r = ctx
                .write(
                    id,
                    "PUT",
                    path,
                    meta_id,
                    c.update_team(org, &team.id, version, name, description_after),
                )
                .await;
            after_update(ctx.names, r, team, c.get_team(org, &team.id), |t| {
                (
                    &t.meta,
                    &t.name == name && &t.description == description_after,
                )
            })
            .await
        }
        OpKind::DeleteTeam { team, .. } => {
            let path = format!("/organizations/{org}/teams/{}", team.id);
            let r = ctx
                .write(id, "DELETE", path, |_| None, c.delete_team(org, &team.id))
                .await;
            after_delete(r, &team.id)
        }
        OpKind::AddTeamMember {
            team, membership, ..
        } => {
            let team_id = ctx.team_id(team)?;
            let om_id = ctx.membership_id(membership)?;
            let path = format!("/organizations/{org}/teams/{team_id}/team_memberships");
            let r = ctx
                .write(
                    id,
                    "POST",
                    path,
                    meta_id,
                    c.create_team_membership(org, &team_id, &om_id),
                )
                .await;
            match r {
                Ok(meta) => Ok(Done::written(Some(meta.id))),
                Err(e) => {
                    after_duplicate(ctx, e, |live| {
                        live.team_memberships
                            .values()
                            .find(|tm| tm.team_id == team_id && tm.org_membership_id == om_id)
                            .map(|tm| tm.meta.id.clone())
                    })
                    .await
                }
            }
        }
        OpKind::RemoveTeamMember {
            team_id,
            team_membership,
            ..
        } => {
            let path = format!(
                "/organizations/{org}/teams/{team_id}/team_memberships/{}",
                team_membership.id
            );
            let r = ctx
                .write(
                    id,
                    "DELETE",
                    path,
                    |_| None,
                    c.delete_team_membership(org, team_id, &team_membership.id),
                )
                .await;
            after_delete(r, &team_membership.id)
        }
        OpKind::CreateTeamSpaceMembership {
            team,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let team_id = ctx.team_id(team)?;
            let admin = matches!(access, SpaceAccess::Admin);
            let path = format!("/spaces/{space_id}/team_space_memberships");
            let r = ctx
                .write(
                    id,
                    "POST",
                    path,
                    meta_id,
                    c.create_team_space_membership(space_id, &team_id, admin, role_ids),
                )
                .await;
            match r {
                Ok(meta) => Ok(Done::written(Some(meta.id))),
                Err(e) => {
                    after_duplicate(ctx, e, |live| {
                        live.team_space_memberships
                            .values()
                            .find(|t| {
                                t.team_id == team_id
                                    && &t.space_id == space_id
                                    && access_matches(t.admin, &t.role_ids, admin, role_ids)
                            })
                            .map(|t| t.meta.id.clone())
                    })
                    .await
                }
            }
        }
        OpKind::UpdateTeamSpaceMembership {
            team_id,
            space_id,
            tsm,
            after,
            role_ids,
            ..
        } => {
            let admin = matches!(after, SpaceAccess::Admin);
            let path = format!("/spaces/{space_id}/team_space_memberships/{}", tsm.id);
            let r = ctx
                .write(
                    id,
                    "PUT",
                    path,
                    meta_id,
                    c.update_team_space_membership(
                        space_id,
                        &tsm.id,
                        tsm.version,
                        team_id,
                        admin,
                        role_ids,
                    ),
                )
                .await;
            after_update(
                ctx.names,
                r,
                tsm,
                c.get_team_space_membership(space_id, &tsm.id),
                |t| {
                    (
                        &t.meta,
                        access_matches(t.admin, &t.role_ids, admin, role_ids),
                    )
                },
            )
            .await
        }
        OpKind::DeleteTeamSpaceMembership { space_id, tsm, .. } => {
            let path = format!("/spaces/{space_id}/team_space_memberships/{}", tsm.id);
            let r = ctx
                .write(
                    id,
                    "DELETE",
                    path,
                    |_| None,
                    c.delete_team_space_membership(space_id, &tsm.id),
                )
                .await;
            after_delete(r, &tsm.id)
        }
        OpKind::CreateSpaceMembership {
            email,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let admin = matches!(access, SpaceAccess::Admin);
            let path = format!("/spaces/{space_id}/space_memberships");
            let r = ctx
                .write(
                    id,
                    "POST",
                    path,
                    meta_id,
                    c.create_space_membership(space_id, email, admin, role_ids),
                )
                .await;
            match r {
                Ok(meta) => Ok(Done::written(Some(meta.id))),
                Err(e) => {
                    after_duplicate(ctx, e, |live| {
                        let (user, _) = live.membership_by_email(email)?;
                        live.space_memberships
                            .values()
                            .find(|m| {
                                m.user_id == user.id
                                    && &m.space_id == space_id
                                    && access_matches(m.admin, &m.role_ids, admin, role_ids)
                            })
                            .map(|m| m.meta.id.clone())
                    })
                    .await
                }
            }
        }
        OpKind::UpdateSpaceMembership {
            space_id,
            space_membership,
            after,
            role_ids,
            ..
        } => {
            let admin = matches!(after, SpaceAccess::Admin);
            let sm = space_membership;
            let path = format!("/spaces/{space_id}/space_memberships/{}", sm.id);
            let r = ctx
                .write(
                    id,
                    "PUT",
                    path,
                    meta_id,
                    c.update_space_membership(space_id, &sm.id, sm.version, admin, role_ids),
                )
                .await;
            after_update(
                ctx.names,
                r,
                sm,
                c.get_space_membership(space_id, &sm.id),
                |m| {
                    (
                        &m.meta,
                        access_matches(m.admin, &m.role_ids, admin, role_ids),
                    )
                },
            )
            .await
        }
        OpKind::DeleteSpaceMembership {
            space_id,
            space_membership,
            ..
        } => {
            let sm = space_membership;
            let path = format!("/spaces/{space_id}/space_memberships/{}", sm.id);
            let r = ctx
                .write(
                    id,
                    "DELETE",
                    path,
                    |_| None,
                    c.delete_space_membership(space_id, &sm.id),
                )
                .await;
            after_delete(r, &sm.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_compare_ignoring_order_and_admin_ignores_roles() {
        let live: std::collections::BTreeSet<String> = ["b".to_string(), "a".to_string()].into();
        assert!(access_matches(
            false,
            &live,
            false,
            &["b".into(), "a".into()]
        ));
        assert!(!access_matches(false, &live, false, &["a".into()]));
        assert!(!access_matches(
            true,
            &live,
            false,
            &["a".into(), "b".into()]
        ));
        assert!(access_matches(true, &live, true, &[]));
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
