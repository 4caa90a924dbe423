//! Reading a whole organization from a scripted server that pages its collections like Contentful
//! (`skip`, `limit`, `total`, `includes.User`): the assembled `LiveState`, the request budget and
//! the progress reports.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Uri;
use axum::response::IntoResponse;
use contentful_access::contentful::{Client, ClientConfig, Progress};
use contentful_access::model::{Email, MembershipStatus, OrgRole};
use secrecy::SecretString;
use serde_json::{Value, json};

fn link(kind: &str, id: &str) -> Value {
    json!({"sys": {"type": "Link", "linkType": kind, "id": id}})
}

/// The scripted organization: path → items, plus users for `include=sys.user`.
struct Org {
    collections: BTreeMap<String, Vec<Value>>,
    users: BTreeMap<String, Value>,
}

fn build_org() -> Org {
    let mut c: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut users = BTreeMap::new();
    let mut oms = Vec::new();
    for i in 0..250 {
        let uid = format!("u{i}");
        users.insert(
            uid.clone(),
            json!({"email": format!("User{i}@Example.com"), "firstName": if i % 10 == 0 { Value::Null } else { json!("F") },
                   "lastName": null, "activated": i % 10 != 0, "sys": {"type": "User", "id": uid}}),
        );
        let role = ["member", "developer", "admin", "owner"][i % 4];
        let mut sys = json!({"type": "OrganizationMembership", "id": format!("om{i}"), "version": i,
                             "status": if i % 10 == 0 { "pending" } else { "active" },
                             "createdAt": "2025-01-01T00:00:00Z", "lastActiveAt": null});
        let mut om = json!({"role": role});
        if i == 7 {
            // The deprecated top-level user link.
            om["user"] = link("User", &uid);
        } else {
            sys["user"] = link("User", &uid);
        }
        om["sys"] = sys;
        oms.push(om);
    }
    c.insert("/organizations/org1/organization_memberships".into(), oms);
    c.insert(
        "/organizations/org1/teams".into(),
        vec![
            json!({"name": "Editors", "description": "edit", "sys": {"id": "t1", "version": 2}}),
            json!({"name": "Readers", "description": null, "sys": {"id": "t2", "version": 1}}),
        ],
    );
    c.insert(
        "/organizations/org1/team_memberships".into(),
        (0..120)
            .map(|i| {
                json!({"organizationMembershipId": format!("om{i}"), "sys": {"id": format!("tm{i}"), "version": 0,
                   "team": link("Team", if i % 2 == 0 { "t1" } else { "t2" }),
                   "organizationMembership": link("OrganizationMembership", &format!("om{i}"))}})
            })
            .collect(),
    );
    c.insert(
        "/organizations/org1/team_space_memberships".into(),
        vec![
            json!({"admin": false, "roles": [link("Role", "r-editor")], "sys": {"id": "tsm1", "version": 3,
                   "team": link("Team", "t1"), "space": link("Space", "sp1")}}),
            json!({"admin": true, "roles": [link("Role", "r-editor")], "sys": {"id": "tsm2", "version": 0,
                   "team": link("Team", "t2"), "space": link("Space", "sp3")}}),
        ],
    );
    c.insert(
        "/organizations/org1/space_memberships".into(),
        (0..230)
            .map(|i| {
                let space = ["sp1", "sp2", "sp3"][i % 3];
                json!({"admin": i % 5 == 0, "roles": [link("Role", "r-editor")], "sys": {"id": format!("sm{i}"), "version": 1,
                       "space": link("Space", space), "user": link("User", &format!("u{i}"))}})
            })
            .collect(),
    );
    c.insert(
        "/organizations/org1/spaces".into(),
        ["sp1", "sp2", "sp3"]
            .iter()
            .map(|s| json!({"name": format!("Space {s}"), "sys": {"id": s, "version": 1}}))
            .collect(),
    );
    // Every space's roles in one organization-wide collection, each naming its space.
    let mut roles =
        vec![json!({"name": "Editor", "sys": {"id": "r-editor", "space": link("Space", "sp1")}})];
    roles.extend((0..105).map(|i| {
        json!({"name": format!("Role {i}"), "sys": {"id": format!("r{i}"), "space": link("Space", "sp2")}})
    }));
    roles.push(json!({"name": "Editor", "sys": {"id": "r-sp3", "space": link("Space", "sp3")}}));
    c.insert("/organizations/org1/roles".into(), roles);
    Org {
        collections: c,
        users,
    }
}

fn page(org: &Org, uri: &Uri) -> axum::response::Response {
    let path = uri.path();
    if path == "/users/me" {
        return axum::Json(json!({"email": "me@example.com", "sys": {"type": "User", "id": "u1"}}))
            .into_response();
    }
    let query: BTreeMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let Some(all) = org.collections.get(path) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(json!({"sys": {"type": "Error", "id": "NotFound"}, "requestId": "nf"})),
        )
            .into_response();
    };
    let skip: usize = query.get("skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let items: Vec<Value> = all.iter().skip(skip).take(limit).cloned().collect();
    let mut body = json!({"sys": {"type": "Array"}, "total": all.len(), "skip": skip, "limit": limit, "items": items});
    if query.get("include").map(String::as_str) == Some("sys.user") {
        let included: Vec<Value> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| {
                let id = m["sys"]["user"]["sys"]["id"]
                    .as_str()
                    .or(m["user"]["sys"]["id"].as_str())?;
                org.users.get(id).cloned()
            })
            .collect();
        body["includes"] = json!({"User": included});
    }
    axum::Json(body).into_response()
}

async fn serve(org: Org) -> (String, Arc<Mutex<Vec<String>>>) {
    let (base, seen, _) = serve_slowly(org, Duration::ZERO).await;
    (base, seen)
}

