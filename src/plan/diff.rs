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
}

/// The provisional id of the invitation of `email`, replaced by the real id after ordering.
pub(crate) fn provisional_invite(email: &Email) -> OpId {
    OpId(format!("invite:{email}"))
}

/// The provisional id of the creation of team `name`.
pub(crate) fn provisional_team(name: &str) -> OpId {
    OpId(format!("team:{name}"))
}

/// Access resolved to what Contentful stores: admin, or role ids (borrowed from the live roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved<'l> {
    Admin,
    Roles(BTreeSet<&'l str>),
}

impl Resolved<'_> {
    /// True when a live membership with `admin` and `role_ids` already gives this access.
    pub(crate) fn matches_live(&self, admin: bool, role_ids: &BTreeSet<String>) -> bool {
        match self {
            Resolved::Admin => admin,
            Resolved::Roles(ids) => {
                !admin
                    && ids.len() == role_ids.len()
                    && ids.iter().zip(role_ids).all(|(a, b)| *a == b.as_str())
            }
        }
    }

    fn role_ids(&self) -> Vec<String> {
        match self {
            Resolved::Admin => Vec::new(),
            Resolved::Roles(ids) => ids.iter().map(|id| id.to_string()).collect(),
        }
    }
}

/// A live user with their organization membership.
#[derive(Clone, Copy)]
pub(crate) struct Member<'a> {
    pub user: &'a LiveUser,
    pub membership: &'a LiveOrgMembership,
}

/// Lookup tables over a live state, built once.
pub(crate) struct Index<'a> {
    pub live: &'a LiveState,
    /// Members by email (first membership by id when a user has several). Unordered: iterate
    /// [`Index::members_in_order`] where order shows.
    pub members: FxHashMap<&'a Email, Member<'a>>,
    /// Email by org membership id.
    pub email_of_membership: FxHashMap<&'a str, &'a Email>,
    /// Teams by name (first by id on duplicates).
    pub teams: BTreeMap<&'a str, &'a LiveTeam>,
    /// Team names by team id.
    team_names: FxHashMap<&'a str, &'a str>,
    /// Team memberships by org membership id, in id order.
    pub tms_by_membership: FxHashMap<&'a str, Vec<&'a LiveTeamMembership>>,
    /// Team memberships by team id, in id order.
    pub tms_by_team: FxHashMap<&'a str, Vec<&'a LiveTeamMembership>>,
    /// Team space memberships by team id, in id order.
    pub tsms_by_team: FxHashMap<&'a str, Vec<&'a LiveTeamSpaceMembership>>,
    /// Space memberships by user id, in id order.
    pub sms_by_user: FxHashMap<&'a str, Vec<&'a LiveSpaceMembership>>,
}

