//! JWK Sets (RFC 7517 §5): parsing the published document into verification keys by `kid`.
//!
//! This module owns [`Jwks`]. It must not fetch anything (the verifier does) and never holds
//! private keys: any private parameter in a JWK is ignored.

use crate::config::SigningAlgorithm;
use crate::error::JwksError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// A verification key from the JWKS and the one algorithm it may be used with.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) key: DecodingKey,
}

/// The usable signing keys of a JWK Set, indexed by `kid` (RFC 7517 §5).
///
/// Keys that cannot verify a Tollgate token are skipped rather than failing the whole set, so a
/// future key type next to today's keys does not break old verifiers: keys without `kid`, with
/// `use` other than `sig`, with `key_ops` lacking `verify`, of an unsupported `kty`/`crv`/`alg`, or
/// whose `alg` contradicts its `kty` (RFC 7517 §4.2–4.5). When `alg` is absent it is inferred
/// from the key type (EC P-256 → ES256, OKP Ed25519 → EdDSA, RSA → RS256).
#[derive(Clone, Default)]
pub struct Jwks {
    keys: HashMap<String, VerificationKey>,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<(&String, &'static str)> = self
            .keys
            .iter()
            .map(|(kid, key)| (kid, key.algorithm.as_str()))
            .collect();
        kids.sort();
        f.debug_struct("Jwks").field("keys", &kids).finish()
    }
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawKey {
    kid: Option<String>,
    kty: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwks {
    /// Parses a JWK Set document (`{"keys":[...]}`), keeping the keys Tollgate tokens can use.
    ///
    /// Fails only when the document is not a JSON object with a `keys` array. When two usable
    /// keys share a `kid`, the first one wins.
    pub fn from_json(document: &[u8]) -> Result<Jwks, JwksError> {
        let raw: RawSet = serde_json::from_slice(document).map_err(JwksError::NotAJwkSet)?;
        let mut keys = HashMap::new();
        for value in raw.keys {
            let Ok(raw_key) = serde_json::from_value::<RawKey>(value) else {
                continue;
            };
            if let Some((kid, key)) = usable_key(raw_key) {
                keys.entry(kid).or_insert(key);
            }
        }
        Ok(Jwks { keys })
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a usable key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.get(kid)
    }
}

fn usable_key(raw: RawKey) -> Option<(String, VerificationKey)> {
    let kid = raw.kid.filter(|kid| !kid.is_empty())?;
    if raw.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    if raw
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return None;
    }
    let inferred = match (raw.kty.as_deref()?, raw.crv.as_deref()) {
        ("EC", Some("P-256")) => SigningAlgorithm::Es256,
        ("OKP", Some("Ed25519")) => SigningAlgorithm::EdDsa,
        ("RSA", _) => SigningAlgorithm::Rs256,
        _ => return None,
    };
    if let Some(alg) = raw.alg.as_deref() {
        if SigningAlgorithm::from_jose(alg) != Some(inferred) {
            return None;
        }
    }
    let key = match inferred {
        SigningAlgorithm::Es256 => {
            let (x, y) = (raw.x?, raw.y?);
            if decoded_len(&x)? != 32 || decoded_len(&y)? != 32 {
                return None;
            }
            DecodingKey::from_ec_components(&x, &y).ok()?
        }
        SigningAlgorithm::EdDsa => {
            let x = raw.x?;
            if decoded_len(&x)? != 32 {
                return None;
            }
            DecodingKey::from_ed_components(&x).ok()?
        }
        SigningAlgorithm::Rs256 => {
            let (n, e) = (raw.n?, raw.e?);
            // RFC 7518 §3.3: RSA keys of 2048 bits or more.
            if decoded_len(&n)? < 256 || decoded_len(&e)? == 0 {
                return None;
            }
            DecodingKey::from_rsa_components(&n, &e).ok()?
        }
    };
    Some((
        kid,
        VerificationKey {
            algorithm: inferred,
            key,
        },
    ))
}

fn decoded_len(b64: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(b64).ok().map(|bytes| bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_cannot_sign_tollgate_tokens_are_skipped_not_fatal() {
        let x = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let document = format!(
            r#"{{"keys":[
                {{"kid":"ok","kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","x":"{x}"}},
                {{"kid":"enc","kty":"OKP","crv":"Ed25519","use":"enc","x":"{x}"}},
                {{"kid":"hmac","kty":"oct","k":"c2VjcmV0","alg":"HS256"}},
                {{"kid":"liar","kty":"OKP","crv":"Ed25519","alg":"ES256","x":"{x}"}},
                {{"kty":"OKP","crv":"Ed25519","x":"{x}"}},
                {{"kid":"future","kty":"ML-DSA","alg":"ML-DSA-65"}}
            ]}}"#
        );

        let jwks = Jwks::from_json(document.as_bytes()).expect("a JWK Set");

        assert_eq!(jwks.len(), 1);
        assert!(jwks.contains_kid("ok"));
    }

    #[test]
    fn a_document_without_a_keys_array_is_not_a_jwk_set() {
        assert!(matches!(
            Jwks::from_json(b"{\"kid\":\"x\"}"),
            Err(JwksError::NotAJwkSet(_))
        ));
        assert!(matches!(
            Jwks::from_json(b"<html>"),
            Err(JwksError::NotAJwkSet(_))
        ));
    }
}
