//! Lookups the diff builds once over the live state ([`Index`]) and the resolution of role names
//! to role ids per space ([`Resolver`]), with did-you-mean suggestions for names that do not resolve.

use std::borrow::Cow;

use super::*;

/// Access resolved to what Contentful stores: admin, or role ids (borrowed from the live roles;
/// owned for a role the same plan creates, see [`crate::plan::created_role_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved<'l> {
    Admin,
    Roles(BTreeSet<Cow<'l, str>>),
}

impl Resolved<'_> {
    /// True when a live membership with `admin` and `role_ids` already gives this access.
    pub(crate) fn matches_live(&self, admin: bool, role_ids: &BTreeSet<String>) -> bool {
        match self {
            Resolved::Admin => admin,
            Resolved::Roles(ids) => {
                !admin
                    && ids.len() == role_ids.len()
                    && ids
                        .iter()
                        .zip(role_ids)
                        .all(|(a, b)| a.as_ref() == b.as_str())
            }
        }
    }

    pub(super) fn role_ids(&self) -> Vec<String> {
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

    /// The members whose email `keep` selects, in email order (only those are sorted).
    pub(crate) fn members_in_order(
        &self,
        keep: impl Fn(&Email) -> bool,
    ) -> Vec<(&'a Email, Member<'a>)> {
        let mut all: Vec<_> = self
            .members
            .iter()
            .filter(|(e, _)| keep(e))
            .map(|(e, m)| (*e, *m))
            .collect();
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

    /// The email of a team membership's member.
    pub(crate) fn member_email(&self, tm: &LiveTeamMembership) -> Option<&'a Email> {
        self.email_of_membership
            .get(tm.org_membership_id.as_str())
            .copied()
    }

    /// Space memberships of a user.
    pub(crate) fn sms_of_user(&self, user_id: &str) -> &[&'a LiveSpaceMembership] {
        self.sms_by_user.get(user_id).map_or(&[], Vec::as_slice)
    }

    /// The name of the team `team_id`.
    pub(super) fn team_name(&self, team_id: &str) -> Option<&'a str> {
        self.team_names.get(team_id).copied()
    }
}

/// A space's role ids by role-name number, sorted by number.
type RolesByNumber<'l> = Vec<(u32, &'l str)>;

/// Resolves desired grants' role names against the live roles; collects every failure.
pub(super) struct Resolver<'l> {
    /// Managed spaces that exist, by local name: the live space and its role ids by role name
    /// number (see `role_names`; the first role by id when two share a name), sorted by number.
    spaces: FxHashMap<&'l str, (&'l LiveSpace, RolesByNumber<'l>)>,
    /// Every live role name of the managed spaces, numbered. Spaces mostly share their role
    /// names, so this table is small and stays in cache: a grant's role is found by one lookup
    /// here and a search of its space's few numbers, instead of a hash lookup that compares
    /// against one of thousands of scattered role-name strings (about 8 % of planning at 2,000
    /// spaces, and more per grant the more spaces there are).
    role_names: FxHashMap<&'l str, u32>,
    pub(super) problems: Vec<Unresolved>,
    /// (managed space, role name) of every role the file declares: a grant of one that does not
    /// exist yet refers to its creation in the same plan.
    declared_roles: FxHashSet<(&'l str, &'l str)>,
}

impl<'l> Resolver<'l> {
    pub(super) fn new(
        desired: &'l DesiredState,
        live: &'l LiveState,
        problems: Vec<Unresolved>,
    ) -> Self {
        let declared_roles = desired
            .roles
            .values()
            .flat_map(|r| r.spaces.iter().map(|s| (s.as_str(), r.name.as_str())))
            .collect();
        let mut role_names: FxHashMap<&str, u32> = FxHashMap::default();
        let spaces = desired
            .spaces
            .iter()
            .filter_map(|(name, decl)| {
                let space = live.spaces.get(&decl.id)?;
                let mut by_number: Vec<(u32, &str)> = space
                    .roles
                    .values()
                    .map(|r| {
                        let next = u32::try_from(role_names.len()).unwrap_or(u32::MAX);
                        (
                            *role_names.entry(r.name.as_str()).or_insert(next),
                            r.id.as_str(),
                        )
                    })
                    .collect();
                // Stable: among roles sharing a name the first by id stays first and is kept.
                by_number.sort_by_key(|(n, _)| *n);
                by_number.dedup_by_key(|(n, _)| *n);
                Some((name.as_str(), (space, by_number)))
            })
            .collect();
        Resolver {
            spaces,
            role_names,
            problems,
            declared_roles,
        }
    }

