//! Whether an unexpired, well-signed access token is still honoured: its client exists, its
//! organization has M2M on, its principal is active, and it was not revoked. Answers come
//! from caches that live at most `client_cache_ttl_ms`, so a change made on any process is
//! honoured everywhere within a second.

use crate::state::AppState;
use std::time::Instant;
use tollgate_store::StoreError;
use tollgate_token_verifier::AccessClaims;

/// Whether the token behind `claims` is still live.
pub async fn is_live(state: &AppState, claims: &AccessClaims) -> Result<bool, StoreError> {
    let cache = &state.oauth.clients;
    let Some(client) = cache
        .get(&state.store, &claims.client_id, cache.ttl())
        .await?
    else {
        return Ok(false);
    };
    if client.org_id != claims.org
        || !client.m2m_enabled
        || !client.principal_active
        || client.principal_id != claims.sub
    {
        return Ok(false);
    }
    Ok(!is_revoked(state, &claims.jti).await?)
}

/// Whether the token `jti` was revoked (cached briefly).
pub async fn is_revoked(state: &AppState, jti: &str) -> Result<bool, StoreError> {
    let ttl = state.oauth.clients.ttl();
    if let Some((at, revoked)) = lock(state).get(jti) {
        if *revoked || at.elapsed() <= ttl {
            return Ok(*revoked);
        }
    }
    let revoked = state.store.is_token_revoked(jti).await?;
    let mut cache = lock(state);
    if cache.len() > 100_000 {
        cache.retain(|_, (at, revoked)| *revoked || at.elapsed() <= ttl);
        if cache.len() > 100_000 {
            cache.clear();
        }
    }
    cache.insert(jti.to_owned(), (Instant::now(), revoked));
    Ok(revoked)
}

/// Notes a revocation made by this process.
pub fn note_revoked(state: &AppState, jti: &str) {
    lock(state).insert(jti.to_owned(), (Instant::now(), true));
}

fn lock(
    state: &AppState,
) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (Instant, bool)>> {
    state
        .oauth
        .revoked
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}
