//! The HTTP client: sends the requests built in [`super::request`] through one shared pacer and a
//! bounded number of concurrent connections, retries what is safe to retry, maps failures to
//! [`ContentfulError`], and assembles a whole organization into a [`LiveState`] with as few
//! requests as the data needs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::try_join_all;
use reqwest::header::{self, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::ContentfulError;
use super::config::{ClientConfig, Progress, ProgressHook};
use super::pacing::{Pacer, jitter};
use super::record::{Exchange, OBSERVED_HEADERS, ResponseObserver};
use super::request::{self, Request, remaining_skips};
use super::retry::{Decision, Failure, RetryPolicy};
use super::wire;
use crate::model::{
    Email, LiveAccessToken, LiveOrgMembership, LiveRole, LiveSpace, LiveSpaceMembership, LiveState,
    LiveTeam, LiveTeamMembership, LiveTeamSpaceMembership, ObjectMeta, OrgRole, RoleDefinition,
};

/// The token's own user (`GET /users/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// User id.
    pub id: String,
    /// The user's email, normalised.
    pub email: Email,
}

/// What an invitation created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    /// The invitation's id.
    pub invitation_id: String,
    /// The pending organization membership it created (usable at once for teams and spaces).
    pub org_membership_id: String,
}

/// Counters of what a client sent and received, for tests, logs and the request budget.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP attempts sent (retries included).
    pub requests: u64,
    /// Attempts per route: method and templated path, e.g. `GET /organizations/{org}/teams`.
    pub by_route: BTreeMap<String, u64>,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429 responses received.
    pub rate_limited: u64,
    /// 500/502/503/504 responses received.
    pub server_errors: u64,
    /// Attempts that got no complete response (connection refused, reset, timed out).
    pub dropped: u64,
    /// Attempts in a row, up to now, that got no response at all (reset by any response, even
    /// an error status). `apply` stops starting operations when this reaches
    /// [`crate::apply::UNREACHABLE_AFTER`].
    pub consecutive_dropped: u64,
}

/// A Contentful Management API client. Cheap to clone: clones share one connection pool, one
/// pacer and one set of statistics.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    pacer: Pacer,
    permits: Semaphore,
    max_attempts: u32,
    backoff_base: Duration,
    max_rate_limit_wait: Duration,
    progress: Option<ProgressHook>,
    observers: Vec<Arc<dyn ResponseObserver>>,
    stats: Mutex<RequestStats>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// A received response.
struct Reply {
    status: u16,
    request_id: Option<String>,
    body: Vec<u8>,
}

/// Counts pages for the progress hook during one read.
pub(super) struct Tracker {
    hook: Option<ProgressHook>,
    done: AtomicU64,
    total: AtomicU64,
}

