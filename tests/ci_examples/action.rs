//! The reusable action (`action.yml`) and the release workflow, checked against each other and run
//! against the sandbox.

use super::*;

#[test]
fn the_action_calls_only_subcommands_and_flags_that_exist() {
    let mut helps = Helps::new();
    let action = parse(&read(ACTION)).expect("action.yml is YAML");
    assert_eq!(get(&action, &["runs", "using"]), "composite");
    let mut called =
        check_workflow(&mut helps, &action).unwrap_or_else(|e| panic!("action.yml: {e}"));
    called.sort();
    assert_eq!(called, ["apply", "apply", "drift", "plan", "plan"]);
    // A mistyped flag in the action is caught like one in the examples.
    let text = read(ACTION);
    let copy = text.replacen("--detailed-exitcode", "--detailed-exit-code", 1);
    assert!(check_workflow(&mut helps, &parse(&copy).expect("YAML")).is_err());
    // Every input the steps use is declared, and every declared input is used.
    let inputs = get(&action, &["inputs"]).as_object().expect("inputs");
    for name in inputs.keys() {
        assert!(
            text.contains(&format!("inputs.{name}")),
            "input {name} is unused"
        );
    }
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(inputs.contains_key(&name), "undeclared input {name}");
    }
}

#[test]
fn the_action_comments_with_the_same_script_as_the_plan_example() {
    let action = parse(&read(ACTION)).expect("YAML");
    let plan = parse(&read(GITHUB[0])).expect("YAML");
    let ours = script_of(get(&action, &["runs", "steps"]));
    assert_eq!(
        ours,
        script_of(get(&plan, &["jobs", "plan", "steps"])),
        "the tested comment script of plan.yml is the one the action runs"
    );
    assert!(ours.contains("const marker = '<!-- contentful-access:plan';"));
}

#[test]
fn the_action_installs_exactly_what_the_release_publishes() {
    let targets = release_targets();
    assert_eq!(
        targets.len(),
        5,
        "Linux x86_64 + aarch64, macOS x2, Windows"
    );
    let install = action_step("install")["run"]
        .as_str()
        .expect("install script")
        .to_string();
    // Every runner the action maps maps to a target the release builds, and the reverse.
    let mapped: Vec<&str> = install
        .lines()
        .filter_map(|l| l.trim().split_once(") target="))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or(""))
        .collect();
    let mut a = mapped.clone();
    a.sort();
    let mut b: Vec<&str> = targets.iter().map(String::as_str).collect();
    b.sort();
    assert_eq!(a, b, "the action's runner map and the release matrix");
    // The archive names and the checksum file agree.
    let release = read(RELEASE);
    assert!(release.contains("name=contentful-access-${{ matrix.target }}"));
    assert!(release.contains("cat ./*.sha256 > SHA256SUMS"));
    assert!(install.contains("archive=\"contentful-access-$target.tar.gz\""));
    assert!(install.contains("archive=\"contentful-access-$target.zip\""));
    assert!(install.contains("/SHA256SUMS\""));
    assert!(
        install.contains("sha256sum --check") && install.contains("shasum -a 256 --check"),
        "the download is verified on every runner"
    );
    // The GitLab example downloads one of those archives, checked the same way.
    let gitlab = parse(&read(GITLAB)).expect("YAML");
    let before = get(&gitlab, &[".contentful-access", "before_script"])
        .as_array()
        .expect("before_script")
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(before.contains("target=x86_64-unknown-linux-musl"));
    assert!(before.contains("sha256sum --check"));
    // The release is made on a version tag that must equal Cargo.toml's version.
    let release = parse(&release).expect("YAML");
    assert!(
        get(&release, &["on", "push", "tags"])[0]
            .as_str()
            .is_some_and(|t| t.starts_with('v'))
    );
    assert_eq!(get(&release, &["permissions", "contents"]), "read");
    assert_eq!(
        get(&release, &["jobs", "release", "permissions", "contents"]),
        "write"
    );
}

#[test]
fn every_example_installs_the_released_version_of_this_crate() {
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    for path in GITHUB {
        let workflow = parse(&read(path)).expect("YAML");
        let jobs = get(&workflow, &["jobs"]).as_object().expect("jobs");
        for (job, body) in jobs {
            let steps = body["steps"].as_array().expect("steps");
            let installs: Vec<&str> = steps
                .iter()
                .filter_map(|s| s["uses"].as_str())
                .filter(|u| u.contains("/contentful-access@"))
                .collect();
            assert_eq!(
                installs,
                [format!("OWNER/contentful-access@{version}")],
                "{path} job {job} installs through the action"
            );
        }
        assert!(!read(path).contains("cargo install"), "{path}");
    }
    let gitlab = read(GITLAB);
    assert!(gitlab.contains(&format!("CONTENTFUL_ACCESS_VERSION: {version}")));
    assert!(!gitlab.contains("cargo install"));
}

#[test]
fn the_action_applies_only_what_was_reviewed_when_given_the_reviewed_plan() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review();
    let out = run_action_step_reviewed(&checkout, "apply", "reviewed/plan.json");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!checkout.journal().is_empty());

    let checkout = Checkout::new(&read("examples/access.yaml"));
    checkout.review();
    std::fs::write(
        checkout.path("access.yaml"),
        with_new_person(&read("examples/access.yaml")),
    )
    .expect("write");
    let out = run_action_step_reviewed(&checkout, "apply", "reviewed/plan.json");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not reviewed"));
    assert_eq!(checkout.read("github_output"), "exitcode=3\n");
    assert!(!checkout.path("journal.jsonl").exists());
}

#[test]
fn the_action_plans_applies_and_reports_drift_against_the_sandbox() {
    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = run_action_step(&checkout, "plan");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=2\n");
    assert!(
        checkout
            .read("step_summary")
            .starts_with("<!-- contentful-access:plan org=2AcmeDemoOrgSandbox001")
    );
    assert!(checkout.path("plan.json").exists());

    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = run_action_step(&checkout, "drift");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=2\n");

    let checkout = Checkout::new(&read("examples/access.yaml"));
    let out = run_action_step(&checkout, "apply");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(checkout.read("github_output"), "exitcode=0\n");
    assert!(
        !checkout.read("journal.jsonl").is_empty(),
        "apply journaled"
    );

    let refusing = read("examples/access.yaml").replacen("max_removals: 10%", "max_removals: 0", 1);
    let checkout = Checkout::new(&refusing);
    let out = run_action_step(&checkout, "apply");
    assert_eq!(out.status.code(), Some(3), "a refused plan is not applied");
    assert!(!checkout.path("journal.jsonl").exists());
}
