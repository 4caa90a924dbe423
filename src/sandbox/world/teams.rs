//! Handlers for teams and team memberships (a team's members are organization memberships);
//! deleting a team removes its memberships and its team space memberships.

use serde_json::{Value, json};

use super::World;
use super::access::require_admin;
use super::body::{
    check_keys, check_version, check_version_if_sent, missing, opt_bool, required_name,
};
use super::error::{ApiError, R};
use super::query::{
    ListQuery, bool_str, collection, dated, filter_ok, list_of, name_or_sys_key, sort_generic,
    sys_key, window,
};
use super::routes::{Call, Reply, created, no_content, ok};
use super::store::{created_at, fill, touch};
use crate::sandbox::seed::{SeedSys, SeedTeam, SeedTeamMembership};

/// `GET /organizations/:org/teams`
pub(super) fn list(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &[],
        &["sys.createdAt", "sys.updatedAt", "name"],
    )?;
    let items: Vec<&SeedTeam> = w.teams.in_order().collect();
    let items = sort_generic(dated(items, &lq), &lq.order, |t, k| {
        name_or_sys_key(&t.name, &t.sys, k)
    });
    ok(list_of(items, &lq, |t| w.team_item_json(t)))
}

/// `GET /organizations/:org/teams/:id`
pub(super) fn get(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.team_json(w.team(c.param(1))?))
}

/// `POST /organizations/:org/teams`
pub(super) fn create(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let b = c.body()?;
    check_keys(&b, &["name", "description", "sys"])?;
    let (name, description) = w.team_fields(&b, None)?;
    let id = w.next_id();
    let mut t = SeedTeam {
        id: id.clone(),
        name,
        description,
        sys: SeedSys::default(),
    };
    fill(&mut t.sys, c.now, &c.caller.user);
    w.teams.insert(t);
    let v = w.team_json(w.team(&id)?);
    created(v, format!("/organizations/{}/teams/{id}", w.org.id))
}

/// `PUT /organizations/:org/teams/:id`
pub(super) fn update(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let b = c.body()?;
    check_keys(&b, &["name", "description", "sys"])?;
    let id = c.param(1).to_string();
    let version = w.team(&id)?.sys.version;
    check_version(c.req, version)?;
    let (name, description) = w.team_fields(&b, Some(&id))?;
    if let Some(t) = w.teams.items.get_mut(&id) {
        t.name = name;
        t.description = description;
        touch(&mut t.sys, &c.caller.user, c.now);
    }
    ok(w.team_json(w.team(&id)?))
}

/// `DELETE /organizations/:org/teams/:id`
pub(super) fn delete(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let id = c.param(1).to_string();
    check_version_if_sent(c.req, w.team(&id)?.sys.version)?;
    w.remove_team(&id);
    no_content()
}

/// `GET /organizations/:org/teams/:team/team_memberships`
pub(super) fn list_memberships(w: &mut World, c: &Call) -> R<Reply> {
    w.team(c.param(1))?;
    let lq = ListQuery::parse(&c.req.query, &[], &["sys.createdAt", "sys.updatedAt"])?;
    let items: Vec<&SeedTeamMembership> = w
        .tms_by_team
        .get(c.param(1))
        .map(|o| o.ids().filter_map(|id| w.tms.get(id)).collect())
        .unwrap_or_default();
    w.tm_list(items, &lq)
}

/// `GET /organizations/:org/team_memberships`
pub(super) fn list_org_memberships(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(
        &c.req.query,
        &[
            "sys.organizationMembership.sys.id",
            "sys.team.sys.id",
            "admin",
        ],
        &["sys.createdAt", "sys.updatedAt"],
    )?;
    if lq.is_plain() {
        let (page, total) = window(&w.tms, &w.tms.order, &lq);
        return ok(w.tm_page(page, total, &lq));
    }
    let items: Vec<&SeedTeamMembership> = w
        .tms
        .in_order()
        .filter(|m| {
            lq.filters
                .iter()
                .all(|(path, op, vals)| match path.as_str() {
                    "sys.team.sys.id" => filter_ok(&m.team, op, vals),
                    "admin" => filter_ok(bool_str(m.admin), op, vals),
                    _ => filter_ok(&m.org_membership, op, vals),
                })
        })
        .collect();
    w.tm_list(items, &lq)
}

/// `GET /organizations/:org/teams/:team/team_memberships/:id`
pub(super) fn get_membership(w: &mut World, c: &Call) -> R<Reply> {
    ok(w.tm_json(w.tm(c.param(1), c.param(2))?))
}

