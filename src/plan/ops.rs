//! The plan document: operations with stable ids, their dependencies and concurrency levels,
//! guardrail results, and the principals reported but not changed (pending, unmanaged).
//!
//! These types are the contract between the planner, the renderers and `apply`: a [`Plan`] is
//! saved as JSON (`plan --output`) and read back by `apply`, so every type here serializes and
//! deserializes losslessly. Live objects an operation touches carry their `sys.id` and
//! `sys.version` ([`ObjectMeta`], [`Touched`]) so `apply` can send `X-Contentful-Version` and detect
//! a stale plan.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Email, Expiry, ObjectMeta, OrgRole, Principal, RoleDefinition, SpaceAccess, Span,
};

pub use super::role_diff::{PolicyChange, RoleChanges, ValueChange};

/// The prefix of a role id that stands for a role created by an operation of the same plan:
/// `created_by:op-007` in a membership's `role_ids`. `apply` replaces it with the id the create
/// returned. A colon never appears in a Contentful id, so the two cannot be confused.
pub const CREATED_ROLE_PREFIX: &str = "created_by:";

/// The role id that stands for the role operation `op` creates (see [`CREATED_ROLE_PREFIX`]).
pub fn created_role_id(op: &OpId) -> String {
    format!("{CREATED_ROLE_PREFIX}{op}")
}

/// The operation whose created role `role_id` stands for, when it is a provisional id.
pub fn created_role_op(role_id: &str) -> Option<OpId> {
    role_id
        .strip_prefix(CREATED_ROLE_PREFIX)
        .map(|op| OpId(op.to_string()))
}

/// The version of the plan document format written by this build.
pub const FORMAT_VERSION: u32 = 1;

/// An operation id, `op-001` style: deterministic for the same inputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub String);

impl OpId {
    /// The id of the `n`-th operation (1-based): `op-001`, …, `op-1234`.
    pub fn nth(n: usize) -> OpId {
        OpId(format!("op-{n:03}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operation does to the access a principal has, Terraform style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates something (`+`).
    Add,
    /// Changes something in place (`~`).
    Change,
    /// Removes something (`-`).
    Remove,
}

impl Action {
    /// The Terraform-like sign: `+`, `~` or `-`.
    pub fn sign(self) -> char {
        match self {
            Action::Add => '+',
            Action::Change => '~',
            Action::Remove => '-',
        }
    }
}

/// The kind of live Contentful object an operation touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// An organization membership.
    OrgMembership,
    /// A team.
    Team,
    /// A team membership.
    TeamMembership,
    /// A team space membership.
    TeamSpaceMembership,
    /// A (direct, per user) space membership.
    SpaceMembership,
    /// A custom space role.
    Role,
}

/// A live object an operation reads or writes, with the `sys.version` the plan saw.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Touched {
    /// The object's kind.
    pub kind: ObjectKind,
    /// `sys.id`.
    pub id: String,
    /// `sys.version` when the plan was made.
    pub version: u64,
}

/// A team an operation refers to: one that exists, or one an earlier operation creates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRef {
    /// The live team with this id.
    Existing(String),
    /// The team created by this operation (a [`OpKind::CreateTeam`]); `apply` takes the id from
    /// its result.
    CreatedBy(OpId),
}

/// An organization membership an operation refers to: one that exists (active or pending), or
/// the one an earlier invitation creates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipRef {
    /// The live organization membership with this id.
    Existing(String),
    /// The membership created by this operation (an [`OpKind::Invite`]); `apply` takes the id
    /// from the invitation's result.
    InvitedBy(OpId),
}

