//! The Terraform-like text form of a plan: a header, guardrail refusals, a summary by kind for
//! large plans, the operations grouped by user and by team with `+` / `~` / `-`, pending and
//! unmanaged principals, and a last line with the counts (or "No changes.").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::Email;
use crate::plan::{Action, Cascade, OpKind, Operation, Plan, PrincipalKind};

use super::RenderOptions;
use super::style::{self, ADD, CHANGE, DIM, EMPHASIS, ERROR, REMOVE};
use anstyle::Style;

/// Plans with more operations than this start with a summary by kind.
pub const SUMMARY_THRESHOLD: usize = 20;

struct Paint {
    color: bool,
}

impl Paint {
    fn with(&self, style: Style, s: &str) -> String {
        style::paint(style, s, self.color)
    }

    fn action(&self, a: Action, s: &str) -> String {
        self.with(
            match a {
                Action::Add => ADD,
                Action::Change => CHANGE,
                Action::Remove => REMOVE,
            },
            s,
        )
    }
}

/// The plan as text for a terminal or a log. The last line is
/// `Plan: X to add, Y to change, Z to remove.` or `No changes. Contentful access matches FILE.`
pub fn plan_text(plan: &Plan, opts: &RenderOptions) -> String {
    let p = Paint { color: opts.color };
    let mut out = String::new();

    let _ = writeln!(
        out,
        "{}",
        p.with(
            EMPHASIS,
            &format!(
                "Contentful access plan for organization {}",
                plan.organization
            )
        )
    );
    let sha: String = plan.config_sha256.chars().take(12).collect();
    let _ = writeln!(out, "Access file: {} (sha256 {sha})", opts.config_display);
    let _ = writeln!(
        out,
        "Created: {}",
        plan.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    out.push('\n');
    out.push_str(&plan_text_body(plan, opts));
    out
}

/// Everything after the header: refusals, summary, operations, pending, unmanaged, last line.
pub(crate) fn plan_text_body(plan: &Plan, opts: &RenderOptions) -> String {
    let p = Paint { color: opts.color };
    let width = opts.width.max(40);
    let mut out = String::new();
    if plan.refused {
        refusal(&mut out, plan, &p, width);
        out.push('\n');
    }

    if plan.operations.len() > SUMMARY_THRESHOLD {
        summary(&mut out, plan, &p);
        out.push('\n');
    }

    if !plan.operations.is_empty() {
        let _ = writeln!(
            out,
            "Operations (+ add, ~ change, - remove; in parentheses: id, access-file line, what it waits for):"
        );
        out.push('\n');
        operations(&mut out, plan, &p);
    }

    if !plan.pending.is_empty() {
        let _ = writeln!(
            out,
            "Pending invitations (count as present; re-sent only when expired):"
        );
        for inv in &plan.pending {
            let when = inv
                .invited_at
                .map(|t| format!(", invited {}", t.format("%Y-%m-%d")))
                .unwrap_or_default();
            let _ = writeln!(out, "    {} as {}{when}", inv.email, inv.role);
        }
        out.push('\n');
    }

    if !plan.waiting.is_empty() {
        let _ = writeln!(
            out,
            "Waiting for provisioning by the identity provider (granted once they appear):"
        );
        for w in &plan.waiting {
            let _ = writeln!(out, "    {}", super::waiting_line(w));
        }
        out.push('\n');
    }

    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "Not in {} and left unchanged (prune is off):",
            opts.config_display
        );
        for u in &plan.unmanaged {
            let mut parts = Vec::new();
            match u.kind {
                PrincipalKind::User => {
                    let role = u.org_role.map(|r| r.as_str()).unwrap_or("member");
                    parts.push(format!("user {} ({role})", u.name));
                    if !u.related.is_empty() {
                        parts.push(format!("teams: {}", u.related.join(", ")));
                    }
                }
                PrincipalKind::Team => {
                    parts.push(format!("team {}", u.name));
                    if !u.related.is_empty() {
                        parts.push(format!("members: {}", u.related.join(", ")));
                    }
                }
            }
            for a in &u.access {
                parts.push(format!("{} {}", a.space_name, a.access));
            }
            let _ = writeln!(out, "{}", wrap(&parts.join("; "), "    ", "      ", width));
        }
        out.push('\n');
    }

    if !plan.unmanaged_roles.is_empty() {
        let _ = writeln!(
            out,
            "Custom roles not declared in {} and left unchanged:",
            opts.config_display
        );
        for (name, spaces) in unmanaged_roles(plan) {
            let text = format!("role {name}: {}", spaces.join(", "));
            let _ = writeln!(out, "{}", wrap(&text, "    ", "      ", width));
        }
        out.push('\n');
    }

    if plan.refused {
        let names: Vec<&str> = plan.failed_guardrails().map(|g| g.name.as_str()).collect();
        let _ = writeln!(
            out,
            "{}",
            p.with(
                ERROR,
                &format!(
                    "REFUSED by guardrail(s): {}. Nothing will be applied.",
                    names.join(", ")
                )
            )
        );
    }
    out.push_str(&last_line(plan, &opts.config_display));
    out.push('\n');
    out
}

