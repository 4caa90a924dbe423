//! Issue 15, the apply half: plans that create, change and delete custom roles, applied over HTTP
//! to the sandbox. A role is created before the grants that name it (their `created_by:` ids
//! replaced by the id the create returned), changed with `X-Contentful-Version`, deleted after
//! the grants of it are gone; lost answers are resolved by re-reading; a role edited between a
//! saved plan and its apply makes the plan stale. The property tests check the ordering of
//! random plans (grants to users and to teams) and that applying them converges.

use contentful_access::apply::{self, ApplyOptions, NoObserver, OpStatus, Planned, VerifiedPlan};
use contentful_access::config;
use contentful_access::contentful::Client;
use contentful_access::model::{
    DesiredState, Email, LiveRole, LiveSpace, LiveState, MaxRemovals, OrgRole, RoleDefinition,
    SpaceAccess,
};
use contentful_access::plan::{self, OpKind, Plan, PlanOptions, created_role_op};
use contentful_access::sandbox::{FaultConfig, FaultKind, Seed, Server};
use proptest::prelude::*;
use serde_json::json;

use super::fixtures::{BLOG, LEGACY, MARKETING, ORG, Org};
use super::props::runtime;
use crate::util::{fast_client, now, run_against, sandbox_writes, text, unlimited_sandbox};

const OWNER: &str = "owner@acme.example";
/// Users besides the owner (members, managed by the file).
const USERS: [&str; 2] = ["ann@acme.example", "ben@acme.example"];
/// Role names the cases draw from.
const NAMES: [&str; 3] = ["Reviewer", "Publisher", "Auditor"];
/// The managed spaces as (local name, id).
const SPACES: [(&str, &str); 2] = [("blog", BLOG), ("marketing", MARKETING)];
/// Team names the cases draw from.
const TEAMS: [&str; 2] = ["editors", "writers"];

/// Definition number `k`: each grants a different set of actions.
fn definition(k: u8) -> RoleDefinition {
    let actions = [
        json!(["read"]),
        json!(["read", "update"]),
        json!(["read", "publish"]),
    ][usize::from(k % 3)]
    .clone();
    RoleDefinition {
        description: format!("Definition {k}"),
        permissions: json!({"ContentModel": ["read"], "Settings": []})
            .as_object()
            .cloned()
            .unwrap(),
        policies: vec![json!({
            "effect": "allow",
            "actions": actions,
            "constraint": {"equals": [{"doc": "sys.type"}, "Entry"]}
        })],
        other: Default::default(),
    }
}

/// The same definition as the access file writes it (JSON is YAML's flow style).
fn definition_yaml(k: u8) -> String {
    let d = definition(k);
    format!(
        "    description: {}\n    permissions: {}\n    policies: {}\n",
        d.description,
        serde_json::Value::Object(d.permissions),
        serde_json::Value::Array(d.policies)
    )
}

/// One organization as the cases describe it: per space, the custom roles by name (definition
/// number); per user and space the role names granted; per team, `None` where it does not exist.
#[derive(Debug, Clone, Default)]
struct World {
    roles: [Vec<(usize, u8)>; 2],
    grants: [[Vec<usize>; 2]; 2],
    teams: [Option<Team>; 2],
}

/// A team: its members (indexes into [`USERS`]) and per space the role names granted to it.
#[derive(Debug, Clone, Default)]
struct Team {
    members: Vec<usize>,
    grants: [Vec<usize>; 2],
}

/// What the access file asks for: roles by name (definition number, spaces), grants per user and
/// space (of roles declared there, or of roles the file does not declare that exist there), the
/// declared teams, whether undeclared roles are pruned.
#[derive(Debug, Clone, Default)]
struct Wanted {
    roles: Vec<(usize, u8, Vec<usize>)>,
    grants: [[Vec<usize>; 2]; 2],
    teams: [Option<Team>; 2],
    prune_roles: bool,
}

/// Role names as the access file writes a grant of them.
fn role_list(names: &[usize]) -> String {
    let names: Vec<&str> = names.iter().map(|&n| NAMES[n]).collect();
    format!("[{}]", names.join(", "))
}

/// A space access of the role names `names`.
fn access(names: &[usize]) -> SpaceAccess {
    SpaceAccess::Roles(names.iter().map(|&n| NAMES[n].to_string()).collect())
}

