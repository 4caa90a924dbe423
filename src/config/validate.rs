//! Turns the spanned node tree of an access file into a [`DesiredState`], collecting every problem
//! (unknown or repeated keys, bad values, dangling references, contradictions) instead of stopping
//! at the first.

use std::collections::{BTreeMap, HashMap};

use crate::model::{
    DesiredGrant, DesiredRole, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email, Expiry,
    MaxRemovals, OrgMembershipSource, OrgRole, PersonName, Policy, Principal, RoleDefinition,
    SpaceAccess, Span, first_invisible,
};

use super::diagnostics::{Diagnostic, token_at};
use super::node::{Kind, Node};
use super::raw::{
    GRANT_KEYS, POLICY_KEYS, ROLE_CONSTRAINT_OPERATORS, ROLE_KEYS, ROLE_POLICY_ACTIONS,
    ROLE_POLICY_EFFECTS, TEAM_KEYS, TEAM_REF_KEYS, TOP_KEYS, USER_KEYS,
};

/// The only format version this tool reads.
const SUPPORTED_VERSION: i64 = 1;

/// Walks one document, remembering every problem. The document may be merged from several
/// files (`include:`): each node's [`Span::file`] says which of `files` it comes from.
pub(crate) struct Validator<'a> {
    /// `(path, text)` of each file, by file index (0: the root).
    files: Vec<(&'a str, &'a str)>,
    diags: Vec<Diagnostic>,
}

/// Names declared in the file (spaces, teams), in file order for "did you mean" hints, with a
/// hash set beside them so each reference is checked in O(1): a `Vec::contains` per reference made
/// validation quadratic in the size of the file (issue 20).
pub(crate) struct Declared {
    names: Vec<String>,
    set: rustc_hash::FxHashSet<String>,
}

impl Declared {
    pub(crate) fn new(names: Vec<String>) -> Declared {
        let set = names.iter().cloned().collect();
        Declared { names, set }
    }
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.set.contains(name)
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// The best near-miss among `candidates` for `word`, as a "did you mean" hint.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// `s` with every invisible or control character shown as `<U+XXXX>`, for messages.
pub(crate) fn visible(s: &str) -> String {
    s.chars()
        .map(|c| match first_invisible(c.encode_utf8(&mut [0; 4])) {
            Some(_) => format!("<U+{:04X}>", c as u32),
            None => c.to_string(),
        })
        .collect()
}

/// True for a valid Contentful id (organization, space): `^[a-zA-Z0-9-_.]{1,64}$`.
pub(crate) fn is_contentful_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parses `N%` or `N.NN%` (0 ≤ N ≤ 100) into basis points.
pub(crate) fn parse_percent(s: &str) -> Option<u32> {
    let number = s.strip_suffix('%')?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || frac.len() > 2 || !digits(frac) {
        return None;
    }
    if number.contains('.') && frac.is_empty() {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = format!("{frac:0<2}").parse().ok()?;
    let bp = whole * 100 + frac;
    (bp <= 10_000).then_some(bp)
}

impl<'a> Validator<'a> {
    /// A validator for a document merged from several files: `(path, text)` by file index.
    pub(crate) fn with_files(files: Vec<(&'a str, &'a str)>) -> Self {
        Validator {
            files,
            diags: Vec::new(),
        }
    }

    /// The problems found so far, in file order.
    pub(crate) fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        self.diags.sort_by_key(|d| (d.span.file, d.span));
        self.diags
    }

    fn path(&self, at: Span) -> &'a str {
        self.files.get(at.file as usize).map_or("", |f| f.0)
    }

