//! The sandbox's read API through real HTTP: auth, collections, pagination, filters, includes,
//! permissions, the journal and rate-limit headers, all against the built-in demo org.

use contentful_access::sandbox::Server;
use serde_json::Value;

/// The demo org.
pub const ORG: &str = "2AcmeDemoOrgSandbox001";
/// The demo marketing space.
pub const MARKETING: &str = "5nq2sd7t0mkg";
/// Carla's member-role token.
pub const MEMBER_TOKEN: &str = "sandbox-member-token";

/// Starts the demo org without a rate limit (tests that need one set it themselves).
pub async fn demo() -> Server {
    crate::util::demo_sandbox().await
}

/// GET `path` with `token`; returns status, headers and JSON body (Null when empty).
pub async fn get_as(
    s: &Server,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{}", s.base_url(), path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, headers, body)
}

/// GET as the admin: status and body.
pub async fn get(s: &Server, path: &str) -> (u16, Value) {
    let (st, _, b) = get_as(s, &s.admin_token(), path).await;
    (st, b)
}

/// The `sys.id`s of a collection's items, in order.
pub(super) fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sys"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn organizations_and_me_belong_to_the_token_user() {
    let s = demo().await;
    let (st, orgs) = get(&s, "/organizations").await;
    assert_eq!(st, 200);
    assert_eq!(orgs["sys"]["type"], "Array");
    assert_eq!(orgs["total"], 1);
    assert_eq!(orgs["items"][0]["name"], "Acme Inc.");
    assert_eq!(orgs["items"][0]["sys"]["id"], ORG);
    let (_, me) = get(&s, "/users/me").await;
    assert_eq!(me["email"], "jane@acme.example");
    assert_eq!(me["sys"]["type"], "User");
    let (_, _, me) = get_as(&s, MEMBER_TOKEN, "/users/me").await;
    assert_eq!(me["email"], "carla.gomez@acme.example");
    s.shutdown().await;
}

#[tokio::test]
async fn wrong_or_missing_token_is_401_with_documented_error_body() {
    let s = demo().await;
    let (st, headers, body) = get_as(&s, "not-a-token", "/organizations").await;
    assert_eq!(st, 401);
    assert_eq!(body["sys"]["type"], "Error");
    assert_eq!(body["sys"]["id"], "AccessTokenInvalid");
    assert!(body["message"].is_string());
    let rid = headers["x-contentful-request-id"].to_str().unwrap();
    assert_eq!(body["requestId"], rid);
    let r = reqwest::get(format!("{}/users/me", s.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    s.shutdown().await;
}

#[tokio::test]
async fn org_users_include_the_pending_invitee_as_not_activated() {
    let s = demo().await;
    let (st, users) = get(&s, &format!("/organizations/{ORG}/users?limit=100")).await;
    assert_eq!(st, 200);
    assert_eq!(users["total"], 25);
    let priya = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "priya.raman@acme.example")
        .unwrap();
    assert_eq!(priya["activated"], false);
    assert!(priya["firstName"].is_null() && priya["lastName"].is_null());
    assert_eq!(priya["sys"]["organization"]["sys"]["id"], ORG);
    let id = priya["sys"]["id"].as_str().unwrap();
    let (st, one) = get(&s, &format!("/organizations/{ORG}/users/{id}")).await;
    assert_eq!(
        (st, &one["email"]),
        (200, &Value::from("priya.raman@acme.example"))
    );
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "nina.novak@acme.example")
    );
    let (st, err) = get(&s, &format!("/organizations/{ORG}/users/nobody")).await;
    assert_eq!((st, err["sys"]["id"].as_str()), (404, Some("NotFound")));
    s.shutdown().await;
}

