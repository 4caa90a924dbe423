//! List queries as Contentful answers them: `skip`/`limit` windows, `order`, `include=sys.user`,
//! free-text `query` and `[eq|ne|in|nin]` filters, each collection accepting only its documented
//! keys; and the collection envelope (`sys.type: Array`, `total`, `skip`, `limit`, `items`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::World;
use super::error::{ApiError, R};
use super::store::{Ordered, Rec, Table};
use super::views::ts;
use crate::sandbox::seed::{SeedSys, SeedUser};

#[derive(Debug, Default)]
pub(super) struct ListQuery {
    pub(super) skip: usize,
    pub(super) limit: usize,
    pub(super) order: Vec<(String, bool)>,
    pub(super) include_user: bool,
    pub(super) query: Option<String>,
    pub(super) filters: Vec<(String, String, Vec<String>)>,
    /// `sys.createdAt` / `sys.updatedAt` range filters ([`DateFilter`]).
    pub(super) dates: Vec<DateFilter>,
}

impl ListQuery {
    /// Parses `skip`, `limit`, `order`, `include`, `query` and the `filters`/`orders` this
    /// collection accepts; anything else is an `InvalidQuery`.
    pub(super) fn parse(q: &[(String, String)], filters: &[&str], orders: &[&str]) -> R<ListQuery> {
        let mut lq = ListQuery {
            limit: 25,
            ..ListQuery::default()
        };
        for (k, v) in q {
            match k.as_str() {
                "skip" => {
                    lq.skip = v.parse().map_err(|_| {
                        ApiError::invalid_query(
                            "skip",
                            "The skip parameter must be a non-negative integer",
                        )
                    })?;
                }
                "limit" => {
                    let n: usize = v.parse().map_err(|_| {
                        ApiError::invalid_query(
                            "limit",
                            "The limit parameter must be an integer between 0 and 100",
                        )
                    })?;
                    if n > 100 {
                        return Err(ApiError::invalid_query(
                            "limit",
                            "The limit parameter must be an integer between 0 and 100",
                        ));
                    }
                    lq.limit = n;
                }
                "order" => {
                    for part in v.split(',').filter(|p| !p.is_empty()) {
                        let (desc, key) = match part.strip_prefix('-') {
                            Some(k) => (true, k),
                            None => (false, part),
                        };
                        if !orders.contains(&key) {
                            return Err(ApiError::invalid_query(
                                key,
                                &format!("Ordering by {key:?} is not supported"),
                            ));
                        }
                        lq.order.push((key.to_string(), desc));
                    }
                }
                "include" => {
                    for part in v.split(',').filter(|p| !p.is_empty()) {
                        match part {
                            "sys.user" => lq.include_user = true,
                            "sys.createdBy"
                            | "sys.updatedBy"
                            | "sys.space"
                            | "sys.team"
                            | "roles"
                            | "sys.organizationMembership" => {}
                            other => {
                                return Err(ApiError::invalid_query(
                                    other,
                                    &format!("The path {other:?} cannot be included"),
                                ));
                            }
                        }
                    }
                }
                "query" => lq.query = Some(v.to_lowercase()),
                key if is_date_filter_key(key, orders) => lq.dates.push(DateFilter::parse(key, v)?),
                key => {
                    let (path, op) = match key.split_once('[') {
                        Some((p, rest)) => (p, rest.trim_end_matches(']')),
                        None => (key, "eq"),
                    };
                    if !filters.contains(&path) {
                        return Err(ApiError::invalid_query(
                            path,
                            &format!("The path \"{path}\" is not recognized"),
                        ));
                    }
                    if !["eq", "ne", "in", "nin"].contains(&op) {
                        return Err(ApiError::invalid_query(
                            path,
                            &format!("The operator {op:?} is not supported for {path:?}"),
                        ));
                    }
                    let vals = if op == "in" || op == "nin" {
                        v.split(',').map(str::to_string).collect()
                    } else {
                        vec![v.clone()]
                    };
                    lq.filters.push((path.to_string(), op.to_string(), vals));
                }
            }
        }
        Ok(lq)
    }

