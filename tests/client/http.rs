//! The HTTP client against a tiny scripted server: headers it sends, which failures it retries
//! (and which it must not), how errors read, and that the token never shows up in errors or logs.
//! The scripted server answers exactly what a test needs (a given status, header or body), which
//! the full sandbox is not meant to do; the organization-level reads run against the sandbox.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use contentful_access::contentful::{Client, ClientConfig, ContentfulError};
use contentful_access::model::{Email, OrgRole};
use secrecy::SecretString;

use crate::util;

const TOKEN: &str = "CFPAT-very-secret-token-value-123";

/// One request the scripted server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: String,
}

type Responder = dyn Fn(usize, &Seen) -> Response + Send + Sync;

struct Scripted {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    /// Serves `respond(n, request)` for the n-th request (0-based).
    async fn start(respond: impl Fn(usize, &Seen) -> Response + Send + Sync + 'static) -> Self {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let counter = Arc::new(AtomicUsize::new(0));
        let seen2 = seen.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let seen = seen2.clone();
                let respond = respond.clone();
                let counter = counter.clone();
                async move {
                    let s = Seen {
                        method,
                        uri: uri.to_string(),
                        headers,
                        body: String::from_utf8_lossy(&body).to_string(),
                    };
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    seen.lock().unwrap().push(s.clone());
                    respond(n, &s)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Scripted {
            base_url: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn json(status: u16, body: &str) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap(),
        [(
            "content-type",
            "application/vnd.contentful.management.v1+json",
        )],
        body.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert("x-contentful-request-id", "hdr-req-id".parse().unwrap());
    r
}

fn error_doc(status: u16, id: &str, request_id: &str) -> Response {
    json(
        status,
        &format!(
            r#"{{"sys":{{"type":"Error","id":"{id}"}},"message":"failed: {id}","requestId":"{request_id}"}}"#
        ),
    )
}

const SM: &str = r#"{"admin":false,"roles":[{"sys":{"type":"Link","linkType":"Role","id":"r1"}}],
  "sys":{"type":"SpaceMembership","id":"sm1","version":5,
         "space":{"sys":{"type":"Link","linkType":"Space","id":"sp"}},
         "user":{"sys":{"type":"Link","linkType":"User","id":"u1"}}}}"#;

fn client(base_url: &str) -> Client {
    let mut cfg = ClientConfig::new(base_url, SecretString::from(TOKEN)).unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(1);
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn sends_token_content_type_user_agent_and_version_headers() {
    let server = Scripted::start(|_, _| json(200, SM)).await;
    let c = client(&server.base_url);
    c.update_space_membership("sp", "sm1", 4, false, &["r1".to_string()])
        .await
        .unwrap();
    c.create_team_space_membership("sp", "team7", true, &[])
        .await
        .unwrap();
    let seen = server.seen();
    let put = &seen[0];
    assert_eq!(put.method, Method::PUT);
    assert_eq!(put.uri, "/spaces/sp/space_memberships/sm1");
    assert_eq!(
        put.headers["authorization"].to_str().unwrap(),
        format!("Bearer {TOKEN}")
    );
    assert_eq!(
        put.headers["content-type"],
        "application/vnd.contentful.management.v1+json"
    );
    assert!(
        put.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("contentful-access/")
    );
    assert_eq!(put.headers["x-contentful-version"], "4");
    let body: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(body["roles"][0]["sys"]["id"], "r1");
    let post = &seen[1];
    assert_eq!(post.headers["x-contentful-team"], "team7");
    assert!(post.headers.get("x-contentful-version").is_none());
}

#[tokio::test]
async fn write_returns_the_new_version() {
    let server = Scripted::start(|_, _| json(200, SM)).await;
    let meta = client(&server.base_url)
        .update_space_membership("sp", "sm1", 4, false, &["r1".to_string()])
        .await
        .unwrap();
    assert_eq!(meta.id, "sm1");
    assert_eq!(meta.version, 5);
}

#[tokio::test]
async fn version_conflict_reads_with_method_path_id_and_request_id_never_the_token() {
    let server = Scripted::start(|_, _| {
        json(
            409,
            r#"{"sys":{"type":"Error","id":"VersionMismatch"},"requestId":"abc123"}"#,
        )
    })
    .await;
    let err = client(&server.base_url)
        .update_space_membership("x", "y", 1, true, &[])
        .await
        .unwrap_err();
    assert!(err.is_version_mismatch());
    assert_eq!(
        err.to_string(),
        "PUT /spaces/x/space_memberships/y: 409 VersionMismatch (requestId abc123)"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
    // A conflict is not retried: the caller must re-read.
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn get_is_retried_through_server_errors_and_rate_limits() {
    let server = Scripted::start(|n, _| match n {
        0 => error_doc(500, "ServerError", "r0"),
        1 => {
            let mut r = error_doc(429, "RateLimitExceeded", "r1");
            r.headers_mut()
                .insert("X-Contentful-RateLimit-Reset", "0".parse().unwrap());
            r
        }
        2 => error_doc(503, "ServiceUnavailable", "r2"),
        _ => json(200, SM),
    })
    .await;
    let c = client(&server.base_url);
    let m = c.get_space_membership("sp", "sm1").await.unwrap();
    assert_eq!(m.user_id, "u1");
    let stats = c.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.retries, 3);
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.server_errors, 2);
    assert_eq!(
        stats.by_route["GET /spaces/{space}/space_memberships/{id}"],
        4
    );
}

#[tokio::test]
async fn retries_stop_after_five_attempts_with_the_last_error_and_its_request_id() {
    let server = Scripted::start(|n, _| error_doc(502, "Hibernated", &format!("req-{n}"))).await;
    let err = client(&server.base_url)
        .get_team("org", "t1")
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 5);
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.request_id(), Some("req-4"));
    assert_eq!(
        err.to_string(),
        "GET /organizations/org/teams/t1: 502 Hibernated: failed: Hibernated (requestId req-4)"
    );
}

#[tokio::test]
async fn post_is_not_retried_after_a_server_error_but_is_after_429_and_503() {
    let server = Scripted::start(|_, _| error_doc(500, "ServerError", "r")).await;
    let err = client(&server.base_url)
        .create_team("org", "Editors", "")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        server.seen().len(),
        1,
        "a POST that may have been processed"
    );

