//! Renderers for the read-only reports of [`crate::report`]: drift, audit and explain, as text for
//! people, JSON for machines, markdown for issues and job summaries, and CSV for audits.
//!
//! Pure functions of the report: no I/O, no clock.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::plan::{HeldAccess, PendingInvite, PrincipalKind, Unmanaged};
use crate::report::audit::AuditReport;
use crate::report::drift::DriftReport;
use crate::report::explain::{Explanation, Grants, RowStatus};
use crate::report::{Document, Versioned};

/// The start of the first line of every markdown drift report:
/// `<!-- contentful-access:drift org=<id> -->`.
pub const DRIFT_MARKER_PREFIX: &str = "<!-- contentful-access:drift";

/// Markdown reports stop adding rows past this many characters (GitHub refuses comments and
/// issue bodies over 65,536), saying how many were left out.
pub const MARKDOWN_BUDGET: usize = 58_000;

/// A drift, audit or explain report as its versioned JSON document (pretty-printed):
/// `format_version` and `document` first, then the report's fields.
pub fn report_json<T: Document>(report: &T) -> String {
    match serde_json::to_string_pretty(&Versioned::new(report)) {
        Ok(s) => s,
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}

fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn provenance(by: Option<&str>, at: Option<&DateTime<Utc>>) -> Option<String> {
    match (by, at) {
        (Some(b), Some(a)) => Some(format!("last changed by {b} at {}", when(a))),
        (Some(b), None) => Some(format!("last changed by {b}")),
        (None, Some(a)) => Some(format!("last changed at {}", when(a))),
        (None, None) => None,
    }
}

fn held(access: &[HeldAccess]) -> String {
    access
        .iter()
        .map(|h| format!("{} {}", h.space_name, h.access))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unmanaged_line(u: &Unmanaged) -> String {
    let mut line = match u.kind {
        PrincipalKind::User => format!(
            "user {}{}",
            u.name,
            u.org_role.map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        PrincipalKind::Team => format!("team {}", u.name),
    };
    if !u.related.is_empty() {
        let label = match u.kind {
            PrincipalKind::User => "teams",
            PrincipalKind::Team => "members",
        };
        let _ = write!(line, "; {label}: {}", u.related.join(", "));
    }
    if !u.access.is_empty() {
        let _ = write!(line, "; access: {}", held(&u.access));
    }
    line
}

fn pending_line(p: &PendingInvite) -> String {
    match &p.invited_at {
        Some(at) => format!("{} ({}), invited {}", p.email, p.role, when(at)),
        None => format!("{} ({})", p.email, p.role),
    }
}

/// Drift as text: each difference as "the file says X, Contentful has Y", then unmanaged
/// principals and pending invitations.
pub fn drift_text(report: &DriftReport, config_display: &str) -> String {
    let mut out = String::new();
    let n = report.differences.len();
    if report.is_clean() {
        let _ = writeln!(
            out,
            "No drift: organization {} matches {config_display}.",
            report.organization
        );
    } else {
        let _ = writeln!(
            out,
            "Drift: organization {} does not match {config_display} ({n} difference{}).",
            report.organization,
            if n == 1 { "" } else { "s" }
        );
    }
    for d in &report.differences {
        out.push('\n');
        let _ = writeln!(out, "  {}", d.subject);
        let at = d
            .line
            .map(|l| {
                let file = d.included_file.as_deref().unwrap_or(config_display);
                format!("   ({file}:{l})")
            })
            .unwrap_or_default();
        let _ = writeln!(out, "    the file says:  {}{at}", d.file_says);
        let _ = writeln!(out, "    Contentful has: {}", d.contentful_has);
        if let Some(p) = provenance(d.changed_by.as_deref(), d.changed_at.as_ref()) {
            let _ = writeln!(out, "    {p}");
        }
    }
    if !report.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmanaged (live, not declared, left alone): {}",
            report.unmanaged.len()
        );
        for u in &report.unmanaged {
            let _ = writeln!(out, "  {}", unmanaged_line(u));
        }
    }
    if !report.pending.is_empty() {
        let _ = writeln!(out, "\nPending invitations: {}", report.pending.len());
        for p in &report.pending {
            let _ = writeln!(out, "  {}", pending_line(p));
        }
    }
    out
}

/// Escapes text for a markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Drift as markdown for an issue body or `$GITHUB_STEP_SUMMARY`. The first line is always
/// `<!-- contentful-access:drift org=<id> -->`.
pub fn drift_markdown(report: &DriftReport, config_display: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{DRIFT_MARKER_PREFIX} org={} -->",
        cell(&report.organization)
    );
    let n = report.differences.len();
    if report.is_clean() {
        let _ = writeln!(
            out,
            "### ✅ No access drift in `{}`",
            cell(&report.organization)
        );
        out.push('\n');
        let _ = writeln!(out, "The organization matches `{}`.", cell(config_display));
    } else {
        let _ = writeln!(
            out,
            "### ⚠️ Access drift in `{}`: {n} difference{}",
            cell(&report.organization),
            if n == 1 { "" } else { "s" }
        );
        out.push('\n');
        let _ = writeln!(
            out,
            "Contentful no longer matches `{}`. Run `contentful-access plan` to see the changes that \
             restore it, or update the file to accept them.",
            cell(config_display)
        );
        out.push('\n');
        let _ = writeln!(
            out,
            "| What | The file says | Contentful has | Last changed by | Last changed at |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for (i, d) in report.differences.iter().enumerate() {
            if out.len() > MARKDOWN_BUDGET {
                let _ = writeln!(
                    out,
                    "\n… and {} more differences, cut to stay within GitHub's comment size; \
                     `contentful-access drift --format json` lists them all.",
                    report.differences.len() - i
                );
                break;
            }
            let line = d
                .line
                .map(|l| {
                    let file = d.included_file.as_deref().unwrap_or(config_display);
                    format!(" ({}:{l})", cell(file))
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {}{line} | {} | {} | {} |",
                cell(&d.subject),
                cell(&d.file_says),
                cell(&d.contentful_has),
                d.changed_by.as_deref().map(cell).unwrap_or_default(),
                d.changed_at.as_ref().map(when).unwrap_or_default(),
            );
        }
    }
    if !report.unmanaged.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "<details><summary>Unmanaged principals (live, not declared, left alone): {}</summary>\n",
            report.unmanaged.len()
        );
        for (i, u) in report.unmanaged.iter().enumerate() {
            if out.len() > MARKDOWN_BUDGET {
                let _ = writeln!(out, "- … and {} more", report.unmanaged.len() - i);
                break;
            }
            let _ = writeln!(out, "- {}", cell(&unmanaged_line(u)));
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !report.pending.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "<details><summary>Pending invitations: {}</summary>\n",
            report.pending.len()
        );
        for (i, p) in report.pending.iter().enumerate() {
            if out.len() > MARKDOWN_BUDGET {
                let _ = writeln!(out, "- … and {} more", report.pending.len() - i);
                break;
            }
            let _ = writeln!(out, "- {}", cell(&pending_line(p)));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

/// The audit as text: the seat count, then each finding with its evidence.
pub fn audit_text(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Audit of organization {} at {} (inactive after {} days): {} finding{} to act on.",
        report.organization,
        when(&report.now),
        report.inactive_days,
        report.actionable(),
        if report.actionable() == 1 { "" } else { "s" }
    );
    for f in &report.findings {
        out.push('\n');
        let _ = writeln!(out, "  [{}] {}: {}", f.kind, f.subject, f.message);
        for e in &f.evidence {
            let _ = writeln!(out, "      - {e}");
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The audit as CSV: a header, then one row per finding (`kind,subject,message,evidence`), the
/// evidence joined with `; `.
pub fn audit_csv(report: &AuditReport) -> String {
    let mut out = String::from("kind,subject,message,evidence\n");
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            f.kind,
            csv_field(&f.subject),
            csv_field(&f.message),
            csv_field(&f.evidence.join("; "))
        );
    }
    out
}

/// The audit as markdown: a table of findings with their evidence.
pub fn audit_markdown(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- contentful-access:audit org={} -->",
        cell(&report.organization)
    );
    let _ = writeln!(
        out,
        "### Access audit of `{}`: {} finding{} to act on",
        cell(&report.organization),
        report.actionable(),
        if report.actionable() == 1 { "" } else { "s" }
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "As of {} · inactive after {} days",
        when(&report.now),
        report.inactive_days
    );
    out.push('\n');
    let _ = writeln!(out, "| Finding | Subject | What | Evidence |");
    let _ = writeln!(out, "|---|---|---|---|");
    for (i, f) in report.findings.iter().enumerate() {
        if out.len() > MARKDOWN_BUDGET {
            let _ = writeln!(
                out,
                "\n… and {} more findings, cut to stay within GitHub's comment size; \
                 `--format csv` or `--format json` lists them all.",
                report.findings.len() - i
            );
            break;
        }
        let evidence: Vec<String> = f.evidence.iter().map(|e| cell(e)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            f.kind,
            cell(&f.subject),
            cell(&f.message),
            evidence.join("<br>")
        );
    }
    out
}

fn grants_line(g: &Grants) -> String {
    if g.is_empty() {
        return "no access".to_string();
    }
    let mut parts = Vec::new();
    if let Some(d) = &g.direct {
        parts.push(format!("{d} directly"));
    }
    for (team, a) in &g.teams {
        parts.push(format!("{a} through team {team}"));
    }
    let effective = g
        .effective()
        .map(|e| format!(" → effective {e}"))
        .unwrap_or_default();
    format!("{}{effective}", parts.join("; "))
}

/// An explanation as text: one block per space (or person), live and as the file wants it.
pub fn explain_text(e: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", e.subject);
    for n in &e.notes {
        let _ = writeln!(out, "  {n}");
    }
    if e.rows.is_empty() {
        let _ = writeln!(
            out,
            "\n  No access in any managed space, live or in the file."
        );
    }
    for r in &e.rows {
        out.push('\n');
        let status = match r.status {
            RowStatus::Matches => "",
            RowStatus::Differs => "   (differs)",
            RowStatus::Unmanaged => {
                "   (differs, but not managed by the file: left alone, prune is off)"
            }
            RowStatus::Ignored => "   (ignored: policy.ignore, never managed)",
            RowStatus::Protected => {
                "   (differs; protected: never changed, a plan that would is refused)"
            }
        };
        let _ = writeln!(out, "  {}{status}", r.key);
        let _ = writeln!(out, "    live: {}", grants_line(&r.live));
        let _ = writeln!(out, "    file: {}", grants_line(&r.desired));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::drift::{Aspect, Difference, State, Who};

    #[test]
    fn drift_markdown_of_a_huge_drift_stays_under_githubs_limit_and_says_what_it_cut() {
        let d = Difference {
            subject: "someone@example.com in space marketing".into(),
            file_says: "[Editor, Translator]".into(),
            contentful_has: "[Author]".into(),
            who: Who::User {
                email: crate::model::Email::new("someone@example.com"),
            },
            aspect: Aspect::SpaceAccess,
            space: Some("marketing".into()),
            team: None,
            file: State::Absent,
            contentful: State::Absent,
            changed_by: Some("admin@example.com".into()),
            changed_at: None,
            line: Some(12),
            included_file: None,
            fix: "update_space_membership".into(),
        };
        let report = DriftReport {
            organization: "o".into(),
            config_path: "a.yaml".into(),
            differences: vec![d; 5_000],
            pending: vec![],
            unmanaged: vec![],
        };
        let md = drift_markdown(&report, "a.yaml");
        assert!(md.len() < 65_536, "{}", md.len());
        let cut = md.lines().find(|l| l.starts_with("… and ")).unwrap();
        let shown = md.lines().filter(|l| l.starts_with("| someone@")).count();
        assert_eq!(
            cut,
            format!(
                "… and {} more differences, cut to stay within GitHub's comment size; `contentful-access drift --format json` lists them all.",
                5_000 - shown
            )
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b`c<d>\nx"), "a\\|b\\`c&lt;d&gt; x");
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
