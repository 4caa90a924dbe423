//! A deterministic synthetic organization of any size, in the proportions of a large real org,
//! for benchmarks and scale tests.

use std::collections::{BTreeSet, HashSet};

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::model::{MembershipStatus, OrgRole};

/// Size of a synthetic organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Users (all active members; one of them is the owner holding the API token).
    pub users: usize,
    /// Spaces (each with the four default roles).
    pub spaces: usize,
    /// Teams.
    pub teams: usize,
    /// Direct space memberships (distinct user/space pairs).
    pub space_memberships: usize,
    /// Team memberships (distinct team/member pairs).
    pub team_memberships: usize,
    /// Team space memberships (distinct team/space pairs).
    pub team_space_memberships: usize,
    /// Seed of the deterministic generator.
    pub rng_seed: u64,
}

impl SyntheticSpec {
    /// Proportions of a large real org: 10,000 users → 200 spaces, 500 teams, 30,000 space
    /// memberships, 20,000 team memberships, 2,000 team space memberships; scaled linearly.
    pub fn for_users(users: usize) -> Self {
        let users = users.max(1);
        SyntheticSpec {
            users,
            spaces: (users / 50).max(1),
            teams: (users / 20).max(1),
            space_memberships: users * 3,
            team_memberships: users * 2,
            team_space_memberships: (users / 5).max(1),
            rng_seed: 42,
        }
    }
}

/// The API token of the owner of a synthetic org.
pub const SYNTHETIC_TOKEN: &str = "synthetic-admin-token";

/// A synthetic organization of the given size, identical for identical specs. Requested counts
/// are capped at what distinct pairs allow.
pub fn synthetic(spec: &SyntheticSpec) -> Seed {
    let mut rng = StdRng::seed_from_u64(spec.rng_seed);
    let epoch = default_epoch();
    let at = |i: usize| Some(epoch + Duration::seconds(i as i64));
    let nusers = spec.users.max(1);
    let mut users = Vec::with_capacity(nusers);
    let mut oms = Vec::with_capacity(nusers);
    for i in 0..nusers {
        let (email, role) = if i == 0 {
            ("owner@synthetic.example".to_string(), OrgRole::Owner)
        } else {
            let role = match i % 100 {
                1 => OrgRole::Admin,
                2..=6 => OrgRole::Developer,
                _ => OrgRole::Member,
            };
            (format!("user{i:05}@synthetic.example"), role)
        };
        users.push(SeedUser {
            id: format!("synuser{i:06}"),
            email,
            first_name: Some(format!("User{i}")),
            last_name: Some("Synthetic".to_string()),
            activated: true,
            sign_in_count: 1 + (i as u64 % 40),
            sys: SeedSys {
                created_at: at(i),
                ..SeedSys::default()
            },
        });
        oms.push(SeedOrgMembership {
            id: format!("synom{i:06}"),
            user: format!("synuser{i:06}"),
            role,
            status: MembershipStatus::Active,
            last_active_at: Some(epoch + Duration::days(rng.random_range(0..700))),
            sso: None,
            sys: SeedSys {
                created_at: at(i),
                ..SeedSys::default()
            },
        });
    }
    let mut spaces = Vec::new();
    let mut roles = Vec::new();
    let mut space_roles: Vec<Vec<String>> = Vec::new();
    for s in 0..spec.spaces {
        let id = format!("synspace{s:04}");
        let mut n = 0;
        let rs = default_roles_for(&id, || {
            n += 1;
            format!("synrole{s:04}x{n}")
        });
        space_roles.push(rs.iter().map(|r| r.id.clone()).collect());
        roles.extend(rs);
        spaces.push(SeedSpace {
            id,
            name: format!("Space {s}"),
            sys: SeedSys {
                created_at: at(s),
                ..SeedSys::default()
            },
        });
    }
    let teams: Vec<SeedTeam> = (0..spec.teams)
        .map(|t| SeedTeam {
            id: format!("synteam{t:04}"),
            name: format!("team-{t:04}"),
            description: Some(format!("Synthetic team {t}")),
            sys: SeedSys {
                created_at: at(t),
                ..SeedSys::default()
            },
        })
        .collect();
    let pick_roles = |rng: &mut StdRng, s: usize| -> (bool, Vec<String>) {
        if rng.random_range(0..10) == 0 {
            return (true, vec![]);
        }
        let all = &space_roles[s];
        let first = rng.random_range(0..all.len());
        let mut set = BTreeSet::from([all[first].clone()]);
        if rng.random_range(0..4) == 0 {
            set.insert(all[rng.random_range(0..all.len())].clone());
        }
        (false, set.into_iter().collect())
    };
    let mut space_memberships = Vec::new();
    if !spaces.is_empty() {
        let want = spec.space_memberships.min(nusers * spaces.len());
        let mut seen = HashSet::new();
        while space_memberships.len() < want {
            let u = rng.random_range(0..nusers);
            let s = rng.random_range(0..spaces.len());
            if !seen.insert((u, s)) {
                continue;
            }
            let (admin, roles) = pick_roles(&mut rng, s);
            let i = space_memberships.len();
            space_memberships.push(SeedSpaceMembership {
                id: format!("synsm{i:07}"),
                space: spaces[s].id.clone(),
                user: format!("synuser{u:06}"),
                admin,
                roles,
                sys: SeedSys {
                    created_at: at(i),
                    ..SeedSys::default()
                },
            });
        }
    }
    let mut team_memberships = Vec::new();
    let mut team_space_memberships = Vec::new();
    if !teams.is_empty() {
        let want = spec.team_memberships.min(nusers * teams.len());
        let mut seen = HashSet::new();
        while team_memberships.len() < want {
            let u = rng.random_range(0..nusers);
            let t = rng.random_range(0..teams.len());
            if !seen.insert((u, t)) {
                continue;
            }
            let i = team_memberships.len();
            team_memberships.push(SeedTeamMembership {
                id: format!("syntm{i:07}"),
                team: teams[t].id.clone(),
                org_membership: format!("synom{u:06}"),
                admin: false,
                sys: SeedSys {
                    created_at: at(i),
                    ..SeedSys::default()
                },
            });
        }
        if !spaces.is_empty() {
            let want = spec.team_space_memberships.min(teams.len() * spaces.len());
            let mut seen = HashSet::new();
            while team_space_memberships.len() < want {
                let t = rng.random_range(0..teams.len());
                let s = rng.random_range(0..spaces.len());
                if !seen.insert((t, s)) {
                    continue;
                }
                let (admin, roles) = pick_roles(&mut rng, s);
                let i = team_space_memberships.len();
                team_space_memberships.push(SeedTeamSpaceMembership {
                    id: format!("syntsm{i:06}"),
                    team: teams[t].id.clone(),
                    space: spaces[s].id.clone(),
                    admin,
                    roles,
                    sys: SeedSys {
                        created_at: at(i),
                        ..SeedSys::default()
                    },
                });
            }
        }
    }
    Seed {
        organization: SeedOrganization {
            id: "SyntheticOrg000000001".to_string(),
            name: format!("Synthetic ({nusers} users)"),
            sys: SeedSys::default(),
        },
        users,
        org_memberships: oms,
        spaces,
        roles,
        teams,
        team_memberships,
        team_space_memberships,
        space_memberships,
        access_tokens: vec![],
        invitations: vec![],
        api_tokens: vec![SeedApiToken {
            token: SYNTHETIC_TOKEN.to_string(),
            user: "synuser000000".to_string(),
        }],
        variants: Default::default(),
    }
}
