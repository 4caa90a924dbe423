//! The sandbox's state and all of its behaviour, with no I/O: routing of Contentful paths,
//! authentication and permissions, validation, versions and conflicts, cascades, pagination,
//! filters and includes. The HTTP layer hands each request to [`World::handle`] together with
//! "now"; everything that happens is decided here, so it can be unit-tested directly.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::seed::{
    Seed, SeedAccessToken, SeedApiToken, SeedError, SeedInvitation, SeedOrgMembership,
    SeedOrganization, SeedRole, SeedSpace, SeedSpaceMembership, SeedSys, SeedTeam,
    SeedTeamMembership, SeedTeamSpaceMembership, SeedUser, default_epoch, default_roles_for,
};
use crate::model::{Email, MembershipStatus, OrgRole};

/// A request as the sandbox sees it (already taken apart by the HTTP layer).
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without query string.
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Bearer token (`Authorization: Bearer …` or `access_token`).
    pub token: Option<String>,
    /// `X-Contentful-Version`.
    pub version: Option<String>,
    /// `X-Contentful-Team`.
    pub team: Option<String>,
    /// `X-Contentful-Organization`.
    pub organization: Option<String>,
    /// Raw body.
    pub body: Vec<u8>,
}

/// What the sandbox answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body (`None` for 204).
    pub body: Option<Value>,
    /// `Location` header for 201s (a path).
    pub location: Option<String>,
    /// The request id also sent as `X-Contentful-Request-Id`.
    pub request_id: String,
}

/// The kinds of versioned objects, for [`World::bump_version`] and the concurrent-edit hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// An organization membership.
    OrganizationMembership,
    /// A team.
    Team,
    /// A team membership.
    TeamMembership,
    /// A team space membership.
    TeamSpaceMembership,
    /// A space membership.
    SpaceMembership,
    /// A role.
    Role,
    /// A space.
    Space,
}

impl ObjectKind {
    /// The `sys.type` of this kind.
    pub fn sys_type(self) -> &'static str {
        match self {
            ObjectKind::OrganizationMembership => "OrganizationMembership",
            ObjectKind::Team => "Team",
            ObjectKind::TeamMembership => "TeamMembership",
            ObjectKind::TeamSpaceMembership => "TeamSpaceMembership",
            ObjectKind::SpaceMembership => "SpaceMembership",
            ObjectKind::Role => "Role",
            ObjectKind::Space => "Space",
        }
    }
}

/// Every route the sandbox serves: method and templated path.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/organizations"),
    ("GET", "/organizations/:org"),
    ("GET", "/users/me"),
    ("GET", "/organizations/:org/users"),
    ("GET", "/organizations/:org/users/:id"),
    ("GET", "/organizations/:org/organization_memberships"),
    ("GET", "/organizations/:org/organization_memberships/:id"),
    ("PUT", "/organizations/:org/organization_memberships/:id"),
    ("DELETE", "/organizations/:org/organization_memberships/:id"),
    ("POST", "/organizations/:org/invitations"),
    ("GET", "/organizations/:org/invitations/:id"),
    ("GET", "/organizations/:org/teams"),
    ("POST", "/organizations/:org/teams"),
    ("GET", "/organizations/:org/teams/:id"),
    ("PUT", "/organizations/:org/teams/:id"),
    ("DELETE", "/organizations/:org/teams/:id"),
    ("GET", "/organizations/:org/teams/:team/team_memberships"),
    ("POST", "/organizations/:org/teams/:team/team_memberships"),
    (
        "GET",
        "/organizations/:org/teams/:team/team_memberships/:id",
    ),
    (
        "PUT",
        "/organizations/:org/teams/:team/team_memberships/:id",
    ),
    (
        "DELETE",
        "/organizations/:org/teams/:team/team_memberships/:id",
    ),
    ("GET", "/organizations/:org/team_memberships"),
    ("GET", "/organizations/:org/team_space_memberships"),
    ("GET", "/organizations/:org/team_space_memberships/:id"),
    ("GET", "/organizations/:org/space_memberships"),
    ("GET", "/organizations/:org/space_memberships/:id"),
    ("GET", "/organizations/:org/spaces"),
    ("GET", "/organizations/:org/access_tokens"),
    ("GET", "/spaces"),
    ("POST", "/spaces"),
    ("GET", "/spaces/:space"),
    ("GET", "/spaces/:space/team_space_memberships"),
    ("POST", "/spaces/:space/team_space_memberships"),
    ("GET", "/spaces/:space/team_space_memberships/:id"),
    ("PUT", "/spaces/:space/team_space_memberships/:id"),
    ("DELETE", "/spaces/:space/team_space_memberships/:id"),
    ("GET", "/spaces/:space/space_memberships"),
    ("POST", "/spaces/:space/space_memberships"),
    ("GET", "/spaces/:space/space_memberships/:id"),
    ("PUT", "/spaces/:space/space_memberships/:id"),
    ("DELETE", "/spaces/:space/space_memberships/:id"),
    ("GET", "/spaces/:space/roles"),
    ("POST", "/spaces/:space/roles"),
    ("GET", "/spaces/:space/roles/:id"),
    ("PUT", "/spaces/:space/roles/:id"),
    ("DELETE", "/spaces/:space/roles/:id"),
];

/// The templated route (e.g. `/organizations/:org/teams`) serving `method path`, with the values
/// of its `:` parameters in order; `None` when nothing matches.
pub fn match_route(method: &str, path: &str) -> Option<(&'static str, Vec<String>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    'routes: for (m, template) in ROUTES {
        if *m != method {
            continue;
        }
        let tsegs: Vec<&str> = template.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        for (t, s) in tsegs.iter().zip(&segs) {
            if t.starts_with(':') {
                if s.is_empty() {
                    continue 'routes;
                }
                params.push((*s).to_string());
            } else if t != s {
                continue 'routes;
            }
        }
        return Some((template, params));
    }
    None
}

/// An error response before the request id is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `sys.id`, e.g. `VersionMismatch`.
    pub id: &'static str,
    /// `message`.
    pub message: String,
    /// `details`, when there are any.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(status: u16, id: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            id,
            message: message.into(),
            details: None,
        }
    }

    fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The documented error body.
    pub fn body(&self, request_id: &str) -> Value {
        let mut body = json!({
            "sys": {"type": "Error", "id": self.id},
            "message": self.message,
            "requestId": request_id,
        });
        if let (Some(d), Some(obj)) = (&self.details, body.as_object_mut()) {
            obj.insert("details".to_string(), d.clone());
        }
        body
    }

    fn not_found(kind: &str, id: &str) -> Self {
        ApiError::new(404, "NotFound", "The resource could not be found.")
            .details(json!({"type": kind, "id": id}))
    }

    fn access_denied() -> Self {
        ApiError::new(
            403,
            "AccessDenied",
            "Forbidden: only organization admins and owners may do this.",
        )
        .details(json!({"reasons": ["Your organization role does not allow this action"]}))
    }

    fn invalid_query(path: &str, details: &str) -> Self {
        ApiError::new(400, "InvalidQuery", "The query you sent was invalid. Probably a filter or ordering specification is not applicable to the type of a field.")
            .details(json!({"errors": [{"name": "unknown", "path": path.split('.').collect::<Vec<_>>(), "details": details}]}))
    }

    fn validation(name: &str, path: &str, value: Value, details: &str) -> Self {
        ApiError::new(
            422,
            "ValidationFailed",
            "The resource you sent in the body is invalid.",
        )
        .details(
            json!({"errors": [{"name": name, "path": path, "value": value, "details": details}]}),
        )
    }

    /// 429 `RateLimitExceeded`, as the HTTP layer sends it.
    pub fn rate_limited() -> Self {
        ApiError::new(
            429,
            "RateLimitExceeded",
            "You have exceeded the rate limit of the Organization this Space belongs to by making too many API requests within a short timespan. Please wait a moment before trying the request again.",
        )
        .details(json!({"errors": [{"details": "Rate limit exceeded"}]}))
    }
}

type R<T> = Result<T, ApiError>;

/// Keys of a collection kept in the stable order `(sys.createdAt, sys.id)`; slicing a page is
/// O(page).
#[derive(Debug, Clone, Default)]
struct Ordered(Vec<(DateTime<Utc>, String)>);

impl Ordered {
    fn insert(&mut self, at: DateTime<Utc>, id: &str) {
        let key = (at, id.to_string());
        if let Err(pos) = self.0.binary_search(&key) {
            self.0.insert(pos, key);
        }
    }
    fn remove(&mut self, at: DateTime<Utc>, id: &str) {
        if let Ok(pos) = self.0.binary_search(&(at, id.to_string())) {
            self.0.remove(pos);
        }
    }
    /// Appends without keeping the order; [`Ordered::sort`] must follow (bulk loading).
    fn push(&mut self, at: DateTime<Utc>, id: &str) {
        self.0.push((at, id.to_string()));
    }
    fn sort(&mut self) {
        self.0.sort();
        self.0.dedup();
    }
    fn ids(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(_, id)| id)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A table of one kind of record, with its stable order.
#[derive(Debug, Clone)]
struct Table<T> {
    items: HashMap<String, T>,
    order: Ordered,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: HashMap::new(),
            order: Ordered::default(),
        }
    }
}

trait Rec {
    fn id(&self) -> &str;
    fn sys(&self) -> &SeedSys;
    fn sys_mut(&mut self) -> &mut SeedSys;
}

macro_rules! rec {
    ($($t:ty),*) => {$(
        impl Rec for $t {
            fn id(&self) -> &str { &self.id }
            fn sys(&self) -> &SeedSys { &self.sys }
            fn sys_mut(&mut self) -> &mut SeedSys { &mut self.sys }
        }
    )*};
}
rec!(
    SeedUser,
    SeedOrgMembership,
    SeedSpace,
    SeedRole,
    SeedTeam,
    SeedTeamMembership,
    SeedTeamSpaceMembership,
    SeedSpaceMembership,
    SeedAccessToken,
    SeedInvitation
);

fn created(s: &SeedSys) -> DateTime<Utc> {
    s.created_at.unwrap_or_else(default_epoch)
}

impl<T: Rec + Clone> Table<T> {
    /// Adds a record during bulk loading; [`Table::sort`] must follow.
    fn push(&mut self, t: T) {
        self.order.push(created(t.sys()), t.id());
        self.items.insert(t.id().to_string(), t);
    }
    fn sort(&mut self) {
        self.order.sort();
    }
    fn insert(&mut self, t: T) {
        self.order.insert(created(t.sys()), t.id());
        self.items.insert(t.id().to_string(), t);
    }
    fn remove(&mut self, id: &str) -> Option<T> {
        let t = self.items.remove(id)?;
        self.order.remove(created(t.sys()), id);
        Some(t)
    }
    fn get(&self, id: &str) -> Option<&T> {
        self.items.get(id)
    }
    fn in_order(&self) -> impl Iterator<Item = &T> {
        self.order.ids().filter_map(|id| self.items.get(id))
    }
    fn to_vec(&self) -> Vec<T> {
        self.in_order().cloned().collect()
    }
}

/// Groups of ids (per space, per team) in stable order.
#[derive(Debug, Clone, Default)]
struct Groups(HashMap<String, Ordered>);

