//! The state every handler shares.

use crate::config::Config;
use std::sync::Arc;
use tollgate_domain::SecretPepper;
use tollgate_store::Store;

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
}

impl AppState {
    /// Wraps the parts.
    pub fn new(store: Store, config: Config, pepper: SecretPepper, public_url: String) -> Self {
        AppState(Arc::new(Inner {
            store,
            config,
            pepper,
            public_url,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
