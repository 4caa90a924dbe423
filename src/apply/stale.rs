//! Is a saved plan still valid? Re-reads every live object the plan's operations write or delete
//! (derived from the operations themselves with [`touched_by`], never from their `touches` lists,
//! which a hand-edited plan may leave empty) and compares its `sys.version` with the one the plan
//! saw (one `GET` per object for small plans, the collection's pages when those are fewer
//! requests); checks the access file's hash and the plan's age (too old, or dated in the future).
//! Any difference means the plan must not be applied.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::contentful::{Client, ContentfulError, ReadScope};
use crate::model::{LiveState, LiveTeam, ObjectMeta};
use crate::plan::{Cascade, ObjectKind, OpKind, Plan, Touched, touched_by};

/// One reason a saved plan is stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Staleness {
    /// The plan is older than the allowed age.
    TooOld {
        /// When the plan was made.
        created_at: DateTime<Utc>,
        /// The allowed age, in seconds.
        max_age_secs: i64,
    },
    /// The plan is dated later than now (more than [`crate::apply::CLOCK_SKEW`] ahead): its age
    /// cannot be trusted.
    FromTheFuture {
        /// When the plan says it was made.
        created_at: DateTime<Utc>,
        /// The time now.
        now: DateTime<Utc>,
    },
    /// The access file changed since the plan was made.
    ConfigChanged {
        /// The access file's path as recorded in the plan.
        path: String,
        /// SHA-256 in the plan.
        planned: String,
        /// SHA-256 now.
        current: String,
    },
    /// A live object has another `sys.version` than the plan saw.
    ObjectChanged {
        /// The object's kind.
        kind: ObjectKind,
        /// `sys.id`.
        id: String,
        /// Version in the plan.
        planned: u64,
        /// Version now.
        current: u64,
        /// `sys.updatedBy` now (a user id), when given.
        updated_by: Option<String>,
        /// `sys.updatedAt` now, when given.
        updated_at: Option<DateTime<Utc>>,
    },
    /// A live object the plan touches no longer exists.
    ObjectGone {
        /// The object's kind.
        kind: ObjectKind,
        /// `sys.id`.
        id: String,
    },
}

/// Where to read a touched object: team memberships live under their team, (team) space
/// memberships under their space.
fn parents(plan: &Plan) -> BTreeMap<(ObjectKind, String), String> {
    let mut out = BTreeMap::new();
    let mut put = |kind: ObjectKind, id: &str, parent: &str| {
        out.insert((kind, id.to_string()), parent.to_string());
    };
    for op in &plan.operations {
        for c in op.kind.cascades() {
            match c {
                Cascade::TeamMembership {
                    team_id,
                    team_membership,
                    ..
                } => put(ObjectKind::TeamMembership, &team_membership.id, team_id),
                Cascade::SpaceMembership {
                    space_id,
                    space_membership,
                    ..
                } => put(ObjectKind::SpaceMembership, &space_membership.id, space_id),
                Cascade::TeamSpaceMembership { space_id, tsm, .. } => {
                    put(ObjectKind::TeamSpaceMembership, &tsm.id, space_id)
                }
            }
        }
        match &op.kind {
            OpKind::RemoveTeamMember {
                team_id,
                team_membership,
                ..
            } => put(ObjectKind::TeamMembership, &team_membership.id, team_id),
            OpKind::UpdateTeamSpaceMembership { space_id, tsm, .. }
            | OpKind::DeleteTeamSpaceMembership { space_id, tsm, .. } => {
                put(ObjectKind::TeamSpaceMembership, &tsm.id, space_id)
            }
            OpKind::UpdateSpaceMembership {
                space_id,
                space_membership,
                ..
            }
            | OpKind::DeleteSpaceMembership {
                space_id,
                space_membership,
                ..
            } => put(ObjectKind::SpaceMembership, &space_membership.id, space_id),
            _ => {}
        }
    }
    out
}

