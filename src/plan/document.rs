//! Reading a saved plan back (`apply plan.json`): parse the JSON document and check that it is one
//! this build can execute safely, whatever happened to the file in between.
//!
//! A plan file may be old, from a newer version of the tool, truncated or edited by hand. Before
//! anything runs, [`Plan::from_json`] checks the format version and that ids, dependencies and
//! levels still fit together, so `apply` never executes operations out of order.

use std::collections::BTreeMap;

use super::ops::{FORMAT_VERSION, OpId, Plan};

/// Why a saved plan cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    /// Not a plan document (JSON syntax or shape).
    #[error("not a contentful-access plan: {0}")]
    Parse(String),
    /// Written by a version of the tool with another document format.
    #[error(
        "plan format version {found} is not supported (this build reads version {FORMAT_VERSION}); make the plan again with this version"
    )]
    UnsupportedVersion {
        /// The `format_version` in the file.
        found: u32,
    },
    /// The operations, their dependencies and levels do not fit together.
    #[error("the plan file is inconsistent: {0}")]
    Inconsistent(String),
}

impl Plan {
    /// Parses a plan written by [`crate::render::plan_json`] and checks it with [`Plan::verify`].
    pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
        #[derive(serde::Deserialize)]
        struct Version {
            format_version: u32,
        }
        let v: Version =
            serde_json::from_str(text).map_err(|e| PlanFileError::Parse(e.to_string()))?;
        if v.format_version != FORMAT_VERSION {
            return Err(PlanFileError::UnsupportedVersion {
                found: v.format_version,
            });
        }
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| PlanFileError::Parse(e.to_string()))?;
        plan.verify()?;
        Ok(plan)
    }

    /// Checks that operation ids are unique, every operation is in exactly one level, and every
    /// dependency exists and sits in an earlier level.
    pub fn verify(&self) -> Result<(), PlanFileError> {
        let bad = |m: String| Err(PlanFileError::Inconsistent(m));
        if self.format_version != FORMAT_VERSION {
            return Err(PlanFileError::UnsupportedVersion {
                found: self.format_version,
            });
        }
        let mut level_of: BTreeMap<&OpId, usize> = BTreeMap::new();
        for (i, level) in self.levels.iter().enumerate() {
            for id in level {
                if level_of.insert(id, i).is_some() {
                    return bad(format!("{id} appears in more than one level"));
                }
            }
        }
        let mut seen: BTreeMap<&OpId, ()> = BTreeMap::new();
        for op in &self.operations {
            if seen.insert(&op.id, ()).is_some() {
                return bad(format!("operation id {} is used twice", op.id));
            }
            if op.action != op.kind.action() {
                return bad(format!(
                    "{} is a {} but marked {:?}",
                    op.id,
                    op.kind.name(),
                    op.action
                ));
            }
            let Some(&mine) = level_of.get(&op.id) else {
                return bad(format!("{} is in no level", op.id));
            };
            for dep in &op.depends_on {
                match level_of.get(dep) {
                    None => return bad(format!("{} depends on unknown {dep}", op.id)),
                    Some(&l) if l >= mine => {
                        return bad(format!(
                            "{} runs no later than {dep}, which it needs",
                            op.id
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(stray) = level_of.keys().find(|id| !seen.contains_key(*id)) {
            return bad(format!("level lists {stray}, which is not an operation"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Email, OrgRole};
    use crate::plan::{Action, OpKind, Operation};

    fn op(n: usize, deps: &[usize]) -> Operation {
        Operation {
            id: OpId::nth(n),
            action: Action::Add,
            kind: OpKind::Invite {
                email: Email::new(&format!("u{n}@example.com")),
                role: OrgRole::Member,
                first_name: None,
                last_name: None,
            },
            depends_on: deps.iter().map(|&d| OpId::nth(d)).collect(),
            cause: None,
            reason: None,
            touches: vec![],
        }
    }

    fn plan(ops: Vec<Operation>, levels: &[&[usize]]) -> Plan {
        let levels = levels
            .iter()
            .map(|l| l.iter().map(|&n| OpId::nth(n)).collect())
            .collect();
        Plan::fixture(ops, levels)
    }

    #[test]
    fn a_consistent_plan_reads_back() {
        let p = plan(vec![op(1, &[]), op(2, &[1])], &[&[1], &[2]]);
        let json = crate::render::plan_json(&p);
        assert_eq!(Plan::from_json(&json).unwrap(), p);
    }

    #[test]
    fn out_of_order_or_missing_operations_are_rejected() {
        let same_level = plan(vec![op(1, &[]), op(2, &[1])], &[&[1, 2]]);
        assert!(matches!(
            same_level.verify(),
            Err(PlanFileError::Inconsistent(m)) if m.contains("op-002 runs no later than op-001")
        ));
        let missing = plan(vec![op(1, &[]), op(2, &[])], &[&[1]]);
        assert!(missing.verify().is_err());
        let unknown_dep = plan(vec![op(1, &[7])], &[&[1]]);
        assert!(unknown_dep.verify().is_err());
        let stray = plan(vec![op(1, &[])], &[&[1, 3]]);
        assert!(stray.verify().is_err());
    }

    #[test]
    fn other_format_versions_and_garbage_are_rejected() {
        let mut p = plan(vec![op(1, &[])], &[&[1]]);
        p.format_version = 2;
        let json = crate::render::plan_json(&p);
        assert_eq!(
            Plan::from_json(&json),
            Err(PlanFileError::UnsupportedVersion { found: 2 })
        );
        assert!(matches!(
            Plan::from_json("{\"format_version\": 1}"),
            Err(PlanFileError::Parse(_))
        ));
        assert!(matches!(
            Plan::from_json("not json"),
            Err(PlanFileError::Parse(_))
        ));
    }
}
