//! Per-process cache of client credentials and state, so warm token requests do not touch
//! the database. Entries live `client_cache_ttl_ms` (default 0.5 s): that bounds how long
//! another process sharing PostgreSQL can keep honouring a deleted client, a revoked
//! secret, a deactivated person or an organization that turned M2M off. Unknown client IDs
//! are cached too, so guessing cannot flood the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_store::{ClientCredentials, Store, StoreError};

const MAX_ENTRIES: usize = 100_000;

/// A cached lookup: when it was made, and the client if it exists.
type Entry = (Instant, Option<Arc<ClientCredentials>>);

/// The cache.
pub struct ClientCache {
    entries: Mutex<HashMap<String, Entry>>,
    ttl: Duration,
}

impl ClientCache {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> ClientCache {
        ClientCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The client's credentials, read from the database if the cached copy is older than
    /// `max_age` (capped at the TTL). `None`: no live client has this ID.
    pub async fn get(
        &self,
        store: &Store,
        client_id: &str,
        max_age: Duration,
    ) -> Result<Option<Arc<ClientCredentials>>, StoreError> {
        let max_age = max_age.min(self.ttl);
        if let Some((at, value)) = self.lock().get(client_id) {
            if at.elapsed() <= max_age {
                return Ok(value.clone());
            }
        }
        let fresh = store.client_credentials(client_id).await?.map(Arc::new);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() <= ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(client_id.to_owned(), (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// The cache lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Forgets everything: after a change made through this process, which is then seen at
    /// once here (other processes see it when their entries expire).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
