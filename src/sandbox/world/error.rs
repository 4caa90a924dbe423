//! The sandbox's error answers: the documented Contentful error body (`sys.type: Error`, an id
//! such as `NotFound` or `VersionMismatch`, a message and optional details) and the constructors
//! the handlers share.

use serde_json::{Value, json};

/// An error response before the request id is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `sys.id`, e.g. `VersionMismatch`.
    pub id: &'static str,
    /// `message`.
    pub message: String,
    /// `details`, when there are any.
    pub details: Option<Value>,
}

impl ApiError {
    pub(super) fn new(status: u16, id: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            id,
            message: message.into(),
            details: None,
        }
    }

    pub(super) fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The documented error body.
    pub fn body(&self, request_id: &str) -> Value {
        let mut body = json!({
            "sys": {"type": "Error", "id": self.id},
            "message": self.message,
            "requestId": request_id,
        });
        if let (Some(d), Some(obj)) = (&self.details, body.as_object_mut()) {
            obj.insert("details".to_string(), d.clone());
        }
        body
    }

    pub(super) fn not_found(kind: &str, id: &str) -> Self {
        ApiError::new(404, "NotFound", "The resource could not be found.")
            .details(json!({"type": kind, "id": id}))
    }

    pub(super) fn access_denied() -> Self {
        ApiError::new(
            403,
            "AccessDenied",
            "Forbidden: only organization admins and owners may do this.",
        )
        .details(json!({"reasons": ["Your organization role does not allow this action"]}))
    }

    pub(super) fn invalid_query(path: &str, details: &str) -> Self {
        ApiError::new(400, "InvalidQuery", "The query you sent was invalid. Probably a filter or ordering specification is not applicable to the type of a field.")
            .details(json!({"errors": [{"name": "unknown", "path": path.split('.').collect::<Vec<_>>(), "details": details}]}))
    }

    pub(super) fn validation(name: &str, path: &str, value: Value, details: &str) -> Self {
        ApiError::new(
            422,
            "ValidationFailed",
            "The resource you sent in the body is invalid.",
        )
        .details(
            json!({"errors": [{"name": name, "path": path, "value": value, "details": details}]}),
        )
    }

    /// 422 `taken`: `value` at `path` is already used where it must be unique.
    pub(super) fn taken(path: &str, value: Value, details: &str) -> Self {
        ApiError::validation("taken", path, value, details)
    }

    /// 429 `RateLimitExceeded`, as the HTTP layer sends it.
    pub fn rate_limited() -> Self {
        ApiError::new(
            429,
            "RateLimitExceeded",
            "You have exceeded the rate limit of the Organization this Space belongs to by making too many API requests within a short timespan. Please wait a moment before trying the request again.",
        )
        .details(json!({"errors": [{"details": "Rate limit exceeded"}]}))
    }
}

/// What every handler and check returns.
pub(super) type R<T> = Result<T, ApiError>;
