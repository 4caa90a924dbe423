//! The sandbox's stores: one [`Table`] per kind of record, each keeping its ids in the stable
//! `(sys.createdAt, sys.id)` order Contentful pages in, and [`Groups`] of ids per space or team, so
//! a page of a large collection is sliced in O(page) instead of scanned.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::sandbox::seed::{
    SeedAccessToken, SeedInvitation, SeedOrgMembership, SeedRole, SeedSpace, SeedSpaceMembership,
    SeedSys, SeedTeam, SeedTeamMembership, SeedTeamSpaceMembership, SeedUser, default_epoch,
};

/// Keys of a collection kept in the stable order `(sys.createdAt, sys.id)`; slicing a page is
/// O(page).
#[derive(Debug, Clone, Default)]
pub(super) struct Ordered(pub(super) Vec<(DateTime<Utc>, String)>);

impl Ordered {
    pub(super) fn insert(&mut self, at: DateTime<Utc>, id: &str) {
        let key = (at, id.to_string());
        if let Err(pos) = self.0.binary_search(&key) {
            self.0.insert(pos, key);
        }
    }
    pub(super) fn remove(&mut self, at: DateTime<Utc>, id: &str) {
        if let Ok(pos) = self.0.binary_search(&(at, id.to_string())) {
            self.0.remove(pos);
        }
    }
    /// Appends without keeping the order; [`Ordered::sort`] must follow (bulk loading).
    pub(super) fn push(&mut self, at: DateTime<Utc>, id: &str) {
        self.0.push((at, id.to_string()));
    }
    pub(super) fn sort(&mut self) {
        self.0.sort();
        self.0.dedup();
    }
    pub(super) fn ids(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(_, id)| id)
    }
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

/// A table of one kind of record, with its stable order.
#[derive(Debug, Clone)]
pub(super) struct Table<T> {
    pub(super) items: HashMap<String, T>,
    pub(super) order: Ordered,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: HashMap::new(),
            order: Ordered::default(),
        }
    }
}

/// A stored record: its id and bookkeeping.
pub(super) trait Rec {
    fn id(&self) -> &str;
    fn sys(&self) -> &SeedSys;
    fn sys_mut(&mut self) -> &mut SeedSys;
}

macro_rules! rec {
    ($($t:ty),*) => {$(
        impl Rec for $t {
            fn id(&self) -> &str { &self.id }
            fn sys(&self) -> &SeedSys { &self.sys }
            fn sys_mut(&mut self) -> &mut SeedSys { &mut self.sys }
        }
    )*};
}
rec!(
    SeedUser,
    SeedOrgMembership,
    SeedSpace,
    SeedRole,
    SeedTeam,
    SeedTeamMembership,
    SeedTeamSpaceMembership,
    SeedSpaceMembership,
    SeedAccessToken,
    SeedInvitation
);

pub(super) fn created_at(s: &SeedSys) -> DateTime<Utc> {
    s.created_at.unwrap_or_else(default_epoch)
}

impl<T: Rec + Clone> Table<T> {
    /// Adds a record during bulk loading; [`Table::sort`] must follow.
    pub(super) fn push(&mut self, t: T) {
        self.order.push(created_at(t.sys()), t.id());
        self.items.insert(t.id().to_string(), t);
    }
    pub(super) fn sort(&mut self) {
        self.order.sort();
    }
    pub(super) fn insert(&mut self, t: T) {
        self.order.insert(created_at(t.sys()), t.id());
        self.items.insert(t.id().to_string(), t);
    }
    pub(super) fn remove(&mut self, id: &str) -> Option<T> {
        let t = self.items.remove(id)?;
        self.order.remove(created_at(t.sys()), id);
        Some(t)
    }
    pub(super) fn get(&self, id: &str) -> Option<&T> {
        self.items.get(id)
    }
    pub(super) fn in_order(&self) -> impl Iterator<Item = &T> {
        self.order.ids().filter_map(|id| self.items.get(id))
    }
    pub(super) fn to_vec(&self) -> Vec<T> {
        self.in_order().cloned().collect()
    }
    /// Whether a record of `group` (in `groups`) satisfies `is`: the uniqueness checks of
    /// memberships ("already a member of this team / space").
    pub(super) fn any_in(&self, groups: &Groups, group: &str, is: impl Fn(&T) -> bool) -> bool {
        groups
            .get(group)
            .is_some_and(|o| o.ids().any(|id| self.get(id).is_some_and(&is)))
    }
    /// Stores a record created at `now` by `by`, in the table and in `group` of `groups`.
    pub(super) fn create(
        &mut self,
        groups: &mut Groups,
        group: &str,
        mut t: T,
        now: DateTime<Utc>,
        by: &str,
    ) {
        fill(t.sys_mut(), now, by);
        groups.insert(group, now, t.id());
        self.insert(t);
    }
}

/// Groups of ids (per space, per team) in stable order.
#[derive(Debug, Clone, Default)]
pub(super) struct Groups(HashMap<String, Ordered>);

impl Groups {
    pub(super) fn push(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        self.0.entry(group.to_string()).or_default().push(at, id);
    }
    pub(super) fn sort(&mut self) {
        self.0.values_mut().for_each(Ordered::sort);
    }
    pub(super) fn insert(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        self.0.entry(group.to_string()).or_default().insert(at, id);
    }
    pub(super) fn remove(&mut self, group: &str, at: DateTime<Utc>, id: &str) {
        if let Some(o) = self.0.get_mut(group) {
            o.remove(at, id);
        }
    }
    pub(super) fn get(&self, group: &str) -> Option<&Ordered> {
        self.0.get(group)
    }
    pub(super) fn len(&self, group: &str) -> usize {
        self.0.get(group).map_or(0, Ordered::len)
    }
}

/// Fills missing bookkeeping of a record loaded or created at `at` by `by`.
pub(super) fn fill(sys: &mut SeedSys, at: DateTime<Utc>, by: &str) {
    let created_at = *sys.created_at.get_or_insert(at);
    sys.updated_at.get_or_insert(created_at);
    let created_by = sys.created_by.get_or_insert_with(|| by.to_string()).clone();
    sys.updated_by.get_or_insert(created_by);
}

/// Records an edit: bumps `sys.version` and sets `updatedAt`/`updatedBy`.
pub(super) fn touch(sys: &mut SeedSys, by: &str, now: DateTime<Utc>) {
    sys.version += 1;
    sys.updated_at = Some(now);
    sys.updated_by = Some(by.to_string());
}