/// The live organization: the owner (admin of blog) and the two members, with `w`'s roles and
/// grants; the fixture's default roles are replaced by `w`'s.
fn live_of(w: &World) -> LiveState {
    let mut org = Org::new().user(OWNER, OrgRole::Owner).me(OWNER);
    for u in USERS {
        org = org.user(u, OrgRole::Member);
    }
    for (s, (_, space_id)) in SPACES.iter().enumerate() {
        let space = org.live.spaces.get_mut(*space_id).unwrap();
        space.roles.clear();
        for &(n, k) in &w.roles[s] {
            let id = format!("r-{space_id}-{n}");
            let mut role = LiveRole::named(&id, NAMES[n]);
            role.version = 3;
            role.definition = definition(k);
            space.roles.insert(id, role);
        }
    }
    org = org.sm(OWNER, BLOG, SpaceAccess::Admin);
    for (u, email) in USERS.iter().enumerate() {
        for (s, (_, space_id)) in SPACES.iter().enumerate() {
            if !w.grants[u][s].is_empty() {
                org = org.sm(email, space_id, access(&w.grants[u][s]));
            }
        }
    }
    for (name, team) in TEAMS.iter().zip(&w.teams) {
        let Some(team) = team else { continue };
        org = org.team(name, "");
        for &u in &team.members {
            org = org.member(name, USERS[u]);
        }
        for (s, (_, space_id)) in SPACES.iter().enumerate() {
            if !team.grants[s].is_empty() {
                org = org.tsm(name, space_id, access(&team.grants[s]));
            }
        }
    }
    org.build()
}

/// The access file for `w`, as YAML.
fn yaml_of(w: &Wanted) -> String {
    let mut y = format!("version: 1\norganization: {ORG}\nspaces:\n");
    for (name, id) in SPACES {
        y += &format!("  {name}: {id}\n");
    }
    if !w.roles.is_empty() {
        y += "roles:\n";
        for (n, k, spaces) in &w.roles {
            let spaces: Vec<&str> = spaces.iter().map(|&s| SPACES[s].0).collect();
            y += &format!("  {}:\n    spaces: [{}]\n", NAMES[*n], spaces.join(", "));
            y += &definition_yaml(*k);
        }
    }
    // Grants per space as a flow mapping (`None` when there are none).
    let spaces = |grants: &[Vec<usize>; 2]| -> Option<String> {
        let g: Vec<String> = SPACES
            .iter()
            .zip(grants)
            .filter(|(_, names)| !names.is_empty())
            .map(|((name, _), names)| format!("{name}: {}", role_list(names)))
            .collect();
        (!g.is_empty()).then(|| format!("{{{}}}", g.join(", ")))
    };
    let declared: Vec<(&str, &Team)> = TEAMS
        .iter()
        .zip(&w.teams)
        .filter_map(|(name, t)| Some((*name, t.as_ref()?)))
        .collect();
    if !declared.is_empty() {
        y += "teams:\n";
    }
    for (name, team) in &declared {
        match spaces(&team.grants) {
            Some(g) => y += &format!("  {name}:\n    spaces: {g}\n"),
            None => y += &format!("  {name}: {{}}\n"),
        }
    }
    y += &format!("users:\n  {OWNER}:\n    org_role: owner\n    spaces: {{blog: admin}}\n");
    for (u, email) in USERS.iter().enumerate() {
        y += &format!("  {email}:\n    org_role: member\n");
        if let Some(g) = spaces(&w.grants[u]) {
            y += &format!("    spaces: {g}\n");
        }
        let teams: Vec<&str> = declared
            .iter()
            .filter(|(_, t)| t.members.contains(&u))
            .map(|(name, _)| *name)
            .collect();
        if !teams.is_empty() {
            y += &format!("    teams: [{}]\n", teams.join(", "));
        }
    }
    y
}

/// The access file for `w`, loaded (removals without limit).
fn desired_of(w: &Wanted) -> DesiredState {
    let y = yaml_of(w);
    let mut d = config::load_str("access.yaml", &y).unwrap_or_else(|e| panic!("{e:?}\n{y}"));
    d.policy.max_removals = MaxRemovals::Count(1000);
    d.policy.prune_roles = w.prune_roles;
    d
}

/// A sandbox serving `live` (the owner's token) and a fast client for it.
async fn serve(live: &LiveState) -> (Server, Client) {
    let server = unlimited_sandbox(Seed::from_live_state(live, &Email::new(OWNER))).await;
    let client = fast_client(&server);
    (server, client)
}

/// The managed spaces read whole.
async fn read(client: &Client, d: &DesiredState) -> LiveState {
    let spaces: Vec<String> = d.spaces.values().map(|s| s.id.clone()).collect();
    client
        .read_live_state(&d.organization, &spaces)
        .await
        .unwrap()
}

/// A plan of `d` against the organization now; `None` when a guardrail refuses it.
async fn checked(client: &Client, d: &DesiredState) -> Option<VerifiedPlan> {
    let live = read(client, d).await;
    match apply::plan_checked(d, &live, &PlanOptions { created_at: now() }).unwrap() {
        Planned::Verified(p) => Some(p),
        Planned::Refused(_) => None,
    }
}

