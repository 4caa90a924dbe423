//! The semantic diff of a custom role: which permissions changed, which policies were added,
//! removed or changed, computed over the normal forms ([`RoleDefinition::normalized`]) so that
//! reordering alone is no change. The plan carries it structured ([`RoleChanges`]); the renderers
//! show each change as a line diff of pretty-printed JSON ([`text_diff`], with `similar`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::RoleDefinition;

/// A value before and after (absent: the key did not exist on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    /// The permission section or top-level field, e.g. `ContentModel`.
    pub key: String,
    /// The value now (normalised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (normalised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// A policy whose actions changed while its effect and constraint stayed (or whose constraint
/// changed while its effect and actions stayed): shown as one change rather than a removal and an
/// addition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    /// The policy now (normalised).
    pub before: Value,
    /// The policy after (normalised).
    pub after: Value,
}

/// What an update of a role changes. Empty when the two definitions are the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChanges {
    /// The description, when it changes: (before, after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<(String, String)>,
    /// Permissions that change, by section name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<ValueChange>,
    /// Policies only after (normalised).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies_added: Vec<Value>,
    /// Policies only before (normalised).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies_removed: Vec<Value>,
    /// Policies changed in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies_changed: Vec<PolicyChange>,
    /// Other top-level fields that change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<ValueChange>,
}

impl RoleChanges {
    /// The changes from `before` to `after`, over their normal forms.
    pub fn between(before: &RoleDefinition, after: &RoleDefinition) -> RoleChanges {
        let (b, a) = (before.normalized(), after.normalized());
        let mut out = RoleChanges::default();
        if b.description != a.description {
            out.description = Some((b.description.clone(), a.description.clone()));
        }
        out.permissions = map_changes(
            b.permissions.iter().map(|(k, v)| (k.as_str(), v)),
            a.permissions.iter().map(|(k, v)| (k.as_str(), v)),
        );
        out.other = map_changes(
            b.other.iter().map(|(k, v)| (k.as_str(), v)),
            a.other.iter().map(|(k, v)| (k.as_str(), v)),
        );
        // Multiset difference: a policy present on both sides is unchanged.
        let mut removed: Vec<Value> = b.policies.clone();
        let mut added: Vec<Value> = Vec::new();
        for p in &a.policies {
            match removed.iter().position(|r| r == p) {
                Some(i) => {
                    removed.remove(i);
                }
                None => added.push(p.clone()),
            }
        }
        // Pair a removed and an added policy that differ in one of actions or constraint.
        let same_but = |x: &Value, y: &Value, field: &str| {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove(field);
                }
                v
            };
            strip(x) == strip(y)
        };
        let mut i = 0;
        while i < removed.len() {
            let pair = added.iter().position(|a| {
                same_but(&removed[i], a, "actions") || same_but(&removed[i], a, "constraint")
            });
            match pair {
                Some(j) => {
                    out.policies_changed.push(PolicyChange {
                        before: removed.remove(i),
                        after: added.remove(j),
                    });
                }
                None => i += 1,
            }
        }
        out.policies_added = added;
        out.policies_removed = removed;
        out
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.permissions.is_empty()
            && self.policies_added.is_empty()
            && self.policies_removed.is_empty()
            && self.policies_changed.is_empty()
            && self.other.is_empty()
    }

    /// One line per change, e.g. `permission ContentModel changed`, `policy added: allow read`.
    pub fn headlines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.description.is_some() {
            out.push("description changed".to_string());
        }
        for p in &self.permissions {
            let what = match (&p.before, &p.after) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            out.push(format!("permission {} {what}", p.key));
        }
        for p in &self.policies_added {
            out.push(format!("policy added: {}", policy_summary(p)));
        }
        for p in &self.policies_removed {
            out.push(format!("policy removed: {}", policy_summary(p)));
        }
        for p in &self.policies_changed {
            out.push(format!("policy changed: {}", policy_summary(&p.before)));
        }
        for p in &self.other {
            out.push(format!("field {} changed", p.key));
        }
        out
    }
}

