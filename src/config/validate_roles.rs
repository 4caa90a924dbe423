//! The access file's `roles:` section: each custom role's spaces, permissions and policies (in
//! Contentful's own shape, checked for effect, known actions and constraint operators, kept
//! verbatim), and grants of a declared role outside the spaces it applies to.

use super::*;

impl<'a> Validator<'a> {
    /// A grant of a declared role in a space the role does not apply to is an error at the grant:
    /// the role would not exist there (or would be some other, undeclared definition).
    pub(super) fn role_grants(&mut self, state: &DesiredState) {
        let grants = state
            .users
            .values()
            .map(|u| (format!("user `{}`", u.email), &u.spaces))
            .chain(
                state
                    .teams
                    .values()
                    .map(|t| (format!("team `{}`", t.name), &t.spaces)),
            );
        let mut problems = Vec::new();
        for (owner, spaces) in grants {
            for (space, grant) in spaces {
                let SpaceAccess::Roles(names) = &grant.access else {
                    continue;
                };
                for name in names {
                    if let Some(role) = state.roles.get(name)
                        && !role.spaces.contains(space)
                    {
                        problems.push((grant.role_at(name), owner.clone(), space, role));
                    }
                }
            }
        }
        for (at, owner, space, role) in problems {
            let place = self.place(role.at, at);
            let listed = role.spaces.iter().cloned().collect::<Vec<_>>().join(", ");
            self.error(
                at,
                format!(
                    "{owner} is given role `{}` in space `{space}`, but the role (declared at {place}) applies only to: {listed}",
                    role.name
                ),
                Some(format!(
                    "add `{space}` to the `spaces` of role `{}`, or grant another role",
                    role.name
                )),
            );
        }
    }

    /// `roles:`: custom space roles by name.
    pub(super) fn roles(
        &mut self,
        node: &Node,
        declared_spaces: &Declared,
    ) -> BTreeMap<String, DesiredRole> {
        let mut roles = BTreeMap::new();
        let Some(entries) = self.entries(node, "`roles`") else {
            return roles;
        };
        for (name, key, value) in self.keyed(entries, "`roles`", str::to_string) {
            if name.trim().is_empty() {
                self.error(key.at, "a role name cannot be empty", None);
                continue;
            }
            if name == "admin" {
                self.error(
                    key.at,
                    "`admin` cannot be a custom role's name: in grants it means space admin",
                    Some("choose another name".into()),
                );
                continue;
            }
            let what = format!("role `{name}`");
            let Some(fields) = self.fields(value, &what, ROLE_KEYS) else {
                continue;
            };
            let mut ok = true;
            let mut definition = RoleDefinition::default();
            if let Some(&(_, d)) = fields.get("description") {
                match &d.kind {
                    Kind::Null => {}
                    Kind::Str(text) => definition.description = text.clone(),
                    _ => {
                        self.not_text(d, &format!("the description of {what}"));
                        ok = false;
                    }
                }
            }
            let spaces = match fields.get("spaces") {
                None => {
                    self.error(
                        key.at,
                        format!("{what} has no `spaces`"),
                        Some("list the managed spaces it applies to (`spaces: [blog]`) or write `spaces: all`".into()),
                    );
                    None
                }
                Some(&(_, s)) => self.role_spaces(s, &what, declared_spaces),
            };
            if let Some(&(_, p)) = fields.get("permissions") {
                match self.json(p) {
                    serde_json::Value::Object(map) => {
                        ok &= self.role_permissions(p, &what);
                        definition.permissions = map;
                    }
                    serde_json::Value::Null => {}
                    _ => {
                        self.type_error(p, &format!("the permissions of {what}"), "a mapping");
                        ok = false;
                    }
                }
            }
            if let Some(&(_, p)) = fields.get("policies") {
                match &p.kind {
                    Kind::Seq(items) => {
                        for item in items {
                            ok &= self.role_policy(item, &what);
                            definition.policies.push(self.json(item));
                        }
                    }
                    Kind::Null => {}
                    _ => {
                        self.type_error(p, &format!("the policies of {what}"), "a list");
                        ok = false;
                    }
                }
            }
            if let Some(&(_, e)) = fields.get("extra") {
                match self.json(e) {
                    serde_json::Value::Object(map) => {
                        for (k, v) in map {
                            if matches!(
                                k.as_str(),
                                "sys" | "name" | "description" | "permissions" | "policies"
                            ) {
                                self.error(
                                    e.at,
                                    format!("`extra` of {what} may not set `{k}`"),
                                    Some(format!("write `{k}` as a field of the role itself (`sys` and `name` are Contentful's)")),
                                );
                                ok = false;
                            } else {
                                definition.other.insert(k, v);
                            }
                        }
                    }
                    serde_json::Value::Null => {}
                    _ => {
                        self.type_error(e, &format!("`extra` of {what}"), "a mapping");
                        ok = false;
                    }
                }
            }
            if let (Some((spaces, all_spaces)), true) = (spaces, ok) {
                roles.insert(
                    name.clone(),
                    DesiredRole {
                        name,
                        definition,
                        spaces,
                        all_spaces,
                        at: key.at,
                    },
                );
            }
        }
        roles
    }

