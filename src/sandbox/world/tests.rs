//! Unit tests of the whole world: the demo org, ids, versions, paging and seeds.

use std::collections::BTreeMap;

use chrono::TimeZone;

use super::*;
use crate::model::{
    LiveOrgMembership, LiveRole, LiveSpace, LiveSpaceMembership, LiveState, LiveUser, ObjectMeta,
};
use crate::sandbox::seed::{SyntheticSpec, demo_seed, synthetic};

const ORG: &str = "2AcmeDemoOrgSandbox001";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

fn req(w: &World, method: &str, path: &str) -> ApiRequest {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    ApiRequest {
        method: method.to_string(),
        path: p.to_string(),
        query: q
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        token: w.admin_token(),
        ..ApiRequest::default()
    }
}

fn get(w: &mut World, path: &str) -> Value {
    let r = req(w, "GET", path);
    let res = w.handle(&r, now());
    assert_eq!(res.status, 200, "{path}: {:?}", res.body);
    res.body.unwrap()
}

fn email_of(w: &World, user: &str) -> String {
    w.user(user).unwrap().email.clone()
}

fn role_names(w: &World, ids: &[String]) -> Vec<String> {
    let mut names: Vec<String> = ids
        .iter()
        .map(|r| w.roles.get(r).unwrap().name.clone())
        .collect();
    names.sort();
    names
}

#[test]
fn demo_org_differs_from_the_access_file_exactly_as_documented() {
    let w = World::from_seed(demo_seed()).unwrap();
    let by_email = |e: &str| w.org_membership_by_email(e);
    // 1. nina does not exist live.
    assert!(w.user_by_email("nina.novak@acme.example").is_none());
    // 2. priya is a pending invitee already in editors.
    let priya = by_email("priya.raman@acme.example").unwrap();
    assert_eq!(
        (priya.status, priya.role),
        (MembershipStatus::Pending, OrgRole::Member)
    );
    let priya_user = w.user(&priya.user).unwrap();
    assert!(
        !priya_user.activated && priya_user.first_name.is_none() && priya_user.last_name.is_none()
    );
    let team = |name: &str| {
        w.teams
            .in_order()
            .find(|t| t.name == name)
            .unwrap()
            .id
            .clone()
    };
    let members = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = w
            .tms
            .in_order()
            .filter(|m| m.team == team(t))
            .map(|m| email_of(&w, &w.oms.get(&m.org_membership).unwrap().user))
            .collect();
        v.sort();
        v
    };
    assert!(members("editors").contains(&"priya.raman@acme.example".to_string()));
    let inv = w.invitations.in_order().next().unwrap();
    assert_eq!(inv.org_membership, priya.id);
    assert!(created_at(&inv.sys) < now() - chrono::Duration::days(7));
    // 3. bob has marketing [Editor] directly.
    let direct = |email: &str, space: &str| -> Option<(bool, Vec<String>)> {
        let user = w.user_by_email(email)?.id.clone();
        w.sms
            .in_order()
            .find(|m| m.user == user && m.space == space)
            .map(|m| (m.admin, role_names(&w, &m.roles)))
    };
    assert_eq!(
        direct("bob@acme.example", "5nq2sd7t0mkg"),
        Some((false, vec!["Editor".into()]))
    );
    // 4. editors has marketing [Editor].
    let tsm = |t: &str, space: &str| {
        w.tsms
            .in_order()
            .find(|m| m.team == team(t) && m.space == space)
            .map(|m| (m.admin, role_names(&w, &m.roles)))
    };
    assert_eq!(
        tsm("editors", "5nq2sd7t0mkg"),
        Some((false, vec!["Editor".into()]))
    );
    assert_eq!(
        tsm("editors", "9w3kd0x1mzq4"),
        Some((false, vec!["Editor".into()]))
    );
    assert_eq!(tsm("web-admins", "3ps8vjz0q7lr"), Some((true, vec![])));
    // 5. the former contractor: undeclared, inactive ~400 days, blog [Author], active token.
    let frank = by_email("former.contractor@acme.example").unwrap();
    let idle = now() - frank.last_active_at.unwrap();
    assert!(
        (395..=405).contains(&idle.num_days()),
        "{}",
        idle.num_days()
    );
    assert_eq!(
        direct("former.contractor@acme.example", "9w3kd0x1mzq4"),
        Some((false, vec!["Author".into()]))
    );
    assert!(
        w.tokens
            .in_order()
            .any(|t| t.user == frank.user && t.revoked_at.is_none())
    );
    // 6. the CI bot is a developer.
    assert_eq!(
        by_email("ci-bot@acme.example").unwrap().role,
        OrgRole::Developer
    );
    // 7. lena is also in localization.
    assert!(members("localization").contains(&"lena.fischer@acme.example".to_string()));
    // 8. old-agency: marketing [Translator], no members.
    assert!(members("old-agency").is_empty());
    assert_eq!(
        tsm("old-agency", "5nq2sd7t0mkg"),
        Some((false, vec!["Translator".into()]))
    );
    // The unmanaged playground space has a couple of memberships.
    assert_eq!(w.sms_by_space.len("7hq0ut5rrw2d"), 2);
    // Every space has the four default roles, with ids distinct across spaces.
    for s in w.spaces.in_order() {
        let ids: Vec<String> = w
            .roles_by_space
            .get(&s.id)
            .unwrap()
            .ids()
            .cloned()
            .collect();
        assert_eq!(
            role_names(&w, &ids),
            ["Author", "Editor", "Freelancer", "Translator"]
        );
    }
    assert_eq!(w.roles.items.len(), 16);
    // Long inactive and never active members.
    let inactive = w
        .oms
        .in_order()
        .filter(|m| {
            m.last_active_at
                .is_some_and(|t| (now() - t).num_days() >= 200)
        })
        .count();
    assert!(inactive >= 3, "{inactive}");
    assert!(
        w.oms
            .in_order()
            .any(|m| m.status == MembershipStatus::Active && m.last_active_at.is_none())
    );
    // Tokens: jane is the admin, carla the member.
    let admin = w.admin_token().unwrap();
    assert_eq!(
        email_of(&w, w.token_user(&admin).unwrap()),
        "jane@acme.example"
    );
    assert_eq!(
        email_of(&w, w.token_user("sandbox-member-token").unwrap()),
        "carla.gomez@acme.example"
    );
}