/// Something that goes away together with a removed org member or a deleted team, without a
/// request of its own (Contentful removes it with its parent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cascade {
    /// A membership of a team.
    TeamMembership {
        /// The team's name.
        team_name: String,
        /// The team's id.
        team_id: String,
        /// For a removed org member: absent. For a deleted team: the member's email.
        email: Option<Email>,
        /// The team membership.
        team_membership: ObjectMeta,
    },
    /// A user's direct membership of a space.
    SpaceMembership {
        /// The managed space's local name, or the live space name for a space the file does not
        /// manage (or its id when unknown).
        space_name: String,
        /// The space id.
        space_id: String,
        /// The space membership.
        space_membership: ObjectMeta,
        /// The access that goes away.
        access: SpaceAccess,
    },
    /// A team's membership of a space.
    TeamSpaceMembership {
        /// The managed space's local name, or the live space name (or id).
        space_name: String,
        /// The space id.
        space_id: String,
        /// The team space membership.
        tsm: ObjectMeta,
        /// The access that goes away.
        access: SpaceAccess,
    },
}

/// What an operation does, with everything `apply` needs to do it and renderers to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// A role update carries both definitions and their diff; plans hold few operations in a `Vec`
// that is built once, so the size of the largest variant costs little and keeps the JSON shape
// and the renderers' pattern matches plain.
#[allow(clippy::large_enum_variant)]
pub enum OpKind {
    /// Invite a user to the organization (creates a pending org membership).
    Invite {
        /// Who.
        email: Email,
        /// Their organization role.
        role: OrgRole,
        /// `firstName` for the invitation.
        first_name: Option<String>,
        /// `lastName` for the invitation.
        last_name: Option<String>,
    },
    /// Send a pending member's expired invitation again (Contentful invitations expire after 7
    /// days): the invitation is posted again for the same email, as Contentful's web app does for
    /// "reinvite". The pending membership stays; its invitation date starts over.
    Reinvite {
        /// Who.
        email: Email,
        /// The organization role of the pending membership (sent unchanged).
        role: OrgRole,
        /// The pending organization membership.
        membership: ObjectMeta,
        /// When the expired invitation was sent.
        invited_at: DateTime<Utc>,
        /// `firstName` for the invitation.
        first_name: Option<String>,
        /// `lastName` for the invitation.
        last_name: Option<String>,
    },
    /// Change a member's organization role.
    ChangeOrgRole {
        /// Who.
        email: Email,
        /// The organization membership.
        membership: ObjectMeta,
        /// The role now.
        from: OrgRole,
        /// The role after.
        to: OrgRole,
    },
    /// Remove a member (or cancel a pending invitation) by deleting the org membership; their
    /// team and space memberships go with it.
    RemoveOrgMember {
        /// Who.
        email: Email,
        /// The organization membership.
        membership: ObjectMeta,
        /// Their organization role now.
        role: OrgRole,
        /// Their team memberships and space memberships, which Contentful removes with them.
        cascades: Vec<Cascade>,
    },
    /// Create a team.
    CreateTeam {
        /// The name.
        name: String,
        /// The description.
        description: String,
    },
    /// Change a team's description.
    UpdateTeam {
        /// The team.
        team: ObjectMeta,
        /// The team's name (unchanged).
        name: String,
        /// The description now.
        description_before: String,
        /// The description after.
        description_after: String,
    },
    /// Delete a team; its memberships and space memberships go with it.
    DeleteTeam {
        /// The team.
        team: ObjectMeta,
        /// The team's name.
        name: String,
        /// Its team memberships and team space memberships.
        cascades: Vec<Cascade>,
    },
    /// Add a member to a team.
    AddTeamMember {
        /// The team's name.
        team_name: String,
        /// The team.
        team: TeamRef,
        /// The member's email.
        email: Email,
        /// The member's organization membership.
        membership: MembershipRef,
    },
    /// Remove a member from a team.
    RemoveTeamMember {
        /// The team's name.
        team_name: String,
        /// The team's id.
        team_id: String,
        /// The member's email.
        email: Email,
        /// The team membership.
        team_membership: ObjectMeta,
    },
    /// Give a team access to a space.
    CreateTeamSpaceMembership {
        /// The team's name.
        team_name: String,
        /// The team.
        team: TeamRef,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The access, by role name.
        access: SpaceAccess,
        /// The role ids to send (empty for admin), sorted.
        role_ids: Vec<String>,
    },
    /// Change a team's access to a space.
    UpdateTeamSpaceMembership {
        /// The team's name.
        team_name: String,
        /// The team's id.
        team_id: String,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The team space membership.
        tsm: ObjectMeta,
        /// The access now.
        before: SpaceAccess,
        /// The access after.
        after: SpaceAccess,
        /// The role ids to send (empty for admin), sorted.
        role_ids: Vec<String>,
    },
    /// Take a team's access to a space away.
    DeleteTeamSpaceMembership {
        /// The team's name.
        team_name: String,
        /// The team's id.
        team_id: String,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The team space membership.
        tsm: ObjectMeta,
        /// The access that goes away.
        before: SpaceAccess,
    },
    /// Give a user direct access to a space (created by email).
    CreateSpaceMembership {
        /// Who.
        email: Email,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The access, by role name.
        access: SpaceAccess,
        /// The role ids to send (empty for admin), sorted.
        role_ids: Vec<String>,
    },
    /// Change a user's direct access to a space.
    UpdateSpaceMembership {
        /// Who.
        email: Email,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The space membership.
        space_membership: ObjectMeta,
        /// The access now.
        before: SpaceAccess,
        /// The access after.
        after: SpaceAccess,
        /// The role ids to send (empty for admin), sorted.
        role_ids: Vec<String>,
    },
    /// Take a user's direct access to a space away.
    DeleteSpaceMembership {
        /// Who.
        email: Email,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The space membership.
        space_membership: ObjectMeta,
        /// The access that goes away.
        before: SpaceAccess,
    },
    /// Create a custom role in a space (before any grant of it: memberships refer to it through
    /// a [`created_role_id`]).
    CreateRole {
        /// The role's name.
        name: String,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// What it grants, as sent.
        definition: RoleDefinition,
    },
    /// Change a custom role's definition (sent with `X-Contentful-Version`).
    UpdateRole {
        /// The role's name (unchanged).
        name: String,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The role (id and version).
        role: ObjectMeta,
        /// The definition now.
        before: RoleDefinition,
        /// The definition after (sent as is).
        after: RoleDefinition,
        /// What changes, semantically (normal forms compared).
        changes: RoleChanges,
    },
    /// Delete a custom role the file does not declare (`policy.prune_roles`), after every grant
    /// of it is gone.
    DeleteRole {
        /// The role's name.
        name: String,
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The role (id and version).
        role: ObjectMeta,
        /// What it granted.
        definition: RoleDefinition,
    },
}

