//! `contentful-access audit` against sandbox seeds: every finding with its evidence, with and
//! without an access file, in every format, at a fixed time.
#![allow(clippy::unwrap_used)]

use crate::util::{run, snap};

const SEED: &str = "tests/seeds/small.json";
const FILE: &str = "tests/seeds/small-access.yaml";
const NOW: &str = "2026-11-23T00:00:00Z";

fn audit(extra: &[&str]) -> String {
    let mut args = vec!["audit", "--sandbox", SEED, "--now", NOW];
    args.extend(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn audit_with_a_file_reports_every_finding_with_evidence() {
    let out = audit(&["-c", FILE]);
    for expected in [
        "[seats] organization: 6 seats in use, 6 after apply",
        "[inactive_member] ben@small.example: never active",
        "[inactive_member] zed@small.example: not active for 540 days (more than 90)",
        "[expired_invitation] dee@small.example: invited 52 days ago",
        "[seat_without_access] ben@small.example",
        "[space_without_admin] space archive: nobody is space admin",
        "[unmanaged_token] zed@small.example: personal access token still active: its owner is not declared",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    // Not findings: the recent invitation, the revoked token, a declared member's token, the
    // space that has an admin, members with access through a team.
    assert!(!out.contains("cid@small.example"), "{out}");
    assert!(!out.contains("Revoked one"), "{out}");
    assert!(!out.contains("Ann CLI"), "{out}");
    assert!(!out.contains("space main"), "{out}");
    snap("audit__small_text", &out);
}

#[test]
fn audit_counts_seats_after_a_plan_that_removes_and_flags_the_removed_members_token() {
    let out = audit(&["-c", "tests/seeds/small-prune.yaml"]);
    assert!(
        out.contains("[seats] organization: 6 seats in use, 5 after apply"),
        "{out}"
    );
    assert!(
        out.contains(
            "zed@small.example: personal access token still active: the plan removes its owner"
        ),
        "{out}"
    );
}

#[test]
fn audit_without_a_file_checks_every_space_and_skips_token_ownership() {
    let out = audit(&["--org", "SmallOrg01", "--inactive-days", "600"]);
    assert!(
        out.contains("[seats] organization: 6 seats in use\n"),
        "{out}"
    );
    // 540 days is under the 600-day threshold; never active still counts.
    assert!(!out.contains("zed@small.example: not active"), "{out}");
    assert!(out.contains("ben@small.example: never active"), "{out}");
    assert!(out.contains("[space_without_admin] space Archive"), "{out}");
    assert!(!out.contains("unmanaged_token"), "{out}");
}

#[test]
fn audit_json_csv_and_markdown() {
    let json = audit(&["-c", FILE, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["seats"]["active"], 4);
    assert_eq!(v["seats_after_apply"]["pending"], 2);
    assert_eq!(v["findings"].as_array().unwrap().len(), 9);
    snap("audit__small_json", &json);

    let csv = audit(&["-c", FILE, "--format", "csv"]);
    assert_eq!(csv.lines().next().unwrap(), "kind,subject,message,evidence");
    assert_eq!(csv.lines().count(), 10);
    snap("audit__small_csv", &csv);

    let md = audit(&["-c", FILE, "--format", "markdown"]);
    assert_eq!(
        md.lines().next().unwrap(),
        "<!-- contentful-access:audit org=SmallOrg01 -->"
    );
    snap("audit__small_markdown", &md);
}

#[test]
fn audit_needs_a_file_or_an_org() {
    let (code, _, err) = run(&["audit", "--sandbox", SEED]);
    assert_eq!(code, 1, "a usage error is an error, not \"changes\": {err}");
    assert!(err.contains("--config <FILE>"), "{err}");
}

#[test]
fn audit_without_a_file_or_an_org_names_both_ways_to_run_it() {
    let out = crate::util::cli(&["audit", "--sandbox"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = crate::util::text(&out.stderr);
    assert!(stderr.contains("--config <FILE>"), "{stderr}");
    assert!(stderr.contains("--org <ID>"), "{stderr}");
}

/// `--expiring-within`: what ends within the window, soonest first, with what ends and when; what
/// has ended and is still held (the plan removes it); not what ends later, nor what ended long ago
/// and is gone.
#[test]
fn audit_expiring_within_lists_what_ends_in_the_window_soonest_first() {
    const EXPIRING: &str = "tests/seeds/small-expiring.yaml";
    let out = audit(&["-c", EXPIRING, "--expiring-within", "14d"]);
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("[expiring_access]"))
        .map(str::trim)
        .collect();
    assert_eq!(
        listed,
        [
            "[expiring_access] cid@small.example: membership of team writers expired on 2025-06-30; the plan removes it",
            "[expiring_access] ann@small.example: access to space archive expired on 2026-11-20; the plan removes it",
            "[expiring_access] ann@small.example: membership of team writers expires on 2026-11-24T12:00:00Z (in 1 day)",
            "[expiring_access] zed@small.example: the organization membership expires on 2026-12-01 (in 9 days)",
        ],
        "{out}"
    );
    assert!(
        out.contains("      - expires: 2026-12-01 (access ends at 2026-12-02T00:00:00Z)\n      - declared at tests/seeds/small-expiring.yaml:37:14"),
        "{out}"
    );
    // A shorter window: only what ends within 36 hours (and what has ended).
    let out = audit(&["-c", EXPIRING, "--expiring-within", "36h"]);
    assert!(
        out.contains("writers expires on 2026-11-24T12:00:00Z (in 1 day)"),
        "{out}"
    );
    assert!(
        !out.contains("zed@small.example: the organization"),
        "{out}"
    );
    // Without the flag, no expiry is listed.
    let out = audit(&["-c", EXPIRING]);
    assert!(!out.contains("expiring_access"), "{out}");

    // JSON carries the facts; markdown the same rows.
    let json = audit(&[
        "-c",
        EXPIRING,
        "--expiring-within",
        "2w",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let expiring: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "expiring_access")
        .collect();
    assert_eq!(expiring.len(), 4, "{json}");
    assert_eq!(
        expiring[3]["facts"],
        serde_json::json!({
            "type": "expiring",
            "access": {"type": "membership"},
            "expires": "2026-12-01",
            "ends_at": "2026-12-02T00:00:00Z",
            "removed_by_plan": false,
            "declared_at": "tests/seeds/small-expiring.yaml:37:14",
        })
    );
    assert_eq!(expiring[1]["facts"]["removed_by_plan"], true);
    let md = audit(&[
        "-c",
        EXPIRING,
        "--expiring-within",
        "2w",
        "--format",
        "markdown",
    ]);
    assert!(
        md.contains("| expiring_access | zed@small.example | the organization membership expires on 2026-12-01 (in 9 days) |"),
        "{md}"
    );
}

#[test]
fn audit_expiring_within_needs_the_access_file_and_a_window_it_can_read() {
    let (code, _, err) = run(&[
        "audit",
        "--sandbox",
        SEED,
        "--org",
        "SmallOrg01",
        "--expiring-within",
        "14d",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--expiring-within 14d needs the access file (--config <FILE>)"),
        "{err}"
    );
    for bad in ["14", "1M", "d", "-3d", "1.5d"] {
        let flag = format!("--expiring-within={bad}");
        let (code, _, err) = run(&["audit", "--sandbox", SEED, "-c", FILE, &flag]);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(err.contains("36h, 14d or 2w"), "{bad}: {err}");
    }
}

/// The identity-provider seed carries `sys.sso` on every membership: the audit shows the last SSO
/// sign-in beside `lastActiveAt` and lists the members exempt from SSO-restricted mode (the owner,
/// by Contentful's rule, and a manually exempted contractor), with the reason; nobody else.
#[test]
fn audit_shows_sso_sign_ins_and_lists_members_exempt_from_sso() {
    let idp = [
        "audit",
        "--sandbox",
        "tests/seeds/idp.json",
        "-c",
        "tests/seeds/idp-access.yaml",
        "--now",
        "2026-10-05T09:00:00Z",
    ];
    let (code, out, err) = run(&idp);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "[inactive_member] eve@idp.example: not active for 262 days (more than 90)\n      \
             - lastActiveAt: 2026-01-15T10:00:00Z\n      - last SSO sign-in: never\n      \
             - org role: member\n"
        ),
        "{out}"
    );
    let exempt: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("[sso_exempt]"))
        .map(str::trim)
        .collect();
    assert_eq!(
        exempt,
        [
            "[sso_exempt] eve@idp.example: exempt from SSO-restricted mode: can sign in without the identity provider",
            "[sso_exempt] owner@idp.example: exempt from SSO-restricted mode: can sign in without the identity provider",
        ],
        "{out}"
    );
    assert!(
        out.contains("      - isExemptFromRestrictedMode: true\n      - exemption reasons: userIsManuallyExempt\n      - last SSO sign-in: never\n      - lastActiveAt: 2026-01-15T10:00:00Z\n      - org role: member (active)\n"),
        "{out}"
    );
    assert!(out.contains("exemption reasons: userIsOwner"), "{out}");

    let mut json_args = idp.to_vec();
    json_args.extend(["--format", "json"]);
    let (_, json, _) = run(&json_args);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let eve = findings
        .iter()
        .find(|f| f["kind"] == "sso_exempt" && f["subject"] == "eve@idp.example")
        .unwrap();
    assert_eq!(eve["facts"]["type"], "member");
    assert_eq!(eve["facts"]["last_active_at"], "2026-01-15T10:00:00Z");
    // An organization without SSO data: no SSO line, no finding (tests/seeds/small.json).
    let small = audit(&["-c", FILE]);
    assert!(!small.contains("SSO"), "{small}");
}

#[test]
fn audit_reports_roles_defined_differently_across_spaces_and_roles_nobody_uses() {
    let args = [
        "audit",
        "--sandbox",
        "tests/seeds/roles.json",
        "-c",
        "tests/seeds/roles-access.yaml",
        "--now",
        NOW,
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    // Reviewer: blog and marketing differ only in key and policy order (the same role); docs
    // also lets reviewers publish.
    assert!(
        out.contains(
            "[diverged_role] role Reviewer: defined differently across spaces: 2 definitions in 3 spaces"
        ),
        "{out}"
    );
    assert!(out.contains("definition 1: blog, marketing"), "{out}");
    assert!(out.contains("definition 2: docs"), "{out}");
    assert!(
        out.contains("definitions 1 and 2 differ in: policies"),
        "{out}"
    );
    assert!(
        out.contains("[unassigned_role] role Legacy: assigned to nobody in 1 space"),
        "{out}"
    );
    // Used roles are not reported: directly (the translator), through a team (Reviewer).
    assert!(!out.contains("German translator"), "{out}");
    assert!(!out.contains("[unassigned_role] role Reviewer"), "{out}");

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, json, err) = run(&json_args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let facts: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "diverged_role" || f["kind"] == "unassigned_role")
        .map(|f| &f["facts"])
        .collect();
    assert_eq!(
        facts,
        [
            &serde_json::json!({"type": "role_definitions", "name": "Reviewer",
                                "definitions": [["blog", "marketing"], ["docs"]]}),
            &serde_json::json!({"type": "unassigned_role", "name": "Legacy", "spaces": ["blog"]}),
        ]
    );
}

#[test]
fn the_custom_roles_seed_and_its_access_file_agree() {
    // The base roles-core's round trip builds on: the file matches the seed before any `roles:`.
    let (code, out, err) = run(&[
        "plan",
        "--sandbox",
        "tests/seeds/roles.json",
        "-c",
        "tests/seeds/roles-access.yaml",
        "--color",
        "never",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains("No changes."), "{out}");
}

/// Without an access file (`--org`), the role findings cover every space of the organization:
/// the organization-wide roles read holds them all (before, no role was read without `-c`).
#[test]
fn audit_without_a_file_reports_role_findings_over_every_space() {
    let args = [
        "audit",
        "--sandbox",
        "tests/seeds/roles.json",
        "--org",
        "RolesOrg01",
        "--now",
        NOW,
        "--format",
        "json",
    ];
    let (code, json, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let facts: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "diverged_role" || f["kind"] == "unassigned_role")
        .map(|f| &f["facts"])
        .collect();
    // Spaces are named by their names in Contentful (there is no file to name them).
    assert_eq!(
        facts,
        [
            &serde_json::json!({"type": "role_definitions", "name": "Reviewer",
                                "definitions": [["Blog", "Marketing"], ["Docs"]]}),
            &serde_json::json!({"type": "unassigned_role", "name": "Legacy", "spaces": ["Blog"]}),
        ],
        "{json}"
    );
}
