//! Contentful's JSON as it arrives (wire types) and its conversion into the domain types of
//! [`crate::model`]. Only this module knows the JSON shapes; the rest of the crate sees `Live*`.
//!
//! Reading is lenient where the API is known to vary: the user link of a space membership is read
//! from `sys.user` or the deprecated top-level `user`; a missing `sys.version` reads as 0; a team's
//! `description: null` reads as empty; timestamps that do not parse read as unknown.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::model::{
    Email, LiveAccessToken, LiveOrgMembership, LiveRole, LiveSpace, LiveSpaceMembership, LiveTeam,
    LiveTeamMembership, LiveTeamSpaceMembership, LiveUser, MembershipStatus, ObjectMeta, OrgRole,
    RoleDefinition,
};

/// `{"sys":{"type":"Link","linkType":…,"id":…}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Link {
    pub sys: LinkSys,
}

/// The `sys` of a link.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LinkSys {
    pub id: String,
}

/// The `sys` block of any object; every field the access endpoints use, all optional except `id`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sys {
    pub id: String,
    /// `sys.type` (read only where the type matters: tokens).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub updated_by: Option<Link>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub last_active_at: Option<String>,
    #[serde(default)]
    pub user: Option<Link>,
    #[serde(default)]
    pub team: Option<Link>,
    #[serde(default)]
    pub space: Option<Link>,
    #[serde(default)]
    pub organization_membership: Option<Link>,
    #[serde(default)]
    pub redacted_value: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
}

impl Sys {
    pub fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            id: self.id.clone(),
            version: self.version.unwrap_or(0),
            created_at: parse_time(self.created_at.as_deref()),
            updated_at: parse_time(self.updated_at.as_deref()),
            updated_by: self.updated_by.as_ref().map(|l| l.sys.id.clone()),
        }
    }
}

