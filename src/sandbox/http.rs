//! The sandbox's thin HTTP layer: an axum server on 127.0.0.1 that turns each request into an
//! [`ApiRequest`] for the pure [`World`], and adds what only a network server has: the
//! per-second rate limit and its headers, artificial latency, injected failures (429/5xx and
//! dropped connections), the request journal and `GET /_sandbox/journal`.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::seed::{Seed, SeedError};
use super::world::{ApiError, ApiRequest, ObjectKind, World, match_route};

/// What can go wrong starting the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The seed is unusable.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The seed has no API token to act with.
    #[error("the seed has no apiTokens entry, so no request could be authenticated")]
    NoToken,
    /// Binding or serving failed.
    #[error("cannot serve on 127.0.0.1:{port}: {source}")]
    Io {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: io::Error,
    },
}

/// A kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 `RateLimitExceeded` with `X-Contentful-RateLimit-Reset: 1`.
    Status429,
    /// 500 `ServerError`.
    Status500,
    /// 502 `BadGateway`.
    Status502,
    /// 503 `ServiceUnavailable`.
    Status503,
    /// The connection is closed without any response (nothing is processed).
    DropConnection,
    /// The request is processed (a write lands in the world), then the connection is closed
    /// without the response: a lost answer.
    ProcessThenDrop,
    /// The request is processed, then answered with 502 `BadGateway`, as a proxy that lost the
    /// origin's answer would.
    ProcessThen502,
}

impl FaultKind {
    /// Every kind, in the order of [`FaultKind::name`]s.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Status429,
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::DropConnection,
        FaultKind::ProcessThenDrop,
        FaultKind::ProcessThen502,
    ];

    /// The kind's name on the command line (`--fault-kinds`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Status429 => "429",
            FaultKind::Status500 => "500",
            FaultKind::Status502 => "502",
            FaultKind::Status503 => "503",
            FaultKind::DropConnection => "drop",
            FaultKind::ProcessThenDrop => "process-then-drop",
            FaultKind::ProcessThen502 => "process-then-502",
        }
    }

    /// True for the kinds that process the request before failing it.
    pub fn processes(self) -> bool {
        matches!(self, FaultKind::ProcessThenDrop | FaultKind::ProcessThen502)
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown fault kind {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Which failures to inject, and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Fraction of requests (0..=1) that fail; 0 disables injection.
    pub rate: f64,
    /// The failures to pick from (uniformly); empty disables injection.
    pub kinds: Vec<FaultKind>,
    /// Seed of the generator deciding which requests fail (deterministic per seed).
    pub rng_seed: u64,
    /// Only requests with these methods fail (empty: all methods).
    pub methods: Vec<String>,
    /// At most this many requests fail, then injection stops (`None`: no limit). Lets a test
    /// lose exactly one answer.
    pub max_faults: Option<usize>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate: 0.0,
            kinds: vec![],
            rng_seed: 7,
            methods: vec![],
            max_faults: None,
        }
    }
}

impl FaultConfig {
    /// No injected failures.
    pub fn none() -> Self {
        FaultConfig::default()
    }

    /// Every request in `kinds` at `rate`.
    pub fn new(rate: f64, kinds: Vec<FaultKind>) -> Self {
        FaultConfig {
            rate,
            kinds,
            ..FaultConfig::default()
        }
    }
}

/// How the sandbox serves.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Requests per second before 429; 0 disables the limit.
    pub rate_limit_per_sec: u32,
    /// Delay added to every request.
    pub latency: Duration,
    /// Injected failures.
    pub faults: FaultConfig,
    /// An extra token to accept, acting as the admin (`--token`).
    pub token: Option<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            rate_limit_per_sec: 10,
            latency: Duration::ZERO,
            faults: FaultConfig::default(),
            token: None,
        }
    }
}

impl SandboxOptions {
    /// The defaults without a rate limit: for a rehearsal, benchmarks and tests that count
    /// requests rather than pace them.
    pub fn unlimited() -> Self {
        SandboxOptions {
            rate_limit_per_sec: 0,
            ..SandboxOptions::default()
        }
    }
}