impl OpKind {
    /// One line saying what the operation does, e.g. `invite nina@acme.example as member`.
    pub fn describe(&self) -> String {
        match self {
            OpKind::Invite { email, role, .. } => format!("invite {email} as {role}"),
            OpKind::Reinvite { email, .. } => {
                format!("send {email} a new invitation (the last one expired)")
            }
            OpKind::ChangeOrgRole {
                email, from, to, ..
            } => format!("change org role of {email}: {from} → {to}"),
            OpKind::RemoveOrgMember { email, .. } => {
                format!("remove {email} from the organization")
            }
            OpKind::CreateTeam { name, .. } => format!("create team {name}"),
            OpKind::UpdateTeam {
                name,
                description_after,
                ..
            } => format!("set description of team {name} to {description_after:?}"),
            OpKind::DeleteTeam { name, .. } => format!("delete team {name}"),
            OpKind::AddTeamMember {
                team_name, email, ..
            } => format!("add {email} to team {team_name}"),
            OpKind::RemoveTeamMember {
                team_name, email, ..
            } => format!("remove {email} from team {team_name}"),
            OpKind::CreateTeamSpaceMembership {
                team_name,
                space_name,
                access,
                ..
            } => format!("give team {team_name} {access} in space {space_name}"),
            OpKind::UpdateTeamSpaceMembership {
                team_name,
                space_name,
                before,
                after,
                ..
            } => format!("change team {team_name} in space {space_name}: {before} → {after}"),
            OpKind::DeleteTeamSpaceMembership {
                team_name,
                space_name,
                ..
            } => format!("take team {team_name}'s access to space {space_name} away"),
            OpKind::CreateSpaceMembership {
                email,
                space_name,
                access,
                ..
            } => format!("give {email} {access} in space {space_name}"),
            OpKind::UpdateSpaceMembership {
                email,
                space_name,
                before,
                after,
                ..
            } => format!("change {email} in space {space_name}: {before} → {after}"),
            OpKind::DeleteSpaceMembership {
                email, space_name, ..
            } => format!("take {email}'s direct access to space {space_name} away"),
            OpKind::CreateRole {
                name, space_name, ..
            } => format!("create role {name} in space {space_name}"),
            OpKind::UpdateRole {
                name, space_name, ..
            } => format!("change role {name} in space {space_name}"),
            OpKind::DeleteRole {
                name, space_name, ..
            } => format!("delete role {name} in space {space_name}"),
        }
    }

