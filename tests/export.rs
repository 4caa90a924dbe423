//! `contentful-access export`: the written file is a valid access file, and planning it against the
//! same organization gives "No changes" — on the demo org, a small seed with pending invitees and
//! awkward names, and the 10,000-user synthetic org.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use contentful_access::config;
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::export;
use contentful_access::model::{DesiredState, LiveState};
use contentful_access::plan::{self, PlanOptions};
use contentful_access::sandbox::{Seed, Server, SyntheticSpec, synthetic};
use secrecy::SecretString;

use crate::util::{root, run, snap};

/// Exports with the binary, then plans the file against the same seed: exit 0 and "No changes".
fn round_trip_cli(org: &str, seed: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let file = file.to_str().unwrap();
    let mut args = vec!["export", "--org", org, "-o", file, "--sandbox"];
    args.extend(seed);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(file).unwrap();
    config::load_str("access.yaml", &text).unwrap();
    let mut args = vec!["plan", "-c", file, "--detailed-exitcode", "--sandbox"];
    args.extend(seed);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("No changes."), "{out}");
    text
}

#[test]
fn export_of_the_demo_org_plans_to_no_changes() {
    let text = round_trip_cli("2AcmeDemoOrgSandbox001", None);
    assert!(text.starts_with("# yaml-language-server: $schema=access.schema.json\n"));
    // The pending invitee is marked.
    assert!(text.contains("  # pending invitation, sent 2026-10-12\n  priya.raman@acme.example:"));
    assert!(text.contains("  sandbox-playground: 7hq0ut5rrw2d   # Sandbox playground\n"));
}

#[test]
fn export_of_a_small_org_plans_to_no_changes_and_reads_well() {
    let text = round_trip_cli("SmallOrg01", Some("tests/seeds/small.json"));
    // The header names the tool's version; keep the snapshot stable across releases.
    snap(
        "export__small",
        &text.replace(env!("CARGO_PKG_VERSION"), "[version]"),
    );
}

#[test]
fn export_of_chosen_spaces_manages_only_those() {
    let (code, out, err) = run(&[
        "export",
        "--org",
        "SmallOrg01",
        "--spaces",
        "arch1",
        "--sandbox",
        "tests/seeds/small.json",
    ]);
    assert_eq!(code, 0, "{err}");
    let d = config::load_str("x.yaml", &out).unwrap();
    assert_eq!(d.spaces.keys().collect::<Vec<_>>(), ["archive"]);
    // The team's access is in the other space, so it has none here.
    assert!(d.teams["writers"].spaces.is_empty());
    assert_eq!(
        d.users[&contentful_access::model::Email::new("zed@small.example")].spaces["archive"]
            .access
            .to_string(),
        "[Author]"
    );
}

#[test]
fn export_of_an_unknown_space_fails() {
    let (code, out, err) = run(&[
        "export",
        "--org",
        "SmallOrg01",
        "--spaces",
        "nope1",
        "--sandbox",
        "tests/seeds/small.json",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("space nope1 is not a space of organization SmallOrg01"),
        "{err}"
    );
}

#[test]
fn export_quotes_names_yaml_would_misread_and_keeps_slugs_unique() {
    let mut seed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/seeds/small.json")).unwrap(),
    )
    .unwrap();
    // Two spaces whose names slug the same, a team called `no`, a description that looks like a
    // number and one with YAML punctuation, a role name with a comma.
    seed["spaces"][1]["name"] = "Main site!".into();
    seed["teams"][0]["name"] = "no".into();
    seed["teams"][0]["description"] = "0123".into();
    seed["teams"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "t2", "name": "ops: core #1", "description": "- [x] yes"}));
    seed["roles"][0]["name"] = "Editor, Senior".into();
    seed["teamSpaceMemberships"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "tsm2", "team": "t2", "space": "main1", "roles": ["r-main-editor"]}));
    let dir = tempfile::tempdir().unwrap();
    let seed_path = dir.path().join("seed.json");
    std::fs::write(&seed_path, seed.to_string()).unwrap();
    let text = round_trip_cli("SmallOrg01", Some(seed_path.to_str().unwrap()));
    assert!(text.contains("  main-site: arch1"), "{text}");
    assert!(text.contains("  main-site-2: main1"), "{text}");
    assert!(
        text.contains("  \"no\":\n    description: \"0123\""),
        "{text}"
    );
    assert!(
        text.contains("  \"ops: core #1\":\n    description: \"- [x] yes\""),
        "{text}"
    );
    assert!(text.contains("main-site-2: [\"Editor, Senior\"]"), "{text}");
}