/// `Plan: X to add, Y to change, Z to remove.` or `No changes. Contentful access matches FILE.`
pub(crate) fn last_line(plan: &Plan, config_display: &str) -> String {
    if plan.is_empty() {
        format!("No changes. Contentful access matches {config_display}.")
    } else {
        let (a, c, r) = plan.counts();
        format!("Plan: {a} to add, {c} to change, {r} to remove.")
    }
}

fn refusal(out: &mut String, plan: &Plan, p: &Paint, width: usize) {
    let failed: Vec<_> = plan.failed_guardrails().collect();
    let _ = writeln!(
        out,
        "{}",
        p.with(
            ERROR,
            &format!(
                "Error: this plan is REFUSED by {} guardrail(s); apply will not run it.",
                failed.len()
            )
        )
    );
    for g in failed {
        let line = format!("x {}: {}", g.name, g.message);
        let _ = writeln!(out, "{}", p.with(REMOVE, &wrap(&line, "  ", "    ", width)));
    }
}

fn summary(out: &mut String, plan: &Plan, p: &Paint) {
    let mut by_kind: BTreeMap<(u8, &str), (Action, usize)> = BTreeMap::new();
    for op in &plan.operations {
        by_kind
            .entry((op.kind.rank(), op.kind.name()))
            .or_insert((op.action, 0))
            .1 += 1;
    }
    let _ = writeln!(out, "Summary ({} operations):", plan.operations.len());
    for ((_, name), (action, n)) in by_kind {
        let label = format!("{} {:<32}", action.sign(), name.replace('_', " "));
        let _ = writeln!(out, "  {} {n:>6}", p.action(action, &label));
    }
}

/// One rendered operation line (and the cascades under it).
struct Line {
    action: Action,
    text: String,
    note: String,
    children: Vec<String>,
}

fn note(plan: &Plan, op: &Operation) -> String {
    let mut parts = vec![op.id.to_string()];
    match op.cause {
        Some(c) => match plan.included_file(c) {
            // An included file: name it, the root is the file the header names.
            Some(file) => parts.push(format!("{file}:{}", c.line)),
            None => parts.push(format!("line {}", c.line)),
        },
        None if op.action == Action::Remove => parts.push("not in file, prune".to_string()),
        None => {}
    }
    if let Some(reason) = &op.reason {
        parts.push(reason.to_string());
    }
    if !op.depends_on.is_empty() {
        let deps: Vec<&str> = op.depends_on.iter().map(|d| d.as_str()).collect();
        parts.push(format!("after {}", deps.join(", ")));
    }
    format!("({})", parts.join("; "))
}

fn cascade_line(c: &Cascade) -> String {
    match c {
        Cascade::TeamMembership {
            team_name,
            email: Some(e),
            ..
        } => format!("- member {e} (team {team_name})"),
        Cascade::TeamMembership { team_name, .. } => format!("- team {team_name}"),
        Cascade::SpaceMembership {
            space_name, access, ..
        } => format!("- space {space_name} {access}"),
        Cascade::TeamSpaceMembership {
            space_name, access, ..
        } => format!("- space {space_name} {access}"),
    }
}

