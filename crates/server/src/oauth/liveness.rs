//! Whether an unexpired, well-signed access token is still honoured: its client exists, its
//! organization has M2M on and has not turned it off since the token was issued, its principal
//! is active and has not been deactivated since, and it was not revoked. Answers come from
//! caches that live at most `client_cache_ttl_ms`, so a change made on any process is honoured
//! everywhere within a second.
//!
//! "Since the token was issued" is what keeps a token dead after M2M is turned back on or its
//! person reactivated: the store records when M2M was last turned off and when a person was
//! last deactivated, and a token whose `iat` is at or before either instant is never live again.
//! `iat` has one-second resolution, so a token issued in the same second as the switch-off
//! (before or after it) is dead too; [`issued_at_not_before`] tells the token endpoint which
//! second a fresh token must be issued after.

use crate::state::AppState;
use std::sync::Arc;
use std::time::Instant;
use tollgate_store::{ClientCredentials, StoreError};
use tollgate_token_verifier::AccessClaims;

/// The token's client as it is now (cached at most `client_cache_ttl_ms`), if the token is
/// still live; `None` if it is not.
pub async fn live_client(
    state: &AppState,
    claims: &AccessClaims,
) -> Result<Option<Arc<ClientCredentials>>, StoreError> {
    let cache = &state.oauth.clients;
    let Some(client) = cache
        .get(&state.store, &claims.client_id, cache.ttl())
        .await?
    else {
        return Ok(None);
    };
    if client.org_id != claims.org
        || !client.m2m_enabled
        || !client.principal_active
        || client.principal_id != claims.sub
        || issued_at_not_before(&client).is_some_and(|second| claims.iat <= second)
    {
        return Ok(None);
    }
    if is_revoked(state, &claims.jti).await? {
        return Ok(None);
    }
    Ok(Some(client))
}

/// The last second (Unix time) in which the client's organization turned M2M off or its
/// principal was deactivated: tokens whose `iat` is at or before it are dead. `None`: neither
/// ever happened.
pub fn issued_at_not_before(client: &ClientCredentials) -> Option<i64> {
    // `timestamp()` floors to the second, so every instant within that second is covered.
    [client.m2m_disabled_at, client.principal_deactivated_at]
        .into_iter()
        .flatten()
        .map(|at| at.timestamp())
        .max()
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
