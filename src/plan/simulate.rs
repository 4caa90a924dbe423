//! What the organization would look like after a plan, computed without any request.
//!
//! [`simulate`] applies operations level by level over the live state, the way `apply` would,
//! giving created objects deterministic ids (`sim-…`). The changes are kept as layers over the live
//! state ([`After`]), so the cost is what the plan touches, not the size of the organization. The planner checks its guardrails on
//! the result; tests use it to prove that applying a plan converges. (The reverse direction, the
//! desired state that describes a live organization exactly, is
//! [`crate::export::desired_from_live`].)

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{
    Email, LiveOrgMembership, LiveSpaceMembership, LiveState, LiveTeam, LiveTeamMembership,
    LiveTeamSpaceMembership, LiveUser, MembershipStatus, ObjectMeta,
};

use super::ops::{MembershipRef, OpId, OpKind, Operation, Plan, TeamRef};

/// The live state after applying `plan` to `live` (pure; no requests). Objects the plan creates get
/// ids `sim-<kind>-<op id>`; updated objects get their version incremented.
pub fn simulate(live: &LiveState, plan: &Plan) -> LiveState {
    simulate_ops(live, &plan.operations, &plan.levels).into_state()
}

/// One collection of the state after a plan: the live objects, with the objects the plan creates,
/// changes and removes layered over them. Nothing live is copied unless the plan changes it, so
/// simulating a plan costs what the plan touches, not the size of the organization.
pub(crate) struct Layered<'a, T> {
    base: &'a BTreeMap<String, T>,
    /// Objects created or changed by the plan, by id.
    changed: FxHashMap<String, T>,
    /// Ids of live objects the plan removes.
    removed: FxHashSet<String>,
}

impl<'a, T: Clone> Layered<'a, T> {
    fn new(base: &'a BTreeMap<String, T>) -> Self {
        Layered {
            base,
            changed: FxHashMap::default(),
            removed: FxHashSet::default(),
        }
    }

    /// True when the live object `id` is shown unchanged.
    fn base_current(&self, id: &str) -> bool {
        (self.removed.is_empty() || !self.removed.contains(id))
            && (self.changed.is_empty() || !self.changed.contains_key(id))
    }

    /// The object `id` after the plan.
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        if let Some(v) = self.changed.get(id) {
            return Some(v);
        }
        if !self.removed.is_empty() && self.removed.contains(id) {
            return None;
        }
        self.base.get(id)
    }

    /// True when the object `id` exists after the plan.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        if !self.changed.contains_key(id) {
            if self.removed.contains(id) {
                return None;
            }
            let v = self.base.get(id)?.clone();
            self.changed.insert(id.to_string(), v);
        }
        self.changed.get_mut(id)
    }

    fn insert(&mut self, id: String, v: T) {
        self.removed.remove(&id);
        self.changed.insert(id, v);
    }

    fn remove(&mut self, id: &str) -> Option<T> {
        let was = match self.changed.remove(id) {
            Some(v) => Some(v),
            None if self.removed.contains(id) => None,
            None => self.base.get(id).cloned(),
        };
        if self.base.contains_key(id) {
            self.removed.insert(id.to_string());
        }
        was
    }

    /// The objects after the plan for which `pred` holds (live ones in id order, then the changed
    /// and created ones in no particular order). `pred` is checked first, so a selective predicate
    /// keeps a scan of a large organization cheap.
    pub(crate) fn filter<'s, P>(&'s self, pred: P) -> impl Iterator<Item = (&'s str, &'s T)> + 's
    where
        P: Fn(&T) -> bool + Copy + 's,
    {
        self.base
            .iter()
            .filter(move |(id, v)| pred(v) && self.base_current(id))
            .chain(self.changed.iter().filter(move |(_, v)| pred(v)))
            .map(|(id, v)| (id.as_str(), v))
    }

    /// Removes every object for which `keep` is false.
    fn retain(&mut self, keep: impl Fn(&T) -> bool + Copy) {
        let gone: Vec<String> = self
            .filter(move |v| !keep(v))
            .map(|(id, _)| id.to_string())
            .collect();
        for id in gone {
            self.remove(&id);
        }
    }

    /// The collection after the plan, as a whole.
    fn into_map(self) -> BTreeMap<String, T> {
        let mut out = self.base.clone();
        for id in &self.removed {
            out.remove(id);
        }
        out.extend(self.changed);
        out
    }
}

