//! Named scenarios a reviewer would recognise (onboarding, offboarding, role change, team
//! restructure, pending invite, each guardrail refusal, prune on/off, a large plan): what the plan
//! contains, how it is ordered, and how it reads as text, JSON and markdown.

use contentful_access::export;
use contentful_access::model::{DesiredState, Email, LiveState, MaxRemovals, OrgRole, SpaceAccess};
use contentful_access::plan::{
    self, Action, Cascade, Guardrail, MembershipRef, OpId, OpKind, Operation, Plan, PlanError,
    PlanOptions, TeamRef, Unresolved,
};
use contentful_access::render::{self, RenderOptions};

use super::fixtures::{BLOG, File, LEGACY, MARKETING, Org, created_at, plan, roles};
use crate::util::snap;

const OWNER: &str = "owner@acme.example";
const JANE: &str = "jane@acme.example";
const BOB: &str = "bob@acme.example";

/// The live organization the scenarios start from.
fn base_live() -> Org {
    Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Admin)
        .user(BOB, OrgRole::Member)
        .team("editors", "Content editors")
        .team("web-admins", "")
        .member("editors", BOB)
        .member("web-admins", JANE)
        .tsm("editors", BLOG, roles(&["Editor"]))
        .tsm("editors", MARKETING, roles(&["Editor", "Translator"]))
        .tsm("web-admins", BLOG, SpaceAccess::Admin)
        .sm(OWNER, MARKETING, SpaceAccess::Admin)
        .sm(BOB, MARKETING, roles(&["Author"]))
        .sm(BOB, LEGACY, SpaceAccess::Admin)
}

fn editors() -> Vec<(&'static str, SpaceAccess)> {
    vec![
        ("blog", roles(&["Editor"])),
        ("marketing", roles(&["Editor", "Translator"])),
    ]
}

/// The access file that matches [`base_live`] exactly (teams only; users added by callers).
fn base_teams() -> File {
    File::new()
        .team("editors", "Content editors", &editors())
        .team("web-admins", "", &[("blog", SpaceAccess::Admin)])
}

fn base_file() -> File {
    base_teams()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
}

fn text(p: &Plan) -> String {
    render::plan_text(p, &RenderOptions::default())
}

fn markdown(p: &Plan) -> String {
    render::plan_markdown(p, &RenderOptions::default())
}

fn only(p: &Plan, f: impl Fn(&OpKind) -> bool) -> &Operation {
    let found: Vec<&Operation> = p.operations.iter().filter(|o| f(&o.kind)).collect();
    assert_eq!(found.len(), 1, "expected exactly one matching op in {p:#?}");
    found[0]
}

fn failed(p: &Plan) -> Vec<Guardrail> {
    p.failed_guardrails().map(|g| g.name).collect()
}

fn level_of(p: &Plan, id: &OpId) -> usize {
    p.levels
        .iter()
        .position(|l| l.contains(id))
        .expect("every op is in a level")
}

/// Every rendering of every scenario must reproduce the plan from JSON and end in the count line.
fn common_checks(p: &Plan) {
    let json = render::plan_json(p);
    assert_eq!(&serde_json::from_str::<Plan>(&json).unwrap(), p);
    let t = text(p);
    let last = t.lines().last().unwrap();
    if p.is_empty() {
        assert_eq!(last, "No changes. Contentful access matches access.yaml.");
    } else {
        let (a, c, r) = p.counts();
        assert_eq!(
            last,
            format!("Plan: {a} to add, {c} to change, {r} to remove.")
        );
    }
    assert!(!t.contains('\x1b'), "no colour unless asked");
    let md = markdown(p);
    assert_eq!(
        md.lines().next().unwrap(),
        format!("<!-- contentful-access:plan org={} -->", p.organization)
    );
    for op in &p.operations {
        for d in &op.depends_on {
            assert!(level_of(p, d) < level_of(p, &op.id));
        }
    }
}

#[test]
fn in_sync_means_no_changes() {
    let p = plan(&base_file().build(), &base_live().build());
    common_checks(&p);
    assert!(p.is_empty());
    assert!(!p.refused);
    assert!(p.guardrails.iter().all(|g| g.passed));
    snap("plan__no_changes_text", &text(&p));
    snap("plan__no_changes_markdown", &markdown(&p));
}

