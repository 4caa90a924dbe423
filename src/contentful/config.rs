//! How to reach Contentful: base URL (checked: plain `http://` only to loopback), the management
//! token (held as a secret), pacing, concurrency and retry limits, and an optional progress hook.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::ContentfulError;
use super::record::ResponseObserver;

/// Contentful's data-residency regions, each with its own API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Region {
    /// `https://api.contentful.com` (the default).
    #[default]
    Us,
    /// `https://api.eu.contentful.com` (EU data residency).
    Eu,
}

/// Progress of a long read, reported after each page: `done` of `total` pages known so far
/// (`total` grows while the first pages reveal the collections' sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pages received.
    pub done: u64,
    /// Pages known to be needed so far.
    pub total: u64,
}

/// A callback the client calls with [`Progress`] while reading; the binary uses it to drive a
/// progress bar. It must be cheap and must not block.
pub type ProgressHook = Arc<dyn Fn(Progress) + Send + Sync>;

/// Everything [`super::Client::new`] needs.
#[derive(Clone)]
pub struct ClientConfig {
    /// API root without trailing slash, e.g. `https://api.contentful.com`.
    pub base_url: String,
    /// The management token. Never printed; sent as a sensitive `Authorization` header.
    pub token: SecretString,
    /// Requests per second before the server announces its limit (default 7); then the client
    /// follows `X-Contentful-RateLimit-Second-Limit` (up or down, 5% under it), never above
    /// [`ClientConfig::rps_ceiling`].
    pub max_rps: u32,
    /// Requests per second never exceeded, whatever the server announces (default none: follow
    /// the server). The binary sets it from an explicit `--max-rps`.
    pub rps_ceiling: Option<u32>,
    /// Requests in flight at most (default 6).
    pub concurrency: usize,
    /// Attempts per request including the first (default 5).
    pub max_attempts: u32,
    /// First retry delay of the exponential backoff (default 1 s; doubled per attempt, plus jitter).
    pub backoff_base: Duration,
    /// Longest `X-Contentful-RateLimit-Reset` the client waits out (default 60 s); a longer one
    /// (an hourly limit) fails the request instead of stalling the run.
    pub max_rate_limit_wait: Duration,
    /// Timeout of a single HTTP attempt (default 60 s).
    pub request_timeout: Duration,
    /// Called after each page of a collection read.
    pub progress: Option<ProgressHook>,
    /// Called with every response received (`doctor`'s inspection, `--record`).
    pub observers: Vec<Arc<dyn ResponseObserver>>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &"[REDACTED]")
            .field("max_rps", &self.max_rps)
            .field("rps_ceiling", &self.rps_ceiling)
            .field("concurrency", &self.concurrency)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("max_rate_limit_wait", &self.max_rate_limit_wait)
            .field("request_timeout", &self.request_timeout)
            .field("progress", &self.progress.as_ref().map(|_| "hook"))
            .field("observers", &self.observers.len())
            .finish()
    }
}

impl ClientConfig {
    /// A configuration with the defaults, after checking `base_url`: it must be an absolute
    /// `https://` URL, or `http://` to a literal loopback address (`127.0.0.0/8`, `[::1]`) or
    /// exactly `localhost` (not `*.localhost`), such as a local sandbox; no credentials, query or
    /// fragment. A trailing slash is removed. Errors show at most the URL's scheme, host and port.
    pub fn new(base_url: &str, token: SecretString) -> Result<Self, ContentfulError> {
        let base_url = check_base_url(base_url)?;
        Ok(ClientConfig {
            base_url,
            token,
            max_rps: 7,
            rps_ceiling: None,
            concurrency: 6,
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            max_rate_limit_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            progress: None,
            observers: Vec::new(),
        })
    }

    /// The API root of a region.
    pub fn region_base_url(region: Region) -> &'static str {
        match region {
            Region::Us => "https://api.contentful.com",
            Region::Eu => "https://api.eu.contentful.com",
        }
    }
}

