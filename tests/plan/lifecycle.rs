//! Issue 16 (enterprise lifecycle) scenarios, each at an explicit time (`--now` in the CLI):
//! access that expires, invitations that expire, and an organization whose members an identity
//! provider provisions. Access files are YAML, as a user writes them.

use chrono::{DateTime, TimeZone, Utc};
use contentful_access::config;
use contentful_access::model::{DesiredState, LiveState, OrgRole, SpaceAccess};
use contentful_access::plan::{self, Action, Guardrail, OpKind, Plan, PlanOptions, Reason};
use contentful_access::render::{self, RenderOptions};
use contentful_access::report::drift;

use super::fixtures::{BLOG, MARKETING, ORG, Org, roles};

const OWNER: &str = "owner@acme.example";
const JANE: &str = "jane@acme.example";
const BOB: &str = "bob@acme.example";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

/// An access file: the organization, the two managed spaces, then `rest`.
fn file(rest: &str) -> DesiredState {
    let text = format!(
        "version: 1\norganization: {ORG}\nspaces:\n  blog: {BLOG}\n  marketing: {MARKETING}\n{rest}"
    );
    config::load_str("access.yaml", &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"))
}

fn plan_at(desired: &DesiredState, live: &LiveState, now: DateTime<Utc>) -> Plan {
    plan::build(desired, live, &PlanOptions { created_at: now }).unwrap()
}

fn live() -> LiveState {
    Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Member)
        .user(BOB, OrgRole::Member)
        .team("editors", "")
        .team("contractors", "")
        .member("contractors", BOB)
        .sm(OWNER, BLOG, SpaceAccess::Admin)
        .sm(JANE, BLOG, roles(&["Editor"]))
        .build()
}

const USERS: &str = "teams:
  editors:
  contractors:
users:
  owner@acme.example:
    org_role: owner
    spaces: {blog: admin}
";

#[test]
fn a_grant_expiring_tomorrow_stays_and_one_expired_yesterday_is_removed_with_its_reason() {
    let desired = file(&format!(
        "{USERS}  bob@acme.example:
    teams: [contractors]
  jane@acme.example:
    spaces:
      blog: {{access: [Editor], expires: 2026-12-01}}
"
    ));
    let live = live();
    // The date means the end of 2026-12-01 UTC: the last second of that day still has access.
    let before = plan_at(&desired, &live, at(2026, 11, 30, 12));
    assert!(before.is_empty(), "{before:#?}");
    let last_second = Utc.with_ymd_and_hms(2026, 12, 1, 23, 59, 59).unwrap();
    assert!(plan_at(&desired, &live, last_second).is_empty());

    let after = plan_at(&desired, &live, at(2026, 12, 2, 9));
    assert_eq!(after.operations.len(), 1, "{after:#?}");
    let op = &after.operations[0];
    assert!(
        matches!(&op.kind, OpKind::DeleteSpaceMembership { space_name, .. } if space_name == "blog")
    );
    assert_eq!(op.action, Action::Remove);
    let Some(Reason::Expired { expires }) = &op.reason else {
        panic!("no reason: {op:#?}")
    };
    assert_eq!(expires.to_string(), "2026-12-01");
    // The cause is the `expires` line (line 17 of the file).
    assert_eq!(op.cause.map(|c| c.line), Some(17));

    // Every format says why.
    let text = render::plan_text(&after, &RenderOptions::default());
    assert!(text.contains("expired on 2026-12-01"), "{text}");
    let md = render::plan_markdown(&after, &RenderOptions::default());
    assert!(md.contains("expired on 2026-12-01"), "{md}");
    let json = render::plan_json(&after);
    assert!(json.contains("\"reason\""), "{json}");
    assert!(json.contains("\"date\": \"2026-12-01\""), "{json}");
    // A saved plan with the reason reads back the same.
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, after);

    // Not drift: the file scheduled it.
    let report = drift::drift(&after, &live);
    assert!(report.is_clean(), "{report:#?}");
}

#[test]
fn an_expired_user_is_removed_from_the_organization_and_an_expired_invitee_is_not_invited() {
    let desired = file(&format!(
        "{USERS}  bob@acme.example:
    teams: [contractors]
    expires: 2026-12-01T18:00:00Z
  jane@acme.example:
    spaces: {{blog: [Editor]}}
  new@acme.example:
    expires: 2026-11-01
"
    ));
    let live = live();
    let before = plan_at(&desired, &live, at(2026, 12, 1, 17));
    // Only the invitation of new@, whose expiry is long past, is... not planned: no invite.
    assert!(before.is_empty(), "{before:#?}");
    let after = plan_at(&desired, &live, at(2026, 12, 1, 18));
    assert_eq!(after.operations.len(), 1, "{after:#?}");
    let op = &after.operations[0];
    let OpKind::RemoveOrgMember {
        email, cascades, ..
    } = &op.kind
    else {
        panic!("{op:#?}")
    };
    assert_eq!(email.as_str(), BOB);
    assert_eq!(cascades.len(), 1, "the contractors membership goes with it");
    assert_eq!(
        op.reason.as_ref().map(ToString::to_string).as_deref(),
        Some("expired on 2026-12-01T18:00:00Z")
    );
}

