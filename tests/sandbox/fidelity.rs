//! Fidelity: for recorded real Contentful responses (copied into `tests/recorded/`, see its
//! PROVENANCE.md), the sandbox's answer to the same request has the same JSON *shape*: the same
//! keys with the same value types, recursively. Ids, dates and other values are ignored, and
//! `null` on either side matches any type (names of pending invitees, `lastActiveAt`, …).
//!
//! Every accepted difference is listed at its test, with the reason.

use std::path::Path;

use contentful_access::sandbox::{SandboxOptions, Server, demo_seed};
use serde::Deserialize;
use serde_json::{Value, json};

use super::read::{MARKETING, ORG, demo, get, get_as};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/recorded");

/// Newer API additions the sandbox serves beside the 2016–2021 recordings.
const USER_2FA: &str = "2faEnabled";

#[derive(Deserialize)]
struct PyCassette {
    interactions: Vec<Interaction>,
}

#[derive(Deserialize)]
struct RbCassette {
    http_interactions: Vec<Interaction>,
}

#[derive(Deserialize)]
struct Interaction {
    request: Request,
    response: Response,
}

#[derive(Deserialize)]
struct Request {
    method: String,
}

#[derive(Deserialize)]
struct Response {
    status: Status,
    body: Body,
}

#[derive(Deserialize)]
struct Status {
    code: u16,
}

#[derive(Deserialize)]
struct Body {
    string: String,
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn body_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        // rb cassettes store some bodies as `!binary` base64.
        serde_json::from_slice(&base64_decode(text)).unwrap()
    })
}

/// The recorded response body of the last interaction with this method and status.
fn recorded(file: &str, method: &str, status: u16) -> Value {
    let path = Path::new(ROOT).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    if file.ends_with(".json") {
        let v: Value = serde_json::from_str(&text).unwrap();
        let Some(list) = v.as_array() else {
            return v; // java: the response body alone
        };
        let it = list
            .iter()
            .rfind(|i| {
                i["request"]["method"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(method)
                    && i["response"]["status"]["code"].as_str() == Some(&status.to_string())
            })
            .unwrap_or_else(|| panic!("{file}: no {method} → {status}"));
        return body_json(it["response"]["body"].as_str().unwrap());
    }
    // Some py cassettes hold gzip bodies as `!!binary` in interactions we do not use: keep
    // those as their base64 text instead of failing on them.
    let opts = || serde_saphyr::options! { ignore_binary_tag_for_string: true };
    let interactions = if file.ends_with(".yml") {
        serde_saphyr::from_str_with_options::<RbCassette>(&text, opts())
            .unwrap()
            .http_interactions
    } else {
        serde_saphyr::from_str_with_options::<PyCassette>(&text, opts())
            .unwrap()
            .interactions
    };
    let it = interactions
        .iter()
        .rfind(|i| {
            i.request.method.eq_ignore_ascii_case(method) && i.response.status.code == status
        })
        .unwrap_or_else(|| panic!("{file}: no {method} → {status}"));
    body_json(&it.response.body.string)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences in shape between a recorded value and the sandbox's, as `path: what` lines.
fn shape_diff(rec: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    match (rec, ours) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match o.get(k) {
                    None => out.push(format!("{p}: missing in sandbox")),
                    Some(ov) => shape_diff(rv, ov, &p, out),
                }
            }
            for k in o.keys().filter(|k| !r.contains_key(*k)) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.push(format!("{p}: only in sandbox"));
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            let p = format!("{path}[]");
            if o.is_empty() {
                return;
            }
            // Each recorded element must match the shape of some element the sandbox returns
            // (the recordings mix e.g. active users and pending invitees).
            for rv in r {
                let mut best: Option<Vec<String>> = None;
                for ov in o {
                    let mut d = Vec::new();
                    shape_diff(rv, ov, &p, &mut d);
                    if best.as_ref().is_none_or(|b| d.len() < b.len()) {
                        best = Some(d);
                    }
                }
                out.extend(best.unwrap_or_default());
            }
        }
        (r, o) if kind(r) != kind(o) => {
            out.push(format!(
                "{path}: {} recorded, {} in sandbox",
                kind(r),
                kind(o)
            ));
        }
        _ => {}
    }
}

