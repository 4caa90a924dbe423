//! Undeclared principals (users and teams alike): removed with `prune`, otherwise reported with
//! what they hold; and removals caused by an expiry.

use super::*;

/// A live principal the file does not declare: removed with `prune`, otherwise reported.
#[derive(Clone, Copy)]
pub(super) enum Undeclared<'a> {
    User {
        email: &'a Email,
        member: Member<'a>,
    },
    Team {
        name: &'a str,
        team: &'a LiveTeam,
    },
}

/// A live space membership or team space membership, as removal and reports see it.
pub(super) struct Held<'a> {
    space_id: &'a str,
    admin: bool,
    role_ids: &'a BTreeSet<String>,
    meta: &'a ObjectMeta,
}

impl<'a> Differ<'a> {
    /// An undeclared principal (not ignored): with `prune`, one removal whose cascades list the
    /// team and space memberships that go with it; without, a report of what it holds in the
    /// managed spaces and who or what it is related to (its teams, or a team's members).
    pub(super) fn prune_or_report(&mut self, who: Undeclared<'a>) {
        let (ix, live, desired) = (self.ix, self.live, self.desired);
        if desired.policy.prune {
            if self.provider {
                self.strip(who, None);
            } else {
                self.remove(who, None);
            }
            return;
        }
        let (team_memberships, held) = self.holdings(who);
        let member_email = |tm: &LiveTeamMembership| ix.member_email(tm);
        let access = |h: &Held<'_>| live.access_of(h.space_id, h.admin, h.role_ids);

        {
            let mut related: Vec<String> = team_memberships
                .iter()
                .filter_map(|tm| match who {
                    Undeclared::User { .. } => ix.team_name(&tm.team_id).map(str::to_string),
                    Undeclared::Team { .. } => member_email(tm).map(|e| e.to_string()),
                })
                .collect();
            related.sort();
            related.dedup();
            let mut held_access: Vec<HeldAccess> = held
                .iter()
                .filter_map(|h| {
                    self.managed.get(h.space_id).map(|name| HeldAccess {
                        space_name: name.to_string(),
                        space_id: h.space_id.to_string(),
                        access: access(h),
                    })
                })
                .collect();
            held_access.sort();
            let (kind, name, id, org_role) = match who {
                Undeclared::User { email, member: m } => (
                    PrincipalKind::User,
                    email.to_string(),
                    &m.membership.meta.id,
                    Some(m.membership.role),
                ),
                Undeclared::Team { name, team: t } => {
                    (PrincipalKind::Team, name.to_string(), &t.meta.id, None)
                }
            };
            self.out.unmanaged.push(Unmanaged {
                kind,
                name,
                id: id.clone(),
                org_role,
                related,
                access: held_access,
            });
        }
    }

    /// With an identity provider owning organization membership (and the members of teams the
    /// file does not declare): takes away what this tool manages from a live principal, one
    /// operation each, instead of removing it. A user loses their memberships of teams whose
    /// members the file decides and their direct access to managed spaces; a team loses its
    /// access to managed spaces. `expired`: why (a declared user's `expires`), else prune.
    pub(super) fn strip(&mut self, who: Undeclared<'a>, expired: Option<&Expiry>) {
        let (ix, live) = (self.ix, self.live);
        let (team_memberships, held) = self.holdings(who);
        let cause = expired.map(|e| e.span);
        let reason = expired.map(expiry_reason);
        if let Undeclared::User { email, .. } = who {
            for tm in team_memberships {
                let Some(team_name) = ix.team_name(&tm.team_id) else {
                    continue;
                };
                if !self.members_managed(team_name) {
                    continue;
                }
                self.out.drafts.push(Draft {
                    kind: OpKind::RemoveTeamMember {
                        team_name: team_name.to_string(),
                        team_id: tm.team_id.clone(),
                        email: email.clone(),
                        team_membership: tm.meta.clone(),
                    },
                    cause,
                    reason: reason.clone(),
                    touches: vec![touch(ObjectKind::TeamMembership, &tm.meta)],
                });
            }
        }
        for h in &held {
            let Some(space_name) = self.managed.get(h.space_id).map(|n| n.to_string()) else {
                continue;
            };
            let before = live.access_of(h.space_id, h.admin, h.role_ids);
            let space_id = h.space_id.to_string();
            let (kind, object) = match who {
                Undeclared::User { email, .. } => (
                    OpKind::DeleteSpaceMembership {
                        email: email.clone(),
                        space_name,
                        space_id,
                        space_membership: h.meta.clone(),
                        before,
                    },
                    ObjectKind::SpaceMembership,
                ),
                Undeclared::Team { name, team } => (
                    OpKind::DeleteTeamSpaceMembership {
                        team_name: name.to_string(),
                        team_id: team.meta.id.clone(),
                        space_name,
                        space_id,
                        tsm: h.meta.clone(),
                        before,
                    },
                    ObjectKind::TeamSpaceMembership,
                ),
            };
            self.out.drafts.push(Draft {
                kind,
                cause,
                reason: reason.clone(),
                touches: vec![touch(object, h.meta)],
            });
        }
    }

