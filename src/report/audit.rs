//! Audit: findings an organization admin should act on, each with the evidence behind it: seats in
//! use (and after the plan, with an access file), inactive members, expired invitations, members
//! with a seat but no space access, managed spaces without an admin, and personal access tokens
//! still active for people the file does not declare or would remove; and custom roles: a role
//! name defined differently in different spaces, and roles no membership uses.
//!
//! With SSO data on the memberships (`sys.sso`), the last sign-in through the identity provider is
//! shown beside `lastActiveAt`, and members exempt from SSO-restricted mode are a finding.
//!
//! With an access file and a window ([`AuditOptions::expiring_within`], `--expiring-within 14d`),
//! it also lists the access the file gives an end to (`expires:`) that ends within the window.
//!
//! The clock is injected ([`AuditOptions::now`]), so a report is reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    DesiredState, Email, ExpiringAccess, ExpiringKind, LiveOrgMembership, LiveSso, LiveState,
    MembershipStatus, OrgRole, Principal,
};
use crate::plan::{OpKind, Plan, Reason, simulate};

use super::email_of;

/// Invitations older than this have expired and must be sent again.
pub const INVITATION_VALID_DAYS: i64 = crate::model::INVITATION_VALID_DAYS;

/// The kinds of finding, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Seats in use: active and pending members (and after the plan, with an access file).
    Seats,
    /// An active member not active for longer than the threshold, or never.
    InactiveMember,
    /// A pending invitation older than 7 days.
    ExpiredInvitation,
    /// A member (active or pending) with no access to any space, directly or through a team.
    SeatWithoutAccess,
    /// A managed space where nobody is space admin.
    SpaceWithoutAdmin,
    /// An active personal access token of a member the file does not declare or would remove.
    UnmanagedToken,
    /// A member exempt from SSO-restricted mode (`sys.sso.isExemptFromRestrictedMode`): they may
    /// sign in without the identity provider.
    SsoExempt,
    /// Access the file gives an end to (`expires:`) that ends within `--expiring-within`, or has
    /// ended and is still held (the plan removes it).
    ExpiringAccess,
    /// A role name whose definition differs between the audited spaces.
    DivergedRole,
    /// A role that no space membership or team space membership uses.
    UnassignedRole,
}

impl FindingKind {
    /// The kind's name as written in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Seats => "seats",
            FindingKind::InactiveMember => "inactive_member",
            FindingKind::ExpiredInvitation => "expired_invitation",
            FindingKind::SeatWithoutAccess => "seat_without_access",
            FindingKind::SpaceWithoutAdmin => "space_without_admin",
            FindingKind::UnmanagedToken => "unmanaged_token",
            FindingKind::SsoExempt => "sso_exempt",
            FindingKind::ExpiringAccess => "expiring_access",
            FindingKind::DivergedRole => "diverged_role",
            FindingKind::UnassignedRole => "unassigned_role",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// Who or what it is about: an email, a space, or `organization`.
    pub subject: String,
    /// One sentence saying what is wrong (or, for seats, the count).
    pub message: String,
    /// The facts it rests on, in words.
    pub evidence: Vec<String>,
    /// The same facts as data.
    pub facts: Facts,
}

