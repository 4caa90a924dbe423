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
use crate::model::{LiveTeam, ObjectMeta};
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
    let cascade = |c: &Cascade, out: &mut BTreeMap<_, _>| match c {
        Cascade::TeamMembership {
            team_id,
            team_membership,
            ..
        } => {
            out.insert(
                (ObjectKind::TeamMembership, team_membership.id.clone()),
                team_id.clone(),
            );
        }
        Cascade::SpaceMembership {
            space_id,
            space_membership,
            ..
        } => {
            out.insert(
                (ObjectKind::SpaceMembership, space_membership.id.clone()),
                space_id.clone(),
            );
        }
        Cascade::TeamSpaceMembership { space_id, tsm, .. } => {
            out.insert(
                (ObjectKind::TeamSpaceMembership, tsm.id.clone()),
                space_id.clone(),
            );
        }
    };
    for op in &plan.operations {
        for c in op.kind.cascades() {
            cascade(c, &mut out);
        }
        match &op.kind {
            OpKind::RemoveTeamMember {
                team_id,
                team_membership,
                ..
            } => {
                out.insert(
                    (ObjectKind::TeamMembership, team_membership.id.clone()),
                    team_id.clone(),
                );
            }
            OpKind::UpdateTeamSpaceMembership { space_id, tsm, .. }
            | OpKind::DeleteTeamSpaceMembership { space_id, tsm, .. } => {
                out.insert(
                    (ObjectKind::TeamSpaceMembership, tsm.id.clone()),
                    space_id.clone(),
                );
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
            } => {
                out.insert(
                    (ObjectKind::SpaceMembership, space_membership.id.clone()),
                    space_id.clone(),
                );
            }
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
const PER_OBJECT_UP_TO: usize = 10;

/// What one read of a whole collection says of each of its objects, by id.
type Metas = BTreeMap<String, (ObjectMeta, Option<LiveTeam>)>;

/// The collection read for `kind`.
fn scope_of(kind: ObjectKind) -> ReadScope {
    let mut scope = ReadScope::NONE;
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

/// For each kind of object that is cheaper to check by reading its whole collection than one
/// `GET` per object, what that read says of every object of the kind.
async fn by_pages(
    client: &Client,
    org: &str,
    touched: &[Touched],
) -> Result<BTreeMap<ObjectKind, Metas>, ContentfulError> {
    let mut per_kind: BTreeMap<ObjectKind, usize> = BTreeMap::new();
    for t in touched {
        *per_kind.entry(t.kind).or_default() += 1;
    }
    let mut out = BTreeMap::new();
    for (kind, n) in per_kind {
        if n <= PER_OBJECT_UP_TO {
            continue;
        }
        let scope = scope_of(kind);
        let total = client.collection_total(org, scope).await?;
        if crate::contentful::request::page_count(total) as usize >= n {
            continue;
        }
        let live = client.read_scoped(org, &[], scope, None).await?;
        let metas: Metas = match kind {
            ObjectKind::OrgMembership => live
                .org_memberships
                .into_iter()
                .map(|(id, m)| (id, (m.meta, None)))
                .collect(),
            ObjectKind::Team => live
                .teams
                .into_iter()
                .map(|(id, t)| (id, (t.meta.clone(), Some(t))))
                .collect(),
            ObjectKind::TeamMembership => live
                .team_memberships
                .into_iter()
                .map(|(id, m)| (id, (m.meta, None)))
                .collect(),
            ObjectKind::TeamSpaceMembership => live
                .team_space_memberships
                .into_iter()
                .map(|(id, m)| (id, (m.meta, None)))
                .collect(),
            ObjectKind::SpaceMembership => live
                .space_memberships
                .into_iter()
                .map(|(id, m)| (id, (m.meta, None)))
                .collect(),
            ObjectKind::Role => live
                .spaces
                .values()
                .flat_map(|s| s.roles.values())
                .map(|r| (r.id.clone(), (role_meta(r), None)))
                .collect(),
        };
        out.insert(kind, metas);
    }
    Ok(out)
}

/// Everything that makes a saved plan unsafe to apply, in a fixed order: its age (older than
/// `max_age` at `now`, or dated in the future), the access file's hash (when `config_sha256` is given), then every touched
/// object (one `GET` each, each object once, or its whole collection's pages when that is fewer
/// requests) whose `sys.version` differs or that is gone.
/// An empty result means the plan may be applied.
pub async fn check_stale(
    client: &Client,
    plan: &Plan,
    config_sha256: Option<&str>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Vec<Staleness>, ContentfulError> {
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
    let parents = parents(plan);
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
    let mut seen = BTreeSet::new();
    let touched: Vec<Touched> = plan
        .operations
        .iter()
        .flat_map(|op| touched_by(&op.kind))
        .filter(|t| seen.insert((t.kind, t.id.clone())))
        .collect();
    let org = plan.organization.as_str();
    let paged = by_pages(client, org, &touched).await?;
    let reads = futures::stream::iter(touched.iter().map(|t| {
        let parent = parents.get(&(t.kind, t.id.clone())).cloned();
        let paged = &paged;
        async move {
            if let Some(collection) = paged.get(&t.kind) {
                return Ok::<_, ContentfulError>((t, collection.get(&t.id).cloned()));
            }
            let meta = read_meta(client, org, t.kind, &t.id, parent.as_deref()).await?;
            Ok::<_, ContentfulError>((t, meta))
        }
    }))
    .buffered(8)
    .collect::<Vec<_>>()
    .await;
    for r in reads {
        let (t, meta) = r?;
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
    Ok(out)
}
