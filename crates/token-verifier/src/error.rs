//! Why a token was refused: one variant per check, so callers and logs can tell them apart.
//!
//! This module owns [`VerifyError`] and [`JwksError`]. It must not decide HTTP status codes; the
//! `axum` module does that.

use thiserror::Error;

/// Why [`Verifier::verify`](crate::Verifier::verify) refused a token.
///
/// The `Display` text is for logs and may quote (escaped) parts of the token; what goes back to
/// the client is [`VerifyError::description`], a fixed text per variant, so that nothing an
/// attacker wrote ends up in a response header.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is not three base64url segments with a JSON object header and payload
    /// (RFC 7515 §7.1, RFC 7519 §7.2).
    #[error("malformed token: {reason}")]
    Malformed {
        /// Which part of the structure is wrong.
        reason: &'static str,
    },

    /// The header's `alg` is absent, `none`, an HMAC algorithm or not in the configured
    /// allow-list (RFC 9068 §4: `none` must not be accepted; RFC 8725 §3.1).
    #[error("unsupported signing algorithm {alg:?}")]
    UnsupportedAlgorithm {
        /// The `alg` the header named (empty when absent or not a string).
        alg: String,
    },

    /// The header carries a key or a key location (`jwk`, `jku`, `x5u`, `x5c`) or a `crit`
    /// extension. Keys come only from the configured JWKS (RFC 8725 §3.10).
    #[error("forbidden header parameter {header:?}")]
    ForbiddenHeader {
        /// The header parameter that was present.
        header: &'static str,
    },

    /// The header's `typ` is not `at+jwt` (RFC 9068 §2.1, §4), so this is some other kind of JWT
    /// (an ID token, for instance) and must not be taken as an access token.
    #[error("wrong token type {typ:?}, expected \"at+jwt\"")]
    WrongType {
        /// The `typ` the header carried, if any.
        typ: Option<String>,
    },

    /// No key in the JWKS has the header's `kid`, even after the one refresh allowed
    /// (RFC 7517 §4.5; RFC 7515 §4.1.4).
    #[error("no key with kid {kid:?} in the JWKS")]
    UnknownKey {
        /// The `kid` the header named (empty when absent).
        kid: String,
    },

    /// The key named by `kid` is for a different algorithm than the header's `alg`
    /// (RFC 7517 §4.4; RFC 8725 §3.1: the key decides the algorithm, not the token).
    #[error("key {kid:?} is for {key_alg}, the token says {token_alg}")]
    KeyAlgorithmMismatch {
        /// The key id.
        kid: String,
        /// The algorithm of the key in the JWKS.
        key_alg: &'static str,
        /// The algorithm the token header named.
        token_alg: &'static str,
    },

    /// The signature does not verify with the key named by `kid` (RFC 7515 §5.2).
    #[error("bad signature")]
    BadSignature,

    /// `iss` is not exactly the configured issuer (RFC 9068 §4).
    #[error("wrong issuer {found:?}")]
    WrongIssuer {
        /// The issuer the token named.
        found: String,
    },

    /// `aud` does not contain the configured audience (RFC 9068 §4; RFC 7519 §4.1.3).
    #[error("the token is not for this audience")]
    WrongAudience,

    /// `exp` is in the past by more than the leeway (RFC 7519 §4.1.4).
    #[error("the token expired at {exp}")]
    Expired {
        /// The token's `exp`, in seconds since the epoch.
        exp: i64,
    },

    /// `nbf` is in the future by more than the leeway (RFC 7519 §4.1.5).
    #[error("the token is not valid before {nbf}")]
    NotYetValid {
        /// The token's `nbf`, in seconds since the epoch.
        nbf: i64,
    },

    /// A claim every Tollgate access token carries is absent (RFC 9068 §2.2).
    #[error("missing claim {claim:?}")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },

    /// A claim is present but has the wrong JSON type or a value outside the contract
    /// (an unknown `role`, a `sub` whose prefix contradicts `principal_type`, ...).
    #[error("invalid claim {claim:?}")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
    },

    /// The JWKS could not be fetched or parsed and no keys were cached. This is the
    /// resource server's problem, not the token's.
    #[error("the JWKS is unavailable")]
    JwksUnavailable(#[source] JwksError),
}

impl VerifyError {
    /// A fixed, client-safe sentence for this refusal, for `error_description` (RFC 6750 §3).
    ///
    /// It never contains token content, so it is always a valid header quoted-string.
    pub fn description(&self) -> &'static str {
        match self {
            VerifyError::Malformed { .. } => "the access token is malformed",
            VerifyError::UnsupportedAlgorithm { .. } => {
                "the access token's signing algorithm is not accepted"
            }
            VerifyError::ForbiddenHeader { .. } => {
                "the access token's header carries a forbidden parameter"
            }
            VerifyError::WrongType { .. } => {
                "the token is not an access token (typ must be at+jwt)"
            }
            VerifyError::UnknownKey { .. } => "the access token was signed with an unknown key",
            VerifyError::KeyAlgorithmMismatch { .. } => {
                "the access token's algorithm does not match its key"
            }
            VerifyError::BadSignature => "the access token's signature is invalid",
            VerifyError::WrongIssuer { .. } => "the access token was issued by another issuer",
            VerifyError::WrongAudience => {
                "the access token is not intended for this resource server"
            }
            VerifyError::Expired { .. } => "the access token expired",
            VerifyError::NotYetValid { .. } => "the access token is not valid yet",
            VerifyError::MissingClaim { .. } => "the access token lacks a required claim",
            VerifyError::InvalidClaim { .. } => "the access token has an invalid claim",
            VerifyError::JwksUnavailable(_) => "the signing keys are temporarily unavailable",
        }
    }

    /// Whether the token itself is at fault (answer 401 `invalid_token`), as opposed to the
    /// resource server being unable to fetch keys (answer 503).
    pub fn is_token_error(&self) -> bool {
        !matches!(self, VerifyError::JwksUnavailable(_))
    }
}

/// Why a JWK Set could not be fetched or used (RFC 7517 §5).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The HTTP request failed (connection, timeout, TLS).
    #[error("fetching the JWKS failed")]
    Fetch(#[source] reqwest::Error),

    /// The JWKS endpoint answered with a non-success status.
    #[error("the JWKS endpoint answered HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },

    /// The JWKS document is larger than the verifier accepts.
    #[error("the JWKS document is larger than {limit} bytes")]
    TooLarge {
        /// The size limit in bytes.
        limit: usize,
    },

    /// The document is not a JSON object with a `keys` array (RFC 7517 §5).
    #[error("the JWKS document is not a JWK Set")]
    NotAJwkSet(#[source] serde_json::Error),

    /// A refresh was skipped because the previous attempt was too recent, and no keys are
    /// cached (the endpoint failed on the previous attempt).
    #[error(
        "the JWKS was fetched less than the minimum refresh interval ago and no keys are cached"
    )]
    RefreshTooSoon,

    /// Building the HTTP client failed.
    #[error("building the HTTP client failed")]
    Client(#[source] reqwest::Error),
}
