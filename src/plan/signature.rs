//! What an operation does, independent of where it sits in a plan: its target and its content,
//! without its id, its position, its dependencies or the versions and timestamps it saw.
//!
//! Two plans made from the same access file against the same organization at different times
//! number their operations independently, so operations are compared by [`OpSignature`], never by
//! [`OpId`]. `apply` uses it to accept a saved plan only when each of its operations is one the
//! file asks for now; a reviewed plan can be compared with a fresh one the same way.
//!
//! References to an earlier operation of the same plan (the team a [`OpKind::CreateTeam`] makes,
//! the membership an [`OpKind::Invite`] makes) are resolved to what that operation creates (the
//! team's name, the invitee's email), so pointing a reference at another operation changes the
//! signature. The live objects an operation touches are derived from the operation itself
//! ([`touched_by`]), never taken from its `touches` list, which a hand-edited plan may leave empty.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::ObjectMeta;

use super::ops::{
    Cascade, MembershipRef, ObjectKind, OpId, OpKind, Operation, Plan, TeamRef, Touched,
};

/// The target and content of one operation, comparable across plans (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpSignature {
    target: OpTarget,
    content: String,
}

/// What an operation is about: its kind and the user, team, space and live object it names.
/// Two operations with the same target but different signatures ask for different content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpTarget {
    /// [`OpKind::name`].
    pub kind: &'static str,
    /// The user, when the operation is about one.
    pub email: Option<String>,
    /// The team's name, when the operation is about a team.
    pub team: Option<String>,
    /// The space id, when the operation is about a space.
    pub space_id: Option<String>,
}

impl fmt::Display for OpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind)?;
        if let Some(e) = &self.email {
            write!(f, " {e}")?;
        }
        if let Some(t) = &self.team {
            write!(f, " team {t}")?;
        }
        if let Some(s) = &self.space_id {
            write!(f, " in space {s}")?;
        }
        Ok(())
    }
}

impl OpSignature {
    /// The operation's target.
    pub fn target(&self) -> &OpTarget {
        &self.target
    }
}

/// The signature of `op`, an operation of `plan` (needed to resolve references to the operations
/// that create a team or invite a user).
pub fn signature(plan: &Plan, op: &Operation) -> OpSignature {
    let creators: BTreeMap<&OpId, &OpKind> =
        plan.operations.iter().map(|o| (&o.id, &o.kind)).collect();
    signature_with(&creators, op)
}

/// The signatures of every operation of `plan`, in plan order.
pub fn signatures(plan: &Plan) -> Vec<(OpId, OpSignature)> {
    let creators: BTreeMap<&OpId, &OpKind> =
        plan.operations.iter().map(|o| (&o.id, &o.kind)).collect();
    plan.operations
        .iter()
        .map(|op| (op.id.clone(), signature_with(&creators, op)))
        .collect()
}

fn signature_with(creators: &BTreeMap<&OpId, &OpKind>, op: &Operation) -> OpSignature {
    let kind = normalized(creators, &op.kind);
    // Serialization of the plan types is deterministic (struct fields in order, sets sorted).
    let content = serde_json::to_string(&kind).unwrap_or_default();
    OpSignature {
        target: OpTarget {
            kind: op.kind.name(),
            email: op.kind.email().map(|e| e.to_string()),
            team: op.kind.team_name().map(str::to_string),
            space_id: op.kind.space().map(|(_, id)| id.to_string()),
        },
        content,
    }
}

fn meta(m: &ObjectMeta) -> ObjectMeta {
    ObjectMeta::new(m.id.clone(), 0)
}

fn team_ref(creators: &BTreeMap<&OpId, &OpKind>, r: &TeamRef) -> TeamRef {
    match r {
        TeamRef::Existing(id) => TeamRef::Existing(id.clone()),
        TeamRef::CreatedBy(id) => TeamRef::CreatedBy(OpId(match creators.get(id) {
            Some(OpKind::CreateTeam { name, .. }) => format!("create_team {name}"),
            _ => format!("unresolved {id}"),
        })),
    }
}

