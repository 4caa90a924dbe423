//! What the client sends and accepts beyond the basics, as Contentful's SDKs do (issue 19): the
//! `X-Contentful-User-Agent` header, gzip-compressed answers (the sandbox compresses like the real
//! API), and the personal-access-token admin view in the documented shape.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::sandbox::{Server, SyntheticSpec, demo_seed, synthetic};
use secrecy::SecretString;

fn client(server: &Server) -> Client {
    let mut cfg =
        ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token())).unwrap();
    cfg.max_rps = 1000;
    cfg.backoff_base = Duration::from_millis(5);
    Client::new(cfg).unwrap()
}

async fn start(seed: contentful_access::sandbox::Seed) -> Server {
    crate::util::unlimited_sandbox(seed).await
}

#[tokio::test]
async fn every_request_names_the_tool_platform_and_os_like_the_sdks() {
    let server = start(demo_seed()).await;
    client(&server).me().await.unwrap();
    let seen = server.user_agents();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let ua = &seen[0];
    assert!(
        ua.starts_with(&format!(
            "app contentful-access/{}; platform Rust/",
            env!("CARGO_PKG_VERSION")
        )),
        "{ua}"
    );
    assert!(ua.ends_with(';'), "{ua}");
    server.shutdown().await;
}

/// The sandbox answers gzip when asked (as Contentful does); the client asks, decodes, and
/// reads the same organization as a client that does not compress.
#[tokio::test]
async fn gzip_answers_are_asked_for_decoded_and_several_times_smaller() {
    let seed = synthetic(&SyntheticSpec::for_users(300));
    let org = seed.organization.id.clone();
    let server = start(seed).await;
    let path = format!(
        "{}/organizations/{org}/organization_memberships?limit=100&include=sys.user",
        server.base_url()
    );
    let raw = |gzip: bool| {
        let server_token = server.admin_token();
        let path = path.clone();
        async move {
            let http = reqwest::Client::builder().no_gzip().build().unwrap();
            let mut rb = http.get(&path).bearer_auth(server_token);
            if gzip {
                rb = rb.header("accept-encoding", "gzip");
            }
            let r = rb.send().await.unwrap();
            let encoding = r
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            (encoding, r.bytes().await.unwrap().len())
        }
    };
    let (plain_enc, plain) = raw(false).await;
    let (gz_enc, gz) = raw(true).await;
    assert_eq!(plain_enc, None);
    assert_eq!(gz_enc.as_deref(), Some("gzip"));
    assert!(
        gz * 4 < plain,
        "a page of 100 memberships with their users shrinks several times: {plain} -> {gz} bytes"
    );

    let live = client(&server).read_live_state(&org, &[]).await.unwrap();
    assert_eq!(live.org_memberships.len(), 300);
    server.shutdown().await;
}
