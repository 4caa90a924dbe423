//! The markdown form of a plan, for pull-request comments: a stable first-line marker (so CI can
//! find and replace its earlier comment), a summary table, guardrail results, then the full text
//! plan in a collapsible `diff` block, pending and unmanaged principals, and the custom role
//! changes in the open (each group of identical changes once, with its spaces, the changed
//! permissions and policies, and a `diff` block of the normal forms).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::plan::{Action, Plan, PrincipalKind};

use super::RenderOptions;
use super::text::{last_line, plan_text_body, role_groups};

/// The most characters a markdown plan has: GitHub refuses comments over 65,536 characters, so
/// the detailed plan is cut (with a note saying how much) to stay below that.
pub const MAX_CHARS: usize = 60_000;

/// The start of the first line of every markdown plan: `<!-- contentful-access:plan org=<id> -->`.
pub const MARKER_PREFIX: &str = "<!-- contentful-access:plan";

/// The plan as markdown. The first line is always `<!-- contentful-access:plan org=<id> -->`.
/// `opts.color` is ignored (markdown has no ANSI colours).
pub fn plan_markdown(plan: &Plan, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER_PREFIX} org={} -->", plan.organization);
    let counts = if plan.is_empty() {
        "no changes".to_string()
    } else {
        let (a, c, r) = plan.counts();
        format!("{a} to add, {c} to change, {r} to remove")
    };
    let title = if plan.refused {
        format!("### ⛔ Contentful access plan REFUSED: {counts}")
    } else {
        format!("### Contentful access plan: {counts}")
    };
    let _ = writeln!(out, "{title}");
    out.push('\n');
    let _ = writeln!(
        out,
        "Organization `{}` · access file `{}` (sha256 `{}`) · created {}",
        plan.organization,
        opts.config_display,
        plan.config_sha256.chars().take(12).collect::<String>(),
        plan.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    out.push('\n');

    if plan.refused {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> This plan is **refused** by guardrails and will not be applied:"
        );
        for g in plan.failed_guardrails() {
            let _ = writeln!(out, "> - **{}**: {}", g.name, escape(&g.message));
        }
        out.push('\n');
    }

    if plan.is_empty() {
        let _ = writeln!(out, "{}", last_line(plan, &opts.config_display));
        out.push('\n');
    } else {
        let mut by_kind: BTreeMap<(u8, &str), (Action, usize)> = BTreeMap::new();
        for op in &plan.operations {
            by_kind
                .entry((op.kind.rank(), op.kind.name()))
                .or_insert((op.action, 0))
                .1 += 1;
        }
        let _ = writeln!(out, "| | Operation | Count |\n|---|---|---:|");
        for ((_, name), (action, n)) in by_kind {
            let _ = writeln!(
                out,
                "| `{}` | {} | {n} |",
                action.sign(),
                name.replace('_', " ")
            );
        }
        let (a, c, r) = plan.counts();
        let _ = writeln!(out, "| | **total** (+{a} ~{c} -{r}) | **{}** |", a + c + r);
        out.push('\n');
    }

    let _ = writeln!(out, "| Guardrail | Result | Detail |\n|---|---|---|");
    for g in &plan.guardrails {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            g.name,
            if g.passed { "✅ passed" } else { "⛔ failed" },
            escape(&g.message)
        );
    }
    out.push('\n');

    if !plan.pending.is_empty() {
        let _ = writeln!(
            out,
            "**Pending invitations** (count as present; re-sent only when expired):"
        );
        for inv in plan.pending.iter().take(LIST_LIMIT) {
            let when = inv
                .invited_at
                .map(|t| format!(", invited {}", t.format("%Y-%m-%d")))
                .unwrap_or_default();
            let _ = writeln!(out, "- `{}` as {}{when}", inv.email, inv.role);
        }
        more(&mut out, plan.pending.len());
        out.push('\n');
    }

    if !plan.waiting.is_empty() {
        let _ = writeln!(
            out,
            "**Waiting for provisioning** by the identity provider (granted once they appear):"
        );
        for w in plan.waiting.iter().take(LIST_LIMIT) {
            let _ = writeln!(out, "- {}", escape(&super::waiting_line(w)));
        }
        more(&mut out, plan.waiting.len());
        out.push('\n');
    }

    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "**Not in `{}`, left unchanged** (prune is off):",
            opts.config_display
        );
        for u in plan.unmanaged.iter().take(LIST_LIMIT) {
            let what = match u.kind {
                PrincipalKind::User => format!(
                    "user `{}` ({})",
                    u.name,
                    u.org_role.map(|r| r.as_str()).unwrap_or("member")
                ),
                PrincipalKind::Team => format!("team `{}`", u.name),
            };
            let access: Vec<String> = u
                .access
                .iter()
                .map(|a| format!("{} {}", a.space_name, escape(&a.access.to_string())))
                .collect();
            if access.is_empty() {
                let _ = writeln!(out, "- {what}");
            } else {
                let _ = writeln!(out, "- {what}: {}", access.join("; "));
            }
        }
        more(&mut out, plan.unmanaged.len());
        out.push('\n');
    }

    let unmanaged_roles = super::text::unmanaged_roles(plan);
    if !unmanaged_roles.is_empty() {
        let _ = writeln!(
            out,
            "**Custom roles not declared in `{}`, left unchanged:**",
            opts.config_display
        );
        for (name, spaces) in unmanaged_roles.iter().take(LIST_LIMIT) {
            let spaces: Vec<String> = spaces.iter().map(|s| code(s)).collect();
            let _ = writeln!(out, "- role {}: {}", code(name), spaces.join(", "));
        }
        more(&mut out, unmanaged_roles.len());
        out.push('\n');
    }

    roles(&mut out, plan);

    if !plan.operations.is_empty() {
        let text = plan_text_body(
            plan,
            &RenderOptions {
                color: false,
                ..opts.clone()
            },
        );
        let _ = writeln!(
            out,
            "<details><summary>Show the plan ({} operations)</summary>\n\n```diff",
            plan.operations.len()
        );
        let lines: Vec<&str> = text.lines().collect();
        let last = lines.last().copied().unwrap_or_default();
        let budget = MAX_CHARS.saturating_sub(out.len() + last.len() + 200);
        let mut used = 0;
        for (i, l) in lines.iter().enumerate() {
            let line = diff_line(l);
            if i + 1 < lines.len() && used + line.len() + 1 > budget {
                let _ = writeln!(
                    out,
                    " … {} more lines not shown (comment size limit); the full plan is in the CI log",
                    lines.len() - 1 - i
                );
                let _ = writeln!(out, "{}", diff_line(last));
                break;
            }
            used += line.len() + 1;
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "```\n\n</details>");
    }
    out
}

