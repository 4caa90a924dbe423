//! Read-only reports over an organization: drift (what differs from the access file), audit
//! (findings an admin should act on) and explain (how one person or one space gets its access).
//!
//! Everything here is pure: the live state, the desired state, the plan and "now" are passed in, so
//! the same inputs always give the same report. Renderers live in [`crate::render`].

pub mod audit;
pub mod drift;
pub mod explain;

use serde::Serialize;

use crate::model::{Email, LiveState, ObjectMeta};

/// The version of the JSON documents of drift, audit and explain (`format_version`). It changes
/// only when a field is removed or changes meaning; new fields may appear within a version.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// A report written as a versioned JSON document: `{"format_version": 1, "document": KIND, …}`
/// followed by the report's own fields.
pub trait Document: Serialize {
    /// The `document` field: `drift`, `audit` or `explain`.
    const KIND: &'static str;
}

impl Document for drift::DriftReport {
    const KIND: &'static str = "drift";
}

impl Document for audit::AuditReport {
    const KIND: &'static str = "audit";
}

impl Document for explain::Explanation {
    const KIND: &'static str = "explain";
}

/// A report with its version and kind in front, as [`Document`] describes.
#[derive(Debug, Serialize)]
pub struct Versioned<'a, T: Document> {
    /// Always [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// [`Document::KIND`].
    pub document: &'static str,
    /// The report's own fields, flattened into the document.
    #[serde(flatten)]
    pub report: &'a T,
}

impl<'a, T: Document> Versioned<'a, T> {
    /// Wraps `report`.
    pub fn new(report: &'a T) -> Self {
        Versioned {
            format_version: REPORT_FORMAT_VERSION,
            document: T::KIND,
            report,
        }
    }
}

/// Who last changed a live object and when, as far as the API says (`sys.updatedBy`,
/// `sys.updatedAt`). The user id is turned into an email when the user is in the organization.
pub(crate) fn changed_by(
    live: &LiveState,
    meta: &ObjectMeta,
) -> (Option<String>, Option<chrono::DateTime<chrono::Utc>>) {
    let who = meta.updated_by.as_ref().map(|id| {
        live.users
            .get(id)
            .map(|u| u.email.to_string())
            .unwrap_or_else(|| format!("user {id}"))
    });
    (who, meta.updated_at)
}

/// The email of a user id, when the user is known.
pub(crate) fn email_of(live: &LiveState, user_id: &str) -> Option<Email> {
    live.users.get(user_id).map(|u| u.email.clone())
}
