//! A custom role's definition (description, permissions, policies) in Contentful's own JSON shape,
//! and its normal form.
//!
//! The same definition arrives from two places: the access file's `roles:` section (written as YAML
//! in the API's shape, so a policy copied from the API or the web app works unchanged) and the
//! organization-wide roles read. Both are kept verbatim, including fields this tool does not know
//! (environment-scoped policies, future keys), so nothing is dropped on a round trip. Comparison
//! goes through [`RoleDefinition::normalized`]: keys sorted, action lists sorted, policies in a
//! stable order, so that reordering alone is never a change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a role grants: Contentful's `description`, `permissions` and `policies`, plus every other
/// top-level field of the role body (except `sys` and `name`) verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// `description` (null or absent reads as empty).
    pub description: String,
    /// `permissions`: e.g. `{"ContentModel": ["read"], "Settings": [], "ContentDelivery": "all"}`.
    pub permissions: Map<String, Value>,
    /// `policies`: `[{"effect": "allow", "actions": [...], "constraint": {...}}, ...]`.
    pub policies: Vec<Value>,
    /// Any other top-level field of the role, kept untouched.
    pub other: BTreeMap<String, Value>,
}

impl RoleDefinition {
    /// The normal form used for comparison and diffs: object keys sorted at every depth, each
    /// permission's and policy's `actions` list sorted and deduplicated, and policies ordered by
    /// their canonical JSON text. Two definitions that differ only in order normalise equal.
    pub fn normalized(&self) -> RoleDefinition {
        let permissions = self
            .permissions
            .iter()
            .map(|(k, v)| (k.clone(), sorted_list(&canonical(v))))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let mut policies: Vec<Value> = self.policies.iter().map(normalized_policy).collect();
        policies.sort_by_cached_key(|p| p.to_string());
        RoleDefinition {
            description: self.description.clone(),
            permissions,
            policies,
            other: self
                .other
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect(),
        }
    }

    /// Whether the two definitions grant the same (equal normal forms).
    pub fn same_as(&self, other: &RoleDefinition) -> bool {
        self.normalized() == other.normalized()
    }
}

/// A policy with sorted keys and a sorted `actions` list.
fn normalized_policy(policy: &Value) -> Value {
    let mut p = canonical(policy);
    if let Some(actions) = p.get_mut("actions") {
        *actions = sorted_list(actions);
    }
    p
}

/// An array of strings sorted and deduplicated; anything else unchanged (`"all"` stays a string).
fn sorted_list(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items = items.clone();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            items.dedup();
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// The value with object keys in sorted order at every depth (whatever order `serde_json::Map`
/// keeps), arrays in their own order.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(permissions: Value, policies: Value) -> RoleDefinition {
        RoleDefinition {
            description: "Reviews entries".into(),
            permissions: permissions.as_object().cloned().unwrap_or_default(),
            policies: policies.as_array().cloned().unwrap_or_default(),
            other: BTreeMap::new(),
        }
    }

    #[test]
    fn reordering_alone_is_not_a_difference() {
        let a = def(
            json!({"ContentModel": ["read"], "Settings": [], "ContentDelivery": "all"}),
            json!([
                {"effect": "allow", "actions": ["read", "update"],
                 "constraint": {"and": [{"equals": [{"doc": "sys.type"}, "Entry"]}]}},
                {"effect": "deny", "actions": ["delete"],
                 "constraint": {"equals": [{"doc": "sys.type"}, "Asset"]}}
            ]),
        );
        let b = def(
            json!({"ContentDelivery": "all", "Settings": [], "ContentModel": ["read"]}),
            json!([
                {"constraint": {"equals": [{"doc": "sys.type"}, "Asset"]},
                 "actions": ["delete"], "effect": "deny"},
                {"actions": ["update", "read"], "effect": "allow",
                 "constraint": {"and": [{"equals": [{"doc": "sys.type"}, "Entry"]}]}}
            ]),
        );
        assert!(a.same_as(&b));
        assert_eq!(a.normalized(), b.normalized());
    }

    #[test]
    fn a_changed_action_or_constraint_is_a_difference() {
        let a = def(json!({"ContentModel": ["read"]}), json!([]));
        let b = def(json!({"ContentModel": ["read", "update"]}), json!([]));
        assert!(!a.same_as(&b));
        let c = def(
            json!({}),
            json!([{"effect": "allow", "actions": "all",
                    "constraint": {"equals": [{"doc": "sys.contentType.sys.id"}, "post"]}}]),
        );
        let d = def(
            json!({}),
            json!([{"effect": "allow", "actions": "all",
                    "constraint": {"equals": [{"doc": "sys.contentType.sys.id"}, "page"]}}]),
        );
        assert!(!c.same_as(&d));
    }

    #[test]
    fn unknown_fields_are_kept_and_compared() {
        let mut a = def(json!({}), json!([]));
        a.other
            .insert("environments".into(), json!({"master": {"x": 1}}));
        let b = def(json!({}), json!([]));
        assert!(!a.same_as(&b));
        assert_eq!(
            a.normalized().other["environments"],
            json!({"master": {"x": 1}})
        );
    }
}
