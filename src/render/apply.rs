//! Renderers for what `apply` produces: the per-operation report ([`apply_report_text`]), and why a
//! saved plan was refused ([`refusal_text`], [`staleness_line`]). Pure functions of the data, with
//! colour only when the caller asks for it.

use std::fmt::Write as _;

use anstyle::Style;

use super::style::{ADD, CHANGE, ERROR, REMOVE, SUCCESS, WARNING, paint};
use crate::apply::{
    ApplyReport, MismatchReason, OpFailure, OpOutcome, OpStatus, Refusal, Staleness,
};
use crate::plan::{GuardrailResult, ObjectKind};

/// The report as text: one line per operation (`✓` applied, `=` already as desired, `✗` failed
/// with status, object id and request id, `-` skipped with the failure it waited for), then
/// [`ApplyReport::last_line`]. Colour only when `color` is true.
pub fn apply_report_text(report: &ApplyReport, color: bool) -> String {
    let paint = |style: Style, s: &str| paint(style, s, color);
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
                    paint(ADD, "✓"),
                    o.id,
                    o.description
                );
            }
            OpStatus::Applied {
                already_done: false,
                ..
            } => {
                let _ = writeln!(out, "{} {} {sign} {}", paint(ADD, "✓"), o.id, o.description);
            }
            OpStatus::Applied {
                already_done: true, ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (already as desired)",
                    paint(ADD, "="),
                    o.id,
                    o.description
                );
            }
            OpStatus::Failed(f) => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {}",
                    paint(REMOVE, "✗"),
                    o.id,
                    o.description
                );
                let _ = writeln!(out, "    failed{}: {}", facts(f), f.message);
            }
            OpStatus::Unknown(f) => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (OUTCOME UNKNOWN: check it by hand)",
                    paint(ERROR, "?"),
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
                    paint(CHANGE, "-"),
                    o.id,
                    o.description
                );
            }
            OpStatus::NotStarted => {
                let _ = writeln!(
                    out,
                    "{} {} {sign} {} (not started: stopped)",
                    paint(CHANGE, "-"),
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
                WARNING,
                &format!(
                    "Stopped: {reason}. Operations in flight finished; {} not started. Plan again to see what is left.",
                    report.not_started().count()
                )
            )
        );
    }
    let last = report.last_line();
    let last = if report.succeeded() {
        paint(SUCCESS, &last)
    } else {
        paint(ERROR, &last)
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

/// Why a saved plan was refused, for people: what was refused and why, one reason per line,
/// ending with a newline. `plan_path` names the saved plan, `config_path` the access file.
pub fn refusal_text(refusal: &Refusal, plan_path: &str, config_path: &str) -> String {
    let mut s = String::new();
    let guardrails = |s: &mut String, failed: &[GuardrailResult]| {
        for g in failed {
            let _ = writeln!(s, "  {}: {}", g.name, g.message);
        }
    };
    match refusal {
        Refusal::MarkedRefused { failed } => {
            let _ = writeln!(
                s,
                "error: the saved plan {plan_path} was refused by guardrails and is never applied:"
            );
            guardrails(&mut s, failed);
        }
        Refusal::OtherOrganization { plan, file } => {
            let _ = writeln!(
                s,
                "error: the saved plan {plan_path} is for organization {plan}, but {config_path} manages {file}; nothing was written."
            );
        }
        Refusal::Stale(list) => {
            let _ = writeln!(
                s,
                "error: the saved plan {plan_path} is out of date; nothing was written:"
            );
            for st in list {
                let _ = writeln!(s, "  - {}", staleness_line(st));
            }
            s.push_str("Run plan again and review the new plan.\n");
        }
        Refusal::Guardrails(failed) => {
            let _ = writeln!(
                s,
                "error: the saved plan {plan_path} is refused: planned again from {config_path} and the organization as it is now, it breaks guardrails; nothing was written:"
            );
            guardrails(&mut s, failed);
        }
        Refusal::Operations(list) => {
            let _ = writeln!(
                s,
                "error: the saved plan {plan_path} does not match what {config_path} asks for now; nothing was written:"
            );
            for m in list {
                let why = match &m.reason {
                    MismatchReason::NotAsked => {
                        format!("{config_path} does not ask for this")
                    }
                    MismatchReason::Differs { wanted } => {
                        format!("{config_path} asks for this instead: {wanted}")
                    }
                    MismatchReason::Repeats { first } => {
                        format!("it repeats {first}, which {config_path} asks for once")
                    }
                    MismatchReason::MissingDependency { needs } => {
                        format!(
                            "it must wait for \"{needs}\", which the saved plan does not run before it"
                        )
                    }
                };
                let _ = writeln!(s, "  - {} ({}): {why}", m.id, m.description);
            }
            s.push_str("Run plan again and review the new plan.\n");
        }
        Refusal::Unreviewed(list) => {
            let _ = writeln!(
                s,
                "error: planned now, {config_path} asks for operations the reviewed plan {plan_path} does not have; nothing was written:"
            );
            for u in list {
                match &u.reviewed_instead {
                    Some(r) => {
                        let _ = writeln!(
                            s,
                            "  - {} ({}): the reviewed plan had this instead: {r}",
                            u.id, u.description
                        );
                    }
                    None => {
                        let _ = writeln!(s, "  - {} ({}): not reviewed", u.id, u.description);
                    }
                }
            }
            s.push_str(
                "The organization or the file changed since the review. Plan again and review the new plan.\n",
            );
        }
    }
    s
}

/// One line saying what made a saved plan stale.
pub fn staleness_line(s: &Staleness) -> String {
    match s {
        Staleness::TooOld {
            created_at,
            max_age_secs,
        } => format!(
            "the plan was made at {} and is older than the allowed {}",
            created_at.to_rfc3339(),
            human_duration(*max_age_secs)
        ),
        Staleness::FromTheFuture { created_at, now } => format!(
            "the plan is dated {}, later than now ({}): its age cannot be checked",
            created_at.to_rfc3339(),
            now.to_rfc3339()
        ),
        Staleness::ConfigChanged {
            path,
            planned,
            current,
        } => format!(
            "{path} changed since the plan was made (sha256 {} → {})",
            short(planned),
            short(current)
        ),
        Staleness::ObjectChanged {
            kind,
            id,
            planned,
            current,
            updated_by,
            updated_at,
        } => format!(
            "{} {id} changed: version {planned} → {current}, by {} at {}",
            kind_name(*kind),
            updated_by.as_deref().unwrap_or("an unknown user"),
            updated_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "an unknown time".to_string())
        ),
        Staleness::ObjectGone { kind, id } => {
            format!("{} {id} no longer exists", kind_name(*kind))
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn human_duration(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::OrgMembership => "organization membership",
        ObjectKind::Team => "team",
        ObjectKind::TeamMembership => "team membership",
        ObjectKind::TeamSpaceMembership => "team space membership",
        ObjectKind::SpaceMembership => "space membership",
        ObjectKind::Role => "role",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::StopReason;
    use crate::plan::{Action, OpId};

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
        let text = apply_report_text(&r, false);
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
        let text = apply_report_text(&r, false);
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

    use chrono::{DateTime, Utc};

    #[test]
    fn staleness_lines_say_what_changed_by_whom_and_when() {
        let s = Staleness::ObjectChanged {
            kind: ObjectKind::SpaceMembership,
            id: "sm1".into(),
            planned: 3,
            current: 4,
            updated_by: Some("user-7".into()),
            updated_at: None,
        };
        assert_eq!(
            staleness_line(&s),
            "space membership sm1 changed: version 3 → 4, by user-7 at an unknown time"
        );
        let s = Staleness::TooOld {
            created_at: DateTime::<Utc>::MIN_UTC,
            max_age_secs: 86_400,
        };
        assert!(staleness_line(&s).ends_with("older than the allowed 24h"));
    }
}
