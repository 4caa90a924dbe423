//! Issue 15 (custom roles as code) planning scenarios: role operations, their order against
//! grants, reordering that is no change, pruning, and the one-definition-many-spaces rendering.
//! Access files are YAML, as a user writes them.

use chrono::{TimeZone, Utc};
use contentful_access::config;
use contentful_access::model::{DesiredState, LiveRole, LiveState, OrgRole, SpaceAccess};
use contentful_access::plan::{self, OpKind, Plan, PlanOptions, created_role_op};
use serde_json::json;

use super::fixtures::{BLOG, MARKETING, ORG, Org, roles};

const OWNER: &str = "owner@acme.example";
const JANE: &str = "jane@acme.example";

fn file(rest: &str) -> DesiredState {
    let text = format!(
        "version: 1\norganization: {ORG}\nspaces:\n  blog: {BLOG}\n  marketing: {MARKETING}\n{rest}"
    );
    config::load_str("access.yaml", &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"))
}

fn plan_of(desired: &DesiredState, live: &LiveState) -> Plan {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().unwrap();
    plan::build(desired, live, &PlanOptions { created_at: now }).unwrap()
}

fn live() -> LiveState {
    Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Member)
        .sm(OWNER, BLOG, SpaceAccess::Admin)
        .sm(JANE, BLOG, roles(&["Editor"]))
        .build()
}

const USERS: &str = "users:
  owner@acme.example:
    org_role: owner
    spaces: {blog: admin}
";

const REVIEWER: &str = "roles:
  Reviewer:
    description: Reviews posts
    spaces: all
    permissions:
      ContentModel: [read]
      Settings: []
    policies:
      - effect: allow
        actions: [read, publish]
        constraint: {equals: [{doc: sys.type}, Entry]}
";

#[test]
fn a_new_role_is_created_in_each_space_before_the_grant_that_names_it() {
    let desired = file(&format!(
        "{REVIEWER}{USERS}  jane@acme.example:\n    spaces: {{blog: [Editor, Reviewer]}}\n"
    ));
    let p = plan_of(&desired, &live());
    let creates: Vec<_> = p
        .operations
        .iter()
        .filter(|o| matches!(o.kind, OpKind::CreateRole { .. }))
        .collect();
    assert_eq!(creates.len(), 2, "one create per managed space");
    let grant = p
        .operations
        .iter()
        .find(|o| matches!(o.kind, OpKind::UpdateSpaceMembership { .. }))
        .expect("jane's blog access changes");
    let OpKind::UpdateSpaceMembership { role_ids, .. } = &grant.kind else {
        unreachable!()
    };
    let created = role_ids
        .iter()
        .find_map(|id| created_role_op(id))
        .expect("the new role is referred to by its creation");
    let create = p.op(&created).expect("the referenced operation exists");
    assert!(
        matches!(&create.kind, OpKind::CreateRole { space_id, .. } if space_id == BLOG),
        "{create:?}"
    );
    assert!(grant.depends_on.contains(&created), "{grant:?}");
    assert!(role_ids.contains(&"r-blog-editor".to_string()));
    let level = |id: &plan::OpId| p.levels.iter().position(|l| l.contains(id)).unwrap();
    assert!(level(&created) < level(&grant.id));
}

#[test]
fn a_live_role_that_differs_only_in_order_is_no_change_and_an_edit_is_an_update() {
    let mut live = live();
    let mut role = LiveRole::named("r-blog-reviewer", "Reviewer");
    role.version = 4;
    role.definition.description = "Reviews posts".into();
    role.definition.permissions = json!({"Settings": [], "ContentModel": ["read"]})
        .as_object()
        .cloned()
        .unwrap();
    role.definition.policies = vec![json!({
        "constraint": {"equals": [{"doc": "sys.type"}, "Entry"]},
        "actions": ["publish", "read"], "effect": "allow"
    })];
    let mut mkt = role.clone();
    mkt.id = "r-mkt-reviewer".into();
    live.spaces
        .get_mut(BLOG)
        .unwrap()
        .roles
        .insert(role.id.clone(), role);
    // In marketing someone added `delete` in the web app.
    mkt.definition.policies[0]["actions"] = json!(["publish", "read", "delete"]);
    live.spaces
        .get_mut(MARKETING)
        .unwrap()
        .roles
        .insert(mkt.id.clone(), mkt);
    let desired = file(&format!("{REVIEWER}{USERS}"));
    let p = plan_of(&desired, &live);
    let role_ops: Vec<_> = p
        .operations
        .iter()
        .filter(|o| o.kind.role_name().is_some())
        .collect();
    assert_eq!(role_ops.len(), 1, "{role_ops:#?}");
    let OpKind::UpdateRole {
        space_id,
        role,
        changes,
        ..
    } = &role_ops[0].kind
    else {
        panic!("{:?}", role_ops[0]);
    };
    assert_eq!(space_id, MARKETING);
    assert_eq!(role.version, 4, "sent back as X-Contentful-Version");
    assert_eq!(
        changes.headlines(),
        vec!["policy changed: allow delete, publish, read"]
    );
}

