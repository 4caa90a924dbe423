//! The request-count formula of the scale benchmark (`benches/support/counts.rs`) against the
//! sandbox journal: a full read of a small synthetic organization costs exactly the minimum the
//! formula computes from the seed, page by page. Counts only; no timing.
#![allow(clippy::unwrap_used)]

#[path = "../benches/support/counts.rs"]
#[allow(dead_code)] // the per-object refresh count is only used by the benchmark
mod counts;

#[path = "../benches/support/changes.rs"]
#[allow(dead_code)] // the grant changes are only used by the benchmarks
mod changes;

use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::sandbox::{Server, SyntheticSpec, synthetic};
use secrecy::SecretString;

#[tokio::test]
async fn a_full_read_costs_exactly_the_minimum_the_benchmark_computes() {
    // 250 users: three pages of members, several pages of memberships, 5 spaces, 12 teams.
    let seed = synthetic(&SyntheticSpec::for_users(250));
    let org = seed.organization.id.clone();
    let managed: Vec<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
    let minimum = counts::minimum_read_requests(&seed, &managed);
    let server = crate::util::unlimited_sandbox(seed.clone()).await;
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

use crate::util::fast_client;

/// The synthetic org `users` big, its access file (every space managed) and its live state.
async fn synthetic_org(
    users: usize,
) -> (
    Server,
    contentful_access::model::DesiredState,
    contentful_access::model::LiveState,
) {
    use contentful_access::export;
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let org = seed.organization.id.clone();
    let server = crate::util::unlimited_sandbox(seed).await;
    let client = fast_client(&server);
    let spaces = client.list_spaces(&org).await.unwrap();
    let names = export::space_names(&org, &spaces, &[]).unwrap();
    let ids: Vec<String> = names.values().cloned().collect();
    let live = client.read_live_state(&org, &ids).await.unwrap();
    let desired = export::desired_from_live(&live, &names);
    (server, desired, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_duplicate_invites_share_one_re_read_of_the_memberships() {
    use contentful_access::apply::{self, ApplyOptions, NoObserver, OpStatus, Planned};
    use contentful_access::model::Email;
    use contentful_access::plan::PlanOptions;
    // issue 20: a 422 on a create re-read the whole organization, once per 422.
    let (server, mut desired, live) = synthetic_org(250).await;
    for i in 0..20 {
        changes::declare_member(
            &mut desired,
            Email::parse(&format!("dup{i:02}@example.com")).unwrap(),
        );
    }
    let plan = match apply::plan_checked(
        &desired,
        &live,
        &PlanOptions {
            created_at: crate::util::now(),
        },
    )
    .unwrap()
    {
        Planned::Verified(p) => p,
        Planned::Refused(p) => panic!("refused: {:#?}", p.guardrails),
    };
    assert_eq!(plan.plan().operations.len(), 20);
    let client = fast_client(&server);
    // Someone else sends the same invitations first and the invitees accept them: every create
    // of the plan is a duplicate (an active member cannot be invited; a pending one would simply
    // be invited again).
    let first = apply::apply(&client, &plan, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(first.succeeded(), "{first:#?}");
    server.with_world(|w| {
        for i in 0..20 {
            assert!(w.accept_invitation(&format!("dup{i:02}@example.com"), crate::util::now()));
        }
    });
    server.clear_journal();
    let report = apply::apply(&client, &plan, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    assert!(
        report.outcomes.iter().all(|o| matches!(
            o.status,
            OpStatus::Applied {
                already_done: true,
                ..
            }
        )),
        "{report:#?}"
    );
    let journal = server.journal_counts();
    let member_pages = counts::pages(live.org_memberships.len() + 20);
    // 20 refused POSTs, then one read of the memberships (not of the organization) for all.
    assert_eq!(
        journal.total as u64,
        20 + member_pages,
        "{:#?}",
        journal.by_route
    );
    assert_eq!(
        journal.count("GET", "/organizations/:org/organization_memberships") as u64,
        member_pages
    );
    server.shutdown().await;
}

/// The access file with `n` space grants' roles changed (non-admin users) and its plan: `n`
/// space-membership updates on the synthetic org.
fn with_updates(
    desired: &contentful_access::model::DesiredState,
    live: &contentful_access::model::LiveState,
    n: usize,
) -> (
    contentful_access::model::DesiredState,
    contentful_access::plan::Plan,
) {
    use contentful_access::model::{OrgRole, SpaceAccess};
    use std::collections::BTreeSet;
    let mut desired = desired.clone();
    let mut changed = 0;
    for user in desired.users.values_mut() {
        if changed == n {
            break;
        }
        if matches!(user.org_role, OrgRole::Owner | OrgRole::Admin) {
            continue;
        }
        for grant in user.spaces.values_mut() {
            if changed == n {
                break;
            }
            if let SpaceAccess::Roles(roles) = &mut grant.access {
                let to = if roles.contains("Translator") {
                    "Editor"
                } else {
                    "Translator"
                };
                *roles = BTreeSet::from([to.to_string()]);
                changed += 1;
            }
        }
    }
    assert_eq!(changed, n);
    let plan = contentful_access::plan::build(
        &desired,
        live,
        &contentful_access::plan::PlanOptions {
            created_at: crate::util::now(),
        },
    )
    .unwrap();
    (desired, plan)
}

/// A plan of `n` space-membership updates (role changes) on the synthetic org.
fn plan_of_updates(
    desired: &contentful_access::model::DesiredState,
    live: &contentful_access::model::LiveState,
    n: usize,
) -> contentful_access::plan::Plan {
    with_updates(desired, live, n).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifying_a_saved_plan_costs_one_read_of_the_organization_whatever_its_size() {
    // issue 20: a saved plan's staleness was checked with one GET per object (or pages of its
    // own) and then the organization was read again to re-plan; now the one read does both.
    let (server, desired, live) = synthetic_org(250).await;
    let client = fast_client(&server);
    let managed: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
    server.clear_journal();
    client
        .read_live_state(&desired.organization, &managed)
        .await
        .unwrap();
    let one_read = server.journal_counts().total;
    for n in [5, 300] {
        let (desired, plan) = with_updates(&desired, &live, n);
        assert_eq!(plan.operations.len(), n);
        server.clear_journal();
        let verified = contentful_access::apply::verify_saved(
            &client,
            plan,
            &desired,
            &contentful_access::apply::VerifyOptions {
                now: crate::util::now(),
                max_age: chrono::Duration::hours(1),
            },
        )
        .await
        .unwrap();
        assert_eq!(verified.operations.len(), n);
        let journal = server.journal_counts();
        assert_eq!(
            journal.total, one_read,
            "{n} updates: {:#?}",
            journal.by_route
        );
        assert_eq!(
            journal.count("GET", "/spaces/:space/space_memberships/:id"),
            0
        );
    }
    // And a change made since the plan is still found in that read.
    let (desired, plan) = with_updates(&desired, &live, 300);
    let touched = contentful_access::plan::touched_by(&plan.operations[299].kind);
    server.with_world(|w| {
        w.bump_version(
            contentful_access::sandbox::ObjectKind::SpaceMembership,
            &touched[0].id,
            "u-someone",
            crate::util::now(),
        )
    });
    let refused = contentful_access::apply::verify_saved(
        &client,
        plan,
        &desired,
        &contentful_access::apply::VerifyOptions {
            now: crate::util::now(),
            max_age: chrono::Duration::hours(1),
        },
    )
    .await;
    match refused {
        Err(contentful_access::apply::VerifyError::Refused(
            contentful_access::apply::Refusal::Stale(stale),
        )) => {
            assert_eq!(stale.len(), 1, "{stale:#?}");
            assert!(matches!(
                &stale[0],
                contentful_access::apply::Staleness::ObjectChanged { id, updated_by: Some(by), .. }
                    if id == &touched[0].id && by == "u-someone"
            ));
        }
        other => panic!("{other:#?}"),
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_deletes_of_one_kind_are_checked_in_one_read_of_their_collection() {
    use contentful_access::apply::{self, ApplyOptions, NoObserver, OpStatus, Planned};
    use contentful_access::model::{MaxRemovals, OrgRole, SpaceAccess};
    use contentful_access::plan::PlanOptions;
    // issue 20: every delete GETs its object first; 300 deletes cost 300 GETs.
    let (server, desired, _) = synthetic_org(250).await;
    let mut desired = desired;
    desired.policy.max_removals = MaxRemovals::Count(10_000);
    for (n, per_object) in [(5, true), (300, false)] {
        // `n` more grants gone from the file than in the round before.
        let mut removed = 0;
        for user in desired.users.values_mut() {
            if matches!(user.org_role, OrgRole::Owner | OrgRole::Admin) {
                continue;
            }
            user.spaces.retain(|_, grant| {
                let keep = removed == n || matches!(grant.access, SpaceAccess::Admin);
                if !keep {
                    removed += 1;
                }
                keep
            });
        }
        assert_eq!(removed, n);
        let client = fast_client(&server);
        let managed: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
        let now_live = client
            .read_live_state(&desired.organization, &managed)
            .await
            .unwrap();
        let plan = match apply::plan_checked(
            &desired,
            &now_live,
            &PlanOptions {
                created_at: crate::util::now(),
            },
        )
        .unwrap()
        {
            Planned::Verified(p) => p,
            Planned::Refused(p) => panic!("refused: {:#?}", p.guardrails),
        };
        assert_eq!(plan.operations.len(), n);
        let sm_pages = counts::pages(now_live.space_memberships.len());
        server.clear_journal();
        let report = apply::apply(&client, &plan, &ApplyOptions::default(), &mut NoObserver).await;
        assert!(report.succeeded(), "{report:#?}");
        assert!(report.outcomes.iter().all(|o| matches!(
            o.status,
            OpStatus::Applied {
                already_done: false,
                ..
            }
        )));
        let journal = server.journal_counts();
        let deletes = journal.count("DELETE", "/spaces/:space/space_memberships/:id") as u64;
        let gets = journal.count("GET", "/spaces/:space/space_memberships/:id") as u64;
        let pages = journal.count("GET", "/organizations/:org/space_memberships") as u64;
        assert_eq!(deletes, n as u64);
        if per_object {
            assert_eq!((gets, pages), (n as u64, 0), "{:#?}", journal.by_route);
        } else {
            // The collection's size (limit=0), its pages, then the deletes.
            assert_eq!((gets, pages), (0, 1 + sm_pages), "{:#?}", journal.by_route);
            assert_eq!(journal.total as u64, n as u64 + 1 + sm_pages);
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_staleness_is_checked_by_pages_when_that_is_fewer_requests() {
    // issue 20: one GET per updated object made a 1,000-operation saved plan cost 500 extra GETs.
    let (server, desired, live) = synthetic_org(250).await;
    let client = fast_client(&server);
    let sm_pages = counts::pages(live.space_memberships.len());
    assert!(sm_pages < 100);
    for (n, per_object) in [(5, true), (300, false)] {
        let plan = plan_of_updates(&desired, &live, n);
        assert_eq!(plan.operations.len(), n);
        server.clear_journal();
        let stale = contentful_access::apply::check_stale(
            &client,
            &plan,
            None,
            crate::util::now(),
            chrono::Duration::hours(1),
        )
        .await
        .unwrap();
        assert!(stale.is_empty(), "{stale:#?}");
        let journal = server.journal_counts();
        let gets = journal.count("GET", "/spaces/:space/space_memberships/:id") as u64;
        let pages = journal.count("GET", "/organizations/:org/space_memberships") as u64;
        if per_object {
            // A small plan: one GET per object, nothing else.
            assert_eq!((gets, journal.total as u64), (n as u64, n as u64));
        } else {
            // A large one: the collection's size (limit=0), then its pages.
            assert_eq!(gets, 0, "{:#?}", journal.by_route);
            assert_eq!(pages, 1 + sm_pages);
            assert_eq!(journal.total as u64, 1 + sm_pages);
        }
    }
    server.shutdown().await;
}
