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
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let org = seed.organization.id.clone();
    let server = crate::util::unlimited_sandbox(seed).await;
    (server, org)
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Random changes between runs, three runs in a row: every incremental read equals a full
    /// read of the same organization, object for object.
    #[test]
    fn an_incremental_read_equals_a_full_read_whatever_changed(
        rounds in prop::collection::vec(prop::collection::vec(change(), 0..8), 3),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            // 250 users: three pages of members and eight of space memberships, so the
            // incremental path (not the small-collection full read) is what is tested.
            let (server, org) = start(250).await;
            let c = client(&server);
            let spaces = managed(&c, &org).await;
            let started = std::time::Instant::now();
            let mut live = c.read_live_state(&org, &spaces).await.unwrap();
            let mut cache = DriftCache::new(&live, &spaces, started.elapsed());
            let mut changes = 0;
            for round in rounds {
                for ch in round {
                    changes += 1;
                    apply_change(&c, &org, &live, ch, changes).await;
                }
                let started = std::time::Instant::now();
                let (incremental, stats) = c
                    .read_incremental(&org, &spaces, &cache.live, cache.since)
                    .await
                    .unwrap();
                let took = started.elapsed();
                let full = c.read_live_state(&org, &spaces).await.unwrap();
                assert_eq!(incremental, full, "{stats:?}");
                // The incremental read checked something: the org is non-trivial.
                assert!(full.space_memberships.len() > 200);
                cache = DriftCache::new(&incremental, &spaces, took);
                live = full;
            }
            server.shutdown().await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_changes_in_a_large_org_cost_a_few_requests_not_a_full_read() {
    let (server, org) = start(2_000).await;
    let c = client(&server);
    let spaces = managed(&c, &org).await;
    let started = std::time::Instant::now();
    let live = c.read_live_state(&org, &spaces).await.unwrap();
    let full_cost = server.journal_counts().total;
    let cache = DriftCache::new(&live, &spaces, started.elapsed());
    // Ten changes: four invites, three role changes, two space-membership changes, a delete.
    for i in 0..4 {
        apply_change(&c, &org, &live, (Edit::Invite, i), i).await;
    }
    for i in 0..3 {
        apply_change(&c, &org, &live, (Edit::ChangeRole, 7 * i + 1), i).await;
    }
    for i in 0..2 {
        apply_change(
            &c,
            &org,
            &live,
            (Edit::ChangeSpaceMembership, 11 * i + 3),
            i,
        )
        .await;
    }
    apply_change(&c, &org, &live, (Edit::RemoveSpaceMembership, 1234), 0).await;
    server.clear_journal();
    let (incremental, stats) = c
        .read_incremental(&org, &spaces, &cache.live, cache.since)
        .await
        .unwrap();
    let cost = server.journal_counts();
    assert_eq!((stats.changed, stats.deleted), (9, 1), "{stats:?}");
    assert!(stats.full_reads.iter().all(|r| *r == "teams"), "{stats:?}");
    assert!(
        cost.total <= 30,
        "{} requests (a full read: {full_cost}): {:#?}",
        cost.total,
        cost.by_route
    );
    let full = c.read_live_state(&org, &spaces).await.unwrap();
    assert_eq!(incremental, full);
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
