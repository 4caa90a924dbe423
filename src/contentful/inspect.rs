//! `doctor`'s look at the responses of a run: an [`Inspector`] observes every response the client
//! receives and checks each object against what the client relies on (required fields present
//! with the expected JSON types), lists fields it does not know (information, not errors), notes
//! the variants the client tolerates (a space membership's user link only at the deprecated top
//! level, team list items without `sys.version`, `Content-Type: application/json`), the first page
//! of each collection (total, page size served), failed requests and the announced rate limit.
//!
//! The result, [`Inspection`], is plain data: Contentful's JSON stays inside this module.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};

use super::record::{Exchange, ResponseObserver};
use super::request::PAGE_SIZE;

/// The content type Contentful documents for the Management API.
pub const MANAGEMENT_CONTENT_TYPE: &str = "application/vnd.contentful.management.v1+json";

/// A difference the client tolerates, seen in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// A membership's user link only in the deprecated top-level `user` (not `sys.user`).
    TopLevelUser,
    /// Team list items without `sys.version` (read as version 0).
    TeamWithoutVersion,
    /// A team membership's organization membership only as `organizationMembershipId`.
    OrganizationMembershipId,
    /// `Content-Type: application/json` instead of the management API's own type.
    PlainJsonContentType,
}

impl Variant {
    /// What the variant is and what the client does with it.
    pub fn describe(self) -> &'static str {
        match self {
            Variant::TopLevelUser => {
                "the user link is only in the deprecated top-level `user` (not `sys.user`); the client reads it from there"
            }
            Variant::TeamWithoutVersion => {
                "team list items have no `sys.version`; the client reads a missing version as 0"
            }
            Variant::OrganizationMembershipId => {
                "the organization membership is only in `organizationMembershipId`; the client reads it from there"
            }
            Variant::PlainJsonContentType => {
                "responses are `application/json` rather than `application/vnd.contentful.management.v1+json`; the client reads both"
            }
        }
    }
}

/// What is wrong with (or notable in) the objects of one route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShapeIssue {
    /// A field the client needs is absent.
    Missing {
        /// Dotted path inside the object, e.g. `sys.version`.
        field: String,
        /// The JSON type expected.
        expected: &'static str,
    },
    /// A field the client needs has another JSON type.
    WrongType {
        /// Dotted path.
        field: String,
        /// The JSON type expected.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A field this tool does not know (it ignores it).
    Unknown {
        /// Dotted path.
        field: String,
    },
    /// A tolerated variant.
    Variant {
        /// Which.
        variant: Variant,
    },
}

impl ShapeIssue {
    /// True for a missing or mistyped field the client needs.
    pub fn is_blocking(&self) -> bool {
        matches!(
            self,
            ShapeIssue::Missing { .. } | ShapeIssue::WrongType { .. }
        )
    }
}

/// One issue, over all the objects of a route that have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShapeNote {
    /// The route, e.g. `GET /organizations/{org}/teams`.
    pub route: String,
    /// The object kind, e.g. `Team`.
    pub object: &'static str,
    /// What.
    pub issue: ShapeIssue,
    /// How many objects have it.
    pub count: u64,
    /// The id of the first one (when it has one).
    pub example: Option<String>,
}

/// The first page of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionPage {
    /// The route.
    pub route: String,
    /// Path and query of the first page.
    pub path: String,
    /// `total`, when the server sent one.
    pub total: Option<u64>,
    /// `limit` as the server echoed it.
    pub limit: Option<u64>,
    /// Items served on the first page.
    pub served: u64,
    /// The page size asked for.
    pub asked: u64,
}

/// A response that was not a success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedResponse {
    /// The route.
    pub route: String,
    /// Path and query.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// Contentful's error id (`sys.id` of the error document), when it sent one.
    pub error_id: Option<String>,
    /// `X-Contentful-Request-Id` or the error document's `requestId`.
    pub request_id: Option<String>,
}

/// Everything an [`Inspector`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// Responses seen.
    pub responses: u64,
    /// The first page of each collection, in the order seen.
    pub collections: Vec<CollectionPage>,
    /// Non-success responses, in the order seen.
    pub failures: Vec<FailedResponse>,
    /// Shape issues, sorted by route and issue.
    pub shapes: Vec<ShapeNote>,
    /// Content types of the responses with a body, with how many responses had each.
    pub content_types: BTreeMap<String, u64>,
    /// `X-Contentful-RateLimit-Second-Limit`, the last value announced.
    pub rate_limit_per_second: Option<u64>,
}

