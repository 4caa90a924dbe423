//! Changes the benchmarks make to an exported access file, shared by the `scale` and `issue20`
//! benchmarks so both plan the same kinds of operations: a role change of an existing space
//! grant (a space-membership update) and a new grant (a space-membership create).

use std::collections::BTreeSet;

use contentful_access::model::{
    DesiredGrant, DesiredState, DesiredUser, Email, OrgRole, SpaceAccess, Span,
};

/// Changes the roles of `user`'s first role grant (Translator becomes Editor, anything else
/// Translator): one space-membership update. False when the user holds no role grant.
pub fn change_first_role(user: &mut DesiredUser) -> bool {
    let Some(roles) = user.spaces.values_mut().find_map(|g| match &mut g.access {
        SpaceAccess::Roles(r) => Some(r),
        SpaceAccess::Admin => None,
    }) else {
        return false;
    };
    let to = if roles.contains("Translator") {
        "Editor"
    } else {
        "Translator"
    };
    *roles = BTreeSet::from([to.to_string()]);
    true
}

/// Grants `user` the Author role in the first of `spaces` (local names) they have no grant in:
/// one space-membership create. False when they have a grant in every one.
pub fn add_author_grant(user: &mut DesiredUser, spaces: &[String]) -> bool {
    let Some(space) = spaces.iter().find(|n| !user.spaces.contains_key(*n)) else {
        return false;
    };
    user.spaces.insert(
        space.clone(),
        DesiredGrant {
            access: SpaceAccess::Roles(BTreeSet::from(["Author".to_string()])),
            at: Span::default(),
            roles_at: Default::default(),
            expires: None,
        },
    );
    true
}

/// Declares `email` in the file as a plain organization member with no team or space access:
/// one invitation when they are not a member yet.
pub fn declare_member(desired: &mut DesiredState, email: Email) {
    desired.users.insert(
        email.clone(),
        DesiredUser {
            email,
            name: None,
            org_role: OrgRole::Member,
            org_role_at: Span::default(),
            teams: Default::default(),
            spaces: Default::default(),
            at: Span::default(),
            expires: None,
            team_expires: Default::default(),
        },
    );
}
