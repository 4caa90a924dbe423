//! Issue 16 end to end: the real binary, run with `--now`, against sandboxes seeded from
//! `tests/seeds/` — a user waiting for provisioning and an identity-provider team
//! (`tests/seeds/idp.json`), a grant expiring tomorrow vs yesterday, an expired invitation re-sent
//! once and then pending for 7 days (`tests/seeds/small.json`). tests/plan/lifecycle.rs checks the
//! same rules on the library's planner; these check what a user of the command sees.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};

use crate::util::{root, run, run_against, text};

const IDP_SEED: &str = "tests/seeds/idp.json";
const IDP_FILE: &str = "tests/seeds/idp-access.yaml";
const SMALL_SEED: &str = "tests/seeds/small.json";
/// A day after `ann`'s and before `zed`'s grant ends (see [`small_file`]); dee's invitation
/// (2026-10-01) has expired, cid's (2026-11-20) has not.
const NOW: &str = "2026-11-23T09:00:00Z";

/// An access file in sync with `tests/seeds/small.json`, with `extra` lines under `policy:` and
/// the grants of ann and zed to the archive space given as written in `ann_archive` /
/// `zed_archive`.
fn small_file(
    dir: &tempfile::TempDir,
    policy: &str,
    ann_archive: &str,
    zed_archive: &str,
) -> String {
    let path = dir.path().join("access.yaml");
    std::fs::write(
        &path,
        format!(
            "version: 1
organization: SmallOrg01
policy:
  prune: false
{policy}spaces:
  main: main1
  archive: arch1
teams:
  writers:
    description: Writers
    spaces:
      main: [Author]
users:
  owner@small.example:
    org_role: owner
    spaces:
      main: admin
  ann@small.example:
    org_role: admin
    teams: [writers]
    spaces:
      archive: {ann_archive}
  ben@small.example:
  cid@small.example:
    teams: [writers]
  dee@small.example:
  zed@small.example:
    spaces:
      archive: {zed_archive}
"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn plan(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["plan", "--detailed-exitcode"];
    all.extend(args);
    run(&all)
}

// ---------------------------------------------------------------------------------------------
// Identity-provider coexistence
// ---------------------------------------------------------------------------------------------

/// new@idp.example is declared but the identity provider has not provisioned them: the plan
/// neither errors nor invites; it lists them as waiting, with the grants that will follow. The
/// rest of the organization matches the file, so there is nothing to do (exit 0).
#[test]
fn a_user_waiting_for_provisioning_is_listed_not_invited() {
    let (code, out, err) = plan(&["-c", IDP_FILE, "--sandbox", IDP_SEED]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Waiting for provisioning"), "{out}");
    assert!(
        out.contains("new@idp.example as developer, teams: writers, space app [Author]"),
        "{out}"
    );
    assert!(!out.contains("invite"), "{out}");

    let (code, md, err) = plan(&[
        "-c",
        IDP_FILE,
        "--sandbox",
        IDP_SEED,
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("**Waiting for provisioning**"), "{md}");
    let (code, json, err) = plan(&["-c", IDP_FILE, "--sandbox", IDP_SEED, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["waiting"][0]["email"], "new@idp.example", "{json}");
    assert_eq!(v["operations"], serde_json::json!([]), "{json}");
}

/// Once the identity provider provisions the user (as `member`), the next plan grants what the
/// file gives them: org role, team, space access; still no invitation.
#[tokio::test]
async fn a_provisioned_user_is_granted_on_the_next_run() {
    let seed = contentful_access::ops::load_seed(&root().join(IDP_SEED)).unwrap();
    let server = crate::util::unlimited_sandbox(seed).await;
    // SCIM creates the member.
    let now: DateTime<Utc> = "2026-10-05T09:00:00Z".parse().unwrap();
    assert!(server.with_world(|w| w.provision_member("new@idp.example", now)));
    let out = run_against(&server, &["plan", "-c", IDP_FILE, "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["waiting"].as_array().is_none_or(|w| w.is_empty()),
        "nobody waits once provisioned: {v:#}"
    );
    let mut kinds: Vec<&str> = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"]["type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "add_team_member",
            "change_org_role",
            "create_space_membership"
        ],
        "{v:#}"
    );
}

/// `engineering` is managed by the identity provider: its live members (ben, eve) are not the
/// file's (no user lists it), and the plan leaves them. The same file without `managed_by` would
/// remove both: the seed really differs from the file.
#[test]
fn an_identity_provider_team_whose_members_differ_from_the_file_is_not_changed() {
    let (code, out, err) = plan(&["-c", IDP_FILE, "--sandbox", IDP_SEED]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("engineering"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let unmanaged = dir.path().join("access.yaml");
    let yaml = std::fs::read_to_string(root().join(IDP_FILE)).unwrap();
    std::fs::write(
        &unmanaged,
        // Without managed_by the two removals are the plan's; allow them past max_removals.
        yaml.replace("    managed_by: identity_provider\n", "")
            .replace(
                "  org_membership: identity_provider\n",
                "  org_membership: identity_provider\n  max_removals: 10\n",
            ),
    )
    .unwrap();
    let (code, out, err) = plan(&[
        "-c",
        &unmanaged.display().to_string(),
        "--sandbox",
        IDP_SEED,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    for who in ["ben@idp.example", "eve@idp.example"] {
        assert!(
            out.contains(&format!("~ user {who}\n      - team engineering")),
            "{who} leaves engineering without managed_by:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Access that expires
// ---------------------------------------------------------------------------------------------

/// ann's archive grant ended yesterday, zed's ends tomorrow: the plan removes ann's with "expired
/// on 2026-11-22" in text, markdown and JSON, keeps zed's, and the removal counts against
/// `max_removals`.
#[test]
fn a_grant_expiring_tomorrow_stays_and_one_expired_yesterday_is_removed_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_file(
        &dir,
        "  reinvite_expired: false\n",
        "{access: [Editor], expires: 2026-11-22}",
        "{access: [Author], expires: 2026-11-24}",
    );
    let (code, out, err) = plan(&["-c", &file, "--sandbox", SMALL_SEED, "--now", NOW]);
    assert_eq!(code, 2, "{out}{err}");
    let removals: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .collect();
    assert_eq!(removals.len(), 1, "{out}");
    assert!(
        out.contains("  ~ user ann@small.example\n      - space archive [Editor]"),
        "{out}"
    );
    assert!(removals[0].contains("expired on 2026-11-22"), "{out}");
    assert!(!out.contains("zed@small.example"), "{out}");

    let (_, md, _) = plan(&[
        "-c",
        &file,
        "--sandbox",
        SMALL_SEED,
        "--now",
        NOW,
        "--format",
        "markdown",
    ]);
    assert!(md.contains("expired on 2026-11-22"), "{md}");
    let (_, json, _) = plan(&[
        "-c",
        &file,
        "--sandbox",
        SMALL_SEED,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{json}");
    assert_eq!(ops[0]["reason"]["type"], "expired", "{json}");
    assert_eq!(ops[0]["reason"]["expires"]["date"], "2026-11-22", "{json}");

    // The day before, nothing changes; on the last second of the 22nd neither.
    let (code, out, _) = plan(&[
        "-c",
        &file,
        "--sandbox",
        SMALL_SEED,
        "--now",
        "2026-11-22T23:59:59Z",
    ]);
    assert_eq!(code, 0, "{out}");

    // It is a removal like any other for max_removals.
    let strict = small_file(
        &dir,
        "  reinvite_expired: false\n  max_removals: 0\n",
        "{access: [Editor], expires: 2026-11-22}",
        "{access: [Author], expires: 2026-11-24}",
    );
    let (code, out, err) = plan(&["-c", &strict, "--sandbox", SMALL_SEED, "--now", NOW]);
    assert_eq!(code, 3, "refused by max_removals: {out}{err}");
    assert!(format!("{out}{err}").contains("max_removals"), "{out}{err}");
}

/// `drift` compares Contentful with what the file says *now*: an access that ended by its
/// `expires` and is still held is the plan's to remove, not drift.
#[test]
fn drift_does_not_report_an_expiry_as_drift() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_file(
        &dir,
        "  reinvite_expired: false\n",
        "{access: [Editor], expires: 2026-11-22}",
        "[Author]",
    );
    let (code, out, err) = run(&["drift", "-c", &file, "--sandbox", SMALL_SEED, "--now", NOW]);
    assert_eq!(code, 0, "no drift: {out}{err}");
}

/// `validate` warns (exit 0) about an `expires` already past at `--now`, naming the line.
#[test]
fn validate_warns_about_an_expiry_in_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_file(
        &dir,
        "",
        "{access: [Editor], expires: 2026-11-22}",
        "{access: [Author], expires: 2026-11-24}",
    );
    let (code, out, err) = run(&["validate", "-c", &file, "--now", NOW]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("access.yaml:22:44:") && err.contains("ann@small.example's access to space archive expired on 2026-11-22; `plan` removes it"),
        "{err}"
    );
    assert!(!err.contains("zed"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Invitations that expire
// ---------------------------------------------------------------------------------------------

fn re_invites(plan_json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(plan_json).unwrap();
    v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"]["type"] == "reinvite")
        .map(|o| o["kind"]["email"].as_str().unwrap().to_string())
        .collect()
}

/// dee's invitation (2026-10-01) has expired: the plan re-sends it once; `apply` posts it again
/// and the sandbox dates the new invitation when it is sent. A day later it is pending, nothing
/// to do; eight days later it has expired again and is re-sent again.
#[tokio::test]
async fn an_expired_invitation_is_re_sent_once_then_pending_for_7_days() {
    let seed = contentful_access::ops::load_seed(&root().join(SMALL_SEED)).unwrap();
    let server = crate::util::unlimited_sandbox(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = small_file(&dir, "", "[Editor]", "[Author]");

    let out = run_against(
        &server,
        &["plan", "-c", &file, "--now", NOW, "--format", "json"],
    )
    .await;
    assert_eq!(
        re_invites(&out.stdout),
        ["dee@small.example"],
        "{}",
        text(&out.stderr)
    );
    let out = run_against(&server, &["plan", "-c", &file, "--now", NOW]).await;
    let shown = text(&out.stdout);
    assert!(
        shown.contains("~ re-invite, invited 2026-10-01, expired"),
        "{shown}"
    );

    let out = run_against(
        &server,
        &["apply", "-c", &file, "--now", NOW, "--auto-approve"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let resent: DateTime<Utc> = server.with_world(|w| {
        let seed = w.to_seed();
        let dee = seed
            .org_memberships
            .iter()
            .find(|m| m.id == "m-dee")
            .unwrap();
        dee.sys.created_at.unwrap()
    });
    assert!(
        resent > "2026-10-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        "the sandbox dates the new invitation when it is sent"
    );

    // A day later dee's new invitation is pending: not re-sent (others' invitations, dated by
    // the seed, may have expired by then: only dee is this test's).
    let at = |d: Duration| (resent + d).to_rfc3339();
    let next_day = at(Duration::days(1));
    let out = run_against(
        &server,
        &["plan", "-c", &file, "--now", &next_day, "--format", "json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !re_invites(&out.stdout).contains(&"dee@small.example".to_string()),
        "no re-invite a day later: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("dee@small.example"),
        "still listed as pending"
    );

    let later = at(Duration::days(8));
    let out = run_against(
        &server,
        &["plan", "-c", &file, "--now", &later, "--format", "json"],
    )
    .await;
    assert!(re_invites(&out.stdout).contains(&"dee@small.example".to_string()));
}
