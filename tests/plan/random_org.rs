//! Random organizations for property tests, shared by the planner's and apply's: choices
//! ([`OrgSpec`]) that proptest shrinks, turned into a [`LiveState`] with the fixture builder.
#![allow(dead_code)]

use contentful_access::model::{LiveState, OrgRole, SpaceAccess};
use proptest::prelude::*;

use super::fixtures::{BLOG, LEGACY, MARKETING, Org};

pub const ROLES: [OrgRole; 4] = [
    OrgRole::Member,
    OrgRole::Developer,
    OrgRole::Admin,
    OrgRole::Owner,
];
pub const SPACES: [&str; 3] = [MARKETING, BLOG, LEGACY];

pub fn email(i: u8) -> String {
    format!("u{i}@acme.example")
}

pub fn team_name(i: u8) -> String {
    format!("team-{i}")
}

/// A random organization, as choices to be turned into a [`LiveState`].
#[derive(Debug, Clone)]
pub struct OrgSpec {
    pub users: Vec<(u8, u8, bool)>,
    pub teams: Vec<(u8, bool)>,
    pub members: Vec<(u8, u8)>,
    pub tsms: Vec<(u8, u8, u8)>,
    pub sms: Vec<(u8, u8, u8)>,
    pub me: u8,
}

pub fn org_spec() -> impl Strategy<Value = OrgSpec> {
    (
        prop::collection::vec((0u8..7, 0u8..4, prop::bool::weighted(0.2)), 1..7),
        prop::collection::vec((0u8..4, any::<bool>()), 0..4),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..10),
        prop::collection::vec((any::<u8>(), 0u8..2, any::<u8>()), 0..6),
        prop::collection::vec((any::<u8>(), 0u8..3, any::<u8>()), 0..10),
        any::<u8>(),
    )
        .prop_map(|(users, teams, members, tsms, sms, me)| OrgSpec {
            users,
            teams,
            members,
            tsms,
            sms,
            me,
        })
}

pub fn access(org: &Org, space: &str, pick: u8) -> SpaceAccess {
    let names: Vec<String> = org.live.spaces[space]
        .roles
        .values()
        .map(|r| r.name.clone())
        .collect();
    if names.is_empty() || pick.is_multiple_of(4) {
        return SpaceAccess::Admin;
    }
    let n = names.len() as u32;
    let bits = u32::from(pick) % ((1 << n) - 1) + 1;
    SpaceAccess::Roles(
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| n.clone())
            .collect(),
    )
}

pub fn build_org(spec: &OrgSpec) -> LiveState {
    let mut org = Org::new();
    let mut users: Vec<u8> = Vec::new();
    for &(i, role, pending) in &spec.users {
        if users.contains(&i) {
            continue;
        }
        users.push(i);
        let role = ROLES[usize::from(role)];
        org = if pending {
            org.pending(&email(i), role)
        } else {
            org.user(&email(i), role)
        };
    }
    let mut teams: Vec<u8> = Vec::new();
    for &(i, desc) in &spec.teams {
        if teams.contains(&i) {
            continue;
        }
        teams.push(i);
        org = org.team(&team_name(i), if desc { "described" } else { "" });
    }
    let me = users[usize::from(spec.me) % users.len()];
    org = org.me(&email(me));
    if !teams.is_empty() {
        for &(t, u) in &spec.members {
            let t = teams[usize::from(t) % teams.len()];
            let u = users[usize::from(u) % users.len()];
            org = org.member(&team_name(t), &email(u));
        }
        for &(t, s, a) in &spec.tsms {
            let t = teams[usize::from(t) % teams.len()];
            let space = SPACES[usize::from(s)];
            let acc = access(&org, space, a);
            org = org.tsm(&team_name(t), space, acc);
        }
    }
    for &(u, s, a) in &spec.sms {
        let u = users[usize::from(u) % users.len()];
        let space = SPACES[usize::from(s)];
        let acc = access(&org, space, a);
        org = org.sm(&email(u), space, acc);
    }
    org.build()
}

/// [`org_spec`] where user 0 is an active owner and the token's user (what apply needs to be
/// allowed every change).
pub fn owned_org_spec() -> impl Strategy<Value = OrgSpec> {
    org_spec().prop_map(|mut s| {
        s.users.retain(|u| u.0 != 0);
        s.users.insert(0, (0, 3, false));
        s.me = 0;
        s
    })
}
