//! The create shape: POST, and after a 422 duplicate or a lost answer, look for the object by its
//! natural key in its collection read again.

use std::sync::Arc;

use super::failures::{failure, not_applied, unknown};
use super::shapes::{Conflict, Find};
use super::{CONFIRMED, Ctx, Done, NOT_APPLIED, NotDone, UNKNOWN};
use crate::contentful::request::Request;
use crate::contentful::{Client, ReadScope};
use crate::plan::OpId;

/// POST; on a 422 duplicate or a lost answer, look for the object by its natural key in the
/// collection (`scope`) read again. A lost answer whose object is not there is sent again (the
/// check comes first, so a retry never creates a duplicate of a create that landed). The 422s of
/// one level share one re-read per scope, the role creates' of every space one read of the
/// organization's roles ([`Ctx::shared_reread`]); a lost answer reads afresh (its own space's
/// roles), since it must see its own resend.
pub(super) async fn create(
    ctx: &Ctx<'_>,
    op: &OpId,
    req: &Request,
    find: &Find<'_>,
    conflict: Option<&Conflict<'_>>,
    (scope, roles_of): (ReadScope, Option<&str>),
) -> Result<Done, NotDone> {
    let mut resends = 0;
    loop {
        let result = ctx
            .write(
                op,
                req,
                async |c: &Client, r: &Request| c.send_create(r).await,
                |id: &String| Some(id.clone()),
            )
            .await;
        let e = match result {
            Ok(id) => return Ok(Done::written(Some(id))),
            Err(e) => e,
        };
        let duplicate = e.status() == Some(422);
        if !duplicate && !e.response_lost() {
            return Err(failure(&e, None).into());
        }
        let reread = if duplicate {
            ctx.shared_reread(scope, roles_of).await
        } else {
            ctx.reread(scope, roles_of)
                .await
                .map(Arc::new)
                .map_err(Arc::new)
        };
        let live = match reread {
            Ok(live) => live,
            Err(e2) if duplicate => return Err(failure(&e2, None).into()),
            Err(e2) => {
                ctx.resolved(op, req, None, UNKNOWN);
                return Err(unknown(&e, &e2, None));
            }
        };
        // Someone else's object holds the natural key: never taken for this one, and a resend
        // would only be refused as a duplicate.
        let theirs = || conflict.and_then(|c| c(&live));
        match find(&live) {
            Some(id) if duplicate => return Ok(Done::already(Some(id))),
            Some(id) => {
                ctx.resolved(op, req, Some(&id), CONFIRMED);
                return Ok(Done::confirmed(Some(id)));
            }
            None if duplicate => {
                let mut f = failure(&e, None);
                if let Some(why) = theirs() {
                    f.message = format!("{}: {why}", f.message);
                }
                return Err(f.into());
            }
            None if let Some(why) = theirs() => {
                ctx.resolved(op, req, None, NOT_APPLIED);
                let mut f = not_applied(&e, None);
                f.message = format!("{}: {why}", f.message);
                return Err(f.into());
            }
            None => ctx.resend(op, req, &e, None, &mut resends)?,
        }
    }
}
