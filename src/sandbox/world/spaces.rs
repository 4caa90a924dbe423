//! Handlers for spaces (creating one also creates its default roles), roles, space memberships
//! and team space memberships, listed per space or across the organization.

use serde_json::{Value, json};

use super::World;
use super::access::require_admin;
use super::body::{
    check_keys, check_version, check_version_if_sent, missing, opt_bool, opt_str, required_name,
};
use super::error::{ApiError, R};
use super::query::{
    ListQuery, bool_str, collection, dated, filter_any_ok, filter_ok, list_of, name_or_sys_key,
    sort_generic, sys_key, user_sort_key, window,
};
use super::routes::{Call, Reply, created, no_content, ok};
use super::store::{created_at, fill, touch};
use super::views::role_json;
use crate::model::OrgRole;
use crate::sandbox::seed::{
    SeedRole, SeedSpace, SeedSpaceMembership, SeedSys, SeedTeamSpaceMembership, default_roles_for,
};

/// `GET /organizations/:org/team_space_memberships`
pub(super) fn list_org_team_space_memberships(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &[
            "sys.team.sys.id",
            "sys.space.sys.id",
            "roles.name",
            "roles.sys.id",
            "admin",
        ],
        &["sys.createdAt", "sys.updatedAt"],
    )?;
    let items: Vec<&SeedTeamSpaceMembership> = w
        .tsms
        .in_order()
        .filter(|m| {
            lq.filters
                .iter()
                .all(|(path, op, vals)| match path.as_str() {
                    "sys.team.sys.id" => filter_ok(&m.team, op, vals),
                    "sys.space.sys.id" => filter_ok(&m.space, op, vals),
                    "admin" => filter_ok(bool_str(m.admin), op, vals),
                    _ => filter_any_ok(w.role_filter_values(&m.roles, path), op, vals),
                })
        })
        .collect();
    let items = sort_generic(dated(items, &lq), &lq.order, |m, k| sys_key(&m.sys, k));
    ok(list_of(items, &lq, |m| w.tsm_json(m)))
}

/// `GET /organizations/:org/team_space_memberships/:id`
pub(super) fn get_org_team_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    let m = w
        .tsms
        .get(c.param(1))
        .ok_or_else(|| ApiError::not_found("TeamSpaceMembership", c.param(1)))?;
    ok(w.tsm_json(m))
}

/// `GET /spaces/:space/team_space_memberships`
pub(super) fn list_team_space_memberships(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let lq = ListQuery::parse(
        &c.req.query,
        &["sys.id", "sys.team.sys.id"],
        &["sys.createdAt", "sys.updatedAt"],
    )?;
    let items: Vec<&SeedTeamSpaceMembership> = w
        .tsms_by_space
        .get(c.param(0))
        .map(|o| o.ids().filter_map(|id| w.tsms.get(id)).collect())
        .unwrap_or_default();
    let items: Vec<&SeedTeamSpaceMembership> = items
        .into_iter()
        .filter(|m| {
            lq.filters.iter().all(|(path, op, vals)| {
                let v = if path == "sys.id" { &m.id } else { &m.team };
                filter_ok(v, op, vals)
            })
        })
        .collect();
    let items = sort_generic(dated(items, &lq), &lq.order, |m, k| sys_key(&m.sys, k));
    ok(list_of(items, &lq, |m| w.tsm_json(m)))
}

/// `GET /spaces/:space/team_space_memberships/:id`
pub(super) fn get_team_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.tsm_json(w.tsm(c.param(0), c.param(1))?))
}

/// `POST /spaces/:space/team_space_memberships`
pub(super) fn create_team_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let space = c.param(0).to_string();
    let team = c
        .req
        .team
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                400,
                "BadRequest",
                "The X-Contentful-Team header is required to create a team space membership.",
            )
        })?;
    if w.teams.get(&team).is_none() {
        return Err(ApiError::validation(
            "notResolvable",
            "team",
            json!(team),
            "No team with the id in X-Contentful-Team",
        ));
    }
    let b = c.body()?;
    check_keys(&b, &["admin", "roles", "sys"])?;
    let (admin, roles) = w.access_fields(&b, &space)?;
    if w.tsms.any_in(&w.tsms_by_space, &space, |m| m.team == team) {
        let msg = "This team already has a membership in this space";
        return Err(ApiError::taken("team", json!(team), msg));
    }
    let id = w.next_id();
    let m = SeedTeamSpaceMembership {
        id: id.clone(),
        team,
        space: space.clone(),
        admin,
        roles,
        sys: SeedSys::default(),
    };
    w.tsms
        .create(&mut w.tsms_by_space, &space, m, c.now, &c.caller.user);
    let v = w.tsm_json(w.tsm(&space, &id)?);
    created(v, format!("/spaces/{space}/team_space_memberships/{id}"))
}

