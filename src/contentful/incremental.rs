//! The incremental read behind `drift --cache`: given the organization as a previous read left it
//! (a [`LiveState`]) and a time `since` before which nothing it holds can have changed unseen, read
//! only what changed since, and give exactly the state a full read would give.
//!
//! Per collection (organization memberships with their users, teams, team memberships, team space
//! memberships, space memberships, and the organization-wide roles):
//! - one newest-first page (`order=-sys.updatedAt`, 100 objects): it holds every object changed
//!   since `since` when its oldest object is older than that, and its `total` is the collection's;
//!   one request for what changed and for the total. The page is used only when it really is in
//!   newest-first order (a server that ignored the order is noticed, not believed);
//! - where that page cannot be used (the server refuses the ordering, which Contentful documents
//!   only for team and team space memberships; or more objects changed than one page holds):
//!   `sys.updatedAt[gte]=since` (every page of it, in the documented `sys.createdAt` order) and
//!   `limit=0` for the total. A route whose ordering was refused is remembered (in the drift
//!   cache, through [`IncrementalStats::newest_first_refused`]) and not asked again;
//! - deletions are inferred from the totals (`previous + created - now`), and when there are any,
//!   found by halving the collection by `sys.createdAt` with `limit=0` counts (about
//!   `log2(pages)` requests per deletion) and reading only the one page that holds the deleted
//!   object; a deleted role makes the roles read in full instead (roles are few);
//! - a full read of that collection instead whenever that is no more requests (small
//!   collections), or when the server refuses one of these queries (a 400: a filter the endpoint
//!   does not support) or the counts do not add up (the organization changed during the read).
//!
//! Spaces are read in full (a page or two); `/users/me` is always read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;

use super::client::{Client, Tracker};
use super::error::ContentfulError;
use super::request::{self, PAGE_SIZE, Request};
use super::wire;
use crate::model::{LiveState, ObjectMeta};

/// What an incremental read cost, per collection (for `-v` and the benchmark).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncrementalStats {
    /// Objects that changed or were created since the previous read.
    pub changed: usize,
    /// Objects deleted since the previous read.
    pub deleted: usize,
    /// Collections read in full (small, or the incremental queries could not be used).
    pub full_reads: Vec<&'static str>,
    /// The routes whose newest-first page cannot be used (refused, or not answered in that
    /// order): those given to this read and those it found. Keep them for the next read.
    pub newest_first_refused: BTreeSet<String>,
}

/// The routes whose newest-first page cannot be used, shared by the concurrent collection reads.
#[derive(Debug, Default)]
struct Refusals(std::sync::Mutex<BTreeSet<String>>);

impl Refusals {
    fn has(&self, route: &str) -> bool {
        self.0.lock().is_ok_and(|r| r.contains(route))
    }

    fn add(&self, route: &str) {
        tracing::debug!(route, "newest-first page not usable; not asked again");
        if let Ok(mut r) = self.0.lock() {
            r.insert(route.to_string());
        }
    }

    fn into_set(self) -> BTreeSet<String> {
        self.0.into_inner().unwrap_or_default()
    }
}

/// What a newest-first page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Newest {
    /// Every object changed since `since` is on the page (with unchanged ones).
    Complete,
    /// More objects changed than the page holds.
    Partial,
    /// The page is not in newest-first order (or an object has no `sys.updatedAt`): the server
    /// did not honour the ordering.
    Unordered,
}

/// Judges a newest-first page from its objects' `sys.updatedAt`, in the order served, and the
/// collection's `total`.
fn judge(updated: &[Option<DateTime<Utc>>], total: u64, since: DateTime<Utc>) -> Newest {
    let Some(dates) = updated.iter().copied().collect::<Option<Vec<_>>>() else {
        return Newest::Unordered;
    };
    if dates.windows(2).any(|w| w[0] < w[1]) {
        return Newest::Unordered;
    }
    match dates.last() {
        _ if dates.len() as u64 >= total => Newest::Complete,
        Some(oldest) if *oldest < since => Newest::Complete,
        _ => Newest::Partial,
    }
}

/// The first newest-first page of a collection request.
fn newest_first(base: &Request) -> Request {
    let mut r = bare(base);
    r.query.retain(|(k, _)| *k != "order");
    let r = with(r, "order", "-sys.updatedAt".into());
    with(with(r, "limit", PAGE_SIZE.to_string()), "skip", "0".into())
}