fn line(plan: &Plan, op: &Operation) -> Line {
    let text = match &op.kind {
        OpKind::Invite {
            role,
            first_name,
            last_name,
            ..
        } => {
            let name = [first_name.as_deref(), last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if name.is_empty() {
                format!("invite as {role}")
            } else {
                format!("invite as {role}, name {name:?}")
            }
        }
        OpKind::ChangeOrgRole { from, to, .. } => format!("org role {from} → {to}"),
        OpKind::Reinvite { invited_at, .. } => {
            format!(
                "re-invite, invited {}, expired",
                invited_at.format("%Y-%m-%d")
            )
        }
        OpKind::RemoveOrgMember { role, cascades, .. } => {
            let with = if cascades.is_empty() { "" } else { ", with:" };
            format!("remove from the organization (org role {role}){with}")
        }
        OpKind::CreateTeam { description, .. } => {
            format!("create team, description {description:?}")
        }
        OpKind::UpdateTeam {
            description_before,
            description_after,
            ..
        } => format!("description {description_before:?} → {description_after:?}"),
        OpKind::DeleteTeam { cascades, .. } => {
            let with = if cascades.is_empty() { "" } else { ", with:" };
            format!("delete team{with}")
        }
        OpKind::AddTeamMember { team_name, .. } | OpKind::RemoveTeamMember { team_name, .. } => {
            format!("team {team_name}")
        }
        OpKind::CreateTeamSpaceMembership {
            space_name, access, ..
        }
        | OpKind::CreateSpaceMembership {
            space_name, access, ..
        } => format!("space {space_name} {access}"),
        OpKind::UpdateTeamSpaceMembership {
            space_name,
            before,
            after,
            ..
        }
        | OpKind::UpdateSpaceMembership {
            space_name,
            before,
            after,
            ..
        } => format!("space {space_name} {before} → {after}"),
        OpKind::DeleteTeamSpaceMembership {
            space_name, before, ..
        }
        | OpKind::DeleteSpaceMembership {
            space_name, before, ..
        } => format!("space {space_name} {before}"),
        OpKind::CreateRole { space_name, .. } => format!("create in space {space_name}"),
        OpKind::UpdateRole { space_name, .. } => format!("change in space {space_name}"),
        OpKind::DeleteRole { space_name, .. } => format!("delete in space {space_name}"),
    };
    let children: Vec<String> = op.kind.cascades().iter().map(cascade_line).collect();
    Line {
        action: op.action,
        text,
        note: note(plan, op),
        children,
    }
}

fn operations(out: &mut String, plan: &Plan, p: &Paint) {
    let mut users: BTreeMap<&Email, Vec<&Operation>> = BTreeMap::new();
    let mut teams: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &plan.operations {
        if let Some(e) = op.kind.email() {
            users.entry(e).or_default().push(op);
        } else if let Some(t) = op.kind.team_name() {
            teams.entry(t).or_default().push(op);
        }
    }
    let groups = users
        .into_iter()
        .map(|(e, ops)| {
            let pending = plan.pending.iter().any(|i| &i.email == e);
            let note = if pending { " (invitation pending)" } else { "" };
            (format!("user {e}{note}"), ops)
        })
        .chain(teams.into_iter().map(|(t, ops)| (format!("team {t}"), ops)));
    for (title, ops) in groups {
        let head = if ops
            .iter()
            .any(|o| matches!(o.kind, OpKind::Invite { .. } | OpKind::CreateTeam { .. }))
        {
            Action::Add
        } else if ops.iter().any(|o| {
            matches!(
                o.kind,
                OpKind::RemoveOrgMember { .. } | OpKind::DeleteTeam { .. }
            )
        }) {
            Action::Remove
        } else {
            Action::Change
        };
        let _ = writeln!(
            out,
            "  {}",
            p.action(head, &format!("{} {title}", head.sign()))
        );
        for op in ops {
            let l = line(plan, op);
            let _ = writeln!(
                out,
                "      {}  {}",
                p.action(l.action, &format!("{} {}", l.action.sign(), l.text)),
                p.with(DIM, &l.note)
            );
            for c in l.children {
                let _ = writeln!(out, "          {}", p.action(Action::Remove, &c));
            }
        }
        out.push('\n');
    }
    roles(out, plan, p);
}

/// The custom roles the plan leaves alone because the file does not declare them there: role
/// name → the managed spaces (local names) holding it.
pub(crate) fn unmanaged_roles(plan: &Plan) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &plan.unmanaged_roles {
        out.entry(r.name.as_str())
            .or_default()
            .push(r.space_name.as_str());
    }
    out
}

/// Role operations that make one identical change to one role, in space order: one definition
/// created in (or one change made to, or one role deleted from) many spaces.
pub(crate) struct RoleGroup<'p> {
    /// The role's name.
    pub name: String,
    /// The operations, one per space.
    pub ops: Vec<&'p Operation>,
}

