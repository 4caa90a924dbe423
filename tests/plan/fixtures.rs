//! Builders for in-memory live organizations and access files, shared by the planner's
//! integration tests (scenarios, snapshots, properties).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use contentful_access::model::{
    DesiredGrant, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email, LiveOrgMembership,
    LiveRole, LiveSpace, LiveSpaceMembership, LiveState, LiveTeam, LiveTeamMembership,
    LiveTeamSpaceMembership, LiveUser, MaxRemovals, MembershipStatus, ObjectMeta, OrgRole,
    PersonName, Policy, Principal, SpaceAccess, Span,
};
use contentful_access::plan::{self, Plan, PlanOptions};

/// The organization id used by every fixture.
pub const ORG: &str = "1VcAE6naLx3WZBNNUIMMZE";
/// The marketing space id.
pub const MARKETING: &str = "5nq2sd7t0mkg";
/// The blog space id.
pub const BLOG: &str = "9w3kd0x1mzq4";
/// An unmanaged space id.
pub const LEGACY: &str = "7legacy0space";

/// A fixed plan time.
pub fn created_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0)
        .single()
        .unwrap()
}

/// Plans with the fixed time; panics on a plan error.
pub fn plan(desired: &DesiredState, live: &LiveState) -> Plan {
    plan::build(
        desired,
        live,
        &PlanOptions {
            created_at: created_at(),
        },
    )
    .unwrap()
}

/// Role access.
pub fn roles(names: &[&str]) -> SpaceAccess {
    SpaceAccess::Roles(names.iter().map(|s| s.to_string()).collect())
}

fn local(email: &str) -> String {
    email
        .split('@')
        .next()
        .unwrap_or(email)
        .replace(['.', '+'], "-")
}

/// A live organization under construction.
pub struct Org {
    /// The state so far.
    pub live: LiveState,
    next: u32,
}

impl Org {
    /// Spaces marketing (Editor, Author, Translator), blog (Editor, Author) and an unmanaged
    /// legacy space; no members.
    pub fn new() -> Org {
        let mut live = LiveState {
            organization: ORG.to_string(),
            organization_name: Some("Acme".to_string()),
            ..LiveState::default()
        };
        let space = |id: &str, name: &str, roles: &[(&str, &str)]| LiveSpace {
            id: id.to_string(),
            name: name.to_string(),
            roles: roles
                .iter()
                .map(|(rid, n)| (rid.to_string(), LiveRole::named(*rid, *n)))
                .collect(),
        };
        live.spaces.insert(
            MARKETING.into(),
            space(
                MARKETING,
                "Marketing",
                &[
                    ("r-mkt-editor", "Editor"),
                    ("r-mkt-author", "Author"),
                    ("r-mkt-translator", "Translator"),
                ],
            ),
        );
        live.spaces.insert(
            BLOG.into(),
            space(
                BLOG,
                "Blog",
                &[("r-blog-editor", "Editor"), ("r-blog-author", "Author")],
            ),
        );
        live.spaces
            .insert(LEGACY.into(), space(LEGACY, "Legacy site", &[]));
        Org { live, next: 1 }
    }

    fn version(&mut self) -> u64 {
        self.next += 1;
        u64::from(self.next)
    }

    /// Adds an active member.
    pub fn user(mut self, email: &str, role: OrgRole) -> Org {
        self.add_user(email, role, MembershipStatus::Active);
        self
    }

    /// Adds a pending invitee.
    pub fn pending(mut self, email: &str, role: OrgRole) -> Org {
        self.add_user(email, role, MembershipStatus::Pending);
        self
    }

    fn add_user(&mut self, email: &str, role: OrgRole, status: MembershipStatus) {
        let l = local(email);
        let active = status == MembershipStatus::Active;
        self.live.users.insert(
            format!("u-{l}"),
            LiveUser {
                id: format!("u-{l}"),
                email: Email::new(email),
                first_name: active.then(|| l.clone()),
                last_name: None,
                activated: active,
            },
        );
        let v = self.version();
        let mut meta = ObjectMeta::new(format!("om-{l}"), v);
        meta.created_at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).single();
        self.live.org_memberships.insert(
            format!("om-{l}"),
            LiveOrgMembership {
                meta,
                user_id: format!("u-{l}"),
                role,
                status,
                last_active_at: None,
                sso: None,
            },
        );
    }

    /// Marks `email` as the token's own user.
    pub fn me(mut self, email: &str) -> Org {
        self.live.me = Some(format!("u-{}", local(email)));
        self
    }

    /// Adds a team.
    pub fn team(mut self, name: &str, description: &str) -> Org {
        let v = self.version();
        self.live.teams.insert(
            format!("t-{name}"),
            LiveTeam {
                meta: ObjectMeta::new(format!("t-{name}"), v),
                name: name.to_string(),
                description: description.to_string(),
            },
        );
        self
    }

    /// Adds `email` to team `team`.
    pub fn member(mut self, team: &str, email: &str) -> Org {
        let v = self.version();
        let id = format!("tm-{team}-{}", local(email));
        self.live.team_memberships.insert(
            id.clone(),
            LiveTeamMembership {
                meta: ObjectMeta::new(id, v),
                team_id: format!("t-{team}"),
                org_membership_id: format!("om-{}", local(email)),
            },
        );
        self
    }

    fn ids(&self, space_id: &str, access: &SpaceAccess) -> (bool, BTreeSet<String>) {
        match access {
            SpaceAccess::Admin => (true, BTreeSet::new()),
            SpaceAccess::Roles(names) => (
                false,
                names
                    .iter()
                    .map(|n| {
                        self.live.spaces[space_id]
                            .role_id(n)
                            .unwrap_or(n)
                            .to_string()
                    })
                    .collect(),
            ),
        }
    }

    /// Gives team `team` access to a space.
    pub fn tsm(mut self, team: &str, space_id: &str, access: SpaceAccess) -> Org {
        let v = self.version();
        let (admin, role_ids) = self.ids(space_id, &access);
        let id = format!("tsm-{team}-{space_id}");
        self.live.team_space_memberships.insert(
            id.clone(),
            LiveTeamSpaceMembership {
                meta: ObjectMeta::new(id, v),
                team_id: format!("t-{team}"),
                space_id: space_id.to_string(),
                admin,
                role_ids,
            },
        );
        self
    }

    /// Gives `email` direct access to a space.
    pub fn sm(mut self, email: &str, space_id: &str, access: SpaceAccess) -> Org {
        let v = self.version();
        let (admin, role_ids) = self.ids(space_id, &access);
        let id = format!("sm-{space_id}-{}", local(email));
        self.live.space_memberships.insert(
            id.clone(),
            LiveSpaceMembership {
                meta: ObjectMeta::new(id, v),
                space_id: space_id.to_string(),
                user_id: format!("u-{}", local(email)),
                admin,
                role_ids,
            },
        );
        self
    }

    /// The finished state.
    pub fn build(self) -> LiveState {
        self.live
    }
}

