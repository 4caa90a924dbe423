//! The domain words shared by the desired state (from the access file) and the live state (read from
//! Contentful): normalised emails, organization roles, space access, and the two state types the
//! planner compares.
//!
//! Desired and live state speak the same vocabulary so they compare like with like: a user is an
//! [`Email`], access to a space is a [`SpaceAccess`] (admin, or a set of role *names*). Live objects
//! additionally carry their Contentful id and `sys.version` in an [`ObjectMeta`], which the planner
//! copies into each operation so `apply` can send `X-Contentful-Version`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod role;

pub use role::RoleDefinition;

/// An email address, normalised for comparison (trimmed, lowercased). Emails compare
/// case-insensitively everywhere in this tool.
///
/// ```
/// use contentful_access::model::Email;
///
/// let jane = Email::parse(" Jane@Example.COM ").unwrap();
/// assert_eq!(jane, Email::new("jane@example.com"));
/// assert_eq!(jane.as_str(), "jane@example.com");
/// assert!(Email::parse("jane@example").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalises `raw` without checking its syntax (see [`Email::parse`] for that).
    pub fn new(raw: &str) -> Self {
        Email(raw.trim().to_lowercase())
    }

    /// Parses and normalises an email address, rejecting what cannot be one: it must have exactly
    /// one `@`, a non-empty local part, and a domain with a dot and no empty labels or spaces.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim();
        let bad = || InvalidEmail(raw.to_string());
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
            || first_invisible(s).is_some()
            || !domain.contains('.')
            || domain.split('.').any(|label| label.is_empty())
        {
            return Err(bad());
        }
        Ok(Email::new(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first character of `s` that is invisible or reorders the text around it: a Unicode
/// control (general category `Cc`, e.g. U+0007) or format character (`Cf`: bidi overrides and
/// isolates U+202A–U+202E and U+2066–U+2069, zero-width U+200B–U+200F, U+FEFF, …). Such a
/// character makes an identifier read differently than it is, so none is accepted in one.
pub fn first_invisible(s: &str) -> Option<char> {
    use unicode_general_category::{GeneralCategory, get_general_category};
    s.chars().find(|&c| {
        matches!(
            get_general_category(c),
            GeneralCategory::Control | GeneralCategory::Format
        )
    })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The text that [`Email::parse`] rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid email address")]
pub struct InvalidEmail(pub String);

/// A role in the organization. Ordered from least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Can be given access to spaces; the default.
    Member,
    /// Member who can also create spaces.
    Developer,
    /// Manages users, teams and spaces.
    Admin,
    /// Everything an admin can, plus billing and ownership; an org must keep at least one.
    Owner,
}

impl OrgRole {
    /// Every role, in the order shown to people.
    pub const ALL: [OrgRole; 4] = [
        OrgRole::Owner,
        OrgRole::Admin,
        OrgRole::Developer,
        OrgRole::Member,
    ];

    /// The word Contentful and the access file use for this role.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Admin => "admin",
            OrgRole::Developer => "developer",
            OrgRole::Member => "member",
        }
    }

    /// Parses the word used by Contentful and the access file (exact, lowercase).
    pub fn parse(s: &str) -> Option<OrgRole> {
        OrgRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Access to one space, as held by a user directly or by a team: space admin, or a set of role
/// names. In Contentful, `admin: true` clears the role list, so the two are exclusive.
///
/// ```
/// use contentful_access::model::SpaceAccess;
///
/// let roles = SpaceAccess::Roles(["Translator".to_string(), "Editor".to_string()].into());
/// assert_eq!(roles.to_string(), "[Editor, Translator]");
/// assert_eq!(SpaceAccess::Admin.to_string(), "admin");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceAccess {
    /// `admin: true` on the membership.
    Admin,
    /// `admin: false` with these roles (by name). Never empty in a desired state.
    Roles(BTreeSet<String>),
}

impl SpaceAccess {
    /// True when this is space admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, SpaceAccess::Admin)
    }
}