/// `PUT /spaces/:space/team_space_memberships/:id`
pub(super) fn update_team_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let (space, id) = (c.param(0).to_string(), c.param(1).to_string());
    let b = c.body()?;
    check_keys(&b, &["admin", "roles", "sys"])?;
    let m = w.tsm(&space, &id)?;
    check_version(c.req, m.sys.version)?;
    if let Some(t) = c.req.team.as_deref()
        && t != m.team
    {
        return Err(ApiError::validation(
            "immutable",
            "team",
            json!(t),
            "The team of a team space membership cannot be changed",
        ));
    }
    let (admin, roles) = w.access_fields(&b, &space)?;
    if let Some(m) = w.tsms.items.get_mut(&id) {
        m.admin = admin;
        m.roles = roles;
        touch(&mut m.sys, &c.caller.user, c.now);
    }
    ok(w.tsm_json(w.tsm(&space, &id)?))
}

/// `DELETE /spaces/:space/team_space_memberships/:id`
pub(super) fn delete_team_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let id = c.param(1).to_string();
    check_version_if_sent(c.req, w.tsm(c.param(0), &id)?.sys.version)?;
    w.remove_tsm(&id);
    no_content()
}

/// `GET /spaces/:space/space_memberships`
pub(super) fn list_space_memberships(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &["sys.user.sys.id"],
        &["sys.createdAt", "sys.updatedAt"],
    )?;
    let items: Vec<&SeedSpaceMembership> = w
        .sms_by_space
        .get(c.param(0))
        .map(|o| o.ids().filter_map(|id| w.sms.get(id)).collect())
        .unwrap_or_default();
    w.sm_list(items, &lq)
}

/// `GET /organizations/:org/space_memberships`
pub(super) fn list_org_space_memberships(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let lq = ListQuery::parse(
        &c.req.query,
        &[
            "sys.user.sys.id",
            "sys.space.sys.id",
            "admin",
            "roles.name",
            "roles.sys.id",
        ],
        &[
            "sys.createdAt",
            "sys.updatedAt",
            "sys.user.firstName",
            "sys.user.lastName",
            "sys.user.email",
        ],
    )?;
    if lq.is_plain() {
        let (page, total) = window(&w.sms, &w.sms.order, &lq);
        return ok(w.sm_page(page, total, &lq));
    }
    let items: Vec<&SeedSpaceMembership> = w
        .sms
        .in_order()
        .filter(|m| {
            w.matches_query(&lq, &m.user)
                && lq
                    .filters
                    .iter()
                    .all(|(path, op, vals)| match path.as_str() {
                        "sys.user.sys.id" => filter_ok(&m.user, op, vals),
                        "sys.space.sys.id" => filter_ok(&m.space, op, vals),
                        "admin" => filter_ok(bool_str(m.admin), op, vals),
                        _ => filter_any_ok(w.role_filter_values(&m.roles, path), op, vals),
                    })
        })
        .collect();
    w.sm_list(items, &lq)
}

/// `GET /organizations/:org/space_memberships/:id`
pub(super) fn get_org_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let m = w
        .sms
        .get(c.param(1))
        .ok_or_else(|| ApiError::not_found("SpaceMembership", c.param(1)))?;
    ok(w.sm_json(m))
}

/// `GET /spaces/:space/space_memberships/:id`
pub(super) fn get_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.sm_json(w.sm(c.param(0), c.param(1))?))
}

/// `POST /spaces/:space/space_memberships`
pub(super) fn create_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let space = c.param(0).to_string();
    let b = c.body()?;
    check_keys(&b, &["admin", "roles", "email", "sys"])?;
    let email_v = b.get("email").ok_or_else(|| missing("email"))?;
    let user = email_v
        .as_str()
        .and_then(|e| w.org_membership_by_email(e))
        .map(|m| m.user.clone())
        .ok_or_else(|| {
            ApiError::validation(
                "invalid",
                "email",
                email_v.clone(),
                "The email must belong to a member of the space's organization",
            )
        })?;
    let (admin, roles) = w.access_fields(&b, &space)?;
    if w.sms.any_in(&w.sms_by_space, &space, |m| m.user == user) {
        let msg = "This user already has a membership in this space";
        return Err(ApiError::taken("email", email_v.clone(), msg));
    }
    let id = w.next_id();
    let m = SeedSpaceMembership {
        id: id.clone(),
        space: space.clone(),
        user,
        admin,
        roles,
        sys: SeedSys::default(),
    };
    w.sms
        .create(&mut w.sms_by_space, &space, m, c.now, &c.caller.user);
    let v = w.sm_json(w.sm(&space, &id)?);
    created(v, format!("/spaces/{space}/space_memberships/{id}"))
}