/// Observes responses and collects an [`Inspection`].
#[derive(Debug, Default)]
pub struct Inspector {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    inspection: Inspection,
    notes: BTreeMap<(String, ShapeIssue), (&'static str, u64, Option<String>)>,
}

impl Inspector {
    /// A new inspector.
    pub fn new() -> Inspector {
        Inspector::default()
    }

    /// What was seen so far.
    pub fn inspection(&self) -> Inspection {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = state.inspection.clone();
        out.shapes = state
            .notes
            .iter()
            .map(|((route, issue), (object, count, example))| ShapeNote {
                route: route.clone(),
                object,
                issue: issue.clone(),
                count: *count,
                example: example.clone(),
            })
            .collect();
        out
    }
}

impl ResponseObserver for Inspector {
    fn observe(&self, ex: &Exchange<'_>) {
        let body: Option<Value> = serde_json::from_slice(ex.body).ok();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let State { inspection, notes } = &mut *state;
        inspection.responses += 1;
        if let Some(limit) = ex
            .header("x-contentful-ratelimit-second-limit")
            .and_then(|v| v.trim().parse().ok())
        {
            inspection.rate_limit_per_second = Some(limit);
        }
        if !ex.body.is_empty()
            && let Some(ct) = ex.header("content-type")
        {
            let ct = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_lowercase();
            *inspection.content_types.entry(ct).or_default() += 1;
        }
        if !(200..300).contains(&ex.status) {
            let doc = body.as_ref();
            inspection.failures.push(FailedResponse {
                route: ex.route.to_string(),
                path: ex.path.to_string(),
                status: ex.status,
                error_id: doc
                    .and_then(|d| d.pointer("/sys/id"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                request_id: ex
                    .header("x-contentful-request-id")
                    .map(str::to_string)
                    .or_else(|| {
                        doc.and_then(|d| d.get("requestId"))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    }),
            });
            return;
        }
        let Some(body) = body else { return };
        let Some(kind) = object_kind(ex.route) else {
            return;
        };
        let mut note = |issue: ShapeIssue, object: &'static str, id: Option<&str>| {
            let entry = notes.entry((ex.route.to_string(), issue)).or_insert((
                object,
                0,
                id.map(str::to_string),
            ));
            entry.1 += 1;
        };
        if ex.route.starts_with("GET ") && body.get("items").is_some() {
            // One entry per collection: per path, so each space's roles is its own.
            let bare = |p: &str| p.split('?').next().unwrap_or_default().to_string();
            let first = !inspection
                .collections
                .iter()
                .any(|c| bare(&c.path) == bare(ex.path));
            let items = body.get("items").and_then(Value::as_array);
            if first {
                inspection.collections.push(CollectionPage {
                    route: ex.route.to_string(),
                    path: ex.path.to_string(),
                    total: body.get("total").and_then(Value::as_u64),
                    limit: body.get("limit").and_then(Value::as_u64),
                    served: items.map_or(0, |i| i.len() as u64),
                    asked: asked_limit(ex.path).unwrap_or(PAGE_SIZE),
                });
            }
            for item in items.into_iter().flatten() {
                check(kind, item, &mut note);
            }
            let users = body.pointer("/includes/User").and_then(Value::as_array);
            for user in users.into_iter().flatten() {
                check(Kind::User, user, &mut note);
            }
        } else {
            check(kind, &body, &mut note);
        }
    }
}

fn asked_limit(path: &str) -> Option<u64> {
    let query = path.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse().ok())
}

/// The object kinds the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Organization,
    OrganizationMembership,
    Team,
    TeamMembership,
    TeamSpaceMembership,
    SpaceMembership,
    Space,
    Role,
}

/// The kind of object a read route returns (items of a collection, or the object itself).
fn object_kind(route: &str) -> Option<Kind> {
    let path = route.strip_prefix("GET ")?;
    let last = path
        .rsplit('/')
        .find(|seg| !seg.starts_with('{'))
        .unwrap_or_default();
    Some(match last {
        "me" => Kind::User,
        "organizations" => Kind::Organization,
        "organization_memberships" => Kind::OrganizationMembership,
        "teams" => Kind::Team,
        "team_memberships" => Kind::TeamMembership,
        "team_space_memberships" => Kind::TeamSpaceMembership,
        "space_memberships" => Kind::SpaceMembership,
        "spaces" => Kind::Space,
        "roles" => Kind::Role,
        _ => return None,
    })
}

