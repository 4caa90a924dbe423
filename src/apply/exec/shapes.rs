//! The table of what varies between operation kinds: each [`OpKind`] as one of three
//! [`Shape`]s (create, update, delete), the request it sends, how its object is re-read
//! ([`Target`]) and what the object must hold afterwards ([`Content`]).

use std::collections::BTreeSet;

use super::Ctx;
use crate::apply::report::OpFailure;
use crate::contentful::request::{self, Request};
use crate::contentful::{Client, ContentfulError, ReadScope};
use crate::model::{LiveState, ObjectMeta, OrgRole, RoleDefinition, SpaceAccess};
use crate::plan::{ObjectKind, OpKind};

/// The fields operations set on an object, as planned or as re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Content {
    OrgRole(OrgRole),
    Team {
        name: String,
        description: String,
    },
    /// A team membership: nothing is set on it but its existence.
    Member,
    /// A custom role: its name and definition in normal form (so order alone is no difference).
    Role {
        name: String,
        definition: RoleDefinition,
    },
    Access {
        admin: bool,
        role_ids: BTreeSet<String>,
    },
}

impl Content {
    /// A role's content, its definition normalised.
    pub(super) fn role(name: &str, definition: &RoleDefinition) -> Content {
        Content::Role {
            name: name.to_string(),
            definition: definition.normalized(),
        }
    }

    pub(super) fn access(access: &SpaceAccess, role_ids: &[String]) -> Content {
        Content::Access {
            admin: matches!(access, SpaceAccess::Admin),
            role_ids: role_ids.iter().cloned().collect(),
        }
    }

    /// Whether an object with this content is as `wanted` (an admin's roles do not matter).
    pub(super) fn satisfies(&self, wanted: &Content) -> bool {
        match (self, wanted) {
            (
                Content::Access { admin, role_ids },
                Content::Access {
                    admin: want_admin,
                    role_ids: want_roles,
                },
            ) => admin == want_admin && (*admin || role_ids == want_roles),
            _ => self == wanted,
        }
    }
}

/// An object as re-read.
pub(super) struct Current {
    pub(super) meta: ObjectMeta,
    pub(super) content: Content,
}

impl Current {
    /// A (team) space membership's access as it is now.
    pub(super) fn access(admin: bool, role_ids: BTreeSet<String>, meta: ObjectMeta) -> Current {
        Current {
            content: Content::Access { admin, role_ids },
            meta,
        }
    }
}

/// Where an existing object lives, to re-read it.
#[derive(Debug, Clone)]
pub(super) enum Target {
    OrgMembership { id: String },
    Team { id: String },
    TeamMembership { team_id: String, id: String },
    TeamSpaceMembership { space_id: String, id: String },
    SpaceMembership { space_id: String, id: String },
    Role { space_id: String, id: String },
}

impl Target {
    pub(super) fn kind(&self) -> ObjectKind {
        match self {
            Target::OrgMembership { .. } => ObjectKind::OrgMembership,
            Target::Team { .. } => ObjectKind::Team,
            Target::TeamMembership { .. } => ObjectKind::TeamMembership,
            Target::TeamSpaceMembership { .. } => ObjectKind::TeamSpaceMembership,
            Target::SpaceMembership { .. } => ObjectKind::SpaceMembership,
            Target::Role { .. } => ObjectKind::Role,
        }
    }

    pub(super) fn id(&self) -> &str {
        match self {
            Target::OrgMembership { id }
            | Target::Team { id }
            | Target::TeamMembership { id, .. }
            | Target::TeamSpaceMembership { id, .. }
            | Target::SpaceMembership { id, .. }
            | Target::Role { id, .. } => id,
        }
    }

    /// Reads the object now (one GET).
    pub(super) async fn read(&self, c: &Client, org: &str) -> Result<Current, ContentfulError> {
        Ok(match self {
            Target::OrgMembership { id } => {
                let m = c.get_org_membership(org, id).await?;
                Current {
                    content: Content::OrgRole(m.role),
                    meta: m.meta,
                }
            }
            Target::Team { id } => {
                let t = c.get_team(org, id).await?;
                Current {
                    content: Content::Team {
                        name: t.name,
                        description: t.description,
                    },
                    meta: t.meta,
                }
            }
            Target::TeamMembership { team_id, id } => {
                let m = c.get_team_membership(org, team_id, id).await?;
                Current {
                    content: Content::Member,
                    meta: m.meta,
                }
            }
            Target::TeamSpaceMembership { space_id, id } => {
                let m = c.get_team_space_membership(space_id, id).await?;
                Current::access(m.admin, m.role_ids, m.meta)
            }
            Target::SpaceMembership { space_id, id } => {
                let m = c.get_space_membership(space_id, id).await?;
                Current::access(m.admin, m.role_ids, m.meta)
            }
            Target::Role { space_id, id } => {
                let r = c.get_role(space_id, id).await?;
                Current {
                    content: Content::role(&r.name, &r.definition),
                    meta: ObjectMeta {
                        id: r.id,
                        version: r.version,
                        created_at: None,
                        updated_at: r.updated_at,
                        updated_by: r.updated_by,
                    },
                }
            }
        })
    }
}

