//! Guardrails: checks that refuse a plan that would do something dangerous, each with a message
//! that says exactly why and names who is involved.
//!
//! They are checked on the operations and on the simulated state after the plan
//! ([`super::simulate`]):
//! - `max_removals`: the number of removals (operations with action remove: org members removed,
//!   teams deleted, and team memberships, team space memberships and space memberships deleted on
//!   their own; what goes *with* a removed member or deleted team is not counted again) must not
//!   exceed `policy.max_removals` of the current number of organization memberships;
//! - `protected`: no operation may change a protected user or team (including a protected user's
//!   membership of a deleted team, or a protected team's membership of a removed user);
//! - `token_user`: the token's own user is neither removed nor given a lower org role, and when
//!   that user is not an active owner the plan makes no owner change (invites nobody as owner,
//!   promotes nobody to owner, changes or removes no owner): only owners may, as Contentful's web
//!   app enforces, so such a plan needs an owner's token. The token's role is read from the
//!   memberships already read, with no extra request;
//! - `org_owner`: an organization with an active owner keeps at least one;
//! - `space_admin`: a managed space that has an admin (an active member's direct admin membership,
//!   or an admin team with at least one active member) keeps one; pending invitees do not count,
//!   as for `org_owner`.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{DesiredState, LiveState, MembershipStatus, OrgRole, Principal};

use super::ops::{Action, Cascade, Guardrail, GuardrailResult, OpKind, Operation};
use super::simulate::After;

/// Checks every guardrail; results in [`Guardrail::ALL`] order.
pub(crate) fn check(
    desired: &DesiredState,
    before: &LiveState,
    after: &After<'_>,
    ops: &[Operation],
) -> Vec<GuardrailResult> {
    let unchanged = After::unchanged(before);
    let mut out = vec![
        max_removals(desired, before, ops),
        protected(desired, ops),
        token_user(before, ops),
        org_owner(&unchanged, after),
        space_admin(desired, &unchanged, after),
    ];
    // Checked (and shown) only when the plan deletes a role, so plans without role deletions
    // keep the same list of results.
    if ops
        .iter()
        .any(|o| matches!(o.kind, OpKind::DeleteRole { .. }))
    {
        out.push(role_in_use(before, after, ops));
    }
    out
}

/// A role is deleted only when, after the plan, nobody holds it: what still holds it belongs to
/// someone the file does not manage (unmanaged with prune off, ignored or protected), whose
/// access the deletion would silently change.
fn role_in_use(before: &LiveState, after: &After<'_>, ops: &[Operation]) -> GuardrailResult {
    let mut offenders = Vec::new();
    for op in ops {
        let OpKind::DeleteRole {
            name,
            space_name,
            space_id,
            role,
            ..
        } = &op.kind
        else {
            continue;
        };
        let holds = |admin: bool, ids: &BTreeSet<String>| !admin && ids.contains(&role.id);
        for (_, sm) in after
            .space_memberships
            .filter(|sm| &sm.space_id == space_id && holds(sm.admin, &sm.role_ids))
        {
            let who = before
                .users
                .get(&sm.user_id)
                .map_or_else(|| sm.user_id.clone(), |u| u.email.to_string());
            offenders.push(format!("role {name} in space {space_name}: {who}"));
        }
        for (_, tsm) in after
            .team_space_memberships
            .filter(|t| &t.space_id == space_id && holds(t.admin, &t.role_ids))
        {
            let team = before
                .teams
                .get(&tsm.team_id)
                .map_or_else(|| tsm.team_id.clone(), |t| t.name.clone());
            offenders.push(format!("role {name} in space {space_name}: team {team}"));
        }
    }
    result(
        Guardrail::RoleInUse,
        offenders.clone(),
        "no deleted role is still assigned after the plan".to_string(),
        format!(
            "deleting a role still assigned to someone the file does not manage: {}",
            list(&offenders)
        ),
    )
}

fn result(name: Guardrail, offenders: Vec<String>, ok: String, bad: String) -> GuardrailResult {
    let passed = offenders.is_empty();
    GuardrailResult {
        name,
        passed,
        message: if passed { ok } else { bad },
        offenders,
    }
}

