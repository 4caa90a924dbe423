//! The GitLab CI example's jobs run as scripts against the sandbox: plan note, apply of the merged
//! request's plan, drift.

use super::*;

#[test]
fn the_gitlab_plan_job_replaces_its_earlier_note_and_fails_on_errors() {
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("jq is not installed: the GitLab plan job is not exercised");
        return;
    }
    let notes = serde_json::json!([
        { "id": 70, "body": "Looks good" },
        { "id": 77, "body": "<!-- contentful-access:plan org=2AcmeDemoOrgSandbox001 -->\nold" },
    ]);
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_gitlab(&gitlab_script("plan"), &notes);
    assert!(
        out.status.success(),
        "changes (exit 2) pass: {}",
        text(&out.stderr)
    );
    let log = checkout.read("curl.log");
    let notes_url = "https://gitlab.example/api/v4/projects/9/merge_requests/5/notes";
    assert!(log.contains(&format!("{notes_url}?per_page=100")), "{log}");
    assert!(
        log.contains(&format!("--request PUT --header PRIVATE-TOKEN: glpat-test --data-urlencode body@plan.md {notes_url}/77")),
        "{log}"
    );
    assert!(
        log.contains("body: <!-- contentful-access:plan org=2AcmeDemoOrgSandbox001 -->"),
        "{log}"
    );
    assert!(checkout.path("plan.json").exists());

    // A role missing in a space: a failure note is posted (as a new note here) and the job fails.
    let typo = read("examples/access.yaml").replacen("blog: [Editor]", "blog: [Editr]", 1);
    let checkout = Checkout::new(&typo);
    let out = checkout.run_gitlab(&gitlab_script("plan"), &serde_json::json!([]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did you mean \"Editor\"?"));
    let log = checkout.read("curl.log");
    assert!(log.contains(&format!("--request POST --header PRIVATE-TOKEN: glpat-test --data-urlencode body@plan.md {notes_url}\n")), "{log}");
    assert!(
        log.contains("body: <!-- contentful-access:plan error -->"),
        "{log}"
    );
}

#[test]
fn the_gitlab_drift_job_fails_on_drift_and_keeps_the_report() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_gitlab(&gitlab_script("drift"), &serde_json::json!([]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = checkout.read("drift.md");
    assert!(
        report.contains("Access drift in `2AcmeDemoOrgSandbox001`: 5 differences"),
        "{report}"
    );

    let checkout = Checkout::new(&exported_demo_file());
    let out = checkout.run_gitlab(&gitlab_script("drift"), &serde_json::json!([]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_gitlab_apply_job_applies_only_the_merged_requests_plan() {
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("jq is not installed: the GitLab apply job is not exercised");
        return;
    }
    // Reviewed, then merged unchanged: applied and journaled.
    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review_gitlab();
    let out = checkout.run_gitlab_apply(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("### Contentful access plan: 2 to add, 2 to change, 1 to remove")
    );
    assert!(
        text(&out.stdout).contains("Reviewed plan: job 88 of MR !5 at head456"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !checkout.read("journal.jsonl").is_empty(),
        "apply ran and journaled"
    );

    // The merged file asks for more than was reviewed: refused, nothing written.
    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review_gitlab();
    std::fs::write(
        checkout.path("access.yaml"),
        with_new_person(&read("examples/access.yaml")),
    )
    .expect("write");
    let out = checkout.run_gitlab_apply(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not reviewed"));
    assert!(!checkout.path("journal.jsonl").exists());

    // No merged MR: refused unless APPLY_UNREVIEWED=true.
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_gitlab_apply(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("No reviewed plan for this commit"));
    assert!(!checkout.path("journal.jsonl").exists());
    let out = checkout.run_gitlab_apply(&[("APPLY_UNREVIEWED", "true")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!checkout.read("journal.jsonl").is_empty());

    // Nothing to do: no apply, reviewed or not.
    let checkout = Checkout::new(&exported_demo_file());
    let out = checkout.run_gitlab_apply(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !checkout.path("journal.jsonl").exists(),
        "no apply without changes"
    );

    // A refused plan fails the job before apply.
    let refusing = read("examples/access.yaml").replacen("max_removals: 10%", "max_removals: 0", 1);
    let checkout = Checkout::new(&refusing);
    let out = checkout.run_gitlab_apply(&[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a refused plan fails the job before apply"
    );
    assert!(!checkout.path("journal.jsonl").exists());
}
