//! Rules and routes taken from Contentful's own web app and SDKs (issue 19): owner-only changes,
//! role links wrapped or not, the org-wide collection filters, the token admin view and
//! `/users/me/access_tokens`, space users and space members, and the invitations collection.

use contentful_access::sandbox::Server;
use reqwest::Method;
use serde_json::{Value, json};

use super::read::{MARKETING, ORG, demo, get, ids as ids_of};
use super::write::{Sent, membership_of as membership, send};

/// Olivia, the demo org's one owner, gets this token in the tests that need an owner.
const OWNER_TOKEN: &str = "olivia-owner-token";

/// The demo org with [`OWNER_TOKEN`] acting for Olivia.
async fn demo_with_owner() -> Server {
    let s = demo().await;
    let olivia = membership(&s, "olivia.owner@acme.example").await;
    let user = olivia["sys"]["user"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.with_world(|w| w.add_api_token(OWNER_TOKEN, &user));
    s
}

async fn set_role(s: &Server, token: &str, email: &str, role: &str) -> Sent {
    let m = membership(s, email).await;
    send(
        s,
        token,
        Method::PUT,
        &format!(
            "/organizations/{ORG}/organization_memberships/{}",
            m["sys"]["id"].as_str().unwrap()
        ),
        &[(
            "X-Contentful-Version",
            m["sys"]["version"].as_u64().unwrap().to_string(),
        )],
        Some(json!({ "role": role })),
    )
    .await
}

fn assert_owner_only(r: &Sent, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.body);
    assert_eq!(r.body["sys"]["id"], "AccessDenied", "{what}");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("only organization owners"),
        "{what}: {}",
        r.body
    );
}

#[tokio::test]
async fn an_admin_cannot_invite_an_owner_but_an_owner_can() {
    let s = demo_with_owner().await;
    let path = format!("/organizations/{ORG}/invitations");
    let body = json!({"email": "new.owner@acme.example", "role": "owner"});
    let admin = send(
        &s,
        &s.admin_token(),
        Method::POST,
        &path,
        &[],
        Some(body.clone()),
    )
    .await;
    assert_owner_only(&admin, "admin invites an owner");
    let (_, users) = get(&s, &format!("/organizations/{ORG}/users?query=new.owner")).await;
    assert_eq!(
        users["total"], 0,
        "the refused invitation left nothing behind"
    );
    let owner = send(&s, OWNER_TOKEN, Method::POST, &path, &[], Some(body)).await;
    assert_eq!(owner.status, 201, "{}", owner.body);
    // An admin still invites anyone below owner.
    let member = send(
        &s,
        &s.admin_token(),
        Method::POST,
        &path,
        &[],
        Some(json!({"email": "new.admin@acme.example", "role": "admin"})),
    )
    .await;
    assert_eq!(member.status, 201, "{}", member.body);
    s.shutdown().await;
}

#[tokio::test]
async fn an_admin_cannot_make_someone_owner_but_an_owner_can() {
    let s = demo_with_owner().await;
    let admin = set_role(&s, &s.admin_token(), "bob@acme.example", "owner").await;
    assert_owner_only(&admin, "admin promotes to owner");
    assert_eq!(membership(&s, "bob@acme.example").await["role"], "member");
    let owner = set_role(&s, OWNER_TOKEN, "bob@acme.example", "owner").await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    assert_eq!(owner.body["role"], "owner");
    s.shutdown().await;
}