#[test]
fn onboarding_invites_then_adds_to_teams_and_spaces() {
    let desired = base_file()
        .team("translators", "", &[("marketing", roles(&["Translator"]))])
        .user(
            "carol@acme.example",
            OrgRole::Member,
            &["editors", "translators"],
            &[("blog", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    assert!(!p.refused);
    let invite = only(&p, |k| matches!(k, OpKind::Invite { .. }));
    let create = only(&p, |k| matches!(k, OpKind::CreateTeam { .. }));
    assert_eq!(
        invite.cause.map(|c| c.line),
        desired.users[&Email::new("carol@acme.example")]
            .at
            .line
            .into()
    );
    let joins: Vec<&Operation> = p
        .operations
        .iter()
        .filter(|o| matches!(o.kind, OpKind::AddTeamMember { .. }))
        .collect();
    assert_eq!(joins.len(), 2);
    for j in &joins {
        let OpKind::AddTeamMember {
            membership, team, ..
        } = &j.kind
        else {
            unreachable!()
        };
        assert_eq!(membership, &MembershipRef::InvitedBy(invite.id.clone()));
        assert!(j.depends_on.contains(&invite.id));
        if let TeamRef::CreatedBy(c) = team {
            assert_eq!(c, &create.id);
            assert!(j.depends_on.contains(&create.id));
        }
    }
    let tsm = only(&p, |k| {
        matches!(k, OpKind::CreateTeamSpaceMembership { .. })
    });
    assert_eq!(tsm.depends_on, vec![create.id.clone()]);
    let sm = only(&p, |k| matches!(k, OpKind::CreateSpaceMembership { .. }));
    assert!(sm.depends_on.contains(&invite.id));
    let OpKind::CreateSpaceMembership { role_ids, .. } = &sm.kind else {
        unreachable!()
    };
    assert_eq!(role_ids, &vec!["r-blog-author".to_string()]);
    assert_eq!(p.counts(), (6, 0, 0));
    snap("plan__onboarding_text", &text(&p));
    snap("plan__onboarding_json", &render::plan_json(&p));
    snap("plan__onboarding_markdown", &markdown(&p));
}

#[test]
fn offboarding_with_prune_is_one_removal_with_its_cascades() {
    let desired = base_teams()
        .prune()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    assert!(!p.refused, "{:#?}", p.guardrails);
    assert_eq!(p.operations.len(), 1, "no separate membership deletes");
    let op = &p.operations[0];
    let OpKind::RemoveOrgMember {
        email, cascades, ..
    } = &op.kind
    else {
        panic!("expected a removal, got {op:#?}")
    };
    assert_eq!(email.as_str(), BOB);
    assert_eq!(
        cascades.len(),
        3,
        "editors, marketing, legacy space: {cascades:#?}"
    );
    assert!(
        cascades
            .iter()
            .any(|c| matches!(c, Cascade::SpaceMembership { space_id, .. } if space_id == LEGACY))
    );
    assert_eq!(op.cause, None);
    assert_eq!(op.touches.len(), 4);
    snap("plan__offboarding_text", &text(&p));
    snap("plan__offboarding_json", &render::plan_json(&p));
}

#[test]
fn role_change_demotion_waits_for_new_grants() {
    let desired = base_teams()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(
            JANE,
            OrgRole::Member,
            &["web-admins"],
            &[("blog", roles(&["Author"]))],
        )
        .user(
            BOB,
            OrgRole::Developer,
            &["editors"],
            &[("marketing", roles(&["Author", "Translator"]))],
        )
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    assert!(!p.refused);
    let demote = only(&p, |k| {
        matches!(
            k,
            OpKind::ChangeOrgRole {
                to: OrgRole::Member,
                ..
            }
        )
    });
    let grant = only(&p, |k| matches!(k, OpKind::CreateSpaceMembership { .. }));
    assert_eq!(demote.depends_on, vec![grant.id.clone()]);
    let promote = only(&p, |k| {
        matches!(
            k,
            OpKind::ChangeOrgRole {
                to: OrgRole::Developer,
                ..
            }
        )
    });
    assert!(promote.depends_on.is_empty(), "a promotion needs no wait");
    let update = only(&p, |k| matches!(k, OpKind::UpdateSpaceMembership { .. }));
    assert_eq!(
        update.touches[0].version,
        base_live().build().space_memberships[&format!("sm-{MARKETING}-bob")]
            .meta
            .version
    );
    assert_eq!(p.counts(), (1, 3, 0));
    snap("plan__role_change_text", &text(&p));
}

#[test]
fn team_restructure_makes_before_it_breaks() {
    // Bob's direct marketing access moves to a new team "authors".
    let desired = base_teams()
        .team(
            "authors",
            "Authors of marketing copy",
            &[("marketing", roles(&["Author"]))],
        )
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
        .user(BOB, OrgRole::Member, &["authors", "editors"], &[])
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    let create = only(&p, |k| matches!(k, OpKind::CreateTeam { .. }));
    let join = only(&p, |k| matches!(k, OpKind::AddTeamMember { .. }));
    let tsm = only(&p, |k| {
        matches!(k, OpKind::CreateTeamSpaceMembership { .. })
    });
    let delete = only(&p, |k| matches!(k, OpKind::DeleteSpaceMembership { .. }));
    let mut deps = delete.depends_on.clone();
    deps.sort();
    let mut want = vec![join.id.clone(), tsm.id.clone()];
    want.sort();
    assert_eq!(
        deps, want,
        "the direct membership goes only after the team access exists"
    );
    assert_eq!(level_of(&p, &create.id), 0);
    assert_eq!(level_of(&p, &join.id), 1);
    assert_eq!(level_of(&p, &tsm.id), 1);
    assert_eq!(level_of(&p, &delete.id), 2);
    assert_eq!(p.levels.len(), 3);
    snap("plan__team_restructure_text", &text(&p));
    snap("plan__team_restructure_json", &render::plan_json(&p));
}

#[test]
fn pending_invitee_is_not_invited_again_but_gets_access() {
    let live = base_live()
        .pending("dave@acme.example", OrgRole::Member)
        .build();
    let desired = base_file()
        .user(
            "Dave@Acme.Example",
            OrgRole::Developer,
            &["editors"],
            &[("blog", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    assert!(
        p.operations
            .iter()
            .all(|o| !matches!(o.kind, OpKind::Invite { .. }))
    );
    assert_eq!(p.pending.len(), 1);
    assert_eq!(p.pending[0].email.as_str(), "dave@acme.example");
    let join = only(&p, |k| matches!(k, OpKind::AddTeamMember { .. }));
    let OpKind::AddTeamMember { membership, .. } = &join.kind else {
        unreachable!()
    };
    assert_eq!(membership, &MembershipRef::Existing("om-dave".into()));
    only(&p, |k| {
        matches!(
            k,
            OpKind::ChangeOrgRole {
                to: OrgRole::Developer,
                ..
            }
        )
    });
    only(&p, |k| matches!(k, OpKind::CreateSpaceMembership { .. }));
    snap("plan__pending_invite_text", &text(&p));
    snap("plan__pending_invite_markdown", &markdown(&p));

    // A pending invitee already in sync: still listed as pending, nothing to do.
    let live = base_live()
        .pending("dave@acme.example", OrgRole::Member)
        .member("editors", "dave@acme.example")
        .build();
    let desired = base_file()
        .user("dave@acme.example", OrgRole::Member, &["editors"], &[])
        .build();
    let p = plan(&desired, &live);
    assert!(p.is_empty());
    assert_eq!(p.pending.len(), 1);
}

fn extra_members(org: Org, n: usize) -> Org {
    (0..n).fold(org, |o, i| {
        o.user(&format!("temp{i}@acme.example"), OrgRole::Member)
    })
}

#[test]
fn refused_max_removals_names_the_removals() {
    let live = extra_members(base_live(), 3).build();
    let desired = base_file()
        .prune()
        .max_removals(MaxRemovals::Count(2))
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    assert!(p.refused);
    assert_eq!(failed(&p), vec![Guardrail::MaxRemovals]);
    let g = &p.guardrails[0];
    assert!(
        g.message.contains("3 removals exceed the limit of 2"),
        "{}",
        g.message
    );
    for i in 0..3 {
        assert!(g.message.contains(&format!("temp{i}@acme.example")));
    }
    // At the limit it passes.
    let desired = base_file()
        .prune()
        .max_removals(MaxRemovals::Count(3))
        .build();
    assert!(!plan(&desired, &live).refused);
    // Percentages count current org members: 10% of 6 rounds down to 0, but never below 1.
    let desired = base_file().prune().build();
    assert!(plan(&desired, &live).refused);
    snap("plan__refused_max_removals_text", &text(&p));
}

#[test]
fn refused_protected_principal() {
    let desired = base_teams()
        .protect_user(JANE)
        .protect_team("editors")
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Member, &["web-admins"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &[],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    assert_eq!(failed(&p), vec![Guardrail::Protected]);
    let g = &p.guardrails[1];
    assert!(
        g.message.contains(JANE) && g.message.contains("team editors"),
        "{}",
        g.message
    );
    assert_eq!(
        g.offenders,
        vec![JANE.to_string(), "team editors".to_string()]
    );
    // Unchanged protected principals are fine.
    let desired = base_file()
        .protect_user(JANE)
        .protect_team("editors")
        .build();
    assert!(!plan(&desired, &base_live().build()).refused);
    snap("plan__refused_protected_text", &text(&p));
    snap("plan__refused_protected_markdown", &markdown(&p));
    snap("plan__refused_protected_json", &render::plan_json(&p));
}

#[test]
fn refused_demoting_the_token_user() {
    let live = base_live().me(JANE).build();
    let desired = base_teams()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Developer, &["web-admins"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    assert_eq!(failed(&p), vec![Guardrail::TokenUser]);
    assert!(
        p.guardrails[2]
            .message
            .contains("demotes jane@acme.example from admin to developer")
    );
    snap("plan__refused_token_user_text", &text(&p));

    // Removing it with prune is refused too.
    let desired = base_teams()
        .prune()
        .max_removals(MaxRemovals::Count(5))
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(
            BOB,
            OrgRole::Member,
            &["editors", "web-admins"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &live);
    assert_eq!(failed(&p), vec![Guardrail::TokenUser]);
    assert!(
        p.guardrails[2]
            .message
            .contains("removes jane@acme.example")
    );
}

/// Only owners may invite an owner, promote to owner, or change or remove an owner (Contentful's
/// web app): with an admin's token such a plan is refused before any write, saying an owner's
/// token is needed; with an owner's token the same plan passes.
#[test]
fn refused_owner_changes_without_an_owner_token() {
    const SECOND: &str = "second.owner@acme.example";
    const NEW: &str = "new.owner@acme.example";
    let live = |me: &str| base_live().user(SECOND, OrgRole::Owner).me(me).build();
    let keep = |f: File| {
        f.user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
    };
    let bob = |f: File, role: OrgRole| {
        f.user(
            BOB,
            role,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
    };
    let cases: Vec<(&str, DesiredState, &str)> = vec![
        (
            "invite an owner",
            bob(keep(base_teams()), OrgRole::Member)
                .user(SECOND, OrgRole::Owner, &[], &[])
                .user(NEW, OrgRole::Owner, &[], &[])
                .build(),
            "invites new.owner@acme.example as owner",
        ),
        (
            "promote to owner",
            bob(keep(base_teams()), OrgRole::Owner)
                .user(SECOND, OrgRole::Owner, &[], &[])
                .build(),
            "changes bob@acme.example from member to owner",
        ),
        (
            "demote an owner",
            bob(keep(base_teams()), OrgRole::Member)
                .user(SECOND, OrgRole::Admin, &[], &[])
                .build(),
            "changes second.owner@acme.example from owner to admin",
        ),
        (
            "remove an owner",
            bob(
                keep(base_teams().prune().max_removals(MaxRemovals::Count(5))),
                OrgRole::Member,
            )
            .build(),
            "removes owner second.owner@acme.example",
        ),
    ];
    for (what, desired, says) in cases {
        let p = plan(&desired, &live(JANE));
        common_checks(&p);
        assert!(p.refused, "{what}");
        assert_eq!(failed(&p), vec![Guardrail::TokenUser], "{what}");
        let msg = &p.guardrails[2].message;
        assert!(msg.contains("an owner's token is needed"), "{what}: {msg}");
        assert!(msg.contains(says), "{what}: {msg}");
        assert!(
            msg.contains("the token's own user jane@acme.example is admin"),
            "{what}: {msg}"
        );
        let p = plan(&desired, &live(OWNER));
        assert!(
            !p.refused,
            "{what} with an owner's token: {:#?}",
            p.guardrails
        );
    }
    // Changes below owner stay open to an admin.
    let p = plan(
        &bob(keep(base_teams()), OrgRole::Developer)
            .user(SECOND, OrgRole::Owner, &[], &[])
            .build(),
        &live(JANE),
    );
    assert!(!p.refused, "{:#?}", p.guardrails);
}

#[test]
fn refused_leaving_the_org_without_owner() {
    let live = base_live().me(JANE).build();
    let desired = base_teams()
        .user(
            OWNER,
            OrgRole::Admin,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    // Jane, an admin, may not demote an owner either (owner-only changes).
    assert_eq!(failed(&p), vec![Guardrail::TokenUser, Guardrail::OrgOwner]);
    assert!(p.guardrails[3].message.contains(OWNER));
    snap("plan__refused_org_owner_text", &text(&p));
    // With a second owner, whose token runs it, the demotion is fine.
    let live = base_live()
        .user("ceo@acme.example", OrgRole::Owner)
        .me("ceo@acme.example")
        .build();
    let desired = DesiredState {
        policy: desired.policy.clone(),
        ..desired
    };
    let mut d = desired;
    d.policy
        .ignore
        .insert(contentful_access::model::Principal::User(Email::new(
            "ceo@acme.example",
        )));
    assert!(!plan(&d, &live).refused);
}

#[test]
fn refused_leaving_a_space_without_admin() {
    let desired = base_teams()
        .max_removals(MaxRemovals::Count(5))
        .user(OWNER, OrgRole::Owner, &[], &[])
        .user(JANE, OrgRole::Admin, &[], &[])
        .user(
            BOB,
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    assert_eq!(failed(&p), vec![Guardrail::SpaceAdmin]);
    let g = &p.guardrails[4];
    assert_eq!(
        g.offenders,
        vec!["blog".to_string(), "marketing".to_string()]
    );
    assert!(
        g.message.contains("admins now: team web-admins"),
        "{}",
        g.message
    );
    snap("plan__refused_space_admin_text", &text(&p));
}

fn with_strangers() -> LiveState {
    with_strangers_and(|o| o)
}

#[test]
fn prune_off_reports_unmanaged_and_changes_nothing() {
    let desired = base_file().ignore_user("ci-bot@acme.example").build();
    let p = plan(&desired, &with_strangers());
    common_checks(&p);
    assert!(p.is_empty());
    let names: Vec<&str> = p.unmanaged.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["eve@acme.example", "legacy-team"],
        "ignored ci-bot not reported"
    );
    assert_eq!(p.unmanaged[0].related, vec!["editors", "legacy-team"]);
    assert_eq!(p.unmanaged[1].related, vec!["eve@acme.example"]);
    snap("plan__prune_off_text", &text(&p));
    snap("plan__prune_off_markdown", &markdown(&p));
}

#[test]
fn prune_on_removes_undeclared_users_and_teams() {
    let desired = base_file()
        .prune()
        .max_removals(MaxRemovals::Count(5))
        .ignore_user("ci-bot@acme.example")
        .build();
    let p = plan(&desired, &with_strangers());
    common_checks(&p);
    assert!(!p.refused, "{:#?}", p.guardrails);
    assert!(p.unmanaged.is_empty());
    assert_eq!(p.operations.len(), 2);
    let team = only(&p, |k| matches!(k, OpKind::DeleteTeam { .. }));
    assert_eq!(team.kind.cascades().len(), 2);
    let eve = only(&p, |k| matches!(k, OpKind::RemoveOrgMember { .. }));
    assert_eq!(eve.kind.cascades().len(), 3);
    assert!(p.operations.iter().all(|o| o.action == Action::Remove));
    snap("plan__prune_on_text", &text(&p));
}

#[test]
fn declared_user_leaving_a_declared_team() {
    let desired = base_teams()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins", "editors"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &[],
            &[("marketing", roles(&["Author", "Editor", "Translator"]))],
        )
        .build();
    let p = plan(&desired, &base_live().build());
    common_checks(&p);
    let leave = only(&p, |k| matches!(k, OpKind::RemoveTeamMember { .. }));
    let update = only(&p, |k| matches!(k, OpKind::UpdateSpaceMembership { .. }));
    assert_eq!(
        leave.depends_on,
        vec![update.id.clone()],
        "bob keeps marketing access throughout"
    );
    assert_eq!(p.counts(), (1, 1, 1));
}

#[test]
fn large_plans_start_with_a_summary() {
    let mut f = base_file();
    for i in 0..12 {
        f = f.user(
            &format!("new{i:02}@acme.example"),
            OrgRole::Member,
            &["editors"],
            &[],
        );
    }
    let p = plan(&f.build(), &base_live().build());
    common_checks(&p);
    assert_eq!(p.operations.len(), 24);
    let t = text(&p);
    let summary = t.find("Summary (24 operations):").expect("summary shown");
    assert!(summary < t.find("+ user new00@acme.example").unwrap());
    assert_eq!(p.levels.len(), 2);
    assert_eq!(p.levels[0].len(), 12);
    snap("plan__large_text", &t);
    // Small plans have none.
    let small = plan(
        &base_file()
            .user("x@acme.example", OrgRole::Member, &[], &[])
            .build(),
        &base_live().build(),
    );
    assert!(!text(&small).contains("Summary"));
}

#[test]
fn unknown_roles_and_spaces_are_all_reported_with_suggestions() {
    let mut desired = base_teams()
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(
            BOB,
            OrgRole::Member,
            &[],
            &[("marketing", roles(&["Autor", "Translater"]))],
        )
        .user(
            JANE,
            OrgRole::Admin,
            &[],
            &[("blog", roles(&["Publisher"]))],
        )
        .build();
    desired.spaces.insert(
        "shop".into(),
        contentful_access::model::DesiredSpace {
            id: "nosuchspace1".into(),
            at: contentful_access::model::Span::root(3, 9),
        },
    );
    let err = plan::build(
        &desired,
        &base_live().build(),
        &PlanOptions {
            created_at: created_at(),
        },
    )
    .unwrap_err();
    let PlanError::Unresolved(all) = &err;
    assert_eq!(all.len(), 4);
    assert!(matches!(&all[0], Unresolved::UnknownSpace { space_name, .. } if space_name == "shop"));
    let diags = err.diagnostics();
    let rendered: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}:{}: {} ({})",
                d.span.line,
                d.span.column,
                d.message,
                d.help.clone().unwrap_or_default()
            )
        })
        .collect();
    snap("plan__unknown_names_diagnostics", &rendered.join("\n"));
    assert!(
        rendered
            .iter()
            .any(|r| r.contains("\"Autor\"") && r.contains("did you mean \"Author\"?"))
    );
    assert!(
        rendered
            .iter()
            .any(|r| r.contains("\"Translater\"") && r.contains("\"Translator\""))
    );
    assert!(err.to_string().contains("4 name(s)"));
}

#[test]
fn colour_only_when_asked() {
    let desired = base_file()
        .user("x@acme.example", OrgRole::Member, &[], &[])
        .build();
    let p = plan(&desired, &base_live().build());
    let coloured = render::plan_text(
        &p,
        &RenderOptions {
            color: true,
            ..RenderOptions::default()
        },
    );
    assert!(coloured.contains("\x1b[32m+ invite as member"));
    let plain = text(&p);
    assert!(!plain.contains('\x1b'));
    assert!(!markdown(&p).contains('\x1b'));
}

#[test]
fn emails_match_case_insensitively() {
    let desired = base_teams()
        .user(
            "OWNER@Acme.Example",
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(" Jane@ACME.example", OrgRole::Admin, &["web-admins"], &[])
        .user(
            "bob@acme.EXAMPLE",
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    assert!(plan(&desired, &base_live().build()).is_empty());
}

#[test]
fn ten_thousand_members_plan_in_one_pass() {
    // 10,000 members in 5 teams with direct access to both managed spaces: the planner must
    // stay linear-ish (indexes, no pairwise scans) so a CI run on a big org stays fast.
    let mut org = Org::new().user(OWNER, OrgRole::Owner).me(OWNER);
    for t in 0..5 {
        org = org
            .team(&format!("team{t}"), "")
            .tsm(&format!("team{t}"), BLOG, roles(&["Author"]));
    }
    for i in 0..10_000 {
        let e = format!("user{i:05}@acme.example");
        org = org
            .user(&e, OrgRole::Member)
            .member(&format!("team{}", i % 5), &e)
            .sm(&e, MARKETING, roles(&["Editor"]));
    }
    let live = org.build();
    let mut desired = export::desired_from_live(&live, &super::fixtures::managed_spaces());
    desired.policy.prune = true;
    desired.policy.max_removals = MaxRemovals::Count(10_000);
    // 1,000 removed, 1,000 moved to Author, 500 invited.
    for i in 0..1_000 {
        desired
            .users
            .remove(&Email::new(&format!("user{i:05}@acme.example")));
    }
    for i in 1_000..2_000 {
        let u = desired
            .users
            .get_mut(&Email::new(&format!("user{i:05}@acme.example")))
            .unwrap();
        u.spaces.get_mut("marketing").unwrap().access = roles(&["Author"]);
    }
    for i in 0..500 {
        let mut u = desired.users[&Email::new("user05000@acme.example")].clone();
        u.email = Email::new(&format!("new{i:04}@acme.example"));
        desired.users.insert(u.email.clone(), u);
    }
    let p = plan(&desired, &live);
    assert!(
        !p.refused,
        "{:#?}",
        p.failed_guardrails().collect::<Vec<_>>()
    );
    assert_eq!(p.counts(), (500 * 3, 1_000, 1_000));
    let after = plan::simulate(&live, &p);
    assert!(plan(&desired, &after).is_empty());

    // Without prune the 1,000 undeclared members are reported; the comment lists the first 50.
    desired.policy.prune = false;
    let p = plan(&desired, &live);
    assert_eq!(p.unmanaged.len(), 1_000);
    let md = markdown(&p);
    assert!(md.contains("- … and 950 more"));
    assert!(md.len() <= render::MARKDOWN_MAX_CHARS);
}

#[test]
fn team_replaced_under_prune_is_deleted_only_after_the_new_team_grants_access() {
    // Live: bob gets marketing Author through team "writers"; the file replaces it by "authors".
    let live = base_live()
        .team("writers", "")
        .member("writers", BOB)
        .tsm("writers", MARKETING, roles(&["Author"]))
        .build();
    let desired = base_teams()
        .prune()
        .max_removals(MaxRemovals::Count(5))
        .team("authors", "", &[("marketing", roles(&["Author"]))])
        .user(
            OWNER,
            OrgRole::Owner,
            &[],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(JANE, OrgRole::Admin, &["web-admins"], &[])
        .user(
            BOB,
            OrgRole::Member,
            &["authors", "editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    assert!(!p.refused, "{:#?}", p.guardrails);
    let delete = only(&p, |k| matches!(k, OpKind::DeleteTeam { .. }));
    let join = only(&p, |k| matches!(k, OpKind::AddTeamMember { .. }));
    let tsm = only(&p, |k| {
        matches!(k, OpKind::CreateTeamSpaceMembership { .. })
    });
    assert!(delete.depends_on.contains(&join.id));
    assert!(delete.depends_on.contains(&tsm.id));
    let OpKind::DeleteTeam { cascades, .. } = &delete.kind else {
        unreachable!()
    };
    assert_eq!(
        cascades.len(),
        2,
        "bob's membership and the marketing access"
    );
    snap("plan__team_replaced_text", &text(&p));
}

#[test]
fn unmanaged_and_ignored_teams_keep_their_members() {
    // Jane is declared, but her membership of the undeclared team "legacy-team" is not the
    // file's business while prune is off; an ignored team is not even reported.
    let live = with_strangers_and(|o| {
        o.member("legacy-team", JANE)
            .team("bots", "")
            .member("bots", JANE)
    });
    let mut desired = base_file().ignore_user("ci-bot@acme.example").build();
    desired
        .policy
        .ignore
        .insert(contentful_access::model::Principal::Team("bots".into()));
    let p = plan(&desired, &live);
    assert!(p.is_empty(), "{:#?}", p.operations);
    let names: Vec<&str> = p.unmanaged.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["eve@acme.example", "legacy-team"]);
    // With prune the undeclared team goes (taking Jane's membership with it); the ignored one stays.
    desired.policy.prune = true;
    desired.policy.max_removals = MaxRemovals::Count(5);
    let p = plan(&desired, &live);
    assert!(
        p.operations
            .iter()
            .all(|o| o.kind.team_name() != Some("bots"))
    );
    let delete = only(&p, |k| matches!(k, OpKind::DeleteTeam { .. }));
    assert_eq!(delete.kind.team_name(), Some("legacy-team"));
}

fn with_strangers_and(f: impl FnOnce(Org) -> Org) -> LiveState {
    f(base_live()
        .user("eve@acme.example", OrgRole::Member)
        .member("editors", "eve@acme.example")
        .sm("eve@acme.example", MARKETING, roles(&["Author", "Editor"]))
        .user("ci-bot@acme.example", OrgRole::Admin)
        .team("legacy-team", "Old agency")
        .member("legacy-team", "eve@acme.example")
        .tsm("legacy-team", BLOG, roles(&["Editor"])))
    .build()
}

#[test]
fn handover_promotes_the_new_owner_and_admin_before_the_old_ones_step_down() {
    // Only an owner may promote to owner or demote an owner, and nobody demotes themselves: a
    // third owner's token runs the handover.
    const CEO: &str = "ceo@acme.example";
    let live = base_live().user(CEO, OrgRole::Owner).me(CEO).build();
    let desired = base_teams()
        .user(
            OWNER,
            OrgRole::Admin,
            &[],
            &[("marketing", roles(&["Editor"]))],
        )
        .user(
            JANE,
            OrgRole::Owner,
            &["web-admins"],
            &[("marketing", SpaceAccess::Admin)],
        )
        .user(
            BOB,
            OrgRole::Member,
            &["editors"],
            &[("marketing", roles(&["Author"]))],
        )
        .user(CEO, OrgRole::Owner, &[], &[])
        .build();
    let p = plan(&desired, &live);
    common_checks(&p);
    assert!(!p.refused, "{:#?}", p.guardrails);
    let promote = only(&p, |k| {
        matches!(
            k,
            OpKind::ChangeOrgRole {
                to: OrgRole::Owner,
                ..
            }
        )
    });
    let demote = only(&p, |k| {
        matches!(
            k,
            OpKind::ChangeOrgRole {
                from: OrgRole::Owner,
                ..
            }
        )
    });
    let new_admin = only(&p, |k| matches!(k, OpKind::CreateSpaceMembership { .. }));
    let old_admin = only(&p, |k| matches!(k, OpKind::UpdateSpaceMembership { .. }));
    assert!(
        demote.depends_on.contains(&promote.id),
        "never without an owner"
    );
    assert!(
        old_admin.depends_on.contains(&new_admin.id),
        "never without a marketing admin"
    );
    snap("plan__handover_text", &text(&p));
}

/// A pending invitee may never accept: made the only admin of a space (directly, or as the only
/// member of an admin team), they do not keep the space administered, as they already do not
/// count as the organization's owner.
#[test]
fn refused_handing_a_space_to_a_pending_invitee_alone() {
    const NEW: &str = "new.hire@acme.example";
    let live = Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Admin)
        .pending(NEW, OrgRole::Member)
        .sm(JANE, BLOG, SpaceAccess::Admin)
        .build();

    // Directly: Jane's admin membership goes, the invitee's comes.
    let direct = File::new()
        .user(OWNER, OrgRole::Owner, &[], &[])
        .user(JANE, OrgRole::Admin, &[], &[])
        .user(NEW, OrgRole::Member, &[], &[("blog", SpaceAccess::Admin)])
        .build();
    let p = plan(&direct, &live);
    common_checks(&p);
    assert_eq!(failed(&p), vec![Guardrail::SpaceAdmin]);
    let g = &p.guardrails[4];
    assert_eq!(g.offenders, vec!["blog".to_string()]);
    assert!(
        g.message.contains("admins now: jane@acme.example"),
        "{}",
        g.message
    );

    // Through a team whose only member is the invitee.
    let team = File::new()
        .team("newcomers", "New hires", &[("blog", SpaceAccess::Admin)])
        .user(OWNER, OrgRole::Owner, &[], &[])
        .user(JANE, OrgRole::Admin, &[], &[])
        .user(NEW, OrgRole::Member, &["newcomers"], &[])
        .build();
    let p = plan(&team, &live);
    common_checks(&p);
    assert_eq!(failed(&p), vec![Guardrail::SpaceAdmin]);

    // With an active admin staying, the same grants are fine.
    let kept = File::new()
        .user(OWNER, OrgRole::Owner, &[], &[])
        .user(JANE, OrgRole::Admin, &[], &[("blog", SpaceAccess::Admin)])
        .user(NEW, OrgRole::Member, &[], &[("blog", SpaceAccess::Admin)])
        .build();
    assert!(!plan(&kept, &live).refused);
}
