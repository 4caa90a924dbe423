//! The sandbox's seed: a documented JSON description of a whole organization (users, memberships,
//! spaces, roles, teams, every membership kind, access tokens and the API tokens the sandbox
//! accepts), plus the built-in demo org ([`demo_seed`]), a copy of a live org
//! ([`Seed::from_live_state`], for rehearsals) and a deterministic synthetic generator
//! ([`synthetic`]) for benchmarks.
//!
//! Every record may carry an optional `sys` object (`version`, `createdAt`, `updatedAt`,
//! `createdBy`, `updatedBy`); what is left out is filled in when the sandbox loads the seed.
//! Unknown keys are rejected so a typo in a seed file is an error, not a silent default.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::model::{Email, LiveState, MembershipStatus, OrgRole};

/// A whole organization for the sandbox to serve. The format is documented in `docs/sandbox.md` (section "Seed file format").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The organization.
    pub organization: SeedOrganization,
    /// Users (members, pending invitees, and users no longer in the org).
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Organization memberships: a user's seat, role and status.
    #[serde(default)]
    pub org_memberships: Vec<SeedOrgMembership>,
    /// Spaces of the organization.
    #[serde(default)]
    pub spaces: Vec<SeedSpace>,
    /// Roles, each in one space.
    #[serde(default)]
    pub roles: Vec<SeedRole>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<SeedTeam>,
    /// Team memberships (team ↔ organization membership).
    #[serde(default)]
    pub team_memberships: Vec<SeedTeamMembership>,
    /// Team space memberships (a team's access to a space).
    #[serde(default)]
    pub team_space_memberships: Vec<SeedTeamSpaceMembership>,
    /// Direct space memberships of users.
    #[serde(default)]
    pub space_memberships: Vec<SeedSpaceMembership>,
    /// Personal access tokens as the admin view lists them (never a usable value).
    #[serde(default)]
    pub access_tokens: Vec<SeedAccessToken>,
    /// Invitations (each tied to a pending organization membership).
    #[serde(default)]
    pub invitations: Vec<SeedInvitation>,
    /// Bearer tokens the sandbox accepts, each acting as a user. The first one whose user is an
    /// org owner or admin is the admin token ([`crate::sandbox::Server::admin_token`]).
    #[serde(default)]
    pub api_tokens: Vec<SeedApiToken>,
}

/// Optional bookkeeping every record can carry; missing parts are filled in on load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSys {
    /// `sys.version` (default 0).
    #[serde(default)]
    pub version: u64,
    /// `sys.createdAt` (default: the organization's `createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// `sys.updatedAt` (default: `createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// `sys.createdBy` user id (default: the first owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `sys.updatedBy` user id (default: `createdBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

impl SeedSys {
    fn is_default(&self) -> bool {
        self == &SeedSys::default()
    }
}

/// The organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrganization {
    /// Organization id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUser {
    /// User id.
    pub id: String,
    /// Email (compared case-insensitively).
    pub email: String,
    /// First name; null for pending invitees.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name; null for pending invitees.
    #[serde(default)]
    pub last_name: Option<String>,
    /// False until an invitation is accepted (default true).
    #[serde(default = "yes")]
    pub activated: bool,
    /// How often the user signed in (default 0).
    #[serde(default)]
    pub sign_in_count: u64,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

fn yes() -> bool {
    true
}

/// An organization membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrgMembership {
    /// Membership id.
    pub id: String,
    /// The user id.
    pub user: String,
    /// Organization role.
    pub role: OrgRole,
    /// `active` (default) or `pending` (invited).
    #[serde(default = "active")]
    pub status: MembershipStatus,
    /// Last activity; null when never active.
    #[serde(default)]
    pub last_active_at: Option<DateTime<Utc>>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

fn active() -> MembershipStatus {
    MembershipStatus::Active
}

