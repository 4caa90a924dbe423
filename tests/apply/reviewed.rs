//! `apply -c FILE --reviewed PLAN`: a merge applies only what was reviewed. The plan made at merge
//! time is applied when every operation of it is in the reviewed plan (identical, or fewer because
//! some are no longer needed); one operation more, or the same target with other content, and the
//! whole apply is refused with exit 3, the unreviewed operations listed and nothing written. The
//! library's [`verify_reviewed`] is the invariant; the binary only calls it.

use std::path::Path;
use std::process::Output;

use contentful_access::apply::{Planned, Refusal, plan_checked, verify_reviewed};
use contentful_access::plan::{Plan, PlanOptions};
use contentful_access::sandbox::Server;

use crate::util::{
    demo_file, demo_sandbox as sandbox, plan_out, root, run_against, sandbox_writes as writes, text,
};

/// The demo file plus one new user.
fn with_new_person(y: String) -> String {
    y + "  new.person@acme.example:\n    name: New Person\n    teams: [editors]\n"
}

/// `plan -c config --out out` against `server` (the pull request's plan).
async fn review(server: &Server, config: &Path, out: &Path) {
    let o = plan_out(server, config, out).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// `apply -c config --reviewed reviewed --auto-approve` against `server`, from a clean journal.
async fn merge(server: &Server, config: &Path, reviewed: &Path) -> Output {
    server.clear_journal();
    run_against(
        server,
        &[
            "apply",
            "-c",
            &config.display().to_string(),
            "--reviewed",
            &reviewed.display().to_string(),
            "--auto-approve",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewed_plan_itself_is_applied() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let reviewed = dir.path().join("reviewed.json");
    review(&server, &config, &reviewed).await;
    let o = merge(&server, &config, &reviewed).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("Apply complete"),
        "{}",
        text(&o.stdout)
    );
    assert!(!writes(&server).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewed_operations_no_longer_needed_are_not_done() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    // Reviewed: the demo changes plus an invitation; merged: the invitation was dropped.
    let reviewed_file = demo_file(dir.path(), "reviewed.yaml", with_new_person);
    let reviewed = dir.path().join("reviewed.json");
    review(&server, &reviewed_file, &reviewed).await;
    assert!(
        std::fs::read_to_string(&reviewed)
            .unwrap()
            .contains("new.person@acme.example")
    );
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let o = merge(&server, &config, &reviewed).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // The demo's five operations (one of them Nina's invitation), not the new person's two.
    let done = writes(&server);
    assert_eq!(done.len(), 5, "{done:?}");
    assert_eq!(
        done.iter()
            .filter(|(_, p)| p.ends_with("/invitations"))
            .count(),
        1,
        "{done:?}"
    );
    assert!(
        !text(&o.stdout).contains("new.person"),
        "{}",
        text(&o.stdout)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_nobody_reviewed_refuses_the_whole_apply() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let reviewed = dir.path().join("reviewed.json");
    review(&server, &config, &reviewed).await;
    // Between review and merge the file gained a user nobody reviewed.
    std::fs::write(
        &config,
        with_new_person(std::fs::read_to_string(&config).unwrap()),
    )
    .unwrap();
    let o = merge(&server, &config, &reviewed).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(writes(&server), vec![], "a refused apply writes nothing");
    assert!(err.contains("does not have; nothing was written"), "{err}");
    assert!(
        err.contains("(invite new.person@acme.example as member): not reviewed"),
        "{err}"
    );
    // Only the unreviewed operations are listed.
    assert!(!err.contains("bob@acme.example"), "{err}");
    assert!(!text(&o.stdout).contains("Apply complete"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_target_with_other_content_is_refused() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let reviewed = dir.path().join("reviewed.json");
    review(&server, &config, &reviewed).await;
    // Reviewed: Bob becomes Author in marketing; merged: space admin.
    let edited = std::fs::read_to_string(&config).unwrap().replace(
        "    teams: [editors]\n    spaces:\n      marketing: [Author]",
        "    teams: [editors]\n    spaces:\n      marketing: admin",
    );
    std::fs::write(&config, edited).unwrap();
    let o = merge(&server, &config, &reviewed).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(writes(&server), vec![]);
    assert!(err.contains("bob@acme.example"), "{err}");
    assert!(err.contains("the reviewed plan had this instead"), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardrails_still_refuse_a_reviewed_plan() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    // Jane holds the sandbox's admin token: demoting her is refused, reviewed or not.
    let config = demo_file(dir.path(), "access.yaml", |y| {
        y.replace(
            "    name: Jane Smith\n    org_role: admin",
            "    name: Jane Smith\n    org_role: member",
        )
    });
    let reviewed = dir.path().join("reviewed.json");
    let o = run_against(
        &server,
        &[
            "plan",
            "-c",
            &config.display().to_string(),
            "--out",
            &reviewed.display().to_string(),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let o = merge(&server, &config, &reviewed).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert_eq!(writes(&server), vec![]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_reviewed_plan_is_an_error_before_anything_is_read() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let missing = dir.path().join("missing.json");
    let o = merge(&server, &config, &missing).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("missing.json"), "{err}");
    assert!(server.journal().is_empty(), "{:?}", server.journal());
    server.shutdown().await;
}

/// The library invariant without the binary: a fresh plan is accepted only when each of its
/// operations is in the reviewed plan, whatever the ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_accepts_only_reviewed_operations() {
    let server = sandbox().await;
    let c = crate::util::fast_client(&server);
    let dir = tempfile::tempdir().unwrap();
    let load = |p: &Path| contentful_access::config::load(p).unwrap();
    let plain = load(&root().join("examples/access.yaml"));
    let more = load(&demo_file(dir.path(), "more.yaml", with_new_person));
    let live = crate::util::read_live(&c, &plain).await;
    let opts = PlanOptions {
        created_at: crate::util::now(),
    };
    let fresh = |d| match plan_checked(d, &live, &opts).unwrap() {
        Planned::Verified(v) => v,
        Planned::Refused(p) => panic!("{p:#?}"),
    };
    let small = fresh(&plain);
    let big = fresh(&more);
    assert!(big.operations.len() > small.operations.len());

    // Identical, and renumbered: accepted.
    assert_eq!(verify_reviewed(small.clone(), small.plan()).unwrap(), small);
    let mut renumbered: Plan = small.plan().clone();
    renumbered.operations.reverse();
    for (n, op) in renumbered.operations.iter_mut().enumerate() {
        op.id = contentful_access::plan::OpId::nth(100 + n);
    }
    assert!(verify_reviewed(small.clone(), &renumbered).is_ok());
    // Fewer than reviewed: accepted as planned now.
    assert_eq!(verify_reviewed(small.clone(), big.plan()).unwrap(), small);
    // More than reviewed: refused, naming exactly the extra operation.
    match verify_reviewed(big.clone(), small.plan()) {
        Err(Refusal::Unreviewed(list)) => {
            // The invitation and the team membership; nothing else.
            assert_eq!(list.len(), 2, "{list:#?}");
            assert!(
                list.iter()
                    .all(|u| u.description.contains("new.person@acme.example")),
                "{list:#?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Reviewed for another organization: refused.
    let mut other = small.plan().clone();
    other.organization = "someone-else".into();
    assert!(matches!(
        verify_reviewed(small.clone(), &other),
        Err(Refusal::OtherOrganization { .. })
    ));
    // An empty reviewed plan accepts only an empty fresh plan.
    let mut empty = small.plan().clone();
    empty.operations.clear();
    empty.levels.clear();
    assert!(verify_reviewed(small.clone(), &empty).is_err());
    server.shutdown().await;
}
