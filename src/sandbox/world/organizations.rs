//! Handlers for the organization itself, its users, organization memberships (role changes,
//! removal with its cascade, the last-owner rule), invitations and the access-token listing.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::World;
use super::access::{require_admin, require_owner};
use super::body::{check_keys, check_version, check_version_if_sent, missing, opt_str};
use super::error::{ApiError, R};
use super::query::{
    ListQuery, collection, dated, filter_ok, page_of, sort_generic, sys_key, user_sort_key, window,
};
use super::routes::{Call, Reply, created, no_content, ok};
use super::store::{fill, touch};
use super::views::{status_str, token_json, ts};
use crate::model::{Email, MembershipStatus, OrgRole};
use crate::sandbox::seed::{SeedAccessToken, SeedInvitation, SeedOrgMembership, SeedSys, SeedUser};

/// `GET /organizations`
pub(super) fn list(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    let items = if c.caller.role.is_some() {
        vec![w.org_json()]
    } else {
        vec![]
    };
    ok(page_of(items, &lq))
}

/// `GET /organizations/:org`
pub(super) fn get(w: &mut World, _c: &Call) -> R<Reply> {
    ok(w.org_json())
}

/// `GET /users/me`
pub(super) fn me(w: &mut World, c: &Call) -> R<Reply> {
    let u = w
        .users
        .get(&c.caller.user)
        .ok_or_else(|| ApiError::not_found("User", "me"))?;
    ok(w.user_json(u))
}

/// `GET /organizations/:org/users`
pub(super) fn list_users(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    if lq.is_plain() {
        let (page, total) = window(&w.oms, &w.oms.order, &lq);
        let page = page
            .into_iter()
            .filter_map(|m| w.users.get(&m.user).map(|u| w.user_json(u)))
            .collect();
        return ok(collection(page, total, &lq));
    }
    let items: Vec<&SeedOrgMembership> = w
        .oms
        .in_order()
        .filter(|m| w.matches_query(&lq, &m.user))
        .collect();
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(lq.skip)
        .take(lq.limit)
        .filter_map(|m| w.users.get(&m.user).map(|u| w.user_json(u)))
        .collect();
    ok(collection(page, total, &lq))
}

/// `GET /organizations/:org/users/:id`
pub(super) fn get_user(w: &mut World, c: &Call) -> R<Reply> {
    let id = c.param(1);
    if !w.om_by_user.contains_key(id) {
        return Err(ApiError::not_found("User", id));
    }
    let u = w
        .users
        .get(id)
        .ok_or_else(|| ApiError::not_found("User", id))?;
    ok(w.user_json(u))
}

/// `GET /organizations/:org/organization_memberships`
pub(super) fn list_memberships(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &["role", "sys.status", "sys.user.sys.id"],
        &[
            "role",
            "sys.createdAt",
            "sys.updatedAt",
            "sys.lastActiveAt",
            "sys.user.firstName",
            "sys.user.lastName",
            "sys.user.email",
        ],
    )?;
    if lq.is_plain() {
        let (page, total) = window(&w.oms, &w.oms.order, &lq);
        return ok(w.om_page(page, total, &lq));
    }
    let items: Vec<&SeedOrgMembership> = w
        .oms
        .in_order()
        .filter(|m| {
            w.matches_query(&lq, &m.user)
                && lq.filters.iter().all(|(path, op, vals)| {
                    let v = match path.as_str() {
                        "role" => m.role.as_str(),
                        "sys.status" => status_str(m.status),
                        _ => m.user.as_str(),
                    };
                    filter_ok(v, op, vals)
                })
        })
        .collect();
    let items = w.sort_oms(dated(items, &lq), &lq.order);
    let total = items.len();
    let page: Vec<&SeedOrgMembership> = items.into_iter().skip(lq.skip).take(lq.limit).collect();
    ok(w.om_page(page, total, &lq))
}

/// `GET /organizations/:org/organization_memberships/:id`
pub(super) fn get_membership(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.om_json(w.om(c.param(1))?))
}

