//! Custom roles in the plan: the role operations (create, update, delete per managed space), the
//! roles reported as unmanaged, and the ordering rules that tie role operations to grants.
//!
//! Rules:
//! - roles are managed only when the file has a `roles:` section; without one, nothing is planned
//!   or reported for roles (role names in grants still resolve against the live roles);
//! - a declared role is created in each managed space it lists where no role of that name exists,
//!   and updated where one exists with another definition (normal forms compared, so reordering
//!   is no change);
//! - a live role the file does not declare for that space is reported as unmanaged, or deleted
//!   with `policy.prune_roles` — except a role a grant in the file names there, which the file
//!   relies on and which is therefore never deleted;
//! - a grant of a role created in the same plan refers to it through a provisional role id
//!   ([`super::created_role_id`]) and depends on its creation; a deletion depends on every
//!   operation that changes or removes access in that space (make-before-break).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{DesiredState, LiveRole, LiveState, ObjectMeta, SpaceAccess};

use super::diff::Draft;
use super::ops::{
    Cascade, ObjectKind, OpId, OpKind, RoleChanges, Touched, created_role_id, created_role_op,
};

/// A live custom role in a managed space that the file does not declare there, left alone
/// because `policy.prune_roles` is off (or because a grant in the file names it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnmanagedRole {
    /// The role's name.
    pub name: String,
    /// The managed space's local name.
    pub space_name: String,
    /// The space id.
    pub space_id: String,
    /// The role id.
    pub id: String,
}

/// The provisional id of the creation of role `name` in space `space_id`, replaced by the final
/// operation id after ordering.
pub(crate) fn provisional_role(space_id: &str, name: &str) -> OpId {
    OpId(format!("role:{space_id}:{name}"))
}

/// The provisional role id a grant uses for a role created in the same plan.
pub(crate) fn provisional_role_id(space_id: &str, name: &str) -> String {
    created_role_id(&provisional_role(space_id, name))
}

fn meta(role: &LiveRole) -> ObjectMeta {
    ObjectMeta {
        id: role.id.clone(),
        version: role.version,
        created_at: None,
        updated_at: role.updated_at,
        updated_by: role.updated_by.clone(),
    }
}

fn touch(role: &LiveRole) -> Touched {
    Touched {
        kind: ObjectKind::Role,
        id: role.id.clone(),
        version: role.version,
    }
}

