//! `include:`: one organization's access file split over several files. The split demo file
//! plans exactly like the single one; every problem (a root-only key in an included file, a user
//! declared twice, a role that does not exist, a glob that matches nothing) names the file it is
//! in, in the rendered report and in GitHub annotations; the saved plan's hash covers every file,
//! so editing or renaming any of them makes a saved plan stale.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use contentful_access::config::{self, ConfigError};
use serde_json::Value;

use crate::util::{cli, root, text};

/// The demo access file split in a temporary directory: `access.yaml` (everything but the users)
/// including `people/*.yaml`; `people/1-platform.yaml` holds the users up to the editorial
/// ones, `people/2-editorial.yaml` the rest.
fn split_demo(dir: &Path) -> PathBuf {
    let demo = std::fs::read_to_string(root().join("examples/access.yaml")).unwrap();
    let (head, users) = demo.split_once("\nusers:\n").unwrap();
    let (first, second) = users.split_once("  # Editorial\n").unwrap();
    std::fs::create_dir_all(dir.join("people")).unwrap();
    let root_file = dir.join("access.yaml");
    std::fs::write(&root_file, format!("{head}\ninclude: [people/*.yaml]\n")).unwrap();
    std::fs::write(
        dir.join("people/1-platform.yaml"),
        format!("users:\n{first}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("people/2-editorial.yaml"),
        format!("users:\n  # Editorial\n{second}"),
    )
    .unwrap();
    root_file
}

/// Rewrites the file at `path` with `f` applied to its text.
fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The error report of an invalid file set.
fn errors(path: &Path) -> String {
    match config::load(path) {
        Err(ConfigError::Invalid(d)) => {
            let sources = |p: &str| -> &'static str {
                Box::leak(
                    std::fs::read_to_string(p)
                        .unwrap_or_default()
                        .into_boxed_str(),
                )
            };
            d.render_files(&sources, false, 100)
        }
        other => panic!("{} should be invalid, got {other:?}", path.display()),
    }
}