#[tokio::test]
async fn org_memberships_page_in_a_stable_order() {
    let s = demo().await;
    let base = format!("/organizations/{ORG}/organization_memberships");
    let (_, all) = get(&s, &format!("{base}?limit=100")).await;
    assert_eq!(all["total"], 25);
    assert_eq!(all["limit"], 100);
    let mut paged = Vec::new();
    for skip in (0..25).step_by(5) {
        let (st, page) = get(&s, &format!("{base}?limit=5&skip={skip}")).await;
        assert_eq!(st, 200);
        assert_eq!(page["skip"], skip);
        assert_eq!(page["total"], 25);
        paged.extend(ids(&page));
    }
    assert_eq!(paged, ids(&all));
    let created: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sys"]["createdAt"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(created, sorted, "default order is sys.createdAt");
    let (_, default) = get(&s, &base).await;
    assert_eq!(default["limit"], 25);
    let (st, err) = get(&s, &format!("{base}?limit=101")).await;
    assert_eq!(st, 400);
    assert_eq!(err["sys"]["id"], "InvalidQuery");
    let (st, _) = get(&s, &format!("{base}?limit=abc")).await;
    assert_eq!(st, 400);
    s.shutdown().await;
}

#[tokio::test]
async fn org_memberships_filter_by_role_status_and_user() {
    let s = demo().await;
    let base = format!("/organizations/{ORG}/organization_memberships");
    let (_, pending) = get(&s, &format!("{base}?sys.status=pending")).await;
    assert_eq!(pending["total"], 1);
    assert_eq!(pending["items"][0]["sys"]["status"], "pending");
    assert_eq!(pending["items"][0]["role"], "member");
    let (_, admins) = get(&s, &format!("{base}?role%5Bin%5D=owner,admin")).await;
    assert_eq!(admins["total"], 3);
    let (_, not_members) = get(&s, &format!("{base}?role[ne]=member")).await;
    assert_eq!(not_members["total"], 6);
    let (_, active) = get(&s, &format!("{base}?sys.status[nin]=pending&limit=100")).await;
    assert_eq!(active["total"], 24);
    let user = pending["items"][0]["sys"]["user"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, one) = get(&s, &format!("{base}?sys.user.sys.id={user}")).await;
    assert_eq!(ids(&one), ids(&pending));
    let (_, others) = get(&s, &format!("{base}?sys.user.sys.id[ne]={user}&limit=100")).await;
    assert_eq!(others["total"], 24);
    let (_, q) = get(&s, &format!("{base}?query=okafor")).await;
    assert_eq!(q["total"], 1);
    let (st, err) = get(&s, &format!("{base}?sys.user.email=jane@acme.example")).await;
    assert_eq!(st, 400, "no email filter is documented");
    assert_eq!(err["details"]["errors"][0]["name"], "unknown");
    let (_, by_email) = get(
        &s,
        &format!("{base}?order=sys.user.email&include=sys.user&limit=3"),
    )
    .await;
    let first_user = by_email["items"][0]["sys"]["user"]["sys"]["id"].clone();
    let included = by_email["includes"]["User"].as_array().unwrap();
    assert_eq!(included.len(), 3);
    let first = included
        .iter()
        .find(|u| u["sys"]["id"] == first_user)
        .unwrap();
    assert_eq!(first["email"], "bob@acme.example");
    let (_, desc) = get(
        &s,
        &format!("{base}?order=-sys.lastActiveAt&limit=1&include=sys.user"),
    )
    .await;
    assert_eq!(desc["includes"]["User"][0]["email"], "ci-bot@acme.example");
    s.shutdown().await;
}

