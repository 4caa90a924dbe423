//! Unit tests of the validator: one access file per case, the diagnostics it gives.

use super::*;
use crate::config::{ConfigError, load_str};

const HEAD: &str =
    "version: 1\norganization: org1\nspaces:\n  blog: 9w3kd0x1mzq4\n  docs: 3ps8vjz0q7lr\n";

fn errors(text: &str) -> Vec<Diagnostic> {
    match load_str("t.yaml", text) {
        Err(ConfigError::Invalid(d)) => d.items,
        other => panic!("expected diagnostics, got {other:?}"),
    }
}

/// Every message with its position, `line:col message [help]`.
fn messages(text: &str) -> Vec<String> {
    errors(text)
        .into_iter()
        .map(|d| {
            format!(
                "{}:{} {}{}",
                d.span.line,
                d.span.column,
                d.message,
                d.help.map(|h| format!(" [{h}]")).unwrap_or_default()
            )
        })
        .collect()
}

fn ok(text: &str) -> DesiredState {
    match load_str("t.yaml", text) {
        Ok(s) => s,
        Err(e) => panic!("expected valid, got {e:?}"),
    }
}

fn has(text: &str, needle: &str) {
    let m = messages(text);
    assert!(
        m.iter().any(|m| m.contains(needle)),
        "no `{needle}` in {m:#?}"
    );
}

#[test]
fn minimal_file_gets_defaults() {
    let s = ok("version: 1\norganization: org1\nusers:\n  Bob@Example.com:\n");
    assert_eq!(s.organization, "org1");
    assert!(!s.policy.prune);
    assert_eq!(s.policy.max_removals, MaxRemovals::PercentBasisPoints(1000));
    let bob = &s.users[&Email::new("bob@example.com")];
    assert_eq!(bob.org_role, OrgRole::Member);
    assert_eq!(bob.org_role_at, Span::root(4, 3));
    assert_eq!(bob.at, Span::root(4, 3));
    assert_eq!(s.source_sha256.len(), 64);
}

#[test]
fn spans_point_at_each_declaration() {
    let s = ok(&format!(
        "{HEAD}teams:\n  eds:\n    spaces:\n      blog: [Editor, Author]\nusers:\n  a@x.io:\n    org_role: admin\n    teams: [eds]\n    spaces:\n      docs: admin\n"
    ));
    assert_eq!(s.spaces["blog"].at, Span::root(4, 3));
    assert_eq!(s.teams["eds"].at, Span::root(7, 3));
    assert_eq!(s.teams["eds"].description, "");
    let g = &s.teams["eds"].spaces["blog"];
    assert_eq!(g.at, Span::root(9, 7));
    assert_eq!(
        g.access,
        SpaceAccess::Roles(["Author".to_string(), "Editor".to_string()].into())
    );
    let a = &s.users[&Email::new("a@x.io")];
    assert_eq!(a.org_role, OrgRole::Admin);
    assert_eq!(a.org_role_at, Span::root(12, 15));
    assert_eq!(a.teams["eds"], Span::root(13, 13));
    assert_eq!(a.spaces["docs"].access, SpaceAccess::Admin);
    assert_eq!(a.spaces["docs"].at, Span::root(15, 7));
}

#[test]
fn unknown_keys_at_every_level_with_suggestions() {
    has(
        "versoin: 1\norganization: o\n",
        "1:1 unknown key `versoin` in the access file [did you mean `version`?]",
    );
    has(
        "version: 1\norganization: o\npolicy:\n  prun: true\n",
        "4:3 unknown key `prun` in `policy` [did you mean `prune`?]",
    );
    has(
        &format!("{HEAD}teams:\n  t:\n    descripton: x\n"),
        "8:5 unknown key `descripton` in team `t` [did you mean `description`?]",
    );
    has(
        "version: 1\norganization: o\nusers:\n  a@x.io:\n    org-role: admin\n",
        "5:5 unknown key `org-role` in user `a@x.io` [did you mean `org_role`?]",
    );
    has(
        "version: 1\norganization: o\nfoo: 1\n",
        "expected one of: version, organization",
    );
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let m = messages("version: 2\norganization: 'bad id'\nusers:\n  nope:\n    org_role: boss\n");
    assert_eq!(m.len(), 4, "{m:#?}");
}