fn parse_time(raw: Option<&str>) -> Option<DateTime<Utc>> {
    raw.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A collection page: `{"sys":{"type":"Array"},"total","skip","limit","items","includes"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Collection<T> {
    #[serde(default)]
    pub total: Option<u64>,
    pub items: Vec<T>,
    #[serde(default)]
    pub includes: Includes,
}

/// Linked objects returned by `include=…`, keyed by type.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Includes {
    #[serde(rename = "User", default)]
    pub user: Vec<User>,
}

/// Contentful's error document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    pub sys: ErrorSys,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Option<serde_json::Value>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// `sys` of an error document.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorSys {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub id: String,
}

/// A user (from `includes.User` or `/users/me`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    pub sys: Sys,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub activated: Option<bool>,
}

impl User {
    /// The domain user, or `None` when the API did not give an email (the member view).
    pub fn into_live(self) -> Option<LiveUser> {
        let email = Email::new(self.email.as_deref()?);
        Some(LiveUser {
            id: self.sys.id,
            email,
            first_name: self.first_name,
            last_name: self.last_name,
            activated: self.activated.unwrap_or(false),
        })
    }
}

/// An organization membership.
#[derive(Debug, Deserialize)]
pub(crate) struct OrgMembership {
    pub sys: Sys,
    pub role: String,
    /// Deprecated location of the user link.
    #[serde(default)]
    pub user: Option<Link>,
}

impl OrgMembership {
    pub fn into_live(self) -> Result<LiveOrgMembership, String> {
        let role = OrgRole::parse(&self.role).ok_or_else(|| {
            format!(
                "organization membership {} has unknown role {:?}",
                self.sys.id, self.role
            )
        })?;
        let user_id = user_link(&self.sys, self.user.as_ref())
            .ok_or_else(|| format!("organization membership {} has no user link", self.sys.id))?;
        let status = match self.sys.status.as_deref() {
            Some("pending") => MembershipStatus::Pending,
            _ => MembershipStatus::Active,
        };
        Ok(LiveOrgMembership {
            meta: self.sys.meta(),
            user_id,
            role,
            status,
            last_active_at: parse_time(self.sys.last_active_at.as_deref()),
        })
    }
}

fn user_link(sys: &Sys, top_level: Option<&Link>) -> Option<String> {
    sys.user.as_ref().or(top_level).map(|l| l.sys.id.clone())
}

/// A team.
#[derive(Debug, Deserialize)]
pub(crate) struct Team {
    pub sys: Sys,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl Team {
    pub fn into_live(self) -> LiveTeam {
        LiveTeam {
            meta: self.sys.meta(),
            name: self.name,
            description: self.description.unwrap_or_default(),
        }
    }
}

/// A team membership.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamMembership {
    pub sys: Sys,
    #[serde(default)]
    pub organization_membership_id: Option<String>,
}

impl TeamMembership {
    pub fn into_live(self) -> Result<LiveTeamMembership, String> {
        let team_id = self
            .sys
            .team
            .as_ref()
            .map(|l| l.sys.id.clone())
            .ok_or_else(|| format!("team membership {} has no team link", self.sys.id))?;
        let org_membership_id = self
            .sys
            .organization_membership
            .as_ref()
            .map(|l| l.sys.id.clone())
            .or(self.organization_membership_id)
            .ok_or_else(|| {
                format!(
                    "team membership {} has no organization membership link",
                    self.sys.id
                )
            })?;
        Ok(LiveTeamMembership {
            meta: self.sys.meta(),
            team_id,
            org_membership_id,
        })
    }
}

/// A team space membership.
#[derive(Debug, Deserialize)]
pub(crate) struct TeamSpaceMembership {
    pub sys: Sys,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub roles: Vec<Link>,
}

impl TeamSpaceMembership {
    pub fn into_live(self) -> Result<LiveTeamSpaceMembership, String> {
        let team_id = link_id(&self.sys.team)
            .ok_or_else(|| format!("team space membership {} has no team link", self.sys.id))?;
        let space_id = link_id(&self.sys.space)
            .ok_or_else(|| format!("team space membership {} has no space link", self.sys.id))?;
        Ok(LiveTeamSpaceMembership {
            meta: self.sys.meta(),
            team_id,
            space_id,
            admin: self.admin,
            role_ids: role_ids(self.admin, &self.roles),
        })
    }
}

fn link_id(link: &Option<Link>) -> Option<String> {
    link.as_ref().map(|l| l.sys.id.clone())
}

/// Role ids of a membership; empty for admins (the API clears roles when `admin` is true).
fn role_ids(admin: bool, roles: &[Link]) -> BTreeSet<String> {
    if admin {
        return BTreeSet::new();
    }
    roles.iter().map(|l| l.sys.id.clone()).collect()
}

/// A user's space membership.
#[derive(Debug, Deserialize)]
pub(crate) struct SpaceMembership {
    pub sys: Sys,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub roles: Vec<Link>,
    /// Deprecated location of the user link.
    #[serde(default)]
    pub user: Option<Link>,
}

impl SpaceMembership {
    /// The domain membership; `space_hint` is the space of the request for per-space reads whose
    /// items lack `sys.space`.
    pub fn into_live(self, space_hint: Option<&str>) -> Result<LiveSpaceMembership, String> {
        let space_id = link_id(&self.sys.space)
            .or_else(|| space_hint.map(str::to_string))
            .ok_or_else(|| format!("space membership {} has no space link", self.sys.id))?;
        let user_id = user_link(&self.sys, self.user.as_ref())
            .ok_or_else(|| format!("space membership {} has no user link", self.sys.id))?;
        Ok(LiveSpaceMembership {
            meta: self.sys.meta(),
            space_id,
            user_id,
            admin: self.admin,
            role_ids: role_ids(self.admin, &self.roles),
        })
    }
}

/// A space role: `sys` and `name`, and every other field kept verbatim as its definition.
#[derive(Debug, Deserialize)]
pub(crate) struct Role {
    pub sys: Sys,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub policies: Vec<serde_json::Value>,
    /// Fields this tool does not know, kept so nothing is dropped on a round trip.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Role {
    /// The id of the role's space (`sys.space`), as the organization-wide roles read gives it.
    pub fn space_id(&self) -> Option<String> {
        link_id(&self.sys.space)
    }

    pub fn into_live(self) -> LiveRole {
        let meta = self.sys.meta();
        LiveRole {
            id: meta.id,
            name: self.name,
            version: meta.version,
            updated_at: meta.updated_at,
            updated_by: meta.updated_by,
            definition: RoleDefinition {
                description: self.description.unwrap_or_default(),
                permissions: self.permissions,
                policies: self.policies,
                other: self.other,
            },
        }
    }
}

/// An organization (`GET /organizations`).
#[derive(Debug, Deserialize)]
pub(crate) struct Organization {
    pub sys: Sys,
    #[serde(default)]
    pub name: String,
}

/// A space.
#[derive(Debug, Deserialize)]
pub(crate) struct Space {
    pub sys: Sys,
    pub name: String,
}

impl Space {
    pub fn into_live(self) -> LiveSpace {
        LiveSpace {
            id: self.sys.id,
            name: self.name,
            roles: Default::default(),
        }
    }
}

/// A personal access token in the admin view.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessToken {
    pub sys: Sys,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
}

/// The redacted value as people recognise it: Contentful's admin view sends a personal access
/// token's last 4 characters (`TmTU`, CMA docs), shown as `CFPAT-…TmTU` (personal access tokens
/// start with `CFPAT-`); any other form is kept as sent.
fn shown_redacted(kind: Option<&str>, v: &str) -> String {
    let pat = kind.is_none_or(|k| k == "PersonalAccessToken");
    if pat && !v.starts_with("CFPAT-") && v.chars().count() <= 4 {
        format!("CFPAT-…{v}")
    } else {
        v.to_string()
    }
}

impl AccessToken {
    pub fn into_live(self) -> LiveAccessToken {
        LiveAccessToken {
            user_id: link_id(&self.sys.user).unwrap_or_default(),
            redacted_value: self
                .sys
                .redacted_value
                .as_deref()
                .map(|v| shown_redacted(self.sys.kind.as_deref(), v)),
            revoked_at: parse_time(self.revoked_at.as_deref()),
            expires_at: parse_time(self.sys.expires_at.as_deref()),
            last_used_at: parse_time(self.sys.last_used_at.as_deref()),
            id: self.sys.id,
            name: self.name,
        }
    }
}

/// The answer to an invitation.
#[derive(Debug, Deserialize)]
pub(crate) struct Invitation {
    pub sys: Sys,
}

/// Any object, for the `sys` of a write's response.
#[derive(Debug, Deserialize)]
pub(crate) struct AnyObject {
    pub sys: Sys,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Real responses recorded by the official SDKs, copied into the project with their
    /// provenance (tests/recorded/PROVENANCE.md).
    const RECORDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/recorded");

    fn recorded(path: &str) -> String {
        std::fs::read_to_string(format!("{RECORDED}/{path}")).unwrap()
    }

    #[test]
    fn recorded_space_memberships_convert_with_either_user_link_location() {
        let page: Collection<SpaceMembership> = serde_json::from_str(&recorded(
            "contentful-management.java/src/test/resources/space_memberships_fetch_all.json",
        ))
        .unwrap();
        assert!(!page.items.is_empty());
        for m in page.items {
            let live = m.into_live(Some("hint")).unwrap();
            assert!(!live.user_id.is_empty());
            if live.admin {
                assert!(live.role_ids.is_empty());
            }
        }
        // Current docs place the link in sys.user; the deprecated top-level link is the fallback.
        let m: SpaceMembership = serde_json::from_str(
            r#"{"admin":false,"roles":[{"sys":{"type":"Link","linkType":"Role","id":"r1"}}],
                "sys":{"type":"SpaceMembership","id":"sm1","version":3,
                       "space":{"sys":{"type":"Link","linkType":"Space","id":"s1"}},
                       "user":{"sys":{"type":"Link","linkType":"User","id":"u-new"}}},
                "user":{"sys":{"type":"Link","linkType":"User","id":"u-old"}}}"#,
        )
        .unwrap();
        let live = m.into_live(None).unwrap();
        assert_eq!(live.user_id, "u-new");
        assert_eq!(live.space_id, "s1");
        assert_eq!(live.meta.version, 3);
        assert_eq!(live.role_ids, BTreeSet::from(["r1".to_string()]));
    }

    #[test]
    fn admin_membership_with_roles_reads_as_admin_without_roles() {
        let m: TeamSpaceMembership = serde_json::from_str(
            r#"{"admin":true,"roles":[{"sys":{"type":"Link","linkType":"Role","id":"r1"}}],
                "sys":{"id":"t1","version":0,
                       "team":{"sys":{"type":"Link","linkType":"Team","id":"team"}},
                       "space":{"sys":{"type":"Link","linkType":"Space","id":"sp"}}}}"#,
        )
        .unwrap();
        let live = m.into_live().unwrap();
        assert!(live.admin);
        assert!(live.role_ids.is_empty());
    }

    #[test]
    fn org_membership_reads_pending_status_role_and_user() {
        let m: OrgMembership = serde_json::from_str(
            r#"{"role":"developer","sys":{"type":"OrganizationMembership","id":"om1","version":2,
                "status":"pending","createdAt":"2026-02-08T20:01:03.000Z","lastActiveAt":null,
                "user":{"sys":{"type":"Link","linkType":"User","id":"u1"}}}}"#,
        )
        .unwrap();
        let live = m.into_live().unwrap();
        assert_eq!(live.role, OrgRole::Developer);
        assert_eq!(live.status, MembershipStatus::Pending);
        assert_eq!(live.user_id, "u1");
        assert_eq!(live.meta.version, 2);
        assert!(live.meta.created_at.is_some());
        assert!(live.last_active_at.is_none());

        let bad: OrgMembership = serde_json::from_str(
            r#"{"role":"superuser","sys":{"id":"om2","user":{"sys":{"id":"u"}}}}"#,
        )
        .unwrap();
        assert!(bad.into_live().unwrap_err().contains("superuser"));
    }

    #[test]
    fn team_description_null_reads_as_empty() {
        let t: Team = serde_json::from_str(
            r#"{"name":"Editors","description":null,"sys":{"id":"t","version":4}}"#,
        )
        .unwrap();
        let live = t.into_live();
        assert_eq!(live.description, "");
        assert_eq!(live.meta.version, 4);
    }

    #[test]
    fn recorded_roles_and_users_convert() {
        let page: Collection<Role> = serde_json::from_str(&recorded(
            "contentful-management.java/src/test/resources/roles_get_all.json",
        ))
        .unwrap();
        assert!(page.total.unwrap_or(0) >= page.items.len() as u64);
        assert!(
            page.items
                .into_iter()
                .all(|r| !r.into_live().name.is_empty())
        );

        let me: User = serde_json::from_str(&recorded(
            "contentful-management.java/src/test/resources/users_get_me.json",
        ))
        .unwrap();
        let live = me.into_live().unwrap();
        assert!(live.email.as_str().contains('@'));
    }

    #[test]
    fn pending_invitee_user_reads_with_null_names() {
        let u: User = serde_json::from_str(
            r#"{"firstName":null,"lastName":null,"email":"Rafal.Niski@External.contentful.com",
                "activated":false,"signInCount":0,"confirmed":true,"2faEnabled":false,
                "sys":{"type":"User","id":"1FmJx9iI6JyQwl8DAhDq1L","version":0}}"#,
        )
        .unwrap();
        let live = u.into_live().unwrap();
        assert_eq!(live.email.as_str(), "rafal.niski@external.contentful.com");
        assert!(!live.activated);
        assert!(live.first_name.is_none());
    }

    #[test]
    fn recorded_error_documents_parse() {
        let e: ErrorBody = serde_json::from_str(&recorded(
            "contentful-management.java/src/test/resources/error_wrong_type_for_limit.json",
        ))
        .unwrap();
        assert_eq!(e.sys.id, "InvalidQuery");
        assert_eq!(e.sys.kind.as_deref(), Some("Error"));
    }

    /// What the real API may send that the sandbox does not: unknown fields at every level, the
    /// user link only at the top level (older responses) or only in `sys`.
    #[test]
    fn unknown_fields_and_either_user_location_are_tolerated() {
        let m: OrgMembership = serde_json::from_str(
            r#"{"role":"admin","newTopLevel":{"x":[1,2]},"sso":{"lastSignInAt":null},
                "sys":{"type":"OrganizationMembership","id":"om1","version":7,"status":"active",
                       "sso":{"exemptionReasons":[],"isExemptFromRestrictedMode":false},
                       "somethingNew":true},
                "user":{"sys":{"type":"Link","linkType":"User","id":"u-top","extra":1}}}"#,
        )
        .unwrap();
        let live = m.into_live().unwrap();
        assert_eq!(live.user_id, "u-top");
        assert_eq!(live.role, OrgRole::Admin);
        assert_eq!(live.meta.version, 7);
        let t: TeamMembership = serde_json::from_str(
            r#"{"admin":false,"organizationMembershipId":"om1","futureField":"x",
                "sys":{"id":"tm1","version":1,"futureSys":{},
                       "team":{"sys":{"type":"Link","linkType":"Team","id":"team1"}},
                       "organizationMembership":{"sys":{"type":"Link","linkType":"OrganizationMembership","id":"om1"}}}}"#,
        )
        .unwrap();
        assert_eq!(t.into_live().unwrap().team_id, "team1");
    }

    /// The CMA docs' admin view sends a 4-character `redactedValue` with `sys.type`
    /// `PersonalAccessToken`; it reads as `CFPAT-…` + those characters. Older forms are kept.
    #[test]
    fn redacted_token_values_read_in_the_documented_and_the_older_form() {
        let doc: AccessToken = serde_json::from_str(
            r#"{"revokedAt":null,"scopes":["content_management_manage"],
                "sys":{"createdAt":"2025-05-25T08:01:42.000Z","expiresAt":null,"id":"exampletokenid",
                       "lastUsedAt":null,"redactedValue":"TmTU","type":"PersonalAccessToken",
                       "updatedAt":"2025-05-25T08:01:42.000Z",
                       "user":{"sys":{"type":"Link","linkType":"User","id":"u1"}}}}"#,
        )
        .unwrap();
        let live = doc.into_live();
        assert_eq!(live.redacted_value.as_deref(), Some("CFPAT-…TmTU"));
        assert_eq!(live.user_id, "u1");
        assert_eq!(live.name, "", "the admin view example has no name");
        let old: AccessToken = serde_json::from_str(
            r#"{"name":"n","sys":{"id":"t","type":"AccessToken","redactedValue":"CFPAT-…ab12"}}"#,
        )
        .unwrap();
        assert_eq!(
            old.into_live().redacted_value.as_deref(),
            Some("CFPAT-…ab12")
        );
        let other: AccessToken =
            serde_json::from_str(r#"{"sys":{"id":"t","type":"OAuthToken","redactedValue":"zz"}}"#)
                .unwrap();
        assert_eq!(other.into_live().redacted_value.as_deref(), Some("zz"));
    }
}