/// Validates and normalises a base URL (see [`ClientConfig::new`]). Errors never repeat the URL
/// as given: its query, path or userinfo may hold a secret (a token pasted in the wrong place).
/// At most its scheme, host and port are shown.
fn check_base_url(raw: &str) -> Result<String, ContentfulError> {
    let trimmed = raw.trim();
    let url = Url::parse(trimmed).map_err(|e| {
        ContentfulError::Config(format!(
            "invalid base URL ({e}); expected something like https://api.contentful.com"
        ))
    })?;
    let origin = origin(&url);
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ContentfulError::Config(format!(
            "invalid base URL {origin}: it must not contain credentials; pass the token through \
             CONTENTFUL_MANAGEMENT_TOKEN or --token-file"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ContentfulError::Config(format!(
            "invalid base URL {origin}: it must not have a query string or fragment"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(ContentfulError::Config(format!(
                    "refusing plain http:// to {origin}: the token would travel unencrypted; \
                     use https://, or http:// only to a loopback address (localhost, 127.0.0.1, [::1])"
                )));
            }
        }
        other => {
            return Err(ContentfulError::Config(format!(
                "invalid base URL: scheme {other:?} is not supported (use https://)"
            )));
        }
    }
    if url.host().is_none() {
        return Err(ContentfulError::Config(
            "invalid base URL: it has no host".to_string(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `scheme://host[:port]` of `url`: what an error may show of it.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// True for a literal loopback address (`127.0.0.0/8`, `[::1]`) or exactly `localhost`. Other
/// names under `.localhost` are not: whether they resolve to this machine depends on the
/// resolver, and plain http to an address that resolves elsewhere would expose the token.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn token() -> SecretString {
        SecretString::from("CFPAT-secret-value")
    }

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for (raw, want) in [
            ("https://api.contentful.com", "https://api.contentful.com"),
            (
                "https://api.eu.contentful.com/",
                "https://api.eu.contentful.com",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:3000/", "http://localhost:3000"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("http://127.1.2.3", "http://127.1.2.3"),
        ] {
            let cfg = ClientConfig::new(raw, token()).unwrap();
            assert_eq!(cfg.base_url, want, "{raw}");
        }
    }

    #[test]
    fn http_to_other_hosts_and_odd_urls_are_refused() {
        for raw in [
            "http://api.contentful.com",
            "http://10.0.0.1:8080",
            "http://localhost.evil.com",
            "http://evil.localhost:8080",
            "http://api.localhost",
            "ftp://127.0.0.1",
            "api.contentful.com",
            "https://user:pw@api.contentful.com",
            "https://api.contentful.com/?x=1",
        ] {
            let err = ClientConfig::new(raw, token()).unwrap_err();
            assert!(matches!(err, ContentfulError::Config(_)), "{raw}: {err}");
        }
        let err = ClientConfig::new("http://api.contentful.com", token()).unwrap_err();
        assert!(err.to_string().contains("refusing plain http://"), "{err}");
    }

    #[test]
    fn errors_never_repeat_a_secret_in_the_query_path_or_userinfo() {
        for raw in [
            "https://api.contentful.com/?access_token=CFPAT-leak1",
            "http://api.contentful.com/CFPAT-leak2/",
            "https://CFPAT-leak3:x@api.contentful.com",
            "https://CFPAT-leak4@api.contentful.com",
            "http://evil.localhost/CFPAT-leak5?token=CFPAT-leak6",
            "ftp://api.contentful.com/CFPAT-leak7",
            "not a url CFPAT-leak8",
            "https://api.contentful.com/#CFPAT-leak9",
        ] {
            let err = ClientConfig::new(raw, token()).unwrap_err().to_string();
            assert!(!err.contains("CFPAT"), "{raw}: {err}");
            assert!(!err.contains("leak"), "{raw}: {err}");
        }
        let err = ClientConfig::new("http://evil.localhost:8080/x", token())
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://evil.localhost:8080"), "{err}");
    }

    #[test]
    fn regions_have_their_hosts() {
        assert_eq!(
            ClientConfig::region_base_url(Region::Us),
            "https://api.contentful.com"
        );
        assert_eq!(
            ClientConfig::region_base_url(Region::Eu),
            "https://api.eu.contentful.com"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let cfg = ClientConfig::new("https://api.contentful.com", token()).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("secret-value"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}