/// Planning `d` again finds nothing to do.
async fn replan(client: &Client, d: &DesiredState) -> Plan {
    let live = read(client, d).await;
    plan::build(d, &live, &PlanOptions { created_at: now() }).unwrap()
}

/// The level of every operation, by id.
fn levels(p: &Plan) -> std::collections::BTreeMap<&plan::OpId, usize> {
    p.levels
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |id| (id, i)))
        .collect()
}

/// The role ids a grant operation sends (empty for other kinds).
fn role_ids(kind: &OpKind) -> &[String] {
    match kind {
        OpKind::CreateSpaceMembership { role_ids, .. }
        | OpKind::UpdateSpaceMembership { role_ids, .. }
        | OpKind::CreateTeamSpaceMembership { role_ids, .. }
        | OpKind::UpdateTeamSpaceMembership { role_ids, .. } => role_ids,
        _ => &[],
    }
}

/// Whether `kind` changes or takes away access in space `space_id`, and whose: `Some(true)` for
/// a team's, `Some(false)` for a user's, `None` when it does neither. Removing a member from a
/// team takes away the team's access in every space the team has access to in `live`.
fn revokes_in(kind: &OpKind, space_id: &str, live: &LiveState) -> Option<bool> {
    match kind {
        OpKind::UpdateSpaceMembership { space_id: s, .. }
        | OpKind::DeleteSpaceMembership { space_id: s, .. } => (s == space_id).then_some(false),
        OpKind::UpdateTeamSpaceMembership { space_id: s, .. }
        | OpKind::DeleteTeamSpaceMembership { space_id: s, .. } => (s == space_id).then_some(true),
        OpKind::RemoveTeamMember { team_id, .. } => live
            .team_space_memberships
            .values()
            .any(|m| &m.team_id == team_id && m.space_id == space_id)
            .then_some(true),
        _ => None,
    }
}

/// Whether a grant operation gives a team access (rather than a user).
fn is_team_grant(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::CreateTeamSpaceMembership { .. } | OpKind::UpdateTeamSpaceMembership { .. }
    )
}

/// How many orderings [`check_order`] checked, for grants to users and to teams.
#[derive(Debug, Default)]
struct Checked {
    users: usize,
    teams: usize,
}

impl Checked {
    fn count(&mut self, team: bool) {
        if team {
            self.teams += 1;
        } else {
            self.users += 1;
        }
    }
}

/// The ordering promises of a plan of `live` with role operations: a grant (to a user or a
/// team) of a role the plan creates comes after the creation and depends on it; a role deletion
/// comes after every change or removal of access in its space, and no grant sends the deleted
/// role's id. Returns what was checked.
fn check_order(p: &Plan, live: &LiveState) -> Result<Checked, TestCaseError> {
    let level = levels(p);
    let mut checked = Checked::default();
    for op in &p.operations {
        for id in role_ids(&op.kind) {
            if let Some(create) = created_role_op(id) {
                let c = p.operations.iter().find(|o| o.id == create);
                prop_assert!(
                    matches!(c.map(|c| &c.kind), Some(OpKind::CreateRole { .. })),
                    "{} names {id}, which no role creation of the plan is",
                    op.id
                );
                prop_assert!(
                    level[&create] < level[&op.id],
                    "{} (level {}) grants the role {create} creates at level {}",
                    op.id,
                    level[&op.id],
                    level[&create]
                );
                prop_assert!(
                    op.depends_on.contains(&create),
                    "{} does not depend on {create}",
                    op.id
                );
                checked.count(is_team_grant(&op.kind));
            }
        }
        if let OpKind::DeleteRole { space_id, role, .. } = &op.kind {
            for other in &p.operations {
                prop_assert!(
                    !role_ids(&other.kind).contains(&role.id),
                    "{} grants role {}, which {} deletes",
                    other.id,
                    role.id,
                    op.id
                );
                if let Some(team) = revokes_in(&other.kind, space_id, live) {
                    prop_assert!(
                        level[&other.id] < level[&op.id],
                        "{} deletes a role of {space_id} at level {}, not after {} (level {})",
                        op.id,
                        level[&op.id],
                        other.id,
                        level[&other.id]
                    );
                    checked.count(team);
                }
            }
        }
    }
    Ok(checked)
}

// --- end to end ------------------------------------------------------------------------------

/// Reviewer (definition 0) and Auditor (definition 0) in blog, held by nobody; the file declares
/// Reviewer as definition 1 and a new Publisher in blog and marketing granted to ann in blog, and
/// prunes Auditor.
fn mixed() -> (World, Wanted) {
    let world = World {
        roles: [vec![(0, 0), (2, 0)], vec![]],
        ..World::default()
    };
    let mut grants: [[Vec<usize>; 2]; 2] = Default::default();
    grants[0][0] = vec![1];
    let wanted = Wanted {
        roles: vec![(0, 1, vec![0]), (1, 2, vec![0, 1])],
        grants,
        prune_roles: true,
        ..Wanted::default()
    };
    (world, wanted)
}

