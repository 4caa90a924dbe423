//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use contentful_access::apply::{self, Planned, VerifiedPlan};
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::model::{DesiredState, LiveState};
use contentful_access::plan::PlanOptions;
use contentful_access::sandbox::{SandboxOptions, Server, demo_seed};
use secrecy::SecretString;

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

/// The demo organization (`examples/sandbox-org.json`) in an in-process sandbox without a rate
/// limit or latency.
pub async fn demo_sandbox() -> Server {
    demo_sandbox_paced(0, Duration::ZERO).await
}

/// [`demo_sandbox`] limited to `rate_limit_per_sec` requests a second (0: none), each answered
/// after `latency`.
pub async fn demo_sandbox_paced(rate_limit_per_sec: u32, latency: Duration) -> Server {
    Server::start(
        demo_seed(),
        SandboxOptions {
            rate_limit_per_sec,
            latency,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap()
}

/// A client for a test sandbox: the admin token, a high request rate and a short backoff.
pub fn fast_client(server: &Server) -> Client {
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(1);
    Client::new(cfg).unwrap()
}

/// The demo access file, `examples/access.yaml`, loaded.
pub fn demo_desired() -> DesiredState {
    contentful_access::config::load(&root().join("examples/access.yaml")).unwrap()
}

/// The live state of the organization `d` manages, read through `client`.
pub async fn read_live(client: &Client, d: &DesiredState) -> LiveState {
    let spaces: Vec<String> = d.spaces.values().map(|s| s.id.clone()).collect();
    client
        .read_live_state(&d.organization, &spaces)
        .await
        .unwrap()
}

/// A plan of `d` against the organization as it is now, verified by construction (panics when a
/// guardrail refuses it: the demo plans never are).
pub async fn plan_now(client: &Client, d: &DesiredState) -> VerifiedPlan {
    let live = read_live(client, d).await;
    match apply::plan_checked(d, &live, &PlanOptions { created_at: now() }).unwrap() {
        Planned::Verified(p) => p,
        Planned::Refused(p) => panic!("refused: {:#?}", p.guardrails),
    }
}

/// The writes (anything but `GET`) the sandbox handled, as (method, path), in order.
pub fn sandbox_writes(server: &Server) -> Vec<(String, String)> {
    server
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .map(|e| (e.method, e.path))
        .collect()
}

/// Runs the binary (see [`bin`], standard input closed) against a test sandbox with its admin
/// token; call it from inside a tokio test.
pub async fn run_against(server: &Server, args: &[&str]) -> Output {
    let mut c = bin();
    c.stdin(Stdio::null())
        .args(args)
        .args(["--base-url", &server.base_url()])
        .env("CONTENTFUL_MANAGEMENT_TOKEN", server.admin_token());
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

/// The demo access file (`examples/access.yaml`) edited by `edit`, written to `dir/name`; its path.
pub fn demo_file(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let yaml = std::fs::read_to_string(root().join("examples/access.yaml")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, edit(yaml)).unwrap();
    path
}

/// `plan -c config --out out` against `server` (a pull request's saved plan); the caller checks
/// the exit code.
pub async fn plan_out(server: &Server, config: &Path, out: &Path) -> Output {
    let (config, out) = (config.display().to_string(), out.display().to_string());
    run_against(server, &["plan", "-c", &config, "--out", &out]).await
}

/// A sandbox serving `seed` without a rate limit (request counts and behaviour, not pacing).
pub async fn unlimited_sandbox(seed: contentful_access::sandbox::Seed) -> Server {
    Server::start(seed, SandboxOptions::unlimited())
        .await
        .unwrap()
}

/// Every file below `dir`, in sorted order (what a recording or an export wrote).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// `plan -c examples/access.yaml --sandbox` with `extra` arguments: the README's main command.
pub fn demo_plan(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["plan", "-c", "examples/access.yaml", "--sandbox"];
    args.extend_from_slice(extra);
    cli(&args, &[])
}
