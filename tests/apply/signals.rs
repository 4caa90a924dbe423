//! Interrupting `apply` (Ctrl-C, or SIGTERM from a cancelled CI job): the first signal starts
//! nothing new, lets the write in flight finish and journals its outcome, prints the summary and
//! exits 130 (SIGINT) or 143 (SIGTERM).

use std::process::{Command, Stdio};
use std::time::Duration;

use contentful_access::sandbox::{SandboxOptions, Server, demo_seed};

use crate::util::root;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_signal_lets_writes_in_flight_finish_records_them_and_exits_130_or_143() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        // Slow answers, one operation at a time: the signal arrives with a write in flight.
        let server = Server::start(
            demo_seed(),
            SandboxOptions {
                rate_limit_per_sec: 0,
                latency: Duration::from_millis(300),
                ..SandboxOptions::default()
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_contentful-access"));
        cmd.current_dir(root())
            .env_remove("CONTENTFUL_ACCESS_CONFIG")
            .env("NO_COLOR", "1")
            .env("CONTENTFUL_ACCESS_NOW", crate::util::NOW)
            .env("CONTENTFUL_MANAGEMENT_TOKEN", server.admin_token())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .args(["apply", "-c", "examples/access.yaml", "--auto-approve"])
            .args(["--parallelism", "1", "--journal"])
            .arg(&journal)
            .args(["--base-url", &server.base_url()]);
        let journal_path = journal.clone();
        let out = tokio::task::spawn_blocking(move || {
            let child = cmd.spawn().unwrap();
            // Wait for the first write to be announced, then interrupt.
            while std::fs::read_to_string(&journal_path)
                .map(|j| j.lines().count())
                .unwrap_or(0)
                == 0
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            let killed = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{signal}\n{stdout}\n{stderr}"
        );
        assert!(stderr.contains("starting nothing new"), "{stderr}");
        let last = stdout.lines().last().unwrap_or_default();
        assert!(last.starts_with("Apply stopped (interrupted)"), "{stdout}");
        assert!(stdout.contains("(not started: stopped)"), "{stdout}");
        // Every write sent has its outcome in the journal, and the sandbox saw exactly those.
        let records: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let attempts = records.iter().filter(|r| r["phase"] == "attempt").count();
        let outcomes = records.iter().filter(|r| r["phase"] == "outcome").count();
        assert!((1..5).contains(&attempts), "{records:#?}");
        assert_eq!(attempts, outcomes, "{records:#?}");
        let writes = server
            .journal()
            .into_iter()
            .filter(|e| e.method != "GET")
            .count();
        assert_eq!(writes, attempts);
        server.shutdown().await;
    }
}
