//! Pure request building: for each Contentful call, its method, templated route (for statistics),
//! concrete path, query, extra headers and JSON body. No I/O here, so every request the client can
//! send is checked by unit tests without a server.

use reqwest::Method;
use serde_json::{Value, json};

use crate::model::{Email, OrgRole, RoleDefinition};

/// The page size of every collection read (the API's maximum).
pub(crate) const PAGE_SIZE: u64 = 100;

/// One HTTP request to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub method: Method,
    /// Method and templated path, e.g. `GET /organizations/{org}/teams`.
    pub route: &'static str,
    /// Concrete path, ids percent-encoded.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl Request {
    fn new(method: Method, route: &'static str, path: String) -> Self {
        Request {
            method,
            route,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    fn header(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((key, value.into()));
        self
    }

    /// Adds `X-Contentful-Version` (updates always; `apply` also sends it on deletes).
    pub fn version(self, version: u64) -> Self {
        self.header("X-Contentful-Version", version.to_string())
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The same request for another page of a collection (`skip` replaced).
    pub fn page(&self, skip: u64) -> Request {
        let mut r = self.clone();
        r.query.retain(|(k, _)| *k != "skip");
        r.query.push(("skip", skip.to_string()));
        r
    }

    /// Path and query as shown in logs and errors: `/spaces/x/roles?limit=100&skip=0`.
    pub fn display_path(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }

    /// The method's name (every method this client sends is a standard one).
    pub fn method_name(&self) -> &'static str {
        match self.method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::PATCH => "PATCH",
            _ => "OTHER",
        }
    }

    /// True for POST: not idempotent, retried only when it provably never reached the server.
    pub fn is_post(&self) -> bool {
        self.method == Method::POST
    }
}

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Number of pages a collection of `total` items needs (at least 1: the first page is always read).
pub(crate) fn page_count(total: u64) -> u64 {
    total.div_ceil(PAGE_SIZE).max(1)
}

/// The `skip` values of the pages after the first.
pub(crate) fn remaining_skips(total: u64) -> Vec<u64> {
    (1..page_count(total)).map(|p| p * PAGE_SIZE).collect()
}

fn role_links(admin: bool, role_ids: &[String]) -> Value {
    if admin {
        return json!([]);
    }
    Value::Array(
        role_ids
            .iter()
            .map(|id| json!({"sys": {"type": "Link", "linkType": "Role", "id": id}}))
            .collect(),
    )
}

fn collection(route: &'static str, path: String) -> Request {
    Request::new(Method::GET, route, path)
        .query("limit", PAGE_SIZE.to_string())
        .query("skip", "0")
}

/// Pages of a collection read concurrently must come from one stable order; these endpoints
/// document `order=sys.createdAt` (teams, spaces and roles document no order parameter).
fn ordered(mut r: Request) -> Request {
    r.query.insert(0, ("order", "sys.createdAt".into()));
    r
}

// --- reads ---------------------------------------------------------------------------------------

pub(crate) fn users_me() -> Request {
    Request::new(Method::GET, "GET /users/me", "/users/me".into())
}

pub(crate) fn org_memberships(org: &str) -> Request {
    let mut r = ordered(collection(
        "GET /organizations/{org}/organization_memberships",
        format!("/organizations/{}/organization_memberships", encode(org)),
    ));
    r.query.insert(0, ("include", "sys.user".into()));
    r
}

pub(crate) fn teams(org: &str) -> Request {
    collection(
        "GET /organizations/{org}/teams",
        format!("/organizations/{}/teams", encode(org)),
    )
}

pub(crate) fn team_memberships(org: &str) -> Request {
    ordered(collection(
        "GET /organizations/{org}/team_memberships",
        format!("/organizations/{}/team_memberships", encode(org)),
    ))
}

pub(crate) fn team_space_memberships(org: &str) -> Request {
    ordered(collection(
        "GET /organizations/{org}/team_space_memberships",
        format!("/organizations/{}/team_space_memberships", encode(org)),
    ))
}

