//! The sandbox's write API, versions, cascades and failure modes through real HTTP: what the
//! client and `apply` rely on (409 on stale versions, admin clears roles, cascades on delete),
//! plus rate limiting, injected faults, latency and the concurrent-edit hook.

use std::time::Duration;

use contentful_access::sandbox::{
    FaultConfig, FaultKind, ObjectKind, SandboxOptions, Server, demo_seed,
};
use serde_json::{Value, json};

use super::read::{MARKETING, MEMBER_TOKEN, ORG, demo, get, get_as};

const BLOG: &str = "9w3kd0x1mzq4";

pub(super) struct Sent {
    pub(super) status: u16,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: Value,
}

pub(super) async fn send(
    s: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> Sent {
    let mut rb = reqwest::Client::new()
        .request(method, format!("{}{}", s.base_url(), path))
        .bearer_auth(token)
        .header(
            "Content-Type",
            "application/vnd.contentful.management.v1+json",
        );
    for (k, v) in headers {
        rb = rb.header(*k, v);
    }
    if let Some(b) = body {
        rb = rb.body(b.to_string());
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    Sent {
        status,
        headers,
        body,
    }
}

async fn put(s: &Server, path: &str, version: Option<u64>, body: Value) -> Sent {
    let h: Vec<(&str, String)> = version
        .map(|v| vec![("X-Contentful-Version", v.to_string())])
        .unwrap_or_default();
    send(
        s,
        &s.admin_token(),
        reqwest::Method::PUT,
        path,
        &h,
        Some(body),
    )
    .await
}

async fn post(s: &Server, path: &str, headers: &[(&str, String)], body: Value) -> Sent {
    send(
        s,
        &s.admin_token(),
        reqwest::Method::POST,
        path,
        headers,
        Some(body),
    )
    .await
}

async fn delete(s: &Server, path: &str) -> Sent {
    send(
        s,
        &s.admin_token(),
        reqwest::Method::DELETE,
        path,
        &[],
        None,
    )
    .await
}

/// The org membership of `email` (admin read with `include=sys.user`).
pub(super) async fn membership_of(s: &Server, email: &str) -> Value {
    let (_, all) = get(
        s,
        &format!("/organizations/{ORG}/organization_memberships?limit=100&include=sys.user"),
    )
    .await;
    let user = all["includes"]["User"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["sys"]["id"]
        .clone();
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["sys"]["user"]["sys"]["id"] == user)
        .unwrap()
        .clone()
}

async fn team_id(s: &Server, name: &str) -> String {
    let (_, teams) = get(s, &format!("/organizations/{ORG}/teams")).await;
    teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn role_link(s: &Server, space: &str, name: &str) -> Value {
    let (_, roles) = get(s, &format!("/spaces/{space}/roles")).await;
    let id = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap()["sys"]["id"]
        .clone();
    json!({"sys": {"type": "Link", "linkType": "Role", "id": id}})
}

fn me_id(s: &Server) -> String {
    let token = s.admin_token();
    s.with_world(|w| w.token_user(&token).unwrap().to_string())
}

#[tokio::test]
async fn org_role_update_needs_the_current_version() {
    let s = demo().await;
    let m = membership_of(&s, "dan.okafor@acme.example").await;
    let id = m["sys"]["id"].as_str().unwrap();
    let v = m["sys"]["version"].as_u64().unwrap();
    let path = format!("/organizations/{ORG}/organization_memberships/{id}");

    let missing = put(&s, &path, None, json!({"role": "developer"})).await;
    assert_eq!(missing.status, 409);
    assert_eq!(missing.body["sys"]["id"], "VersionMismatch");
    let stale = put(&s, &path, Some(v + 5), json!({"role": "developer"})).await;
    assert_eq!(stale.status, 409);
    let unknown = put(
        &s,
        &path,
        Some(v),
        json!({"role": "developer", "colour": 1}),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["sys"]["id"], "UnknownKey");
    assert_eq!(unknown.body["details"]["keys"], json!(["colour"]));
    let bad = put(&s, &path, Some(v), json!({"role": "superuser"})).await;
    assert_eq!(
        (bad.status, bad.body["sys"]["id"].as_str()),
        (422, Some("ValidationFailed"))
    );

    let ok = put(&s, &path, Some(v), json!({"role": "developer"})).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["role"], "developer");
    assert_eq!(ok.body["sys"]["version"], v + 1);
    assert_eq!(ok.body["sys"]["updatedBy"]["sys"]["id"], me_id(&s).as_str());
    let (_, again) = get(&s, &path).await;
    assert_eq!(again["role"], "developer");

    let denied = send(
        &s,
        MEMBER_TOKEN,
        reqwest::Method::PUT,
        &path,
        &[("X-Contentful-Version", (v + 1).to_string())],
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["sys"]["id"], "AccessDenied");
    s.shutdown().await;
}

#[tokio::test]
async fn removing_a_member_cascades_and_the_last_owner_stays() {
    let s = demo().await;
    let lena = membership_of(&s, "lena.fischer@acme.example").await;
    let lena_user = lena["sys"]["user"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lena_om = lena["sys"]["id"].as_str().unwrap().to_string();
    let (_, tms) = get(
        &s,
        &format!(
            "/organizations/{ORG}/team_memberships?sys.organizationMembership.sys.id={lena_om}"
        ),
    )
    .await;
    assert_eq!(tms["total"], 1);
    let (_, sms) = get(
        &s,
        &format!("/organizations/{ORG}/space_memberships?sys.user.sys.id={lena_user}"),
    )
    .await;
    assert_eq!(sms["total"], 1);

    let d = delete(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{lena_om}"),
    )
    .await;
    assert_eq!(d.status, 204);
    assert_eq!(d.headers["content-type"], "application/octet-stream");
    let (_, tms) = get(
        &s,
        &format!(
            "/organizations/{ORG}/team_memberships?sys.organizationMembership.sys.id={lena_om}"
        ),
    )
    .await;
    assert_eq!(tms["total"], 0);
    let (_, sms) = get(
        &s,
        &format!("/organizations/{ORG}/space_memberships?sys.user.sys.id={lena_user}"),
    )
    .await;
    assert_eq!(sms["total"], 0);
    let (st, _) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{lena_om}"),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = get(&s, &format!("/organizations/{ORG}/users/{lena_user}")).await;
    assert_eq!(st, 404, "a removed member is no longer an org user");

    // Only an owner may change or remove an owner (tests/sandbox/rules.rs), so the last-owner
    // rule is tried with Olivia's own token.
    let olivia = membership_of(&s, "olivia.owner@acme.example").await;
    let owner_token = "olivia-owner-token";
    let olivia_user = olivia["sys"]["user"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.with_world(|w| w.add_api_token(owner_token, &olivia_user));
    let path = format!(
        "/organizations/{ORG}/organization_memberships/{}",
        olivia["sys"]["id"].as_str().unwrap()
    );
    let d = send(&s, owner_token, reqwest::Method::DELETE, &path, &[], None).await;
    assert_eq!(d.status, 422);
    assert_eq!(d.body["details"]["errors"][0]["name"], "lastOwner");
    let demote = send(
        &s,
        owner_token,
        reqwest::Method::PUT,
        &path,
        &[(
            "X-Contentful-Version",
            olivia["sys"]["version"].as_u64().unwrap().to_string(),
        )],
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(
        demote.status, 422,
        "the last owner cannot be demoted either"
    );

    // A *pending* owner is not one of the owners the org relies on: inviting someone as owner and
    // then demoting the invitation is allowed while Olivia stays the one active owner.
    let invited = send(
        &s,
        owner_token,
        reqwest::Method::POST,
        &format!("/organizations/{ORG}/invitations"),
        &[],
        Some(json!({"email": "new.owner@acme.example", "role": "owner"})),
    )
    .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let pending_om = invited.body["sys"]["organizationMembership"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let demote = send(
        &s,
        owner_token,
        reqwest::Method::PUT,
        &format!("/organizations/{ORG}/organization_memberships/{pending_om}"),
        &[("X-Contentful-Version", "0".to_string())],
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(demote.status, 200, "{}", demote.body);
    assert_eq!(demote.body["role"], "member");
    s.shutdown().await;
}

#[tokio::test]
async fn invitations_create_pending_members_once() {
    let s = demo().await;
    let inv = post(&s, &format!("/organizations/{ORG}/invitations"), &[], json!({"email": "Nina.Novak@acme.example", "firstName": "Nina", "lastName": "Novak", "role": "developer"})).await;
    assert_eq!(inv.status, 201);
    assert_eq!(inv.body["sys"]["type"], "Invitation");
    assert_eq!(inv.body["sys"]["status"], "open");
    assert!(inv.body["sys"]["user"].is_null());
    assert_eq!(
        inv.body["sys"]["organizationMembership"]["sys"]["linkType"],
        "OrganizationMembership"
    );
    let om_id = inv.body["sys"]["organizationMembership"]["sys"]["id"]
        .as_str()
        .unwrap();
    let (_, om) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{om_id}"),
    )
    .await;
    assert_eq!(om["sys"]["status"], "pending");
    assert_eq!(om["role"], "developer");
    assert_eq!(om["sys"]["version"], 0);
    let user_id = om["sys"]["user"]["sys"]["id"].as_str().unwrap();
    let (_, user) = get(&s, &format!("/organizations/{ORG}/users/{user_id}")).await;
    assert_eq!(user["email"], "nina.novak@acme.example");
    assert_eq!(user["activated"], false);
    assert!(user["firstName"].is_null());
    let inv_id = inv.body["sys"]["id"].as_str().unwrap();
    let (st, again) = get(&s, &format!("/organizations/{ORG}/invitations/{inv_id}")).await;
    assert_eq!((st, &again["sys"]["id"]), (200, &inv.body["sys"]["id"]));
    assert_eq!(inv.body["sys"]["id"].as_str().unwrap().len(), 22);

    // Inviting a pending member again re-sends the invitation (issue 16): a new invitation for
    // the same pending membership, dated anew, role kept; an active member stays refused.
    let twice = post(
        &s,
        &format!("/organizations/{ORG}/invitations"),
        &[],
        json!({"email": "nina.novak@acme.example"}),
    )
    .await;
    assert_eq!(twice.status, 201, "{}", twice.body);
    assert_ne!(twice.body["sys"]["id"], inv.body["sys"]["id"]);
    assert_eq!(
        twice.body["sys"]["organizationMembership"]["sys"]["id"],
        om_id
    );
    let (_, om_again) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{om_id}"),
    )
    .await;
    assert_eq!(om_again["sys"]["status"], "pending");
    assert_eq!(om_again["role"], "developer");
    assert_eq!(om_again["sys"]["version"], 1);
    assert!(
        om_again["sys"]["createdAt"].as_str() >= om["sys"]["createdAt"].as_str(),
        "the invitation date starts over: {om_again}"
    );
    let pending = post(
        &s,
        &format!("/organizations/{ORG}/invitations"),
        &[],
        json!({"email": "priya.raman@acme.example"}),
    )
    .await;
    assert_eq!(
        pending.status, 201,
        "a pending invitee can be invited again"
    );
    let active = post(
        &s,
        &format!("/organizations/{ORG}/invitations"),
        &[],
        json!({"email": "bob@acme.example"}),
    )
    .await;
    assert_eq!(active.status, 422, "an active member cannot be invited");
    assert_eq!(active.body["details"]["errors"][0]["name"], "taken");
    let denied = send(
        &s,
        MEMBER_TOKEN,
        reqwest::Method::POST,
        &format!("/organizations/{ORG}/invitations"),
        &[],
        Some(json!({"email": "x@acme.example"})),
    )
    .await;
    assert_eq!(denied.status, 403);
    s.shutdown().await;
}

#[tokio::test]
async fn teams_crud_with_versions_and_cascading_delete() {
    let s = demo().await;
    let created = post(
        &s,
        &format!("/organizations/{ORG}/teams"),
        &[],
        json!({"name": "reviewers", "description": "Legal review"}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["sys"]["version"], 0);
    assert_eq!(created.body["sys"]["memberCount"], 0);
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(created.body["sys"]["id"].as_str().unwrap())
    );
    let dup = post(
        &s,
        &format!("/organizations/{ORG}/teams"),
        &[],
        json!({"name": "reviewers", "description": ""}),
    )
    .await;
    assert_eq!(
        (
            dup.status,
            dup.body["details"]["errors"][0]["name"].as_str()
        ),
        (422, Some("taken"))
    );
    let id = created.body["sys"]["id"].as_str().unwrap();
    let path = format!("/organizations/{ORG}/teams/{id}");
    let stale = put(
        &s,
        &path,
        Some(3),
        json!({"name": "reviewers", "description": "x"}),
    )
    .await;
    assert_eq!(stale.status, 409);
    let upd = put(
        &s,
        &path,
        Some(0),
        json!({"name": "reviewers", "description": "Legal and brand review"}),
    )
    .await;
    assert_eq!(upd.status, 200);
    assert_eq!(upd.body["description"], "Legal and brand review");
    assert_eq!(upd.body["sys"]["version"], 1);

    let editors = team_id(&s, "editors").await;
    let before = s.with_world(|w| w.counts());
    let d = delete(&s, &format!("/organizations/{ORG}/teams/{editors}")).await;
    assert_eq!(d.status, 204);
    let after = s.with_world(|w| w.counts());
    assert_eq!(before.2 - after.2, 7, "its seven team memberships go");
    assert_eq!(before.3 - after.3, 2, "its two team space memberships go");
    let (st, _) = get(&s, &format!("/organizations/{ORG}/teams/{editors}")).await;
    assert_eq!(st, 404);
    s.shutdown().await;
}

#[tokio::test]
async fn team_memberships_are_added_by_org_membership_id() {
    let s = demo().await;
    let team = team_id(&s, "web-admins").await;
    let dev = membership_of(&s, "dev.patel@acme.example").await;
    let path = format!("/organizations/{ORG}/teams/{team}/team_memberships");
    let created = post(
        &s,
        &path,
        &[],
        json!({"organizationMembershipId": dev["sys"]["id"]}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["sys"]["type"], "TeamMembership");
    assert_eq!(created.body["sys"]["team"]["sys"]["id"], team.as_str());
    assert_eq!(created.body["organizationMembershipId"], dev["sys"]["id"]);
    let dup = post(
        &s,
        &path,
        &[],
        json!({"organizationMembershipId": dev["sys"]["id"]}),
    )
    .await;
    assert_eq!(dup.status, 422);
    let bad = post(&s, &path, &[], json!({"organizationMembershipId": "nope"})).await;
    assert_eq!(bad.status, 422);
    let missing = post(&s, &path, &[], json!({})).await;
    assert_eq!(
        (missing.status, missing.body["sys"]["id"].as_str()),
        (400, Some("MissingKey"))
    );
    let (_, team_json) = get(&s, &format!("/organizations/{ORG}/teams/{team}")).await;
    assert_eq!(team_json["sys"]["memberCount"], 3);
    let id = created.body["sys"]["id"].as_str().unwrap();
    assert_eq!(delete(&s, &format!("{path}/{id}")).await.status, 204);
    assert_eq!(get(&s, &format!("{path}/{id}")).await.0, 404);
    s.shutdown().await;
}

#[tokio::test]
async fn team_space_memberships_need_the_team_header_and_admin_clears_roles() {
    let s = demo().await;
    let team = team_id(&s, "web-admins").await;
    let editor = role_link(&s, MARKETING, "Editor").await;
    let path = format!("/spaces/{MARKETING}/team_space_memberships");
    let no_header = post(&s, &path, &[], json!({"admin": false, "roles": [editor]})).await;
    assert_eq!(no_header.status, 400);
    let h = [("X-Contentful-Team", team.clone())];
    let foreign = role_link(&s, BLOG, "Editor").await;
    let wrong_space = post(&s, &path, &h, json!({"admin": false, "roles": [foreign]})).await;
    assert_eq!(wrong_space.status, 422, "roles must belong to the space");
    let no_roles = post(&s, &path, &h, json!({"admin": false, "roles": []})).await;
    assert_eq!(no_roles.status, 422, "a non-admin membership needs a role");
    let created = post(&s, &path, &h, json!({"admin": true, "roles": [editor]})).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["admin"], true);
    assert_eq!(created.body["roles"], json!([]));
    assert_eq!(created.body["sys"]["team"]["sys"]["id"], team.as_str());
    let id = created.body["sys"]["id"].as_str().unwrap();
    let translator = role_link(&s, MARKETING, "Translator").await;
    let upd = put(
        &s,
        &format!("{path}/{id}"),
        Some(0),
        json!({"admin": false, "roles": [editor, translator]}),
    )
    .await;
    assert_eq!(upd.status, 200);
    assert_eq!(upd.body["roles"].as_array().unwrap().len(), 2);
    assert_eq!(upd.body["sys"]["version"], 1);
    let dup = post(&s, &path, &h, json!({"admin": true})).await;
    assert_eq!(dup.status, 422);
    assert_eq!(delete(&s, &format!("{path}/{id}")).await.status, 204);
    s.shutdown().await;
}

#[tokio::test]
async fn space_memberships_are_created_by_email_of_an_org_member() {
    let s = demo().await;
    let author = role_link(&s, MARKETING, "Author").await;
    let path = format!("/spaces/{MARKETING}/space_memberships");
    let stranger = post(
        &s,
        &path,
        &[],
        json!({"admin": false, "email": "stranger@elsewhere.example", "roles": [author]}),
    )
    .await;
    assert_eq!(stranger.status, 422);
    let pending = post(
        &s,
        &path,
        &[],
        json!({"admin": false, "email": "PRIYA.RAMAN@acme.example", "roles": [author]}),
    )
    .await;
    assert_eq!(pending.status, 201, "pending invitees can be given access");
    assert_eq!(pending.body["sys"]["version"], 0);
    assert_eq!(pending.body["user"], pending.body["sys"]["user"]);
    assert!(
        pending.body.get("email").is_none(),
        "the email is never returned"
    );
    let id = pending.body["sys"]["id"].as_str().unwrap();
    let dup = post(
        &s,
        &path,
        &[],
        json!({"admin": true, "email": "priya.raman@acme.example"}),
    )
    .await;
    assert_eq!(dup.status, 422);
    let admin = put(
        &s,
        &format!("{path}/{id}"),
        Some(0),
        json!({"admin": true, "roles": [author]}),
    )
    .await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.body["roles"], json!([]), "admin: true clears roles");
    assert_eq!(admin.body["sys"]["version"], 1);
    let bad_link = put(
        &s,
        &format!("{path}/{id}"),
        Some(1),
        json!({"admin": false, "roles": [{"id": "x"}]}),
    )
    .await;
    assert_eq!(bad_link.status, 422);
    assert_eq!(delete(&s, &format!("{path}/{id}")).await.status, 204);
    let (st, body) = get(&s, &format!("{path}/{id}")).await;
    assert_eq!((st, body["sys"]["id"].as_str()), (404, Some("NotFound")));
    s.shutdown().await;
}

#[tokio::test]
async fn new_spaces_get_the_default_roles_and_roles_are_editable() {
    let s = demo().await;
    let created = post(
        &s,
        "/spaces",
        &[("X-Contentful-Organization", ORG.to_string())],
        json!({"name": "Careers"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let space = created.body["sys"]["id"].as_str().unwrap();
    let (_, roles) = get(&s, &format!("/spaces/{space}/roles")).await;
    let mut names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Author", "Editor", "Freelancer", "Translator"]);

    let role = post(&s, &format!("/spaces/{space}/roles"), &[], json!({"name": "Reviewer", "description": "Reads", "policies": [], "permissions": {"ContentModel": ["read"]}})).await;
    assert_eq!(role.status, 201);
    let rid = role.body["sys"]["id"].as_str().unwrap();
    let upd = put(&s, &format!("/spaces/{space}/roles/{rid}"), Some(0), json!({"name": "Reviewer", "description": "Reads everything", "policies": [], "permissions": {}})).await;
    assert_eq!(
        (upd.status, upd.body["sys"]["version"].as_u64()),
        (200, Some(1))
    );
    let dup = post(
        &s,
        &format!("/spaces/{space}/roles"),
        &[],
        json!({"name": "Editor"}),
    )
    .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        delete(&s, &format!("/spaces/{space}/roles/{rid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        get(&s, &format!("/spaces/{space}/roles/{rid}")).await.0,
        404
    );
    let member = send(
        &s,
        MEMBER_TOKEN,
        reqwest::Method::POST,
        "/spaces",
        &[],
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(member.status, 403);
    s.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_a_bad_request() {
    let s = demo().await;
    let r = reqwest::Client::new()
        .post(format!("{}/organizations/{ORG}/teams", s.base_url()))
        .bearer_auth(s.admin_token())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["sys"]["id"], "BadRequest");
    s.shutdown().await;
}

// Paused time: every request shares one window of the sandbox's clock, and the next second comes
// at once.
#[tokio::test(start_paused = true)]
async fn rate_limit_answers_429_with_reset_and_reports_remaining() {
    let s = Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec: 3,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut statuses = Vec::new();
    let mut remaining = Vec::new();
    let mut reset = None;
    for _ in 0..6 {
        let (st, h, body) = get_as(&s, &s.admin_token(), "/organizations").await;
        statuses.push(st);
        if st == 200 {
            assert_eq!(h["x-contentful-ratelimit-second-limit"], "3");
            remaining.push(
                h["x-contentful-ratelimit-second-remaining"]
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
        } else {
            assert_eq!(body["sys"]["id"], "RateLimitExceeded");
            reset = Some(
                h["x-contentful-ratelimit-reset"]
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(reset.as_deref(), Some("1"));
    assert!(remaining.iter().any(|r| r == "0"), "{remaining:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get(&s, "/organizations").await.0,
        200,
        "the next second frees the window"
    );
    let journal: Value = reqwest::get(format!("{}/_sandbox/journal", s.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        journal["entries"].is_array(),
        "the journal is never rate limited"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn injected_faults_and_dropped_connections() {
    let s = demo().await;
    s.set_faults(FaultConfig::new(1.0, vec![FaultKind::Status503]));
    let (st, h, body) = get_as(&s, &s.admin_token(), "/organizations").await;
    assert_eq!(st, 503);
    assert!(h.contains_key("x-contentful-request-id"));
    assert_eq!(body["sys"]["type"], "Error");
    s.set_faults(FaultConfig::new(1.0, vec![FaultKind::Status429]));
    let (st, h, _) = get_as(&s, &s.admin_token(), "/organizations").await;
    assert_eq!(
        (st, h["x-contentful-ratelimit-reset"].to_str().unwrap()),
        (429, "1")
    );

    s.set_faults(FaultConfig::new(1.0, vec![FaultKind::DropConnection]));
    let err = reqwest::Client::new()
        .get(format!("{}/organizations", s.base_url()))
        .bearer_auth(s.admin_token())
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "no response at all: {err:?}");
    assert_eq!(s.journal().last().unwrap().status, 0);

    s.set_faults(FaultConfig {
        methods: vec!["PUT".into()],
        ..FaultConfig::new(1.0, vec![FaultKind::Status500])
    });
    assert_eq!(get(&s, "/organizations").await.0, 200, "only PUTs fail");
    s.set_faults(FaultConfig::new(0.5, vec![FaultKind::Status500]));
    let mut failed = 0;
    for _ in 0..40 {
        if get(&s, "/users/me").await.0 == 500 {
            failed += 1;
        }
    }
    assert!((8..=32).contains(&failed), "about half fail: {failed}");
    s.set_faults(FaultConfig::none());
    assert_eq!(get(&s, "/organizations").await.0, 200);
    s.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_response() {
    let s = Server::start(
        demo_seed(),
        SandboxOptions {
            latency: Duration::from_millis(150),
            rate_limit_per_sec: 0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let t = tokio::time::Instant::now();
    assert_eq!(get(&s, "/users/me").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    s.shutdown().await;
}

#[tokio::test]
async fn another_admin_edits_right_after_a_read() {
    let s = demo().await;
    let team = team_id(&s, "localization").await;
    s.bump_version_on_next_read(ObjectKind::Team, &team);
    let path = format!("/organizations/{ORG}/teams/{team}");
    let (_, read) = get(&s, &path).await;
    let v = read["sys"]["version"].as_u64().unwrap();
    let w = put(
        &s,
        &path,
        Some(v),
        json!({"name": "localization", "description": "changed"}),
    )
    .await;
    assert_eq!(w.status, 409, "the version read is stale now");
    let (_, fresh) = get(&s, &path).await;
    assert_eq!(fresh["sys"]["version"], v + 1);
    assert_ne!(
        fresh["sys"]["updatedBy"]["sys"]["id"],
        me_id(&s).as_str(),
        "edited by someone else"
    );
    let w = put(
        &s,
        &path,
        Some(v + 1),
        json!({"name": "localization", "description": "changed"}),
    )
    .await;
    assert_eq!(
        w.status, 200,
        "a re-read version works, and the hook fired only once"
    );

    // Also when the object is read as part of a list.
    let m = membership_of(&s, "bob@acme.example").await;
    let id = m["sys"]["id"].as_str().unwrap().to_string();
    s.bump_version_on_next_read(ObjectKind::OrganizationMembership, &id);
    let listed = membership_of(&s, "bob@acme.example").await;
    let w = put(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{id}"),
        listed["sys"]["version"].as_u64(),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(w.status, 409);
    s.shutdown().await;
}

#[tokio::test]
async fn a_delete_checks_the_version_only_when_one_is_sent() {
    let s = demo().await;
    let m = membership_of(&s, "dan.okafor@acme.example").await;
    let id = m["sys"]["id"].as_str().unwrap();
    let v = m["sys"]["version"].as_u64().unwrap();
    let path = format!("/organizations/{ORG}/organization_memberships/{id}");
    let stale = send(
        &s,
        &s.admin_token(),
        reqwest::Method::DELETE,
        &path,
        &[("X-Contentful-Version", (v + 1).to_string())],
        None,
    )
    .await;
    assert_eq!(stale.status, 409);
    assert_eq!(stale.body["sys"]["id"], "VersionMismatch");
    assert_eq!(get(&s, &path).await.0, 200, "not deleted");
    let current = send(
        &s,
        &s.admin_token(),
        reqwest::Method::DELETE,
        &path,
        &[("X-Contentful-Version", v.to_string())],
        None,
    )
    .await;
    assert_eq!(current.status, 204);
    assert_eq!(get(&s, &path).await.0, 404);
    // Without the header (what the SDKs send) a delete is not version-checked.
    let team = team_id(&s, "editors").await;
    let plain = delete(&s, &format!("/organizations/{ORG}/teams/{team}")).await;
    assert_eq!(plain.status, 204);
}

async fn statuses_with_fault_seed(seed: u64) -> Vec<u16> {
    let s = Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec: 0,
            faults: FaultConfig {
                rng_seed: seed,
                ..FaultConfig::new(
                    0.5,
                    vec![
                        FaultKind::Status500,
                        FaultKind::Status502,
                        FaultKind::Status503,
                    ],
                )
            },
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..24 {
        statuses.push(get(&s, "/users/me").await.0);
    }
    s.shutdown().await;
    statuses
}

#[tokio::test]
async fn the_same_fault_seed_gives_the_same_faults() {
    let a = statuses_with_fault_seed(42).await;
    assert_eq!(a, statuses_with_fault_seed(42).await);
    assert!(a.contains(&200) && a.iter().any(|s| *s >= 500), "{a:?}");
    assert_ne!(a, statuses_with_fault_seed(43).await);
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_processed_all_the_same() {
    let s = demo().await;
    let teams = format!("/organizations/{ORG}/teams");
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::ProcessThenDrop]);
    faults.methods = vec!["POST".into()];
    faults.max_faults = Some(1);
    s.set_faults(faults);
    let sent = reqwest::Client::new()
        .post(format!("{}{teams}", s.base_url()))
        .bearer_auth(s.admin_token())
        .header(
            "Content-Type",
            "application/vnd.contentful.management.v1+json",
        )
        .body(json!({"name": "lost", "description": ""}).to_string())
        .send()
        .await;
    assert!(sent.is_err(), "the answer must be lost: {sent:?}");
    assert!(!team_id(&s, "lost").await.is_empty(), "but the team exists");
    // A proxy answering 502 after processing.
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::ProcessThen502]);
    faults.methods = vec!["POST".into()];
    s.set_faults(faults);
    let r = post(
        &s,
        &teams,
        &[],
        json!({"name": "proxied", "description": ""}),
    )
    .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.body["sys"]["id"], "BadGateway");
    s.set_faults(FaultConfig::none());
    assert!(!team_id(&s, "proxied").await.is_empty());
    let statuses: Vec<u16> = s
        .journal()
        .iter()
        .filter(|e| e.method == "POST")
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, vec![0, 502]);
}