impl fmt::Display for SpaceAccess {
    /// `admin`, or the role names in brackets: `[Author, Editor]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpaceAccess::Admin => f.write_str("admin"),
            SpaceAccess::Roles(roles) => {
                f.write_str("[")?;
                for (i, r) in roles.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(r)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A position in the access file, 1-based, for error messages and for pointing each planned
/// operation at the line that causes it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Which file of the access file set: 0 for the root file, `n` for the `n`th included file
    /// ([`DesiredState::included`]). Not written when 0, so a single file's plans are unchanged.
    #[serde(default, skip_serializing_if = "is_root_file")]
    pub file: u32,
}

fn is_root_file(file: &u32) -> bool {
    *file == 0
}

impl Span {
    /// A position in file `file` (0: the root file).
    pub fn at(file: u32, line: u32, column: u32) -> Span {
        Span { line, column, file }
    }

    /// A position in the root file.
    pub fn root(line: u32, column: u32) -> Span {
        Span::at(0, line, column)
    }
}

/// When access declared in the file ends (`expires:` on a user, a space grant or a team
/// membership). A date without a time (`2027-01-31`) means the END of that day in UTC: the access
/// holds through the whole day and is removed from `2027-02-01T00:00:00Z` on.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use contentful_access::model::{Expiry, Span};
///
/// let e = Expiry::parse("2027-01-31", Span::default()).unwrap();
/// assert_eq!(e.at, Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap());
/// assert!(!e.passed(Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 59).unwrap()));
/// assert!(e.passed(Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap()));
/// assert_eq!(e.to_string(), "2027-01-31");
/// let t = Expiry::parse("2027-01-31T12:00:00+01:00", Span::default()).unwrap();
/// assert_eq!(t.to_string(), "2027-01-31T11:00:00Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Expiry {
    /// The first moment the access no longer holds.
    pub at: DateTime<Utc>,
    /// The day as written, when the file gave a date without a time.
    pub date: Option<chrono::NaiveDate>,
    /// Where `expires` is written.
    pub span: Span,
}

impl Expiry {
    /// Parses a date (`2027-01-31`, the end of that day UTC) or an RFC 3339 time.
    pub fn parse(text: &str, span: Span) -> Option<Expiry> {
        let text = text.trim();
        if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let next = date.succ_opt()?;
            return Some(Expiry {
                at: next.and_hms_opt(0, 0, 0)?.and_utc(),
                date: Some(date),
                span,
            });
        }
        let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        Some(Expiry {
            at,
            date: None,
            span,
        })
    }

    /// True when the access no longer holds at `now`.
    pub fn passed(&self, now: DateTime<Utc>) -> bool {
        now >= self.at
    }
}

