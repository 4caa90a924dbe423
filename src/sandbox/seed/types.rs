//! The seed's record types: the documented JSON format of a whole organization. Every record may
//! carry an optional `sys` object; unknown keys are rejected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{MembershipStatus, OrgRole};

/// A whole organization for the sandbox to serve. The format is documented in `docs/sandbox.md` (section "Seed file format").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The organization.
    pub organization: SeedOrganization,
    /// Users (members, pending invitees, and users no longer in the org).
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Organization memberships: a user's seat, role and status.
    #[serde(default)]
    pub org_memberships: Vec<SeedOrgMembership>,
    /// Spaces of the organization.
    #[serde(default)]
    pub spaces: Vec<SeedSpace>,
    /// Roles, each in one space.
    #[serde(default)]
    pub roles: Vec<SeedRole>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<SeedTeam>,
    /// Team memberships (team ↔ organization membership).
    #[serde(default)]
    pub team_memberships: Vec<SeedTeamMembership>,
    /// Team space memberships (a team's access to a space).
    #[serde(default)]
    pub team_space_memberships: Vec<SeedTeamSpaceMembership>,
    /// Direct space memberships of users.
    #[serde(default)]
    pub space_memberships: Vec<SeedSpaceMembership>,
    /// Personal access tokens as the admin view lists them (never a usable value).
    #[serde(default)]
    pub access_tokens: Vec<SeedAccessToken>,
    /// Invitations (each tied to a pending organization membership).
    #[serde(default)]
    pub invitations: Vec<SeedInvitation>,
    /// Bearer tokens the sandbox accepts, each acting as a user. The first one whose user is an
    /// org owner or admin is the admin token ([`crate::sandbox::Server::admin_token`]).
    #[serde(default)]
    pub api_tokens: Vec<SeedApiToken>,
    /// Documented variations of the API's answers to serve, to test how the tool copes.
    #[serde(default, skip_serializing_if = "SeedVariants::is_default")]
    pub variants: SeedVariants,
}

/// Variations of Contentful's answers the sandbox can serve (all off by default): shapes seen
/// in the API's history or documentation that the client tolerates and `doctor` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVariants {
    /// Team list items (`GET /organizations/{org}/teams`) without `sys.version`; a single team
    /// (`GET …/teams/{id}`) still has it.
    #[serde(default)]
    pub team_list_without_version: bool,
    /// Collections accept `order` only on the attributes Contentful documents for them
    /// ([`crate::sandbox::documented_orders`]): no `sys.updatedAt` ordering of organization or
    /// space memberships, no ordering of teams, spaces or roles. Off, the sandbox also accepts
    /// ordering by `sys.createdAt`/`sys.updatedAt` on those (which Contentful may or may not).
    #[serde(default)]
    pub documented_orders_only: bool,
}

impl SeedVariants {
    fn is_default(&self) -> bool {
        self == &SeedVariants::default()
    }
}

/// Optional bookkeeping every record can carry; missing parts are filled in on load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSys {
    /// `sys.version` (default 0).
    #[serde(default)]
    pub version: u64,
    /// `sys.createdAt` (default: the organization's `createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// `sys.updatedAt` (default: `createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// `sys.createdBy` user id (default: the first owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `sys.updatedBy` user id (default: `createdBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

impl SeedSys {
    fn is_default(&self) -> bool {
        self == &SeedSys::default()
    }
}

/// The organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrganization {
    /// Organization id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUser {
    /// User id.
    pub id: String,
    /// Email (compared case-insensitively).
    pub email: String,
    /// First name; null for pending invitees.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name; null for pending invitees.
    #[serde(default)]
    pub last_name: Option<String>,
    /// False until an invitation is accepted (default true).
    #[serde(default = "yes")]
    pub activated: bool,
    /// How often the user signed in (default 0).
    #[serde(default)]
    pub sign_in_count: u64,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

pub(super) fn yes() -> bool {
    true
}

