//! The JSON each record is served as, field for field as Contentful sends it (checked against
//! recorded real responses in `tests/sandbox/fidelity.rs`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::World;
use super::store::created_at;
use crate::model::MembershipStatus;
use crate::sandbox::seed::{
    SeedAccessToken, SeedInvitation, SeedOrgMembership, SeedRole, SeedSpace, SeedSpaceMembership,
    SeedSys, SeedTeam, SeedTeamMembership, SeedTeamSpaceMembership, SeedUser, default_epoch,
};

pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

/// A record's `sys`: its type, id, version, when and by whom it was created and last updated,
/// plus `more` (its links and the fields only its kind has).
fn sys_json(kind: &str, id: &str, sys: &SeedSys, more: Value) -> Value {
    let mut v = json!({
        "type": kind,
        "id": id,
        "version": sys.version,
        "createdAt": ts(created_at(sys)),
        "updatedAt": ts(sys.updated_at.unwrap_or_else(default_epoch)),
        "createdBy": link("User", sys.created_by.as_deref().unwrap_or_default()),
        "updatedBy": link("User", sys.updated_by.as_deref().unwrap_or_default()),
    });
    if let (Some(o), Value::Object(more)) = (v.as_object_mut(), more) {
        o.extend(more);
    }
    v
}

pub(super) fn link(link_type: &str, id: &str) -> Value {
    json!({"sys": {"type": "Link", "linkType": link_type, "id": id}})
}

impl World {
    pub(super) fn org_json(&self) -> Value {
        json!({
            "name": self.org.name,
            "sys": {
                "type": "Organization",
                "id": self.org.id,
                "version": self.org.sys.version,
                "createdAt": ts(created_at(&self.org.sys)),
                "updatedAt": ts(self.org.sys.updated_at.unwrap_or_else(default_epoch)),
            }
        })
    }

    pub(super) fn user_json(&self, u: &SeedUser) -> Value {
        let mut sys = json!({
            "type": "User",
            "id": u.id,
            "version": u.sys.version,
            "createdAt": ts(created_at(&u.sys)),
            "updatedAt": ts(u.sys.updated_at.unwrap_or_else(default_epoch)),
        });
        if !u.activated
            && let Some(o) = sys.as_object_mut()
        {
            o.insert("organization".into(), link("Organization", &self.org.id));
        }
        json!({
            "firstName": u.first_name,
            "lastName": u.last_name,
            "avatarUrl": format!("https://www.gravatar.com/avatar/{}?s=50&d=mp", u.id),
            "email": u.email,
            "activated": u.activated,
            "signInCount": u.sign_in_count,
            "confirmed": true,
            "2faEnabled": false,
            "sys": sys,
        })
    }

    pub(super) fn om_json(&self, m: &SeedOrgMembership) -> Value {
        json!({
            "role": m.role.as_str(),
            "sys": sys_json(
                "OrganizationMembership",
                &m.id,
                &m.sys,
                json!({
                    "status": status_str(m.status),
                    "lastActiveAt": ts_opt(m.last_active_at),
                    "sso": m.sso.as_ref().map_or(Value::Null, |s| json!({
                        "lastSignInAt": ts_opt(s.last_sign_in_at),
                        "isExemptFromRestrictedMode": s.is_exempt_from_restricted_mode,
                        "exemptionReasons": s.exemption_reasons,
                    })),
                    "user": link("User", &m.user),
                    "organization": link("Organization", &self.org.id),
                }),
            )
        })
    }

