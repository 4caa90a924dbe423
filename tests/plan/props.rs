//! Property tests over random organizations and random access files: a state planned against
//! itself is empty; plans are deterministic; every operation comes after its prerequisites; a plan
//! that is not refused breaks no guardrail once applied (checked on the simulated result,
//! independently of the planner's own checks); and applying it converges.

use std::collections::{BTreeMap, BTreeSet};

use contentful_access::export;
use contentful_access::model::{
    DesiredState, Email, LiveState, MaxRemovals, MembershipStatus, OrgMembershipSource, OrgRole,
    Principal,
};
use contentful_access::plan::{self, Action, Guardrail, OpKind, Plan};
use proptest::prelude::*;

use super::fixtures::{BLOG, MARKETING, managed_spaces, plan};
use super::random_org::{build_org, email, org_spec, team_name};

/// Random policy choices.
#[derive(Debug, Clone)]
struct PolicySpec {
    prune: bool,
    max: MaxRemovals,
    protected: Vec<(bool, u8)>,
    ignored: Vec<(bool, u8)>,
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (
        any::<bool>(),
        prop_oneof![
            3 => Just(MaxRemovals::Count(1000)),
            1 => (0u32..8).prop_map(MaxRemovals::Count),
            1 => prop::sample::select(vec![0u32, 1000, 5000, 10_000])
                .prop_map(MaxRemovals::PercentBasisPoints),
        ],
        prop::collection::vec((any::<bool>(), 0u8..7), 0..2),
        prop::collection::vec((any::<bool>(), 0u8..7), 0..2),
    )
        .prop_map(|(prune, max, protected, ignored)| PolicySpec {
            prune,
            max,
            protected,
            ignored,
        })
}

fn principal(&(user, i): &(bool, u8)) -> Principal {
    if user {
        Principal::User(Email::new(&email(i)))
    } else {
        Principal::Team(team_name(i % 4))
    }
}

fn desired_of(target: &LiveState, policy: &PolicySpec) -> DesiredState {
    let mut d = export::desired_from_live(target, &managed_spaces());
    d.policy.prune = policy.prune;
    d.policy.max_removals = policy.max;
    d.policy.protected = policy.protected.iter().map(principal).collect();
    d.policy.ignore = policy
        .ignored
        .iter()
        .map(principal)
        .filter(|p| !d.policy.protected.contains(p))
        .collect();
    // An ignored principal is not declared (the file does not manage it).
    for p in &d.policy.ignore {
        match p {
            Principal::User(e) => {
                d.users.remove(e);
            }
            Principal::Team(t) => {
                d.teams.remove(t);
                for u in d.users.values_mut() {
                    u.teams.remove(t);
                }
            }
        }
    }
    d
}

/// What a principal holds, for comparing before and after: org role and teams (users) or
/// description and members (teams), plus access in the managed spaces.
fn footprint(live: &LiveState, p: &Principal) -> Option<String> {
    let d = export::desired_from_live(live, &managed_spaces());
    match p {
        Principal::User(e) => {
            let u = d.users.get(e)?;
            Some(format!(
                "{:?} {:?} {:?}",
                u.org_role,
                u.teams.keys().collect::<Vec<_>>(),
                u.spaces
                    .iter()
                    .map(|(k, g)| (k, &g.access))
                    .collect::<Vec<_>>()
            ))
        }
        Principal::Team(t) => {
            let team = d.teams.get(t)?;
            let members: Vec<&Email> = d
                .users
                .values()
                .filter(|u| u.teams.contains_key(t))
                .map(|u| &u.email)
                .collect();
            Some(format!(
                "{:?} {:?} {:?}",
                team.description,
                members,
                team.spaces
                    .iter()
                    .map(|(k, g)| (k, &g.access))
                    .collect::<Vec<_>>()
            ))
        }
    }
}