impl<'a> Index<'a> {
    /// Indexes `live`. Hash maps keyed by borrowed ids: every live object is visited once and
    /// nothing is copied (string-keyed ordered maps made this a fifth of planning time in an
    /// organization of 100,000 memberships).
    pub(crate) fn new(live: &'a LiveState) -> Index<'a> {
        let users_by_id: FxHashMap<&str, &LiveUser> =
            live.users.values().map(|u| (u.id.as_str(), u)).collect();
        let mut members =
            FxHashMap::with_capacity_and_hasher(live.org_memberships.len(), Default::default());
        let mut email_of_membership =
            FxHashMap::with_capacity_and_hasher(live.org_memberships.len(), Default::default());
        for m in live.org_memberships.values() {
            let Some(user) = users_by_id.get(m.user_id.as_str()) else {
                continue;
            };
            email_of_membership.insert(m.meta.id.as_str(), &user.email);
            members.entry(&user.email).or_insert(Member {
                user,
                membership: m,
            });
        }
        let mut teams = BTreeMap::new();
        let mut team_names = FxHashMap::default();
        for t in live.teams.values() {
            teams.entry(t.name.as_str()).or_insert(t);
            team_names.insert(t.meta.id.as_str(), t.name.as_str());
        }
        let mut tms_by_membership: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        let mut tms_by_team: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        for tm in live.team_memberships.values() {
            tms_by_membership
                .entry(tm.org_membership_id.as_str())
                .or_default()
                .push(tm);
            tms_by_team.entry(tm.team_id.as_str()).or_default().push(tm);
        }
        let mut tsms_by_team: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        for tsm in live.team_space_memberships.values() {
            tsms_by_team
                .entry(tsm.team_id.as_str())
                .or_default()
                .push(tsm);
        }
        let mut sms_by_user: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        for sm in live.space_memberships.values() {
            sms_by_user.entry(sm.user_id.as_str()).or_default().push(sm);
        }
        Index {
            live,
            members,
            email_of_membership,
            teams,
            team_names,
            tms_by_membership,
            tms_by_team,
            tsms_by_team,
            sms_by_user,
        }
    }

    /// The members in email order.
    pub(crate) fn members_in_order(&self) -> Vec<(&'a Email, Member<'a>)> {
        let mut all: Vec<_> = self.members.iter().map(|(e, m)| (*e, *m)).collect();
        all.sort_unstable_by_key(|(e, _)| *e);
        all
    }

    /// The display name of a space: the managed local name, else the live name, else the id.
    pub(crate) fn space_display(&self, desired: &DesiredState, space_id: &str) -> String {
        desired
            .space_name(space_id)
            .map(str::to_string)
            .or_else(|| self.live.spaces.get(space_id).map(|s| s.name.clone()))
            .unwrap_or_else(|| space_id.to_string())
    }

    /// Team memberships of an org membership.
    pub(crate) fn tms_of_membership(&self, om_id: &str) -> &[&'a LiveTeamMembership] {
        self.tms_by_membership.get(om_id).map_or(&[], Vec::as_slice)
    }

    /// Team memberships of a team.
    pub(crate) fn tms_of_team(&self, team_id: &str) -> &[&'a LiveTeamMembership] {
        self.tms_by_team.get(team_id).map_or(&[], Vec::as_slice)
    }

    /// Team space memberships of a team.
    pub(crate) fn tsms_of_team(&self, team_id: &str) -> &[&'a LiveTeamSpaceMembership] {
        self.tsms_by_team.get(team_id).map_or(&[], Vec::as_slice)
    }

    /// Space memberships of a user.
    pub(crate) fn sms_of_user(&self, user_id: &str) -> &[&'a LiveSpaceMembership] {
        self.sms_by_user.get(user_id).map_or(&[], Vec::as_slice)
    }

    /// The name of the team `team_id`.
    fn team_name(&self, team_id: &str) -> Option<&'a str> {
        self.team_names.get(team_id).copied()
    }
}

/// Resolves desired grants' role names against the live roles; collects every failure.
struct Resolver<'l> {
    /// Managed spaces that exist, by local name: the live space and its role ids by name (the
    /// first role by id when two share a name).
    spaces: FxHashMap<&'l str, (&'l LiveSpace, FxHashMap<&'l str, &'l str>)>,
    problems: Vec<Unresolved>,
}

impl<'l> Resolver<'l> {
    fn new(desired: &'l DesiredState, live: &'l LiveState, problems: Vec<Unresolved>) -> Self {
        let spaces = desired
            .spaces
            .iter()
            .filter_map(|(name, decl)| {
                let space = live.spaces.get(&decl.id)?;
                let mut by_name = FxHashMap::default();
                for r in space.roles.values() {
                    by_name.entry(r.name.as_str()).or_insert(r.id.as_str());
                }
                Some((name.as_str(), (space, by_name)))
            })
            .collect();
        Resolver { spaces, problems }
    }

    /// The grant in `space_name` resolved to role ids; `None` when the space is not managed or
    /// does not exist (reported elsewhere), or a role name does not resolve (recorded).
    fn resolve(&mut self, space_name: &str, grant: &DesiredGrant) -> Option<Resolved<'l>> {
        let (space, by_name) = self.spaces.get(space_name)?;
        match &grant.access {
            SpaceAccess::Admin => Some(Resolved::Admin),
            SpaceAccess::Roles(names) => {
                let mut ids = BTreeSet::new();
                let mut ok = true;
                for name in names {
                    match by_name.get(name.as_str()) {
                        Some(id) => {
                            ids.insert(*id);
                        }
                        None => {
                            ok = false;
                            self.problems.push(Unresolved::UnknownRole {
                                space_name: space_name.to_string(),
                                space_id: space.id.clone(),
                                role: name.clone(),
                                at: grant.role_at(name),
                                suggestions: suggest(
                                    name,
                                    space.roles.values().map(|r| r.name.as_str()),
                                ),
                                existing: {
                                    let mut all: Vec<String> =
                                        space.roles.values().map(|r| r.name.clone()).collect();
                                    all.sort();
                                    all.dedup();
                                    all
                                },
                            });
                        }
                    }
                }
                ok.then_some(Resolved::Roles(ids))
            }
        }
    }

    /// Resolves every grant of a principal the diff skips, so its problems are still reported.
    fn resolve_all(&mut self, grants: &BTreeMap<String, DesiredGrant>) {
        for (space_name, grant) in grants {
            self.resolve(space_name, grant);
        }
    }
}