/// Asserts equal shapes apart from the `allowed` differences (exact `path: what` lines, or a
/// prefix ending in `*`).
fn assert_same_shape(file: &str, rec: &Value, ours: &Value, allowed: &[&str]) {
    let mut diffs = Vec::new();
    shape_diff(rec, ours, "", &mut diffs);
    diffs.sort();
    diffs.dedup();
    let unexpected: Vec<&String> = diffs
        .iter()
        .filter(|d| {
            !allowed.iter().any(|a| match a.strip_suffix('*') {
                Some(prefix) => d.starts_with(prefix),
                None => d.as_str() == *a,
            })
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{file}: shape differs from the recording:\n  {}\nsandbox said: {ours:#}",
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

fn check(file: &str, method: &str, status: u16, ours: &Value, allowed: &[&str]) {
    let rec = recorded(file, method, status);
    assert_same_shape(file, &rec, ours, allowed);
}

#[test]
fn shape_comparison_catches_missing_extra_and_retyped_keys() {
    let mut d = Vec::new();
    shape_diff(
        &json!({"a": 1, "b": {"c": "x"}, "n": null, "l": [{"k": true}]}),
        &json!({"a": "1", "b": {}, "n": 5, "e": 0, "l": [{"k": 1}]}),
        "",
        &mut d,
    );
    d.sort();
    assert_eq!(
        d,
        [
            "a: number recorded, string in sandbox",
            "b.c: missing in sandbox",
            "e: only in sandbox",
            "l[].k: bool recorded, number in sandbox"
        ]
    );
}

#[test]
fn rb_binary_bodies_are_decoded() {
    let users = recorded(
        "contentful-management.rb/spec/fixtures/vcr_cassettes/organization/users.yml",
        "get",
        200,
    );
    assert_eq!(users["sys"]["type"], "Array");
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["activated"] == false)
    );
}

#[tokio::test]
async fn users_me_matches_recordings() {
    let s = demo().await;
    let (_, me) = get(&s, "/users/me").await;
    // 2faEnabled: newer field (seen in the 2021 rb recording of org users), absent in 2017/18.
    for file in [
        "contentful-management.py/fixtures/users/me.yaml",
        "contentful-management.java/src/test/resources/users_get_me.json",
        "contentful-management.php/tests/Recordings/e2e_user_get_me.json",
    ] {
        check(
            file,
            "get",
            200,
            &me,
            &[&format!("{USER_2FA}: only in sandbox")],
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn organizations_match_recordings() {
    let s = demo().await;
    let (_, orgs) = get(&s, "/organizations").await;
    for file in [
        "contentful-management.py/fixtures/organization/all.yaml",
        "contentful-management.rb/spec/fixtures/vcr_cassettes/organization/all.yml",
        "contentful-management.java/src/test/resources/organizations_get_all.json",
        "contentful-management.php/tests/Recordings/e2e_organization_get_collection.json",
    ] {
        check(file, "get", 200, &orgs, &[]);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn org_users_match_recordings_including_pending_invitees() {
    let s = demo().await;
    let (_, users) = get(&s, &format!("/organizations/{ORG}/users?limit=100")).await;
    // cookieConsentData: a UI preference blob the sandbox does not model.
    check(
        "contentful-management.rb/spec/fixtures/vcr_cassettes/organization/users.yml",
        "get",
        200,
        &users,
        &["items[].cookieConsentData: missing in sandbox"],
    );
    let id = users["items"][0]["sys"]["id"].as_str().unwrap();
    let (_, one) = get(&s, &format!("/organizations/{ORG}/users/{id}")).await;
    for file in [
        "contentful-management.rb/spec/fixtures/vcr_cassettes/organization/user.yml",
        "contentful-management.py/fixtures/organization/user.yaml",
    ] {
        check(
            file,
            "get",
            200,
            &one,
            &[
                "cookieConsentData: missing in sandbox",
                &format!("{USER_2FA}: only in sandbox"),
            ],
        );
    }
    s.shutdown().await;
}

/// `sys.user`: the current docs' location of the user link, beside the deprecated top-level
/// `user` the 2016–2018 recordings show.
const SM_SYS_USER: &str = "sys.user: only in sandbox";
const SM_ITEMS_SYS_USER: &str = "items[].sys.user: only in sandbox";

#[tokio::test]
async fn space_memberships_match_recordings() {
    let s = demo().await;
    let (_, list) = get(&s, &format!("/spaces/{MARKETING}/space_memberships")).await;
    for file in [
        "contentful-management.py/fixtures/memberships/all.yaml",
        "contentful-management.rb/spec/fixtures/vcr_cassettes/space_memberships/all.yml",
        "contentful-management.java/src/test/resources/space_memberships_fetch_all.json",
    ] {
        check(file, "get", 200, &list, &[SM_ITEMS_SYS_USER]);
    }
    let id = list["items"][0]["sys"]["id"].as_str().unwrap();
    let (_, one) = get(&s, &format!("/spaces/{MARKETING}/space_memberships/{id}")).await;
    for file in [
        "contentful-management.py/fixtures/memberships/find.yaml",
        "contentful-management.java/src/test/resources/space_memberships_fetch_one.json",
        "contentful-management.php/tests/Recordings/e2e_space_membership_get_one.json",
    ] {
        check(file, "get", 200, &one, &[SM_SYS_USER]);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn space_membership_writes_and_404_match_recordings() {
    let s = demo().await;
    let (_, roles) = get(&s, &format!("/spaces/{MARKETING}/roles")).await;
    let role = roles["items"][0]["sys"]["id"].clone();
    let link = json!({"sys": {"type": "Link", "linkType": "Role", "id": role}});
    let client = reqwest::Client::new();
    let url = format!("{}/spaces/{MARKETING}/space_memberships", s.base_url());
    let created: Value = client
        .post(&url)
        .bearer_auth(s.admin_token())
        .body(
            json!({"admin": false, "email": "priya.raman@acme.example", "roles": [link]})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for file in [
        "contentful-management.py/fixtures/memberships/create.yaml",
        "contentful-management.rb/spec/fixtures/vcr_cassettes/space_memberships/create.yml",
    ] {
        check(file, "post", 201, &created, &[SM_SYS_USER]);
    }
    let id = created["sys"]["id"].as_str().unwrap();
    let updated: Value = client
        .put(format!("{url}/{id}"))
        .bearer_auth(s.admin_token())
        .header("X-Contentful-Version", "0")
        .body(json!({"admin": true, "roles": [link]}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(
        "contentful-management.py/fixtures/memberships/update.yaml",
        "put",
        200,
        &updated,
        &[SM_SYS_USER],
    );
    client
        .delete(format!("{url}/{id}"))
        .bearer_auth(s.admin_token())
        .send()
        .await
        .unwrap();
    let (st, gone) = get(&s, &format!("/spaces/{MARKETING}/space_memberships/{id}")).await;
    assert_eq!(st, 404);
    // details: documented as optional on NotFound; the sandbox names the type and id.
    check(
        "contentful-management.py/fixtures/memberships/delete.yaml",
        "get",
        404,
        &gone,
        &["details: only in sandbox"],
    );
    s.shutdown().await;
}

#[tokio::test]
async fn roles_match_recordings() {
    let s = demo().await;
    let (_, list) = get(&s, &format!("/spaces/{MARKETING}/roles")).await;
    // Role content differs per space and era, not the structure: `actions` and permission
    // values are each documented as an array or the string "all", and `Environments` is a
    // permission key newer than the 2016 recording. Policy constraints are free-form
    // expressions (`equals`, `paths`, …) that differ per role.
    let one_variants = [
        "permissions.ContentDelivery: string recorded, array in sandbox",
        "permissions.Settings: string recorded, array in sandbox",
        "permissions.Environments: only in sandbox",
        "policies[].actions: array recorded, string in sandbox",
        "policies[].constraint.*",
    ];
    let list_variants: Vec<String> = one_variants
        .iter()
        .map(|v| format!("items[].{v}"))
        .collect();
    let list_variants: Vec<&str> = list_variants.iter().map(String::as_str).collect();
    for file in [
        "contentful-management.rb/spec/fixtures/vcr_cassettes/roles/all_for_space.yml",
        "contentful-management.java/src/test/resources/roles_get_all.json",
    ] {
        check(file, "get", 200, &list, &list_variants);
    }
    let id = list["items"][0]["sys"]["id"].as_str().unwrap();
    let (_, one) = get(&s, &format!("/spaces/{MARKETING}/roles/{id}")).await;
    for file in [
        "contentful-management.rb/spec/fixtures/vcr_cassettes/roles/find.yml",
        "contentful-management.php/tests/Recordings/e2e_role_get_one.json",
    ] {
        check(file, "get", 200, &one, &one_variants);
    }
    let (_, missing) = get(&s, &format!("/spaces/{MARKETING}/roles/not_exist")).await;
    check(
        "contentful-management.rb/spec/fixtures/vcr_cassettes/roles/find_for_space_not_found.yml",
        "get",
        404,
        &missing,
        &["details: only in sandbox"],
    );
    s.shutdown().await;
}

#[tokio::test]
async fn error_bodies_match_recordings() {
    let s = demo().await;
    let (_, _, unauthorized) = get_as(&s, "wrong-token", "/organizations").await;
    // The cassette stores this body gzipped; the gunzipped copy is documented in PROVENANCE.md.
    check(
        "contentful-management.py/fixtures/client/additional_headers.401-body.json",
        "get",
        401,
        &unauthorized,
        &[],
    );

    let (_, bad_limit) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships?limit=abc"),
    )
    .await;
    check(
        "contentful-management.java/src/test/resources/error_wrong_type_for_limit.json",
        "get",
        400,
        &bad_limit,
        &[],
    );

    let client = reqwest::Client::new();
    let (_, teams) = get(&s, &format!("/organizations/{ORG}/teams")).await;
    let team = teams["items"][0]["sys"]["id"].as_str().unwrap();
    let url = format!("{}/organizations/{ORG}/teams/{team}", s.base_url());
    let put = |version: &'static str, body: Value| {
        client
            .put(&url)
            .bearer_auth(s.admin_token())
            .header("X-Contentful-Version", version)
            .body(body.to_string())
            .send()
    };
    let unknown: Value = put("1", json!({"name": "x", "unknownKey": 1}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(
        "contentful-management.php/tests/Recordings/e2e_error_unknown_key.json",
        "post",
        400,
        &unknown,
        &[],
    );
    let stale: Value = put("23", json!({"name": "x"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // message: the recorded 409 has none; the sandbox always explains (the docs list `message`).
    check(
        "contentful-management.php/tests/Recordings/e2e_error_version_mismatch.json",
        "put",
        409,
        &stale,
        &["message: only in sandbox"],
    );

    let taken: Value = client
        .post(format!("{}/organizations/{ORG}/invitations", s.base_url()))
        .bearer_auth(s.admin_token())
        .body(json!({"email": "bob@acme.example"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // details.errors[].details: a human explanation the sandbox adds to each validation error.
    check(
        "contentful-management.rb/spec/fixtures/vcr_cassettes/webhook/create_with_taken_url.yml",
        "put",
        422,
        &taken,
        &["details.errors[].details: only in sandbox"],
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rate_limit_error_matches_recording() {
    let s = Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec: 1,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut limited = None;
    for _ in 0..3 {
        let (st, _, body) = get_as(&s, &s.admin_token(), "/organizations").await;
        if st == 429 {
            limited = Some(body);
        }
    }
    // requestId: the 2014 recording predates it; current docs list it on every error.
    check(
        "contentful-management.rb/spec/fixtures/vcr_cassettes/entry/too_many_requests.yml",
        "put",
        429,
        &limited.unwrap(),
        &["requestId: only in sandbox"],
    );
    s.shutdown().await;
}

/// A user's own personal access tokens (`/users/me/access_tokens`) against the 2017 recordings:
/// the same `PersonalAccessToken` shape; the newer fields (CMA docs: `redactedValue`,
/// `expiresAt`, `lastUsedAt`) are only in the sandbox.
#[tokio::test]
async fn personal_access_tokens_match_recordings() {
    let s = demo().await;
    let newer = [
        "sys.redactedValue: only in sandbox",
        "sys.expiresAt: only in sandbox",
        "sys.lastUsedAt: only in sandbox",
    ];
    let in_items: Vec<String> = newer.iter().map(|d| format!("items[].{d}")).collect();
    let in_items: Vec<&str> = in_items.iter().map(String::as_str).collect();
    let (_, all) = get(&s, "/users/me/access_tokens").await;
    assert!(!all["items"].as_array().unwrap().is_empty());
    check(
        "contentful-management.py/fixtures/pat/all.yaml",
        "get",
        200,
        &all,
        &in_items,
    );
    let id = all["items"][0]["sys"]["id"].as_str().unwrap();
    let (_, one) = get(&s, &format!("/users/me/access_tokens/{id}")).await;
    check(
        "contentful-management.py/fixtures/pat/find.yaml",
        "get",
        200,
        &one,
        &newer,
    );
    let revoked = reqwest::Client::new()
        .put(format!(
            "{}/users/me/access_tokens/{id}/revoked",
            s.base_url()
        ))
        .bearer_auth(s.admin_token())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    check(
        "contentful-management.py/fixtures/pat/revoke.yaml",
        "put",
        200,
        &revoked,
        &newer,
    );
    s.shutdown().await;
}

/// The shape differences between every response of a `--record DIR` folder and the sandbox's
/// answer to the same request, as `file: path: what` lines (also a status that differs). The
/// recording's organization id and space ids are those of its organization: each request is
/// replayed against `server` with `org` and `space` in their place (the route template the
/// recorder stores says which path segment is which). Only reads (`GET`) are replayed.
pub(crate) async fn recording_differences(
    dir: &Path,
    server: &Server,
    org: &str,
    space: &str,
) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("contentful-access"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no recording in {}", dir.display());
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let list: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for it in list.as_array().unwrap() {
            if it["request"]["method"] != "GET" {
                continue;
            }
            let route = it["request"]["route"].as_str().unwrap();
            let url = it["request"]["url"].as_str().unwrap();
            let path = replay_path(route, url, org, space);
            let status: u16 = it["response"]["status"]["code"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let body = it["response"]["body"].as_str().unwrap();
            let recorded: Value = if body.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(body).unwrap()
            };
            let (st, ours) = get(server, &path).await;
            if st != status {
                out.push(format!(
                    "{name}: GET {path}: status {status} recorded, {st} in sandbox"
                ));
                continue;
            }
            let mut diffs = Vec::new();
            shape_diff(&recorded, &ours, "", &mut diffs);
            diffs.sort();
            diffs.dedup();
            out.extend(diffs.into_iter().map(|d| format!("{name}: {d}")));
        }
    }
    out
}

/// The recorded request's path and query, with the organization and space ids replaced.
fn replay_path(route: &str, url: &str, org: &str, space: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    let template = route.split_once(' ').map_or(route, |(_, t)| t);
    let segments: Vec<String> = template
        .split('/')
        .zip(path.split('/'))
        .map(|(t, p)| match t {
            "{org}" => org.to_string(),
            "{space}" => space.to_string(),
            _ => p.to_string(),
        })
        .collect();
    let mut out = segments.join("/");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[test]
fn replayed_paths_take_the_sandbox_ids() {
    assert_eq!(
        replay_path(
            "GET /spaces/{space}/roles",
            "https://api.contentful.com/spaces/real1/roles?limit=100&skip=0",
            "o",
            "s"
        ),
        "/spaces/s/roles?limit=100&skip=0"
    );
    assert_eq!(
        replay_path(
            "GET /organizations/{org}/teams",
            "http://127.0.0.1:9/organizations/REAL/teams",
            "o",
            "s"
        ),
        "/organizations/o/teams"
    );
}