/// The [`mixed`] case served and planned: the sandbox, its client, the access file, the plan.
async fn mixed_planned() -> (Server, Client, DesiredState, VerifiedPlan) {
    let (world, wanted) = mixed();
    let (server, c) = serve(&live_of(&world)).await;
    let d = desired_of(&wanted);
    let p = checked(&c, &d).await.expect("not refused");
    (server, c, d, p)
}

fn kinds(p: &Plan) -> Vec<&'static str> {
    let mut k: Vec<&'static str> = p.operations.iter().map(|o| o.kind.name()).collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_creates_grants_changes_and_deletes_roles_applies_and_converges() {
    let (server, c, d, p) = mixed_planned().await;
    assert_eq!(
        kinds(&p),
        [
            "create_role",
            "create_role",
            "create_space_membership",
            "delete_role",
            "update_role"
        ],
        "{:#?}",
        p.operations
    );
    let grant = p
        .operations
        .iter()
        .find(|o| o.kind.name() == "create_space_membership")
        .unwrap();
    assert!(role_ids(&grant.kind)[0].starts_with("created_by:"));
    server.clear_journal();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(report.stopped, None);
    // Two role creations, one grant, one role change, one role deletion; nothing else.
    let mut writes: Vec<String> = sandbox_writes(&server)
        .into_iter()
        .map(|(m, path)| {
            let route = if path.contains("/roles") {
                "roles"
            } else {
                "space_memberships"
            };
            format!("{m} {route}")
        })
        .collect();
    writes.sort();
    assert_eq!(
        writes,
        [
            "DELETE roles",
            "POST roles",
            "POST roles",
            "POST space_memberships",
            "PUT roles"
        ]
    );
    // What the organization holds now: ann has the new Publisher of blog, Reviewer grants
    // definition 1, Auditor is gone, and planning again finds nothing to do.
    let live = read(&c, &d).await;
    let blog = &live.spaces[BLOG];
    let publisher = blog.roles.values().find(|r| r.name == "Publisher").unwrap();
    assert!(publisher.definition.same_as(&definition(2)));
    assert!(
        blog.roles
            .values()
            .any(|r| r.name == "Reviewer" && r.definition.same_as(&definition(1)))
    );
    assert!(blog.roles.values().all(|r| r.name != "Auditor"));
    let ann = live.membership_by_email(&Email::new(USERS[0])).unwrap().0;
    assert!(
        live.space_memberships.values().any(|m| m.user_id == ann.id
            && m.space_id == BLOG
            && m.role_ids.contains(&publisher.id))
    );
    assert!(replan(&c, &d).await.is_empty());
    server.shutdown().await;
}

/// A role whose creation fails takes its grants with it: the grant is skipped, never sent with a
/// `created_by:` id (the substitution itself refuses one; see the unit test in `apply::exec`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_someone_else_created_meanwhile_fails_the_create_and_skips_its_grant() {
    let (server, c, d, p) = mixed_planned().await;
    // Someone creates Publisher in blog with another definition after the plan.
    c.create_role(BLOG, "Publisher", &definition(0))
        .await
        .unwrap();
    server.clear_journal();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert_eq!(failed[0].kind, "create_role");
    let OpStatus::Failed(f) = &failed[0].status else {
        panic!("{report:#?}")
    };
    assert!(
        f.message
            .contains("a role named Publisher already exists in space blog"),
        "{}",
        f.message
    );
    assert!(f.message.contains("another definition"), "{}", f.message);
    let grant = report
        .outcomes
        .iter()
        .find(|o| o.kind == "create_space_membership")
        .unwrap();
    assert!(
        matches!(grant.status, OpStatus::Skipped { .. }),
        "{report:#?}"
    );
    assert!(
        sandbox_writes(&server)
            .iter()
            .all(|(_, path)| !path.contains("space_memberships")),
        "{:?}",
        sandbox_writes(&server)
    );
    // The same role with the same definition is taken as already there.
    let (server2, c2) = serve(&live_of(&mixed().0)).await;
    let p2 = checked(&c2, &d).await.expect("not refused");
    c2.create_role(BLOG, "Publisher", &definition(2))
        .await
        .unwrap();
    let report = apply::apply(&c2, &p2, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    assert!(report.outcomes.iter().any(|o| o.kind == "create_role"
        && matches!(
            o.status,
            OpStatus::Applied {
                already_done: true,
                ..
            }
        )));
    assert!(replan(&c2, &d).await.is_empty());
    server.shutdown().await;
    server2.shutdown().await;
}