    /// The grant in `space_name` resolved to role ids; `None` when the space is not managed or
    /// does not exist (reported elsewhere), or a role name does not resolve (recorded).
    pub(super) fn resolve(
        &mut self,
        space_name: &str,
        grant: &DesiredGrant,
    ) -> Option<Resolved<'l>> {
        let (space, by_number) = self.spaces.get(space_name)?;
        match &grant.access {
            SpaceAccess::Admin => Some(Resolved::Admin),
            SpaceAccess::Roles(names) => {
                let mut ids = BTreeSet::new();
                let mut ok = true;
                for name in names {
                    let found = self.role_names.get(name.as_str()).and_then(|n| {
                        by_number
                            .binary_search_by_key(n, |(k, _)| *k)
                            .ok()
                            .map(|i| by_number[i].1)
                    });
                    match found {
                        Some(id) => {
                            ids.insert(Cow::Borrowed(id));
                        }
                        None if self.declared_roles.contains(&(space_name, name.as_str())) => {
                            ids.insert(Cow::Owned(crate::plan::roles::provisional_role_id(
                                &space.id, name,
                            )));
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
    pub(super) fn resolve_all(&mut self, grants: &BTreeMap<String, DesiredGrant>) {
        for (space_name, grant) in grants {
            self.resolve(space_name, grant);
        }
    }
}

/// Up to three existing names closest to `wanted` (Jaro-Winkler, case-insensitive), best first:
/// those scoring at least 0.8 and within 0.1 of the best.
pub(super) fn suggest<'a>(wanted: &str, existing: impl Iterator<Item = &'a str>) -> Vec<String> {
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
    fn role_names_resolve_in_their_own_space_only_and_the_first_by_id_wins() {
        let desired = crate::config::load_str(
            "a.yaml",
            "version: 1\norganization: org\nspaces:\n  a: sa\n  b: sb\n",
        )
        .expect("a valid file");
        let space = |id: &str, roles: &[(&str, &str)]| LiveSpace {
            id: id.to_string(),
            name: id.to_string(),
            roles: roles
                .iter()
                .map(|(rid, n)| (rid.to_string(), crate::model::LiveRole::named(*rid, *n)))
                .collect(),
        };
        let mut live = LiveState::default();
        // Space a: two roles called Editor (r2 is the first by id), and Author; space b: only
        // Translator, a name space a does not have.
        live.spaces.insert(
            "sa".into(),
            space(
                "sa",
                &[("r3", "Editor"), ("r2", "Editor"), ("r1", "Author")],
            ),
        );
        live.spaces
            .insert("sb".into(), space("sb", &[("r9", "Translator")]));
        let mut resolver = Resolver::new(&desired, &live, Vec::new());
        let grant = |names: &[&str]| DesiredGrant {
            access: SpaceAccess::Roles(names.iter().map(|n| n.to_string()).collect()),
            at: Span::default(),
            roles_at: Default::default(),
            expires: None,
        };
        let ids = |r: Option<Resolved<'_>>| r.map(|r| r.role_ids());
        assert_eq!(
            ids(resolver.resolve("a", &grant(&["Editor", "Author"]))),
            Some(vec!["r1".to_string(), "r2".to_string()])
        );
        assert_eq!(
            ids(resolver.resolve("b", &grant(&["Translator"]))),
            Some(vec!["r9".to_string()])
        );
        assert!(resolver.problems.is_empty());
        // Known in space b, not in space a; unknown everywhere.
        assert_eq!(resolver.resolve("a", &grant(&["Translator"])), None);
        assert_eq!(resolver.resolve("b", &grant(&["Editor"])), None);
        assert_eq!(resolver.resolve("b", &grant(&["Publisher"])), None);
        assert_eq!(resolver.problems.len(), 3);
    }

    #[test]
    fn live_access_matches_only_the_same_admin_flag_and_role_ids() {
        let ids: BTreeSet<String> = ["r1".to_string(), "r2".to_string()].into();
        assert!(Resolved::Admin.matches_live(true, &ids));
        assert!(!Resolved::Admin.matches_live(false, &ids));
        let roles =
            |ids: &[&'static str]| Resolved::Roles(ids.iter().map(|&i| Cow::Borrowed(i)).collect());
        let same = roles(&["r2", "r1"]);
        assert!(same.matches_live(false, &ids));
        assert!(!same.matches_live(true, &ids));
        assert!(!roles(&["r1"]).matches_live(false, &ids));
        assert!(!roles(&["r1", "r3"]).matches_live(false, &ids));
        assert!(Resolved::Admin.role_ids().is_empty());
        assert_eq!(same.role_ids(), vec!["r1", "r2"]);
    }
}