    /// Whether this adds, changes or removes.
    pub fn action(&self) -> Action {
        match self {
            OpKind::Invite { .. }
            | OpKind::CreateTeam { .. }
            | OpKind::AddTeamMember { .. }
            | OpKind::CreateTeamSpaceMembership { .. }
            | OpKind::CreateSpaceMembership { .. }
            | OpKind::CreateRole { .. } => Action::Add,
            OpKind::UpdateRole { .. }
            | OpKind::ChangeOrgRole { .. }
            | OpKind::Reinvite { .. }
            | OpKind::UpdateTeam { .. }
            | OpKind::UpdateTeamSpaceMembership { .. }
            | OpKind::UpdateSpaceMembership { .. } => Action::Change,
            OpKind::RemoveOrgMember { .. }
            | OpKind::DeleteTeam { .. }
            | OpKind::RemoveTeamMember { .. }
            | OpKind::DeleteTeamSpaceMembership { .. }
            | OpKind::DeleteSpaceMembership { .. }
            | OpKind::DeleteRole { .. } => Action::Remove,
        }
    }

    /// The kind's name as written in JSON (`invite`, `change_org_role`, …).
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Invite { .. } => "invite",
            OpKind::ChangeOrgRole { .. } => "change_org_role",
            OpKind::Reinvite { .. } => "reinvite",
            OpKind::RemoveOrgMember { .. } => "remove_org_member",
            OpKind::CreateTeam { .. } => "create_team",
            OpKind::UpdateTeam { .. } => "update_team",
            OpKind::DeleteTeam { .. } => "delete_team",
            OpKind::AddTeamMember { .. } => "add_team_member",
            OpKind::RemoveTeamMember { .. } => "remove_team_member",
            OpKind::CreateTeamSpaceMembership { .. } => "create_team_space_membership",
            OpKind::UpdateTeamSpaceMembership { .. } => "update_team_space_membership",
            OpKind::DeleteTeamSpaceMembership { .. } => "delete_team_space_membership",
            OpKind::CreateSpaceMembership { .. } => "create_space_membership",
            OpKind::UpdateSpaceMembership { .. } => "update_space_membership",
            OpKind::DeleteSpaceMembership { .. } => "delete_space_membership",
            OpKind::CreateRole { .. } => "create_role",
            OpKind::UpdateRole { .. } => "update_role",
            OpKind::DeleteRole { .. } => "delete_role",
        }
    }

    /// The position of this kind in the deterministic operation order (grants first, then
    /// revocations, org removals last).
    pub fn rank(&self) -> u8 {
        match self {
            OpKind::Invite { .. } => 0,
            OpKind::ChangeOrgRole { .. } => 1,
            OpKind::CreateTeam { .. } => 2,
            OpKind::UpdateTeam { .. } => 3,
            OpKind::AddTeamMember { .. } => 4,
            OpKind::CreateTeamSpaceMembership { .. } => 5,
            OpKind::UpdateTeamSpaceMembership { .. } => 6,
            OpKind::CreateSpaceMembership { .. } => 7,
            OpKind::UpdateSpaceMembership { .. } => 8,
            OpKind::DeleteSpaceMembership { .. } => 9,
            OpKind::DeleteTeamSpaceMembership { .. } => 10,
            OpKind::RemoveTeamMember { .. } => 11,
            OpKind::DeleteTeam { .. } => 12,
            OpKind::RemoveOrgMember { .. } => 13,
            // Last: added after the others, so plans without one keep their operation ids.
            OpKind::Reinvite { .. } => 14,
            // Role operations after those, for the same reason; their order against grants
            // comes from dependencies, not from ranks.
            OpKind::CreateRole { .. } => 15,
            OpKind::UpdateRole { .. } => 16,
            OpKind::DeleteRole { .. } => 17,
        }
    }

    /// The user this operation is about, if any.
    pub fn email(&self) -> Option<&Email> {
        match self {
            OpKind::Invite { email, .. }
            | OpKind::Reinvite { email, .. }
            | OpKind::ChangeOrgRole { email, .. }
            | OpKind::RemoveOrgMember { email, .. }
            | OpKind::AddTeamMember { email, .. }
            | OpKind::RemoveTeamMember { email, .. }
            | OpKind::CreateSpaceMembership { email, .. }
            | OpKind::UpdateSpaceMembership { email, .. }
            | OpKind::DeleteSpaceMembership { email, .. } => Some(email),
            _ => None,
        }
    }

    /// The team this operation is about, if any.
    pub fn team_name(&self) -> Option<&str> {
        match self {
            OpKind::CreateTeam { name, .. }
            | OpKind::UpdateTeam { name, .. }
            | OpKind::DeleteTeam { name, .. } => Some(name),
            OpKind::AddTeamMember { team_name, .. }
            | OpKind::RemoveTeamMember { team_name, .. }
            | OpKind::CreateTeamSpaceMembership { team_name, .. }
            | OpKind::UpdateTeamSpaceMembership { team_name, .. }
            | OpKind::DeleteTeamSpaceMembership { team_name, .. } => Some(team_name),
            _ => None,
        }
    }

    /// The space this operation is about, as (local name, id), if any.
    pub fn space(&self) -> Option<(&str, &str)> {
        match self {
            OpKind::CreateTeamSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::UpdateTeamSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::DeleteTeamSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::CreateSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::UpdateSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::DeleteSpaceMembership {
                space_name,
                space_id,
                ..
            }
            | OpKind::CreateRole {
                space_name,
                space_id,
                ..
            }
            | OpKind::UpdateRole {
                space_name,
                space_id,
                ..
            }
            | OpKind::DeleteRole {
                space_name,
                space_id,
                ..
            } => Some((space_name, space_id)),
            _ => None,
        }
    }

    /// The principals this operation changes: the user and/or the team it is about.
    pub fn principals(&self) -> Vec<Principal> {
        let mut out = Vec::new();
        if let Some(e) = self.email() {
            out.push(Principal::User(e.clone()));
        }
        if let Some(t) = self.team_name() {
            out.push(Principal::Team(t.to_string()));
        }
        out
    }

    /// The custom role this operation creates, changes or deletes, by name.
    pub fn role_name(&self) -> Option<&str> {
        match self {
            OpKind::CreateRole { name, .. }
            | OpKind::UpdateRole { name, .. }
            | OpKind::DeleteRole { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The cascades of a removal (empty for every other kind).
    pub fn cascades(&self) -> &[Cascade] {
        match self {
            OpKind::RemoveOrgMember { cascades, .. } | OpKind::DeleteTeam { cascades, .. } => {
                cascades
            }
            _ => &[],
        }
    }
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Deterministic id, `op-001` style.
    pub id: OpId,
    /// Add, change or remove.
    pub action: Action,
    /// What it does.
    pub kind: OpKind,
    /// Operations that must succeed before this one starts.
    pub depends_on: Vec<OpId>,
    /// The place in the access file that causes it; absent for removals of undeclared
    /// principals (caused by `prune`).
    pub cause: Option<Span>,
    /// Why it is planned, when that is more than "the file says so": access whose `expires`
    /// has passed. Absent in plans written before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Every live object it writes or deletes (including what goes with a removal), with the
    /// `sys.version` the plan saw. Objects it only refers to (the team a member is added to) are
    /// not listed: their ids are in [`TeamRef`] / [`MembershipRef`], and an earlier operation of
    /// the same plan may legitimately change their version.
    pub touches: Vec<Touched>,
}

/// Why an operation is planned, beyond the file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reason {
    /// The access's `expires` moment has passed: it is removed ("expired on 2027-01-31").
    Expired {
        /// The expiry as written in the file.
        expires: Expiry,
    },
}

impl fmt::Display for Reason {
    /// `expired on 2027-01-31`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Expired { expires } => write!(f, "expired on {expires}"),
        }
    }
}