impl Groups {
    fn push(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        self.0.entry(group.to_string()).or_default().push(at, id);
    }
    fn sort(&mut self) {
        self.0.values_mut().for_each(Ordered::sort);
    }
    fn insert(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        self.0.entry(group.to_string()).or_default().insert(at, id);
    }
    fn remove(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        if let Some(o) = self.0.get_mut(group) {
            o.remove(at, id);
        }
    }
    fn get(&self, group: &str) -> Option<&Ordered> {
        self.0.get(group)
    }
    fn len(&self, group: &str) -> usize {
        self.0.get(group).map_or(0, Ordered::len)
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
struct Caller {
    user: String,
    role: Option<OrgRole>,
}

impl Caller {
    fn is_admin(&self) -> bool {
        self.role.is_some_and(|r| r >= OrgRole::Admin)
    }
}

/// Parsed list parameters.
#[derive(Debug, Default)]
struct ListQuery {
    skip: usize,
    limit: usize,
    order: Vec<(String, bool)>,
    include_user: bool,
    query: Option<String>,
    filters: Vec<(String, String, Vec<String>)>,
}

/// The whole sandboxed organization and its behaviour.
#[derive(Debug, Clone)]
pub struct World {
    org: SeedOrganization,
    users: Table<SeedUser>,
    user_by_email: HashMap<Email, String>,
    oms: Table<SeedOrgMembership>,
    om_by_user: HashMap<String, String>,
    spaces: Table<SeedSpace>,
    roles: Table<SeedRole>,
    roles_by_space: Groups,
    teams: Table<SeedTeam>,
    tms: Table<SeedTeamMembership>,
    tms_by_team: Groups,
    tsms: Table<SeedTeamSpaceMembership>,
    tsms_by_space: Groups,
    sms: Table<SeedSpaceMembership>,
    sms_by_space: Groups,
    tokens: Table<SeedAccessToken>,
    invitations: Table<SeedInvitation>,
    api_tokens: Vec<SeedApiToken>,
    default_user: String,
    id_state: u64,
    requests: u64,
    pending_bumps: HashSet<(ObjectKind, String)>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

fn link(link_type: &str, id: &str) -> Value {
    json!({"sys": {"type": "Link", "linkType": link_type, "id": id}})
}

fn fill(sys: &mut SeedSys, at: DateTime<Utc>, by: &str) {
    let created_at = *sys.created_at.get_or_insert(at);
    sys.updated_at.get_or_insert(created_at);
    let created_by = sys.created_by.get_or_insert_with(|| by.to_string()).clone();
    sys.updated_by.get_or_insert(created_by);
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl World {
    /// Loads a seed (validating it first), filling in missing bookkeeping.
    pub fn from_seed(seed: Seed) -> Result<World, SeedError> {
        seed.validate()?;
        let epoch = seed
            .organization
            .sys
            .created_at
            .unwrap_or_else(default_epoch);
        let owner = seed
            .org_memberships
            .iter()
            .filter(|m| m.status == MembershipStatus::Active)
            .max_by_key(|m| m.role)
            .map(|m| m.user.clone())
            .or_else(|| seed.users.first().map(|u| u.id.clone()))
            .unwrap_or_default();
        let mut org = seed.organization;
        fill(&mut org.sys, epoch, &owner);
        let mut w = World {
            org,
            users: Table::default(),
            user_by_email: HashMap::new(),
            oms: Table::default(),
            om_by_user: HashMap::new(),
            spaces: Table::default(),
            roles: Table::default(),
            roles_by_space: Groups::default(),
            teams: Table::default(),
            tms: Table::default(),
            tms_by_team: Groups::default(),
            tsms: Table::default(),
            tsms_by_space: Groups::default(),
            sms: Table::default(),
            sms_by_space: Groups::default(),
            tokens: Table::default(),
            invitations: Table::default(),
            api_tokens: seed.api_tokens,
            default_user: owner.clone(),
            id_state: 0x5EED_0000_0000_0001,
            requests: 0,
            pending_bumps: HashSet::new(),
        };
        for mut u in seed.users {
            fill(&mut u.sys, epoch, &u.id.clone());
            u.email = Email::new(&u.email).to_string();
            w.user_by_email.insert(Email::new(&u.email), u.id.clone());
            w.users.push(u);
        }
        for mut m in seed.org_memberships {
            fill(&mut m.sys, epoch, &owner);
            w.om_by_user.insert(m.user.clone(), m.id.clone());
            w.oms.push(m);
        }
        for mut s in seed.spaces {
            fill(&mut s.sys, epoch, &owner);
            w.spaces.push(s);
        }
        for mut r in seed.roles {
            fill(&mut r.sys, epoch, &owner);
            w.roles_by_space.push(&r.space, created(&r.sys), &r.id);
            w.roles.push(r);
        }
        for mut t in seed.teams {
            fill(&mut t.sys, epoch, &owner);
            w.teams.push(t);
        }
        for mut m in seed.team_memberships {
            fill(&mut m.sys, epoch, &owner);
            w.tms_by_team.push(&m.team, created(&m.sys), &m.id);
            w.tms.push(m);
        }
        for mut m in seed.team_space_memberships {
            fill(&mut m.sys, epoch, &owner);
            w.tsms_by_space.push(&m.space, created(&m.sys), &m.id);
            w.tsms.push(m);
        }
        for mut m in seed.space_memberships {
            fill(&mut m.sys, epoch, &owner);
            w.sms_by_space.push(&m.space, created(&m.sys), &m.id);
            w.sms.push(m);
        }
        for mut t in seed.access_tokens {
            fill(&mut t.sys, epoch, &t.user.clone());
            w.tokens.push(t);
        }
        for mut i in seed.invitations {
            fill(&mut i.sys, epoch, &owner);
            w.invitations.push(i);
        }
        w.users.sort();
        w.oms.sort();
        w.spaces.sort();
        w.roles.sort();
        w.roles_by_space.sort();
        w.teams.sort();
        w.tms.sort();
        w.tms_by_team.sort();
        w.tsms.sort();
        w.tsms_by_space.sort();
        w.sms.sort();
        w.sms_by_space.sort();
        w.tokens.sort();
        w.invitations.sort();
        Ok(w)
    }

    /// The current state as a seed (records in stable order, bookkeeping filled in).
    pub fn to_seed(&self) -> Seed {
        Seed {
            organization: self.org.clone(),
            users: self.users.to_vec(),
            org_memberships: self.oms.to_vec(),
            spaces: self.spaces.to_vec(),
            roles: self.roles.to_vec(),
            teams: self.teams.to_vec(),
            team_memberships: self.tms.to_vec(),
            team_space_memberships: self.tsms.to_vec(),
            space_memberships: self.sms.to_vec(),
            access_tokens: self.tokens.to_vec(),
            invitations: self.invitations.to_vec(),
            api_tokens: self.api_tokens.clone(),
        }
    }

    /// The organization id.
    pub fn organization_id(&self) -> &str {
        &self.org.id
    }

    /// The first API token whose user is an active org owner or admin (else the first token).
    pub fn admin_token(&self) -> Option<String> {
        self.api_tokens
            .iter()
            .find(|t| {
                self.org_role_of(&t.user)
                    .is_some_and(|r| r >= OrgRole::Admin)
            })
            .or_else(|| self.api_tokens.first())
            .map(|t| t.token.clone())
    }

    /// Accept `token` as acting for `user_id` from now on (e.g. `--token`).
    pub fn add_api_token(&mut self, token: &str, user_id: &str) {
        self.api_tokens.retain(|t| t.token != token);
        self.api_tokens.insert(
            0,
            SeedApiToken {
                token: token.to_string(),
                user: user_id.to_string(),
            },
        );
    }

    /// The user a token acts as.
    pub fn token_user(&self, token: &str) -> Option<&str> {
        self.api_tokens
            .iter()
            .find(|t| t.token == token)
            .map(|t| t.user.as_str())
    }

    fn org_role_of(&self, user: &str) -> Option<OrgRole> {
        let m = self.oms.get(self.om_by_user.get(user)?)?;
        (m.status == MembershipStatus::Active).then_some(m.role)
    }

    /// The org membership of the user with this email.
    pub fn org_membership_by_email(&self, email: &str) -> Option<&SeedOrgMembership> {
        let user = self.user_by_email.get(&Email::new(email))?;
        self.oms.get(self.om_by_user.get(user)?)
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> Option<&SeedUser> {
        self.users.get(id)
    }

    /// The user with this email.
    pub fn user_by_email(&self, email: &str) -> Option<&SeedUser> {
        self.users.get(self.user_by_email.get(&Email::new(email))?)
    }

    /// Counts: (org memberships, teams, team memberships, team space memberships, space memberships).
    pub fn counts(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.oms.items.len(),
            self.teams.items.len(),
            self.tms.items.len(),
            self.tsms.items.len(),
            self.sms.items.len(),
        )
    }

    /// The current `sys.version` of an object.
    pub fn version_of(&self, kind: ObjectKind, id: &str) -> Option<u64> {
        Some(match kind {
            ObjectKind::OrganizationMembership => self.oms.get(id)?.sys.version,
            ObjectKind::Team => self.teams.get(id)?.sys.version,
            ObjectKind::TeamMembership => self.tms.get(id)?.sys.version,
            ObjectKind::TeamSpaceMembership => self.tsms.get(id)?.sys.version,
            ObjectKind::SpaceMembership => self.sms.get(id)?.sys.version,
            ObjectKind::Role => self.roles.get(id)?.sys.version,
            ObjectKind::Space => self.spaces.get(id)?.sys.version,
        })
    }

    fn sys_mut(&mut self, kind: ObjectKind, id: &str) -> Option<&mut SeedSys> {
        Some(match kind {
            ObjectKind::OrganizationMembership => self.oms.items.get_mut(id)?.sys_mut(),
            ObjectKind::Team => self.teams.items.get_mut(id)?.sys_mut(),
            ObjectKind::TeamMembership => self.tms.items.get_mut(id)?.sys_mut(),
            ObjectKind::TeamSpaceMembership => self.tsms.items.get_mut(id)?.sys_mut(),
            ObjectKind::SpaceMembership => self.sms.items.get_mut(id)?.sys_mut(),
            ObjectKind::Role => self.roles.items.get_mut(id)?.sys_mut(),
            ObjectKind::Space => self.spaces.items.get_mut(id)?.sys_mut(),
        })
    }

    /// "Another admin edits this object now": bumps `sys.version` and sets `updatedAt`/`updatedBy`
    /// to `by`. Returns false when there is no such object.
    pub fn bump_version(
        &mut self,
        kind: ObjectKind,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(sys) = self.sys_mut(kind, id) else {
            return false;
        };
        sys.version += 1;
        sys.updated_at = Some(now);
        sys.updated_by = Some(by.to_string());
        true
    }

    /// Arranges for the object to be edited by another admin right after a GET returns it (alone
    /// or in a list), so the caller's next write with the version it read gets a 409.
    pub fn bump_version_on_next_read(&mut self, kind: ObjectKind, id: &str) {
        self.pending_bumps.insert((kind, id.to_string()));
    }

    fn next_id(&mut self) -> String {
        let mut out = String::with_capacity(22);
        while out.len() < 22 {
            self.id_state = self.id_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.id_state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for _ in 0..10 {
                if out.len() == 22 {
                    break;
                }
                out.push(BASE62[(z % 62) as usize] as char);
                z /= 62;
            }
        }
        out
    }

    /// The next request id (a counter, formatted).
    pub fn next_request_id(&mut self) -> String {
        self.requests += 1;
        format!("sandbox-{:08x}", self.requests)
    }

    /// Handles one request at time `now`.
    pub fn handle(&mut self, req: &ApiRequest, now: DateTime<Utc>) -> ApiResponse {
        let request_id = self.next_request_id();
        let (status, body, location) = match self.dispatch(req, now) {
            Ok((status, body, location)) => (status, body, location),
            Err(e) => (e.status, Some(e.body(&request_id)), None),
        };
        if status == 200
            && req.method == "GET"
            && !self.pending_bumps.is_empty()
            && let Some(b) = &body
        {
            self.apply_bumps(b, req.token.as_deref(), now);
        }
        ApiResponse {
            status,
            body,
            location,
            request_id,
        }
    }

    fn apply_bumps(&mut self, body: &Value, token: Option<&str>, now: DateTime<Utc>) {
        let mut seen = Vec::new();
        let mut visit = |v: &Value| {
            let ty = v.pointer("/sys/type").and_then(Value::as_str);
            let id = v.pointer("/sys/id").and_then(Value::as_str);
            if let (Some(ty), Some(id)) = (ty, id) {
                seen.push((ty.to_string(), id.to_string()));
            }
        };
        visit(body);
        if let Some(items) = body.get("items").and_then(Value::as_array) {
            items.iter().for_each(&mut visit);
        }
        let caller = token.and_then(|t| self.token_user(t)).map(str::to_string);
        let other = self
            .oms
            .in_order()
            .filter(|m| m.role >= OrgRole::Admin && m.status == MembershipStatus::Active)
            .map(|m| m.user.clone())
            .find(|u| Some(u) != caller.as_ref())
            .unwrap_or_else(|| self.default_user.clone());
        let due: Vec<(ObjectKind, String)> = self
            .pending_bumps
            .iter()
            .filter(|(k, id)| seen.iter().any(|(t, i)| t == k.sys_type() && i == id))
            .cloned()
            .collect();
        for (kind, id) in due {
            self.pending_bumps.remove(&(kind, id.clone()));
            self.bump_version(kind, &id, &other, now);
        }
    }

    fn dispatch(
        &mut self,
        req: &ApiRequest,
        now: DateTime<Utc>,
    ) -> R<(u16, Option<Value>, Option<String>)> {
        let Some((route, p)) = match_route(&req.method, &req.path) else {
            return Err(ApiError::new(
                404,
                "NotFound",
                "The resource could not be found.",
            ));
        };
        let caller = self.authenticate(req)?;
        let q = &req.query;
        let ok = |v: Value| Ok((200, Some(v), None));
        let param = |i: usize| p.get(i).map(String::as_str).unwrap_or_default();
        if route.starts_with("/organizations/:org") {
            self.check_org(param(0), &caller)?;
        }
        if route.starts_with("/spaces/:space") {
            self.check_space(param(0), &caller)?;
        }
        let body = || parse_body(&req.body);
        match (req.method.as_str(), route) {
            ("GET", "/organizations") => {
                let lq = self.list_query(q, &[], &[])?;
                let items = if caller.role.is_some() {
                    vec![self.org_json()]
                } else {
                    vec![]
                };
                ok(page_of(items, &lq))
            }
            ("GET", "/organizations/:org") => ok(self.org_json()),
            ("GET", "/users/me") => {
                let u = self
                    .users
                    .get(&caller.user)
                    .ok_or_else(|| ApiError::not_found("User", "me"))?;
                ok(self.user_json(u))
            }
            ("GET", "/organizations/:org/users") => {
                let lq = self.list_query(q, &[], &[])?;
                if lq.is_plain() {
                    let (page, total) = window(&self.oms, &self.oms.order, &lq);
                    let page = page
                        .into_iter()
                        .filter_map(|m| self.users.get(&m.user).map(|u| self.user_json(u)))
                        .collect();
                    return ok(collection(page, total, &lq));
                }
                let needle = lq.query.as_ref().map(|s| s.to_lowercase());
                let items: Vec<&SeedOrgMembership> = self
                    .oms
                    .in_order()
                    .filter(|m| match (&needle, self.users.get(&m.user)) {
                        (Some(n), Some(u)) => user_matches(u, n),
                        _ => true,
                    })
                    .collect();
                let total = items.len();
                let page: Vec<Value> = items
                    .into_iter()
                    .skip(lq.skip)
                    .take(lq.limit)
                    .filter_map(|m| self.users.get(&m.user).map(|u| self.user_json(u)))
                    .collect();
                ok(collection(page, total, &lq))
            }
            ("GET", "/organizations/:org/users/:id") => {
                let id = param(1);
                if !self.om_by_user.contains_key(id) {
                    return Err(ApiError::not_found("User", id));
                }
                let u = self
                    .users
                    .get(id)
                    .ok_or_else(|| ApiError::not_found("User", id))?;
                ok(self.user_json(u))
            }
            ("GET", "/organizations/:org/organization_memberships") => {
                let lq = self.list_query(
                    q,
                    &["role", "sys.status", "sys.user.sys.id"],
                    &[
                        "role",
                        "sys.createdAt",
                        "sys.updatedAt",
                        "sys.lastActiveAt",
                        "sys.user.firstName",
                        "sys.user.lastName",
                        "sys.user.email",
                    ],
                )?;
                if lq.is_plain() {
                    let (page, total) = window(&self.oms, &self.oms.order, &lq);
                    return ok(self.om_page(page, total, &lq));
                }
                let needle = lq.query.as_ref().map(|s| s.to_lowercase());
                let items: Vec<&SeedOrgMembership> = self
                    .oms
                    .in_order()
                    .filter(|m| {
                        let user = self.users.get(&m.user);
                        if let (Some(n), Some(u)) = (&needle, user)
                            && !user_matches(u, n)
                        {
                            return false;
                        }
                        lq.filters.iter().all(|(path, op, vals)| {
                            let v = match path.as_str() {
                                "role" => m.role.as_str(),
                                "sys.status" => status_str(m.status),
                                _ => m.user.as_str(),
                            };
                            filter_ok(v, op, vals)
                        })
                    })
                    .collect();
                let items = self.sort_oms(items, &lq.order);
                let total = items.len();
                let page: Vec<&SeedOrgMembership> =
                    items.into_iter().skip(lq.skip).take(lq.limit).collect();
                ok(self.om_page(page, total, &lq))
            }
            ("GET", "/organizations/:org/organization_memberships/:id") => {
                ok(self.om_json(self.om(param(1))?))
            }
            ("PUT", "/organizations/:org/organization_memberships/:id") => {
                require_admin(&caller)?;
                let b = body()?;
                check_keys(&b, &["role", "sys"])?;
                let role_v = b.get("role").ok_or_else(|| missing("role"))?;
                let role = role_v.as_str().and_then(OrgRole::parse).ok_or_else(|| {
                    ApiError::validation(
                        "in",
                        "role",
                        role_v.clone(),
                        "must be one of owner, admin, developer, member",
                    )
                })?;
                let id = param(1).to_string();
                let m = self.om(&id)?;
                check_version(req, m.sys.version)?;
                // Only demoting the last *active* owner is refused, as for DELETE: a pending
                // owner is not one of the owners the org relies on.
                if m.role == OrgRole::Owner
                    && role != OrgRole::Owner
                    && m.status == MembershipStatus::Active
                    && self.active_owner_count() <= 1
                {
                    return Err(last_owner());
                }
                let m = self
                    .oms
                    .items
                    .get_mut(&id)
                    .ok_or_else(|| ApiError::not_found("OrganizationMembership", &id))?;
                m.role = role;
                touch(&mut m.sys, &caller.user, now);
                let m = self.om(&id)?;
                ok(self.om_json(m))
            }
            ("DELETE", "/organizations/:org/organization_memberships/:id") => {
                let id = param(1).to_string();
                let m = self.om(&id)?.clone();
                if !caller.is_admin() && m.user != caller.user {
                    return Err(ApiError::access_denied());
                }
                check_version_if_sent(req, m.sys.version)?;
                if m.role == OrgRole::Owner
                    && m.status == MembershipStatus::Active
                    && self.active_owner_count() <= 1
                {
                    return Err(last_owner());
                }
                self.remove_org_membership(&m);
                Ok((204, None, None))
            }
            ("POST", "/organizations/:org/invitations") => {
                require_admin(&caller)?;
                let b = body()?;
                check_keys(&b, &["email", "firstName", "lastName", "role"])?;
                let email_v = b.get("email").ok_or_else(|| missing("email"))?;
                let email = email_v
                    .as_str()
                    .and_then(|e| Email::parse(e).ok())
                    .ok_or_else(|| {
                        ApiError::validation(
                            "invalid",
                            "email",
                            email_v.clone(),
                            "must be an email address",
                        )
                    })?;
                let role = match b.get("role") {
                    None | Some(Value::Null) => OrgRole::Member,
                    Some(v) => v.as_str().and_then(OrgRole::parse).ok_or_else(|| {
                        ApiError::validation(
                            "in",
                            "role",
                            v.clone(),
                            "must be one of owner, admin, developer, member",
                        )
                    })?,
                };
                if let Some(existing) = self.org_membership_by_email(email.as_str()) {
                    let _ = existing;
                    return Err(ApiError::validation(
                        "taken",
                        "email",
                        json!(email.as_str()),
                        "This email already belongs to a member of the organization",
                    ));
                }
                let names = (opt_str(&b, "firstName"), opt_str(&b, "lastName"));
                let inv = self.invite(&email, role, &caller.user, now);
                let v = self.invitation_json(&inv, names);
                Ok((
                    201,
                    Some(v),
                    Some(format!(
                        "/organizations/{}/invitations/{}",
                        self.org.id, inv.id
                    )),
                ))
            }
            ("GET", "/organizations/:org/invitations/:id") => {
                require_admin(&caller)?;
                let inv = self
                    .invitations
                    .get(param(1))
                    .filter(|i| self.oms.get(&i.org_membership).is_some())
                    .ok_or_else(|| ApiError::not_found("Invitation", param(1)))?;
                ok(self.invitation_json(inv, (None, None)))
            }
            ("GET", "/organizations/:org/teams") => {
                let lq = self.list_query(q, &[], &["sys.createdAt", "sys.updatedAt", "name"])?;
                let items: Vec<&SeedTeam> = self.teams.in_order().collect();
                let items = sort_generic(items, &lq.order, |t, k| {
                    if k == "name" {
                        t.name.clone()
                    } else {
                        sys_key(&t.sys, k)
                    }
                });
                ok(list_of(items, &lq, |t| self.team_json(t)))
            }
            ("GET", "/organizations/:org/teams/:id") => ok(self.team_json(self.team(param(1))?)),
            ("POST", "/organizations/:org/teams") => {
                require_admin(&caller)?;
                let b = body()?;
                check_keys(&b, &["name", "description", "sys"])?;
                let (name, description) = self.team_fields(&b, None)?;
                let id = self.next_id();
                let mut t = SeedTeam {
                    id: id.clone(),
                    name,
                    description,
                    sys: SeedSys::default(),
                };
                fill(&mut t.sys, now, &caller.user);
                self.teams.insert(t);
                let v = self.team_json(self.team(&id)?);
                Ok((
                    201,
                    Some(v),
                    Some(format!("/organizations/{}/teams/{id}", self.org.id)),
                ))
            }
            ("PUT", "/organizations/:org/teams/:id") => {
                require_admin(&caller)?;
                let b = body()?;
                check_keys(&b, &["name", "description", "sys"])?;
                let id = param(1).to_string();
                let version = self.team(&id)?.sys.version;
                check_version(req, version)?;
                let (name, description) = self.team_fields(&b, Some(&id))?;
                if let Some(t) = self.teams.items.get_mut(&id) {
                    t.name = name;
                    t.description = description;
                    touch(&mut t.sys, &caller.user, now);
                }
                ok(self.team_json(self.team(&id)?))
            }
            ("DELETE", "/organizations/:org/teams/:id") => {
                require_admin(&caller)?;
                let id = param(1).to_string();
                check_version_if_sent(req, self.team(&id)?.sys.version)?;
                self.remove_team(&id);
                Ok((204, None, None))
            }
            ("GET", "/organizations/:org/teams/:team/team_memberships") => {
                self.team(param(1))?;
                let lq = self.list_query(q, &[], &["sys.createdAt", "sys.updatedAt"])?;
                let items: Vec<&SeedTeamMembership> = self
                    .tms_by_team
                    .get(param(1))
                    .map(|o| o.ids().filter_map(|id| self.tms.get(id)).collect())
                    .unwrap_or_default();
                self.tm_list(items, &lq)
            }
            ("GET", "/organizations/:org/team_memberships") => {
                let lq = self.list_query(
                    q,
                    &["sys.organizationMembership.sys.id", "sys.team.sys.id"],
                    &["sys.createdAt", "sys.updatedAt"],
                )?;
                if lq.is_plain() {
                    let (page, total) = window(&self.tms, &self.tms.order, &lq);
                    return Ok((200, Some(self.tm_page(page, total, &lq)), None));
                }
                let items: Vec<&SeedTeamMembership> = self
                    .tms
                    .in_order()
                    .filter(|m| {
                        lq.filters.iter().all(|(path, op, vals)| {
                            let v = if path == "sys.team.sys.id" {
                                &m.team
                            } else {
                                &m.org_membership
                            };
                            filter_ok(v, op, vals)
                        })
                    })
                    .collect();
                self.tm_list(items, &lq)
            }
            ("GET", "/organizations/:org/teams/:team/team_memberships/:id") => {
                ok(self.tm_json(self.tm(param(1), param(2))?))
            }
            ("POST", "/organizations/:org/teams/:team/team_memberships") => {
                require_admin(&caller)?;
                let team = param(1).to_string();
                self.team(&team)?;
                let b = body()?;
                check_keys(&b, &["organizationMembershipId", "admin", "sys"])?;
                let om_v = b
                    .get("organizationMembershipId")
                    .ok_or_else(|| missing("organizationMembershipId"))?;
                let om = om_v
                    .as_str()
                    .filter(|id| self.oms.get(id).is_some())
                    .ok_or_else(|| {
                        ApiError::validation(
                            "notResolvable",
                            "organizationMembershipId",
                            om_v.clone(),
                            "No organization membership with this id",
                        )
                    })?
                    .to_string();
                let admin = opt_bool(&b, "admin")?.unwrap_or(false);
                let taken = self.tms_by_team.get(&team).is_some_and(|o| {
                    o.ids()
                        .any(|id| self.tms.get(id).is_some_and(|m| m.org_membership == om))
                });
                if taken {
                    return Err(ApiError::validation(
                        "taken",
                        "organizationMembershipId",
                        json!(om),
                        "This organization membership is already a member of the team",
                    ));
                }
                let id = self.next_id();
                let mut m = SeedTeamMembership {
                    id: id.clone(),
                    team: team.clone(),
                    org_membership: om,
                    admin,
                    sys: SeedSys::default(),
                };
                fill(&mut m.sys, now, &caller.user);
                self.tms_by_team.insert(&team, now, &id);
                self.tms.insert(m);
                let v = self.tm_json(self.tm(&team, &id)?);
                Ok((
                    201,
                    Some(v),
                    Some(format!(
                        "/organizations/{}/teams/{team}/team_memberships/{id}",
                        self.org.id
                    )),
                ))
            }
            ("PUT", "/organizations/:org/teams/:team/team_memberships/:id") => {
                require_admin(&caller)?;
                let b = body()?;
                check_keys(&b, &["organizationMembershipId", "admin", "sys"])?;
                let (team, id) = (param(1).to_string(), param(2).to_string());
                let m = self.tm(&team, &id)?;
                check_version(req, m.sys.version)?;
                if let Some(om) = b.get("organizationMembershipId")
                    && om.as_str() != Some(m.org_membership.as_str())
                {
                    return Err(ApiError::validation(
                        "immutable",
                        "organizationMembershipId",
                        om.clone(),
                        "cannot be changed",
                    ));
                }
                let admin = opt_bool(&b, "admin")?;
                if let Some(m) = self.tms.items.get_mut(&id) {
                    if let Some(a) = admin {
                        m.admin = a;
                    }
                    touch(&mut m.sys, &caller.user, now);
                }
                ok(self.tm_json(self.tm(&team, &id)?))
            }
            ("DELETE", "/organizations/:org/teams/:team/team_memberships/:id") => {
                require_admin(&caller)?;
                let id = param(2).to_string();
                check_version_if_sent(req, self.tm(param(1), &id)?.sys.version)?;
                self.remove_tm(&id);
                Ok((204, None, None))
            }
            ("GET", "/organizations/:org/team_space_memberships") => {
                let lq = self.list_query(
                    q,
                    &["sys.team.sys.id", "sys.space.sys.id"],
                    &["sys.createdAt", "sys.updatedAt"],
                )?;
                let items: Vec<&SeedTeamSpaceMembership> = self
                    .tsms
                    .in_order()
                    .filter(|m| {
                        lq.filters.iter().all(|(path, op, vals)| {
                            let v = if path == "sys.team.sys.id" {
                                &m.team
                            } else {
                                &m.space
                            };
                            filter_ok(v, op, vals)
                        })
                    })
                    .collect();
                let items = sort_generic(items, &lq.order, |m, k| sys_key(&m.sys, k));
                ok(list_of(items, &lq, |m| self.tsm_json(m)))
            }
            ("GET", "/organizations/:org/team_space_memberships/:id") => {
                let m = self
                    .tsms
                    .get(param(1))
                    .ok_or_else(|| ApiError::not_found("TeamSpaceMembership", param(1)))?;
                ok(self.tsm_json(m))
            }
            ("GET", "/spaces/:space/team_space_memberships") => {
                require_admin(&caller)?;
                let lq = self.list_query(
                    q,
                    &["sys.id", "sys.team.sys.id"],
                    &["sys.createdAt", "sys.updatedAt"],
                )?;
                let items: Vec<&SeedTeamSpaceMembership> = self
                    .tsms_by_space
                    .get(param(0))
                    .map(|o| o.ids().filter_map(|id| self.tsms.get(id)).collect())
                    .unwrap_or_default();
                let items: Vec<&SeedTeamSpaceMembership> = items
                    .into_iter()
                    .filter(|m| {
                        lq.filters.iter().all(|(path, op, vals)| {
                            let v = if path == "sys.id" { &m.id } else { &m.team };
                            filter_ok(v, op, vals)
                        })
                    })
                    .collect();
                let items = sort_generic(items, &lq.order, |m, k| sys_key(&m.sys, k));
                ok(list_of(items, &lq, |m| self.tsm_json(m)))
            }
            ("GET", "/spaces/:space/team_space_memberships/:id") => {
                ok(self.tsm_json(self.tsm(param(0), param(1))?))
            }
            ("POST", "/spaces/:space/team_space_memberships") => {
                require_admin(&caller)?;
                let space = param(0).to_string();
                let team = req
                    .team
                    .clone()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| ApiError::new(400, "BadRequest", "The X-Contentful-Team header is required to create a team space membership."))?;
                if self.teams.get(&team).is_none() {
                    return Err(ApiError::validation(
                        "notResolvable",
                        "team",
                        json!(team),
                        "No team with the id in X-Contentful-Team",
                    ));
                }
                let b = body()?;
                check_keys(&b, &["admin", "roles", "sys"])?;
                let (admin, roles) = self.access_fields(&b, &space)?;
                let taken = self.tsms_by_space.get(&space).is_some_and(|o| {
                    o.ids()
                        .any(|id| self.tsms.get(id).is_some_and(|m| m.team == team))
                });
                if taken {
                    return Err(ApiError::validation(
                        "taken",
                        "team",
                        json!(team),
                        "This team already has a membership in this space",
                    ));
                }
                let id = self.next_id();
                let mut m = SeedTeamSpaceMembership {
                    id: id.clone(),
                    team,
                    space: space.clone(),
                    admin,
                    roles,
                    sys: SeedSys::default(),
                };
                fill(&mut m.sys, now, &caller.user);
                self.tsms_by_space.insert(&space, now, &id);
                self.tsms.insert(m);
                let v = self.tsm_json(self.tsm(&space, &id)?);
                Ok((
                    201,
                    Some(v),
                    Some(format!("/spaces/{space}/team_space_memberships/{id}")),
                ))
            }
            ("PUT", "/spaces/:space/team_space_memberships/:id") => {
                require_admin(&caller)?;
                let (space, id) = (param(0).to_string(), param(1).to_string());
                let b = body()?;
                check_keys(&b, &["admin", "roles", "sys"])?;
                let m = self.tsm(&space, &id)?;
                check_version(req, m.sys.version)?;
                if let Some(t) = req.team.as_deref()
                    && t != m.team
                {
                    return Err(ApiError::validation(
                        "immutable",
                        "team",
                        json!(t),
                        "The team of a team space membership cannot be changed",
                    ));
                }
                let (admin, roles) = self.access_fields(&b, &space)?;
                if let Some(m) = self.tsms.items.get_mut(&id) {
                    m.admin = admin;
                    m.roles = roles;
                    touch(&mut m.sys, &caller.user, now);
                }
                ok(self.tsm_json(self.tsm(&space, &id)?))
            }
            ("DELETE", "/spaces/:space/team_space_memberships/:id") => {
                require_admin(&caller)?;
                let id = param(1).to_string();
                check_version_if_sent(req, self.tsm(param(0), &id)?.sys.version)?;
                self.remove_tsm(&id);
                Ok((204, None, None))
            }
            ("GET", "/spaces/:space/space_memberships") => {
                let lq =
                    self.list_query(q, &["sys.user.sys.id"], &["sys.createdAt", "sys.updatedAt"])?;
                let items: Vec<&SeedSpaceMembership> = self
                    .sms_by_space
                    .get(param(0))
                    .map(|o| o.ids().filter_map(|id| self.sms.get(id)).collect())
                    .unwrap_or_default();
                self.sm_list(items, &lq)
            }
            ("GET", "/organizations/:org/space_memberships") => {
                require_admin(&caller)?;
                let lq = self.list_query(
                    q,
                    &["sys.user.sys.id", "sys.space.sys.id", "admin"],
                    &[
                        "sys.createdAt",
                        "sys.updatedAt",
                        "sys.user.firstName",
                        "sys.user.lastName",
                        "sys.user.email",
                    ],
                )?;
                if lq.is_plain() {
                    let (page, total) = window(&self.sms, &self.sms.order, &lq);
                    return Ok((200, Some(self.sm_page(page, total, &lq)), None));
                }
                let needle = lq.query.as_ref().map(|s| s.to_lowercase());
                let items: Vec<&SeedSpaceMembership> = self
                    .sms
                    .in_order()
                    .filter(|m| {
                        if let (Some(n), Some(u)) = (&needle, self.users.get(&m.user))
                            && !user_matches(u, n)
                        {
                            return false;
                        }
                        lq.filters.iter().all(|(path, op, vals)| {
                            let v = match path.as_str() {
                                "sys.user.sys.id" => m.user.as_str(),
                                "sys.space.sys.id" => m.space.as_str(),
                                _ => {
                                    if m.admin {
                                        "true"
                                    } else {
                                        "false"
                                    }
                                }
                            };
                            filter_ok(v, op, vals)
                        })
                    })
                    .collect();
                self.sm_list(items, &lq)
            }
            ("GET", "/organizations/:org/space_memberships/:id") => {
                require_admin(&caller)?;
                let m = self
                    .sms
                    .get(param(1))
                    .ok_or_else(|| ApiError::not_found("SpaceMembership", param(1)))?;
                ok(self.sm_json(m))
            }
            ("GET", "/spaces/:space/space_memberships/:id") => {
                ok(self.sm_json(self.sm(param(0), param(1))?))
            }
            ("POST", "/spaces/:space/space_memberships") => {
                require_admin(&caller)?;
                let space = param(0).to_string();
                let b = body()?;
                check_keys(&b, &["admin", "roles", "email", "sys"])?;
                let email_v = b.get("email").ok_or_else(|| missing("email"))?;
                let user = email_v
                    .as_str()
                    .and_then(|e| self.org_membership_by_email(e))
                    .map(|m| m.user.clone())
                    .ok_or_else(|| {
                        ApiError::validation(
                            "invalid",
                            "email",
                            email_v.clone(),
                            "The email must belong to a member of the space's organization",
                        )
                    })?;
                let (admin, roles) = self.access_fields(&b, &space)?;
                let taken = self.sms_by_space.get(&space).is_some_and(|o| {
                    o.ids()
                        .any(|id| self.sms.get(id).is_some_and(|m| m.user == user))
                });
                if taken {
                    return Err(ApiError::validation(
                        "taken",
                        "email",
                        email_v.clone(),
                        "This user already has a membership in this space",
                    ));
                }
                let id = self.next_id();
                let mut m = SeedSpaceMembership {
                    id: id.clone(),
                    space: space.clone(),
                    user,
                    admin,
                    roles,
                    sys: SeedSys::default(),
                };
                fill(&mut m.sys, now, &caller.user);
                self.sms_by_space.insert(&space, now, &id);
                self.sms.insert(m);
                let v = self.sm_json(self.sm(&space, &id)?);
                Ok((
                    201,
                    Some(v),
                    Some(format!("/spaces/{space}/space_memberships/{id}")),
                ))
            }
            ("PUT", "/spaces/:space/space_memberships/:id") => {
                require_admin(&caller)?;
                let (space, id) = (param(0).to_string(), param(1).to_string());
                let b = body()?;
                check_keys(&b, &["admin", "roles", "email", "user", "sys"])?;
                let m = self.sm(&space, &id)?;
                check_version(req, m.sys.version)?;
                let (admin, roles) = self.access_fields(&b, &space)?;
                if let Some(m) = self.sms.items.get_mut(&id) {
                    m.admin = admin;
                    m.roles = roles;
                    touch(&mut m.sys, &caller.user, now);
                }
                ok(self.sm_json(self.sm(&space, &id)?))
            }
            ("DELETE", "/spaces/:space/space_memberships/:id") => {
                require_admin(&caller)?;
                let id = param(1).to_string();
                check_version_if_sent(req, self.sm(param(0), &id)?.sys.version)?;
                self.remove_sm(&id);
                Ok((204, None, None))
            }
            ("GET", "/spaces") | ("GET", "/organizations/:org/spaces") => {
                if route == "/spaces"
                    && let Some(o) = req.organization.as_deref()
                {
                    self.check_org(o, &caller)?;
                }
                let lq = self.list_query(q, &[], &["sys.createdAt", "sys.updatedAt", "name"])?;
                let items: Vec<&SeedSpace> = self
                    .spaces
                    .in_order()
                    .filter(|s| self.can_see_space(&s.id, &caller))
                    .collect();
                let items = sort_generic(items, &lq.order, |s, k| {
                    if k == "name" {
                        s.name.clone()
                    } else {
                        sys_key(&s.sys, k)
                    }
                });
                ok(list_of(items, &lq, |s| self.space_json(s)))
            }
            ("GET", "/spaces/:space") => ok(self.space_json(self.space(param(0))?)),
            ("POST", "/spaces") => {
                if caller.role.is_none_or(|r| r < OrgRole::Developer) {
                    return Err(ApiError::access_denied());
                }
                if let Some(o) = req.organization.as_deref() {
                    self.check_org(o, &caller)?;
                }
                let b = body()?;
                check_keys(&b, &["name", "defaultLocale"])?;
                let name_v = b.get("name").ok_or_else(|| missing("name"))?;
                let name = name_v
                    .as_str()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| {
                        ApiError::validation(
                            "size",
                            "name",
                            name_v.clone(),
                            "must be a non-empty string",
                        )
                    })?
                    .to_string();
                let id = self
                    .next_id()
                    .chars()
                    .take(12)
                    .collect::<String>()
                    .to_lowercase();
                let mut s = SeedSpace {
                    id: id.clone(),
                    name,
                    sys: SeedSys::default(),
                };
                fill(&mut s.sys, now, &caller.user);
                self.spaces.insert(s);
                let mut ids = Vec::new();
                for _ in 0..4 {
                    ids.push(self.next_id());
                }
                let mut ids = ids.into_iter();
                for mut r in default_roles_for(&id, || ids.next().unwrap_or_default()) {
                    fill(&mut r.sys, now, &caller.user);
                    self.roles_by_space.insert(&id, now, &r.id);
                    self.roles.insert(r);
                }
                let v = self.space_json(self.space(&id)?);
                Ok((201, Some(v), Some(format!("/spaces/{id}"))))
            }
            ("GET", "/spaces/:space/roles") => {
                let lq = self.list_query(q, &[], &["sys.createdAt", "sys.updatedAt", "name"])?;
                let items: Vec<&SeedRole> = self
                    .roles_by_space
                    .get(param(0))
                    .map(|o| o.ids().filter_map(|id| self.roles.get(id)).collect())
                    .unwrap_or_default();
                let items = sort_generic(items, &lq.order, |r, k| {
                    if k == "name" {
                        r.name.clone()
                    } else {
                        sys_key(&r.sys, k)
                    }
                });
                ok(list_of(items, &lq, role_json))
            }
            ("GET", "/spaces/:space/roles/:id") => ok(role_json(self.role(param(0), param(1))?)),
            ("POST", "/spaces/:space/roles") => {
                require_admin(&caller)?;
                let space = param(0).to_string();
                let b = body()?;
                check_keys(
                    &b,
                    &["name", "description", "policies", "permissions", "sys"],
                )?;
                let id = self.next_id();
                let mut r = SeedRole {
                    id: id.clone(),
                    space: space.clone(),
                    name: String::new(),
                    description: String::new(),
                    policies: json!([]),
                    permissions: json!({}),
                    sys: SeedSys::default(),
                };
                self.role_fields(&b, &mut r)?;
                fill(&mut r.sys, now, &caller.user);
                self.roles_by_space.insert(&space, now, &id);
                self.roles.insert(r);
                let v = role_json(self.role(&space, &id)?);
                Ok((201, Some(v), Some(format!("/spaces/{space}/roles/{id}"))))
            }
            ("PUT", "/spaces/:space/roles/:id") => {
                require_admin(&caller)?;
                let (space, id) = (param(0).to_string(), param(1).to_string());
                let b = body()?;
                check_keys(
                    &b,
                    &["name", "description", "policies", "permissions", "sys"],
                )?;
                let mut r = self.role(&space, &id)?.clone();
                check_version(req, r.sys.version)?;
                self.role_fields(&b, &mut r)?;
                touch(&mut r.sys, &caller.user, now);
                self.roles.items.insert(id.clone(), r);
                ok(role_json(self.role(&space, &id)?))
            }
            ("DELETE", "/spaces/:space/roles/:id") => {
                require_admin(&caller)?;
                let (space, id) = (param(0).to_string(), param(1).to_string());
                self.role(&space, &id)?;
                if let Some(r) = self.roles.remove(&id) {
                    self.roles_by_space.remove(&space, created(&r.sys), &id);
                }
                for m in self.sms.items.values_mut().filter(|m| m.space == space) {
                    m.roles.retain(|r| r != &id);
                }
                for m in self.tsms.items.values_mut().filter(|m| m.space == space) {
                    m.roles.retain(|r| r != &id);
                }
                Ok((204, None, None))
            }
            ("GET", "/organizations/:org/access_tokens") => {
                require_admin(&caller)?;
                let lq = self.list_query(q, &[], &["sys.createdAt", "sys.updatedAt"])?;
                let items: Vec<&SeedAccessToken> = self.tokens.in_order().collect();
                let items = sort_generic(items, &lq.order, |t, k| sys_key(&t.sys, k));
                let total = items.len();
                let page: Vec<&SeedAccessToken> =
                    items.into_iter().skip(lq.skip).take(lq.limit).collect();
                let users = page.iter().map(|t| t.user.as_str()).collect();
                let mut v = collection(page.iter().map(|t| token_json(t)).collect(), total, &lq);
                self.add_user_includes(&mut v, &lq, users);
                ok(v)
            }
            _ => Err(ApiError::new(
                404,
                "NotFound",
                "The resource could not be found.",
            )),
        }
    }

    fn authenticate(&self, req: &ApiRequest) -> R<Caller> {
        let user = req
            .token
            .as_deref()
            .and_then(|t| self.token_user(t))
            .filter(|u| self.users.get(u).is_some())
            .ok_or_else(|| {
                ApiError::new(
                    401,
                    "AccessTokenInvalid",
                    "The access token you sent could not be found or is invalid.",
                )
            })?;
        Ok(Caller {
            user: user.to_string(),
            role: self.org_role_of(user),
        })
    }

    fn check_org(&self, org: &str, caller: &Caller) -> R<()> {
        if org != self.org.id || caller.role.is_none() {
            return Err(ApiError::not_found("Organization", org));
        }
        Ok(())
    }

    fn can_see_space(&self, space: &str, caller: &Caller) -> bool {
        if caller.is_admin() {
            return true;
        }
        let direct = self.sms_by_space.get(space).is_some_and(|o| {
            o.ids()
                .any(|id| self.sms.get(id).is_some_and(|m| m.user == caller.user))
        });
        if direct {
            return true;
        }
        let Some(om) = self.om_by_user.get(&caller.user) else {
            return false;
        };
        self.tsms_by_space.get(space).is_some_and(|o| {
            o.ids().filter_map(|id| self.tsms.get(id)).any(|tsm| {
                self.tms_by_team.get(&tsm.team).is_some_and(|tms| {
                    tms.ids()
                        .any(|id| self.tms.get(id).is_some_and(|m| &m.org_membership == om))
                })
            })
        })
    }

    fn check_space(&self, space: &str, caller: &Caller) -> R<()> {
        if caller.role.is_none()
            || self.spaces.get(space).is_none()
            || !self.can_see_space(space, caller)
        {
            return Err(ApiError::not_found("Space", space));
        }
        Ok(())
    }

    fn list_query(
        &self,
        q: &[(String, String)],
        filters: &[&str],
        orders: &[&str],
    ) -> R<ListQuery> {
        let mut lq = ListQuery {
            limit: 25,
            ..ListQuery::default()
        };
        for (k, v) in q {
            match k.as_str() {
                "skip" => {
                    lq.skip = v.parse().map_err(|_| {
                        ApiError::invalid_query(
                            "skip",
                            "The skip parameter must be a non-negative integer",
                        )
                    })?;
                }
                "limit" => {
                    let n: usize = v.parse().map_err(|_| {
                        ApiError::invalid_query(
                            "limit",
                            "The limit parameter must be an integer between 0 and 100",
                        )
                    })?;
                    if n > 100 {
                        return Err(ApiError::invalid_query(
                            "limit",
                            "The limit parameter must be an integer between 0 and 100",
                        ));
                    }
                    lq.limit = n;
                }
                "order" => {
                    for part in v.split(',').filter(|p| !p.is_empty()) {
                        let (desc, key) = match part.strip_prefix('-') {
                            Some(k) => (true, k),
                            None => (false, part),
                        };
                        if !orders.contains(&key) {
                            return Err(ApiError::invalid_query(
                                key,
                                &format!("Ordering by {key:?} is not supported"),
                            ));
                        }
                        lq.order.push((key.to_string(), desc));
                    }
                }
                "include" => {
                    for part in v.split(',').filter(|p| !p.is_empty()) {
                        match part {
                            "sys.user" => lq.include_user = true,
                            "sys.createdBy"
                            | "sys.updatedBy"
                            | "sys.space"
                            | "sys.team"
                            | "roles"
                            | "sys.organizationMembership" => {}
                            other => {
                                return Err(ApiError::invalid_query(
                                    other,
                                    &format!("The path {other:?} cannot be included"),
                                ));
                            }
                        }
                    }
                }
                "query" => lq.query = Some(v.clone()),
                key => {
                    let (path, op) = match key.split_once('[') {
                        Some((p, rest)) => (p, rest.trim_end_matches(']')),
                        None => (key, "eq"),
                    };
                    if !filters.contains(&path) {
                        return Err(ApiError::invalid_query(
                            path,
                            &format!("The path \"{path}\" is not recognized"),
                        ));
                    }
                    if !["eq", "ne", "in", "nin"].contains(&op) {
                        return Err(ApiError::invalid_query(
                            path,
                            &format!("The operator {op:?} is not supported for {path:?}"),
                        ));
                    }
                    let vals = if op == "in" || op == "nin" {
                        v.split(',').map(str::to_string).collect()
                    } else {
                        vec![v.clone()]
                    };
                    lq.filters.push((path.to_string(), op.to_string(), vals));
                }
            }
        }
        Ok(lq)
    }

    fn sort_oms<'a>(
        &self,
        items: Vec<&'a SeedOrgMembership>,
        order: &[(String, bool)],
    ) -> Vec<&'a SeedOrgMembership> {
        sort_generic(items, order, |m, k| {
            let u = self.users.get(&m.user);
            match k {
                "role" => m.role.as_str().to_string(),
                "sys.lastActiveAt" => m.last_active_at.map(ts).unwrap_or_default(),
                "sys.user.firstName" => u
                    .and_then(|u| u.first_name.clone())
                    .unwrap_or_default()
                    .to_lowercase(),
                "sys.user.lastName" => u
                    .and_then(|u| u.last_name.clone())
                    .unwrap_or_default()
                    .to_lowercase(),
                "sys.user.email" => u.map(|u| u.email.clone()).unwrap_or_default(),
                _ => sys_key(&m.sys, k),
            }
        })
    }

