//! Last-used times of secrets, coalesced: token requests record them in memory and a
//! background task writes them every `usage_flush_seconds`, one transaction per flush.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use tollgate_store::Store;

/// Pending last-used times, by secret id.
#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl UsageRecorder {
    /// Notes that a secret authenticated now.
    pub fn record(&self, secret_id: &str, at: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = pending.get_mut(secret_id) {
            *existing = (*existing).max(at);
        } else {
            pending.insert(secret_id.to_owned(), at);
        }
    }

    /// Writes what is pending; on failure, keeps it for the next flush.
    pub async fn flush(&self, store: &Store) {
        let batch: Vec<(String, DateTime<Utc>)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.touch_secrets(&batch).await {
            tracing::warn!(error = %e, count = batch.len(), "could not record secret use; will retry");
            for (id, at) in batch {
                self.record(&id, at);
            }
        }
    }
}