#[test]
fn duplicate_keys_point_at_the_repeat_and_name_the_first() {
    has(
        "version: 1\norganization: o\nversion: 1\n",
        "3:1 duplicate key `version` in the access file (first at line 1)",
    );
    has(
        "version: 1\norganization: o\nusers:\n  jane@x.io:\n  Jane@X.io:\n",
        "5:3 duplicate key `Jane@X.io` in `users`: same as `jane@x.io` at line 4",
    );
    has(
        &format!("{HEAD}  blog: abc\n"),
        "6:3 duplicate key `blog` in `spaces`",
    );
}

#[test]
fn malformed_emails_are_rejected() {
    has(
        "version: 1\norganization: o\nusers:\n  jane.example.com:\n",
        "4:3 `jane.example.com` is not a valid email address",
    );
    has(
        "version: 1\norganization: o\npolicy:\n  protected: [a@b]\n",
        "4:15 `a@b` in `protected` is not a valid email address",
    );
}

#[test]
fn unknown_org_roles_are_rejected() {
    has(
        "version: 1\norganization: o\nusers:\n  a@x.io:\n    org_role: Admin\n",
        "5:15 unknown org role `Admin` for user `a@x.io` [did you mean `admin`?]",
    );
    has(
        "version: 1\norganization: o\nusers:\n  a@x.io:\n    org_role: boss\n",
        "org roles are owner, admin, developer and member",
    );
}

#[test]
fn references_to_undeclared_teams_and_spaces_are_rejected() {
    let text = format!(
        "{HEAD}teams:\n  editors:\n    spaces:\n      blgo: [Editor]\nusers:\n  a@x.io:\n    teams: [editor]\n    spaces:\n      marketing: admin\n"
    );
    has(
        &text,
        "9:7 team `editors` refers to space `blgo`, which is not declared under `spaces` [did you mean `blog`?]",
    );
    has(
        &text,
        "12:13 user `a@x.io` refers to team `editor`, which is not declared under `teams` [did you mean `editors`?]",
    );
    has(
        &text,
        "14:7 user `a@x.io` refers to space `marketing`, which is not declared",
    );
}

#[test]
fn role_lists_must_be_non_empty_without_admin_or_repeats() {
    let text = format!(
        "{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: []\n      docs: [Editor, admin, Editor]\n"
    );
    has(
        &text,
        "9:13 the access of user `a@x.io` to `blog` is an empty role list",
    );
    has(&text, "10:22 `admin` cannot be mixed with role names");
    has(&text, "10:29 role `Editor` is listed twice");
    has(
        &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: Admin\n"),
        "[did you mean `admin`?]",
    );
    has(
        &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: Editor\n"),
        "[write `[Editor]` for a list of one role]",
    );
}

#[test]
fn contradictory_policy_entries_are_rejected() {
    let text = "version: 1\norganization: o\npolicy:\n  protected: [a@x.io, ops]\n  ignore: [A@x.io, ops, b@x.io]\nusers:\n  b@x.io:\n";
    has(text, "5:12 a@x.io is both protected (line 4) and ignored");
    has(text, "5:20 team ops is both protected (line 4) and ignored");
    has(text, "5:25 b@x.io is declared (line 7) and also ignored");
}

#[test]
fn principals_are_users_with_at_and_teams_otherwise() {
    let s = ok("version: 1\norganization: o\npolicy:\n  protected: [Owner@X.io, platform]\n");
    assert!(
        s.policy
            .is_protected(&Principal::User(Email::new("owner@x.io")))
    );
    assert!(s.policy.is_protected(&Principal::Team("platform".into())));
}

#[test]
fn version_must_be_present_and_supported() {
    has(
        "organization: o\n",
        "1:1 missing `version` [add `version: 1`",
    );
    has(
        "version: 2\norganization: o\n",
        "1:10 unsupported version `2`",
    );
    has(
        "version: one\norganization: o\n",
        "`version` must be the integer 1, found a string",
    );
}

#[test]
fn organization_must_be_present_and_an_id() {
    has("version: 1\n", "missing `organization`");
    has(
        "version: 1\norganization: 'acme org!'\n",
        "2:15 `acme org!` is not a valid Contentful organization id",
    );
}

