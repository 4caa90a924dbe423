//! Apply then plan again gives no changes: random live organizations are loaded into a sandbox,
//! a random access file is planned against them and applied over HTTP, and planning again must
//! find nothing to do.

use contentful_access::apply::{self, ApplyOptions, NoObserver, Planned};
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::export;
use contentful_access::model::{Email, LiveState, MaxRemovals, OrgRole, SpaceAccess};
use contentful_access::plan::{self, PlanOptions};
use contentful_access::sandbox::{FaultConfig, FaultKind, SandboxOptions, Seed, Server};
use proptest::prelude::*;
use secrecy::SecretString;

use super::fixtures::{BLOG, LEGACY, MARKETING, Org, managed_spaces};

const ROLES: [OrgRole; 4] = [
    OrgRole::Member,
    OrgRole::Developer,
    OrgRole::Admin,
    OrgRole::Owner,
];
const SPACES: [&str; 3] = [MARKETING, BLOG, LEGACY];

/// Choices for one organization; user 0 is always an active owner (the token's user).
#[derive(Debug, Clone)]
struct Spec {
    users: Vec<(u8, u8, bool)>,
    teams: Vec<u8>,
    members: Vec<(u8, u8)>,
    tsms: Vec<(u8, u8, u8)>,
    sms: Vec<(u8, u8, u8)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec((1u8..6, 0u8..4, prop::bool::weighted(0.2)), 0..5),
        prop::collection::vec(0u8..4, 0..3),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..6),
        prop::collection::vec((any::<u8>(), 0u8..2, any::<u8>()), 0..4),
        prop::collection::vec((any::<u8>(), 0u8..3, any::<u8>()), 0..6),
    )
        .prop_map(|(users, teams, members, tsms, sms)| Spec {
            users,
            teams,
            members,
            tsms,
            sms,
        })
}

fn email(i: u8) -> String {
    format!("u{i}@acme.example")
}

fn access(org: &Org, space: &str, pick: u8) -> SpaceAccess {
    let names: Vec<String> = org.live.spaces[space]
        .roles
        .values()
        .map(|r| r.name.clone())
        .collect();
    if names.is_empty() || pick.is_multiple_of(4) {
        return SpaceAccess::Admin;
    }
    let bits = u32::from(pick) % ((1 << names.len()) - 1) + 1;
    SpaceAccess::Roles(
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| n.clone())
            .collect(),
    )
}

