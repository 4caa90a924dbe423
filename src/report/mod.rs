//! Read-only reports over an organization: drift (what differs from the access file), audit
//! (findings an admin should act on) and explain (how one person or one space gets its access).
//!
//! Everything here is pure: the live state, the desired state, the plan and "now" are passed in, so
//! the same inputs always give the same report. Renderers live in [`crate::render`].

pub mod audit;
pub mod drift;
pub mod explain;

use crate::model::{Email, LiveState, ObjectMeta};

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