/// The 10,000-user synthetic org served without a rate limit, read whole through the real
/// client over HTTP: the server, the live state and the export's space names.
async fn synthetic_10k_read() -> (Server, LiveState, BTreeMap<String, String>) {
    let seed: Seed = synthetic(&SyntheticSpec::for_users(10_000));
    let org = seed.organization.id.clone();
    let server = crate::util::unlimited_sandbox(seed).await;
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 100_000;
    cfg.concurrency = 16;
    let client = Client::new(cfg).unwrap();
    let spaces = client.list_spaces(&org).await.unwrap();
    let names = export::space_names(&org, &spaces, &[]).unwrap();
    let ids: Vec<String> = names.values().cloned().collect();
    let live = client.read_live_state(&org, &ids).await.unwrap();
    (server, live, names)
}

/// Planning `desired` against `live` changes nothing.
fn assert_no_changes(desired: &DesiredState, live: &LiveState) {
    let opts = PlanOptions {
        created_at: chrono::DateTime::UNIX_EPOCH,
    };
    let plan = plan::build(desired, live, &opts).unwrap();
    assert!(plan.is_empty(), "{} operations", plan.operations.len());
}

/// The 10,000-user synthetic org, through the real client over HTTP with no rate limit: the
/// export parses, and planning it against the same org changes nothing.
#[test]
fn export_of_the_10k_user_synthetic_org_round_trips() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = Instant::now();
        let (server, live, names) = synthetic_10k_read().await;
        assert_eq!(names.len(), 200);
        let read = started.elapsed();
        let text = export::export(&live, &names, "test");
        let desired = config::load_str("export.yaml", &text).unwrap();
        assert_eq!(desired.users.len(), 10_000);
        // Every space holds the same default roles: each is declared once, for all spaces.
        assert!(!desired.roles.is_empty());
        assert!(desired.roles.values().all(|r| r.all_spaces), "{text:.2000}");
        assert_no_changes(&desired, &live);
        let total = started.elapsed();
        eprintln!(
            "10k export round trip: read {read:?}, total {total:?}, {} bytes",
            text.len()
        );
        // No timing assertion here: speed targets live in benches/ (BENCHMARKS.md).
        server.shutdown().await;
    });
}

#[test]
fn space_names_are_slugs_made_unique() {
    let live = |id: &str, name: &str| contentful_access::model::LiveSpace {
        id: id.into(),
        name: name.into(),
        roles: BTreeMap::new(),
    };
    let spaces = [live("a", "Blog"), live("b", "blog"), live("c", "BLOG!")];
    let names = export::space_names("o", &spaces, &[]).unwrap();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            ("blog".to_string(), "a".to_string()),
            ("blog-2".to_string(), "b".to_string()),
            ("blog-3".to_string(), "c".to_string()),
        ]
    );
}

