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

use crate::util::{cli, demo_plan, root, text};

mod action;
mod cli;
mod github;
mod gitlab;
mod workflows;

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

// ---------------------------------------------------------------------------------------------
// What the workflows promise.

pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| &v[*key])
}

/// The steps (of a job's or an action's `steps`) that use `action` (`actions/upload-artifact`).
pub(crate) fn steps_using<'a>(steps: &'a Value, action: &str) -> Vec<&'a Value> {
    steps
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .collect()
}

/// The script of the `actions/github-script` step among `steps`.
pub(crate) fn script_of(steps: &Value) -> String {
    steps_using(steps, "actions/github-script")
        .first()
        .and_then(|s| s["with"]["script"].as_str())
        .expect("a github-script step")
        .to_string()
}

/// The first line `plan --format markdown` prints for the demo org.
fn markdown_marker_line() -> String {
    let out = demo_plan(&["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout).lines().next().unwrap_or("").to_string()
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

// ---------------------------------------------------------------------------------------------
// completions and man.

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
    let script = script_of(get(&workflow, &["jobs", "plan", "steps"]));
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