/// An id, its `sys.createdAt` (at the API's millisecond precision) and whether it is still there.
type Keyed = (DateTime<Utc>, String);

/// The date-time as a filter value (the API's millisecond precision, `Z`).
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Drops the paging of a collection request (the caller sets its own); keeps its documented
/// `order=sys.createdAt`, so the pages of a filtered read come from one stable order.
fn bare(base: &Request) -> Request {
    let mut r = base.clone();
    r.query.retain(|(k, _)| !matches!(*k, "skip" | "limit"));
    r
}

fn with(mut r: Request, key: &'static str, value: String) -> Request {
    r.query.push((key, value));
    r
}

/// One collection's part of the previous state, as the incremental read needs it.
struct Previous<'a, X> {
    items: &'a BTreeMap<String, X>,
    meta: fn(&X) -> &ObjectMeta,
}

/// A collection's items as now, the users included with them, and how they were read.
type Refreshed<X> = (BTreeMap<String, X>, Vec<wire::User>, Part);

/// Whether a failed incremental query should fall back to a full read of the collection (the
/// endpoint refused the query) rather than fail the run.
fn refused(e: &ContentfulError) -> bool {
    matches!(e.status(), Some(400 | 422))
}

impl Client {
    /// Reads organization `org` incrementally from `previous` (read with the same
    /// `managed_space_ids`); nothing in `previous` changed before `since` without being in it.
    /// `newest_first_refused` are the routes a previous read found refusing the newest-first
    /// page ([`IncrementalStats::newest_first_refused`]). Gives the same state a full
    /// [`Client::read_live_state`] would.
    pub async fn read_incremental(
        &self,
        org: &str,
        managed_space_ids: &[String],
        previous: &LiveState,
        since: DateTime<Utc>,
        newest_first_refused: &BTreeSet<String>,
    ) -> Result<(LiveState, IncrementalStats), ContentfulError> {
        let tracker = Tracker::new(None);
        let tracker = &tracker;
        let found_refusals = Refusals(std::sync::Mutex::new(newest_first_refused.clone()));
        let refusals = &found_refusals;
        let managed: BTreeSet<&String> = managed_space_ids.iter().collect();
        let mut stats = IncrementalStats::default();
        let om_req = request::org_memberships(org);
        let tm_req = request::team_memberships(org);
        let tsm_req = request::team_space_memberships(org);
        let sm_req = request::space_memberships(org);
        let team_req = request::teams(org);
        let (me, oms, teams, tms, tsms, sms, spaces, roles) = tokio::try_join!(
            self.me(),
            self.refresh(
                &om_req,
                Previous {
                    items: &previous.org_memberships,
                    meta: |m| &m.meta
                },
                since,
                |w: wire::OrgMembership| w.into_live(),
                tracker,
                refusals,
            ),
            self.refresh(
                &team_req,
                Previous {
                    items: &previous.teams,
                    meta: |t| &t.meta
                },
                since,
                |w: wire::Team| Ok(w.into_live()),
                tracker,
                refusals,
            ),
            self.refresh(
                &tm_req,
                Previous {
                    items: &previous.team_memberships,
                    meta: |m| &m.meta
                },
                since,
                |w: wire::TeamMembership| w.into_live(),
                tracker,
                refusals,
            ),
            self.refresh(
                &tsm_req,
                Previous {
                    items: &previous.team_space_memberships,
                    meta: |m| &m.meta
                },
                since,
                |w: wire::TeamSpaceMembership| w.into_live(),
                tracker,
                refusals,
            ),
            self.refresh(
                &sm_req,
                Previous {
                    items: &previous.space_memberships,
                    meta: |m| &m.meta
                },
                since,
                |w: wire::SpaceMembership| w.into_live(None),
                tracker,
                refusals,
            ),
            // Spaces are few and carry no version to compare: read them.
            self.get_all::<wire::Space>(request::spaces(org), tracker),
            self.refresh_roles(org, managed.is_empty(), previous, since, tracker, refusals),
        )?;
        let mut state = LiveState {
            organization: org.to_string(),
            organization_name: previous.organization_name.clone(),
            me: Some(me.id),
            ..LiveState::default()
        };
        for (part, name) in [
            (&oms.2, "organization_memberships"),
            (&teams.2, "teams"),
            (&tms.2, "team_memberships"),
            (&tsms.2, "team_space_memberships"),
            (&sms.2, "space_memberships"),
        ] {
            stats.changed += part.changed;
            stats.deleted += part.deleted;
            if part.full {
                stats.full_reads.push(name);
            }
        }
        // Users: those of the previous state still referenced, updated by the ones included
        // with the changed memberships.
        let (org_memberships, included, _) = oms;
        let referenced: BTreeSet<&String> = org_memberships.values().map(|m| &m.user_id).collect();
        for (id, u) in &previous.users {
            if referenced.contains(id) {
                state.users.insert(id.clone(), u.clone());
            }
        }
        for u in included {
            if let Some(user) = u.into_live() {
                state.users.insert(user.id.clone(), user);
            }
        }
        state.org_memberships = org_memberships;
        state.teams = teams.0;
        state.team_memberships = tms.0;
        state.team_space_memberships = tsms.0;
        state.space_memberships = sms.0;
        for s in spaces.0 {
            let s = s.into_live();
            state.spaces.insert(s.id.clone(), s);
        }
        match roles {
            RolesNow::None => {}
            RolesNow::All(all) => {
                stats.full_reads.push("roles");
                super::client::attach_roles(&mut state, &managed, all);
                let (before, now) = (&previous.org_role_versions, &state.org_role_versions);
                stats.changed += now
                    .iter()
                    .filter(|(id, v)| before.get(*id) != Some(v))
                    .count();
                stats.deleted += before.keys().filter(|id| !now.contains_key(*id)).count();
            }
            RolesNow::Changed { page, changed } => {
                stats.changed += changed;
                state.org_role_versions = previous.org_role_versions.clone();
                for (id, space) in &mut state.spaces {
                    if let Some(before) = previous.spaces.get(id).filter(|_| managed.contains(id)) {
                        space.roles = before.roles.clone();
                    }
                }
                for r in page {
                    super::client::attach_role(&mut state, &managed, r);
                }
            }
        }
        stats.newest_first_refused = found_refusals.into_set();
        Ok((state, stats))
    }