/// One handled request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// HTTP method.
    pub method: String,
    /// Templated route, e.g. `/organizations/:org/teams` (`(unmatched)` for unknown paths).
    pub route: String,
    /// The concrete path.
    pub path: String,
    /// Status sent (0 for a dropped connection).
    pub status: u16,
    /// Milliseconds since the server started.
    pub at_ms: u64,
}

/// Journal counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JournalCounts {
    /// All journaled requests.
    pub total: usize,
    /// Per `"METHOD route"`.
    pub by_route: BTreeMap<String, usize>,
    /// Per status.
    pub by_status: BTreeMap<u16, usize>,
    /// Per `"METHOD route"`, then per status.
    pub by_route_status: BTreeMap<String, BTreeMap<u16, usize>>,
}

impl JournalCounts {
    /// Counts of a journal.
    pub fn of(entries: &[JournalEntry]) -> Self {
        let mut c = JournalCounts {
            total: entries.len(),
            ..JournalCounts::default()
        };
        for e in entries {
            let key = format!("{} {}", e.method, e.route);
            *c.by_route.entry(key.clone()).or_default() += 1;
            *c.by_status.entry(e.status).or_default() += 1;
            *c.by_route_status
                .entry(key)
                .or_default()
                .entry(e.status)
                .or_default() += 1;
        }
        c
    }

    /// Requests to `METHOD route`, e.g. `("GET", "/organizations/:org/teams")`.
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.by_route
            .get(&format!("{method} {route}"))
            .copied()
            .unwrap_or(0)
    }
}

struct RateWindow {
    second: u64,
    used: u32,
}

