//! The result of an apply, per operation (applied, failed with Contentful's status, object id and
//! `requestId`, or skipped because of which failure), and its plain-text rendering.

use std::fmt::Write as _;

use serde::Serialize;

use super::StopReason;
use crate::plan::{Action, OpId, OpKind};

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpFailure {
    /// HTTP status, when Contentful answered.
    pub status: Option<u16>,
    /// `sys.id` of the object the operation wrote, when it had one.
    pub object_id: Option<String>,
    /// Contentful's `requestId`, for support.
    pub request_id: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// What happened to one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OpStatus {
    /// Done: written now, or found already as desired (after a conflict or a duplicate).
    Applied {
        /// True when nothing had to be written because the object was already as desired.
        already_done: bool,
        /// `sys.id` of what the operation created, when it created something.
        object_id: Option<String>,
        /// True when the write's response was lost (a 5xx from a proxy, a dropped connection, a
        /// timeout) and re-reading the object showed the write had been applied.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        confirmed_after_lost_response: bool,
    },
    /// Failed (not applied); its dependents were skipped.
    Failed(OpFailure),
    /// The write's response was lost and re-reading the object failed too: it may or may not
    /// have been applied. Its dependents were skipped; check the object by hand.
    Unknown(OpFailure),
    /// Not attempted because an operation it depends on (directly or not) failed or has an
    /// unknown outcome.
    Skipped {
        /// The failed (or unknown) operation.
        because: OpId,
    },
    /// Not attempted because the run was stopped ([`ApplyReport::stopped`]) before it started.
    NotStarted,
}

/// One operation's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpOutcome {
    /// The operation's id.
    pub id: OpId,
    /// Add, change or remove.
    pub action: Action,
    /// The kind's name (`invite`, `change_org_role`, …).
    pub kind: String,
    /// One line saying what the operation does.
    pub description: String,
    /// What happened.
    pub status: OpStatus,
}

/// What [`super::apply`] did: every operation of the plan, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The organization id.
    pub organization: String,
    /// One outcome per operation.
    pub outcomes: Vec<OpOutcome>,
    /// Why the run stopped before starting every operation, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
}

impl ApplyReport {
    /// Applied operations as (added, changed, removed).
    pub fn applied_counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for o in &self.outcomes {
            if matches!(o.status, OpStatus::Applied { .. }) {
                match o.action {
                    Action::Add => c.0 += 1,
                    Action::Change => c.1 += 1,
                    Action::Remove => c.2 += 1,
                }
            }
        }
        c
    }

    /// The failed operations.
    pub fn failed(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Failed(_)))
    }

    /// The skipped operations.
    pub fn skipped(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Skipped { .. }))
    }

    /// The operations whose outcome is unknown (response lost, re-read failed).
    pub fn unknown(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::Unknown(_)))
    }

    /// The operations not started because the run stopped.
    pub fn not_started(&self) -> impl Iterator<Item = &OpOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, OpStatus::NotStarted))
    }

    /// True when every operation was applied (nothing failed, unknown, skipped or not started).
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none()
            && self
                .outcomes
                .iter()
                .all(|o| matches!(o.status, OpStatus::Applied { .. }))
    }

    /// The last line: `Apply complete: X added, Y changed, Z removed.`,
    /// `Apply failed: N of M operations failed, K skipped.` (with `U outcome unknown` when some
    /// are), or `Apply stopped (interrupted): …` naming how many were not started.
    pub fn last_line(&self) -> String {
        if self.succeeded() {
            let (a, c, r) = self.applied_counts();
            return format!("Apply complete: {a} added, {c} changed, {r} removed.");
        }
        let unknown = self.unknown().count();
        let unknown = if unknown > 0 {
            format!(", {unknown} OUTCOME UNKNOWN")
        } else {
            String::new()
        };
        let counts = format!(
            "{} of {} operations failed{unknown}, {} skipped",
            self.failed().count(),
            self.outcomes.len(),
            self.skipped().count()
        );
        match self.stopped {
            Some(reason) => {
                let applied = self
                    .outcomes
                    .iter()
                    .filter(|o| matches!(o.status, OpStatus::Applied { .. }))
                    .count();
                format!(
                    "Apply stopped ({reason}): {applied} applied, {counts}, {} not started.",
                    self.not_started().count()
                )
            }
            None => format!("Apply failed: {counts}."),
        }
    }
}