fn build(spec: &Spec) -> LiveState {
    let mut org = Org::new().user(&email(0), OrgRole::Owner).me(&email(0));
    let mut users = vec![0u8];
    for &(i, role, pending) in &spec.users {
        if users.contains(&i) {
            continue;
        }
        users.push(i);
        let role = ROLES[usize::from(role)];
        org = if pending {
            org.pending(&email(i), role)
        } else {
            org.user(&email(i), role)
        };
    }
    let mut teams: Vec<u8> = Vec::new();
    for &t in &spec.teams {
        if !teams.contains(&t) {
            teams.push(t);
            org = org.team(
                &format!("team-{t}"),
                if t % 2 == 0 { "" } else { "described" },
            );
        }
    }
    if !teams.is_empty() {
        for &(t, u) in &spec.members {
            let t = teams[usize::from(t) % teams.len()];
            let u = users[usize::from(u) % users.len()];
            org = org.member(&format!("team-{t}"), &email(u));
        }
        for &(t, s, a) in &spec.tsms {
            let t = teams[usize::from(t) % teams.len()];
            let space = SPACES[usize::from(s)];
            let acc = access(&org, space, a);
            org = org.tsm(&format!("team-{t}"), space, acc);
        }
    }
    for &(u, s, a) in &spec.sms {
        let u = users[usize::from(u) % users.len()];
        let space = SPACES[usize::from(s)];
        let acc = access(&org, space, a);
        org = org.sm(&email(u), space, acc);
    }
    org.build()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_again_finds_nothing_to_do(live in spec(), target in spec(), prune in any::<bool>()) {
        let live = build(&live);
        let mut desired = export::desired_from_live(&build(&target), &managed_spaces());
        desired.policy.prune = prune;
        desired.policy.max_removals = MaxRemovals::Count(1000);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let seed = Seed::from_live_state(&live, &Email::new(&email(0)));
            let server = Server::start(seed, SandboxOptions { rate_limit_per_sec: 0, ..SandboxOptions::default() })
                .await
                .unwrap();
            let mut cfg = ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
            cfg.max_rps = 1000;
            let client = Client::new(cfg).unwrap();
            let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
            let opts = PlanOptions { created_at: crate::util::now() };
            let read = client.read_live_state(&desired.organization, &spaces).await.unwrap();
            let Planned::Verified(p) = apply::plan_checked(&desired, &read, &opts).unwrap() else {
                server.shutdown().await;
                // A refused plan is never applied, so this case would check nothing: it does not
                // count, and proptest generates another until 16 cases were checked.
                prop_assume!(false, "refused by a guardrail");
                return Ok(());
            };
            let report = apply::apply(&client, &p, &ApplyOptions::default(), &mut NoObserver).await;
            let after = client.read_live_state(&desired.organization, &spaces).await.unwrap();
            server.shutdown().await;
            prop_assert!(report.succeeded(), "{:#?}", report);
            let again = plan::build(&desired, &after, &opts).unwrap();
            prop_assert!(again.is_empty(), "left over: {:#?}", again.operations);
            Ok(())
        })?;
    }

    /// Lost answers change nothing about the result: with every write's answer lost at random
    /// (processed, then the connection dropped or a proxy's 502), apply still reports every
    /// operation applied, sends no create twice, and planning again finds nothing to do.
    #[test]
    fn lost_answers_are_resolved_by_re_reading_and_never_duplicate_a_create(
        live in spec(),
        target in spec(),
        fault_seed in any::<u64>(),
    ) {
        let live = build(&live);
        let mut desired = export::desired_from_live(&build(&target), &managed_spaces());
        desired.policy.prune = true;
        desired.policy.max_removals = MaxRemovals::Count(1000);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let seed = Seed::from_live_state(&live, &Email::new(&email(0)));
            let server = Server::start(seed, SandboxOptions { rate_limit_per_sec: 0, ..SandboxOptions::default() })
                .await
                .unwrap();
            let mut cfg = ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
            cfg.max_rps = 1000;
            cfg.backoff_base = std::time::Duration::from_millis(1);
            let client = Client::new(cfg).unwrap();
            let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
            let opts = PlanOptions { created_at: crate::util::now() };
            let read = client.read_live_state(&desired.organization, &spaces).await.unwrap();
            let Planned::Verified(p) = apply::plan_checked(&desired, &read, &opts).unwrap() else {
                server.shutdown().await;
                // A refused plan is never applied: this case would check nothing.
                prop_assume!(false, "refused by a guardrail");
                return Ok(());
            };
            // An empty plan loses no answer: nothing to check either.
            prop_assume!(!p.is_empty(), "nothing to apply");
            let mut faults = FaultConfig::new(0.5, vec![FaultKind::ProcessThenDrop, FaultKind::ProcessThen502]);
            faults.methods = vec!["POST".into(), "PUT".into(), "DELETE".into()];
            faults.rng_seed = fault_seed;
            server.set_faults(faults);
            server.clear_journal();
            let report = apply::apply(&client, &p, &ApplyOptions::default(), &mut NoObserver).await;
            server.set_faults(FaultConfig::none());
            prop_assert!(report.succeeded(), "{:#?}", report);
            let creates = p.operations.iter().filter(|o| o.action == plan::Action::Add).count();
            let posts = server.journal().iter().filter(|e| e.method == "POST").count();
            prop_assert_eq!(posts, creates, "a create was sent twice");
            let after = client.read_live_state(&desired.organization, &spaces).await.unwrap();
            let again = plan::build(&desired, &after, &opts).unwrap();
            prop_assert!(again.is_empty(), "left over: {:#?}", again.operations);
            server.shutdown().await;
            Ok(())
        })?;
    }
}
