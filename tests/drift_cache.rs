//! `drift --cache` (issue 20): the incremental read gives exactly the state a full read gives,
//! whatever changed between runs (a property test of random creates, updates and deletes against
//! a sandbox organization), the cache is refused and rebuilt when it is foreign or unreadable, and
//! ten changes in a larger organization cost a few requests instead of a full read; and the same
//! through the binary (`drift --cache FILE`), where a lost or corrupt cache is one full read.
#![allow(clippy::unwrap_used)]

use contentful_access::contentful::Client;
use contentful_access::drift_cache::DriftCache;
use contentful_access::model::{Email, LiveState, OrgRole};
use contentful_access::sandbox::{Server, SyntheticSpec, synthetic};
use proptest::prelude::*;

use crate::util::fast_client as client;

async fn start(users: usize) -> (Server, String) {
    start_with(SyntheticSpec::for_users(users), false).await
}

/// A sandbox organization of `spec`; `documented_orders_only`: a server that refuses every
/// ordering Contentful does not document (so the newest-first page only works for team and team
/// space memberships).
async fn start_with(spec: SyntheticSpec, documented_orders_only: bool) -> (Server, String) {
    let mut seed = synthetic(&spec);
    seed.variants.documented_orders_only = documented_orders_only;
    let org = seed.organization.id.clone();
    let server = crate::util::unlimited_sandbox(seed).await;
    (server, org)
}

/// Every space of the organization, so a read for them has every role to pick edits from.
async fn all_spaces(c: &Client, org: &str) -> Vec<String> {
    c.list_spaces(org)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

/// The managed spaces: the first few of the organization.
async fn managed(c: &Client, org: &str) -> Vec<String> {
    let mut ids: Vec<String> = c
        .list_spaces(org)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.truncate(3);
    ids
}

/// One change to the organization, chosen by `pick` (which object) and `kind`.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Invite,
    ChangeRole,
    RemoveMember,
    AddSpaceMembership,
    ChangeSpaceMembership,
    RemoveSpaceMembership,
    AddTeamMember,
    RemoveTeamMember,
    RenameTeam,
    CreateRole,
    ChangeRoleDefinition,
    DeleteRole,
}

fn change() -> impl Strategy<Value = (Edit, usize)> {
    (
        prop::sample::select(vec![
            Edit::Invite,
            Edit::ChangeRole,
            Edit::RemoveMember,
            Edit::AddSpaceMembership,
            Edit::ChangeSpaceMembership,
            Edit::RemoveSpaceMembership,
            Edit::AddTeamMember,
            Edit::RemoveTeamMember,
            Edit::RenameTeam,
            Edit::CreateRole,
            Edit::ChangeRoleDefinition,
            Edit::DeleteRole,
        ]),
        0usize..10_000,
    )
}