/// A role changed by someone else after the plan is not overwritten: the update's 409 re-reads
/// and reports who changed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_edited_during_apply_is_not_overwritten() {
    let (server, c, _, p) = mixed_planned().await;
    let id = format!("r-{BLOG}-0");
    let now_role = c.get_role(BLOG, &id).await.unwrap();
    c.update_role(BLOG, &id, now_role.version, "Reviewer", &definition(2))
        .await
        .unwrap();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert_eq!(failed[0].kind, "update_role");
    let OpStatus::Failed(f) = &failed[0].status else {
        panic!()
    };
    assert!(f.message.contains("changed during apply"), "{}", f.message);
    assert!(
        c.get_role(BLOG, &id)
            .await
            .unwrap()
            .definition
            .same_as(&definition(2))
    );
    server.shutdown().await;
}

// --- duplicate creates in several spaces ------------------------------------------------------

/// Requests a paged collection of `n` items costs (100 a page; an empty one still costs one).
fn pages(n: usize) -> usize {
    n.div_ceil(100).max(1)
}

/// The managed spaces of the three-space cases, as (local name, id).
const THREE_SPACES: [(&str, &str); 3] =
    [("blog", BLOG), ("marketing", MARKETING), ("legacy", LEGACY)];

/// The owner and ann in the fixture organization, plus an unmanaged archive space whose 120
/// roles make the organization's roles two pages (so one read and three differ by more than a
/// request or two); the file declares Publisher (definition 2) in [`THREE_SPACES`] and grants it
/// to ann in each. Returns the sandbox, its client, the file, its plan (three role creates, then
/// three grants) and how many roles the organization holds.
async fn three_spaces_planned() -> (Server, Client, DesiredState, VerifiedPlan, usize) {
    const ARCHIVE: &str = "0archive0space";
    let mut live = Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(USERS[0], OrgRole::Member)
        .sm(OWNER, BLOG, SpaceAccess::Admin)
        .build();
    live.spaces.insert(
        ARCHIVE.to_string(),
        LiveSpace {
            id: ARCHIVE.to_string(),
            name: "Archive".to_string(),
            roles: (0..120)
                .map(|i| {
                    let id = format!("r-archive-{i:03}");
                    let role = LiveRole::named(&id, format!("Archived {i:03}"));
                    (id, role)
                })
                .collect(),
        },
    );
    let org_roles: usize = live.spaces.values().map(|s| s.roles.len()).sum();
    let names: Vec<&str> = THREE_SPACES.iter().map(|(name, _)| *name).collect();
    let mut y = format!("version: 1\norganization: {ORG}\nspaces:\n");
    for (name, id) in THREE_SPACES {
        y += &format!("  {name}: {id}\n");
    }
    y += &format!("roles:\n  Publisher:\n    spaces: [{}]\n", names.join(", "));
    y += &definition_yaml(2);
    y += &format!("users:\n  {OWNER}:\n    org_role: owner\n    spaces: {{blog: admin}}\n");
    let grants: Vec<String> = names.iter().map(|n| format!("{n}: [Publisher]")).collect();
    y += &format!(
        "  {}:\n    org_role: member\n    spaces: {{{}}}\n",
        USERS[0],
        grants.join(", ")
    );
    let d = config::load_str("access.yaml", &y).unwrap_or_else(|e| panic!("{e:?}\n{y}"));
    let (server, c) = serve(&live).await;
    let p = checked(&c, &d).await.expect("not refused");
    assert_eq!(
        kinds(&p),
        [
            "create_role",
            "create_role",
            "create_role",
            "create_space_membership",
            "create_space_membership",
            "create_space_membership"
        ],
        "{:#?}",
        p.operations
    );
    (server, c, d, p, org_roles)
}

