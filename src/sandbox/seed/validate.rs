//! Checking a seed before it is served: ids unique per kind, every reference resolves, and every
//! problem is listed, not only the first.

use std::collections::{HashMap, HashSet};

use super::{Seed, SeedError};
use crate::model::Email;

impl Seed {
    /// Checks ids are unique per kind and every reference resolves; lists every problem.
    pub fn validate(&self) -> Result<(), SeedError> {
        let mut errs = Vec::new();
        fn ids<'a>(
            kind: &str,
            it: impl Iterator<Item = &'a str>,
            errs: &mut Vec<String>,
        ) -> HashSet<&'a str> {
            let mut seen = HashSet::new();
            for id in it {
                if !seen.insert(id) {
                    errs.push(format!("duplicate {kind} id {id:?}"));
                }
            }
            seen
        }
        let users = ids("user", self.users.iter().map(|u| u.id.as_str()), &mut errs);
        let oms = ids(
            "org membership",
            self.org_memberships.iter().map(|m| m.id.as_str()),
            &mut errs,
        );
        let spaces = ids(
            "space",
            self.spaces.iter().map(|s| s.id.as_str()),
            &mut errs,
        );
        ids("role", self.roles.iter().map(|r| r.id.as_str()), &mut errs);
        let teams = ids("team", self.teams.iter().map(|t| t.id.as_str()), &mut errs);
        ids(
            "team membership",
            self.team_memberships.iter().map(|m| m.id.as_str()),
            &mut errs,
        );
        ids(
            "team space membership",
            self.team_space_memberships.iter().map(|m| m.id.as_str()),
            &mut errs,
        );
        ids(
            "space membership",
            self.space_memberships.iter().map(|m| m.id.as_str()),
            &mut errs,
        );
        let role_space: HashMap<&str, &str> = self
            .roles
            .iter()
            .map(|r| (r.id.as_str(), r.space.as_str()))
            .collect();
        let mut emails = HashSet::new();
        for u in &self.users {
            if !emails.insert(Email::new(&u.email)) {
                errs.push(format!("duplicate user email {:?}", u.email));
            }
        }
        let mut member_users = HashSet::new();
        for m in &self.org_memberships {
            if !users.contains(m.user.as_str()) {
                errs.push(format!("org membership {}: unknown user {}", m.id, m.user));
            }
            if !member_users.insert(m.user.as_str()) {
                errs.push(format!("user {} has two org memberships", m.user));
            }
        }
        for r in &self.roles {
            if !spaces.contains(r.space.as_str()) {
                errs.push(format!("role {}: unknown space {}", r.id, r.space));
            }
        }
        for m in &self.team_memberships {
            if !teams.contains(m.team.as_str()) {
                errs.push(format!("team membership {}: unknown team {}", m.id, m.team));
            }
            if !oms.contains(m.org_membership.as_str()) {
                errs.push(format!(
                    "team membership {}: unknown org membership {}",
                    m.id, m.org_membership
                ));
            }
        }
        let check_roles =
            |id: &str, space: &str, admin: bool, roles: &[String], errs: &mut Vec<String>| {
                if admin && !roles.is_empty() {
                    errs.push(format!("{id}: admin memberships carry no roles"));
                }
                for r in roles {
                    if role_space.get(r.as_str()) != Some(&space) {
                        errs.push(format!("{id}: role {r} is not a role of space {space}"));
                    }
                }
            };
        for m in &self.team_space_memberships {
            if !teams.contains(m.team.as_str()) {
                errs.push(format!(
                    "team space membership {}: unknown team {}",
                    m.id, m.team
                ));
            }
            if !spaces.contains(m.space.as_str()) {
                errs.push(format!(
                    "team space membership {}: unknown space {}",
                    m.id, m.space
                ));
            }
            check_roles(&m.id, &m.space, m.admin, &m.roles, &mut errs);
        }
        for m in &self.space_memberships {
            if !member_users.contains(m.user.as_str()) {
                errs.push(format!(
                    "space membership {}: user {} is not an org member",
                    m.id, m.user
                ));
            }
            if !spaces.contains(m.space.as_str()) {
                errs.push(format!(
                    "space membership {}: unknown space {}",
                    m.id, m.space
                ));
            }
            check_roles(&m.id, &m.space, m.admin, &m.roles, &mut errs);
        }
        for t in &self.access_tokens {
            if !users.contains(t.user.as_str()) {
                errs.push(format!("access token {}: unknown user {}", t.id, t.user));
            }
        }
        for i in &self.invitations {
            if !oms.contains(i.org_membership.as_str()) {
                errs.push(format!(
                    "invitation {}: unknown org membership {}",
                    i.id, i.org_membership
                ));
            }
        }
        for t in &self.api_tokens {
            if !users.contains(t.user.as_str()) {
                errs.push(format!("an api token refers to unknown user {}", t.user));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(SeedError::Invalid(errs))
        }
    }
}
