//! The snapshot `drift --cache FILE` keeps between runs, so a nightly drift reads only what changed
//! ([`crate::contentful::Client::read_incremental`]) instead of the whole organization.
//!
//! The file is JSON: a format version, the organization id, the managed space ids, the time
//! before which nothing in it can have changed unseen (`since`), and the organization as read
//! (ids, versions, `sys.createdAt`/`sys.updatedAt`, users' emails and names, memberships, roles).
//! It never holds the management token, access tokens or anything secret; it does hold the
//! members' emails, so keep it where the access file is kept.
//!
//! A cache that cannot be read, is of another format version, belongs to another organization or
//! was made for other managed spaces is not used: the run reads everything and writes a new one.
//! Losing the cache costs one full read, nothing worse.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::LiveState;

/// The cache format this build reads and writes.
// 2: roles carry their version, who/when and definition (issue 15).
// 3: every role's version (`org_role_versions`) and the routes refusing the newest-first page.
pub const FORMAT_VERSION: u32 = 3;

/// How long before the newest change in a snapshot's read `since` is placed, beyond the read's
/// own duration: covers clocks of the API's servers that disagree by up to this much.
const SLACK: Duration = Duration::seconds(120);

/// The largest cache file read (a snapshot of a 100,000-user organization is tens of megabytes).
pub const MAX_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// A snapshot of the organization for the next incremental drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCache {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// The organization id.
    pub organization: String,
    /// The managed space ids the snapshot was read for (their roles are in it), sorted.
    pub managed_spaces: Vec<String>,
    /// Nothing in `live` can have changed before this time without being in it.
    pub since: DateTime<Utc>,
    /// The organization as read (no access tokens).
    pub live: LiveState,
    /// The routes whose newest-first page the server refused or did not answer in that order
    /// ([`crate::contentful::IncrementalStats::newest_first_refused`]): not asked again.
    #[serde(default)]
    pub newest_first_refused: BTreeSet<String>,
}

/// Why a cache file was not used (the run then reads everything and writes a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotUsed {
    /// There is no cache file yet.
    Missing,
    /// The file cannot be read or is not a cache this build understands.
    Unreadable(String),
    /// The cache is of another format version.
    OtherFormat(u32),
    /// The cache belongs to another organization.
    OtherOrganization(String),
    /// The cache was made for other managed spaces.
    OtherSpaces,
}

impl std::fmt::Display for NotUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotUsed::Missing => write!(f, "there is no cache yet"),
            NotUsed::Unreadable(why) => write!(f, "the cache cannot be read ({why})"),
            NotUsed::OtherFormat(v) => {
                write!(
                    f,
                    "the cache is format {v}, this build reads format {FORMAT_VERSION}"
                )
            }
            NotUsed::OtherOrganization(org) => {
                write!(f, "the cache belongs to organization {org}")
            }
            NotUsed::OtherSpaces => write!(f, "the cache was made for other managed spaces"),
        }
    }
}

/// Why a cache could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the drift cache {path}")]
pub struct WriteError {
    /// The cache file.
    pub path: String,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

impl DriftCache {
    /// A snapshot of `live` (read for `managed_spaces`) made by a read that started `took` before
    /// it ended. `since` is placed before the newest change the read saw by the read's duration
    /// and `SLACK` (two minutes): an object changed while the read ran (after its page was read) was changed
    /// after the read started, which is no earlier than that.
    pub fn new(live: &LiveState, managed_spaces: &[String], took: std::time::Duration) -> Self {
        let newest = newest_change(live).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let took = Duration::from_std(took).unwrap_or(Duration::MAX);
        let since = newest
            .checked_sub_signed(took)
            .and_then(|t| t.checked_sub_signed(SLACK))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut live = live.clone();
        live.access_tokens.clear();
        DriftCache {
            format: FORMAT_VERSION,
            organization: live.organization.clone(),
            managed_spaces: sorted(managed_spaces),
            since,
            live,
            newest_first_refused: BTreeSet::new(),
        }
    }

    /// The snapshot remembering `routes` as refusing the newest-first page.
    pub fn with_newest_first_refused(mut self, routes: BTreeSet<String>) -> Self {
        self.newest_first_refused = routes;
        self
    }

