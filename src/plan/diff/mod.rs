//! The diff: desired state against live state into unordered operations, plus the pending and
//! unmanaged principals to report.
//!
//! Role names are resolved per space against the live roles as the diff meets each grant; every
//! name that does not resolve is collected, and if there is any the diff returns them all as one
//! [`PlanError`] instead of operations. Operations refer to each other (a team member to
//! the team created in the same plan) through provisional ids that [`super::order`] replaces with
//! the final `op-NNN` ids.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{
    DesiredGrant, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email, Expiry,
    INVITATION_VALID_DAYS, LiveOrgMembership, LiveSpace, LiveSpaceMembership, LiveState, LiveTeam,
    LiveTeamMembership, LiveTeamSpaceMembership, LiveUser, MembershipStatus, ObjectMeta,
    OrgMembershipSource, Principal, SpaceAccess, Span,
};

use super::error::{PlanError, Unresolved};
use super::ops::{
    Cascade, HeldAccess, MembershipRef, ObjectKind, OpId, OpKind, PendingInvite, PrincipalKind,
    Reason, TeamRef, Touched, Unmanaged, WaitingUser,
};

/// An operation before ordering: its kind, cause and touched objects.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub kind: OpKind,
    pub cause: Option<Span>,
    pub reason: Option<Reason>,
    pub touches: Vec<Touched>,
}

/// What the diff produces.
#[derive(Debug, Clone, Default)]
pub(crate) struct Diff {
    pub drafts: Vec<Draft>,
    pub pending: Vec<PendingInvite>,
    pub unmanaged: Vec<Unmanaged>,
    pub waiting: Vec<WaitingUser>,
    /// Live custom roles the file does not declare (see [`super::roles`]).
    pub unmanaged_roles: Vec<super::roles::UnmanagedRole>,
}

/// The provisional id of the invitation of `email`, replaced by the real id after ordering.
pub(crate) fn provisional_invite(email: &Email) -> OpId {
    OpId(format!("invite:{email}"))
}

/// The provisional id of the creation of team `name`.
pub(crate) fn provisional_team(name: &str) -> OpId {
    OpId(format!("team:{name}"))
}

mod index;
mod prune;
mod spaces;
mod teams;
mod users;

use index::Resolver;
pub(crate) use index::{Index, Member, Resolved};
use prune::Undeclared;
use spaces::*;

/// The expiry in `expires` when it has passed at `now`.
pub(crate) fn expired(expires: &Option<Expiry>, now: DateTime<Utc>) -> Option<&Expiry> {
    expires.as_ref().filter(|e| e.passed(now))
}

/// True when an invitation sent at `invited_at` has expired at `now` (Contentful invitations last
/// [`INVITATION_VALID_DAYS`] days).
pub(crate) fn invitation_expired(invited_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - invited_at >= chrono::Duration::days(INVITATION_VALID_DAYS)
}

/// The id of the managed space the file calls `name`.
fn desired_space_id<'d>(desired: &'d DesiredState, name: &str) -> Option<&'d str> {
    desired.spaces.get(name).map(|s| s.id.as_str())
}

/// The reason of a removal caused by `expires` having passed.
fn expiry_reason(e: &Expiry) -> Reason {
    Reason::Expired { expires: e.clone() }
}

/// Runs the diff at `now` (which decides what has expired): declared users, undeclared users,
/// declared teams, undeclared teams, in that order; then either every unresolved name as one
/// error, or the drafts and reports.
pub(crate) fn diff(
    desired: &DesiredState,
    live: &LiveState,
    ix: &Index<'_>,
    now: DateTime<Utc>,
) -> Result<Diff, PlanError> {
    let mut problems = Vec::new();
    if desired.organization != live.organization {
        problems.push(Unresolved::OrganizationMismatch {
            file: desired.organization.clone(),
            live: live.organization.clone(),
        });
    }
    for (name, space) in &desired.spaces {
        if !live.spaces.contains_key(&space.id) {
            problems.push(Unresolved::UnknownSpace {
                space_name: name.clone(),
                space_id: space.id.clone(),
                at: space.at,
            });
        }
    }
    let mut d = Differ::new(
        desired,
        live,
        ix,
        Resolver::new(desired, live, problems),
        now,
    );
    // Declared users that are members: when that is every member, nobody is undeclared and the
    // members are neither sorted nor looked up in the file (at 100,000 members that sort and
    // lookup was a superlinear part of planning).
    let mut declared_members = 0;
    for user in desired.users.values() {
        declared_members += usize::from(ix.members.contains_key(&user.email));
        d.user(user);
    }
    if declared_members < ix.members.len() {
        for (email, m) in ix.members_in_order(|e| !desired.users.contains_key(e)) {
            if !d.user_ignored(email) {
                d.prune_or_report(Undeclared::User { email, member: m });
            }
        }
    }
    for team in desired.teams.values() {
        d.team(team);
    }
    for (name, t) in &ix.teams {
        if !desired.teams.contains_key(*name) && !d.team_ignored(name) {
            d.prune_or_report(Undeclared::Team { name, team: t });
        }
    }

    let Differ {
        resolver, mut out, ..
    } = d;
    let mut problems = resolver.problems;
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.diagnostic().span);
        return Err(PlanError::Unresolved(problems));
    }
    out.pending.sort();
    out.unmanaged.sort();
    out.waiting.sort();
    let (role_drafts, unmanaged_roles) = super::roles::diff(desired, live);
    out.drafts.extend(role_drafts);
    out.unmanaged_roles = unmanaged_roles;
    Ok(out)
}