/// One line saying what an operation does, e.g. `invite nina@acme.example as member`.
pub fn describe(kind: &OpKind) -> String {
    match kind {
        OpKind::Invite { email, role, .. } => format!("invite {email} as {role}"),
        OpKind::Reinvite { email, .. } => {
            format!("send {email} a new invitation (the last one expired)")
        }
        OpKind::ChangeOrgRole {
            email, from, to, ..
        } => format!("change org role of {email}: {from} → {to}"),
        OpKind::RemoveOrgMember { email, .. } => format!("remove {email} from the organization"),
        OpKind::CreateTeam { name, .. } => format!("create team {name}"),
        OpKind::UpdateTeam {
            name,
            description_after,
            ..
        } => format!("set description of team {name} to {description_after:?}"),
        OpKind::DeleteTeam { name, .. } => format!("delete team {name}"),
        OpKind::AddTeamMember {
            team_name, email, ..
        } => format!("add {email} to team {team_name}"),
        OpKind::RemoveTeamMember {
            team_name, email, ..
        } => format!("remove {email} from team {team_name}"),
        OpKind::CreateTeamSpaceMembership {
            team_name,
            space_name,
            access,
            ..
        } => format!("give team {team_name} {access} in space {space_name}"),
        OpKind::UpdateTeamSpaceMembership {
            team_name,
            space_name,
            before,
            after,
            ..
        } => format!("change team {team_name} in space {space_name}: {before} → {after}"),
        OpKind::DeleteTeamSpaceMembership {
            team_name,
            space_name,
            ..
        } => format!("take team {team_name}'s access to space {space_name} away"),
        OpKind::CreateSpaceMembership {
            email,
            space_name,
            access,
            ..
        } => format!("give {email} {access} in space {space_name}"),
        OpKind::UpdateSpaceMembership {
            email,
            space_name,
            before,
            after,
            ..
        } => format!("change {email} in space {space_name}: {before} → {after}"),
        OpKind::DeleteSpaceMembership {
            email, space_name, ..
        } => format!("take {email}'s direct access to space {space_name} away"),
    }
}

/// The report as text: one line per operation (`✓` applied, `=` already as desired, `✗` failed
/// with status, object id and request id, `-` skipped with the failure it waited for), then
/// [`ApplyReport::last_line`]. Colour only when `color` is true.
pub fn render_report(report: &ApplyReport, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for o in &report.outcomes {
        let sign = o.action.sign();
        match &o.status {
            OpStatus::Applied {
                already_done: false,
                confirmed_after_lost_response: true,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (applied: confirmed after a lost response)",
                    paint("32", "✓"),
                    o.id,
                    o.description
                );
            }
            OpStatus::Applied {
                already_done: false,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {}",
                    paint("32", "✓"),
                    o.id,
                    o.description
                );
            }
            OpStatus::Applied {
                already_done: true, ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (already as desired)",
                    paint("32", "="),
                    o.id,
                    o.description
                );
            }
            OpStatus::Failed(f) => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {}",
                    paint("31", "✗"),
                    o.id,
                    o.description
                );
                let _ = writeln!(out, "    failed{}: {}", facts(f), f.message);
            }
            OpStatus::Unknown(f) => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (OUTCOME UNKNOWN: check it by hand)",
                    paint("1;31", "?"),
                    o.id,
                    o.description
                );
                let _ = writeln!(out, "    outcome unknown{}: {}", facts(f), f.message);
            }
            OpStatus::Skipped { because } => {
                let why = match report.outcomes.iter().find(|x| &x.id == because) {
                    Some(OpOutcome {
                        status: OpStatus::Unknown(_),
                        ..
                    }) => "whose outcome is unknown",
                    _ => "which failed",
                };
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (skipped: waits for {because}, {why})",
                    paint("33", "-"),
                    o.id,
                    o.description
                );
            }
            OpStatus::NotStarted => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (not started: stopped)",
                    paint("33", "-"),
                    o.id,
                    o.description
                );
            }
        }
    }
    if let Some(reason) = report.stopped {
        let _ = writeln!(
            out,
            "{}",
            paint(
                "1;33",
                &format!(
                    "Stopped: {reason}. Operations in flight finished; {} not started. Plan again to see what is left.",
                    report.not_started().count()
                )
            )
        );
    }
    let last = report.last_line();
    let last = if report.succeeded() {
        paint("1;32", &last)
    } else {
        paint("1;31", &last)
    };
    let _ = writeln!(out, "{last}");
    out
}