#[test]
fn unknown_routes_are_404_and_request_ids_are_unique() {
    let mut w = World::from_seed(demo_seed()).unwrap();
    let r = req(&w, "GET", "/nowhere");
    let a = w.handle(&r, now());
    let b = w.handle(&r, now());
    assert_eq!(a.status, 404);
    assert_eq!(a.body.as_ref().unwrap()["sys"]["id"], "NotFound");
    assert_ne!(a.request_id, b.request_id);
    assert_eq!(a.body.unwrap()["requestId"], a.request_id.as_str());
    assert_eq!(
        match_route("GET", "/spaces/abc/roles/def"),
        Some((
            "/spaces/:space/roles/:id",
            vec!["abc".to_string(), "def".to_string()]
        ))
    );
    assert_eq!(match_route("PATCH", "/spaces/abc"), None);
}

#[test]
fn runtime_ids_look_like_contentful_ids_and_are_deterministic() {
    let mut a = World::from_seed(demo_seed()).unwrap();
    let mut b = World::from_seed(demo_seed()).unwrap();
    let ids: Vec<String> = (0..50).map(|_| a.next_id()).collect();
    assert!(
        ids.iter()
            .all(|id| id.len() == 22 && id.bytes().all(|c| c.is_ascii_alphanumeric()))
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 50);
    assert_eq!(ids[0], b.next_id());
}

#[test]
fn seed_round_trips_through_the_world() {
    let w = World::from_seed(demo_seed()).unwrap();
    let seed = w.to_seed();
    let again = World::from_seed(Seed::from_json(&seed.to_json()).unwrap())
        .unwrap()
        .to_seed();
    assert_eq!(seed, again);
}

#[test]
fn version_bumps_mark_another_admin_as_editor() {
    let mut w = World::from_seed(demo_seed()).unwrap();
    let team = w.teams.in_order().next().unwrap().id.clone();
    let v = w.version_of(ObjectKind::Team, &team).unwrap();
    let path = format!("/organizations/{ORG}/teams/{team}");
    w.bump_version_on_next_read(ObjectKind::Team, &team);
    let read = get(&mut w, &path);
    assert_eq!(
        read["sys"]["version"], v,
        "the read itself shows the old version"
    );
    assert_eq!(w.version_of(ObjectKind::Team, &team), Some(v + 1));
    let me = w.token_user(&w.admin_token().unwrap()).unwrap().to_string();
    assert_ne!(
        w.teams.get(&team).unwrap().sys.updated_by.as_deref(),
        Some(me.as_str())
    );
    get(&mut w, &path);
    assert_eq!(
        w.version_of(ObjectKind::Team, &team),
        Some(v + 1),
        "fires once"
    );
    assert!(!w.bump_version(ObjectKind::Role, "nope", &me, now()));
}

