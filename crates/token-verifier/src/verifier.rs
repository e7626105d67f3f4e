//! The [`Verifier`]: every check of RFC 9068 §4 on a compact JWS, and the JWKS cache behind it.
//!
//! This module owns the order of the checks and the key cache's refresh policy. It does not use
//! `jsonwebtoken::Validation` (whose defaults skip `nbf` and `typ` and allow 60 s of leeway):
//! every check is written out here so that each refusal has its own [`VerifyError`] variant.
//! Only the signature arithmetic is delegated to `jsonwebtoken`.

use crate::claims::AccessClaims;
use crate::config::{SigningAlgorithm, VerifierConfig};
use crate::error::{JwksError, VerifyError};
use crate::jwks::{Jwks, VerificationKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Tokens longer than this are refused before any decoding (Tollgate's are well under 4 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// JWKS documents larger than this are refused (Tollgate's hold a handful of keys).
const MAX_JWKS_LEN: usize = 1024 * 1024;
/// How long one JWKS request may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Header parameters that carry a key or say where to get one (RFC 7515 §4.1.2–4.1.6), and
/// `crit`, whose extensions this verifier does not implement (RFC 7515 §4.1.11).
const FORBIDDEN_HEADERS: [&str; 5] = ["jwk", "jku", "x5u", "x5c", "crit"];

/// Checks Tollgate access tokens; cheap to clone (an `Arc` inside), so build one per process
/// and share it.
///
/// Keys come only from the configured JWK Set (RFC 7517 §5), fetched lazily on the first
/// verification, reused for the configured cache lifetime, and refreshed once when a token names
/// an unknown `kid` (key rotation), but never more often than the minimum refresh interval. When
/// a refresh fails, the keys already cached stay in use until a later refresh succeeds.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    /// `None` for a verifier built on a static key set: it never fetches.
    client: Option<reqwest::Client>,
    cache: RwLock<Cached>,
    /// Held while deciding on and performing a fetch, so concurrent verifications that all miss
    /// wait for one fetch instead of each starting their own.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Clone)]
struct Cached {
    jwks: Arc<Jwks>,
    /// When `jwks` was obtained; `None` when nothing was ever fetched.
    fetched_at: Option<Instant>,
}

struct RefreshState {
    last_attempt: Option<Instant>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.inner.config)
            .field("static_keys", &self.inner.client.is_none())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier that fetches keys from `config.jwks_uri()` with its own HTTP client.
    ///
    /// Nothing is fetched yet; call [`Verifier::warm_up`] to fetch at startup.
    pub fn new(config: VerifierConfig) -> Result<Verifier, JwksError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!(
                "tollgate-token-verifier/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(JwksError::Client)?;
        Ok(Verifier::with_http_client(config, client))
    }

    /// A verifier that fetches keys with the given client (custom TLS roots, proxies, timeouts).
    pub fn with_http_client(config: VerifierConfig, client: reqwest::Client) -> Verifier {
        Verifier::build(config, Some(client), Jwks::default(), None)
    }

    /// A verifier that starts from a key set fetched elsewhere and refreshes it from
    /// `config.jwks_uri()` like [`Verifier::new`] (on unknown `kid`, or after the cache lifetime).
    pub fn from_fetched_jwks(config: VerifierConfig, jwks: Jwks) -> Result<Verifier, JwksError> {
        let verifier = Verifier::new(config)?;
        *verifier
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Cached {
            jwks: Arc::new(jwks),
            fetched_at: Some(Instant::now()),
        };
        Ok(verifier)
    }

    /// A verifier that only ever uses `jwks` and never touches the network: for tests, and for
    /// the issuing process itself, which already holds its public keys.
    pub fn with_static_jwks(config: VerifierConfig, jwks: Jwks) -> Verifier {
        Verifier::build(config, None, jwks, Some(Instant::now()))
    }

    fn build(
        config: VerifierConfig,
        client: Option<reqwest::Client>,
        jwks: Jwks,
        fetched_at: Option<Instant>,
    ) -> Verifier {
        Verifier {
            inner: Arc::new(Inner {
                config,
                client,
                cache: RwLock::new(Cached {
                    jwks: Arc::new(jwks),
                    fetched_at,
                }),
                refresh: tokio::sync::Mutex::new(RefreshState { last_attempt: None }),
            }),
        }
    }

    /// The configuration this verifier checks against.
    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// Fetches the JWKS now unless a fetch happened within the minimum refresh interval, so
    /// that a readiness check can fail early. Does nothing for a static key set.
    pub async fn warm_up(&self) -> Result<(), JwksError> {
        if self.inner.client.is_none() {
            return Ok(());
        }
        let observed = self.cached();
        self.refresh(&observed).await.map(|_| ())
    }

    /// Verifies a compact-serialized access token (the part after `Bearer `) and returns its
    /// claims.
    ///
    /// In order (RFC 9068 §4, RFC 8725 §3): three base64url segments with JSON header and
    /// payload; no key-bearing header (`jwk`, `jku`, `x5u`, `x5c`) and no `crit`; `alg` in the
    /// allow-list (never `none` or HMAC); `typ` is `at+jwt` (`application/` prefix and case
    /// ignored, RFC 7515 §4.1.9); the key named by `kid` exists in the JWKS and is for that
    /// `alg`; the signature; every required claim, well typed; `iss` equal to the configured
    /// issuer; `aud` containing the configured audience; `exp` and `nbf` within their leeways.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let token = Token::parse(token)?;
        let alg = self.check_header(&token.header)?;
        let kid = match token.header.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() => kid.as_str(),
            _ => {
                return Err(VerifyError::Malformed {
                    reason: "the header has no kid",
                })
            }
        };
        let key = self.key_for(kid, alg).await?;
        let signed = jsonwebtoken::crypto::verify(
            token.signature,
            token.signing_input.as_bytes(),
            &key.key,
            alg.to_jsonwebtoken(),
        );
        if !matches!(signed, Ok(true)) {
            return Err(VerifyError::BadSignature);
        }
        let claims = AccessClaims::from_payload(&token.payload)?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    fn check_header(&self, header: &Map<String, Value>) -> Result<SigningAlgorithm, VerifyError> {
        if let Some(header) = FORBIDDEN_HEADERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(VerifyError::ForbiddenHeader { header });
        }
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let alg = SigningAlgorithm::from_jose(alg_name)
            .filter(|alg| self.inner.config.algorithms().contains(alg))
            .ok_or_else(|| VerifyError::UnsupportedAlgorithm {
                alg: truncated(alg_name),
            })?;
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(is_access_token_type) {
            return Err(VerifyError::WrongType {
                typ: header.get("typ").map(|typ| truncated(&typ.to_string())),
            });
        }
        Ok(alg)
    }

    fn check_claims(&self, claims: &AccessClaims) -> Result<(), VerifyError> {
        let config = &self.inner.config;
        if claims.iss != config.issuer() {
            return Err(VerifyError::WrongIssuer {
                found: truncated(&claims.iss),
            });
        }
        if !claims.aud.iter().any(|aud| aud == config.audience()) {
            return Err(VerifyError::WrongAudience);
        }
        let now = unix_now();
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(0);
        // RFC 7519 §4.1.4: the current time must be before `exp`.
        if now >= claims.exp.saturating_add(seconds(config.expiry_leeway())) {
            return Err(VerifyError::Expired { exp: claims.exp });
        }
        // RFC 7519 §4.1.5: the current time must be at or after `nbf`.
        if now
            < claims
                .nbf
                .saturating_sub(seconds(config.not_before_leeway()))
        {
            return Err(VerifyError::NotYetValid { nbf: claims.nbf });
        }
        Ok(())
    }

    async fn key_for(
        &self,
        kid: &str,
        alg: SigningAlgorithm,
    ) -> Result<VerificationKey, VerifyError> {
        let cached = self.cached();
        let fresh = match (&self.inner.client, cached.fetched_at) {
            (None, _) => true,
            (Some(_), Some(fetched_at)) => {
                fetched_at.elapsed() < self.inner.config.cache_lifetime()
            }
            (Some(_), None) => false,
        };
        let jwks = match cached.jwks.get(kid) {
            Some(_) if fresh => cached.jwks,
            None if self.inner.client.is_none() => cached.jwks,
            _ => self
                .refresh(&cached)
                .await
                .map_err(VerifyError::JwksUnavailable)?,
        };
        let key = jwks.get(kid).ok_or_else(|| VerifyError::UnknownKey {
            kid: truncated(kid),
        })?;
        if key.algorithm != alg {
            return Err(VerifyError::KeyAlgorithmMismatch {
                kid: truncated(kid),
                key_alg: key.algorithm.as_str(),
                token_alg: alg.as_str(),
            });
        }
        Ok(key.clone())
    }

    fn cached(&self) -> Cached {
        self.inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Fetches the JWKS unless another task already did since `observed` was read, or the last
    /// attempt is more recent than the minimum refresh interval. Returns the keys to use: the
    /// new ones, or the cached ones when no fetch was made or it failed.
    async fn refresh(&self, observed: &Cached) -> Result<Arc<Jwks>, JwksError> {
        let Some(client) = &self.inner.client else {
            return Ok(observed.jwks.clone());
        };
        let mut state = self.inner.refresh.lock().await;
        let current = self.cached();
        if current.fetched_at != observed.fetched_at {
            return Ok(current.jwks);
        }
        if let Some(last) = state.last_attempt {
            if last.elapsed() < self.inner.config.min_refresh_interval() {
                return match current.fetched_at {
                    Some(_) => Ok(current.jwks),
                    None => Err(JwksError::RefreshTooSoon),
                };
            }
        }
        state.last_attempt = Some(Instant::now());
        match fetch_jwks(client, self.inner.config.jwks_uri()).await {
            Ok(jwks) => {
                let fetched = Cached {
                    jwks: Arc::new(jwks),
                    fetched_at: Some(Instant::now()),
                };
                *self
                    .inner
                    .cache
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = fetched.clone();
                tracing::debug!(
                    jwks_uri = self.inner.config.jwks_uri(),
                    keys = fetched.jwks.len(),
                    "fetched the JWKS"
                );
                Ok(fetched.jwks)
            }
            Err(error) if current.fetched_at.is_some() => {
                tracing::warn!(
                    jwks_uri = self.inner.config.jwks_uri(),
                    error = &error as &dyn std::error::Error,
                    "refreshing the JWKS failed; keeping the cached keys"
                );
                Ok(current.jwks)
            }
            Err(error) => {
                tracing::warn!(
                    jwks_uri = self.inner.config.jwks_uri(),
                    error = &error as &dyn std::error::Error,
                    "fetching the JWKS failed"
                );
                Err(error)
            }
        }
    }
}