#[test]
fn undeclared_roles_are_reported_unless_pruned_and_a_deletion_follows_the_revocations() {
    let desired = file(&format!("{REVIEWER}{USERS}"));
    let p = plan_of(&desired, &live());
    // Editor and Author are not declared: reported, not deleted (jane's Editor grant goes away
    // because jane is not declared... she is an undeclared user, so only reported too).
    assert!(
        p.operations
            .iter()
            .all(|o| !matches!(o.kind, OpKind::DeleteRole { .. }))
    );
    assert!(
        p.unmanaged_roles
            .iter()
            .any(|r| r.name == "Author" && r.space_id == BLOG)
    );

    let desired = file(&format!(
        "policy:\n  prune: true\n  prune_roles: true\n  max_removals: 100\n{REVIEWER}{USERS}"
    ));
    let p = plan_of(&desired, &live());
    let delete = p
        .operations
        .iter()
        .find(|o| matches!(&o.kind, OpKind::DeleteRole { name, space_id, .. } if name == "Editor" && space_id == BLOG))
        .expect("Editor is deleted from blog");
    let revoke = p
        .operations
        .iter()
        .find(|o| o.kind.email().is_some_and(|e| e.as_str() == JANE))
        .expect("jane (undeclared, pruned) loses her access");
    assert!(delete.depends_on.contains(&revoke.id), "{delete:?}");
}

#[test]
fn one_definition_in_many_spaces_renders_once_with_its_spaces() {
    let desired = file(&format!("{REVIEWER}{USERS}"));
    let p = plan_of(&desired, &live());
    let text = contentful_access::render::plan_text(&p, &Default::default());
    assert_eq!(text.matches("+ role Reviewer").count(), 1, "{text}");
    assert!(text.contains("+ create in blog, marketing"), "{text}");
}

#[test]
fn deleting_a_role_someone_unmanaged_still_holds_is_refused() {
    // prune_roles without prune: jane is undeclared and keeps her Editor role in blog.
    let desired = file(&format!("policy:\n  prune_roles: true\n{REVIEWER}{USERS}"));
    let p = plan_of(&desired, &live());
    assert!(p.refused);
    let g = p
        .failed_guardrails()
        .find(|g| g.name == plan::Guardrail::RoleInUse)
        .expect("the role_in_use guardrail fails");
    assert_eq!(
        g.offenders,
        vec![format!("role Editor in space blog: {JANE}")]
    );
}

/// The custom-roles seed (tests/seeds/roles.json) read through the real client, and
/// tests/seeds/roles-access.yaml with `rest` appended (a `roles:` section, a policy).
fn seed_plan(policy: &str, roles_section: &str) -> Plan {
    let access =
        std::fs::read_to_string(crate::util::root().join("tests/seeds/roles-access.yaml")).unwrap();
    let access = access.replacen("\nspaces:\n", &format!("\n{policy}spaces:\n"), 1);
    let desired = config::load_str("roles-access.yaml", &format!("{access}\n{roles_section}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let live = rt.block_on(async {
        let seed = contentful_access::sandbox::Seed::from_json(
            &std::fs::read_to_string(crate::util::root().join("tests/seeds/roles.json")).unwrap(),
        )
        .unwrap();
        let server = crate::util::unlimited_sandbox(seed).await;
        let live = crate::util::read_live(&crate::util::fast_client(&server), &desired).await;
        server.shutdown().await;
        live
    });
    plan_of(&desired, &live)
}