/// `PUT /organizations/:org/organization_memberships/:id`
pub(super) fn update_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let b = c.body()?;
    check_keys(&b, &["role", "sys"])?;
    let role_v = b.get("role").ok_or_else(|| missing("role"))?;
    let role = role_v.as_str().and_then(OrgRole::parse).ok_or_else(|| {
        ApiError::validation(
            "in",
            "role",
            role_v.clone(),
            "must be one of owner, admin, developer, member",
        )
    })?;
    let id = c.param(1).to_string();
    let m = w.om(&id)?;
    if role == OrgRole::Owner {
        require_owner(&c.caller, "make someone an owner")?;
    }
    if m.role == OrgRole::Owner {
        require_owner(&c.caller, "change an owner's membership")?;
    }
    check_version(c.req, m.sys.version)?;
    // Only demoting the last *active* owner is refused, as for DELETE: a pending
    // owner is not one of the owners the org relies on.
    if m.role == OrgRole::Owner
        && role != OrgRole::Owner
        && m.status == MembershipStatus::Active
        && w.active_owner_count() <= 1
    {
        return Err(last_owner());
    }
    let m = w
        .oms
        .items
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("OrganizationMembership", &id))?;
    m.role = role;
    touch(&mut m.sys, &c.caller.user, c.now);
    let m = w.om(&id)?;
    ok(w.om_json(m))
}

/// `DELETE /organizations/:org/organization_memberships/:id`
pub(super) fn delete_membership(w: &mut World, c: &Call) -> R<Reply> {
    let id = c.param(1).to_string();
    let m = w.om(&id)?.clone();
    if !c.caller.is_admin() && m.user != c.caller.user {
        return Err(ApiError::access_denied());
    }
    if m.role == OrgRole::Owner {
        require_owner(&c.caller, "remove an owner")?;
    }
    check_version_if_sent(c.req, m.sys.version)?;
    if m.role == OrgRole::Owner
        && m.status == MembershipStatus::Active
        && w.active_owner_count() <= 1
    {
        return Err(last_owner());
    }
    w.remove_org_membership(&m);
    no_content()
}

/// `POST /organizations/:org/invitations`
pub(super) fn create_invitation(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let b = c.body()?;
    check_keys(&b, &["email", "firstName", "lastName", "role"])?;
    let email_v = b.get("email").ok_or_else(|| missing("email"))?;
    let email = email_v
        .as_str()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| {
            ApiError::validation(
                "invalid",
                "email",
                email_v.clone(),
                "must be an email address",
            )
        })?;
    let role = match b.get("role") {
        None | Some(Value::Null) => OrgRole::Member,
        Some(v) => v.as_str().and_then(OrgRole::parse).ok_or_else(|| {
            ApiError::validation(
                "in",
                "role",
                v.clone(),
                "must be one of owner, admin, developer, member",
            )
        })?,
    };
    if role == OrgRole::Owner {
        require_owner(&c.caller, "invite someone as an owner")?;
    }
    let names = (opt_str(&b, "firstName"), opt_str(&b, "lastName"));
    let pending = match w.org_membership_by_email(email.as_str()) {
        // Inviting a pending member again sends a new invitation (Contentful's web app does
        // this for "reinvite"); an active member cannot be invited.
        Some(m) if m.status == MembershipStatus::Pending => Some(m.id.clone()),
        Some(_) => {
            return Err(ApiError::validation(
                "taken",
                "email",
                json!(email.as_str()),
                "This email already belongs to a member of the organization",
            ));
        }
        None => None,
    };
    let inv = match pending {
        Some(om_id) => w.reinvite(&om_id, &c.caller.user, c.now),
        None => w.invite(&email, role, &c.caller.user, c.now),
    };
    let v = w.invitation_json(&inv, names);
    created(
        v,
        format!("/organizations/{}/invitations/{}", w.org.id, inv.id),
    )
}

/// `GET /organizations/:org/invitations/:id`
pub(super) fn get_invitation(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let inv = w
        .invitations
        .get(c.param(1))
        .filter(|i| w.oms.get(&i.org_membership).is_some())
        .ok_or_else(|| ApiError::not_found("Invitation", c.param(1)))?;
    ok(w.invitation_json(inv, (None, None)))
}

/// `GET /organizations/:org/access_tokens`
pub(super) fn list_access_tokens(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let lq = ListQuery::parse(&c.req.query, &[], &["sys.createdAt", "sys.updatedAt"])?;
    let items: Vec<&SeedAccessToken> = w.tokens.in_order().collect();
    let items = sort_generic(dated(items, &lq), &lq.order, |t, k| sys_key(&t.sys, k));
    let total = items.len();
    let page: Vec<&SeedAccessToken> = items.into_iter().skip(lq.skip).take(lq.limit).collect();
    let users = page.iter().map(|t| t.user.as_str()).collect();
    let mut v = collection(
        page.iter().map(|t| token_json(t, true)).collect(),
        total,
        &lq,
    );
    w.add_user_includes(&mut v, &lq, users);
    ok(v)
}

