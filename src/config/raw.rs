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
];
/// Keys accepted under `policy`.
pub(crate) const POLICY_KEYS: &[&str] = &["prune", "max_removals", "protected", "ignore"];
/// Keys accepted in a team.
pub(crate) const TEAM_KEYS: &[&str] = &["description", "spaces"];
/// Keys accepted in a user.
pub(crate) const USER_KEYS: &[&str] = &["name", "org_role", "teams", "spaces"];

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
    /// Declared teams the user belongs to.
    #[serde(default)]
    #[schemars(schema_with = "team_refs_schema")]
    pub teams: Vec<String>,
    /// The user's direct access in managed spaces: a local space name → a list of role names, or
    /// the word `admin`.
    #[serde(default)]
    #[schemars(schema_with = "grants_schema")]
    pub spaces: BTreeMap<String, RawAccess>,
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

fn team_refs_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "uniqueItems": true,
        "items": { "description": "A team declared under `teams`.", "type": "string", "minLength": 1 }
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