#[tokio::test]
async fn an_admin_cannot_change_or_remove_an_owner_but_an_owner_can() {
    let s = demo_with_owner().await;
    // Two owners, so the last-owner rule is not what refuses below.
    let promoted = set_role(&s, OWNER_TOKEN, "marcus.lee@acme.example", "owner").await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);

    let demote = set_role(&s, &s.admin_token(), "marcus.lee@acme.example", "admin").await;
    assert_owner_only(&demote, "admin demotes an owner");
    let marcus = membership(&s, "marcus.lee@acme.example").await;
    let path = format!(
        "/organizations/{ORG}/organization_memberships/{}",
        marcus["sys"]["id"].as_str().unwrap()
    );
    let remove = send(&s, &s.admin_token(), Method::DELETE, &path, &[], None).await;
    assert_owner_only(&remove, "admin removes an owner");
    assert_eq!(marcus["role"], "owner", "nothing changed");

    let demote = set_role(&s, OWNER_TOKEN, "marcus.lee@acme.example", "admin").await;
    assert_eq!(demote.status, 200, "{}", demote.body);
    let promoted = set_role(&s, OWNER_TOKEN, "marcus.lee@acme.example", "owner").await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    let remove = send(&s, OWNER_TOKEN, Method::DELETE, &path, &[], None).await;
    assert_eq!(remove.status, 204, "{}", remove.body);
    // An admin still manages non-owners.
    let bob = set_role(&s, &s.admin_token(), "bob@acme.example", "developer").await;
    assert_eq!(bob.status, 200, "{}", bob.body);
    let (st, _) = get(&s, &format!("/spaces/{MARKETING}")).await;
    assert_eq!(st, 200);
    s.shutdown().await;
}