    fn add_user_includes(&self, v: &mut Value, lq: &ListQuery, users: Vec<&str>) {
        if !lq.include_user {
            return;
        }
        let mut seen = HashSet::new();
        let list: Vec<Value> = users
            .into_iter()
            .filter(|u| seen.insert(*u))
            .filter_map(|u| self.users.get(u).map(|u| self.user_json(u)))
            .collect();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("includes".to_string(), json!({"User": list}));
        }
    }

    fn tm_list(
        &self,
        items: Vec<&SeedTeamMembership>,
        lq: &ListQuery,
    ) -> R<(u16, Option<Value>, Option<String>)> {
        let items = sort_generic(items, &lq.order, |m, k| sys_key(&m.sys, k));
        let total = items.len();
        let page: Vec<&SeedTeamMembership> =
            items.into_iter().skip(lq.skip).take(lq.limit).collect();
        Ok((200, Some(self.tm_page(page, total, lq)), None))
    }

    fn tm_page(&self, page: Vec<&SeedTeamMembership>, total: usize, lq: &ListQuery) -> Value {
        let users = page
            .iter()
            .filter_map(|m| self.oms.get(&m.org_membership).map(|om| om.user.as_str()))
            .collect();
        let mut v = collection(page.iter().map(|m| self.tm_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    fn sm_list(
        &self,
        items: Vec<&SeedSpaceMembership>,
        lq: &ListQuery,
    ) -> R<(u16, Option<Value>, Option<String>)> {
        let items = sort_generic(items, &lq.order, |m, k| {
            let u = self.users.get(&m.user);
            match k {
                "sys.user.firstName" => u
                    .and_then(|u| u.first_name.clone())
                    .unwrap_or_default()
                    .to_lowercase(),
                "sys.user.lastName" => u
                    .and_then(|u| u.last_name.clone())
                    .unwrap_or_default()
                    .to_lowercase(),
                "sys.user.email" => u.map(|u| u.email.clone()).unwrap_or_default(),
                _ => sys_key(&m.sys, k),
            }
        });
        let total = items.len();
        let page: Vec<&SeedSpaceMembership> =
            items.into_iter().skip(lq.skip).take(lq.limit).collect();
        Ok((200, Some(self.sm_page(page, total, lq)), None))
    }

    fn sm_page(&self, page: Vec<&SeedSpaceMembership>, total: usize, lq: &ListQuery) -> Value {
        let users = page.iter().map(|m| m.user.as_str()).collect();
        let mut v = collection(page.iter().map(|m| self.sm_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    fn om_page(&self, page: Vec<&SeedOrgMembership>, total: usize, lq: &ListQuery) -> Value {
        let users: Vec<&str> = page.iter().map(|m| m.user.as_str()).collect();
        let mut v = collection(page.iter().map(|m| self.om_json(m)).collect(), total, lq);
        self.add_user_includes(&mut v, lq, users);
        v
    }

    fn active_owner_count(&self) -> usize {
        self.oms
            .items
            .values()
            .filter(|m| m.role == OrgRole::Owner && m.status == MembershipStatus::Active)
            .count()
    }

    fn invite(
        &mut self,
        email: &Email,
        role: OrgRole,
        by: &str,
        now: DateTime<Utc>,
    ) -> SeedInvitation {
        let user_id = match self.user_by_email.get(email) {
            Some(id) => id.clone(),
            None => {
                let id = self.next_id();
                let mut u = SeedUser {
                    id: id.clone(),
                    email: email.to_string(),
                    first_name: None,
                    last_name: None,
                    activated: false,
                    sign_in_count: 0,
                    sys: SeedSys::default(),
                };
                fill(&mut u.sys, now, by);
                self.user_by_email.insert(email.clone(), id.clone());
                self.users.insert(u);
                id
            }
        };
        let om_id = self.next_id();
        let mut m = SeedOrgMembership {
            id: om_id.clone(),
            user: user_id.clone(),
            role,
            status: MembershipStatus::Pending,
            last_active_at: None,
            sys: SeedSys::default(),
        };
        fill(&mut m.sys, now, by);
        self.om_by_user.insert(user_id, om_id.clone());
        self.oms.insert(m);
        let mut inv = SeedInvitation {
            id: self.next_id(),
            org_membership: om_id,
            sys: SeedSys::default(),
        };
        fill(&mut inv.sys, now, by);
        self.invitations.insert(inv.clone());
        inv
    }

    fn remove_org_membership(&mut self, m: &SeedOrgMembership) {
        let tms: Vec<String> = self
            .tms
            .items
            .values()
            .filter(|t| t.org_membership == m.id)
            .map(|t| t.id.clone())
            .collect();
        for id in tms {
            self.remove_tm(&id);
        }
        let sms: Vec<String> = self
            .sms
            .items
            .values()
            .filter(|s| s.user == m.user)
            .map(|s| s.id.clone())
            .collect();
        for id in sms {
            self.remove_sm(&id);
        }
        self.oms.remove(&m.id);
        self.om_by_user.remove(&m.user);
    }

    fn remove_team(&mut self, id: &str) {
        let tms: Vec<String> = self
            .tms_by_team
            .get(id)
            .map(|o| o.ids().cloned().collect())
            .unwrap_or_default();
        for tm in tms {
            self.remove_tm(&tm);
        }
        let tsms: Vec<String> = self
            .tsms
            .items
            .values()
            .filter(|m| m.team == id)
            .map(|m| m.id.clone())
            .collect();
        for tsm in tsms {
            self.remove_tsm(&tsm);
        }
        self.teams.remove(id);
    }

    fn remove_tm(&mut self, id: &str) {
        if let Some(m) = self.tms.remove(id) {
            self.tms_by_team.remove(&m.team, created(&m.sys), id);
        }
    }

    fn remove_tsm(&mut self, id: &str) {
        if let Some(m) = self.tsms.remove(id) {
            self.tsms_by_space.remove(&m.space, created(&m.sys), id);
        }
    }

    fn remove_sm(&mut self, id: &str) {
        if let Some(m) = self.sms.remove(id) {
            self.sms_by_space.remove(&m.space, created(&m.sys), id);
        }
    }

    fn om(&self, id: &str) -> R<&SeedOrgMembership> {
        self.oms
            .get(id)
            .ok_or_else(|| ApiError::not_found("OrganizationMembership", id))
    }

    fn team(&self, id: &str) -> R<&SeedTeam> {
        self.teams
            .get(id)
            .ok_or_else(|| ApiError::not_found("Team", id))
    }

    fn tm(&self, team: &str, id: &str) -> R<&SeedTeamMembership> {
        self.team(team)?;
        self.tms
            .get(id)
            .filter(|m| m.team == team)
            .ok_or_else(|| ApiError::not_found("TeamMembership", id))
    }

    fn tsm(&self, space: &str, id: &str) -> R<&SeedTeamSpaceMembership> {
        self.tsms
            .get(id)
            .filter(|m| m.space == space)
            .ok_or_else(|| ApiError::not_found("TeamSpaceMembership", id))
    }

    fn sm(&self, space: &str, id: &str) -> R<&SeedSpaceMembership> {
        self.sms
            .get(id)
            .filter(|m| m.space == space)
            .ok_or_else(|| ApiError::not_found("SpaceMembership", id))
    }

    fn space(&self, id: &str) -> R<&SeedSpace> {
        self.spaces
            .get(id)
            .ok_or_else(|| ApiError::not_found("Space", id))
    }

    fn role(&self, space: &str, id: &str) -> R<&SeedRole> {
        self.roles
            .get(id)
            .filter(|r| r.space == space)
            .ok_or_else(|| ApiError::not_found("Role", id))
    }

    fn team_fields(&self, b: &Value, this: Option<&str>) -> R<(String, Option<String>)> {
        let name_v = b.get("name").ok_or_else(|| missing("name"))?;
        let name = name_v
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                ApiError::validation("size", "name", name_v.clone(), "must be a non-empty string")
            })?
            .to_string();
        let description = match b.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                return Err(ApiError::validation(
                    "type",
                    "description",
                    v.clone(),
                    "must be a string or null",
                ));
            }
        };
        if self
            .teams
            .items
            .values()
            .any(|t| t.name == name && Some(t.id.as_str()) != this)
        {
            return Err(ApiError::validation(
                "taken",
                "name",
                json!(name),
                "A team with this name already exists",
            ));
        }
        Ok((name, description))
    }

    /// Reads `admin` + `roles` of a (team) space membership body: role links must name roles of
    /// `space`; `admin: true` clears the roles; a non-admin needs at least one role.
    fn access_fields(&self, b: &Value, space: &str) -> R<(bool, Vec<String>)> {
        let admin = opt_bool(b, "admin")?.unwrap_or(false);
        let roles_v = b.get("roles").cloned().unwrap_or(json!([]));
        let arr = roles_v.as_array().ok_or_else(|| {
            ApiError::validation(
                "type",
                "roles",
                roles_v.clone(),
                "must be an array of role links",
            )
        })?;
        let mut roles = Vec::new();
        for r in arr {
            let is_link = r.pointer("/sys/type").and_then(Value::as_str) == Some("Link")
                && r.pointer("/sys/linkType").and_then(Value::as_str) == Some("Role");
            let id = r.pointer("/sys/id").and_then(Value::as_str).filter(|_| is_link).ok_or_else(|| {
                ApiError::validation("type", "roles", r.clone(), "each role must be {\"sys\":{\"type\":\"Link\",\"linkType\":\"Role\",\"id\":…}}")
            })?;
            if self.roles.get(id).is_none_or(|role| role.space != space) {
                return Err(ApiError::validation(
                    "notResolvable",
                    "roles",
                    r.clone(),
                    "No role with this id in this space",
                ));
            }
            if !roles.iter().any(|x| x == id) {
                roles.push(id.to_string());
            }
        }
        if admin {
            return Ok((true, vec![]));
        }
        if roles.is_empty() {
            return Err(ApiError::validation(
                "size",
                "roles",
                roles_v,
                "A membership that is not admin needs at least one role",
            ));
        }
        Ok((false, roles))
    }

    fn role_fields(&self, b: &Value, r: &mut SeedRole) -> R<()> {
        let name_v = b.get("name").ok_or_else(|| missing("name"))?;
        r.name = name_v
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                ApiError::validation("size", "name", name_v.clone(), "must be a non-empty string")
            })?
            .to_string();
        let taken = self.roles_by_space.get(&r.space).is_some_and(|o| {
            o.ids()
                .any(|id| id != &r.id && self.roles.get(id).is_some_and(|x| x.name == r.name))
        });
        if taken {
            return Err(ApiError::validation(
                "taken",
                "name",
                json!(r.name),
                "A role with this name already exists in this space",
            ));
        }
        r.description = opt_str(b, "description").unwrap_or_default();
        if let Some(p) = b.get("policies") {
            if !p.is_array() {
                return Err(ApiError::validation(
                    "type",
                    "policies",
                    p.clone(),
                    "must be an array",
                ));
            }
            r.policies = p.clone();
        }
        if let Some(p) = b.get("permissions") {
            if !p.is_object() {
                return Err(ApiError::validation(
                    "type",
                    "permissions",
                    p.clone(),
                    "must be an object",
                ));
            }
            r.permissions = p.clone();
        }
        Ok(())
    }

    // ---- JSON renderings ----

    fn org_json(&self) -> Value {
        json!({
            "name": self.org.name,
            "sys": {
                "type": "Organization",
                "id": self.org.id,
                "version": self.org.sys.version,
                "createdAt": ts(created(&self.org.sys)),
                "updatedAt": ts(self.org.sys.updated_at.unwrap_or_else(default_epoch)),
            }
        })
    }

    fn user_json(&self, u: &SeedUser) -> Value {
        let mut sys = json!({
            "type": "User",
            "id": u.id,
            "version": u.sys.version,
            "createdAt": ts(created(&u.sys)),
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

    fn om_json(&self, m: &SeedOrgMembership) -> Value {
        json!({
            "role": m.role.as_str(),
            "sys": {
                "type": "OrganizationMembership",
                "id": m.id,
                "version": m.sys.version,
                "status": status_str(m.status),
                "createdAt": ts(created(&m.sys)),
                "updatedAt": ts(m.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", m.sys.created_by.as_deref().unwrap_or_default()),
                "updatedBy": link("User", m.sys.updated_by.as_deref().unwrap_or_default()),
                "lastActiveAt": ts_opt(m.last_active_at),
                "sso": Value::Null,
                "user": link("User", &m.user),
                "organization": link("Organization", &self.org.id),
            }
        })
    }

    fn invitation_json(
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
                "createdAt": ts(created(&inv.sys)),
                "updatedAt": ts(inv.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", inv.sys.created_by.as_deref().unwrap_or_default()),
                "user": if accepted { user.map_or(Value::Null, |u| link("User", &u.id)) } else { Value::Null },
                "invitationUrl": format!("https://be.contentful.com/invitations/{}?token=sandbox", inv.id),
            }
        })
    }

    fn team_json(&self, t: &SeedTeam) -> Value {
        json!({
            "name": t.name,
            "description": t.description,
            "sys": {
                "type": "Team",
                "id": t.id,
                "version": t.sys.version,
                "memberCount": self.tms_by_team.len(&t.id),
                "organization": link("Organization", &self.org.id),
                "createdAt": ts(created(&t.sys)),
                "updatedAt": ts(t.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", t.sys.created_by.as_deref().unwrap_or_default()),
                "updatedBy": link("User", t.sys.updated_by.as_deref().unwrap_or_default()),
            }
        })
    }

    fn tm_json(&self, m: &SeedTeamMembership) -> Value {
        let user = self
            .oms
            .get(&m.org_membership)
            .map(|om| om.user.clone())
            .unwrap_or_default();
        json!({
            "admin": m.admin,
            "organizationMembershipId": m.org_membership,
            "sys": {
                "type": "TeamMembership",
                "id": m.id,
                "version": m.sys.version,
                "createdAt": ts(created(&m.sys)),
                "updatedAt": ts(m.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", m.sys.created_by.as_deref().unwrap_or_default()),
                "updatedBy": link("User", m.sys.updated_by.as_deref().unwrap_or_default()),
                "organization": link("Organization", &self.org.id),
                "organizationMembership": link("OrganizationMembership", &m.org_membership),
                "team": link("Team", &m.team),
                "user": link("User", &user),
            }
        })
    }

    fn tsm_json(&self, m: &SeedTeamSpaceMembership) -> Value {
        json!({
            "admin": m.admin,
            "roles": m.roles.iter().map(|r| link("Role", r)).collect::<Vec<_>>(),
            "sys": {
                "type": "TeamSpaceMembership",
                "id": m.id,
                "version": m.sys.version,
                "createdAt": ts(created(&m.sys)),
                "updatedAt": ts(m.sys.updated_at.unwrap_or_else(default_epoch)),
                "createdBy": link("User", m.sys.created_by.as_deref().unwrap_or_default()),
                "updatedBy": link("User", m.sys.updated_by.as_deref().unwrap_or_default()),
                "team": link("Team", &m.team),
                "space": link("Space", &m.space),
            }
        })
    }

    fn sm_json(&self, m: &SeedSpaceMembership) -> Value {
        json!({
            "admin": m.admin,
            "sys": {
                "type": "SpaceMembership",
                "id": m.id,
                "version": m.sys.version,
                "space": link("Space", &m.space),
                "user": link("User", &m.user),
                "createdBy": link("User", m.sys.created_by.as_deref().unwrap_or_default()),
                "createdAt": ts(created(&m.sys)),
                "updatedBy": link("User", m.sys.updated_by.as_deref().unwrap_or_default()),
                "updatedAt": ts(m.sys.updated_at.unwrap_or_else(default_epoch)),
            },
            "user": link("User", &m.user),
            "roles": m.roles.iter().map(|r| link("Role", r)).collect::<Vec<_>>(),
        })
    }

    fn space_json(&self, s: &SeedSpace) -> Value {
        json!({
            "name": s.name,
            "sys": {
                "type": "Space",
                "id": s.id,
                "version": s.sys.version,
                "createdBy": link("User", s.sys.created_by.as_deref().unwrap_or_default()),
                "createdAt": ts(created(&s.sys)),
                "updatedBy": link("User", s.sys.updated_by.as_deref().unwrap_or_default()),
                "updatedAt": ts(s.sys.updated_at.unwrap_or_else(default_epoch)),
                "organization": link("Organization", &self.org.id),
            }
        })
    }
}

fn role_json(r: &SeedRole) -> Value {
    json!({
        "name": r.name,
        "description": r.description,
        "policies": r.policies,
        "permissions": r.permissions,
        "sys": {
            "type": "Role",
            "id": r.id,
            "version": r.sys.version,
            "space": link("Space", &r.space),
            "createdBy": link("User", r.sys.created_by.as_deref().unwrap_or_default()),
            "createdAt": ts(created(&r.sys)),
            "updatedBy": link("User", r.sys.updated_by.as_deref().unwrap_or_default()),
            "updatedAt": ts(r.sys.updated_at.unwrap_or_else(default_epoch)),
        }
    })
}

fn token_json(t: &SeedAccessToken) -> Value {
    let tail: String =
        t.id.chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
    json!({
        "name": t.name,
        "scopes": t.scopes,
        "revokedAt": ts_opt(t.revoked_at),
        "sys": {
            "type": "AccessToken",
            "id": t.id,
            "redactedValue": t.redacted_value.clone().unwrap_or_else(|| format!("CFPAT-…{tail}")),
            "user": link("User", &t.user),
            "expiresAt": ts_opt(t.expires_at),
            "lastUsedAt": ts_opt(t.last_used_at),
            "createdAt": ts(created(&t.sys)),
            "updatedAt": ts(t.sys.updated_at.unwrap_or_else(default_epoch)),
        }
    })
}

fn status_str(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Pending => "pending",
    }
}

fn user_matches(u: &SeedUser, needle: &str) -> bool {
    u.id.to_lowercase().contains(needle)
        || u.email.contains(needle)
        || u.first_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(needle))
        || u.last_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(needle))
}

