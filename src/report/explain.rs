//! Explain: the effective access of one person in each managed space (direct, and through which
//! team), live and as the access file wants it; or everyone with access to one managed space.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{DesiredState, Email, LiveState, MembershipStatus, Principal, SpaceAccess};

/// How one person holds access to one space: directly and/or through teams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Direct access, if any.
    pub direct: Option<SpaceAccess>,
    /// Access through each team, by team name.
    pub teams: BTreeMap<String, SpaceAccess>,
}

impl Grants {
    /// True when there is no access at all.
    pub fn is_empty(&self) -> bool {
        self.direct.is_none() && self.teams.is_empty()
    }

    /// The effective access: admin when any grant is admin, else the union of all roles.
    pub fn effective(&self) -> Option<SpaceAccess> {
        let all: Vec<&SpaceAccess> = self.direct.iter().chain(self.teams.values()).collect();
        if all.is_empty() {
            return None;
        }
        if all.iter().any(|a| a.is_admin()) {
            return Some(SpaceAccess::Admin);
        }
        let mut roles = BTreeSet::new();
        for a in all {
            if let SpaceAccess::Roles(r) = a {
                roles.extend(r.iter().cloned());
            }
        }
        Some(SpaceAccess::Roles(roles))
    }
}

/// Whether `plan` would change a row, and why not when it would not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Live and file agree.
    Matches,
    /// They disagree and `plan` would change the live access.
    Differs,
    /// They disagree, but the live access is not the file's to change: the person (or the team
    /// it comes through) is not declared and `policy.prune` is off, so `plan` leaves it alone.
    Unmanaged,
    /// The person is on `policy.ignore`: not managed by the file at all.
    Ignored,
    /// They disagree, but the person is on `policy.protected`: never changed (a plan that would
    /// change it is refused).
    Protected,
}

/// One person's access to one space, live and desired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRow {
    /// The person (for a space explanation) or the space's local name (for a person's).
    pub key: String,
    /// What Contentful has.
    pub live: Grants,
    /// What the access file wants (for a declared person; for an undeclared one: nothing).
    pub desired: Grants,
    /// Whether `plan` would change this access.
    pub status: RowStatus,
}

impl AccessRow {
    /// True when live and desired agree.
    pub fn matches(&self) -> bool {
        self.live == self.desired
    }
}

/// How the file's policy treats `email`'s access `live` against `desired` in one space.
fn status(email: &Email, live: &Grants, desired: &Grants, file: &DesiredState) -> RowStatus {
    let policy = &file.policy;
    let principal = Principal::User(email.clone());
    if policy.is_ignored(&principal) {
        return RowStatus::Ignored;
    }
    if live == desired {
        return RowStatus::Matches;
    }
    if policy.is_protected(&principal) {
        return RowStatus::Protected;
    }
    if policy.prune {
        return RowStatus::Differs;
    }
    if !file.users.contains_key(email) {
        return RowStatus::Unmanaged;
    }
    // A declared user's grants through teams the file does not manage are left alone.
    let managed = Grants {
        direct: live.direct.clone(),
        teams: live
            .teams
            .iter()
            .filter(|(team, _)| {
                file.teams.contains_key(*team)
                    && !policy.is_ignored(&Principal::Team((*team).clone()))
            })
            .map(|(team, access)| (team.clone(), access.clone()))
            .collect(),
    };
    if &managed == desired {
        RowStatus::Unmanaged
    } else {
        RowStatus::Differs
    }
}

/// The answer of `explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// `user EMAIL` or `space NAME`.
    pub subject: String,
    /// Facts about the subject (org membership, declaration), one per line.
    pub notes: Vec<String>,
    /// One row per managed space (for a person) or per person (for a space) with any access.
    pub rows: Vec<AccessRow>,
}

/// Why `explain` cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The space name is not a managed space of the file.
    #[error("`{0}` is not a space of the access file (managed spaces: {1})")]
    UnknownSpace(String, String),
    /// The person is neither in the organization nor in the access file.
    #[error("{email} is neither a member of the organization nor declared in the access file{}", did_you_mean(suggestion.as_ref()))]
    UnknownPerson {
        /// The email asked about.
        email: Email,
        /// The closest email the organization or the file knows, if one is close.
        suggestion: Option<Email>,
    },
}

