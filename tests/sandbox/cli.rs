//! `contentful-access sandbox` as a user runs it: it prints where it listens and the token to
//! use, serves until SIGTERM, then exits cleanly; bad seeds are reported.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_contentful-access"))
}

/// Starts the sandbox command and returns it with the lines printed up to the journal hint.
fn start(args: &[&str]) -> (Child, Vec<String>) {
    let mut child = bin()
        .arg("sandbox")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "sandbox exited early: {lines:?}"
        );
        let done = line.contains("Stop with Ctrl-C");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    (child, lines)
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "sandbox did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn url_of(lines: &[String]) -> String {
    lines[0].rsplit(' ').next().unwrap().to_string()
}

#[tokio::test]
async fn serves_the_demo_org_prints_how_to_use_it_and_stops_on_sigterm() {
    let (child, lines) = start(&["--port", "0", "--rate-limit", "0"]);
    let url = url_of(&lines);
    assert!(url.starts_with("http://127.0.0.1:"), "{lines:?}");
    assert!(lines[0].contains("2AcmeDemoOrgSandbox001"));
    let text = lines.join("\n");
    assert!(
        text.contains("export CONTENTFUL_MANAGEMENT_TOKEN=sandbox-admin-token"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "contentful-access plan -c examples/access.yaml --base-url {url}"
    )));
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/users/me"))
        .bearer_auth("sandbox-admin-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "jane@acme.example");
    assert!(stop(child).success());
}

#[tokio::test]
async fn custom_token_and_synthetic_org() {
    let (child, lines) = start(&["--synthetic", "200", "--token", "my-demo-token"]);
    let url = url_of(&lines);
    assert!(
        !lines.join("\n").contains("my-demo-token"),
        "a given token is never echoed: {lines:?}"
    );
    let r = reqwest::Client::new()
        .get(format!(
            "{url}/organizations/SyntheticOrg000000001/organization_memberships?limit=1"
        ))
        .bearer_auth("my-demo-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-contentful-ratelimit-second-limit"],
        "10",
        "default limit"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["total"], 200);
    assert!(stop(child).success());
}

#[test]
fn a_broken_seed_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    std::fs::write(&path, r#"{"organization":{"id":"o","name":"O"},"orgMemberships":[{"id":"m","user":"ghost","role":"member"}]}"#).unwrap();
    let out = bin()
        .arg("sandbox")
        .arg("--seed")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown user ghost"), "{err}");
    let out = bin()
        .args(["sandbox", "--fault-rate", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_synthetic_org_suggests_commands_that_work_on_it() {
    let (child, lines) = start(&["--synthetic", "20", "--rate-limit", "0"]);
    let url = url_of(&lines);
    let text = lines.join("\n");
    // The example access file describes the demo org only: planning it here would 404.
    assert!(!text.contains("examples/access.yaml"), "{text}");
    let token = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("export CONTENTFUL_MANAGEMENT_TOKEN="))
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    // Run the suggested commands as printed, in order.
    let commands: Vec<Vec<String>> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("contentful-access "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(commands.len(), 2, "{text}");
    assert_eq!(commands[0][0], "export", "{text}");
    let mut last = None;
    for args in &commands {
        let out = bin()
            .args(args)
            .current_dir(dir.path())
            .env("CONTENTFUL_MANAGEMENT_TOKEN", &token)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        last = Some(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert!(
        last.unwrap()
            .contains("No changes. Contentful access matches access.yaml."),
        "the exported file plans clean"
    );
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(stop(child).success());
}
