//! Pure renderers that turn a [`Plan`] into text for a terminal, JSON for machines and saved plans,
//! or markdown for pull-request comments; and the reports of `apply`, drift, audit, explain and
//! doctor.
//!
//! Every function here is `fn(&Plan, &Options) -> String`: no I/O, no clock, no terminal
//! detection. Whether to colour is decided by the caller and passed in [`RenderOptions::color`].

mod apply;
mod doctor;
mod markdown;
mod report;
pub mod style;
mod text;

pub use apply::{apply_report_text, refusal_text, staleness_line};
pub use doctor::doctor_text;
pub use markdown::{MARKER_PREFIX, MAX_CHARS as MARKDOWN_MAX_CHARS, plan_markdown};
pub use report::{
    DRIFT_MARKER_PREFIX, MARKDOWN_BUDGET, audit_csv, audit_markdown, audit_text, drift_markdown,
    drift_text, explain_text, report_json,
};
pub use text::{SUMMARY_THRESHOLD, plan_text};

use crate::plan::{Plan, WaitingUser};

/// `jane@acme.example as member, teams: design, space blog [Editor]`: a user waiting for
/// provisioning and the access that will follow.
pub(crate) fn waiting_line(w: &WaitingUser) -> String {
    let mut parts = vec![format!("{} as {}", w.email, w.org_role)];
    if !w.teams.is_empty() {
        parts.push(format!("teams: {}", w.teams.join(", ")));
    }
    for a in &w.access {
        parts.push(format!("space {} {}", a.space_name, a.access));
    }
    parts.join(", ")
}

/// How to render a plan for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Use ANSI colours (green add, yellow change, red remove). Markdown ignores it.
    pub color: bool,
    /// The terminal width, measured by the caller ([`style::terminal_width`]): long messages
    /// wrap to it (minimum 40).
    pub width: usize,
    /// How to name the access file in messages, e.g. `access.yaml`.
    pub config_display: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: style::DEFAULT_WIDTH,
            config_display: "access.yaml".to_string(),
        }
    }
}

/// The plan as a pretty-printed, versioned JSON document with a stable key order (struct field
/// order; maps sorted). `serde_json::from_str::<Plan>` reads it back unchanged.
pub fn plan_json(plan: &Plan) -> String {
    match serde_json::to_string_pretty(plan) {
        Ok(s) => s,
        // Unreachable for this type (all map keys are strings); kept total rather than panicking.
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::{FORMAT_VERSION, Summary};
    use chrono::TimeZone;

    #[test]
    fn json_of_an_empty_plan_reads_back() {
        let plan = Plan {
            format_version: FORMAT_VERSION,
            organization: "org".into(),
            config_path: "access.yaml".into(),
            config_sha256: "ab".into(),
            config_included: vec![],
            created_at: chrono::Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .unwrap(),
            operations: vec![],
            levels: vec![],
            guardrails: vec![],
            refused: false,
            pending: vec![],
            unmanaged: vec![],
            waiting: vec![],
            unmanaged_roles: vec![],
            summary: Summary::default(),
        };
        let json = plan_json(&plan);
        assert!(json.contains("\"format_version\": 1"));
        assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
    }
}