async fn read_meta(
    client: &Client,
    org: &str,
    kind: ObjectKind,
    id: &str,
    parent: Option<&str>,
) -> Result<Option<(ObjectMeta, Option<LiveTeam>)>, ContentfulError> {
    let parent = parent.unwrap_or_default();
    let r = match kind {
        ObjectKind::OrgMembership => client.get_org_membership(org, id).await.map(|m| m.meta),
        ObjectKind::Team => {
            return match client.get_team(org, id).await {
                Ok(t) => Ok(Some((t.meta.clone(), Some(t)))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            };
        }
        ObjectKind::TeamMembership => client
            .get_team_membership(org, parent, id)
            .await
            .map(|m| m.meta),
        ObjectKind::TeamSpaceMembership => client
            .get_team_space_membership(parent, id)
            .await
            .map(|m| m.meta),
        ObjectKind::SpaceMembership => client
            .get_space_membership(parent, id)
            .await
            .map(|m| m.meta),
        // A role is found through its space's roles (the parent is the space id); not found
        // reads as gone, so a plan whose role cannot be confirmed is stale, never applied blind.
        ObjectKind::Role => {
            let scope = ReadScope {
                spaces: true,
                ..ReadScope::NONE
            };
            let live = client
                .read_scoped(org, &[parent.to_string()], scope, None)
                .await?;
            return Ok(live
                .spaces
                .values()
                .find_map(|s| s.roles.get(id))
                .map(|r| (role_meta(r), None)));
        }
    };
    match r {
        Ok(meta) => Ok(Some((meta, None))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A role's id and version as an [`ObjectMeta`].
fn role_meta(r: &crate::model::LiveRole) -> ObjectMeta {
    ObjectMeta {
        id: r.id.clone(),
        version: r.version,
        created_at: None,
        updated_at: r.updated_at,
        updated_by: r.updated_by.clone(),
    }
}

/// Up to this many touched objects of one kind are checked with one `GET` each; above it, one
/// `limit=0` request asks the collection's size and the whole collection is read when that is
/// fewer requests (a saved plan of 500 updates in an organization of 30 pages: 31 requests, not
/// 500; issue 20).
pub(super) const PER_OBJECT_UP_TO: usize = 10;

/// An object as a read saw it: its `sys` and, for a team, the team (name and description).
type Seen = (ObjectMeta, Option<LiveTeam>);

/// The collection read for `kind`.
pub(super) fn scope_of(kind: ObjectKind) -> ReadScope {
    add_to(ReadScope::NONE, kind)
}

/// `scope` and the collection of `kind`.
fn add_to(mut scope: ReadScope, kind: ObjectKind) -> ReadScope {
    match kind {
        ObjectKind::OrgMembership => scope.org_memberships = true,
        ObjectKind::Team => scope.teams = true,
        ObjectKind::TeamMembership => scope.team_memberships = true,
        ObjectKind::TeamSpaceMembership => scope.team_space_memberships = true,
        ObjectKind::SpaceMembership => scope.space_memberships = true,
        ObjectKind::Role => scope.spaces = true,
    }
    scope
}

/// The object `kind`/`id` as `live` has it (a read of its collection), or `None` when it is not
/// there.
pub(super) fn seen_in(live: &LiveState, kind: ObjectKind, id: &str) -> Option<Seen> {
    match kind {
        ObjectKind::OrgMembership => live.org_memberships.get(id).map(|m| (m.meta.clone(), None)),
        ObjectKind::Team => live
            .teams
            .get(id)
            .map(|t| (t.meta.clone(), Some(t.clone()))),
        ObjectKind::TeamMembership => live
            .team_memberships
            .get(id)
            .map(|m| (m.meta.clone(), None)),
        ObjectKind::TeamSpaceMembership => live
            .team_space_memberships
            .get(id)
            .map(|m| (m.meta.clone(), None)),
        ObjectKind::SpaceMembership => live
            .space_memberships
            .get(id)
            .map(|m| (m.meta.clone(), None)),
        ObjectKind::Role => live
            .spaces
            .values()
            .find_map(|s| s.roles.get(id))
            .map(|r| (role_meta(r), None)),
    }
}

/// Of the kinds counted in `per_kind` (how many objects of each must be read), those that are
/// fewer requests to read as whole collections than one `GET` per object (more than
/// [`PER_OBJECT_UP_TO`] objects, and the collection has fewer pages than objects; its size costs
/// one `limit=0` request), and one read of them. `None` when every kind is read object by object.
pub(super) async fn read_by_pages(
    client: &Client,
    org: &str,
    per_kind: &BTreeMap<ObjectKind, usize>,
) -> Result<Option<(BTreeSet<ObjectKind>, LiveState)>, ContentfulError> {
    let mut kinds = BTreeSet::new();
    let mut scope = ReadScope::NONE;
    for (&kind, &n) in per_kind {
        // Roles are read per space (a scoped read holds only the spaces it is given): never by
        // the organization's pages here.
        if n <= PER_OBJECT_UP_TO || kind == ObjectKind::Role {
            continue;
        }
        let total = client.collection_total(org, scope_of(kind)).await?;
        if crate::contentful::request::page_count(total) as usize >= n {
            continue;
        }
        kinds.insert(kind);
        scope = add_to(scope, kind);
    }
    if kinds.is_empty() {
        return Ok(None);
    }
    let live = client.read_scoped(org, &[], scope, None).await?;
    Ok(Some((kinds, live)))
}

/// The plan's age and the access file's hash: what makes it stale without reading anything.
fn stale_as_a_file(
    plan: &Plan,
    config_sha256: Option<&str>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Vec<Staleness> {
    let mut out = Vec::new();
    if plan.created_at - now > super::verify::CLOCK_SKEW {
        out.push(Staleness::FromTheFuture {
            created_at: plan.created_at,
            now,
        });
    } else if now - plan.created_at > max_age {
        out.push(Staleness::TooOld {
            created_at: plan.created_at,
            max_age_secs: max_age.num_seconds(),
        });
    }
    if let Some(current) = config_sha256
        && current != plan.config_sha256
    {
        out.push(Staleness::ConfigChanged {
            path: plan.config_path.clone(),
            planned: plan.config_sha256.clone(),
            current: current.to_string(),
        });
    }
    out
}

/// Every live object the plan writes or deletes, each once, in the plan's order.
fn touched(plan: &Plan) -> Vec<Touched> {
    let mut seen = BTreeSet::new();
    plan.operations
        .iter()
        .flat_map(|op| touched_by(&op.kind))
        .filter(|t| seen.insert((t.kind, t.id.clone())))
        .collect()
}

/// Judges each touched object against what a read saw of it (`None`: it is gone).
fn stale_objects<'t>(
    plan: &Plan,
    seen: impl IntoIterator<Item = (&'t Touched, Option<Seen>)>,
) -> Vec<Staleness> {
    // What the plan saw of each team it updates or deletes: name, and description when known.
    let mut teams_seen: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
    for op in &plan.operations {
        match &op.kind {
            OpKind::UpdateTeam {
                team,
                name,
                description_before,
                ..
            } => {
                teams_seen.insert(&team.id, (name, Some(description_before)));
            }
            OpKind::DeleteTeam { team, name, .. } => {
                teams_seen.entry(&team.id).or_insert((name, None));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (t, meta) in seen {
        match meta {
            None => out.push(Staleness::ObjectGone {
                kind: t.kind,
                id: t.id.clone(),
            }),
            // A team planned at version 0 may come from a list view without `sys.version`:
            // it is stale only when what the plan saw of it (name, description) changed.
            Some((_, Some(team)))
                if t.kind == ObjectKind::Team
                    && t.version == 0
                    && teams_seen
                        .get(t.id.as_str())
                        .is_some_and(|(name, description)| {
                            team.name == *name && description.is_none_or(|d| d == team.description)
                        }) => {}
            Some((m, _)) if m.version != t.version => out.push(Staleness::ObjectChanged {
                kind: t.kind,
                id: t.id.clone(),
                planned: t.version,
                current: m.version,
                updated_by: m.updated_by,
                updated_at: m.updated_at,
            }),
            Some(_) => {}
        }
    }
    out
}

/// [`check_stale`] against a read of the whole organization made anyway (`live`): no request at
/// all. [`verify_saved`](super::verify_saved) reads the organization to plan again, so a saved
/// plan's objects are checked in that read instead of one `GET` each or pages of their own
/// (issue 20).
pub fn stale_against(
    plan: &Plan,
    config_sha256: Option<&str>,
    now: DateTime<Utc>,
    max_age: Duration,
    live: &LiveState,
) -> Vec<Staleness> {
    let mut out = stale_as_a_file(plan, config_sha256, now, max_age);
    let touched = touched(plan);
    out.extend(stale_objects(
        plan,
        touched.iter().map(|t| (t, seen_in(live, t.kind, &t.id))),
    ));
    out
}

/// Everything that makes a saved plan unsafe to apply, in a fixed order: its age (older than
/// `max_age` at `now`, or dated in the future), the access file's hash (when `config_sha256` is
/// given), then every touched object (one `GET` each, each object once, or its whole
/// collection's pages when that is fewer requests) whose `sys.version` differs or that is gone.
/// An empty result means the plan may be applied.
pub async fn check_stale(
    client: &Client,
    plan: &Plan,
    config_sha256: Option<&str>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Vec<Staleness>, ContentfulError> {
    let mut out = stale_as_a_file(plan, config_sha256, now, max_age);
    let parents = parents(plan);
    let touched = touched(plan);
    let org = plan.organization.as_str();
    let mut per_kind: BTreeMap<ObjectKind, usize> = BTreeMap::new();
    for t in &touched {
        *per_kind.entry(t.kind).or_default() += 1;
    }
    let paged = read_by_pages(client, org, &per_kind).await?;
    let reads = futures::stream::iter(touched.iter().map(|t| {
        let parent = parents.get(&(t.kind, t.id.clone())).cloned();
        let paged = &paged;
        async move {
            if let Some((kinds, live)) = paged
                && kinds.contains(&t.kind)
            {
                return Ok::<_, ContentfulError>((t, seen_in(live, t.kind, &t.id)));
            }
            let meta = read_meta(client, org, t.kind, &t.id, parent.as_deref()).await?;
            Ok::<_, ContentfulError>((t, meta))
        }
    }))
    .buffered(8)
    .collect::<Vec<_>>()
    .await;
    let seen = reads.into_iter().collect::<Result<Vec<_>, _>>()?;
    out.extend(stale_objects(plan, seen));
    Ok(out)
}