/// Up to three existing names closest to `wanted` (Jaro-Winkler, case-insensitive), best first:
/// those scoring at least 0.8 and within 0.1 of the best.
fn suggest<'a>(wanted: &str, existing: impl Iterator<Item = &'a str>) -> Vec<String> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = existing
        .map(|name| (strsim::jaro_winkler(&w, &name.to_lowercase()), name))
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    let best = scored.first().map(|s| s.0).unwrap_or(0.0);
    scored
        .into_iter()
        .filter(|(score, _)| *score >= best - 0.1)
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// The managed spaces (name order) where a principal is declared with a grant or holds a live
/// membership (`have`, by space id): the only ones the diff can find a difference in.
fn touched_spaces<'d, G, M>(
    managed: &ManagedSpaces<'d>,
    declared: &BTreeMap<String, G>,
    have: &[(&str, M)],
) -> Vec<(&'d String, &'d DesiredSpace)> {
    let mut out: Vec<(&String, &DesiredSpace)> = declared
        .keys()
        .filter_map(|n| managed.by_name.get(n.as_str()).copied())
        .collect();
    for (id, _) in have {
        if let Some(named) = managed.by_id.get(id) {
            out.extend(named.iter().copied());
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The managed spaces, looked up by local name and by space id (several names may share an id).
struct ManagedSpaces<'d> {
    by_name: FxHashMap<&'d str, (&'d String, &'d DesiredSpace)>,
    by_id: FxHashMap<&'d str, Vec<(&'d String, &'d DesiredSpace)>>,
}

impl<'d> ManagedSpaces<'d> {
    fn new(desired: &'d DesiredState) -> Self {
        let mut by_id: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        for (name, space) in &desired.spaces {
            by_id
                .entry(space.id.as_str())
                .or_default()
                .push((name, space));
        }
        ManagedSpaces {
            by_name: desired
                .spaces
                .iter()
                .map(|(n, s)| (n.as_str(), (n, s)))
                .collect(),
            by_id,
        }
    }
}

/// One live membership per space id (the first by membership id), sorted by space id.
fn first_per_space<'a, M>(
    memberships: &[&'a M],
    space_id: impl Fn(&'a M) -> &'a str,
) -> Vec<(&'a str, &'a M)> {
    let mut out: Vec<(&str, &M)> = memberships.iter().map(|m| (space_id(m), *m)).collect();
    // Stable: among memberships of one space the first by id stays first and is kept.
    out.sort_by(|a, b| a.0.cmp(b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The membership held in `space_id`, from [`first_per_space`]'s result.
fn held_in<'a, M>(have: &[(&'a str, &'a M)], space_id: &str) -> Option<&'a M> {
    have.binary_search_by(|(id, _)| (*id).cmp(space_id))
        .ok()
        .map(|i| have[i].1)
}

/// What the file wants in one space: the access resolved, as written, and where it is written.
type Want<'a> = (Resolved<'a>, &'a SpaceAccess, Span);

/// For each managed space a principal is declared in or holds a membership of (`held`), in name
/// order: the space, what the file wants there (resolved; unresolvable roles are recorded by
/// `resolver`) and the live membership held there. A grant whose `expires` has passed at `now` is
/// not wanted any more (and its roles are not resolved: they may be gone with the need).
fn compare_spaces<'a, M>(
    resolver: &mut Resolver<'a>,
    managed: &ManagedSpaces<'a>,
    now: DateTime<Utc>,
    declared: &'a BTreeMap<String, DesiredGrant>,
    held: &[&'a M],
    space_id: impl Fn(&'a M) -> &'a str,
) -> Vec<(
    &'a String,
    &'a DesiredSpace,
    Option<Want<'a>>,
    Option<&'a M>,
)> {
    let have_in = first_per_space(held, space_id);
    touched_spaces(managed, declared, &have_in)
        .into_iter()
        .map(|(name, space)| {
            let want = declared
                .get(name)
                .filter(|g| expired(&g.expires, now).is_none())
                .and_then(|grant| {
                    resolver
                        .resolve(name, grant)
                        .map(|r| (r, &grant.access, grant.at))
                });
            (name, space, want, held_in(&have_in, &space.id))
        })
        .collect()
}

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
    for user in desired.users.values() {
        d.user(user);
    }
    for (email, m) in ix.members_in_order() {
        if !desired.users.contains_key(email) && !d.user_ignored(email) {
            d.prune_or_report(Undeclared::User { email, member: m });
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

/// A live principal the file does not declare: removed with `prune`, otherwise reported.
#[derive(Clone, Copy)]
enum Undeclared<'a> {
    User {
        email: &'a Email,
        member: Member<'a>,
    },
    Team {
        name: &'a str,
        team: &'a LiveTeam,
    },
}

/// A live space membership or team space membership, as removal and reports see it.
struct Held<'a> {
    space_id: &'a str,
    admin: bool,
    role_ids: &'a BTreeSet<String>,
    meta: &'a ObjectMeta,
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

    /// A declared user: invitation or org role, team memberships, direct space memberships.
    fn user(&mut self, user: &'a DesiredUser) {
        if self.user_ignored(&user.email) {
            self.resolver.resolve_all(&user.spaces);
            return;
        }
        let (ix, live, now) = (self.ix, self.live, self.now);
        let member = ix.members.get(&user.email).copied();
        if let Some(e) = expired(&user.expires, now) {
            // The whole membership has ended: removed with everything it holds (never invited).
            // When an identity provider owns membership, only the access this tool manages goes.
            if let Some(m) = member {
                let who = Undeclared::User {
                    email: &user.email,
                    member: m,
                };
                if self.provider {
                    self.strip(who, Some(e));
                } else {
                    self.remove(who, Some(e));
                }
            }
            return;
        }
        if member.is_none() && self.provider {
            // Waiting for the identity provider: nothing can be granted before the membership
            // exists; the next plan after provisioning grants it.
            self.resolver.resolve_all(&user.spaces);
            let mut access: Vec<HeldAccess> = user
                .spaces
                .iter()
                .filter(|(_, g)| expired(&g.expires, now).is_none())
                .filter_map(|(name, g)| {
                    desired_space_id(self.desired, name).map(|id| HeldAccess {
                        space_name: name.clone(),
                        space_id: id.to_string(),
                        access: g.access.clone(),
                    })
                })
                .collect();
            access.sort();
            self.out.waiting.push(WaitingUser {
                email: user.email.clone(),
                org_role: user.org_role,
                teams: user
                    .teams
                    .keys()
                    .filter(|t| user.team_expires.get(*t).is_none_or(|e| !e.passed(now)))
                    .cloned()
                    .collect(),
                access,
            });
            return;
        }
        let team_expired = |name: &str| user.team_expires.get(name).filter(|e| e.passed(now));
        let membership_ref = || match member {
            Some(m) => MembershipRef::Existing(m.membership.meta.id.clone()),
            None => MembershipRef::InvitedBy(provisional_invite(&user.email)),
        };
        match member {
            None => self.out.drafts.push(Draft {
                kind: OpKind::Invite {
                    email: user.email.clone(),
                    role: user.org_role,
                    first_name: user.name.as_ref().map(|n| n.first.clone()),
                    last_name: user.name.as_ref().and_then(|n| n.last.clone()),
                },
                cause: Some(user.at),
                reason: None,
                touches: Vec::new(),
            }),
            Some(m) => {
                if m.membership.status == MembershipStatus::Pending {
                    self.out.pending.push(PendingInvite {
                        email: user.email.clone(),
                        role: m.membership.role,
                        membership_id: m.membership.meta.id.clone(),
                        invited_at: m.membership.meta.created_at,
                    });
                    let policy = &self.desired.policy;
                    if policy.reinvite_expired
                        && policy.org_membership == OrgMembershipSource::File
                        && let Some(invited_at) = m.membership.meta.created_at
                        && invitation_expired(invited_at, now)
                    {
                        self.out.drafts.push(Draft {
                            kind: OpKind::Reinvite {
                                email: user.email.clone(),
                                role: m.membership.role,
                                membership: m.membership.meta.clone(),
                                invited_at,
                                first_name: user.name.as_ref().map(|n| n.first.clone()),
                                last_name: user.name.as_ref().and_then(|n| n.last.clone()),
                            },
                            cause: Some(user.at),
                            reason: None,
                            touches: vec![touch(ObjectKind::OrgMembership, &m.membership.meta)],
                        });
                    }
                }
                if m.membership.role != user.org_role {
                    self.out.drafts.push(Draft {
                        kind: OpKind::ChangeOrgRole {
                            email: user.email.clone(),
                            membership: m.membership.meta.clone(),
                            from: m.membership.role,
                            to: user.org_role,
                        },
                        cause: Some(user.org_role_at),
                        reason: None,
                        touches: vec![touch(ObjectKind::OrgMembership, &m.membership.meta)],
                    });
                }
            }
        }

        // Team memberships: the live ones by team name (the last by id when a user is in a team
        // twice), sorted by name.
        let mut live_teams: Vec<(&str, &LiveTeamMembership)> = match member {
            Some(m) => ix
                .tms_of_membership(&m.membership.meta.id)
                .iter()
                .rev()
                .filter_map(|tm| ix.team_name(&tm.team_id).map(|n| (n, *tm)))
                .collect(),
            None => Vec::new(),
        };
        live_teams.sort_by(|a, b| a.0.cmp(b.0));
        live_teams.dedup_by(|a, b| a.0 == b.0);
        let in_live_team =
            |name: &str| live_teams.binary_search_by(|(n, _)| (*n).cmp(name)).is_ok();
        for (team_name, at) in &user.teams {
            if !self.members_managed(team_name)
                || in_live_team(team_name)
                || team_expired(team_name).is_some()
            {
                continue;
            }
            let team = match ix.teams.get(team_name.as_str()) {
                Some(t) => TeamRef::Existing(t.meta.id.clone()),
                None => TeamRef::CreatedBy(provisional_team(team_name)),
            };
            self.out.drafts.push(Draft {
                kind: OpKind::AddTeamMember {
                    team_name: team_name.clone(),
                    team,
                    email: user.email.clone(),
                    membership: membership_ref(),
                },
                cause: Some(*at),
                reason: None,
                touches: Vec::new(),
            });
        }
        for (team_name, tm) in &live_teams {
            let ended = team_expired(team_name);
            if self.members_managed(team_name)
                && (!user.teams.contains_key(*team_name) || ended.is_some())
            {
                self.out.drafts.push(Draft {
                    kind: OpKind::RemoveTeamMember {
                        team_name: team_name.to_string(),
                        team_id: tm.team_id.clone(),
                        email: user.email.clone(),
                        team_membership: tm.meta.clone(),
                    },
                    cause: Some(ended.map_or(user.at, |e| e.span)),
                    reason: ended.map(expiry_reason),
                    touches: vec![touch(ObjectKind::TeamMembership, &tm.meta)],
                });
            }
        }

        // Direct space memberships in managed spaces: only the spaces the user is declared in or
        // holds a membership of (visiting every managed space for every user made the diff
        // quadratic in large organizations), in the same name order.
        let user_sms = member.map_or(&[][..], |m| ix.sms_of_user(&m.user.id));
        let compared = compare_spaces(
            &mut self.resolver,
            &self.spaces,
            now,
            &user.spaces,
            user_sms,
            |sm| sm.space_id.as_str(),
        );
        for (space_name, space, want, have) in compared {
            match (want, have) {
                (None, None) => {}
                (Some((resolved, access, at)), None) => self.out.drafts.push(Draft {
                    kind: OpKind::CreateSpaceMembership {
                        email: user.email.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        access: access.clone(),
                        role_ids: resolved.role_ids(),
                    },
                    cause: Some(at),
                    reason: None,
                    touches: Vec::new(),
                }),
                (Some((resolved, access, at)), Some(sm)) => {
                    if !resolved.matches_live(sm.admin, &sm.role_ids) {
                        self.out.drafts.push(Draft {
                            kind: OpKind::UpdateSpaceMembership {
                                email: user.email.clone(),
                                space_name: space_name.clone(),
                                space_id: space.id.clone(),
                                space_membership: sm.meta.clone(),
                                before: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                                after: access.clone(),
                                role_ids: resolved.role_ids(),
                            },
                            cause: Some(at),
                            reason: None,
                            touches: vec![touch(ObjectKind::SpaceMembership, &sm.meta)],
                        });
                    }
                }
                (None, Some(sm)) => {
                    let ended = user
                        .spaces
                        .get(space_name)
                        .and_then(|g| expired(&g.expires, now));
                    self.out.drafts.push(Draft {
                        kind: OpKind::DeleteSpaceMembership {
                            email: user.email.clone(),
                            space_name: space_name.clone(),
                            space_id: space.id.clone(),
                            space_membership: sm.meta.clone(),
                            before: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                        },
                        cause: Some(ended.map_or(user.at, |e| e.span)),
                        reason: ended.map(expiry_reason),
                        touches: vec![touch(ObjectKind::SpaceMembership, &sm.meta)],
                    })
                }
            }
        }
    }

    /// A declared team: creation or description, team space memberships.
    fn team(&mut self, team: &'a DesiredTeam) {
        if self.team_ignored(&team.name) {
            self.resolver.resolve_all(&team.spaces);
            return;
        }
        let (ix, live) = (self.ix, self.live);
        let existing = ix.teams.get(team.name.as_str()).copied();
        let team_ref = match existing {
            Some(t) => TeamRef::Existing(t.meta.id.clone()),
            None => TeamRef::CreatedBy(provisional_team(&team.name)),
        };
        match existing {
            None => self.out.drafts.push(Draft {
                kind: OpKind::CreateTeam {
                    name: team.name.clone(),
                    description: team.description.clone(),
                },
                cause: Some(team.at),
                reason: None,
                touches: Vec::new(),
            }),
            Some(t) if t.description != team.description => self.out.drafts.push(Draft {
                kind: OpKind::UpdateTeam {
                    team: t.meta.clone(),
                    name: team.name.clone(),
                    description_before: t.description.clone(),
                    description_after: team.description.clone(),
                },
                cause: Some(team.at),
                reason: None,
                touches: vec![touch(ObjectKind::Team, &t.meta)],
            }),
            Some(_) => {}
        }
        let team_tsms = existing.map_or(&[][..], |t| ix.tsms_of_team(&t.meta.id));
        let compared = compare_spaces(
            &mut self.resolver,
            &self.spaces,
            self.now,
            &team.spaces,
            team_tsms,
            |tsm| tsm.space_id.as_str(),
        );
        for (space_name, space, want, have) in compared {
            match (want, have) {
                (None, None) => {}
                (Some((resolved, access, at)), None) => self.out.drafts.push(Draft {
                    kind: OpKind::CreateTeamSpaceMembership {
                        team_name: team.name.clone(),
                        team: team_ref.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        access: access.clone(),
                        role_ids: resolved.role_ids(),
                    },
                    cause: Some(at),
                    reason: None,
                    touches: Vec::new(),
                }),
                (Some((resolved, access, at)), Some(tsm)) => {
                    if !resolved.matches_live(tsm.admin, &tsm.role_ids) {
                        self.out.drafts.push(Draft {
                            kind: OpKind::UpdateTeamSpaceMembership {
                                team_name: team.name.clone(),
                                team_id: tsm.team_id.clone(),
                                space_name: space_name.clone(),
                                space_id: space.id.clone(),
                                tsm: tsm.meta.clone(),
                                before: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                                after: access.clone(),
                                role_ids: resolved.role_ids(),
                            },
                            cause: Some(at),
                            reason: None,
                            touches: vec![touch(ObjectKind::TeamSpaceMembership, &tsm.meta)],
                        });
                    }
                }
                (None, Some(tsm)) => self.out.drafts.push(Draft {
                    kind: OpKind::DeleteTeamSpaceMembership {
                        team_name: team.name.clone(),
                        team_id: tsm.team_id.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        tsm: tsm.meta.clone(),
                        before: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                    },
                    cause: Some(team.at),
                    reason: None,
                    touches: vec![touch(ObjectKind::TeamSpaceMembership, &tsm.meta)],
                }),
            }
        }
    }

    /// An undeclared principal (not ignored): with `prune`, one removal whose cascades list the
    /// team and space memberships that go with it; without, a report of what it holds in the
    /// managed spaces and who or what it is related to (its teams, or a team's members).
    fn prune_or_report(&mut self, who: Undeclared<'a>) {
        let (ix, live, desired) = (self.ix, self.live, self.desired);
        if desired.policy.prune {
            if self.provider {
                self.strip(who, None);
            } else {
                self.remove(who, None);
            }
            return;
        }
        let (team_memberships, held) = self.holdings(who);
        let member_email = |tm: &LiveTeamMembership| {
            ix.email_of_membership
                .get(tm.org_membership_id.as_str())
                .copied()
        };
        let access = |h: &Held<'_>| live.access_of(h.space_id, h.admin, h.role_ids);

        {
            let mut related: Vec<String> = team_memberships
                .iter()
                .filter_map(|tm| match who {
                    Undeclared::User { .. } => ix.team_name(&tm.team_id).map(str::to_string),
                    Undeclared::Team { .. } => member_email(tm).map(|e| e.to_string()),
                })
                .collect();
            related.sort();
            related.dedup();
            let mut held_access: Vec<HeldAccess> = held
                .iter()
                .filter_map(|h| {
                    self.managed.get(h.space_id).map(|name| HeldAccess {
                        space_name: name.to_string(),
                        space_id: h.space_id.to_string(),
                        access: access(h),
                    })
                })
                .collect();
            held_access.sort();
            let (kind, name, id, org_role) = match who {
                Undeclared::User { email, member: m } => (
                    PrincipalKind::User,
                    email.to_string(),
                    &m.membership.meta.id,
                    Some(m.membership.role),
                ),
                Undeclared::Team { name, team: t } => {
                    (PrincipalKind::Team, name.to_string(), &t.meta.id, None)
                }
            };
            self.out.unmanaged.push(Unmanaged {
                kind,
                name,
                id: id.clone(),
                org_role,
                related,
                access: held_access,
            });
        }
    }

    /// With an identity provider owning organization membership (and the members of teams the
    /// file does not declare): takes away what this tool manages from a live principal, one
    /// operation each, instead of removing it. A user loses their memberships of teams whose
    /// members the file decides and their direct access to managed spaces; a team loses its
    /// access to managed spaces. `expired`: why (a declared user's `expires`), else prune.
    fn strip(&mut self, who: Undeclared<'a>, expired: Option<&Expiry>) {
        let (ix, live) = (self.ix, self.live);
        let (team_memberships, held) = self.holdings(who);
        let cause = expired.map(|e| e.span);
        let reason = expired.map(expiry_reason);
        if let Undeclared::User { email, .. } = who {
            for tm in team_memberships {
                let Some(team_name) = ix.team_name(&tm.team_id) else {
                    continue;
                };
                if !self.members_managed(team_name) {
                    continue;
                }
                self.out.drafts.push(Draft {
                    kind: OpKind::RemoveTeamMember {
                        team_name: team_name.to_string(),
                        team_id: tm.team_id.clone(),
                        email: email.clone(),
                        team_membership: tm.meta.clone(),
                    },
                    cause,
                    reason: reason.clone(),
                    touches: vec![touch(ObjectKind::TeamMembership, &tm.meta)],
                });
            }
        }
        for h in &held {
            let Some(space_name) = self.managed.get(h.space_id).map(|n| n.to_string()) else {
                continue;
            };
            let before = live.access_of(h.space_id, h.admin, h.role_ids);
            let space_id = h.space_id.to_string();
            let (kind, object) = match who {
                Undeclared::User { email, .. } => (
                    OpKind::DeleteSpaceMembership {
                        email: email.clone(),
                        space_name,
                        space_id,
                        space_membership: h.meta.clone(),
                        before,
                    },
                    ObjectKind::SpaceMembership,
                ),
                Undeclared::Team { name, team } => (
                    OpKind::DeleteTeamSpaceMembership {
                        team_name: name.to_string(),
                        team_id: team.meta.id.clone(),
                        space_name,
                        space_id,
                        tsm: h.meta.clone(),
                        before,
                    },
                    ObjectKind::TeamSpaceMembership,
                ),
            };
            self.out.drafts.push(Draft {
                kind,
                cause,
                reason: reason.clone(),
                touches: vec![touch(object, h.meta)],
            });
        }
    }

    /// The team memberships and the space access a live principal holds.
    fn holdings(&self, who: Undeclared<'a>) -> (&'a [&'a LiveTeamMembership], Vec<Held<'a>>) {
        let ix = self.ix;
        match who {
            Undeclared::User { member: m, .. } => (
                ix.tms_of_membership(&m.membership.meta.id),
                ix.sms_of_user(&m.user.id)
                    .iter()
                    .map(|sm| Held {
                        space_id: &sm.space_id,
                        admin: sm.admin,
                        role_ids: &sm.role_ids,
                        meta: &sm.meta,
                    })
                    .collect(),
            ),
            Undeclared::Team { team: t, .. } => (
                ix.tms_of_team(&t.meta.id),
                ix.tsms_of_team(&t.meta.id)
                    .iter()
                    .map(|tsm| Held {
                        space_id: &tsm.space_id,
                        admin: tsm.admin,
                        role_ids: &tsm.role_ids,
                        meta: &tsm.meta,
                    })
                    .collect(),
            ),
        }
    }

    /// Removes a live principal with everything that goes with it (one operation whose cascades
    /// list its team and space memberships): an undeclared one with `prune`, or a declared user
    /// whose membership has `expired`.
    fn remove(&mut self, who: Undeclared<'a>, expired: Option<&Expiry>) {
        let (ix, live, desired) = (self.ix, self.live, self.desired);
        let (team_memberships, held) = self.holdings(who);
        let member_email = |tm: &LiveTeamMembership| {
            ix.email_of_membership
                .get(tm.org_membership_id.as_str())
                .copied()
        };
        let access = |h: &Held<'_>| live.access_of(h.space_id, h.admin, h.role_ids);
        let mut cascades = Vec::new();
        let mut touches = vec![match who {
            Undeclared::User { member: m, .. } => {
                touch(ObjectKind::OrgMembership, &m.membership.meta)
            }
            Undeclared::Team { team: t, .. } => touch(ObjectKind::Team, &t.meta),
        }];
        for tm in team_memberships {
            let (team_name, email) = match who {
                Undeclared::User { .. } => (
                    ix.team_name(&tm.team_id).unwrap_or(tm.team_id.as_str()),
                    None,
                ),
                Undeclared::Team { name, .. } => (name, member_email(tm).cloned()),
            };
            cascades.push(Cascade::TeamMembership {
                team_name: team_name.to_string(),
                team_id: tm.team_id.clone(),
                email,
                team_membership: tm.meta.clone(),
            });
            touches.push(touch(ObjectKind::TeamMembership, &tm.meta));
        }
        for h in &held {
            let space_name = ix.space_display(desired, h.space_id);
            let space_id = h.space_id.to_string();
            let (cascade, kind) = match who {
                Undeclared::User { .. } => (
                    Cascade::SpaceMembership {
                        space_name,
                        space_id,
                        space_membership: h.meta.clone(),
                        access: access(h),
                    },
                    ObjectKind::SpaceMembership,
                ),
                Undeclared::Team { .. } => (
                    Cascade::TeamSpaceMembership {
                        space_name,
                        space_id,
                        tsm: h.meta.clone(),
                        access: access(h),
                    },
                    ObjectKind::TeamSpaceMembership,
                ),
            };
            cascades.push(cascade);
            touches.push(touch(kind, h.meta));
        }
        sort_cascades(&mut cascades);
        touches.sort();
        let kind = match who {
            Undeclared::User { email, member: m } => OpKind::RemoveOrgMember {
                email: email.clone(),
                membership: m.membership.meta.clone(),
                role: m.membership.role,
                cascades,
            },
            Undeclared::Team { name, team: t } => OpKind::DeleteTeam {
                team: t.meta.clone(),
                name: name.to_string(),
                cascades,
            },
        };
        self.out.drafts.push(Draft {
            kind,
            cause: expired.map(|e| e.span),
            reason: expired.map(expiry_reason),
            touches,
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_the_close_names_best_first() {
        let roles = ["Editor", "Author", "Translator", "Developer"];
        assert_eq!(suggest("Autor", roles.into_iter()), vec!["Author"]);
        assert_eq!(suggest("editor", roles.into_iter()), vec!["Editor"]);
        assert!(suggest("Publisher", roles.into_iter()).is_empty());
    }

    #[test]
    fn live_access_matches_only_the_same_admin_flag_and_role_ids() {
        let ids: BTreeSet<String> = ["r1".to_string(), "r2".to_string()].into();
        assert!(Resolved::Admin.matches_live(true, &ids));
        assert!(!Resolved::Admin.matches_live(false, &ids));
        let same = Resolved::Roles(["r2", "r1"].into());
        assert!(same.matches_live(false, &ids));
        assert!(!same.matches_live(true, &ids));
        assert!(!Resolved::Roles(["r1"].into()).matches_live(false, &ids));
        assert!(!Resolved::Roles(["r1", "r3"].into()).matches_live(false, &ids));
        assert!(Resolved::Admin.role_ids().is_empty());
        assert_eq!(same.role_ids(), vec!["r1", "r2"]);
    }
}