    pub(super) fn invitation_json(
        &self,
        inv: &SeedInvitation,
        names: (Option<String>, Option<String>),
    ) -> Value {
        let om = self.oms.get(&inv.org_membership);
        let user = om.and_then(|m| self.users.get(&m.user));
        let accepted = om.is_some_and(|m| m.status == MembershipStatus::Active);
        json!({
            "email": user.map(|u| u.email.clone()),
            "firstName": names.0.or_else(|| user.and_then(|u| u.first_name.clone())),
            "lastName": names.1.or_else(|| user.and_then(|u| u.last_name.clone())),
            "role": om.map(|m| m.role.as_str()),
            "sys": {
                "type": "Invitation",
                "id": inv.id,
                "status": if accepted { "accepted" } else { "open" },
                "organizationMembership": link("OrganizationMembership", &inv.org_membership),
                "organization": link("Organization", &self.org.id),
                "createdAt": ts(created_at(&inv.sys)),
                "updatedAt": ts(inv.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", inv.sys.created_by.as_deref().unwrap_or_default()),
                "user": if accepted { user.map_or(Value::Null, |u| link("User", &u.id)) } else { Value::Null },
                "invitationUrl": format!("https://be.contentful.com/invitations/{}?token=sandbox", inv.id),
            }
        })
    }

    pub(super) fn team_json(&self, t: &SeedTeam) -> Value {
        json!({
            "name": t.name,
            "description": t.description,
            "sys": sys_json(
                "Team",
                &t.id,
                &t.sys,
                json!({
                    "memberCount": self.tms_by_team.len(&t.id),
                    "organization": link("Organization", &self.org.id),
                }),
            )
        })
    }

    /// A team as a list item: without `sys.version` under the seed's
    /// [`crate::sandbox::SeedVariants::team_list_without_version`].
    pub(super) fn team_item_json(&self, t: &SeedTeam) -> Value {
        let mut v = self.team_json(t);
        if self.variants.team_list_without_version
            && let Some(sys) = v.get_mut("sys").and_then(Value::as_object_mut)
        {
            sys.remove("version");
        }
        v
    }

    pub(super) fn tm_json(&self, m: &SeedTeamMembership) -> Value {
        let user = self
            .oms
            .get(&m.org_membership)
            .map(|om| om.user.clone())
            .unwrap_or_default();
        json!({
            "admin": m.admin,
            "organizationMembershipId": m.org_membership,
            "sys": sys_json(
                "TeamMembership",
                &m.id,
                &m.sys,
                json!({
                    "organization": link("Organization", &self.org.id),
                    "organizationMembership": link("OrganizationMembership", &m.org_membership),
                    "team": link("Team", &m.team),
                    "user": link("User", &user),
                }),
            )
        })
    }

    pub(super) fn tsm_json(&self, m: &SeedTeamSpaceMembership) -> Value {
        json!({
            "admin": m.admin,
            "roles": m.roles.iter().map(|r| link("Role", r)).collect::<Vec<_>>(),
            "sys": sys_json(
                "TeamSpaceMembership",
                &m.id,
                &m.sys,
                json!({
                    "team": link("Team", &m.team),
                    "space": link("Space", &m.space),
                }),
            )
        })
    }

    pub(super) fn sm_json(&self, m: &SeedSpaceMembership) -> Value {
        json!({
            "admin": m.admin,
            "sys": sys_json(
                "SpaceMembership",
                &m.id,
                &m.sys,
                json!({
                    "space": link("Space", &m.space),
                    "user": link("User", &m.user),
                }),
            ),
            "user": link("User", &m.user),
            "roles": m.roles.iter().map(|r| link("Role", r)).collect::<Vec<_>>(),
        })
    }

    pub(super) fn space_json(&self, s: &SeedSpace) -> Value {
        json!({
            "name": s.name,
            "sys": sys_json(
                "Space",
                &s.id,
                &s.sys,
                json!({
                    "organization": link("Organization", &self.org.id),
                }),
            )
        })
    }
}

pub(super) fn role_json(r: &SeedRole) -> Value {
    let mut v = json!({
        "name": r.name,
        "description": r.description,
        "policies": r.policies,
        "permissions": r.permissions,
        "sys": sys_json(
            "Role",
            &r.id,
            &r.sys,
            json!({
                "space": link("Space", &r.space),
            }),
        )
    });
    if let Some(o) = v.as_object_mut() {
        for (k, x) in &r.other {
            o.entry(k.clone()).or_insert_with(|| x.clone());
        }
    }
    v
}

/// A personal access token as the admin view (`/organizations/{org}/access_tokens`, with
/// `sys.user`) or its owner (`/users/me/access_tokens`, without) sees it: `sys.type`
/// `PersonalAccessToken` and a 4-character `redactedValue`, the token's last characters (CMA
/// docs, "Get all access tokens (admin view)" and "Get an access token"; a 2017 recording of
/// revoking one). A seed's `redactedValue` in the older `CFPAT-…abcd` form is served as its last
/// four characters.
pub(super) fn token_json(t: &SeedAccessToken, with_user: bool) -> Value {
    let source = t.redacted_value.as_deref().unwrap_or(&t.id);
    let chars: Vec<char> = source.chars().collect();
    let redacted: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    let mut v = json!({
        "name": t.name,
        "scopes": t.scopes,
        "revokedAt": ts_opt(t.revoked_at),
        "sys": {
            "type": "PersonalAccessToken",
            "id": t.id,
            "redactedValue": redacted,
            "expiresAt": ts_opt(t.expires_at),
            "lastUsedAt": ts_opt(t.last_used_at),
            "createdAt": ts(created_at(&t.sys)),
            "updatedAt": ts(t.sys.updated_at.unwrap_or_else(default_epoch)),
        }
    });
    if with_user && let Some(sys) = v.get_mut("sys").and_then(Value::as_object_mut) {
        sys.insert("user".into(), link("User", &t.user));
    }
    v
}

pub(super) fn status_str(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Pending => "pending",
    }
}