/// An access file under construction; every declaration gets the next line number.
pub struct File {
    /// The state so far.
    pub d: DesiredState,
    line: u32,
}

/// The managed spaces of [`File::new`] as local name → id.
pub fn managed_spaces() -> BTreeMap<String, String> {
    [
        ("blog".to_string(), BLOG.to_string()),
        ("marketing".to_string(), MARKETING.to_string()),
    ]
    .into()
}

impl File {
    /// Manages marketing and blog; default policy.
    pub fn new() -> File {
        let mut f = File {
            d: DesiredState {
                source_path: "access.yaml".to_string(),
                source_sha256: "3b1f0c9e5d2a7f4e8c6b1a0d9e8f7c6b5a4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
                    .to_string(),
                included: Vec::new(),
                organization: ORG.to_string(),
                policy: Policy::default(),
                spaces: BTreeMap::new(),
                teams: BTreeMap::new(),
                users: BTreeMap::new(),
                roles: BTreeMap::new(),
            },
            line: 10,
        };
        for (name, id) in managed_spaces() {
            let at = f.at();
            f.d.spaces.insert(name, DesiredSpace { id, at });
        }
        f
    }

    fn at(&mut self) -> Span {
        self.line += 1;
        Span::root(self.line, 3)
    }

    /// Turns prune on.
    pub fn prune(mut self) -> File {
        self.d.policy.prune = true;
        self
    }

    /// Sets max_removals.
    pub fn max_removals(mut self, m: MaxRemovals) -> File {
        self.d.policy.max_removals = m;
        self
    }

    /// Protects a user.
    pub fn protect_user(mut self, email: &str) -> File {
        self.d
            .policy
            .protected
            .insert(Principal::User(Email::new(email)));
        self
    }

    /// Protects a team.
    pub fn protect_team(mut self, name: &str) -> File {
        self.d
            .policy
            .protected
            .insert(Principal::Team(name.to_string()));
        self
    }

    /// Ignores a user.
    pub fn ignore_user(mut self, email: &str) -> File {
        self.d
            .policy
            .ignore
            .insert(Principal::User(Email::new(email)));
        self
    }

    /// Declares a team.
    pub fn team(mut self, name: &str, description: &str, spaces: &[(&str, SpaceAccess)]) -> File {
        let at = self.at();
        let spaces = spaces
            .iter()
            .map(|(s, a)| {
                let at = self.at();
                (
                    s.to_string(),
                    DesiredGrant {
                        access: a.clone(),
                        at,
                        roles_at: Default::default(),
                        expires: None,
                    },
                )
            })
            .collect();
        self.d.teams.insert(
            name.to_string(),
            DesiredTeam {
                name: name.to_string(),
                description: description.to_string(),
                spaces,
                managed_by: Default::default(),
                at,
            },
        );
        self
    }

    /// Declares a user.
    pub fn user(
        mut self,
        email: &str,
        role: OrgRole,
        teams: &[&str],
        spaces: &[(&str, SpaceAccess)],
    ) -> File {
        let at = self.at();
        let org_role_at = self.at();
        let teams = teams.iter().map(|t| (t.to_string(), self.at())).collect();
        let spaces = spaces
            .iter()
            .map(|(s, a)| {
                let at = self.at();
                (
                    s.to_string(),
                    DesiredGrant {
                        access: a.clone(),
                        at,
                        roles_at: Default::default(),
                        expires: None,
                    },
                )
            })
            .collect();
        self.d.users.insert(
            Email::new(email),
            DesiredUser {
                email: Email::new(email),
                name: Some(PersonName::split(&format!("{} Example", local(email)))),
                org_role: role,
                org_role_at,
                teams,
                team_expires: Default::default(),
                spaces,
                expires: None,
                at,
            },
        );
        self
    }

    /// The finished state.
    pub fn build(self) -> DesiredState {
        self.d
    }
}
