//! The state every handler shares.

use crate::config::Config;
use crate::oauth::OAuth;
use axum::extract::FromRef;
use std::sync::Arc;
use tollgate_domain::SecretPepper;
use tollgate_store::Store;
use tollgate_token_verifier::{Jwks, Verifier, VerifierConfig};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// Durable storage.
    pub store: Store,
    /// Configuration in effect.
    pub config: Config,
    /// Key of the client-secret hash.
    pub pepper: SecretPepper,
    /// The issuer / external base URL, without a trailing slash.
    pub public_url: String,
    /// The authorization server's keys, caches and counters.
    pub oauth: OAuth,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(
        store: Store,
        config: Config,
        pepper: SecretPepper,
        public_url: String,
        oauth: OAuth,
    ) -> Self {
        AppState(Arc::new(Inner {
            store,
            config,
            pepper,
            public_url,
            oauth,
        }))
    }

    /// The verifier of this server's access tokens for the default audience (the compliance
    /// API), built from the keys this process holds; it follows key rotation.
    pub fn verifier(&self) -> Verifier {
        let audience = &self.oauth.default_audience;
        self.oauth.keys.verifier(audience).unwrap_or_else(|| {
            Verifier::with_static_jwks(
                VerifierConfig::new(self.public_url.clone(), audience.clone()),
                Jwks::default(),
            )
        })
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.verifier()
    }
}
