//! Client authentication for every OAuth endpoint: one keyed hash of the presented secret,
//! constant-time comparison with each stored hash, and one identical answer for every
//! reason of failure.

use super::error::OAuthError;
use super::limiter::Verdict;
use crate::state::AppState;
use chrono::Utc;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tollgate_domain::{ClientId, SecretHash, SecretValue};
use tollgate_store::{AuditEvent, ClientCredentials};

/// An authenticated client.
pub struct Authenticated {
    /// Its credentials and state.
    pub client: Arc<ClientCredentials>,
    /// The secret it used.
    pub secret_id: String,
}

/// A hash no secret has, compared against in place of missing stored hashes so that the
/// work done does not tell an unknown client from a wrong secret.
fn decoy() -> &'static SecretHash {
    static DECOY: OnceLock<SecretHash> = OnceLock::new();
    DECOY.get_or_init(|| SecretHash([0x5a; 32]))
}

/// The matching live secret's id, comparing against every stored hash in constant time, and
/// against the decoy as many more times as it takes to make at least `min_comparisons`, so an
/// unknown client (no stored hash) costs what a client with up to that many secrets costs.
fn matching_secret(
    client: Option<&ClientCredentials>,
    presented: &SecretHash,
    min_comparisons: usize,
) -> Option<String> {
    let now = Utc::now();
    let mut found = None;
    let stored = client.map(|c| c.secrets.as_slice()).unwrap_or_default();
    for (id, hash, expires_at) in stored {
        let same = SecretHash(*hash).matches(presented);
        if same && *expires_at > now {
            found = Some(id.clone());
        }
    }
    for _ in stored.len()..min_comparisons {
        let _ = std::hint::black_box(decoy().matches(presented));
    }
    found
}

enum Failure {
    UnknownClient,
    WrongSecret,
    M2mDisabled,
    InactivePrincipal,
}

impl Failure {
    fn as_str(&self) -> &'static str {
        match self {
            Failure::UnknownClient => "unknown_client",
            Failure::WrongSecret => "wrong_or_expired_secret",
            Failure::M2mDisabled => "m2m_disabled",
            Failure::InactivePrincipal => "inactive_principal",
        }
    }
}

/// Authenticates `client_id` with `secret`. Every failure answers the same 401
/// `invalid_client` (or 429 once the brake engages); the reason goes to the audit log.
pub async fn authenticate(
    state: &AppState,
    client_id: &str,
    secret: &str,
    source: Option<IpAddr>,
) -> Result<Authenticated, OAuthError> {
    let presented = match SecretValue::parse(secret) {
        Ok(value) => state.pepper.hash(&value),
        Err(_) => state.pepper.hash_bytes(secret.as_bytes()),
    };
    let cache = &state.oauth.clients;
    let known_id = ClientId::parse(client_id).is_ok();
    let comparisons = usize::try_from(state.config.max_live_secrets).unwrap_or(1);
    // Every failure does the same work, so that timing tells nothing about why it failed: one
    // keyed hash (above, whatever the secret looks like), a cached lookup, the comparisons
    // (padded with decoys to the most live secrets a client may hold), then, on any failure,
    // a second, fresh lookup and the same comparisons again. The fresh look catches a secret
    // added, or M2M turned on, moments ago on another process; doing it for an unknown client
    // too is what keeps an unknown ID from answering faster than a wrong secret. (A client ID
    // that is not even well formed is never looked up: its shape is public knowledge, and
    // caching arbitrary strings would let anyone grow the cache.)
    let attempt = |client: Option<Arc<ClientCredentials>>| {
        let secret_id = matching_secret(client.as_deref(), &presented, comparisons);
        let failure = match (&client, &secret_id) {
            (None, _) => Some(Failure::UnknownClient),
            (Some(_), None) => Some(Failure::WrongSecret),
            (Some(c), Some(_)) if !c.m2m_enabled => Some(Failure::M2mDisabled),
            (Some(c), Some(_)) if !c.principal_active => Some(Failure::InactivePrincipal),
            _ => None,
        };
        (client, secret_id, failure)
    };
    let lookup = |max_age: Duration| async move {
        if known_id {
            cache.get(&state.store, client_id, max_age).await
        } else {
            Ok(None)
        }
    };
    let (mut client, mut secret_id, mut failure) = attempt(lookup(cache.ttl()).await?);
    if failure.is_some() {
        (client, secret_id, failure) = attempt(lookup(Duration::from_millis(50)).await?);
    }
    match (failure, client, secret_id) {
        (None, Some(client), Some(secret_id)) => Ok(Authenticated { client, secret_id }),
        (failure, client, _) => {
            let reason = failure.map(|f| f.as_str()).unwrap_or("unknown_client");
            Err(refuse(
                state,
                client_id,
                known_id,
                client.as_deref(),
                source,
                reason,
            )
            .await)
        }
    }
}

async fn refuse(
    state: &AppState,
    client_id: &str,
    known_id: bool,
    client: Option<&ClientCredentials>,
    source: Option<IpAddr>,
    reason: &str,
) -> OAuthError {
    let id_key = known_id.then_some(client_id);
    let failure = state.oauth.limiter.fail(id_key, source);
    match (client, failure.audit) {
        // A known client whose audit row is due (at most one per window per client ID,
        // whatever the source address): the audit log, and a warning.
        (Some(c), Some(count)) => {
            tracing::warn!(client_id = %c.client_id, source = ?source, reason, failures = count, "client authentication failed");
            let event = AuditEvent {
                id: 0,
                org_id: Some(c.org_id.clone()),
                at: Utc::now(),
                actor_type: "client".into(),
                actor_id: Some(c.client_id.clone()),
                action: "oauth.client_authentication".into(),
                target_type: Some("api_client".into()),
                target_id: Some(c.client_id.clone()),
                source_ip: source.map(|ip| ip.to_string()),
                outcome: "failure".into(),
                details: serde_json::json!({ "reason": reason, "failures": count }),
            };
            let store = state.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.append_audit(&event).await {
                    tracing::warn!(error = %e, "could not record an authentication failure");
                }
            });
        }
        (Some(_), None) => {}
        // No known client, so no organization's audit log to write to: one warning a second
        // at most for the whole process, counting the failures it stands for, so that
        // rotating client IDs or addresses cannot flood the logs either.
        (None, _) => {
            if let Some(count) = state.oauth.limiter.log_unattributed() {
                tracing::warn!(source = ?source, reason, failures = count, "client authentication failed for unknown client IDs");
            }
        }
    }
    match failure.verdict {
        Verdict::Refuse => OAuthError::invalid_client(),
        Verdict::Delay(d) => {
            tokio::time::sleep(d).await;
            OAuthError::invalid_client()
        }
        Verdict::TooMany(retry_after) => OAuthError::slow_down(retry_after),
    }
}
