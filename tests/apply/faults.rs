//! Issue 13, cases 4 to 6, against the sandbox over real HTTP: a delete never wipes an edit made
//! after the plan; a write whose answer was lost is reported by what a re-read shows (applied,
//! not applied, or loudly unknown) and never duplicated; a stopped or cut-off run records every
//! operation it started and starts nothing more.

use std::time::Duration;

use chrono::Utc;
use contentful_access::apply::{
    self, ApplyEvent, ApplyOptions, JournalPhase, JournalRecord, NoObserver, OpStatus, Planned,
    StopReason, StopSignal, VerifiedPlan,
};
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::model::{DesiredState, LiveState};
use contentful_access::plan::PlanOptions;
use contentful_access::sandbox::{SandboxOptions, Server, demo_seed};
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
            created_at: Utc::now(),
        },
    )
    .unwrap()
    {
        Planned::Verified(p) => p,
        Planned::Refused(p) => panic!("refused: {:#?}", p.guardrails),
    }
}

fn journal_of(events: &[ApplyEvent]) -> Vec<JournalRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            ApplyEvent::Journal(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
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