#[test]
fn max_removals_accepts_counts_and_percentages_only() {
    let get = |v: &str| {
        ok(&format!(
            "version: 1\norganization: o\npolicy:\n  max_removals: {v}\n"
        ))
        .policy
    };
    assert_eq!(get("5").max_removals, MaxRemovals::Count(5));
    assert_eq!(get("0").max_removals, MaxRemovals::Count(0));
    assert_eq!(
        get("2.5%").max_removals,
        MaxRemovals::PercentBasisPoints(250)
    );
    assert_eq!(
        get("100%").max_removals,
        MaxRemovals::PercentBasisPoints(10_000)
    );
    assert_eq!(
        get("12.75%").max_removals,
        MaxRemovals::PercentBasisPoints(1275)
    );
    assert_eq!(get("5").max_removals_at, Span::root(4, 17));
    for bad in ["-1", "101%", "10.%", "1.234%", "ten", "2.5", "[1]", "'%'"] {
        has(
            &format!("version: 1\norganization: o\npolicy:\n  max_removals: {bad}\n"),
            "max_removals",
        );
    }
}

#[test]
fn space_ids_must_be_contentful_ids() {
    has(
        "version: 1\norganization: o\nspaces:\n  blog: 'has space'\n",
        "4:9 `has space` is not a valid Contentful space id",
    );
    has(
        &format!(
            "version: 1\norganization: o\nspaces:\n  blog: {}\n",
            "a".repeat(65)
        ),
        "is not a valid Contentful space id",
    );
    has(
        "version: 1\norganization: o\nspaces:\n  a: x1\n  b: x1\n",
        "5:6 space id `x1` is already declared as `a` (line 4)",
    );
    has(
        "version: 1\norganization: o\nspaces:\n  '': x1\n",
        "4:3 a space name cannot be empty",
    );
    has(
        "version: 1\norganization: o\nteams:\n  '': {}\n",
        "4:3 a team name cannot be empty",
    );
    has(
        "version: 1\norganization: o\nspaces:\n  a: ''\n",
        "4:6 the space id of `a` is empty",
    );
}

#[test]
fn wrong_value_types_say_what_was_expected() {
    has(
        "version: 1\norganization: o\nusers: [a@x.io]\n",
        "3:8 `users` must be a mapping, found a list",
    );
    has(
        "version: 1\norganization: o\nusers:\n  a@x.io:\n    teams: 3\n",
        "the teams of user `a@x.io` must be a list of team names, found an integer",
    );
    has(
        "version: 1\norganization: o\npolicy:\n  prune: yes please\n",
        "`prune` must be true or false, found a string",
    );
    has(
        "version: 1\norganization: o\npolicy:\n  ignore: ci@x.io\n",
        "[write `[ci@x.io]` for a list of one]",
    );
    has(
        &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: 5\n"),
        "must be a list of role names or the word `admin`, found an integer",
    );
}

