//! A seed copied from a live organization as the client read it, so `apply --rehearse` can run a
//! plan against a sandbox that looks like the real org.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::model::{Email, LiveState, OrgRole};

impl Seed {
    /// A seed reproducing a live organization as read by the client, for `apply --rehearse`. The
    /// user with `admin_email` gets the API token `sandbox-rehearsal-token`; if that user is not
    /// in `live`, the first owner or admin gets it.
    pub fn from_live_state(live: &LiveState, admin_email: &Email) -> Seed {
        let sys_of = |m: &crate::model::ObjectMeta| SeedSys {
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            created_by: None,
            updated_by: m.updated_by.clone().filter(|u| live.users.contains_key(u)),
        };
        let users = live
            .users
            .values()
            .map(|u| SeedUser {
                id: u.id.clone(),
                email: u.email.to_string(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                activated: u.activated,
                sign_in_count: u64::from(u.activated),
                sys: SeedSys::default(),
            })
            .collect();
        let org_memberships: Vec<SeedOrgMembership> = live
            .org_memberships
            .values()
            .filter(|m| live.users.contains_key(&m.user_id))
            .map(|m| SeedOrgMembership {
                id: m.meta.id.clone(),
                user: m.user_id.clone(),
                role: m.role,
                status: m.status,
                last_active_at: m.last_active_at,
                sys: sys_of(&m.meta),
            })
            .collect();
        let spaces = live
            .spaces
            .values()
            .map(|s| SeedSpace {
                id: s.id.clone(),
                name: s.name.clone(),
                sys: SeedSys::default(),
            })
            .collect();
        let roles = live
            .spaces
            .values()
            .flat_map(|s| {
                s.roles.values().map(|r| SeedRole {
                    id: r.id.clone(),
                    space: s.id.clone(),
                    name: r.name.clone(),
                    description: r.definition.description.clone(),
                    policies: serde_json::Value::Array(r.definition.policies.clone()),
                    permissions: serde_json::Value::Object(r.definition.permissions.clone()),
                    other: r.definition.other.clone(),
                    sys: sys_of(&crate::model::ObjectMeta {
                        id: r.id.clone(),
                        version: r.version,
                        created_at: None,
                        updated_at: r.updated_at,
                        updated_by: r.updated_by.clone(),
                    }),
                })
            })
            .collect();
        let teams = live
            .teams
            .values()
            .map(|t| SeedTeam {
                id: t.meta.id.clone(),
                name: t.name.clone(),
                description: Some(t.description.clone()),
                sys: sys_of(&t.meta),
            })
            .collect();
        let team_memberships = live
            .team_memberships
            .values()
            .map(|m| SeedTeamMembership {
                id: m.meta.id.clone(),
                team: m.team_id.clone(),
                org_membership: m.org_membership_id.clone(),
                admin: false,
                sys: sys_of(&m.meta),
            })
            .collect();
        let team_space_memberships = live
            .team_space_memberships
            .values()
            .map(|m| SeedTeamSpaceMembership {
                id: m.meta.id.clone(),
                team: m.team_id.clone(),
                space: m.space_id.clone(),
                admin: m.admin,
                roles: seed_roles(m.admin, &m.role_ids),
                sys: sys_of(&m.meta),
            })
            .collect();
        let space_memberships = live
            .space_memberships
            .values()
            .map(|m| SeedSpaceMembership {
                id: m.meta.id.clone(),
                space: m.space_id.clone(),
                user: m.user_id.clone(),
                admin: m.admin,
                roles: seed_roles(m.admin, &m.role_ids),
                sys: sys_of(&m.meta),
            })
            .collect();
        let access_tokens = live
            .access_tokens
            .iter()
            .filter(|t| live.users.contains_key(&t.user_id))
            .map(|t| SeedAccessToken {
                id: t.id.clone(),
                name: t.name.clone(),
                user: t.user_id.clone(),
                scopes: default_scopes(),
                redacted_value: t.redacted_value.clone(),
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
                last_used_at: t.last_used_at,
                sys: SeedSys::default(),
            })
            .collect();
        let admin = live
            .users
            .values()
            .find(|u| &u.email == admin_email)
            .map(|u| u.id.clone())
            .or_else(|| {
                org_memberships
                    .iter()
                    .find(|m| m.role >= OrgRole::Admin)
                    .map(|m| m.user.clone())
            });
        let mut seed = Seed {
            organization: SeedOrganization {
                id: live.organization.clone(),
                name: live
                    .organization_name
                    .clone()
                    .unwrap_or_else(|| live.organization.clone()),
                sys: SeedSys::default(),
            },
            users,
            org_memberships,
            spaces,
            roles,
            teams,
            team_memberships,
            team_space_memberships,
            space_memberships,
            access_tokens,
            invitations: vec![],
            api_tokens: admin
                .into_iter()
                .map(|user| SeedApiToken {
                    token: "sandbox-rehearsal-token".to_string(),
                    user,
                })
                .collect(),
        };
        // Keep only what references resolve, so a partially read live state still loads.
        let roles: HashMap<String, String> = seed
            .roles
            .iter()
            .map(|r| (r.id.clone(), r.space.clone()))
            .collect();
        let members: HashSet<String> = seed
            .org_memberships
            .iter()
            .map(|m| m.user.clone())
            .collect();
        let oms: HashSet<String> = seed.org_memberships.iter().map(|m| m.id.clone()).collect();
        let teams: HashSet<String> = seed.teams.iter().map(|t| t.id.clone()).collect();
        let spaces: HashSet<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
        seed.space_memberships
            .retain(|m| members.contains(&m.user) && spaces.contains(&m.space));
        for m in &mut seed.space_memberships {
            m.roles.retain(|r| roles.get(r) == Some(&m.space));
        }
        seed.team_space_memberships
            .retain(|m| teams.contains(&m.team) && spaces.contains(&m.space));
        for m in &mut seed.team_space_memberships {
            m.roles.retain(|r| roles.get(r) == Some(&m.space));
        }
        seed.team_memberships
            .retain(|m| teams.contains(&m.team) && oms.contains(&m.org_membership));
        seed
    }
}

/// The role ids a seed stores for a (team) space membership: none for an admin, who has every
/// right and no roles.
fn seed_roles<'a>(admin: bool, role_ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    if admin {
        vec![]
    } else {
        role_ids.into_iter().cloned().collect()
    }
}
