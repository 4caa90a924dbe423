//! `contentful-access doctor` against sandboxes (a healthy org, a wrong token, an admin token with
//! owner changes in the file, a missing role, teams listed without `sys.version`): the findings and
//! exit codes in snapshots; its cost in requests against a plan's; and `--record DIR`: redaction
//! proven on a seed of distinctive emails, names and token, and recordings that round-trip into
//! the fidelity comparison.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use contentful_access::contentful::inspect::Inspection;
use contentful_access::doctor::{Severity, Subject, Topic, examine};
use contentful_access::sandbox::{Seed, demo_seed};
use serde_json::Value;

use crate::sandbox::fidelity::recording_differences;
use crate::sandbox::read::{MARKETING, ORG};
use crate::util::{
    bin, demo_desired, demo_sandbox, fast_client, files_under, now, root, snap_with, text,
};

const DEMO_FILE: &str = "examples/access.yaml";

/// The sandbox's port and request ids vary per run.
const FILTERS: &[(&str, &str)] = &[(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT")];

/// Runs `doctor` with `args` (paced under the sandbox's 10 requests/second, so no 429 makes the
/// output vary): (exit code, stdout, stderr).
fn doctor(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = bin();
    cmd.arg("doctor").args(args).args(["--max-rps", "8"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// A seed file in `dir`: the demo org changed by `edit`.
fn seed_file(dir: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let mut seed: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/sandbox-org.json")).unwrap(),
    )
    .unwrap();
    edit(&mut seed);
    let path = dir.join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn a_healthy_org_can_plan_and_apply() {
    let (code, out, err) = doctor(&["-c", DEMO_FILE, "--sandbox"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    for expected in [
        "[info] token: the token is valid and acts as jane@acme.example",
        "is an organization admin",
        "[info] space: space marketing (5nq2sd7t0mkg) is reachable",
        "[info] collection: GET /organizations/{org}/organization_memberships is readable",
        "[info] rate_limit: the server announces 10 requests/second",
        "Plan and apply can run.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(!out.contains("[blocker]"), "{out}");
    snap_with(
        "doctor__healthy_text",
        &out,
        FILTERS,
        Some("doctor -c examples/access.yaml --sandbox"),
    );

    let (code, json, _) = doctor(&["-c", DEMO_FILE, "--sandbox", "--format", "json"], &[]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["document"], "doctor");
    assert_eq!(v["ready"], true);
    snap_with(
        "doctor__healthy_json",
        &json,
        FILTERS,
        Some("doctor -c examples/access.yaml --sandbox --format json"),
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_never_sent_elsewhere() {
    let server = demo_sandbox().await;
    let base = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        doctor(
            &["-c", DEMO_FILE, "--base-url", &base],
            &[("CONTENTFUL_MANAGEMENT_TOKEN", "CFPAT-not-a-real-token-0000")],
        )
    })
    .await
    .unwrap();
    let (code, out, err) = out;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("[blocker] token:"), "{out}");
    assert!(out.contains("refused the token"), "{out}");
    assert!(!out.contains("CFPAT-not-a-real-token"), "{out}");
    // One request: the refused one. Nothing else was tried, on this host or another.
    let seen: Vec<String> = server.journal().into_iter().map(|e| e.path).collect();
    assert_eq!(seen, ["/users/me"], "{seen:?}");
    assert!(out.contains("1 request(s) sent"), "{out}");
    snap_with(
        "doctor__wrong_token",
        &out,
        FILTERS,
        Some("doctor with a token the sandbox does not know"),
    );
    server.shutdown().await;
}

#[test]
fn an_admin_token_cannot_make_the_owner_changes_the_file_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let yaml = std::fs::read_to_string(root().join(DEMO_FILE)).unwrap();
    let promoted = yaml.replacen(
        "  marcus.lee@acme.example:\n    name: Marcus Lee\n    org_role: admin",
        "  marcus.lee@acme.example:\n    name: Marcus Lee\n    org_role: owner",
        1,
    );
    assert_ne!(promoted, yaml, "the demo file changed: update this test");
    std::fs::write(&file, promoted).unwrap();
    let (code, out, err) = doctor(&["-c", file.to_str().unwrap(), "--sandbox"], &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("[blocker] token: an owner's token is needed"),
        "{out}"
    );
    assert!(out.contains("marcus.lee@acme.example"), "{out}");
    assert!(out.contains("guardrail token_user"), "{out}");
    snap_with(
        "doctor__admin_token_owner_change",
        &out,
        FILTERS,
        Some("doctor: the demo file with marcus.lee promoted to owner, the admin's token"),
    );
}

#[test]
fn a_role_missing_in_a_space_blocks_with_its_file_position() {
    let (code, out, err) = doctor(&["-c", "tests/plan/unknown-role.yaml", "--sandbox"], &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("[blocker] role: role"), "{out}");
    assert!(out.contains("tests/plan/unknown-role.yaml:"), "{out}");
    assert!(out.contains("did you mean"), "{out}");
    snap_with(
        "doctor__missing_role",
        &out,
        FILTERS,
        Some("doctor -c tests/plan/unknown-role.yaml --sandbox"),
    );
}

#[test]
fn teams_listed_without_version_are_a_variant_seen_not_a_blocker() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed_file(dir.path(), |s| {
        s["variants"] = serde_json::json!({"teamListWithoutVersion": true});
    });
    let (code, out, err) = doctor(&["-c", DEMO_FILE, "--sandbox", &seed], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(
            "[info] response: variant seen: Team objects: team list items have no `sys.version`"
        ),
        "{out}"
    );
    snap_with(
        "doctor__team_without_version",
        &out,
        FILTERS,
        Some("doctor: demo seed with variants.teamListWithoutVersion"),
    );
}

#[test]
fn doctor_needs_a_file_or_an_org() {
    let (code, _, err) = doctor(&["--sandbox"], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--config <FILE>") && err.contains("--org <ID>"),
        "{err}"
    );
}

/// Doctor costs one plan's requests plus a handful: the plan's reads, then `/users/me` and
/// `/organizations` once more.
#[tokio::test]
async fn doctor_costs_a_plan_plus_a_handful_of_requests() {
    let server = demo_sandbox().await;
    let desired = demo_desired();
    let plan_client = fast_client(&server);
    crate::util::read_live(&plan_client, &desired).await;
    let plan_requests = plan_client.stats().requests;

    let client = fast_client(&server);
    let report = examine(&client, Subject::File(&desired), now(), Inspection::default).await;
    assert!(report.ready, "{report:#?}");
    assert_eq!(report.requests, client.stats().requests);
    let extra = report.requests - plan_requests;
    assert_eq!(extra, 2, "plan {plan_requests}, doctor {}", report.requests);
    server.shutdown().await;
}

/// A recording of a sandbox seeded with distinctive emails, names, free text and token holds
/// none of them (and no Authorization or cookie), yet keeps one placeholder per person.
#[tokio::test]
async fn recordings_are_redacted() {
    const TOKEN: &str = "CFPAT-zzDistinctiveSecretToken0042";
    let mut seed: Seed = demo_seed();
    for (i, u) in seed.users.iter_mut().enumerate() {
        u.email = format!("xq{i}.quillfeather@unusual-domain-{i}.example");
        u.first_name = u.first_name.as_ref().map(|_| format!("Zanzibarella{i}"));
        u.last_name = u.last_name.as_ref().map(|_| format!("Quackenbosh{i}"));
    }
    for t in &mut seed.teams {
        t.name = format!("Hushhush {}", t.name);
        t.description = Some("Codename Bluefinch project".into());
    }
    for s in &mut seed.spaces {
        s.name = format!("Vaultspace {}", s.name);
    }
    seed.organization.name = "Octarine Holdings".into();
    let admin = seed.api_tokens[0].user.clone();
    seed.api_tokens.insert(
        0,
        contentful_access::sandbox::SeedApiToken {
            token: TOKEN.into(),
            user: admin,
        },
    );
    let mut secrets: Vec<String> = vec![TOKEN.into(), "Octarine".into(), "Bluefinch".into()];
    for u in &seed.users {
        secrets.push(u.email.clone());
        secrets.push(u.email.split('@').next().unwrap().to_string());
        secrets.extend(u.first_name.clone());
        secrets.extend(u.last_name.clone());
    }
    secrets.extend(["Hushhush".into(), "Vaultspace".into()]);
    let server = crate::util::unlimited_sandbox(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let base = server.base_url();
    let rec_arg = rec.display().to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        doctor(
            &["--org", ORG, "--base-url", &base, "--record", &rec_arg],
            &[("CONTENTFUL_MANAGEMENT_TOKEN", TOKEN)],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("redacted, in"), "{err}");

    let mut files = 0;
    let mut all = String::new();
    let mut responses = String::new();
    for entry in files_under(&rec) {
        let content = std::fs::read_to_string(&entry).unwrap();
        files += 1;
        all.push_str(&content);
        if !entry.ends_with("PROVENANCE.md") {
            responses.push_str(&content.to_lowercase());
        }
    }
    assert!(files > 10, "{files} files");
    let lower = all.to_lowercase();
    for secret in &secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{secret:?} is in the recording"
        );
    }
    // (PROVENANCE.md says that no Authorization header is recorded: the responses are checked.)
    for header in ["authorization", "cookie", "bearer"] {
        assert!(!responses.contains(header), "{header} in the recording");
    }
    // The token's own user is the same person in /users/me and in the members' page.
    let me = std::fs::read_to_string(rec.join("contentful-access/001-get-users-me.json")).unwrap();
    let me: Value = serde_json::from_str(&me).unwrap();
    let me: Value = serde_json::from_str(me[0]["response"]["body"].as_str().unwrap()).unwrap();
    let email = me["email"].as_str().unwrap();
    assert!(email.ends_with("@example.invalid"), "{email}");
    let members = files_under(&rec)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("organization-memberships"))
        .unwrap();
    let members = std::fs::read_to_string(members).unwrap();
    assert!(members.contains(email), "{email} not in the members' page");
    assert!(members.contains(&me["firstName"].as_str().unwrap().to_string()));
    server.shutdown().await;
}

/// `plan --record` and `drift --record` write a folder the fidelity comparison reads: each
/// recording's shape against the sandbox's answer to the same request.
#[tokio::test]
async fn plan_and_drift_recordings_round_trip_into_the_fidelity_comparison() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["plan", "drift"] {
        let rec = dir.path().join(cmd);
        let rec_arg = rec.display().to_string();
        let out = tokio::task::spawn_blocking(move || {
            bin()
                .args([
                    cmd,
                    "-c",
                    DEMO_FILE,
                    "--sandbox",
                    "--max-rps",
                    "8",
                    "--record",
                    &rec_arg,
                ])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}",
            text(&out.stderr)
        );
        let server = demo_sandbox().await;
        let diffs = recording_differences(&rec, &server, ORG, MARKETING).await;
        assert!(diffs.is_empty(), "{cmd}: {diffs:#?}");
        server.shutdown().await;
    }
}

/// Recorded folders that users attached to bug reports, dropped into `tests/recorded/users/`
/// (docs/development.md): each must match the sandbox's shapes, apart from the differences its
/// `ACCEPTED.txt` lists (one `file: path: what` line each; `#` starts a comment).
#[tokio::test]
async fn user_recordings_match_the_sandbox() {
    let users = root().join("tests/recorded/users");
    let Ok(entries) = std::fs::read_dir(&users) else {
        return; // none yet
    };
    let server = demo_sandbox().await;
    for folder in entries.map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        let accepted = std::fs::read_to_string(folder.join("ACCEPTED.txt")).unwrap_or_default();
        let accepted: Vec<&str> = accepted
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let diffs = recording_differences(&folder, &server, ORG, MARKETING).await;
        let unexpected: Vec<&String> = diffs
            .iter()
            .filter(|d| !accepted.contains(&d.as_str()))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{}: differences from the sandbox:\n{unexpected:#?}",
            folder.display()
        );
    }
    server.shutdown().await;
}

#[test]
fn findings_are_typed_data() {
    // The JSON names severities and topics in snake_case, as the text does.
    assert_eq!(serde_json::to_value(Severity::Blocker).unwrap(), "blocker");
    assert_eq!(
        serde_json::to_value(Topic::RateLimit).unwrap(),
        "rate_limit"
    );
}