    /// The team memberships and the space access a live principal holds.
    pub(super) fn holdings(
        &self,
        who: Undeclared<'a>,
    ) -> (&'a [&'a LiveTeamMembership], Vec<Held<'a>>) {
        let ix = self.ix;
        match who {
            Undeclared::User { member: m, .. } => (
                ix.tms_of_membership(&m.membership.meta.id),
                ix.sms_of_user(&m.user.id)
                    .iter()
                    .map(|sm| Held {
                        space_id: &sm.space_id,
                        admin: sm.admin,
                        role_ids: &sm.role_ids,
                        meta: &sm.meta,
                    })
                    .collect(),
            ),
            Undeclared::Team { team: t, .. } => (
                ix.tms_of_team(&t.meta.id),
                ix.tsms_of_team(&t.meta.id)
                    .iter()
                    .map(|tsm| Held {
                        space_id: &tsm.space_id,
                        admin: tsm.admin,
                        role_ids: &tsm.role_ids,
                        meta: &tsm.meta,
                    })
                    .collect(),
            ),
        }
    }

    /// Removes a live principal with everything that goes with it (one operation whose cascades
    /// list its team and space memberships): an undeclared one with `prune`, or a declared user
    /// whose membership has `expired`.
    pub(super) fn remove(&mut self, who: Undeclared<'a>, expired: Option<&Expiry>) {
        let (ix, live, desired) = (self.ix, self.live, self.desired);
        let (team_memberships, held) = self.holdings(who);
        let member_email = |tm: &LiveTeamMembership| ix.member_email(tm);
        let access = |h: &Held<'_>| live.access_of(h.space_id, h.admin, h.role_ids);
        let mut cascades = Vec::new();
        let mut touches = vec![match who {
            Undeclared::User { member: m, .. } => {
                touch(ObjectKind::OrgMembership, &m.membership.meta)
            }
            Undeclared::Team { team: t, .. } => touch(ObjectKind::Team, &t.meta),
        }];
        for tm in team_memberships {
            let (team_name, email) = match who {
                Undeclared::User { .. } => (
                    ix.team_name(&tm.team_id).unwrap_or(tm.team_id.as_str()),
                    None,
                ),
                Undeclared::Team { name, .. } => (name, member_email(tm).cloned()),
            };
            cascades.push(Cascade::TeamMembership {
                team_name: team_name.to_string(),
                team_id: tm.team_id.clone(),
                email,
                team_membership: tm.meta.clone(),
            });
            touches.push(touch(ObjectKind::TeamMembership, &tm.meta));
        }
        for h in &held {
            let space_name = ix.space_display(desired, h.space_id);
            let space_id = h.space_id.to_string();
            let (cascade, kind) = match who {
                Undeclared::User { .. } => (
                    Cascade::SpaceMembership {
                        space_name,
                        space_id,
                        space_membership: h.meta.clone(),
                        access: access(h),
                    },
                    ObjectKind::SpaceMembership,
                ),
                Undeclared::Team { .. } => (
                    Cascade::TeamSpaceMembership {
                        space_name,
                        space_id,
                        tsm: h.meta.clone(),
                        access: access(h),
                    },
                    ObjectKind::TeamSpaceMembership,
                ),
            };
            cascades.push(cascade);
            touches.push(touch(kind, h.meta));
        }
        sort_cascades(&mut cascades);
        touches.sort();
        let kind = match who {
            Undeclared::User { email, member: m } => OpKind::RemoveOrgMember {
                email: email.clone(),
                membership: m.membership.meta.clone(),
                role: m.membership.role,
                cascades,
            },
            Undeclared::Team { name, team: t } => OpKind::DeleteTeam {
                team: t.meta.clone(),
                name: name.to_string(),
                cascades,
            },
        };
        self.out.drafts.push(Draft {
            kind,
            cause: expired.map(|e| e.span),
            reason: expired.map(expiry_reason),
            touches,
        });
    }
}
