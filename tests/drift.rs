//! `contentful-access drift` against sandbox seeds: every kind of difference phrased as "the file
//! says X, Contentful has Y" with who changed it and when, unmanaged principals, the exit codes,
//! and every output format.
#![allow(clippy::unwrap_used)]

use crate::util::{run, snap};

const SEED: &str = "tests/seeds/small.json";
const FILE: &str = "tests/seeds/small-access.yaml";

#[test]
fn drift_lists_each_difference_with_who_changed_it_and_exits_2() {
    let (code, out, err) = run(&["drift", "-c", FILE, "--sandbox", SEED]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("org role of ann@small.example"));
    assert!(out.contains("last changed by owner@small.example at 2026-11-02T08:30:00Z"));
    assert!(out.contains("user zed@small.example (member); access: archive [Author]"));
    snap("drift__small_text", &out);
}

#[test]
fn drift_json_carries_every_difference() {
    let (code, out, _) = run(&["drift", "-c", FILE, "--sandbox", SEED, "--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diffs = v["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 4);
    let archive = diffs
        .iter()
        .find(|d| d["subject"] == "ann@small.example in space archive")
        .unwrap();
    assert_eq!(archive["file_says"], "no direct access");
    assert_eq!(archive["contentful_has"], "[Editor]");
    assert_eq!(archive["changed_by"], "zed@small.example");
    // The same difference as data, for machines: no prose to parse.
    assert_eq!(
        archive["who"],
        serde_json::json!({"type": "user", "email": "ann@small.example"})
    );
    assert_eq!(archive["aspect"], "space_access");
    assert_eq!(archive["space"], "archive");
    assert_eq!(archive["file"], serde_json::json!({"state": "absent"}));
    assert_eq!(
        archive["contentful"],
        serde_json::json!({"state": "access", "access": {"roles": ["Editor"]}})
    );
    snap("drift__small_json", &out);
}

#[test]
fn drift_audit_and_explain_json_are_versioned_documents() {
    for (args, kind) in [
        (vec!["drift", "-c", FILE], "drift"),
        (vec!["audit", "-c", FILE], "audit"),
        (vec!["explain", "ann@small.example", "-c", FILE], "explain"),
    ] {
        let mut args = args;
        args.extend(["--sandbox", SEED, "--format", "json"]);
        let (_, out, err) = run(&args);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        // The version and kind come first, so a reader sees them before anything else.
        assert!(
            out.starts_with(&format!(
                "{{\n  \"format_version\": 1,\n  \"document\": \"{kind}\","
            )),
            "{out}"
        );
        assert_eq!(v["format_version"], 1, "{kind}");
        assert_eq!(v["document"], kind);
    }
}

#[test]
fn drift_markdown_starts_with_a_stable_marker() {
    let (code, out, _) = run(&[
        "drift",
        "-c",
        FILE,
        "--sandbox",
        SEED,
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        out.lines().next().unwrap(),
        "<!-- contentful-access:drift org=SmallOrg01 -->"
    );
    snap("drift__small_markdown", &out);
}

#[test]
fn drift_of_the_demo_org_names_the_deliberate_differences() {
    let (code, out, _) = run(&["drift", "-c", "examples/access.yaml", "--sandbox"]);
    assert_eq!(code, 2);
    snap("drift__demo_text", &out);
}

#[test]
fn no_drift_exits_0_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let file = file.to_str().unwrap();
    let (code, _, err) = run(&[
        "export",
        "--org",
        "SmallOrg01",
        "--sandbox",
        SEED,
        "-o",
        file,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["drift", "-c", file, "--sandbox", SEED]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("No drift: organization SmallOrg01 matches"),
        "{out}"
    );
    // Unmanaged principals are reported but are not drift (prune is off and zed is declared
    // by the export anyway); pending invitations are listed.
    assert!(out.contains("Pending invitations: 2"));
    let (code, md, _) = run(&[
        "drift",
        "-c",
        file,
        "--sandbox",
        SEED,
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    assert!(md.contains("No access drift in `SmallOrg01`"));
    let (code, json, _) = run(&["drift", "-c", file, "--sandbox", SEED, "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["differences"].as_array().unwrap().len(), 0);
}

#[test]
fn drift_exits_1_on_a_name_that_does_not_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    std::fs::write(
        &file,
        "version: 1\norganization: SmallOrg01\nspaces:\n  main: main1\nusers:\n  ann@small.example:\n    spaces:\n      main: [Publisher]\n",
    )
    .unwrap();
    let (code, _, err) = run(&["drift", "-c", file.to_str().unwrap(), "--sandbox", SEED]);
    assert_eq!(code, 1);
    assert!(err.contains("Publisher"), "{err}");
}

#[test]
fn drift_with_prune_reports_undeclared_members_as_differences() {
    let (code, out, _) = run(&[
        "drift",
        "-c",
        "tests/seeds/small-prune.yaml",
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 2);
    assert!(
        out.contains(
            "  user zed@small.example\n    the file says:  not declared (policy.prune: true)\n    Contentful has: member of the organization as member (with 1 team or space membership)\n"
        ),
        "{out}"
    );
    assert!(!out.contains("Unmanaged"), "{out}");
}

#[test]
fn drift_of_missing_teams_and_grants() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    std::fs::write(
        &file,
        "version: 1\norganization: SmallOrg01\nspaces:\n  main: main1\nteams:\n  writers:\n    description: Writers\n  reviewers:\n    description: Reviewers\nusers:\n  ann@small.example:\n    org_role: admin\n    teams: [writers, reviewers]\n    spaces:\n      main: [Editor]\n",
    )
    .unwrap();
    let (code, out, _) = run(&["drift", "-c", file.to_str().unwrap(), "--sandbox", SEED]);
    assert_eq!(code, 2);
    let body: String = out
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.replace(file.to_str().unwrap(), "access.yaml")))
        .collect();
    snap("drift__missing_team_and_grants_text", &body);
}

#[test]
fn drift_with_prune_reports_an_undeclared_team() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    std::fs::write(
        &file,
        "version: 1\norganization: SmallOrg01\npolicy:\n  prune: true\n  max_removals: 50%\nspaces:\n  main: main1\nusers:\n  owner@small.example:\n    org_role: owner\n    spaces:\n      main: admin\n  ann@small.example:\n    org_role: admin\n  ben@small.example:\n  cid@small.example:\n  dee@small.example:\n  zed@small.example:\n",
    )
    .unwrap();
    let (code, out, _) = run(&["drift", "-c", file.to_str().unwrap(), "--sandbox", SEED]);
    assert_eq!(code, 2);
    assert!(
        out.contains(
            "  team writers\n    the file says:  not declared (policy.prune: true)\n    Contentful has: exists (with 3 team or space memberships)\n    last changed by ann@small.example at 2026-09-09T09:09:09Z\n"
        ),
        "{out}"
    );
}

/// Issue 15: a role edited in the web app after the export shows in `drift` with who and when.
/// The roles seed is exported, then the German translator role in marketing is given `delete` on
/// entries through the real client, the edit attributed to Tom at a fixed time (as Contentful
/// records the web app's user), and drift compares the exported file with the organization.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_a_role_edited_after_the_export_with_who_and_when() {
    use crate::util::{fast_client, root, run_against, unlimited_sandbox};
    use contentful_access::sandbox::{ObjectKind, Seed};
    let seed =
        Seed::from_json(&std::fs::read_to_string(root().join("tests/seeds/roles.json")).unwrap())
            .unwrap();
    let server = unlimited_sandbox(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let file = file.to_str().unwrap();
    let out = run_against(&server, &["export", "--org", "RolesOrg01", "-o", file]).await;
    assert!(out.status.success(), "{}", crate::util::text(&out.stderr));
    let out = run_against(&server, &["drift", "-c", file]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::util::text(&out.stdout)
    );

    let client = fast_client(&server);
    let role = client.get_role("mkt1", "r-mkt-translator").await.unwrap();
    let mut edited = role.definition.clone();
    edited.policies[0]["actions"] = serde_json::json!(["read", "update", "delete"]);
    client
        .update_role("mkt1", &role.id, role.version, &role.name, &edited)
        .await
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T16:45:00Z")
        .unwrap()
        .to_utc();
    assert!(server.with_world(|w| w.bump_version(ObjectKind::Role, &role.id, "u-tom", at)));

    let out = run_against(&server, &["drift", "-c", file, "--color", "never"]).await;
    let text = crate::util::text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("German translator"), "{text}");
    assert!(
        text.contains("last changed by tom@roles.example at 2026-11-30T16:45:00Z"),
        "{text}"
    );
    let out = run_against(&server, &["drift", "-c", file, "--format", "markdown"]).await;
    let md = crate::util::text(&out.stdout);
    assert!(md.contains("tom@roles.example"), "{md}");
    let path = [(regex_escape(file), "access.yaml")];
    let filters: Vec<(&str, &str)> = path.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    crate::util::snap_with("drift__role_edited_text", &text, &filters, None);
    crate::util::snap_with("drift__role_edited_markdown", &md, &filters, None);
    server.shutdown().await;
}

/// `s` as a regular expression matching itself.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