struct Shared {
    world: Mutex<World>,
    journal: Mutex<Vec<JournalEntry>>,
    faults: Mutex<(FaultConfig, StdRng, usize)>,
    rate: Mutex<RateWindow>,
    rate_limit: u32,
    latency: Duration,
    /// tokio's clock, so tests under paused time move the rate window and the journal's times.
    started: tokio::time::Instant,
    /// Every distinct `X-Contentful-User-Agent` seen, in order of first sight.
    user_agents: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the data half-written in a way that matters
    // to a test server; keep serving.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox.
pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    admin_token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Loads `seed` and serves it on 127.0.0.1 until [`Server::shutdown`] (or drop).
    pub async fn start(seed: Seed, opts: SandboxOptions) -> Result<Server, SandboxError> {
        let mut world = World::from_seed(seed)?;
        if let Some(token) = &opts.token {
            let admin = world
                .admin_token()
                .and_then(|t| world.token_user(&t).map(str::to_string))
                .ok_or(SandboxError::NoToken)?;
            world.add_api_token(token, &admin);
        }
        let admin_token = world.admin_token().ok_or(SandboxError::NoToken)?;
        let listener = TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|source| SandboxError::Io {
                port: opts.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Io {
            port: opts.port,
            source,
        })?;
        let rng = StdRng::seed_from_u64(opts.faults.rng_seed);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            journal: Mutex::new(Vec::new()),
            faults: Mutex::new((opts.faults, rng, 0)),
            rate: Mutex::new(RateWindow { second: 0, used: 0 }),
            rate_limit: opts.rate_limit_per_sec,
            latency: opts.latency,
            started: tokio::time::Instant::now(),
            user_agents: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/_sandbox/journal", axum::routing::get(journal_handler))
            .fallback(api_handler)
            .with_state(shared.clone())
            // gzip for clients that send `Accept-Encoding: gzip`, as the SDKs do.
            .layer(tower_http::compression::CompressionLayer::new().gzip(true));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = KillableListener(listener);
        let task = tokio::spawn(async move {
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<KillSwitch>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::error!(%err, "sandbox server stopped");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Server {
            shared,
            addr,
            admin_token,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token of the seed's admin ("me").
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// Every journaled request so far.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.shared.journal).clone()
    }

    /// Journal counts per route and status.
    pub fn journal_counts(&self) -> JournalCounts {
        JournalCounts::of(&lock(&self.shared.journal))
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        lock(&self.shared.journal).clear();
    }

    /// Every distinct `X-Contentful-User-Agent` header received so far, in order of first sight.
    pub fn user_agents(&self) -> Vec<String> {
        lock(&self.shared.user_agents).clone()
    }

    /// Replaces the fault configuration (and reseeds its generator).
    pub fn set_faults(&self, faults: FaultConfig) {
        let rng = StdRng::seed_from_u64(faults.rng_seed);
        *lock(&self.shared.faults) = (faults, rng, 0);
    }

    /// Runs `f` on the world (inspect or change state in tests).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.shared.world))
    }

    /// "Another admin edits this object now": right after the next GET that returns the object,
    /// its version is bumped by another admin, so a write with the version just read gets 409.
    pub fn bump_version_on_next_read(&self, kind: ObjectKind, id: &str) {
        lock(&self.shared.world).bump_version_on_next_read(kind, id);
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Idle keep-alive connections close at once; give busy ones a moment.
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("sandbox did not stop within 5s");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn journal_handler(State(shared): State<Arc<Shared>>) -> Response {
    let entries = lock(&shared.journal).clone();
    let counts = JournalCounts::of(&entries);
    axum::Json(serde_json::json!({"entries": entries, "counts": counts})).into_response()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The query string's pairs, decoded as `application/x-www-form-urlencoded` (`+` is a space,
/// malformed `%` escapes stay as they are).
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    let Some(q) = uri.query() else {
        return vec![];
    };
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn json_response(status: u16, body: Option<serde_json::Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(b) => {
            let mut r = (status, b.to_string()).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/vnd.contentful.management.v1+json"),
            );
            r
        }
        None => {
            let mut r = (status, Body::empty()).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
    }
}

fn set(r: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        r.headers_mut().insert(name, v);
    }
}

fn bad_gateway() -> ApiError {
    ApiError {
        status: 502,
        id: "BadGateway",
        message: "Bad gateway (injected by the sandbox).".into(),
        details: None,
    }
}

#[derive(Clone, Copy)]
enum Gate {
    Pass(Option<u32>),
    Limited,
    Fault(FaultKind),
}

impl Shared {
    fn journal(&self, method: &str, route: &str, path: &str, status: u16) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        lock(&self.journal).push(JournalEntry {
            method: method.to_string(),
            route: route.to_string(),
            path: path.to_string(),
            status,
            at_ms,
        });
    }

    fn gate(&self, method: &str) -> Gate {
        {
            let mut f = lock(&self.faults);
            let (cfg, rng, injected) = &mut *f;
            let applies = cfg.methods.is_empty() || cfg.methods.iter().any(|m| m == method);
            let budget = cfg.max_faults.is_none_or(|max| *injected < max);
            if applies
                && budget
                && cfg.rate > 0.0
                && !cfg.kinds.is_empty()
                && rng.random::<f64>() < cfg.rate
            {
                let kind = cfg.kinds[rng.random_range(0..cfg.kinds.len())];
                *injected += 1;
                return Gate::Fault(kind);
            }
        }
        if self.rate_limit == 0 {
            return Gate::Pass(None);
        }
        let second = self.started.elapsed().as_secs();
        let mut w = lock(&self.rate);
        if w.second != second {
            w.second = second;
            w.used = 0;
        }
        if w.used >= self.rate_limit {
            return Gate::Limited;
        }
        w.used += 1;
        Gate::Pass(Some(self.rate_limit - w.used))
    }
}

async fn api_handler(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(kill): ConnectInfo<KillSwitch>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(ua) = headers
        .get("x-contentful-user-agent")
        .and_then(|v| v.to_str().ok())
    {
        let mut seen = lock(&shared.user_agents);
        if !seen.iter().any(|s| s == ua) {
            seen.push(ua.to_string());
        }
    }
    let path = uri.path().to_string();
    let route = match_route(method.as_str(), &path)
        .map(|(r, _)| r)
        .unwrap_or("(unmatched)");
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let mut gate = shared.gate(method.as_str());
    let limit = shared.rate_limit;
    // A processing fault lets the request through to the world and breaks only its answer.
    let mut after = None;
    if let Gate::Fault(kind) = gate
        && kind.processes()
    {
        after = Some(kind);
        gate = Gate::Pass(None);
    }
    let mut response = match gate {
        Gate::Fault(FaultKind::DropConnection) => {
            shared.journal(method.as_str(), route, &path, 0);
            kill.0.store(true, Ordering::SeqCst);
            return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
        }
        Gate::Fault(kind) => {
            let request_id = lock(&shared.world).next_request_id();
            let err = match kind {
                FaultKind::Status429 => ApiError::rate_limited(),
                FaultKind::Status500 => ApiError {
                    status: 500,
                    id: "ServerError",
                    message: "Internal server error (injected by the sandbox).".into(),
                    details: None,
                },
                FaultKind::Status502 => bad_gateway(),
                _ => ApiError {
                    status: 503,
                    id: "ServiceUnavailable",
                    message: "Service unavailable (injected by the sandbox).".into(),
                    details: None,
                },
            };
            let mut r = json_response(err.status, Some(err.body(&request_id)));
            set(&mut r, "x-contentful-request-id", &request_id);
            if kind == FaultKind::Status429 {
                set(&mut r, "x-contentful-ratelimit-reset", 1);
                // An unlimited sandbox has no per-second limit to announce: a made-up "1" would
                // make a client that honours the header slow down to one request per second.
                if limit > 0 {
                    set(&mut r, "x-contentful-ratelimit-second-limit", limit);
                    set(&mut r, "x-contentful-ratelimit-second-remaining", 0);
                }
            }
            r
        }
        Gate::Limited => {
            let request_id = lock(&shared.world).next_request_id();
            let err = ApiError::rate_limited();
            let mut r = json_response(429, Some(err.body(&request_id)));
            set(&mut r, "x-contentful-request-id", &request_id);
            set(&mut r, "x-contentful-ratelimit-reset", 1);
            set(&mut r, "x-contentful-ratelimit-second-limit", limit);
            set(&mut r, "x-contentful-ratelimit-second-remaining", 0);
            r
        }
        Gate::Pass(remaining) => {
            let token = header(&headers, "authorization")
                .and_then(|a| {
                    a.strip_prefix("Bearer ")
                        .or_else(|| a.strip_prefix("bearer "))
                        .map(|t| t.trim().to_string())
                })
                .or_else(|| {
                    query_pairs(&uri)
                        .into_iter()
                        .find(|(k, _)| k == "access_token")
                        .map(|(_, v)| v)
                });
            let req = ApiRequest {
                method: method.as_str().to_string(),
                path: path.clone(),
                query: query_pairs(&uri)
                    .into_iter()
                    .filter(|(k, _)| k != "access_token")
                    .collect(),
                token,
                version: header(&headers, "x-contentful-version"),
                team: header(&headers, "x-contentful-team"),
                organization: header(&headers, "x-contentful-organization"),
                body: body.to_vec(),
            };
            let res = lock(&shared.world).handle(&req, Utc::now());
            let mut r = json_response(res.status, res.body);
            set(&mut r, "x-contentful-request-id", &res.request_id);
            set(&mut r, "x-contentful-route", route);
            if let Some(loc) = res.location {
                set(&mut r, "location", loc);
            }
            if let Some(remaining) = remaining {
                set(&mut r, "x-contentful-ratelimit-second-limit", limit);
                set(&mut r, "x-contentful-ratelimit-second-remaining", remaining);
            }
            r
        }
    };
    match after {
        Some(FaultKind::ProcessThenDrop) => {
            shared.journal(method.as_str(), route, &path, 0);
            kill.0.store(true, Ordering::SeqCst);
            return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
        }
        Some(_) => {
            let request_id = lock(&shared.world).next_request_id();
            let err = bad_gateway();
            response = json_response(err.status, Some(err.body(&request_id)));
            set(&mut response, "x-contentful-request-id", &request_id);
        }
        None => {}
    }
    shared.journal(method.as_str(), route, &path, response.status().as_u16());
    if response.headers().get("x-contentful-request-id").is_none() {
        set(&mut response, "x-contentful-request-id", "sandbox");
    }
    response
}

/// Per-connection switch: once set, the connection's socket fails every read and write, so
/// hyper drops it without sending the response being written.
#[derive(Clone, Debug)]
struct KillSwitch(Arc<AtomicBool>);

impl axum::extract::connect_info::Connected<IncomingStream<'_, KillableListener>> for KillSwitch {
    fn connect_info(target: IncomingStream<'_, KillableListener>) -> Self {
        KillSwitch(target.io().killed.clone())
    }
}

struct KillableListener(TcpListener);

struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    return (
                        KillableStream {
                            inner,
                            killed: Arc::new(AtomicBool::new(false)),
                        },
                        addr,
                    );
                }
                Err(err) => {
                    tracing::warn!(%err, "sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

fn killed_err() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection dropped by the sandbox",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_err()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_percent_decoded() {
        let uri: Uri = "/x?sys.user.sys.id%5Bin%5D=a%2Cb&query=jane+doe&order=-role"
            .parse()
            .unwrap();
        assert_eq!(
            query_pairs(&uri),
            vec![
                ("sys.user.sys.id[in]".to_string(), "a,b".to_string()),
                ("query".to_string(), "jane doe".to_string()),
                ("order".to_string(), "-role".to_string()),
            ]
        );
        let malformed: Uri = "/x?a=100%&b=%4&&c".parse().unwrap();
        assert_eq!(
            query_pairs(&malformed),
            vec![
                ("a".to_string(), "100%".to_string()),
                ("b".to_string(), "%4".to_string()),
                ("c".to_string(), String::new()),
            ]
        );
    }

    async fn injected_429_headers(rate_limit_per_sec: u32) -> HeaderMap {
        let server = Server::start(
            super::super::demo_seed(),
            SandboxOptions {
                rate_limit_per_sec,
                faults: FaultConfig::new(1.0, vec![FaultKind::Status429]),
                ..SandboxOptions::default()
            },
        )
        .await
        .unwrap();
        let resp = reqwest::Client::new()
            .get(format!("{}/users/me", server.base_url()))
            .bearer_auth(server.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 429);
        let headers = resp.headers().clone();
        server.shutdown().await;
        headers
    }

    #[tokio::test]
    async fn an_unlimited_sandbox_announces_no_per_second_limit_on_injected_429s() {
        let headers = injected_429_headers(0).await;
        assert_eq!(headers["x-contentful-ratelimit-reset"], "1");
        assert!(
            headers.get("x-contentful-ratelimit-second-limit").is_none(),
            "{headers:?}"
        );
    }

    #[tokio::test]
    async fn a_limited_sandbox_announces_its_real_limit_on_injected_429s() {
        let headers = injected_429_headers(10).await;
        assert_eq!(headers["x-contentful-ratelimit-second-limit"], "10");
        assert_eq!(headers["x-contentful-ratelimit-second-remaining"], "0");
    }

    #[test]
    fn journal_counts_group_by_route_and_status() {
        let e = |m: &str, r: &str, s| JournalEntry {
            method: m.into(),
            route: r.into(),
            path: r.into(),
            status: s,
            at_ms: 0,
        };
        let c = JournalCounts::of(&[
            e("GET", "/a", 200),
            e("GET", "/a", 429),
            e("PUT", "/a", 200),
        ]);
        assert_eq!(c.total, 3);
        assert_eq!(c.count("GET", "/a"), 2);
        assert_eq!(c.by_status[&200], 2);
        assert_eq!(c.by_route_status["GET /a"][&429], 1);
    }
}
