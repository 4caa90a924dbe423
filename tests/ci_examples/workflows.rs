//! Every example workflow parses and calls only subcommands and flags that exist, and keeps the
//! properties the walk-through promises (plan comment marker, one apply at a time, nightly drift).

use super::*;

#[test]
fn the_shell_reader_finds_commands_and_only_commands() {
    let script = "set -e\n\
        # contentful-access plan in a comment is not a call\n\
        code=0\n\
        contentful-access plan -c access.yaml --format markdown \\\n  --out plan.json > plan.md || code=$?\n\
        echo \"contentful-access apply is text\" | tee x\n\
        if [ \"$code\" -eq 2 ]; then contentful-access apply plan.json --auto-approve; fi\n\
        cargo install --locked contentful-access\n\
        out=$(contentful-access --color never drift -c 'my file.yaml')\n\
        CONTENTFUL_ACCESS_CONFIG=a.yaml contentful-access validate";
    let found = invocations_in(script);
    let as_strs: Vec<Vec<&str>> = found
        .iter()
        .map(|a| a.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        as_strs,
        vec![
            vec![
                "plan",
                "-c",
                "access.yaml",
                "--format",
                "markdown",
                "--out",
                "plan.json"
            ],
            vec!["apply", "plan.json", "--auto-approve"],
            vec!["--color", "never", "drift", "-c", "my file.yaml"],
            vec!["validate"],
        ]
    );
}

#[test]
fn workflows_parse_and_call_only_subcommands_and_flags_that_exist() {
    let mut helps = Helps::new();
    let expected: [(&str, &[&str]); 4] = [
        (GITHUB[0], &["validate", "plan"]),
        (GITHUB[1], &["plan", "apply", "apply"]),
        (GITHUB[2], &["drift"]),
        (GITLAB, &["plan", "plan", "apply", "apply", "drift"]),
    ];
    for (path, subcommands) in expected {
        let workflow = parse(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"));
        let mut called =
            check_workflow(&mut helps, &workflow).unwrap_or_else(|e| panic!("{path}: {e}"));
        // Jobs come in key order, not file order.
        called.sort();
        let mut expected = subcommands.to_vec();
        expected.sort();
        assert_eq!(called, expected, "{path} calls these subcommands");
    }
}

#[test]
fn a_broken_copy_of_a_workflow_is_rejected() {
    let mut helps = Helps::new();
    let original = read(GITHUB[0]);
    assert!(check_workflow(&mut helps, &parse(&original).expect("YAML")).is_ok());
    let broken = [
        (
            "--detailed-exitcode",
            "--detailed-exit-code",
            "--detailed-exit-code",
        ),
        (
            "--format markdown",
            "--format md",
            "`--format md` is not one of",
        ),
        ("--format markdown", "--formats markdown", "--formats"),
        (
            "contentful-access plan -c",
            "contentful-access plna -c",
            "unknown subcommand `plna`",
        ),
        ("plan -c access.yaml", "plan -C access.yaml", "`-C`"),
    ];
    for (from, to, complaint) in broken {
        assert!(original.contains(from), "the example uses {from}");
        let copy = original.replacen(from, to, 1);
        let err = check_workflow(&mut helps, &parse(&copy).expect("YAML"))
            .expect_err(&format!("a copy with `{to}` must be rejected"));
        assert!(err.contains(complaint), "{err}");
    }
    // Broken YAML is rejected too.
    assert!(parse(&original.replacen("jobs:", "jobs: [", 1)).is_err());
}

#[test]
fn drift_and_apply_examples_use_their_documented_flags() {
    // The same check for the other two workflows, through a deliberately wrong flag each.
    let mut helps = Helps::new();
    for (path, from, to, flag) in [
        (GITHUB[1], "--auto-approve", "--yes", "--yes"),
        (GITHUB[1], "--journal", "--log", "--log"),
        (GITHUB[2], "drift -c", "drift --file", "--file"),
        (GITLAB, "--journal", "--journal-file", "--journal-file"),
    ] {
        let text = read(path);
        assert!(text.contains(from), "{path} uses {from}");
        let copy = text.replacen(from, to, 1);
        let err = check_workflow(&mut helps, &parse(&copy).expect("YAML"))
            .expect_err(&format!("{path} with `{to}` must be rejected"));
        assert!(
            err.contains(&format!("does not list the flag `{flag}`")),
            "{err}"
        );
    }
}

#[test]
fn two_applies_never_overlap() {
    let apply = parse(&read(GITHUB[1])).expect("YAML");
    assert_eq!(get(&apply, &["on", "push", "branches"])[0], "main");
    assert_eq!(
        get(&apply, &["concurrency", "group"]),
        "contentful-access-apply"
    );
    assert_eq!(get(&apply, &["concurrency", "cancel-in-progress"]), false);
    let steps = get(&apply, &["jobs", "apply", "steps"]);
    assert!(
        steps_using(steps, "actions/upload-artifact")
            .iter()
            .any(|s| s["with"]["path"]
                .as_str()
                .is_some_and(|p| p.contains("journal.jsonl"))
                && s["if"] == "always()")
    );

    let gitlab = parse(&read(GITLAB)).expect("YAML");
    assert_eq!(
        get(&gitlab, &["apply", "resource_group"]),
        "contentful-access-apply"
    );
    assert!(
        get(&gitlab, &["apply", "artifacts", "paths"])
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "journal.jsonl"))
    );
}

#[test]
fn drift_runs_nightly_and_fails_the_job() {
    let drift = parse(&read(GITHUB[2])).expect("YAML");
    let cron = get(&drift, &["on", "schedule"])[0]["cron"]
        .as_str()
        .expect("a cron schedule");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert_eq!(
        &cron.split_whitespace().collect::<Vec<_>>()[2..],
        ["*", "*", "*"]
    );
    assert!(get(&drift, &["on"]).get("workflow_dispatch").is_some());
    let run = scripts(&drift).join("\n");
    assert!(run.contains(">> \"$GITHUB_STEP_SUMMARY\""), "{run}");
    assert!(
        run.contains("exit \"$code\""),
        "the drift exit code fails the job"
    );

    let gitlab = parse(&read(GITLAB)).expect("YAML");
    assert_eq!(
        get(&gitlab, &["drift", "rules"])[0]["if"],
        "$CI_PIPELINE_SOURCE == \"schedule\""
    );
}