/// Recognises a created object by its natural key in a re-read organization; returns its id.
pub(super) type Find<'a> = Box<dyn Fn(&LiveState) -> Option<String> + Send + Sync + 'a>;

/// Explains, from a re-read organization, why a create cannot be recognised as done: an object
/// with the same natural key but other content is there (someone else's), which is never taken
/// for this operation's and never overwritten.
pub(super) type Conflict<'a> = Box<dyn Fn(&LiveState) -> Option<String> + Send + Sync + 'a>;

/// Builds a versioned request for the version given.
pub(super) type Versioned<'a> = Box<dyn Fn(u64) -> Request + Send + Sync + 'a>;

/// The three shapes an operation takes.
pub(super) enum Shape<'a> {
    /// POST a new object. Contentful has no idempotency keys, so after a lost answer (or a 422
    /// duplicate) the object is looked for by its natural key with `find`.
    /// `scope` is what a re-read covers: only the collection(s) `find` looks in, plus the roles
    /// of the space `roles_of` (a role is recognised by its name in its space; a 422's shared
    /// re-read holds the roles of every space the level creates roles in). `conflict`
    /// explains an object of the same natural key that is not this operation's.
    Create {
        request: Request,
        find: Find<'a>,
        scope: ReadScope,
        roles_of: Option<&'a str>,
        conflict: Option<Conflict<'a>>,
    },
    /// PUT with the planned version; afterwards the object must satisfy `wanted`. `before` is
    /// what the plan saw, for kinds whose planned version may be unknown (teams: list items
    /// may come without `sys.version`, read as 0).
    Update {
        target: Target,
        planned: &'a ObjectMeta,
        before: Option<Content>,
        wanted: Content,
        request: Versioned<'a>,
    },
    /// Re-read, refuse if the version moved since the plan, DELETE with that version.
    Delete {
        target: Target,
        planned: &'a ObjectMeta,
        request: Versioned<'a>,
    },
}

