//! Reading a level's collections once before its deletes, when that is fewer requests than one
//! `GET` per deleted object.

use std::collections::{BTreeMap, BTreeSet};

use crate::contentful::Client;
use crate::model::LiveState;
use crate::plan::{ObjectKind, OpKind, Operation};

/// The kind of object a delete operation removes; `None` for other operations, and for teams
/// (few, and a team list item may lack the `sys.version` the DELETE needs).
fn deleted_kind(kind: &OpKind) -> Option<ObjectKind> {
    match kind {
        OpKind::RemoveOrgMember { .. } => Some(ObjectKind::OrgMembership),
        OpKind::RemoveTeamMember { .. } => Some(ObjectKind::TeamMembership),
        OpKind::DeleteTeamSpaceMembership { .. } => Some(ObjectKind::TeamSpaceMembership),
        OpKind::DeleteSpaceMembership { .. } => Some(ObjectKind::SpaceMembership),
        _ => None,
    }
}

/// A level's deletes re-read each object first. When a level deletes more objects of one kind
/// than its collection has pages, the collection is read once for all of them (the same rule as
/// a saved plan's staleness check, [`super::stale`]): 300 deleted space memberships in an
/// organization of 8 pages cost 9 reads, not 300 (issue 20). A failed read falls back to the
/// per-object reads, which report their own failures.
pub(super) async fn read_before_deletes(
    client: &Client,
    org: &str,
    ops: &[&Operation],
) -> Option<(BTreeSet<ObjectKind>, LiveState)> {
    let mut per_kind: BTreeMap<ObjectKind, usize> = BTreeMap::new();
    for kind in ops.iter().filter_map(|op| deleted_kind(&op.kind)) {
        *per_kind.entry(kind).or_default() += 1;
    }
    if per_kind
        .values()
        .all(|&n| n <= crate::apply::stale::PER_OBJECT_UP_TO)
    {
        return None;
    }
    match crate::apply::stale::read_by_pages(client, org, &per_kind).await {
        Ok(read) => read,
        Err(e) => {
            tracing::debug!(error = %e, "reading the collections before deletes failed; reading each object instead");
            None
        }
    }
}
