//! What the verifier checks against: issuer, audience, where the keys are, and timing policy.
//!
//! This module owns [`VerifierConfig`] and [`SigningAlgorithm`]. It must not do IO.

use std::fmt;
use std::time::Duration;

/// The most clock skew the verifier will ever tolerate, whatever the configuration asks.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// A JWS algorithm Tollgate signs access tokens with (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// Only asymmetric algorithms exist here: `none` and the HMAC family cannot be expressed, so no
/// configuration can allow them (RFC 8725 §3.1, §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// ECDSA with P-256 and SHA-256; Tollgate's default.
    Es256,
    /// Ed25519 (RFC 8037).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl SigningAlgorithm {
    /// Every supported algorithm, in Tollgate's order of preference.
    pub const ALL: [SigningAlgorithm; 3] = [
        SigningAlgorithm::Es256,
        SigningAlgorithm::EdDsa,
        SigningAlgorithm::Rs256,
    ];

    /// The JOSE name (`ES256`, `EdDSA`, `RS256`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::EdDsa => "EdDSA",
            SigningAlgorithm::Rs256 => "RS256",
        }
    }

    /// Parses a JOSE `alg` value; case-sensitive, as RFC 7515 §4.1.1 requires.
    pub fn from_jose(alg: &str) -> Option<SigningAlgorithm> {
        match alg {
            "ES256" => Some(SigningAlgorithm::Es256),
            "EdDSA" => Some(SigningAlgorithm::EdDsa),
            "RS256" => Some(SigningAlgorithm::Rs256),
            _ => None,
        }
    }

    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlgorithm::Es256 => jsonwebtoken::Algorithm::ES256,
            SigningAlgorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
            SigningAlgorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Verifier`](crate::Verifier) accepts: built with [`VerifierConfig::new`], then adjusted
/// with the `with_*` methods.
///
/// Defaults: JWKS at `{issuer}/.well-known/jwks.json`, leeway 30 s on both `exp` and `nbf`,
/// algorithms ES256, EdDSA and RS256, at most one JWKS refresh every 10 s, cached keys considered
/// fresh for 5 minutes.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    issuer: String,
    audience: String,
    jwks_uri: String,
    expiry_leeway: Duration,
    not_before_leeway: Duration,
    algorithms: Vec<SigningAlgorithm>,
    min_refresh_interval: Duration,
    cache_lifetime: Duration,
}

impl VerifierConfig {
    /// A configuration for tokens from `issuer` meant for `audience`, with every default.
    ///
    /// `issuer` is compared byte for byte with the `iss` claim (RFC 9068 §4), so give it exactly
    /// as Tollgate publishes it; the default JWKS URI is derived from it.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let issuer = issuer.into();
        let jwks_uri = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
        VerifierConfig {
            issuer,
            audience: audience.into(),
            jwks_uri,
            expiry_leeway: Duration::from_secs(30),
            not_before_leeway: Duration::from_secs(30),
            algorithms: SigningAlgorithm::ALL.to_vec(),
            min_refresh_interval: Duration::from_secs(10),
            cache_lifetime: Duration::from_secs(300),
        }
    }

    /// Fetch keys from this URL instead of `{issuer}/.well-known/jwks.json`
    /// (RFC 8414 §2 `jwks_uri`).
    pub fn with_jwks_uri(mut self, jwks_uri: impl Into<String>) -> Self {
        self.jwks_uri = jwks_uri.into();
        self
    }

    /// Clock skew tolerated on both `exp` and `nbf`; capped at [`MAX_LEEWAY`] (60 s).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.expiry_leeway = leeway.min(MAX_LEEWAY);
        self.not_before_leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Clock skew tolerated on `exp` alone; capped at [`MAX_LEEWAY`] (60 s).
    ///
    /// A verifier running on the issuer's own clock (Tollgate's introspection) uses zero: a
    /// token is dead the second its `exp` passes.
    pub fn with_expiry_leeway(mut self, leeway: Duration) -> Self {
        self.expiry_leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Clock skew tolerated on `nbf` alone; capped at [`MAX_LEEWAY`] (60 s).
    ///
    /// Useful even on the issuer's own clock when several processes share the signing key: a
    /// token issued by a process whose clock is slightly ahead must not be refused as "not yet
    /// valid" by another.
    pub fn with_not_before_leeway(mut self, leeway: Duration) -> Self {
        self.not_before_leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Accept only these algorithms (for instance only the one your issuer is configured with).
    ///
    /// Duplicates are dropped. An empty list refuses every token.
    pub fn with_algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = SigningAlgorithm>,
    ) -> Self {
        let mut list: Vec<SigningAlgorithm> = Vec::new();
        for alg in algorithms {
            if !list.contains(&alg) {
                list.push(alg);
            }
        }
        self.algorithms = list;
        self
    }

    /// The shortest time between two JWKS fetches, whatever triggers them. This is what keeps a
    /// flood of tokens with random `kid`s from hammering the JWKS endpoint.
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// How long fetched keys are used before the next verification refreshes them.
    pub fn with_cache_lifetime(mut self, lifetime: Duration) -> Self {
        self.cache_lifetime = lifetime;
        self
    }

    /// The issuer `iss` must equal.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience `aud` must contain.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Where the JWK Set is fetched from.
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    /// The clock skew tolerated on `exp` (never more than [`MAX_LEEWAY`]).
    pub fn expiry_leeway(&self) -> Duration {
        self.expiry_leeway
    }

    /// The clock skew tolerated on `nbf` (never more than [`MAX_LEEWAY`]).
    pub fn not_before_leeway(&self) -> Duration {
        self.not_before_leeway
    }

    /// The accepted algorithms.
    pub fn algorithms(&self) -> &[SigningAlgorithm] {
        &self.algorithms
    }

    /// The shortest time between two JWKS fetches.
    pub fn min_refresh_interval(&self) -> Duration {
        self.min_refresh_interval
    }

    /// How long fetched keys are considered fresh.
    pub fn cache_lifetime(&self) -> Duration {
        self.cache_lifetime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwks_uri_defaults_to_the_well_known_path_under_the_issuer() {
        let config = VerifierConfig::new("https://auth.example.com/", "api");
        assert_eq!(
            config.jwks_uri(),
            "https://auth.example.com/.well-known/jwks.json"
        );
    }

    #[test]
    fn the_leeway_is_capped_at_sixty_seconds() {
        let config = VerifierConfig::new("https://a", "b").with_leeway(Duration::from_secs(3600));
        assert_eq!(config.expiry_leeway(), Duration::from_secs(60));
        assert_eq!(config.not_before_leeway(), Duration::from_secs(60));
        let config = VerifierConfig::new("https://a", "b")
            .with_expiry_leeway(Duration::from_secs(3600))
            .with_not_before_leeway(Duration::from_secs(3600));
        assert_eq!(config.expiry_leeway(), Duration::from_secs(60));
        assert_eq!(config.not_before_leeway(), Duration::from_secs(60));
    }

    #[test]
    fn the_expiry_and_not_before_leeways_are_set_apart() {
        let config = VerifierConfig::new("https://a", "b")
            .with_expiry_leeway(Duration::ZERO)
            .with_not_before_leeway(Duration::from_secs(2));
        assert_eq!(config.expiry_leeway(), Duration::ZERO);
        assert_eq!(config.not_before_leeway(), Duration::from_secs(2));
    }
}