/// A JSON type as a spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Num,
    Bool,
    Arr,
    Obj,
    /// `{"sys": {"id": "…", …}}`.
    Link,
    /// Anything (known, not checked).
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Num => "number",
            Ty::Bool => "boolean",
            Ty::Arr => "array",
            Ty::Obj => "object",
            Ty::Link => "link",
            Ty::Any => "any",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match self {
            Ty::Str => v.is_string(),
            Ty::Num => v.is_u64() || v.is_i64() || v.is_f64(),
            Ty::Bool => v.is_boolean(),
            Ty::Arr => v.is_array(),
            Ty::Obj => v.is_object(),
            Ty::Link => v.pointer("/sys/id").is_some_and(Value::is_string),
            Ty::Any => true,
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(o) if o.contains_key("sys") => "object without sys.id",
        Value::Object(_) => "object",
    }
}

/// Whether the client needs a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Must be present (not null) with its type.
    Required,
    /// Known; checked for its type when present and not null.
    Known,
}

use Need::{Known, Required};

/// `(field, type, need)`: top-level fields, then `sys.` fields.
type Spec = &'static [(&'static str, Ty, Need)];

const SYS_COMMON: Spec = &[
    ("sys.id", Ty::Str, Required),
    ("sys.type", Ty::Str, Known),
    ("sys.version", Ty::Num, Known),
    ("sys.createdAt", Ty::Str, Known),
    ("sys.updatedAt", Ty::Str, Known),
    ("sys.createdBy", Ty::Link, Known),
    ("sys.updatedBy", Ty::Link, Known),
    ("sys.organization", Ty::Link, Known),
];

fn spec(kind: Kind) -> (&'static str, Spec) {
    match kind {
        Kind::User => (
            "User",
            &[
                ("email", Ty::Str, Required),
                ("firstName", Ty::Str, Known),
                ("lastName", Ty::Str, Known),
                ("avatarUrl", Ty::Str, Known),
                ("activated", Ty::Bool, Known),
                ("signInCount", Ty::Num, Known),
                ("confirmed", Ty::Bool, Known),
                ("2faEnabled", Ty::Bool, Known),
                ("cookieConsentData", Ty::Any, Known),
            ],
        ),
        Kind::Organization => ("Organization", &[("name", Ty::Str, Required)]),
        Kind::OrganizationMembership => (
            "OrganizationMembership",
            &[
                ("role", Ty::Str, Required),
                ("sys.version", Ty::Num, Required),
                ("sys.status", Ty::Str, Known),
                ("sys.lastActiveAt", Ty::Str, Known),
                ("sys.sso", Ty::Any, Known),
                ("sys.user", Ty::Link, Known),
                ("user", Ty::Link, Known),
            ],
        ),
        Kind::Team => (
            "Team",
            &[
                ("name", Ty::Str, Required),
                ("description", Ty::Str, Known),
                ("sys.memberCount", Ty::Num, Known),
            ],
        ),
        Kind::TeamMembership => (
            "TeamMembership",
            &[
                ("sys.version", Ty::Num, Required),
                ("sys.team", Ty::Link, Required),
                ("sys.organizationMembership", Ty::Link, Known),
                ("organizationMembershipId", Ty::Str, Known),
                ("admin", Ty::Bool, Known),
                ("sys.user", Ty::Link, Known),
            ],
        ),
        Kind::TeamSpaceMembership => (
            "TeamSpaceMembership",
            &[
                ("sys.version", Ty::Num, Required),
                ("sys.team", Ty::Link, Required),
                ("sys.space", Ty::Link, Required),
                ("admin", Ty::Bool, Required),
                ("roles", Ty::Arr, Required),
            ],
        ),
        Kind::SpaceMembership => (
            "SpaceMembership",
            &[
                ("sys.version", Ty::Num, Required),
                ("sys.space", Ty::Link, Known),
                ("sys.user", Ty::Link, Known),
                ("user", Ty::Link, Known),
                ("admin", Ty::Bool, Required),
                ("roles", Ty::Arr, Required),
            ],
        ),
        Kind::Space => ("Space", &[("name", Ty::Str, Required)]),
        Kind::Role => (
            "Role",
            &[
                ("name", Ty::Str, Required),
                ("description", Ty::Str, Known),
                ("policies", Ty::Arr, Known),
                ("permissions", Ty::Obj, Known),
                ("sys.space", Ty::Link, Known),
            ],
        ),
    }
}

fn field<'v>(o: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    match path.split_once('.') {
        Some((head, rest)) => o.get(head)?.as_object()?.get(rest),
        None => o.get(path),
    }
    .filter(|v| !v.is_null())
}