/// Issue 20: the 422s of one level share one re-read. Role creates answering 422 in three spaces
/// read the organization's roles once (its pages), not once per space (three times its pages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_role_creates_in_three_spaces_share_one_read_of_the_organizations_roles() {
    let spaces = THREE_SPACES;
    let (server, c, d, p, org_roles_before) = three_spaces_planned().await;
    // After the plan, someone creates Publisher by hand in every space, with the same
    // definition: every create of the plan answers 422.
    let mut by_hand = std::collections::BTreeMap::new();
    for (_, space_id) in spaces {
        let meta = c
            .create_role(space_id, "Publisher", &definition(2))
            .await
            .unwrap();
        by_hand.insert(space_id.to_string(), meta.id);
    }
    server.clear_journal();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    assert!(report.succeeded(), "{report:#?}");
    // The three 422s shared one read of the organization's roles (its pages, not three times
    // its pages), and nothing else was read or written but the creates and the grants.
    let journal = server.journal_counts();
    let org_roles = org_roles_before + spaces.len();
    assert_eq!(pages(org_roles), 2);
    assert_eq!(
        journal.count("GET", "/organizations/:org/roles"),
        pages(org_roles),
        "{:#?}",
        journal.by_route
    );
    assert_eq!(journal.count("POST", "/spaces/:space/roles"), 3);
    assert_eq!(
        journal.total,
        pages(org_roles) + 6,
        "{:#?}",
        journal.by_route
    );
    // Every create is recognised as already done, with the id of the role made by hand.
    for op in &p.plan().operations {
        let OpKind::CreateRole { space_id, .. } = &op.kind else {
            continue;
        };
        let outcome = report.outcomes.iter().find(|o| o.id == op.id).unwrap();
        assert_eq!(
            outcome.status,
            OpStatus::Applied {
                already_done: true,
                object_id: Some(by_hand[space_id].clone()),
                confirmed_after_lost_response: false,
            },
            "{report:#?}"
        );
    }
    // ann's grants name those ids, and planning again finds nothing to do.
    let after = read(&c, &d).await;
    let ann = after.membership_by_email(&Email::new(USERS[0])).unwrap().0;
    for (space_id, role_id) in &by_hand {
        assert!(
            after.space_memberships.values().any(|m| m.user_id == ann.id
                && &m.space_id == space_id
                && m.role_ids == [role_id.clone()].into()),
            "{space_id}: {:#?}",
            after.space_memberships
        );
    }
    assert!(replan(&c, &d).await.is_empty());
    server.shutdown().await;
}

/// The shared read still tells the spaces apart: where the role made by hand has another
/// definition, that space's create fails (not overwritten) and its grant is skipped; the other
/// spaces' creates are already done; the organization's roles are still read once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_roles_re_read_fails_only_the_space_whose_same_named_role_differs() {
    let (server, c, _, p, org_roles_before) = three_spaces_planned().await;
    let mut by_hand = std::collections::BTreeMap::new();
    for (name, space_id) in THREE_SPACES {
        let k = if name == "legacy" { 0 } else { 2 };
        let meta = c
            .create_role(space_id, "Publisher", &definition(k))
            .await
            .unwrap();
        by_hand.insert(space_id.to_string(), meta.id);
    }
    server.clear_journal();
    let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
    let journal = server.journal_counts();
    assert_eq!(
        journal.count("GET", "/organizations/:org/roles"),
        pages(org_roles_before + THREE_SPACES.len()),
        "{:#?}",
        journal.by_route
    );
    for op in &p.plan().operations {
        let outcome = report.outcomes.iter().find(|o| o.id == op.id).unwrap();
        match &op.kind {
            OpKind::CreateRole { space_id, .. } if space_id == LEGACY => {
                let OpStatus::Failed(f) = &outcome.status else {
                    panic!("{report:#?}")
                };
                let why = format!(
                    "a role named Publisher already exists in space legacy ({}) with another definition; not overwritten, plan again",
                    by_hand[LEGACY]
                );
                assert!(f.message.contains(&why), "{}", f.message);
            }
            OpKind::CreateRole { space_id, .. } => assert_eq!(
                outcome.status,
                OpStatus::Applied {
                    already_done: true,
                    object_id: Some(by_hand[space_id].clone()),
                    confirmed_after_lost_response: false,
                },
                "{report:#?}"
            ),
            OpKind::CreateSpaceMembership { space_id, .. } if space_id == LEGACY => assert!(
                matches!(outcome.status, OpStatus::Skipped { .. }),
                "{report:#?}"
            ),
            _ => assert!(
                matches!(
                    outcome.status,
                    OpStatus::Applied {
                        already_done: false,
                        ..
                    }
                ),
                "{report:#?}"
            ),
        }
    }
    // The differing role is left as it was made.
    let legacy = c.get_role(LEGACY, &by_hand[LEGACY]).await.unwrap();
    assert!(legacy.definition.same_as(&definition(0)));
    server.shutdown().await;
}