    /// A role's `spaces`: `all`, or a list of declared spaces. Returns the local names and
    /// whether `all` was written.
    pub(super) fn role_spaces(
        &mut self,
        node: &Node,
        what: &str,
        declared_spaces: &Declared,
    ) -> Option<(std::collections::BTreeSet<String>, bool)> {
        match &node.kind {
            Kind::Str(word) if word == "all" => {
                Some((declared_spaces.iter().map(str::to_string).collect(), true))
            }
            Kind::Seq(items) if !items.is_empty() => {
                let mut out = std::collections::BTreeSet::new();
                let mut ok = true;
                for item in items {
                    let Some(space) = self.text(item) else {
                        self.type_error(item, &format!("a space of {what}"), "a space name");
                        ok = false;
                        continue;
                    };
                    if !declared_spaces.contains(&space) {
                        let help = did_you_mean(&space, declared_spaces.iter()).or_else(|| {
                            Some(
                                "declare it under the top-level `spaces:` with its space id".into(),
                            )
                        });
                        self.error(
                            item.at,
                            format!(
                                "{what} applies to space `{space}`, which is not declared under `spaces`"
                            ),
                            help,
                        );
                        ok = false;
                        continue;
                    }
                    if !out.insert(space.clone()) {
                        self.error(
                            item.at,
                            format!("space `{space}` is listed twice in the spaces of {what}"),
                            Some("remove the repeat".into()),
                        );
                    }
                }
                ok.then_some((out, false))
            }
            _ => {
                self.error(
                    node.at,
                    format!(
                        "the spaces of {what} must be a list of managed spaces or the word `all`, found {}",
                        node.kind.describe()
                    ),
                    Some("write `spaces: [blog, marketing]` or `spaces: all`".into()),
                );
                None
            }
        }
    }

    /// Each permission is `all` or a list of action names. True when well formed.
    pub(super) fn role_permissions(&mut self, node: &Node, what: &str) -> bool {
        let Kind::Map(entries) = &node.kind else {
            return true;
        };
        let mut ok = true;
        for (key, value) in entries {
            let section = self.text(key).unwrap_or_default();
            let fine = match &value.kind {
                Kind::Str(w) => w == "all",
                Kind::Seq(items) => items.iter().all(|i| matches!(i.kind, Kind::Str(_))),
                _ => false,
            };
            if !fine {
                self.error(
                    value.at,
                    format!(
                        "permission `{section}` of {what} must be a list of actions or the word `all`, found {}",
                        value.kind.describe()
                    ),
                    Some("e.g. `ContentModel: [read]`, `Settings: []` or `ContentDelivery: all`".into()),
                );
                ok = false;
            }
        }
        ok
    }

