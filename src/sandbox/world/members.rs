//! Who has access to a space, read-only: `/spaces/{space}/users[/{id}]` (the users, as both SDKs
//! read them) and `/spaces/{space}/space_members[/{id}]` (each user's effective access, direct and
//! through teams combined, with the memberships it comes from: `SpaceMember`, as a 2023 real
//! response shows); and the two org-wide reads the JS SDK has for them:
//! `/organizations/{org}/roles` (every space's roles, documented) and `/spaces/{space}/teams` (the
//! teams with access to a space).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::World;
use super::error::{ApiError, R};
use super::query::{ListQuery, dated, list_of, sort_generic, sys_key};
use super::routes::{Call, Reply, ok};
use super::store::created_at;
use super::views::{link, role_json, ts};
use crate::sandbox::seed::default_epoch;

/// One user's combined access to a space.
struct Member {
    user: String,
    admin: bool,
    roles: Vec<String>,
    /// `(link type, id)` of the memberships the access comes from.
    related: Vec<(&'static str, String)>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

/// `GET /organizations/:org/roles`: the roles of every space, in the stable order (`include=sys.space`
/// is accepted and ignored, as for the other collections' includes). Contentful documents only
/// `skip`, `limit` and `include` here; the sandbox also accepts `order` and the date filters on
/// `sys.createdAt`/`sys.updatedAt`, as on the other collections, so the incremental read's
/// newest-first page can be tried (a server that refuses them is the `documentedOrdersOnly`
/// variant).
pub(super) fn list_org_roles(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &["sys.createdAt", "sys.updatedAt"])?;
    let roles: Vec<&crate::sandbox::seed::SeedRole> = w.roles.in_order().collect();
    let roles = sort_generic(dated(roles, &lq), &lq.order, |r, k| sys_key(&r.sys, k));
    ok(list_of(roles, &lq, role_json))
}

/// `GET /spaces/:space/teams`: the teams with a team space membership in the space.
pub(super) fn list_space_teams(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    let mut teams: Vec<&str> = w
        .tsms_by_space
        .get(c.param(0))
        .map(|o| {
            o.ids()
                .filter_map(|id| w.tsms.get(id))
                .map(|m| m.team.as_str())
                .collect()
        })
        .unwrap_or_default();
    teams.dedup();
    let teams: Vec<&crate::sandbox::seed::SeedTeam> = w
        .teams
        .in_order()
        .filter(|t| teams.contains(&t.id.as_str()))
        .collect();
    ok(list_of(teams, &lq, |t| w.team_item_json(t)))
}

/// `GET /spaces/:space/users`
pub(super) fn list_users(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    let members = w.space_members(c.param(0));
    let users: Vec<&crate::sandbox::seed::SeedUser> = members
        .iter()
        .filter_map(|m| w.users.get(&m.user))
        .collect();
    ok(list_of(users, &lq, |u| w.user_json(u)))
}

/// `GET /spaces/:space/users/:id`
pub(super) fn get_user(w: &mut World, c: &Call) -> R<Reply> {
    let id = c.param(1);
    let found = w.space_members(c.param(0)).iter().any(|m| m.user == id);
    let u = w
        .users
        .get(id)
        .filter(|_| found)
        .ok_or_else(|| ApiError::not_found("User", id))?;
    ok(w.user_json(u))
}

/// `GET /spaces/:space/space_members`
pub(super) fn list_members(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &[])?;
    let space = c.param(0);
    let members = w.space_members(space);
    let refs: Vec<&Member> = members.iter().collect();
    let mut v = list_of(refs, &lq, |m| member_json(space, m));
    let users = members
        .iter()
        .skip(lq.skip)
        .take(lq.limit)
        .map(|m| m.user.as_str())
        .collect();
    w.add_user_includes(&mut v, &lq, users);
    ok(v)
}

/// `GET /spaces/:space/space_members/:id` (the id is `<space>-<user>`).
pub(super) fn get_member(w: &mut World, c: &Call) -> R<Reply> {
    let (space, id) = (c.param(0), c.param(1));
    w.space_members(space)
        .iter()
        .find(|m| member_id(space, &m.user) == id)
        .map(|m| member_json(space, m))
        .map_or_else(|| Err(ApiError::not_found("SpaceMember", id)), ok)
}

fn member_id(space: &str, user: &str) -> String {
    format!("{space}-{user}")
}

fn member_json(space: &str, m: &Member) -> Value {
    json!({
        "admin": m.admin,
        "roles": m.roles.iter().map(|r| link("Role", r)).collect::<Vec<_>>(),
        "sys": {
            "type": "SpaceMember",
            "id": member_id(space, &m.user),
            "createdAt": ts(m.created),
            "updatedAt": ts(m.updated),
            "space": link("Space", space),
            "user": link("User", &m.user),
            "relatedMemberships": m.related.iter().map(|(t, id)| link(t, id)).collect::<Vec<_>>(),
        }
    })
}

impl World {
    /// Every user with access to `space`, directly or through a team, ordered by user id.
    fn space_members(&self, space: &str) -> Vec<Member> {
        let mut by_user: BTreeMap<String, Member> = BTreeMap::new();
        let mut add = |user: &str,
                       admin: bool,
                       roles: &[String],
                       related: (&'static str, String),
                       sys: &crate::sandbox::seed::SeedSys| {
            let (c, u) = (
                created_at(sys),
                sys.updated_at.unwrap_or_else(default_epoch),
            );
            let m = by_user.entry(user.to_string()).or_insert_with(|| Member {
                user: user.to_string(),
                admin: false,
                roles: Vec::new(),
                related: Vec::new(),
                created: c,
                updated: u,
            });
            m.admin |= admin;
            for r in roles {
                if !m.roles.contains(r) {
                    m.roles.push(r.clone());
                }
            }
            m.related.push(related);
            m.created = m.created.min(c);
            m.updated = m.updated.max(u);
        };
        if let Some(ids) = self.sms_by_space.get(space) {
            for sm in ids.ids().filter_map(|id| self.sms.get(id)) {
                if self.om_by_user.contains_key(&sm.user) {
                    add(
                        &sm.user,
                        sm.admin,
                        &sm.roles,
                        ("SpaceMembership", sm.id.clone()),
                        &sm.sys,
                    );
                }
            }
        }
        if let Some(ids) = self.tsms_by_space.get(space) {
            for tsm in ids.ids().filter_map(|id| self.tsms.get(id)) {
                let Some(tms) = self.tms_by_team.get(&tsm.team) else {
                    continue;
                };
                for tm in tms.ids().filter_map(|id| self.tms.get(id)) {
                    if let Some(om) = self.oms.get(&tm.org_membership) {
                        add(
                            &om.user,
                            tsm.admin,
                            &tsm.roles,
                            ("TeamSpaceMembership", tsm.id.clone()),
                            &tsm.sys,
                        );
                    }
                }
            }
        }
        let mut out: Vec<Member> = by_user.into_values().collect();
        for m in &mut out {
            if m.admin {
                m.roles.clear();
            }
        }
        out
    }
}