/// `[status 409, sys.id sm1, requestId req-9]`, or nothing when no fact is known.
fn facts(f: &OpFailure) -> String {
    let mut facts = Vec::new();
    if let Some(s) = f.status {
        facts.push(format!("status {s}"));
    }
    if let Some(id) = &f.object_id {
        facts.push(format!("sys.id {id}"));
    }
    if let Some(r) = &f.request_id {
        facts.push(format!("requestId {r}"));
    }
    if facts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", facts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: usize, action: Action, status: OpStatus) -> OpOutcome {
        OpOutcome {
            id: OpId::nth(id),
            action,
            kind: "x".into(),
            description: format!("thing {id}"),
            status,
        }
    }

    #[test]
    fn last_line_counts_applied_by_action_or_failures_and_skips() {
        let ok = || OpStatus::Applied {
            already_done: false,
            object_id: None,
            confirmed_after_lost_response: false,
        };
        let mut r = ApplyReport {
            organization: "o".into(),
            outcomes: vec![
                outcome(1, Action::Add, ok()),
                outcome(2, Action::Add, ok()),
                outcome(3, Action::Remove, ok()),
            ],
            stopped: None,
        };
        assert_eq!(
            r.last_line(),
            "Apply complete: 2 added, 0 changed, 1 removed."
        );
        r.outcomes.push(outcome(
            4,
            Action::Change,
            OpStatus::Failed(OpFailure {
                status: Some(409),
                object_id: Some("sm1".into()),
                request_id: Some("req-9".into()),
                message: "boom".into(),
            }),
        ));
        r.outcomes.push(outcome(
            5,
            Action::Add,
            OpStatus::Skipped {
                because: OpId::nth(4),
            },
        ));
        assert_eq!(
            r.last_line(),
            "Apply failed: 1 of 5 operations failed, 1 skipped."
        );
        let text = render_report(&r, false);
        assert!(text.contains("failed [status 409, sys.id sm1, requestId req-9]: boom"));
        assert!(text.contains("op-005 + thing 5 (skipped: waits for op-004, which failed)"));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn a_stopped_run_names_its_reason_the_unknown_and_the_not_started() {
        let r = ApplyReport {
            organization: "o".into(),
            outcomes: vec![
                outcome(
                    1,
                    Action::Add,
                    OpStatus::Applied {
                        already_done: false,
                        object_id: Some("om1".into()),
                        confirmed_after_lost_response: true,
                    },
                ),
                outcome(
                    2,
                    Action::Add,
                    OpStatus::Unknown(OpFailure {
                        status: Some(502),
                        object_id: None,
                        request_id: None,
                        message: "response lost; re-reading failed too".into(),
                    }),
                ),
                outcome(
                    3,
                    Action::Add,
                    OpStatus::Skipped {
                        because: OpId::nth(2),
                    },
                ),
                outcome(4, Action::Remove, OpStatus::NotStarted),
            ],
            stopped: Some(StopReason::Interrupted),
        };
        assert!(!r.succeeded());
        assert_eq!(
            r.last_line(),
            "Apply stopped (interrupted): 1 applied, 0 of 4 operations failed, 1 OUTCOME UNKNOWN, 1 skipped, 1 not started."
        );
        let text = render_report(&r, false);
        assert!(text.contains("op-001 + thing 1 (applied: confirmed after a lost response)"));
        assert!(text.contains("op-002 + thing 2 (OUTCOME UNKNOWN: check it by hand)"));
        assert!(text.contains("outcome unknown [status 502]: response lost"));
        assert!(text.contains("(skipped: waits for op-002, whose outcome is unknown)"));
        assert!(text.contains("op-004 - thing 4 (not started: stopped)"));
        assert!(
            text.contains("Stopped: interrupted. Operations in flight finished; 1 not started.")
        );
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["stopped"]["reason"], "interrupted");
        assert_eq!(
            json["outcomes"][0]["status"]["confirmed_after_lost_response"],
            true
        );
        assert_eq!(json["outcomes"][3]["status"]["status"], "not_started");
    }
}
