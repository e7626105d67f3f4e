//! Integration tests for `tollgate-token-verifier`: real keys, real signatures, a real JWKS server.
//!
//! One test binary (modules below) so that it links once.

mod helpers;

#[cfg(feature = "axum")]
mod extractor;
mod forgeries;
mod jwks_cache;
#[cfg(feature = "axum")]
mod layer;
mod valid_tokens;
