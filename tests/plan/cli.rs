//! `contentful-access plan` end to end: the real binary against the sandbox (in-process with
//! `--sandbox`, or a sandbox server started here and reached with `--base-url`), one test per exit
//! code, the three formats, `--out`, and the token never showing up anywhere.

use std::process::{Command, Output};

use contentful_access::plan::Plan;
use contentful_access::sandbox::{SandboxOptions, Server, demo_seed};

use crate::util::{cli, root, snap_with, text};

/// Dates in plans and reports are the time of the run.
const DATES: &[(&str, &str)] = &[(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[created]")];

fn snapshot(name: &str, value: &str) {
    snap_with(name, value, DATES, None);
}

#[test]
fn the_readme_demo_shows_the_demo_orgs_differences_and_exits_0() {
    let out = cli(&["plan", "-c", "examples/access.yaml", "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("+ invite as developer, name \"Nina Novak\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ space marketing [Editor] → [Author]"),
        "{stdout}"
    );
    assert!(stdout.contains("priya.raman@acme.example"), "{stdout}");
    assert!(
        stdout.ends_with("Plan: 2 to add, 2 to change, 1 to remove.\n"),
        "{stdout}"
    );
    // Ignored principals are not even reported.
    assert!(!stdout.contains("ci-bot"), "{stdout}");
    snapshot("plan__cli_demo_text", &stdout);
}

#[test]
fn detailed_exitcode_gives_2_for_changes_and_0_when_in_sync() {
    let out = cli(
        &[
            "plan",
            "-c",
            "examples/access.yaml",
            "--sandbox",
            "--detailed-exitcode",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = cli(
        &[
            "plan",
            "-c",
            "tests/plan/in-sync.yaml",
            "--sandbox",
            "--detailed-exitcode",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.ends_with("No changes. Contentful access matches tests/plan/in-sync.yaml.\n"),
        "{stdout}"
    );
}

#[test]
fn a_plan_demoting_the_tokens_own_user_is_refused_with_exit_3() {
    let out = cli(
        &["plan", "-c", "tests/plan/demotes-self.yaml", "--sandbox"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("REFUSED"), "{stdout}");
    assert!(stdout.contains("jane@acme.example"), "{stdout}");
    snapshot("plan__cli_refused_text", &stdout);
}

#[test]
fn a_role_missing_in_a_space_is_an_error_at_its_line_with_a_suggestion() {
    let out = cli(
        &["plan", "-c", "tests/plan/unknown-role.yaml", "--sandbox"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no plan is printed");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tests/plan/unknown-role.yaml:103:"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"Translator\"?"), "{stderr}");
    snapshot("plan__cli_unknown_role", &stderr);
}

#[test]
fn an_invalid_access_file_exits_1_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "version: 2\norganization: x\n").unwrap();
    let out = cli(&["plan", "-c", file.to_str().unwrap(), "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("version"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn json_and_markdown_formats_and_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let out = cli(
        &[
            "plan",
            "-c",
            "examples/access.yaml",
            "--sandbox",
            "--format",
            "json",
            "--out",
            saved.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed: Plan = Plan::from_json(&text(&out.stdout)).unwrap();
    let written: Plan = Plan::from_json(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(printed, written, "--out saves what --format json prints");
    assert_eq!(printed.format_version, 1);
    assert_eq!(printed.organization, "2AcmeDemoOrgSandbox001");
    assert_eq!(printed.counts(), (2, 2, 1));

    let out = crate::util::demo_plan(&["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let md = text(&out.stdout);
    assert!(
        md.starts_with("<!-- contentful-access:plan org=2AcmeDemoOrgSandbox001 -->"),
        "{md}"
    );
    assert!(md.contains("<details>"), "{md}");
    assert!(
        !md.contains('\u{1b}'),
        "markdown never carries colour codes"
    );
    // Every sign the diff block draws in its first column is the one its legend names.
    let block = md
        .split("```diff\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a diff block");
    let legend = block
        .lines()
        .find(|l| l.trim_start().starts_with("Operations ("))
        .expect("the legend");
    let signs: std::collections::BTreeSet<char> = block
        .lines()
        .filter_map(|l| l.chars().next())
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(signs.len(), 3, "add, change and remove lines: {block}");
    for sign in signs {
        let named = ["add", "change", "remove"]
            .iter()
            .any(|word| legend.contains(&format!("{sign} {word}")));
        assert!(named, "the legend `{legend}` does not name `{sign}`");
    }
    snapshot("plan__cli_demo_markdown", &md);
}

#[test]
fn colour_only_when_asked() {
    let out = cli(
        &[
            "plan",
            "-c",
            "examples/access.yaml",
            "--sandbox",
            "--color",
            "always",
        ],
        &[],
    );
    assert!(text(&out.stdout).contains("\u{1b}["));
    let out = cli(&["plan", "-c", "examples/access.yaml", "--sandbox"], &[]);
    assert!(!text(&out.stdout).contains('\u{1b}'));
}

const SECRET: &str = "CFPAT-do-not-leak-0123456789abcdef";

fn assert_no_secret(out: &Output, files: &[&std::path::Path]) {
    assert!(!text(&out.stdout).contains(SECRET), "token on stdout");
    assert!(!text(&out.stderr).contains(SECRET), "token on stderr");
    assert!(
        !text(&out.stderr).contains("do-not-leak"),
        "part of the token on stderr"
    );
    for f in files {
        if let Ok(content) = std::fs::read_to_string(f) {
            assert!(!content.contains(SECRET), "token in {}", f.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_appears_in_output_logs_or_plan_files() {
    let server = Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec: 0,
            token: Some(SECRET.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let base = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");

    // A good token, with -vv request logging and a saved plan.
    let out = tokio::task::spawn_blocking({
        let (base, saved) = (base.clone(), saved.clone());
        move || {
            cli(
                &[
                    "plan",
                    "-c",
                    "examples/access.yaml",
                    "--base-url",
                    &base,
                    "-vv",
                    "--out",
                ]
                .into_iter()
                .chain([saved.to_str().unwrap()])
                .collect::<Vec<_>>(),
                &[("CONTENTFUL_MANAGEMENT_TOKEN", SECRET)],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("GET"), "-vv logs requests");
    assert_no_secret(&out, &[&saved]);

    // A wrong token that differs from the right one only at the end: 401, and still no token.
    let wrong = format!("{SECRET}-wrong");
    let out = tokio::task::spawn_blocking({
        let base = base.clone();
        move || {
            cli(
                &[
                    "plan",
                    "-c",
                    "examples/access.yaml",
                    "--base-url",
                    &base,
                    "-vv",
                ],
                &[("CONTENTFUL_MANAGEMENT_TOKEN", &wrong)],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("AccessTokenInvalid"),
        "{stderr}"
    );
    assert!(
        stderr.contains("requestId"),
        "errors carry Contentful's requestId: {stderr}"
    );
    assert_no_secret(&out, &[]);

    // The same through --token-file.
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{SECRET}\n")).unwrap();
    let out = tokio::task::spawn_blocking({
        let token_file = token_file.clone();
        move || {
            cli(
                &[
                    "plan",
                    "-c",
                    "examples/access.yaml",
                    "--base-url",
                    &base,
                    "--token-file",
                    token_file.to_str().unwrap(),
                ],
                &[],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_secret(&out, &[]);
    server.shutdown().await;
}

#[test]
fn help_offers_no_token_flag() {
    let out = cli(
        &["plan", "--help"],
        &[("CONTENTFUL_MANAGEMENT_TOKEN", SECRET)],
    );
    let help = text(&out.stdout);
    assert!(help.contains("--token-file"), "{help}");
    assert!(!help.contains("--token "), "{help}");
    assert!(!help.contains(SECRET), "{help}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let out = cli(
        &[
            "plan",
            "-c",
            "examples/access.yaml",
            "--base-url",
            "http://api.contentful.com",
        ],
        &[("CONTENTFUL_MANAGEMENT_TOKEN", SECRET)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("http://"), "{stderr}");
    assert_no_secret(&out, &[]);
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_contentful-access"))
        .current_dir(root())
        .args(["plan", "-c", "examples/access.yaml", "--sandbox"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Hang up before the plan is written (reading the org takes a while), like `| head -0`: the
    // write fails with EPIPE, which is not an error.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn usage_errors_exit_1_not_2_which_means_changes() {
    let out = cli(&["plan", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--no-such-flag"));
    let out = cli(&["drift"], &[("CONTENTFUL_ACCESS_CONFIG", "")]);
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = cli(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("contentful-access "));
}

#[test]
fn request_logs_go_to_stderr_without_colour_codes_when_piped() {
    let out = cli(
        &["plan", "-c", "examples/access.yaml", "--sandbox", "-v"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    // The demo org is read in exactly the minimum: /users/me, six collections, and one
    // organization-wide roles read for the 3 managed spaces (not one per space).
    assert_eq!(stderr.matches(" request ").count(), 8, "{stderr}");
    assert_eq!(stderr.matches("/roles?").count(), 1, "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(
        !text(&out.stdout).contains("request"),
        "logs never mix into the plan"
    );
}

#[test]
fn a_mistyped_space_id_is_one_error_at_its_line_without_a_log_line_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let example =
        std::fs::read_to_string(crate::util::root().join("examples/access.yaml")).unwrap();
    assert!(example.contains("docs: 3ps8vjz0q7lr"));
    std::fs::write(
        &file,
        example.replacen("docs: 3ps8vjz0q7lr", "docs: 3ps8vjz0q7lx", 1),
    )
    .unwrap();
    let out = cli(&["plan", "-c", file.to_str().unwrap(), "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: space docs (3ps8vjz0q7lx) is not a space of this organization"),
        "the real error comes first, with no log line before it:\n{stderr}"
    );
    assert!(!stderr.contains("WARN"), "{stderr}");
}

#[test]
fn a_mistyped_role_is_pointed_at_in_its_list_as_validate_points_at_an_unknown_key() {
    let out = cli(
        &["plan", "-c", "tests/plan/unknown-role.yaml", "--sandbox"],
        &[],
    );
    let stderr = text(&out.stderr);
    // Line 103 is `      docs: [Author, Transaltor]`: the caret sits under the misspelt role
    // (column 22), not under the space key (column 7).
    let line = "      docs: [Author, Transaltor]";
    let column = line.find("Transaltor").unwrap() + 1;
    assert!(
        stderr.contains(&format!("--> tests/plan/unknown-role.yaml:103:{column}")),
        "{stderr}"
    );
    let caret_line = stderr
        .lines()
        .skip_while(|l| !l.contains(line))
        .nth(1)
        .unwrap_or_default();
    let caret_at = caret_line.find('^').unwrap();
    let source_line = stderr.lines().find(|l| l.contains(line)).unwrap();
    assert_eq!(
        &source_line[caret_at..caret_at + "Transaltor".len()],
        "Transaltor",
        "{stderr}"
    );
    assert_eq!(
        caret_line.matches('^').count(),
        "Transaltor".len(),
        "{stderr}"
    );
}

#[test]
fn plan_text_wraps_at_the_width_it_is_given_not_at_a_fixed_100() {
    let args = ["plan", "-c", "tests/plan/demotes-self.yaml", "--sandbox"];
    let refusal = "x token_user: the plan would lock out the token's own user";
    // Not a terminal and no COLUMNS (a CI log): 100 columns, as before.
    let narrow_default = text(&cli(&args, &[]).stdout);
    assert!(
        narrow_default.lines().all(|l| l.chars().count() <= 100),
        "{narrow_default}"
    );
    // A wide terminal (COLUMNS stands in for the terminal's width here): the refusal stays on
    // one line.
    let wide = text(&cli(&args, &[("COLUMNS", "200")]).stdout);
    let line = wide.lines().find(|l| l.contains(refusal)).unwrap();
    assert!(
        line.ends_with("(apply with a token of another admin or owner)"),
        "{wide}"
    );
    // A narrow one: every wrapped line fits.
    let narrow = text(&cli(&args, &[("COLUMNS", "60")]).stdout);
    let refusal_lines: Vec<&str> = narrow
        .lines()
        .skip_while(|l| !l.contains("x token_user"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(refusal_lines.len() > 2, "{narrow}");
    assert!(
        refusal_lines.iter().all(|l| l.chars().count() <= 60),
        "{narrow}"
    );
}

#[test]
fn an_error_names_its_reason_once() {
    // A missing access file, a directory, and a YAML file given as a sandbox seed (JSON).
    for (args, reason) in [
        (
            vec!["plan", "-c", "nope.yaml", "--sandbox"],
            "No such file or directory",
        ),
        (vec!["plan", "-c", "examples", "--sandbox"], "directory"),
        (
            vec![
                "plan",
                "-c",
                "examples/access.yaml",
                "--sandbox",
                "examples/access.yaml",
            ],
            "expected",
        ),
    ] {
        let out = cli(&args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert_eq!(
            stderr.matches(reason).count(),
            1,
            "{args:?} says why once: {stderr}"
        );
    }
}

#[test]
fn a_mistyped_organization_id_lists_the_organizations_the_token_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let example =
        std::fs::read_to_string(crate::util::root().join("examples/access.yaml")).unwrap();
    assert!(example.contains("organization: 2AcmeDemoOrgSandbox001"));
    std::fs::write(
        &file,
        example.replacen(
            "organization: 2AcmeDemoOrgSandbox001",
            "organization: 2AcmeDemoOrgSandbox00X",
            1,
        ),
    )
    .unwrap();
    let out = cli(&["plan", "-c", file.to_str().unwrap(), "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "organization 2AcmeDemoOrgSandbox00X is not one this token reaches; it reaches: 2AcmeDemoOrgSandbox001 (Acme Inc.)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("404"), "no raw 404:\n{stderr}");
}