/// The facts behind a finding, as data (what [`Finding::evidence`] says in words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Facts {
    /// Seat counts (`seats`).
    Seats {
        /// Seats now.
        now: Seats,
        /// Seats after the plan is applied (with an access file).
        after_apply: Option<Seats>,
    },
    /// An organization member (`inactive_member`, `expired_invitation`, `seat_without_access`).
    Member {
        /// Their organization role.
        org_role: OrgRole,
        /// Accepted or still invited.
        status: MembershipStatus,
        /// `lastActiveAt` (null: never active, or not applicable to the finding).
        last_active_at: Option<DateTime<Utc>>,
        /// When the invitation was sent (pending members).
        invited_at: Option<DateTime<Utc>>,
        /// Their teams, by name (for `seat_without_access`: all of them lack space access).
        teams: Vec<String>,
        /// `sys.sso.lastSignInAt`, the last sign-in through the identity provider (absent when
        /// the organization has no SSO data or the member never signed in that way).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_sign_in_at: Option<DateTime<Utc>>,
    },
    /// A managed space (`space_without_admin`).
    Space {
        /// The Contentful space id.
        space_id: String,
        /// Direct space memberships in it.
        direct_memberships: usize,
        /// Team space memberships in it.
        team_memberships: usize,
        /// Teams with admin access to it that have no members.
        admin_teams_without_members: Vec<String>,
    },
    /// A personal access token (`unmanaged_token`).
    Token {
        /// The token's id.
        token_id: String,
        /// The token's name.
        name: String,
        /// The redacted value Contentful shows admins, if any.
        redacted_value: Option<String>,
        /// When it was last used (null: never).
        last_used_at: Option<DateTime<Utc>>,
        /// When it expires (null: never).
        expires_at: Option<DateTime<Utc>>,
    },
    /// Access the file ends (`expiring_access`).
    Expiring {
        /// What ends: the organization membership, a team membership or a space's access.
        access: ExpiringKind,
        /// `expires` as written in the file (a date, or a time in UTC).
        expires: String,
        /// The first moment the access no longer holds.
        ends_at: DateTime<Utc>,
        /// The moment has passed and the plan removes the access.
        removed_by_plan: bool,
        /// Where `expires` is written: `file:line:column`.
        declared_at: String,
    },
    /// A role name's definitions (`diverged_role`): the spaces sharing each distinct definition.
    RoleDefinitions {
        /// The role's name.
        name: String,
        /// One list of spaces per distinct definition (by normal form), in the order first seen.
        definitions: Vec<Vec<String>>,
    },
    /// A role used by nobody (`unassigned_role`).
    UnassignedRole {
        /// The role's name.
        name: String,
        /// The spaces where a role of that name exists and nobody has it.
        spaces: Vec<String>,
    },
}

/// Seat counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seats {
    /// Accepted memberships.
    pub active: usize,
    /// Pending invitations.
    pub pending: usize,
}

impl Seats {
    /// Counts the seats of `live`.
    pub fn of(live: &LiveState) -> Seats {
        let active = live
            .org_memberships
            .values()
            .filter(|m| m.status == MembershipStatus::Active)
            .count();
        Seats {
            active,
            pending: live.org_memberships.len() - active,
        }
    }

    /// Active plus pending.
    pub fn total(&self) -> usize {
        self.active + self.pending
    }
}

/// The audit of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The organization id.
    pub organization: String,
    /// The time the audit was made for (injected).
    pub now: DateTime<Utc>,
    /// The inactivity threshold in days.
    pub inactive_days: u32,
    /// Seats now.
    pub seats: Seats,
    /// Seats after the plan is applied (with an access file).
    pub seats_after_apply: Option<Seats>,
    /// Every finding, by kind then subject.
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// The number of findings that ask for action (everything but the seat count).
    pub fn actionable(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.kind != FindingKind::Seats)
            .count()
    }
}

/// Inputs of [`audit`] that are not states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOptions {
    /// "Now" (injected; the library never reads the clock).
    pub now: DateTime<Utc>,
    /// Members not active for more than this many days are reported (default 90).
    pub inactive_days: u32,
    /// With an access file: list the access that ends within this window from `now`
    /// (`--expiring-within`); `None` lists none.
    pub expiring_within: Option<ExpiringWindow>,
}

/// How far ahead `audit --expiring-within` looks: a whole number of hours, days or weeks
/// (`36h`, `14d`, `2w`).
///
/// Hand-written rather than a general duration crate (humantime): access windows are counted in
/// hours, days and weeks, and those crates also accept months and years of average length
/// (`1M` = 30.44 days), which would make "what expires within" a matter of rounding.
///
/// ```
/// use contentful_access::report::audit::ExpiringWindow;
///
/// let w: ExpiringWindow = "2w".parse().unwrap();
/// assert_eq!(w.duration(), chrono::Duration::days(14));
/// assert_eq!(w.to_string(), "2w");
/// assert!("14".parse::<ExpiringWindow>().is_err());
/// assert!("1M".parse::<ExpiringWindow>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiringWindow {
    count: u32,
    unit: WindowUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowUnit {
    Hours,
    Days,
    Weeks,
}

