//! A saved plan is never trusted as written: every hand edit of a plan file (a refusal turned
//! off, an operation appended, changed content or target, an empty `touches`, a date in the
//! future, a missing access file) is refused by `apply PLAN` with nothing written to the
//! organization, and the library verifies the same way without the binary.

use std::path::Path;

use chrono::Utc;
use contentful_access::apply::{
    self, MismatchReason, Refusal, VerifyError, VerifyOptions, verify_saved,
};
use contentful_access::plan::{self, Plan, PlanOptions};
use contentful_access::sandbox::{ObjectKind, Server};
use serde_json::{Value, json};

use crate::util::{
    demo_file, demo_sandbox as sandbox, fast_client as client, plan_out, root, run_against,
    sandbox_writes as writes, text,
};

/// Saves the plan of `config` against `server` with `plan --out` and returns it as JSON.
async fn saved_plan(server: &Server, config: &Path, out: &Path) -> Value {
    let o = plan_out(server, config, out).await;
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{}",
        text(&o.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// Applies the edited plan `plan` (written next to `config`'s directory) and checks that it
/// exits with `code`, writes nothing, and says `says` on stderr. Returns stderr.
async fn refused(server: &Server, dir: &Path, plan: &Value, code: i32, says: &str) -> String {
    let path = dir.join("edited.json");
    std::fs::write(&path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    server.clear_journal();
    let o = run_against(server, &["apply", &path.display().to_string()]).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert!(err.contains(says), "{err}");
    assert!(
        !text(&o.stdout).contains("Apply complete"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(writes(server), vec![], "a refused plan must write nothing");
    err
}

fn ops(plan: &mut Value) -> &mut Vec<Value> {
    plan["operations"].as_array_mut().unwrap()
}

fn op_of<'p>(plan: &'p mut Value, kind: &str) -> &'p mut Value {
    ops(plan)
        .iter_mut()
        .find(|o| o["kind"]["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} operation"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_plan_marked_not_refused_is_still_refused() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    // Jane holds the sandbox's admin token: demoting her locks the token out.
    let config = demo_file(dir.path(), "access.yaml", |y| {
        y.replace(
            "    name: Jane Smith\n    org_role: admin",
            "    name: Jane Smith\n    org_role: member",
        )
    });
    let mut plan = saved_plan(&server, &config, &dir.path().join("plan.json")).await;
    assert_eq!(plan["refused"], true);
    plan["refused"] = false.into();
    for g in plan["guardrails"].as_array_mut().unwrap() {
        g["passed"] = true.into();
        g["offenders"] = json!([]);
    }
    let err = refused(&server, dir.path(), &plan, 3, "breaks guardrails").await;
    assert!(err.contains("token_user"), "{err}");
    assert!(err.contains("demotes jane@acme.example"), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appended_owner_invitation_for_an_outsider_is_refused_by_name() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let mut plan = saved_plan(&server, &config, &dir.path().join("plan.json")).await;
    ops(&mut plan).push(json!({
        "id": "op-006",
        "action": "add",
        "kind": {
            "type": "invite",
            "email": "outsider@evil.example",
            "role": "owner",
            "first_name": null,
            "last_name": null
        },
        "depends_on": [],
        "cause": null,
        "touches": []
    }));
    plan["levels"][0]
        .as_array_mut()
        .unwrap()
        .push("op-006".into());
    let err = refused(&server, dir.path(), &plan, 3, "does not match").await;
    assert!(
        err.contains("op-006 (invite outsider@evil.example as owner)"),
        "{err}"
    );
    assert!(err.contains("does not ask for this"), "{err}");
    // The genuine operations are not blamed.
    assert!(!err.contains("op-001"), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_content_or_target_of_an_operation_is_refused() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let original = saved_plan(&server, &config, &dir.path().join("plan.json")).await;

    // Content: Bob becomes space admin instead of Author.
    let mut plan = original.clone();
    let bob = op_of(&mut plan, "update_space_membership");
    bob["kind"]["after"] = "admin".into();
    bob["kind"]["role_ids"] = json!([]);
    let id = bob["id"].as_str().unwrap().to_string();
    let err = refused(&server, dir.path(), &plan, 3, "does not match").await;
    assert!(
        err.contains(&format!("{id} (change bob@acme.example")),
        "{err}"
    );
    assert!(err.contains("asks for this instead"), "{err}");

    // Target: the same change, sent to another user's membership in the same space.
    let c = client(&server);
    let live = c
        .read_live_state("2AcmeDemoOrgSandbox001", &[])
        .await
        .unwrap();
    let mut plan = original.clone();
    let bob = op_of(&mut plan, "update_space_membership");
    let space = bob["kind"]["space_id"].as_str().unwrap().to_string();
    let bobs = bob["kind"]["space_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = live
        .space_memberships
        .values()
        .find(|sm| sm.space_id == space && sm.meta.id != bobs)
        .expect("another membership in the space");
    bob["kind"]["space_membership"]["id"] = other.meta.id.clone().into();
    bob["kind"]["space_membership"]["version"] = other.meta.version.into();
    bob["touches"] = json!([]);
    refused(&server, dir.path(), &plan, 3, "does not match").await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_touches_list_does_not_skip_the_stale_check() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    // Prune on: the undeclared former contractor is removed from the organization.
    let config = demo_file(dir.path(), "access.yaml", |y| {
        y.replace("  prune: false", "  prune: true")
            .replace("max_removals: 10%", "max_removals: 50%")
    });
    let mut plan = saved_plan(&server, &config, &dir.path().join("plan.json")).await;
    assert_eq!(plan["refused"], false, "{plan:#}");
    let remove = op_of(&mut plan, "remove_org_member");
    assert_eq!(remove["kind"]["email"], "former.contractor@acme.example");
    let om = remove["kind"]["membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    remove["touches"] = json!([]);
    // Someone else changes the membership after the plan was made.
    server.with_world(|w| {
        assert!(w.bump_version(
            ObjectKind::OrganizationMembership,
            &om,
            "someone",
            Utc::now()
        ))
    });
    let err = refused(&server, dir.path(), &plan, 1, "is out of date").await;
    assert!(
        err.contains(&format!("organization membership {om} changed")),
        "{err}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_dated_in_the_future_is_refused() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let mut plan = saved_plan(&server, &config, &dir.path().join("plan.json")).await;
    plan["created_at"] = (Utc::now() + chrono::Duration::days(365))
        .to_rfc3339()
        .into();
    refused(&server, dir.path(), &plan, 1, "later than now").await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_access_file_is_gone_is_refused() {
    let server = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = demo_file(dir.path(), "access.yaml", |y| y);
    let plan = saved_plan(&server, &config, &dir.path().join("plan.json")).await;
    std::fs::remove_file(&config).unwrap();
    let err = refused(&server, dir.path(), &plan, 1, "cannot be found").await;
    assert!(err.contains(&config.display().to_string()), "{err}");
    assert!(err.contains("-c FILE"), "{err}");
    // Given explicitly, the file is used (here: the demo file it was copied from).
    let path = dir.path().join("edited.json");
    let o = run_against(
        &server,
        &[
            "apply",
            &path.display().to_string(),
            "-c",
            "examples/access.yaml",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    server.shutdown().await;
}

/// The library without the binary: a saved plan with one operation too many is refused by
/// [`verify_saved`], naming it; the unedited plan verifies and applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_verifies_a_saved_plan_before_it_can_be_applied() {
    let server = sandbox().await;
    let c = client(&server);
    let desired = contentful_access::config::load(&root().join("examples/access.yaml")).unwrap();
    let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
    let live = c
        .read_live_state(&desired.organization, &spaces)
        .await
        .unwrap();
    let now = Utc::now();
    let plan = plan::build(&desired, &live, &PlanOptions { created_at: now }).unwrap();
    let json = contentful_access::render::plan_json(&plan);
    let opts = VerifyOptions {
        now,
        max_age: chrono::Duration::hours(1),
    };

    // A duplicated operation (same target and content, another id) matches only once.
    let mut edited: Plan = Plan::from_json(&json).unwrap();
    let mut dup = edited.operations[0].clone();
    dup.id = contentful_access::plan::OpId::nth(99);
    edited.levels[0].push(dup.id.clone());
    edited.operations.push(dup);
    server.clear_journal();
    match verify_saved(&c, edited, &desired, &opts).await {
        Err(VerifyError::Refused(Refusal::Operations(list))) => {
            assert_eq!(list.len(), 1, "{list:#?}");
            assert_eq!(list[0].id.as_str(), "op-099");
            assert!(
                matches!(&list[0].reason, MismatchReason::Repeats { first } if first.as_str() == "op-001"),
                "{list:#?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(writes(&server), vec![]);

    let verified = verify_saved(&c, Plan::from_json(&json).unwrap(), &desired, &opts)
        .await
        .unwrap();
    let report = apply::apply(&c, &verified, &Default::default(), &mut apply::NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    server.shutdown().await;
}
