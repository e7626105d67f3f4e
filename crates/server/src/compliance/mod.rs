//! The compliance resource API (`/v1`): programs, controls, risks, tasks and audits, and the
//! organization's directory (`/v1/users`), for Bearer access tokens.
//!
//! It is built the way any resource server would use Tollgate: the token is checked by
//! `tollgate-token-verifier`'s [`AccessClaims`] extractor, then [`authorize`] applies, in
//! order, the token's liveness ([`crate::oauth::liveness::live_client`]: deleted client,
//! deactivated person, M2M off or revoked token are 401 `invalid_token` within a second), the
//! scope the operation needs (403 `insufficient_scope` naming it), and the client's *current*
//! scopes and acting principal's *current* role (a personal client follows its person's role). Record rules (External
//! auditors see only audits that list them), restricted fields and the ownership rule are
//! applied by the handlers with the pure rules of `tollgate_domain::compliance`.
//!
//! This module shares the store only for its own objects and the directory; it must not read
//! or change API clients, secrets or sessions, and never issues tokens.

pub mod objects;
pub mod openapi;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tollgate_domain::compliance::{parse_limit, ListCursor};
use tollgate_domain::Scope;
use tollgate_store::{Principal, StoreError};
use tollgate_token_verifier::{AccessClaims, InsufficientScope};

/// Routes of the compliance API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(users::list))
        .route("/v1/users/{id}", get(users::get))
        .route("/v1/{collection}", get(objects::list).post(objects::create))
        .route(
            "/v1/{collection}/{id}",
            get(objects::get)
                .patch(objects::update)
                .delete(objects::remove),
        )
}

/// Why a `/v1` request was refused: an API error in the common JSON shape, a missing scope
/// (RFC 6750 §3.1 403 with its challenge) or a token that is no longer honoured (401).
#[derive(Debug)]
pub enum V1Error {
    /// A refusal in `{"error":{"code","message","field"?}}` form.
    Api(ApiError),
    /// The token lacks the scope, or the principal's current role no longer permits it.
    Scope(InsufficientScope),
    /// The token is well signed and unexpired but no longer live.
    NotLive,
}

impl From<ApiError> for V1Error {
    fn from(e: ApiError) -> Self {
        V1Error::Api(e)
    }
}

impl From<StoreError> for V1Error {
    fn from(e: StoreError) -> Self {
        V1Error::Api(e.into())
    }
}

impl From<InsufficientScope> for V1Error {
    fn from(e: InsufficientScope) -> Self {
        V1Error::Scope(e)
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        match self {
            V1Error::Api(e) => e.into_response(),
            V1Error::Scope(e) => e.into_response(),
            V1Error::NotLive => {
                // RFC 6750 §3.1: a revoked token is an invalid one.
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    Json(serde_json::json!({"error": {
                        "code": "invalid_token",
                        "message": "the access token is no longer valid: its client was deleted, its person deactivated, its organization turned M2M access off, or it was revoked; request a new token",
                    }})),
                )
                    .into_response();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer error=\"invalid_token\", error_description=\"the access token is no longer valid\"",
                    ),
                );
                response
            }
        }
    }
}

/// Result of a `/v1` handler.
pub type V1Result<T> = Result<T, V1Error>;

/// Who is acting: the verified token and its principal as it is now.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified claims (`sub`, `org`, `client_id`, …).
    pub claims: AccessClaims,
    /// The acting principal (the person of a personal client, the service principal of a
    /// service account), read now: its current role drives the record rules.
    pub principal: Principal,
}

impl Caller {
    /// The caller's organization.
    pub fn org(&self) -> &str {
        &self.principal.org_id
    }
}

/// Admits a verified token for an operation needing `scope`: the token must still be live
/// (401 otherwise), grant the scope (403 otherwise), and its client's current scopes and its
/// principal's current role must still permit it (403: a narrowed client or a demoted person
/// narrows the tokens already issued).
pub async fn authorize(state: &AppState, claims: AccessClaims, scope: Scope) -> V1Result<Caller> {
    // A dead token is 401 whatever it asks for: liveness comes before the scope, so a
    // deleted client's token never learns which scopes an operation needs.
    let Some(client) = crate::oauth::liveness::live_client(state, &claims).await? else {
        return Err(V1Error::NotLive);
    };
    let principal = state
        .store
        .get_principal(&claims.org, &claims.sub)
        .await?
        .filter(|p| p.active && p.kind.as_str() == claims.principal_type.as_str())
        .ok_or(V1Error::NotLive)?;
    claims.require_scope(&scope.to_string())?;
    // What the token is worth now: its scopes ∩ the client's current scopes ∩ the principal's
    // current role, so narrowing a client or demoting a person narrows its live tokens too.
    if !client.scopes.contains(scope) || !principal.role.permissions().contains(scope) {
        return Err(InsufficientScope {
            scope: scope.to_string(),
        }
        .into());
    }
    Ok(Caller { claims, principal })
}

/// The key that signs list cursors, derived from the server's secret-hash key by one HMAC
/// with a label no client secret can carry (secrets start with `tgs_`), so cursors from one
/// process are accepted by every process sharing the master key.
pub fn cursor_key(state: &AppState) -> [u8; 32] {
    state.pepper.hash_bytes(b"\0tollgate list-cursor key v1").0
}

/// A page request: `limit` (1–500, default 100) and `cursor`.
pub struct Page {
    /// Rows to return.
    pub limit: i64,
    /// The id to continue after.
    pub after: Option<String>,
}

/// Reads the query string of a list request into `Q` (400 on unknown or malformed parameters).
pub fn parse_query<Q: DeserializeOwned>(raw: Option<&str>) -> Result<Q, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        ApiError::bad_request(format!(
            "The query string does not match this endpoint: {e}."
        ))
    })
}

/// Checks `limit` and `cursor` for a list of `collection` in `org`.
pub fn page(
    state: &AppState,
    collection: &str,
    org: &str,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Page, ApiError> {
    let limit = parse_limit(limit).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit must be an integer from 1 to 500.",
        )
        .field("limit")
    })?;
    let after = match cursor {
        None => None,
        Some(text) => Some(
            ListCursor::decode(text, &cursor_key(state), collection, org).map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_cursor",
                    "cursor is not one this API issued for this list: pass next_cursor from the previous page unchanged, or omit it to start over.",
                )
                .field("cursor")
            })?,
        ),
    };
    Ok(Page { limit, after })
}

/// The `next_cursor` of a page: present when more rows may follow `last_id`.
pub fn next_cursor(
    state: &AppState,
    collection: &str,
    org: &str,
    more: bool,
    last_id: Option<&str>,
) -> Option<String> {
    match (more, last_id) {
        (true, Some(last)) => Some(
            ListCursor {
                collection: collection.to_owned(),
                org: org.to_owned(),
                last_id: last.to_owned(),
            }
            .encode(&cursor_key(state)),
        ),
        _ => None,
    }
}
