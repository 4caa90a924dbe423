//! Audit findings about custom roles: a role name defined differently in different spaces
//! (compared in normal form, so order alone is no difference), and roles no membership uses.

use super::*;

/// The roles of the audited spaces whose roles were read, as (space label, role), by space label.
fn audited_roles<'a>(
    live: &'a LiveState,
    managed: &'a [(String, String)],
) -> Vec<(&'a str, &'a crate::model::LiveRole)> {
    let mut out = Vec::new();
    for (name, id) in managed {
        if let Some(space) = live.spaces.get(id) {
            out.extend(space.roles.values().map(|r| (name.as_str(), r)));
        }
    }
    out
}

/// Role names defined differently (by [`crate::model::RoleDefinition::same_as`]) in different
/// spaces: one finding per name, listing which spaces share which definition and what differs.
pub(super) fn diverged_roles(live: &LiveState, managed: &[(String, String)]) -> Vec<Finding> {
    let mut by_name: BTreeMap<&str, Vec<(&str, &crate::model::RoleDefinition)>> = BTreeMap::new();
    for (space, role) in audited_roles(live, managed) {
        by_name
            .entry(role.name.as_str())
            .or_default()
            .push((space, &role.definition));
    }
    let mut out = Vec::new();
    for (name, defs) in by_name {
        let mut groups: Vec<(&crate::model::RoleDefinition, Vec<String>)> = Vec::new();
        for (space, def) in defs {
            match groups.iter_mut().find(|(d, _)| d.same_as(def)) {
                Some((_, spaces)) => spaces.push(space.to_string()),
                None => groups.push((def, vec![space.to_string()])),
            }
        }
        if groups.len() < 2 {
            continue;
        }
        let spaces: usize = groups.iter().map(|(_, s)| s.len()).sum();
        let mut evidence: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, (_, s))| format!("definition {}: {}", i + 1, s.join(", ")))
            .collect();
        let (first, _) = groups[0];
        let (a, b) = (first.normalized(), groups[1].0.normalized());
        let mut parts = Vec::new();
        if a.description != b.description {
            parts.push("description");
        }
        if a.permissions != b.permissions {
            parts.push("permissions");
        }
        if a.policies != b.policies {
            parts.push("policies");
        }
        if a.other != b.other {
            parts.push("other fields");
        }
        if !parts.is_empty() {
            evidence.push(format!(
                "definitions 1 and 2 differ in: {}",
                parts.join(", ")
            ));
        }
        out.push(Finding {
            kind: FindingKind::DivergedRole,
            subject: format!("role {name}"),
            message: format!(
                "defined differently across spaces: {} definitions in {spaces} spaces",
                groups.len()
            ),
            evidence,
            facts: Facts::RoleDefinitions {
                name: name.to_string(),
                definitions: groups.into_iter().map(|(_, s)| s).collect(),
            },
        });
    }
    out
}

/// Roles no space membership or team space membership uses: one finding per role name, listing
/// the spaces where it is unused.
pub(super) fn unassigned_roles(live: &LiveState, managed: &[(String, String)]) -> Vec<Finding> {
    let used: BTreeSet<&str> = live
        .space_memberships
        .values()
        .flat_map(|m| m.role_ids.iter())
        .chain(
            live.team_space_memberships
                .values()
                .flat_map(|m| m.role_ids.iter()),
        )
        .map(String::as_str)
        .collect();
    let mut by_name: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (space, role) in audited_roles(live, managed) {
        if !used.contains(role.id.as_str()) {
            by_name
                .entry(role.name.as_str())
                .or_default()
                .push(space.to_string());
        }
    }
    by_name
        .into_iter()
        .map(|(name, spaces)| Finding {
            kind: FindingKind::UnassignedRole,
            subject: format!("role {name}"),
            message: format!(
                "assigned to nobody in {}",
                plural(spaces.len(), "space", "spaces")
            ),
            evidence: vec![
                format!("spaces: {}", spaces.join(", ")),
                "no space membership or team space membership uses it".to_string(),
            ],
            facts: Facts::UnassignedRole {
                name: name.to_string(),
                spaces,
            },
        })
        .collect()
}
