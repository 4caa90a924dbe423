//! The access file's shape as plain serde/schemars types. They are the single description of the
//! format: the JSON Schema is generated from them (doc comments become descriptions), and the key
//! lists the validator accepts are checked against them in tests. Validation itself walks a spanned
//! node tree (see `node`) so it can report every problem with its position.

// The raw types are read through serde and schemars; their fields are never read directly.
#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

/// The pattern every Contentful id (organization, space) matches.
pub(crate) const CONTENTFUL_ID_PATTERN: &str = "^[a-zA-Z0-9-_.]{1,64}$";

/// The pattern of `max_removals` written as a percentage: `N%` or `N.NN%` with 0 ≤ N ≤ 100.
pub(crate) const PERCENT_PATTERN: &str = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)%$";

/// Keys accepted at the top level of the file.
pub(crate) const TOP_KEYS: &[&str] = &[
    "version",
    "organization",
    "include",
    "policy",
    "spaces",
    "teams",
    "users",
    "roles",
];
/// Keys accepted under `policy`.
pub(crate) const POLICY_KEYS: &[&str] = &[
    "prune",
    "max_removals",
    "protected",
    "ignore",
    "reinvite_expired",
    "org_membership",
    "prune_roles",
];
/// Keys accepted in a custom role (`roles:` entry).
pub(crate) const ROLE_KEYS: &[&str] =
    &["description", "spaces", "permissions", "policies", "extra"];
/// Keys of a policy in a custom role that this tool checks (others pass through verbatim).
pub(crate) const ROLE_POLICY_EFFECTS: &[&str] = &["allow", "deny"];
/// The actions a policy may list (or the word `all`), from Contentful's role documentation.
pub(crate) const ROLE_POLICY_ACTIONS: &[&str] = &[
    "read",
    "create",
    "update",
    "delete",
    "publish",
    "unpublish",
    "archive",
    "unarchive",
];
/// The operators a policy's `constraint` may use.
pub(crate) const ROLE_CONSTRAINT_OPERATORS: &[&str] =
    &["and", "or", "not", "equals", "in", "paths"];
/// Keys accepted in a team.
pub(crate) const TEAM_KEYS: &[&str] = &["description", "spaces", "managed_by"];
/// Keys accepted in a user.
pub(crate) const USER_KEYS: &[&str] = &["name", "org_role", "teams", "spaces", "expires"];
/// Keys accepted in a user's expiring space grant (`{access: ..., expires: ...}`).
pub(crate) const GRANT_KEYS: &[&str] = &["access", "expires"];
/// Keys accepted in an expiring entry of a user's `teams` (`{team: ..., expires: ...}`).
pub(crate) const TEAM_REF_KEYS: &[&str] = &["team", "expires"];

/// A contentful-access file (format version 1): who can do what in one Contentful organization.
/// `plan` compares it with the live organization; `apply` makes the organization match it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "contentful-access file")]
pub struct RawConfig {
    /// Format version of this file. Only `1` exists.
    #[schemars(schema_with = "version_schema")]
    pub version: u32,
    /// The Contentful organization id (Organization settings → Organization information).
    #[schemars(schema_with = "contentful_id_schema")]
    pub organization: String,
    /// Other files that declare more `teams` and `users` (for example one file per team): glob
    /// patterns relative to this file, such as `teams/*.yaml`. Files are read in sorted order; a
    /// pattern that matches no file is an error. Only this (root) file may have `version`,
    /// `organization`, `include`, `policy` and `spaces`.
    pub include: Option<RawInclude>,
    /// How far the tool may go. Absent: `prune: false`, `max_removals: 10%`, nothing protected
    /// or ignored.
    pub policy: Option<RawPolicy>,
    /// The managed spaces: a local name (used in this file) → the Contentful space id. Spaces not
    /// listed here are never touched.
    #[serde(default)]
    #[schemars(schema_with = "spaces_schema")]
    pub spaces: BTreeMap<String, String>,
    /// Declared teams by name (a team with nothing to say can be left empty). A team's description
    /// and its access in managed spaces are authoritative; its members are the declared users that
    /// list it.
    #[serde(default)]
    pub teams: BTreeMap<String, Option<RawTeam>>,
    /// Declared users by email (compared case-insensitively; a member with no access can be left
    /// empty). A user's org role, teams and direct access in managed spaces are authoritative.
    #[serde(default)]
    #[schemars(schema_with = "users_schema")]
    pub users: BTreeMap<String, Option<RawUser>>,
    /// Custom space roles by name (the role's name in Contentful), each applied to the managed
    /// spaces it lists. Roles the file does not declare are left alone unless
    /// `policy.prune_roles` is true. Only the root file may declare roles.
    #[serde(default)]
    pub roles: BTreeMap<String, RawRole>,
}

