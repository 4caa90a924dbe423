//! Reading request bodies and headers the way Contentful checks them: JSON objects only, unknown
//! keys refused, missing keys named, typed optional fields, and `X-Contentful-Version` matched
//! against the current version.

use serde_json::{Value, json};

use super::ApiRequest;
use super::error::{ApiError, R};

pub(super) fn check_version(req: &ApiRequest, current: u64) -> R<()> {
    let Some(v) = req.version.as_deref() else {
        return Err(ApiError::new(
            409,
            "VersionMismatch",
            "Please pass sys.version as HTTP header \"X-Contentful-Version\"",
        ));
    };
    if v.trim().parse::<u64>().ok() != Some(current) {
        return Err(ApiError::new(
            409,
            "VersionMismatch",
            "The version you sent does not match the current version of the resource.",
        ));
    }
    Ok(())
}

/// Deletes check `X-Contentful-Version` only when it is sent (the SDKs send none; whether
/// Contentful checks it on access objects is unconfirmed), with a 409 as for updates.
pub(super) fn check_version_if_sent(req: &ApiRequest, current: u64) -> R<()> {
    match req.version {
        Some(_) => check_version(req, current),
        None => Ok(()),
    }
}

pub(super) fn parse_body(bytes: &[u8]) -> R<Value> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            400,
            "BadRequest",
            format!("Invalid JSON in request body: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "The request body must be a JSON object.",
        ));
    }
    Ok(v)
}

pub(super) fn check_keys(b: &Value, allowed: &[&str]) -> R<()> {
    let unknown: Vec<&String> = b
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !allowed.contains(&k.as_str()))
                .collect()
        })
        .unwrap_or_default();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "UnknownKey",
            "The body you sent contains an unknown key.",
        )
        .details(json!({"keys": unknown})))
    }
}

pub(super) fn missing(key: &str) -> ApiError {
    ApiError::new(
        400,
        "MissingKey",
        "The body you sent is missing a required key.",
    )
    .details(json!({"key": key}))
}

pub(super) fn opt_str(b: &Value, key: &str) -> Option<String> {
    b.get(key).and_then(Value::as_str).map(str::to_string)
}

pub(super) fn opt_bool(b: &Value, key: &str) -> R<Option<bool>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(x)) => Ok(Some(*x)),
        Some(v) => Err(ApiError::validation(
            "type",
            key,
            v.clone(),
            "must be a boolean",
        )),
    }
}

/// The body's `name`: present and not blank (422 `size` otherwise, as Contentful answers for a
/// space, a team or a token without a name).
pub(super) fn required_name(b: &Value) -> R<String> {
    let name_v = b.get("name").ok_or_else(|| missing("name"))?;
    name_v
        .as_str()
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::validation("size", "name", name_v.clone(), "must be a non-empty string")
        })
}