#[test]
fn export_without_org_uses_the_only_organization_the_token_reaches() {
    let (code, with_org, err) = run(&["export", "--org", "2AcmeDemoOrgSandbox001", "--sandbox"]);
    assert_eq!(code, 0, "{err}");
    let (code, without, err) = run(&["export", "--sandbox"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(without, with_org);
}

#[test]
fn choosing_an_organization_lists_them_when_there_are_several() {
    let two = vec![
        ("org1".to_string(), "Acme".to_string()),
        ("org2".to_string(), "Beta".to_string()),
    ];
    assert_eq!(export::choose_organization(Some("x"), &two).unwrap(), "x");
    assert_eq!(
        export::choose_organization(None, &two[..1]).unwrap(),
        "org1"
    );
    let err = export::choose_organization(None, &two)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the token reaches 2 organizations; choose one with --org ID: org1 (Acme), org2 (Beta)"
    );
    let err = export::choose_organization(None, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("--org ID"), "{err}");
}

/// `export --split DIR` with the binary, then `validate` and `plan` of the written root file
/// against the same seed: every file is valid and the plan is "No changes". Returns the files.
fn split_round_trip_cli(org: &str, seed: Option<&str>) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access");
    let out_s = out.to_str().unwrap();
    let mut args = vec!["export", "--org", org, "--split", out_s, "--sandbox"];
    args.extend(seed);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let root_file = out.join("access.yaml");
    let root_s = root_file.to_str().unwrap();
    let (code, stdout, err) = run(&["validate", "-c", root_s]);
    assert_eq!(code, 0, "{stdout}\n{err}");
    let mut args = vec!["plan", "-c", root_s, "--detailed-exitcode", "--sandbox"];
    args.extend(seed);
    let (code, stdout, err) = run(&args);
    assert_eq!(code, 0, "{stdout}\n{err}");
    assert!(stdout.contains("No changes."), "{stdout}");
    // A second export into the same directory never overwrites a file.
    let mut args = vec!["export", "--org", org, "--split", out_s, "--sandbox"];
    args.extend(seed);
    let (code, _, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot create"), "{err}");
    let mut files = BTreeMap::new();
    for entry in crate::util::files_under(&out) {
        let name = entry
            .strip_prefix(&out)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        files.insert(name, std::fs::read_to_string(&entry).unwrap());
    }
    files
}

#[test]
fn export_split_of_the_demo_and_small_orgs_plans_to_no_changes() {
    let files = split_round_trip_cli("2AcmeDemoOrgSandbox001", None);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [
            "access.yaml",
            "people-without-team.yaml",
            "teams/editors.yaml",
            "teams/localization.yaml",
            "teams/old-agency.yaml",
            "teams/web-admins.yaml",
        ]
    );
    let root_file = &files["access.yaml"];
    assert!(
        root_file.contains("include: [\"teams/*.yaml\", people-without-team.yaml]\n"),
        "{root_file}"
    );
    assert!(!root_file.contains("users:"), "{root_file}");
    // Bob's first team is editors: he is declared there, with his team and his own access.
    let editors = &files["teams/editors.yaml"];
    assert!(editors.contains("teams:\n  editors:\n"), "{editors}");
    assert!(editors.contains("  bob@acme.example:\n"), "{editors}");

    let files = split_round_trip_cli("SmallOrg01", Some("tests/seeds/small.json"));
    let joined: String = files
        .iter()
        .map(|(name, text)| format!("===== {name}\n{text}"))
        .collect();
    snap(
        "export__small_split",
        &joined.replace(env!("CARGO_PKG_VERSION"), "[version]"),
    );
}

/// The 10,000-user synthetic org split into one file per team: the set loads (through the real
/// loader, following the includes) and plans to no changes.
#[test]
fn export_split_of_the_10k_user_synthetic_org_round_trips() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (server, live, names) = synthetic_10k_read().await;
        let files = export::export_split(&live, &names, "test");
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in &files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let started = Instant::now();
        let desired = config::load(&dir.path().join("access.yaml")).unwrap();
        let loaded = started.elapsed();
        assert_eq!(desired.users.len(), 10_000);
        assert_eq!(desired.included.len(), files.len() - 1);
        assert_no_changes(&desired, &live);
        eprintln!(
            "10k split export: {} files, loaded in {loaded:?}",
            files.len()
        );
        server.shutdown().await;
    });
}

#[tokio::test]
async fn export_reads_the_spaces_collection_once() {
    // issue 20: export listed the spaces to choose names, then read them again with the org.
    let seed: Seed = synthetic(&SyntheticSpec::for_users(250));
    let org = seed.organization.id.clone();
    let server = crate::util::unlimited_sandbox(seed).await;
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 100_000;
    let text = contentful_access::ops::export(
        contentful_access::ops::Target::Contentful(cfg),
        Some(&org),
        &[],
        "test",
    )
    .await
    .unwrap();
    assert!(text.contains("spaces:"), "{text}");
    let journal = server.journal_counts();
    assert_eq!(
        journal.count("GET", "/organizations/:org/spaces"),
        1,
        "{:#?}",
        journal.by_route
    );
    server.shutdown().await;
}

