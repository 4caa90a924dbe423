//! The GitHub Actions examples' steps run as scripts against the sandbox: plan, the plan comment,
//! apply of the reviewed plan, drift.

use super::*;

#[test]
fn plan_comments_are_found_by_the_marker_the_tool_prints() {
    let first_line = markdown_marker_line();
    let marker = "<!-- contentful-access:plan";
    assert!(first_line.starts_with(marker), "{first_line}");
    // Each workflow finds its earlier comment by a body that starts with the marker.
    for (path, search) in [
        (GITHUB[0], format!("const marker = '{marker}';\n")),
        (GITHUB[0], "c.body.startsWith(marker)".to_string()),
        (GITLAB, format!("select(.body | startswith(\"{marker}\"))")),
    ] {
        assert!(
            read(path).contains(&search),
            "{path} searches with {search}"
        );
    }
    let plan = parse(&read(GITHUB[0])).expect("YAML");
    assert!(get(&plan, &["on", "pull_request"]).is_object());
    assert_eq!(get(&plan, &["permissions", "pull-requests"]), "write");
    let steps = get(&plan, &["jobs", "plan", "steps"]);
    assert!(
        steps_using(steps, "actions/upload-artifact")
            .iter()
            .any(|s| s["with"]["path"]
                .as_str()
                .is_some_and(|p| p.contains("plan.json")))
    );
    assert_eq!(
        get(
            &plan,
            &["jobs", "plan", "env", "CONTENTFUL_MANAGEMENT_TOKEN"]
        ),
        "${{ secrets.CONTENTFUL_MANAGEMENT_TOKEN }}"
    );
}

#[test]
fn the_github_plan_step_saves_the_plan_and_its_exit_code() {
    let script = github_step(GITHUB[0], "plan", "plan");
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_github(&script);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=2\n");
    assert!(
        checkout
            .read("plan.md")
            .starts_with("<!-- contentful-access:plan org=")
    );
    let plan: Value = serde_json::from_str(&checkout.read("plan.json")).expect("plan.json");
    assert_eq!(plan["format_version"], 1);
    assert_eq!(
        text(&out.stdout),
        "",
        "nothing but annotations goes to the log"
    );
}

#[test]
fn the_github_plan_step_surfaces_annotations_when_the_plan_fails() {
    let typo = read("examples/access.yaml").replacen("blog: [Editor]", "blog: [Editr]", 1);
    let checkout = Checkout::new(&typo);
    let out = checkout.run_github(&github_step(GITHUB[0], "plan", "plan"));
    assert!(
        out.status.success(),
        "the step records the code, a later step fails"
    );
    assert_eq!(checkout.read("github_output"), "exitcode=1\n");
    assert_eq!(
        text(&out.stdout),
        "::error file=access.yaml,line=32,col=14::role \"Editr\" does not exist in space blog (9w3kd0x1mzq4) (did you mean \"Editor\"?)\n",
        "the annotation reaches the log, where GitHub reads it"
    );
    assert_eq!(
        checkout.read("plan.md"),
        "",
        "the comment step then posts the failure note"
    );
}

