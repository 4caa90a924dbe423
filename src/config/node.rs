//! A YAML document as a tree of nodes that each remember where they start, read through
//! serde-saphyr. Validation walks this tree instead of deserializing straight into structs, so it
//! can report every problem in one run (serde stops at the first) and point at each one.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::model::Span;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the node holds.
    pub kind: Kind,
    /// Where it starts (1-based line and column).
    pub at: Span,
}

/// The shape of a YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// An integer too large for `i64`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, repeated keys kept (duplicates are reported by validation).
    Map(Vec<(Node, Node)>),
}

impl Kind {
    /// How a message names this kind of value: "a list", "a number", ...
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::UInt(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The node as a scalar text: strings as they are, numbers and booleans as written by YAML's
    /// canonical form. `None` for null, lists and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::UInt(u) => Some(u.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(deserializer)?;
        Ok(Node {
            kind: spanned.value,
            at: Span::root(
                spanned.referenced.line() as u32,
                spanned.referenced.column() as u32,
            ),
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kind, E> {
        Ok(i64::try_from(v).map_or(Kind::UInt(v), Kind::Int))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Kind, E> {
        Ok(i64::try_from(v).map_or(Kind::Float(v as f64), Kind::Int))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Kind, E> {
        Ok(u64::try_from(v).map_or(Kind::Float(v as f64), |v| {
            i64::try_from(v).map_or(Kind::UInt(v), Kind::Int)
        }))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        Kind::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Kind::Map(entries))
    }
}

/// Parses `text` into a node tree. Repeated mapping keys are passed through so validation can
/// report every one of them with both positions.
pub(crate) fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::PassThrough,
        // The defaults (250,000 nodes, 1,000,000 events) are exceeded by organizations of about
        // 25,000 users; allow files a hundred times that. Alias and anchor limits stay at their
        // defaults, which is what guards against expansion bombs.
        budget: serde_saphyr::budget! {
            max_nodes: 25_000_000,
            max_events: 100_000_000,
        },
    };
    let node: Option<Node> = serde_saphyr::from_str_with_options(text, options)?;
    Ok(node.unwrap_or(Node {
        kind: Kind::Null,
        at: Span::root(1, 1),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_organizations_fit_the_parser_budget() {
        let mut text = String::from("users:\n");
        for i in 0..25_000 {
            text.push_str(&format!(
                "  u{i}@x.io: {{teams: [a, b, c, d, e, f, g, h]}}\n"
            ));
        }
        let doc = parse(&text).expect("25,000 users parse");
        let Kind::Map(top) = &doc.kind else {
            panic!("expected a map")
        };
        let Kind::Map(users) = &top[0].1.kind else {
            panic!("expected users")
        };
        assert_eq!(users.len(), 25_000);
    }

    #[test]
    fn nodes_carry_positions_of_keys_and_values() {
        let doc = parse("a: 1\nb:\n  - x\n  - y: z\n  - 10%\nb: dup\n").expect("valid YAML");
        let Kind::Map(entries) = &doc.kind else {
            panic!("expected a map, got {doc:?}")
        };
        assert_eq!(entries.len(), 3, "duplicates are passed through");
        assert_eq!(entries[0].0.at, Span::root(1, 1));
        assert_eq!(entries[0].1.at, Span::root(1, 4));
        assert_eq!(entries[2].0.at, Span::root(6, 1));
        let Kind::Seq(items) = &entries[1].1.kind else {
            panic!("expected a list")
        };
        assert_eq!(items[1].at.line, 4);
        assert_eq!(items[2].kind, Kind::Str("10%".into()));
        assert_eq!(items[2].at, Span::root(5, 5));
    }
}