/// `PUT /spaces/:space/space_memberships/:id`
pub(super) fn update_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let (space, id) = (c.param(0).to_string(), c.param(1).to_string());
    let b = c.body()?;
    check_keys(&b, &["admin", "roles", "email", "user", "sys"])?;
    let m = w.sm(&space, &id)?;
    check_version(c.req, m.sys.version)?;
    let (admin, roles) = w.access_fields(&b, &space)?;
    if let Some(m) = w.sms.items.get_mut(&id) {
        m.admin = admin;
        m.roles = roles;
        touch(&mut m.sys, &c.caller.user, c.now);
    }
    ok(w.sm_json(w.sm(&space, &id)?))
}

/// `DELETE /spaces/:space/space_memberships/:id`
pub(super) fn delete_space_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let id = c.param(1).to_string();
    check_version_if_sent(c.req, w.sm(c.param(0), &id)?.sys.version)?;
    w.remove_sm(&id);
    no_content()
}

/// `GET /spaces`: the spaces the caller can see (of the organization in
/// `X-Contentful-Organization`, when sent).
pub(super) fn list(w: &mut World, c: &Call) -> R<Reply> {
    if let Some(o) = c.req.organization.as_deref() {
        w.check_org(o, &c.caller)?;
    }
    list_in_org(w, c)
}

/// `GET /organizations/:org/spaces`
pub(super) fn list_in_org(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &[],
        &["sys.createdAt", "sys.updatedAt", "name"],
    )?;
    let items: Vec<&SeedSpace> = w
        .spaces
        .in_order()
        .filter(|s| w.can_see_space(&s.id, &c.caller))
        .collect();
    let items = sort_generic(dated(items, &lq), &lq.order, |s, k| {
        name_or_sys_key(&s.name, &s.sys, k)
    });
    ok(list_of(items, &lq, |s| w.space_json(s)))
}

/// `GET /spaces/:space`
pub(super) fn get(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.space_json(w.space(c.param(0))?))
}

/// `POST /spaces`
pub(super) fn create(w: &mut World, c: &Call) -> R<Reply> {
    if c.caller.role.is_none_or(|r| r < OrgRole::Developer) {
        return Err(ApiError::access_denied());
    }
    if let Some(o) = c.req.organization.as_deref() {
        w.check_org(o, &c.caller)?;
    }
    let b = c.body()?;
    check_keys(&b, &["name", "defaultLocale"])?;
    let name = required_name(&b)?;
    let id = w
        .next_id()
        .chars()
        .take(12)
        .collect::<String>()
        .to_lowercase();
    let mut s = SeedSpace {
        id: id.clone(),
        name,
        sys: SeedSys::default(),
    };
    fill(&mut s.sys, c.now, &c.caller.user);
    w.spaces.insert(s);
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(w.next_id());
    }
    let mut ids = ids.into_iter();
    for mut r in default_roles_for(&id, || ids.next().unwrap_or_default()) {
        fill(&mut r.sys, c.now, &c.caller.user);
        w.roles_by_space.insert(&id, c.now, &r.id);
        w.roles.insert(r);
    }
    let v = w.space_json(w.space(&id)?);
    created(v, format!("/spaces/{id}"))
}

/// `GET /spaces/:space/roles`
pub(super) fn list_roles(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &[],
        &["sys.createdAt", "sys.updatedAt", "name"],
    )?;
    let items: Vec<&SeedRole> = w
        .roles_by_space
        .get(c.param(0))
        .map(|o| o.ids().filter_map(|id| w.roles.get(id)).collect())
        .unwrap_or_default();
    let items = sort_generic(dated(items, &lq), &lq.order, |r, k| {
        name_or_sys_key(&r.name, &r.sys, k)
    });
    ok(list_of(items, &lq, role_json))
}

/// `GET /spaces/:space/roles/:id`
pub(super) fn get_role(w: &mut World, c: &Call) -> R<Reply> {
    ok(role_json(w.role(c.param(0), c.param(1))?))
}

