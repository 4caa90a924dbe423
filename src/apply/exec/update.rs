//! The update shape: PUT with the planned `sys.version`; a 409 or a lost answer re-reads the
//! object and never overwrites someone else's change.

use super::failures::{changed_during_apply, failure, gone, unknown};
use super::shapes::{Content, Target, Versioned};
use super::{CONFIRMED, Ctx, Done, NotDone, UNKNOWN};
use crate::contentful::Client;
use crate::contentful::request::Request;
use crate::model::ObjectMeta;
use crate::plan::OpId;

/// PUT with the planned version. A 409 re-reads: already as wanted is done, anything else was
/// changed by someone else and is not overwritten. A lost answer re-reads: as wanted is applied,
/// unchanged is sent again, changed is refused, unreadable is unknown.
pub(super) async fn update(
    ctx: &Ctx<'_>,
    op: &OpId,
    target: &Target,
    planned: &ObjectMeta,
    before: Option<Content>,
    wanted: &Content,
    request: &Versioned<'_>,
) -> Result<Done, NotDone> {
    let id = target.id();
    let mut version = planned.version;
    // Team list items may come without `sys.version` (read as 0), so a team planned at
    // version 0 is read once first: unchanged since the plan, its real version is used.
    if version == 0
        && let Some(before) = &before
    {
        match target.read(ctx.client, ctx.org).await {
            Ok(cur) if cur.content.satisfies(wanted) => return Ok(Done::already(None)),
            Ok(cur) if cur.content.satisfies(before) => version = cur.meta.version,
            Ok(cur) => {
                return Err(changed_during_apply(&cur.meta, planned.version, ctx.names).into());
            }
            Err(e) => return Err(failure(&e, Some(id)).into()),
        }
    }
    let mut resends = 0;
    loop {
        let req = request(version);
        let result = ctx
            .write(
                op,
                &req,
                async |c: &Client, r: &Request| c.send_update(r).await,
                |m: &ObjectMeta| Some(m.id.clone()),
            )
            .await;
        let e = match result {
            Ok(_) => return Ok(Done::written(None)),
            Err(e) => e,
        };
        if e.is_not_found() {
            return Err(gone(&e, id).into());
        }
        let lost = e.response_lost();
        if !lost && !e.is_version_mismatch() {
            return Err(failure(&e, Some(id)).into());
        }
        let cur = match target.read(ctx.client, ctx.org).await {
            Ok(cur) => cur,
            Err(e2) if e2.is_not_found() => return Err(gone(&e, id).into()),
            Err(e2) if lost => {
                ctx.resolved(op, &req, Some(id), UNKNOWN);
                return Err(unknown(&e, &e2, Some(id)));
            }
            Err(e2) => return Err(failure(&e2, Some(id)).into()),
        };
        if cur.content.satisfies(wanted) {
            if lost {
                ctx.resolved(op, &req, Some(id), CONFIRMED);
                return Ok(Done::confirmed(None));
            }
            return Ok(Done::already(None));
        }
        if lost && cur.meta.version == version {
            ctx.resend(op, &req, &e, Some(id), &mut resends)?;
            continue;
        }
        return Err(changed_during_apply(&cur.meta, planned.version, ctx.names).into());
    }
}