#[test]
fn a_split_file_plans_exactly_like_the_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let split = config::load(&root_file).unwrap();
    let single = config::load(&root().join("examples/access.yaml")).unwrap();
    assert_eq!(split.users.len(), single.users.len());
    assert_eq!(split.teams, single.teams);
    assert_eq!(
        split.included,
        vec![
            s(&dir.path().join("people/1-platform.yaml")),
            s(&dir.path().join("people/2-editorial.yaml")),
        ]
    );

    let out = cli(&["validate", "-c", &s(&root_file)], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(with 2 included files) is valid: 24 users"),
        "{}",
        text(&out.stdout)
    );

    let plan = |file: &str| -> Value {
        let out = cli(&["plan", "--sandbox", "-c", file, "--format", "json"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let split_plan = plan(&s(&root_file));
    let single_plan = plan("examples/access.yaml");
    let kinds = |p: &Value| -> Vec<Value> {
        p["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].clone())
            .collect()
    };
    assert_eq!(kinds(&split_plan), kinds(&single_plan));
    assert_eq!(
        split_plan["config_included"][1],
        s(&dir.path().join("people/2-editorial.yaml"))
    );
    // Bob is declared in the second included file: his operation's cause says so.
    let bob = split_plan["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"]["email"] == "bob@acme.example")
        .unwrap();
    assert_eq!(bob["cause"]["file"], 2, "{bob:#}");

    // The text plan names the included file on that line.
    let out = cli(&["plan", "--sandbox", "-c", &s(&root_file)], &[]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!(
            "{}:",
            s(&dir.path().join("people/2-editorial.yaml"))
        )),
        "{shown}"
    );

    // drift follows includes too, and names the file of each difference.
    let out = cli(&["drift", "--sandbox", "-c", &s(&root_file)], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2-editorial.yaml:"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn organization_wide_keys_are_refused_in_an_included_file() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let inc = dir.path().join("people/1-platform.yaml");
    edit(&inc, |t| {
        format!("policy:\n  prune: true\nspacs: {{}}\n{t}")
    });
    let report = errors(&root_file);
    let inc = s(&inc);
    assert!(
        report.contains(&format!(
            "error: `policy` may only be in the root file {}, not in an included file\n --> {inc}:1:1",
            s(&root_file)
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "error: unknown key `spacs` in an included file\n --> {inc}:3:1"
        )),
        "{report}"
    );
}

#[test]
fn a_user_declared_in_two_files_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let second = dir.path().join("people/2-editorial.yaml");
    // Jane is declared in the first file (line 4) and now again at line 2 of the second.
    let again = "users:\n  Jane@acme.example:\n    name: Jane again\n";
    edit(&second, |t| t.replacen("users:\n", again, 1));
    let first = dir.path().join("people/1-platform.yaml");
    let line = std::fs::read_to_string(&first)
        .unwrap()
        .lines()
        .position(|l| l == "  jane@acme.example:")
        .unwrap()
        + 1;
    let report = errors(&root_file);
    assert!(
        report.contains(&format!(
            "error: duplicate key `Jane@acme.example` in `users`: same as `jane@acme.example` at {}:{line} (emails compare case-insensitively)\n --> {}:2:3",
            s(&first),
            s(&second)
        )),
        "{report}"
    );

    // Under GitHub Actions the annotation is on the second file's line.
    let out = cli(
        &["validate", "-c", &s(&root_file)],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with(&format!(
            "::error file={},line=2,col=3::duplicate key",
            s(&second)
        )),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_role_missing_in_an_included_file_is_reported_in_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let second = dir.path().join("people/2-editorial.yaml");
    edit(&second, |t| {
        t.replacen("marketing: [Author]", "marketing: [Autor]", 1)
    });
    let out = cli(
        &["plan", "--sandbox", "-c", &s(&root_file)],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let annotation = text(&out.stdout);
    assert!(
        annotation.starts_with(&format!("::error file={},line=", s(&second))),
        "{annotation}"
    );
    assert!(
        annotation.contains("role \"Autor\" does not exist"),
        "{annotation}"
    );
    assert!(
        text(&out.stderr).contains(&format!("--> {}:", s(&second))),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_pattern_that_matches_nothing_is_an_error_at_the_include_line() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let t = std::fs::read_to_string(&root_file).unwrap();
    std::fs::write(
        &root_file,
        t.replace(
            "include: [people/*.yaml]",
            "include: [people/*.yaml, teams/*.yml]",
        ),
    )
    .unwrap();
    let report = errors(&root_file);
    assert!(
        report.contains("error: `include: teams/*.yml` matches no file"),
        "{report}"
    );
    assert!(
        report.contains(&format!("--> {}:", s(&root_file))),
        "{report}"
    );
}

#[test]
fn the_hash_covers_every_file_and_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let hash = || config::load(&root_file).unwrap().source_sha256;
    let original = hash();
    // Not the root file's hash alone.
    assert_ne!(
        original,
        config::hex_sha256(&std::fs::read(&root_file).unwrap())
    );
    // Editing an included file (even a comment) changes it.
    let second = dir.path().join("people/2-editorial.yaml");
    let t = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, format!("{t}# a comment\n")).unwrap();
    let edited = hash();
    assert_ne!(edited, original);
    std::fs::write(&second, &t).unwrap();
    assert_eq!(hash(), original);
    // Renaming a file (same content, same order) changes it.
    std::fs::rename(&second, dir.path().join("people/3-editorial.yaml")).unwrap();
    assert_ne!(hash(), original);
}

#[test]
fn a_saved_plan_is_stale_once_an_included_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = split_demo(dir.path());
    let plan = dir.path().join("plan.json");
    let out = cli(
        &[
            "plan",
            "--sandbox",
            "-c",
            &s(&root_file),
            "--output",
            &s(&plan),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let second = dir.path().join("people/2-editorial.yaml");
    let t = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, format!("{t}# edited after the review\n")).unwrap();
    let out = cli(&["apply", &s(&plan), "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("out of date"),
        "{}",
        text(&out.stderr)
    );
    // Unchanged, it applies.
    std::fs::write(&second, &t).unwrap();
    let out = cli(&["apply", &s(&plan), "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn schema_included_describes_an_included_file() {
    let out = cli(&["schema", "--included"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["teams", "users"]);
    assert_eq!(schema["additionalProperties"], false);
    // The root schema documents `include`.
    let out = cli(&["schema"], &[]);
    let root_schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(root_schema["properties"]["include"].is_object());
}