/// `POST /spaces/:space/roles`
pub(super) fn create_role(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let space = c.param(0).to_string();
    let b = c.body()?;
    let id = w.next_id();
    let mut r = SeedRole {
        id: id.clone(),
        space: space.clone(),
        name: String::new(),
        description: String::new(),
        policies: json!([]),
        permissions: json!({}),
        other: Default::default(),
        sys: SeedSys::default(),
    };
    w.role_fields(&b, &mut r)?;
    fill(&mut r.sys, c.now, &c.caller.user);
    w.roles_by_space.insert(&space, c.now, &id);
    w.roles.insert(r);
    let v = role_json(w.role(&space, &id)?);
    created(v, format!("/spaces/{space}/roles/{id}"))
}

/// `PUT /spaces/:space/roles/:id`
pub(super) fn update_role(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let (space, id) = (c.param(0).to_string(), c.param(1).to_string());
    let b = c.body()?;
    let mut r = w.role(&space, &id)?.clone();
    check_version(c.req, r.sys.version)?;
    w.role_fields(&b, &mut r)?;
    touch(&mut r.sys, &c.caller.user, c.now);
    w.roles.items.insert(id.clone(), r);
    ok(role_json(w.role(&space, &id)?))
}

/// `DELETE /spaces/:space/roles/:id`
pub(super) fn delete_role(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let (space, id) = (c.param(0).to_string(), c.param(1).to_string());
    check_version_if_sent(c.req, w.role(&space, &id)?.sys.version)?;
    // CMA docs ("Delete a role"): "You can only delete roles if there is no user in the space with
    // only that role assigned, i.e. a user must have at least one role." The status and error of
    // that refusal are undocumented; the sandbox answers 422 ValidationFailed (unconfirmed, see
    // docs/contentful-api.md) and applies the same rule to teams. A membership holding the role
    // among others loses just that role.
    let sole = |roles: &[String]| roles.len() == 1 && roles[0] == id;
    let in_use = w
        .sms
        .items
        .values()
        .filter(|m| m.space == space && !m.admin)
        .any(|m| sole(&m.roles))
        || w.tsms
            .items
            .values()
            .filter(|m| m.space == space && !m.admin)
            .any(|m| sole(&m.roles));
    if in_use {
        return Err(ApiError::validation(
            "inUse",
            "role",
            json!(id),
            "A role that is the only role of a member or team in the space cannot be deleted",
        ));
    }
    if let Some(r) = w.roles.remove(&id) {
        w.roles_by_space.remove(&space, created_at(&r.sys), &id);
    }
    for m in w.sms.items.values_mut().filter(|m| m.space == space) {
        m.roles.retain(|r| r != &id);
    }
    for m in w.tsms.items.values_mut().filter(|m| m.space == space) {
        m.roles.retain(|r| r != &id);
    }
    no_content()
}

/// The role id of a role link, wrapped in `sys` (`{"sys":{"type":"Link","linkType":"Role","id":…}}`,
/// as the docs and SDKs send) or not (`{"type":"Link","linkType":"Role","id":…}`, as Contentful's
/// web app sends and a 2017 recording shows accepted).
fn role_link_id(r: &Value) -> Option<&str> {
    let link = r.get("sys").filter(|s| s.is_object()).unwrap_or(r);
    let is_link = link.get("type").and_then(Value::as_str) == Some("Link")
        && link.get("linkType").and_then(Value::as_str) == Some("Role");
    link.get("id").and_then(Value::as_str).filter(|_| is_link)
}

impl World {
    pub(super) fn sm_list(&self, items: Vec<&SeedSpaceMembership>, lq: &ListQuery) -> R<Reply> {
        let items = sort_generic(dated(items, lq), &lq.order, |m, k| {
            user_sort_key(self.users.get(&m.user), k).unwrap_or_else(|| sys_key(&m.sys, k))
        });
        let total = items.len();
        let page: Vec<&SeedSpaceMembership> =
            items.into_iter().skip(lq.skip).take(lq.limit).collect();
        ok(self.sm_page(page, total, lq))
    }

