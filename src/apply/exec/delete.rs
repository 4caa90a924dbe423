//! The delete shape: re-read the object, refuse if it changed since the plan, DELETE with the
//! version read; an object already gone is done.

use super::failures::{changed_during_apply, failure, unknown};
use super::shapes::{Target, Versioned};
use super::{CONFIRMED, Ctx, Done, NotDone, UNKNOWN};
use crate::contentful::Client;
use crate::contentful::request::Request;
use crate::model::ObjectMeta;
use crate::plan::OpId;

/// Re-reads the object right before deleting it (one GET, or the level's read of its collection
/// when that was fewer requests, see [`read_before_deletes`]): gone is done, a version that moved
/// since the plan is refused as changed during apply, otherwise DELETE with the version just
/// read. The window between that GET and the DELETE remains; `X-Contentful-Version` on the
/// DELETE closes it where Contentful checks the version on deletes (unconfirmed).
pub(super) async fn delete(
    ctx: &Ctx<'_>,
    op: &OpId,
    target: &Target,
    planned: &ObjectMeta,
    request: &Versioned<'_>,
) -> Result<Done, NotDone> {
    let id = target.id();
    // From the level's read of the collection when there is one and it has the object; an
    // object missing from it is read on its own (a page read while others delete may skip it).
    let paged = ctx
        .before_delete
        .as_ref()
        .filter(|(kinds, _)| kinds.contains(&target.kind()))
        .and_then(|(_, live)| crate::apply::stale::seen_in(live, target.kind(), id))
        .map(|(meta, _)| meta);
    let cur = match paged {
        Some(meta) => meta,
        None => match target.read(ctx.client, ctx.org).await {
            Ok(cur) => cur.meta,
            Err(e) if e.is_not_found() => return Ok(Done::already(None)),
            Err(e) => return Err(failure(&e, Some(id)).into()),
        },
    };
    // A team planned at version 0 came from a list without versions: nothing to compare.
    let unversioned = planned.version == 0 && matches!(target, Target::Team { .. });
    if !unversioned && cur.version != planned.version {
        return Err(changed_during_apply(&cur, planned.version, ctx.names).into());
    }
    let version = cur.version;
    let mut resends = 0;
    loop {
        let req = request(version);
        let result = ctx
            .write(
                op,
                &req,
                async |c: &Client, r: &Request| c.send_delete(r).await,
                |_: &()| None,
            )
            .await;
        let e = match result {
            Ok(()) => return Ok(Done::written(None)),
            Err(e) if e.is_not_found() => return Ok(Done::already(None)),
            Err(e) => e,
        };
        let lost = e.response_lost();
        if !lost && !e.is_version_mismatch() {
            return Err(failure(&e, Some(id)).into());
        }
        let now = match target.read(ctx.client, ctx.org).await {
            Ok(now) => now,
            Err(e2) if e2.is_not_found() && lost => {
                ctx.resolved(op, &req, Some(id), CONFIRMED);
                return Ok(Done::confirmed(None));
            }
            Err(e2) if e2.is_not_found() => return Ok(Done::already(None)),
            Err(e2) if lost => {
                ctx.resolved(op, &req, Some(id), UNKNOWN);
                return Err(unknown(&e, &e2, Some(id)));
            }
            Err(e2) => return Err(failure(&e2, Some(id)).into()),
        };
        if lost && now.meta.version == version {
            ctx.resend(op, &req, &e, Some(id), &mut resends)?;
            continue;
        }
        return Err(changed_during_apply(&now.meta, planned.version, ctx.names).into());
    }
}
