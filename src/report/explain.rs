//! Explain: the effective access of one person in each managed space (direct, and through which
//! team), live and as the access file wants it; or everyone with access to one managed space.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{DesiredState, Email, LiveState, MembershipStatus, SpaceAccess};

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

/// One person's access to one space, live and desired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRow {
    /// The person (for a space explanation) or the space's local name (for a person's).
    pub key: String,
    /// What Contentful has.
    pub live: Grants,
    /// What the access file wants (for a declared person; for an undeclared one: nothing).
    pub desired: Grants,
}

impl AccessRow {
    /// True when live and desired agree.
    pub fn matches(&self) -> bool {
        self.live == self.desired
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

/// The access of `email` in every managed space of the file, live and desired.
pub fn explain_user(email: &Email, desired: &DesiredState, live: &LiveState) -> Explanation {
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
        None => notes.push("file: not declared".to_string()),
    }
    let mut rows = Vec::new();
    for (name, space) in &desired.spaces {
        let row = AccessRow {
            key: name.clone(),
            live: live_g
                .get(&(email.clone(), space.id.clone()))
                .cloned()
                .unwrap_or_default(),
            desired: want
                .get(&(email.clone(), name.clone()))
                .cloned()
                .unwrap_or_default(),
        };
        if !(row.live.is_empty() && row.desired.is_empty()) {
            rows.push(row);
        }
    }
    Explanation {
        subject: format!("user {email}"),
        notes,
        rows,
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
    Ok(Explanation {
        subject: format!("space {space}"),
        notes: vec![format!("space id: {} (live name: {live_name})", s.id)],
        rows: rows.into_values().collect(),
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