    /// Every page of `req`, each item converted, and the users included with them.
    async fn get_all_as<W: DeserializeOwned, X>(
        &self,
        req: &Request,
        convert: impl Fn(W) -> Result<X, String>,
        tracker: &Tracker,
    ) -> Result<(Vec<X>, Vec<wire::User>), ContentfulError> {
        let (items, users) = self.get_all::<W>(req.clone(), tracker).await?;
        Ok((convert_items(req, items, convert)?, users))
    }

    /// One collection as it is now, from `previous` and what changed since `since`.
    async fn refresh<W: DeserializeOwned, X: Clone>(
        &self,
        base: &Request,
        previous: Previous<'_, X>,
        since: DateTime<Utc>,
        convert: impl Fn(W) -> Result<X, String> + Copy,
        tracker: &Tracker,
        refusals: &Refusals,
    ) -> Result<Refreshed<X>, ContentfulError> {
        let full = async || {
            let (items, users) = self.get_all_as(base, convert, tracker).await?;
            let out: BTreeMap<String, X> = items
                .into_iter()
                .map(|x| ((previous.meta)(&x).id.clone(), x))
                .collect();
            let part = Part {
                changed: 0,
                deleted: 0,
                full: true,
            };
            Ok::<_, ContentfulError>((out, users, part))
        };
        // A collection of one page costs no more read in full; one of two pages too, unless the
        // newest-first page can be asked for (one request).
        let pages = request::page_count(previous.items.len() as u64);
        if pages <= 1 || (pages <= 2 && refusals.has(base.route)) {
            return full().await;
        }
        match self
            .incremental(base, &previous, since, convert, tracker, refusals)
            .await
        {
            Ok(Some(done)) => Ok(done),
            Ok(None) => full().await,
            Err(e) if refused(&e) => {
                tracing::debug!(route = base.route, error = %e, "incremental query refused; reading the collection in full");
                full().await
            }
            Err(e) => Err(e),
        }
    }