/// The organization after a plan, as layers over the live state (see [`Layered`]). The guardrails
/// read it directly; [`After::into_state`] gives the whole [`LiveState`].
pub(crate) struct After<'a> {
    live: &'a LiveState,
    pub users: Layered<'a, LiveUser>,
    pub org_memberships: Layered<'a, LiveOrgMembership>,
    pub teams: Layered<'a, LiveTeam>,
    pub team_memberships: Layered<'a, LiveTeamMembership>,
    pub team_space_memberships: Layered<'a, LiveTeamSpaceMembership>,
    pub space_memberships: Layered<'a, LiveSpaceMembership>,
    /// The spaces with their roles, copied only when the plan changes a role.
    pub spaces: Option<BTreeMap<String, crate::model::LiveSpace>>,
}

impl<'a> After<'a> {
    /// `live` as it is: no operation applied.
    pub(crate) fn unchanged(live: &'a LiveState) -> Self {
        After {
            live,
            users: Layered::new(&live.users),
            org_memberships: Layered::new(&live.org_memberships),
            teams: Layered::new(&live.teams),
            team_memberships: Layered::new(&live.team_memberships),
            team_space_memberships: Layered::new(&live.team_space_memberships),
            space_memberships: Layered::new(&live.space_memberships),
            spaces: None,
        }
    }

    /// The whole state after the plan.
    pub(crate) fn into_state(self) -> LiveState {
        LiveState {
            organization: self.live.organization.clone(),
            organization_name: self.live.organization_name.clone(),
            me: self.live.me.clone(),
            users: self.users.into_map(),
            org_memberships: self.org_memberships.into_map(),
            spaces: self.spaces.unwrap_or_else(|| self.live.spaces.clone()),
            teams: self.teams.into_map(),
            team_memberships: self.team_memberships.into_map(),
            team_space_memberships: self.team_space_memberships.into_map(),
            space_memberships: self.space_memberships.into_map(),
            access_tokens: self.live.access_tokens.clone(),
            org_role_versions: self.live.org_role_versions.clone(),
        }
    }
}

/// Applies one role operation to `spaces`: a created role gets the provisional id grants of it
/// use ([`super::created_role_id`]), so memberships of the same plan refer to it.
fn role_op(spaces: &mut BTreeMap<String, crate::model::LiveSpace>, op: &Operation) {
    use crate::model::LiveRole;
    match &op.kind {
        OpKind::CreateRole {
            name,
            space_id,
            definition,
            ..
        } => {
            if let Some(space) = spaces.get_mut(space_id) {
                let id = super::ops::created_role_id(&op.id);
                let mut role = LiveRole::named(id.clone(), name.clone());
                role.definition = definition.clone();
                space.roles.insert(id, role);
            }
        }
        OpKind::UpdateRole {
            space_id,
            role,
            after,
            ..
        } => {
            if let Some(r) = spaces
                .get_mut(space_id)
                .and_then(|sp| sp.roles.get_mut(&role.id))
            {
                r.definition = after.clone();
                r.version += 1;
            }
        }
        OpKind::DeleteRole { space_id, role, .. } => {
            if let Some(space) = spaces.get_mut(space_id) {
                space.roles.remove(&role.id);
            }
        }
        _ => {}
    }
}

