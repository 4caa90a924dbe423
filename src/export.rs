//! Export: writes a version-1 access file that describes a live organization exactly, so that
//! planning it against the same organization gives "No changes".
//!
//! The file is built from [`desired_from_live`] (the inverse of planning: a desired state that,
//! planned against the same live state, changes nothing) and written by a small hand-written YAML
//! emitter that quotes every value YAML could read as something other than the text it is (numbers,
//! booleans, `null`, text with YAML punctuation). Managed spaces are named by a slug of their live
//! name (`Marketing EU` → `marketing-eu`), made unique with `-2`, `-3`, … Pending invitees are
//! marked with a comment.
//!
//! Custom roles ([`exported_roles`]): every role of the exported spaces is declared once under
//! `roles:`, with the spaces that hold an identical definition (equal normal forms, see
//! [`RoleDefinition::same_as`]) or `spaces: all`. A role name whose definitions differ between the
//! exported spaces is *not* declared: the file keys roles by name, so only one definition could
//! carry the name, and declaring it for some spaces would make the grants of that name in the
//! others an error (or, in a later plan, rewrite them). Such a name stays unmanaged (planning
//! changes nothing; `audit` reports it as `diverged_role`) and the file says so in a comment.
//! Permissions, policies and unknown fields (`extra`) are written in Contentful's own JSON shape
//! as YAML, from the definition of the first space (by local name) that holds it, so environment
//! scopes and fields this tool does not know round-trip untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::model::{
    DesiredGrant, DesiredRole, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email,
    LiveRole, LiveSpace, LiveState, MembershipStatus, PersonName, Policy, RoleDefinition,
    SpaceAccess, Span,
};
use crate::plan::Index;

/// Why an export cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A requested space is not a space of the organization.
    #[error("space {0} is not a space of organization {1}")]
    UnknownSpace(String, String),
    /// No `--org` was given and the token does not reach exactly one organization.
    #[error("{}", which_organization(.0))]
    WhichOrganization(Vec<(String, String)>),
}

fn which_organization(reachable: &[(String, String)]) -> String {
    if reachable.is_empty() {
        return "the token reaches no organization; give one with --org ID".to_string();
    }
    let list: Vec<String> = reachable
        .iter()
        .map(|(id, name)| format!("{id} ({name})"))
        .collect();
    format!(
        "the token reaches {} organizations; choose one with --org ID: {}",
        reachable.len(),
        list.join(", ")
    )
}

/// The organization to export: the one given, or else the only one the token reaches (the
/// `(id, name)` pairs of `GET /organizations`).
pub fn choose_organization(
    given: Option<&str>,
    reachable: &[(String, String)],
) -> Result<String, ExportError> {
    match (given, reachable) {
        (Some(org), _) => Ok(org.to_string()),
        (None, [(only, _)]) => Ok(only.clone()),
        (None, _) => Err(ExportError::WhichOrganization(reachable.to_vec())),
    }
}

/// A slug of a space name: lowercase ASCII letters and digits, runs of anything else turned into
/// one `-`, no leading or trailing `-`; `space` when nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "space".to_string()
    } else {
        out
    }
}