/// A custom space role: Contentful's `description`, `permissions` and `policies` written as YAML
/// (a policy copied from the API or the web app works unchanged), applied to managed spaces.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Role")]
pub struct RawRole {
    /// The role's description (absent means empty).
    pub description: Option<String>,
    /// The managed spaces (local names) the role is kept in, or the word `all` (every managed
    /// space).
    #[schemars(schema_with = "role_spaces_schema")]
    pub spaces: serde_json::Value,
    /// Contentful's `permissions`: a section (`ContentModel`, `Settings`, `ContentDelivery`,
    /// `Environments`, `EnvironmentAliases`, `Tags`, ...) → a list of actions, or `all`.
    #[serde(default)]
    #[schemars(schema_with = "role_permissions_schema")]
    pub permissions: serde_json::Map<String, serde_json::Value>,
    /// Contentful's `policies`: `{effect: allow|deny, actions: [...] or all, constraint: {...}}`.
    /// Every other field of a policy is kept verbatim.
    #[serde(default)]
    #[schemars(schema_with = "role_policies_schema")]
    pub policies: Vec<serde_json::Value>,
    /// Any other top-level field of the role body, sent verbatim.
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `include`: one glob pattern or a list of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawInclude {
    /// One pattern.
    One(String),
    /// Several patterns.
    Many(Vec<String>),
}

/// A file included by the root access file (`include:`): more teams and users of the same
/// organization. Organization-wide keys stay in the root file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "contentful-access included file")]
pub struct RawIncluded {
    /// Declared teams by name, as in the root file.
    #[serde(default)]
    pub teams: BTreeMap<String, Option<RawTeam>>,
    /// Declared users by email, as in the root file.
    #[serde(default)]
    #[schemars(schema_with = "users_schema")]
    pub users: BTreeMap<String, Option<RawUser>>,
}

/// How far the tool may go.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// `true`: people and teams this file does not declare (and undeclared members of declared
    /// teams) are removed. `false` (default): they are reported as unmanaged and never changed.
    #[serde(default)]
    pub prune: bool,
    /// A plan removing more than this is refused: a count (`5`) or a percentage of current
    /// organization members (`10%`, `2.5%`). Default `10%`.
    #[serde(default)]
    #[schemars(schema_with = "max_removals_schema")]
    pub max_removals: Option<RawMaxRemovals>,
    /// Principals never changed or removed by this tool, whatever the file says: emails (users) or
    /// team names. They need not be declared.
    #[serde(default)]
    #[schemars(schema_with = "principals_schema")]
    pub protected: Vec<String>,
    /// Live principals this file does not manage at all, not even reported: emails (users) or
    /// team names. A declared user cannot also be ignored.
    #[serde(default)]
    #[schemars(schema_with = "principals_schema")]
    pub ignore: Vec<String>,
    /// `true` (default): a declared user's pending invitation older than 7 days (Contentful
    /// invitations expire then) is sent again by `plan`/`apply`. `false`: it is only reported.
    pub reinvite_expired: Option<bool>,
    /// Who invites and removes organization members: `file` (default, this tool) or
    /// `identity_provider` (SSO/SCIM provisions members; the tool never invites or removes them,
    /// and manages only org roles, teams and space access).
    pub org_membership: Option<RawOrgMembership>,
    /// `true`: custom roles in managed spaces that the file does not declare under `roles` are
    /// deleted (a role still assigned to someone the file does not manage is refused). `false`
    /// (default): they are reported as unmanaged and never changed.
    pub prune_roles: Option<bool>,
}