#[test]
fn an_expired_team_membership_is_removed_and_never_added() {
    let desired = file(&format!(
        "{USERS}  bob@acme.example:
    teams: [editors, {{team: contractors, expires: 2026-11-30}}]
  jane@acme.example:
    teams: [{{team: editors, expires: 2026-11-30}}]
    spaces: {{blog: [Editor]}}
"
    ));
    let live = live();
    let before = plan_at(&desired, &live, at(2026, 11, 30, 0));
    let adds: Vec<_> = before
        .operations
        .iter()
        .map(|o| (o.kind.name(), o.kind.email().unwrap().as_str().to_string()))
        .collect();
    assert_eq!(
        adds,
        [
            ("add_team_member", BOB.to_string()),
            ("add_team_member", JANE.to_string())
        ]
    );
    let after = plan_at(&desired, &live, at(2026, 12, 1, 0));
    let kinds: Vec<_> = after
        .operations
        .iter()
        .map(|o| {
            (
                o.kind.name(),
                o.kind.team_name().unwrap(),
                o.reason.is_some(),
            )
        })
        .collect();
    // Jane is not added to editors any more; Bob is added to editors and leaves contractors.
    assert_eq!(
        kinds,
        [
            ("add_team_member", "editors", false),
            ("remove_team_member", "contractors", true)
        ]
    );
}

#[test]
fn expiry_removals_count_against_max_removals() {
    let desired = file(&format!(
        "policy:
  max_removals: 0
{USERS}  bob@acme.example:
    teams: [contractors]
  jane@acme.example:
    spaces:
      blog: {{access: [Editor], expires: 2026-12-01}}
"
    ));
    let p = plan_at(&desired, &live(), at(2026, 12, 5, 0));
    assert!(p.refused, "{p:#?}");
    let g = p
        .failed_guardrails()
        .map(|g| g.name)
        .collect::<Vec<Guardrail>>();
    assert_eq!(g, [Guardrail::MaxRemovals]);
}

/// Jane invited at `invited_at` and still pending; the file declares her.
fn pending_jane(invited_at: DateTime<Utc>) -> LiveState {
    let mut live = Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .pending(JANE, OrgRole::Member)
        .build();
    for m in live.org_memberships.values_mut() {
        if m.status == contentful_access::model::MembershipStatus::Pending {
            m.meta.created_at = Some(invited_at);
        }
    }
    live
}

const JANE_DECLARED: &str = "users:
  owner@acme.example:
    org_role: owner
  jane@acme.example:
    name: Jane Doe
";

fn reinvites(p: &Plan) -> Vec<String> {
    p.operations
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Reinvite { .. }))
        .map(|o| o.kind.email().unwrap().to_string())
        .collect()
}

#[test]
fn an_expired_invitation_is_sent_again_once_and_then_counts_as_pending_for_7_days() {
    let desired = file(JANE_DECLARED);
    let invited = at(2026, 10, 12, 9);
    let p = plan_at(&desired, &pending_jane(invited), at(2026, 12, 1, 9));
    assert_eq!(reinvites(&p), [JANE]);
    let op = &p.operations[0];
    assert_eq!(op.action, Action::Change);
    let OpKind::Reinvite {
        first_name, role, ..
    } = &op.kind
    else {
        panic!()
    };
    assert_eq!(
        (first_name.as_deref(), *role),
        (Some("Jane"), OrgRole::Member)
    );
    let text = render::plan_text(&p, &RenderOptions::default());
    assert!(
        text.contains("~ re-invite, invited 2026-10-12, expired"),
        "{text}"
    );
    assert_eq!(p.counts(), (0, 1, 0));
    // Re-sending is not drift.
    assert!(drift::drift(&p, &pending_jane(invited)).is_clean());

    // Contentful dates the new invitation when it is sent: for 7 days it is pending, not re-sent.
    let resent = at(2026, 12, 1, 9);
    let live = pending_jane(resent);
    for day in [1, 2, 5, 7] {
        let p = plan_at(
            &desired,
            &live,
            resent + chrono::Duration::days(day) - chrono::Duration::seconds(1),
        );
        assert!(p.is_empty(), "day {day}: {p:#?}");
        assert_eq!(p.pending.len(), 1);
    }
    let p = plan_at(&desired, &live, resent + chrono::Duration::days(7));
    assert_eq!(reinvites(&p), [JANE]);
}

#[test]
fn reinvite_expired_false_only_reports_the_pending_invitation() {
    let desired = file(&format!(
        "policy:\n  reinvite_expired: false\n{JANE_DECLARED}"
    ));
    let p = plan_at(
        &desired,
        &pending_jane(at(2026, 10, 12, 9)),
        at(2026, 12, 1, 9),
    );
    assert!(p.is_empty(), "{p:#?}");
    assert_eq!(p.pending.len(), 1);
}

