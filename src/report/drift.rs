//! Drift: every way the live organization differs from the access file, phrased as "the file says
//! X, Contentful has Y" rather than as actions, with who made the live change and when where the
//! API records it.
//!
//! Drift is computed from a [`Plan`]: a non-empty plan is drift, and each operation is one
//! difference. Pending invitations and unmanaged principals are carried along for the report; they
//! are not drift (the file allows them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Email, LiveState, ObjectMeta, OrgRole, SpaceAccess};
use crate::plan::{OpKind, Operation, PendingInvite, Plan, Unmanaged};

use super::changed_by;

/// Whose access differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Who {
    /// A user, by email.
    User {
        /// The user's email.
        email: Email,
    },
    /// A team, by name.
    Team {
        /// The team's name.
        name: String,
    },
    /// A custom role, by name.
    Role {
        /// The role's name.
        name: String,
    },
}

/// Which part of someone's access differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// Membership of the organization (a user) or existence (a team).
    Membership,
    /// A user's organization role.
    OrgRole,
    /// A team's description.
    Description,
    /// A user's membership of a team (the team is [`Difference::team`]).
    TeamMembership,
    /// Access to a space (the space is [`Difference::space`]): a user's direct access, or a team's.
    SpaceAccess,
    /// A custom role's definition (permissions, policies, description).
    RoleDefinition,
}

/// One side of a difference (the file's or Contentful's), as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Not there: not a member, no such team, not in the team, no (direct) access.
    Absent,
    /// The file does not declare it and `policy.prune` is on, so it should not exist.
    NotDeclared,
    /// There (a team, a team membership).
    Present,
    /// A member of the organization with this role.
    Member {
        /// The organization role.
        role: OrgRole,
    },
    /// This organization role.
    OrgRole {
        /// The organization role.
        role: OrgRole,
    },
    /// This team description.
    Description {
        /// The description.
        description: String,
    },
    /// This access to the space.
    Access {
        /// `"admin"` or `{"roles": [...]}`.
        access: SpaceAccess,
    },
}

/// One difference between the access file and Contentful.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// What differs, e.g. `org role of bob@acme.example` or `team editors in space blog`.
    pub subject: String,
    /// What the access file says, in words ([`Difference::file`] as data).
    pub file_says: String,
    /// What Contentful has, in words ([`Difference::contentful`] as data).
    pub contentful_has: String,
    /// Whose access differs.
    pub who: Who,
    /// Which part of it.
    pub aspect: Aspect,
    /// The space (its name in the access file) for [`Aspect::SpaceAccess`].
    pub space: Option<String>,
    /// The team for [`Aspect::TeamMembership`].
    pub team: Option<String>,
    /// What the access file says.
    pub file: State,
    /// What Contentful has.
    pub contentful: State,
    /// Who last changed the live object (email, or `user ID` when not in the organization), when
    /// the API says so. Absent when the live object does not exist.
    pub changed_by: Option<String>,
    /// When the live object was last changed, when the API says so.
    pub changed_at: Option<DateTime<Utc>>,
    /// The line of the access file that asks for it (absent for what the file does not declare).
    pub line: Option<u32>,
    /// The included file that line is in (absent: the access file itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_file: Option<String>,
    /// The plan operation kind that would remove the difference (`change_org_role`, …).
    pub fix: String,
}

/// The drift of one organization against one access file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The organization id.
    pub organization: String,
    /// The access file, as given on the command line.
    pub config_path: String,
    /// Every difference, in plan order.
    pub differences: Vec<Difference>,
    /// Pending invitations of declared users (not drift).
    pub pending: Vec<PendingInvite>,
    /// Live principals the file does not declare and leaves alone (not drift).
    pub unmanaged: Vec<Unmanaged>,
}