// --- lost answers ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_of_role_writes_are_resolved_by_re_reading() {
    for (method, fault, kind) in [
        ("POST", FaultKind::ProcessThenDrop, "create_role"),
        ("PUT", FaultKind::ProcessThen502, "update_role"),
        ("DELETE", FaultKind::ProcessThen502, "delete_role"),
    ] {
        let (world, mut wanted) = mixed();
        // One role creation, so the one POST to the roles is the creation's.
        wanted.roles[1].2 = vec![0];
        let (server, c) = serve(&live_of(&world)).await;
        let d = desired_of(&wanted);
        let p = checked(&c, &d).await.expect("not refused");
        server.clear_journal();
        let mut faults = FaultConfig::new(1.0, vec![fault]);
        // Every answer of this method is lost (the grant's POST too, for the creation).
        faults.methods = vec![method.into()];
        server.set_faults(faults);
        let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
        server.set_faults(FaultConfig::none());
        assert!(report.succeeded(), "{method}: {report:#?}");
        let role_op = report.outcomes.iter().find(|o| o.kind == kind).unwrap();
        assert!(
            matches!(role_op.status, OpStatus::Applied { .. }),
            "{method}: {report:#?}"
        );
        if method != "DELETE" {
            // A DELETE retried after a lost answer may simply find the role gone.
            assert!(
                matches!(
                    role_op.status,
                    OpStatus::Applied {
                        confirmed_after_lost_response: true,
                        ..
                    }
                ),
                "{method}: {report:#?}"
            );
        }
        let role_posts = server
            .journal()
            .iter()
            .filter(|e| e.method == "POST" && e.path.contains("/roles"))
            .count();
        assert_eq!(role_posts, 1, "{method}: a role was created twice");
        assert!(replan(&c, &d).await.is_empty(), "{method}");
        server.shutdown().await;
    }
}

// --- saved plans -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_with_role_operations_applies_and_a_role_edited_since_makes_it_stale() {
    let (world, wanted) = mixed();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("access.yaml");
    let mut yaml = yaml_of(&wanted);
    yaml = yaml.replacen(
        "spaces:\n",
        "policy:\n  prune_roles: true\n  max_removals: 100\nspaces:\n",
        1,
    );
    std::fs::write(&config, &yaml).unwrap();
    let out = dir.path().join("plan.json");
    let (config_s, out_s) = (config.display().to_string(), out.display().to_string());

    // Edited between plan and apply: nothing is written and the report names the role.
    let (server, c) = serve(&live_of(&world)).await;
    let o = run_against(&server, &["plan", "-c", &config_s, "--out", &out_s]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let id = format!("r-{BLOG}-0");
    let role = c.get_role(BLOG, &id).await.unwrap();
    c.update_role(BLOG, &id, role.version, "Reviewer", &definition(2))
        .await
        .unwrap();
    server.clear_journal();
    let o = run_against(&server, &["apply", &out_s]).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}\n{}", text(&o.stdout));
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains(&format!("role {id} changed")), "{err}");
    assert_eq!(sandbox_writes(&server), Vec::<(String, String)>::new());
    server.shutdown().await;

    // Unchanged in between: the saved plan verifies and applies, and nothing is left to do.
    let (server, c) = serve(&live_of(&world)).await;
    let o = run_against(&server, &["plan", "-c", &config_s, "--out", &out_s]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = run_against(&server, &["apply", &out_s]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let d = config::load(&config).unwrap();
    assert!(replan(&c, &d).await.is_empty());
    server.shutdown().await;
}

// --- rehearsal -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_applies_role_operations_in_a_sandbox_seeded_with_the_live_roles() {
    let (server, c, d, p) = mixed_planned().await;
    let live = read(&c, &d).await;
    server.clear_journal();
    let r = apply::rehearse(
        &live,
        &d,
        &p,
        &ApplyOptions::default(),
        now(),
        &mut NoObserver,
    )
    .await
    .unwrap();
    assert!(r.converged(), "{:#?}\n{:#?}", r.report, r.after.operations);
    // Nothing was written to the organization itself.
    assert_eq!(sandbox_writes(&server), Vec::<(String, String)>::new());
    server.shutdown().await;
}

// --- property --------------------------------------------------------------------------------

fn names() -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence(vec![0usize, 1, 2], 0..=3)
}

/// A team's members and, per space, the role names granted to it (unfiltered).
fn team() -> impl Strategy<Value = Team> {
    (
        proptest::sample::subsequence(vec![0usize, 1], 0..=2),
        names(),
        names(),
    )
        .prop_map(|(members, g0, g1)| Team {
            members,
            grants: [g0, g1],
        })
}

fn world() -> impl Strategy<Value = World> {
    let roles = || proptest::collection::btree_map(0usize..3, 0u8..3, 0..=3);
    (
        roles(),
        roles(),
        proptest::collection::vec(names(), 4),
        // Teams mostly exist: a team's live grants are what a role deletion must wait for.
        [
            proptest::option::weighted(0.75, team()),
            proptest::option::weighted(0.75, team()),
        ],
    )
        .prop_map(|(r0, r1, g, mut teams)| {
            let roles = [r0.into_iter().collect::<Vec<_>>(), r1.into_iter().collect()];
            // Grants only of roles that exist in the space.
            let exists = |s: usize, n: &usize| roles[s].iter().any(|(m, _)| m == n);
            let mut grants: [[Vec<usize>; 2]; 2] = Default::default();
            for u in 0..2 {
                for s in 0..2 {
                    grants[u][s] = g[u * 2 + s]
                        .iter()
                        .copied()
                        .filter(|n| exists(s, n))
                        .collect();
                }
            }
            for t in teams.iter_mut().flatten() {
                for s in 0..2 {
                    t.grants[s].retain(|n| exists(s, n));
                }
            }
            World {
                roles,
                grants,
                teams,
            }
        })
}