#[tokio::test]
async fn memberships_carry_the_user_link_in_sys_and_at_the_top() {
    let s = demo().await;
    let (st, sms) = get(
        &s,
        &format!("/spaces/{MARKETING}/space_memberships?include=sys.user"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(sms["total"], 5);
    for m in sms["items"].as_array().unwrap() {
        assert_eq!(m["sys"]["user"], m["user"]);
        assert_eq!(m["sys"]["space"]["sys"]["id"], MARKETING);
        if m["admin"] == true {
            assert_eq!(m["roles"], serde_json::json!([]));
        } else {
            assert_eq!(m["roles"][0]["sys"]["linkType"], "Role");
        }
    }
    assert_eq!(sms["includes"]["User"].as_array().unwrap().len(), 5);
    let (_, org_wide) = get(
        &s,
        &format!("/organizations/{ORG}/space_memberships?limit=100"),
    )
    .await;
    assert_eq!(org_wide["total"], 17);
    let (_, filtered) = get(
        &s,
        &format!("/organizations/{ORG}/space_memberships?sys.space.sys.id={MARKETING}"),
    )
    .await;
    assert_eq!(ids(&filtered), ids(&sms));
    let id = &ids(&sms)[0];
    let (st, one) = get(&s, &format!("/spaces/{MARKETING}/space_memberships/{id}")).await;
    assert_eq!((st, one["sys"]["id"].as_str()), (200, Some(id.as_str())));
    s.shutdown().await;
}

#[tokio::test]
async fn teams_and_team_memberships_are_readable() {
    let s = demo().await;
    let (_, teams) = get(&s, &format!("/organizations/{ORG}/teams")).await;
    assert_eq!(teams["total"], 4);
    let editors = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "editors")
        .unwrap();
    assert_eq!(editors["sys"]["memberCount"], 7);
    let team = editors["sys"]["id"].as_str().unwrap();
    let (_, tms) = get(
        &s,
        &format!("/organizations/{ORG}/teams/{team}/team_memberships?include=sys.user"),
    )
    .await;
    assert_eq!(tms["total"], 7);
    assert!(tms["items"][0]["organizationMembershipId"].is_string());
    assert_eq!(tms["includes"]["User"].as_array().unwrap().len(), 7);
    let (_, all) = get(
        &s,
        &format!("/organizations/{ORG}/team_memberships?limit=100"),
    )
    .await;
    assert_eq!(all["total"], 13);
    let (_, by_team) = get(
        &s,
        &format!("/organizations/{ORG}/team_memberships?sys.team.sys.id={team}"),
    )
    .await;
    assert_eq!(ids(&by_team), ids(&tms));
    let (_, tsms) = get(
        &s,
        &format!("/organizations/{ORG}/team_space_memberships?sys.team.sys.id={team}"),
    )
    .await;
    assert_eq!(tsms["total"], 2);
    let (_, all_tsms) = get(&s, &format!("/organizations/{ORG}/team_space_memberships")).await;
    assert_eq!(all_tsms["total"], 7);
    let (_, space_tsms) = get(&s, &format!("/spaces/{MARKETING}/team_space_memberships")).await;
    assert_eq!(space_tsms["total"], 3);
    let tsm = &ids(&space_tsms)[0];
    let (st, _) = get(
        &s,
        &format!("/spaces/{MARKETING}/team_space_memberships/{tsm}"),
    )
    .await;
    assert_eq!(st, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn spaces_and_roles_are_readable() {
    let s = demo().await;
    let r = reqwest::Client::new()
        .get(format!("{}/spaces", s.base_url()))
        .bearer_auth(s.admin_token())
        .header("X-Contentful-Organization", ORG)
        .send()
        .await
        .unwrap();
    let spaces: Value = r.json().await.unwrap();
    assert_eq!(spaces["total"], 4);
    let (_, org_spaces) = get(&s, &format!("/organizations/{ORG}/spaces")).await;
    assert_eq!(ids(&org_spaces), ids(&spaces));
    let (_, one) = get(&s, &format!("/spaces/{MARKETING}")).await;
    assert_eq!(one["name"], "Marketing");
    assert_eq!(one["sys"]["organization"]["sys"]["id"], ORG);
    let (_, roles) = get(&s, &format!("/spaces/{MARKETING}/roles")).await;
    let mut names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Author", "Editor", "Freelancer", "Translator"]);
    let role = &ids(&roles)[0];
    let (_, other) = get(&s, "/spaces/9w3kd0x1mzq4/roles").await;
    assert!(
        !ids(&other).contains(role),
        "role ids are distinct per space"
    );
    let (st, _) = get(&s, &format!("/spaces/9w3kd0x1mzq4/roles/{role}")).await;
    assert_eq!(st, 404, "a role is only found in its own space");
    s.shutdown().await;
}

#[tokio::test]
async fn member_tokens_are_denied_admin_only_reads() {
    let s = demo().await;
    for path in [
        format!("/organizations/{ORG}/space_memberships"),
        format!("/organizations/{ORG}/access_tokens"),
    ] {
        let (st, _, body) = get_as(&s, MEMBER_TOKEN, &path).await;
        assert_eq!(st, 403, "{path}");
        assert_eq!(body["sys"]["id"], "AccessDenied");
    }
    let (st, _, teams) = get_as(&s, MEMBER_TOKEN, &format!("/organizations/{ORG}/teams")).await;
    assert_eq!((st, teams["total"].as_u64()), (200, Some(4)));
    let (_, _, spaces) = get_as(&s, MEMBER_TOKEN, "/spaces").await;
    let names: Vec<&str> = spaces["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Marketing", "Blog"],
        "carla sees the spaces her team gives her"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn access_tokens_admin_view_is_redacted() {
    let s = demo().await;
    let (st, toks) = get(
        &s,
        &format!("/organizations/{ORG}/access_tokens?include=sys.user"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(toks["total"], 4);
    for t in toks["items"].as_array().unwrap() {
        // CMA docs: `sys.type` PersonalAccessToken, `redactedValue` the last 4 characters.
        assert_eq!(t["sys"]["type"], "PersonalAccessToken");
        assert_eq!(
            t["sys"]["redactedValue"].as_str().unwrap().chars().count(),
            4,
            "{t}"
        );
        assert!(t.get("token").is_none());
    }
    let contractor = toks["includes"]["User"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "former.contractor@acme.example")
        .unwrap();
    let theirs = toks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["sys"]["user"]["sys"]["id"] == contractor["sys"]["id"])
        .unwrap();
    assert!(
        theirs["revokedAt"].is_null(),
        "the contractor's token is still active"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn journal_records_templated_routes_in_process_and_over_http() {
    let s = demo().await;
    get(&s, "/organizations").await;
    get(&s, &format!("/organizations/{ORG}/teams")).await;
    get(&s, &format!("/organizations/{ORG}/teams?skip=1")).await;
    get_as(&s, "bad", "/users/me").await;
    get(&s, "/nope").await;
    let j = s.journal();
    assert_eq!(j.len(), 5);
    assert_eq!(j[1].route, "/organizations/:org/teams");
    assert_eq!(j[1].path, format!("/organizations/{ORG}/teams"));
    assert_eq!(j[3].status, 401);
    assert_eq!(j[4].route, "(unmatched)");
    let c = s.journal_counts();
    assert_eq!(c.count("GET", "/organizations/:org/teams"), 2);
    assert_eq!(c.by_status[&401], 1);
    let over_http: Value = reqwest::get(format!("{}/_sandbox/journal", s.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["entries"].as_array().unwrap().len(), 5);
    assert_eq!(
        over_http["counts"]["by_route"]["GET /organizations/:org/teams"],
        2
    );
    assert_eq!(s.journal().len(), 5, "journal reads are not journaled");
    s.clear_journal();
    assert!(s.journal().is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_contentful_content_type() {
    let s = demo().await;
    let (_, h, _) = get_as(&s, &s.admin_token(), "/organizations").await;
    assert!(h.contains_key("x-contentful-request-id"));
    assert_eq!(
        h["content-type"],
        "application/vnd.contentful.management.v1+json"
    );
    let (_, h2, _) = get_as(&s, &s.admin_token(), "/organizations").await;
    assert_ne!(h["x-contentful-request-id"], h2["x-contentful-request-id"]);
    s.shutdown().await;
}

#[tokio::test]
async fn bad_list_parameters_and_foreign_orgs_are_refused() {
    let s = demo().await;
    let base = format!("/organizations/{ORG}/organization_memberships");
    for bad in [
        "order=password",
        "include=secrets",
        "role[gt]=admin",
        "skip=-1",
    ] {
        let (st, body) = get(&s, &format!("{base}?{bad}")).await;
        assert_eq!(
            (st, body["sys"]["id"].as_str()),
            (400, Some("InvalidQuery")),
            "{bad}"
        );
    }
    let (st, body) = get(&s, "/organizations/SomeoneElsesOrg/teams").await;
    assert_eq!((st, body["sys"]["id"].as_str()), (404, Some("NotFound")));
    let (st, _) = get(&s, "/spaces/nonexistent00").await;
    assert_eq!(st, 404);
    let (st, _, _) = get_as(
        &s,
        MEMBER_TOKEN,
        &format!("/organizations/{ORG}/invitations/whatever"),
    )
    .await;
    assert_eq!(st, 403, "invitations are admin-only");
    let (st, _, _) = get_as(&s, MEMBER_TOKEN, "/spaces/3ps8vjz0q7lr/space_memberships").await;
    assert_eq!(st, 404, "carla has no access to docs");
    s.shutdown().await;
}