    /// A policy: `effect` allow|deny, `actions` a list of known actions or `all`, `constraint`
    /// built from known operators. Other fields pass through. True when well formed.
    pub(super) fn role_policy(&mut self, node: &Node, what: &str) -> bool {
        let what = format!("a policy of {what}");
        let Kind::Map(entries) = &node.kind else {
            self.type_error(node, &what, "a mapping");
            return false;
        };
        let mut ok = true;
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == name))
                .map(|(_, v)| v)
        };
        match get("effect").map(|e| (e, self.text(e))) {
            Some((_, Some(effect))) if ROLE_POLICY_EFFECTS.contains(&effect.as_str()) => {}
            Some((e, found)) => {
                let help = found
                    .as_deref()
                    .and_then(|w| did_you_mean(w, ROLE_POLICY_EFFECTS.iter().copied()));
                self.error(
                    e.at,
                    format!(
                        "the `effect` of {what} must be `allow` or `deny`, found {}",
                        found.map_or_else(|| e.kind.describe().to_string(), |w| format!("`{w}`"))
                    ),
                    help,
                );
                ok = false;
            }
            None => {
                self.error(
                    node.at,
                    format!("{what} has no `effect`"),
                    Some("add `effect: allow` or `effect: deny`".into()),
                );
                ok = false;
            }
        }
        match get("actions") {
            Some(a) => match &a.kind {
                Kind::Str(w) if w == "all" => {}
                Kind::Seq(items) if !items.is_empty() => {
                    for item in items {
                        let action = self.text(item).unwrap_or_default();
                        if !ROLE_POLICY_ACTIONS.contains(&action.as_str()) {
                            let help = did_you_mean(&action, ROLE_POLICY_ACTIONS.iter().copied())
                                .or_else(|| {
                                    Some(format!(
                                        "actions are {}, or `actions: all`",
                                        ROLE_POLICY_ACTIONS.join(", ")
                                    ))
                                });
                            self.error(
                                item.at,
                                format!("unknown action `{action}` in {what}"),
                                help,
                            );
                            ok = false;
                        }
                    }
                }
                _ => {
                    self.error(
                        a.at,
                        format!(
                            "the `actions` of {what} must be a list of actions or the word `all`, found {}",
                            a.kind.describe()
                        ),
                        Some("e.g. `actions: [read, publish]` or `actions: all`".into()),
                    );
                    ok = false;
                }
            },
            None => {
                self.error(
                    node.at,
                    format!("{what} has no `actions`"),
                    Some("add `actions: [read]` (or `actions: all`)".into()),
                );
                ok = false;
            }
        }
        if let Some(c) = get("constraint") {
            ok &= self.constraint(c, &what);
        }
        ok
    }

    /// A constraint: a mapping of known operators; `and`/`or` hold lists of constraints, `not`
    /// one constraint; the operands of `equals`, `in` and `paths` pass through.
    pub(super) fn constraint(&mut self, node: &Node, what: &str) -> bool {
        let Kind::Map(entries) = &node.kind else {
            self.type_error(node, &format!("a constraint in {what}"), "a mapping");
            return false;
        };
        let mut ok = true;
        for (key, value) in entries {
            let op = self.text(key).unwrap_or_default();
            if !ROLE_CONSTRAINT_OPERATORS.contains(&op.as_str()) {
                let help =
                    did_you_mean(&op, ROLE_CONSTRAINT_OPERATORS.iter().copied()).or_else(|| {
                        Some(format!(
                            "constraint operators are {}",
                            ROLE_CONSTRAINT_OPERATORS.join(", ")
                        ))
                    });
                self.error(
                    key.at,
                    format!("unknown constraint operator `{op}` in {what}"),
                    help,
                );
                ok = false;
                continue;
            }
            match (op.as_str(), &value.kind) {
                ("and" | "or", Kind::Seq(items)) => {
                    for item in items {
                        ok &= self.constraint(item, what);
                    }
                }
                ("not", Kind::Map(_)) => ok &= self.constraint(value, what),
                ("equals" | "in" | "paths", Kind::Seq(_)) => {}
                (_, _) => {
                    let expected = if op == "not" {
                        "a constraint (a mapping)"
                    } else {
                        "a list"
                    };
                    self.type_error(value, &format!("`{op}` in {what}"), expected);
                    ok = false;
                }
            }
        }
        ok
    }

    /// A node as JSON, verbatim (numbers keep their kind; keys as written).
    pub(super) fn json(&self, node: &Node) -> serde_json::Value {
        use serde_json::Value;
        match &node.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::from(*i),
            Kind::UInt(u) => Value::from(*u),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(|i| self.json(i)).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (self.text(k).unwrap_or_default(), self.json(v)))
                    .collect(),
            ),
        }
    }
}