    /// Reads the cache at `path` for organization `org` and `managed_spaces`, or why it cannot be
    /// used.
    pub fn load(path: &Path, org: &str, managed_spaces: &[String]) -> Result<Self, NotUsed> {
        if !path.exists() {
            return Err(NotUsed::Missing);
        }
        let text = crate::input::read_bounded_text(path, MAX_CACHE_BYTES)
            .map_err(|e| NotUsed::Unreadable(e.to_string()))?;
        // The format version first, so a future format is reported as such, not as garbage.
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head =
            serde_json::from_str(&text).map_err(|e| NotUsed::Unreadable(e.to_string()))?;
        if head.format != FORMAT_VERSION {
            return Err(NotUsed::OtherFormat(head.format));
        }
        let cache: DriftCache =
            serde_json::from_str(&text).map_err(|e| NotUsed::Unreadable(e.to_string()))?;
        if cache.organization != org || cache.live.organization != org {
            return Err(NotUsed::OtherOrganization(cache.organization));
        }
        if cache.managed_spaces != sorted(managed_spaces) {
            return Err(NotUsed::OtherSpaces);
        }
        Ok(cache)
    }

    /// Writes the cache to `path` (through a temporary file beside it, renamed over it, so a
    /// run stopped half-way leaves the old cache or the new one, never half of one).
    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        let err = |source| WriteError {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec(self).map_err(|e| err(std::io::Error::other(e)))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}

fn sorted(spaces: &[String]) -> Vec<String> {
    let mut v = spaces.to_vec();
    v.sort();
    v.dedup();
    v
}

/// The newest `sys.updatedAt` (or `sys.createdAt`) of any object in `live`.
fn newest_change(live: &LiveState) -> Option<DateTime<Utc>> {
    let metas = live
        .org_memberships
        .values()
        .map(|m| &m.meta)
        .chain(live.teams.values().map(|t| &t.meta))
        .chain(live.team_memberships.values().map(|m| &m.meta))
        .chain(live.team_space_memberships.values().map(|m| &m.meta))
        .chain(live.space_memberships.values().map(|m| &m.meta));
    let roles = live
        .spaces
        .values()
        .flat_map(|s| s.roles.values())
        .filter_map(|r| r.updated_at);
    metas
        .filter_map(|m| m.updated_at.or(m.created_at))
        .chain(roles)
        .max()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn live(org: &str) -> LiveState {
        LiveState {
            organization: org.to_string(),
            ..LiveState::default()
        }
    }

    #[test]
    fn a_cache_is_used_only_for_its_organization_spaces_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drift-cache.json");
        let spaces = vec!["b".to_string(), "a".to_string()];
        assert_eq!(
            DriftCache::load(&path, "org1", &spaces),
            Err(NotUsed::Missing)
        );
        let cache = DriftCache::new(&live("org1"), &spaces, std::time::Duration::from_secs(3));
        cache.save(&path).unwrap();
        assert_eq!(DriftCache::load(&path, "org1", &spaces).unwrap(), cache);
        // Same spaces in another order are the same spaces.
        let swapped = vec!["a".to_string(), "b".to_string()];
        assert!(DriftCache::load(&path, "org1", &swapped).is_ok());
        assert_eq!(
            DriftCache::load(&path, "org2", &spaces),
            Err(NotUsed::OtherOrganization("org1".into()))
        );
        assert_eq!(
            DriftCache::load(&path, "org1", &["a".to_string()]),
            Err(NotUsed::OtherSpaces)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let this_format = format!("\"format\":{FORMAT_VERSION}");
        assert!(text.contains(&this_format), "{text}");
        std::fs::write(&path, text.replace(&this_format, "\"format\":99")).unwrap();
        assert_eq!(
            DriftCache::load(&path, "org1", &spaces),
            Err(NotUsed::OtherFormat(99))
        );
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            DriftCache::load(&path, "org1", &spaces),
            Err(NotUsed::Unreadable(_))
        ));
    }

    #[test]
    fn since_is_before_the_newest_change_by_the_read_time_and_the_slack() {
        use crate::model::{LiveTeam, ObjectMeta};
        let at = DateTime::parse_from_rfc3339("2026-11-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut l = live("org1");
        l.teams.insert(
            "t".into(),
            LiveTeam {
                meta: ObjectMeta {
                    id: "t".into(),
                    version: 1,
                    created_at: Some(at - Duration::days(3)),
                    updated_at: Some(at),
                    updated_by: None,
                },
                name: "T".into(),
                description: String::new(),
            },
        );
        let c = DriftCache::new(&l, &[], std::time::Duration::from_secs(90));
        assert_eq!(c.since, at - Duration::seconds(90) - SLACK);
    }
}
