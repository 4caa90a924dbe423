//! The CI examples under `examples/ci/` are checked against the real binary: every workflow parses
//! as YAML, every `contentful-access` invocation in a script names a subcommand that exists and
//! flags (and enum values) its `--help` lists; the workflows keep the properties the walk-through
//! promises (plan comment marker, one apply at a time, nightly drift failing the job). Also here:
//! GitHub annotations for config errors appear only under GitHub Actions, per command that loads
//! the access file, and the `completions` / `man` subcommands. The reusable action (`action.yml`)
//! and the release workflow are checked the same way, and against each other: the action installs
//! exactly the archives the release publishes, and runs the plan comment script the example runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{cli, root, text};

const BIN: &str = env!("CARGO_BIN_EXE_contentful-access");

/// The example workflows, by path relative to the project root.
const GITHUB: [&str; 3] = [
    "examples/ci/github/plan.yml",
    "examples/ci/github/apply.yml",
    "examples/ci/github/drift.yml",
];
const GITLAB: &str = "examples/ci/gitlab/.gitlab-ci.yml";

pub(crate) fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

pub(crate) fn parse(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Finding the invocations in the scripts of a workflow.

/// The shell scripts of a workflow: the strings under `run` (GitHub) and `script`,
/// `before_script`, `after_script` (GitLab). Inputs of actions (`with:`) are not shell.
pub(crate) fn scripts(value: &Value) -> Vec<String> {
    fn walk(value: &Value, in_script: bool, out: &mut Vec<String>) {
        match value {
            Value::String(s) if in_script => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, in_script, out)),
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "with" {
                        continue;
                    }
                    let script_key = matches!(
                        key.as_str(),
                        "run" | "script" | "before_script" | "after_script"
                    );
                    walk(v, in_script || script_key, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, false, &mut out);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    /// A shell operator or redirection: `;`, `&&`, `|`, `>`, `(`, newline, …
    Op,
}

/// Splits a shell script into words and operators: enough shell for CI scripts (quotes,
/// comments, line continuations, `$(…)`), not a full parser.
fn shell_tokens(script: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                tokens.push(Token::Op);
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Op);
            }
            ';' | '|' | '&' | '>' | '<' | '(' | ')' | '\n' => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Op);
            }
            c if c.is_whitespace() => flush(&mut word, &mut in_word, &mut tokens),
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut tokens);
    tokens
}

/// Every `contentful-access …` command in a script, as its arguments (up to the first operator
/// or redirection). A command is a word at the start of a simple command, after any `VAR=value`
/// assignments and keywords like `then`.
pub(crate) fn invocations_in(script: &str) -> Vec<Vec<String>> {
    let tokens = shell_tokens(script);
    let mut found = Vec::new();
    let mut at_start = true;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Op => at_start = true,
            Token::Word(w) if at_start => {
                let keyword = matches!(
                    w.as_str(),
                    "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "time"
                );
                let assignment = w.contains('=') && !w.starts_with('-');
                if w == "contentful-access" {
                    let mut args = Vec::new();
                    i += 1;
                    while let Some(Token::Word(arg)) = tokens.get(i) {
                        args.push(arg.clone());
                        i += 1;
                    }
                    found.push(args);
                    at_start = false;
                    continue;
                }
                at_start = keyword || assignment;
            }
            Token::Word(_) => {}
        }
        i += 1;
    }
    found
}