/// An organization membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrgMembership {
    /// Membership id.
    pub id: String,
    /// The user id.
    pub user: String,
    /// Organization role.
    pub role: OrgRole,
    /// `active` (default) or `pending` (invited).
    #[serde(default = "active")]
    pub status: MembershipStatus,
    /// Last activity; null when never active.
    #[serde(default)]
    pub last_active_at: Option<DateTime<Utc>>,
    /// Single sign-on data (`sys.sso`), for an organization that uses SSO; absent (served as
    /// `"sso": null`) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SeedSso>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A membership's single sign-on data, served as `sys.sso` in the shape Contentful's web app reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSso {
    /// The last sign-in through the identity provider; null when never.
    #[serde(default)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The member may sign in without the identity provider (default false).
    #[serde(default)]
    pub is_exempt_from_restricted_mode: bool,
    /// Why (`userIsOwner`, `userHasMultipleOrganizationMemberships`, `userIsManuallyExempt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemption_reasons: Vec<String>,
}

pub(super) fn active() -> MembershipStatus {
    MembershipStatus::Active
}

/// A space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSpace {
    /// Space id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A role in a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRole {
    /// Role id.
    pub id: String,
    /// The space it belongs to.
    pub space: String,
    /// Name, e.g. `Editor`.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Policies, as the API returns them (default `[]`).
    #[serde(default = "empty_array")]
    pub policies: serde_json::Value,
    /// Permissions, as the API returns them (default: no permissions).
    #[serde(default = "no_permissions")]
    pub permissions: serde_json::Value,
    /// Any other top-level field of the role (an environment scope, a future key), stored and
    /// served verbatim so the client's round trip of fields it does not know can be tested.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

pub(super) fn empty_array() -> serde_json::Value {
    serde_json::json!([])
}

pub(super) fn no_permissions() -> serde_json::Value {
    serde_json::json!({"ContentModel": ["read"], "Settings": [], "ContentDelivery": [], "Environments": []})
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeam {
    /// Team id.
    pub id: String,
    /// Name, unique in the org.
    pub name: String,
    /// Description (may be null).
    #[serde(default)]
    pub description: Option<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A team membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeamMembership {
    /// Team membership id.
    pub id: String,
    /// The team id.
    pub team: String,
    /// The member's organization membership id.
    pub org_membership: String,
    /// Team admin flag (default false).
    #[serde(default)]
    pub admin: bool,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A team's access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTeamSpaceMembership {
    /// Team space membership id.
    pub id: String,
    /// The team id.
    pub team: String,
    /// The space id.
    pub space: String,
    /// Space admin.
    #[serde(default)]
    pub admin: bool,
    /// Role ids (must be empty when admin).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A user's direct access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSpaceMembership {
    /// Space membership id.
    pub id: String,
    /// The space id.
    pub space: String,
    /// The user id.
    pub user: String,
    /// Space admin.
    #[serde(default)]
    pub admin: bool,
    /// Role ids (must be empty when admin).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A personal access token as the admin view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAccessToken {
    /// Token id.
    pub id: String,
    /// Name the owner gave it.
    pub name: String,
    /// Owner's user id.
    pub user: String,
    /// Scopes (default `["content_management_manage"]`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Redacted value shown to admins, e.g. `CFPAT-…a1b2` (default derived from the id).
    #[serde(default)]
    pub redacted_value: Option<String>,
    /// When it expires; null for never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; null while active.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used.
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

pub(super) fn default_scopes() -> Vec<String> {
    vec!["content_management_manage".to_string()]
}

/// An invitation: the pending organization membership it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedInvitation {
    /// Invitation id.
    pub id: String,
    /// The organization membership it created.
    pub org_membership: String,
    /// Bookkeeping.
    #[serde(default, skip_serializing_if = "SeedSys::is_default")]
    pub sys: SeedSys,
}

/// A bearer token the sandbox accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApiToken {
    /// The token value (throwaway; only meaningful to the sandbox).
    pub token: String,
    /// The user it acts as.
    pub user: String,
}