    /// No filter, search or ordering other than the stored one: the page can be sliced straight
    /// out of the stable order.
    pub(super) fn is_plain(&self) -> bool {
        self.filters.is_empty()
            && self.dates.is_empty()
            && self.query.is_none()
            && follows_stored_order(&self.order)
    }
}

/// Which date of a record a [`DateFilter`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SysDate {
    Created,
    Updated,
}

/// `sys.createdAt` / `sys.updatedAt` with `[gt]`, `[gte]`, `[lt]` or `[lte]` and an ISO 8601
/// date-time, as Contentful documents them for organization memberships (`<attr>[op]=<value>`).
#[derive(Debug, Clone)]
pub(super) struct DateFilter {
    field: SysDate,
    op: std::cmp::Ordering,
    or_equal: bool,
    at: DateTime<Utc>,
}

/// Whether `key` is a date range filter on a collection that can be ordered by that date (the
/// collections whose records carry `sys.createdAt`/`sys.updatedAt`).
fn is_date_filter_key(key: &str, orders: &[&str]) -> bool {
    key.split_once('[').is_some_and(|(path, _)| {
        matches!(path, "sys.createdAt" | "sys.updatedAt") && orders.contains(&path)
    })
}

impl DateFilter {
    fn parse(key: &str, v: &str) -> R<DateFilter> {
        let (path, op) = key
            .split_once('[')
            .map(|(p, rest)| (p, rest.trim_end_matches(']')))
            .unwrap_or((key, "eq"));
        let field = if path == "sys.createdAt" {
            SysDate::Created
        } else {
            SysDate::Updated
        };
        let (op, or_equal) = match op {
            "gt" => (std::cmp::Ordering::Greater, false),
            "gte" => (std::cmp::Ordering::Greater, true),
            "lt" => (std::cmp::Ordering::Less, false),
            "lte" => (std::cmp::Ordering::Less, true),
            other => {
                return Err(ApiError::invalid_query(
                    path,
                    &format!("The operator {other:?} is not supported for {path:?}"),
                ));
            }
        };
        let at = DateTime::parse_from_rfc3339(v)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::invalid_query(path, &format!("{v:?} is not an ISO 8601 date-time"))
            })?;
        Ok(DateFilter {
            field,
            op,
            or_equal,
            at,
        })
    }

    /// Whether a record with `sys` passes (a record without the date never does).
    fn passes(&self, sys: &SeedSys) -> bool {
        let date = match self.field {
            SysDate::Created => sys.created_at,
            SysDate::Updated => sys.updated_at.or(sys.created_at),
        };
        date.is_some_and(|d| {
            let c = d.cmp(&self.at);
            c == self.op || (self.or_equal && c.is_eq())
        })
    }
}

/// The records of `items` that pass every date filter of `lq`.
pub(super) fn dated<'a, T: Rec>(items: Vec<&'a T>, lq: &ListQuery) -> Vec<&'a T> {
    if lq.dates.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter(|t| lq.dates.iter().all(|d| d.passes(t.sys())))
        .collect()
}

/// Whether `order` is what the stores already keep: none, or `sys.createdAt` ascending (ties
/// broken by id, the stored `(sys.createdAt, sys.id)` order). The client sends
/// `order=sys.createdAt` on every page, and sorting the whole collection for each page made a
/// large read quadratic (issue 20).
pub(super) fn follows_stored_order(order: &[(String, bool)]) -> bool {
    match order {
        [] => true,
        [(key, false)] => key == "sys.createdAt",
        _ => false,
    }
}

/// The sort key of a record listed by name (`name`, else its `sys` dates).
pub(super) fn name_or_sys_key(name: &str, sys: &SeedSys, k: &str) -> String {
    if k == "name" {
        name.to_string()
    } else {
        sys_key(sys, k)
    }
}

/// The sort key for an ordering by the record's user (`sys.user.firstName`, `…lastName`,
/// `…email`); `None` for any other key.
pub(super) fn user_sort_key(u: Option<&SeedUser>, k: &str) -> Option<String> {
    Some(match k {
        "sys.user.firstName" => u
            .and_then(|u| u.first_name.clone())
            .unwrap_or_default()
            .to_lowercase(),
        "sys.user.lastName" => u
            .and_then(|u| u.last_name.clone())
            .unwrap_or_default()
            .to_lowercase(),
        "sys.user.email" => u.map(|u| u.email.clone()).unwrap_or_default(),
        _ => return None,
    })
}

