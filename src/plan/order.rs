//! Ordering: give drafts their final ids, work out which operation must wait for which, and
//! group them into levels that can run concurrently.
//!
//! Rules (each an edge in a petgraph dependency graph):
//! - an invitation comes before that user's team and space memberships;
//! - a team's creation comes before its members and space memberships;
//! - a team's member and space-membership removals come before the team's deletion;
//! - make before break: every revocation of a user's access in a space (direct membership deleted,
//!   team membership removed, team space membership deleted, team deleted) waits for every grant of
//!   access to the same user in the same space (direct membership created or updated, team member
//!   added, team space membership created or updated), so access never has a gap;
//! - an org role change that demotes waits for the grants of that user;
//! - an owner is demoted or removed only after the promotions to owner, and a space's admin is
//!   taken away only after the new admins of that space are in place.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::model::{DesiredState, Email, LiveState, OrgRole, SpaceAccess};

use super::diff::{Draft, Index, provisional_invite, provisional_team};
use super::ops::{Action, Cascade, MembershipRef, OpId, OpKind, Operation, TeamRef};

/// The stable sort key of a draft: kind rank, then team, user and space names.
fn sort_key(d: &Draft) -> (u8, String, String, String) {
    (
        d.kind.rank(),
        d.kind.team_name().unwrap_or_default().to_string(),
        d.kind.email().map(|e| e.to_string()).unwrap_or_default(),
        d.kind
            .space()
            .map(|(n, _)| n.to_string())
            .unwrap_or_default(),
    )
}

/// (user, space id) pairs: whose access where.
type Pairs = BTreeSet<(Email, String)>;