fn active_owners(live: &LiveState) -> usize {
    live.org_memberships
        .values()
        .filter(|m| m.role == OrgRole::Owner && m.status == MembershipStatus::Active)
        .count()
}

/// Whether `space` has an admin: an active organization member with a direct admin membership,
/// or an admin team with at least one active member. Pending invitees are nobody's admin yet.
fn has_admin(live: &LiveState, space: &str) -> bool {
    let active = |m: &&contentful_access::model::LiveOrgMembership| {
        m.status == contentful_access::model::MembershipStatus::Active
    };
    let users: BTreeSet<&str> = live
        .org_memberships
        .values()
        .filter(active)
        .map(|m| m.user_id.as_str())
        .collect();
    let active_oms: BTreeSet<&str> = live
        .org_memberships
        .values()
        .filter(active)
        .map(|m| m.meta.id.as_str())
        .collect();
    live.space_memberships
        .values()
        .any(|sm| sm.space_id == space && sm.admin && users.contains(sm.user_id.as_str()))
        || live.team_space_memberships.values().any(|tsm| {
            tsm.space_id == space
                && tsm.admin
                && live.team_memberships.values().any(|tm| {
                    tm.team_id == tsm.team_id && active_oms.contains(tm.org_membership_id.as_str())
                })
        })
}

fn role_of_me(live: &LiveState) -> Option<OrgRole> {
    let me = live.me.as_deref()?;
    live.org_memberships
        .values()
        .find(|m| m.user_id == me)
        .map(|m| m.role)
}