/// What the file asks for, its grants not yet checked against the organization (see [`case`]).
fn wanted() -> impl Strategy<Value = Wanted> {
    let decl = (
        0u8..3,
        proptest::sample::subsequence(vec![0usize, 1], 1..=2),
    );
    (
        proptest::collection::btree_map(0usize..3, decl, 0..=3),
        proptest::collection::vec(names(), 4),
        [team(), team()],
        // Mostly pruning: role deletions are where the ordering against grants is subtle.
        proptest::bool::weighted(0.75),
    )
        .prop_map(|(decls, g, [t0, t1], prune_roles)| Wanted {
            roles: decls.into_iter().map(|(n, (k, s))| (n, k, s)).collect(),
            grants: [[g[0].clone(), g[1].clone()], [g[2].clone(), g[3].clone()]],
            teams: [Some(t0), Some(t1)],
            prune_roles,
        })
}

/// An organization and an access file for it. The file's grants (to users and teams) name only
/// roles it declares in that space, or roles it does not declare at all that exist there (any
/// other grant is an error of the file or of the plan, not a case of ordering).
fn case() -> impl Strategy<Value = (World, Wanted)> {
    (world(), wanted()).prop_map(|(world, mut wanted)| {
        let declared = |n: usize| wanted.roles.iter().find(|(m, _, _)| *m == n);
        let allowed: Vec<Vec<usize>> = (0..2)
            .map(|s| {
                (0..NAMES.len())
                    .filter(|&n| match declared(n) {
                        Some((_, _, spaces)) => spaces.contains(&s),
                        None => world.roles[s].iter().any(|(m, _)| *m == n),
                    })
                    .collect()
            })
            .collect();
        let grants = wanted
            .grants
            .iter_mut()
            .chain(wanted.teams.iter_mut().flatten().map(|t| &mut t.grants));
        for per_space in grants {
            for (s, names) in per_space.iter_mut().enumerate() {
                names.retain(|n| allowed[s].contains(n));
            }
        }
        (world, wanted)
    })
}

/// One case of the property tests: plans `wanted` against `world` in a sandbox, checks the
/// plan's ordering ([`check_order`]), applies it and plans again, which must find nothing. The
/// case is rejected when a guardrail refuses the plan, or when `enough` says the plan exercises
/// too little of what the test is for (`what` names that).
fn converges(
    world: &World,
    wanted: &Wanted,
    what: &str,
    enough: impl Fn(&Plan, &Checked) -> bool,
) -> Result<(), TestCaseError> {
    let live = live_of(world);
    let d = desired_of(wanted);
    runtime().block_on(async {
        let (server, c) = serve(&live).await;
        let Some(p) = checked(&c, &d).await else {
            server.shutdown().await;
            prop_assume!(false, "refused by a guardrail");
            return Ok(());
        };
        let order = check_order(&p, &live);
        let enough = order.as_ref().is_ok_and(|o| enough(&p, o));
        if order.is_err() || !enough {
            server.shutdown().await;
            order?;
            prop_assume!(false, "{}", what);
            return Ok(());
        }
        let report = apply::apply(&c, &p, &ApplyOptions::default(), &mut NoObserver).await;
        let again = replan(&c, &d).await;
        server.shutdown().await;
        prop_assert!(report.succeeded(), "{:#?}\n{:#?}", p.operations, report);
        prop_assert!(again.is_empty(), "left over: {:#?}", again.operations);
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random custom roles and grants of them to users and teams, live and wanted: every plan
    /// creates a role before any grant naming it and deletes one only after every change or
    /// removal of access in its space, and applying it to the sandbox leaves nothing to do.
    #[test]
    fn role_operations_are_ordered_against_grants_and_applying_them_converges(
        (world, wanted) in case(),
    ) {
        // A case without a role operation would check nothing of what this test is for.
        converges(&world, &wanted, "no role operation", |p, _| {
            p.operations.iter().any(|o| o.kind.role_name().is_some())
        })?;
    }

    /// The same cases, kept only when an ordering promise concerns a team's access: a team's
    /// grant of a role the plan creates (for a team that exists or that the plan creates too), or
    /// a role deleted in a space where a team's access changes or is removed (its grant changed or
    /// removed, or a member taken out of it).
    #[test]
    fn role_operations_are_ordered_against_team_grants_and_applying_them_converges(
        (world, wanted) in case(),
    ) {
        converges(&world, &wanted, "no ordering concerning a team", |_, checked| {
            checked.teams > 0
        })?;
    }
}
