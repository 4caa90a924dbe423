//! The apply library against the in-process sandbox: injected failures, edits made by someone else
//! between plan and apply, stale saved plans, and runs cut off half-way.

use std::time::Duration;

use chrono::Utc;
use contentful_access::apply::{
    self, ApplyEvent, ApplyOptions, ApplyReport, JournalPhase, NoObserver, OpStatus, Staleness,
};
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::model::SpaceAccess;
use contentful_access::plan::{self, ObjectKind, OpKind, Plan, PlanOptions};
use contentful_access::sandbox::{FaultConfig, FaultKind, demo_seed};
use secrecy::SecretString;

use crate::util::{
    demo_desired as desired, demo_sandbox_paced, fast_client as client, plan_now,
    read_live as read, sandbox_writes,
};

fn bob_marketing(plan: &Plan) -> (String, String, u64) {
    plan.operations
        .iter()
        .find_map(|op| match &op.kind {
            OpKind::UpdateSpaceMembership {
                space_id,
                space_membership,
                ..
            } => Some((
                space_id.clone(),
                space_membership.id.clone(),
                space_membership.version,
            )),
            _ => None,
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_the_demo_plan_converges_and_a_second_apply_has_nothing_to_do() {
    let server = demo_sandbox_paced(0, Duration::from_millis(0)).await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    assert_eq!(p.operations.len(), 5);
    let mut journal = Vec::new();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut |e: &ApplyEvent| {
        if let ApplyEvent::Journal(r) = e {
            journal.push(r.clone());
        }
    })
    .await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(
        report.last_line(),
        "Apply complete: 2 added, 2 changed, 1 removed."
    );
    // One attempt and one outcome per operation, every write of the sandbox among them.
    assert_eq!(journal.len(), 10);
    let attempts: Vec<(String, String)> = journal
        .iter()
        .filter(|r| r.phase == JournalPhase::Attempt)
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(attempts.len(), 5);
    let mut writes = sandbox_writes(&server);
    writes.sort();
    let mut expected = attempts.clone();
    expected.sort();
    assert_eq!(writes, expected);
    // The invitation's membership id fed the space membership that depends on it.
    let invited = report.outcomes[0].clone();
    let OpStatus::Applied {
        object_id: Some(om_id),
        ..
    } = invited.status
    else {
        panic!("{invited:?}")
    };
    let after = read(&c, &d).await;
    assert!(after.org_memberships.contains_key(&om_id));
    let again = plan::build(
        &d,
        &after,
        &PlanOptions {
            created_at: crate::util::now(),
        },
    )
    .unwrap();
    assert!(again.is_empty(), "{:#?}", again.operations);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_fifth_of_requests_failing_apply_converges_or_says_exactly_what_failed() {
    for seed in [1u64, 2, 3] {
        let server = demo_sandbox_paced(50, Duration::from_millis(0)).await;
        let c = client(&server);
        let d = desired();
        let p = plan_now(&c, &d).await;
        server.clear_journal();
        let mut faults = FaultConfig::new(
            0.2,
            vec![
                FaultKind::Status429,
                FaultKind::Status500,
                FaultKind::Status502,
                FaultKind::Status503,
                FaultKind::DropConnection,
            ],
        );
        faults.rng_seed = seed;
        server.set_faults(faults);
        let mut attempted = Vec::new();
        let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut |e: &ApplyEvent| {
            if let ApplyEvent::Journal(r) = e
                && r.phase == JournalPhase::Attempt
            {
                attempted.push((r.method.to_string(), r.path.clone()));
            }
        })
        .await;
        check_report_is_exact(&p, &report);
        // No write the plan did not contain: every write the sandbox saw is one apply attempted,
        // and apply attempted at most one write per operation, plus at most two more for one
        // whose answer was lost and which a re-read showed not applied.
        assert!(attempted.len() <= 3 * p.operations.len());
        for w in sandbox_writes(&server) {
            assert!(attempted.contains(&w), "unplanned write {w:?}");
        }
        server.set_faults(FaultConfig::none());
        let second = plan_now(&c, &d).await;
        let report2 = apply::apply(&c, &second, &ApplyOptions::default(), &mut NoObserver).await;
        assert!(report2.succeeded(), "{report2:#?}");
        assert!(plan_now(&c, &d).await.is_empty());
        server.shutdown().await;
    }
}

/// Every operation is reported once; failures carry a message; skipped ones name a failed
/// operation they (transitively) depend on.
fn check_report_is_exact(p: &Plan, report: &ApplyReport) {
    assert_eq!(report.outcomes.len(), p.operations.len());
    for o in &report.outcomes {
        match &o.status {
            OpStatus::Failed(f) | OpStatus::Unknown(f) => assert!(!f.message.is_empty()),
            OpStatus::Skipped { because } => {
                let root = report.outcomes.iter().find(|x| &x.id == because).unwrap();
                assert!(matches!(
                    root.status,
                    OpStatus::Failed(_) | OpStatus::Unknown(_)
                ));
            }
            OpStatus::Applied { .. } => {}
            OpStatus::NotStarted => assert!(report.stopped.is_some()),
        }
    }
    if report.succeeded() {
        assert!(report.last_line().starts_with("Apply complete"));
    } else {
        assert!(
            report.last_line().starts_with("Apply failed")
                || report.last_line().starts_with("Apply stopped")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_by_someone_else_between_plan_and_apply_is_not_overwritten() {
    let server = demo_sandbox_paced(0, Duration::from_millis(0)).await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let (space, sm_id, planned) = bob_marketing(&p);
    let before = read(&c, &d).await;
    let carla = before
        .users
        .values()
        .find(|u| u.email.to_string() == "carla.gomez@acme.example")
        .unwrap()
        .id
        .clone();
    // Carla edits Bob's marketing membership after the plan was made.
    server.with_world(|w| {
        assert!(w.bump_version(
            contentful_access::sandbox::ObjectKind::SpaceMembership,
            &sm_id,
            &carla,
            Utc::now()
        ))
    });
    let opts = ApplyOptions::default().with_users_of(&before);
    let report = apply::apply(&c, &p, &opts, &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    let OpStatus::Failed(f) = &failed[0].status else {
        unreachable!()
    };
    assert_eq!(f.object_id.as_deref(), Some(sm_id.as_str()));
    assert!(
        f.message.contains(&format!(
            "changed during apply by carla.gomez@acme.example ({carla}) at "
        )),
        "{}",
        f.message
    );
    assert!(f.message.contains(&format!("planned against {planned}")));
    // Not overwritten: Bob still has his old roles.
    let sm = c.get_space_membership(&space, &sm_id).await.unwrap();
    let live = read(&c, &d).await;
    assert_eq!(
        live.access_of(&space, sm.admin, &sm.role_ids),
        SpaceAccess::Roles(["Editor".to_string()].into())
    );
    // Independent operations still ran.
    assert_eq!(report.applied_counts(), (2, 1, 1));
    assert_eq!(
        report.last_line(),
        "Apply failed: 1 of 5 operations failed, 0 skipped."
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_with_an_edit_that_already_made_the_change_counts_as_done() {
    let server = demo_sandbox_paced(0, Duration::from_millis(0)).await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let (space, sm_id, version) = bob_marketing(&p);
    let live = read(&c, &d).await;
    let author = live.spaces[&space].role_id("Author").unwrap().to_string();
    c.update_space_membership(&space, &sm_id, version, false, &[author])
        .await
        .unwrap();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    let bob = report
        .outcomes
        .iter()
        .find(|o| o.kind == "update_space_membership")
        .unwrap();
    assert!(matches!(
        bob.status,
        OpStatus::Applied {
            already_done: true,
            ..
        }
    ));
    assert!(plan_now(&c, &d).await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_whose_objects_changed_is_stale_and_says_by_whom() {
    let server = demo_sandbox_paced(0, Duration::from_millis(0)).await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let fresh = apply::check_stale(
        &c,
        &p,
        Some(&p.config_sha256),
        crate::util::now(),
        chrono::Duration::hours(24),
    )
    .await
    .unwrap();
    assert_eq!(fresh, vec![]);
    let (_, sm_id, planned) = bob_marketing(&p);
    server.with_world(|w| {
        w.bump_version(
            contentful_access::sandbox::ObjectKind::SpaceMembership,
            &sm_id,
            "u-someone",
            Utc::now(),
        )
    });
    let stale = apply::check_stale(
        &c,
        &p,
        Some("0000"),
        p.created_at + chrono::Duration::hours(25),
        chrono::Duration::hours(24),
    )
    .await
    .unwrap();
    assert_eq!(stale.len(), 3, "{stale:#?}");
    assert!(matches!(stale[0], Staleness::TooOld { .. }));
    assert!(matches!(stale[1], Staleness::ConfigChanged { .. }));
    match &stale[2] {
        Staleness::ObjectChanged {
            kind,
            id,
            planned: pv,
            current,
            updated_by,
            updated_at,
        } => {
            assert_eq!(*kind, ObjectKind::SpaceMembership);
            assert_eq!(id, &sm_id);
            assert_eq!((*pv, *current), (planned, planned + 1));
            assert_eq!(updated_by.as_deref(), Some("u-someone"));
            assert!(updated_at.is_some());
        }
        other => panic!("{other:?}"),
    }
    // Checking wrote nothing.
    assert!(sandbox_writes(&server).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_cut_off_half_way_is_finished_by_the_next_one() {
    let server = demo_sandbox_paced(0, Duration::from_millis(30)).await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    server.clear_journal();
    let opts = ApplyOptions {
        parallelism: 1,
        ..ApplyOptions::default()
    };
    // Drop the apply future as soon as two writes have reached the sandbox.
    let mut quiet = NoObserver;
    tokio::select! {
        _ = apply::apply(&c, &p, &opts, &mut quiet) => panic!("apply finished before it was cut off"),
        _ = async {
            while sandbox_writes(&server).len() < 2 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        } => {}
    }
    let remaining = plan_now(&c, &d).await;
    assert!(!remaining.is_empty());
    assert!(remaining.operations.len() < p.operations.len());
    let report = apply::apply(&c, &remaining, &opts, &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    assert!(plan_now(&c, &d).await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_switched_on_mid_way_skip_dependents_and_the_next_run_converges() {
    let server = demo_sandbox_paced(0, Duration::from_millis(0)).await;
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(1);
    let c = Client::new(cfg).unwrap();
    let d = desired();
    let p = plan_now(&c, &d).await;
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::Status500]);
    faults.methods = vec!["POST".into(), "PUT".into(), "DELETE".into()];
    // Every write fails from the start: the invitation fails, so the space membership of the
    // invitee is skipped because of it.
    server.set_faults(faults);
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    check_report_is_exact(&p, &report);
    assert_eq!(report.failed().count(), 4);
    let skipped: Vec<_> = report.skipped().collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].kind, "create_space_membership");
    let invite = report.outcomes.iter().find(|o| o.kind == "invite").unwrap();
    assert!(matches!(&skipped[0].status, OpStatus::Skipped { because } if *because == invite.id));
    let OpStatus::Failed(f) = &invite.status else {
        unreachable!()
    };
    assert_eq!(f.status, Some(500));
    assert!(f.request_id.is_some());
    server.set_faults(FaultConfig::none());
    let again = plan_now(&c, &d).await;
    assert!(
        apply::apply(&c, &again, &ApplyOptions::default(), &mut NoObserver)
            .await
            .succeeded()
    );
    assert!(plan_now(&c, &d).await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_listed_without_a_version_is_read_before_its_update_and_edits_are_not_overwritten() {
    // Team list items may lack `sys.version` (read as 0): apply reads the team before the PUT.
    let mut seed = demo_seed();
    for t in &mut seed.teams {
        t.sys.version = 0;
    }
    let start = |seed| async move { crate::util::unlimited_sandbox(seed).await };
    let mut d = desired();
    d.teams.get_mut("editors").unwrap().description = "Editors of all content".into();

    let server = start(seed.clone()).await;
    let c = client(&server);
    let p = plan_now(&c, &d).await;
    assert!(p.operations.iter().any(|o| o.kind.name() == "update_team"));
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    assert!(plan_now(&c, &d).await.is_empty());
    // What the plan saw of the team (its description) changed: the saved plan is now stale.
    let stale = apply::check_stale(&c, &p, None, p.created_at, chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(
        stale.iter().any(|s| matches!(
            s,
            Staleness::ObjectChanged {
                kind: ObjectKind::Team,
                ..
            }
        )),
        "{stale:#?}"
    );
    server.shutdown().await;

    // Someone else rewrites the description between plan and apply: not overwritten.
    let server = start(seed).await;
    let c = client(&server);
    let p = plan_now(&c, &d).await;
    let live = read(&c, &d).await;
    let editors = live.teams.values().find(|t| t.name == "editors").unwrap();
    c.update_team(
        &d.organization,
        &editors.meta.id,
        editors.meta.version,
        "editors",
        "Theirs",
    )
    .await
    .unwrap();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert_eq!(failed[0].kind, "update_team");
    assert_eq!(
        c.get_team(&d.organization, &editors.meta.id)
            .await
            .unwrap()
            .description,
        "Theirs"
    );
    server.shutdown().await;
}
