//! Turns the spanned node tree of an access file into a [`DesiredState`], collecting every problem
//! (unknown or repeated keys, bad values, dangling references, contradictions) instead of stopping
//! at the first.

use std::collections::{BTreeMap, HashMap};

use crate::model::{
    DesiredGrant, DesiredSpace, DesiredState, DesiredTeam, DesiredUser, Email, MaxRemovals,
    OrgRole, PersonName, Policy, Principal, SpaceAccess, Span, first_invisible,
};

use super::diagnostics::{Diagnostic, token_at};
use super::node::{Kind, Node};
use super::raw::{POLICY_KEYS, TEAM_KEYS, TOP_KEYS, USER_KEYS};

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
        if let Some(&(key, node)) = top.get("policy") {
            state.policy = self.policy(key, node, &state);
        }
        state
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
            team.spaces = self.grants(s, &what, declared_spaces);
        }
        Some(team)
    }

    /// A `spaces:` mapping of a team or user: local space name → access.
    fn grants(
        &mut self,
        node: &Node,
        owner: &str,
        declared_spaces: &Declared,
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
            let access = self.access(value, &format!("the access of {owner} to `{space}`"));
            if let (Some((access, roles_at)), true) = (access, known) {
                grants.insert(
                    space,
                    DesiredGrant {
                        access,
                        at: key.at,
                        roles_at,
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
            let teams = match fields.get("teams") {
                None => BTreeMap::new(),
                Some(&(_, t)) => self.team_refs(t, &what, team_names),
            };
            let spaces = match fields.get("spaces") {
                None => BTreeMap::new(),
                Some(&(_, s)) => self.grants(s, &what, declared_spaces),
            };
            if let Some(email) = email {
                users.insert(
                    email.clone(),
                    DesiredUser {
                        email,
                        name,
                        org_role,
                        org_role_at,
                        teams,
                        spaces,
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

    fn team_refs(
        &mut self,
        node: &Node,
        owner: &str,
        team_names: &Declared,
    ) -> BTreeMap<String, Span> {
        let mut teams = BTreeMap::new();
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
                return teams;
            }
        };
        for item in items {
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
            teams.insert(team, item.at);
        }
        teams
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, load_str};

    const HEAD: &str =
        "version: 1\norganization: org1\nspaces:\n  blog: 9w3kd0x1mzq4\n  docs: 3ps8vjz0q7lr\n";

    fn errors(text: &str) -> Vec<Diagnostic> {
        match load_str("t.yaml", text) {
            Err(ConfigError::Invalid(d)) => d.items,
            other => panic!("expected diagnostics, got {other:?}"),
        }
    }

    /// Every message with its position, `line:col message [help]`.
    fn messages(text: &str) -> Vec<String> {
        errors(text)
            .into_iter()
            .map(|d| {
                format!(
                    "{}:{} {}{}",
                    d.span.line,
                    d.span.column,
                    d.message,
                    d.help.map(|h| format!(" [{h}]")).unwrap_or_default()
                )
            })
            .collect()
    }

    fn ok(text: &str) -> DesiredState {
        match load_str("t.yaml", text) {
            Ok(s) => s,
            Err(e) => panic!("expected valid, got {e:?}"),
        }
    }

    fn has(text: &str, needle: &str) {
        let m = messages(text);
        assert!(
            m.iter().any(|m| m.contains(needle)),
            "no `{needle}` in {m:#?}"
        );
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let s = ok("version: 1\norganization: org1\nusers:\n  Bob@Example.com:\n");
        assert_eq!(s.organization, "org1");
        assert!(!s.policy.prune);
        assert_eq!(s.policy.max_removals, MaxRemovals::PercentBasisPoints(1000));
        let bob = &s.users[&Email::new("bob@example.com")];
        assert_eq!(bob.org_role, OrgRole::Member);
        assert_eq!(bob.org_role_at, Span::root(4, 3));
        assert_eq!(bob.at, Span::root(4, 3));
        assert_eq!(s.source_sha256.len(), 64);
    }

    #[test]
    fn spans_point_at_each_declaration() {
        let s = ok(&format!(
            "{HEAD}teams:\n  eds:\n    spaces:\n      blog: [Editor, Author]\nusers:\n  a@x.io:\n    org_role: admin\n    teams: [eds]\n    spaces:\n      docs: admin\n"
        ));
        assert_eq!(s.spaces["blog"].at, Span::root(4, 3));
        assert_eq!(s.teams["eds"].at, Span::root(7, 3));
        assert_eq!(s.teams["eds"].description, "");
        let g = &s.teams["eds"].spaces["blog"];
        assert_eq!(g.at, Span::root(9, 7));
        assert_eq!(
            g.access,
            SpaceAccess::Roles(["Author".to_string(), "Editor".to_string()].into())
        );
        let a = &s.users[&Email::new("a@x.io")];
        assert_eq!(a.org_role, OrgRole::Admin);
        assert_eq!(a.org_role_at, Span::root(12, 15));
        assert_eq!(a.teams["eds"], Span::root(13, 13));
        assert_eq!(a.spaces["docs"].access, SpaceAccess::Admin);
        assert_eq!(a.spaces["docs"].at, Span::root(15, 7));
    }

    #[test]
    fn unknown_keys_at_every_level_with_suggestions() {
        has(
            "versoin: 1\norganization: o\n",
            "1:1 unknown key `versoin` in the access file [did you mean `version`?]",
        );
        has(
            "version: 1\norganization: o\npolicy:\n  prun: true\n",
            "4:3 unknown key `prun` in `policy` [did you mean `prune`?]",
        );
        has(
            &format!("{HEAD}teams:\n  t:\n    descripton: x\n"),
            "8:5 unknown key `descripton` in team `t` [did you mean `description`?]",
        );
        has(
            "version: 1\norganization: o\nusers:\n  a@x.io:\n    org-role: admin\n",
            "5:5 unknown key `org-role` in user `a@x.io` [did you mean `org_role`?]",
        );
        has(
            "version: 1\norganization: o\nfoo: 1\n",
            "expected one of: version, organization",
        );
    }

    #[test]
    fn all_problems_are_reported_in_one_run() {
        let m =
            messages("version: 2\norganization: 'bad id'\nusers:\n  nope:\n    org_role: boss\n");
        assert_eq!(m.len(), 4, "{m:#?}");
    }

    #[test]
    fn duplicate_keys_point_at_the_repeat_and_name_the_first() {
        has(
            "version: 1\norganization: o\nversion: 1\n",
            "3:1 duplicate key `version` in the access file (first at line 1)",
        );
        has(
            "version: 1\norganization: o\nusers:\n  jane@x.io:\n  Jane@X.io:\n",
            "5:3 duplicate key `Jane@X.io` in `users`: same as `jane@x.io` at line 4",
        );
        has(
            &format!("{HEAD}  blog: abc\n"),
            "6:3 duplicate key `blog` in `spaces`",
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        has(
            "version: 1\norganization: o\nusers:\n  jane.example.com:\n",
            "4:3 `jane.example.com` is not a valid email address",
        );
        has(
            "version: 1\norganization: o\npolicy:\n  protected: [a@b]\n",
            "4:15 `a@b` in `protected` is not a valid email address",
        );
    }

    #[test]
    fn unknown_org_roles_are_rejected() {
        has(
            "version: 1\norganization: o\nusers:\n  a@x.io:\n    org_role: Admin\n",
            "5:15 unknown org role `Admin` for user `a@x.io` [did you mean `admin`?]",
        );
        has(
            "version: 1\norganization: o\nusers:\n  a@x.io:\n    org_role: boss\n",
            "org roles are owner, admin, developer and member",
        );
    }

    #[test]
    fn references_to_undeclared_teams_and_spaces_are_rejected() {
        let text = format!(
            "{HEAD}teams:\n  editors:\n    spaces:\n      blgo: [Editor]\nusers:\n  a@x.io:\n    teams: [editor]\n    spaces:\n      marketing: admin\n"
        );
        has(
            &text,
            "9:7 team `editors` refers to space `blgo`, which is not declared under `spaces` [did you mean `blog`?]",
        );
        has(
            &text,
            "12:13 user `a@x.io` refers to team `editor`, which is not declared under `teams` [did you mean `editors`?]",
        );
        has(
            &text,
            "14:7 user `a@x.io` refers to space `marketing`, which is not declared",
        );
    }

    #[test]
    fn role_lists_must_be_non_empty_without_admin_or_repeats() {
        let text = format!(
            "{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: []\n      docs: [Editor, admin, Editor]\n"
        );
        has(
            &text,
            "9:13 the access of user `a@x.io` to `blog` is an empty role list",
        );
        has(&text, "10:22 `admin` cannot be mixed with role names");
        has(&text, "10:29 role `Editor` is listed twice");
        has(
            &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: Admin\n"),
            "[did you mean `admin`?]",
        );
        has(
            &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: Editor\n"),
            "[write `[Editor]` for a list of one role]",
        );
    }

    #[test]
    fn contradictory_policy_entries_are_rejected() {
        let text = "version: 1\norganization: o\npolicy:\n  protected: [a@x.io, ops]\n  ignore: [A@x.io, ops, b@x.io]\nusers:\n  b@x.io:\n";
        has(text, "5:12 a@x.io is both protected (line 4) and ignored");
        has(text, "5:20 team ops is both protected (line 4) and ignored");
        has(text, "5:25 b@x.io is declared (line 7) and also ignored");
    }

    #[test]
    fn principals_are_users_with_at_and_teams_otherwise() {
        let s = ok("version: 1\norganization: o\npolicy:\n  protected: [Owner@X.io, platform]\n");
        assert!(
            s.policy
                .is_protected(&Principal::User(Email::new("owner@x.io")))
        );
        assert!(s.policy.is_protected(&Principal::Team("platform".into())));
    }

    #[test]
    fn version_must_be_present_and_supported() {
        has(
            "organization: o\n",
            "1:1 missing `version` [add `version: 1`",
        );
        has(
            "version: 2\norganization: o\n",
            "1:10 unsupported version `2`",
        );
        has(
            "version: one\norganization: o\n",
            "`version` must be the integer 1, found a string",
        );
    }

    #[test]
    fn organization_must_be_present_and_an_id() {
        has("version: 1\n", "missing `organization`");
        has(
            "version: 1\norganization: 'acme org!'\n",
            "2:15 `acme org!` is not a valid Contentful organization id",
        );
    }

    #[test]
    fn max_removals_accepts_counts_and_percentages_only() {
        let get = |v: &str| {
            ok(&format!(
                "version: 1\norganization: o\npolicy:\n  max_removals: {v}\n"
            ))
            .policy
        };
        assert_eq!(get("5").max_removals, MaxRemovals::Count(5));
        assert_eq!(get("0").max_removals, MaxRemovals::Count(0));
        assert_eq!(
            get("2.5%").max_removals,
            MaxRemovals::PercentBasisPoints(250)
        );
        assert_eq!(
            get("100%").max_removals,
            MaxRemovals::PercentBasisPoints(10_000)
        );
        assert_eq!(
            get("12.75%").max_removals,
            MaxRemovals::PercentBasisPoints(1275)
        );
        assert_eq!(get("5").max_removals_at, Span::root(4, 17));
        for bad in ["-1", "101%", "10.%", "1.234%", "ten", "2.5", "[1]", "'%'"] {
            has(
                &format!("version: 1\norganization: o\npolicy:\n  max_removals: {bad}\n"),
                "max_removals",
            );
        }
    }

    #[test]
    fn space_ids_must_be_contentful_ids() {
        has(
            "version: 1\norganization: o\nspaces:\n  blog: 'has space'\n",
            "4:9 `has space` is not a valid Contentful space id",
        );
        has(
            &format!(
                "version: 1\norganization: o\nspaces:\n  blog: {}\n",
                "a".repeat(65)
            ),
            "is not a valid Contentful space id",
        );
        has(
            "version: 1\norganization: o\nspaces:\n  a: x1\n  b: x1\n",
            "5:6 space id `x1` is already declared as `a` (line 4)",
        );
        has(
            "version: 1\norganization: o\nspaces:\n  '': x1\n",
            "4:3 a space name cannot be empty",
        );
        has(
            "version: 1\norganization: o\nteams:\n  '': {}\n",
            "4:3 a team name cannot be empty",
        );
        has(
            "version: 1\norganization: o\nspaces:\n  a: ''\n",
            "4:6 the space id of `a` is empty",
        );
    }

    #[test]
    fn wrong_value_types_say_what_was_expected() {
        has(
            "version: 1\norganization: o\nusers: [a@x.io]\n",
            "3:8 `users` must be a mapping, found a list",
        );
        has(
            "version: 1\norganization: o\nusers:\n  a@x.io:\n    teams: 3\n",
            "the teams of user `a@x.io` must be a list of team names, found an integer",
        );
        has(
            "version: 1\norganization: o\npolicy:\n  prune: yes please\n",
            "`prune` must be true or false, found a string",
        );
        has(
            "version: 1\norganization: o\npolicy:\n  ignore: ci@x.io\n",
            "[write `[ci@x.io]` for a list of one]",
        );
        has(
            &format!("{HEAD}users:\n  a@x.io:\n    spaces:\n      blog: 5\n"),
            "must be a list of role names or the word `admin`, found an integer",
        );
    }

    #[test]
    fn yaml_syntax_errors_are_one_positioned_diagnostic() {
        let e = errors("version: 1\norganization: [o\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].message.starts_with("invalid YAML"), "{e:?}");
        assert!(e[0].span.line >= 2, "{e:?}");
    }

    #[test]
    fn names_keep_their_yaml_spelling() {
        let s = ok(
            "version: 1\norganization: o\nspaces:\n  no: 0123\nteams:\n  yes:\n    spaces:\n      no: [Editor]\n",
        );
        assert_eq!(s.spaces["no"].id, "0123");
        assert!(s.teams["yes"].spaces.contains_key("no"));
    }

    #[test]
    fn did_you_mean_picks_close_names_only() {
        assert_eq!(
            did_you_mean("editor", ["editors", "web-admins"]).as_deref(),
            Some("did you mean `editors`?")
        );
        assert_eq!(did_you_mean("zzz", ["editors"]), None);
        assert_eq!(parse_percent("0%"), Some(0));
        assert_eq!(parse_percent("100.01%"), None);
        assert!(is_contentful_id("a-b_c.d"));
        assert!(!is_contentful_id(""));
    }

    #[test]
    fn the_example_is_valid() {
        let text = include_str!("../../examples/access.yaml");
        let s = ok(text);
        assert_eq!((s.users.len(), s.teams.len(), s.spaces.len()), (24, 3, 3));
        assert_eq!(s.policy.max_removals, MaxRemovals::PercentBasisPoints(1000));
        assert!(
            s.policy
                .is_ignored(&Principal::User(Email::new("ci-bot@acme.example")))
        );
    }
}