fn invocations(workflow: &Value) -> Vec<Vec<String>> {
    scripts(workflow)
        .iter()
        .flat_map(|s| invocations_in(s))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checking an invocation against `--help`.

/// `--help` of the binary (empty path) or of one subcommand, cached; `Err` when it fails.
pub(crate) struct Helps(HashMap<String, Result<String, String>>);

impl Helps {
    pub(crate) fn new() -> Self {
        Helps(HashMap::new())
    }

    pub(crate) fn get(&mut self, subcommand: Option<&str>) -> Result<String, String> {
        let key = subcommand.unwrap_or("").to_string();
        self.0
            .entry(key)
            .or_insert_with(|| {
                let mut args: Vec<&str> = subcommand.into_iter().collect();
                args.push("--help");
                let out = cli(&args, &[]);
                if out.status.success() {
                    Ok(text(&out.stdout))
                } else {
                    Err(text(&out.stderr))
                }
            })
            .clone()
    }
}

/// Whether `help` lists `flag` as an option (`  -c, --config <FILE>`), not just as a substring
/// of a longer flag.
pub(crate) fn lists_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let before = help[..at].chars().next_back();
        let after = help[at + flag.len()..].chars().next();
        before.is_none_or(|c| c.is_whitespace() || c == '[')
            && after.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
    })
}

/// The possible values `--help` documents for `flag`, if it has any.
fn possible_values(help: &str, flag: &str) -> Vec<String> {
    let lines: Vec<&str> = help.lines().collect();
    let is_option_line = |l: &str| {
        let t = l.trim_start();
        t.starts_with("--")
            || (t.len() >= 3
                && t.starts_with('-')
                && t.as_bytes()[1].is_ascii_alphanumeric()
                && matches!(t.as_bytes()[2], b',' | b' '))
    };
    let Some(start) = lines
        .iter()
        .position(|l| is_option_line(l) && lists_flag(l, flag))
    else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for line in lines[start + 1..].iter().take_while(|l| !is_option_line(l)) {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("- ") {
            if let Some((value, _)) = rest.split_once(':') {
                values.push(value.trim().to_string());
            }
        } else if let Some(rest) = t.strip_prefix("[possible values: ") {
            values.extend(
                rest.trim_end_matches(']')
                    .split(',')
                    .map(|v| v.trim().to_string()),
            );
        }
    }
    values
}

/// Checks one invocation: the subcommand exists, every flag is listed by its `--help`, and a
/// flag with documented possible values gets one of them.
pub(crate) fn check_invocation(helps: &mut Helps, args: &[String]) -> Result<(), String> {
    let shown = format!("contentful-access {}", args.join(" "));
    let first_positional = args.iter().position(|a| !a.starts_with('-'));
    let Some(sub_at) = first_positional else {
        return Err(format!("`{shown}`: no subcommand"));
    };
    let subcommand = args[sub_at].as_str();
    let top = helps.get(None)?;
    let sub = helps
        .get(Some(subcommand))
        .map_err(|e| format!("`{shown}`: unknown subcommand `{subcommand}`: {e}"))?;
    for (i, arg) in args.iter().enumerate() {
        if !arg.starts_with('-') || arg == "-" {
            continue;
        }
        if arg == "--" {
            break;
        }
        let (flag, inline_value) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let help = if i < sub_at { &top } else { &sub };
        if !lists_flag(help, flag) {
            return Err(format!(
                "`{shown}`: `{subcommand} --help` does not list the flag `{flag}`"
            ));
        }
        let value =
            inline_value.or_else(|| args.get(i + 1).filter(|v| !v.starts_with('-')).cloned());
        let allowed = possible_values(help, flag);
        if let Some(value) = value
            && !allowed.is_empty()
            && !allowed.contains(&value)
        {
            return Err(format!(
                "`{shown}`: `{flag} {value}` is not one of {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// Checks every invocation of a workflow; returns the subcommands it calls.
pub(crate) fn check_workflow(helps: &mut Helps, workflow: &Value) -> Result<Vec<String>, String> {
    let calls = invocations(workflow);
    let mut subcommands = Vec::new();
    for args in &calls {
        check_invocation(helps, args)?;
        if let Some(sub) = args.iter().find(|a| !a.starts_with('-')) {
            subcommands.push(sub.clone());
        }
    }
    Ok(subcommands)
}

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

// ---------------------------------------------------------------------------------------------
// What the workflows promise.

pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| &v[*key])
}

/// The first line `plan --format markdown` prints for the demo org.
fn markdown_marker_line() -> String {
    let out = cli(
        &[
            "plan",
            "-c",
            "examples/access.yaml",
            "--sandbox",
            "--format",
            "markdown",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout).lines().next().unwrap_or("").to_string()
}

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
    let steps = get(&plan, &["jobs", "plan", "steps"])
        .as_array()
        .expect("steps");
    assert!(steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/upload-artifact"))
            && s["with"]["path"]
                .as_str()
                .is_some_and(|p| p.contains("plan.json"))
    }));
    assert_eq!(
        get(
            &plan,
            &["jobs", "plan", "env", "CONTENTFUL_MANAGEMENT_TOKEN"]
        ),
        "${{ secrets.CONTENTFUL_MANAGEMENT_TOKEN }}"
    );
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
    let steps = get(&apply, &["jobs", "apply", "steps"])
        .as_array()
        .expect("steps");
    assert!(steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/upload-artifact"))
            && s["with"]["path"]
                .as_str()
                .is_some_and(|p| p.contains("journal.jsonl"))
            && s["if"] == "always()"
    }));

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