/// `policy.org_membership`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OrgMembership")]
pub enum RawOrgMembership {
    /// This tool invites declared users and removes expired (or, with prune, undeclared) ones.
    File,
    /// An identity provider (SCIM) provisions and removes members; this tool never does.
    IdentityProvider,
}

/// `max_removals`: a count or a percentage.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawMaxRemovals {
    /// At most this many removals.
    Count(u32),
    /// `N%` of current organization members.
    Percent(String),
}

/// A declared team.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Team")]
pub struct RawTeam {
    /// The team's description (absent means empty).
    pub description: Option<String>,
    /// The team's access in managed spaces: a local space name → a list of role names, or the
    /// word `admin`.
    #[serde(default)]
    #[schemars(schema_with = "grants_schema")]
    pub spaces: BTreeMap<String, RawAccess>,
    /// Who decides the members: `file` (default: the users that list the team) or
    /// `identity_provider` (SCIM maps a group to this team; its members are never added or
    /// removed by this tool, and users may not list it). Its description and space access are
    /// still managed.
    pub managed_by: Option<RawOrgMembership>,
}

/// A declared user.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "User")]
pub struct RawUser {
    /// First and last name, used for the invitation (`Jane van Smith`: first `Jane van`, last
    /// `Smith`).
    pub name: Option<String>,
    /// The organization role. Default `member`.
    pub org_role: Option<RawOrgRole>,
    /// Declared teams the user belongs to: a team name, or `{team: NAME, expires: DATE}` for a
    /// membership that ends.
    #[serde(default)]
    #[schemars(schema_with = "team_refs_schema")]
    pub teams: Vec<RawTeamRef>,
    /// The user's direct access in managed spaces: a local space name → a list of role names, or
    /// the word `admin`, or `{access: ..., expires: DATE}` for access that ends.
    #[serde(default)]
    #[schemars(schema_with = "user_grants_schema")]
    pub spaces: BTreeMap<String, RawUserAccess>,
    /// When the user's whole membership of the organization ends: a date (`2027-01-31`, the end
    /// of that day UTC) or an RFC 3339 time. After it, `plan` removes the user.
    #[serde(default)]
    #[schemars(schema_with = "expires_schema")]
    pub expires: Option<String>,
}

/// An entry of a user's `teams`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTeamRef {
    /// A team name.
    Name(String),
    /// A team membership that ends.
    Expiring {
        /// The team name.
        team: String,
        /// When the membership ends.
        expires: Option<String>,
    },
}

/// A user's access to one space, possibly ending.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawUserAccess {
    /// Role names or `admin`.
    Access(RawAccess),
    /// Access that ends.
    Expiring {
        /// Role names or `admin`.
        access: RawAccess,
        /// When the access ends.
        expires: Option<String>,
    },
}

/// An organization role.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "OrgRole")]
pub enum RawOrgRole {
    /// Everything an admin can, plus billing and ownership.
    Owner,
    /// Manages users, teams and spaces.
    Admin,
    /// A member who can also create spaces.
    Developer,
    /// Can be given access to spaces (the default).
    Member,
}

/// Access to one space: role names, or the word `admin`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawAccess {
    /// The word `admin`.
    Word(String),
    /// Role names.
    Roles(Vec<String>),
}

fn role_spaces_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "oneOf": [
            { "description": "Every managed space.", "const": "all" },
            {
                "description": "Managed spaces by local name.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": true,
                "items": { "type": "string", "minLength": 1 }
            }
        ]
    })
}

fn role_permissions_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                { "const": "all" },
                { "type": "array", "uniqueItems": true, "items": { "type": "string" } }
            ]
        }
    })
}

