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

/// A hash no secret has, compared against when the client is unknown so that the work done
/// does not tell an unknown client from a wrong secret.
fn decoy() -> &'static SecretHash {
    static DECOY: OnceLock<SecretHash> = OnceLock::new();
    DECOY.get_or_init(|| SecretHash([0x5a; 32]))
}

/// The matching live secret's id, comparing against every stored hash in constant time.
fn matching_secret(client: Option<&ClientCredentials>, presented: &SecretHash) -> Option<String> {
    let now = Utc::now();
    let mut found = None;
    match client {
        Some(c) => {
            for (id, stored, expires_at) in &c.secrets {
                let same = SecretHash(*stored).matches(presented);
                if same && *expires_at > now {
                    found = Some(id.clone());
                }
            }
        }
        None => {
            let _ = decoy().matches(presented);
        }
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
    let mut client = if known_id {
        cache.get(&state.store, client_id, cache.ttl()).await?
    } else {
        None
    };
    let mut secret_id = matching_secret(client.as_deref(), &presented);
    if secret_id.is_none() && client.is_some() {
        // A secret added moments ago on another process: look once more, fresh.
        client = cache
            .get(&state.store, client_id, Duration::from_millis(50))
            .await?;
        secret_id = matching_secret(client.as_deref(), &presented);
    }
    let failure = match (&client, &secret_id) {
        (None, _) => Some(Failure::UnknownClient),
        (Some(_), None) => Some(Failure::WrongSecret),
        (Some(c), Some(_)) if !c.m2m_enabled => Some(Failure::M2mDisabled),
        (Some(c), Some(_)) if !c.principal_active => Some(Failure::InactivePrincipal),
        _ => None,
    };
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
    let mut keys = Vec::with_capacity(2);
    if known_id {
        keys.push(format!("client:{client_id}"));
    }
    if let Some(ip) = source {
        keys.push(format!("ip:{ip}"));
    }
    let (verdict, audit) = state.oauth.limiter.fail(&keys);
    if let Some(count) = audit {
        tracing::warn!(client_id = %if known_id { client_id } else { "<malformed>" }, source = ?source, reason, "client authentication failed");
        if let Some(c) = client {
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
    }
    match verdict {
        Verdict::Refuse => OAuthError::invalid_client(),
        Verdict::Delay(d) => {
            tokio::time::sleep(d).await;
            OAuthError::invalid_client()
        }
        Verdict::TooMany(retry_after) => OAuthError::slow_down(retry_after),
    }
}