fn filter_ok(v: &str, op: &str, vals: &[String]) -> bool {
    let hit = vals.iter().any(|x| x == v);
    match op {
        "ne" | "nin" => !hit,
        _ => hit,
    }
}

fn sys_key(s: &SeedSys, k: &str) -> String {
    match k {
        "sys.updatedAt" => s.updated_at.map(ts).unwrap_or_default(),
        _ => s.created_at.map(ts).unwrap_or_default(),
    }
}

/// Sorts by the requested keys (stable, so ties keep the default `(createdAt, id)` order).
fn sort_generic<'a, T>(
    mut items: Vec<&'a T>,
    order: &[(String, bool)],
    key: impl Fn(&T, &str) -> String,
) -> Vec<&'a T> {
    if order.is_empty() {
        return items;
    }
    items.sort_by(|a, b| {
        for (k, desc) in order {
            let c = key(a, k).cmp(&key(b, k));
            let c = if *desc { c.reverse() } else { c };
            if c.is_ne() {
                return c;
            }
        }
        std::cmp::Ordering::Equal
    });
    items
}

impl ListQuery {
    /// No filter, search or ordering: the page can be sliced straight out of the stable order.
    fn is_plain(&self) -> bool {
        self.filters.is_empty() && self.query.is_none() && self.order.is_empty()
    }
}

