//! The OAuth 2.0 authorization server: the client-credentials token endpoint (RFC 6749
//! §4.4), JWT access tokens (RFC 9068), the JWKS and discovery metadata (RFC 7517,
//! RFC 8414), introspection (RFC 7662) and revocation (RFC 7009).
//!
//! How a token request flows: [`token::issue`] parses the form ([`form::parse`]), takes the
//! credentials ([`form::credentials`]), authenticates the client ([`client_auth::authenticate`]:
//! cached lookup, keyed hash, constant-time comparison, brute-force brake), narrows the scope,
//! and signs the JWT with the active key ([`keys::Keys::active`]).

pub mod cache;
pub mod client_auth;
pub mod error;
pub mod form;
pub mod introspect;
pub mod keys;
pub mod limiter;
pub mod liveness;
pub mod metadata;
pub mod token;
pub mod usage;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// State of the authorization server within [`AppState`].
pub struct OAuth {
    /// Signing keys and in-process verifiers.
    pub keys: keys::Keys,
    /// Client credentials cache.
    pub clients: cache::ClientCache,
    /// Brute-force brake.
    pub limiter: limiter::Limiter,
    /// Coalesced last-used times.
    pub usage: usage::UsageRecorder,
    /// Recently checked token revocations: `jti -> (checked at, revoked)`.
    pub revoked: Mutex<HashMap<String, (Instant, bool)>>,
    /// `aud` of tokens issued without `resource`.
    pub default_audience: String,
    /// Every audience a token may carry.
    pub audiences: Vec<String>,
    /// Access-token lifetime.
    pub token_lifetime: Duration,
}

/// Routes of the authorization server.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token::issue))
        .route("/oauth/introspect", post(introspect::introspect))
        .route("/oauth/revoke", post(introspect::revoke))
        .route("/.well-known/jwks.json", get(metadata::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
}