impl fmt::Display for Expiry {
    /// The date as written (`2027-01-31`), or the time in UTC (`2027-01-31T11:00:00Z`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date {
            Some(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            None => write!(
                f,
                "{}",
                self.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Desired state
// ---------------------------------------------------------------------------------------------

/// The validated content of an access file: what the organization should look like.
///
/// Semantics the planner relies on:
/// - A declared user's org role, team memberships and direct memberships in managed spaces are
///   authoritative: anything else they hold in a managed space is to be removed.
/// - Spaces not listed in [`DesiredState::spaces`] are never touched.
/// - A declared team's description and its access in managed spaces are authoritative. Its members
///   are the declared users that list it; undeclared live members are removed only with `prune`.
/// - Undeclared live users and teams are removed only with `prune`; otherwise reported as unmanaged.
/// - `protected` and `ignore` principals are never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredState {
    /// The file it came from, as given on the command line (for messages).
    pub source_path: String,
    /// SHA-256 of the file's bytes, hex; recorded in plans so a saved plan can be tied to its file.
    /// With `include:`, the hash of the whole set of files (each file's name and hash).
    pub source_sha256: String,
    /// The files the root file includes, in file-index order: `included[n - 1]` is file `n` of
    /// [`Span::file`], as it is named in messages. Empty for a single file.
    pub included: Vec<String>,
    /// The Contentful organization id.
    pub organization: String,
    /// How far the tool may go.
    pub policy: Policy,
    /// The managed spaces: local name → space.
    pub spaces: BTreeMap<String, DesiredSpace>,
    /// Declared teams by name.
    pub teams: BTreeMap<String, DesiredTeam>,
    /// Declared users by normalised email.
    pub users: BTreeMap<Email, DesiredUser>,
    /// Declared custom space roles by name (`roles:`), each with the managed spaces it applies to.
    pub roles: BTreeMap<String, DesiredRole>,
}

impl DesiredState {
    /// The file a span points into, as named in messages.
    pub fn file_of(&self, span: Span) -> &str {
        span.file
            .checked_sub(1)
            .and_then(|i| self.included.get(i as usize))
            .map_or(self.source_path.as_str(), String::as_str)
    }

    /// Every access the file gives an end to (`expires:`), in user then file order.
    pub fn expiries(&self) -> Vec<ExpiringAccess> {
        let mut out = Vec::new();
        for user in self.users.values() {
            if let Some(e) = &user.expires {
                out.push(ExpiringAccess {
                    email: user.email.clone(),
                    access: ExpiringKind::Membership,
                    expires: e.clone(),
                });
            }
            for (team, e) in &user.team_expires {
                out.push(ExpiringAccess {
                    email: user.email.clone(),
                    access: ExpiringKind::Team(team.clone()),
                    expires: e.clone(),
                });
            }
            for (space, g) in &user.spaces {
                if let Some(e) = &g.expires {
                    out.push(ExpiringAccess {
                        email: user.email.clone(),
                        access: ExpiringKind::Space(space.clone()),
                        expires: e.clone(),
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.email, a.expires.span).cmp(&(&b.email, b.expires.span)));
        out
    }

    /// The local name of a managed space, given its Contentful id.
    pub fn space_name(&self, space_id: &str) -> Option<&str> {
        self.spaces
            .iter()
            .find(|(_, s)| s.id == space_id)
            .map(|(n, _)| n.as_str())
    }

    /// The declared role called `name` when it applies to the managed space `space_name`.
    pub fn role_in(&self, name: &str, space_name: &str) -> Option<&DesiredRole> {
        self.roles
            .get(name)
            .filter(|r| r.spaces.contains(space_name))
    }

    /// The declared roles that apply to the managed space `space_name`, by name.
    pub fn roles_in<'s>(&'s self, space_name: &'s str) -> impl Iterator<Item = &'s DesiredRole> {
        self.roles
            .values()
            .filter(move |r| r.spaces.contains(space_name))
    }
}

/// A declared custom role (`roles:` entry): one definition applied to a set of managed spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredRole {
    /// The role's name in Contentful (unique within a space, and within the file).
    pub name: String,
    /// What it grants, verbatim from the file (`extra` fields in [`RoleDefinition::other`]).
    pub definition: RoleDefinition,
    /// The managed spaces (local names) it applies to; `spaces: all` is expanded to every managed
    /// space.
    pub spaces: BTreeSet<String>,
    /// Whether the file wrote `spaces: all` (export and messages say so).
    pub all_spaces: bool,
    /// Where the role is declared (its name).
    pub at: Span,
}

/// Access the file gives an end to (see [`DesiredState::expiries`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringAccess {
    /// The user.
    pub email: Email,
    /// What ends.
    pub access: ExpiringKind,
    /// When.
    pub expires: Expiry,
}

/// What access ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum ExpiringKind {
    /// The whole membership of the organization.
    Membership,
    /// The membership of this team.
    Team(String),
    /// The direct access to this managed space (local name).
    Space(String),
}

impl fmt::Display for ExpiringAccess {
    /// `the membership of jane@example.com in the organization`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            ExpiringKind::Membership => {
                write!(f, "the organization membership of {}", self.email)
            }
            ExpiringKind::Team(t) => write!(f, "{}'s membership of team {t}", self.email),
            ExpiringKind::Space(s) => write!(f, "{}'s access to space {s}", self.email),
        }
    }
}

/// A managed space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredSpace {
    /// The Contentful space id.
    pub id: String,
    /// Where the space is declared.
    pub at: Span,
}

