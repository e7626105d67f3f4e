//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009). Both require
//! the caller to authenticate as an API client, like the token endpoint.

use super::client_auth::{authenticate, Authenticated};
use super::error::{InvalidClient, OAuthError, OAuthErrorBody, SlowDown, Unavailable};
use super::{form, liveness};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{TimeZone, Utc};
use std::collections::HashMap;
use std::net::SocketAddr;
use tollgate_domain::{PrincipalKind, Role, ScopeSet};
use tollgate_token_verifier::AccessClaims;
use utoipa::ToSchema;

/// The form fields of an introspection request (RFC 7662 §2.1), for the OpenAPI document
/// only: [`introspect`] reads the form itself ([`form::parse`]).
#[derive(ToSchema)]
pub struct IntrospectionRequest {
    /// The access token to examine.
    pub token: String,
    /// Accepted and ignored: every token this server issues is an access token.
    pub token_type_hint: Option<String>,
    /// `client_secret_post`: the calling client's ID, with `client_secret`.
    pub client_id: Option<String>,
    /// `client_secret_post`: the calling client's secret.
    pub client_secret: Option<String>,
}

/// The form fields of a revocation request (RFC 7009 §2.1), for the OpenAPI document only:
/// [`revoke`] reads the form itself ([`form::parse`]).
#[derive(ToSchema)]
pub struct RevocationRequest {
    /// The access token to revoke (one of the calling client's own).
    pub token: String,
    /// Accepted and ignored: every token this server issues is an access token.
    pub token_type_hint: Option<String>,
    /// `client_secret_post`: the calling client's ID, with `client_secret`.
    pub client_id: Option<String>,
    /// `client_secret_post`: the calling client's secret.
    pub client_secret: Option<String>,
}

/// An introspection answer (RFC 7662 §2.2), for the OpenAPI document: [`introspect`] writes
/// it. An inactive token is only `{"active": false}`; an active one carries its claims.
#[derive(ToSchema)]
pub struct IntrospectionResponse {
    /// Whether the token is live and belongs to the caller's organization.
    pub active: bool,
    /// The scopes the token is worth now, space-delimited: those it was issued with that the
    /// client still holds and its principal's current role still permits (empty when none is
    /// left).
    pub scope: Option<String>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// Always `Bearer`.
    pub token_type: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    pub iat: Option<i64>,
    /// Not before, seconds since the epoch.
    pub nbf: Option<i64>,
    /// The acting principal (`usr_…` or `sp_…`).
    pub sub: Option<String>,
    /// Audiences.
    pub aud: Option<Vec<String>>,
    /// Issuer.
    pub iss: Option<String>,
    /// Token id.
    pub jti: Option<String>,
    /// Organization.
    pub org: Option<String>,
    /// The principal's current role (which may differ from the token's `role` claim after
    /// a role change).
    pub role: Option<Role>,
    /// `person` (personal clients) or `service_principal`.
    pub principal_type: Option<PrincipalKind>,
}

async fn authenticated_request(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<(Authenticated, HashMap<String, String>), OAuthError> {
    let params = form::parse(headers, uri, body)?;
    let Some((client_id, secret)) = form::credentials(headers, &params)? else {
        return Err(OAuthError::invalid_client());
    };
    let authed = authenticate(state, &client_id, &secret, Some(peer.ip())).await?;
    Ok((authed, params))
}

/// Verifies one of our tokens: signature, `typ`, issuer, expiry and an audience of ours.
async fn verify(state: &AppState, token: &str) -> Option<AccessClaims> {
    let payload = token.split('.').nth(1)?;
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let audience = match &payload["aud"] {
        serde_json::Value::String(a) => a.clone(),
        serde_json::Value::Array(list) => list.first()?.as_str()?.to_owned(),
        _ => return None,
    };
    let verifier = state.oauth.keys.verifier(&audience)?;
    verifier.verify(token).await.ok()
}

/// Answers whether a token is active and, if so, its claims, with `scope` and `role` as they
/// are now. Tokens of other organizations, and unknown, expired, revoked or malformed ones,
/// and tokens issued before their organization last turned M2M off or their person was last
/// deactivated, are all just `{"active": false}`.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    summary = "Introspect an access token (RFC 7662)",
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = [])),
    responses(
        (status = 200, body = IntrospectionResponse),
        (status = 400, description = "`invalid_request`: no `token`, a malformed form or parameters in the URL", body = OAuthErrorBody),
        InvalidClient, SlowDown, Unavailable))]
pub async fn introspect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (caller, params) = authenticated_request(&state, peer, &headers, &uri, &body).await?;
    let Some(token) = params.get("token") else {
        return Err(OAuthError::invalid_request("token is required."));
    };
    let inactive = || Json(serde_json::json!({ "active": false })).into_response();
    let Some(claims) = verify(&state, token).await else {
        return Ok(inactive());
    };
    if claims.org != caller.client.org_id {
        return Ok(inactive());
    }
    let Some(client) = liveness::live_client(&state, &claims).await? else {
        return Ok(inactive());
    };
    // A resource server relying on introspection must not over-grant after a demotion or a
    // narrowing of the client: answer what the token is worth now, not what it said when
    // issued (the /v1 API applies the principal's current role the same way).
    let Ok(issued) = ScopeSet::parse_space_delimited(&claims.scope) else {
        return Ok(inactive());
    };
    let effective = issued.intersection(client.effective_scopes());
    Ok(Json(serde_json::json!({
        "active": true,
        "scope": effective.to_space_delimited(),
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "nbf": claims.nbf,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "jti": claims.jti,
        "org": claims.org,
        "role": client.role.as_str(),
        "principal_type": claims.principal_type.as_str(),
    }))
    .into_response())
}

/// Revokes one of the caller's own access tokens. Unknown, invalid or foreign tokens get
/// the same 200 and change nothing (RFC 7009 §2.2); a storage failure is 503, never 200.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    summary = "Revoke an access token (RFC 7009)",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (unknown, invalid or another client's token); empty body"),
        (status = 400, description = "`invalid_request`: no `token`, a malformed form or parameters in the URL", body = OAuthErrorBody),
        InvalidClient, SlowDown, Unavailable))]
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (caller, params) = authenticated_request(&state, peer, &headers, &uri, &body).await?;
    let Some(token) = params.get("token") else {
        return Err(OAuthError::invalid_request("token is required."));
    };
    if let Some(claims) = verify(&state, token).await {
        if claims.client_id == caller.client.client_id {
            let expires_at = Utc
                .timestamp_opt(claims.exp, 0)
                .single()
                .unwrap_or_else(Utc::now);
            state
                .store
                .revoke_token(
                    &claims.jti,
                    &claims.org,
                    &claims.client_id,
                    expires_at,
                    Utc::now(),
                )
                .await?;
            liveness::note_revoked(&state, &claims.jti);
        }
    }
    Ok(StatusCode::OK.into_response())
}