/// A compact JWS split and decoded, before any trust is placed in it (RFC 7515 §7.1).
struct Token<'a> {
    header: Map<String, Value>,
    payload: Map<String, Value>,
    signing_input: &'a str,
    signature: &'a str,
}

impl<'a> Token<'a> {
    fn parse(token: &'a str) -> Result<Token<'a>, VerifyError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(VerifyError::Malformed {
                reason: "the token is too long",
            });
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(VerifyError::Malformed {
                reason: "a JWS has three segments",
            });
        };
        let signing_input = &token[..header.len() + 1 + payload.len()];
        Ok(Token {
            header: json_object(
                header,
                "the header is not base64url",
                "the header is not a JSON object",
            )?,
            payload: json_object(
                payload,
                "the payload is not base64url",
                "the payload is not a JSON object",
            )?,
            signing_input,
            signature,
        })
    }
}

fn json_object(
    segment: &str,
    not_base64: &'static str,
    not_json: &'static str,
) -> Result<Map<String, Value>, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| VerifyError::Malformed { reason: not_base64 })?;
    serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed { reason: not_json })
}

/// RFC 9068 §2.1 and RFC 7515 §4.1.9: `at+jwt`, optionally as `application/at+jwt`, compared
/// case-insensitively.
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ.strip_prefix("application/").unwrap_or(&typ) == "at+jwt"
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// Attacker-supplied text kept in errors is bounded so that logs stay readable.
fn truncated(text: &str) -> String {
    text.chars().take(64).collect()
}

async fn fetch_jwks(client: &reqwest::Client, jwks_uri: &str) -> Result<Jwks, JwksError> {
    let mut response = client
        .get(jwks_uri)
        .header(
            reqwest::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .send()
        .await
        .map_err(JwksError::Fetch)?;
    if !response.status().is_success() {
        return Err(JwksError::Status {
            status: response.status().as_u16(),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(JwksError::Fetch)? {
        if body.len() + chunk.len() > MAX_JWKS_LEN {
            return Err(JwksError::TooLarge {
                limit: MAX_JWKS_LEN,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Jwks::from_json(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_token_type_is_matched_with_or_without_the_media_type_prefix() {
        assert!(is_access_token_type("at+jwt"));
        assert!(is_access_token_type("AT+JWT"));
        assert!(is_access_token_type("application/at+jwt"));
        assert!(is_access_token_type("Application/At+Jwt"));
        assert!(!is_access_token_type("JWT"));
        assert!(!is_access_token_type("application/jwt"));
        assert!(!is_access_token_type("text/at+jwt"));
    }
}