/// The page `lq` asks for, sliced out of `ids` in O(page), and the total.
fn window<'a, T: Rec + Clone>(
    table: &'a Table<T>,
    ids: &'a Ordered,
    lq: &ListQuery,
) -> (Vec<&'a T>, usize) {
    let all = &ids.0;
    let start = lq.skip.min(all.len());
    let end = start.saturating_add(lq.limit).min(all.len());
    let page = all[start..end]
        .iter()
        .filter_map(|(_, id)| table.get(id))
        .collect();
    (page, all.len())
}

fn collection(items: Vec<Value>, total: usize, lq: &ListQuery) -> Value {
    json!({"sys": {"type": "Array"}, "total": total, "skip": lq.skip, "limit": lq.limit, "items": items})
}

fn page_of(items: Vec<Value>, lq: &ListQuery) -> Value {
    let total = items.len();
    collection(
        items.into_iter().skip(lq.skip).take(lq.limit).collect(),
        total,
        lq,
    )
}

fn list_of<T>(items: Vec<&T>, lq: &ListQuery, f: impl Fn(&T) -> Value) -> Value {
    let total = items.len();
    let page = items
        .into_iter()
        .skip(lq.skip)
        .take(lq.limit)
        .map(f)
        .collect();
    collection(page, total, lq)
}