/// Applies `change` to the organization as `live` shows it (some changes may be refused by the
/// sandbox, e.g. a duplicate: that is a change that did not happen, which is fine).
async fn apply_change(
    c: &Client,
    org: &str,
    live: &LiveState,
    (kind, pick): (Edit, usize),
    n: usize,
) {
    let nth = |len: usize| pick % len.max(1);
    let oms: Vec<_> = live
        .org_memberships
        .values()
        .filter(|m| m.role != OrgRole::Owner)
        .collect();
    let sms: Vec<_> = live.space_memberships.values().collect();
    let tms: Vec<_> = live.team_memberships.values().collect();
    let teams: Vec<_> = live.teams.values().collect();
    let spaces: Vec<_> = live
        .spaces
        .values()
        .filter(|s| !s.roles.is_empty())
        .collect();
    // Roles of every space `live` was read for, with their space.
    let roles: Vec<_> = spaces
        .iter()
        .flat_map(|s| s.roles.values().map(move |r| (s.id.as_str(), r)))
        .collect();
    let _ = match kind {
        Edit::Invite => c
            .invite(
                org,
                &Email::parse(&format!("new{n}-{pick}@example.com")).unwrap(),
                OrgRole::Member,
                None,
                None,
            )
            .await
            .map(|_| ()),
        Edit::ChangeRole => {
            let m = oms[nth(oms.len())];
            let to = if m.role == OrgRole::Member {
                OrgRole::Developer
            } else {
                OrgRole::Member
            };
            c.update_org_membership(org, &m.meta.id, m.meta.version, to)
                .await
                .map(|_| ())
        }
        Edit::RemoveMember => {
            let m = oms[nth(oms.len())];
            c.delete_org_membership(org, &m.meta.id).await
        }
        Edit::AddSpaceMembership => {
            let m = oms[nth(oms.len())];
            let s = spaces[nth(spaces.len())];
            match live.users.get(&m.user_id) {
                Some(u) => c
                    .create_space_membership(&s.id, &u.email, true, &[])
                    .await
                    .map(|_| ()),
                None => Ok(()),
            }
        }
        Edit::ChangeSpaceMembership => {
            let m = sms[nth(sms.len())];
            let role: Vec<String> = live
                .spaces
                .get(&m.space_id)
                .and_then(|s| s.roles.keys().next().cloned())
                .into_iter()
                .collect();
            let (admin, roles) = if m.admin {
                (false, role)
            } else {
                (true, vec![])
            };
            if roles.is_empty() && !admin {
                return;
            }
            c.update_space_membership(&m.space_id, &m.meta.id, m.meta.version, admin, &roles)
                .await
                .map(|_| ())
        }
        Edit::RemoveSpaceMembership => {
            let m = sms[nth(sms.len())];
            c.delete_space_membership(&m.space_id, &m.meta.id).await
        }
        Edit::AddTeamMember => {
            let m = oms[nth(oms.len())];
            let t = teams[nth(teams.len())];
            c.create_team_membership(org, &t.meta.id, &m.meta.id)
                .await
                .map(|_| ())
        }
        Edit::RemoveTeamMember => {
            let m = tms[nth(tms.len())];
            c.delete_team_membership(org, &m.team_id, &m.meta.id).await
        }
        Edit::CreateRole => {
            let s = spaces[nth(spaces.len())];
            let (_, like) = roles[nth(roles.len())];
            c.create_role(&s.id, &format!("Custom {n}"), &like.definition)
                .await
                .map(|_| ())
        }
        Edit::ChangeRoleDefinition => {
            let (space, r) = roles[nth(roles.len())];
            let mut definition = r.definition.clone();
            definition.description = format!("edited {n}");
            c.update_role(space, &r.id, r.version, &r.name, &definition)
                .await
                .map(|_| ())
        }
        Edit::DeleteRole => {
            // Roles created by the test first: no membership holds them, so the delete is not
            // refused (a role that is some membership's only role cannot be deleted).
            let custom: Vec<_> = roles
                .iter()
                .filter(|(_, r)| r.name.starts_with("Custom"))
                .collect();
            let (space, r) = match custom.len() {
                0 => roles[nth(roles.len())],
                len => *custom[nth(len)],
            };
            c.delete_role(space, &r.id, r.version).await
        }
        Edit::RenameTeam => {
            let t = teams[nth(teams.len())];
            c.update_team(
                org,
                &t.meta.id,
                t.meta.version,
                &format!("{} {n}", t.name),
                &t.description,
            )
            .await
            .map(|_| ())
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_created_and_another_deleted_since_are_both_seen() {
    // 30 spaces: 120 roles, two pages, so the roles' newest-first page is what is used.
    let (server, org) = start_with(spec(250, 30), false).await;
    let c = client(&server);
    let spaces = managed(&c, &org).await;
    let every_space = all_spaces(&c, &org).await;
    let everything = c.read_live_state(&org, &every_space).await.unwrap();
    // A role created by hand in a space the file does not manage, before the snapshot.
    let other_space = every_space.last().unwrap();
    assert!(!spaces.contains(other_space));
    let definition = everything.spaces[other_space]
        .roles
        .values()
        .next()
        .unwrap()
        .definition
        .clone();
    let doomed = c
        .create_role(other_space, "Custom doomed", &definition)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let live = c.read_live_state(&org, &spaces).await.unwrap();
    let cache = DriftCache::new(&live, &spaces, started.elapsed());
    // Since the snapshot: one role created in a managed space, the other one deleted. The
    // organization's role count is unchanged; only the versions kept for every role tell.
    c.create_role(&spaces[0], "Custom new", &definition)
        .await
        .unwrap();
    c.delete_role(other_space, &doomed.id, doomed.version)
        .await
        .unwrap();
    let (incremental, stats) = c
        .read_incremental(&org, &spaces, &cache.live, cache.since, &Default::default())
        .await
        .unwrap();
    let full = c.read_live_state(&org, &spaces).await.unwrap();
    assert_eq!(incremental, full, "{stats:?}");
    assert!(!incremental.org_role_versions.contains_key(&doomed.id));
    assert!(
        incremental.spaces[&spaces[0]]
            .roles
            .values()
            .any(|r| r.name == "Custom new")
    );
    // The deletion made the roles be read in full (found by the total, not guessed).
    assert!(stats.full_reads.contains(&"roles"), "{stats:?}");
    assert_eq!(stats.deleted, 1, "{stats:?}");
    server.shutdown().await;
}

/// The synthetic organization of `users` users, with `spaces` spaces (four roles each).
fn spec(users: usize, spaces: usize) -> SyntheticSpec {
    SyntheticSpec {
        spaces,
        ..SyntheticSpec::for_users(users)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Random changes between runs (memberships, teams, roles of managed and other spaces),
    /// three runs in a row, against a server that answers the newest-first page and one that
    /// refuses every ordering Contentful does not document: every incremental read equals a full
    /// read of the same organization, object for object and role for role.
    #[test]
    fn an_incremental_read_equals_a_full_read_whatever_changed(
        rounds in prop::collection::vec(prop::collection::vec(change(), 0..8), 3),
        documented_orders_only in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            // 250 users: three pages of members and eight of space memberships; 30 spaces: 120
            // roles, two pages. So the incremental path (not the small-collection full read) is
            // what is tested.
            let (server, org) = start_with(spec(250, 30), documented_orders_only).await;
            let c = client(&server);
            let spaces = managed(&c, &org).await;
            let every_space = all_spaces(&c, &org).await;
            let started = std::time::Instant::now();
            let live = c.read_live_state(&org, &spaces).await.unwrap();
            let mut cache = DriftCache::new(&live, &spaces, started.elapsed());
            let mut changes = 0;
            for round in rounds {
                // What to pick edits from: every space's roles.
                let everything = c.read_live_state(&org, &every_space).await.unwrap();
                for ch in round {
                    changes += 1;
                    apply_change(&c, &org, &everything, ch, changes).await;
                }
                let started = std::time::Instant::now();
                let (incremental, stats) = c
                    .read_incremental(
                        &org,
                        &spaces,
                        &cache.live,
                        cache.since,
                        &cache.newest_first_refused,
                    )
                    .await
                    .unwrap();
                let took = started.elapsed();
                let full = c.read_live_state(&org, &spaces).await.unwrap();
                assert_eq!(incremental, full, "{stats:?}");
                // The incremental read checked something: the org is non-trivial, and every
                // role is counted.
                assert!(full.space_memberships.len() > 200);
                assert!(full.org_role_versions.len() > 100);
                if documented_orders_only {
                    // Refused where it was asked for and is not documented (the teams and team
                    // space memberships, one page each, are read in full without asking).
                    let refused: Vec<&str> =
                        stats.newest_first_refused.iter().map(String::as_str).collect();
                    assert_eq!(
                        refused,
                        [
                            "GET /organizations/{org}/organization_memberships",
                            "GET /organizations/{org}/roles",
                            "GET /organizations/{org}/space_memberships",
                        ]
                    );
                } else {
                    assert!(stats.newest_first_refused.is_empty(), "{stats:?}");
                }
                cache = DriftCache::new(&incremental, &spaces, took)
                    .with_newest_first_refused(stats.newest_first_refused);
            }
            server.shutdown().await;
        });
    }
}

/// Ten changes (four invites, three org role changes, two space-membership changes, a removed
/// space membership) and a role edited in the web app, between a full read and an incremental
/// one of `users` users; (the incremental read's requests by route and in all, the full read's).
async fn ten_changes(
    server: &Server,
    org: &str,
    round: usize,
    refused: &std::collections::BTreeSet<String>,
) -> (Cost, usize, contentful_access::contentful::IncrementalStats) {
    let c = client(server);
    let spaces = managed(&c, org).await;
    server.clear_journal();
    let started = std::time::Instant::now();
    let live = c.read_live_state(org, &spaces).await.unwrap();
    let full_cost = server.journal_counts().total;
    let cache = DriftCache::new(&live, &spaces, started.elapsed());
    // Edits are picked among every space's memberships and roles.
    let live = c
        .read_live_state(org, &all_spaces(&c, org).await)
        .await
        .unwrap();
    let n = 100 * round;
    for i in 0..4 {
        apply_change(&c, org, &live, (Edit::Invite, i), n + i).await;
    }
    for i in 0..3 {
        apply_change(&c, org, &live, (Edit::ChangeRole, 7 * i + 1), n + i).await;
    }
    for i in 0..2 {
        apply_change(
            &c,
            org,
            &live,
            (Edit::ChangeSpaceMembership, 11 * i + 3),
            n + i,
        )
        .await;
    }
    apply_change(&c, org, &live, (Edit::RemoveSpaceMembership, 1234), n).await;
    apply_change(&c, org, &live, (Edit::ChangeRoleDefinition, 2), n).await;
    server.clear_journal();
    let (incremental, stats) = c
        .read_incremental(org, &spaces, &cache.live, cache.since, refused)
        .await
        .unwrap();
    let cost = server.journal_counts();
    let refusals = server.journal().iter().filter(|e| e.status == 400).count();
    assert_eq!((stats.changed, stats.deleted), (10, 1), "{stats:?}");
    let full = c.read_live_state(org, &spaces).await.unwrap();
    assert_eq!(incremental, full);
    let cost = Cost(cost.total, format!("{:?}", cost.by_route), refusals);
    (cost, full_cost, stats)
}

/// Requests an incremental read cost: the total, by route (for the failure message), and how
/// many were refused with a 400.
struct Cost(usize, String, usize);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_changes_in_a_large_org_cost_a_few_requests_not_a_full_read() {
    // 2,000 users: 40 spaces (160 roles, two pages), 6,000 space memberships (60 pages).
    let (server, org) = start(2_000).await;
    let (cost, full_cost, stats) = ten_changes(&server, &org, 0, &Default::default()).await;
    // 100 teams: one page, read in full.
    assert_eq!(stats.full_reads, ["teams"], "{stats:?}");
    // One newest-first page per other collection (5), the teams, the spaces, /users/me, and
    // the deleted space membership found by halving 60 pages (8 counts and a page).
    assert_eq!(cost.0, 17, "{} (a full read: {full_cost})", cost.1);
    assert!(full_cost > 7 * cost.0, "{} against {full_cost}", cost.0);
    assert_eq!(cost.2, 0, "nothing refused: {}", cost.1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_undocumented_orderings_costs_one_probe_per_route_once() {
    let (server, org) = start_with(SyntheticSpec::for_users(2_000), true).await;
    // First incremental read: the newest-first page is asked for everywhere, refused for
    // organization memberships, teams, space memberships and roles, which are then read with
    // the `sys.updatedAt` filter and a count (teams and roles, refused and small, in full).
    let (first, full_cost, stats) = ten_changes(&server, &org, 0, &Default::default()).await;
    let refused: Vec<&str> = stats
        .newest_first_refused
        .iter()
        .map(String::as_str)
        .collect();
    // (The teams, one page, are read in full without asking.)
    assert_eq!(
        refused,
        [
            "GET /organizations/{org}/organization_memberships",
            "GET /organizations/{org}/roles",
            "GET /organizations/{org}/space_memberships",
        ]
    );
    assert_eq!(first.2, 3, "one refused probe per route: {}", first.1);
    // The next read remembers: no probe is sent again.
    let (second, _, again) = ten_changes(&server, &org, 1, &stats.newest_first_refused).await;
    assert_eq!(again.newest_first_refused, stats.newest_first_refused);
    assert_eq!(second.2, 0, "nothing refused asked again: {}", second.1);
    // Still a fraction of a full read: the filtered reads and counts where Contentful does not
    // document the newest-first order, and the roles in full (two pages).
    assert!(full_cost > 4 * second.0, "{} against {full_cost}", second.1);
    server.shutdown().await;
}

/// Runs `drift --cache` through the binary; (exit code, requests the sandbox answered, stderr).
async fn drift_run(server: &Server, access: &str, cache: &str) -> (i32, usize, String) {
    server.clear_journal();
    let out = crate::util::run_against(
        server,
        &[
            "-v", "drift", "-c", access, "--cache", cache, "--format", "json",
        ],
    )
    .await;
    (
        out.status.code().unwrap_or(-1),
        server.journal_counts().total,
        crate::util::text(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_the_cache_then_reads_less_and_a_lost_or_corrupt_cache_is_a_full_read() {
    // 1,000 users: a full read is 85 requests, an incremental one about a dozen.
    let (server, org) = start(1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.yaml");
    let access = access.to_str().unwrap();
    let cache = dir.path().join("drift-cache.json");
    let cache_path = cache.to_str().unwrap();
    let out = crate::util::run_against(&server, &["export", "--org", &org, "-o", access]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::util::text(&out.stderr)
    );

    // First run: no cache yet, a full read; the organization matches the file it was exported to.
    let (code, full, err) = drift_run(&server, access, cache_path).await;
    assert_eq!(code, 0, "{err}");
    assert!(cache.exists(), "the first run writes the cache");
    let written = std::fs::read_to_string(&cache).unwrap();
    assert!(
        !written.contains(&server.admin_token()),
        "no token in the cache"
    );

    // Second run, nothing changed: only what changed since is read.
    let (code, incremental, err) = drift_run(&server, access, cache_path).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        incremental * 3 < full,
        "{incremental} requests with the cache against {full} without"
    );

    // A change made in Contentful since: the incremental run still reports it (exit 2).
    let c = client(&server);
    let spaces: Vec<String> = c
        .list_spaces(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let live = c.read_live_state(&org, &spaces).await.unwrap();
    apply_change(&c, &org, &live, (Edit::ChangeRole, 5), 0).await;
    let (code, incremental, err) = drift_run(&server, access, cache_path).await;
    assert_eq!(code, 2, "{err}");
    assert!(incremental * 3 < full, "{incremental} against {full}");

    // A corrupt cache is not an error: everything is read (as the first run) and it is rewritten.
    std::fs::write(&cache, "{ not a cache").unwrap();
    let (code, requests, err) = drift_run(&server, access, cache_path).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(requests, full, "a corrupt cache costs one full read");
    assert!(err.contains("drift cache not used"), "{err}");
    let (_, requests, err) = drift_run(&server, access, cache_path).await;
    assert!(
        requests * 3 < full,
        "rewritten after the full read: {requests}; {err}"
    );

    // A lost cache (a CI cache that expired) is the first run again, nothing worse.
    std::fs::remove_file(&cache).unwrap();
    let (code, requests, err) = drift_run(&server, access, cache_path).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(requests, full, "a lost cache costs one full read");
    assert!(cache.exists());
    server.shutdown().await;
}