fn membership_ref(creators: &BTreeMap<&OpId, &OpKind>, r: &MembershipRef) -> MembershipRef {
    match r {
        MembershipRef::Existing(id) => MembershipRef::Existing(id.clone()),
        MembershipRef::InvitedBy(id) => MembershipRef::InvitedBy(OpId(match creators.get(id) {
            Some(OpKind::Invite { email, .. }) => format!("invite {email}"),
            _ => format!("unresolved {id}"),
        })),
    }
}

fn cascade(c: &Cascade) -> Cascade {
    let mut c = c.clone();
    match &mut c {
        Cascade::TeamMembership {
            team_membership: m, ..
        }
        | Cascade::SpaceMembership {
            space_membership: m,
            ..
        }
        | Cascade::TeamSpaceMembership { tsm: m, .. } => *m = meta(m),
    }
    c
}

/// `kind` without versions and timestamps, with references resolved.
fn normalized(creators: &BTreeMap<&OpId, &OpKind>, kind: &OpKind) -> OpKind {
    let mut k = kind.clone();
    match &mut k {
        OpKind::Invite { .. } | OpKind::CreateTeam { .. } => {}
        OpKind::ChangeOrgRole { membership, .. } | OpKind::Reinvite { membership, .. } => {
            *membership = meta(membership)
        }
        OpKind::RemoveOrgMember {
            membership,
            cascades,
            ..
        } => {
            *membership = meta(membership);
            *cascades = cascades.iter().map(cascade).collect();
        }
        OpKind::UpdateTeam { team, .. } => *team = meta(team),
        OpKind::DeleteTeam { team, cascades, .. } => {
            *team = meta(team);
            *cascades = cascades.iter().map(cascade).collect();
        }
        OpKind::AddTeamMember {
            team, membership, ..
        } => {
            *team = team_ref(creators, team);
            *membership = membership_ref(creators, membership);
        }
        OpKind::RemoveTeamMember {
            team_membership, ..
        } => *team_membership = meta(team_membership),
        OpKind::CreateTeamSpaceMembership { team, .. } => *team = team_ref(creators, team),
        OpKind::UpdateTeamSpaceMembership { tsm, .. }
        | OpKind::DeleteTeamSpaceMembership { tsm, .. } => *tsm = meta(tsm),
        OpKind::CreateSpaceMembership { .. } => {}
        OpKind::UpdateSpaceMembership {
            space_membership, ..
        }
        | OpKind::DeleteSpaceMembership {
            space_membership, ..
        } => *space_membership = meta(space_membership),
        OpKind::CreateRole { .. } => {}
        OpKind::UpdateRole { role, .. } | OpKind::DeleteRole { role, .. } => *role = meta(role),
    }
    k
}

/// Every live object `kind` writes or deletes, with the `sys.version` the plan saw: the object
/// it names and what goes with a removal. Derived from the operation itself, so an edited
/// `touches` list cannot hide an object from the staleness check.
pub fn touched_by(kind: &OpKind) -> Vec<Touched> {
    let t = |kind: ObjectKind, m: &ObjectMeta| Touched {
        kind,
        id: m.id.clone(),
        version: m.version,
    };
    let mut out = match kind {
        OpKind::Invite { .. }
        | OpKind::CreateTeam { .. }
        | OpKind::AddTeamMember { .. }
        | OpKind::CreateTeamSpaceMembership { .. }
        | OpKind::CreateSpaceMembership { .. }
        | OpKind::CreateRole { .. } => Vec::new(),
        OpKind::UpdateRole { role, .. } | OpKind::DeleteRole { role, .. } => {
            vec![t(ObjectKind::Role, role)]
        }
        OpKind::ChangeOrgRole { membership, .. }
        | OpKind::Reinvite { membership, .. }
        | OpKind::RemoveOrgMember { membership, .. } => {
            vec![t(ObjectKind::OrgMembership, membership)]
        }
        OpKind::UpdateTeam { team, .. } | OpKind::DeleteTeam { team, .. } => {
            vec![t(ObjectKind::Team, team)]
        }
        OpKind::RemoveTeamMember {
            team_membership, ..
        } => vec![t(ObjectKind::TeamMembership, team_membership)],
        OpKind::UpdateTeamSpaceMembership { tsm, .. }
        | OpKind::DeleteTeamSpaceMembership { tsm, .. } => {
            vec![t(ObjectKind::TeamSpaceMembership, tsm)]
        }
        OpKind::UpdateSpaceMembership {
            space_membership, ..
        }
        | OpKind::DeleteSpaceMembership {
            space_membership, ..
        } => vec![t(ObjectKind::SpaceMembership, space_membership)],
    };
    for c in kind.cascades() {
        out.push(match c {
            Cascade::TeamMembership {
                team_membership, ..
            } => t(ObjectKind::TeamMembership, team_membership),
            Cascade::SpaceMembership {
                space_membership, ..
            } => t(ObjectKind::SpaceMembership, space_membership),
            Cascade::TeamSpaceMembership { tsm, .. } => t(ObjectKind::TeamSpaceMembership, tsm),
        });
    }
    out.sort();
    out
}