/// The custom role changes: for each group of identical changes ([`role_groups`]) a heading with
/// the spaces, the changed permissions and policies as a list, then a `diff` block of the normal
/// forms (the whole definition for a creation). Groups stop at half the comment size limit (the
/// detailed plan below and the CI log have them all).
fn roles(out: &mut String, plan: &Plan) {
    use crate::plan::OpKind;
    use crate::plan::role_diff::{pretty, text_diff};
    let groups = role_groups(plan);
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**Custom roles** (compared in normal form: keys sorted, policies in a stable order, so reordering alone is no change):"
    );
    out.push('\n');
    for (i, group) in groups.iter().enumerate() {
        if out.len() > MAX_CHARS / 2 {
            let _ = writeln!(
                out,
                "… {} more role changes not shown (comment size limit); see the plan below\n",
                groups.len() - i
            );
            break;
        }
        let Some(first) = group.ops.first() else {
            continue;
        };
        let spaces: Vec<String> = group.spaces().iter().map(|s| code(s)).collect();
        let why = match (&first.kind, first.cause) {
            (OpKind::DeleteRole { .. }, None) => {
                " (not in the file; `policy.prune_roles` is on)".to_string()
            }
            (_, Some(at)) => format!(" (access file line {})", at.line),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "**`{}` role {}**: {} in {}{why}",
            first.action.sign(),
            code(&group.name),
            group.verb(),
            spaces.join(", ")
        );
        let lines: Vec<String> = match &first.kind {
            OpKind::UpdateRole {
                before,
                after,
                changes,
                ..
            } => {
                for h in changes.headlines() {
                    let _ = writeln!(out, "- {}", escape(&h));
                }
                text_diff(before, after)
                    .into_iter()
                    .map(|(sign, text)| format!("{sign}{text}"))
                    .collect()
            }
            OpKind::CreateRole { definition, .. } => pretty(definition)
                .lines()
                .map(|l| format!("+{l}"))
                .collect(),
            _ => Vec::new(),
        };
        if !lines.is_empty() {
            let _ = writeln!(out, "\n```diff");
            for l in lines {
                let _ = writeln!(out, "{}", l.replace("```", "'''"));
            }
            let _ = writeln!(out, "```");
        }
        out.push('\n');
    }
}

/// `s` as inline code, whatever backticks it holds.
fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {} ``", s.replace('\n', " "))
    } else {
        format!("`{}`", s.replace('\n', " "))
    }
}

/// Pending and unmanaged lists show at most this many entries (the text plan has them all).
const LIST_LIMIT: usize = 50;

fn more(out: &mut String, total: usize) {
    if total > LIST_LIMIT {
        let _ = writeln!(out, "- … and {} more", total - LIST_LIMIT);
    }
}

/// Moves a leading `+` / `~` / `-` sign to the first column (where diff highlighting looks for
/// it), writing `~` as `!` (highlighted as a change), and says so in the legend line, so the
/// block's legend names the signs the block draws. Code fences in text are neutralised.
fn diff_line(l: &str) -> String {
    let l = l.replace("```", "'''");
    let trimmed = l.trim_start();
    let indent = l.len() - trimmed.len();
    let mut chars = trimmed.chars();
    match (chars.next(), chars.next()) {
        (Some(sign @ ('+' | '-' | '~')), Some(' ')) => {
            let sign = if sign == '~' { '!' } else { sign };
            format!(
                "{sign}{}{trimmed_rest}",
                " ".repeat(indent),
                trimmed_rest = &trimmed[1..]
            )
        }
        _ if l.is_empty() => String::new(),
        _ if l.starts_with("Operations (") => format!(" {}", l.replacen("~ change", "! change", 1)),
        _ => format!(" {l}"),
    }
}

/// Escapes what would break a table cell or start markup.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_put_the_sign_first() {
        // The sign moves to column 0; the text stays where it was.
        assert_eq!(diff_line("      + team editors"), "+       team editors");
        assert_eq!(diff_line("  ~ user bob"), "!   user bob");
        assert_eq!(diff_line("Plan: 1 to add"), " Plan: 1 to add");
        assert_eq!(diff_line("-x"), " -x");
        // The legend names the sign the block draws for a change.
        assert_eq!(
            diff_line("Operations (+ add, ~ change, - remove; in parentheses: id)"),
            " Operations (+ add, ! change, - remove; in parentheses: id)"
        );
    }
}