#[test]
fn large_synthetic_org_pages_in_order_without_scanning() {
    let mut w = World::from_seed(synthetic(&SyntheticSpec::for_users(10_000))).unwrap();
    assert_eq!(w.counts(), (10_000, 500, 20_000, 2_000, 30_000));
    let mut seen = Vec::new();
    let mut skip = 0;
    loop {
        let page = get(
            &mut w,
            &format!(
                "/organizations/SyntheticOrg000000001/space_memberships?limit=100&skip={skip}"
            ),
        );
        assert_eq!(page["total"], 30_000);
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        seen.extend(
            items
                .iter()
                .map(|i| i["sys"]["id"].as_str().unwrap().to_string()),
        );
        skip += 100;
    }
    let expected: Vec<String> = w.sms.order.ids().cloned().collect();
    assert_eq!(seen, expected);
    // How fast this is (O(page) per request) is measured in benches/, not asserted here.
    let me = get(
        &mut w,
        "/organizations/SyntheticOrg000000001/organization_memberships?sys.user.sys.id=synuser000042",
    );
    assert_eq!(me["total"], 1);
}

#[test]
fn a_live_state_becomes_a_servable_seed() {
    let mut live = LiveState {
        organization: "LiveOrg".into(),
        organization_name: Some("Live Inc.".into()),
        ..LiveState::default()
    };
    for (id, email, role) in [
        ("u1", "owner@live.example", OrgRole::Owner),
        ("u2", "ed@live.example", OrgRole::Member),
    ] {
        live.users.insert(
            id.into(),
            LiveUser {
                id: id.into(),
                email: Email::new(email),
                first_name: Some("F".into()),
                last_name: None,
                activated: true,
            },
        );
        live.org_memberships.insert(
            format!("m-{id}"),
            LiveOrgMembership {
                meta: ObjectMeta::new(format!("m-{id}"), 4),
                user_id: id.into(),
                role,
                status: MembershipStatus::Active,
                last_active_at: None,
            },
        );
    }
    let mut roles = BTreeMap::new();
    roles.insert("r1".to_string(), LiveRole::named("r1", "Editor"));
    live.spaces.insert(
        "s1".into(),
        LiveSpace {
            id: "s1".into(),
            name: "Space".into(),
            roles,
        },
    );
    live.space_memberships.insert(
        "sm1".into(),
        LiveSpaceMembership {
            meta: ObjectMeta::new("sm1", 2),
            space_id: "s1".into(),
            user_id: "u2".into(),
            admin: false,
            role_ids: ["r1".to_string(), "gone".to_string()].into(),
        },
    );
    let seed = Seed::from_live_state(&live, &Email::new("owner@live.example"));
    seed.validate().unwrap();
    let mut w = World::from_seed(seed).unwrap();
    assert_eq!(w.token_user("sandbox-rehearsal-token"), Some("u1"));
    let sm = get(&mut w, "/spaces/s1/space_memberships/sm1");
    assert_eq!(sm["sys"]["version"], 2, "versions are kept");
    assert_eq!(
        sm["roles"].as_array().unwrap().len(),
        1,
        "unknown role ids are dropped"
    );
    let om = get(
        &mut w,
        "/organizations/LiveOrg/organization_memberships/m-u1",
    );
    assert_eq!(om["sys"]["version"], 4);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any page of a filtered, ordered listing is the matching slice of the whole listing.
    #[test]
    fn pages_are_slices_of_the_whole_listing(
        skip in 0usize..80,
        limit in 0usize..=100,
        role in proptest::sample::select(vec!["member", "developer", "admin", "owner"]),
        op in proptest::sample::select(vec!["", "[ne]", "[in]", "[nin]"]),
        order in proptest::sample::select(vec!["", "&order=role", "&order=-sys.lastActiveAt", "&order=sys.user.email,-role"]),
    ) {
        let mut w = World::from_seed(synthetic(&SyntheticSpec::for_users(60))).unwrap();
        let base = format!("/organizations/SyntheticOrg000000001/organization_memberships?role{op}={role}{order}");
        let all = get(&mut w, &format!("{base}&limit=100"));
        let page = get(&mut w, &format!("{base}&limit={limit}&skip={skip}"));
        let all_items = all["items"].as_array().unwrap();
        let expected: Vec<&Value> = all_items.iter().skip(skip).take(limit).collect();
        let got: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
        proptest::prop_assert_eq!(got, expected);
        proptest::prop_assert_eq!(&page["total"], &all["total"]);
        let negated = op == "[ne]" || op == "[nin]";
        for m in all_items {
            proptest::prop_assert_eq!(m["role"] == role, !negated);
        }
    }
}

#[test]
fn every_route_row_is_reached_by_its_own_path_and_no_row_is_listed_twice() {
    let mut seen = std::collections::HashSet::new();
    for route in ROUTES {
        assert!(seen.insert((route.method, route.path)), "{route:?} twice");
        let path: Vec<&str> = route
            .path
            .split('/')
            .map(|s| if s.starts_with(':') { "x" } else { s })
            .collect();
        let (found, params) = routes::find(route.method, &path.join("/")).unwrap();
        assert_eq!((found.method, found.path), (route.method, route.path));
        assert_eq!(params.len(), route.path.matches(':').count());
    }
}