/// Local names for the spaces `wanted` (ids) among `spaces` (all of them when `wanted` is empty):
/// local name → id. Names are slugs of the live names, unique (`-2`, `-3` … on collisions, in
/// space-id order).
pub fn space_names(
    org: &str,
    spaces: &[LiveSpace],
    wanted: &[String],
) -> Result<BTreeMap<String, String>, ExportError> {
    let by_id: BTreeMap<&str, &LiveSpace> = spaces.iter().map(|s| (s.id.as_str(), s)).collect();
    let ids: BTreeSet<&str> = if wanted.is_empty() {
        by_id.keys().copied().collect()
    } else {
        wanted.iter().map(String::as_str).collect()
    };
    let mut out = BTreeMap::new();
    for id in ids {
        let space = by_id
            .get(id)
            .ok_or_else(|| ExportError::UnknownSpace(id.to_string(), org.to_string()))?;
        let base = slug(&space.name);
        let mut name = base.clone();
        let mut n = 2;
        while out.contains_key(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        out.insert(name, id.to_string());
    }
    Ok(out)
}

/// The access file describing `live`, managing the spaces `spaces` (local name → id, see
/// [`space_names`]). `tool_version` is named in the header comment.
pub fn export(live: &LiveState, spaces: &BTreeMap<String, String>, tool_version: &str) -> String {
    let desired = desired_from_live(live, spaces);
    let mut out = root_part(live, &desired, tool_version, None);
    write_teams(&mut out, desired.teams.iter());
    let _ = writeln!(out);
    write_users(&mut out, live, desired.users.iter());
    out
}

/// The name of the file [`export_split`] writes for the users in no team.
pub const UNTEAMED_FILE: &str = "people-without-team.yaml";

/// The organization as a set of files (`export --split DIR`): `(path relative to DIR, text)`,
/// the root `access.yaml` first. The root holds the organization-wide keys and includes
/// `teams/*.yaml` (one file per team: the team, and the users whose first team, by name, it is)
/// and [`UNTEAMED_FILE`] (the users in no team); a file with nothing to declare is not written,
/// nor included. Planning the set against the same organization gives "No changes", as for
/// [`export`]. Team file names are slugs of the team names, made unique with `-2`, `-3`, …
pub fn export_split(
    live: &LiveState,
    spaces: &BTreeMap<String, String>,
    tool_version: &str,
) -> Vec<(String, String)> {
    let desired = desired_from_live(live, spaces);
    let mut by_team: BTreeMap<&str, Vec<(&Email, &DesiredUser)>> = BTreeMap::new();
    let mut unteamed = Vec::new();
    for (email, user) in &desired.users {
        match user.teams.keys().next() {
            Some(team) => by_team
                .entry(team.as_str())
                .or_default()
                .push((email, user)),
            None => unteamed.push((email, user)),
        }
    }
    let mut files = Vec::new();
    let mut used = BTreeSet::new();
    for (name, team) in &desired.teams {
        let base = match slug(name).as_str() {
            "space" if !name.to_lowercase().contains("space") => "team".to_string(),
            s => s.to_string(),
        };
        let mut file = base.clone();
        let mut n = 2;
        while !used.insert(file.clone()) {
            file = format!("{base}-{n}");
            n += 1;
        }
        let mut out = format!(
            "# Team {} and the people whose first team it is (included by ../access.yaml).\n",
            one_line(name)
        );
        write_teams(&mut out, std::iter::once((name, team)));
        let users = by_team.remove(name.as_str()).unwrap_or_default();
        if !users.is_empty() {
            let _ = writeln!(out);
            write_users(&mut out, live, users.into_iter());
        }
        files.push((format!("teams/{file}.yaml"), out));
    }
    if !unteamed.is_empty() {
        let mut out = String::from("# The people in no team (included by access.yaml).\n");
        write_users(&mut out, live, unteamed.into_iter());
        files.push((UNTEAMED_FILE.to_string(), out));
    }
    let mut include = Vec::new();
    if !desired.teams.is_empty() {
        include.push("teams/*.yaml");
    }
    if files.iter().any(|(f, _)| f == UNTEAMED_FILE) {
        include.push(UNTEAMED_FILE);
    }
    let root = root_part(live, &desired, tool_version, Some(include.as_slice()));
    files.insert(0, ("access.yaml".to_string(), root));
    files
}

/// The header, `version`, `organization`, (`include`), `policy` and `spaces`, followed by a blank
/// line.
fn root_part(
    live: &LiveState,
    desired: &DesiredState,
    tool_version: &str,
    include: Option<&[&str]>,
) -> String {
    let mut out = String::new();
    let org_name = live
        .organization_name
        .as_deref()
        .map(|n| format!(" ({})", one_line(n)))
        .unwrap_or_default();
    let _ = writeln!(out, "# yaml-language-server: $schema=access.schema.json");
    let _ = writeln!(out, "#");
    let _ = writeln!(
        out,
        "# Exported by contentful-access {tool_version} from organization {}{org_name}.",
        one_line(&live.organization)
    );
    let _ = writeln!(
        out,
        "# Planning this file against the organization shows no changes; review it, then edit it"
    );
    let _ = writeln!(out, "# to change who can do what.");
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "organization: {}", scalar(&live.organization));
    if let Some(include) = include
        && !include.is_empty()
    {
        let list: Vec<String> = include.iter().map(|p| flow_item(p)).collect();
        let _ = writeln!(
            out,
            "# One file per team, and one for the people in no team (see docs/access-file.md)."
        );
        let _ = writeln!(out, "include: [{}]", list.join(", "));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "policy:");
    let _ = writeln!(
        out,
        "  prune: false        # undeclared users and teams are reported, never removed"
    );
    let _ = writeln!(out, "  max_removals: 10%");
    let roles = exported_roles(live, &desired_spaces(desired));
    if !roles.declared.is_empty() {
        let _ = writeln!(
            out,
            "  prune_roles: false  # roles not declared under `roles` are reported, never deleted"
        );
    }
    let _ = writeln!(out);

    if desired.spaces.is_empty() {
        let _ = writeln!(out, "spaces: {{}}");
    } else {
        let _ = writeln!(out, "spaces:");
        for (name, s) in &desired.spaces {
            let live_name = live
                .spaces
                .get(&s.id)
                .map(|l| format!("   # {}", one_line(&l.name)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}: {}{live_name}", scalar(name), scalar(&s.id));
        }
    }
    write_roles(&mut out, &roles);
    if include.is_none() {
        let _ = writeln!(out);
    }
    out
}

/// The managed spaces of `desired`: local name → id.
fn desired_spaces(desired: &DesiredState) -> BTreeMap<String, String> {
    desired
        .spaces
        .iter()
        .map(|(n, s)| (n.clone(), s.id.clone()))
        .collect()
}

/// The custom roles of the exported spaces, as the file declares them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportedRoles {
    /// One declaration per role name whose definition is the same in every exported space that
    /// has it, by name.
    pub declared: BTreeMap<String, DesiredRole>,
    /// Role names left undeclared (unmanaged), with why.
    pub left_out: Vec<LeftOutRole>,
}

