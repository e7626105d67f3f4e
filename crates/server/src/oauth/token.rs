//! `POST /oauth/token`: the client-credentials grant (RFC 6749 §4.4) issuing RFC 9068 JWT
//! access tokens.

use super::client_auth::authenticate;
use super::error::OAuthError;
use super::form;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::Serialize;
use std::net::SocketAddr;
use tollgate_domain::{ClientType, PrincipalKind, ScopeSet};

/// The successful answer (RFC 6749 §5.1). No refresh token.
#[derive(Serialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The granted scopes, space-delimited.
    pub scope: String,
}

/// RFC 9068 §2.2 claims.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    client_id: &'a str,
    scope: String,
    org: &'a str,
    role: &'a str,
    principal_type: &'a str,
}

/// Issues an access token.
pub async fn issue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = form::parse(&headers, &uri, &body)?;
    match params.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::invalid_request("grant_type is required.")),
        Some("client_credentials") => {}
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
    }
    let Some((client_id, secret)) = form::credentials(&headers, &params)? else {
        return Err(OAuthError::invalid_client());
    };
    let audience = match params.get("resource") {
        None => state.oauth.default_audience.as_str(),
        Some(r) => state
            .oauth
            .audiences
            .iter()
            .find(|a| *a == r)
            .map(String::as_str)
            .ok_or_else(|| {
                OAuthError::invalid_target("The resource is not one this server issues tokens for.")
            })?,
    };
    let authed = authenticate(&state, &client_id, &secret, Some(peer.ip())).await?;
    let client = &authed.client;
    let effective = client.scopes.intersection(client.role.permissions());
    let granted = match params.get("scope") {
        None => effective,
        Some(text) => {
            let requested = ScopeSet::parse_space_delimited(text)
                .map_err(|e| OAuthError::invalid_scope(format!("{e}.")))?;
            if let Some(extra) = requested.difference(effective).next() {
                return Err(OAuthError::invalid_scope(format!(
                    "`{extra}` is not among this client's scopes (or its principal's role no longer permits it)."
                )));
            }
            requested
        }
    };
    if granted.is_empty() {
        return Err(OAuthError::invalid_scope(
            "This client has no scope its principal's current role permits.",
        ));
    }
    let now = Utc::now();
    let key = state
        .oauth
        .keys
        .active(now)
        .ok_or_else(|| OAuthError::unavailable(&std::io::Error::other("no signing key")))?;
    let lifetime = state.oauth.token_lifetime.num_seconds();
    let iat = now.timestamp();
    let claims = Claims {
        iss: &state.public_url,
        sub: &client.principal_id,
        aud: audience,
        exp: iat + lifetime,
        iat,
        nbf: iat,
        jti: tollgate_domain::ids::random_base62(&mut rand::thread_rng(), 22),
        client_id: &client.client_id,
        scope: granted.to_space_delimited(),
        org: &client.org_id,
        role: client.role.as_str(),
        principal_type: match (client.client_type, client.principal_kind) {
            (ClientType::Personal, _) | (_, PrincipalKind::Person) => "person",
            _ => "service_principal",
        },
    };
    let header = serde_json::json!({ "alg": key.alg, "typ": "at+jwt", "kid": key.kid });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims).map_err(|e| OAuthError::unavailable(&e))?)
    );
    let signature = if key.signer.is_slow() {
        let (key, input) = (key.clone(), signing_input.clone());
        tokio::task::spawn_blocking(move || key.signer.sign(input.as_bytes()))
            .await
            .map_err(|e| OAuthError::unavailable(&e))?
    } else {
        key.signer.sign(signing_input.as_bytes())
    }
    .map_err(|_| OAuthError::unavailable(&std::io::Error::other("signing failed")))?;
    state.oauth.usage.record(&authed.secret_id, now);
    let body = TokenResponse {
        access_token: format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)),
        token_type: "Bearer",
        expires_in: lifetime,
        scope: claims.scope,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
