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