/// The custom-roles seed (issue 15): Reviewer identical up to order in marketing and blog and
/// diverged in docs, German translator (environment-scoped, unknown fields) in marketing, Legacy
/// (assigned to nobody) in blog.
const ROLES_SEED: &str = "tests/seeds/roles.json";

/// The roles seed, exported whole through the binary: it plans to "No changes" (run by
/// [`round_trip_cli`]), declares every role whose definition is one, says why Reviewer (defined
/// differently in docs) is not declared, and reads well (snapshot).
#[test]
fn export_of_custom_roles_plans_to_no_changes_and_reads_well() {
    let text = round_trip_cli("RolesOrg01", Some(ROLES_SEED));
    let d = config::load_str("access.yaml", &text).unwrap();
    assert_eq!(
        d.roles.keys().collect::<Vec<_>>(),
        ["German translator", "Legacy"]
    );
    assert!(
        text.contains(
            "# Role `Reviewer` is not declared: its definitions differ between spaces (blog, marketing / docs)."
        ),
        "{text}"
    );
    snap(
        "export__roles",
        &text.replace(env!("CARGO_PKG_VERSION"), "[version]"),
    );
}

/// Exported without docs, Reviewer is one definition (its two spaces differ only in the order
/// of keys, actions and policies): declared once with `spaces: all`, and still "No changes".
#[test]
fn identical_roles_across_spaces_are_declared_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.yaml");
    let file = file.to_str().unwrap();
    let (code, _, err) = run(&[
        "export",
        "--org",
        "RolesOrg01",
        "--spaces",
        "mkt1,blog1",
        "-o",
        file,
        "--sandbox",
        ROLES_SEED,
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(file).unwrap();
    let d = config::load_str("access.yaml", &text).unwrap();
    let reviewer = &d.roles["Reviewer"];
    assert!(reviewer.all_spaces, "{text}");
    assert_eq!(
        reviewer.spaces.iter().collect::<Vec<_>>(),
        ["blog", "marketing"]
    );
    assert_eq!(text.matches("  Reviewer:\n").count(), 1, "{text}");
    assert!(!text.contains("is not declared"), "{text}");
    let (code, out, err) = run(&[
        "plan",
        "-c",
        file,
        "--detailed-exitcode",
        "--sandbox",
        ROLES_SEED,
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("No changes."), "{out}");
}

/// Every declared role reads back exactly as Contentful holds it: the same permissions and
/// policies in the same order, environment-scoped constraints and fields this tool does not know
/// (`futurePolicyField`, `futureRoleField`) untouched — not merely equal in normal form.
#[test]
fn exported_roles_read_back_verbatim() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let seed =
            Seed::from_json(&std::fs::read_to_string(root().join(ROLES_SEED)).unwrap()).unwrap();
        let server = crate::util::unlimited_sandbox(seed).await;
        let client = crate::util::fast_client(&server);
        let spaces = client.list_spaces("RolesOrg01").await.unwrap();
        let names = export::space_names("RolesOrg01", &spaces, &[]).unwrap();
        let ids: Vec<String> = names.values().cloned().collect();
        let live = client.read_live_state("RolesOrg01", &ids).await.unwrap();
        let text = export::export(&live, &names, "test");
        let desired = config::load_str("export.yaml", &text).unwrap();
        let translator = &live.spaces["mkt1"].roles["r-mkt-translator"];
        assert_eq!(
            desired.roles["German translator"].definition, translator.definition,
            "{text}"
        );
        assert_eq!(
            desired.roles["Legacy"].definition,
            live.spaces["blog1"].roles["r-blog-legacy"].definition
        );
        assert_no_changes(&desired, &live);
        // The library's account of what it left out agrees with the file.
        let roles = export::exported_roles(&live, &names);
        assert_eq!(
            roles.left_out,
            [export::LeftOutRole {
                name: "Reviewer".into(),
                why: export::LeftOutReason::Diverged(vec![
                    ["blog".to_string(), "marketing".to_string()].into(),
                    ["docs".to_string()].into(),
                ]),
            }]
        );
        server.shutdown().await;
    });
}
