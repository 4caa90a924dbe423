//! Every route the sandbox serves, as a table whose rows carry their handler: the route list
//! ([`ROUTES`], also used by the request journal) and the dispatch are the same data, so they
//! cannot drift apart.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::access::Caller;
use super::body::parse_body;
use super::error::R;
use super::{ApiRequest, World, invitations, members, organizations, spaces, teams, tokens};

/// A handler: reads the call, changes the world, answers.
pub(super) type Handler = fn(&mut World, &Call) -> R<Reply>;

/// One route: method, templated path (`:name` segments are parameters) and its handler.
#[derive(Clone, Copy)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Templated path, e.g. `/organizations/:org/teams/:id`.
    pub path: &'static str,
    pub(super) handler: Handler,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

impl Route {
    const fn new(method: &'static str, path: &'static str, handler: Handler) -> Route {
        Route {
            method,
            path,
            handler,
        }
    }
}

/// What a handler is given: the request, the values of the route's `:` parameters in order, the
/// authenticated caller and "now".
pub(super) struct Call<'a> {
    pub(super) req: &'a ApiRequest,
    pub(super) params: Vec<String>,
    pub(super) caller: Caller,
    pub(super) now: DateTime<Utc>,
}

impl Call<'_> {
    /// The `i`-th path parameter (empty when the route has fewer).
    pub(super) fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or_default()
    }

    /// The request body as a JSON object.
    pub(super) fn body(&self) -> R<Value> {
        parse_body(&self.req.body)
    }
}

/// A successful answer before the request id is attached.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Option<Value>,
    /// `Location` for 201s (a path).
    pub(super) location: Option<String>,
}

/// 200 with a body.
pub(super) fn ok(v: Value) -> R<Reply> {
    Ok(Reply {
        status: 200,
        body: Some(v),
        location: None,
    })
}

/// 201 with the new object and where it lives.
pub(super) fn created(v: Value, location: String) -> R<Reply> {
    Ok(Reply {
        status: 201,
        body: Some(v),
        location: Some(location),
    })
}

/// 204, no body.
pub(super) fn no_content() -> R<Reply> {
    Ok(Reply {
        status: 204,
        body: None,
        location: None,
    })
}

