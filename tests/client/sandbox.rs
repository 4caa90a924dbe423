//! The Contentful client against the sandbox over HTTP: a complete read of a large synthetic
//! organization with the minimum number of requests, pacing under the sandbox's rate limit,
//! recovery from injected faults, error mapping when retries run out, and a round trip through
//! every write call. Expected values are computed here from the seed, independently of both the
//! client's and the sandbox's wire code.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use contentful_access::contentful::{Client, ClientConfig, ContentfulError};
use contentful_access::model::{Email, LiveState, OrgRole};
use contentful_access::sandbox::{
    FaultConfig, FaultKind, SandboxOptions, Seed, Server, SyntheticSpec, synthetic,
};
use secrecy::SecretString;

fn client(server: &Server, max_rps: u32) -> Client {
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = max_rps;
    cfg.backoff_base = Duration::from_millis(5);
    Client::new(cfg).unwrap()
}

async fn start(seed: Seed, rate_limit_per_sec: u32) -> Server {
    Server::start(
        seed,
        SandboxOptions {
            rate_limit_per_sec,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap()
}

fn pages(n: usize) -> usize {
    n.div_ceil(100).max(1)
}

/// Requests a complete read needs: one per page of 100 of each collection and of the
/// organization's roles (read once for every space when any is managed), plus `/users/me`.
fn minimum_requests(seed: &Seed, managed: &[String]) -> usize {
    let roles = if managed.is_empty() {
        0
    } else {
        pages(seed.roles.len())
    };
    pages(seed.org_memberships.len())
        + pages(seed.teams.len())
        + pages(seed.team_memberships.len())
        + pages(seed.team_space_memberships.len())
        + pages(seed.space_memberships.len())
        + pages(seed.spaces.len())
        + roles
        + 1
}

fn managed_spaces(seed: &Seed, n: usize) -> Vec<String> {
    seed.spaces.iter().take(n).map(|s| s.id.clone()).collect()
}

/// Asserts that `live` holds exactly the seed's organization.
fn assert_matches_seed(live: &LiveState, seed: &Seed, managed: &[String]) {
    assert_eq!(live.organization, seed.organization.id);

    let want: BTreeMap<_, _> = seed
        .org_memberships
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                (m.user.clone(), m.role, m.status, m.sys.version),
            )
        })
        .collect();
    let got: BTreeMap<_, _> = live
        .org_memberships
        .iter()
        .map(|(id, m)| {
            (
                id.clone(),
                (m.user_id.clone(), m.role, m.status, m.meta.version),
            )
        })
        .collect();
    assert_eq!(got, want, "organization memberships");

    let members: BTreeSet<&String> = seed.org_memberships.iter().map(|m| &m.user).collect();
    let want: BTreeMap<_, _> = seed
        .users
        .iter()
        .filter(|u| members.contains(&u.id))
        .map(|u| (u.id.clone(), Email::new(&u.email)))
        .collect();
    let got: BTreeMap<_, _> = live
        .users
        .iter()
        .map(|(id, u)| (id.clone(), u.email.clone()))
        .collect();
    assert_eq!(got, want, "users");

    let want: BTreeMap<_, _> = seed
        .teams
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                (t.name.clone(), t.description.clone().unwrap_or_default()),
            )
        })
        .collect();
    let got: BTreeMap<_, _> = live
        .teams
        .iter()
        .map(|(id, t)| (id.clone(), (t.name.clone(), t.description.clone())))
        .collect();
    assert_eq!(got, want, "teams");

    let want: BTreeMap<_, _> = seed
        .team_memberships
        .iter()
        .map(|m| (m.id.clone(), (m.team.clone(), m.org_membership.clone())))
        .collect();
    let got: BTreeMap<_, _> = live
        .team_memberships
        .iter()
        .map(|(id, m)| (id.clone(), (m.team_id.clone(), m.org_membership_id.clone())))
        .collect();
    assert_eq!(got, want, "team memberships");

    let want: BTreeMap<_, _> = seed
        .team_space_memberships
        .iter()
        .map(|m| {
            let roles: BTreeSet<String> = m.roles.iter().cloned().collect();
            (
                m.id.clone(),
                (m.team.clone(), m.space.clone(), m.admin, roles),
            )
        })
        .collect();
    let got: BTreeMap<_, _> = live
        .team_space_memberships
        .iter()
        .map(|(id, m)| {
            (
                id.clone(),
                (
                    m.team_id.clone(),
                    m.space_id.clone(),
                    m.admin,
                    m.role_ids.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "team space memberships");

    let want: BTreeMap<_, _> = seed
        .space_memberships
        .iter()
        .map(|m| {
            let roles: BTreeSet<String> = m.roles.iter().cloned().collect();
            (
                m.id.clone(),
                (m.space.clone(), m.user.clone(), m.admin, roles),
            )
        })
        .collect();
    let got: BTreeMap<_, _> = live
        .space_memberships
        .iter()
        .map(|(id, m)| {
            (
                id.clone(),
                (
                    m.space_id.clone(),
                    m.user_id.clone(),
                    m.admin,
                    m.role_ids.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "space memberships");

    let want: BTreeMap<_, _> = seed
        .spaces
        .iter()
        .map(|s| {
            let roles: BTreeMap<String, String> = if managed.contains(&s.id) {
                seed.roles
                    .iter()
                    .filter(|r| r.space == s.id)
                    .map(|r| (r.id.clone(), r.name.clone()))
                    .collect()
            } else {
                BTreeMap::new()
            };
            (s.id.clone(), (s.name.clone(), roles))
        })
        .collect();
    let got: BTreeMap<_, _> = live
        .spaces
        .iter()
        .map(|(id, s)| {
            let roles: BTreeMap<String, String> = s
                .roles
                .iter()
                .map(|(rid, r)| (rid.clone(), r.name.clone()))
                .collect();
            (id.clone(), (s.name.clone(), roles))
        })
        .collect();
    assert_eq!(got, want, "spaces and roles of managed spaces");
}

#[tokio::test]
async fn reading_a_1000_user_org_takes_the_minimum_number_of_requests() {
    let seed = synthetic(&SyntheticSpec::for_users(1000));
    let server = start(seed.clone(), 0).await;
    let managed = managed_spaces(&seed, 3);
    let c = client(&server, 1000);
    let live = c
        .read_live_state(&seed.organization.id, &managed)
        .await
        .unwrap();
    assert_matches_seed(&live, &seed, &managed);
    assert!(live.me.is_some());

    let want = minimum_requests(&seed, &managed);
    assert!(want > 50, "the org spans many pages ({want})");
    let journal = server.journal_counts();
    assert_eq!(journal.total, want, "{:#?}", journal.by_route);
    assert_eq!(c.stats().requests as usize, want);
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn pacing_at_the_sandbox_limit_avoids_a_429_storm() {
    let seed = synthetic(&SyntheticSpec::for_users(400));
    let server = start(seed.clone(), 10).await;
    let managed = managed_spaces(&seed, 2);
    // The client starts at twice the server's limit; the first response announces 10/s.
    let c = client(&server, 20);
    let live = c
        .read_live_state(&seed.organization.id, &managed)
        .await
        .unwrap();
    assert_matches_seed(&live, &seed, &managed);
    let rate_limited = server
        .journal_counts()
        .by_status
        .get(&429)
        .copied()
        .unwrap_or(0);
    // The first few requests go out at 20/s before the announced limit is known, and evenly
    // spaced requests can straddle the sandbox's one-second windows; a handful of 429s is the
    // most that can happen. Unpaced, the ~40 requests of this read would all go out in the first
    // second.
    assert!(
        rate_limited <= 3,
        "{rate_limited} requests were rate limited; stats: {:?}",
        c.stats()
    );
    assert_eq!(c.stats().rate_limited as usize, rate_limited);
}

#[tokio::test]
async fn reads_complete_correctly_through_injected_faults() {
    let seed = synthetic(&SyntheticSpec::for_users(300));
    // A generous limit: the sandbox's 429s announce it, and the client slows down to it.
    let server = start(seed.clone(), 50).await;
    // The sandbox draws faults from one deterministic sequence. Some seeds (1, for one) hold five
    // faults in a row where the last request of the read is retrying alone, which would exhaust
    // any 5-attempt budget; seed 7 gives a fault rate of 0.2 without such a run.
    server.set_faults(FaultConfig {
        rng_seed: 7,
        ..FaultConfig::new(
            0.2,
            vec![
                FaultKind::Status429,
                FaultKind::Status500,
                FaultKind::Status502,
                FaultKind::Status503,
                FaultKind::DropConnection,
            ],
        )
    });
    let managed = managed_spaces(&seed, 2);
    let c = client(&server, 1000);
    let live = c
        .read_live_state(&seed.organization.id, &managed)
        .await
        .unwrap();
    assert_matches_seed(&live, &seed, &managed);
    let stats = c.stats();
    assert!(stats.retries > 0, "faults were injected: {stats:?}");
    // Every failed attempt was seen for what it was and retried.
    assert_eq!(
        stats.rate_limited + stats.server_errors + stats.dropped,
        stats.retries,
        "{stats:?}"
    );
    let failed_at_server = server
        .journal()
        .iter()
        .filter(|e| !(200..300).contains(&e.status))
        .count();
    assert_eq!(failed_at_server as u64, stats.retries, "{stats:?}");
    assert_eq!(
        stats.requests as usize - stats.retries as usize,
        minimum_requests(&seed, &managed)
    );
}

#[tokio::test]
async fn when_retries_run_out_the_error_names_the_request_and_its_request_id() {
    let seed = synthetic(&SyntheticSpec::for_users(10));
    let server = start(seed.clone(), 0).await;
    server.set_faults(FaultConfig::new(1.0, vec![FaultKind::Status500]));
    let c = client(&server, 1000);
    let err = c
        .get_team(&seed.organization.id, &seed.teams[0].id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.request_id().is_some(), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "GET /organizations/{}/teams/{}: 500 ",
            seed.organization.id, seed.teams[0].id
        )),
        "{text}"
    );
    assert!(text.contains("(requestId "), "{text}");
    assert!(!text.contains(&server.admin_token()));
    assert_eq!(server.journal_counts().total, 5);

    server.set_faults(FaultConfig::new(1.0, vec![FaultKind::DropConnection]));
    let err = c.me().await.unwrap_err();
    assert!(matches!(err, ContentfulError::Transport { .. }), "{err}");
    assert!(!format!("{err:?}").contains(&server.admin_token()));
}

#[tokio::test]
async fn every_write_call_round_trips_through_the_sandbox() {
    let seed = synthetic(&SyntheticSpec::for_users(20));
    let server = start(seed.clone(), 0).await;
    let org = seed.organization.id.clone();
    let c = client(&server, 1000);
    let live = c
        .read_live_state(&org, &managed_spaces(&seed, 1))
        .await
        .unwrap();
    let space = seed.spaces[0].id.clone();
    let role = seed
        .roles
        .iter()
        .find(|r| r.space == space)
        .unwrap()
        .id
        .clone();

    // Invite, then use the pending membership at once.
    let email = Email::new("New.Person@Example.com");
    let invited = c
        .invite(
            &org,
            &email,
            OrgRole::Developer,
            Some("New"),
            Some("Person"),
        )
        .await
        .unwrap();
    let om = c
        .get_org_membership(&org, &invited.org_membership_id)
        .await
        .unwrap();
    assert_eq!(om.role, OrgRole::Developer);
    let om2 = c
        .update_org_membership(&org, &om.meta.id, om.meta.version, OrgRole::Member)
        .await
        .unwrap();
    assert!(om2.version > om.meta.version);
    // A stale version is refused as a version mismatch.
    let err = c
        .update_org_membership(&org, &om.meta.id, om.meta.version, OrgRole::Admin)
        .await
        .unwrap_err();
    assert!(err.is_version_mismatch(), "{err}");

    // Team, its membership, its access to a space.
    let team = c.create_team(&org, "Client Test Team", "").await.unwrap();
    let team2 = c
        .update_team(
            &org,
            &team.id,
            team.version,
            "Client Test Team",
            "described",
        )
        .await
        .unwrap();
    assert_eq!(
        c.get_team(&org, &team.id).await.unwrap().description,
        "described"
    );
    let tm = c
        .create_team_membership(&org, &team.id, &invited.org_membership_id)
        .await
        .unwrap();
    let tm_live = c.get_team_membership(&org, &team.id, &tm.id).await.unwrap();
    assert_eq!(tm_live.org_membership_id, invited.org_membership_id);
    let tsm = c
        .create_team_space_membership(&space, &team.id, false, std::slice::from_ref(&role))
        .await
        .unwrap();
    let tsm_live = c.get_team_space_membership(&space, &tsm.id).await.unwrap();
    assert_eq!(tsm_live.team_id, team.id);
    assert_eq!(tsm_live.role_ids, BTreeSet::from([role.clone()]));
    c.update_team_space_membership(&space, &tsm.id, tsm.version, &team.id, true, &[])
        .await
        .unwrap();
    assert!(
        c.get_team_space_membership(&space, &tsm.id)
            .await
            .unwrap()
            .admin
    );

    // A direct space membership by email.
    let sm = c
        .create_space_membership(&space, &email, false, std::slice::from_ref(&role))
        .await
        .unwrap();
    let sm_live = c.get_space_membership(&space, &sm.id).await.unwrap();
    assert_eq!(sm_live.space_id, space);
    c.update_space_membership(&space, &sm.id, sm_live.meta.version, true, &[])
        .await
        .unwrap();
    assert!(c.get_space_membership(&space, &sm.id).await.unwrap().admin);

    // And everything removed again.
    c.delete_space_membership(&space, &sm.id).await.unwrap();
    assert!(
        c.get_space_membership(&space, &sm.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    c.delete_team_space_membership(&space, &tsm.id)
        .await
        .unwrap();
    c.delete_team_membership(&org, &team.id, &tm.id)
        .await
        .unwrap();
    c.delete_team(&org, &team2.id).await.unwrap();
    c.delete_org_membership(&org, &invited.org_membership_id)
        .await
        .unwrap();
    let after = c
        .read_live_state(&org, &managed_spaces(&seed, 1))
        .await
        .unwrap();
    assert_eq!(after.org_memberships, live.org_memberships);
    assert_eq!(after.teams.len(), live.teams.len());
    assert_eq!(after.space_memberships.len(), live.space_memberships.len());
}

#[tokio::test]
async fn access_tokens_are_listed_without_their_values() {
    let seed = synthetic(&SyntheticSpec::for_users(30));
    let server = start(seed.clone(), 0).await;
    let c = client(&server, 1000);
    let tokens = c.read_access_tokens(&seed.organization.id).await.unwrap();
    let want: BTreeSet<String> = seed.access_tokens.iter().map(|t| t.id.clone()).collect();
    let got: BTreeSet<String> = tokens.iter().map(|t| t.id.clone()).collect();
    assert_eq!(got, want);
    assert!(tokens.iter().all(|t| !t.user_id.is_empty()));
}

/// A custom role with an environment-scoped policy and a field this tool does not know.
fn reviewer_definition() -> contentful_access::model::RoleDefinition {
    use serde_json::json;
    contentful_access::model::RoleDefinition {
        description: "Reviews entries".into(),
        permissions: json!({"ContentModel": ["read"], "Settings": [], "ContentDelivery": "all"})
            .as_object()
            .cloned()
            .unwrap(),
        policies: vec![json!({
            "effect": "allow", "actions": ["read", "update"],
            "constraint": {"and": [
                {"equals": [{"doc": "sys.type"}, "Entry"]},
                {"in": [{"doc": "sys.environment.sys.id"}, ["master"]]}
            ]},
            "futurePolicyField": {"kept": true}
        })],
        other: [("futureRoleField".to_string(), json!(["kept", 1]))]
            .into_iter()
            .collect(),
    }
}

#[tokio::test]
async fn role_writes_round_trip_definitions_versions_and_refusals() {
    let seed = synthetic(&SyntheticSpec {
        spaces: 2,
        ..SyntheticSpec::for_users(5)
    });
    let server = start(seed.clone(), 0).await;
    let c = client(&server, 1000);
    let space = seed.spaces[0].id.clone();
    let other_space = seed.spaces[1].id.clone();
    let def = reviewer_definition();

    // Create: everything sent comes back, unknown fields included.
    let created = c.create_role(&space, "Reviewer", &def).await.unwrap();
    let read = c.get_role(&space, &created.id).await.unwrap();
    assert_eq!(read.name, "Reviewer");
    assert_eq!(read.version, created.version);
    assert_eq!(read.definition, def);

    // The same name in the same space is refused with a 422; in another space it is fine.
    let err = c.create_role(&space, "Reviewer", &def).await.unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(err.to_string().contains("POST /spaces/"), "{err}");
    assert!(err.request_id().is_some(), "{err}");
    c.create_role(&other_space, "Reviewer", &def).await.unwrap();

    // Update at the version read replaces the definition and bumps the version.
    let mut changed = def.clone();
    changed
        .permissions
        .insert("Settings".into(), serde_json::json!("all"));
    changed.policies.pop();
    let updated = c
        .update_role(&space, &created.id, read.version, "Reviewer", &changed)
        .await
        .unwrap();
    assert!(updated.version > read.version);
    let reread = c.get_role(&space, &created.id).await.unwrap();
    assert_eq!(reread.definition, changed);
    assert_eq!(reread.version, updated.version);

    // A stale version is a 409 conflict, named with its request and requestId.
    let err = c
        .update_role(&space, &created.id, read.version, "Reviewer", &def)
        .await
        .unwrap_err();
    assert!(err.is_version_mismatch(), "{err}");
    assert_eq!(err.status(), Some(409));
    assert!(
        err.to_string()
            .starts_with(&format!("PUT /spaces/{space}/roles/{}: 409", created.id)),
        "{err}"
    );
    assert!(err.request_id().is_some(), "{err}");
    assert_eq!(c.get_role(&space, &created.id).await.unwrap(), reread);

    // Renaming onto another role's name in the space is a 422 too.
    let editor = seed
        .roles
        .iter()
        .find(|r| r.space == space)
        .unwrap()
        .name
        .clone();
    let err = c
        .update_role(&space, &created.id, updated.version, &editor, &changed)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");

    // Delete: a stale version is refused, the current one removes it.
    let err = c
        .delete_role(&space, &created.id, read.version)
        .await
        .unwrap_err();
    assert!(err.is_version_mismatch(), "{err}");
    c.delete_role(&space, &created.id, updated.version)
        .await
        .unwrap();
    assert!(
        c.get_role(&space, &created.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn the_org_wide_roles_read_gives_every_managed_space_its_roles_verbatim_in_one_request() {
    let seed =
        Seed::from_json(&std::fs::read_to_string("tests/seeds/roles.json").unwrap()).unwrap();
    let server = start(seed.clone(), 0).await;
    let c = client(&server, 1000);
    let managed = vec!["mkt1".to_string(), "docs1".to_string()];
    let live = c
        .read_live_state(&seed.organization.id, &managed)
        .await
        .unwrap();
    assert_eq!(
        server.journal_counts().total,
        minimum_requests(&seed, &managed)
    );
    assert_eq!(live.spaces["mkt1"].roles.len(), 2);
    assert_eq!(live.spaces["docs1"].roles.len(), 1);
    assert!(live.spaces["blog1"].roles.is_empty(), "not managed");
    let translator = &live.spaces["mkt1"].roles["r-mkt-translator"];
    assert_eq!(
        translator.definition.other["futureRoleField"],
        serde_json::json!(["kept", 1])
    );
    assert_eq!(
        translator.definition.policies[0]["futurePolicyField"],
        serde_json::json!({"kept": true})
    );
    let reviewer = &live.spaces["docs1"].roles["r-docs-reviewer"];
    assert_eq!(reviewer.version, 5);
    assert_eq!(reviewer.updated_by.as_deref(), Some("u-rita"));
}

#[tokio::test]
async fn a_role_that_is_someones_only_role_is_not_deleted_one_of_several_is() {
    let seed =
        Seed::from_json(&std::fs::read_to_string("tests/seeds/roles.json").unwrap()).unwrap();
    let server = start(seed.clone(), 0).await;
    let c = client(&server, 1000);
    // Tom's only role in Marketing: refused (documented; the 422 is the sandbox's choice).
    let translator = c.get_role("mkt1", "r-mkt-translator").await.unwrap();
    let err = c
        .delete_role("mkt1", &translator.id, translator.version)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(c.get_role("mkt1", &translator.id).await.is_ok());
    // Once Tom also has Reviewer, the translator role goes and Tom keeps Reviewer.
    let sm = c.get_space_membership("mkt1", "sm-tom-mkt").await.unwrap();
    c.update_space_membership(
        "mkt1",
        &sm.meta.id,
        sm.meta.version,
        false,
        &["r-mkt-translator".to_string(), "r-mkt-reviewer".to_string()],
    )
    .await
    .unwrap();
    c.delete_role("mkt1", &translator.id, translator.version)
        .await
        .unwrap();
    let sm = c.get_space_membership("mkt1", "sm-tom-mkt").await.unwrap();
    assert_eq!(sm.role_ids, BTreeSet::from(["r-mkt-reviewer".to_string()]));
    // A role nobody holds is deleted at once.
    c.delete_role("blog1", "r-blog-legacy", 0).await.unwrap();
}