fn max_removals(desired: &DesiredState, before: &LiveState, ops: &[Operation]) -> GuardrailResult {
    let members = before.org_memberships.len();
    let policy = desired.policy.max_removals;
    let limit = policy.limit(members);
    let removed: Vec<String> = ops
        .iter()
        .filter(|o| o.action == Action::Remove)
        .map(|o| describe_removal(&o.kind))
        .collect();
    let n = removed.len();
    let how = match policy {
        crate::model::MaxRemovals::Count(_) => format!("max_removals: {policy}"),
        crate::model::MaxRemovals::PercentBasisPoints(_) => {
            format!("max_removals: {policy} of {members} org members")
        }
    };
    let offenders = if n > limit { removed } else { Vec::new() };
    result(
        Guardrail::MaxRemovals,
        offenders.clone(),
        format!("{n} removal(s), within the limit of {limit} ({how})"),
        format!(
            "{n} removals exceed the limit of {limit} ({how}): {}",
            list(&offenders)
        ),
    )
}

/// At most 20 items joined by commas, then `and N more`.
fn list(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

fn describe_removal(k: &OpKind) -> String {
    match k {
        OpKind::RemoveOrgMember { email, .. } => format!("remove {email}"),
        OpKind::DeleteTeam { name, .. } => format!("delete team {name}"),
        OpKind::RemoveTeamMember {
            team_name, email, ..
        } => format!("{email} from team {team_name}"),
        OpKind::DeleteTeamSpaceMembership {
            team_name,
            space_name,
            ..
        } => format!("team {team_name} from space {space_name}"),
        OpKind::DeleteSpaceMembership {
            email, space_name, ..
        } => format!("{email} from space {space_name}"),
        OpKind::DeleteRole {
            name, space_name, ..
        } => format!("role {name} from space {space_name}"),
        other => other.name().to_string(),
    }
}

fn protected(desired: &DesiredState, ops: &[Operation]) -> GuardrailResult {
    let mut hit: BTreeSet<(Principal, String)> = BTreeSet::new();
    for op in ops {
        let mut principals = op.kind.principals();
        for c in op.kind.cascades() {
            if let Cascade::TeamMembership {
                team_name, email, ..
            } = c
            {
                principals.push(Principal::Team(team_name.clone()));
                if let Some(e) = email {
                    principals.push(Principal::User(e.clone()));
                }
            }
        }
        for p in principals {
            if desired.policy.is_protected(&p) {
                hit.insert((p, format!("{} ({})", op.id, op.kind.name())));
            }
        }
    }
    let mut by_principal: Vec<(String, Vec<String>)> = Vec::new();
    for (p, what) in hit {
        let name = p.to_string();
        match by_principal.last_mut() {
            Some((last, list)) if *last == name => list.push(what),
            _ => by_principal.push((name, vec![what])),
        }
    }
    let offenders: Vec<String> = by_principal.iter().map(|(p, _)| p.clone()).collect();
    let detail: Vec<String> = by_principal
        .iter()
        .map(|(p, ops)| format!("{p} by {}", ops.join(", ")))
        .collect();
    result(
        Guardrail::Protected,
        offenders,
        "no protected principal is changed".to_string(),
        format!("the plan changes protected principals: {}", {
            let mut d: Vec<String> = detail.iter().take(20).cloned().collect();
            if detail.len() > 20 {
                d.push(format!("and {} more", detail.len() - 20));
            }
            d.join("; ")
        }),
    )
}

fn token_user(before: &LiveState, ops: &[Operation]) -> GuardrailResult {
    // Only the token's own email is needed: look it up directly instead of indexing the whole
    // organization (a full index per guardrail dominated planning at 100,000 memberships).
    let mine = before
        .me
        .as_deref()
        .and_then(|id| before.org_memberships.values().find(|m| m.user_id == id));
    let me = mine.and_then(|m| before.users.get(&m.user_id).map(|u| &u.email));
    let (Some(me), Some(mine)) = (me, mine) else {
        return result(
            Guardrail::TokenUser,
            Vec::new(),
            "the token's own user is not a member of this organization; nothing to protect"
                .to_string(),
            String::new(),
        );
    };
    let mut why = Vec::new();
    for op in ops {
        match &op.kind {
            OpKind::RemoveOrgMember { email, .. } if email == me => {
                why.push(format!("{} removes {me}", op.id));
            }
            OpKind::ChangeOrgRole {
                email, from, to, ..
            } if email == me && to < from => {
                why.push(format!("{} demotes {me} from {from} to {to}", op.id));
            }
            _ => {}
        }
    }
    let owner_changes = if mine.role == OrgRole::Owner && mine.status == MembershipStatus::Active {
        Vec::new()
    } else {
        owner_changes(ops)
    };
    let offenders = if why.is_empty() && owner_changes.is_empty() {
        Vec::new()
    } else {
        vec![me.to_string()]
    };
    let mut bad = Vec::new();
    if !why.is_empty() {
        bad.push(format!(
            "the plan would lock out the token's own user: {} (apply with a token of another admin or owner)",
            why.join(", ")
        ));
    }
    if !owner_changes.is_empty() {
        bad.push(format!(
            "an owner's token is needed: only organization owners may invite, promote, change or remove owners, and the token's own user {me} is {}{}: {}",
            mine.role,
            if mine.status == MembershipStatus::Active { "" } else { " (pending)" },
            list(&owner_changes)
        ));
    }
    result(
        Guardrail::TokenUser,
        offenders,
        format!("the token's own user {me} is neither removed nor demoted"),
        bad.join("; "),
    )
}

/// The operations only an owner may make: inviting an owner, promoting to owner, changing or
/// removing an owner.
fn owner_changes(ops: &[Operation]) -> Vec<String> {
    ops.iter()
        .filter_map(|op| match &op.kind {
            OpKind::Invite { email, role, .. } if *role == OrgRole::Owner => {
                Some(format!("{} invites {email} as owner", op.id))
            }
            OpKind::ChangeOrgRole {
                email, from, to, ..
            } if *from == OrgRole::Owner || *to == OrgRole::Owner => {
                Some(format!("{} changes {email} from {from} to {to}", op.id))
            }
            OpKind::RemoveOrgMember { email, role, .. } if *role == OrgRole::Owner => {
                Some(format!("{} removes owner {email}", op.id))
            }
            _ => None,
        })
        .collect()
}

fn active_owners(state: &After<'_>) -> Vec<String> {
    let mut owners: Vec<String> = state
        .org_memberships
        .filter(|m| m.role == OrgRole::Owner && m.status == MembershipStatus::Active)
        .map(|(id, m)| {
            state
                .users
                .get(&m.user_id)
                .map(|u| u.email.to_string())
                .unwrap_or_else(|| id.to_string())
        })
        .collect();
    owners.sort();
    owners
}

fn org_owner(before: &After<'_>, after: &After<'_>) -> GuardrailResult {
    let was = active_owners(before);
    let now = active_owners(after);
    let offenders = if !was.is_empty() && now.is_empty() {
        was.clone()
    } else {
        Vec::new()
    };
    result(
        Guardrail::OrgOwner,
        offenders,
        if now.is_empty() {
            "the organization has no active owner now; the plan removes none".to_string()
        } else {
            format!("the organization keeps its owner(s): {}", now.join(", "))
        },
        format!(
            "the plan would leave the organization without an active owner (owners now: {})",
            was.join(", ")
        ),
    )
}

/// One holder of a space's admin access: a user (by user id) with a direct admin membership, or
/// an admin team (by team id).
#[derive(Clone, Copy)]
enum Holder<'s> {
    User(&'s str),
    Team(&'s str),
}

/// Who holds admin access in each space that `wanted` selects (by space id): active members with
/// a direct admin membership and admin teams with at least one active member (pending invitees do
/// not count, as for `org_owner`), by space id; a space without one is absent. Nobody is named
/// here: [`admin_names`] names the holders of the few spaces a message needs.
///
/// Only admin memberships are looked at closely: the scans over all memberships test a cheap
/// condition first and stop as soon as every candidate is settled, and each user or team is
/// checked once, not once per membership (B-tree lookups and an email copy per admin membership,
/// twice, made this a quarter of planning at 520,000 memberships).
fn admin_holders<'s>(
    state: &'s After<'_>,
    wanted: impl Fn(&str) -> bool + Copy + 's,
) -> FxHashMap<&'s str, Vec<Holder<'s>>> {
    let admin_tsms: Vec<&crate::model::LiveTeamSpaceMembership> = state
        .team_space_memberships
        .filter(move |t| t.admin && wanted(&t.space_id))
        .map(|(_, t)| t)
        .collect();
    // Admin teams that exist after the plan.
    let admin_teams: FxHashSet<&str> = admin_tsms
        .iter()
        .map(|t| t.team_id.as_str())
        .filter(|id| state.teams.contains(id))
        .collect();
    // Admin teams with at least one member whose user is known; one such member is enough, so a
    // team's other members are not looked up, and the scan ends once every admin team has one.
    let mut staffed: FxHashSet<&str> = FxHashSet::default();
    if !admin_teams.is_empty() {
        for (_, tm) in state
            .team_memberships
            .filter(|tm| admin_teams.contains(tm.team_id.as_str()))
        {
            let team = tm.team_id.as_str();
            if !staffed.contains(team)
                && state
                    .org_memberships
                    .get(&tm.org_membership_id)
                    .is_some_and(|m| {
                        m.status == MembershipStatus::Active && state.users.contains(&m.user_id)
                    })
            {
                staffed.insert(team);
                if staffed.len() == admin_teams.len() {
                    break;
                }
            }
        }
    }
    let admin_sms: Vec<&crate::model::LiveSpaceMembership> = state
        .space_memberships
        .filter(move |sm| sm.admin && wanted(&sm.space_id))
        .map(|(_, sm)| sm)
        .collect();
    // A user counts only while they hold an active organization membership: a pending invitee
    // may never accept, so they are nobody's admin yet (as for `org_owner`).
    let admin_users: FxHashSet<&str> = admin_sms.iter().map(|sm| sm.user_id.as_str()).collect();
    let mut in_org: FxHashSet<&str> = FxHashSet::default();
    if !admin_users.is_empty() {
        for (_, m) in state.org_memberships.filter(|m| {
            m.status == MembershipStatus::Active && admin_users.contains(m.user_id.as_str())
        }) {
            in_org.insert(m.user_id.as_str());
            if in_org.len() == admin_users.len() {
                break;
            }
        }
        // Each admin user once: their user must exist after the plan.
        in_org.retain(|id| state.users.contains(id));
    }
    let mut out: FxHashMap<&str, Vec<Holder<'s>>> = FxHashMap::default();
    for sm in admin_sms {
        if in_org.contains(sm.user_id.as_str()) {
            out.entry(sm.space_id.as_str())
                .or_default()
                .push(Holder::User(sm.user_id.as_str()));
        }
    }
    for tsm in admin_tsms {
        if staffed.contains(tsm.team_id.as_str()) {
            out.entry(tsm.space_id.as_str())
                .or_default()
                .push(Holder::Team(tsm.team_id.as_str()));
        }
    }
    out
}

/// The holders' names: emails of users and `team NAME` of teams, sorted and deduplicated.
fn admin_names(state: &After<'_>, holders: &[Holder<'_>]) -> Vec<String> {
    let mut names: Vec<String> = holders
        .iter()
        .filter_map(|h| match h {
            Holder::User(id) => state.users.get(id).map(|u| u.email.to_string()),
            Holder::Team(id) => state.teams.get(id).map(|t| format!("team {}", t.name)),
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn space_admin(desired: &DesiredState, before: &After<'_>, after: &After<'_>) -> GuardrailResult {
    let mut offenders = Vec::new();
    let mut why = Vec::new();
    // The state after the plan first: only the managed spaces without an admin after it need a
    // look at the state before (usually none, so the organization is scanned once, not twice).
    let admins_after = admin_holders(after, |_| true);
    let lost: FxHashSet<&str> = desired
        .spaces
        .values()
        .map(|s| s.id.as_str())
        .filter(|id| !admins_after.contains_key(id))
        .collect();
    let admins_before = if lost.is_empty() {
        FxHashMap::default()
    } else {
        admin_holders(before, |id| lost.contains(id))
    };
    for (name, space) in &desired.spaces {
        let Some(was) = admins_before.get(space.id.as_str()) else {
            continue;
        };
        offenders.push(name.clone());
        why.push(format!(
            "space {name} ({}) would have no admin (admins now: {})",
            space.id,
            admin_names(before, was).join(", ")
        ));
    }
    result(
        Guardrail::SpaceAdmin,
        offenders,
        "every managed space that has an admin keeps one".to_string(),
        why.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_cut_in_messages() {
        let items: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
        let s = list(&items);
        assert!(s.starts_with("u0, u1, "));
        assert!(s.ends_with("u19 and 5 more"));
        assert_eq!(list(&items[..2]), "u0, u1");
    }
}