/// A role name [`exported_roles`] does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOutRole {
    /// The role's name.
    pub name: String,
    /// Why it is not declared.
    pub why: LeftOutReason,
}

/// Why a role name is not declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftOutReason {
    /// The exported spaces hold different definitions under this name: the spaces (local names)
    /// of each distinct definition, the most common first (then by first space name).
    Diverged(Vec<BTreeSet<String>>),
    /// The access file cannot declare a role of this name (`admin`, or an empty name).
    ReservedName,
}

/// The custom roles of the exported `spaces` (local name → id): names whose definition is the
/// same (normal forms equal) in every exported space holding them are declared once, with those
/// spaces (`all_spaces` when that is every exported space); other names are left out, with why.
/// Planning the declarations against `live` changes no role.
pub fn exported_roles(live: &LiveState, spaces: &BTreeMap<String, String>) -> ExportedRoles {
    // Role name → (local space name, the role there), spaces in local-name order. Contentful keeps
    // names unique within a space; should two share one, the first by id is the one the planner
    // compares, so it is the one exported.
    let mut by_name: BTreeMap<&str, Vec<(&str, &LiveRole)>> = BTreeMap::new();
    for (space_name, id) in spaces {
        let Some(space) = live.spaces.get(id) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        for role in space.roles.values() {
            if seen.insert(role.name.as_str()) {
                by_name
                    .entry(role.name.as_str())
                    .or_default()
                    .push((space_name.as_str(), role));
            }
        }
    }
    let mut out = ExportedRoles::default();
    for (name, held) in by_name {
        if name.trim().is_empty() || name == "admin" {
            out.left_out.push(LeftOutRole {
                name: name.to_string(),
                why: LeftOutReason::ReservedName,
            });
            continue;
        }
        // Distinct definitions (by normal form), each with its first verbatim definition and the
        // spaces holding it.
        let mut groups: Vec<(RoleDefinition, &RoleDefinition, BTreeSet<String>)> = Vec::new();
        for (space_name, role) in &held {
            let normal = role.definition.normalized();
            match groups.iter_mut().find(|(n, _, _)| *n == normal) {
                Some((_, _, in_spaces)) => {
                    in_spaces.insert(space_name.to_string());
                }
                None => groups.push((
                    normal,
                    &role.definition,
                    BTreeSet::from([space_name.to_string()]),
                )),
            }
        }
        if let [(_, definition, in_spaces)] = groups.as_slice() {
            out.declared.insert(
                name.to_string(),
                DesiredRole {
                    name: name.to_string(),
                    definition: (*definition).clone(),
                    all_spaces: in_spaces.len() == spaces.len(),
                    spaces: in_spaces.clone(),
                    at: Span::default(),
                },
            );
        } else {
            let mut variants: Vec<BTreeSet<String>> =
                groups.into_iter().map(|(_, _, s)| s).collect();
            variants.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            out.left_out.push(LeftOutRole {
                name: name.to_string(),
                why: LeftOutReason::Diverged(variants),
            });
        }
    }
    out
}