// ---------------------------------------------------------------------------------------------
// GitHub annotations, per command that loads the access file.

/// An access file whose role name does not exist in a space (found only when planning), and a
/// file that is invalid on its own.
fn broken_files(dir: &Path) -> (PathBuf, PathBuf) {
    let typo = dir.join("typo.yaml");
    let example = read("examples/access.yaml");
    assert!(example.contains("blog: [Editor]"));
    std::fs::write(
        &typo,
        example.replacen("blog: [Editor]", "blog: [Editr]", 1),
    )
    .expect("write");
    let invalid = dir.join("invalid.yaml");
    std::fs::write(
        &invalid,
        "version: 2\norganization: 2AcmeDemoOrgSandbox001\n",
    )
    .expect("write");
    (typo, invalid)
}

#[test]
fn plan_annotates_config_errors_only_under_github_actions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (typo, invalid) = broken_files(dir.path());
    let typo = typo.to_str().expect("utf-8 path");
    let invalid = invalid.to_str().expect("utf-8 path");

    let args = ["plan", "-c", typo, "--sandbox", "--format", "markdown"];
    let out = cli(&args, &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        format!(
            "::error file={typo},line=32,col=14::role \"Editr\" does not exist in space blog (9w3kd0x1mzq4) (did you mean \"Editor\"?)\n"
        )
    );
    assert!(text(&out.stderr).contains(&format!("--> {typo}:32:14")));
    for env in [&[][..], &[("GITHUB_ACTIONS", "false")][..]] {
        let out = cli(&args, env);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stdout),
            "",
            "no annotations outside GitHub Actions"
        );
        assert!(text(&out.stderr).contains("did you mean \"Editor\"?"));
    }

    let args = ["plan", "-c", invalid, "--sandbox"];
    let out = cli(&args, &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with(&format!("::error file={invalid},line=1,col=10::")),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&cli(&args, &[]).stdout), "");
}

// ---------------------------------------------------------------------------------------------
// completions and man.

