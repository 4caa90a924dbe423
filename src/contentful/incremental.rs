//! The incremental read behind `drift --cache`: given the organization as a previous read left it
//! (a [`LiveState`]) and a time `since` before which nothing it holds can have changed unseen, read
//! only what changed since, and give exactly the state a full read would give.
//!
//! Per collection (organization memberships with their users, team memberships, team space
//! memberships, space memberships; teams and spaces too when they are more than two pages):
//! - one request for what changed: `sys.updatedAt[gte]=since` (every page of it, in the
//!   documented `sys.createdAt` order);
//! - one request for the total (`limit=0`); deletions are inferred from the totals
//!   (`previous + created - now`), and when there are any, found by halving the collection by
//!   `sys.createdAt` with `limit=0` counts (about `log2(pages)` requests per deletion) and reading
//!   only the one page that holds the deleted object;
//! - a full read of that collection instead whenever that is no more requests (small
//!   collections), or when the server refuses one of these queries (a 400: a filter the endpoint
//!   does not support) or the counts do not add up (the organization changed during the read).
//!
//! Roles are read afresh with the organization-wide roles read (one request per 100 roles; the
//! endpoint documents no filter for what changed), so a role edited since the cache is seen;
//! `/users/me` is always read.

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
    /// Gives the same state a full [`Client::read_live_state`] would.
    pub async fn read_incremental(
        &self,
        org: &str,
        managed_space_ids: &[String],
        previous: &LiveState,
        since: DateTime<Utc>,
    ) -> Result<(LiveState, IncrementalStats), ContentfulError> {
        let tracker = Tracker::new(None);
        let tracker = &tracker;
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
            ),
            // Spaces are few and carry no version to compare: read them.
            self.get_all::<wire::Space>(request::spaces(org), tracker),
            // Roles: one or a few pages for the whole organization, read in full.
            async {
                if managed_space_ids.is_empty() {
                    return Ok((Vec::new(), Vec::new()));
                }
                self.get_all::<wire::Role>(request::org_roles(org), tracker)
                    .await
            },
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
        let managed: BTreeSet<&String> = managed_space_ids.iter().collect();
        super::client::attach_roles(&mut state, &managed, roles.0);
        Ok((state, stats))
    }

    /// One collection as it is now, from `previous` and what changed since `since`.
    async fn refresh<W: DeserializeOwned, X: Clone>(
        &self,
        base: &Request,
        previous: Previous<'_, X>,
        since: DateTime<Utc>,
        convert: impl Fn(W) -> Result<X, String> + Copy,
        tracker: &Tracker,
    ) -> Result<Refreshed<X>, ContentfulError> {
        let full = async || {
            let (items, users) = self.get_all::<W>(base.clone(), tracker).await?;
            let mut out = BTreeMap::new();
            for w in items {
                let x = convert(w).map_err(|e| super::client::invalid(base, e))?;
                out.insert((previous.meta)(&x).id.clone(), x);
            }
            let part = Part {
                changed: 0,
                deleted: 0,
                full: true,
            };
            Ok::<_, ContentfulError>((out, users, part))
        };
        // A collection of at most two pages costs no more read in full.
        if request::page_count(previous.items.len() as u64) <= 2 {
            return full().await;
        }
        match self
            .incremental(base, &previous, since, convert, tracker)
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

    /// The incremental read of one collection, or `None` when a full read is needed instead.
    async fn incremental<W: DeserializeOwned, X: Clone>(
        &self,
        base: &Request,
        previous: &Previous<'_, X>,
        since: DateTime<Utc>,
        convert: impl Fn(W) -> Result<X, String> + Copy,
        tracker: &Tracker,
    ) -> Result<Option<Refreshed<X>>, ContentfulError> {
        // Every page of the changed objects is read, so the documented `sys.createdAt` order
        // serves (Contentful documents `order=sys.updatedAt` for team and team space
        // memberships only).
        let changed_req = with(
            with(bare(base), "sys.updatedAt[gte]", stamp(since)),
            "limit",
            PAGE_SIZE.to_string(),
        );
        let changed_req = with(changed_req, "skip", "0".into());
        let count_req = with(bare(base), "limit", "0".into());
        let (changed, now_total) = tokio::try_join!(
            self.get_all::<W>(changed_req.clone(), tracker),
            self.get_json::<wire::Collection<serde_json::Value>>(&count_req),
        )?;
        let Some(now_total) = now_total.total else {
            return Ok(None);
        };
        let (changed, users) = changed;
        let mut items: BTreeMap<String, X> = previous.items.clone();
        let mut created = 0usize;
        let mut changed_count = 0usize;
        for w in changed {
            let x = convert(w).map_err(|e| super::client::invalid(&changed_req, e))?;
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

/// How a collection was refreshed.
#[derive(Debug, Clone, Copy)]
struct Part {
    changed: usize,
    deleted: usize,
    full: bool,
}

/// The id of a wire item, through the collection's conversion.
fn convert_id<W, X>(
    previous: &Previous<'_, X>,
    convert: impl Fn(W) -> Result<X, String> + Copy,
) -> impl Fn(W) -> Option<String> + Copy {
    let meta = previous.meta;
    move |w| convert(w).ok().map(|x| meta(&x).id.clone())
}