/// Which guardrail a [`GuardrailResult`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guardrail {
    /// No more removals than `policy.max_removals`.
    MaxRemovals,
    /// No change to a `protected` principal.
    Protected,
    /// The token's own user is neither removed nor demoted.
    TokenUser,
    /// The organization keeps an owner.
    OrgOwner,
    /// Every managed space that has an admin keeps one.
    SpaceAdmin,
    /// No deleted custom role is still assigned after the plan (checked only for plans that
    /// delete roles; not in [`Guardrail::ALL`], which lists the checks every plan shows).
    RoleInUse,
}

impl Guardrail {
    /// Every guardrail, in the order they are checked and shown.
    pub const ALL: [Guardrail; 5] = [
        Guardrail::MaxRemovals,
        Guardrail::Protected,
        Guardrail::TokenUser,
        Guardrail::OrgOwner,
        Guardrail::SpaceAdmin,
    ];

    /// The guardrail's name as written in JSON and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Guardrail::MaxRemovals => "max_removals",
            Guardrail::Protected => "protected",
            Guardrail::TokenUser => "token_user",
            Guardrail::OrgOwner => "org_owner",
            Guardrail::SpaceAdmin => "space_admin",
            Guardrail::RoleInUse => "role_in_use",
        }
    }
}

impl fmt::Display for Guardrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one guardrail check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailResult {
    /// Which guardrail.
    pub name: Guardrail,
    /// True when the plan respects it.
    pub passed: bool,
    /// Why it passed or exactly why it failed, naming the principals involved.
    pub message: String,
    /// The principals (emails, `team NAME`, space names) that make it fail; empty when passed.
    pub offenders: Vec<String>,
}

