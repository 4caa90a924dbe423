//! The client follows no redirect: a 3xx from the API root is an error naming the request, and
//! the server it points to never sees a request (nor the token).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use contentful_access::contentful::{Client, ClientConfig};
use secrecy::SecretString;

const TOKEN: &str = "CFPAT-redirect-secret";

/// Serves `answer` for every request on 127.0.0.1 and counts the requests. Returns its URL.
async fn serve(
    hits: Arc<AtomicUsize>,
    answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> String {
    let app = axum::Router::new().fallback(move |_: HeaderMap| {
        let hits = hits.clone();
        let answer = answer.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            answer()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_the_request_and_is_not_followed() {
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let elsewhere = serve(elsewhere_hits.clone(), || StatusCode::OK.into_response()).await;
    let api_hits = Arc::new(AtomicUsize::new(0));
    let target = format!("{elsewhere}/steal");
    let api = serve(api_hits.clone(), move || {
        (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", target.clone())],
        )
            .into_response()
    })
    .await;
    let mut cfg = ClientConfig::new(&api, SecretString::from(TOKEN)).unwrap();
    cfg.backoff_base = std::time::Duration::from_millis(1);
    let client = Client::new(cfg).unwrap();
    let err = client.get_team("org1", "team1").await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("/organizations/org1/teams/team1"),
        "{message}"
    );
    assert!(message.contains("307"), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert!(api_hits.load(Ordering::SeqCst) >= 1);
}
