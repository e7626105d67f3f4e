//! `GET /.well-known/jwks.json` (RFC 7517) and `GET /.well-known/oauth-authorization-server`
//! (RFC 8414).

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate_domain::Scope;
use utoipa::ToSchema;

/// A JWK Set (RFC 7517 §5), for the OpenAPI document: [`jwks`] writes it.
#[derive(ToSchema)]
pub struct JwkSet {
    /// The signing key, keys waiting to sign, and retired keys whose tokens may still be alive.
    pub keys: Vec<Jwk>,
}

/// One public key (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2); which members appear depends on
/// `kty`.
#[derive(ToSchema)]
pub struct Jwk {
    /// `EC`, `OKP` or `RSA`.
    pub kty: String,
    /// Key id, as in the access token's header.
    pub kid: String,
    /// `ES256`, `EdDSA` or `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[schema(rename = "use")]
    pub use_: String,
    /// `EC`: `P-256`; `OKP`: `Ed25519`.
    pub crv: Option<String>,
    /// `EC` and `OKP`: the x coordinate or public key, base64url.
    pub x: Option<String>,
    /// `EC`: the y coordinate, base64url.
    pub y: Option<String>,
    /// `RSA`: the modulus, base64url.
    pub n: Option<String>,
    /// `RSA`: the exponent, base64url.
    pub e: Option<String>,
}

/// Authorization server metadata (RFC 8414 §2), for the OpenAPI document:
/// [`authorization_server`] writes it.
#[derive(ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The issuer (`iss` of every token): the server's public URL.
    pub issuer: String,
    /// `{issuer}/oauth/token`.
    pub token_endpoint: String,
    /// `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: String,
    /// `["client_credentials"]`.
    pub grant_types_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// `client_secret_basic` and `client_secret_post`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Every scope (`<object>.<action>`).
    pub scopes_supported: Vec<String>,
    /// `{issuer}/oauth/introspect`.
    pub introspection_endpoint: String,
    /// As for the token endpoint.
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// `{issuer}/oauth/revoke`.
    pub revocation_endpoint: String,
    /// As for the token endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms of the published keys.
    pub access_token_signing_alg_values_supported: Vec<String>,
}

/// The published public keys; cacheable for less time than a new key waits to sign.
///
/// A rotated-in key is added to the database `key_publish_delay_seconds` before it signs, and
/// every process publishes it within `key_refresh_seconds`; a cache that fetched the JWKS just
/// before that must refetch before the key signs, so `max-age` is at most the publish delay
/// less the refresh interval, less a one-second margin.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth",
    summary = "The public signing keys (RFC 7517)", security(()),
    responses((status = 200, body = JwkSet, content_type = "application/json",
        headers(("Cache-Control" = String, description = "`public, max-age=…`: at most `key_publish_delay_seconds` − `key_refresh_seconds` − 1 (and at most 300), so a cache that obeys it sees a rotated-in key before it signs")))))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let max_age = state.config.jwks_max_age_seconds();
    let mut response = Json(state.oauth.keys.jwks()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

/// The authorization server's metadata. `grant_types_supported` is explicit: its absence
/// would mean authorization code and implicit (RFC 8414 §2).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    summary = "Authorization server metadata (RFC 8414)", security(()),
    responses((status = 200, body = AuthorizationServerMetadata,
        headers(("Cache-Control" = String, description = "`public, max-age=300`")))))]
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    let base = &state.public_url;
    let methods = ["client_secret_basic", "client_secret_post"];
    let mut response = Json(serde_json::json!({
        "issuer": base,
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "scopes_supported": Scope::all().map(|s| s.to_string()).collect::<Vec<_>>(),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": methods,
        "access_token_signing_alg_values_supported": state.oauth.keys.algorithms(),
    }))
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