impl Tracker {
    pub(super) fn new(hook: Option<ProgressHook>) -> Self {
        Tracker {
            hook,
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    pub(super) fn announce(&self, pages: u64) {
        self.total.fetch_add(pages, Ordering::SeqCst);
    }

    pub(super) fn page_done(&self) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(hook) = &self.hook {
            hook(Progress {
                done,
                total: self.total.load(Ordering::SeqCst).max(done),
            });
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // HeaderMap lookups are case-insensitive; names arrive lowercased from hyper.
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    header_str(headers, name).and_then(|v| v.trim().parse().ok())
}

/// The method's name with a static lifetime (every method this client sends is a standard one).
fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::DELETE => "DELETE",
        reqwest::Method::PATCH => "PATCH",
        reqwest::Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// Maps a non-success response to an error: Contentful's error document when the body is one.
fn map_error(req: &Request, reply: &Reply) -> ContentfulError {
    let method = method_name(&req.method);
    let path = req.display_path();
    match serde_json::from_slice::<wire::ErrorBody>(&reply.body) {
        Ok(doc) if doc.sys.kind.as_deref().is_none_or(|k| k == "Error") => ContentfulError::Api {
            method,
            path,
            status: reply.status,
            error_id: doc.sys.id,
            message: doc.message,
            details: doc.details.map(Box::new),
            request_id: doc.request_id.or_else(|| reply.request_id.clone()),
        },
        _ => ContentfulError::UnexpectedStatus {
            method,
            path,
            status: reply.status,
            request_id: reply.request_id.clone(),
            body: excerpt(&reply.body),
        },
    }
}

fn decode<T: DeserializeOwned>(req: &Request, reply: &Reply) -> Result<T, ContentfulError> {
    serde_json::from_slice(&reply.body).map_err(|e| ContentfulError::Decode {
        method: method_name(&req.method),
        path: req.display_path(),
        message: e.to_string(),
        request_id: reply.request_id.clone(),
    })
}

pub(super) fn invalid(req: &Request, message: String) -> ContentfulError {
    ContentfulError::Decode {
        method: method_name(&req.method),
        path: req.display_path(),
        message,
        request_id: None,
    }
}

/// Puts the roles of the organization-wide roles read into their spaces: only the managed spaces'
/// (as the per-space reads before it did), and only spaces of this organization; a managed space
/// missing from the organization stays missing, for the planner to report at its line of the
/// access file. A role without a space link cannot be placed and is skipped with a warning.
pub(super) fn attach_roles(
    state: &mut LiveState,
    managed: &BTreeSet<&String>,
    roles: Vec<wire::Role>,
) {
    for r in roles {
        attach_role(state, managed, r);
    }
}

/// Adds one role of the organization-wide roles read to `state`: its version to
/// [`LiveState::org_role_versions`], and the role to its space when the space is managed.
pub(super) fn attach_role(state: &mut LiveState, managed: &BTreeSet<&String>, r: wire::Role) {
    let Some(space_id) = r.space_id() else {
        tracing::warn!(role = %r.sys.id, "role without a space link; skipped");
        return;
    };
    state
        .org_role_versions
        .insert(r.sys.id.clone(), r.sys.version.unwrap_or(0));
    if !managed.contains(&space_id) {
        return;
    }
    if let Some(space) = state.spaces.get_mut(&space_id) {
        let r = r.into_live();
        space.roles.insert(r.id.clone(), r);
    }
}

/// Which collections a read covers ([`Client::read_scoped`]); [`ReadScope::ALL`] is a full read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ReadScope {
    /// The organization memberships, with their users.
    pub org_memberships: bool,
    /// The teams.
    pub teams: bool,
    /// The team memberships.
    pub team_memberships: bool,
    /// The team space memberships.
    pub team_space_memberships: bool,
    /// The space memberships.
    pub space_memberships: bool,
    /// The organization's spaces.
    pub spaces: bool,
    /// The token's own user (`/users/me`).
    pub me: bool,
}

impl ReadScope {
    /// Everything a full read covers.
    pub const ALL: ReadScope = ReadScope {
        org_memberships: true,
        teams: true,
        team_memberships: true,
        team_space_memberships: true,
        space_memberships: true,
        spaces: true,
        me: true,
    };
    /// Nothing; add collections with struct update syntax.
    pub const NONE: ReadScope = ReadScope {
        org_memberships: false,
        teams: false,
        team_memberships: false,
        team_space_memberships: false,
        space_memberships: false,
        spaces: false,
        me: false,
    };
}

impl Client {
    /// Builds a client (no request is sent yet).
    pub fn new(cfg: ClientConfig) -> Result<Client, ContentfulError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", cfg.token.expose_secret()))
            .map_err(|_| {
                ContentfulError::Config(
                    "the management token contains characters that cannot be sent in an HTTP header"
                        .to_string(),
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, auth);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.contentful.management.v1+json"),
        );
        // Contentful asks integrations to identify themselves as its SDKs do.
        if let Ok(v) = HeaderValue::from_str(&super::user_agent::value()) {
            headers.insert(super::user_agent::HEADER, v);
        }
        // `Accept-Encoding: gzip` is added by reqwest (feature `gzip`), which also decodes:
        // large membership pages shrink several times on the wire.
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("contentful-access/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            // Never follow a redirect: it could carry the token to another host (reqwest drops
            // the Authorization header only across hosts it knows about), and the Management API
            // does not redirect. A 3xx is an error naming the request.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ContentfulError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: cfg.base_url,
                pacer: Pacer::new(cfg.max_rps, cfg.rps_ceiling),
                permits: Semaphore::new(cfg.concurrency.max(1)),
                max_attempts: cfg.max_attempts.max(1),
                backoff_base: cfg.backoff_base,
                max_rate_limit_wait: cfg.max_rate_limit_wait,
                progress: cfg.progress,
                observers: cfg.observers,
                stats: Mutex::new(RequestStats::default()),
            }),
        })
    }

    /// The API root this client talks to (no credentials in it).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The gap the client keeps between two request starts now: `1 / --max-rps`, or slower
    /// once the server announced a lower per-second limit (with a 5 % margin under it).
    pub async fn pacing_gap(&self) -> Duration {
        self.inner.pacer.gap().await
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> RequestStats {
        self.with_stats(|s| s.clone())
    }

    fn with_stats<R>(&self, f: impl FnOnce(&mut RequestStats) -> R) -> R {
        let mut guard = self
            .inner
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// The retry policy of this client's settings.
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.inner.max_attempts,
            backoff_base: self.inner.backoff_base,
            max_rate_limit_wait: self.inner.max_rate_limit_wait,
        }
    }

    /// Sends `req`, retrying what [`RetryPolicy::decide`] allows, and returns the successful
    /// response. With `gone_is_done`, a 404 on a retry counts as success (an earlier attempt of
    /// this DELETE reached the server although its answer was lost).
    async fn execute(&self, req: &Request, gone_is_done: bool) -> Result<Reply, ContentfulError> {
        let inner = &self.inner;
        let policy = self.retry_policy();
        let method = req.method.as_str();
        let path = req.display_path();
        let url = format!("{}{}", inner.base_url, req.path);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = inner.permits.acquire().await.ok();
            inner.pacer.acquire().await;
            self.with_stats(|s| {
                s.requests += 1;
                *s.by_route.entry(req.route.to_string()).or_default() += 1;
                if attempt > 1 {
                    s.retries += 1;
                }
            });
            let started = Instant::now();
            let mut builder = inner.http.request(req.method.clone(), &url);
            if !req.query.is_empty() {
                builder = builder.query(&req.query);
            }
            for (k, v) in &req.headers {
                builder = builder.header(*k, v);
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.to_string());
            }
            let outcome = match builder.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Ok((status, headers, body.to_vec())),
                        // The server answered, so even a POST may have been processed.
                        Err(e) => Err((e, false)),
                    }
                }
                Err(e) => {
                    let never_sent = e.is_connect();
                    Err((e, never_sent))
                }
            };
            drop(permit);
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (status, headers, body) = match outcome {
                Ok(ok) => {
                    self.with_stats(|s| s.consecutive_dropped = 0);
                    ok
                }
                Err((e, never_sent)) => {
                    self.with_stats(|s| {
                        s.dropped += 1;
                        s.consecutive_dropped += 1;
                    });
                    tracing::info!(method, path = %path, duration_ms = elapsed_ms, error = %e, "request failed");
                    let failure = Failure::Transport { never_sent };
                    if let Decision::Retry { wait, .. } =
                        policy.decide(attempt, req.is_post(), failure, &mut jitter)
                    {
                        tracing::debug!(method, path = %path, attempt, wait_ms = wait.as_millis() as u64, "retrying after a transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ContentfulError::Transport {
                        method: method_name(&req.method),
                        path,
                        source: e.without_url(),
                    });
                }
            };
            tracing::info!(method, path = %path, status, duration_ms = elapsed_ms, "request");
            self.observe(req, &path, status, &headers, &body);
            if let Some(limit) = header_u64(&headers, "x-contentful-ratelimit-second-limit") {
                let limit = u32::try_from(limit).unwrap_or(u32::MAX);
                if let Some(gap) = inner.pacer.follow(limit).await {
                    tracing::debug!(
                        limit,
                        gap_ms = gap.as_secs_f64() * 1000.0,
                        "pacing follows the server's announced limit"
                    );
                }
            }
            let reply = Reply {
                status,
                request_id: header_str(&headers, "x-contentful-request-id").map(str::to_string),
                body,
            };
            if (200..300).contains(&status) || (gone_is_done && attempt > 1 && status == 404) {
                return Ok(reply);
            }
            match status {
                429 => self.with_stats(|s| s.rate_limited += 1),
                500 | 502 | 503 | 504 => self.with_stats(|s| s.server_errors += 1),
                _ => {}
            }
            let failure = Failure::Status {
                code: status,
                reset: header_u64(&headers, "x-contentful-ratelimit-reset"),
            };
            match policy.decide(attempt, req.is_post(), failure, &mut jitter) {
                Decision::GiveUp => return Err(map_error(req, &reply)),
                Decision::Retry {
                    wait,
                    hold_everyone,
                } => {
                    let wait_ms = wait.as_millis() as u64;
                    if status == 429 {
                        tracing::debug!(method, path = %path, attempt, wait_ms, "rate limited; waiting");
                    } else {
                        tracing::debug!(method, path = %path, attempt, status, wait_ms, "server error; retrying");
                    }
                    if hold_everyone {
                        inner.pacer.hold_until(Instant::now() + wait).await;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Shows one response to the observers (only [`OBSERVED_HEADERS`], never a request header).
    fn observe(&self, req: &Request, path: &str, status: u16, headers: &HeaderMap, body: &[u8]) {
        if self.inner.observers.is_empty() {
            return;
        }
        let headers: Vec<(&'static str, String)> = OBSERVED_HEADERS
            .iter()
            .filter_map(|name| header_str(headers, name).map(|v| (*name, v.to_string())))
            .collect();
        let exchange = Exchange {
            method: method_name(&req.method),
            route: req.route,
            base_url: &self.inner.base_url,
            path,
            status,
            headers: &headers,
            body,
        };
        for o in &self.inner.observers {
            o.observe(&exchange);
        }
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        req: &Request,
    ) -> Result<T, ContentfulError> {
        let reply = self.execute(req, false).await?;
        decode(req, &reply)
    }

    /// The number of objects in the collections `scope` names (one `limit=0` request each,
    /// which answers with `total` and no items).
    pub async fn collection_total(
        &self,
        org: &str,
        scope: ReadScope,
    ) -> Result<u64, ContentfulError> {
        let mut reqs = Vec::new();
        if scope.org_memberships {
            reqs.push(request::org_memberships(org));
        }
        if scope.teams {
            reqs.push(request::teams(org));
        }
        if scope.team_memberships {
            reqs.push(request::team_memberships(org));
        }
        if scope.team_space_memberships {
            reqs.push(request::team_space_memberships(org));
        }
        if scope.space_memberships {
            reqs.push(request::space_memberships(org));
        }
        if scope.spaces {
            reqs.push(request::spaces(org));
        }
        let mut total = 0;
        for mut req in reqs {
            req.query
                .retain(|(k, _)| !matches!(*k, "skip" | "limit" | "include"));
            req.query.push(("limit", "0".into()));
            let page: wire::Collection<serde_json::Value> = self.get_json(&req).await?;
            total += page.total.unwrap_or(u64::MAX / 2);
        }
        Ok(total)
    }

    /// [`Client::get_all`] when `wanted`, nothing (no request) otherwise.
    async fn get_all_if<T: DeserializeOwned>(
        &self,
        wanted: bool,
        req: Request,
        tracker: &Tracker,
    ) -> Result<(Vec<T>, Vec<wire::User>), ContentfulError> {
        if !wanted {
            return Ok((Vec::new(), Vec::new()));
        }
        self.get_all(req, tracker).await
    }

    /// Reads every page of a collection: the first page, then (knowing `total`) all the others
    /// concurrently. Returns the items and the included users.
    pub(super) async fn get_all<T: DeserializeOwned>(
        &self,
        req: Request,
        tracker: &Tracker,
    ) -> Result<(Vec<T>, Vec<wire::User>), ContentfulError> {
        tracker.announce(1);
        let first: wire::Collection<T> = self.get_json(&req).await?;
        // Announce the remaining pages before counting this one, so progress never reads as
        // complete while pages are still to come.
        let skips = first.total.map(remaining_skips);
        let full = |n: usize| n as u64 >= request::PAGE_SIZE;
        tracker.announce(match &skips {
            Some(s) => s.len() as u64,
            None => u64::from(full(first.items.len())),
        });
        tracker.page_done();
        let mut items = first.items;
        let mut users = first.includes.user;
        match skips {
            Some(skips) => {
                let pages = try_join_all(skips.into_iter().map(|skip| {
                    let page = req.page(skip);
                    async move {
                        let p: wire::Collection<T> = self.get_json(&page).await?;
                        tracker.page_done();
                        Ok::<_, ContentfulError>(p)
                    }
                }))
                .await?;
                for p in pages {
                    items.extend(p.items);
                    users.extend(p.includes.user);
                }
                if let Some(total) = first.total
                    && items.len() as u64 != total
                {
                    // The collection changed while it was read; the next run sees it settled.
                    tracing::warn!(
                        route = req.route,
                        total,
                        read = items.len(),
                        "collection changed during the read"
                    );
                }
            }
            None => {
                // No total given: walk pages one by one until a short page.
                let mut last_full = full(items.len());
                let mut skip = 0;
                while last_full {
                    skip += request::PAGE_SIZE;
                    let p: wire::Collection<T> = self.get_json(&req.page(skip)).await?;
                    last_full = full(p.items.len());
                    tracker.announce(u64::from(last_full));
                    tracker.page_done();
                    items.extend(p.items);
                    users.extend(p.includes.user);
                }
            }
        }
        Ok((items, users))
    }

    /// The token's own user.
    pub async fn me(&self) -> Result<Me, ContentfulError> {
        let req = request::users_me();
        let user: wire::User = self.get_json(&req).await?;
        let id = user.sys.id.clone();
        let live = user
            .into_live()
            .ok_or_else(|| invalid(&req, "the user has no email".to_string()))?;
        Ok(Me {
            id,
            email: live.email,
        })
    }

    /// Reads one organization: members (with their users), teams, team memberships, team space
    /// memberships, space memberships, the org's spaces, the roles of each managed space and the
    /// token's own user. Objects of unmanaged spaces are kept; only their roles are not kept. A
    /// managed space that is not a space of the organization is left out of
    /// [`LiveState::spaces`] (the read does not fail), so the planner can report it.
    ///
    /// Requests: one per page of 100 for each collection (at least one each), one per page of 100
    /// of the organization's roles (`GET /organizations/{org}/roles`, when any space is managed),
    /// plus one for `/users/me`.
    pub async fn read_live_state(
        &self,
        org: &str,
        managed_space_ids: &[String],
    ) -> Result<LiveState, ContentfulError> {
        self.read_live_state_with_spaces(org, managed_space_ids, None)
            .await
    }

    /// [`Client::read_live_state`], with the organization's spaces already read (by
    /// [`Client::list_spaces`]) when `spaces` is given: `export` lists them first to choose which
    /// to manage, and reading them again cost one more request per page (issue 20).
    pub async fn read_live_state_with_spaces(
        &self,
        org: &str,
        managed_space_ids: &[String],
        spaces: Option<Vec<LiveSpace>>,
    ) -> Result<LiveState, ContentfulError> {
        self.read_scoped(org, managed_space_ids, ReadScope::ALL, spaces)
            .await
    }

    /// Reads only the collections `scope` names (and, with the organization-wide roles read, the
    /// roles of `managed_space_ids`, placed only in spaces this read holds); the
    /// others stay empty in the returned state, and `me` is unset unless asked for. Apply's
    /// recovery after a 422 or a lost answer reads only the collection the write is about.
    pub async fn read_scoped(
        &self,
        org: &str,
        managed_space_ids: &[String],
        scope: ReadScope,
        spaces: Option<Vec<LiveSpace>>,
    ) -> Result<LiveState, ContentfulError> {
        let tracker = Tracker::new(self.inner.progress.clone());
        let managed: BTreeSet<&String> = managed_space_ids.iter().collect();
        let me = async {
            if !scope.me {
                return Ok(None);
            }
            tracker.announce(1);
            let me = self.me().await?;
            tracker.page_done();
            Ok::<_, ContentfulError>(Some(me))
        };
        let om_req = request::org_memberships(org);
        let tm_req = request::team_memberships(org);
        let tsm_req = request::team_space_memberships(org);
        let sm_req = request::space_memberships(org);
        let tracker = &tracker;
        // One paged read for the roles of every space (issue 15), instead of one per managed space.
        let roles =
            self.get_all_if::<wire::Role>(!managed.is_empty(), request::org_roles(org), tracker);
        let (me, (oms, users), (teams, _), (tms, _), (tsms, _), (sms, _), spaces, roles) = tokio::try_join!(
            me,
            self.get_all_if::<wire::OrgMembership>(scope.org_memberships, om_req.clone(), tracker),
            self.get_all_if::<wire::Team>(scope.teams, request::teams(org), tracker),
            self.get_all_if::<wire::TeamMembership>(
                scope.team_memberships,
                tm_req.clone(),
                tracker
            ),
            self.get_all_if::<wire::TeamSpaceMembership>(
                scope.team_space_memberships,
                tsm_req.clone(),
                tracker
            ),
            self.get_all_if::<wire::SpaceMembership>(
                scope.space_memberships,
                sm_req.clone(),
                tracker
            ),
            async {
                match spaces {
                    Some(known) => Ok(known),
                    None if !scope.spaces => Ok(Vec::new()),
                    None => self
                        .get_all::<wire::Space>(request::spaces(org), tracker)
                        .await
                        .map(|(s, _)| s.into_iter().map(wire::Space::into_live).collect()),
                }
            },
            roles,
        )?;

        let mut state = LiveState {
            organization: org.to_string(),
            me: me.map(|me| me.id),
            ..LiveState::default()
        };
        for u in users {
            let id = u.sys.id.clone();
            match u.into_live() {
                Some(user) => {
                    state.users.insert(user.id.clone(), user);
                }
                None => tracing::warn!(user = %id, "included user has no email; skipped"),
            }
        }
        for m in oms {
            let m = m.into_live().map_err(|e| invalid(&om_req, e))?;
            if !state.users.contains_key(&m.user_id) {
                tracing::warn!(membership = %m.meta.id, user = %m.user_id, "organization membership's user was not included");
            }
            state.org_memberships.insert(m.meta.id.clone(), m);
        }
        for t in teams {
            let t = t.into_live();
            state.teams.insert(t.meta.id.clone(), t);
        }
        for m in tms {
            let m = m.into_live().map_err(|e| invalid(&tm_req, e))?;
            state.team_memberships.insert(m.meta.id.clone(), m);
        }
        for m in tsms {
            let m = m.into_live().map_err(|e| invalid(&tsm_req, e))?;
            state.team_space_memberships.insert(m.meta.id.clone(), m);
        }
        for m in sms {
            let m = m.into_live(None).map_err(|e| invalid(&sm_req, e))?;
            state.space_memberships.insert(m.meta.id.clone(), m);
        }
        for s in spaces {
            state.spaces.insert(s.id.clone(), s);
        }
        attach_roles(&mut state, &managed, roles.0);
        Ok(state)
    }

    /// The organization's spaces (without their roles): one request per page of 100. `export`
    /// uses it to learn which spaces to manage before reading the organization.
    pub async fn list_spaces(&self, org: &str) -> Result<Vec<LiveSpace>, ContentfulError> {
        let tracker = Tracker::new(self.inner.progress.clone());
        let (spaces, _) = self
            .get_all::<wire::Space>(request::spaces(org), &tracker)
            .await?;
        Ok(spaces.into_iter().map(wire::Space::into_live).collect())
    }

    /// The organizations the token's user belongs to, as (id, name), by id.
    pub async fn list_organizations(&self) -> Result<Vec<(String, String)>, ContentfulError> {
        let tracker = Tracker::new(self.inner.progress.clone());
        let (orgs, _) = self
            .get_all::<wire::Organization>(request::organizations(), &tracker)
            .await?;
        let mut out: Vec<(String, String)> = orgs.into_iter().map(|o| (o.sys.id, o.name)).collect();
        out.sort();
        Ok(out)
    }

    /// The personal access tokens of the organization's members (admin view; redacted values).
    pub async fn read_access_tokens(
        &self,
        org: &str,
    ) -> Result<Vec<LiveAccessToken>, ContentfulError> {
        let tracker = Tracker::new(self.inner.progress.clone());
        let (tokens, _) = self
            .get_all::<wire::AccessToken>(request::access_tokens(org), &tracker)
            .await?;
        Ok(tokens
            .into_iter()
            .map(wire::AccessToken::into_live)
            .collect())
    }

    /// One organization membership.
    pub async fn get_org_membership(
        &self,
        org: &str,
        id: &str,
    ) -> Result<LiveOrgMembership, ContentfulError> {
        let req = request::org_membership(org, id);
        let m: wire::OrgMembership = self.get_json(&req).await?;
        m.into_live().map_err(|e| invalid(&req, e))
    }

    /// One team.
    pub async fn get_team(&self, org: &str, id: &str) -> Result<LiveTeam, ContentfulError> {
        let req = request::team(org, id);
        let t: wire::Team = self.get_json(&req).await?;
        Ok(t.into_live())
    }

    /// One team membership.
    pub async fn get_team_membership(
        &self,
        org: &str,
        team_id: &str,
        id: &str,
    ) -> Result<LiveTeamMembership, ContentfulError> {
        let req = request::team_membership(org, team_id, id);
        let m: wire::TeamMembership = self.get_json(&req).await?;
        m.into_live().map_err(|e| invalid(&req, e))
    }

    /// One team space membership.
    pub async fn get_team_space_membership(
        &self,
        space: &str,
        id: &str,
    ) -> Result<LiveTeamSpaceMembership, ContentfulError> {
        let req = request::team_space_membership(space, id);
        let m: wire::TeamSpaceMembership = self.get_json(&req).await?;
        m.into_live().map_err(|e| invalid(&req, e))
    }

    /// One space membership.
    pub async fn get_space_membership(
        &self,
        space: &str,
        id: &str,
    ) -> Result<LiveSpaceMembership, ContentfulError> {
        let req = request::space_membership(space, id);
        let m: wire::SpaceMembership = self.get_json(&req).await?;
        m.into_live(Some(space)).map_err(|e| invalid(&req, e))
    }

    /// Sends a create (POST) built by [`request`] and returns the id of what it created: the
    /// organization membership for an invitation, the object's `sys.id` otherwise.
    pub(crate) async fn send_create(&self, req: &Request) -> Result<String, ContentfulError> {
        let o: wire::Invitation = self.get_json(req).await?;
        if req.route == request::INVITE_ROUTE {
            return o
                .sys
                .organization_membership
                .map(|l| l.sys.id)
                .ok_or_else(|| {
                    invalid(
                        req,
                        "the invitation has no organizationMembership link".to_string(),
                    )
                });
        }
        Ok(o.sys.id)
    }

    /// Sends a versioned update (PUT) built by [`request`] and returns the object's new `sys`.
    pub(crate) async fn send_update(&self, req: &Request) -> Result<ObjectMeta, ContentfulError> {
        let o: wire::AnyObject = self.get_json(req).await?;
        Ok(o.sys.meta())
    }

    /// Sends a DELETE built by [`request`]; a retry that finds the object gone succeeds.
    pub(crate) async fn send_delete(&self, req: &Request) -> Result<(), ContentfulError> {
        self.execute(req, true).await.map(|_| ())
    }

    async fn write(&self, req: Request) -> Result<ObjectMeta, ContentfulError> {
        let o: wire::AnyObject = self.get_json(&req).await?;
        Ok(o.sys.meta())
    }

    async fn delete(&self, req: Request) -> Result<(), ContentfulError> {
        self.execute(&req, true).await.map(|_| ())
    }

    /// Invites `email` to the organization with `role`, creating a pending membership.
    pub async fn invite(
        &self,
        org: &str,
        email: &Email,
        role: OrgRole,
        first: Option<&str>,
        last: Option<&str>,
    ) -> Result<Invited, ContentfulError> {
        let req = request::invite(org, email, role, first, last);
        let inv: wire::Invitation = self.get_json(&req).await?;
        let org_membership_id = inv
            .sys
            .organization_membership
            .map(|l| l.sys.id)
            .ok_or_else(|| {
                invalid(
                    &req,
                    "the invitation has no organizationMembership link".to_string(),
                )
            })?;
        Ok(Invited {
            invitation_id: inv.sys.id,
            org_membership_id,
        })
    }

    /// Changes a member's organization role.
    pub async fn update_org_membership(
        &self,
        org: &str,
        id: &str,
        version: u64,
        role: OrgRole,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::update_org_membership(org, id, version, role))
            .await
    }

    /// Removes a member from the organization (also cancels a pending invitation).
    pub async fn delete_org_membership(&self, org: &str, id: &str) -> Result<(), ContentfulError> {
        self.delete(request::delete_org_membership(org, id)).await
    }

    /// Creates a team.
    pub async fn create_team(
        &self,
        org: &str,
        name: &str,
        description: &str,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::create_team(org, name, description))
            .await
    }

    /// Renames a team or changes its description.
    pub async fn update_team(
        &self,
        org: &str,
        id: &str,
        version: u64,
        name: &str,
        description: &str,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::update_team(org, id, version, name, description))
            .await
    }

    /// Deletes a team (Contentful also removes its memberships).
    pub async fn delete_team(&self, org: &str, id: &str) -> Result<(), ContentfulError> {
        self.delete(request::delete_team(org, id)).await
    }

    /// Adds an organization member to a team.
    pub async fn create_team_membership(
        &self,
        org: &str,
        team_id: &str,
        org_membership_id: &str,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::create_team_membership(
            org,
            team_id,
            org_membership_id,
        ))
        .await
    }

    /// Removes a member from a team.
    pub async fn delete_team_membership(
        &self,
        org: &str,
        team_id: &str,
        id: &str,
    ) -> Result<(), ContentfulError> {
        self.delete(request::delete_team_membership(org, team_id, id))
            .await
    }

    /// Gives a team access to a space.
    pub async fn create_team_space_membership(
        &self,
        space: &str,
        team_id: &str,
        admin: bool,
        role_ids: &[String],
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::create_team_space_membership(
            space, team_id, admin, role_ids,
        ))
        .await
    }

    /// Changes a team's access to a space.
    pub async fn update_team_space_membership(
        &self,
        space: &str,
        id: &str,
        version: u64,
        team_id: &str,
        admin: bool,
        role_ids: &[String],
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::update_team_space_membership(
            space, id, version, team_id, admin, role_ids,
        ))
        .await
    }

    /// Removes a team's access to a space.
    pub async fn delete_team_space_membership(
        &self,
        space: &str,
        id: &str,
    ) -> Result<(), ContentfulError> {
        self.delete(request::delete_team_space_membership(space, id))
            .await
    }

    /// Gives an organization member (by email) direct access to a space.
    pub async fn create_space_membership(
        &self,
        space: &str,
        email: &Email,
        admin: bool,
        role_ids: &[String],
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::create_space_membership(
            space, email, admin, role_ids,
        ))
        .await
    }

    /// Changes a user's direct access to a space.
    pub async fn update_space_membership(
        &self,
        space: &str,
        id: &str,
        version: u64,
        admin: bool,
        role_ids: &[String],
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::update_space_membership(
            space, id, version, admin, role_ids,
        ))
        .await
    }

    /// Removes a user's direct access to a space.
    pub async fn delete_space_membership(
        &self,
        space: &str,
        id: &str,
    ) -> Result<(), ContentfulError> {
        self.delete(request::delete_space_membership(space, id))
            .await
    }

    /// One role of a space, with its definition.
    pub async fn get_role(&self, space: &str, id: &str) -> Result<LiveRole, ContentfulError> {
        let req = request::role(space, id);
        let r: wire::Role = self.get_json(&req).await?;
        Ok(r.into_live())
    }

    /// Creates a custom role in a space: `name` and the whole definition (unknown fields
    /// verbatim). A name already used in the space is refused with a 422.
    pub async fn create_role(
        &self,
        space: &str,
        name: &str,
        definition: &RoleDefinition,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::create_role(space, name, definition))
            .await
    }

    /// Replaces a role's name and definition; `version` is the one read (a stale one is a 409,
    /// [`ContentfulError::is_version_mismatch`]).
    pub async fn update_role(
        &self,
        space: &str,
        id: &str,
        version: u64,
        name: &str,
        definition: &RoleDefinition,
    ) -> Result<ObjectMeta, ContentfulError> {
        self.write(request::update_role(space, id, version, name, definition))
            .await
    }

    /// Deletes a role at the version read.
    pub async fn delete_role(
        &self,
        space: &str,
        id: &str,
        version: u64,
    ) -> Result<(), ContentfulError> {
        self.delete(request::delete_role(space, id, version)).await
    }
}
