//! The one error type of the Contentful client. Every variant names the request (method and path,
//! never the host's credentials) so a failure in CI says exactly which call failed, with
//! Contentful's error id, message and `requestId` for a support ticket.

/// A failed call to the Contentful Management API, or a client that could not be configured.
///
/// The management token never appears in any variant: requests are named by method and path only,
/// and transport errors carry the URL (which never contains the token, sent as a header).
#[derive(Debug, thiserror::Error)]
pub enum ContentfulError {
    /// Contentful answered with its error document (`{"sys":{"type":"Error","id":…},…}`).
    #[error("{method} {path}: {status} {error_id}{}{}", message_part(.message), request_id_part(.request_id))]
    Api {
        /// HTTP method.
        method: &'static str,
        /// Path with query string.
        path: String,
        /// HTTP status.
        status: u16,
        /// `sys.id` of the error, e.g. `VersionMismatch`.
        error_id: String,
        /// `message`, when the API gave one (some 409s carry none).
        message: Option<String>,
        /// `details`, when given (validation errors list their fields here).
        details: Option<Box<serde_json::Value>>,
        /// `requestId` from the body, or the `X-Contentful-Request-Id` header.
        request_id: Option<String>,
    },
    /// A status the client did not expect, with a body that is not Contentful's error document.
    #[error("{method} {path}: unexpected HTTP status {status}{}: {body}", request_id_part(.request_id))]
    UnexpectedStatus {
        /// HTTP method.
        method: &'static str,
        /// Path with query string.
        path: String,
        /// HTTP status.
        status: u16,
        /// The `X-Contentful-Request-Id` header, when present.
        request_id: Option<String>,
        /// The start of the response body (at most 200 characters).
        body: String,
    },
    /// The request could not be sent or its response not received (after all retries).
    #[error("{method} {path}: {}", transport_kind(.source))]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// Path with query string.
        path: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The response was received but did not have the expected shape.
    #[error("{method} {path}: unexpected response: {message}{}", request_id_part(.request_id))]
    Decode {
        /// HTTP method.
        method: &'static str,
        /// Path with query string.
        path: String,
        /// What was wrong.
        message: String,
        /// The `X-Contentful-Request-Id` header, when present.
        request_id: Option<String>,
    },
    /// The client configuration is unusable (bad base URL, insecure scheme, …).
    #[error("{0}")]
    Config(String),
}

/// What kind of transport failure; the details follow in the error's `source` chain (shown by
/// `{:#}` in the binary), so they are not repeated here.
fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the response"
    } else {
        "the connection failed before a response arrived"
    }
}

fn message_part(message: &Option<String>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

fn request_id_part(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (requestId {id})"),
        None => String::new(),
    }
}

impl ContentfulError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ContentfulError::Api { status, .. }
            | ContentfulError::UnexpectedStatus { status, .. } => Some(*status),
            ContentfulError::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            ContentfulError::Decode { .. } | ContentfulError::Config(_) => None,
        }
    }

    /// Contentful's error id (`sys.id` of the error document), e.g. `VersionMismatch`.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            ContentfulError::Api { error_id, .. } => Some(error_id),
            _ => None,
        }
    }

    /// The request id Contentful assigned, for support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ContentfulError::Api { request_id, .. }
            | ContentfulError::UnexpectedStatus { request_id, .. }
            | ContentfulError::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// True when the write was refused because the object changed since it was read (HTTP 409 /
    /// `VersionMismatch`): re-read the object and retry.
    pub fn is_version_mismatch(&self) -> bool {
        self.status() == Some(409) || self.error_id() == Some("VersionMismatch")
    }

    /// True when a write may have reached Contentful and been processed although no usable
    /// answer came back: the connection broke or timed out after the request was sent, or the
    /// answer was a 500, 502 or 504 (a proxy's, or a failure after processing), or a success
    /// whose body could not be understood. Only re-reading
    /// the object tells whether the write was applied. A connection that could not be opened
    /// and a 503 (refused before processing) are not lost answers: nothing was written.
    pub fn response_lost(&self) -> bool {
        match self {
            ContentfulError::Transport { source, .. } => !source.is_connect(),
            ContentfulError::Api { status, .. }
            | ContentfulError::UnexpectedStatus { status, .. } => {
                matches!(status, 500 | 502 | 504)
            }
            ContentfulError::Decode { .. } => true,
            ContentfulError::Config(_) => false,
        }
    }

    /// True when the object does not exist (HTTP 404 `NotFound`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) && self.error_id().is_none_or(|id| id == "NotFound")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small_enough_to_return_by_value() {
        assert!(std::mem::size_of::<ContentfulError>() <= 128);
    }

    #[test]
    fn api_error_display_names_request_status_id_message_and_request_id() {
        let e = ContentfulError::Api {
            method: "PUT",
            path: "/spaces/x/space_memberships/y".into(),
            status: 409,
            error_id: "VersionMismatch".into(),
            message: None,
            details: None,
            request_id: Some("abc123".into()),
        };
        assert_eq!(
            e.to_string(),
            "PUT /spaces/x/space_memberships/y: 409 VersionMismatch (requestId abc123)"
        );
        assert!(e.is_version_mismatch());
        assert!(!e.is_not_found());
        assert_eq!(e.request_id(), Some("abc123"));

        let e = ContentfulError::Api {
            method: "GET",
            path: "/spaces/s/roles/r".into(),
            status: 404,
            error_id: "NotFound".into(),
            message: Some("The resource could not be found.".into()),
            details: None,
            request_id: None,
        };
        assert_eq!(
            e.to_string(),
            "GET /spaces/s/roles/r: 404 NotFound: The resource could not be found."
        );
        assert!(e.is_not_found());
        assert_eq!(e.status(), Some(404));
    }

    #[test]
    fn unexpected_status_display_names_the_request() {
        let e = ContentfulError::UnexpectedStatus {
            method: "GET",
            path: "/users/me".into(),
            status: 502,
            request_id: Some("r1".into()),
            body: "<html>bad gateway</html>".into(),
        };
        assert_eq!(
            e.to_string(),
            "GET /users/me: unexpected HTTP status 502 (requestId r1): <html>bad gateway</html>"
        );
        assert!(!e.is_version_mismatch());
    }
}