/// A space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSpace {
    /// Space id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A role in a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRole {
    /// Role id.
    pub id: String,
    /// The space it belongs to.
    pub space: String,
    /// Name, e.g. `Editor`.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Policies, as the API returns them (default `[]`).
    #[serde(default = "empty_array")]
    pub policies: serde_json::Value,
    /// Permissions, as the API returns them (default: no permissions).
    #[serde(default = "no_permissions")]
    pub permissions: serde_json::Value,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

fn empty_array() -> serde_json::Value {
    serde_json::json!([])
}

fn no_permissions() -> serde_json::Value {
    serde_json::json!({"ContentModel": ["read"], "Settings": [], "ContentDelivery": [], "Environments": []})
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeam {
    /// Team id.
    pub id: String,
    /// Name, unique in the org.
    pub name: String,
    /// Description (may be null).
    #[serde(default)]
    pub description: Option<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A team membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeamMembership {
    /// Team membership id.
    pub id: String,
    /// The team id.
    pub team: String,
    /// The member's organization membership id.
    pub org_membership: String,
    /// Team admin flag (default false).
    #[serde(default)]
    pub admin: bool,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A team's access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeamSpaceMembership {
    /// Team space membership id.
    pub id: String,
    /// The team id.
    pub team: String,
    /// The space id.
    pub space: String,
    /// Space admin.
    #[serde(default)]
    pub admin: bool,
    /// Role ids (must be empty when admin).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A user's direct access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSpaceMembership {
    /// Space membership id.
    pub id: String,
    /// The space id.
    pub space: String,
    /// The user id.
    pub user: String,
    /// Space admin.
    #[serde(default)]
    pub admin: bool,
    /// Role ids (must be empty when admin).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A personal access token as the admin view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAccessToken {
    /// Token id.
    pub id: String,
    /// Name the owner gave it.
    pub name: String,
    /// Owner's user id.
    pub user: String,
    /// Scopes (default `["content_management_manage"]`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Redacted value shown to admins, e.g. `CFPAT-…a1b2` (default derived from the id).
    #[serde(default)]
    pub redacted_value: Option<String>,
    /// When it expires; null for never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; null while active.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used.
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

fn default_scopes() -> Vec<String> {
    vec!["content_management_manage".to_string()]
}

/// An invitation: the pending organization membership it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedInvitation {
    /// Invitation id.
    pub id: String,
    /// The organization membership it created.
    pub org_membership: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A bearer token the sandbox accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApiToken {
    /// The token value (throwaway; only meaningful to the sandbox).
    pub token: String,
    /// The user it acts as.
    pub user: String,
}

/// Why a seed could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The text is not valid seed JSON.
    #[error("seed is not valid JSON for the seed format: {0}")]
    Json(#[from] serde_json::Error),
    /// The seed parses but is inconsistent (dangling references, duplicate ids, …).
    #[error("seed is inconsistent: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// The timestamp used when a seed leaves `createdAt` out.
pub(crate) fn default_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

impl Seed {
    /// Parses the JSON seed format and checks that every reference resolves.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.validate()?;
        Ok(seed)
    }

    /// The seed as pretty JSON (the documented format).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

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
                    description: String::new(),
                    policies: empty_array(),
                    permissions: no_permissions(),
                    sys: SeedSys::default(),
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
                roles: if m.admin {
                    vec![]
                } else {
                    m.role_ids.iter().cloned().collect()
                },
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
                roles: if m.admin {
                    vec![]
                } else {
                    m.role_ids.iter().cloned().collect()
                },
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

/// The built-in demo org (`examples/sandbox-org.json`), served by `contentful-access sandbox`
/// without `--seed`.
pub fn demo_seed() -> Seed {
    // The file is embedded at compile time and covered by tests, so it always parses.
    Seed::from_json(include_str!("../../../examples/sandbox-org.json")).unwrap_or_else(|err| {
        tracing::error!(%err, "the embedded demo seed is invalid");
        Seed {
            organization: SeedOrganization {
                id: "2AcmeDemoOrgSandbox001".to_string(),
                name: "Acme Inc.".to_string(),
                sys: SeedSys::default(),
            },
            users: vec![],
            org_memberships: vec![],
            spaces: vec![],
            roles: vec![],
            teams: vec![],
            team_memberships: vec![],
            team_space_memberships: vec![],
            space_memberships: vec![],
            access_tokens: vec![],
            invitations: vec![],
            api_tokens: vec![],
        }
    })
}

/// The default roles every new space gets, in this order.
pub const DEFAULT_ROLES: [(&str, &str); 4] = [
    (
        "Editor",
        "Allows editing, publishing and archiving of content",
    ),
    (
        "Author",
        "Allows only editing of content they created themselves",
    ),
    (
        "Translator",
        "Allows editing of localized fields in content",
    ),
    (
        "Freelancer",
        "Allows only editing of content they created and publishing it",
    ),
];

/// Default role records for a space, with ids `<prefix><n>`.
pub(crate) fn default_roles_for(space: &str, mut next_id: impl FnMut() -> String) -> Vec<SeedRole> {
    DEFAULT_ROLES
        .iter()
        .map(|(name, description)| SeedRole {
            id: next_id(),
            space: space.to_string(),
            name: (*name).to_string(),
            description: (*description).to_string(),
            policies: serde_json::json!([
                {"effect": "allow", "actions": "all",
                 "constraint": {"and": [{"equals": [{"doc": "sys.type"}, "Entry"]}]}}
            ]),
            permissions: no_permissions(),
            sys: SeedSys::default(),
        })
        .collect()
}

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
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_parses_and_is_consistent() {
        let seed = Seed::from_json(include_str!("../../../examples/sandbox-org.json")).unwrap();
        assert_eq!(seed.organization.id, "2AcmeDemoOrgSandbox001");
        assert_eq!(
            seed.users.len(),
            25,
            "the access.yaml roster minus nina, plus two extras"
        );
        assert_eq!(demo_seed(), seed);
    }

    #[test]
    fn synthetic_is_deterministic_and_sized() {
        let spec = SyntheticSpec::for_users(500);
        let a = synthetic(&spec);
        let b = synthetic(&spec);
        assert_eq!(a, b);
        assert_eq!(a.users.len(), 500);
        assert_eq!(a.spaces.len(), 10);
        assert_eq!(a.teams.len(), 25);
        assert_eq!(a.space_memberships.len(), 1500);
        assert_eq!(a.team_memberships.len(), 1000);
        assert_eq!(a.team_space_memberships.len(), 100);
        a.validate().unwrap();
        let other = synthetic(&SyntheticSpec {
            rng_seed: 7,
            ..spec
        });
        assert_ne!(a.space_memberships, other.space_memberships);
    }

    #[test]
    fn ten_thousand_users_scale_as_documented() {
        let spec = SyntheticSpec::for_users(10_000);
        assert_eq!(
            (
                spec.spaces,
                spec.teams,
                spec.space_memberships,
                spec.team_memberships,
                spec.team_space_memberships
            ),
            (200, 500, 30_000, 20_000, 2_000)
        );
    }

    #[test]
    fn inconsistent_seed_lists_every_problem() {
        let text = r#"{"organization":{"id":"o","name":"O"},
            "users":[{"id":"u1","email":"a@x.example"}],
            "orgMemberships":[{"id":"m1","user":"nobody","role":"member"}],
            "spaceMemberships":[{"id":"s1","space":"nospace","user":"u1"}]}"#;
        let Err(SeedError::Invalid(errs)) = Seed::from_json(text) else {
            panic!("expected an inconsistency error");
        };
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn unknown_seed_keys_are_rejected() {
        let err = Seed::from_json(r#"{"organization":{"id":"o","name":"O"},"user":[]}"#);
        assert!(matches!(err, Err(SeedError::Json(_))));
    }
}