impl DriftReport {
    /// True when the organization matches the file (no differences).
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// The drift that `plan` (built from the file and `live`) shows. Removals planned because an
/// `expires` has passed are not drift.
pub fn drift(plan: &Plan, live: &LiveState) -> DriftReport {
    DriftReport {
        organization: plan.organization.clone(),
        config_path: plan.config_path.clone(),
        // An operation with a reason (access whose `expires` has passed) is the file's own
        // schedule, and a re-sent invitation is Contentful's clock: neither is a change someone
        // made in Contentful, so neither is drift.
        differences: plan
            .operations
            .iter()
            .filter(|op| op.reason.is_none() && !matches!(op.kind, OpKind::Reinvite { .. }))
            .map(|op| {
                let mut d = difference(op, live);
                d.included_file = op
                    .cause
                    .and_then(|c| plan.included_file(c))
                    .map(str::to_string);
                d
            })
            .collect(),
        pending: plan.pending.clone(),
        unmanaged: plan.unmanaged.clone(),
    }
}

fn difference(op: &Operation, live: &LiveState) -> Difference {
    let mut meta: Option<&ObjectMeta> = None;
    let user = |email: &Email| Who::User {
        email: email.clone(),
    };
    let team = |name: &str| Who::Team {
        name: name.to_string(),
    };
    let team_grant = |t: &str, space: &str, file, contentful| {
        let subject = format!("team {t} in space {space}");
        access_row(subject, team(t), file, contentful, "no access")
    };
    let user_grant = |email: &Email, space: &str, file, contentful| {
        let subject = format!("{email} in space {space}");
        access_row(subject, user(email), file, contentful, "no direct access")
    };
    let mut space = None;
    let mut in_team = None;
    let (subject, who, aspect, file, contentful, file_says, contentful_has): Row = match &op.kind {
        OpKind::Invite { email, role, .. } => (
            format!("user {email}"),
            user(email),
            Aspect::Membership,
            State::Member { role: *role },
            State::Absent,
            format!("member of the organization as {role}"),
            "not a member of the organization".to_string(),
        ),
        OpKind::Reinvite {
            email,
            role,
            membership,
            ..
        } => {
            meta = Some(membership);
            (
                format!("invitation of {email}"),
                user(email),
                Aspect::Membership,
                State::Member { role: *role },
                State::Member { role: *role },
                format!("member of the organization as {role}"),
                "invited, the invitation expired".to_string(),
            )
        }
        OpKind::ChangeOrgRole {
            email,
            membership,
            from,
            to,
        } => {
            meta = Some(membership);
            (
                format!("org role of {email}"),
                user(email),
                Aspect::OrgRole,
                State::OrgRole { role: *to },
                State::OrgRole { role: *from },
                to.to_string(),
                from.to_string(),
            )
        }
        OpKind::RemoveOrgMember {
            email,
            membership,
            role,
            cascades,
        } => {
            meta = Some(membership);
            (
                format!("user {email}"),
                user(email),
                Aspect::Membership,
                State::NotDeclared,
                State::Member { role: *role },
                "not declared (policy.prune: true)".to_string(),
                with_count(
                    format!("member of the organization as {role}"),
                    cascades.len(),
                ),
            )
        }
        OpKind::CreateTeam { name, .. } => (
            format!("team {name}"),
            team(name),
            Aspect::Membership,
            State::Present,
            State::Absent,
            "exists".to_string(),
            "no such team".to_string(),
        ),
        OpKind::UpdateTeam {
            team: meta_of_team,
            name,
            description_before,
            description_after,
        } => {
            meta = Some(meta_of_team);
            (
                format!("description of team {name}"),
                team(name),
                Aspect::Description,
                State::Description {
                    description: description_after.clone(),
                },
                State::Description {
                    description: description_before.clone(),
                },
                format!("{description_after:?}"),
                format!("{description_before:?}"),
            )
        }
        OpKind::DeleteTeam {
            team: meta_of_team,
            name,
            cascades,
        } => {
            meta = Some(meta_of_team);
            (
                format!("team {name}"),
                team(name),
                Aspect::Membership,
                State::NotDeclared,
                State::Present,
                "not declared (policy.prune: true)".to_string(),
                with_count("exists".to_string(), cascades.len()),
            )
        }
        OpKind::AddTeamMember {
            team_name, email, ..
        } => {
            in_team = Some(team_name.clone());
            (
                format!("{email} in team {team_name}"),
                user(email),
                Aspect::TeamMembership,
                State::Present,
                State::Absent,
                "member".to_string(),
                "not a member".to_string(),
            )
        }
        OpKind::RemoveTeamMember {
            team_name,
            email,
            team_membership,
            ..
        } => {
            meta = Some(team_membership);
            in_team = Some(team_name.clone());
            (
                format!("{email} in team {team_name}"),
                user(email),
                Aspect::TeamMembership,
                State::Absent,
                State::Present,
                "not a member".to_string(),
                "member".to_string(),
            )
        }
        OpKind::CreateTeamSpaceMembership {
            team_name,
            space_name,
            access: wanted,
            ..
        } => {
            space = Some(space_name.clone());
            team_grant(team_name, space_name, Some(wanted), None)
        }
        OpKind::UpdateTeamSpaceMembership {
            team_name,
            space_name,
            tsm,
            before,
            after,
            ..
        } => {
            meta = Some(tsm);
            space = Some(space_name.clone());
            team_grant(team_name, space_name, Some(after), Some(before))
        }
        OpKind::DeleteTeamSpaceMembership {
            team_name,
            space_name,
            tsm,
            before,
            ..
        } => {
            meta = Some(tsm);
            space = Some(space_name.clone());
            team_grant(team_name, space_name, None, Some(before))
        }
        OpKind::CreateSpaceMembership {
            email,
            space_name,
            access: wanted,
            ..
        } => {
            space = Some(space_name.clone());
            user_grant(email, space_name, Some(wanted), None)
        }
        OpKind::UpdateSpaceMembership {
            email,
            space_name,
            space_membership,
            before,
            after,
            ..
        } => {
            meta = Some(space_membership);
            space = Some(space_name.clone());
            user_grant(email, space_name, Some(after), Some(before))
        }
        OpKind::DeleteSpaceMembership {
            email,
            space_name,
            space_membership,
            before,
            ..
        } => {
            meta = Some(space_membership);
            space = Some(space_name.clone());
            user_grant(email, space_name, None, Some(before))
        }
        OpKind::CreateRole {
            name, space_name, ..
        } => {
            space = Some(space_name.clone());
            role_row(
                name,
                space_name,
                (State::Present, "declared".to_string()),
                (State::Absent, "no such role".to_string()),
            )
        }
        OpKind::UpdateRole {
            name,
            space_name,
            role,
            changes,
            ..
        } => {
            meta = Some(role);
            space = Some(space_name.clone());
            role_row(
                name,
                space_name,
                (State::Present, "the declared definition".to_string()),
                (
                    State::Present,
                    format!("another definition ({})", changes.headlines().join("; ")),
                ),
            )
        }
        OpKind::DeleteRole {
            name,
            space_name,
            role,
            ..
        } => {
            meta = Some(role);
            space = Some(space_name.clone());
            role_row(
                name,
                space_name,
                (
                    State::NotDeclared,
                    "not declared (policy.prune_roles: true)".to_string(),
                ),
                (State::Present, "a role".to_string()),
            )
        }
    };
    let (changed_by, changed_at) = meta.map(|m| changed_by(live, m)).unwrap_or((None, None));
    Difference {
        subject,
        file_says,
        contentful_has,
        who,
        aspect,
        space,
        team: in_team,
        file,
        contentful,
        changed_by,
        changed_at,
        line: op.cause.map(|s| s.line),
        included_file: None,
        fix: op.kind.name().to_string(),
    }
}

/// One difference's subject, who it is about, aspect, the file's and Contentful's state (as data)
/// and the same two as text.
type Row = (String, Who, Aspect, State, State, String, String);

/// The row of a space grant (a user's or a team's): what the file wants and what Contentful has,
/// `None` for no grant at all (shown as `none`).
fn access_row(
    subject: String,
    who: Who,
    file: Option<&SpaceAccess>,
    contentful: Option<&SpaceAccess>,
    none: &str,
) -> Row {
    let state =
        |a: Option<&SpaceAccess>| a.map_or(State::Absent, |a| State::Access { access: a.clone() });
    let text = |a: Option<&SpaceAccess>| a.map_or_else(|| none.to_string(), ToString::to_string);
    (
        subject,
        who,
        Aspect::SpaceAccess,
        state(file),
        state(contentful),
        text(file),
        text(contentful),
    )
}

/// The row of a custom role in a space: the file's state and text, then Contentful's.
fn role_row(
    name: &str,
    space_name: &str,
    (file, file_says): (State, String),
    (contentful, contentful_has): (State, String),
) -> Row {
    (
        format!("role {name} in space {space_name}"),
        Who::Role {
            name: name.to_string(),
        },
        Aspect::RoleDefinition,
        file,
        contentful,
        file_says,
        contentful_has,
    )
}

fn with_count(text: String, cascades: usize) -> String {
    match cascades {
        0 => text,
        1 => format!("{text} (with 1 team or space membership)"),
        n => format!("{text} (with {n} team or space memberships)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Email, LiveUser, OrgRole};
    use crate::plan::{Action, OpId};

    #[test]
    fn a_role_change_names_who_made_it_by_email_or_by_id() {
        let mut live = LiveState::default();
        live.users.insert(
            "u1".into(),
            LiveUser {
                id: "u1".into(),
                email: Email::new("boss@x.example"),
                first_name: None,
                last_name: None,
                activated: true,
            },
        );
        let mut membership = ObjectMeta::new("m1", 4);
        membership.updated_by = Some("u1".into());
        let op = |membership: ObjectMeta| Operation {
            id: OpId::nth(1),
            action: Action::Change,
            kind: OpKind::ChangeOrgRole {
                email: Email::new("a@x.example"),
                membership,
                from: OrgRole::Admin,
                to: OrgRole::Member,
            },
            depends_on: vec![],
            cause: None,
            reason: None,
            touches: vec![],
        };
        let d = difference(&op(membership.clone()), &live);
        assert_eq!(d.subject, "org role of a@x.example");
        assert_eq!(
            (d.file_says.as_str(), d.contentful_has.as_str()),
            ("member", "admin")
        );
        assert_eq!(d.changed_by.as_deref(), Some("boss@x.example"));
        // The same, as data.
        assert_eq!(d.aspect, Aspect::OrgRole);
        assert_eq!(
            (&d.file, &d.contentful),
            (
                &State::OrgRole {
                    role: OrgRole::Member
                },
                &State::OrgRole {
                    role: OrgRole::Admin
                }
            )
        );
        membership.updated_by = Some("gone".into());
        let d = difference(&op(membership), &live);
        assert_eq!(d.changed_by.as_deref(), Some("user gone"));
    }
}