impl ExpiringWindow {
    /// The window's length.
    pub fn duration(self) -> Duration {
        let n = i64::from(self.count);
        match self.unit {
            WindowUnit::Hours => Duration::hours(n),
            WindowUnit::Days => Duration::days(n),
            WindowUnit::Weeks => Duration::weeks(n),
        }
    }
}

/// Why a window such as `14d` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a window such as 36h, 14d or 2w (a whole number of hours, days or weeks)")]
pub struct WindowError(String);

impl std::str::FromStr for ExpiringWindow {
    type Err = WindowError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || WindowError(s.to_string());
        let (digits, unit) = t.split_at(t.len().saturating_sub(1));
        let unit = match unit {
            "h" => WindowUnit::Hours,
            "d" => WindowUnit::Days,
            "w" => WindowUnit::Weeks,
            _ => return Err(bad()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        // Up to 100 years: beyond that the window means "everything" and chrono's range is near.
        let count: u32 = digits.parse().map_err(|_| bad())?;
        let w = ExpiringWindow { count, unit };
        if w.duration() > Duration::days(36_600) {
            return Err(bad());
        }
        Ok(w)
    }
}

impl fmt::Display for ExpiringWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            WindowUnit::Hours => 'h',
            WindowUnit::Days => 'd',
            WindowUnit::Weeks => 'w',
        };
        write!(f, "{}{unit}", self.count)
    }
}