fn did_you_mean(suggestion: Option<&Email>) -> String {
    suggestion
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default()
}

/// The known email closest to `email` (a typo or a different domain), if one is close enough.
fn closest_email<'a>(email: &Email, known: impl Iterator<Item = &'a Email>) -> Option<Email> {
    let wanted = email.to_string();
    let local = |e: &str| e.split('@').next().unwrap_or_default().to_string();
    known
        .map(|k| {
            let k_str = k.to_string();
            let whole = strsim::normalized_damerau_levenshtein(&wanted, &k_str);
            let local_part =
                strsim::normalized_damerau_levenshtein(&local(&wanted), &local(&k_str));
            (whole.max(local_part * 0.9), k)
        })
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

/// Live grants of every user email in every space id.
fn live_grants(live: &LiveState) -> BTreeMap<(Email, String), Grants> {
    let mut out: BTreeMap<(Email, String), Grants> = BTreeMap::new();
    let member_users: BTreeMap<&str, &str> = live
        .org_memberships
        .values()
        .map(|m| (m.meta.id.as_str(), m.user_id.as_str()))
        .collect();
    for sm in live.space_memberships.values() {
        if let Some(u) = live.users.get(&sm.user_id) {
            out.entry((u.email.clone(), sm.space_id.clone()))
                .or_default()
                .direct = Some(live.access_of(&sm.space_id, sm.admin, &sm.role_ids));
        }
    }
    let mut tsms_of_team: BTreeMap<&str, Vec<&crate::model::LiveTeamSpaceMembership>> =
        BTreeMap::new();
    for tsm in live.team_space_memberships.values() {
        tsms_of_team
            .entry(tsm.team_id.as_str())
            .or_default()
            .push(tsm);
    }
    for tm in live.team_memberships.values() {
        let Some(team) = live.teams.get(&tm.team_id) else {
            continue;
        };
        let Some(user) = member_users
            .get(tm.org_membership_id.as_str())
            .and_then(|id| live.users.get(*id))
        else {
            continue;
        };
        for tsm in tsms_of_team
            .get(tm.team_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            out.entry((user.email.clone(), tsm.space_id.clone()))
                .or_default()
                .teams
                .insert(
                    team.name.clone(),
                    live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                );
        }
    }
    out
}

/// Desired grants of every declared user in every managed space (by local name).
fn desired_grants(desired: &DesiredState) -> BTreeMap<(Email, String), Grants> {
    let mut out: BTreeMap<(Email, String), Grants> = BTreeMap::new();
    for (email, u) in &desired.users {
        for (space, g) in &u.spaces {
            out.entry((email.clone(), space.clone()))
                .or_default()
                .direct = Some(g.access.clone());
        }
        for team in u.teams.keys() {
            if let Some(t) = desired.teams.get(team) {
                for (space, g) in &t.spaces {
                    out.entry((email.clone(), space.clone()))
                        .or_default()
                        .teams
                        .insert(team.clone(), g.access.clone());
                }
            }
        }
    }
    out
}

/// The access of `email` in every managed space of the file, live and desired. Fails when the
/// person is neither in the organization nor in the file (with the closest email either knows).
pub fn explain_user(
    email: &Email,
    desired: &DesiredState,
    live: &LiveState,
) -> Result<Explanation, ExplainError> {
    if live.membership_by_email(email).is_none() && !desired.users.contains_key(email) {
        let members = live.users.values().map(|u| &u.email);
        return Err(ExplainError::UnknownPerson {
            email: email.clone(),
            suggestion: closest_email(email, members.chain(desired.users.keys())),
        });
    }
    let live_g = live_grants(live);
    let want = desired_grants(desired);
    let mut notes = Vec::new();
    match live.membership_by_email(email) {
        Some((_, m)) => notes.push(format!(
            "live: {} member of the organization as {}",
            match m.status {
                MembershipStatus::Active => "active",
                MembershipStatus::Pending => "pending (invited)",
            },
            m.role
        )),
        None => notes.push("live: not a member of the organization".to_string()),
    }
    match desired.users.get(email) {
        Some(u) => notes.push(format!(
            "file: declared as {}{}",
            u.org_role,
            if u.teams.is_empty() {
                String::new()
            } else {
                format!(
                    ", teams: {}",
                    u.teams.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        )),
        None if desired.policy.prune => {
            notes.push("file: not declared (policy.prune: true, so plan removes them)".to_string())
        }
        None => notes.push(
            "file: not declared (policy.prune: false, so plan leaves their access alone)"
                .to_string(),
        ),
    }
    if let Some(label) = policy_label(email, desired) {
        notes.push(label);
    }
    let mut rows = Vec::new();
    for (name, space) in &desired.spaces {
        let live = live_g
            .get(&(email.clone(), space.id.clone()))
            .cloned()
            .unwrap_or_default();
        let want = want
            .get(&(email.clone(), name.clone()))
            .cloned()
            .unwrap_or_default();
        if !(live.is_empty() && want.is_empty()) {
            rows.push(AccessRow {
                key: name.clone(),
                status: status(email, &live, &want, desired),
                live,
                desired: want,
            });
        }
    }
    Ok(Explanation {
        subject: format!("user {email}"),
        notes,
        rows,
    })
}

/// The note for a person the policy singles out: ignored or protected.
fn policy_label(email: &Email, desired: &DesiredState) -> Option<String> {
    let principal = Principal::User(email.clone());
    if desired.policy.is_ignored(&principal) {
        Some("policy: ignored (policy.ignore): not managed by the file, never changed".to_string())
    } else if desired.policy.is_protected(&principal) {
        Some("policy: protected (policy.protected): never changed; a plan that would change them is refused".to_string())
    } else {
        None
    }
}

/// Everyone with access to the managed space `space` (its local name), live or desired.
pub fn explain_space(
    space: &str,
    desired: &DesiredState,
    live: &LiveState,
) -> Result<Explanation, ExplainError> {
    let Some(s) = desired.spaces.get(space) else {
        return Err(ExplainError::UnknownSpace(
            space.to_string(),
            desired
                .spaces
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ));
    };
    let mut rows: BTreeMap<Email, AccessRow> = BTreeMap::new();
    let row = |rows: &mut BTreeMap<Email, AccessRow>, e: &Email| -> AccessRow {
        rows.remove(e).unwrap_or_else(|| AccessRow {
            key: e.to_string(),
            live: Grants::default(),
            desired: Grants::default(),
            status: RowStatus::Matches,
        })
    };
    for ((email, space_id), g) in live_grants(live) {
        if space_id == s.id {
            let mut r = row(&mut rows, &email);
            r.live = g;
            rows.insert(email, r);
        }
    }
    for ((email, name), g) in desired_grants(desired) {
        if name == space {
            let mut r = row(&mut rows, &email);
            r.desired = g;
            rows.insert(email, r);
        }
    }
    let live_name = live
        .spaces
        .get(&s.id)
        .map(|l| format!("{:?}", l.name))
        .unwrap_or_else(|| "not found in the organization".to_string());
    let rows = rows
        .into_iter()
        .map(|(email, mut r)| {
            r.status = status(&email, &r.live, &r.desired, desired);
            r
        })
        .collect();
    Ok(Explanation {
        subject: format!("space {space}"),
        notes: vec![format!("space id: {} (live name: {live_name})", s.id)],
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> SpaceAccess {
        SpaceAccess::Roles(r.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn effective_access_is_admin_if_any_grant_is_else_the_union_of_roles() {
        let mut g = Grants {
            direct: Some(roles(&["Author"])),
            teams: BTreeMap::from([("editors".to_string(), roles(&["Editor", "Author"]))]),
        };
        assert_eq!(g.effective(), Some(roles(&["Author", "Editor"])));
        g.teams.insert("admins".into(), SpaceAccess::Admin);
        assert_eq!(g.effective(), Some(SpaceAccess::Admin));
        assert_eq!(Grants::default().effective(), None);
    }
}
