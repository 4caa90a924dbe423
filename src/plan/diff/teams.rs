//! The diff of one declared team: creation or description, team space memberships.

use super::*;

impl<'a> Differ<'a> {
    /// A declared team: creation or description, team space memberships.
    pub(super) fn team(&mut self, team: &'a DesiredTeam) {
        if self.team_ignored(&team.name) {
            self.resolver.resolve_all(&team.spaces);
            return;
        }
        let (ix, live) = (self.ix, self.live);
        let existing = ix.teams.get(team.name.as_str()).copied();
        let team_ref = match existing {
            Some(t) => TeamRef::Existing(t.meta.id.clone()),
            None => TeamRef::CreatedBy(provisional_team(&team.name)),
        };
        match existing {
            None => self.out.drafts.push(Draft {
                kind: OpKind::CreateTeam {
                    name: team.name.clone(),
                    description: team.description.clone(),
                },
                cause: Some(team.at),
                reason: None,
                touches: Vec::new(),
            }),
            Some(t) if t.description != team.description => self.out.drafts.push(Draft {
                kind: OpKind::UpdateTeam {
                    team: t.meta.clone(),
                    name: team.name.clone(),
                    description_before: t.description.clone(),
                    description_after: team.description.clone(),
                },
                cause: Some(team.at),
                reason: None,
                touches: vec![touch(ObjectKind::Team, &t.meta)],
            }),
            Some(_) => {}
        }
        let team_tsms = existing.map_or(&[][..], |t| ix.tsms_of_team(&t.meta.id));
        let compared = compare_spaces(
            &mut self.resolver,
            &self.spaces,
            self.now,
            &team.spaces,
            team_tsms,
            |tsm| tsm.space_id.as_str(),
        );
        for (space_name, space, want, have) in compared {
            match (want, have) {
                (None, None) => {}
                (Some((resolved, access, at)), None) => self.out.drafts.push(Draft {
                    kind: OpKind::CreateTeamSpaceMembership {
                        team_name: team.name.clone(),
                        team: team_ref.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        access: access.clone(),
                        role_ids: resolved.role_ids(),
                    },
                    cause: Some(at),
                    reason: None,
                    touches: Vec::new(),
                }),
                (Some((resolved, access, at)), Some(tsm)) => {
                    if !resolved.matches_live(tsm.admin, &tsm.role_ids) {
                        self.out.drafts.push(Draft {
                            kind: OpKind::UpdateTeamSpaceMembership {
                                team_name: team.name.clone(),
                                team_id: tsm.team_id.clone(),
                                space_name: space_name.clone(),
                                space_id: space.id.clone(),
                                tsm: tsm.meta.clone(),
                                before: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                                after: access.clone(),
                                role_ids: resolved.role_ids(),
                            },
                            cause: Some(at),
                            reason: None,
                            touches: vec![touch(ObjectKind::TeamSpaceMembership, &tsm.meta)],
                        });
                    }
                }
                (None, Some(tsm)) => self.out.drafts.push(Draft {
                    kind: OpKind::DeleteTeamSpaceMembership {
                        team_name: team.name.clone(),
                        team_id: tsm.team_id.clone(),
                        space_name: space_name.clone(),
                        space_id: space.id.clone(),
                        tsm: tsm.meta.clone(),
                        before: live.access_of(&tsm.space_id, tsm.admin, &tsm.role_ids),
                    },
                    cause: Some(team.at),
                    reason: None,
                    touches: vec![touch(ObjectKind::TeamSpaceMembership, &tsm.meta)],
                }),
            }
        }
    }
}