#[test]
fn the_github_apply_plan_step_writes_the_job_summary() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_github(&github_step(GITHUB[1], "apply", "plan"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=2\n");
    let summary = checkout.read("step_summary");
    assert!(
        summary.starts_with("<!-- contentful-access:plan"),
        "{summary}"
    );
    assert!(
        summary.contains("2 to add, 2 to change, 1 to remove"),
        "{summary}"
    );

    // A refused plan stops the job before apply.
    let refusing = read("examples/access.yaml").replacen("max_removals: 10%", "max_removals: 0", 1);
    let checkout = Checkout::new(&refusing);
    let out = checkout.run_github(&github_step(GITHUB[1], "apply", "plan"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=3\n");
}

#[test]
fn the_plan_comment_replaces_the_earlier_one_found_by_its_marker() {
    let plan_md = "<!-- contentful-access:plan org=2AcmeDemoOrgSandbox001 -->\n### Contentful access plan: 1 to add, 0 to change, 0 to remove\n";
    let earlier = serde_json::json!([
        { "id": 1, "user": { "type": "User" }, "body": "<!-- contentful-access:plan quoted by a human -->" },
        { "id": 2, "user": { "type": "Bot" }, "body": "<!-- other-bot -->" },
        { "id": 3, "user": { "type": "Bot" }, "body": "<!-- contentful-access:plan org=2AcmeDemoOrgSandbox001 -->\nold plan" },
    ]);
    let Some(calls) = run_comment_script(Some(plan_md), earlier) else {
        return;
    };
    assert_eq!(calls, vec![("update".to_string(), 3, plan_md.to_string())]);

    // No earlier comment: a new one.
    let calls = run_comment_script(Some(plan_md), serde_json::json!([])).unwrap_or_default();
    assert_eq!(calls, vec![("create".to_string(), 7, plan_md.to_string())]);
}

#[test]
fn a_failed_or_huge_plan_still_gets_a_comment_that_fits() {
    let earlier = serde_json::json!([
        { "id": 3, "user": { "type": "Bot" }, "body": "<!-- contentful-access:plan org=x -->\nold plan" },
    ]);
    // No plan (an earlier step failed): the old plan is replaced by a failure note.
    let Some(calls) = run_comment_script(None, earlier.clone()) else {
        return;
    };
    assert_eq!(calls.len(), 1);
    let (kind, id, body) = &calls[0];
    assert_eq!((kind.as_str(), *id), ("update", 3));
    assert!(
        body.starts_with(
            "<!-- contentful-access:plan error -->\n### Contentful access plan failed"
        ),
        "{body}"
    );
    assert!(
        body.contains("https://github.com/acme/access/actions/runs/42"),
        "{body}"
    );

    // Larger than a comment may be: cut, the details block closed, the artifact named.
    let huge = format!(
        "<!-- contentful-access:plan org=x -->\n<details><summary>Show the plan</summary>\n\n```diff\n{}",
        "+   user someone@acme.example\n".repeat(3000)
    );
    let calls = run_comment_script(Some(&huge), earlier).unwrap_or_default();
    let body = &calls[0].2;
    assert!(body.chars().count() <= 65_536, "{}", body.len());
    assert!(body.starts_with("<!-- contentful-access:plan org=x -->"));
    assert!(
        body.contains("\n```\n\n</details>\n"),
        "the code block and details are closed"
    );
    assert!(body.ends_with("the full plan is the `plan` artifact of [this run](https://github.com/acme/access/actions/runs/42)._\n"), "{}", &body[body.len() - 200..]);
}

#[test]
fn the_github_drift_step_fails_on_drift_and_writes_the_summary() {
    let script = github_step(GITHUB[2], "drift", "Detect drift");
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = checkout.run_github(&script);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let summary = checkout.read("step_summary");
    assert!(
        summary.starts_with("<!-- contentful-access:drift org=2AcmeDemoOrgSandbox001 -->"),
        "{summary}"
    );
    assert!(
        summary.contains("bob@acme.example in space marketing"),
        "{summary}"
    );

    let checkout = Checkout::new(&exported_demo_file());
    let out = checkout.run_github(&script);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(checkout.read("step_summary").contains("No access drift"));
}

#[test]
fn the_github_apply_job_applies_the_reviewed_plan_and_journals_it() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review();
    let apply = checkout.github_merge(&[]);
    assert!(apply.status.success(), "{}", text(&apply.stderr));
    assert!(
        !checkout.journal().is_empty(),
        "the journal records the writes"
    );
}

#[test]
fn the_github_apply_job_refuses_what_nobody_reviewed() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review();
    // main moved on after the review: the merged file asks for one more person.
    std::fs::write(
        checkout.path("access.yaml"),
        with_new_person(&read("examples/access.yaml")),
    )
    .expect("write");
    let apply = checkout.github_merge(&[]);
    assert_eq!(apply.status.code(), Some(3), "{}", text(&apply.stderr));
    let err = text(&apply.stderr);
    assert!(
        err.contains("invite new.person@acme.example as member): not reviewed"),
        "{err}"
    );
    assert!(
        !checkout.path("journal.jsonl").exists(),
        "nothing was written"
    );
}

#[test]
fn the_github_apply_job_without_a_reviewed_plan_refuses_unless_told_otherwise() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let apply = checkout.github_merge(&[("APPLY_UNREVIEWED", "")]);
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        text(&apply.stdout).starts_with("::error::No reviewed plan"),
        "{}",
        text(&apply.stdout)
    );
    assert!(!checkout.path("journal.jsonl").exists());

    // Run by hand with apply-unreviewed: the fresh plan is applied, with a warning.
    let apply = checkout.github_merge(&[("APPLY_UNREVIEWED", "true")]);
    assert!(apply.status.success(), "{}", text(&apply.stderr));
    assert!(text(&apply.stdout).starts_with("::warning::Applying the plan above"));
    assert!(!checkout.journal().is_empty());
}

