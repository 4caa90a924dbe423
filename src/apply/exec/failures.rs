//! The words of an operation's failure: the request that failed and Contentful's answer, an
//! object gone, a lost answer re-read, and an object someone else changed during the apply.

use std::collections::BTreeMap;

use super::NotDone;
use crate::apply::report::OpFailure;
use crate::contentful::ContentfulError;
use crate::model::ObjectMeta;

pub(super) fn failure(e: &ContentfulError, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        status: e.status(),
        object_id: object_id.map(str::to_string),
        request_id: e.request_id().map(str::to_string),
        message: e.to_string(),
    }
}

pub(super) fn plain_failure(message: String, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        status: None,
        object_id: object_id.map(str::to_string),
        request_id: None,
        message,
    }
}

pub(super) fn gone(e: &ContentfulError, id: &str) -> OpFailure {
    plain_failure(format!("{e}; the object no longer exists"), Some(id))
}

/// The write's answer was lost and re-reading showed it was not applied.
pub(super) fn not_applied(e: &ContentfulError, object_id: Option<&str>) -> OpFailure {
    OpFailure {
        message: format!(
            "{e}; the response was lost and a re-read shows the change was not applied"
        ),
        ..failure(e, object_id)
    }
}

/// The write's answer was lost and re-reading failed too.
pub(super) fn unknown(
    e: &ContentfulError,
    reread: &ContentfulError,
    object_id: Option<&str>,
) -> NotDone {
    NotDone::Unknown(OpFailure {
        message: format!(
            "{e}; the response was lost and re-reading failed too ({reread}): the change may or may not have been applied, check it and plan again"
        ),
        ..failure(e, object_id)
    })
}

/// The failure for an object someone else changed while this run was under way.
pub(super) fn changed_during_apply(
    meta: &ObjectMeta,
    planned: u64,
    names: &BTreeMap<String, String>,
) -> OpFailure {
    let by = match meta.updated_by.as_deref() {
        Some(id) => match names.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_string(),
        },
        None => "an unknown user".to_string(),
    };
    let at = meta
        .updated_at
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "an unknown time".to_string());
    OpFailure {
        status: Some(409),
        object_id: Some(meta.id.clone()),
        request_id: None,
        message: format!(
            "changed during apply by {by} at {at} (now version {}, planned against {planned}); not overwritten, plan again",
            meta.version
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn a_conflicting_edit_names_who_and_when() {
        let mut meta = ObjectMeta::new("sm1", 7);
        meta.updated_by = Some("user-42".into());
        meta.updated_at = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .ok()
            .map(|t| t.with_timezone(&Utc));
        let names = [("user-42".to_string(), "carla@acme.example".to_string())].into();
        let f = changed_during_apply(&meta, 5, &names);
        assert_eq!(f.status, Some(409));
        assert_eq!(f.object_id.as_deref(), Some("sm1"));
        assert!(f.message.contains(
            "changed during apply by carla@acme.example (user-42) at 2026-11-23T08:00:00"
        ));
        let f = changed_during_apply(&meta, 5, &BTreeMap::new());
        assert!(f.message.contains("by user-42 at "));
        assert!(f.message.contains("now version 7, planned against 5"));
    }
}