/// A role link as the web app sends it (no `sys` wrapper) is accepted like the wrapped one, for
/// space memberships and team space memberships, on create and update.
#[tokio::test]
async fn role_links_are_accepted_wrapped_and_unwrapped() {
    let s = demo().await;
    let (_, roles) = get(&s, &format!("/spaces/{MARKETING}/roles")).await;
    let role = |name: &str| {
        roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["sys"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (author, editor) = (role("Author"), role("Editor"));
    let unwrapped = json!({"type": "Link", "linkType": "Role", "id": author});
    let created = send(
        &s,
        &s.admin_token(),
        Method::POST,
        &format!("/spaces/{MARKETING}/space_memberships"),
        &[],
        Some(json!({"admin": false, "email": "george.kim@acme.example", "roles": [unwrapped]})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["roles"][0]["sys"]["id"], author.as_str());
    let updated = send(
        &s,
        &s.admin_token(),
        Method::PUT,
        &format!(
            "/spaces/{MARKETING}/space_memberships/{}",
            created.body["sys"]["id"].as_str().unwrap()
        ),
        &[("X-Contentful-Version", "0".to_string())],
        Some(json!({"admin": false, "roles": [
            {"type": "Link", "linkType": "Role", "id": editor},
            {"sys": {"type": "Link", "linkType": "Role", "id": author}},
        ]})),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let ids: Vec<&str> = updated.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sys"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![editor.as_str(), author.as_str()]);
    // Anything that is not a role link stays refused, in either form.
    for bad in [
        json!({"type": "Link", "linkType": "Space", "id": author}),
        json!({"sys": {"type": "Link", "id": author}}),
        json!(author),
    ] {
        let r = send(
            &s,
            &s.admin_token(),
            Method::POST,
            &format!("/spaces/{MARKETING}/space_memberships"),
            &[],
            Some(json!({"admin": false, "email": "hana.suzuki@acme.example", "roles": [bad]})),
        )
        .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
    s.shutdown().await;
}

/// Each org-wide membership filter keeps exactly the items whose field matches, and its
/// negation keeps exactly the others.
#[tokio::test]
async fn org_wide_membership_collections_filter_by_roles_admin_team_and_space() {
    let s = demo().await;
    let (_, roles) = get(&s, &format!("/organizations/{ORG}/roles?limit=100")).await;
    let name_of = |id: &Value| -> String {
        roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| &x["sys"]["id"] == id)
            .map(|x| x["name"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    for collection in ["team_space_memberships", "space_memberships"] {
        let base = format!("/organizations/{ORG}/{collection}?limit=100");
        let (_, all) = get(&s, &base).await;
        let items = all["items"].as_array().unwrap().clone();
        let role_ids = |m: &Value| -> Vec<Value> {
            m["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["sys"]["id"].clone())
                .collect()
        };
        // A role some membership has, by id and by name, taken from the data itself.
        let some_role = items
            .iter()
            .find_map(|m| role_ids(m).first().cloned())
            .unwrap();
        let some_name = name_of(&some_role);
        let space = items[0]["sys"]["space"]["sys"]["id"].clone();
        type Pred<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
        let cases: Vec<(String, Pred<'_>)> = vec![
            (
                format!("roles.name={some_name}"),
                Box::new(|m: &Value| role_ids(m).iter().any(|r| name_of(r) == some_name)),
            ),
            (
                format!("roles.sys.id={}", some_role.as_str().unwrap()),
                Box::new(|m: &Value| role_ids(m).contains(&some_role)),
            ),
            (
                "admin=true".into(),
                Box::new(|m: &Value| m["admin"] == true),
            ),
            (
                format!("sys.space.sys.id={}", space.as_str().unwrap()),
                Box::new(|m: &Value| m["sys"]["space"]["sys"]["id"] == space),
            ),
        ];
        for (filter, pred) in &cases {
            let (st, got) = get(&s, &format!("{base}&{filter}")).await;
            assert_eq!(st, 200, "{collection}?{filter}: {got}");
            let want: Vec<String> = items
                .iter()
                .filter(|m| pred(m))
                .map(|m| m["sys"]["id"].as_str().unwrap().to_string())
                .collect();
            assert!(
                !want.is_empty(),
                "{collection}?{filter} matches something in the demo"
            );
            assert_eq!(ids_of(&got), want, "{collection}?{filter}");
            assert_eq!(got["total"], want.len());
            let negated = filter.replacen('=', "[ne]=", 1);
            let (_, got) = get(&s, &format!("{base}&{negated}")).await;
            let want: Vec<String> = items
                .iter()
                .filter(|m| !pred(m))
                .map(|m| m["sys"]["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(ids_of(&got), want, "{collection}?{negated}");
        }
    }
    // sys.team.sys.id on team space memberships and team memberships.
    let (_, tsms) = get(&s, &format!("/organizations/{ORG}/team_space_memberships")).await;
    let team = tsms["items"][0]["sys"]["team"]["sys"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for collection in ["team_space_memberships", "team_memberships"] {
        let (_, got) = get(
            &s,
            &format!("/organizations/{ORG}/{collection}?limit=100&sys.team.sys.id={team}"),
        )
        .await;
        assert!(got["total"].as_u64().unwrap() > 0, "{collection}");
        for m in got["items"].as_array().unwrap() {
            assert_eq!(m["sys"]["team"]["sys"]["id"], team.as_str(), "{collection}");
        }
    }
    // Full text on the org-wide space memberships.
    let (_, got) = get(
        &s,
        &format!("/organizations/{ORG}/space_memberships?query=BOB&include=sys.user"),
    )
    .await;
    assert!(got["total"].as_u64().unwrap() > 0);
    for u in got["includes"]["User"].as_array().unwrap() {
        assert_eq!(u["email"], "bob@acme.example");
    }
    s.shutdown().await;
}

/// `/users/me/access_tokens`: a created token's value is answered once, authenticates as its
/// user, is listed (redacted) for its owner and in the admin view, and stops working once revoked.
#[tokio::test]
async fn own_access_tokens_are_created_listed_and_revoked() {
    let s = demo().await;
    let made = send(
        &s,
        &s.admin_token(),
        Method::POST,
        "/users/me/access_tokens",
        &[],
        Some(json!({"name": "CI", "scopes": ["content_management_manage"], "expiresIn": 3600})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["sys"]["type"], "PersonalAccessToken");
    let value = made.body["token"].as_str().unwrap().to_string();
    assert!(value.starts_with("CFPAT-"));
    assert_eq!(
        made.body["sys"]["redactedValue"].as_str().unwrap(),
        &value[value.len() - 4..]
    );
    assert!(!made.body["sys"]["expiresAt"].is_null());
    let id = made.body["sys"]["id"].as_str().unwrap().to_string();

    let (st, _, me) = super::read::get_as(&s, &value, "/users/me").await;
    assert_eq!(st, 200, "the new token authenticates");
    assert_eq!(me["email"], "jane@acme.example");
    let (_, mine) = get(&s, "/users/me/access_tokens").await;
    assert!(ids_of(&mine).contains(&id));
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none())
    );
    let (_, one) = get(&s, &format!("/users/me/access_tokens/{id}")).await;
    assert_eq!(one["name"], "CI");
    let (_, admin) = get(&s, &format!("/organizations/{ORG}/access_tokens?limit=100")).await;
    assert!(ids_of(&admin).contains(&id));

    // Another user cannot read it.
    let (st, _, _) = super::read::get_as(
        &s,
        super::read::MEMBER_TOKEN,
        &format!("/users/me/access_tokens/{id}"),
    )
    .await;
    assert_eq!(st, 404);

    let revoked = send(
        &s,
        &s.admin_token(),
        Method::PUT,
        &format!("/users/me/access_tokens/{id}/revoked"),
        &[],
        None,
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(!revoked.body["revokedAt"].is_null());
    let (st, _, _) = super::read::get_as(&s, &value, "/users/me").await;
    assert_eq!(st, 401, "a revoked token no longer authenticates");

    for bad in [
        json!({"name": "x", "scopes": ["everything"]}),
        json!({"name": "x", "scopes": []}),
    ] {
        let r = send(
            &s,
            &s.admin_token(),
            Method::POST,
            "/users/me/access_tokens",
            &[],
            Some(bad),
        )
        .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["sys"]["id"], "PersonalAccessTokenInvalidScopes");
    }
    s.shutdown().await;
}

/// `/spaces/{space}/users` and `/spaces/{space}/space_members` show everyone with access,
/// direct or through a team; a member's access combines both, with the memberships it comes from.
#[tokio::test]
async fn space_users_and_members_show_effective_access_through_teams() {
    let s = demo().await;
    let (_, direct) = get(
        &s,
        &format!("/spaces/{MARKETING}/space_memberships?limit=100"),
    )
    .await;
    let (_, tsms) = get(
        &s,
        &format!("/spaces/{MARKETING}/team_space_memberships?limit=100"),
    )
    .await;
    let (_, tms) = get(
        &s,
        &format!("/organizations/{ORG}/team_memberships?limit=100"),
    )
    .await;
    let (_, oms) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships?limit=100"),
    )
    .await;
    let mut expected: Vec<String> = direct["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sys"]["user"]["sys"]["id"].as_str().unwrap().to_string())
        .collect();
    for tsm in tsms["items"].as_array().unwrap() {
        for tm in tms["items"].as_array().unwrap() {
            if tm["sys"]["team"]["sys"]["id"] == tsm["sys"]["team"]["sys"]["id"] {
                let om = tm["sys"]["organizationMembership"]["sys"]["id"].clone();
                let user = oms["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["sys"]["id"] == om)
                    .unwrap()["sys"]["user"]["sys"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                expected.push(user);
            }
        }
    }
    expected.sort();
    expected.dedup();
    assert!(
        expected.len() > direct["total"].as_u64().unwrap() as usize,
        "teams add people"
    );

    let (st, users) = get(&s, &format!("/spaces/{MARKETING}/users?limit=100")).await;
    assert_eq!(st, 200);
    assert_eq!(ids_of(&users), expected);
    let (st, members) = get(
        &s,
        &format!("/spaces/{MARKETING}/space_members?limit=100&include=sys.user"),
    )
    .await;
    assert_eq!(st, 200);
    let member_users: Vec<String> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sys"]["user"]["sys"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(member_users, expected);
    assert_eq!(
        members["includes"]["User"].as_array().unwrap().len(),
        expected.len()
    );
    for m in members["items"].as_array().unwrap() {
        assert_eq!(m["sys"]["type"], "SpaceMember");
        let related = m["sys"]["relatedMemberships"].as_array().unwrap();
        assert!(!related.is_empty());
        if m["admin"] == true {
            assert_eq!(m["roles"], json!([]), "an admin's roles are not listed");
        }
        let id = m["sys"]["id"].as_str().unwrap();
        let (st, one) = get(&s, &format!("/spaces/{MARKETING}/space_members/{id}")).await;
        assert_eq!(st, 200);
        assert_eq!(&one, m);
    }
    // Bob has marketing both directly (Author) and through the editors team.
    let bob = membership(&s, "bob@acme.example").await["sys"]["user"]["sys"]["id"].clone();
    let bob_member = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["sys"]["user"]["sys"]["id"] == bob)
        .unwrap();
    let kinds: Vec<&str> = bob_member["sys"]["relatedMemberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sys"]["linkType"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"SpaceMembership") && kinds.contains(&"TeamSpaceMembership"),
        "{kinds:?}"
    );
    let (st, _) = get(
        &s,
        &format!("/spaces/{MARKETING}/users/{}", bob.as_str().unwrap()),
    )
    .await;
    assert_eq!(st, 200);
    let olivia_not_in_space = get(&s, &format!("/spaces/{MARKETING}/users/nobody"))
        .await
        .0;
    assert_eq!(olivia_not_in_space, 404);
    s.shutdown().await;
}

/// The invitations collection lists open invitations only; revoking one removes the pending
/// membership with its access; revoking an owner's invitation needs an owner.
#[tokio::test]
async fn invitations_are_listed_and_revoked() {
    let s = demo_with_owner().await;
    let path = format!("/organizations/{ORG}/invitations");
    let (st, open) = get(&s, &path).await;
    assert_eq!(st, 200, "{open}");
    let before = open["total"].as_u64().unwrap();
    let nina = send(
        &s,
        &s.admin_token(),
        Method::POST,
        &path,
        &[],
        Some(json!({"email": "nina.novak@acme.example", "role": "developer"})),
    )
    .await;
    assert_eq!(nina.status, 201);
    let owner = send(
        &s,
        OWNER_TOKEN,
        Method::POST,
        &path,
        &[],
        Some(json!({"email": "new.owner@acme.example", "role": "owner"})),
    )
    .await;
    assert_eq!(owner.status, 201);
    let (_, open) = get(&s, &path).await;
    assert_eq!(open["total"].as_u64().unwrap(), before + 2);
    for i in open["items"].as_array().unwrap() {
        assert_eq!(i["sys"]["status"], "open");
    }
    let nina_id = nina.body["sys"]["id"].as_str().unwrap();
    let nina_om = nina.body["sys"]["organizationMembership"]["sys"]["id"]
        .as_str()
        .unwrap();
    let d = send(
        &s,
        &s.admin_token(),
        Method::DELETE,
        &format!("{path}/{nina_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(d.status, 204, "{}", d.body);
    let (st, _) = get(
        &s,
        &format!("/organizations/{ORG}/organization_memberships/{nina_om}"),
    )
    .await;
    assert_eq!(st, 404, "the pending membership went with the invitation");
    let (st, _) = get(&s, &format!("{path}/{nina_id}")).await;
    assert_eq!(st, 404);
    let owner_id = owner.body["sys"]["id"].as_str().unwrap();
    let d = send(
        &s,
        &s.admin_token(),
        Method::DELETE,
        &format!("{path}/{owner_id}"),
        &[],
        None,
    )
    .await;
    assert_owner_only(&d, "admin revokes an owner's invitation");
    let d = send(
        &s,
        OWNER_TOKEN,
        Method::DELETE,
        &format!("{path}/{owner_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(d.status, 204);
    let (_, open) = get(&s, &path).await;
    assert_eq!(open["total"].as_u64().unwrap(), before);
    // A member cannot list them.
    let (st, _, _) = super::read::get_as(&s, super::read::MEMBER_TOKEN, &path).await;
    assert_eq!(st, 403);
    s.shutdown().await;
}
