//! `contentful-access explain`: one person's access per managed space (direct and through teams),
//! live and as the file wants it; and everyone with access to one space.
#![allow(clippy::unwrap_used)]

use crate::util::{run, snap};

const SEED: &str = "tests/seeds/small.json";
const FILE: &str = "tests/seeds/small-access.yaml";

#[test]
fn explain_a_person_shows_direct_and_team_access_live_and_desired() {
    let (code, out, err) = run(&[
        "explain",
        "ANN@small.example",
        "-c",
        FILE,
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("live: active member of the organization as admin"),
        "{out}"
    );
    assert!(out.contains("  archive   (differs)\n    live: [Editor] directly → effective [Editor]\n    file: no access"), "{out}");
    assert!(out.contains("    live: [Author] through team writers → effective [Author]\n    file: [Author, Editor] through team writers"), "{out}");
    snap("explain__user_text", &out);
}

#[test]
fn explain_an_undeclared_person() {
    let (code, out, _) = run(&[
        "explain",
        "zed@small.example",
        "-c",
        FILE,
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("file: not declared (policy.prune: false, so plan leaves their access alone)"),
        "{out}"
    );
    // Prune is off: plan leaves an undeclared person's access alone, so it is not marked as a
    // difference plan would fix.
    assert!(
        out.contains("  archive   (differs, but not managed by the file: left alone, prune is off)\n    live: [Author] directly"),
        "{out}"
    );
    assert!(!out.contains("archive   (differs)\n"), "{out}");

    // With prune on, plan removes them: that is a difference.
    let (code, out, _) = run(&[
        "explain",
        "zed@small.example",
        "-c",
        "tests/seeds/small-prune.yaml",
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("policy.prune: true, so plan removes them"),
        "{out}"
    );
    assert!(out.contains("  archive   (differs)\n"), "{out}");
}

#[test]
fn explain_an_unknown_email_fails_and_suggests_the_closest_known_one() {
    let (code, out, err) = run(&["explain", "ann@smal.example", "-c", FILE, "--sandbox", SEED]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("ann@smal.example is neither a member of the organization nor declared in the access file; did you mean ann@small.example?"),
        "{err}"
    );
    // Nothing close: no suggestion.
    let (code, _, err) = run(&[
        "explain",
        "nobody@elsewhere.example",
        "-c",
        FILE,
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("nor declared in the access file\n"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn explain_labels_ignored_and_protected_people() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let text = std::fs::read_to_string(crate::util::root().join(FILE)).unwrap();
    let text = text.replacen(
        "organization: SmallOrg01\n",
        "organization: SmallOrg01\npolicy:\n  protected: [ann@small.example]\n  ignore: [zed@small.example]\n",
        1,
    );
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();

    let (code, out, err) = run(&[
        "explain",
        "zed@small.example",
        "-c",
        file,
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("policy: ignored (policy.ignore)"), "{out}");
    assert!(
        out.contains("  archive   (ignored: policy.ignore, never managed)"),
        "{out}"
    );

    let (code, out, err) = run(&[
        "explain",
        "ann@small.example",
        "-c",
        file,
        "--sandbox",
        SEED,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("policy: protected (policy.protected)"),
        "{out}"
    );
    assert!(
        out.contains(
            "  archive   (differs; protected: never changed, a plan that would is refused)"
        ),
        "{out}"
    );

    // In a space's explanation each person's row carries the same status.
    let (_, json, _) = run(&[
        "explain",
        "--space",
        "main",
        "-c",
        file,
        "--sandbox",
        SEED,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let status = |who: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == who)
            .map(|r| r["status"].clone())
            .unwrap()
    };
    assert_eq!(status("ann@small.example"), "protected");
    assert_eq!(status("cid@small.example"), "differs");
    assert_eq!(status("owner@small.example"), "matches");
}

#[test]
fn explain_a_space_lists_everyone_with_access() {
    let (code, out, err) = run(&["explain", "--space", "main", "-c", FILE, "--sandbox", SEED]);
    assert_eq!(code, 0, "{err}");
    for who in [
        "owner@small.example",
        "ann@small.example",
        "cid@small.example",
    ] {
        assert!(out.contains(&format!("\n  {who}")), "{who} missing:\n{out}");
    }
    assert!(!out.contains("zed@small.example"), "{out}");
    snap("explain__space_text", &out);
    let (_, json, _) = run(&[
        "explain",
        "--space",
        "main",
        "-c",
        FILE,
        "--sandbox",
        SEED,
        "--format",
        "json",
    ]);
    snap("explain__space_json", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let owner = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "owner@small.example")
        .unwrap();
    assert_eq!(owner["live"]["direct"], "admin");
}

#[test]
fn explain_an_unknown_space_fails_and_names_the_managed_ones() {
    let (code, _, err) = run(&["explain", "--space", "blog", "-c", FILE, "--sandbox", SEED]);
    assert_eq!(code, 1);
    assert!(
        err.contains("`blog` is not a space of the access file (managed spaces: archive, main)"),
        "{err}"
    );
}

#[test]
fn explain_names_the_custom_role_per_space_and_the_team_it_comes_through() {
    let (code, out, err) = run(&[
        "explain",
        "rita@roles.example",
        "-c",
        "tests/seeds/roles-access.yaml",
        "--sandbox",
        "tests/seeds/roles.json",
    ]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "  blog\n    live: [Reviewer] directly → effective [Reviewer]",
        "  docs\n    live: [Reviewer] through team reviewers → effective [Reviewer]",
        "  marketing\n    live: [Reviewer] through team reviewers → effective [Reviewer]",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}
