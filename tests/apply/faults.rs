//! Issue 13, cases 4 to 6, against the sandbox over real HTTP: a delete never wipes an edit made
//! after the plan; a write whose answer was lost is reported by what a re-read shows (applied,
//! not applied, or loudly unknown) and never duplicated; a stopped or cut-off run records every
//! operation it started and starts nothing more.

use std::time::Duration;

use chrono::Utc;
use contentful_access::apply::{
    self, ApplyEvent, ApplyOptions, JournalPhase, JournalRecord, NoObserver, OpStatus, Planned,
    StopReason, StopSignal, UNREACHABLE_AFTER, VerifiedPlan,
};
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::model::{DesiredState, LiveState};
use contentful_access::plan::{OpKind, Plan, PlanOptions};
use contentful_access::sandbox::{
    FaultConfig, FaultKind, ObjectKind, SandboxOptions, Server, demo_seed,
};
use secrecy::SecretString;

async fn sandbox() -> Server {
    Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec: 0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap()
}

fn client(server: &Server) -> Client {
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(1);
    Client::new(cfg).unwrap()
}

fn desired() -> DesiredState {
    contentful_access::config::load(&crate::util::root().join("examples/access.yaml")).unwrap()
}

async fn read(client: &Client, d: &DesiredState) -> LiveState {
    let spaces: Vec<String> = d.spaces.values().map(|s| s.id.clone()).collect();
    client
        .read_live_state(&d.organization, &spaces)
        .await
        .unwrap()
}

/// A plan made now, verified by construction (the demo plans are never refused).
async fn plan_now(client: &Client, d: &DesiredState) -> VerifiedPlan {
    let live = read(client, d).await;
    match apply::plan_checked(
        d,
        &live,
        &PlanOptions {
            created_at: crate::util::now(),
        },
    )
    .unwrap()
    {
        Planned::Verified(p) => p,
        Planned::Refused(p) => panic!("refused: {:#?}", p.guardrails),
    }
}

