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
    assert!(out.contains("file: not declared"), "{out}");
    assert!(
        out.contains("  archive   (differs)\n    live: [Author] directly"),
        "{out}"
    );
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