/// The `roles:` section (nothing when there is no role to declare or mention).
fn write_roles(out: &mut String, roles: &ExportedRoles) {
    if roles.declared.is_empty() && roles.left_out.is_empty() {
        return;
    }
    let _ = writeln!(out);
    for left in &roles.left_out {
        match &left.why {
            LeftOutReason::Diverged(variants) => {
                let list: Vec<String> = variants
                    .iter()
                    .map(|v| v.iter().cloned().collect::<Vec<_>>().join(", "))
                    .collect();
                let _ = writeln!(
                    out,
                    "# Role `{}` is not declared: its definitions differ between spaces ({}).",
                    one_line(&left.name),
                    list.join(" / ")
                );
                let _ = writeln!(
                    out,
                    "# It stays unmanaged (`audit` reports it); make it one definition to declare it."
                );
            }
            LeftOutReason::ReservedName => {
                let _ = writeln!(
                    out,
                    "# Role `{}` is not declared: an access file cannot use that name; it stays unmanaged.",
                    one_line(&left.name)
                );
            }
        }
    }
    if roles.declared.is_empty() {
        let _ = writeln!(out, "roles: {{}}");
        return;
    }
    let _ = writeln!(out, "roles:");
    for (name, role) in &roles.declared {
        let _ = writeln!(out, "  {}:", scalar(name));
        let d = &role.definition;
        if !d.description.is_empty() {
            let _ = writeln!(out, "    description: {}", scalar(&d.description));
        }
        if role.all_spaces {
            let _ = writeln!(out, "    spaces: all");
        } else {
            let list: Vec<String> = role.spaces.iter().map(|s| flow_item(s)).collect();
            let _ = writeln!(out, "    spaces: [{}]", list.join(", "));
        }
        if !d.permissions.is_empty() {
            yaml_entry(
                out,
                "    ",
                "permissions",
                &serde_json::Value::Object(d.permissions.clone()),
            );
        }
        if !d.policies.is_empty() {
            yaml_entry(
                out,
                "    ",
                "policies",
                &serde_json::Value::Array(d.policies.clone()),
            );
        }
        if !d.other.is_empty() {
            let extra: serde_json::Map<String, serde_json::Value> = d
                .other
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            yaml_entry(out, "    ", "extra", &serde_json::Value::Object(extra));
        }
    }
}

/// Widest flow value (`[a, b]`, `{doc: x}`) written on one line; wider ones are written as blocks.
const FLOW_WIDTH: usize = 72;

/// `key: value` at `indent`, the value as YAML that reads back as the same JSON: flow style when
/// it is a scalar or small and flat enough, block style otherwise.
fn yaml_entry(out: &mut String, indent: &str, key: &str, value: &serde_json::Value) {
    match flow(value) {
        Some(text) if indent.len() + key.len() + text.len() <= FLOW_WIDTH => {
            let _ = writeln!(out, "{indent}{}: {text}", scalar(key));
        }
        _ => {
            let _ = writeln!(out, "{indent}{}:", scalar(key));
            yaml_block(out, &format!("{indent}  "), value);
        }
    }
}

/// A mapping or sequence in block style at `indent` (a scalar on its own line otherwise).
fn yaml_block(out: &mut String, indent: &str, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in ordered(map) {
                yaml_entry(out, indent, k, v);
            }
        }
        Value::Array(items) => {
            for item in items {
                match flow(item) {
                    Some(text) if indent.len() + 2 + text.len() <= FLOW_WIDTH => {
                        let _ = writeln!(out, "{indent}- {text}");
                    }
                    _ => {
                        // The item as a block one level deeper, its first line's indentation
                        // turned into the dash.
                        let deeper = format!("{indent}  ");
                        let mut block = String::new();
                        yaml_block(&mut block, &deeper, item);
                        let _ =
                            write!(out, "{indent}- {}", &block[deeper.len().min(block.len())..]);
                    }
                }
            }
        }
        scalar_value => {
            let _ = writeln!(out, "{indent}{}", flow(scalar_value).unwrap_or_default());
        }
    }
}

