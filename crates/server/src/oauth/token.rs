//! `POST /oauth/token`: the client-credentials grant (RFC 6749 §4.4) issuing RFC 9068 JWT
//! access tokens.

use super::client_auth::authenticate;
use super::error::{InvalidClient, OAuthError, OAuthErrorBody, SlowDown, Unavailable};
use super::{form, liveness};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tollgate_domain::{ClientType, PrincipalKind, ScopeSet};
use utoipa::ToSchema;

/// The form fields of a token request (RFC 6749 §4.4.2), for the OpenAPI document only:
/// [`issue`] reads the form itself ([`form::parse`]) so it can refuse repeated parameters and
/// parameters in the URL. Empty values count as absent.
#[derive(ToSchema)]
pub struct TokenRequest {
    /// The only grant: `client_credentials`.
    pub grant_type: GrantType,
    /// Space-delimited scopes to narrow the token to; by default every scope of the client
    /// that its principal's current role permits.
    #[schema(example = "control.read control.create")]
    pub scope: Option<String>,
    /// RFC 8707 resource indicator: the audience the token is for (one the server is
    /// configured to issue for); by default the server's default audience.
    pub resource: Option<String>,
    /// `client_secret_post` (RFC 6749 §2.3.1): the client ID, sent with `client_secret`
    /// instead of HTTP Basic credentials (never both).
    pub client_id: Option<String>,
    /// `client_secret_post`: the client secret (`tgs_…`).
    pub client_secret: Option<String>,
}

/// The grant types the token endpoint accepts.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.4.
    ClientCredentials,
}

/// The successful answer (RFC 6749 §5.1). No refresh token.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// The JWT (RFC 9068, `typ: at+jwt`).
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
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
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    summary = "Issue an access token (client credentials)",
    description = "RFC 6749 §4.4: the client authenticates with HTTP Basic (`client_secret_basic`: client ID and secret, each form-urlencoded, RFC 6749 §2.3.1) or with `client_id` and `client_secret` in the form (`client_secret_post`), and receives an RFC 9068 JWT access token. No refresh token.",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = [])),
    responses(
        (status = 200, body = TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, `invalid_scope` or `invalid_target`", body = OAuthErrorBody),
        InvalidClient, SlowDown, Unavailable))]
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
    // Authenticate before looking at `resource`: an unauthenticated caller must not learn
    // which audiences this server issues tokens for (RFC 8707 `invalid_target`).
    let authed = authenticate(&state, &client_id, &secret, Some(peer.ip())).await?;
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
    let client = &authed.client;
    let effective = client.effective_scopes();
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
    let mut now = Utc::now();
    if let Some(second) = liveness::issued_at_not_before(client) {
        if now.timestamp() <= second {
            // M2M was turned back on, or the person reactivated, within this very second: a
            // token stamped with it would be born dead (liveness compares whole seconds of
            // `iat`). Issue it in the next second instead; this waits under a second, and only
            // right after such a switch.
            let next = chrono::DateTime::from_timestamp(second + 1, 0).unwrap_or(now);
            let wait = (next - now)
                .to_std()
                .unwrap_or_default()
                .min(std::time::Duration::from_millis(1_100));
            tokio::time::sleep(wait).await;
            now = Utc::now();
        }
    }
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