/// `POST /organizations/:org/teams/:team/team_memberships`
pub(super) fn create_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let team = c.param(1).to_string();
    w.team(&team)?;
    let b = c.body()?;
    check_keys(&b, &["organizationMembershipId", "admin", "sys"])?;
    let om_v = b
        .get("organizationMembershipId")
        .ok_or_else(|| missing("organizationMembershipId"))?;
    let om = om_v
        .as_str()
        .filter(|id| w.oms.get(id).is_some())
        .ok_or_else(|| {
            ApiError::validation(
                "notResolvable",
                "organizationMembershipId",
                om_v.clone(),
                "No organization membership with this id",
            )
        })?
        .to_string();
    let admin = opt_bool(&b, "admin")?.unwrap_or(false);
    if w.tms
        .any_in(&w.tms_by_team, &team, |m| m.org_membership == om)
    {
        let msg = "This organization membership is already a member of the team";
        return Err(ApiError::taken("organizationMembershipId", json!(om), msg));
    }
    let id = w.next_id();
    let m = SeedTeamMembership {
        id: id.clone(),
        team: team.clone(),
        org_membership: om,
        admin,
        sys: SeedSys::default(),
    };
    w.tms
        .create(&mut w.tms_by_team, &team, m, c.now, &c.caller.user);
    let v = w.tm_json(w.tm(&team, &id)?);
    created(
        v,
        format!(
            "/organizations/{}/teams/{team}/team_memberships/{id}",
            w.org.id
        ),
    )
}

/// `PUT /organizations/:org/teams/:team/team_memberships/:id`
pub(super) fn update_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let b = c.body()?;
    check_keys(&b, &["organizationMembershipId", "admin", "sys"])?;
    let (team, id) = (c.param(1).to_string(), c.param(2).to_string());
    let m = w.tm(&team, &id)?;
    check_version(c.req, m.sys.version)?;
    if let Some(om) = b.get("organizationMembershipId")
        && om.as_str() != Some(m.org_membership.as_str())
    {
        return Err(ApiError::validation(
            "immutable",
            "organizationMembershipId",
            om.clone(),
            "cannot be changed",
        ));
    }
    let admin = opt_bool(&b, "admin")?;
    if let Some(m) = w.tms.items.get_mut(&id) {
        if let Some(a) = admin {
            m.admin = a;
        }
        touch(&mut m.sys, &c.caller.user, c.now);
    }
    ok(w.tm_json(w.tm(&team, &id)?))
}

/// `DELETE /organizations/:org/teams/:team/team_memberships/:id`
pub(super) fn delete_membership(w: &mut World, c: &Call) -> R<Reply> {
    require_admin(&c.caller)?;
    let id = c.param(2).to_string();
    check_version_if_sent(c.req, w.tm(c.param(1), &id)?.sys.version)?;
    w.remove_tm(&id);
    no_content()
}

impl World {
    pub(super) fn tm_list(&self, items: Vec<&SeedTeamMembership>, lq: &ListQuery) -> R<Reply> {
        let items = sort_generic(dated(items, lq), &lq.order, |m, k| sys_key(&m.sys, k));
        let total = items.len();
        let page: Vec<&SeedTeamMembership> =
            items.into_iter().skip(lq.skip).take(lq.limit).collect();
        ok(self.tm_page(page, total, lq))
    }

    pub(super) fn tm_page(
        &self,
        page: Vec<&SeedTeamMembership>,
        total: usize,
        lq: &ListQuery,
    ) -> Value {
        let users = page
            .iter()
            .filter_map(|m| self.oms.get(&m.org_membership).map(|om| om.user.as_str()))
            .collect();
        let mut v = collection(page.iter().map(|m| self.tm_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    pub(super) fn remove_team(&mut self, id: &str) {
        let tms: Vec<String> = self
            .tms_by_team
            .get(id)
            .map(|o| o.ids().cloned().collect())
            .unwrap_or_default();
        for tm in tms {
            self.remove_tm(&tm);
        }
        let tsms: Vec<String> = self
            .tsms
            .items
            .values()
            .filter(|m| m.team == id)
            .map(|m| m.id.clone())
            .collect();
        for tsm in tsms {
            self.remove_tsm(&tsm);
        }
        self.teams.remove(id);
    }

    pub(super) fn remove_tm(&mut self, id: &str) {
        if let Some(m) = self.tms.remove(id) {
            self.tms_by_team.remove(&m.team, created_at(&m.sys), id);
        }
    }

    pub(super) fn team(&self, id: &str) -> R<&SeedTeam> {
        self.teams
            .get(id)
            .ok_or_else(|| ApiError::not_found("Team", id))
    }

    pub(super) fn tm(&self, team: &str, id: &str) -> R<&SeedTeamMembership> {
        self.team(team)?;
        self.tms
            .get(id)
            .filter(|m| m.team == team)
            .ok_or_else(|| ApiError::not_found("TeamMembership", id))
    }

    pub(super) fn team_fields(&self, b: &Value, this: Option<&str>) -> R<(String, Option<String>)> {
        let name = required_name(b)?;
        let description = match b.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                return Err(ApiError::validation(
                    "type",
                    "description",
                    v.clone(),
                    "must be a string or null",
                ));
            }
        };
        if self
            .teams
            .items
            .values()
            .any(|t| t.name == name && Some(t.id.as_str()) != this)
        {
            return Err(ApiError::validation(
                "taken",
                "name",
                json!(name),
                "A team with this name already exists",
            ));
        }
        Ok((name, description))
    }
}
