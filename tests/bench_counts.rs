//! The request-count formula of the scale benchmark (`benches/support/counts.rs`) against the
//! sandbox journal: a full read of a small synthetic organization costs exactly the minimum the
//! formula computes from the seed, page by page. Counts only; no timing.
#![allow(clippy::unwrap_used)]

#[path = "../benches/support/counts.rs"]
#[allow(dead_code)] // the per-object refresh count is only used by the benchmark
mod counts;

use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::sandbox::{SandboxOptions, Server, SyntheticSpec, synthetic};
use secrecy::SecretString;

#[tokio::test]
async fn a_full_read_costs_exactly_the_minimum_the_benchmark_computes() {
    // 250 users: three pages of members, several pages of memberships, 5 spaces, 12 teams.
    let seed = synthetic(&SyntheticSpec::for_users(250));
    let org = seed.organization.id.clone();
    let managed: Vec<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
    let minimum = counts::minimum_read_requests(&seed, &managed);
    let server = Server::start(
        seed.clone(),
        SandboxOptions {
            rate_limit_per_sec: 0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 100;
    let client = Client::new(cfg).unwrap();

    let live = client.read_live_state(&org, &managed).await.unwrap();
    assert_eq!(live.space_memberships.len(), seed.space_memberships.len());

    let journal = server.journal_counts();
    assert_eq!(journal.total as u64, minimum, "{:#?}", journal.by_route);
    assert_eq!(journal.by_status.get(&200).copied(), Some(journal.total));
    let pages = |route: &str| journal.count("GET", route) as u64;
    assert_eq!(
        pages("/organizations/:org/organization_memberships"),
        counts::pages(seed.org_memberships.len())
    );
    assert_eq!(
        pages("/organizations/:org/space_memberships"),
        counts::pages(seed.space_memberships.len())
    );
    assert_eq!(pages("/users/me"), 1);
    // A 1-item page difference would show here: 250 members are three pages, not two or four.
    assert_eq!(counts::pages(seed.org_memberships.len()), 3);
    server.shutdown().await;
}

#[test]
fn an_empty_collection_still_costs_one_request() {
    assert_eq!(counts::pages(0), 1);
    assert_eq!(counts::pages(100), 1);
    assert_eq!(counts::pages(101), 2);
}