/// Reviewer as docs has it (entries may also be published): blog and marketing change, docs not.
/// The policies are written in another order than any space holds them.
const REVIEWER_EDIT: &str = "roles:
  Reviewer:
    description: Reviews entries
    spaces: all
    permissions:
      Settings: []
      ContentDelivery: all
      ContentModel: [read]
    policies:
      - effect: allow
        actions: [read]
        constraint: {and: [{equals: [{doc: sys.type}, Asset]}]}
      - effect: allow
        actions: [publish, update, read]
        constraint: {and: [{equals: [{doc: sys.type}, Entry]}]}
  Proofreader:
    description: Proofreads docs
    spaces: [docs]
    permissions:
      ContentModel: [read]
    policies:
      - effect: allow
        actions: [read, update]
        constraint:
          and:
            - equals: [{doc: sys.type}, Entry]
            - paths: [{doc: fields.%.en-US}]
  German translator:
    description: Edits German fields in master only
    spaces: [marketing]
    permissions: {ContentModel: [read], Settings: [], ContentDelivery: []}
    policies:
      - effect: allow
        actions: [read, update]
        futurePolicyField: {kept: true}
        constraint:
          and:
            - equals: [{doc: sys.type}, Entry]
            - in: [{doc: sys.environment.sys.id}, [master]]
            - paths: [{doc: fields.%.de-DE}]
    extra:
      futureRoleField: [kept, 1]
";

/// A plan on the roles seed that creates (Proofreader in docs), changes (Reviewer: a policy edit,
/// one group for blog and marketing) and deletes (Legacy, assigned to nobody, with
/// `prune_roles`) custom roles, in text, markdown and JSON (snapshots, reviewed). German
/// translator is written in another order than Contentful holds it: no change.
#[test]
fn a_role_create_change_and_delete_render_in_text_markdown_and_json() {
    let p = seed_plan("policy:\n  prune_roles: true\n", REVIEWER_EDIT);
    let kinds: Vec<(&str, &str)> = p
        .operations
        .iter()
        .filter_map(|o| Some((o.kind.name(), o.kind.role_name()?)))
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(!p.refused, "{:?}", p.guardrails);
    let opts = contentful_access::render::RenderOptions {
        color: false,
        width: 100,
        config_display: "roles-access.yaml".into(),
    };
    let text = contentful_access::render::plan_text(&p, &opts);
    assert_eq!(text.matches("~ role Reviewer").count(), 1, "{text}");
    assert!(text.contains("~ change in blog, marketing"), "{text}");
    assert!(!text.contains("German translator"), "{text}");
    let md = contentful_access::render::plan_markdown(&p, &opts);
    assert!(
        md.contains("**`~` role `Reviewer`**: change in `blog`, `marketing`"),
        "{md}"
    );
    assert!(md.contains("- policy changed: allow read, update"), "{md}");
    let json = contentful_access::render::plan_json(&p);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let update = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"]["type"] == "update_role")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(
        update["kind"]["changes"]["policies_changed"][0]["after"]["actions"],
        json!(["publish", "read", "update"]),
        "{json}"
    );
    let dates = [(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[date]")];
    crate::util::snap_with("plan__roles_text", &text, &dates, None);
    crate::util::snap_with("plan__roles_markdown", &md, &dates, None);
    crate::util::snap_with("plan__roles_json", &json, &dates, None);
}

/// Roles written in another order than Contentful holds them (keys, actions, policies) plan to
/// nothing, and render as "No changes" in every format.
#[test]
fn roles_reordered_alone_plan_and_render_as_no_changes() {
    let p = seed_plan(
        "",
        &REVIEWER_EDIT
            .split("  Reviewer:")
            .next()
            .map(|head| {
                let tail = REVIEWER_EDIT.split("  German translator:").nth(1).unwrap();
                format!("{head}  German translator:{tail}")
            })
            .unwrap(),
    );
    assert!(p.operations.is_empty(), "{:#?}", p.operations);
    let text = contentful_access::render::plan_text(&p, &Default::default());
    assert!(text.contains("No changes."), "{text}");
    // Reviewer and Legacy are not declared: listed as left unchanged, once per name.
    assert!(
        text.contains(
            "Custom roles not declared in access.yaml and left unchanged:\n    role Legacy: blog\n    role Reviewer: blog, docs, marketing\n"
        ),
        "{text}"
    );
    let md = contentful_access::render::plan_markdown(&p, &Default::default());
    assert!(!md.contains("**Custom roles** ("), "{md}");
    assert!(
        md.contains("- role `Reviewer`: `blog`, `docs`, `marketing`"),
        "{md}"
    );
}
