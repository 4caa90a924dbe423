//! A user's own personal access tokens, `/users/me/access_tokens` (CMA docs "Access tokens"; both
//! official SDKs use these routes): list, read, create (the value is answered once, and from then
//! on authenticates requests as the user) and revoke (`PUT …/{id}/revoked`, after which the value
//! no longer authenticates).

use chrono::Duration;
use serde_json::{Value, json};

use super::World;
use super::body::{check_keys, missing, required_name};
use super::error::{ApiError, R};
use super::query::{ListQuery, list_of, sort_generic, sys_key};
use super::routes::{Call, Reply, created, ok};
use super::store::{fill, touch};
use super::views::token_json;
use crate::sandbox::seed::{SeedAccessToken, SeedApiToken, SeedSys};

/// The scopes a personal access token may have (CMA docs).
const SCOPES: &[&str] = &["content_management_read", "content_management_manage"];

/// `GET /users/me/access_tokens`
pub(super) fn list(w: &mut World, c: &Call) -> R<Reply> {
    let lq = ListQuery::parse(&c.req.query, &[], &["sys.createdAt", "sys.updatedAt"])?;
    let items: Vec<&SeedAccessToken> = w
        .tokens
        .in_order()
        .filter(|t| t.user == c.caller.user)
        .collect();
    let items = sort_generic(items, &lq.order, |t, k| sys_key(&t.sys, k));
    ok(list_of(items, &lq, |t| token_json(t, false)))
}

/// `GET /users/me/access_tokens/:id`
pub(super) fn get(w: &mut World, c: &Call) -> R<Reply> {
    ok(token_json(w.own_token(c)?, false))
}

/// `POST /users/me/access_tokens`: `{"name", "scopes", "expiresIn"?}`; the answer carries
/// `token`, the only time the value is shown.
pub(super) fn create(w: &mut World, c: &Call) -> R<Reply> {
    let b = c.body()?;
    check_keys(&b, &["name", "scopes", "expiresIn"])?;
    let name = required_name(&b)?;
    let scopes_v = b.get("scopes").ok_or_else(|| missing("scopes"))?;
    let scopes: Vec<String> = scopes_v
        .as_array()
        .filter(|a| !a.is_empty())
        .and_then(|a| {
            a.iter()
                .map(|s| {
                    s.as_str()
                        .filter(|s| SCOPES.contains(s))
                        .map(str::to_string)
                })
                .collect()
        })
        .ok_or_else(|| {
            ApiError::new(
                422,
                "PersonalAccessTokenInvalidScopes",
                "Provided scopes for the personal access token are invalid",
            )
        })?;
    let expires_at = match b.get("expiresIn") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let secs = v.as_i64().filter(|s| *s >= 0).ok_or_else(|| {
                ApiError::validation(
                    "type",
                    "expiresIn",
                    v.clone(),
                    "must be a number of seconds",
                )
            })?;
            // 0 means "no expiry", as in the docs' example.
            (secs > 0).then(|| c.now + Duration::seconds(secs))
        }
    };
    let id = w.next_id();
    let value = format!("CFPAT-{}{}", w.next_id(), w.next_id());
    let redacted: String = value.chars().skip(value.chars().count() - 4).collect();
    let mut t = SeedAccessToken {
        id: id.clone(),
        name,
        user: c.caller.user.clone(),
        scopes,
        redacted_value: Some(redacted),
        expires_at,
        revoked_at: None,
        last_used_at: None,
        sys: SeedSys::default(),
    };
    fill(&mut t.sys, c.now, &c.caller.user);
    let mut v = token_json(&t, false);
    if let Some(o) = v.as_object_mut() {
        o.insert("token".into(), json!(value));
    }
    w.tokens.insert(t);
    w.api_tokens.push(SeedApiToken {
        token: value.clone(),
        user: c.caller.user.clone(),
    });
    w.token_values.insert(id.clone(), value);
    created(v, format!("/users/me/access_tokens/{id}"))
}

/// `PUT /users/me/access_tokens/:id/revoked`: sets `revokedAt` (once; revoking again keeps the
/// first time) and stops the value from authenticating.
pub(super) fn revoke(w: &mut World, c: &Call) -> R<Reply> {
    let id = w.own_token(c)?.id.clone();
    if let Some(value) = w.token_values.remove(&id) {
        w.api_tokens.retain(|t| t.token != value);
    }
    if let Some(t) = w.tokens.items.get_mut(&id)
        && t.revoked_at.is_none()
    {
        t.revoked_at = Some(c.now);
        touch(&mut t.sys, &c.caller.user, c.now);
    }
    ok(token_json(w.own_token(c)?, false))
}

impl World {
    /// The caller's token named by the first path parameter.
    fn own_token(&self, c: &Call) -> R<&SeedAccessToken> {
        self.tokens
            .get(c.param(0))
            .filter(|t| t.user == c.caller.user)
            .ok_or_else(|| ApiError::not_found("PersonalAccessToken", c.param(0)))
    }
}