pub(crate) fn space_memberships(org: &str) -> Request {
    ordered(collection(
        "GET /organizations/{org}/space_memberships",
        format!("/organizations/{}/space_memberships", encode(org)),
    ))
}

pub(crate) fn spaces(org: &str) -> Request {
    collection(
        "GET /organizations/{org}/spaces",
        format!("/organizations/{}/spaces", encode(org)),
    )
}

/// The organizations the token's user belongs to.
pub(crate) fn organizations() -> Request {
    collection("GET /organizations", "/organizations".to_string())
}

/// Every role of every space of the organization (User Management API, "get all space roles"):
/// each role names its space in `sys.space`; `include=sys.space` is the one include documented.
pub(crate) fn org_roles(org: &str) -> Request {
    let mut r = collection(
        "GET /organizations/{org}/roles",
        format!("/organizations/{}/roles", encode(org)),
    );
    r.query.insert(0, ("include", "sys.space".into()));
    r
}

pub(crate) fn access_tokens(org: &str) -> Request {
    collection(
        "GET /organizations/{org}/access_tokens",
        format!("/organizations/{}/access_tokens", encode(org)),
    )
}

pub(crate) fn org_membership(org: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /organizations/{org}/organization_memberships/{id}",
        format!(
            "/organizations/{}/organization_memberships/{}",
            encode(org),
            encode(id)
        ),
    )
}

pub(crate) fn team(org: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /organizations/{org}/teams/{id}",
        format!("/organizations/{}/teams/{}", encode(org), encode(id)),
    )
}

pub(crate) fn team_membership(org: &str, team_id: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /organizations/{org}/teams/{team}/team_memberships/{id}",
        format!(
            "/organizations/{}/teams/{}/team_memberships/{}",
            encode(org),
            encode(team_id),
            encode(id)
        ),
    )
}

pub(crate) fn team_space_membership(space: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /spaces/{space}/team_space_memberships/{id}",
        format!(
            "/spaces/{}/team_space_memberships/{}",
            encode(space),
            encode(id)
        ),
    )
}

pub(crate) fn space_membership(space: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /spaces/{space}/space_memberships/{id}",
        format!("/spaces/{}/space_memberships/{}", encode(space), encode(id)),
    )
}

// --- writes --------------------------------------------------------------------------------------

/// The route of an invitation, whose answer names the created membership in a link.
pub(crate) const INVITE_ROUTE: &str = "POST /organizations/{org}/invitations";

pub(crate) fn invite(
    org: &str,
    email: &Email,
    role: OrgRole,
    first: Option<&str>,
    last: Option<&str>,
) -> Request {
    let mut body = json!({"email": email.as_str(), "role": role.as_str()});
    if let Some(f) = first {
        body["firstName"] = json!(f);
    }
    if let Some(l) = last {
        body["lastName"] = json!(l);
    }
    Request::new(
        Method::POST,
        INVITE_ROUTE,
        format!("/organizations/{}/invitations", encode(org)),
    )
    // The JS SDK sends this on invitations; harmless if the API no longer needs it.
    .header(
        "X-Contentful-Enable-Alpha-Feature",
        "pending-org-membership",
    )
    .body(body)
}

pub(crate) fn update_org_membership(org: &str, id: &str, version: u64, role: OrgRole) -> Request {
    Request {
        method: Method::PUT,
        route: "PUT /organizations/{org}/organization_memberships/{id}",
        ..org_membership(org, id)
    }
    .version(version)
    .body(json!({"role": role.as_str()}))
}

pub(crate) fn delete_org_membership(org: &str, id: &str) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /organizations/{org}/organization_memberships/{id}",
        ..org_membership(org, id)
    }
}

pub(crate) fn create_team(org: &str, name: &str, description: &str) -> Request {
    Request::new(
        Method::POST,
        "POST /organizations/{org}/teams",
        format!("/organizations/{}/teams", encode(org)),
    )
    .body(json!({"name": name, "description": description}))
}