/// A pending invitation: counts as present (re-sent only when its invitation expired), shown to the reviewer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PendingInvite {
    /// The invitee.
    pub email: Email,
    /// The organization role they were invited with.
    pub role: OrgRole,
    /// The pending organization membership's id.
    pub membership_id: String,
    /// When the invitation was sent, when known (invitations expire after 7 days).
    pub invited_at: Option<DateTime<Utc>>,
}

/// A declared user not yet in the organization while an identity provider provisions members
/// (`policy.org_membership: identity_provider`): nothing is planned for them until they appear;
/// then the next plan grants what is listed here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WaitingUser {
    /// The user.
    pub email: Email,
    /// The organization role the file gives them (set once they are provisioned).
    pub org_role: OrgRole,
    /// The teams the file lists for them.
    pub teams: Vec<String>,
    /// Their direct access in managed spaces, as the file gives it.
    pub access: Vec<HeldAccess>,
}

/// A user or a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A user (by email).
    User,
    /// A team (by name).
    Team,
}

/// Access held in a managed space.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeldAccess {
    /// The managed space's local name.
    pub space_name: String,
    /// The space id.
    pub space_id: String,
    /// The access.
    pub access: SpaceAccess,
}

/// A live principal the file does not declare, left alone because `prune` is off.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unmanaged {
    /// User or team.
    pub kind: PrincipalKind,
    /// The email or team name.
    pub name: String,
    /// The org membership id (user) or team id.
    pub id: String,
    /// The user's organization role (users only).
    pub org_role: Option<OrgRole>,
    /// The user's teams, or the team's members (emails), sorted.
    pub related: Vec<String>,
    /// Access held directly in managed spaces.
    pub access: Vec<HeldAccess>,
}