/// The `policy:` section. The default is the file's default: no pruning, at most 10% removals,
/// expired invitations sent again, organization membership managed by the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// True: what the file does not declare is removed. False: reported as unmanaged.
    pub prune: bool,
    /// The most removals a plan may contain before it is refused.
    pub max_removals: MaxRemovals,
    /// Principals never changed or removed by this tool.
    pub protected: BTreeSet<Principal>,
    /// Live principals this file does not manage at all (not even reported).
    pub ignore: BTreeSet<Principal>,
    /// Where `max_removals` is written (or the `policy` key, or line 1 when absent).
    pub max_removals_at: Span,
    /// True (default): a declared user's pending invitation older than
    /// [`INVITATION_VALID_DAYS`] is sent again.
    pub reinvite_expired: bool,
    /// Who invites and removes organization members: the file (default) or an identity provider.
    pub org_membership: OrgMembershipSource,
    /// True: custom roles the file does not declare are deleted from managed spaces. False
    /// (default): they are reported as unmanaged and never changed.
    pub prune_roles: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            prune: false,
            max_removals: MaxRemovals::default(),
            protected: BTreeSet::new(),
            ignore: BTreeSet::new(),
            max_removals_at: Span::default(),
            reinvite_expired: true,
            org_membership: OrgMembershipSource::File,
            prune_roles: false,
        }
    }
}

/// Contentful invitations expire this many days after they are sent.
pub const INVITATION_VALID_DAYS: i64 = 7;

/// Who adds people to the organization and removes them (`policy.org_membership`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgMembershipSource {
    /// This tool: declared users are invited, expired or (with prune) undeclared ones removed.
    #[default]
    File,
    /// An identity provider (SCIM): the tool never invites or removes organization members.
    IdentityProvider,
}

impl Policy {
    /// True when `p` is protected.
    pub fn is_protected(&self, p: &Principal) -> bool {
        self.protected.contains(p)
    }

    /// True when `p` is ignored.
    pub fn is_ignored(&self, p: &Principal) -> bool {
        self.ignore.contains(p)
    }
}

/// The removal limit: an absolute count, or a percentage of current organization members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxRemovals {
    /// At most this many removals.
    Count(u32),
    /// At most this percentage (0–100, in hundredths of a percent) of current org members.
    PercentBasisPoints(u32),
}

impl Default for MaxRemovals {
    /// 10% of current org members.
    fn default() -> Self {
        MaxRemovals::PercentBasisPoints(1000)
    }
}

impl MaxRemovals {
    /// The absolute limit for an organization with `org_members` current members. A percentage
    /// rounds down, but never below 1 when the percentage is non-zero.
    ///
    /// ```
    /// use contentful_access::model::MaxRemovals;
    ///
    /// assert_eq!(MaxRemovals::PercentBasisPoints(1000).limit(250), 25); // 10% of 250
    /// assert_eq!(MaxRemovals::PercentBasisPoints(1000).limit(5), 1);    // never below 1
    /// assert_eq!(MaxRemovals::Count(3).limit(10_000), 3);
    /// ```
    pub fn limit(self, org_members: usize) -> usize {
        match self {
            MaxRemovals::Count(n) => n as usize,
            MaxRemovals::PercentBasisPoints(0) => 0,
            MaxRemovals::PercentBasisPoints(bp) => ((org_members * bp as usize) / 10_000).max(1),
        }
    }
}

impl fmt::Display for MaxRemovals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxRemovals::Count(n) => write!(f, "{n}"),
            MaxRemovals::PercentBasisPoints(bp) if bp % 100 == 0 => write!(f, "{}%", bp / 100),
            MaxRemovals::PercentBasisPoints(bp) => write!(f, "{}.{:02}%", bp / 100, bp % 100),
        }
    }
}

/// Someone or something access is granted to: a user (by email) or a team (by name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    /// A user by email.
    User(Email),
    /// A team by name (team names compare exactly).
    Team(String),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(e) => write!(f, "{e}"),
            Principal::Team(t) => write!(f, "team {t}"),
        }
    }
}

