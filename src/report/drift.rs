//! Drift: every way the live organization differs from the access file, phrased as "the file says
//! X, Contentful has Y" rather than as actions, with who made the live change and when where the
//! API records it.
//!
//! Drift is computed from a [`Plan`]: a non-empty plan is drift, and each operation is one
//! difference. Pending invitations and unmanaged principals are carried along for the report; they
//! are not drift (the file allows them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{LiveState, ObjectMeta};
use crate::plan::{OpKind, Operation, PendingInvite, Plan, Unmanaged};

use super::changed_by;

/// One difference between the access file and Contentful.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// What differs, e.g. `org role of bob@acme.example` or `team editors in space blog`.
    pub subject: String,
    /// What the access file says.
    pub file_says: String,
    /// What Contentful has.
    pub contentful_has: String,
    /// Who last changed the live object (email, or `user ID` when not in the organization), when
    /// the API says so. Absent when the live object does not exist.
    pub changed_by: Option<String>,
    /// When the live object was last changed, when the API says so.
    pub changed_at: Option<DateTime<Utc>>,
    /// The line of the access file that asks for it (absent for what the file does not declare).
    pub line: Option<u32>,
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

/// The drift that `plan` (built from the file and `live`) shows.
pub fn drift(plan: &Plan, live: &LiveState) -> DriftReport {
    DriftReport {
        organization: plan.organization.clone(),
        config_path: plan.config_path.clone(),
        differences: plan
            .operations
            .iter()
            .map(|op| difference(op, live))
            .collect(),
        pending: plan.pending.clone(),
        unmanaged: plan.unmanaged.clone(),
    }
}

fn difference(op: &Operation, live: &LiveState) -> Difference {
    let mut meta: Option<&ObjectMeta> = None;
    let (subject, file_says, contentful_has) = match &op.kind {
        OpKind::Invite { email, role, .. } => (
            format!("user {email}"),
            format!("member of the organization as {role}"),
            "not a member of the organization".to_string(),
        ),
        OpKind::ChangeOrgRole {
            email,
            membership,
            from,
            to,
        } => {
            meta = Some(membership);
            (
                format!("org role of {email}"),
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
                "not declared (policy.prune: true)".to_string(),
                with_count(
                    format!("member of the organization as {role}"),
                    cascades.len(),
                ),
            )
        }
        OpKind::CreateTeam { name, .. } => (
            format!("team {name}"),
            "exists".to_string(),
            "no such team".to_string(),
        ),
        OpKind::UpdateTeam {
            team,
            name,
            description_before,
            description_after,
        } => {
            meta = Some(team);
            (
                format!("description of team {name}"),
                format!("{description_after:?}"),
                format!("{description_before:?}"),
            )
        }
        OpKind::DeleteTeam {
            team,
            name,
            cascades,
        } => {
            meta = Some(team);
            (
                format!("team {name}"),
                "not declared (policy.prune: true)".to_string(),
                with_count("exists".to_string(), cascades.len()),
            )
        }
        OpKind::AddTeamMember {
            team_name, email, ..
        } => (
            format!("{email} in team {team_name}"),
            "member".to_string(),
            "not a member".to_string(),
        ),
        OpKind::RemoveTeamMember {
            team_name,
            email,
            team_membership,
            ..
        } => {
            meta = Some(team_membership);
            (
                format!("{email} in team {team_name}"),
                "not a member".to_string(),
                "member".to_string(),
            )
        }
        OpKind::CreateTeamSpaceMembership {
            team_name,
            space_name,
            access,
            ..
        } => (
            format!("team {team_name} in space {space_name}"),
            access.to_string(),
            "no access".to_string(),
        ),
        OpKind::UpdateTeamSpaceMembership {
            team_name,
            space_name,
            tsm,
            before,
            after,
            ..
        } => {
            meta = Some(tsm);
            (
                format!("team {team_name} in space {space_name}"),
                after.to_string(),
                before.to_string(),
            )
        }
        OpKind::DeleteTeamSpaceMembership {
            team_name,
            space_name,
            tsm,
            before,
            ..
        } => {
            meta = Some(tsm);
            (
                format!("team {team_name} in space {space_name}"),
                "no access".to_string(),
                before.to_string(),
            )
        }
        OpKind::CreateSpaceMembership {
            email,
            space_name,
            access,
            ..
        } => (
            format!("{email} in space {space_name}"),
            access.to_string(),
            "no direct access".to_string(),
        ),
        OpKind::UpdateSpaceMembership {
            email,
            space_name,
            space_membership,
            before,
            after,
            ..
        } => {
            meta = Some(space_membership);
            (
                format!("{email} in space {space_name}"),
                after.to_string(),
                before.to_string(),
            )
        }
        OpKind::DeleteSpaceMembership {
            email,
            space_name,
            space_membership,
            before,
            ..
        } => {
            meta = Some(space_membership);
            (
                format!("{email} in space {space_name}"),
                "no direct access".to_string(),
                before.to_string(),
            )
        }
    };
    let (changed_by, changed_at) = meta.map(|m| changed_by(live, m)).unwrap_or((None, None));
    Difference {
        subject,
        file_says,
        contentful_has,
        changed_by,
        changed_at,
        line: op.cause.map(|s| s.line),
        fix: op.kind.name().to_string(),
    }
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
            touches: vec![],
        };
        let d = difference(&op(membership.clone()), &live);
        assert_eq!(d.subject, "org role of a@x.example");
        assert_eq!(
            (d.file_says.as_str(), d.contentful_has.as_str()),
            ("member", "admin")
        );
        assert_eq!(d.changed_by.as_deref(), Some("boss@x.example"));
        membership.updated_by = Some("gone".into());
        let d = difference(&op(membership), &live);
        assert_eq!(d.changed_by.as_deref(), Some("user gone"));
    }
}
