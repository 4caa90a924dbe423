//! `show PLAN`: a saved plan rendered as text, JSON or markdown with no token and no
//! organization to contact, exactly as `plan` rendered it when it was made.
#![allow(clippy::unwrap_used)]

use crate::util::{cli, snap_with, text};

/// The demo plan saved with `plan --sandbox --output`, in a temporary directory.
fn saved_demo_plan(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("plan.json");
    let out = cli(
        &[
            "plan",
            "--sandbox",
            "-c",
            "examples/access.yaml",
            "--output",
            &path.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    path
}

const CREATED: [(&str, &str); 1] = [(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[created]")];

#[test]
fn show_renders_a_saved_plan_without_a_token_or_organization() {
    let dir = tempfile::tempdir().unwrap();
    let plan = saved_demo_plan(dir.path());
    let path = plan.display().to_string();
    // No token and no sandbox: nothing to connect to (util::cli removes the token).
    let env = [];
    let text_out = cli(&["show", &path], &env);
    assert_eq!(
        text_out.status.code(),
        Some(0),
        "{}",
        text(&text_out.stderr)
    );
    let shown = text(&text_out.stdout);
    assert!(shown.contains("bob@acme.example"), "{shown}");
    snap_with(
        "show__demo_text",
        &shown,
        &CREATED,
        Some("show PLAN for the demo plan (plan --sandbox -c examples/access.yaml --output PLAN)"),
    );

    let md = cli(&["show", &path, "--format", "markdown"], &env);
    assert_eq!(md.status.code(), Some(0), "{}", text(&md.stderr));
    snap_with(
        "show__demo_markdown",
        &text(&md.stdout),
        &CREATED,
        Some("show PLAN --format markdown for the demo plan"),
    );

    // JSON is the saved document itself, unchanged.
    let json = cli(&["show", &path, "--format", "json"], &env);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(shown, saved);
}

#[test]
fn show_refuses_a_file_that_is_not_a_plan() {
    let out = cli(&["show", "examples/access.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("examples/access.yaml is not a usable plan"),
        "{err}"
    );
}