/// Every route the sandbox serves, with its handler.
pub const ROUTES: &[Route] = &[
    Route::new("GET", "/organizations", organizations::list),
    Route::new("GET", "/organizations/:org", organizations::get),
    Route::new("GET", "/users/me", organizations::me),
    Route::new(
        "GET",
        "/organizations/:org/users",
        organizations::list_users,
    ),
    Route::new(
        "GET",
        "/organizations/:org/users/:id",
        organizations::get_user,
    ),
    Route::new(
        "GET",
        "/organizations/:org/organization_memberships",
        organizations::list_memberships,
    ),
    Route::new(
        "GET",
        "/organizations/:org/organization_memberships/:id",
        organizations::get_membership,
    ),
    Route::new(
        "PUT",
        "/organizations/:org/organization_memberships/:id",
        organizations::update_membership,
    ),
    Route::new(
        "DELETE",
        "/organizations/:org/organization_memberships/:id",
        organizations::delete_membership,
    ),
    Route::new(
        "POST",
        "/organizations/:org/invitations",
        organizations::create_invitation,
    ),
    Route::new(
        "GET",
        "/organizations/:org/invitations/:id",
        organizations::get_invitation,
    ),
    Route::new("GET", "/organizations/:org/invitations", invitations::list),
    Route::new(
        "DELETE",
        "/organizations/:org/invitations/:id",
        invitations::delete,
    ),
    Route::new("GET", "/users/me/access_tokens", tokens::list),
    Route::new("POST", "/users/me/access_tokens", tokens::create),
    Route::new("GET", "/users/me/access_tokens/:id", tokens::get),
    Route::new("PUT", "/users/me/access_tokens/:id/revoked", tokens::revoke),
    Route::new("GET", "/organizations/:org/roles", members::list_org_roles),
    Route::new("GET", "/spaces/:space/teams", members::list_space_teams),
    Route::new("GET", "/spaces/:space/users", members::list_users),
    Route::new("GET", "/spaces/:space/users/:id", members::get_user),
    Route::new("GET", "/spaces/:space/space_members", members::list_members),
    Route::new(
        "GET",
        "/spaces/:space/space_members/:id",
        members::get_member,
    ),
    Route::new("GET", "/organizations/:org/teams", teams::list),
    Route::new("POST", "/organizations/:org/teams", teams::create),
    Route::new("GET", "/organizations/:org/teams/:id", teams::get),
    Route::new("PUT", "/organizations/:org/teams/:id", teams::update),
    Route::new("DELETE", "/organizations/:org/teams/:id", teams::delete),
    Route::new(
        "GET",
        "/organizations/:org/teams/:team/team_memberships",
        teams::list_memberships,
    ),
    Route::new(
        "POST",
        "/organizations/:org/teams/:team/team_memberships",
        teams::create_membership,
    ),
    Route::new(
        "GET",
        "/organizations/:org/teams/:team/team_memberships/:id",
        teams::get_membership,
    ),
    Route::new(
        "PUT",
        "/organizations/:org/teams/:team/team_memberships/:id",
        teams::update_membership,
    ),
    Route::new(
        "DELETE",
        "/organizations/:org/teams/:team/team_memberships/:id",
        teams::delete_membership,
    ),
    Route::new(
        "GET",
        "/organizations/:org/team_memberships",
        teams::list_org_memberships,
    ),
    Route::new(
        "GET",
        "/organizations/:org/team_space_memberships",
        spaces::list_org_team_space_memberships,
    ),
    Route::new(
        "GET",
        "/organizations/:org/team_space_memberships/:id",
        spaces::get_org_team_space_membership,
    ),
    Route::new(
        "GET",
        "/organizations/:org/space_memberships",
        spaces::list_org_space_memberships,
    ),
    Route::new(
        "GET",
        "/organizations/:org/space_memberships/:id",
        spaces::get_org_space_membership,
    ),
    Route::new("GET", "/organizations/:org/spaces", spaces::list_in_org),
    Route::new(
        "GET",
        "/organizations/:org/access_tokens",
        organizations::list_access_tokens,
    ),
    Route::new("GET", "/spaces", spaces::list),
    Route::new("POST", "/spaces", spaces::create),
    Route::new("GET", "/spaces/:space", spaces::get),
    Route::new(
        "GET",
        "/spaces/:space/team_space_memberships",
        spaces::list_team_space_memberships,
    ),
    Route::new(
        "POST",
        "/spaces/:space/team_space_memberships",
        spaces::create_team_space_membership,
    ),
    Route::new(
        "GET",
        "/spaces/:space/team_space_memberships/:id",
        spaces::get_team_space_membership,
    ),
    Route::new(
        "PUT",
        "/spaces/:space/team_space_memberships/:id",
        spaces::update_team_space_membership,
    ),
    Route::new(
        "DELETE",
        "/spaces/:space/team_space_memberships/:id",
        spaces::delete_team_space_membership,
    ),
    Route::new(
        "GET",
        "/spaces/:space/space_memberships",
        spaces::list_space_memberships,
    ),
    Route::new(
        "POST",
        "/spaces/:space/space_memberships",
        spaces::create_space_membership,
    ),
    Route::new(
        "GET",
        "/spaces/:space/space_memberships/:id",
        spaces::get_space_membership,
    ),
    Route::new(
        "PUT",
        "/spaces/:space/space_memberships/:id",
        spaces::update_space_membership,
    ),
    Route::new(
        "DELETE",
        "/spaces/:space/space_memberships/:id",
        spaces::delete_space_membership,
    ),
    Route::new("GET", "/spaces/:space/roles", spaces::list_roles),
    Route::new("POST", "/spaces/:space/roles", spaces::create_role),
    Route::new("GET", "/spaces/:space/roles/:id", spaces::get_role),
    Route::new("PUT", "/spaces/:space/roles/:id", spaces::update_role),
    Route::new("DELETE", "/spaces/:space/roles/:id", spaces::delete_role),
];

/// The route serving `method path`, with the values of its `:` parameters in order.
pub(super) fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<String>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    'routes: for route in ROUTES {
        if route.method != method {
            continue;
        }
        let tsegs: Vec<&str> = route.path.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        for (t, s) in tsegs.iter().zip(&segs) {
            if t.starts_with(':') {
                if s.is_empty() {
                    continue 'routes;
                }
                params.push((*s).to_string());
            } else if t != s {
                continue 'routes;
            }
        }
        return Some((route, params));
    }
    None
}

/// The templated route (e.g. `/organizations/:org/teams`) serving `method path`, with the values
/// of its `:` parameters in order; `None` when nothing matches.
pub fn match_route(method: &str, path: &str) -> Option<(&'static str, Vec<String>)> {
    find(method, path).map(|(route, params)| (route.path, params))
}