impl RoleGroup<'_> {
    /// The managed spaces (local names) the group's operations are in.
    pub fn spaces(&self) -> Vec<&str> {
        self.ops
            .iter()
            .filter_map(|o| o.kind.space().map(|(n, _)| n))
            .collect()
    }

    /// `create`, `change` or `delete`.
    pub fn verb(&self) -> &'static str {
        match self.ops.first().map(|o| &o.kind) {
            Some(OpKind::CreateRole { .. }) => "create",
            Some(OpKind::UpdateRole { .. }) => "change",
            _ => "delete",
        }
    }
}

/// The plan's role operations grouped by role name, kind and content (create, then change, then
/// delete for each name).
pub(crate) fn role_groups(plan: &Plan) -> Vec<RoleGroup<'_>> {
    use crate::plan::role_diff::pretty;
    // (role name, kind, content) → (ops)
    let mut groups: BTreeMap<(String, u8, String), Vec<&Operation>> = BTreeMap::new();
    for op in &plan.operations {
        let key = match &op.kind {
            OpKind::CreateRole {
                name, definition, ..
            } => (name.clone(), 0, pretty(definition)),
            OpKind::UpdateRole {
                name,
                before,
                after,
                ..
            } => (
                name.clone(),
                1,
                format!("{}\n{}", pretty(before), pretty(after)),
            ),
            OpKind::DeleteRole { name, .. } => (name.clone(), 2, String::new()),
            _ => continue,
        };
        groups.entry(key).or_default().push(op);
    }
    groups
        .into_iter()
        .filter(|(_, ops)| !ops.is_empty())
        .map(|((name, _, _), ops)| RoleGroup { name, ops })
        .collect()
}

/// Role operations, one group per role and identical change ([`role_groups`]): shows once with
/// the list of spaces, then the semantic diff of the normal forms (for a change) or the
/// definition (for a creation).
fn roles(out: &mut String, plan: &Plan, p: &Paint) {
    use crate::plan::role_diff::{pretty, text_diff};
    for group in role_groups(plan) {
        let name = &group.name;
        let ops = &group.ops;
        let Some(first) = ops.first() else { continue };
        let spaces = group.spaces();
        let ids: Vec<&str> = ops.iter().map(|o| o.id.as_str()).collect();
        let verb = group.verb();
        let title = format!("{} role {name}", first.action.sign());
        let _ = writeln!(out, "  {}", p.action(first.action, &title));
        let note = match first.cause {
            Some(c) => format!("({}; line {})", ids.join(", "), c.line),
            None if first.action == Action::Remove => {
                format!("({}; not in file, prune_roles)", ids.join(", "))
            }
            None => format!("({})", ids.join(", ")),
        };
        let _ = writeln!(
            out,
            "      {}  {}",
            p.action(
                first.action,
                &format!("{} {verb} in {}", first.action.sign(), spaces.join(", "))
            ),
            p.with(DIM, &note)
        );
        match &first.kind {
            OpKind::UpdateRole {
                before,
                after,
                changes,
                ..
            } => {
                for h in changes.headlines() {
                    let _ = writeln!(out, "          {}", p.action(Action::Change, &h));
                }
                for (sign, text) in text_diff(before, after) {
                    let action = match sign {
                        '+' => Action::Add,
                        '-' => Action::Remove,
                        _ => {
                            let _ =
                                writeln!(out, "            {}", p.with(DIM, &format!("  {text}")));
                            continue;
                        }
                    };
                    let _ = writeln!(
                        out,
                        "            {}",
                        p.action(action, &format!("{sign} {text}"))
                    );
                }
            }
            OpKind::CreateRole { definition, .. } => {
                for l in pretty(definition).lines() {
                    let _ = writeln!(
                        out,
                        "            {}",
                        p.action(Action::Add, &format!("+ {l}"))
                    );
                }
            }
            _ => {}
        }
        out.push('\n');
    }
}

/// Wraps `text` at `width` columns on spaces; the first line starts with `first`, the others with
/// `rest`.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_spaces_and_indents_continuations() {
        assert_eq!(
            wrap("aaa bbb ccc ddd", "> ", "  ", 9),
            "> aaa bbb\n  ccc ddd"
        );
        assert_eq!(wrap("short", "", "", 40), "short");
    }
}
