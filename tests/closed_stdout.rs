//! A closed stdout (`drift … | true` under `set -o pipefail`) only stops the printing: the exit
//! code still says what happened (drift found, plan refused, operations failed), so CI does not
//! go green because the reader of the output went away.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use contentful_access::sandbox::{FaultConfig, FaultKind};

use crate::util::{bin, demo_file};

/// Runs the binary with its stdout a pipe whose reading end is closed at once, and returns the
/// exit code.
fn exit_with_stdout_closed(mut cmd: Command) -> i32 {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Close the reading end before the binary gets to print anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    out.status.code().unwrap_or(-1)
}

#[test]
fn drift_found_still_exits_2() {
    let mut cmd = bin();
    cmd.args(["drift", "-c", "examples/access.yaml", "--sandbox"]);
    assert_eq!(exit_with_stdout_closed(cmd), 2);
}

#[test]
fn a_refused_plan_still_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = demo_file(dir.path(), "access.yaml", |y| {
        y.replace("max_removals: 10%", "max_removals: 0")
    });
    for command in ["plan", "apply"] {
        let mut cmd = bin();
        cmd.args([command, "-c", &file.display().to_string(), "--sandbox"]);
        if command == "apply" {
            cmd.arg("--auto-approve");
        }
        assert_eq!(exit_with_stdout_closed(cmd), 3, "{command}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_with_failed_operations_still_exits_1() {
    let server = crate::util::demo_sandbox().await;
    // Every POST answers 500 (not retried: a POST may have been processed): the invitation
    // fails, and the operation waiting for it is skipped.
    let mut faults = FaultConfig::new(1.0, vec![FaultKind::Status500]);
    faults.methods = vec!["POST".into()];
    server.set_faults(faults);
    let mut cmd = bin();
    cmd.args([
        "apply",
        "-c",
        "examples/access.yaml",
        "--auto-approve",
        "--base-url",
        &server.base_url(),
    ])
    .env("CONTENTFUL_MANAGEMENT_TOKEN", server.admin_token());
    let code = tokio::task::spawn_blocking(move || exit_with_stdout_closed(cmd))
        .await
        .unwrap();
    assert_eq!(code, 1);
    server.shutdown().await;
}