/// A declared team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredTeam {
    /// The team's name (unique in the org).
    pub name: String,
    /// The description; absent in the file means empty.
    pub description: String,
    /// Access in managed spaces, by local space name.
    pub spaces: BTreeMap<String, DesiredGrant>,
    /// Who decides the team's members: the file (its users' `teams:` lists, the default) or an
    /// identity provider (`managed_by: identity_provider`: members are never added or removed).
    pub managed_by: OrgMembershipSource,
    /// Where the team is declared.
    pub at: Span,
}

/// A declared user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredUser {
    /// The normalised email.
    pub email: Email,
    /// First and last name, for the invitation.
    pub name: Option<PersonName>,
    /// Organization role (default member).
    pub org_role: OrgRole,
    /// Where `org_role` is written (or the user's key when defaulted).
    pub org_role_at: Span,
    /// Teams the user belongs to, by name, with where each is listed.
    pub teams: BTreeMap<String, Span>,
    /// When a team membership ends, by team name (only the memberships that expire).
    pub team_expires: BTreeMap<String, Expiry>,
    /// Direct space memberships, by local space name.
    pub spaces: BTreeMap<String, DesiredGrant>,
    /// When the whole membership of the organization ends.
    pub expires: Option<Expiry>,
    /// Where the user is declared.
    pub at: Span,
}

/// A person's name split for Contentful's invitation (`firstName`, `lastName`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName {
    /// Everything before the last space (or the whole name).
    pub first: String,
    /// The last word, when there is more than one.
    pub last: Option<String>,
}

impl PersonName {
    /// Splits "Jane van Smith" into first "Jane van", last "Smith".
    pub fn split(full: &str) -> PersonName {
        let full = full.trim();
        match full.rsplit_once(char::is_whitespace) {
            Some((first, last)) => PersonName {
                first: first.trim().to_string(),
                last: Some(last.to_string()),
            },
            None => PersonName {
                first: full.to_string(),
                last: None,
            },
        }
    }
}

/// Desired access in one space, with the place in the file that asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredGrant {
    /// The access.
    pub access: SpaceAccess,
    /// Where it is written (the space key).
    pub at: Span,
    /// Where each role name of the list is written (empty for `admin`, or for a grant that was
    /// not read from a file).
    #[serde(skip)]
    pub roles_at: BTreeMap<String, Span>,
    /// When this grant ends (users' grants only).
    pub expires: Option<Expiry>,
}

impl DesiredGrant {
    /// Where the role `name` is written, or the grant's own position when that is not known.
    pub fn role_at(&self, name: &str) -> Span {
        self.roles_at.get(name).copied().unwrap_or(self.at)
    }
}

// ---------------------------------------------------------------------------------------------
// Live state
// ---------------------------------------------------------------------------------------------

/// Identity and concurrency data of a live Contentful object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// `sys.id`.
    pub id: String,
    /// `sys.version`; sent back as `X-Contentful-Version` on update.
    pub version: u64,
    /// `sys.createdAt`, when the API gave it.
    pub created_at: Option<DateTime<Utc>>,
    /// `sys.updatedAt`, when the API gave it.
    pub updated_at: Option<DateTime<Utc>>,
    /// `sys.updatedBy` user id, when the API gave it.
    pub updated_by: Option<String>,
}

