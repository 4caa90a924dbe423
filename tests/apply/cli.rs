//! The `apply` command end to end: the demo plan applied to the built-in sandbox, confirmation
//! rules, the journal, saved plans (round trip, stale, too old, refused) and `--rehearse`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::TimeZone;
use contentful_access::sandbox::ObjectKind;

use crate::util::{demo_file, root, run_against, snap as snapshot, text};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_contentful-access"));
    c.current_dir(root())
        .env_remove("CONTENTFUL_MANAGEMENT_TOKEN")
        .env_remove("CONTENTFUL_ACCESS_CONFIG")
        .env("NO_COLOR", "1")
        .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
        .stdin(Stdio::null());
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Stdout with the plan's creation time replaced, for snapshots.
fn normalized(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .map(|l| {
            if l.starts_with("Created: ") {
                "Created: [time]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn last_line(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn temp_path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn apply_demo_with_auto_approve_applies_the_plan_and_journals_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let journal = temp_path(dir.path(), "journal.jsonl");
    let out = run(&[
        "apply",
        "-c",
        "examples/access.yaml",
        "--sandbox",
        "--auto-approve",
        "--journal",
        &journal,
        // One at a time, so the lines printed as operations finish come in a fixed order.
        "--parallelism",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing was written to Contentful"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        last_line(&out),
        "Apply complete: 2 added, 2 changed, 1 removed."
    );
    snapshot("apply__demo_auto_approve", &normalized(&out));

    let journal = std::fs::read_to_string(&journal).unwrap();
    assert!(!journal.contains("sandbox-admin-token"));
    let records: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 10);
    for op in ["op-001", "op-002", "op-003", "op-004", "op-005"] {
        let of_op: Vec<&serde_json::Value> = records.iter().filter(|r| r["op"] == op).collect();
        assert_eq!(of_op.len(), 2, "{op}");
        assert_eq!(of_op[0]["phase"], "attempt");
        assert_eq!(of_op[1]["phase"], "outcome");
        assert_eq!(of_op[1]["result"], "ok");
        assert_eq!(of_op[0]["path"], of_op[1]["path"]);
        assert!(of_op[0]["time"].as_str().unwrap().starts_with("20"));
    }
    let invite = records
        .iter()
        .find(|r| r["op"] == "op-001" && r["phase"] == "outcome")
        .unwrap();
    assert_eq!(invite["method"], "POST");
    assert_eq!(
        invite["path"],
        "/organizations/2AcmeDemoOrgSandbox001/invitations"
    );
    assert!(invite["object_id"].is_string());
}

#[test]
fn without_auto_approve_a_non_terminal_stdin_is_refused_and_nothing_applied() {
    let out = run(&["apply", "-c", "examples/access.yaml", "--sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("stdin is not a terminal"), "{err}");
    assert!(err.contains("--auto-approve"), "{err}");
    assert_eq!(last_line(&out), "Plan: 2 to add, 2 to change, 1 to remove.");
    assert!(!text(&out.stdout).contains("Apply complete"));
}

#[test]
fn rehearse_applies_in_a_sandbox_copy_and_reports_convergence() {
    let out = run(&[
        "apply",
        "-c",
        "examples/access.yaml",
        "--sandbox",
        "--rehearse",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    snapshot("apply__rehearse", &normalized(&out));
    assert!(text(&out.stdout).contains("Rehearsal converged"));
}

#[test]
fn a_saved_plan_round_trips_and_a_too_old_or_refused_one_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let plan_file = plan_path.display().to_string();
    let out = run(&[
        "plan",
        "-c",
        "examples/access.yaml",
        "--sandbox",
        "--out",
        &plan_file,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["apply", &plan_file, "--sandbox"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        last_line(&out),
        "Apply complete: 2 added, 2 changed, 1 removed."
    );

    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();

    let mut old = original.clone();
    old["created_at"] = "2020-01-01T00:00:00Z".into();
    let old_path = dir.path().join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let out = run(&["apply", &old_path.display().to_string(), "--sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("is out of date; nothing was written"), "{err}");
    assert!(err.contains("older than the allowed 24h"), "{err}");
    // A larger --max-plan-age accepts it.
    let out = run(&[
        "apply",
        &old_path.display().to_string(),
        "--sandbox",
        "--max-plan-age",
        "3650d",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let mut refused = original.clone();
    refused["refused"] = true.into();
    refused["guardrails"][0]["passed"] = false.into();
    refused["guardrails"][0]["message"] = "too many removals".into();
    let refused_path = dir.path().join("refused.json");
    std::fs::write(&refused_path, refused.to_string()).unwrap();
    let out = run(&["apply", &refused_path.display().to_string(), "--sandbox"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("refused by guardrails"));
    assert!(text(&out.stdout).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_whose_objects_changed_is_refused_with_nothing_written() {
    let server = crate::util::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let plan_file = plan_path.display().to_string();
    let out = run_against(
        &server,
        &["plan", "-c", "examples/access.yaml", "--out", &plan_file],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    // Someone else edits Bob's marketing membership (op-004 updates it).
    let bob = plan["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"]["type"] == "update_space_membership")
        .unwrap();
    let sm_id = bob["kind"]["space_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 11, 23, 9, 15, 0)
        .unwrap();
    server.with_world(|w| {
        assert!(w.bump_version(ObjectKind::SpaceMembership, &sm_id, "carla-user-id", at))
    });
    server.clear_journal();

    let out = run_against(&server, &["apply", &plan_file]).await;
    assert_eq!(out.status.code(), Some(1));
    snapshot(
        "apply__stale_saved_plan",
        &text(&out.stderr).replace(&plan_file, "[plan.json]"),
    );
    assert!(text(&out.stdout).is_empty());
    let writes = server
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .count();
    assert_eq!(writes, 0, "a stale plan must write nothing");

    // Planning again and applying converges; a second apply has nothing to do.
    let out = run_against(
        &server,
        &["apply", "-c", "examples/access.yaml", "--auto-approve"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run_against(
        &server,
        &["apply", "-c", "examples/access.yaml", "--auto-approve"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        last_line(&out),
        "No changes. Contentful access matches examples/access.yaml."
    );
    server.shutdown().await;
}

#[test]
fn a_plan_refused_by_a_guardrail_is_not_applied_even_with_auto_approve() {
    let dir = tempfile::tempdir().unwrap();
    let file = demo_file(dir.path(), "access.yaml", |y| {
        y.replace("max_removals: 10%", "max_removals: 0")
    });
    let journal = temp_path(dir.path(), "journal.jsonl");
    let out = run(&[
        "apply",
        "-c",
        &file.display().to_string(),
        "--sandbox",
        "--auto-approve",
        "--journal",
        &journal,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("max_removals"), "{stdout}");
    assert!(!stdout.contains("Apply complete"));
    assert!(!Path::new(&journal).exists(), "nothing may be written");
}