const PROVIDER: &str = "policy:
  org_membership: identity_provider
  prune: true
teams:
  editors:
  contractors:
    managed_by: identity_provider
    spaces: {blog: [Author]}
users:
  owner@acme.example:
    org_role: owner
    spaces: {blog: admin}
  jane@acme.example:
    spaces: {blog: [Editor]}
";

#[test]
fn with_an_identity_provider_a_missing_user_waits_for_provisioning_and_is_granted_once_there() {
    let desired = file(&format!(
        "{PROVIDER}  new@acme.example:
    org_role: developer
    teams: [editors]
    spaces: {{marketing: [Author]}}
"
    ));
    let live = live();
    let p = plan_at(&desired, &live, at(2026, 12, 1, 9));
    assert!(
        !p.operations.iter().any(|o| o
            .kind
            .email()
            .is_some_and(|e| e.as_str() == "new@acme.example")),
        "{p:#?}"
    );
    assert_eq!(p.waiting.len(), 1);
    let w = &p.waiting[0];
    assert_eq!(
        (w.email.as_str(), w.org_role),
        ("new@acme.example", OrgRole::Developer)
    );
    assert_eq!(w.teams, ["editors"]);
    assert_eq!(w.access[0].space_name, "marketing");
    let text = render::plan_text(&p, &RenderOptions::default());
    assert!(text.contains("Waiting for provisioning"), "{text}");
    assert!(
        text.contains("new@acme.example as developer, teams: editors, space marketing [Author]"),
        "{text}"
    );

    // The identity provider provisions them (as `member`): the next plan grants the rest.
    let provisioned = Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Member)
        .user(BOB, OrgRole::Member)
        .user("new@acme.example", OrgRole::Member)
        .team("editors", "")
        .team("contractors", "")
        .member("contractors", BOB)
        .sm(OWNER, BLOG, SpaceAccess::Admin)
        .sm(JANE, BLOG, roles(&["Editor"]))
        .build();
    let p = plan_at(&desired, &provisioned, at(2026, 12, 2, 9));
    assert!(p.waiting.is_empty());
    let mut kinds: Vec<&str> = p
        .operations
        .iter()
        .filter(|o| {
            o.kind
                .email()
                .is_some_and(|e| e.as_str() == "new@acme.example")
        })
        .map(|o| o.kind.name())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "add_team_member",
            "change_org_role",
            "create_space_membership"
        ]
    );
}

#[test]
fn with_an_identity_provider_prune_keeps_members_and_identity_provider_teams_keep_their_members() {
    // Bob is undeclared and in `contractors` (identity-provider managed); the file's users list
    // nobody in it. Prune is on.
    let desired = file(PROVIDER);
    let live = Org::new()
        .user(OWNER, OrgRole::Owner)
        .me(OWNER)
        .user(JANE, OrgRole::Member)
        .user(BOB, OrgRole::Member)
        .team("editors", "")
        .team("contractors", "")
        .member("contractors", BOB)
        .member("contractors", JANE)
        .member("editors", BOB)
        .sm(OWNER, BLOG, SpaceAccess::Admin)
        .sm(JANE, BLOG, roles(&["Editor"]))
        .sm(BOB, MARKETING, roles(&["Author"]))
        .tsm("contractors", BLOG, roles(&["Author"]))
        .build();
    let p = plan_at(&desired, &live, at(2026, 12, 1, 9));
    let ops: Vec<(String, &str, Option<&str>)> = p
        .operations
        .iter()
        .map(|o| {
            (
                o.kind.email().map(ToString::to_string).unwrap_or_default(),
                o.kind.name(),
                o.kind.team_name(),
            )
        })
        .collect();
    // Bob keeps his seat and his `contractors` membership; he loses what the file manages: his
    // membership of `editors` and his direct access to marketing. Jane stays in contractors.
    assert_eq!(
        ops,
        [
            (BOB.to_string(), "delete_space_membership", None),
            (BOB.to_string(), "remove_team_member", Some("editors")),
        ]
    );
}

#[test]
fn a_user_may_not_list_an_identity_provider_team() {
    let text = format!(
        "version: 1\norganization: {ORG}\nteams:\n  contractors:\n    managed_by: identity_provider\nusers:\n  bob@acme.example:\n    teams: [contractors]\n"
    );
    let err = config::load_str("access.yaml", &text).unwrap_err();
    let config::ConfigError::Invalid(d) = err else {
        panic!("{err:?}")
    };
    assert_eq!(d.items.len(), 1, "{d:#?}");
    assert_eq!((d.items[0].span.line, d.items[0].span.column), (8, 13));
    assert!(
        d.items[0].message.contains("identity provider"),
        "{}",
        d.items[0].message
    );
}