/// How the operations of one plan (`saved`) compare with those of another made from the same
/// file (`fresh`): which of `saved`'s operations `fresh` also has (by [`OpSignature`]), and which
/// it does not. Each operation of `fresh` matches at most one of `saved`, so a duplicated
/// operation does not match twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Operations of `saved` with their counterpart in `fresh`.
    pub matched: Vec<(OpId, OpId)>,
    /// Operations of `saved` that `fresh` does not have.
    pub unmatched: Vec<Unmatched>,
    /// Operations of `fresh` that `saved` does not have.
    pub missing: Vec<OpId>,
}

/// An operation of one plan that the other does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// Its id in the plan that has it.
    pub id: OpId,
    /// An operation of the other plan with the same target but other content, if any.
    pub same_target: Option<OpId>,
    /// An earlier operation of the same plan with the same signature, when this one repeats it.
    pub repeats: Option<OpId>,
}

/// Compares the operations of `saved` with those of `fresh` (see [`Comparison`]).
pub fn compare(saved: &Plan, fresh: &Plan) -> Comparison {
    let mut available: BTreeMap<OpSignature, Vec<OpId>> = BTreeMap::new();
    let mut by_target: BTreeMap<OpTarget, OpId> = BTreeMap::new();
    for (id, sig) in signatures(fresh) {
        by_target.entry(sig.target.clone()).or_insert(id.clone());
        available.entry(sig).or_default().push(id);
    }
    for ids in available.values_mut() {
        ids.reverse();
    }
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    let mut used = BTreeSet::new();
    let mut first_with: BTreeMap<OpSignature, OpId> = BTreeMap::new();
    for (id, sig) in signatures(saved) {
        let repeats = first_with.get(&sig).cloned();
        first_with.entry(sig.clone()).or_insert(id.clone());
        match available.get_mut(&sig).and_then(Vec::pop) {
            Some(f) => {
                used.insert(f.clone());
                matched.push((id, f));
            }
            None => unmatched.push(Unmatched {
                id,
                same_target: by_target.get(&sig.target).cloned(),
                repeats,
            }),
        }
    }
    let missing = fresh
        .operations
        .iter()
        .filter(|o| !used.contains(&o.id))
        .map(|o| o.id.clone())
        .collect();
    Comparison {
        matched,
        unmatched,
        missing,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Email, OrgRole, SpaceAccess};
    use crate::plan::Action;

    fn op(n: usize, kind: OpKind) -> Operation {
        Operation {
            id: OpId::nth(n),
            action: kind.action(),
            kind,
            depends_on: vec![],
            cause: None,
            reason: None,
            touches: vec![],
        }
    }

    fn plan(ops: Vec<Operation>) -> Plan {
        let level = ops.iter().map(|o| o.id.clone()).collect();
        Plan::fixture(ops, vec![level])
    }

    fn invite(email: &str, role: OrgRole) -> OpKind {
        OpKind::Invite {
            email: Email::new(email),
            role,
            first_name: None,
            last_name: None,
        }
    }

    fn update_sm(version: u64, after: &str) -> OpKind {
        OpKind::UpdateSpaceMembership {
            email: Email::new("bob@example.com"),
            space_name: "marketing".into(),
            space_id: "sp1".into(),
            space_membership: ObjectMeta::new("sm1", version),
            before: SpaceAccess::Roles(["Editor".to_string()].into()),
            after: SpaceAccess::Roles([after.to_string()].into()),
            role_ids: vec![format!("role-{after}")],
        }
    }

    #[test]
    fn ids_and_versions_do_not_matter_content_and_target_do() {
        let a = plan(vec![
            op(1, invite("a@example.com", OrgRole::Member)),
            op(2, update_sm(3, "Author")),
        ]);
        let b = plan(vec![
            op(7, update_sm(4, "Author")),
            op(9, invite("a@example.com", OrgRole::Member)),
        ]);
        let c = compare(&a, &b);
        assert_eq!(c.unmatched, vec![]);
        assert_eq!(c.missing, Vec::<OpId>::new());
        assert_eq!(
            c.matched,
            vec![(OpId::nth(1), OpId::nth(9)), (OpId::nth(2), OpId::nth(7))]
        );

        // Other content for the same target; and a target the fresh plan does not have.
        let edited = plan(vec![
            op(1, invite("a@example.com", OrgRole::Owner)),
            op(2, update_sm(3, "Admin")),
            op(3, invite("outsider@evil.example", OrgRole::Owner)),
        ]);
        let c = compare(&edited, &b);
        let un = |id, same: Option<usize>| Unmatched {
            id: OpId::nth(id),
            same_target: same.map(OpId::nth),
            repeats: None,
        };
        assert_eq!(
            c.unmatched,
            vec![un(1, Some(9)), un(2, Some(7)), un(3, None)]
        );
        assert_eq!(c.missing, vec![OpId::nth(7), OpId::nth(9)]);
    }

    #[test]
    fn a_duplicated_operation_matches_once() {
        let fresh = plan(vec![op(1, invite("a@example.com", OrgRole::Member))]);
        let saved = plan(vec![
            op(1, invite("a@example.com", OrgRole::Member)),
            op(2, invite("a@example.com", OrgRole::Member)),
        ]);
        let c = compare(&saved, &fresh);
        assert_eq!(c.matched.len(), 1);
        assert_eq!(
            c.unmatched,
            vec![Unmatched {
                id: OpId::nth(2),
                same_target: Some(OpId::nth(1)),
                repeats: Some(OpId::nth(1)),
            }]
        );
    }

    #[test]
    fn a_reference_resolves_to_what_the_referenced_operation_creates() {
        let add = |by: usize| OpKind::AddTeamMember {
            team_name: "editors".into(),
            team: TeamRef::Existing("t1".into()),
            email: Email::new("a@example.com"),
            membership: MembershipRef::InvitedBy(OpId::nth(by)),
        };
        let fresh = plan(vec![
            op(1, invite("a@example.com", OrgRole::Member)),
            op(2, invite("b@example.com", OrgRole::Member)),
            op(3, add(1)),
        ]);
        // Renumbered: still the invitation of a@, so the same signature.
        let renumbered = plan(vec![
            op(4, invite("b@example.com", OrgRole::Member)),
            op(5, invite("a@example.com", OrgRole::Member)),
            op(6, add(5)),
        ]);
        assert!(compare(&renumbered, &fresh).unmatched.is_empty());
        // Pointed at b@'s invitation: another membership is added to the team.
        let repointed = plan(vec![
            op(1, invite("a@example.com", OrgRole::Member)),
            op(2, invite("b@example.com", OrgRole::Member)),
            op(3, add(2)),
        ]);
        let un = compare(&repointed, &fresh).unmatched;
        assert_eq!(un.len(), 1);
        assert_eq!(
            (un[0].id.clone(), un[0].same_target.clone()),
            (OpId::nth(3), Some(OpId::nth(3)))
        );
    }

    #[test]
    fn touched_objects_come_from_the_operation_not_its_touches_list() {
        let remove = OpKind::RemoveOrgMember {
            email: Email::new("gone@example.com"),
            membership: ObjectMeta::new("om1", 5),
            role: OrgRole::Member,
            cascades: vec![Cascade::SpaceMembership {
                space_name: "marketing".into(),
                space_id: "sp1".into(),
                space_membership: ObjectMeta::new("sm9", 2),
                access: SpaceAccess::Admin,
            }],
        };
        let t = touched_by(&remove);
        assert_eq!(
            t,
            vec![
                Touched {
                    kind: ObjectKind::OrgMembership,
                    id: "om1".into(),
                    version: 5
                },
                Touched {
                    kind: ObjectKind::SpaceMembership,
                    id: "sm9".into(),
                    version: 2
                },
            ]
        );
        assert_eq!(op(1, remove).action, Action::Remove);
    }
}