/// What the diff's steps share: the inputs, lookups built once, and the output so far.
struct Differ<'a> {
    desired: &'a DesiredState,
    live: &'a LiveState,
    ix: &'a Index<'a>,
    resolver: Resolver<'a>,
    spaces: ManagedSpaces<'a>,
    /// Managed spaces' local names by space id.
    managed: BTreeMap<&'a str, &'a str>,
    // Looked up once per principal: no allocation per check.
    ignored_users: FxHashSet<&'a Email>,
    ignored_teams: FxHashSet<&'a str>,
    /// Declared, not ignored teams: an undeclared one is deleted with prune, otherwise reported.
    managed_teams: FxHashSet<&'a str>,
    /// The time the plan is made at: what has expired by then is removed.
    now: DateTime<Utc>,
    /// `policy.org_membership: identity_provider`: organization members are never invited or
    /// removed.
    provider: bool,
    /// Declared teams whose members an identity provider manages (`managed_by`).
    provider_teams: FxHashSet<&'a str>,
    out: Diff,
}

impl<'a> Differ<'a> {
    fn new(
        desired: &'a DesiredState,
        live: &'a LiveState,
        ix: &'a Index<'a>,
        resolver: Resolver<'a>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut ignored_users: FxHashSet<&Email> = FxHashSet::default();
        let mut ignored_teams: FxHashSet<&str> = FxHashSet::default();
        for p in &desired.policy.ignore {
            match p {
                Principal::User(e) => {
                    ignored_users.insert(e);
                }
                Principal::Team(t) => {
                    ignored_teams.insert(t.as_str());
                }
            }
        }
        let managed_teams = desired
            .teams
            .keys()
            .map(String::as_str)
            .filter(|name| !ignored_teams.contains(name))
            .collect();
        Differ {
            desired,
            live,
            ix,
            resolver,
            spaces: ManagedSpaces::new(desired),
            managed: desired
                .spaces
                .iter()
                .map(|(n, s)| (s.id.as_str(), n.as_str()))
                .collect(),
            ignored_users,
            ignored_teams,
            managed_teams,
            now,
            provider: desired.policy.org_membership == OrgMembershipSource::IdentityProvider,
            provider_teams: desired
                .teams
                .values()
                .filter(|t| t.managed_by == OrgMembershipSource::IdentityProvider)
                .map(|t| t.name.as_str())
                .collect(),
            out: Diff::default(),
        }
    }

    fn user_ignored(&self, e: &Email) -> bool {
        !self.ignored_users.is_empty() && self.ignored_users.contains(e)
    }

    fn team_ignored(&self, t: &str) -> bool {
        !self.ignored_teams.is_empty() && self.ignored_teams.contains(t)
    }

    fn team_managed(&self, name: &str) -> bool {
        self.managed_teams.contains(name)
    }

    /// True when the file decides the members of team `name` (declared, not ignored, not
    /// managed by an identity provider).
    fn members_managed(&self, name: &str) -> bool {
        self.team_managed(name)
            && (self.provider_teams.is_empty() || !self.provider_teams.contains(name))
    }
}

fn touch(kind: ObjectKind, meta: &ObjectMeta) -> Touched {
    Touched {
        kind,
        id: meta.id.clone(),
        version: meta.version,
    }
}

/// Cascades in a stable order: team memberships by team then member, then space memberships and
/// team space memberships by space.
fn sort_cascades(c: &mut [Cascade]) {
    fn key(c: &Cascade) -> (u8, String, String, String) {
        match c {
            Cascade::TeamMembership {
                team_name,
                email,
                team_membership,
                ..
            } => (
                0,
                team_name.clone(),
                email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                team_membership.id.clone(),
            ),
            Cascade::SpaceMembership {
                space_name,
                space_membership,
                ..
            } => (
                1,
                space_name.clone(),
                String::new(),
                space_membership.id.clone(),
            ),
            Cascade::TeamSpaceMembership {
                space_name, tsm, ..
            } => (2, space_name.clone(), String::new(), tsm.id.clone()),
        }
    }
    c.sort_by_key(key);
}
