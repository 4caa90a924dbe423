//! Apply then plan again gives no changes: random live organizations are loaded into a sandbox,
//! a random access file is planned against them and applied over HTTP, and planning again must
//! find nothing to do.

use contentful_access::apply::{self, ApplyOptions, NoObserver, Planned, VerifiedPlan};
use contentful_access::contentful::Client;
use contentful_access::export;
use contentful_access::model::{DesiredState, Email, LiveState, MaxRemovals};
use contentful_access::plan::{self, PlanOptions};
use contentful_access::sandbox::{FaultConfig, FaultKind, Seed, Server};
use proptest::prelude::*;

use super::fixtures::managed_spaces;
use super::random_org::{OrgSpec, build_org as build, email, owned_org_spec as spec};

/// The organization `live` describes and an access file asking for what `target` describes
/// (removals allowed without limit, pruning as `prune` says).
fn case(live: &OrgSpec, target: &OrgSpec, prune: bool) -> (LiveState, DesiredState) {
    let mut desired = export::desired_from_live(&build(target), &managed_spaces());
    desired.policy.prune = prune;
    desired.policy.max_removals = MaxRemovals::Count(1000);
    (build(live), desired)
}

/// A runtime for one case (proptest's cases are synchronous); the role properties use it too.
pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A sandbox seeded with `live` (the first user's token) and a fast client for it.
async fn serve(live: &LiveState) -> (Server, Client) {
    let seed = Seed::from_live_state(live, &Email::new(&email(0)));
    let server = crate::util::unlimited_sandbox(seed).await;
    let client = crate::util::fast_client(&server);
    (server, client)
}

/// A served case planned now: the sandbox, its client, and the checked plan (`None` when a
/// guardrail refused it; a refused plan is never applied, so such a case checks nothing).
async fn planned(
    live: &LiveState,
    desired: &DesiredState,
) -> (Server, Client, Option<VerifiedPlan>) {
    let (server, client) = serve(live).await;
    let read = read(&client, desired).await;
    let opts = PlanOptions {
        created_at: crate::util::now(),
    };
    let p = match apply::plan_checked(desired, &read, &opts).unwrap() {
        Planned::Verified(p) => Some(p),
        Planned::Refused(_) => None,
    };
    (server, client, p)
}

/// The managed spaces of `desired` read whole.
async fn read(client: &Client, desired: &DesiredState) -> LiveState {
    let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
    client
        .read_live_state(&desired.organization, &spaces)
        .await
        .unwrap()
}

/// Planning `desired` again against the organization after an apply finds nothing to do.
async fn nothing_left(client: &Client, desired: &DesiredState) -> Result<(), TestCaseError> {
    let after = read(client, desired).await;
    let opts = PlanOptions {
        created_at: crate::util::now(),
    };
    let again = plan::build(desired, &after, &opts).unwrap();
    prop_assert!(again.is_empty(), "left over: {:#?}", again.operations);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_again_finds_nothing_to_do(live in spec(), target in spec(), prune in any::<bool>()) {
        let (live, desired) = case(&live, &target, prune);
        runtime().block_on(async {
            let (server, client, p) = planned(&live, &desired).await;
            let Some(p) = p else {
                server.shutdown().await;
                // A refused plan is never applied, so this case would check nothing: it does not
                // count, and proptest generates another until 16 cases were checked.
                prop_assume!(false, "refused by a guardrail");
                return Ok(());
            };
            let report = apply::apply(&client, &p, &ApplyOptions::default(), &mut NoObserver).await;
            let left = nothing_left(&client, &desired).await;
            server.shutdown().await;
            prop_assert!(report.succeeded(), "{:#?}", report);
            left
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
        let (live, desired) = case(&live, &target, true);
        runtime().block_on(async {
            let (server, client, p) = planned(&live, &desired).await;
            let Some(p) = p else {
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
            let left = nothing_left(&client, &desired).await;
            server.shutdown().await;
            left
        })?;
    }
}