pub(crate) fn update_team(
    org: &str,
    id: &str,
    version: u64,
    name: &str,
    description: &str,
) -> Request {
    Request {
        method: Method::PUT,
        route: "PUT /organizations/{org}/teams/{id}",
        ..team(org, id)
    }
    .version(version)
    .body(json!({"name": name, "description": description}))
}

pub(crate) fn delete_team(org: &str, id: &str) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /organizations/{org}/teams/{id}",
        ..team(org, id)
    }
}

pub(crate) fn create_team_membership(org: &str, team_id: &str, org_membership_id: &str) -> Request {
    Request::new(
        Method::POST,
        "POST /organizations/{org}/teams/{team}/team_memberships",
        format!(
            "/organizations/{}/teams/{}/team_memberships",
            encode(org),
            encode(team_id)
        ),
    )
    .body(json!({"organizationMembershipId": org_membership_id}))
}

pub(crate) fn delete_team_membership(org: &str, team_id: &str, id: &str) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /organizations/{org}/teams/{team}/team_memberships/{id}",
        ..team_membership(org, team_id, id)
    }
}

pub(crate) fn create_team_space_membership(
    space: &str,
    team_id: &str,
    admin: bool,
    role_ids: &[String],
) -> Request {
    Request::new(
        Method::POST,
        "POST /spaces/{space}/team_space_memberships",
        format!("/spaces/{}/team_space_memberships", encode(space)),
    )
    .header("X-Contentful-Team", team_id)
    .body(json!({"admin": admin, "roles": role_links(admin, role_ids)}))
}

pub(crate) fn update_team_space_membership(
    space: &str,
    id: &str,
    version: u64,
    team_id: &str,
    admin: bool,
    role_ids: &[String],
) -> Request {
    Request {
        method: Method::PUT,
        route: "PUT /spaces/{space}/team_space_memberships/{id}",
        ..team_space_membership(space, id)
    }
    .header("X-Contentful-Team", team_id)
    .version(version)
    .body(json!({"admin": admin, "roles": role_links(admin, role_ids)}))
}

pub(crate) fn delete_team_space_membership(space: &str, id: &str) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /spaces/{space}/team_space_memberships/{id}",
        ..team_space_membership(space, id)
    }
}

pub(crate) fn create_space_membership(
    space: &str,
    email: &Email,
    admin: bool,
    role_ids: &[String],
) -> Request {
    Request::new(
        Method::POST,
        "POST /spaces/{space}/space_memberships",
        format!("/spaces/{}/space_memberships", encode(space)),
    )
    .body(json!({"admin": admin, "email": email.as_str(), "roles": role_links(admin, role_ids)}))
}

pub(crate) fn update_space_membership(
    space: &str,
    id: &str,
    version: u64,
    admin: bool,
    role_ids: &[String],
) -> Request {
    Request {
        method: Method::PUT,
        route: "PUT /spaces/{space}/space_memberships/{id}",
        ..space_membership(space, id)
    }
    .version(version)
    .body(json!({"admin": admin, "roles": role_links(admin, role_ids)}))
}

pub(crate) fn delete_space_membership(space: &str, id: &str) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /spaces/{space}/space_memberships/{id}",
        ..space_membership(space, id)
    }
}

pub(crate) fn role(space: &str, id: &str) -> Request {
    Request::new(
        Method::GET,
        "GET /spaces/{space}/roles/{id}",
        format!("/spaces/{}/roles/{}", encode(space), encode(id)),
    )
}

/// A role's body: every unknown top-level field of the definition verbatim (so environment-scoped
/// policies and future keys survive), then `name`, `description`, `permissions` and `policies`,
/// which win over a same-named unknown field. `sys` is never sent.
fn role_body(name: &str, definition: &RoleDefinition) -> Value {
    let mut body = serde_json::Map::new();
    for (k, v) in &definition.other {
        if k != "sys" {
            body.insert(k.clone(), v.clone());
        }
    }
    body.insert("name".into(), json!(name));
    body.insert("description".into(), json!(definition.description));
    body.insert(
        "permissions".into(),
        Value::Object(definition.permissions.clone()),
    );
    body.insert("policies".into(), Value::Array(definition.policies.clone()));
    Value::Object(body)
}