    fn source(&self, at: Span) -> &'a str {
        self.files.get(at.file as usize).map_or("", |f| f.1)
    }

    /// Where `at` is, for a message about something at another place: `line N` in the same file
    /// as `from`, else `FILE:N`.
    fn place(&self, at: Span, from: Span) -> String {
        if at.file == from.file {
            format!("line {}", at.line)
        } else {
            format!("{}:{}", self.path(at), at.line)
        }
    }

    fn error(&mut self, at: Span, message: impl Into<String>, help: Option<String>) {
        self.diags.push(Diagnostic {
            path: self.path(at).to_string(),
            span: at,
            message: message.into(),
            help,
        });
    }

    /// Reports an identifier (`what`, e.g. "the team name `x`") that contains an invisible or
    /// control character (see [`first_invisible`]), pointing at the character itself when it can
    /// be found on the node's line. True when one was found.
    fn invisible(&mut self, node: &Node, text: &str, what: &str) -> bool {
        let Some(c) = first_invisible(text) else {
            return false;
        };
        let at = self
            .source(node.at)
            .lines()
            .nth(node.at.line.saturating_sub(1) as usize)
            .and_then(|line| {
                let start = node.at.column.saturating_sub(1) as usize;
                line.chars()
                    .skip(start)
                    .position(|x| x == c)
                    .map(|i| Span::at(node.at.file, node.at.line, (start + i + 1) as u32))
            })
            .unwrap_or(node.at);
        let kind = if c.is_control() {
            "a control character"
        } else {
            "an invisible formatting character"
        };
        self.error(
            at,
            format!(
                "{what} contains U+{:04X}, {kind} that makes it read differently than it is",
                c as u32
            ),
            Some("delete the character (editors often hide it); identifiers may not contain invisible or control characters".into()),
        );
        true
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(
            node.at,
            format!("{what} must be {expected}, found {}", node.kind.describe()),
            None,
        );
    }

    /// Reports a value that should be a string; suggests quoting when it is a scalar YAML read
    /// as something else (`42`, `yes`).
    fn not_text(&mut self, node: &Node, what: &str) {
        let help = match node.kind {
            Kind::Seq(_) | Kind::Map(_) | Kind::Null => None,
            _ => self
                .text(node)
                .map(|t| format!("quote it to keep it as text: \"{t}\"")),
        };
        self.error(
            node.at,
            format!("{what} must be text, found {}", node.kind.describe()),
            help,
        );
    }

    /// The text of a scalar as written (numbers and booleans keep their spelling).
    fn text(&self, node: &Node) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
            _ => token_at(self.source(node.at), node.at).or_else(|| node.scalar_text()),
        }
    }

    /// The entries of a mapping (null counts as empty), or a type error.
    fn entries<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            Kind::Map(entries) => Some(entries),
            Kind::Null => Some(&[]),
            _ => {
                self.type_error(node, what, "a mapping");
                None
            }
        }
    }

    /// The entries of a mapping keyed by text: reports keys that are not text, and repeated keys
    /// (compared after `normalise`), pointing at the repeat and naming the first. Keeps the first.
    fn keyed<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        what: &str,
        normalise: impl Fn(&str) -> String,
    ) -> Vec<(String, &'n Node, &'n Node)> {
        let mut seen: HashMap<String, (String, Span)> = HashMap::new();
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(name) = self.text(key) else {
                self.type_error(key, &format!("a key in {what}"), "text");
                continue;
            };
            if self.invisible(
                key,
                &name,
                &format!("the key `{}` in {what}", visible(&name)),
            ) {
                continue;
            }
            let norm = normalise(&name);
            if let Some((first, at)) = seen.get(&norm) {
                let place = self.place(*at, key.at);
                let message = if *first == name {
                    format!("duplicate key `{name}` in {what} (first at {place})")
                } else {
                    format!(
                        "duplicate key `{name}` in {what}: same as `{first}` at {place} (emails compare case-insensitively)"
                    )
                };
                self.error(key.at, message, Some("remove one of them".into()));
                continue;
            }
            seen.insert(norm, (name.clone(), key.at));
            out.push((name, key, value));
        }
        out
    }

    /// Like [`Self::keyed`] for a struct-like mapping: also reports keys outside `allowed`.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<BTreeMap<String, (&'n Node, &'n Node)>> {
        let entries = self.entries(node, what)?;
        let mut fields = BTreeMap::new();
        for (name, key, value) in self.keyed(entries, what, str::to_string) {
            if allowed.contains(&name.as_str()) {
                fields.insert(name, (key, value));
            } else {
                let help = did_you_mean(&name, allowed.iter().copied())
                    .or_else(|| Some(format!("expected one of: {}", allowed.join(", "))));
                self.error(key.at, format!("unknown key `{name}` in {what}"), help);
            }
        }
        Some(fields)
    }

    /// Validates a whole document.
    pub(crate) fn document(&mut self, root: &Node, sha256: String) -> DesiredState {
        let mut state = DesiredState {
            source_path: self.path(Span::default()).to_string(),
            source_sha256: sha256,
            included: self.files.iter().skip(1).map(|f| f.0.to_string()).collect(),
            organization: String::new(),
            policy: Policy::default(),
            spaces: BTreeMap::new(),
            teams: BTreeMap::new(),
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
        };
        state.policy.max_removals_at = Span::root(1, 1);
        if matches!(root.kind, Kind::Null) {
            self.error(
                Span::root(1, 1),
                "the access file is empty",
                Some("start with `version: 1` and `organization: <your organization id>`".into()),
            );
            return state;
        }
        let Some(top) = self.fields(root, "the access file", TOP_KEYS) else {
            return state;
        };
        self.version(root, top.get("version").copied());
        if let Some(org) = self.organization(root, top.get("organization").copied()) {
            state.organization = org;
        }
        if let Some(&(_, node)) = top.get("spaces") {
            state.spaces = self.spaces(node);
        }
        let declared_spaces = Declared::new(state.spaces.keys().cloned().collect());
        // Team names are needed before users can refer to them.
        let team_nodes = top
            .get("teams")
            .and_then(|&(_, node)| self.entries(node, "`teams`"))
            .map(|entries| self.keyed(entries, "`teams`", str::to_string))
            .unwrap_or_default();
        let team_names = Declared::new(team_nodes.iter().map(|(n, _, _)| n.clone()).collect());
        for (name, key, value) in &team_nodes {
            if let Some(team) = self.team(name, key, value, &declared_spaces) {
                state.teams.insert(name.clone(), team);
            }
        }
        if let Some(&(_, node)) = top.get("users") {
            state.users = self.users(node, &declared_spaces, &team_names);
        }
        if let Some(&(_, node)) = top.get("roles") {
            state.roles = self.roles(node, &declared_spaces);
        }
        if let Some(&(key, node)) = top.get("policy") {
            state.policy = self.policy(key, node, &state);
        }
        self.provider_teams(&state);
        self.role_grants(&state);
        state
    }

    /// A user may not list a team whose members an identity provider manages.
    fn provider_teams(&mut self, state: &DesiredState) {
        for user in state.users.values() {
            for (team, at) in &user.teams {
                let by_provider = state
                    .teams
                    .get(team)
                    .is_some_and(|t| t.managed_by == OrgMembershipSource::IdentityProvider);
                if by_provider {
                    self.error(
                        *at,
                        format!(
                            "user `{}` lists team `{team}`, whose members the identity provider manages (`managed_by: identity_provider`)",
                            user.email
                        ),
                        Some(format!(
                            "remove `{team}` from the user's `teams`: membership comes from the identity provider's group"
                        )),
                    );
                }
            }
        }
    }

    fn version(&mut self, root: &Node, field: Option<(&Node, &Node)>) {
        let Some((_, node)) = field else {
            self.error(
                root.at,
                "missing `version`",
                Some("add `version: 1` at the top of the file".into()),
            );
            return;
        };
        match &node.kind {
            Kind::Int(SUPPORTED_VERSION) => {}
            Kind::Int(_) | Kind::UInt(_) => {
                let v = self.text(node).unwrap_or_default();
                self.error(
                    node.at,
                    format!(
                        "unsupported version `{v}`: this tool reads version {SUPPORTED_VERSION}"
                    ),
                    None,
                );
            }
            _ => self.type_error(node, "`version`", "the integer 1"),
        }
    }

    fn organization(&mut self, root: &Node, field: Option<(&Node, &Node)>) -> Option<String> {
        let Some((_, node)) = field else {
            self.error(
                root.at,
                "missing `organization`",
                Some(
                    "add `organization: <id>` (Organization settings → Organization information)"
                        .into(),
                ),
            );
            return None;
        };
        let Some(id) = self.text(node) else {
            self.type_error(node, "`organization`", "an organization id");
            return None;
        };
        if !is_contentful_id(&id) {
            self.error(
                node.at,
                format!("`{id}` is not a valid Contentful organization id"),
                Some("ids are 1 to 64 letters, digits, `-`, `_` or `.`".into()),
            );
            return None;
        }
        Some(id)
    }

    fn spaces(&mut self, node: &Node) -> BTreeMap<String, DesiredSpace> {
        let mut spaces = BTreeMap::new();
        let Some(entries) = self.entries(node, "`spaces`") else {
            return spaces;
        };
        let mut ids: HashMap<String, (String, u32)> = HashMap::new();
        for (name, key, value) in self.keyed(entries, "`spaces`", str::to_string) {
            if name.trim().is_empty() {
                self.error(key.at, "a space name cannot be empty", None);
                continue;
            }
            let Some(id) = self.text(value) else {
                self.type_error(value, &format!("space `{name}`"), "a Contentful space id");
                continue;
            };
            if id.is_empty() {
                self.error(value.at, format!("the space id of `{name}` is empty"), None);
                continue;
            }
            if !is_contentful_id(&id) {
                self.error(
                    value.at,
                    format!("`{id}` is not a valid Contentful space id"),
                    Some("ids are 1 to 64 letters, digits, `-`, `_` or `.`".into()),
                );
                continue;
            }
            if let Some((other, line)) = ids.get(&id) {
                self.error(
                    value.at,
                    format!("space id `{id}` is already declared as `{other}` (line {line})"),
                    Some("give each space one local name".into()),
                );
                continue;
            }
            ids.insert(id.clone(), (name.clone(), key.at.line));
            spaces.insert(name, DesiredSpace { id, at: key.at });
        }
        spaces
    }

    fn team(
        &mut self,
        name: &str,
        key: &Node,
        value: &Node,
        declared_spaces: &Declared,
    ) -> Option<DesiredTeam> {
        if name.trim().is_empty() {
            self.error(key.at, "a team name cannot be empty", None);
            return None;
        }
        let what = format!("team `{name}`");
        let fields = self.fields(value, &what, TEAM_KEYS)?;
        let mut team = DesiredTeam {
            name: name.to_string(),
            description: String::new(),
            spaces: BTreeMap::new(),
            managed_by: Default::default(),
            at: key.at,
        };
        if let Some(&(_, d)) = fields.get("description") {
            match &d.kind {
                Kind::Null => {}
                Kind::Str(text) => team.description = text.clone(),
                _ => self.not_text(d, &format!("the description of {what}")),
            }
        }
        if let Some(&(_, s)) = fields.get("spaces") {
            team.spaces = self.grants(s, &what, declared_spaces, false);
        }
        if let Some(&(_, m)) = fields.get("managed_by")
            && let Some(by) = self.manager(m, &format!("`managed_by` of {what}"))
        {
            team.managed_by = by;
        }
        Some(team)
    }

    /// A `spaces:` mapping of a team or user: local space name → access. A user's grant may
    /// also be written `{access: ..., expires: DATE}` (`expiring`).
    fn grants(
        &mut self,
        node: &Node,
        owner: &str,
        declared_spaces: &Declared,
        expiring: bool,
    ) -> BTreeMap<String, DesiredGrant> {
        let mut grants = BTreeMap::new();
        let what = format!("the spaces of {owner}");
        let Some(entries) = self.entries(node, &what) else {
            return grants;
        };
        for (space, key, value) in self.keyed(entries, &what, str::to_string) {
            let known = declared_spaces.contains(&space);
            if !known {
                let help = did_you_mean(&space, declared_spaces.iter()).or_else(|| {
                    Some("declare it under the top-level `spaces:` with its space id".into())
                });
                self.error(
                    key.at,
                    format!(
                        "{owner} refers to space `{space}`, which is not declared under `spaces`"
                    ),
                    help,
                );
            }
            let what = format!("the access of {owner} to `{space}`");
            let (access, expires) = match &value.kind {
                Kind::Map(_) if expiring => {
                    let Some(fields) = self.fields(value, &what, GRANT_KEYS) else {
                        continue;
                    };
                    let access = match fields.get("access") {
                        Some(&(_, a)) => self.access(a, &what),
                        None => {
                            self.error(
                                value.at,
                                format!("{what} has no `access`"),
                                Some("write `{access: [Role], expires: 2027-01-31}`".into()),
                            );
                            None
                        }
                    };
                    let expires = fields
                        .get("expires")
                        .and_then(|&(_, e)| self.expiry(e, &what));
                    (access, expires)
                }
                Kind::Map(_) => {
                    self.error(
                        value.at,
                        format!("{what} must be a list of role names or the word `admin`"),
                        Some("`expires` is only for a user's own grants; a team's access is managed as long as the team is declared".into()),
                    );
                    (None, None)
                }
                _ => (self.access(value, &what), None),
            };
            if let (Some((access, roles_at)), true) = (access, known) {
                grants.insert(
                    space,
                    DesiredGrant {
                        access,
                        at: key.at,
                        roles_at,
                        expires,
                    },
                );
            }
        }
        grants
    }

    /// A role list or the word `admin`, with where each role name is written.
    fn access(&mut self, node: &Node, what: &str) -> Option<(SpaceAccess, BTreeMap<String, Span>)> {
        match &node.kind {
            Kind::Str(word) if word == "admin" => Some((SpaceAccess::Admin, BTreeMap::new())),
            Kind::Str(word) => {
                let help = did_you_mean(word, ["admin"]).or_else(|| {
                    (!word.trim().is_empty())
                        .then(|| format!("write `[{word}]` for a list of one role"))
                });
                self.error(
                    node.at,
                    format!(
                        "{what} must be a list of role names or the word `admin`, found `{word}`"
                    ),
                    help,
                );
                None
            }
            Kind::Seq(items) => {
                if items.is_empty() {
                    self.error(
                        node.at,
                        format!("{what} is an empty role list"),
                        Some(
                            "list at least one role, or remove the space to take access away"
                                .into(),
                        ),
                    );
                    return None;
                }
                let mut roles: BTreeMap<String, Span> = BTreeMap::new();
                let mut ok = true;
                for item in items {
                    let Some(role) = self.text(item).filter(|_| !matches!(item.kind, Kind::Null))
                    else {
                        self.type_error(item, &format!("a role in {what}"), "a role name");
                        ok = false;
                        continue;
                    };
                    let role = role.trim().to_string();
                    if self.invisible(
                        item,
                        &role,
                        &format!("the role name `{}` in {what}", visible(&role)),
                    ) {
                        ok = false;
                    } else if role.is_empty() {
                        self.error(item.at, format!("{what} contains an empty role name"), None);
                        ok = false;
                    } else if role == "admin" {
                        self.error(
                            item.at,
                            format!("`admin` cannot be mixed with role names in {what}"),
                            Some("write `admin` alone (not in a list): space admins hold every permission".into()),
                        );
                        ok = false;
                    } else if let Some(first) = roles.get(&role) {
                        self.error(
                            item.at,
                            format!("role `{role}` is listed twice in {what} (first at line {}, column {})", first.line, first.column),
                            Some("remove the repeat".into()),
                        );
                        ok = false;
                    } else {
                        roles.insert(role, item.at);
                    }
                }
                ok.then(|| (SpaceAccess::Roles(roles.keys().cloned().collect()), roles))
            }
            _ => {
                self.type_error(node, what, "a list of role names or the word `admin`");
                None
            }
        }
    }

    fn users(
        &mut self,
        node: &Node,
        declared_spaces: &Declared,
        team_names: &Declared,
    ) -> BTreeMap<Email, DesiredUser> {
        let mut users = BTreeMap::new();
        let Some(entries) = self.entries(node, "`users`") else {
            return users;
        };
        for (raw, key, value) in self.keyed(entries, "`users`", |s| s.trim().to_lowercase()) {
            let email = match Email::parse(&raw) {
                Ok(e) => Some(e),
                Err(_) => {
                    self.error(
                        key.at,
                        format!("`{raw}` is not a valid email address"),
                        Some("users are keyed by email, e.g. `jane@example.com:`".into()),
                    );
                    None
                }
            };
            let what = format!("user `{raw}`");
            let Some(fields) = self.fields(value, &what, USER_KEYS) else {
                continue;
            };
            let name = fields.get("name").and_then(|&(_, n)| match &n.kind {
                Kind::Null => None,
                Kind::Str(t) if t.trim().is_empty() => None,
                Kind::Str(t) => Some(PersonName::split(t)),
                _ => {
                    self.not_text(n, &format!("the name of {what}"));
                    None
                }
            });
            let (org_role, org_role_at) = match fields.get("org_role") {
                None => (OrgRole::Member, key.at),
                Some(&(_, r)) if matches!(r.kind, Kind::Null) => (OrgRole::Member, r.at),
                Some(&(_, r)) => (self.org_role(r, &what).unwrap_or(OrgRole::Member), r.at),
            };
            let (teams, team_expires) = match fields.get("teams") {
                None => (BTreeMap::new(), BTreeMap::new()),
                Some(&(_, t)) => self.team_refs(t, &what, team_names),
            };
            let spaces = match fields.get("spaces") {
                None => BTreeMap::new(),
                Some(&(_, s)) => self.grants(s, &what, declared_spaces, true),
            };
            let expires = fields
                .get("expires")
                .and_then(|&(_, e)| self.expiry(e, &format!("the membership of {what}")));
            if let Some(email) = email {
                users.insert(
                    email.clone(),
                    DesiredUser {
                        email,
                        name,
                        org_role,
                        org_role_at,
                        teams,
                        team_expires,
                        spaces,
                        expires,
                        at: key.at,
                    },
                );
            }
        }
        users
    }

    fn org_role(&mut self, node: &Node, owner: &str) -> Option<OrgRole> {
        let Some(word) = self.text(node) else {
            self.type_error(
                node,
                &format!("the org_role of {owner}"),
                "owner, admin, developer or member",
            );
            return None;
        };
        let role = OrgRole::parse(&word);
        if role.is_none() {
            let help = did_you_mean(&word, OrgRole::ALL.iter().map(|r| r.as_str()))
                .or_else(|| Some("org roles are owner, admin, developer and member".into()));
            self.error(
                node.at,
                format!("unknown org role `{word}` for {owner}"),
                help,
            );
        }
        role
    }

    /// `expires:`: a date (the end of that day UTC) or an RFC 3339 time.
    fn expiry(&mut self, node: &Node, what: &str) -> Option<Expiry> {
        let text = self.text(node).filter(|_| !matches!(node.kind, Kind::Null));
        match text.as_deref().and_then(|t| Expiry::parse(t, node.at)) {
            Some(e) => Some(e),
            None => {
                self.error(
                    node.at,
                    format!(
                        "`expires` of {what} must be a date (`2027-01-31`) or an RFC 3339 time (`2027-01-31T18:00:00Z`), found {}",
                        text.map_or_else(|| node.kind.describe().to_string(), |t| format!("`{t}`"))
                    ),
                    Some("a date means the end of that day in UTC".into()),
                );
                None
            }
        }
    }

    /// A user's `teams:` list: team names, or `{team: NAME, expires: DATE}` for a membership
    /// that ends. Returns the teams with where each is listed, and the expiring ones.
    fn team_refs(
        &mut self,
        node: &Node,
        owner: &str,
        team_names: &Declared,
    ) -> (BTreeMap<String, Span>, BTreeMap<String, Expiry>) {
        let mut teams = BTreeMap::new();
        let mut expiring = BTreeMap::new();
        let what = format!("the teams of {owner}");
        let items = match &node.kind {
            Kind::Seq(items) => items.as_slice(),
            Kind::Null => &[],
            _ => {
                let help = self
                    .text(node)
                    .map(|t| format!("write `[{t}]` for a list of one team"));
                self.error(
                    node.at,
                    format!(
                        "{what} must be a list of team names, found {}",
                        node.kind.describe()
                    ),
                    help,
                );
                return (teams, expiring);
            }
        };
        for item in items {
            let (item, expires) = match &item.kind {
                Kind::Map(_) => {
                    let Some(fields) =
                        self.fields(item, &format!("an entry in {what}"), TEAM_REF_KEYS)
                    else {
                        continue;
                    };
                    let Some(&(_, name)) = fields.get("team") else {
                        self.error(
                            item.at,
                            format!("an entry in {what} has no `team`"),
                            Some("write `{team: NAME, expires: 2027-01-31}`".into()),
                        );
                        continue;
                    };
                    let expires = fields.get("expires").and_then(|&(_, e)| {
                        self.expiry(e, &format!("a team membership of {owner}"))
                    });
                    (name, expires)
                }
                _ => (item, None),
            };
            let Some(team) = self.text(item) else {
                self.type_error(item, &format!("an entry in {what}"), "a team name");
                continue;
            };
            if self.invisible(
                item,
                &team,
                &format!("the team name `{}` in {what}", visible(&team)),
            ) {
                continue;
            }
            if let Some(first) = teams.get(&team) {
                let first: &Span = first;
                self.error(
                    item.at,
                    format!(
                        "team `{team}` is listed twice in {what} (first at line {}, column {})",
                        first.line, first.column
                    ),
                    Some("remove the repeat".into()),
                );
                continue;
            }
            if !team_names.contains(&team) {
                let help = did_you_mean(&team, team_names.iter())
                    .or_else(|| Some("declare it under the top-level `teams:`".into()));
                self.error(
                    item.at,
                    format!("{owner} refers to team `{team}`, which is not declared under `teams`"),
                    help,
                );
                continue;
            }
            if let Some(e) = expires {
                expiring.insert(team.clone(), e);
            }
            teams.insert(team, item.at);
        }
        (teams, expiring)
    }

    fn policy(&mut self, key: &Node, node: &Node, state: &DesiredState) -> Policy {
        let mut policy = Policy {
            max_removals_at: key.at,
            ..Policy::default()
        };
        let Some(fields) = self.fields(node, "`policy`", POLICY_KEYS) else {
            return policy;
        };
        if let Some(&(_, p)) = fields.get("prune") {
            match p.kind {
                Kind::Bool(b) => policy.prune = b,
                _ => self.type_error(p, "`prune`", "true or false"),
            }
        }
        if let Some(&(_, o)) = fields.get("org_membership")
            && let Some(by) = self.manager(o, "`org_membership`")
        {
            policy.org_membership = by;
        }
        if let Some(&(_, r)) = fields.get("prune_roles") {
            match r.kind {
                Kind::Bool(b) => policy.prune_roles = b,
                _ => self.type_error(r, "`prune_roles`", "true or false"),
            }
        }
        if let Some(&(_, r)) = fields.get("reinvite_expired") {
            match r.kind {
                Kind::Bool(b) => policy.reinvite_expired = b,
                _ => self.type_error(r, "`reinvite_expired`", "true or false"),
            }
        }
        if let Some(&(_, m)) = fields.get("max_removals") {
            policy.max_removals_at = m.at;
            if let Some(max) = self.max_removals(m) {
                policy.max_removals = max;
            }
        }
        let protected = fields
            .get("protected")
            .map(|&(_, n)| self.principals(n, "protected"))
            .unwrap_or_default();
        let ignored = fields
            .get("ignore")
            .map(|&(_, n)| self.principals(n, "ignore"))
            .unwrap_or_default();
        for (principal, at) in &ignored {
            if let Some(p_at) = protected.get(principal) {
                self.error(
                    *at,
                    format!("{principal} is both protected (line {}) and ignored", p_at.line),
                    Some("protected principals are reported but never changed; ignored ones are not even reported: pick one".into()),
                );
            }
            let declared_at = match principal {
                Principal::User(email) => state.users.get(email).map(|u| u.at),
                Principal::Team(name) => state.teams.get(name).map(|t| t.at),
            };
            if let Some(d_at) = declared_at {
                let place = self.place(d_at, *at);
                self.error(
                    *at,
                    format!("{principal} is declared ({place}) and also ignored"),
                    Some("remove it from `ignore`, or remove its declaration".into()),
                );
            }
        }
        policy.protected = protected.into_keys().collect();
        policy.ignore = ignored.into_keys().collect();
        policy
    }

    /// `file` or `identity_provider` (`policy.org_membership`, a team's `managed_by`).
    fn manager(&mut self, node: &Node, what: &str) -> Option<OrgMembershipSource> {
        match self.text(node).as_deref() {
            Some("file") => Some(OrgMembershipSource::File),
            Some("identity_provider") => Some(OrgMembershipSource::IdentityProvider),
            other => {
                let help = other
                    .and_then(|w| did_you_mean(w, ["file", "identity_provider"]))
                    .or_else(|| Some("write `file` (the default) or `identity_provider`".into()));
                let found =
                    other.map_or_else(|| node.kind.describe().to_string(), |w| format!("`{w}`"));
                self.error(
                    node.at,
                    format!("{what} must be `file` or `identity_provider`, found {found}"),
                    help,
                );
                None
            }
        }
    }

    fn max_removals(&mut self, node: &Node) -> Option<MaxRemovals> {
        let help = Some(
            "write a whole number of removals (`5`) or a percentage of org members (`10%`, `2.5%`)"
                .to_string(),
        );
        match &node.kind {
            Kind::Int(n) => match u32::try_from(*n) {
                Ok(n) => Some(MaxRemovals::Count(n)),
                Err(_) => {
                    self.error(
                        node.at,
                        format!("`max_removals` must not be negative, found {n}"),
                        help,
                    );
                    None
                }
            },
            Kind::Str(s) => {
                let s = s.trim();
                if let Some(bp) = parse_percent(s) {
                    Some(MaxRemovals::PercentBasisPoints(bp))
                } else if let Ok(n) = s.parse::<u32>() {
                    Some(MaxRemovals::Count(n))
                } else {
                    self.error(node.at, format!("`max_removals` `{s}` is not a count or a percentage between 0% and 100%"), help);
                    None
                }
            }
            _ => {
                let shown = self
                    .text(node)
                    .unwrap_or_else(|| node.kind.describe().to_string());
                self.error(
                    node.at,
                    format!("`max_removals` `{shown}` is not a count or a percentage"),
                    help,
                );
                None
            }
        }
    }

    /// `protected` / `ignore`: emails (users) or team names.
    fn principals(&mut self, node: &Node, list: &str) -> BTreeMap<Principal, Span> {
        let mut out = BTreeMap::new();
        let items = match &node.kind {
            Kind::Seq(items) => items.as_slice(),
            Kind::Null => &[],
            _ => {
                let help = self
                    .text(node)
                    .map(|t| format!("write `[{t}]` for a list of one"));
                self.error(
                    node.at,
                    format!(
                        "`{list}` must be a list of emails or team names, found {}",
                        node.kind.describe()
                    ),
                    help,
                );
                return out;
            }
        };
        for item in items {
            let Some(text) = self.text(item).filter(|t| !t.trim().is_empty()) else {
                self.type_error(
                    item,
                    &format!("an entry in `{list}`"),
                    "an email or a team name",
                );
                continue;
            };
            if self.invisible(item, &text, &format!("`{}` in `{list}`", visible(&text))) {
                continue;
            }
            let principal = if text.contains('@') {
                match Email::parse(&text) {
                    Ok(e) => Principal::User(e),
                    Err(_) => {
                        self.error(
                            item.at,
                            format!("`{text}` in `{list}` is not a valid email address"),
                            None,
                        );
                        continue;
                    }
                }
            } else {
                Principal::Team(text.trim().to_string())
            };
            if let Some(first) = out.get(&principal) {
                let first: &Span = first;
                self.error(
                    item.at,
                    format!(
                        "{principal} is listed twice in `{list}` (first at line {})",
                        first.line
                    ),
                    Some("remove the repeat".into()),
                );
                continue;
            }
            out.insert(principal, item.at);
        }
        out
    }
}

#[path = "validate_roles.rs"]
mod roles;

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