fn check_order(p: &Plan, desired: &DesiredState, live: &LiveState) -> Result<(), TestCaseError> {
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, l) in p.levels.iter().enumerate() {
        for id in l {
            prop_assert!(level.insert(id.as_str(), i).is_none(), "{id} in two levels");
        }
    }
    prop_assert_eq!(level.len(), p.operations.len());
    let lv = |id: &str| level[id];
    for op in &p.operations {
        for d in &op.depends_on {
            prop_assert!(lv(d.as_str()) < lv(op.id.as_str()));
        }
    }
    for a in &p.operations {
        for b in &p.operations {
            let before =
                |x: &plan::Operation, y: &plan::Operation| lv(x.id.as_str()) < lv(y.id.as_str());
            match (&a.kind, &b.kind) {
                // Invitation before that user's memberships.
                (
                    OpKind::Invite { email, .. },
                    k @ (OpKind::AddTeamMember { .. } | OpKind::CreateSpaceMembership { .. }),
                ) if k.email() == Some(email) => prop_assert!(before(a, b)),
                // Team creation before its members and space memberships.
                (
                    OpKind::CreateTeam { name, .. },
                    k @ (OpKind::AddTeamMember { .. } | OpKind::CreateTeamSpaceMembership { .. }),
                ) if k.team_name() == Some(name.as_str()) => prop_assert!(before(a, b)),
                // Removals from a team before its deletion.
                (
                    k
                    @ (OpKind::RemoveTeamMember { .. } | OpKind::DeleteTeamSpaceMembership { .. }),
                    OpKind::DeleteTeam { name, .. },
                ) if k.team_name() == Some(name.as_str()) => prop_assert!(before(a, b)),
                // Make before break: a user joining a team that has access to a space comes
                // before their direct membership of that space goes...
                (
                    OpKind::AddTeamMember {
                        email, team_name, ..
                    },
                    OpKind::DeleteSpaceMembership {
                        email: e2,
                        space_name,
                        ..
                    },
                ) if email == e2
                    && desired
                        .teams
                        .get(team_name)
                        .is_some_and(|t| t.spaces.contains_key(space_name)) =>
                {
                    prop_assert!(before(a, b), "{} must come before {}", a.id, b.id);
                }
                // ...and a new direct membership comes before leaving a team with access there.
                (
                    OpKind::CreateSpaceMembership {
                        email, space_id, ..
                    },
                    OpKind::RemoveTeamMember {
                        email: e2, team_id, ..
                    },
                ) if email == e2
                    && live
                        .team_space_memberships
                        .values()
                        .any(|t| &t.team_id == team_id && &t.space_id == space_id) =>
                {
                    prop_assert!(before(a, b), "{} must come before {}", a.id, b.id);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Users (by email) with any access to a managed space: direct, or through a team.
fn with_access(live: &LiveState) -> BTreeSet<(String, String)> {
    let email_of_user: BTreeMap<&str, &Email> = live
        .users
        .values()
        .map(|u| (u.id.as_str(), &u.email))
        .collect();
    let member_users: BTreeSet<&str> = live
        .org_memberships
        .values()
        .map(|m| m.user_id.as_str())
        .collect();
    let email_of_om: BTreeMap<&str, &Email> = live
        .org_memberships
        .values()
        .filter_map(|m| {
            email_of_user
                .get(m.user_id.as_str())
                .map(|e| (m.meta.id.as_str(), *e))
        })
        .collect();
    let mut out = BTreeSet::new();
    for sm in live.space_memberships.values() {
        if let (true, Some(e)) = (
            member_users.contains(sm.user_id.as_str()),
            email_of_user.get(sm.user_id.as_str()),
        ) {
            out.insert((e.to_string(), sm.space_id.clone()));
        }
    }
    for tsm in live.team_space_memberships.values() {
        for tm in live
            .team_memberships
            .values()
            .filter(|tm| tm.team_id == tsm.team_id)
        {
            if let Some(e) = email_of_om.get(tm.org_membership_id.as_str()) {
                out.insert((e.to_string(), tsm.space_id.clone()));
            }
        }
    }
    out.retain(|(_, s)| s == MARKETING || s == BLOG);
    out
}

/// Make before break, end to end: apply the plan level by level, each level in the worst order
/// (its removals before its other operations), and check that nobody who has access to a space
/// before and after the plan loses it in between.
fn check_no_access_gap(live: &LiveState, p: &Plan) -> Result<(), TestCaseError> {
    let before = with_access(live);
    let after = with_access(&plan::simulate(live, p));
    let kept: BTreeSet<_> = before.intersection(&after).cloned().collect();
    let mut steps: Vec<Vec<plan::OpId>> = Vec::new();
    for level in &p.levels {
        let (removes, rest): (Vec<_>, Vec<_>) = level
            .iter()
            .cloned()
            .partition(|id| p.op(id).is_some_and(|o| o.action == Action::Remove));
        steps.push(removes);
        steps.push(rest);
    }
    let end = plan::simulate(live, p);
    let keeps_owner = active_owners(live) > 0 && active_owners(&end) > 0;
    let keeps_admin: Vec<&str> = [MARKETING, BLOG]
        .into_iter()
        .filter(|s| has_admin(live, s) && has_admin(&end, s))
        .collect();
    for k in 1..=steps.len() {
        let mut partial = p.clone();
        partial.levels = steps[..k].to_vec();
        let mid = plan::simulate(live, &partial);
        if keeps_owner {
            prop_assert!(active_owners(&mid) > 0, "no owner after step {}", k);
        }
        for s in &keeps_admin {
            prop_assert!(
                has_admin(&mid, s),
                "space {} has no admin after step {}",
                s,
                k
            );
        }
        let now = with_access(&mid);
        for pair in &kept {
            prop_assert!(
                now.contains(pair),
                "{} loses access to {} after step {}",
                pair.0,
                pair.1,
                k
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn plan_of_a_state_against_itself_is_empty(spec in org_spec()) {
        let live = build_org(&spec);
        let d = export::desired_from_live(&live, &managed_spaces());
        let p = plan(&d, &live);
        prop_assert!(p.is_empty(), "{:#?}", p.operations);
        prop_assert!(!p.refused);
    }

    #[test]
    fn plans_are_ordered_deterministic_safe_and_converge(
        from in org_spec(), to in org_spec(), policy in policy_spec()
    ) {
        let live = build_org(&from);
        let desired = desired_of(&build_org(&to), &policy);
        let p = plan(&desired, &live);
        let again = plan(&desired, &live);
        prop_assert_eq!(&p, &again);
        prop_assert_eq!(contentful_access::render::plan_json(&p), contentful_access::render::plan_json(&again));
        check_order(&p, &desired, &live)?;
        check_no_access_gap(&live, &p)?;
        // Saved and read back, the plan is the same and passes the consistency checks.
        prop_assert_eq!(Plan::from_json(&contentful_access::render::plan_json(&p)), Ok(p.clone()));

        // The owner and space-admin guardrails (read off the planner's layered view of the
        // result) refuse exactly when the whole simulated organization has lost its last active
        // owner or a managed space its last admin.
        let after = plan::simulate(&live, &p);
        let passed = |g: Guardrail| p.guardrails.iter().find(|r| r.name == g).map(|r| r.passed);
        let loses_owner = active_owners(&live) > 0 && active_owners(&after) == 0;
        prop_assert_eq!(passed(Guardrail::OrgOwner), Some(!loses_owner));
        let loses_admin = [MARKETING, BLOG]
            .into_iter()
            .any(|s| has_admin(&live, s) && !has_admin(&after, s));
        prop_assert_eq!(passed(Guardrail::SpaceAdmin), Some(!loses_admin));

        if p.refused {
            prop_assert!(p.failed_guardrails().all(|g| !g.offenders.is_empty()));
            return Ok(());
        }

        // Removals within the limit.
        let removals = p.operations.iter().filter(|o| o.action == Action::Remove).count();
        prop_assert!(removals <= policy.max.limit(live.org_memberships.len()));
        // Protected principals unchanged.
        for pr in &desired.policy.protected {
            prop_assert_eq!(footprint(&live, pr), footprint(&after, pr), "protected {} changed", pr);
        }
        // The token's user neither removed nor demoted.
        if let Some(before) = role_of_me(&live) {
            let now = role_of_me(&after);
            prop_assert!(now.is_some_and(|r| r >= before), "me {:?} -> {:?}", before, now);
        }
        // An owner remains; spaces keep an admin.
        if active_owners(&live) > 0 {
            prop_assert!(active_owners(&after) > 0);
        }
        for space in [MARKETING, BLOG] {
            if has_admin(&live, space) {
                prop_assert!(has_admin(&after, space), "space {} lost its admins", space);
            }
        }
        // Convergence: applying the plan leaves nothing to do.
        let p2 = plan(&desired, &after);
        prop_assert!(p2.is_empty(), "after applying:\n{:#?}", p2.operations);
    }

    /// Issue 16: when an identity provider provisions members, no plan ever invites anyone or
    /// removes an organization membership, whatever the file, the organization and prune say. The
    /// users the same file would invite are exactly the ones reported as waiting.
    #[test]
    fn with_an_identity_provider_no_plan_invites_or_removes_org_members(
        from in org_spec(), to in org_spec(), policy in policy_spec()
    ) {
        let live = build_org(&from);
        let mut desired = desired_of(&build_org(&to), &policy);
        let by_file = plan(&desired, &live);
        desired.policy.org_membership = OrgMembershipSource::IdentityProvider;
        let p = plan(&desired, &live);
        for op in &p.operations {
            prop_assert!(
                !matches!(op.kind, OpKind::Invite { .. } | OpKind::RemoveOrgMember { .. }),
                "{:#?}", op
            );
        }
        let invited: BTreeSet<&Email> = by_file
            .operations
            .iter()
            .filter(|o| matches!(o.kind, OpKind::Invite { .. }))
            .filter_map(|o| o.kind.email())
            .collect();
        let waiting: BTreeSet<&Email> = p.waiting.iter().map(|w| &w.email).collect();
        prop_assert_eq!(invited, waiting);
    }
}
