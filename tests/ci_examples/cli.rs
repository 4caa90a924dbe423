//! What the CI examples lean on in the binary: GitHub annotations only under GitHub Actions,
//! completions, man pages, and `-v` only where requests are made.

use super::*;

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