fn touch(sys: &mut SeedSys, by: &str, now: DateTime<Utc>) {
    sys.version += 1;
    sys.updated_at = Some(now);
    sys.updated_by = Some(by.to_string());
}

fn require_admin(c: &Caller) -> R<()> {
    if c.is_admin() {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

fn last_owner() -> ApiError {
    ApiError::validation(
        "lastOwner",
        "role",
        json!("owner"),
        "An organization must keep at least one owner",
    )
}

fn check_version(req: &ApiRequest, current: u64) -> R<()> {
    let Some(v) = req.version.as_deref() else {
        return Err(ApiError::new(
            409,
            "VersionMismatch",
            "Please pass sys.version as HTTP header \"X-Contentful-Version\"",
        ));
    };
    if v.trim().parse::<u64>().ok() != Some(current) {
        return Err(ApiError::new(
            409,
            "VersionMismatch",
            "The version you sent does not match the current version of the resource.",
        ));
    }
    Ok(())
}

/// Deletes check `X-Contentful-Version` only when it is sent (the SDKs send none; whether
/// Contentful checks it on access objects is unconfirmed), as a 409 like updates.
fn check_version_if_sent(req: &ApiRequest, current: u64) -> R<()> {
    match req.version {
        Some(_) => check_version(req, current),
        None => Ok(()),
    }
}

fn parse_body(bytes: &[u8]) -> R<Value> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            400,
            "BadRequest",
            format!("Invalid JSON in request body: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "The request body must be a JSON object.",
        ));
    }
    Ok(v)
}