fn role_policies_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["effect", "actions"],
            "properties": {
                "effect": { "enum": ROLE_POLICY_EFFECTS },
                "actions": {
                    "oneOf": [
                        { "const": "all" },
                        { "type": "array", "minItems": 1, "items": { "enum": ROLE_POLICY_ACTIONS } }
                    ]
                },
                "constraint": { "type": "object" }
            }
        }
    })
}

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Format version of this file. Only `1` exists.",
        "type": "integer",
        "enum": [1]
    })
}

fn contentful_id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The Contentful organization id (Organization settings → Organization information).",
        "type": "string",
        "pattern": CONTENTFUL_ID_PATTERN
    })
}

fn spaces_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1 },
        "additionalProperties": {
            "description": "The Contentful space id.",
            "type": "string",
            "pattern": CONTENTFUL_ID_PATTERN
        }
    })
}

fn users_schema(generator: &mut SchemaGenerator) -> Schema {
    let user = generator.subschema_for::<Option<RawUser>>();
    json_schema!({
        "type": "object",
        "propertyNames": { "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" },
        "additionalProperties": user
    })
}

fn max_removals_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "oneOf": [
            { "description": "At most this many removals.", "type": "integer", "minimum": 0 },
            {
                "description": "At most this percentage of current organization members, e.g. `10%` or `2.5%`.",
                "type": "string",
                "pattern": PERCENT_PATTERN
            }
        ]
    })
}

fn principals_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "uniqueItems": true,
        "items": {
            "description": "An email (a user) or a team name.",
            "type": "string",
            "minLength": 1
        }
    })
}

/// The pattern of an `expires` date (`2027-01-31`); RFC 3339 times use the `date-time` format.
const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

fn expires_value() -> serde_json::Value {
    serde_json::json!({
        "description": "A date (`2027-01-31`: the access holds through the end of that day, UTC) or an RFC 3339 time (`2027-01-31T18:00:00Z`). After it, `plan` removes the access with the reason \"expired on …\".",
        "oneOf": [
            { "type": "string", "pattern": DATE_PATTERN },
            { "type": "string", "format": "date-time" }
        ]
    })
}

fn expires_schema(_: &mut SchemaGenerator) -> Schema {
    Schema::try_from(expires_value()).unwrap_or_default()
}

fn team_refs_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "uniqueItems": true,
        "items": {
            "oneOf": [
                { "description": "A team declared under `teams`.", "type": "string", "minLength": 1 },
                {
                    "description": "A team membership that ends.",
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["team"],
                    "properties": {
                        "team": { "description": "A team declared under `teams`.", "type": "string", "minLength": 1 },
                        "expires": expires_value()
                    }
                }
            ]
        }
    })
}

fn access_value() -> serde_json::Value {
    serde_json::json!({
        "oneOf": [
            { "description": "Space admin (holds every permission in the space).", "const": "admin" },
            {
                "description": "Role names in the space, e.g. `[Editor, Translator]`; resolved against the space's roles at plan time.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": true,
                "items": { "type": "string", "minLength": 1, "not": { "const": "admin" } }
            }
        ]
    })
}

fn user_grants_schema(_: &mut SchemaGenerator) -> Schema {
    let mut access = access_value();
    if let Some(options) = access.get_mut("oneOf").and_then(|o| o.as_array_mut()) {
        options.push(serde_json::json!({
            "description": "Access that ends: `{access: [Editor], expires: 2027-01-31}`.",
            "type": "object",
            "additionalProperties": false,
            "required": ["access"],
            "properties": { "access": access_value(), "expires": expires_value() }
        }));
    }
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1 },
        "additionalProperties": access
    })
}

fn grants_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1 },
        "additionalProperties": {
            "oneOf": [
                { "description": "Space admin (holds every permission in the space).", "const": "admin" },
                {
                    "description": "Role names in the space, e.g. `[Editor, Translator]`; resolved against the space's roles at plan time.",
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": true,
                    "items": { "type": "string", "minLength": 1, "not": { "const": "admin" } }
                }
            ]
        }
    })
}

/// The JSON Schema (draft-07) of the access file.
pub(crate) fn schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<RawConfig>().to_value()
}

/// The JSON Schema of a file the root file includes.
pub(crate) fn included_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<RawIncluded>().to_value()
}