/// Audits `live`. With an access file (`desired` and the `plan` built from it), the managed spaces
/// are the file's, seats are also counted after the plan, and personal access tokens of undeclared
/// or removed members are reported; without one, every space of the organization is checked.
/// `live.access_tokens` must have been read for token findings.
pub fn audit(
    live: &LiveState,
    file: Option<(&DesiredState, &Plan)>,
    opts: &AuditOptions,
) -> AuditReport {
    let emails: BTreeMap<&str, Email> = live
        .users
        .values()
        .map(|u| (u.id.as_str(), u.email.clone()))
        .collect();
    let email = |user_id: &str| {
        emails
            .get(user_id)
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("user {user_id}"))
    };
    let mut findings = Vec::new();

    let seats = Seats::of(live);
    let seats_after = file.map(|(_, plan)| Seats::of(&simulate(live, plan)));
    let mut evidence = vec![
        plural(seats.active, "active member", "active members"),
        plural(seats.pending, "pending invitation", "pending invitations"),
    ];
    let mut message = format!("{} seats in use", seats.total());
    if let Some(after) = seats_after {
        message.push_str(&format!(", {} after apply", after.total()));
        evidence.push(format!(
            "after apply: {} active, {} pending",
            after.active, after.pending
        ));
    }
    findings.push(Finding {
        kind: FindingKind::Seats,
        subject: "organization".to_string(),
        message,
        evidence,
        facts: Facts::Seats {
            now: seats,
            after_apply: seats_after,
        },
    });

    // Inactive members and expired invitations.
    let threshold = opts.now - Duration::days(i64::from(opts.inactive_days));
    let mut inactive = Vec::new();
    let mut expired = Vec::new();
    for m in live.org_memberships.values() {
        let who = email(&m.user_id);
        let role = format!("org role: {}", m.role);
        let member = |last_active_at, invited_at| Facts::Member {
            org_role: m.role,
            status: m.status,
            last_active_at,
            invited_at,
            teams: Vec::new(),
            last_sign_in_at: last_sign_in(m),
        };
        match m.status {
            MembershipStatus::Active => match m.last_active_at {
                None => inactive.push(Finding {
                    kind: FindingKind::InactiveMember,
                    subject: who,
                    message: "never active".to_string(),
                    evidence: with_sso(vec!["lastActiveAt: never".to_string()], m, role),
                    facts: member(None, None),
                }),
                Some(at) if at < threshold => inactive.push(Finding {
                    kind: FindingKind::InactiveMember,
                    subject: who,
                    message: format!(
                        "not active for {} days (more than {})",
                        (opts.now - at).num_days(),
                        opts.inactive_days
                    ),
                    evidence: with_sso(vec![format!("lastActiveAt: {}", rfc3339(&at))], m, role),
                    facts: member(Some(at), None),
                }),
                Some(_) => {}
            },
            MembershipStatus::Pending => {
                if let Some(at) = m.meta.created_at
                    && opts.now - at > Duration::days(INVITATION_VALID_DAYS)
                {
                    expired.push(Finding {
                        kind: FindingKind::ExpiredInvitation,
                        subject: who,
                        message: format!(
                            "invited {} days ago; the invitation has expired and must be sent again",
                            (opts.now - at).num_days()
                        ),
                        evidence: vec![format!("invited: {}", rfc3339(&at)), role],
                        facts: member(None, Some(at)),
                    });
                }
            }
        }
    }
    sorted_into(&mut findings, inactive);
    sorted_into(&mut findings, expired);

    // Seats without any space access.
    let teams_with_access: BTreeSet<&str> = live
        .team_space_memberships
        .values()
        .map(|t| t.team_id.as_str())
        .collect();
    let users_with_access: BTreeSet<&str> = live
        .space_memberships
        .values()
        .map(|s| s.user_id.as_str())
        .collect();
    let mut teams_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for tm in live.team_memberships.values() {
        teams_of
            .entry(tm.org_membership_id.as_str())
            .or_default()
            .push(tm.team_id.as_str());
    }
    let team_name = |id: &str| {
        live.teams
            .get(id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut idle = Vec::new();
    for m in live.org_memberships.values() {
        let teams = teams_of
            .get(m.meta.id.as_str())
            .cloned()
            .unwrap_or_default();
        let via_team = teams.iter().any(|t| teams_with_access.contains(t));
        if via_team || users_with_access.contains(m.user_id.as_str()) {
            continue;
        }
        let mut team_names: Vec<String> = teams.iter().map(|t| team_name(t)).collect();
        team_names.sort();
        let status = match m.status {
            MembershipStatus::Active => "active",
            MembershipStatus::Pending => "pending",
        };
        idle.push(Finding {
            kind: FindingKind::SeatWithoutAccess,
            subject: email(&m.user_id),
            message: "holds a seat but has no access to any space, directly or through a team"
                .to_string(),
            evidence: vec![
                format!("org role: {} ({status})", m.role),
                "space memberships: none".to_string(),
                if team_names.is_empty() {
                    "teams: none".to_string()
                } else {
                    format!("teams without space access: {}", team_names.join(", "))
                },
            ],
            facts: Facts::Member {
                org_role: m.role,
                status: m.status,
                last_active_at: m.last_active_at,
                invited_at: match m.status {
                    MembershipStatus::Pending => m.meta.created_at,
                    MembershipStatus::Active => None,
                },
                teams: team_names.clone(),
                last_sign_in_at: last_sign_in(m),
            },
        });
    }
    sorted_into(&mut findings, idle);

    // Managed spaces without an admin.
    let managed: Vec<(String, String)> = match file {
        Some((desired, _)) => desired
            .spaces
            .iter()
            .map(|(n, s)| (n.clone(), s.id.clone()))
            .collect(),
        None => live
            .spaces
            .values()
            .map(|s| (s.name.clone(), s.id.clone()))
            .collect(),
    };
    let members: BTreeSet<&str> = live
        .org_memberships
        .values()
        .map(|m| m.user_id.as_str())
        .collect();
    let teams_with_members: BTreeSet<&str> = live
        .team_memberships
        .values()
        .map(|t| t.team_id.as_str())
        .collect();
    for (name, id) in &managed {
        if !live.spaces.contains_key(id) {
            continue;
        }
        let sms: Vec<_> = live
            .space_memberships
            .values()
            .filter(|s| &s.space_id == id)
            .collect();
        let tsms: Vec<_> = live
            .team_space_memberships
            .values()
            .filter(|t| &t.space_id == id)
            .collect();
        let direct_admin = sms
            .iter()
            .any(|s| s.admin && members.contains(s.user_id.as_str()));
        let team_admin = tsms
            .iter()
            .any(|t| t.admin && teams_with_members.contains(t.team_id.as_str()));
        if direct_admin || team_admin {
            continue;
        }
        let empty_admin_teams: Vec<String> = tsms
            .iter()
            .filter(|t| t.admin)
            .map(|t| team_name(&t.team_id))
            .collect();
        let mut evidence = vec![
            format!("space id: {id}"),
            format!(
                "{} direct memberships, {} team memberships, none admin",
                sms.len(),
                tsms.len()
            ),
        ];
        if !empty_admin_teams.is_empty() {
            evidence.push(format!(
                "admin teams without members: {}",
                empty_admin_teams.join(", ")
            ));
        }
        findings.push(Finding {
            kind: FindingKind::SpaceWithoutAdmin,
            subject: format!("space {name}"),
            message: "nobody is space admin".to_string(),
            evidence,
            facts: Facts::Space {
                space_id: id.clone(),
                direct_memberships: sms.len(),
                team_memberships: tsms.len(),
                admin_teams_without_members: empty_admin_teams,
            },
        });
    }

    // Active personal access tokens of undeclared or removed members.
    if let Some((desired, plan)) = file {
        let removed: BTreeSet<&Email> = plan
            .operations
            .iter()
            .filter_map(|op| match &op.kind {
                OpKind::RemoveOrgMember { email, .. } => Some(email),
                _ => None,
            })
            .collect();
        let mut tokens = Vec::new();
        for t in &live.access_tokens {
            let active = t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > opts.now);
            let Some(owner) = email_of(live, &t.user_id) else {
                continue;
            };
            if !active || desired.policy.is_ignored(&Principal::User(owner.clone())) {
                continue;
            }
            let why = if removed.contains(&owner) {
                "the plan removes its owner from the organization"
            } else if !desired.users.contains_key(&owner) {
                "its owner is not declared in the access file"
            } else {
                continue;
            };
            let mut evidence = vec![format!("token: {} ({})", t.name, t.id)];
            if let Some(v) = &t.redacted_value {
                evidence.push(format!("value: {v}"));
            }
            evidence.push(match t.last_used_at {
                Some(at) => format!("last used: {}", rfc3339(&at)),
                None => "last used: never".to_string(),
            });
            evidence.push(match t.expires_at {
                Some(at) => format!("expires: {}", rfc3339(&at)),
                None => "expires: never".to_string(),
            });
            tokens.push(Finding {
                kind: FindingKind::UnmanagedToken,
                subject: owner.to_string(),
                message: format!("personal access token still active: {why}"),
                evidence,
                facts: Facts::Token {
                    token_id: t.id.clone(),
                    name: t.name.clone(),
                    redacted_value: t.redacted_value.clone(),
                    last_used_at: t.last_used_at,
                    expires_at: t.expires_at,
                },
            });
        }
        sorted_into(&mut findings, tokens);
    }

    sorted_into(&mut findings, sso_exempt(live, &email));

    if let (Some((desired, plan)), Some(window)) = (file, opts.expiring_within) {
        findings.extend(expiring_access(desired, plan, opts.now, window));
    }

    sorted_into(&mut findings, diverged_roles(live, &managed));
    sorted_into(&mut findings, unassigned_roles(live, &managed));

    AuditReport {
        organization: live.organization.clone(),
        now: opts.now,
        inactive_days: opts.inactive_days,
        seats,
        seats_after_apply: seats_after,
        findings,
    }
}