/// Orders `drafts` into operations with final ids and dependencies, and computes the levels.
pub(crate) fn order(
    mut drafts: Vec<Draft>,
    desired: &DesiredState,
    live: &LiveState,
    ix: &Index<'_>,
) -> (Vec<Operation>, Vec<Vec<OpId>>) {
    drafts.sort_by_key(sort_key);

    // Provisional id → final id.
    let ids: Vec<OpId> = (1..=drafts.len()).map(OpId::nth).collect();
    let mut provisional: BTreeMap<OpId, OpId> = BTreeMap::new();
    let mut by_provisional: BTreeMap<OpId, usize> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let p = match &d.kind {
            OpKind::Invite { email, .. } => provisional_invite(email),
            OpKind::CreateTeam { name, .. } => provisional_team(name),
            k @ OpKind::CreateRole { .. } => match super::roles::provisional_of(k) {
                Some(p) => p,
                None => continue,
            },
            _ => continue,
        };
        provisional.insert(p.clone(), ids[i].clone());
        by_provisional.insert(p, i);
    }

    // The teams (by id) whose live members or spaces an operation's grants or revocations
    // depend on: only these are indexed below, so a plan touching few teams does not pay for
    // every team membership of a large organization.
    let mut needed_teams: BTreeSet<&str> = BTreeSet::new();
    for d in &drafts {
        match &d.kind {
            OpKind::RemoveTeamMember { team_id, .. }
            | OpKind::DeleteTeamSpaceMembership { team_id, .. } => {
                needed_teams.insert(team_id.as_str());
            }
            OpKind::DeleteTeam { team, .. } => {
                needed_teams.insert(team.id.as_str());
            }
            OpKind::CreateTeamSpaceMembership { team_name, .. }
            | OpKind::UpdateTeamSpaceMembership { team_name, .. } => {
                if let Some(t) = ix.teams.get(team_name.as_str()) {
                    needed_teams.insert(t.meta.id.as_str());
                }
            }
            _ => {}
        }
    }

    // Live members of each team (by team id), and each team's spaces (live and desired).
    let mut live_members: BTreeMap<&str, BTreeSet<Email>> = BTreeMap::new();
    for tm in live.team_memberships.values() {
        if !needed_teams.contains(tm.team_id.as_str()) {
            continue;
        }
        if let Some(e) = ix.email_of_membership.get(tm.org_membership_id.as_str()) {
            live_members
                .entry(tm.team_id.as_str())
                .or_default()
                .insert((*e).clone());
        }
    }
    let mut live_team_spaces: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for tsm in live.team_space_memberships.values() {
        if !needed_teams.contains(tsm.team_id.as_str()) {
            continue;
        }
        live_team_spaces
            .entry(tsm.team_id.as_str())
            .or_default()
            .insert(tsm.space_id.clone());
    }
    let desired_team_spaces = |team: &str| -> BTreeSet<String> {
        desired
            .teams
            .get(team)
            .map(|t| {
                t.spaces
                    .keys()
                    .filter_map(|n| desired.spaces.get(n).map(|s| s.id.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Members of a team after the plan (over-approximated: declared members plus live members),
    // gathered only for the teams whose space access the plan grants.
    let granted_teams: BTreeSet<&str> = drafts
        .iter()
        .filter_map(|d| match &d.kind {
            OpKind::CreateTeamSpaceMembership { team_name, .. }
            | OpKind::UpdateTeamSpaceMembership { team_name, .. } => Some(team_name.as_str()),
            _ => None,
        })
        .collect();
    let mut declared_members: BTreeMap<&str, BTreeSet<Email>> = BTreeMap::new();
    if !granted_teams.is_empty() {
        for u in desired.users.values() {
            for t in u.teams.keys() {
                if granted_teams.contains(t.as_str()) {
                    declared_members
                        .entry(t.as_str())
                        .or_default()
                        .insert(u.email.clone());
                }
            }
        }
    }
    let members_after = |team: &str| -> BTreeSet<Email> {
        let mut m = declared_members.get(team).cloned().unwrap_or_default();
        if let Some(t) = ix.teams.get(team) {
            m.extend(
                live_members
                    .get(t.meta.id.as_str())
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        m
    };

    let mut grants: Vec<Pairs> = Vec::with_capacity(drafts.len());
    let mut revokes: Vec<Pairs> = Vec::with_capacity(drafts.len());
    for d in &drafts {
        let mut g = Pairs::new();
        let mut r = Pairs::new();
        match &d.kind {
            OpKind::CreateSpaceMembership {
                email, space_id, ..
            }
            | OpKind::UpdateSpaceMembership {
                email, space_id, ..
            } => {
                g.insert((email.clone(), space_id.clone()));
            }
            OpKind::AddTeamMember {
                team_name, email, ..
            } => {
                for s in desired_team_spaces(team_name) {
                    g.insert((email.clone(), s));
                }
            }
            OpKind::CreateTeamSpaceMembership {
                team_name,
                space_id,
                ..
            }
            | OpKind::UpdateTeamSpaceMembership {
                team_name,
                space_id,
                ..
            } => {
                for e in members_after(team_name) {
                    g.insert((e, space_id.clone()));
                }
            }
            OpKind::DeleteSpaceMembership {
                email, space_id, ..
            } => {
                r.insert((email.clone(), space_id.clone()));
            }
            OpKind::RemoveTeamMember { team_id, email, .. } => {
                for s in live_team_spaces.get(team_id.as_str()).into_iter().flatten() {
                    r.insert((email.clone(), s.clone()));
                }
            }
            OpKind::DeleteTeamSpaceMembership {
                team_id, space_id, ..
            } => {
                for e in live_members.get(team_id.as_str()).into_iter().flatten() {
                    r.insert((e.clone(), space_id.clone()));
                }
            }
            OpKind::DeleteTeam { team, .. } => {
                for e in live_members.get(team.id.as_str()).into_iter().flatten() {
                    for s in live_team_spaces.get(team.id.as_str()).into_iter().flatten() {
                        r.insert((e.clone(), s.clone()));
                    }
                }
            }
            _ => {}
        }
        grants.push(g);
        revokes.push(r);
    }

    // Lookup tables so dependencies are found without comparing every pair of operations.
    let index_of = |p: &OpId| by_provisional.get(p).copied();
    let mut grants_by_pair: BTreeMap<&(Email, String), Vec<usize>> = BTreeMap::new();
    let mut grants_by_user: BTreeMap<&Email, BTreeSet<usize>> = BTreeMap::new();
    for (j, g) in grants.iter().enumerate() {
        for pair in g {
            grants_by_pair.entry(pair).or_default().push(j);
            grants_by_user.entry(&pair.0).or_default().insert(j);
        }
        if drafts[j].kind.action() == Action::Add
            && let Some(e) = drafts[j].kind.email()
        {
            grants_by_user.entry(e).or_default().insert(j);
        }
    }
    let mut team_removals: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (j, d) in drafts.iter().enumerate() {
        if matches!(
            d.kind,
            OpKind::RemoveTeamMember { .. } | OpKind::DeleteTeamSpaceMembership { .. }
        ) && let Some(t) = d.kind.team_name()
        {
            team_removals.entry(t).or_default().push(j);
        }
    }

    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        match &d.kind {
            OpKind::AddTeamMember {
                team, membership, ..
            } => {
                if let TeamRef::CreatedBy(p) = team {
                    deps[i].extend(index_of(p));
                }
                if let MembershipRef::InvitedBy(p) = membership {
                    deps[i].extend(index_of(p));
                }
            }
            OpKind::CreateTeamSpaceMembership {
                team: TeamRef::CreatedBy(p),
                ..
            } => {
                deps[i].extend(index_of(p));
            }
            OpKind::CreateSpaceMembership { email, .. } => {
                deps[i].extend(index_of(&provisional_invite(email)));
            }
            OpKind::DeleteTeam { name, .. } => {
                deps[i].extend(team_removals.get(name.as_str()).into_iter().flatten());
            }
            OpKind::ChangeOrgRole {
                email, from, to, ..
            } if to < from => {
                deps[i].extend(grants_by_user.get(email).into_iter().flatten());
            }
            _ => {}
        }
        for pair in &revokes[i] {
            deps[i].extend(
                grants_by_pair
                    .get(pair)
                    .into_iter()
                    .flatten()
                    .filter(|&&j| j != i),
            );
        }
    }

    super::roles::add_deps(&drafts, &by_provisional, &mut deps);

    // Keep an owner and every space's admins throughout: promotions to owner come before an
    // owner is demoted or removed (Contentful refuses to remove the last owner), and new space
    // admins come before old ones go.
    let mut owner_promotions = Vec::new();
    let mut admin_grants: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (j, d) in drafts.iter().enumerate() {
        if let OpKind::ChangeOrgRole { from, to, .. } = &d.kind
            && *to == OrgRole::Owner
            && *from != OrgRole::Owner
        {
            owner_promotions.push(j);
        }
        for space in admin_granted(&d.kind, desired) {
            admin_grants.entry(space).or_default().push(j);
        }
    }
    // Only needed (and only built) when the plan grants space admin somewhere.
    let admin_spaces = if admin_grants.is_empty() {
        BTreeMap::new()
    } else {
        admin_spaces_by_team(live)
    };
    for (i, d) in drafts.iter().enumerate() {
        let demotes_owner = match &d.kind {
            OpKind::ChangeOrgRole { from, to, .. } => {
                *from == OrgRole::Owner && *to != OrgRole::Owner
            }
            OpKind::RemoveOrgMember { role, .. } => *role == OrgRole::Owner,
            _ => false,
        };
        if demotes_owner {
            deps[i].extend(owner_promotions.iter().copied());
        }
        if admin_grants.is_empty() {
            continue;
        }
        for space in admin_revoked(&d.kind, &admin_spaces) {
            deps[i].extend(
                admin_grants
                    .get(&space)
                    .into_iter()
                    .flatten()
                    .filter(|&&j| j != i),
            );
        }
    }

    // Levels over the dependency graph.
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..drafts.len()).map(|i| graph.add_node(i)).collect();
    for (i, ds) in deps.iter().enumerate() {
        for &j in ds {
            graph.add_edge(nodes[j], nodes[i], ());
        }
    }
    // The rules only ever point from grants and creations to revocations and demotions, so the
    // graph is acyclic; should that ever break, fall back to id order (one op per level).
    let topo = toposort(&graph, None)
        .map(|t| t.into_iter().map(|n| graph[n]).collect::<Vec<_>>())
        .unwrap_or_else(|_| (0..drafts.len()).collect());
    let mut level = vec![0usize; drafts.len()];
    for &i in &topo {
        level[i] = deps[i].iter().map(|&j| level[j] + 1).max().unwrap_or(0);
    }
    let depth = level.iter().copied().max().map(|m| m + 1).unwrap_or(0);
    let mut levels: Vec<Vec<OpId>> = vec![Vec::new(); depth];
    for (i, &l) in level.iter().enumerate() {
        levels[l].push(ids[i].clone());
    }

    let ops = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let mut kind = resolve_refs(d.kind, &provisional);
            super::roles::finalize_role_ids(&mut kind, &provisional);
            Operation {
                id: ids[i].clone(),
                action: kind.action(),
                kind,
                depends_on: deps[i].iter().map(|&j| ids[j].clone()).collect(),
                cause: d.cause,
                reason: d.reason,
                touches: d.touches,
            }
        })
        .collect();
    (ops, levels)
}

/// Space ids in which `kind` makes someone space admin (who was not before).
fn admin_granted(kind: &OpKind, desired: &DesiredState) -> Vec<String> {
    match kind {
        OpKind::CreateSpaceMembership {
            space_id,
            access: SpaceAccess::Admin,
            ..
        }
        | OpKind::CreateTeamSpaceMembership {
            space_id,
            access: SpaceAccess::Admin,
            ..
        } => vec![space_id.clone()],
        OpKind::UpdateSpaceMembership {
            space_id,
            before,
            after: SpaceAccess::Admin,
            ..
        }
        | OpKind::UpdateTeamSpaceMembership {
            space_id,
            before,
            after: SpaceAccess::Admin,
            ..
        } if !before.is_admin() => vec![space_id.clone()],
        OpKind::AddTeamMember { team_name, .. } => desired
            .teams
            .get(team_name)
            .map(|t| {
                t.spaces
                    .iter()
                    .filter(|(_, g)| g.access.is_admin())
                    .filter_map(|(n, _)| desired.spaces.get(n).map(|s| s.id.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The spaces each team is admin of (live), by team id, in membership id order.
fn admin_spaces_by_team(live: &LiveState) -> BTreeMap<&str, Vec<String>> {
    let mut out: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for t in live.team_space_memberships.values().filter(|t| t.admin) {
        out.entry(t.team_id.as_str())
            .or_default()
            .push(t.space_id.clone());
    }
    out
}

/// Space ids in which `kind` takes space admin away from someone (`admin_spaces`: from
/// [`admin_spaces_by_team`]).
fn admin_revoked(kind: &OpKind, admin_spaces: &BTreeMap<&str, Vec<String>>) -> Vec<String> {
    let admin_spaces_of_team =
        |team_id: &str| -> Vec<String> { admin_spaces.get(team_id).cloned().unwrap_or_default() };
    match kind {
        OpKind::DeleteSpaceMembership {
            space_id,
            before: SpaceAccess::Admin,
            ..
        }
        | OpKind::DeleteTeamSpaceMembership {
            space_id,
            before: SpaceAccess::Admin,
            ..
        } => vec![space_id.clone()],
        OpKind::UpdateSpaceMembership {
            space_id,
            before: SpaceAccess::Admin,
            after,
            ..
        }
        | OpKind::UpdateTeamSpaceMembership {
            space_id,
            before: SpaceAccess::Admin,
            after,
            ..
        } if !after.is_admin() => vec![space_id.clone()],
        OpKind::RemoveTeamMember { team_id, .. } => admin_spaces_of_team(team_id),
        OpKind::DeleteTeam { team, .. } => admin_spaces_of_team(&team.id),
        OpKind::RemoveOrgMember { cascades, .. } => cascades
            .iter()
            .flat_map(|c| match c {
                Cascade::SpaceMembership {
                    space_id,
                    access: SpaceAccess::Admin,
                    ..
                } => vec![space_id.clone()],
                Cascade::TeamMembership { team_id, .. } => admin_spaces_of_team(team_id),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Replaces provisional ids in references with final ids.
fn resolve_refs(kind: OpKind, provisional: &BTreeMap<OpId, OpId>) -> OpKind {
    let fix = |p: OpId| provisional.get(&p).cloned().unwrap_or(p);
    match kind {
        OpKind::AddTeamMember {
            team_name,
            team,
            email,
            membership,
        } => OpKind::AddTeamMember {
            team_name,
            team: match team {
                TeamRef::CreatedBy(p) => TeamRef::CreatedBy(fix(p)),
                t => t,
            },
            email,
            membership: match membership {
                MembershipRef::InvitedBy(p) => MembershipRef::InvitedBy(fix(p)),
                m => m,
            },
        },
        OpKind::CreateTeamSpaceMembership {
            team_name,
            team: TeamRef::CreatedBy(p),
            space_name,
            space_id,
            access,
            role_ids,
        } => OpKind::CreateTeamSpaceMembership {
            team_name,
            team: TeamRef::CreatedBy(fix(p)),
            space_name,
            space_id,
            access,
            role_ids,
        },
        k => k,
    }
}