impl World {
    pub(super) fn sort_oms<'a>(
        &self,
        items: Vec<&'a SeedOrgMembership>,
        order: &[(String, bool)],
    ) -> Vec<&'a SeedOrgMembership> {
        sort_generic(items, order, |m, k| match k {
            "role" => m.role.as_str().to_string(),
            "sys.lastActiveAt" => m.last_active_at.map(ts).unwrap_or_default(),
            _ => user_sort_key(self.users.get(&m.user), k).unwrap_or_else(|| sys_key(&m.sys, k)),
        })
    }

    pub(super) fn om_page(
        &self,
        page: Vec<&SeedOrgMembership>,
        total: usize,
        lq: &ListQuery,
    ) -> Value {
        let users: Vec<&str> = page.iter().map(|m| m.user.as_str()).collect();
        let mut v = collection(page.iter().map(|m| self.om_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    pub(super) fn active_owner_count(&self) -> usize {
        self.oms
            .items
            .values()
            .filter(|m| m.role == OrgRole::Owner && m.status == MembershipStatus::Active)
            .count()
    }

    pub(super) fn invite(
        &mut self,
        email: &Email,
        role: OrgRole,
        by: &str,
        now: DateTime<Utc>,
    ) -> SeedInvitation {
        let user_id = match self.user_by_email.get(email) {
            Some(id) => id.clone(),
            None => {
                let id = self.next_id();
                let mut u = SeedUser {
                    id: id.clone(),
                    email: email.to_string(),
                    first_name: None,
                    last_name: None,
                    activated: false,
                    sign_in_count: 0,
                    sys: SeedSys::default(),
                };
                fill(&mut u.sys, now, by);
                self.user_by_email.insert(email.clone(), id.clone());
                self.users.insert(u);
                id
            }
        };
        let om_id = self.next_id();
        let mut m = SeedOrgMembership {
            id: om_id.clone(),
            user: user_id.clone(),
            role,
            status: MembershipStatus::Pending,
            last_active_at: None,
            sso: self.new_member_sso(),
            sys: SeedSys::default(),
        };
        fill(&mut m.sys, now, by);
        self.om_by_user.insert(user_id, om_id.clone());
        self.oms.insert(m);
        let mut inv = SeedInvitation {
            id: self.next_id(),
            org_membership: om_id,
            sys: SeedSys::default(),
        };
        fill(&mut inv.sys, now, by);
        self.invitations.insert(inv.clone());
        inv
    }

    /// The SSO data of a new member: in an organization that uses SSO (some member has SSO data),
    /// never signed in through the identity provider and not exempt; none otherwise.
    fn new_member_sso(&self) -> Option<crate::sandbox::seed::SeedSso> {
        self.sso.then(crate::sandbox::seed::SeedSso::default)
    }

    /// Sends a pending member's invitation again: a new invitation for the same membership, whose
    /// invitation date (`sys.createdAt` of a pending membership) starts over at `now`, so it is
    /// valid for another 7 days. The membership keeps its role.
    pub(super) fn reinvite(&mut self, om_id: &str, by: &str, now: DateTime<Utc>) -> SeedInvitation {
        // Re-inserted: the stable order is by `sys.createdAt`.
        if let Some(mut m) = self.oms.remove(om_id) {
            m.sys.created_at = Some(now);
            touch(&mut m.sys, by, now);
            self.oms.insert(m);
        }
        let mut inv = SeedInvitation {
            id: self.next_id(),
            org_membership: om_id.to_string(),
            sys: SeedSys::default(),
        };
        fill(&mut inv.sys, now, by);
        self.invitations.insert(inv.clone());
        inv
    }

    pub(super) fn remove_org_membership(&mut self, m: &SeedOrgMembership) {
        let tms: Vec<String> = self
            .tms
            .items
            .values()
            .filter(|t| t.org_membership == m.id)
            .map(|t| t.id.clone())
            .collect();
        for id in tms {
            self.remove_tm(&id);
        }
        let sms: Vec<String> = self
            .sms
            .items
            .values()
            .filter(|s| s.user == m.user)
            .map(|s| s.id.clone())
            .collect();
        for id in sms {
            self.remove_sm(&id);
        }
        self.oms.remove(&m.id);
        self.om_by_user.remove(&m.user);
    }

    pub(super) fn om(&self, id: &str) -> R<&SeedOrgMembership> {
        self.oms
            .get(id)
            .ok_or_else(|| ApiError::not_found("OrganizationMembership", id))
    }
}

pub(super) fn last_owner() -> ApiError {
    ApiError::validation(
        "lastOwner",
        "role",
        json!("owner"),
        "An organization must keep at least one owner",
    )
}
