//! The invitations collection as Contentful's web app uses it (undocumented):
//! `GET /organizations/{org}/invitations` lists the open invitations and
//! `DELETE /organizations/{org}/invitations/{id}` revokes one, which removes the pending
//! organization membership it created (with its team and space memberships). Creating and
//! reading one invitation live in `organizations`.

use super::World;
use super::access::{require_admin, require_owner};
use super::error::{ApiError, R};
use super::query::{ListQuery, list_of};
use super::routes::{Call, Reply, no_content, ok};
use crate::model::{MembershipStatus, OrgRole};
use crate::sandbox::seed::SeedInvitation;

/// `GET /organizations/:org/invitations`: open invitations (their membership still pending), in
/// creation order.
pub(super) fn list(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    let items: Vec<&SeedInvitation> = w
        .invitations
        .in_order()
        .filter(|i| w.open_invitation(i).is_some())
        .collect();
    ok(list_of(items, &lq, |i| w.invitation_json(i, (None, None))))
}

/// `DELETE /organizations/:org/invitations/:id`: revokes an open invitation. An accepted one is
/// no longer an invitation (404); an owner's invitation needs an owner, as for removing an
/// owner's membership.
pub(super) fn delete(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let id = c.param(1).to_string();
    let om = w
        .invitations
        .get(&id)
        .and_then(|i| w.open_invitation(i))
        .cloned()
        .ok_or_else(|| ApiError::not_found("Invitation", &id))?;
    if om.role == OrgRole::Owner {
        require_owner(&c.caller, "revoke an owner's invitation")?;
    }
    w.remove_org_membership(&om);
    w.invitations.remove(&id);
    no_content()
}

impl World {
    /// The pending membership of an invitation that is still open.
    fn open_invitation(
        &self,
        i: &SeedInvitation,
    ) -> Option<&crate::sandbox::seed::SeedOrgMembership> {
        self.oms
            .get(&i.org_membership)
            .filter(|m| m.status == MembershipStatus::Pending)
    }
}