/// `POST /spaces/{space}/roles`: a custom role (Contentful assigns the id).
pub(crate) fn create_role(space: &str, name: &str, definition: &RoleDefinition) -> Request {
    Request::new(
        Method::POST,
        "POST /spaces/{space}/roles",
        format!("/spaces/{}/roles", encode(space)),
    )
    .body(role_body(name, definition))
}

/// `PUT /spaces/{space}/roles/{id}` with `X-Contentful-Version`: the whole role is replaced, so
/// the body carries every field (a field left out would be cleared).
pub(crate) fn update_role(
    space: &str,
    id: &str,
    version: u64,
    name: &str,
    definition: &RoleDefinition,
) -> Request {
    Request {
        method: Method::PUT,
        route: "PUT /spaces/{space}/roles/{id}",
        ..role(space, id)
    }
    .version(version)
    .body(role_body(name, definition))
}

/// `DELETE /spaces/{space}/roles/{id}` with `X-Contentful-Version`, so a role edited since it was
/// read is not deleted unseen.
pub(crate) fn delete_role(space: &str, id: &str, version: u64) -> Request {
    Request {
        method: Method::DELETE,
        route: "DELETE /spaces/{space}/roles/{id}",
        ..role(space, id)
    }
    .version(version)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn org_memberships_ask_for_users_in_a_stable_order_100_at_a_time() {
        let r = org_memberships("org1");
        assert_eq!(r.method, Method::GET);
        assert_eq!(
            r.display_path(),
            "/organizations/org1/organization_memberships?include=sys.user&order=sys.createdAt&limit=100&skip=0"
        );
        assert_eq!(
            r.page(300).display_path(),
            "/organizations/org1/organization_memberships?include=sys.user&order=sys.createdAt&limit=100&skip=300"
        );
        assert_eq!(r.route, "GET /organizations/{org}/organization_memberships");
    }

    #[test]
    fn membership_collections_are_read_in_creation_order() {
        assert_eq!(
            space_memberships("o").page(200).display_path(),
            "/organizations/o/space_memberships?order=sys.createdAt&limit=100&skip=200"
        );
        assert!(
            team_memberships("o")
                .display_path()
                .contains("order=sys.createdAt")
        );
        assert!(
            team_space_memberships("o")
                .display_path()
                .contains("order=sys.createdAt")
        );
        assert!(!teams("o").display_path().contains("order="));
    }

    #[test]
    fn the_org_wide_roles_read_includes_the_spaces_100_at_a_time() {
        let r = org_roles("o 1");
        assert_eq!(r.route, "GET /organizations/{org}/roles");
        assert_eq!(
            r.page(100).display_path(),
            "/organizations/o%201/roles?include=sys.space&limit=100&skip=100"
        );
    }

    #[test]
    fn page_arithmetic() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(1), 1);
        assert_eq!(page_count(100), 1);
        assert_eq!(page_count(101), 2);
        assert_eq!(page_count(1000), 10);
        assert_eq!(page_count(10_001), 101);
        assert!(remaining_skips(100).is_empty());
        assert_eq!(remaining_skips(250), vec![100, 200]);
    }

    #[test]
    fn ids_are_percent_encoded_in_paths() {
        let r = space_membership("sp/../x", "a b");
        assert_eq!(r.path, "/spaces/sp%2F..%2Fx/space_memberships/a%20b");
    }

    #[test]
    fn team_space_membership_writes_carry_team_and_version_headers_and_role_links() {
        let r = create_team_space_membership("sp", "team1", false, &["r1".into(), "r2".into()]);
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/spaces/sp/team_space_memberships");
        assert_eq!(r.headers, vec![("X-Contentful-Team", "team1".to_string())]);
        assert_eq!(
            r.body.unwrap(),
            json!({"admin": false, "roles": [
                {"sys": {"type": "Link", "linkType": "Role", "id": "r1"}},
                {"sys": {"type": "Link", "linkType": "Role", "id": "r2"}}]})
        );

        let r = update_team_space_membership("sp", "tsm1", 7, "team1", true, &["r1".into()]);
        assert_eq!(r.method, Method::PUT);
        assert_eq!(r.path, "/spaces/sp/team_space_memberships/tsm1");
        assert!(
            r.headers
                .contains(&("X-Contentful-Version", "7".to_string()))
        );
        assert!(
            r.headers
                .contains(&("X-Contentful-Team", "team1".to_string()))
        );
        // admin clears roles, as the API does.
        assert_eq!(r.body.unwrap(), json!({"admin": true, "roles": []}));
    }

    #[test]
    fn space_membership_and_org_writes_have_documented_bodies() {
        let r = create_space_membership("sp", &Email::new("Jane@X.com"), false, &["r".into()]);
        assert_eq!(
            r.body.unwrap(),
            json!({"admin": false, "email": "jane@x.com",
                   "roles": [{"sys": {"type": "Link", "linkType": "Role", "id": "r"}}]})
        );
        let r = update_org_membership("o", "m", 3, OrgRole::Admin);
        assert_eq!(r.body.unwrap(), json!({"role": "admin"}));
        assert!(
            r.headers
                .contains(&("X-Contentful-Version", "3".to_string()))
        );
        let r = invite(
            "o",
            &Email::new("a@b.co"),
            OrgRole::Member,
            Some("Ann"),
            None,
        );
        assert_eq!(r.path, "/organizations/o/invitations");
        assert_eq!(
            r.body.unwrap(),
            json!({"email": "a@b.co", "role": "member", "firstName": "Ann"})
        );
        let r = delete_team_membership("o", "t", "tm");
        assert_eq!(r.method, Method::DELETE);
        assert_eq!(r.path, "/organizations/o/teams/t/team_memberships/tm");
        let r = create_team_membership("o", "t", "om");
        assert_eq!(r.body.unwrap(), json!({"organizationMembershipId": "om"}));
        let r = update_team("o", "t", 1, "Editors", "");
        assert_eq!(r.route, "PUT /organizations/{org}/teams/{id}");
        assert_eq!(
            r.body.unwrap(),
            json!({"name": "Editors", "description": ""})
        );
    }

    #[test]
    fn role_writes_send_the_whole_definition_unknown_fields_included() {
        let def = RoleDefinition {
            description: "Reviews".into(),
            permissions: json!({"ContentModel": ["read"]})
                .as_object()
                .cloned()
                .unwrap(),
            policies: vec![json!({"effect": "allow", "actions": ["read"],
                                  "constraint": {"equals": [{"doc": "sys.type"}, "Entry"]}})],
            other: [
                ("environments".to_string(), json!({"master": true})),
                ("name".to_string(), json!("ignored")),
                ("sys".to_string(), json!({"id": "x"})),
            ]
            .into_iter()
            .collect(),
        };
        let want = json!({
            "name": "Reviewer", "description": "Reviews",
            "permissions": {"ContentModel": ["read"]},
            "policies": [{"effect": "allow", "actions": ["read"],
                          "constraint": {"equals": [{"doc": "sys.type"}, "Entry"]}}],
            "environments": {"master": true}
        });
        let r = create_role("sp", "Reviewer", &def);
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/spaces/sp/roles");
        assert!(r.headers.is_empty());
        assert_eq!(r.body.unwrap(), want);

        let r = update_role("sp", "r1", 4, "Reviewer", &def);
        assert_eq!(r.method, Method::PUT);
        assert_eq!(r.route, "PUT /spaces/{space}/roles/{id}");
        assert_eq!(r.path, "/spaces/sp/roles/r1");
        assert_eq!(r.headers, vec![("X-Contentful-Version", "4".to_string())]);
        assert_eq!(r.body.unwrap(), want);

        let r = delete_role("sp", "r1", 5);
        assert_eq!(r.method, Method::DELETE);
        assert_eq!(r.route, "DELETE /spaces/{space}/roles/{id}");
        assert_eq!(r.headers, vec![("X-Contentful-Version", "5".to_string())]);
        assert!(r.body.is_none());
    }
}