/// `sys.sso.lastSignInAt` of a membership.
fn last_sign_in(m: &LiveOrgMembership) -> Option<DateTime<Utc>> {
    m.sso.as_ref().and_then(|s| s.last_sign_in_at)
}

/// `evidence`, then the last SSO sign-in beside it when the organization has SSO data, then
/// `role`.
fn with_sso(mut evidence: Vec<String>, m: &LiveOrgMembership, role: String) -> Vec<String> {
    if let Some(sso) = &m.sso {
        evidence.push(sso_sign_in(sso));
    }
    evidence.push(role);
    evidence
}

fn sso_sign_in(sso: &LiveSso) -> String {
    match sso.last_sign_in_at {
        Some(at) => format!("last SSO sign-in: {}", rfc3339(&at)),
        None => "last SSO sign-in: never".to_string(),
    }
}

/// Members exempt from SSO-restricted mode: they can sign in without the identity provider, so
/// removing someone there does not end their access.
fn sso_exempt(live: &LiveState, email: &dyn Fn(&str) -> String) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in live.org_memberships.values() {
        let Some(sso) = m.sso.as_ref().filter(|s| s.exempt_from_restricted_mode) else {
            continue;
        };
        let status = match m.status {
            MembershipStatus::Active => "active",
            MembershipStatus::Pending => "pending",
        };
        let reasons = if sso.exemption_reasons.is_empty() {
            "exemption reasons: none given".to_string()
        } else {
            format!("exemption reasons: {}", sso.exemption_reasons.join(", "))
        };
        out.push(Finding {
            kind: FindingKind::SsoExempt,
            subject: email(&m.user_id),
            message: "exempt from SSO-restricted mode: can sign in without the identity provider"
                .to_string(),
            evidence: vec![
                "isExemptFromRestrictedMode: true".to_string(),
                reasons,
                sso_sign_in(sso),
                match m.last_active_at {
                    Some(at) => format!("lastActiveAt: {}", rfc3339(&at)),
                    None => "lastActiveAt: never".to_string(),
                },
                format!("org role: {} ({status})", m.role),
            ],
            facts: Facts::Member {
                org_role: m.role,
                status: m.status,
                last_active_at: m.last_active_at,
                invited_at: None,
                teams: Vec::new(),
                last_sign_in_at: sso.last_sign_in_at,
            },
        });
    }
    out
}