impl ObjectMeta {
    /// Meta with just an id and version (timestamps unknown).
    pub fn new(id: impl Into<String>, version: u64) -> Self {
        ObjectMeta {
            id: id.into(),
            version,
            created_at: None,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// Whether an organization membership has been accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipStatus {
    /// Invited, not yet accepted. Counts as present: never invite twice.
    Pending,
    /// Accepted.
    Active,
}

/// One organization as read from Contentful. Every object keeps its id and `sys.version`.
/// All maps are keyed by Contentful id, so iteration order is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    /// The organization id.
    pub organization: String,
    /// The organization's name, when known.
    pub organization_name: Option<String>,
    /// The user id of the token's own user (`GET /users/me`).
    pub me: Option<String>,
    /// Users of the organization by user id (including pending invitees).
    pub users: BTreeMap<String, LiveUser>,
    /// Organization memberships by membership id.
    pub org_memberships: BTreeMap<String, LiveOrgMembership>,
    /// The organization's spaces by space id.
    pub spaces: BTreeMap<String, LiveSpace>,
    /// Teams by team id.
    pub teams: BTreeMap<String, LiveTeam>,
    /// Team memberships by id.
    pub team_memberships: BTreeMap<String, LiveTeamMembership>,
    /// Team space memberships by id.
    pub team_space_memberships: BTreeMap<String, LiveTeamSpaceMembership>,
    /// Space memberships (direct, per user) by id.
    pub space_memberships: BTreeMap<String, LiveSpaceMembership>,
    /// Personal access tokens of the org's members (admin view), when read.
    pub access_tokens: Vec<LiveAccessToken>,
    /// The `sys.version` of every role of the organization by role id, the spaces the access
    /// file does not manage included (their roles are not kept in [`LiveState::spaces`]), when
    /// roles were read: what the incremental read (`drift --cache`) counts to notice a role
    /// created or deleted anywhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub org_role_versions: BTreeMap<String, u64>,
}

/// A user of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveUser {
    /// `sys.id`.
    pub id: String,
    /// The user's email, normalised.
    pub email: Email,
    /// `firstName` (null for pending invitees).
    pub first_name: Option<String>,
    /// `lastName` (null for pending invitees).
    pub last_name: Option<String>,
    /// `activated` (false for pending invitees).
    pub activated: bool,
}

/// An organization membership: a user's seat and org role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOrgMembership {
    /// Id and version.
    pub meta: ObjectMeta,
    /// The member's user id.
    pub user_id: String,
    /// Organization role.
    pub role: OrgRole,
    /// Pending (invited) or active.
    pub status: MembershipStatus,
    /// `sys.lastActiveAt`: null when never active.
    pub last_active_at: Option<DateTime<Utc>>,
    /// `sys.sso`: the member's single sign-on data, when the organization uses SSO (`None`
    /// otherwise, and in states read before the field existed).
    #[serde(default)]
    pub sso: Option<LiveSso>,
}

/// The single sign-on data of an organization membership (`sys.sso`, as Contentful's web app
/// reads it: `lastSignInAt`, `isExemptFromRestrictedMode`, `exemptionReasons`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSso {
    /// `lastSignInAt`: the last sign-in through the identity provider; `None` when never.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// `isExemptFromRestrictedMode`: the member may sign in without the identity provider although
    /// the organization restricts sign-in to SSO.
    pub exempt_from_restricted_mode: bool,
    /// `exemptionReasons` as Contentful names them (`userIsOwner`,
    /// `userHasMultipleOrganizationMemberships`, `userIsManuallyExempt`).
    #[serde(default)]
    pub exemption_reasons: Vec<String>,
}

/// A space of the organization with its roles (roles are read only for managed spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSpace {
    /// `sys.id`.
    pub id: String,
    /// The space's name.
    pub name: String,
    /// Roles by role id. Empty for spaces whose roles were not read.
    pub roles: BTreeMap<String, LiveRole>,
}

impl LiveSpace {
    /// The id of the role called `name` in this space (exact match).
    pub fn role_id(&self, name: &str) -> Option<&str> {
        self.roles
            .values()
            .find(|r| r.name == name)
            .map(|r| r.id.as_str())
    }
}

/// A role in a space, with its definition as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRole {
    /// `sys.id`.
    pub id: String,
    /// The role's name, e.g. `Editor`.
    pub name: String,
    /// `sys.version` (0 when the read did not carry it); sent back as `X-Contentful-Version`.
    pub version: u64,
    /// `sys.updatedAt`, when the API gave it.
    pub updated_at: Option<DateTime<Utc>>,
    /// `sys.updatedBy` user id, when the API gave it.
    pub updated_by: Option<String>,
    /// Description, permissions, policies and any other field, verbatim.
    pub definition: RoleDefinition,
}