#[test]
fn completions_cover_every_subcommand_in_each_shell() {
    let top = text(&cli(&["--help"], &[]).stdout);
    let subcommands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .collect();
    assert!(subcommands.contains(&"plan") && subcommands.contains(&"completions"));
    for shell in ["bash", "zsh", "fish"] {
        let out = cli(&["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let script = text(&out.stdout);
        for sub in &subcommands {
            assert!(script.contains(sub), "{shell} completions miss {sub}");
        }
        assert!(
            script.contains("detailed-exitcode"),
            "{shell}: plan's flags"
        );
    }
    assert!(text(&cli(&["completions", "bash"], &[]).stdout).contains("complete -F"));
    assert!(
        text(&cli(&["completions", "zsh"], &[]).stdout).starts_with("#compdef contentful-access")
    );
    let out = cli(&["completions", "tcsh"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_prints_a_roff_page_and_writes_one_per_subcommand() {
    let out = cli(&["man"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(page.contains(".TH contentful-access 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS") && page.contains(".SH SUBCOMMANDS"));
    assert!(page.contains("contentful\\-access\\-plan(1)"), "{page}");
    // The exit codes CI branches on are in the manual, before VERSION (man-pages(7) order).
    let exit_status = page
        .find(".SH \"EXIT STATUS\"")
        .expect("an EXIT STATUS section");
    for code in ["\\fB0\\fR", "\\fB1\\fR", "\\fB2\\fR", "\\fB3\\fR"] {
        assert!(
            page[exit_status..].contains(code),
            "exit code {code}: {page}"
        );
    }
    assert!(
        page[exit_status..].contains("Refused by a guardrail"),
        "{page}"
    );
    if let Some(version) = page.find(".SH VERSION") {
        assert!(exit_status < version, "{page}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join("man1");
    let out = cli(&["man", "--out-dir", out_dir.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan =
        std::fs::read_to_string(out_dir.join("contentful-access-plan.1")).expect("plan page");
    assert!(plan.contains(".TH contentful-access-plan 1"), "{plan}");
    assert!(plan.contains("\\-\\-detailed\\-exitcode"), "{plan}");
    assert!(plan.contains(".SH \"EXIT STATUS\""), "{plan}");
    assert!(out_dir.join("contentful-access.1").exists());
    assert_eq!(text(&out.stdout), "", "nothing printed with --out-dir");
}

// ---------------------------------------------------------------------------------------------
// Running the workflow steps themselves, with the sandbox standing in for Contentful.

/// The `run` script of the step with this `id` (or `name`) in a GitHub workflow.
fn github_step(path: &str, job: &str, step: &str) -> String {
    let workflow = parse(&read(path)).expect("YAML");
    let steps = get(&workflow, &["jobs", job, "steps"])
        .as_array()
        .expect("steps")
        .clone();
    steps
        .iter()
        .find(|s| s["id"] == step || s["name"] == step)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("{path}: no step {step} with a run script"))
        .to_string()
}

/// A directory laid out like a CI checkout: `access.yaml` (the given text) and a `bin/` whose
/// `contentful-access` is the real binary with `--sandbox` added to the commands that talk to an
/// organization, so a workflow's script runs unchanged against the built-in demo org.
struct Checkout {
    dir: tempfile::TempDir,
}

impl Checkout {
    fn new(access_yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("access.yaml"), access_yaml).expect("write");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("mkdir");
        let shim = bin.join("contentful-access");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\nsub=\"$1\"; shift\ncase \"$sub\" in\n  plan|apply|drift) exec '{BIN}' \"$sub\" \"$@\" --sandbox ;;\n  *) exec '{BIN}' \"$sub\" \"$@\" ;;\nesac\n"
            ),
        )
        .expect("write shim");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Checkout { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// Runs a script the way GitHub Actions runs `run:` (`bash -e`), with GitHub's files.
    fn run_github(&self, script: &str) -> Output {
        self.run_github_with(script, &[])
    }

    /// [`Checkout::run_github`] with a step's `env:`.
    fn run_github_with(&self, script: &str, envs: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .envs(envs.iter().copied())
            .arg("-e")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("GITHUB_STEP_SUMMARY", self.path("step_summary"))
            .env("NO_COLOR", "1")
            .env_remove("CONTENTFUL_ACCESS_CONFIG")
            .env_remove("CONTENTFUL_MANAGEMENT_TOKEN")
            .output()
            .expect("bash runs")
    }
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

/// Runs the `actions/github-script` step of plan.yml under node with a recording stand-in for
/// GitHub's REST client, in a directory holding `plan_md` as `plan.md` (or none), with these
/// earlier comments on the pull request. Returns the calls it made as `(kind, id, body)`.
/// `None` when node is not installed.
fn run_comment_script(plan_md: Option<&str>, earlier: Value) -> Option<Vec<(String, u64, String)>> {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node is not installed: the comment script is not exercised");
        return None;
    }
    let workflow = parse(&read(GITHUB[0])).expect("YAML");
    let script = get(&workflow, &["jobs", "plan", "steps"])
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/github-script"))
        })
        .and_then(|s| s["with"]["script"].as_str())
        .expect("a github-script step")
        .to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(md) = plan_md {
        std::fs::write(dir.path().join("plan.md"), md).expect("write");
    }
    std::fs::write(dir.path().join("script.js"), script).expect("write");
    let harness = r#"
const fs = require('fs');
const earlier = JSON.parse(process.argv[2]);
const calls = [];
const github = {
  paginate: async (method, args) => (await method(args)).data,
  rest: { issues: {
    listComments: async (a) => { if (a.issue_number !== 7) throw new Error('wrong PR'); return { data: earlier }; },
    updateComment: async (a) => { calls.push(['update', a.comment_id, a.body]); },
    createComment: async (a) => { calls.push(['create', a.issue_number, a.body]); },
  } },
};
const context = { serverUrl: 'https://github.com', repo: { owner: 'acme', repo: 'access' }, runId: 42, issue: { number: 7 } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'require', fs.readFileSync('script.js', 'utf8'))(github, context, require)
  .then(() => console.log(JSON.stringify(calls)))
  .catch((e) => { console.error(e); process.exit(1); });
"#;
    std::fs::write(dir.path().join("harness.js"), harness).expect("write");
    let out = Command::new("node")
        .arg("harness.js")
        .arg(earlier.to_string())
        .current_dir(dir.path())
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls: Vec<(String, u64, String)> =
        serde_json::from_slice(&out.stdout).expect("the recorded calls");
    Some(calls)
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

/// The `script` of a GitLab job as one bash script, the way the runner runs it (`set -eo
/// pipefail`, lines in order in one shell), without package installs.
fn gitlab_script(job: &str) -> String {
    let workflow = parse(&read(GITLAB)).expect("YAML");
    let lines = get(&workflow, &[job, "script"]).as_array().expect("script");
    let mut script = String::from("set -eo pipefail\n");
    for line in lines {
        let line = line.as_str().expect("a script line");
        if !line.starts_with("apt-get") {
            script.push_str(line);
            script.push('\n');
        }
    }
    script
}

impl Checkout {
    /// Runs a GitLab job script with a `curl` stand-in that logs each call (one line of
    /// arguments, plus the note body it would send) and answers GETs with `notes`.
    fn run_gitlab(&self, script: &str, notes: &Value) -> Output {
        std::fs::write(self.path("notes.json"), notes.to_string()).expect("write");
        let curl = self.path("bin").join("curl");
        std::fs::write(
            &curl,
            "#!/bin/sh\necho \"curl $*\" >> curl.log\ncase \"$*\" in\n  *--request*) for a in \"$@\"; do case \"$a\" in body@*) echo \"body: $(head -n 1 \"${a#body@}\")\" >> curl.log ;; esac; done ;;\n  *) cat notes.json ;;\nesac\n",
        )
        .expect("write curl");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&curl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
            .env("CI_API_V4_URL", "https://gitlab.example/api/v4")
            .env("CI_PROJECT_ID", "9")
            .env("CI_MERGE_REQUEST_IID", "5")
            .env("CI_JOB_URL", "https://gitlab.example/acme/access/-/jobs/11")
            .env("GITLAB_API_TOKEN", "glpat-test")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("CONTENTFUL_ACCESS_CONFIG")
            .env_remove("CONTENTFUL_MANAGEMENT_TOKEN")
            .output()
            .expect("bash runs")
    }
}

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
fn every_command_that_reads_the_access_file_annotates_only_under_github_actions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, invalid) = broken_files(dir.path());
    let file = invalid.to_str().expect("utf-8 path");
    let annotation = format!(
        "::error file={file},line=1,col=10::unsupported version `2`: this tool reads version 1\n"
    );
    let commands: [&[&str]; 6] = [
        &["validate", "-c", file],
        &["plan", "-c", file, "--sandbox"],
        &["drift", "-c", file, "--sandbox"],
        &["audit", "-c", file, "--sandbox"],
        &["explain", "jane@acme.example", "-c", file, "--sandbox"],
        &["apply", "-c", file, "--auto-approve", "--sandbox"],
    ];
    for args in commands {
        let shown = args.join(" ");
        let out = cli(args, &[("GITHUB_ACTIONS", "true")]);
        assert_eq!(out.status.code(), Some(1), "{shown}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            annotation,
            "{shown} under GitHub Actions"
        );
        assert!(
            text(&out.stderr).contains("error: unsupported version `2`"),
            "{shown}: {}",
            text(&out.stderr)
        );
        for env in [&[][..], &[("GITHUB_ACTIONS", "false")][..]] {
            let out = cli(args, env);
            assert_eq!(out.status.code(), Some(1), "{shown}");
            assert_eq!(
                text(&out.stdout),
                "",
                "{shown}: no annotations outside GitHub Actions"
            );
        }
    }
}

/// An access file that matches the demo org, made by `export` (what the walk-through starts with).
fn exported_demo_file() -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("access.yaml");
    let out = cli(
        &[
            "export",
            "--org",
            "2AcmeDemoOrgSandbox001",
            "--sandbox",
            "-o",
            file.to_str().expect("utf-8 path"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::read_to_string(file).expect("the exported file")
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

impl Checkout {
    /// The pull request's plan, saved as `reviewed/plan.json` the way apply.yml downloads it:
    /// the plan step of plan.yml run on this checkout's `access.yaml`.
    fn review(&self) {
        let out = self.run_github(&github_step(GITHUB[0], "plan", "plan"));
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::create_dir_all(self.path("reviewed")).expect("mkdir");
        std::fs::rename(self.path("plan.json"), self.path("reviewed/plan.json")).expect("move");
        for f in ["plan.md", "github_output"] {
            let _ = std::fs::remove_file(self.path(f));
        }
    }

    /// apply.yml's plan and Apply steps, with the Apply step's `env:`. Returns the Apply step's
    /// output.
    fn github_merge(&self, envs: &[(&str, &str)]) -> Output {
        let _ = std::fs::remove_file(self.path("github_output"));
        let plan = self.run_github(&github_step(GITHUB[1], "apply", "plan"));
        assert!(plan.status.success(), "{}", text(&plan.stderr));
        assert_eq!(self.read("github_output"), "exitcode=2\n");
        self.run_github_with(&github_step(GITHUB[1], "apply", "Apply"), envs)
    }

    fn journal(&self) -> Vec<Value> {
        self.read("journal.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

/// The demo access file with one more user, whom nobody reviewed.
fn with_new_person(yaml: &str) -> String {
    format!("{yaml}  new.person@acme.example:\n    name: New Person\n    teams: [editors]\n")
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

impl Checkout {
    /// Runs GitLab's apply job with a `curl` stand-in for GitLab's API: the merged MR !5 at
    /// `head456`, its successful `plan` job 88, whose artifact `plan.json` is `reviewed-plan.json`
    /// of this checkout (none: the commit belongs to no merged MR).
    fn run_gitlab_apply(&self, extra: &[(&str, &str)]) -> Output {
        let curl = self.path("bin").join("curl");
        std::fs::write(
            &curl,
            r#"#!/bin/sh
echo "curl $*" >> curl.log
out=""; url=""
while [ $# -gt 0 ]; do case "$1" in --output) out="$2"; shift ;; http*) url="$1" ;; esac; shift; done
case "$url" in
  */repository/commits/merge123/merge_requests) if [ -f reviewed-plan.json ]; then echo '[{"iid":5,"sha":"head456","state":"merged"}]'; else echo '[]'; fi ;;
  */merge_requests/5/pipelines) echo '[{"id":78,"sha":"other"},{"id":77,"sha":"head456"}]' ;;
  */pipelines/77/jobs*) echo '[{"id":87,"name":"validate"},{"id":88,"name":"plan"}]' ;;
  */jobs/88/artifacts/plan.json) cp reviewed-plan.json "$out" ;;
  *) echo "unexpected $url" >&2; exit 22 ;;
esac
"#,
        )
        .expect("write curl");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&curl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .arg("-c")
            .arg(gitlab_script("apply"))
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("CI_API_V4_URL", "https://gitlab.example/api/v4")
            .env("CI_PROJECT_ID", "9")
            .env("CI_COMMIT_SHA", "merge123")
            .env("GITLAB_API_TOKEN", "glpat-test")
            .env("NO_COLOR", "1")
            .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
            .envs(extra.iter().copied())
            .env_remove("GITHUB_ACTIONS")
            .env_remove("CONTENTFUL_ACCESS_CONFIG")
            .env_remove("CONTENTFUL_MANAGEMENT_TOKEN")
            .output()
            .expect("bash runs")
    }

    /// The merge request's plan, as GitLab's plan job keeps it: `reviewed-plan.json`.
    fn review_gitlab(&self) {
        let out = Command::new(self.path("bin").join("contentful-access"))
            .args([
                "plan",
                "-c",
                "access.yaml",
                "--output",
                "reviewed-plan.json",
            ])
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
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

// ---------------------------------------------------------------------------------------------
// The reusable action (action.yml) and the release workflow that publishes what it installs.

const ACTION: &str = "action.yml";
const RELEASE: &str = ".github/workflows/release.yml";

/// The step of the action with this `id`.
fn action_step(id: &str) -> Value {
    let action = parse(&read(ACTION)).expect("action.yml is YAML");
    get(&action, &["runs", "steps"])
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("action.yml: no step {id}"))
        .clone()
}

/// The targets the release workflow builds, in matrix order.
fn release_targets() -> Vec<String> {
    let release = parse(&read(RELEASE)).expect("release.yml is YAML");
    get(
        &release,
        &["jobs", "build", "strategy", "matrix", "include"],
    )
    .as_array()
    .expect("a build matrix")
    .iter()
    .map(|e| e["target"].as_str().expect("a target").to_string())
    .collect()
}

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
    let script_of = |steps: &Value| {
        steps
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/github-script"))
            })
            .and_then(|s| s["with"]["script"].as_str())
            .expect("a github-script step")
            .to_string()
    };
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

/// Runs a `run` step of the action the way the runner does, with its `env` (inputs at their
/// defaults) and the sandbox shim on `PATH`.
fn run_action_step(checkout: &Checkout, id: &str) -> Output {
    run_action_step_reviewed(checkout, id, "")
}

/// [`run_action_step`] with the `reviewed` input.
fn run_action_step_reviewed(checkout: &Checkout, id: &str, reviewed: &str) -> Output {
    let step = action_step(id);
    let script = step["run"].as_str().expect("a run step");
    let with_inputs =
        format!("export CA_CONFIG=access.yaml CA_ARGS= CA_REVIEWED='{reviewed}'\n{script}");
    checkout.run_github(&with_inputs)
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

#[test]
fn completions_help_shows_each_install_command_whole() {
    let out = cli(&["completions", "--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.lines().all(|l| l.chars().count() <= 100), "{help}");
    // Joined as a shell joins backslash-continued lines, each example is one whole command.
    let joined = help.replace("\\\n", " ");
    let bash = joined
        .lines()
        .find(|l| l.contains("completions bash"))
        .expect("the bash example");
    let words: Vec<&str> = bash.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "contentful-access",
            "completions",
            "bash",
            ">",
            "~/.local/share/bash-completion/completions/contentful-access"
        ],
        "{help}"
    );
}

#[test]
fn verbose_is_offered_only_where_requests_are_made() {
    for sub in ["validate", "schema", "man", "completions"] {
        let help = text(&cli(&[sub, "--help"], &[]).stdout);
        assert!(!lists_flag(&help, "--verbose"), "{sub} --help: {help}");
    }
    for sub in ["plan", "apply", "drift", "export", "audit", "explain"] {
        let help = text(&cli(&[sub, "--help"], &[]).stdout);
        assert!(lists_flag(&help, "--verbose"), "{sub} --help: {help}");
    }
    // Still accepted where it is not offered, so a script passing -v everywhere keeps working.
    let out = cli(&["validate", "-v", "-c", "examples/access.yaml"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