/// Role names the file grants in each managed space (by local space name).
fn granted(desired: &DesiredState) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let grants = desired
        .users
        .values()
        .flat_map(|u| u.spaces.iter())
        .chain(desired.teams.values().flat_map(|t| t.spaces.iter()));
    for (space, grant) in grants {
        if let SpaceAccess::Roles(names) = &grant.access {
            out.entry(space.as_str())
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    out
}

/// The role operations and the unmanaged roles, in space then role name order.
pub(crate) fn diff(desired: &DesiredState, live: &LiveState) -> (Vec<Draft>, Vec<UnmanagedRole>) {
    let mut drafts = Vec::new();
    let mut unmanaged = Vec::new();
    if desired.roles.is_empty() {
        return (drafts, unmanaged);
    }
    let granted = granted(desired);
    for (space_name, decl) in &desired.spaces {
        let Some(space) = live.spaces.get(&decl.id) else {
            continue;
        };
        // The first role by id for each name (Contentful keeps names unique within a space).
        let mut by_name: BTreeMap<&str, &LiveRole> = BTreeMap::new();
        for r in space.roles.values() {
            by_name.entry(r.name.as_str()).or_insert(r);
        }
        for role in desired.roles_in(space_name) {
            match by_name.get(role.name.as_str()) {
                None => drafts.push(Draft {
                    kind: OpKind::CreateRole {
                        name: role.name.clone(),
                        space_name: space_name.clone(),
                        space_id: decl.id.clone(),
                        definition: role.definition.clone(),
                    },
                    cause: Some(role.at),
                    reason: None,
                    touches: Vec::new(),
                }),
                Some(l) if !l.definition.same_as(&role.definition) => drafts.push(Draft {
                    kind: OpKind::UpdateRole {
                        name: role.name.clone(),
                        space_name: space_name.clone(),
                        space_id: decl.id.clone(),
                        role: meta(l),
                        before: l.definition.clone(),
                        after: role.definition.clone(),
                        changes: RoleChanges::between(&l.definition, &role.definition),
                    },
                    cause: Some(role.at),
                    reason: None,
                    touches: vec![touch(l)],
                }),
                Some(_) => {}
            }
        }
        for (name, l) in &by_name {
            if desired.role_in(name, space_name).is_some() {
                continue;
            }
            let relied_on = granted
                .get(space_name.as_str())
                .is_some_and(|g| g.contains(name));
            if desired.policy.prune_roles && !relied_on {
                drafts.push(Draft {
                    kind: OpKind::DeleteRole {
                        name: name.to_string(),
                        space_name: space_name.clone(),
                        space_id: decl.id.clone(),
                        role: meta(l),
                        definition: l.definition.clone(),
                    },
                    cause: None,
                    reason: None,
                    touches: vec![touch(l)],
                });
            } else {
                unmanaged.push(UnmanagedRole {
                    name: name.to_string(),
                    space_name: space_name.clone(),
                    space_id: decl.id.clone(),
                    id: l.id.clone(),
                });
            }
        }
    }
    unmanaged.sort();
    (drafts, unmanaged)
}

/// The provisional id of a draft that creates a role.
pub(crate) fn provisional_of(kind: &OpKind) -> Option<OpId> {
    match kind {
        OpKind::CreateRole { name, space_id, .. } => Some(provisional_role(space_id, name)),
        _ => None,
    }
}

/// The role ids a membership operation sends (empty for other kinds).
fn role_ids_of(kind: &OpKind) -> &[String] {
    match kind {
        OpKind::CreateSpaceMembership { role_ids, .. }
        | OpKind::UpdateSpaceMembership { role_ids, .. }
        | OpKind::CreateTeamSpaceMembership { role_ids, .. }
        | OpKind::UpdateTeamSpaceMembership { role_ids, .. } => role_ids,
        _ => &[],
    }
}

/// Whether `kind` changes or takes away access in space `space_id` (what a role deletion must
/// wait for: the grants of the role there are gone only after these).
fn revokes_in(kind: &OpKind, space_id: &str) -> bool {
    match kind {
        OpKind::UpdateSpaceMembership { space_id: s, .. }
        | OpKind::DeleteSpaceMembership { space_id: s, .. }
        | OpKind::UpdateTeamSpaceMembership { space_id: s, .. }
        | OpKind::DeleteTeamSpaceMembership { space_id: s, .. } => s == space_id,
        OpKind::RemoveOrgMember { cascades, .. } | OpKind::DeleteTeam { cascades, .. } => {
            cascades.iter().any(|c| match c {
                Cascade::SpaceMembership { space_id: s, .. }
                | Cascade::TeamSpaceMembership { space_id: s, .. } => s == space_id,
                Cascade::TeamMembership { .. } => false,
            })
        }
        // A team member's removal takes the team's access away in its spaces.
        OpKind::RemoveTeamMember { .. } => true,
        _ => false,
    }
}

/// Adds the role ordering rules to `deps` (indexes into `drafts`): a grant of a role created in
/// the plan waits for the creation; a role's deletion waits for every change or removal of
/// access in its space.
pub(crate) fn add_deps(
    drafts: &[Draft],
    by_provisional: &BTreeMap<OpId, usize>,
    deps: &mut [BTreeSet<usize>],
) {
    for (i, d) in drafts.iter().enumerate() {
        for id in role_ids_of(&d.kind) {
            if let Some(p) = created_role_op(id) {
                deps[i].extend(by_provisional.get(&p).copied());
            }
        }
        if let OpKind::DeleteRole { space_id, .. } = &d.kind {
            for (j, other) in drafts.iter().enumerate() {
                if j != i && revokes_in(&other.kind, space_id) {
                    deps[i].insert(j);
                }
            }
        }
    }
}

/// Replaces provisional role ids in a membership operation with `created_by:<final op id>`.
pub(crate) fn finalize_role_ids(kind: &mut OpKind, provisional: &BTreeMap<OpId, OpId>) {
    let ids = match kind {
        OpKind::CreateSpaceMembership { role_ids, .. }
        | OpKind::UpdateSpaceMembership { role_ids, .. }
        | OpKind::CreateTeamSpaceMembership { role_ids, .. }
        | OpKind::UpdateTeamSpaceMembership { role_ids, .. } => role_ids,
        _ => return,
    };
    for id in ids.iter_mut() {
        if let Some(p) = created_role_op(id)
            && let Some(f) = provisional.get(&p)
        {
            *id = created_role_id(f);
        }
    }
    ids.sort();
}
