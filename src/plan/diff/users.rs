//! The diff of one declared user: invitation or org role, team memberships, direct space access.

use super::*;

impl<'a> Differ<'a> {
    /// A declared user: invitation or org role, team memberships, direct space memberships.
    pub(super) fn user(&mut self, user: &'a DesiredUser) {
        if self.user_ignored(&user.email) {
            self.resolver.resolve_all(&user.spaces);
            return;
        }
        let (ix, live, now) = (self.ix, self.live, self.now);
        let member = ix.members.get(&user.email).copied();
        if let Some(e) = expired(&user.expires, now) {
            // The whole membership has ended: removed with everything it holds (never invited).
            // When an identity provider owns membership, only the access this tool manages goes.
            if let Some(m) = member {
                let who = Undeclared::User {
                    email: &user.email,
                    member: m,
                };
                if self.provider {
                    self.strip(who, Some(e));
                } else {
                    self.remove(who, Some(e));
                }
            }
            return;
        }
        if member.is_none() && self.provider {
            // Waiting for the identity provider: nothing can be granted before the membership
            // exists; the next plan after provisioning grants it.
            self.resolver.resolve_all(&user.spaces);
            let mut access: Vec<HeldAccess> = user
                .spaces
                .iter()
                .filter(|(_, g)| expired(&g.expires, now).is_none())
                .filter_map(|(name, g)| {
                    desired_space_id(self.desired, name).map(|id| HeldAccess {
                        space_name: name.clone(),
                        space_id: id.to_string(),
                        access: g.access.clone(),
                    })
                })
                .collect();
            access.sort();
            self.out.waiting.push(WaitingUser {
                email: user.email.clone(),
                org_role: user.org_role,
                teams: user
                    .teams
                    .keys()
                    .filter(|t| user.team_expires.get(*t).is_none_or(|e| !e.passed(now)))
                    .cloned()
                    .collect(),
                access,
            });
            return;
        }
        let team_expired = |name: &str| user.team_expires.get(name).filter(|e| e.passed(now));
        let membership_ref = || match member {
            Some(m) => MembershipRef::Existing(m.membership.meta.id.clone()),
            None => MembershipRef::InvitedBy(provisional_invite(&user.email)),
        };
        match member {
            None => self.out.drafts.push(Draft {
                kind: OpKind::Invite {
                    email: user.email.clone(),
                    role: user.org_role,
                    first_name: user.name.as_ref().map(|n| n.first.clone()),
                    last_name: user.name.as_ref().and_then(|n| n.last.clone()),
                },
                cause: Some(user.at),
                reason: None,
                touches: Vec::new(),
            }),
            Some(m) => {
                if m.membership.status == MembershipStatus::Pending {
                    self.out.pending.push(PendingInvite {
                        email: user.email.clone(),
                        role: m.membership.role,
                        membership_id: m.membership.meta.id.clone(),
                        invited_at: m.membership.meta.created_at,
                    });
                    let policy = &self.desired.policy;
                    if policy.reinvite_expired
                        && policy.org_membership == OrgMembershipSource::File
                        && let Some(invited_at) = m.membership.meta.created_at
                        && invitation_expired(invited_at, now)
                    {
                        self.out.drafts.push(Draft {
                            kind: OpKind::Reinvite {
                                email: user.email.clone(),
                                role: m.membership.role,
                                membership: m.membership.meta.clone(),
                                invited_at,
                                first_name: user.name.as_ref().map(|n| n.first.clone()),
                                last_name: user.name.as_ref().and_then(|n| n.last.clone()),
                            },
                            cause: Some(user.at),
                            reason: None,
                            touches: vec![touch(ObjectKind::OrgMembership, &m.membership.meta)],
                        });
                    }
                }
                if m.membership.role != user.org_role {
                    self.out.drafts.push(Draft {
                        kind: OpKind::ChangeOrgRole {
                            email: user.email.clone(),
                            membership: m.membership.meta.clone(),
                            from: m.membership.role,
                            to: user.org_role,
                        },
                        cause: Some(user.org_role_at),
                        reason: None,
                        touches: vec![touch(ObjectKind::OrgMembership, &m.membership.meta)],
                    });
                }
            }
        }

        // Team memberships: the live ones by team name (the last by id when a user is in a team
        // twice), sorted by name.
        let mut live_teams: Vec<(&str, &LiveTeamMembership)> = match member {
            Some(m) => ix
                .tms_of_membership(&m.membership.meta.id)
                .iter()
                .rev()
                .filter_map(|tm| ix.team_name(&tm.team_id).map(|n| (n, *tm)))
                .collect(),
            None => Vec::new(),
        };
        live_teams.sort_by(|a, b| a.0.cmp(b.0));
        live_teams.dedup_by(|a, b| a.0 == b.0);
        let in_live_team =
            |name: &str| live_teams.binary_search_by(|(n, _)| (*n).cmp(name)).is_ok();
        for (team_name, at) in &user.teams {
            if !self.members_managed(team_name)
                || in_live_team(team_name)
                || team_expired(team_name).is_some()
            {
                continue;
            }
            let team = match ix.teams.get(team_name.as_str()) {
                Some(t) => TeamRef::Existing(t.meta.id.clone()),
                None => TeamRef::CreatedBy(provisional_team(team_name)),
            };
            self.out.drafts.push(Draft {
                kind: OpKind::AddTeamMember {
                    team_name: team_name.clone(),
                    team,
                    email: user.email.clone(),
                    membership: membership_ref(),
                },
                cause: Some(*at),
                reason: None,
                touches: Vec::new(),
            });
        }
        for (team_name, tm) in &live_teams {
            let ended = team_expired(team_name);
            if self.members_managed(team_name)
                && (!user.teams.contains_key(*team_name) || ended.is_some())
            {
                self.out.drafts.push(Draft {
                    kind: OpKind::RemoveTeamMember {
                        team_name: team_name.to_string(),
                        team_id: tm.team_id.clone(),
                        email: user.email.clone(),
                        team_membership: tm.meta.clone(),
                    },
                    cause: Some(ended.map_or(user.at, |e| e.span)),
                    reason: ended.map(expiry_reason),
                    touches: vec![touch(ObjectKind::TeamMembership, &tm.meta)],
                });
            }
        }

        // Direct space memberships in managed spaces: only the spaces the user is declared in or
        // holds a membership of (visiting every managed space for every user made the diff
        // quadratic in large organizations), in the same name order.
        let user_sms = member.map_or(&[][..], |m| ix.sms_of_user(&m.user.id));
        let compared = compare_spaces(
            &mut self.resolver,
            &self.spaces,
            now,
            &user.spaces,
            user_sms,
            |sm| sm.space_id.as_str(),
        );
        for (space_name, space, want, have) in compared {
            match (want, have) {
                (None, None) => {}
                (Some((resolved, access, at)), None) => self.out.drafts.push(Draft {
                    kind: OpKind::CreateSpaceMembership {
                        email: user.email.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        access: access.clone(),
                        role_ids: resolved.role_ids(),
                    },
                    cause: Some(at),
                    reason: None,
                    touches: Vec::new(),
                }),
                (Some((resolved, access, at)), Some(sm)) => {
                    if !resolved.matches_live(sm.admin, &sm.role_ids) {
                        self.out.drafts.push(Draft {
                            kind: OpKind::UpdateSpaceMembership {
                                email: user.email.clone(),
                                space_name: space_name.clone(),
                                space_id: space.id.clone(),
                                space_membership: sm.meta.clone(),
                                before: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                                after: access.clone(),
                                role_ids: resolved.role_ids(),
                            },
                            cause: Some(at),
                            reason: None,
                            touches: vec![touch(ObjectKind::SpaceMembership, &sm.meta)],
                        });
                    }
                }
                (None, Some(sm)) => {
                    let ended = user
                        .spaces
                        .get(space_name)
                        .and_then(|g| expired(&g.expires, now));
                    self.out.drafts.push(Draft {
                        kind: OpKind::DeleteSpaceMembership {
                            email: user.email.clone(),
                            space_name: space_name.clone(),
                            space_id: space.id.clone(),
                            space_membership: sm.meta.clone(),
                            before: live.access_of(&sm.space_id, sm.admin, &sm.role_ids),
                        },
                        cause: Some(ended.map_or(user.at, |e| e.span)),
                        reason: ended.map(expiry_reason),
                        touches: vec![touch(ObjectKind::SpaceMembership, &sm.meta)],
                    })
                }
            }
        }
    }
}