/// Counts of operations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Operations that add.
    pub add: usize,
    /// Operations that change.
    pub change: usize,
    /// Operations that remove.
    pub remove: usize,
    /// Operations by kind name ([`OpKind::name`]).
    pub by_kind: BTreeMap<String, usize>,
}

impl Summary {
    /// Counts `ops`.
    pub fn of(ops: &[Operation]) -> Summary {
        let mut s = Summary::default();
        for op in ops {
            match op.action {
                Action::Add => s.add += 1,
                Action::Change => s.change += 1,
                Action::Remove => s.remove += 1,
            }
            *s.by_kind.entry(op.kind.name().to_string()).or_default() += 1;
        }
        s
    }
}

/// A plan: what `apply` would do to make the organization match the access file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The document format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The Contentful organization id.
    pub organization: String,
    /// The access file, as given on the command line.
    pub config_path: String,
    /// SHA-256 of the access file, hex; with `include:`, of the whole set of files (each file's
    /// name and hash), so a change to any of them makes a saved plan stale.
    pub config_sha256: String,
    /// The files the access file includes, in file-index order: an operation whose
    /// [`Operation::cause`] has `file: n` comes from `config_included[n - 1]`. Absent for a
    /// single file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_included: Vec<String>,
    /// When the plan was made (injected, for reproducible output).
    pub created_at: DateTime<Utc>,
    /// The operations in id order.
    pub operations: Vec<Operation>,
    /// Operation ids grouped into levels: every operation's dependencies are in earlier levels,
    /// so the members of one level can run concurrently.
    pub levels: Vec<Vec<OpId>>,
    /// Every guardrail's result.
    pub guardrails: Vec<GuardrailResult>,
    /// True when any guardrail failed: `apply` must not run this plan.
    pub refused: bool,
    /// Pending invitations among declared users.
    pub pending: Vec<PendingInvite>,
    /// Undeclared principals left alone (prune off).
    pub unmanaged: Vec<Unmanaged>,
    /// Declared users waiting for the identity provider to provision them (absent unless
    /// `policy.org_membership: identity_provider`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<WaitingUser>,
    /// Operation counts.
    pub summary: Summary,
    /// Custom roles in managed spaces the file does not declare, left alone (absent unless the
    /// file has a `roles:` section).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_roles: Vec<super::roles::UnmanagedRole>,
}

#[cfg(test)]
impl Plan {
    /// A plan of `ops` run in `levels`, for unit tests: organization `org`, file `access.yaml`
    /// with no hash, made at 2026-01-01T00:00:00Z, nothing refused, pending or unmanaged.
    pub(crate) fn fixture(operations: Vec<Operation>, levels: Vec<Vec<OpId>>) -> Plan {
        use chrono::TimeZone;
        Plan {
            format_version: FORMAT_VERSION,
            organization: "org".into(),
            config_path: "access.yaml".into(),
            config_sha256: String::new(),
            config_included: vec![],
            created_at: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            summary: Summary::of(&operations),
            operations,
            levels,
            guardrails: vec![],
            refused: false,
            pending: vec![],
            unmanaged: vec![],
            waiting: vec![],
            unmanaged_roles: vec![],
        }
    }
}

impl Plan {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operation with this id.
    pub fn op(&self, id: &OpId) -> Option<&Operation> {
        self.operations.iter().find(|o| &o.id == id)
    }

    /// (to add, to change, to remove).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.summary.add, self.summary.change, self.summary.remove)
    }

    /// The guardrails that failed.
    pub fn failed_guardrails(&self) -> impl Iterator<Item = &GuardrailResult> {
        self.guardrails.iter().filter(|g| !g.passed)
    }

    /// The file an operation's cause points into: `None` for the access file itself (the root),
    /// else the included file's name.
    pub fn included_file(&self, cause: Span) -> Option<&str> {
        cause
            .file
            .checked_sub(1)
            .and_then(|i| self.config_included.get(i as usize))
            .map(String::as_str)
    }
}