/// The plan's one removal: the sandbox kind and id of the object it deletes.
fn removal(p: &Plan) -> (ObjectKind, String) {
    let found: Vec<(ObjectKind, String)> = p
        .operations
        .iter()
        .filter_map(|op| match &op.kind {
            OpKind::RemoveOrgMember { membership, .. } => {
                Some((ObjectKind::OrganizationMembership, membership.id.clone()))
            }
            OpKind::DeleteTeam { team, .. } => Some((ObjectKind::Team, team.id.clone())),
            OpKind::RemoveTeamMember {
                team_membership, ..
            } => Some((ObjectKind::TeamMembership, team_membership.id.clone())),
            OpKind::DeleteTeamSpaceMembership { tsm, .. } => {
                Some((ObjectKind::TeamSpaceMembership, tsm.id.clone()))
            }
            OpKind::DeleteSpaceMembership {
                space_membership, ..
            } => Some((ObjectKind::SpaceMembership, space_membership.id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", p.operations);
    found.into_iter().next().unwrap()
}

fn other_admin(live: &LiveState) -> String {
    live.users
        .values()
        .find(|u| u.email.to_string() == "carla.gomez@acme.example")
        .unwrap()
        .id
        .clone()
}

fn outcome<'a>(report: &'a apply::ApplyReport, kind: &str) -> &'a OpStatus {
    &report
        .outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {report:#?}"))
        .status
}

// --- case 4: a delete never wipes an edit made after the plan ---------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_an_object_edited_after_the_plan_is_refused_and_names_who() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let (kind, id) = removal(&p);
    let live = read(&c, &d).await;
    let carla = other_admin(&live);
    // Carla edits the object after the plan was made (e.g. makes it space admin).
    assert!(server.with_world(|w| w.bump_version(kind, &id, &carla, Utc::now())));
    let opts = ApplyOptions::default().with_users_of(&live);
    let report = apply::apply(&c, &p, &opts, &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    let OpStatus::Failed(f) = &failed[0].status else {
        unreachable!()
    };
    assert_eq!(f.status, Some(409));
    assert_eq!(f.object_id.as_deref(), Some(id.as_str()));
    assert!(
        f.message
            .contains("changed during apply by carla.gomez@acme.example"),
        "{}",
        f.message
    );
    // Not deleted, and no DELETE was even sent.
    assert!(server.with_world(|w| w.version_of(kind, &id)).is_some());
    assert!(server.journal().iter().all(|e| e.method != "DELETE"));
    // Everything else was applied.
    assert_eq!(report.applied_counts(), (2, 2, 0));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_carries_the_version_it_read_so_an_edit_right_before_it_conflicts() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let (kind, id) = removal(&p);
    // The object is edited right after apply's last read of it, in the window before the
    // DELETE: the version sent with the DELETE no longer matches.
    server.with_world(|w| w.bump_version_on_next_read(kind, &id));
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    let OpStatus::Failed(f) = &failed[0].status else {
        unreachable!()
    };
    assert!(f.message.contains("changed during apply"), "{}", f.message);
    assert!(server.with_world(|w| w.version_of(kind, &id)).is_some());
    let deletes: Vec<u16> = server
        .journal()
        .iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| e.status)
        .collect();
    assert_eq!(deletes, vec![409]);
    server.shutdown().await;
}

// --- case 5: lost answers -------------------------------------------------------------------

fn journal_of(events: &[ApplyEvent]) -> Vec<JournalRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            ApplyEvent::Journal(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_whose_answers_are_lost_are_confirmed_by_a_re_read_and_never_duplicated() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    let before = read(&c, &d).await;
    // Every POST lands in the sandbox and its answer is then lost.
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::ProcessThenDrop]);
    faults.methods = vec!["POST".into()];
    server.set_faults(faults);
    let mut events = Vec::new();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut |e: &ApplyEvent| {
        events.push(e.clone())
    })
    .await;
    assert!(report.succeeded(), "{report:#?}");
    for kind in ["invite", "create_space_membership"] {
        assert!(
            matches!(
                outcome(&report, kind),
                OpStatus::Applied {
                    confirmed_after_lost_response: true,
                    object_id: Some(_),
                    ..
                }
            ),
            "{report:#?}"
        );
    }
    // One POST each: nothing was sent twice, so nothing was created twice.
    let posts = server
        .journal()
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(posts, 2);
    server.set_faults(FaultConfig::none());
    let after = read(&c, &d).await;
    assert_eq!(
        after.org_memberships.len(),
        before.org_memberships.len() + 1
    );
    assert!(plan_now(&c, &d).await.is_empty());
    // The journal says how each lost answer was resolved.
    let resolved: Vec<_> = journal_of(&events)
        .into_iter()
        .filter(|r| r.result.as_deref() == Some("applied (confirmed after a lost response)"))
        .collect();
    assert_eq!(resolved.len(), 2, "{events:#?}");
    let text = apply::render_report(&report, false);
    assert!(
        text.contains("(applied: confirmed after a lost response)"),
        "{text}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_answers_are_all_lost_behind_a_proxy_is_confirmed_applied() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    // Every PUT is processed, then a proxy answers 502.
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::ProcessThen502]);
    faults.methods = vec!["PUT".into()];
    server.set_faults(faults);
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.kind.starts_with("change") || o.kind.starts_with("update"))
    {
        assert!(
            matches!(
                o.status,
                OpStatus::Applied {
                    confirmed_after_lost_response: true,
                    ..
                }
            ),
            "{o:#?}"
        );
    }
    server.set_faults(FaultConfig::none());
    assert!(plan_now(&c, &d).await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_by_a_proxy_before_processing_is_checked_then_sent_again_once() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    // The first POST gets a 502 without reaching the world.
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::Status502]);
    faults.methods = vec!["POST".into()];
    faults.max_faults = Some(1);
    server.set_faults(faults);
    let report = apply::apply(
        &c,
        &p,
        &ApplyOptions {
            parallelism: 1,
            ..ApplyOptions::default()
        },
        &mut NoObserver,
    )
    .await;
    assert!(report.succeeded(), "{report:#?}");
    let statuses: Vec<u16> = server
        .journal()
        .iter()
        .filter(|e| e.method == "POST" && e.route.ends_with("/invitations"))
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, vec![502, 201], "checked, then sent once more");
    assert!(plan_now(&c, &d).await.is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_that_cannot_be_checked_is_unknown_its_dependents_skipped_and_the_run_stops()
{
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    // From now on every request is processed and its answer lost: the invitation lands, but
    // neither its answer nor any re-read comes back.
    server.set_faults(FaultConfig::new(1.0, vec![FaultKind::ProcessThenDrop]));
    let opts = ApplyOptions {
        parallelism: 1,
        ..ApplyOptions::default()
    };
    let report = apply::apply(&c, &p, &opts, &mut NoObserver).await;
    let invite = report.outcomes.iter().find(|o| o.kind == "invite").unwrap();
    let OpStatus::Unknown(f) = &invite.status else {
        panic!("{report:#?}")
    };
    assert!(
        f.message.contains("may or may not have been applied"),
        "{}",
        f.message
    );
    assert!(matches!(
        outcome(&report, "create_space_membership"),
        OpStatus::Skipped { because } if *because == invite.id
    ));
    // The API is unreachable: nothing else was started.
    assert!(
        matches!(
            report.stopped,
            Some(StopReason::Unreachable { consecutive_failures }) if consecutive_failures >= UNREACHABLE_AFTER
        ),
        "{report:#?}"
    );
    assert!(report.not_started().count() >= 1, "{report:#?}");
    let text = apply::render_report(&report, false);
    assert!(text.contains("OUTCOME UNKNOWN"), "{text}");
    assert!(text.contains("Contentful unreachable"), "{text}");
    assert!(
        report.last_line().contains("1 OUTCOME UNKNOWN"),
        "{}",
        report.last_line()
    );
    server.shutdown().await;
}

// --- case 6: stopping -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_after_the_first_operation_records_it_and_starts_nothing_more() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    server.clear_journal();
    let stop = StopSignal::new();
    let opts = ApplyOptions {
        parallelism: 1,
        stop: stop.clone(),
        ..ApplyOptions::default()
    };
    let mut events = Vec::new();
    let report = apply::apply(&c, &p, &opts, &mut |e: &ApplyEvent| {
        if matches!(e, ApplyEvent::Finished(_)) {
            // Ctrl-C while the first operation finishes.
            stop.stop();
        }
        events.push(e.clone());
    })
    .await;
    assert_eq!(report.stopped, Some(StopReason::Interrupted));
    assert_eq!(report.outcomes.len(), p.operations.len());
    let applied = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, OpStatus::Applied { .. }))
        .count();
    assert_eq!(applied, 1, "{report:#?}");
    assert_eq!(report.not_started().count(), p.operations.len() - 1);
    // The one write sent has its attempt and its outcome in the journal, and it is the only
    // write the sandbox saw.
    let journal = journal_of(&events);
    assert_eq!(
        journal.iter().map(|r| r.phase).collect::<Vec<_>>(),
        vec![JournalPhase::Attempt, JournalPhase::Outcome]
    );
    let writes = server
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .count();
    assert_eq!(writes, 1);
    let text = apply::render_report(&report, false);
    assert!(text.contains("(not started: stopped)"), "{text}");
    assert!(
        report
            .last_line()
            .starts_with("Apply stopped (interrupted): 1 applied"),
        "{}",
        report.last_line()
    );
    // The next run finishes the job.
    let rest = plan_now(&c, &d).await;
    assert_eq!(rest.operations.len(), p.operations.len() - 1);
    assert!(
        apply::apply(&c, &rest, &ApplyOptions::default(), &mut NoObserver)
            .await
            .succeeded()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_before_it_starts_writes_nothing() {
    let server = sandbox().await;
    let c = client(&server);
    let d = desired();
    let p = plan_now(&c, &d).await;
    server.clear_journal();
    let opts = ApplyOptions::default();
    opts.stop.stop();
    let report = apply::apply(&c, &p, &opts, &mut NoObserver).await;
    assert_eq!(report.stopped, Some(StopReason::Interrupted));
    assert_eq!(report.not_started().count(), p.operations.len());
    assert!(server.journal().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_nothing_answers_apply_stops_instead_of_retrying_every_operation() {
    let server = sandbox().await;
    let d = desired();
    let p = plan_now(&client(&server), &d).await;
    // A port nothing listens on: every connection is refused.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = ClientConfig::new(
        &format!("http://127.0.0.1:{dead}"),
        SecretString::from(server.admin_token()),
    )
    .unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(1);
    let c = Client::new(cfg).unwrap();
    let opts = ApplyOptions {
        parallelism: 1,
        ..ApplyOptions::default()
    };
    let report = apply::apply(&c, &p, &opts, &mut NoObserver).await;
    assert_eq!(
        report.stopped,
        Some(StopReason::Unreachable {
            consecutive_failures: UNREACHABLE_AFTER
        }),
        "{report:#?}"
    );
    // The first operation used its five attempts and failed (nothing can have been written);
    // the others were not started instead of each trying five times more.
    assert_eq!(report.failed().count(), 1, "{report:#?}");
    assert_eq!(
        report.not_started().count() + report.skipped().count(),
        p.operations.len() - 1
    );
    assert_eq!(c.stats().requests, UNREACHABLE_AFTER as u64);
    let text = apply::render_report(&report, false);
    assert!(
        text.contains("Stopped: Contentful unreachable (5 requests in a row got no response)"),
        "{text}"
    );
    server.shutdown().await;
}
