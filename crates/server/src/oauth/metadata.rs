//! `GET /.well-known/jwks.json` (RFC 7517) and `GET /.well-known/oauth-authorization-server`
//! (RFC 8414).

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate_domain::Scope;

/// The published public keys; cacheable for less time than a new key waits to sign.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let max_age = state.config.key_publish_delay_seconds.clamp(0, 300);
    let mut response = Json(state.oauth.keys.jwks()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

/// The authorization server's metadata. `grant_types_supported` is explicit: its absence
/// would mean authorization code and implicit (RFC 8414 §2).
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