/// The access `desired` ends within `window` from `now`, soonest first; and the access that has
/// already ended and that the plan removes (it is still held until the plan is applied). An
/// `expires` long past whose access is gone is not listed again.
fn expiring_access(
    desired: &DesiredState,
    plan: &Plan,
    now: DateTime<Utc>,
    window: ExpiringWindow,
) -> Vec<Finding> {
    let removed: Vec<&crate::model::Expiry> = plan
        .operations
        .iter()
        .filter_map(|op| match &op.reason {
            Some(Reason::Expired { expires }) => Some(expires),
            _ => None,
        })
        .collect();
    let until = now + window.duration();
    let mut out: Vec<(DateTime<Utc>, Finding)> = Vec::new();
    for e in desired.expiries() {
        let passed = e.expires.passed(now);
        let removed_by_plan = passed && removed.contains(&&e.expires);
        if (passed && !removed_by_plan) || e.expires.at > until {
            continue;
        }
        let message = if passed {
            format!(
                "{} expired on {}; the plan removes it",
                what_ends(&e),
                e.expires
            )
        } else {
            format!(
                "{} expires on {} ({})",
                what_ends(&e),
                e.expires,
                time_left(e.expires.at - now)
            )
        };
        let declared_at = format!(
            "{}:{}:{}",
            desired.file_of(e.expires.span),
            e.expires.span.line,
            e.expires.span.column
        );
        let ends = rfc3339(&e.expires.at);
        out.push((
            e.expires.at,
            Finding {
                kind: FindingKind::ExpiringAccess,
                subject: e.email.to_string(),
                message,
                evidence: vec![
                    format!("expires: {} (access ends at {ends})", e.expires),
                    format!("declared at {declared_at}"),
                ],
                facts: Facts::Expiring {
                    access: e.access.clone(),
                    expires: e.expires.to_string(),
                    ends_at: e.expires.at,
                    removed_by_plan,
                    declared_at,
                },
            },
        ));
    }
    out.sort_by(|(a, fa), (b, fb)| {
        a.cmp(b)
            .then(fa.subject.cmp(&fb.subject))
            .then(fa.message.cmp(&fb.message))
    });
    out.into_iter().map(|(_, f)| f).collect()
}