/// Serves `org`, answering each request after `latency`; also reports the most requests that
/// were ever in flight at once.
async fn serve_slowly(
    org: Org,
    latency: Duration,
) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let org = Arc::new(org);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen2 = seen.clone();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let max2 = max_in_flight.clone();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let org = org.clone();
        let seen = seen2.clone();
        let in_flight = in_flight.clone();
        let max = max2.clone();
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(latency).await;
            seen.lock().unwrap().push(uri.to_string());
            in_flight.fetch_sub(1, Ordering::SeqCst);
            page(&org, &uri)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen, max_in_flight)
}

#[tokio::test]
async fn reads_every_page_of_every_collection_into_live_state() {
    let (base, seen) = serve(build_org()).await;
    let progress: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let progress2 = progress.clone();
    let mut cfg = ClientConfig::new(&base, SecretString::from("tok")).unwrap();
    cfg.max_rps = 500;
    cfg.backoff_base = Duration::from_millis(1);
    cfg.progress = Some(Arc::new(move |p| progress2.lock().unwrap().push(p)));
    let client = Client::new(cfg).unwrap();
    let live = client
        .read_live_state("org1", &["sp1".to_string(), "sp2".to_string()])
        .await
        .unwrap();

    assert_eq!(live.organization, "org1");
    assert_eq!(live.me.as_deref(), Some("u1"));
    assert_eq!(live.org_memberships.len(), 250);
    assert_eq!(live.users.len(), 250);
    let (user, m) = live
        .membership_by_email(&Email::new("user7@example.com"))
        .unwrap();
    assert_eq!(user.id, "u7");
    assert_eq!(m.role, OrgRole::Owner);
    let (user, m) = live
        .membership_by_email(&Email::new("USER20@example.com"))
        .unwrap();
    assert_eq!(m.status, MembershipStatus::Pending);
    assert!(!user.activated && user.first_name.is_none());
    assert_eq!(live.org_memberships["om249"].meta.version, 249);

    assert_eq!(live.teams.len(), 2);
    assert_eq!(live.teams["t2"].description, "");
    assert_eq!(live.team_memberships.len(), 120);
    assert_eq!(live.team_memberships["tm3"].org_membership_id, "om3");
    assert_eq!(live.team_space_memberships.len(), 2);
    // Admin with roles listed reads as admin without roles.
    assert!(live.team_space_memberships["tsm2"].role_ids.is_empty());
    // Space memberships of the unmanaged space sp3 are kept.
    assert_eq!(live.space_memberships.len(), 230);
    assert_eq!(live.space_memberships["sm2"].space_id, "sp3");

    assert_eq!(live.spaces.len(), 3);
    assert_eq!(live.spaces["sp1"].role_id("Editor"), Some("r-editor"));
    assert_eq!(live.spaces["sp2"].roles.len(), 105);
    assert!(
        live.spaces["sp3"].roles.is_empty(),
        "roles only for managed spaces"
    );

    // The budget: 3 + 1 + 2 + 1 + 3 + 1 collection pages, 2 pages of the organization's 107
    // roles (one read for every space, not one per managed space), 1 for /users/me.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 14, "{seen:#?}");
    assert_eq!(client.stats().requests, 14);
    assert_eq!(client.stats().by_route["GET /organizations/{org}/roles"], 2);
    assert!(seen.iter().all(|u| !u.starts_with("/spaces/")), "{seen:#?}");
    assert!(
        seen.iter()
            .filter(|u| u.starts_with("/organizations/org1/roles"))
            .all(|u| u.contains("include=sys.space"))
    );
    assert!(
        seen.iter()
            .all(|u| u == "/users/me" || u.contains("limit=100"))
    );
    assert_eq!(
        client.stats().by_route["GET /organizations/{org}/organization_memberships"],
        3
    );

    let progress = progress.lock().unwrap().clone();
    assert_eq!(progress.len(), 14);
    assert_eq!(progress.last().unwrap().done, 14);
    assert_eq!(progress.last().unwrap().total, 14);
    // Never "complete" before the last page: a progress bar would vanish too early.
    assert!(
        progress[..13].iter().all(|p| p.done < p.total),
        "{progress:?}"
    );
}

#[tokio::test]
async fn a_managed_space_that_does_not_exist_is_left_out_for_the_planner_to_report() {
    let (base, seen) = serve(build_org()).await;
    let mut cfg = ClientConfig::new(&base, SecretString::from("tok")).unwrap();
    cfg.max_rps = 500;
    let live = Client::new(cfg)
        .unwrap()
        .read_live_state("org1", &["nope".to_string(), "sp1".to_string()])
        .await
        .unwrap();
    assert!(!live.spaces.contains_key("nope"));
    assert_eq!(live.spaces["sp1"].roles.len(), 1);
    // Nothing is asked about it: roles come from the organization-wide read.
    assert!(
        !seen
            .lock()
            .unwrap()
            .iter()
            .any(|u| u.starts_with("/spaces/"))
    );
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_configured_concurrency() {
    let (base, seen, max_in_flight) = serve_slowly(build_org(), Duration::from_millis(30)).await;
    let mut cfg = ClientConfig::new(&base, SecretString::from("tok")).unwrap();
    cfg.max_rps = 1000;
    cfg.concurrency = 3;
    let live = Client::new(cfg)
        .unwrap()
        .read_live_state("org1", &["sp1".to_string(), "sp2".to_string()])
        .await
        .unwrap();
    assert_eq!(live.org_memberships.len(), 250);
    assert_eq!(seen.lock().unwrap().len(), 14);
    // Concurrent, but bounded.
    assert_eq!(max_in_flight.load(Ordering::SeqCst), 3);
}