/// The table: each operation kind as one of the three shapes.
pub(super) fn shape<'a>(ctx: &Ctx<'a>, kind: &'a OpKind) -> Result<Shape<'a>, OpFailure> {
    let org = ctx.org;
    Ok(match kind {
        OpKind::CreateRole {
            name,
            space_name,
            space_id,
            definition,
        } => {
            let wanted = definition.normalized();
            let named = move |live: &LiveState| {
                live.spaces
                    .get(space_id.as_str())
                    .and_then(|s| s.roles.values().find(|r| &r.name == name))
                    .map(|r| (r.id.clone(), r.definition.normalized()))
            };
            let wanted_too = wanted.clone();
            Shape::Create {
                scope: ReadScope::NONE,
                roles_of: Some(space_id),
                request: request::create_role(space_id, name, definition),
                // The natural key is the name within the space; only a role with the same
                // definition is this operation's.
                find: Box::new(move |live| {
                    named(live).filter(|(_, d)| *d == wanted).map(|(id, _)| id)
                }),
                conflict: Some(Box::new(move |live| {
                    named(live)
                        .filter(|(_, d)| *d != wanted_too)
                        .map(|(id, _)| {
                            format!(
                                "a role named {name} already exists in space {space_name} ({id}) with another definition; not overwritten, plan again"
                            )
                        })
                })),
            }
        }
        OpKind::UpdateRole {
            name,
            space_id,
            role,
            after,
            ..
        } => Shape::Update {
            target: Target::Role {
                space_id: space_id.clone(),
                id: role.id.clone(),
            },
            planned: role,
            before: None,
            wanted: Content::role(name, after),
            request: Box::new(move |v| request::update_role(space_id, &role.id, v, name, after)),
        },
        OpKind::DeleteRole { space_id, role, .. } => Shape::Delete {
            target: Target::Role {
                space_id: space_id.clone(),
                id: role.id.clone(),
            },
            planned: role,
            request: Box::new(move |v| request::delete_role(space_id, &role.id, v)),
        },
        OpKind::Invite {
            email,
            role,
            first_name,
            last_name,
        }
        | OpKind::Reinvite {
            email,
            role,
            first_name,
            last_name,
            ..
        } => {
            // A re-invite is done when the pending membership's invitation is newer than the
            // expired one; an invite when the member is there with the role.
            let invited_after = match kind {
                OpKind::Reinvite { invited_at, .. } => Some(*invited_at),
                _ => None,
            };
            Shape::Create {
                roles_of: None,
                conflict: None,
                scope: ReadScope {
                    org_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::invite(
                    org,
                    email,
                    *role,
                    first_name.as_deref(),
                    last_name.as_deref(),
                ),
                find: Box::new(move |live| {
                    live.membership_by_email(email)
                        .filter(|(_, m)| match invited_after {
                            Some(after) => m.meta.created_at.is_some_and(|at| at > after),
                            None => m.role == *role,
                        })
                        .map(|(_, m)| m.meta.id.clone())
                }),
            }
        }
        OpKind::ChangeOrgRole { membership, to, .. } => Shape::Update {
            target: Target::OrgMembership {
                id: membership.id.clone(),
            },
            planned: membership,
            before: None,
            wanted: Content::OrgRole(*to),
            request: Box::new(move |v| request::update_org_membership(org, &membership.id, v, *to)),
        },
        OpKind::RemoveOrgMember { membership, .. } => Shape::Delete {
            target: Target::OrgMembership {
                id: membership.id.clone(),
            },
            planned: membership,
            request: Box::new(move |v| {
                request::delete_org_membership(org, &membership.id).version(v)
            }),
        },
        OpKind::CreateTeam { name, description } => Shape::Create {
            roles_of: None,
            conflict: None,
            scope: ReadScope {
                teams: true,
                ..ReadScope::NONE
            },
            request: request::create_team(org, name, description),
            find: Box::new(move |live| {
                live.teams
                    .values()
                    .find(|t| &t.name == name && &t.description == description)
                    .map(|t| t.meta.id.clone())
            }),
        },
        OpKind::UpdateTeam {
            team,
            name,
            description_before,
            description_after,
        } => Shape::Update {
            target: Target::Team {
                id: team.id.clone(),
            },
            planned: team,
            before: Some(Content::Team {
                name: name.clone(),
                description: description_before.clone(),
            }),
            wanted: Content::Team {
                name: name.clone(),
                description: description_after.clone(),
            },
            request: Box::new(move |v| {
                request::update_team(org, &team.id, v, name, description_after)
            }),
        },
        OpKind::DeleteTeam { team, .. } => Shape::Delete {
            target: Target::Team {
                id: team.id.clone(),
            },
            planned: team,
            request: Box::new(move |v| request::delete_team(org, &team.id).version(v)),
        },
        OpKind::AddTeamMember {
            team, membership, ..
        } => {
            let team_id = ctx.team_id(team)?;
            let om_id = ctx.membership_id(membership)?;
            Shape::Create {
                roles_of: None,
                conflict: None,
                scope: ReadScope {
                    team_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_team_membership(org, &team_id, &om_id),
                find: Box::new(move |live| {
                    live.team_memberships
                        .values()
                        .find(|tm| tm.team_id == team_id && tm.org_membership_id == om_id)
                        .map(|tm| tm.meta.id.clone())
                }),
            }
        }
        OpKind::RemoveTeamMember {
            team_id,
            team_membership,
            ..
        } => Shape::Delete {
            target: Target::TeamMembership {
                team_id: team_id.clone(),
                id: team_membership.id.clone(),
            },
            planned: team_membership,
            request: Box::new(move |v| {
                request::delete_team_membership(org, team_id, &team_membership.id).version(v)
            }),
        },
        OpKind::CreateTeamSpaceMembership {
            team,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let team_id = ctx.team_id(team)?;
            let role_ids = ctx.role_ids(role_ids)?;
            let admin = matches!(access, SpaceAccess::Admin);
            let wanted = Content::access(access, &role_ids);
            Shape::Create {
                roles_of: None,
                conflict: None,
                scope: ReadScope {
                    team_space_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_team_space_membership(
                    space_id, &team_id, admin, &role_ids,
                ),
                find: Box::new(move |live| {
                    live.team_space_memberships
                        .values()
                        .find(|t| {
                            t.team_id == team_id
                                && &t.space_id == space_id
                                && Content::Access {
                                    admin: t.admin,
                                    role_ids: t.role_ids.clone(),
                                }
                                .satisfies(&wanted)
                        })
                        .map(|t| t.meta.id.clone())
                }),
            }
        }
        OpKind::UpdateTeamSpaceMembership {
            team_id,
            space_id,
            tsm,
            after,
            role_ids,
            ..
        } => {
            let role_ids = ctx.role_ids(role_ids)?;
            Shape::Update {
                target: Target::TeamSpaceMembership {
                    space_id: space_id.clone(),
                    id: tsm.id.clone(),
                },
                planned: tsm,
                before: None,
                wanted: Content::access(after, &role_ids),
                request: Box::new(move |v| {
                    let admin = matches!(after, SpaceAccess::Admin);
                    request::update_team_space_membership(
                        space_id, &tsm.id, v, team_id, admin, &role_ids,
                    )
                }),
            }
        }
        OpKind::DeleteTeamSpaceMembership { space_id, tsm, .. } => Shape::Delete {
            target: Target::TeamSpaceMembership {
                space_id: space_id.clone(),
                id: tsm.id.clone(),
            },
            planned: tsm,
            request: Box::new(move |v| {
                request::delete_team_space_membership(space_id, &tsm.id).version(v)
            }),
        },
        OpKind::CreateSpaceMembership {
            email,
            space_id,
            access,
            role_ids,
            ..
        } => {
            let role_ids = ctx.role_ids(role_ids)?;
            let admin = matches!(access, SpaceAccess::Admin);
            let wanted = Content::access(access, &role_ids);
            Shape::Create {
                roles_of: None,
                conflict: None,
                scope: ReadScope {
                    org_memberships: true,
                    space_memberships: true,
                    ..ReadScope::NONE
                },
                request: request::create_space_membership(space_id, email, admin, &role_ids),
                find: Box::new(move |live| {
                    let (user, _) = live.membership_by_email(email)?;
                    live.space_memberships
                        .values()
                        .find(|m| {
                            m.user_id == user.id
                                && &m.space_id == space_id
                                && Content::Access {
                                    admin: m.admin,
                                    role_ids: m.role_ids.clone(),
                                }
                                .satisfies(&wanted)
                        })
                        .map(|m| m.meta.id.clone())
                }),
            }
        }
        OpKind::UpdateSpaceMembership {
            space_id,
            space_membership: sm,
            after,
            role_ids,
            ..
        } => {
            let role_ids = ctx.role_ids(role_ids)?;
            Shape::Update {
                target: Target::SpaceMembership {
                    space_id: space_id.clone(),
                    id: sm.id.clone(),
                },
                planned: sm,
                before: None,
                wanted: Content::access(after, &role_ids),
                request: Box::new(move |v| {
                    let admin = matches!(after, SpaceAccess::Admin);
                    request::update_space_membership(space_id, &sm.id, v, admin, &role_ids)
                }),
            }
        }
        OpKind::DeleteSpaceMembership {
            space_id,
            space_membership: sm,
            ..
        } => Shape::Delete {
            target: Target::SpaceMembership {
                space_id: space_id.clone(),
                id: sm.id.clone(),
            },
            planned: sm,
            request: Box::new(move |v| {
                request::delete_space_membership(space_id, &sm.id).version(v)
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_compare_ignoring_order_and_admin_ignores_roles() {
        let access = |admin, roles: &[&str]| Content::Access {
            admin,
            role_ids: roles.iter().map(|r| r.to_string()).collect(),
        };
        let wanted = Content::access(&SpaceAccess::Admin, &[]);
        assert!(access(true, &["x"]).satisfies(&wanted));
        assert!(!access(false, &[]).satisfies(&wanted));
        let wanted = Content::Access {
            admin: false,
            role_ids: ["a".to_string(), "b".to_string()].into(),
        };
        assert!(access(false, &["b", "a"]).satisfies(&wanted));
        assert!(!access(false, &["a"]).satisfies(&wanted));
        assert!(!access(true, &["a", "b"]).satisfies(&wanted));
        assert!(Content::Member.satisfies(&Content::Member));
        assert!(!Content::OrgRole(OrgRole::Admin).satisfies(&Content::OrgRole(OrgRole::Member)));
    }
}
