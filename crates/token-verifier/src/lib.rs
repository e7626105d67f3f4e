//! Validates Tollgate access tokens (RFC 9068 JWTs) for Rust resource servers.
//!
//! This crate owns everything a resource server needs to trust a Tollgate access token: fetching
//! and caching the issuer's JWK Set (RFC 7517), checking the JWS header, signature and claims
//! (RFC 9068 §4), typed [`AccessClaims`] with scope checks, and, behind the `axum` feature, an
//! extractor and a tower layer answering RFC 6750 §3 errors. It must not depend on the Tollgate server or domain
//! crates, must not issue tokens or hold private keys, and must not take keys from anywhere but
//! the configured JWKS (no `jwk`/`jku`/`x5u`/`x5c` headers).
//!
//! # Features
//!
//! - `axum` (default): `AccessClaims` implements axum's `FromRequestParts` and
//!   `OptionalFromRequestParts`; [`RequireBearerLayer`] is a tower layer that guards whole
//!   routers (optionally requiring scopes) and puts the claims in the request extensions;
//!   [`InsufficientScope`] and [`BearerRejection`] are responses. Without it the crate needs no
//!   web framework.
//!
//! # Example
//!
//! ```no_run
//! use tollgate_token_verifier::{Verifier, VerifierConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Keys are fetched from https://auth.example.com/.well-known/jwks.json.
//! let verifier = Verifier::new(VerifierConfig::new("https://auth.example.com", "https://api.example.com"))?;
//! verifier.warm_up().await?;
//!
//! let claims = verifier.verify("eyJhbGciOiJFUzI1NiIs...").await?;
//! claims.require_scope("control.read")?;
//! println!("{} acts in {} as {}", claims.sub, claims.org, claims.role);
//! # Ok(())
//! # }
//! ```
//!
//! With axum, put the verifier in the router state and take [`AccessClaims`] in handlers:
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # mod with_axum {
//! use axum::{routing::get, Router};
//! use tollgate_token_verifier::{AccessClaims, InsufficientScope, Verifier};
//!
//! async fn list_controls(claims: AccessClaims) -> Result<String, InsufficientScope> {
//!     claims.require_scope("control.read")?;
//!     Ok(format!("controls of {}", claims.org))
//! }
//!
//! pub fn router(verifier: Verifier) -> Router {
//!     Router::new().route("/controls", get(list_controls)).with_state(verifier)
//! }
//! # }
//! ```
//!
//! Or guard a whole router with the tower layer, which answers 401/403/503 itself and hands
//! the claims to handlers through the request extensions:
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # mod with_layer {
//! use axum::{routing::get, Extension, Router};
//! use tollgate_token_verifier::{AccessClaims, RequireBearerLayer, Verifier};
//!
//! async fn list_controls(Extension(claims): Extension<AccessClaims>) -> String {
//!     format!("controls of {}", claims.org)
//! }
//!
//! pub fn router(verifier: Verifier) -> Router {
//!     Router::new()
//!         .route("/controls", get(list_controls))
//!         .route_layer(RequireBearerLayer::new(verifier).require_scopes(["control.read"]))
//! }
//! # }
//! ```

mod claims;
mod config;
mod error;
mod jwks;
mod verifier;

#[cfg(feature = "axum")]
mod bearer;
#[cfg(feature = "axum")]
mod layer;

#[cfg(feature = "axum")]
pub use bearer::{bearer_token, BearerRejection};
pub use claims::{AccessClaims, InsufficientScope, PrincipalType, Role};
pub use config::{SigningAlgorithm, VerifierConfig, MAX_LEEWAY};
pub use error::{JwksError, VerifyError};
pub use jwks::Jwks;
#[cfg(feature = "axum")]
pub use layer::{RequireBearer, RequireBearerLayer};
pub use verifier::Verifier;
