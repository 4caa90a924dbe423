//! What the organization would look like after a plan, computed without any request; and the
//! reverse direction, the access file that describes a live organization exactly.
//!
//! [`simulate`] applies operations level by level to a copy of the live state, the way `apply`
//! would, giving created objects deterministic ids (`sim-…`). The planner checks its guardrails on
//! the result; tests use it to prove that applying a plan converges. [`desired_from_live`] is the
//! inverse of planning: a desired state that, planned against the same live state, changes nothing
//! (also the basis of `export`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    DesiredGrant, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email, LiveOrgMembership,
    LiveSpaceMembership, LiveState, LiveTeam, LiveTeamMembership, LiveTeamSpaceMembership,
    LiveUser, MembershipStatus, ObjectMeta, PersonName, Policy, Span,
};

use super::diff::Index;
use super::ops::{MembershipRef, OpId, OpKind, Operation, Plan, TeamRef};

/// The live state after applying `plan` to `live` (pure; no requests). Objects the plan creates get
/// ids `sim-<kind>-<op id>`; updated objects get their version incremented.
pub fn simulate(live: &LiveState, plan: &Plan) -> LiveState {
    simulate_ops(live, &plan.operations, &plan.levels)
}

pub(crate) fn simulate_ops(live: &LiveState, ops: &[Operation], levels: &[Vec<OpId>]) -> LiveState {
    let mut s = live.clone();
    let by_id: BTreeMap<&OpId, &Operation> = ops.iter().map(|o| (&o.id, o)).collect();
    let mut invited: BTreeMap<OpId, String> = BTreeMap::new();
    let mut created_teams: BTreeMap<OpId, String> = BTreeMap::new();
    let mut user_by_email: BTreeMap<Email, String> = s
        .users
        .values()
        .rev()
        .map(|u| (u.email.clone(), u.id.clone()))
        .collect();
    // What goes with removed members and deleted teams is dropped in one pass at the end (no
    // later operation can refer to it), keeping large prunes linear.
    let mut removed_memberships: BTreeSet<String> = BTreeSet::new();
    let mut removed_users: BTreeSet<String> = BTreeSet::new();
    let mut deleted_teams: BTreeSet<String> = BTreeSet::new();
    let order = levels
        .iter()
        .flatten()
        .filter_map(|id| by_id.get(id).copied());
    for op in order {
        let sim = |what: &str| format!("sim-{what}-{}", op.id);
        match &op.kind {
            OpKind::Invite {
                email,
                role,
                first_name,
                last_name,
            } => {
                let user_id = sim("user");
                let om_id = sim("om");
                s.users.insert(
                    user_id.clone(),
                    LiveUser {
                        id: user_id.clone(),
                        email: email.clone(),
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                        activated: false,
                    },
                );
                s.org_memberships.insert(
                    om_id.clone(),
                    LiveOrgMembership {
                        meta: ObjectMeta::new(om_id.clone(), 0),
                        user_id: user_id.clone(),
                        role: *role,
                        status: MembershipStatus::Pending,
                        last_active_at: None,
                    },
                );
                user_by_email.insert(email.clone(), user_id);
                invited.insert(op.id.clone(), om_id);
            }
            OpKind::ChangeOrgRole { membership, to, .. } => {
                if let Some(m) = s.org_memberships.get_mut(&membership.id) {
                    m.role = *to;
                    m.meta.version += 1;
                }
            }
            OpKind::RemoveOrgMember { membership, .. } => {
                if let Some(m) = s.org_memberships.remove(&membership.id) {
                    removed_memberships.insert(membership.id.clone());
                    removed_users.insert(m.user_id);
                }
            }
            OpKind::CreateTeam { name, description } => {
                let id = sim("team");
                s.teams.insert(
                    id.clone(),
                    LiveTeam {
                        meta: ObjectMeta::new(id.clone(), 0),
                        name: name.clone(),
                        description: description.clone(),
                    },
                );
                created_teams.insert(op.id.clone(), id);
            }
            OpKind::UpdateTeam {
                team,
                description_after,
                ..
            } => {
                if let Some(t) = s.teams.get_mut(&team.id) {
                    t.description = description_after.clone();
                    t.meta.version += 1;
                }
            }
            OpKind::DeleteTeam { team, .. } => {
                s.teams.remove(&team.id);
                deleted_teams.insert(team.id.clone());
            }
            OpKind::AddTeamMember {
                team, membership, ..
            } => {
                let team_id = match team {
                    TeamRef::Existing(id) => Some(id.clone()),
                    TeamRef::CreatedBy(p) => created_teams.get(p).cloned(),
                };
                let om_id = match membership {
                    MembershipRef::Existing(id) => Some(id.clone()),
                    MembershipRef::InvitedBy(p) => invited.get(p).cloned(),
                };
                if let (Some(team_id), Some(org_membership_id)) = (team_id, om_id) {
                    let id = sim("tm");
                    s.team_memberships.insert(
                        id.clone(),
                        LiveTeamMembership {
                            meta: ObjectMeta::new(id, 0),
                            team_id,
                            org_membership_id,
                        },
                    );
                }
            }
            OpKind::RemoveTeamMember {
                team_membership, ..
            } => {
                s.team_memberships.remove(&team_membership.id);
            }
            OpKind::CreateTeamSpaceMembership {
                team,
                space_id,
                access,
                role_ids,
                ..
            } => {
                let team_id = match team {
                    TeamRef::Existing(id) => Some(id.clone()),
                    TeamRef::CreatedBy(p) => created_teams.get(p).cloned(),
                };
                if let Some(team_id) = team_id {
                    let id = sim("tsm");
                    s.team_space_memberships.insert(
                        id.clone(),
                        LiveTeamSpaceMembership {
                            meta: ObjectMeta::new(id, 0),
                            team_id,
                            space_id: space_id.clone(),
                            admin: access.is_admin(),
                            role_ids: role_ids.iter().cloned().collect(),
                        },
                    );
                }
            }
            OpKind::UpdateTeamSpaceMembership {
                tsm,
                after,
                role_ids,
                ..
            } => {
                if let Some(t) = s.team_space_memberships.get_mut(&tsm.id) {
                    t.admin = after.is_admin();
                    t.role_ids = role_ids.iter().cloned().collect();
                    t.meta.version += 1;
                }
            }
            OpKind::DeleteTeamSpaceMembership { tsm, .. } => {
                s.team_space_memberships.remove(&tsm.id);
            }
            OpKind::CreateSpaceMembership {
                email,
                space_id,
                access,
                role_ids,
                ..
            } => {
                if let Some(user_id) = user_by_email.get(email).cloned() {
                    let id = sim("sm");
                    s.space_memberships.insert(
                        id.clone(),
                        LiveSpaceMembership {
                            meta: ObjectMeta::new(id, 0),
                            space_id: space_id.clone(),
                            user_id,
                            admin: access.is_admin(),
                            role_ids: role_ids.iter().cloned().collect(),
                        },
                    );
                }
            }
            OpKind::UpdateSpaceMembership {
                space_membership,
                after,
                role_ids,
                ..
            } => {
                if let Some(sm) = s.space_memberships.get_mut(&space_membership.id) {
                    sm.admin = after.is_admin();
                    sm.role_ids = role_ids.iter().cloned().collect();
                    sm.meta.version += 1;
                }
            }
            OpKind::DeleteSpaceMembership {
                space_membership, ..
            } => {
                s.space_memberships.remove(&space_membership.id);
            }
        }
    }
    if !removed_memberships.is_empty() || !deleted_teams.is_empty() {
        s.team_memberships.retain(|_, tm| {
            !removed_memberships.contains(&tm.org_membership_id)
                && !deleted_teams.contains(&tm.team_id)
        });
        s.team_space_memberships
            .retain(|_, tsm| !deleted_teams.contains(&tsm.team_id));
        let still: BTreeSet<&str> = s
            .org_memberships
            .values()
            .map(|m| m.user_id.as_str())
            .collect();
        let gone: BTreeSet<String> = removed_users
            .iter()
            .filter(|u| !still.contains(u.as_str()))
            .cloned()
            .collect();
        s.space_memberships
            .retain(|_, sm| !gone.contains(&sm.user_id));
        s.users.retain(|id, _| !gone.contains(id));
    }
    s
}