/// `the organization membership`, `membership of team editors`, `access to space blog`.
fn what_ends(e: &ExpiringAccess) -> String {
    match &e.access {
        ExpiringKind::Membership => "the organization membership".to_string(),
        ExpiringKind::Team(t) => format!("membership of team {t}"),
        ExpiringKind::Space(s) => format!("access to space {s}"),
    }
}

/// `in 3 days`, `in 5 hours`, `in less than an hour`.
fn time_left(left: Duration) -> String {
    let days = left.num_days();
    let hours = left.num_hours();
    if days >= 1 {
        format!("in {}", plural(days as usize, "day", "days"))
    } else if hours >= 1 {
        format!("in {}", plural(hours as usize, "hour", "hours"))
    } else {
        "in less than an hour".to_string()
    }
}

fn sorted_into(out: &mut Vec<Finding>, mut more: Vec<Finding>) {
    more.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.message.cmp(&b.message)));
    out.extend(more);
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[path = "audit_roles.rs"]
mod roles;
use roles::{diverged_roles, unassigned_roles};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{
        LiveAccessToken, LiveOrgMembership, LiveSpace, LiveTeam, LiveTeamSpaceMembership, LiveUser,
        ObjectMeta, OrgRole,
    };
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().unwrap()
    }

    fn org() -> LiveState {
        let mut live = LiveState {
            organization: "o".into(),
            ..LiveState::default()
        };
        for (id, email, status, created) in [
            ("u1", "a@x.example", MembershipStatus::Active, t(2026, 1, 1)),
            (
                "u2",
                "b@x.example",
                MembershipStatus::Pending,
                t(2026, 11, 17),
            ),
            (
                "u3",
                "c@x.example",
                MembershipStatus::Pending,
                t(2026, 11, 15),
            ),
        ] {
            live.users.insert(
                id.into(),
                LiveUser {
                    id: id.into(),
                    email: Email::new(email),
                    first_name: None,
                    last_name: None,
                    activated: status == MembershipStatus::Active,
                },
            );
            let mut meta = ObjectMeta::new(format!("m-{id}"), 1);
            meta.created_at = Some(created);
            live.org_memberships.insert(
                meta.id.clone(),
                LiveOrgMembership {
                    meta,
                    user_id: id.into(),
                    role: OrgRole::Member,
                    status,
                    last_active_at: Some(t(2026, 11, 1)),
                    sso: None,
                },
            );
        }
        live.spaces.insert(
            "s1".into(),
            LiveSpace {
                id: "s1".into(),
                name: "Blog".into(),
                roles: BTreeMap::new(),
            },
        );
        live.teams.insert(
            "t1".into(),
            LiveTeam {
                meta: ObjectMeta::new("t1", 1),
                name: "admins".into(),
                description: String::new(),
            },
        );
        live.team_space_memberships.insert(
            "tsm1".into(),
            LiveTeamSpaceMembership {
                meta: ObjectMeta::new("tsm1", 1),
                team_id: "t1".into(),
                space_id: "s1".into(),
                admin: true,
                role_ids: BTreeSet::new(),
            },
        );
        live
    }

    fn opts() -> AuditOptions {
        AuditOptions {
            now: t(2026, 11, 23),
            inactive_days: 90,
            expiring_within: None,
        }
    }

    #[test]
    fn an_invitation_expires_after_seven_days_not_before() {
        let report = audit(&org(), None, &opts());
        let expired: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ExpiredInvitation)
            .map(|f| f.subject.as_str())
            .collect();
        assert_eq!(expired, ["c@x.example"]);
    }

    #[test]
    fn an_admin_team_without_members_leaves_the_space_without_admin() {
        let report = audit(&org(), None, &opts());
        let f = report
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::SpaceWithoutAdmin)
            .unwrap();
        assert_eq!(f.subject, "space Blog");
        assert!(
            f.evidence
                .contains(&"admin teams without members: admins".to_string())
        );
    }

    #[test]
    fn tokens_without_a_file_are_not_judged() {
        let mut live = org();
        live.access_tokens.push(LiveAccessToken {
            id: "p".into(),
            name: "n".into(),
            user_id: "u1".into(),
            redacted_value: None,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
        });
        let report = audit(&live, None, &opts());
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.kind != FindingKind::UnmanagedToken)
        );
        assert_eq!(
            report.seats,
            Seats {
                active: 1,
                pending: 2
            }
        );
        assert_eq!(report.seats_after_apply, None);
    }

    fn role(id: &str, name: &str, permissions: serde_json::Value) -> crate::model::LiveRole {
        let mut r = crate::model::LiveRole::named(id, name);
        r.definition.permissions = permissions.as_object().cloned().unwrap();
        r
    }

    #[test]
    fn roles_that_diverge_across_spaces_or_that_nobody_uses_are_reported() {
        use serde_json::json;
        let mut live = org();
        for (id, name) in [("s2", "Docs"), ("s3", "Shop")] {
            live.spaces.insert(
                id.into(),
                LiveSpace {
                    id: id.into(),
                    name: name.into(),
                    roles: BTreeMap::new(),
                },
            );
        }
        let read = json!({"ContentModel": ["read"], "Settings": []});
        // Same permissions in another key order: not a difference.
        let read_reordered = json!({"Settings": [], "ContentModel": ["read"]});
        let write = json!({"ContentModel": ["read", "update"], "Settings": []});
        let roles = [
            ("s1", role("r1", "Reviewer", read.clone())),
            ("s2", role("r2", "Reviewer", read_reordered)),
            ("s3", role("r3", "Reviewer", write)),
            ("s1", role("r4", "Writer", read.clone())),
            ("s2", role("r5", "Writer", read)),
        ];
        for (space, r) in roles {
            live.spaces
                .get_mut(space)
                .unwrap()
                .roles
                .insert(r.id.clone(), r);
        }
        // r1 and r5 are in use (directly, through a team); the others are not.
        live.team_space_memberships.insert(
            "tsm2".into(),
            LiveTeamSpaceMembership {
                meta: ObjectMeta::new("tsm2", 1),
                team_id: "t1".into(),
                space_id: "s1".into(),
                admin: false,
                role_ids: BTreeSet::from(["r1".to_string()]),
            },
        );
        live.space_memberships.insert(
            "sm1".into(),
            crate::model::LiveSpaceMembership {
                meta: ObjectMeta::new("sm1", 1),
                space_id: "s2".into(),
                user_id: "u1".into(),
                admin: false,
                role_ids: BTreeSet::from(["r5".to_string()]),
            },
        );
        let report = audit(&live, None, &opts());
        let of = |kind| {
            report
                .findings
                .iter()
                .filter(|f| f.kind == kind)
                .collect::<Vec<_>>()
        };
        let diverged = of(FindingKind::DivergedRole);
        assert_eq!(diverged.len(), 1, "{diverged:#?}");
        assert_eq!(diverged[0].subject, "role Reviewer");
        assert_eq!(
            diverged[0].facts,
            Facts::RoleDefinitions {
                name: "Reviewer".into(),
                definitions: vec![vec!["Blog".into(), "Docs".into()], vec!["Shop".into()]],
            }
        );
        assert!(
            diverged[0]
                .evidence
                .contains(&"definitions 1 and 2 differ in: permissions".to_string())
        );
        let unassigned = of(FindingKind::UnassignedRole);
        let facts: Vec<&Facts> = unassigned.iter().map(|f| &f.facts).collect();
        assert_eq!(
            facts,
            [
                &Facts::UnassignedRole {
                    name: "Reviewer".into(),
                    spaces: vec!["Docs".into(), "Shop".into()],
                },
                &Facts::UnassignedRole {
                    name: "Writer".into(),
                    spaces: vec!["Blog".into()],
                },
            ]
        );
    }
}