/// The value in flow style when it is a scalar, an empty collection, a mapping of scalars, or a
/// sequence of those (`[{doc: sys.type}, Entry]`); `None` for anything deeper.
fn flow(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    fn leaf(v: &Value) -> Option<String> {
        match v {
            Value::Null => Some("null".to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(scalar(s)),
            Value::Array(items) if items.is_empty() => Some("[]".to_string()),
            Value::Object(map) if map.is_empty() => Some("{}".to_string()),
            _ => None,
        }
    }
    fn flat(v: &Value) -> Option<String> {
        match v {
            Value::Array(items) => {
                let parts: Option<Vec<String>> = items.iter().map(leaf).collect();
                Some(format!("[{}]", parts?.join(", ")))
            }
            Value::Object(map) => {
                let parts: Option<Vec<String>> = ordered(map)
                    .into_iter()
                    .map(|(k, v)| leaf(v).map(|v| format!("{}: {v}", scalar(k))))
                    .collect();
                Some(format!("{{{}}}", parts?.join(", ")))
            }
            other => leaf(other),
        }
    }
    match value {
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(flat).collect();
            Some(format!("[{}]", parts?.join(", ")))
        }
        other => flat(other),
    }
}

/// A mapping's entries in a stable order that reads well: a policy's `effect`, `actions` and
/// `constraint` first, then every key in sorted order.
fn ordered(map: &serde_json::Map<String, serde_json::Value>) -> Vec<(&str, &serde_json::Value)> {
    const FIRST: [&str; 3] = ["effect", "actions", "constraint"];
    let mut entries: Vec<(&str, &serde_json::Value)> =
        map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by_key(|(k, _)| (FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()), *k));
    entries
}

/// A `teams:` section with these teams (`teams: {}` when there is none).
fn write_teams<'t>(out: &mut String, teams: impl Iterator<Item = (&'t String, &'t DesiredTeam)>) {
    let mut teams = teams.peekable();
    if teams.peek().is_none() {
        let _ = writeln!(out, "teams: {{}}");
        return;
    }
    let _ = writeln!(out, "teams:");
    for (name, t) in teams {
        if t.description.is_empty() && t.spaces.is_empty() {
            let _ = writeln!(out, "  {}: {{}}", scalar(name));
            continue;
        }
        let _ = writeln!(out, "  {}:", scalar(name));
        if !t.description.is_empty() {
            let _ = writeln!(out, "    description: {}", scalar(&t.description));
        }
        grants(out, "    ", &t.spaces);
    }
}

/// A `users:` section with these users (`users: {}` when there is none); pending invitees are
/// marked with a comment.
fn write_users<'u>(
    out: &mut String,
    live: &LiveState,
    users: impl Iterator<Item = (&'u Email, &'u DesiredUser)>,
) {
    let mut users = users.peekable();
    if users.peek().is_none() {
        let _ = writeln!(out, "users: {{}}");
        return;
    }
    // Pending invitees, by email, with the invitation date when known.
    let pending: BTreeMap<_, _> = live
        .org_memberships
        .values()
        .filter(|m| m.status == MembershipStatus::Pending)
        .filter_map(|m| {
            live.users
                .get(&m.user_id)
                .map(|u| (u.email.clone(), m.meta.created_at))
        })
        .collect();
    let _ = writeln!(out, "users:");
    for (email, u) in users {
        if let Some(at) = pending.get(email) {
            match at {
                Some(at) => {
                    let _ = writeln!(
                        out,
                        "  # pending invitation, sent {}",
                        at.format("%Y-%m-%d")
                    );
                }
                None => {
                    let _ = writeln!(out, "  # pending invitation");
                }
            }
        }
        let _ = writeln!(out, "  {}:", scalar(email.as_str()));
        if let Some(name) = &u.name {
            let full = match &name.last {
                Some(last) if !last.trim().is_empty() => format!("{} {}", name.first, last),
                _ => name.first.clone(),
            };
            if !full.trim().is_empty() {
                let _ = writeln!(out, "    name: {}", scalar(full.trim()));
            }
        }
        let _ = writeln!(out, "    org_role: {}", u.org_role);
        if !u.teams.is_empty() {
            let list: Vec<String> = u.teams.keys().map(|t| flow_item(t)).collect();
            let _ = writeln!(out, "    teams: [{}]", list.join(", "));
        }
        grants(out, "    ", &u.spaces);
    }
}