fn check_keys(b: &Value, allowed: &[&str]) -> R<()> {
    let unknown: Vec<&String> = b
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !allowed.contains(&k.as_str()))
                .collect()
        })
        .unwrap_or_default();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "UnknownKey",
            "The body you sent contains an unknown key.",
        )
        .details(json!({"keys": unknown})))
    }
}

fn missing(key: &str) -> ApiError {
    ApiError::new(
        400,
        "MissingKey",
        "The body you sent is missing a required key.",
    )
    .details(json!({"key": key}))
}

fn opt_str(b: &Value, key: &str) -> Option<String> {
    b.get(key).and_then(Value::as_str).map(str::to_string)
}

fn opt_bool(b: &Value, key: &str) -> R<Option<bool>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(x)) => Ok(Some(*x)),
        Some(v) => Err(ApiError::validation(
            "type",
            key,
            v.clone(),
            "must be a boolean",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::model::{
        LiveOrgMembership, LiveRole, LiveSpace, LiveSpaceMembership, LiveState, LiveUser,
        ObjectMeta,
    };
    use crate::sandbox::seed::{SyntheticSpec, demo_seed, synthetic};

    const ORG: &str = "2AcmeDemoOrgSandbox001";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
    }

    fn req(w: &World, method: &str, path: &str) -> ApiRequest {
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        ApiRequest {
            method: method.to_string(),
            path: p.to_string(),
            query: q
                .split('&')
                .filter(|s| !s.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
            token: w.admin_token(),
            ..ApiRequest::default()
        }
    }

    fn get(w: &mut World, path: &str) -> Value {
        let r = req(w, "GET", path);
        let res = w.handle(&r, now());
        assert_eq!(res.status, 200, "{path}: {:?}", res.body);
        res.body.unwrap()
    }

    fn email_of(w: &World, user: &str) -> String {
        w.user(user).unwrap().email.clone()
    }

    fn role_names(w: &World, ids: &[String]) -> Vec<String> {
        let mut names: Vec<String> = ids
            .iter()
            .map(|r| w.roles.get(r).unwrap().name.clone())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn demo_org_differs_from_the_access_file_exactly_as_documented() {
        let w = World::from_seed(demo_seed()).unwrap();
        let by_email = |e: &str| w.org_membership_by_email(e);
        // 1. nina does not exist live.
        assert!(w.user_by_email("nina.novak@acme.example").is_none());
        // 2. priya is a pending invitee already in editors.
        let priya = by_email("priya.raman@acme.example").unwrap();
        assert_eq!(
            (priya.status, priya.role),
            (MembershipStatus::Pending, OrgRole::Member)
        );
        let priya_user = w.user(&priya.user).unwrap();
        assert!(
            !priya_user.activated
                && priya_user.first_name.is_none()
                && priya_user.last_name.is_none()
        );
        let team = |name: &str| {
            w.teams
                .in_order()
                .find(|t| t.name == name)
                .unwrap()
                .id
                .clone()
        };
        let members = |t: &str| -> Vec<String> {
            let mut v: Vec<String> = w
                .tms
                .in_order()
                .filter(|m| m.team == team(t))
                .map(|m| email_of(&w, &w.oms.get(&m.org_membership).unwrap().user))
                .collect();
            v.sort();
            v
        };
        assert!(members("editors").contains(&"priya.raman@acme.example".to_string()));
        let inv = w.invitations.in_order().next().unwrap();
        assert_eq!(inv.org_membership, priya.id);
        assert!(created(&inv.sys) < now() - chrono::Duration::days(7));
        // 3. bob has marketing [Editor] directly.
        let direct = |email: &str, space: &str| -> Option<(bool, Vec<String>)> {
            let user = w.user_by_email(email)?.id.clone();
            w.sms
                .in_order()
                .find(|m| m.user == user && m.space == space)
                .map(|m| (m.admin, role_names(&w, &m.roles)))
        };
        assert_eq!(
            direct("bob@acme.example", "5nq2sd7t0mkg"),
            Some((false, vec!["Editor".into()]))
        );
        // 4. editors has marketing [Editor].
        let tsm = |t: &str, space: &str| {
            w.tsms
                .in_order()
                .find(|m| m.team == team(t) && m.space == space)
                .map(|m| (m.admin, role_names(&w, &m.roles)))
        };
        assert_eq!(
            tsm("editors", "5nq2sd7t0mkg"),
            Some((false, vec!["Editor".into()]))
        );
        assert_eq!(
            tsm("editors", "9w3kd0x1mzq4"),
            Some((false, vec!["Editor".into()]))
        );
        assert_eq!(tsm("web-admins", "3ps8vjz0q7lr"), Some((true, vec![])));
        // 5. the former contractor: undeclared, inactive ~400 days, blog [Author], active token.
        let frank = by_email("former.contractor@acme.example").unwrap();
        let idle = now() - frank.last_active_at.unwrap();
        assert!(
            (395..=405).contains(&idle.num_days()),
            "{}",
            idle.num_days()
        );
        assert_eq!(
            direct("former.contractor@acme.example", "9w3kd0x1mzq4"),
            Some((false, vec!["Author".into()]))
        );
        assert!(
            w.tokens
                .in_order()
                .any(|t| t.user == frank.user && t.revoked_at.is_none())
        );
        // 6. the CI bot is a developer.
        assert_eq!(
            by_email("ci-bot@acme.example").unwrap().role,
            OrgRole::Developer
        );
        // 7. lena is also in localization.
        assert!(members("localization").contains(&"lena.fischer@acme.example".to_string()));
        // 8. old-agency: marketing [Translator], no members.
        assert!(members("old-agency").is_empty());
        assert_eq!(
            tsm("old-agency", "5nq2sd7t0mkg"),
            Some((false, vec!["Translator".into()]))
        );
        // The unmanaged playground space has a couple of memberships.
        assert_eq!(w.sms_by_space.len("7hq0ut5rrw2d"), 2);
        // Every space has the four default roles, with ids distinct across spaces.
        for s in w.spaces.in_order() {
            let ids: Vec<String> = w
                .roles_by_space
                .get(&s.id)
                .unwrap()
                .ids()
                .cloned()
                .collect();
            assert_eq!(
                role_names(&w, &ids),
                ["Author", "Editor", "Freelancer", "Translator"]
            );
        }
        assert_eq!(w.roles.items.len(), 16);
        // Long inactive and never active members.
        let inactive = w
            .oms
            .in_order()
            .filter(|m| {
                m.last_active_at
                    .is_some_and(|t| (now() - t).num_days() >= 200)
            })
            .count();
        assert!(inactive >= 3, "{inactive}");
        assert!(
            w.oms
                .in_order()
                .any(|m| m.status == MembershipStatus::Active && m.last_active_at.is_none())
        );
        // Tokens: jane is the admin, carla the member.
        let admin = w.admin_token().unwrap();
        assert_eq!(
            email_of(&w, w.token_user(&admin).unwrap()),
            "jane@acme.example"
        );
        assert_eq!(
            email_of(&w, w.token_user("sandbox-member-token").unwrap()),
            "carla.gomez@acme.example"
        );
    }

    #[test]
    fn unknown_routes_are_404_and_request_ids_are_unique() {
        let mut w = World::from_seed(demo_seed()).unwrap();
        let r = req(&w, "GET", "/nowhere");
        let a = w.handle(&r, now());
        let b = w.handle(&r, now());
        assert_eq!(a.status, 404);
        assert_eq!(a.body.as_ref().unwrap()["sys"]["id"], "NotFound");
        assert_ne!(a.request_id, b.request_id);
        assert_eq!(a.body.unwrap()["requestId"], a.request_id.as_str());
        assert_eq!(
            match_route("GET", "/spaces/abc/roles/def"),
            Some((
                "/spaces/:space/roles/:id",
                vec!["abc".to_string(), "def".to_string()]
            ))
        );
        assert_eq!(match_route("PATCH", "/spaces/abc"), None);
    }

    #[test]
    fn runtime_ids_look_like_contentful_ids_and_are_deterministic() {
        let mut a = World::from_seed(demo_seed()).unwrap();
        let mut b = World::from_seed(demo_seed()).unwrap();
        let ids: Vec<String> = (0..50).map(|_| a.next_id()).collect();
        assert!(
            ids.iter()
                .all(|id| id.len() == 22 && id.bytes().all(|c| c.is_ascii_alphanumeric()))
        );
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 50);
        assert_eq!(ids[0], b.next_id());
    }

    #[test]
    fn seed_round_trips_through_the_world() {
        let w = World::from_seed(demo_seed()).unwrap();
        let seed = w.to_seed();
        let again = World::from_seed(Seed::from_json(&seed.to_json()).unwrap())
            .unwrap()
            .to_seed();
        assert_eq!(seed, again);
    }

    #[test]
    fn version_bumps_mark_another_admin_as_editor() {
        let mut w = World::from_seed(demo_seed()).unwrap();
        let team = w.teams.in_order().next().unwrap().id.clone();
        let v = w.version_of(ObjectKind::Team, &team).unwrap();
        let path = format!("/organizations/{ORG}/teams/{team}");
        w.bump_version_on_next_read(ObjectKind::Team, &team);
        let read = get(&mut w, &path);
        assert_eq!(
            read["sys"]["version"], v,
            "the read itself shows the old version"
        );
        assert_eq!(w.version_of(ObjectKind::Team, &team), Some(v + 1));
        let me = w.token_user(&w.admin_token().unwrap()).unwrap().to_string();
        assert_ne!(
            w.teams.get(&team).unwrap().sys.updated_by.as_deref(),
            Some(me.as_str())
        );
        get(&mut w, &path);
        assert_eq!(
            w.version_of(ObjectKind::Team, &team),
            Some(v + 1),
            "fires once"
        );
        assert!(!w.bump_version(ObjectKind::Role, "nope", &me, now()));
    }

    #[test]
    fn large_synthetic_org_pages_in_order_without_scanning() {
        let mut w = World::from_seed(synthetic(&SyntheticSpec::for_users(10_000))).unwrap();
        assert_eq!(w.counts(), (10_000, 500, 20_000, 2_000, 30_000));
        let mut seen = Vec::new();
        let mut skip = 0;
        loop {
            let page = get(
                &mut w,
                &format!(
                    "/organizations/SyntheticOrg000000001/space_memberships?limit=100&skip={skip}"
                ),
            );
            assert_eq!(page["total"], 30_000);
            let items = page["items"].as_array().unwrap();
            if items.is_empty() {
                break;
            }
            seen.extend(
                items
                    .iter()
                    .map(|i| i["sys"]["id"].as_str().unwrap().to_string()),
            );
            skip += 100;
        }
        let expected: Vec<String> = w.sms.order.ids().cloned().collect();
        assert_eq!(seen, expected);
        // How fast this is (O(page) per request) is measured in benches/, not asserted here.
        let me = get(
            &mut w,
            "/organizations/SyntheticOrg000000001/organization_memberships?sys.user.sys.id=synuser000042",
        );
        assert_eq!(me["total"], 1);
    }

    #[test]
    fn a_live_state_becomes_a_servable_seed() {
        let mut live = LiveState {
            organization: "LiveOrg".into(),
            organization_name: Some("Live Inc.".into()),
            ..LiveState::default()
        };
        for (id, email, role) in [
            ("u1", "owner@live.example", OrgRole::Owner),
            ("u2", "ed@live.example", OrgRole::Member),
        ] {
            live.users.insert(
                id.into(),
                LiveUser {
                    id: id.into(),
                    email: Email::new(email),
                    first_name: Some("F".into()),
                    last_name: None,
                    activated: true,
                },
            );
            live.org_memberships.insert(
                format!("m-{id}"),
                LiveOrgMembership {
                    meta: ObjectMeta::new(format!("m-{id}"), 4),
                    user_id: id.into(),
                    role,
                    status: MembershipStatus::Active,
                    last_active_at: None,
                },
            );
        }
        let mut roles = BTreeMap::new();
        roles.insert(
            "r1".to_string(),
            LiveRole {
                id: "r1".into(),
                name: "Editor".into(),
            },
        );
        live.spaces.insert(
            "s1".into(),
            LiveSpace {
                id: "s1".into(),
                name: "Space".into(),
                roles,
            },
        );
        live.space_memberships.insert(
            "sm1".into(),
            LiveSpaceMembership {
                meta: ObjectMeta::new("sm1", 2),
                space_id: "s1".into(),
                user_id: "u2".into(),
                admin: false,
                role_ids: ["r1".to_string(), "gone".to_string()].into(),
            },
        );
        let seed = Seed::from_live_state(&live, &Email::new("owner@live.example"));
        seed.validate().unwrap();
        let mut w = World::from_seed(seed).unwrap();
        assert_eq!(w.token_user("sandbox-rehearsal-token"), Some("u1"));
        let sm = get(&mut w, "/spaces/s1/space_memberships/sm1");
        assert_eq!(sm["sys"]["version"], 2, "versions are kept");
        assert_eq!(
            sm["roles"].as_array().unwrap().len(),
            1,
            "unknown role ids are dropped"
        );
        let om = get(
            &mut w,
            "/organizations/LiveOrg/organization_memberships/m-u1",
        );
        assert_eq!(om["sys"]["version"], 4);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Any page of a filtered, ordered listing is the matching slice of the whole listing.
        #[test]
        fn pages_are_slices_of_the_whole_listing(
            skip in 0usize..80,
            limit in 0usize..=100,
            role in proptest::sample::select(vec!["member", "developer", "admin", "owner"]),
            op in proptest::sample::select(vec!["", "[ne]", "[in]", "[nin]"]),
            order in proptest::sample::select(vec!["", "&order=role", "&order=-sys.lastActiveAt", "&order=sys.user.email,-role"]),
        ) {
            let mut w = World::from_seed(synthetic(&SyntheticSpec::for_users(60))).unwrap();
            let base = format!("/organizations/SyntheticOrg000000001/organization_memberships?role{op}={role}{order}");
            let all = get(&mut w, &format!("{base}&limit=100"));
            let page = get(&mut w, &format!("{base}&limit={limit}&skip={skip}"));
            let all_items = all["items"].as_array().unwrap();
            let expected: Vec<&Value> = all_items.iter().skip(skip).take(limit).collect();
            let got: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
            proptest::prop_assert_eq!(got, expected);
            proptest::prop_assert_eq!(&page["total"], &all["total"]);
            let negated = op == "[ne]" || op == "[nin]";
            for m in all_items {
                proptest::prop_assert_eq!(m["role"] == role, !negated);
            }
        }
    }
}