/// Whether `u` matches a free-text `query` (already lower case).
pub(super) fn user_matches(u: &SeedUser, needle: &str) -> bool {
    u.id.to_lowercase().contains(needle)
        || u.email.contains(needle)
        || u.first_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(needle))
        || u.last_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(needle))
}

pub(super) fn filter_ok(v: &str, op: &str, vals: &[String]) -> bool {
    let hit = vals.iter().any(|x| x == v);
    match op {
        "ne" | "nin" => !hit,
        _ => hit,
    }
}

/// A filter on a many-valued field (`roles.name`, `roles.sys.id`): `eq`/`in` match when any
/// value is listed, `ne`/`nin` when none is.
pub(super) fn filter_any_ok<'v>(
    values: impl IntoIterator<Item = &'v str>,
    op: &str,
    vals: &[String],
) -> bool {
    let hit = values.into_iter().any(|v| vals.iter().any(|x| x == v));
    match op {
        "ne" | "nin" => !hit,
        _ => hit,
    }
}

/// `admin` as a filter value.
pub(super) fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

pub(super) fn sys_key(s: &SeedSys, k: &str) -> String {
    match k {
        "sys.updatedAt" => s.updated_at.map(ts).unwrap_or_default(),
        _ => s.created_at.map(ts).unwrap_or_default(),
    }
}

/// Sorts by the requested keys (stable, so ties keep the default `(createdAt, id)` order).
pub(super) fn sort_generic<'a, T>(
    mut items: Vec<&'a T>,
    order: &[(String, bool)],
    key: impl Fn(&T, &str) -> String,
) -> Vec<&'a T> {
    if order.is_empty() {
        return items;
    }
    items.sort_by(|a, b| {
        for (k, desc) in order {
            let c = key(a, k).cmp(&key(b, k));
            let c = if *desc { c.reverse() } else { c };
            if c.is_ne() {
                return c;
            }
        }
        std::cmp::Ordering::Equal
    });
    items
}

pub(super) fn window<'a, T: Rec + Clone>(
    table: &'a Table<T>,
    ids: &'a Ordered,
    lq: &ListQuery,
) -> (Vec<&'a T>, usize) {
    let all = &ids.0;
    let start = lq.skip.min(all.len());
    let end = start.saturating_add(lq.limit).min(all.len());
    let page = all[start..end]
        .iter()
        .filter_map(|(_, id)| table.get(id))
        .collect();
    (page, all.len())
}

pub(super) fn collection(items: Vec<Value>, total: usize, lq: &ListQuery) -> Value {
    json!({"sys": {"type": "Array"}, "total": total, "skip": lq.skip, "limit": lq.limit, "items": items})
}

pub(super) fn page_of(items: Vec<Value>, lq: &ListQuery) -> Value {
    let total = items.len();
    collection(
        items.into_iter().skip(lq.skip).take(lq.limit).collect(),
        total,
        lq,
    )
}

pub(super) fn list_of<T>(items: Vec<&T>, lq: &ListQuery, f: impl Fn(&T) -> Value) -> Value {
    let total = items.len();
    let page = items
        .into_iter()
        .skip(lq.skip)
        .take(lq.limit)
        .map(f)
        .collect();
    collection(page, total, lq)
}

impl World {
    /// Whether the user `user_id` matches the list's free-text `query` (true without one).
    pub(super) fn matches_query(&self, lq: &ListQuery, user_id: &str) -> bool {
        match (&lq.query, self.users.get(user_id)) {
            (Some(needle), Some(u)) => user_matches(u, needle),
            _ => true,
        }
    }

    pub(super) fn add_user_includes(&self, v: &mut Value, lq: &ListQuery, users: Vec<&str>) {
        if !lq.include_user {
            return;
        }
        let mut seen = HashSet::new();
        let list: Vec<Value> = users
            .into_iter()
            .filter(|u| seen.insert(*u))
            .filter_map(|u| self.users.get(u).map(|u| self.user_json(u)))
            .collect();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("includes".to_string(), json!({"User": list}));
        }
    }
}