#[test]
fn yaml_syntax_errors_are_one_positioned_diagnostic() {
    let e = errors("version: 1\norganization: [o\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].message.starts_with("invalid YAML"), "{e:?}");
    assert!(e[0].span.line >= 2, "{e:?}");
}

#[test]
fn names_keep_their_yaml_spelling() {
    let s = ok(
        "version: 1\norganization: o\nspaces:\n  no: 0123\nteams:\n  yes:\n    spaces:\n      no: [Editor]\n",
    );
    assert_eq!(s.spaces["no"].id, "0123");
    assert!(s.teams["yes"].spaces.contains_key("no"));
}

#[test]
fn did_you_mean_picks_close_names_only() {
    assert_eq!(
        did_you_mean("editor", ["editors", "web-admins"]).as_deref(),
        Some("did you mean `editors`?")
    );
    assert_eq!(did_you_mean("zzz", ["editors"]), None);
    assert_eq!(parse_percent("0%"), Some(0));
    assert_eq!(parse_percent("100.01%"), None);
    assert!(is_contentful_id("a-b_c.d"));
    assert!(!is_contentful_id(""));
}

#[test]
fn the_example_is_valid() {
    let text = include_str!("../../examples/access.yaml");
    let s = ok(text);
    assert_eq!((s.users.len(), s.teams.len(), s.spaces.len()), (24, 3, 3));
    assert_eq!(s.policy.max_removals, MaxRemovals::PercentBasisPoints(1000));
    assert!(
        s.policy
            .is_ignored(&Principal::User(Email::new("ci-bot@acme.example")))
    );
}

const ROLES: &str = "roles:
  Reviewer:
    description: Reviews and publishes blog posts
    spaces: [blog]
    permissions:
      ContentModel: [read]
      Settings: []
      ContentDelivery: all
    policies:
      - effect: allow
        actions: [read, publish]
        environments: [master]
        constraint:
          and:
            - equals: [{doc: sys.type}, Entry]
            - paths: [{doc: fields.%.%}]
    extra:
      future: {x: 1}
  Translator:
    spaces: all
";

#[test]
fn roles_keep_their_definition_verbatim() {
    let s = ok(&format!("{HEAD}{ROLES}"));
    let r = &s.roles["Reviewer"];
    assert_eq!(r.definition.description, "Reviews and publishes blog posts");
    assert_eq!(r.spaces.iter().collect::<Vec<_>>(), ["blog"]);
    assert!(!r.all_spaces);
    assert_eq!(
        serde_json::Value::Object(r.definition.permissions.clone()),
        serde_json::json!({"ContentModel": ["read"], "Settings": [], "ContentDelivery": "all"})
    );
    // An unknown policy field (`environments`) and an `extra` field pass through untouched.
    assert_eq!(
        r.definition.policies,
        vec![serde_json::json!({
            "effect": "allow", "actions": ["read", "publish"], "environments": ["master"],
            "constraint": {"and": [
                {"equals": [{"doc": "sys.type"}, "Entry"]},
                {"paths": [{"doc": "fields.%.%"}]}
            ]}
        })]
    );
    assert_eq!(r.definition.other["future"], serde_json::json!({"x": 1}));
    let t = &s.roles["Translator"];
    assert!(t.all_spaces);
    assert_eq!(t.spaces.iter().collect::<Vec<_>>(), ["blog", "docs"]);
    assert!(s.role_in("Reviewer", "blog").is_some());
    assert!(s.role_in("Reviewer", "docs").is_none());
    assert!(!s.policy.prune_roles);
}

#[test]
fn role_shape_errors_are_located() {
    let bad = format!(
        "{HEAD}roles:
  Reviewer:
    spaces: [blgo]
    permissions:
      ContentModel: 3
    policies:
      - effect: alow
        actions: [read, publsh]
        constraint:
          equal: [{{doc: sys.type}}, Entry]
  Nobody:
    description: x
"
    );
    let m = messages(&bad);
    assert_eq!(
        m,
        vec![
            "8:14 role `Reviewer` applies to space `blgo`, which is not declared under `spaces` [did you mean `blog`?]".to_string(),
            "10:21 permission `ContentModel` of role `Reviewer` must be a list of actions or the word `all`, found an integer [e.g. `ContentModel: [read]`, `Settings: []` or `ContentDelivery: all`]".into(),
            "12:17 the `effect` of a policy of role `Reviewer` must be `allow` or `deny`, found `alow` [did you mean `allow`?]".into(),
            "13:25 unknown action `publsh` in a policy of role `Reviewer` [did you mean `publish`?]".into(),
            "15:11 unknown constraint operator `equal` in a policy of role `Reviewer` [did you mean `equals`?]".into(),
            "16:3 role `Nobody` has no `spaces` [list the managed spaces it applies to (`spaces: [blog]`) or write `spaces: all`]".into(),
        ]
    );
}

#[test]
fn a_declared_role_granted_outside_its_spaces_is_an_error_at_the_grant() {
    let text = format!(
        "{HEAD}{ROLES}teams:\n  writers:\n    spaces:\n      docs: [Translator, Reviewer]\nusers:\n  a@example.com:\n    spaces:\n      blog: [Reviewer]\n"
    );
    let m = messages(&text);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(
        m[0].starts_with("29:26 team `writers` is given role `Reviewer` in space `docs`, but the role (declared at line 7) applies only to: blog"),
        "{m:#?}"
    );
}

#[test]
fn roles_belong_to_the_root_file_and_prune_roles_is_a_boolean() {
    has(
        &format!("{HEAD}policy:\n  prune_roles: maybe\n"),
        "`prune_roles` must be true or false",
    );
    assert!(
        ok(&format!("{HEAD}policy:\n  prune_roles: true\n"))
            .policy
            .prune_roles
    );
}