#[test]
fn the_github_apply_job_fetches_the_artifact_plan_yml_uploads_for_the_merged_commit() {
    let plan = parse(&read(GITHUB[0])).expect("YAML");
    let upload = get(&plan, &["jobs", "plan", "steps"])
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == "Upload plan.json")
        .expect("the upload step")
        .clone();
    assert_eq!(
        upload["with"]["name"],
        "plan-${{ github.event.pull_request.head.sha }}"
    );
    let apply = parse(&read(GITHUB[1])).expect("YAML");
    let steps = get(&apply, &["jobs", "apply", "steps"])
        .as_array()
        .expect("steps")
        .clone();
    let download = steps
        .iter()
        .find(|s| s["name"] == "Download the reviewed plan")
        .expect("the download step");
    assert_eq!(
        download["with"]["name"],
        "${{ steps.reviewed.outputs.artifact }}"
    );
    assert_eq!(download["with"]["path"], "reviewed");
    assert_eq!(get(&apply, &["permissions", "actions"]), "read");

    // The lookup script, under node with GitHub's client stood in for.
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node is not installed: the lookup script is not exercised");
        return;
    }
    let script = steps
        .iter()
        .find(|s| s["id"] == "reviewed")
        .and_then(|s| s["with"]["script"].as_str())
        .expect("the lookup script")
        .to_string();
    let harness = r#"
const fs = require('fs');
const [pulls, runs] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3])];
const out = {};
const github = { rest: {
  repos: { listPullRequestsAssociatedWithCommit: async (a) => {
    if (a.commit_sha !== 'merge123') throw new Error('wrong commit'); return { data: pulls }; } },
  actions: { listWorkflowRuns: async (a) => {
    if (a.workflow_id !== 'plan.yml' || a.head_sha !== 'head456') throw new Error('wrong run query ' + JSON.stringify(a));
    return { data: { workflow_runs: runs } }; } },
} };
const core = { setOutput: (k, v) => { out[k] = v; }, notice: () => {} };
const context = { sha: 'merge123', repo: { owner: 'acme', repo: 'access' } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', 'process', fs.readFileSync('script.js', 'utf8'))(github, context, core, { env: { PLAN_WORKFLOW: 'plan.yml' } })
  .then(() => console.log(JSON.stringify(out)))
  .catch((e) => { console.error(e); process.exit(1); });
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("script.js"), script).expect("write");
    std::fs::write(dir.path().join("harness.js"), harness).expect("write");
    let lookup = |pulls: Value, runs: Value| -> Value {
        let out = Command::new("node")
            .arg("harness.js")
            .arg(pulls.to_string())
            .arg(runs.to_string())
            .current_dir(dir.path())
            .output()
            .expect("node runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("outputs")
    };
    let merged = serde_json::json!([{ "number": 7, "merged_at": "2026-12-01T10:00:00Z", "head": { "sha": "head456" } }]);
    // The newest successful run of the head commit: a failed (refused) run is skipped.
    let found = lookup(
        merged.clone(),
        serde_json::json!([{ "id": 9, "conclusion": "failure" }, { "id": 8, "conclusion": "success" }]),
    );
    assert_eq!(
        found,
        serde_json::json!({ "run-id": "8", "artifact": "plan-head456" })
    );
    // No successful plan run, or no merged pull request: no reviewed plan.
    assert_eq!(
        lookup(
            merged,
            serde_json::json!([{ "id": 9, "conclusion": "failure" }])
        ),
        serde_json::json!({})
    );
    assert_eq!(
        lookup(serde_json::json!([]), serde_json::json!([])),
        serde_json::json!({})
    );
}
