//! `doctor`'s report as text for people: one line per finding, `[severity] topic: message`, its
//! evidence indented below, and a closing line that says whether plan and apply can run. The JSON
//! document is [`super::report_json`] of the report.
//!
//! Pure: no I/O, no clock.

use std::fmt::Write as _;

use crate::doctor::{DoctorReport, Severity};

/// The report as text (no colour: severities are words, so a CI log reads the same).
pub fn doctor_text(report: &DoctorReport) -> String {
    let mut out = format!(
        "doctor: organization {} at {}\n\n",
        report.organization, report.api
    );
    for f in &report.findings {
        let _ = writeln!(
            out,
            "[{}] {}: {}",
            f.severity.as_str(),
            f.topic.as_str(),
            f.message
        );
        for e in &f.evidence {
            let _ = writeln!(out, "    {e}");
        }
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "\n{} blocker(s), {} warning(s), {} info; {} request(s) sent.",
        count(Severity::Blocker),
        count(Severity::Warning),
        count(Severity::Info),
        report.requests
    );
    out.push_str(if report.ready {
        "Plan and apply can run.\n"
    } else {
        "Plan and apply cannot run: fix the blockers above.\n"
    });
    out
}