/// Applies `ops` level by level, as `apply` would, over `live` without copying it.
pub(crate) fn simulate_ops<'a>(
    live: &'a LiveState,
    ops: &[Operation],
    levels: &[Vec<OpId>],
) -> After<'a> {
    let mut s = After::unchanged(live);
    let by_id: FxHashMap<&OpId, &Operation> = ops.iter().map(|o| (&o.id, o)).collect();
    let mut invited: FxHashMap<&OpId, String> = FxHashMap::default();
    let mut created_teams: FxHashMap<&OpId, String> = FxHashMap::default();
    // The first user by id wins when two share an email, as in the diff's index. Built only for
    // the emails the plan grants space access to.
    let wanted: FxHashSet<&Email> = ops
        .iter()
        .filter_map(|o| match &o.kind {
            OpKind::CreateSpaceMembership { email, .. } => Some(email),
            _ => None,
        })
        .collect();
    let mut user_by_email: FxHashMap<Email, String> = FxHashMap::default();
    if !wanted.is_empty() {
        for u in live.users.values() {
            if wanted.contains(&u.email) && !user_by_email.contains_key(&u.email) {
                user_by_email.insert(u.email.clone(), u.id.clone());
            }
        }
    }
    // What goes with removed members and deleted teams is dropped in one pass at the end (no
    // later operation can refer to it), keeping large prunes linear.
    let mut removed_memberships: FxHashSet<String> = FxHashSet::default();
    let mut removed_users: FxHashSet<String> = FxHashSet::default();
    let mut deleted_teams: FxHashSet<String> = FxHashSet::default();
    let order = levels
        .iter()
        .flatten()
        .filter_map(|id| by_id.get(id).copied());
    for op in order {
        let sim = |what: &str| format!("sim-{what}-{}", op.id);
        match &op.kind {
            OpKind::Invite {
                email,
                role,
                first_name,
                last_name,
            } => {
                let user_id = sim("user");
                let om_id = sim("om");
                s.users.insert(
                    user_id.clone(),
                    LiveUser {
                        id: user_id.clone(),
                        email: email.clone(),
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                        activated: false,
                    },
                );
                s.org_memberships.insert(
                    om_id.clone(),
                    LiveOrgMembership {
                        meta: ObjectMeta::new(om_id.clone(), 0),
                        user_id: user_id.clone(),
                        role: *role,
                        status: MembershipStatus::Pending,
                        last_active_at: None,
                        sso: None,
                    },
                );
                user_by_email.insert(email.clone(), user_id);
                invited.insert(&op.id, om_id);
            }
            // The membership stays pending; only its invitation is new.
            OpKind::Reinvite { .. } => {}
            OpKind::ChangeOrgRole { membership, to, .. } => {
                if let Some(m) = s.org_memberships.get_mut(&membership.id) {
                    m.role = *to;
                    m.meta.version += 1;
                }
            }
            OpKind::RemoveOrgMember { membership, .. } => {
                if let Some(m) = s.org_memberships.remove(&membership.id) {
                    removed_memberships.insert(membership.id.clone());
                    removed_users.insert(m.user_id);
                }
            }
            OpKind::CreateTeam { name, description } => {
                let id = sim("team");
                s.teams.insert(
                    id.clone(),
                    LiveTeam {
                        meta: ObjectMeta::new(id.clone(), 0),
                        name: name.clone(),
                        description: description.clone(),
                    },
                );
                created_teams.insert(&op.id, id);
            }
            OpKind::UpdateTeam {
                team,
                description_after,
                ..
            } => {
                if let Some(t) = s.teams.get_mut(&team.id) {
                    t.description = description_after.clone();
                    t.meta.version += 1;
                }
            }
            OpKind::DeleteTeam { team, .. } => {
                s.teams.remove(&team.id);
                deleted_teams.insert(team.id.clone());
            }
            OpKind::AddTeamMember {
                team, membership, ..
            } => {
                let team_id = match team {
                    TeamRef::Existing(id) => Some(id.clone()),
                    TeamRef::CreatedBy(p) => created_teams.get(p).cloned(),
                };
                let om_id = match membership {
                    MembershipRef::Existing(id) => Some(id.clone()),
                    MembershipRef::InvitedBy(p) => invited.get(p).cloned(),
                };
                if let (Some(team_id), Some(org_membership_id)) = (team_id, om_id) {
                    let id = sim("tm");
                    s.team_memberships.insert(
                        id.clone(),
                        LiveTeamMembership {
                            meta: ObjectMeta::new(id, 0),
                            team_id,
                            org_membership_id,
                        },
                    );
                }
            }
            OpKind::RemoveTeamMember {
                team_membership, ..
            } => {
                s.team_memberships.remove(&team_membership.id);
            }
            OpKind::CreateTeamSpaceMembership {
                team,
                space_id,
                access,
                role_ids,
                ..
            } => {
                let team_id = match team {
                    TeamRef::Existing(id) => Some(id.clone()),
                    TeamRef::CreatedBy(p) => created_teams.get(p).cloned(),
                };
                if let Some(team_id) = team_id {
                    let id = sim("tsm");
                    s.team_space_memberships.insert(
                        id.clone(),
                        LiveTeamSpaceMembership {
                            meta: ObjectMeta::new(id, 0),
                            team_id,
                            space_id: space_id.clone(),
                            admin: access.is_admin(),
                            role_ids: role_ids.iter().cloned().collect(),
                        },
                    );
                }
            }
            OpKind::UpdateTeamSpaceMembership {
                tsm,
                after,
                role_ids,
                ..
            } => {
                if let Some(t) = s.team_space_memberships.get_mut(&tsm.id) {
                    t.admin = after.is_admin();
                    t.role_ids = role_ids.iter().cloned().collect();
                    t.meta.version += 1;
                }
            }
            OpKind::DeleteTeamSpaceMembership { tsm, .. } => {
                s.team_space_memberships.remove(&tsm.id);
            }
            OpKind::CreateSpaceMembership {
                email,
                space_id,
                access,
                role_ids,
                ..
            } => {
                if let Some(user_id) = user_by_email.get(email).cloned() {
                    let id = sim("sm");
                    s.space_memberships.insert(
                        id.clone(),
                        LiveSpaceMembership {
                            meta: ObjectMeta::new(id, 0),
                            space_id: space_id.clone(),
                            user_id,
                            admin: access.is_admin(),
                            role_ids: role_ids.iter().cloned().collect(),
                        },
                    );
                }
            }
            OpKind::UpdateSpaceMembership {
                space_membership,
                after,
                role_ids,
                ..
            } => {
                if let Some(sm) = s.space_memberships.get_mut(&space_membership.id) {
                    sm.admin = after.is_admin();
                    sm.role_ids = role_ids.iter().cloned().collect();
                    sm.meta.version += 1;
                }
            }
            OpKind::DeleteSpaceMembership {
                space_membership, ..
            } => {
                s.space_memberships.remove(&space_membership.id);
            }
            OpKind::CreateRole { .. } | OpKind::UpdateRole { .. } | OpKind::DeleteRole { .. } => {
                let spaces = s.spaces.get_or_insert_with(|| live.spaces.clone());
                role_op(spaces, op);
            }
        }
    }
    if !removed_memberships.is_empty() || !deleted_teams.is_empty() {
        let (rm, dt) = (&removed_memberships, &deleted_teams);
        s.team_memberships
            .retain(move |tm| !rm.contains(&tm.org_membership_id) && !dt.contains(&tm.team_id));
        s.team_space_memberships
            .retain(move |tsm| !dt.contains(&tsm.team_id));
        // A removed user is gone unless another membership of theirs stays.
        let still: FxHashSet<&str> = s
            .org_memberships
            .filter(|m| removed_users.contains(&m.user_id))
            .map(|(_, m)| m.user_id.as_str())
            .collect();
        let gone: FxHashSet<String> = removed_users
            .iter()
            .filter(|u| !still.contains(u.as_str()))
            .cloned()
            .collect();
        let g = &gone;
        s.space_memberships
            .retain(move |sm| !g.contains(&sm.user_id));
        s.users.retain(move |u| !g.contains(&u.id));
    }
    s
}