    let server = Scripted::start(|n, _| match n {
        0 => error_doc(429, "RateLimitExceeded", "a"),
        1 => error_doc(503, "ServiceUnavailable", "b"),
        _ => json(
            201,
            r#"{"name":"Editors","description":"","sys":{"type":"Team","id":"t9","version":0}}"#,
        ),
    })
    .await;
    let meta = client(&server.base_url)
        .create_team("org", "Editors", "")
        .await
        .unwrap();
    assert_eq!(meta.id, "t9");
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_retried_delete_that_finds_the_object_gone_succeeded() {
    let server = Scripted::start(|n, _| match n {
        0 => error_doc(502, "BadGateway", "a"),
        _ => error_doc(404, "NotFound", "b"),
    })
    .await;
    client(&server.base_url)
        .delete_space_membership("sp", "sm1")
        .await
        .unwrap();
    // Without a retry, a 404 is an error the caller sees.
    let server = Scripted::start(|_, _| error_doc(404, "NotFound", "c")).await;
    let err = client(&server.base_url)
        .delete_space_membership("sp", "sm1")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn non_contentful_error_bodies_are_reported_as_unexpected_status() {
    let server = Scripted::start(|_, _| {
        (StatusCode::FORBIDDEN, "<html>proxy says no</html>").into_response()
    })
    .await;
    let err = client(&server.base_url).me().await.unwrap_err();
    assert!(matches!(err, ContentfulError::UnexpectedStatus { .. }));
    assert_eq!(
        err.to_string(),
        "GET /users/me: unexpected HTTP status 403: <html>proxy says no</html>"
    );
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_post_and_reported_without_the_token() {
    // A port nobody listens on: the request provably never reached a server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(&format!("http://{addr}"));
    let err = c
        .invite("org", &Email::new("a@b.co"), OrgRole::Member, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ContentfulError::Transport { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "POST /organizations/org/invitations: could not connect"
    );
    // The operating system's reason is kept in the source chain (printed by `{:#}`).
    let mut chain = String::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&err);
    while let Some(c) = cause {
        chain.push_str(&format!("{c}; "));
        cause = c.source();
    }
    assert!(chain.to_lowercase().contains("refused"), "{chain}");
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    let stats = c.stats();
    assert_eq!(stats.requests, 5);
    assert_eq!(stats.dropped, 5);
}

#[tokio::test]
async fn a_post_whose_connection_drops_after_sending_is_not_retried() {
    // Accepts, reads the request, then closes without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let accepted2 = accepted.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut sock, _)) = listener.accept().await {
            accepted2.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    let c = client(&format!("http://{addr}"));
    let err = c.create_team("org", "T", "").await.unwrap_err();
    assert!(matches!(err, ContentfulError::Transport { .. }), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // A GET over the same kind of failure is retried up to the limit.
    let err = c.get_team("org", "t").await.unwrap_err();
    assert!(matches!(err, ContentfulError::Transport { .. }), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn pacing_drops_to_the_rate_the_server_announces() {
    let server = Scripted::start(|_, _| {
        let mut r = json(200, SM);
        r.headers_mut()
            .insert("X-Contentful-RateLimit-Second-Limit", "5".parse().unwrap());
        r
    })
    .await;
    let c = client(&server.base_url);
    let before = c.pacing_gap().await;
    c.get_space_membership("sp", "sm1").await.unwrap();
    // After the first answer the client paces at 5/s with a 5 % margin: 210 ms between request
    // starts (checked on the pacer's decision, not by waiting for it).
    let gap = c.pacing_gap().await;
    assert!(gap > before, "{before:?} -> {gap:?}");
    assert!(
        gap.abs_diff(Duration::from_millis(210)) < Duration::from_micros(1),
        "{gap:?}"
    );
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn debug_log_names_each_request_and_never_the_token() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Scripted::start(|n, _| match n {
        0 => error_doc(429, "RateLimitExceeded", "x"),
        1 => json(
            200,
            r#"{"email":"me@example.com","sys":{"type":"User","id":"me1"}}"#,
        ),
        _ => error_doc(401, "AccessTokenInvalid", "y"),
    })
    .await;
    let c = client(&server.base_url);
    // Other tests on other threads may register the client's log callsites while no subscriber
    // is listening; recompute their interest now that this thread has one.
    tracing::callsite::rebuild_interest_cache();
    let me = c.me().await.unwrap();
    assert_eq!(me.id, "me1");
    let err = c.me().await.unwrap_err();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("/users/me"), "{log}");
    assert!(log.contains("status=429"), "{log}");
    assert!(log.contains("status=200"), "{log}");
    assert!(log.contains("rate limited"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains("very-secret"), "{log}");
    assert!(!format!("{err} {err:?} {c:?}").contains(TOKEN));
}

/// Replays a response recorded from the real API (status, headers and body).
fn recorded_response(file: &str, index: usize) -> Response {
    // Copied into the project with its provenance (tests/recorded/PROVENANCE.md).
    let text = std::fs::read_to_string(util::root().join("tests/recorded").join(file)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &doc[index]["response"];
    let status: u16 = r["status"]["code"].as_str().unwrap().parse().unwrap();
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        r["body"].as_str().unwrap_or("").to_string(),
    )
        .into_response();
    for (k, v) in r["headers"].as_object().unwrap() {
        if let (Some(v), true) = (
            v.as_str(),
            k.to_ascii_lowercase().starts_with("x-contentful"),
        ) {
            resp.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
    }
    resp
}

#[tokio::test]
async fn a_recorded_real_version_mismatch_maps_to_a_version_mismatch_error() {
    let server = Scripted::start(|_, _| {
        recorded_response(
            "contentful-management.php/tests/Recordings/e2e_error_version_mismatch.json",
            1,
        )
    })
    .await;
    let err = client(&server.base_url)
        .update_space_membership("pmgjoasidv3w", "m1", 23, true, &[])
        .await
        .unwrap_err();
    assert!(err.is_version_mismatch());
    assert_eq!(
        err.to_string(),
        "PUT /spaces/pmgjoasidv3w/space_memberships/m1: 409 VersionMismatch \
         (requestId c13d104968f4dbdcfa36ec59425092a5)"
    );
}

#[tokio::test]
async fn a_collection_without_total_is_read_page_by_page_until_a_short_page() {
    let server = Scripted::start(|_, seen| {
        let skip: usize = seen
            .uri
            .split("skip=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let n = match skip {
            0 | 100 => 100,
            200 => 30,
            _ => 0,
        };
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":"t","sys":{{"id":"pat{}","user":{{"sys":{{"id":"u"}}}}}}}}"#,
                    skip + i
                )
            })
            .collect();
        json(
            200,
            &format!(
                r#"{{"sys":{{"type":"Array"}},"items":[{}]}}"#,
                items.join(",")
            ),
        )
    })
    .await;
    let progress: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let progress2 = progress.clone();
    let mut cfg = ClientConfig::new(&server.base_url, SecretString::from(TOKEN)).unwrap();
    cfg.max_rps = 1000;
    cfg.progress = Some(Arc::new(move |p| {
        progress2.lock().unwrap().push((p.done, p.total))
    }));
    let tokens = Client::new(cfg)
        .unwrap()
        .read_access_tokens("org")
        .await
        .unwrap();
    assert_eq!(tokens.len(), 230);
    assert_eq!(server.seen().len(), 3);
    assert_eq!(*progress.lock().unwrap(), vec![(1, 2), (2, 3), (3, 3)]);
}

/// The real API may answer `application/json` (with a charset) instead of the vnd type, with
/// fields the client does not know: both read as usual.
#[tokio::test]
async fn plain_json_content_type_and_unknown_fields_are_read() {
    let server = Scripted::start(|_, _| {
        let mut r = (
            StatusCode::OK,
            [("content-type", "application/json; charset=utf-8")],
            r#"{"firstName":"Jane","email":"Jane@Acme.example","cookieConsentData":"{}",
                "somethingNew":{"nested":[1]},
                "sys":{"type":"User","id":"u1","version":3,"newSys":true}}"#,
        )
            .into_response();
        r.headers_mut()
            .insert("x-contentful-request-id", "r1".parse().unwrap());
        r
    })
    .await;
    let me = client(&server.base_url).me().await.unwrap();
    assert_eq!(me.id, "u1");
    assert_eq!(me.email, Email::new("jane@acme.example"));
    let seen = server.seen();
    assert!(
        seen[0].headers["x-contentful-user-agent"]
            .to_str()
            .unwrap()
            .starts_with("app contentful-access/"),
        "{:?}",
        seen[0].headers
    );
    assert!(
        seen[0].headers["accept-encoding"]
            .to_str()
            .unwrap()
            .contains("gzip")
    );
}