fn grants(out: &mut String, indent: &str, spaces: &BTreeMap<String, DesiredGrant>) {
    if spaces.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}spaces:");
    for (space, g) in spaces {
        let value = match &g.access {
            SpaceAccess::Admin => "admin".to_string(),
            SpaceAccess::Roles(roles) => {
                let list: Vec<String> = roles.iter().map(|r| flow_item(r)).collect();
                format!("[{}]", list.join(", "))
            }
        };
        let _ = writeln!(out, "{indent}  {}: {value}", scalar(space));
    }
}

/// Text on one line for a comment.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Words YAML 1.1 or 1.2 would read as a boolean or null.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
];

/// `s` as a YAML scalar: plain when that reads back as the same text, double-quoted otherwise.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// `s` as an item of a flow list (`[a, b]`): as [`scalar`], and also quoted when it is `admin`
/// (so a role called `admin` is not read as the admin keyword).
fn flow_item(s: &str) -> String {
    if plain_ok(s) && s != "admin" {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    // A leading digit is fine when a letter that no YAML number contains follows (`5nq2sd7t0mkg`);
    // `0x1f`, `1e5`, `0o17`, `0b101`, `2026-01-01` stay quoted.
    let number_like = first.is_ascii_digit()
        && !s
            .chars()
            .any(|c| c.is_ascii_alphabetic() && !"abcdefABCDEFxXoO".contains(c));
    (first.is_ascii_alphanumeric() || first == '_')
        && !number_like
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+' | ' ' | '/')
        })
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar with the same value.
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// The desired state that describes `live` exactly for the managed `spaces` (local name → space
/// id): every member with their org role, teams and direct memberships in those spaces, every
/// team with its description and access there. Positions are all line 0 (no file); policy is the
/// default (no prune, nothing protected). Planning it against `live` gives an empty plan.
pub fn desired_from_live(live: &LiveState, spaces: &BTreeMap<String, String>) -> DesiredState {
    let ix = Index::new(live);
    let name_of_space: BTreeMap<&str, &str> = spaces
        .iter()
        .map(|(n, id)| (id.as_str(), n.as_str()))
        .collect();
    let team_name = |id: &str| live.teams.get(id).map(|t| t.name.clone());

    let mut users = BTreeMap::new();
    for (email, m) in &ix.members {
        let teams: BTreeMap<String, Span> = ix
            .tms_of_membership(&m.membership.meta.id)
            .iter()
            .filter_map(|tm| team_name(&tm.team_id))
            .map(|n| (n, Span::default()))
            .collect();
        let user_spaces: BTreeMap<String, DesiredGrant> = ix
            .sms_of_user(&m.user.id)
            .iter()
            .filter_map(|sm| {
                name_of_space.get(sm.space_id.as_str()).map(|n| {
                    (
                        n.to_string(),
                        DesiredGrant {
                            access: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                            at: Span::default(),
                            roles_at: Default::default(),
                            expires: None,
                        },
                    )
                })
            })
            .collect();
        let name = m.user.first_name.as_ref().map(|first| PersonName {
            first: first.clone(),
            last: m.user.last_name.clone(),
        });
        users.insert(
            (*email).clone(),
            DesiredUser {
                email: (*email).clone(),
                name,
                org_role: m.membership.role,
                org_role_at: Span::default(),
                teams,
                team_expires: Default::default(),
                spaces: user_spaces,
                expires: None,
                at: Span::default(),
            },
        );
    }

    let mut teams = BTreeMap::new();
    for (name, t) in &ix.teams {
        let team_spaces: BTreeMap<String, DesiredGrant> = ix
            .tsms_of_team(&t.meta.id)
            .iter()
            .filter_map(|tsm| {
                name_of_space.get(tsm.space_id.as_str()).map(|n| {
                    (
                        n.to_string(),
                        DesiredGrant {
                            access: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                            at: Span::default(),
                            roles_at: Default::default(),
                            expires: None,
                        },
                    )
                })
            })
            .collect();
        teams.insert(
            name.to_string(),
            DesiredTeam {
                name: name.to_string(),
                description: t.description.clone(),
                spaces: team_spaces,
                managed_by: Default::default(),
                at: Span::default(),
            },
        );
    }

    DesiredState {
        source_path: String::new(),
        source_sha256: String::new(),
        included: Vec::new(),
        organization: live.organization.clone(),
        policy: Policy::default(),
        spaces: spaces
            .iter()
            .map(|(n, id)| {
                (
                    n.clone(),
                    DesiredSpace {
                        id: id.clone(),
                        at: Span::default(),
                    },
                )
            })
            .collect(),
        teams,
        users,
        roles: exported_roles(live, spaces).declared,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slug("Marketing EU (new)"), "marketing-eu-new");
        assert_eq!(slug("  --Blog--  "), "blog");
        assert_eq!(slug("Ünïcode ✓"), "n-code");
        assert_eq!(slug("✓"), "space");
    }

    #[test]
    fn scalars_that_yaml_would_misread_are_quoted() {
        for (raw, want) in [
            ("Editor", "Editor"),
            ("Content Editor", "Content Editor"),
            ("jane@acme.example", "jane@acme.example"),
            ("no", "\"no\""),
            ("True", "\"True\""),
            ("0123", "\"0123\""),
            ("5nq2sd7t0mkg", "5nq2sd7t0mkg"),
            ("0x1f", "\"0x1f\""),
            ("1e5", "\"1e5\""),
            ("2026-01-01", "\"2026-01-01\""),
            ("1.5", "\"1.5\""),
            ("a: b", "\"a: b\""),
            ("# hash", "\"# hash\""),
            ("", "\"\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("trailing ", "\"trailing \""),
            ("[x]", "\"[x]\""),
        ] {
            assert_eq!(scalar(raw), want, "{raw:?}");
        }
        assert_eq!(flow_item("admin"), "\"admin\"");
        assert_eq!(flow_item("a, b"), "\"a, b\"");
    }

    #[test]
    fn role_json_written_as_yaml_reads_back_as_the_same_json() {
        let long: Vec<String> = (0..30).map(|i| format!("field{i}")).collect();
        let value = serde_json::json!({
            "texts": ["true", "1", "", "a: b", "- x", "#", "ü", "all", "admin", "null", "[x]"],
            "numbers": [-1, 0, 2.5, 18446744073709551615_u64],
            "others": [null, true, false, {}, [], [[]], [{}]],
            "nested": {"and": [{"or": [{"in": [{"doc": "a"}, ["b", "c"]]}]}, {"not": {"equals": [1, 2]}}]},
            "long": long,
            "deep": [[{"a": [{"b": 1}]}], [1, [2, [3]]]],
            "key with: colon": {"true": "yes", "1": 1},
        });
        let mut doc = String::from(
            "version: 1\norganization: o\nspaces:\n  s: s1\nroles:\n  R:\n    spaces: all\n",
        );
        yaml_entry(&mut doc, "    ", "extra", &value);
        let d = crate::config::load_str("x.yaml", &doc).unwrap();
        let other =
            serde_json::Value::Object(d.roles["R"].definition.other.clone().into_iter().collect());
        assert_eq!(other, value, "{doc}");
        // Wide lists go in block style, narrow ones stay on one line.
        assert!(doc.contains("      long:\n        - field0\n"), "{doc}");
        assert!(doc.contains("- in: [{doc: a}, [b, c]]"), "{doc}");
    }

    #[test]
    fn quoted_values_read_back_as_the_same_text() {
        for raw in ["no", "0123", "a: b", "x \"y\" \\ z", "tab\there", "ü"] {
            let doc = format!(
                "version: 1\norganization: org\nteams:\n  t:\n    description: {}\n",
                scalar(raw)
            );
            let d = crate::config::load_str("x.yaml", &doc).unwrap();
            assert_eq!(d.teams["t"].description, raw);
        }
    }
}