/// Checks one object of `kind`, reporting each issue through `note`.
fn check(kind: Kind, item: &Value, note: &mut impl FnMut(ShapeIssue, &'static str, Option<&str>)) {
    let (object, own) = spec(kind);
    let Some(o) = item.as_object() else {
        note(
            ShapeIssue::WrongType {
                field: "(item)".into(),
                expected: "object",
                found: json_type(item),
            },
            object,
            None,
        );
        return;
    };
    let id = o
        .get("sys")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str);
    // The object's own spec wins over the common `sys` fields (sys.version may be required).
    let all = own.iter().chain(
        SYS_COMMON
            .iter()
            .filter(|(f, _, _)| !own.iter().any(|(g, _, _)| g == f)),
    );
    for &(path, ty, need) in all {
        match field(o, path) {
            None if need == Required => {
                if kind == Kind::Team && path == "sys.version" {
                    continue;
                }
                note(
                    ShapeIssue::Missing {
                        field: path.to_string(),
                        expected: ty.name(),
                    },
                    object,
                    id,
                );
            }
            Some(v) if !ty.matches(v) => note(
                ShapeIssue::WrongType {
                    field: path.to_string(),
                    expected: ty.name(),
                    found: json_type(v),
                },
                object,
                id,
            ),
            _ => {}
        }
    }
    // Alternatives the client accepts, and variants worth reporting.
    let has = |path: &str| field(o, path).is_some();
    match kind {
        Kind::Team if !has("sys.version") => note(
            ShapeIssue::Variant {
                variant: Variant::TeamWithoutVersion,
            },
            object,
            id,
        ),
        Kind::OrganizationMembership | Kind::SpaceMembership if !has("sys.user") => {
            let issue = if has("user") {
                ShapeIssue::Variant {
                    variant: Variant::TopLevelUser,
                }
            } else {
                ShapeIssue::Missing {
                    field: "sys.user".into(),
                    expected: "link",
                }
            };
            note(issue, object, id);
        }
        Kind::TeamMembership if !has("sys.organizationMembership") => {
            let issue = if has("organizationMembershipId") {
                ShapeIssue::Variant {
                    variant: Variant::OrganizationMembershipId,
                }
            } else {
                ShapeIssue::Missing {
                    field: "sys.organizationMembership".into(),
                    expected: "link",
                }
            };
            note(issue, object, id);
        }
        _ => {}
    }
    // Fields this tool does not know: top level and inside `sys`.
    for (k, v) in o {
        if k == "sys" {
            for sk in v.as_object().into_iter().flat_map(|s| s.keys()) {
                let path = format!("sys.{sk}");
                if !own.iter().chain(SYS_COMMON).any(|(f, _, _)| *f == path) {
                    note(ShapeIssue::Unknown { field: path }, object, id);
                }
            }
        } else if !own.iter().any(|(f, _, _)| *f == k.as_str()) {
            note(ShapeIssue::Unknown { field: k.clone() }, object, id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(kind: Kind, item: Value) -> Vec<ShapeIssue> {
        let mut out = Vec::new();
        check(kind, &item, &mut |i, _, _| out.push(i));
        out.sort();
        out
    }

    #[test]
    fn a_team_without_version_is_a_variant_not_an_error() {
        let got = issues(
            Kind::Team,
            json!({"name": "Editors", "sys": {"id": "t1", "type": "Team"}}),
        );
        assert_eq!(
            got,
            [ShapeIssue::Variant {
                variant: Variant::TeamWithoutVersion
            }]
        );
    }

    #[test]
    fn missing_and_mistyped_required_fields_block_and_unknown_ones_are_listed() {
        let got = issues(
            Kind::SpaceMembership,
            json!({"admin": "yes", "user": {"sys": {"id": "u"}}, "colour": 1,
                   "sys": {"id": "sm1", "shiny": true}}),
        );
        assert_eq!(
            got,
            [
                ShapeIssue::Missing {
                    field: "roles".into(),
                    expected: "array"
                },
                ShapeIssue::Missing {
                    field: "sys.version".into(),
                    expected: "number"
                },
                ShapeIssue::WrongType {
                    field: "admin".into(),
                    expected: "boolean",
                    found: "string"
                },
                ShapeIssue::Unknown {
                    field: "colour".into()
                },
                ShapeIssue::Unknown {
                    field: "sys.shiny".into()
                },
                ShapeIssue::Variant {
                    variant: Variant::TopLevelUser
                },
            ]
        );
        assert!(got[0].is_blocking() && got[2].is_blocking() && !got[3].is_blocking());
    }

    #[test]
    fn routes_name_their_objects() {
        assert_eq!(object_kind("GET /users/me"), Some(Kind::User));
        assert_eq!(
            object_kind("GET /organizations/{org}/team_memberships"),
            Some(Kind::TeamMembership)
        );
        assert_eq!(object_kind("GET /spaces/{space}/roles"), Some(Kind::Role));
        assert_eq!(
            object_kind("GET /organizations/{org}/roles"),
            Some(Kind::Role)
        );
        assert_eq!(object_kind("PUT /organizations/{org}/teams/{id}"), None);
    }
}
