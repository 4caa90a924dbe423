//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `contentful-access` binary, run from the project root with the variables it reads under
/// control (no token, no config path, not under GitHub Actions, no colour, default width).
pub fn bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_contentful-access"));
    cmd.current_dir(root())
        .env_remove("CONTENTFUL_MANAGEMENT_TOKEN")
        .env_remove("CONTENTFUL_ACCESS_CONFIG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .env("CONTENTFUL_ACCESS_NOW", NOW);
    cmd
}

/// The time every test runs at (`--now` through `CONTENTFUL_ACCESS_NOW` for the binary): plans
/// depend on the clock (expired invitations are re-sent, `expires` removes access), so tests
/// never read it. Within 7 days of every pending invitation of the demo and test seeds, so their
/// plans re-send nothing unless a test asks for a later time.
pub const NOW: &str = "2026-10-05T09:00:00Z";

/// [`NOW`] as a time.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Runs the binary (see [`bin`]) with `args` and extra environment variables.
pub fn cli(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = bin();
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary with `args` from the project root: (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asserts a snapshot stored in the top-level `snapshots/` folder under `name`.
pub fn snap(name: &str, value: &str) {
    snap_with(name, value, &[], None);
}

/// [`snap`] with redactions (`(regex, replacement)`) applied to `value` first and a description
/// stored in the snapshot's header (e.g. the input file it was rendered from).
pub fn snap_with(name: &str, value: &str, filters: &[(&str, &str)], description: Option<&str>) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    for (regex, replacement) in filters {
        settings.add_filter(regex, *replacement);
    }
    if let Some(d) = description {
        settings.set_description(d);
    }
    settings.bind(|| insta::assert_snapshot!(name, value));
}