/// The desired state that describes `live` exactly for the managed `spaces` (local name → space
/// id): every member with their org role, teams and direct memberships in those spaces, every
/// team with its description and access there. Positions are all line 0 (no file); policy is the
/// default (no prune, nothing protected). Planning it against `live` gives an empty plan.
pub fn desired_from_live(live: &LiveState, spaces: &BTreeMap<String, String>) -> DesiredState {
    let ix = Index::new(live);
    let name_of_space: BTreeMap<&str, &str> = spaces
        .iter()
        .map(|(n, id)| (id.as_str(), n.as_str()))
        .collect();
    let team_name = |id: &str| live.teams.get(id).map(|t| t.name.clone());

    let mut users = BTreeMap::new();
    for (email, m) in &ix.members {
        let teams: BTreeMap<String, Span> = ix
            .tms_of_membership(&m.membership.meta.id)
            .iter()
            .filter_map(|tm| team_name(&tm.team_id))
            .map(|n| (n, Span::default()))
            .collect();
        let user_spaces: BTreeMap<String, DesiredGrant> = ix
            .sms_of_user(&m.user.id)
            .iter()
            .filter_map(|sm| {
                name_of_space.get(sm.space_id.as_str()).map(|n| {
                    (
                        n.to_string(),
                        DesiredGrant {
                            access: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                            at: Span::default(),
                        },
                    )
                })
            })
            .collect();
        let name = m.user.first_name.as_ref().map(|first| PersonName {
            first: first.clone(),
            last: m.user.last_name.clone(),
        });
        users.insert(
            email.clone(),
            DesiredUser {
                email: email.clone(),
                name,
                org_role: m.membership.role,
                org_role_at: Span::default(),
                teams,
                spaces: user_spaces,
                at: Span::default(),
            },
        );
    }

    let mut teams = BTreeMap::new();
    for (name, t) in &ix.teams {
        let team_spaces: BTreeMap<String, DesiredGrant> = ix
            .tsms_of_team(&t.meta.id)
            .iter()
            .filter_map(|tsm| {
                name_of_space.get(tsm.space_id.as_str()).map(|n| {
                    (
                        n.to_string(),
                        DesiredGrant {
                            access: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                            at: Span::default(),
                        },
                    )
                })
            })
            .collect();
        teams.insert(
            name.to_string(),
            DesiredTeam {
                name: name.to_string(),
                description: t.description.clone(),
                spaces: team_spaces,
                at: Span::default(),
            },
        );
    }

    DesiredState {
        source_path: String::new(),
        source_sha256: String::new(),
        organization: live.organization.clone(),
        policy: Policy::default(),
        spaces: spaces
            .iter()
            .map(|(n, id)| {
                (
                    n.clone(),
                    DesiredSpace {
                        id: id.clone(),
                        at: Span::default(),
                    },
                )
            })
            .collect(),
        teams,
        users,
    }
}