impl LiveRole {
    /// A role known only by id and name (version 0, empty definition): fixtures and tests.
    pub fn named(id: impl Into<String>, name: impl Into<String>) -> Self {
        LiveRole {
            id: id.into(),
            name: name.into(),
            version: 0,
            updated_at: None,
            updated_by: None,
            definition: RoleDefinition::default(),
        }
    }
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTeam {
    /// Id and version.
    pub meta: ObjectMeta,
    /// Name (unique in the org).
    pub name: String,
    /// Description (null in the API reads as empty).
    pub description: String,
}

/// A user's membership of a team (by organization membership).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTeamMembership {
    /// Id and version.
    pub meta: ObjectMeta,
    /// The team id.
    pub team_id: String,
    /// The member's organization membership id.
    pub org_membership_id: String,
}

/// A team's access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTeamSpaceMembership {
    /// Id and version.
    pub meta: ObjectMeta,
    /// The team id.
    pub team_id: String,
    /// The space id.
    pub space_id: String,
    /// `admin`.
    pub admin: bool,
    /// Role ids (empty when admin).
    pub role_ids: BTreeSet<String>,
}

/// A user's direct access to a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSpaceMembership {
    /// Id and version.
    pub meta: ObjectMeta,
    /// The space id.
    pub space_id: String,
    /// The user id (from `sys.user`, or the deprecated top-level `user`).
    pub user_id: String,
    /// `admin`.
    pub admin: bool,
    /// Role ids (empty when admin).
    pub role_ids: BTreeSet<String>,
}

/// A personal access token as the admin view shows it (never the token value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccessToken {
    /// `sys.id`.
    pub id: String,
    /// The token's name.
    pub name: String,
    /// Owner's user id.
    pub user_id: String,
    /// `sys.redactedValue`, e.g. `CFPAT-…abcd`.
    pub redacted_value: Option<String>,
    /// When it was revoked; `None` while active.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it expires; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl LiveState {
    /// The org membership of the user with this email (case-insensitive), if any.
    pub fn membership_by_email(&self, email: &Email) -> Option<(&LiveUser, &LiveOrgMembership)> {
        let user = self.users.values().find(|u| &u.email == email)?;
        let m = self
            .org_memberships
            .values()
            .find(|m| m.user_id == user.id)?;
        Some((user, m))
    }

    /// Converts access as stored (admin flag + role ids) into role names in `space_id`. Role ids
    /// that the space does not know are kept as `#<id>` so a difference is still visible.
    pub fn access_of(
        &self,
        space_id: &str,
        admin: bool,
        role_ids: &BTreeSet<String>,
    ) -> SpaceAccess {
        if admin {
            return SpaceAccess::Admin;
        }
        let space = self.spaces.get(space_id);
        SpaceAccess::Roles(
            role_ids
                .iter()
                .map(|id| {
                    space
                        .and_then(|s| s.roles.get(id))
                        .map(|r| r.name.clone())
                        .unwrap_or_else(|| format!("#{id}"))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise_and_compare_case_insensitively() {
        assert_eq!(
            Email::new(" Jane@Example.COM "),
            Email::new("jane@example.com")
        );
        assert!(Email::parse("jane@example.com").is_ok());
        for bad in [
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "ja ne@example.com",
            "a@b@c.com",
            "a@b..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn max_removals_limit() {
        assert_eq!(MaxRemovals::Count(3).limit(1000), 3);
        assert_eq!(MaxRemovals::PercentBasisPoints(1000).limit(200), 20);
        assert_eq!(MaxRemovals::PercentBasisPoints(1000).limit(5), 1);
        assert_eq!(MaxRemovals::PercentBasisPoints(0).limit(500), 0);
        assert_eq!(MaxRemovals::PercentBasisPoints(1250).to_string(), "12.50%");
    }

    #[test]
    fn names_split_on_last_space() {
        let n = PersonName::split("Jane van Smith");
        assert_eq!(n.first, "Jane van");
        assert_eq!(n.last.as_deref(), Some("Smith"));
        assert_eq!(PersonName::split("Cher").last, None);
    }

    #[test]
    fn space_access_displays_sorted_roles() {
        let a = SpaceAccess::Roles(["Translator".to_string(), "Editor".to_string()].into());
        assert_eq!(a.to_string(), "[Editor, Translator]");
        assert_eq!(SpaceAccess::Admin.to_string(), "admin");
    }
}