    /// The newest-first page of `base`, when the server answers it in that order: its objects
    /// (converted), the users included with them, the collection's total and whether it holds
    /// every object changed since `since`. `None` (and the route remembered in `refusals`) when
    /// the server refuses the ordering or does not honour it.
    async fn newest_page<W: DeserializeOwned, X>(
        &self,
        base: &Request,
        since: DateTime<Utc>,
        convert: impl Fn(W) -> Result<X, String>,
        updated_at: impl Fn(&X) -> Option<DateTime<Utc>>,
        tracker: &Tracker,
        refusals: &Refusals,
    ) -> Result<Option<NewestPage<X>>, ContentfulError> {
        if refusals.has(base.route) {
            return Ok(None);
        }
        let req = newest_first(base);
        tracker.announce(1);
        let page = match self.get_json::<wire::Collection<W>>(&req).await {
            Ok(page) => page,
            Err(e) if refused(&e) => {
                refusals.add(base.route);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        tracker.page_done();
        let Some(total) = page.total else {
            return Ok(None);
        };
        let items = convert_items(&req, page.items, convert)?;
        let updated: Vec<_> = items.iter().map(&updated_at).collect();
        let complete = match judge(&updated, total, since) {
            Newest::Complete => true,
            Newest::Partial => false,
            Newest::Unordered => {
                refusals.add(base.route);
                return Ok(None);
            }
        };
        Ok(Some(NewestPage {
            items,
            users: page.includes.user,
            total,
            complete,
        }))
    }

    /// The incremental read of one collection, or `None` when a full read is needed instead.
    async fn incremental<W: DeserializeOwned, X: Clone>(
        &self,
        base: &Request,
        previous: &Previous<'_, X>,
        since: DateTime<Utc>,
        convert: impl Fn(W) -> Result<X, String> + Copy,
        tracker: &Tracker,
        refusals: &Refusals,
    ) -> Result<Option<Refreshed<X>>, ContentfulError> {
        // Every page of the changed objects is read, so the documented `sys.createdAt` order
        // serves.
        let changed_req = with(
            with(bare(base), "sys.updatedAt[gte]", stamp(since)),
            "limit",
            PAGE_SIZE.to_string(),
        );
        let changed_req = with(changed_req, "skip", "0".into());
        let count_req = with(bare(base), "limit", "0".into());
        let meta = previous.meta;
        let newest = self
            .newest_page(
                base,
                since,
                convert,
                |x: &X| meta(x).updated_at,
                tracker,
                refusals,
            )
            .await?;
        let (changed, users, now_total) = match newest {
            Some(p) if p.complete => (p.items, p.users, p.total),
            Some(p) => {
                let (items, users) = self.get_all_as(&changed_req, convert, tracker).await?;
                (items, users, p.total)
            }
            None => {
                let (changed, counted) = tokio::try_join!(
                    self.get_all_as(&changed_req, convert, tracker),
                    self.get_json::<wire::Collection<serde_json::Value>>(&count_req),
                )?;
                let Some(total) = counted.total else {
                    return Ok(None);
                };
                (changed.0, changed.1, total)
            }
        };
        let mut items: BTreeMap<String, X> = previous.items.clone();
        let mut created = 0usize;
        let mut changed_count = 0usize;
        for x in changed {
            let meta = (previous.meta)(&x);
            match previous.items.get(&meta.id) {
                Some(old) if (previous.meta)(old).version == meta.version => {}
                Some(_) => changed_count += 1,
                None => {
                    created += 1;
                    changed_count += 1;
                }
            }
            items.insert(meta.id.clone(), x);
        }
        let expected = previous.items.len() + created;
        let Some(missing) = expected.checked_sub(now_total as usize) else {
            // More objects than accounted for: something was created during this read.
            return Ok(None);
        };
        if missing > 0 {
            let mut keyed: Vec<Keyed> = Vec::with_capacity(items.len());
            for x in items.values() {
                let m = (previous.meta)(x);
                let Some(at) = m.created_at else {
                    return Ok(None);
                };
                keyed.push((at, m.id.clone()));
            }
            keyed.sort();
            // Halving costs about log2(pages) counts and one page per deletion; a full read
            // costs every page.
            let pages = request::page_count(now_total);
            let halving = (missing as u64) * (u64::from(pages.max(2).ilog2()) + 2);
            if halving >= pages {
                return Ok(None);
            }
            let mut gone = Vec::new();
            let found = self
                .find_deleted::<W>(
                    base,
                    &keyed,
                    missing,
                    &mut gone,
                    tracker,
                    convert_id(previous, convert),
                )
                .await?;
            if !found || gone.len() != missing {
                return Ok(None);
            }
            for id in gone {
                items.remove(&id);
            }
        }
        let part = Part {
            changed: changed_count,
            deleted: missing,
            full: false,
        };
        Ok(Some((items, users, part)))
    }

    /// The organization's roles now: nothing when no space is managed (a full read reads none);
    /// the roles changed since `since` when the newest-first page holds them all and the total
    /// adds up; every role otherwise (a role deleted, the ordering refused, or more than a page
    /// changed).
    async fn refresh_roles(
        &self,
        org: &str,
        no_managed_space: bool,
        previous: &LiveState,
        since: DateTime<Utc>,
        tracker: &Tracker,
        refusals: &Refusals,
    ) -> Result<RolesNow, ContentfulError> {
        if no_managed_space {
            return Ok(RolesNow::None);
        }
        let base = request::org_roles(org);
        let all = async || {
            let (roles, _) = self.get_all::<wire::Role>(base.clone(), tracker).await?;
            Ok(RolesNow::All(roles))
        };
        let known = &previous.org_role_versions;
        if request::page_count(known.len() as u64) <= 1 {
            return all().await;
        }
        let page = self
            .newest_page(
                &base,
                since,
                |r: wire::Role| Ok(r),
                |r: &wire::Role| r.sys.meta().updated_at,
                tracker,
                refusals,
            )
            .await?;
        let Some(page) = page.filter(|p| p.complete) else {
            return all().await;
        };
        let created = page
            .items
            .iter()
            .filter(|r| !known.contains_key(&r.sys.id))
            .count();
        if (known.len() + created) as u64 != page.total {
            // A role deleted (or one created during this read): find out by reading them all.
            return all().await;
        }
        let changed = page
            .items
            .iter()
            .filter(|r| known.get(&r.sys.id) != Some(&r.sys.version.unwrap_or(0)))
            .count();
        Ok(RolesNow::Changed {
            page: page.items,
            changed,
        })
    }

    /// Finds the `missing` ids of `keyed` (sorted by `sys.createdAt`, id) that no longer exist,
    /// by halving with `limit=0` counts, then reading the one page of a small range. Returns
    /// whether the counts added up.
    async fn find_deleted<W: DeserializeOwned>(
        &self,
        base: &Request,
        keyed: &[Keyed],
        missing: usize,
        gone: &mut Vec<String>,
        tracker: &Tracker,
        id_of: impl Fn(W) -> Option<String> + Copy,
    ) -> Result<bool, ContentfulError> {
        // Ranges to search: (start, end) indexes into `keyed`, with how many are missing there.
        let mut todo = vec![(0usize, keyed.len(), missing)];
        while let Some((lo, hi, missing)) = todo.pop() {
            if missing == 0 {
                continue;
            }
            if lo >= hi {
                return Ok(false);
            }
            let range = |lo: usize, hi: usize| {
                let mut r = with(bare(base), "sys.createdAt[gte]", stamp(keyed[lo].0));
                if hi < keyed.len() {
                    r = with(r, "sys.createdAt[lt]", stamp(keyed[hi].0));
                }
                r
            };
            // The split: the first index at or after the middle where the date changes (records
            // created at the same instant cannot be told apart by date).
            // Ranges start and end where the date changes, so a date range holds exactly the
            // records of an index range.
            let boundary = |i: &usize| keyed[*i].0 != keyed[*i - 1].0;
            let mid = (lo + (hi - lo) / 2).max(lo + 1);
            let split = (mid..hi)
                .find(boundary)
                .or_else(|| (lo + 1..mid).rev().find(boundary));
            let small = (hi - lo) as u64 <= PAGE_SIZE;
            match split {
                Some(split) if !small => {
                    let count_req = with(range(lo, split), "limit", "0".into());
                    let counted = self
                        .get_json::<wire::Collection<serde_json::Value>>(&count_req)
                        .await?;
                    let Some(live_left) = counted.total else {
                        return Ok(false);
                    };
                    let Some(left_missing) = (split - lo).checked_sub(live_left as usize) else {
                        return Ok(false);
                    };
                    if left_missing > missing {
                        return Ok(false);
                    }
                    todo.push((lo, split, left_missing));
                    todo.push((split, hi, missing - left_missing));
                }
                _ => {
                    // Read the range and see which ids are not there.
                    let req = with(
                        with(range(lo, hi), "limit", PAGE_SIZE.to_string()),
                        "skip",
                        "0".into(),
                    );
                    let (items, _) = self.get_all::<W>(req, tracker).await?;
                    let present: BTreeSet<String> = items.into_iter().filter_map(id_of).collect();
                    let absent: Vec<String> = keyed[lo..hi]
                        .iter()
                        .filter(|(_, id)| !present.contains(id))
                        .map(|(_, id)| id.clone())
                        .collect();
                    if absent.len() != missing {
                        return Ok(false);
                    }
                    gone.extend(absent);
                }
            }
        }
        Ok(true)
    }
}

/// A newest-first page ([`Client::newest_page`]).
struct NewestPage<X> {
    items: Vec<X>,
    users: Vec<wire::User>,
    total: u64,
    /// Whether it holds every object changed since the read's `since`.
    complete: bool,
}

/// The organization's roles as [`Client::refresh_roles`] found them.
enum RolesNow {
    /// No space is managed: roles are not read.
    None,
    /// Every role of the organization.
    All(Vec<wire::Role>),
    /// A newest-first page holding every role changed since the previous read (and the number
    /// of those that changed); the other roles are as before.
    Changed {
        page: Vec<wire::Role>,
        changed: usize,
    },
}

/// How a collection was refreshed.
#[derive(Debug, Clone, Copy)]
struct Part {
    changed: usize,
    deleted: usize,
    full: bool,
}

/// The items of an answer to `req`, converted; one that does not convert is a decode error
/// naming the request.
fn convert_items<W, X>(
    req: &Request,
    items: Vec<W>,
    convert: impl Fn(W) -> Result<X, String>,
) -> Result<Vec<X>, ContentfulError> {
    items
        .into_iter()
        .map(|w| convert(w).map_err(|e| super::client::invalid(req, e)))
        .collect()
}

/// The id of a wire item, through the collection's conversion.
fn convert_id<W, X>(
    previous: &Previous<'_, X>,
    convert: impl Fn(W) -> Result<X, String> + Copy,
) -> impl Fn(W) -> Option<String> + Copy {
    let meta = previous.meta;
    move |w| convert(w).ok().map(|x| meta(&x).id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&format!("2026-12-01T10:{minute:02}:00Z"))
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    #[test]
    fn a_newest_first_page_is_believed_only_in_that_order_and_when_it_reaches_back() {
        let since = at(30).unwrap_or_default();
        // Newest first, reaching back before `since`: every change is on it.
        assert_eq!(
            judge(&[at(50), at(40), at(10)], 500, since),
            Newest::Complete
        );
        // Ties are newest-first too.
        assert_eq!(
            judge(&[at(50), at(50), at(10)], 500, since),
            Newest::Complete
        );
        // Everything changed since: more may be on the next pages.
        assert_eq!(
            judge(&[at(50), at(40), at(35)], 500, since),
            Newest::Partial
        );
        // The whole collection on the page.
        assert_eq!(judge(&[at(50), at(40), at(35)], 3, since), Newest::Complete);
        // A server that ignored the ordering (oldest first), or a date missing: not believed.
        assert_eq!(
            judge(&[at(10), at(40), at(50)], 500, since),
            Newest::Unordered
        );
        assert_eq!(
            judge(&[at(10), at(40), at(50)], 3, since),
            Newest::Unordered
        );
        assert_eq!(
            judge(&[at(50), None, at(10)], 500, since),
            Newest::Unordered
        );
        assert_eq!(judge(&[], 0, since), Newest::Complete);
    }

    #[test]
    fn the_newest_first_request_keeps_includes_and_replaces_the_order_and_paging() {
        let r = newest_first(&request::org_memberships("o1"));
        let q: Vec<(&str, &str)> = r.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            q,
            [
                ("include", "sys.user"),
                ("order", "-sys.updatedAt"),
                ("limit", "100"),
                ("skip", "0"),
            ]
        );
    }
}