    pub(super) fn sm_page(
        &self,
        page: Vec<&SeedSpaceMembership>,
        total: usize,
        lq: &ListQuery,
    ) -> Value {
        let users = page.iter().map(|m| m.user.as_str()).collect();
        let mut v = collection(page.iter().map(|m| self.sm_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    /// The values a `roles.name` or `roles.sys.id` filter compares: the names or ids of `roles`.
    pub(super) fn role_filter_values<'a>(
        &'a self,
        roles: &'a [String],
        path: &str,
    ) -> Vec<&'a str> {
        if path == "roles.name" {
            roles
                .iter()
                .filter_map(|id| self.roles.get(id).map(|r| r.name.as_str()))
                .collect()
        } else {
            roles.iter().map(String::as_str).collect()
        }
    }

    pub(super) fn remove_tsm(&mut self, id: &str) {
        if let Some(m) = self.tsms.remove(id) {
            self.tsms_by_space.remove(&m.space, created_at(&m.sys), id);
        }
    }

    pub(super) fn remove_sm(&mut self, id: &str) {
        if let Some(m) = self.sms.remove(id) {
            self.sms_by_space.remove(&m.space, created_at(&m.sys), id);
        }
    }

    pub(super) fn tsm(&self, space: &str, id: &str) -> R<&SeedTeamSpaceMembership> {
        self.tsms
            .get(id)
            .filter(|m| m.space == space)
            .ok_or_else(|| ApiError::not_found("TeamSpaceMembership", id))
    }

    pub(super) fn sm(&self, space: &str, id: &str) -> R<&SeedSpaceMembership> {
        self.sms
            .get(id)
            .filter(|m| m.space == space)
            .ok_or_else(|| ApiError::not_found("SpaceMembership", id))
    }

    pub(super) fn space(&self, id: &str) -> R<&SeedSpace> {
        self.spaces
            .get(id)
            .ok_or_else(|| ApiError::not_found("Space", id))
    }

    pub(super) fn role(&self, space: &str, id: &str) -> R<&SeedRole> {
        self.roles
            .get(id)
            .filter(|r| r.space == space)
            .ok_or_else(|| ApiError::not_found("Role", id))
    }

    /// Reads `admin` + `roles` of a (team) space membership body: role links must name roles of
    /// `space`; `admin: true` clears the roles; a non-admin needs at least one role.
    pub(super) fn access_fields(&self, b: &Value, space: &str) -> R<(bool, Vec<String>)> {
        let admin = opt_bool(b, "admin")?.unwrap_or(false);
        let roles_v = b.get("roles").cloned().unwrap_or(json!([]));
        let arr = roles_v.as_array().ok_or_else(|| {
            ApiError::validation(
                "type",
                "roles",
                roles_v.clone(),
                "must be an array of role links",
            )
        })?;
        let mut roles = Vec::new();
        for r in arr {
            let id = role_link_id(r).ok_or_else(|| {
                ApiError::validation("type", "roles", r.clone(), "each role must be a role link, {\"sys\":{\"type\":\"Link\",\"linkType\":\"Role\",\"id\":…}} or {\"type\":\"Link\",\"linkType\":\"Role\",\"id\":…}")
            })?;
            if self.roles.get(id).is_none_or(|role| role.space != space) {
                return Err(ApiError::validation(
                    "notResolvable",
                    "roles",
                    r.clone(),
                    "No role with this id in this space",
                ));
            }
            if !roles.iter().any(|x| x == id) {
                roles.push(id.to_string());
            }
        }
        if admin {
            return Ok((true, vec![]));
        }
        if roles.is_empty() {
            return Err(ApiError::validation(
                "size",
                "roles",
                roles_v,
                "A membership that is not admin needs at least one role",
            ));
        }
        Ok((false, roles))
    }

    pub(super) fn role_fields(&self, b: &Value, r: &mut SeedRole) -> R<()> {
        let name_v = b.get("name").ok_or_else(|| missing("name"))?;
        r.name = name_v
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                ApiError::validation("size", "name", name_v.clone(), "must be a non-empty string")
            })?
            .to_string();
        let taken = self.roles_by_space.get(&r.space).is_some_and(|o| {
            o.ids()
                .any(|id| id != &r.id && self.roles.get(id).is_some_and(|x| x.name == r.name))
        });
        if taken {
            return Err(ApiError::validation(
                "taken",
                "name",
                json!(r.name),
                "A role with this name already exists in this space",
            ));
        }
        r.description = opt_str(b, "description").unwrap_or_default();
        if let Some(p) = b.get("policies") {
            if !p.is_array() {
                return Err(ApiError::validation(
                    "type",
                    "policies",
                    p.clone(),
                    "must be an array",
                ));
            }
            r.policies = p.clone();
        }
        if let Some(p) = b.get("permissions") {
            if !p.is_object() {
                return Err(ApiError::validation(
                    "type",
                    "permissions",
                    p.clone(),
                    "must be an object",
                ));
            }
            r.permissions = p.clone();
        }
        // Unknown top-level fields are kept verbatim (sandbox choice: Contentful documents none
        // beyond these, and the client must never drop what it does not understand).
        r.other = b
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "name" | "description" | "policies" | "permissions" | "sys"
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(())
    }
}