/// `allow read, publish` / `deny all`: a policy's effect and actions.
pub fn policy_summary(policy: &Value) -> String {
    let effect = policy.get("effect").and_then(Value::as_str).unwrap_or("?");
    let actions = match policy.get("actions") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        _ => "?".to_string(),
    };
    format!("{effect} {actions}")
}

fn map_changes<'v>(
    before: impl Iterator<Item = (&'v str, &'v Value)>,
    after: impl Iterator<Item = (&'v str, &'v Value)>,
) -> Vec<ValueChange> {
    let before: std::collections::BTreeMap<&str, &Value> = before.collect();
    let after: std::collections::BTreeMap<&str, &Value> = after.collect();
    let keys: std::collections::BTreeSet<&str> =
        before.keys().chain(after.keys()).copied().collect();
    keys.into_iter()
        .filter(|k| before.get(k) != after.get(k))
        .map(|k| ValueChange {
            key: k.to_string(),
            before: before.get(k).map(|v| (*v).clone()),
            after: after.get(k).map(|v| (*v).clone()),
        })
        .collect()
}

/// A definition's normal form as pretty-printed JSON (the text the diff lines come from).
pub fn pretty(definition: &RoleDefinition) -> String {
    let n = definition.normalized();
    let mut v = serde_json::json!({
        "description": n.description,
        "permissions": n.permissions,
        "policies": n.policies,
    });
    if let Some(o) = v.as_object_mut() {
        for (k, x) in n.other {
            o.insert(k, x);
        }
    }
    serde_json::to_string_pretty(&crate::model::role::canonical(&v)).unwrap_or_default()
}

/// The unified line diff (`+`/`-`/` ` prefixes, three lines of context) of the two definitions'
/// normal forms; empty when they are the same.
pub fn text_diff(before: &RoleDefinition, after: &RoleDefinition) -> Vec<(char, String)> {
    let (b, a) = (pretty(before), pretty(after));
    if b == a {
        return Vec::new();
    }
    let diff = similar::TextDiff::from_lines(&b, &a);
    let mut out = Vec::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                out.push((sign, change.value().trim_end_matches('\n').to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(permissions: Value, policies: Value) -> RoleDefinition {
        RoleDefinition {
            description: "Reviews".into(),
            permissions: permissions.as_object().cloned().unwrap_or_default(),
            policies: policies.as_array().cloned().unwrap_or_default(),
            other: Default::default(),
        }
    }

    #[test]
    fn reordering_alone_shows_nothing() {
        let a = def(
            json!({"ContentModel": ["read"], "Settings": []}),
            json!([{"effect": "allow", "actions": ["read", "publish"]},
                   {"effect": "deny", "actions": ["delete"]}]),
        );
        let b = def(
            json!({"Settings": [], "ContentModel": ["read"]}),
            json!([{"actions": ["delete"], "effect": "deny"},
                   {"effect": "allow", "actions": ["publish", "read"]}]),
        );
        assert!(RoleChanges::between(&a, &b).is_empty());
        assert!(text_diff(&a, &b).is_empty());
    }

    #[test]
    fn changes_name_the_policies_and_permissions() {
        let c = json!({"equals": [{"doc": "sys.type"}, "Entry"]});
        let a = def(
            json!({"ContentModel": ["read"], "Settings": []}),
            json!([{"effect": "allow", "actions": ["read"], "constraint": c},
                   {"effect": "deny", "actions": ["delete"]}]),
        );
        let b = def(
            json!({"ContentModel": ["read", "update"], "Settings": []}),
            json!([{"effect": "allow", "actions": ["read", "publish"], "constraint": c},
                   {"effect": "allow", "actions": "all", "constraint": {"equals": [{"doc": "sys.type"}, "Asset"]}}]),
        );
        let ch = RoleChanges::between(&a, &b);
        assert_eq!(
            ch.headlines(),
            vec![
                "permission ContentModel changed",
                "policy added: allow all",
                "policy removed: deny delete",
                "policy changed: allow read",
            ]
        );
        assert_eq!(
            ch.policies_changed[0].after["actions"],
            json!(["publish", "read"])
        );
        let lines = text_diff(&a, &b);
        assert!(
            lines.contains(&('+', "        \"publish\",".to_string())),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|(s, l)| *s == '-' && l.contains("\"deny\""))
        );
    }
}
