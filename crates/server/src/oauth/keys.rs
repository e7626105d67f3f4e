//! Token-signing keys: generation, encryption at rest, rotation, the JWKS, and the
//! in-process verifiers built from the published keys.
//!
//! Private keys are sealed with AES-256-GCM under a key-encryption key derived from the
//! master key, which never enters the database. Every process re-reads the keys every
//! `key_refresh_seconds`; the signing key is chosen by the same rule everywhere (the newest
//! key whose activation time has come and that is not retired), so processes sharing a
//! database sign with the same key. `rotate` publishes the new key at once and lets it sign
//! only after `key_publish_delay_seconds`; a retired key stays published until every token
//! it signed has expired.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tollgate_store::{SigningKeyRecord, Store, StoreError};
use tollgate_token_verifier::{Jwks, Verifier, VerifierConfig};

/// Clock skew tolerated on `nbf` by this issuer's own verifiers (processes sharing a database
/// may disagree by a second); `exp` gets none.
pub const NOT_BEFORE_LEEWAY: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a key could not be made, sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The algorithm is not one Tollgate signs with.
    #[error("unsupported signing algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// Key material was rejected by the crypto library.
    #[error("key material rejected: {0}")]
    Rejected(String),
    /// A stored key could not be decrypted: wrong master key, or tampering.
    #[error("cannot decrypt signing key {0}: is the master key the one it was sealed with?")]
    Decrypt(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A private key ready to sign.
pub enum Signer {
    /// ECDSA P-256 with SHA-256.
    Es256(EcdsaKeyPair),
    /// Ed25519.
    EdDsa(Ed25519KeyPair),
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(RsaKeyPair),
}

impl Signer {
    fn from_pkcs8(alg: &str, der: &[u8]) -> Result<Signer, KeyError> {
        let rng = SystemRandom::new();
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected(e.to_string());
        Ok(match alg {
            "ES256" => Signer::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                    .map_err(rejected)?,
            ),
            "EdDSA" => Signer::EdDsa(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            "RS256" => Signer::Rs256(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            other => return Err(KeyError::UnsupportedAlgorithm(other.into())),
        })
    }

    /// The JWS signature of `message` (RFC 7518 §3: ECDSA as fixed-width `r || s`).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        let rng = SystemRandom::new();
        match self {
            Signer::Es256(k) => k.sign(&rng, message).map(|s| s.as_ref().to_vec()),
            Signer::EdDsa(k) => Ok(k.sign(message).as_ref().to_vec()),
            Signer::Rs256(k) => {
                let mut signature = vec![0; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)?;
                Ok(signature)
            }
        }
    }

    /// Whether signing costs enough (RSA) to belong on a blocking thread.
    pub fn is_slow(&self) -> bool {
        matches!(self, Signer::Rs256(_))
    }
}

/// One loaded key.
pub struct LoadedKey {
    /// `kid`.
    pub kid: String,
    /// JOSE `alg`.
    pub alg: String,
    /// The private key.
    pub signer: Signer,
    /// Signs from this time on.
    pub activate_at: DateTime<Utc>,
    /// Stops signing at this time.
    pub retired_at: Option<DateTime<Utc>>,
    public_jwk: serde_json::Value,
}

/// The key-encryption key.
pub struct Kek(LessSafeKey);

impl Kek {
    /// A KEK from 32 bytes (derived from the master key).
    pub fn new(key: [u8; 32]) -> Kek {
        Kek(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key).expect("32-byte AES key"),
        ))
    }

    fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyError::Rejected("no randomness".into()))?;
        let mut data = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut data,
            )
            .map_err(|_| KeyError::Rejected("seal".into()))?;
        let mut out = nonce.to_vec();
        out.extend(data);
        Ok(out)
    }

    fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyError::Decrypt(kid.into()));
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Decrypt(kid.into()))?;
        let mut data = data.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| KeyError::Decrypt(kid.into()))?;
        Ok(plain.to_vec())
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Generates a key pair and seals its private half: the record to store.
pub fn generate(
    alg: &str,
    kek: &Kek,
    now: DateTime<Utc>,
    activate_at: DateTime<Utc>,
) -> Result<SigningKeyRecord, KeyError> {
    let rng = SystemRandom::new();
    let kid = tollgate_domain::ids::random_base62(&mut rand::rngs::OsRng, 22);
    let unspecified = |_| KeyError::Rejected("key generation failed".into());
    let (pkcs8, jwk) = match alg {
        "ES256" => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(unspecified)?;
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng)
                    .map_err(|e| KeyError::Rejected(e.to_string()))?;
            let point = pair.public_key().as_ref();
            let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
            (doc.as_ref().to_vec(), jwk)
        }
        "EdDSA" => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(unspecified)?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .map_err(|e| KeyError::Rejected(e.to_string()))?;
            let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
            (doc.as_ref().to_vec(), jwk)
        }
        "RS256" => {
            use rsa::pkcs8::EncodePrivateKey;
            use rsa::traits::PublicKeyParts;
            let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .map_err(|e| KeyError::Rejected(e.to_string()))?;
            let der = private
                .to_pkcs8_der()
                .map_err(|e| KeyError::Rejected(e.to_string()))?;
            let jwk = serde_json::json!({"kty": "RSA", "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be())});
            (der.as_bytes().to_vec(), jwk)
        }
        other => return Err(KeyError::UnsupportedAlgorithm(other.into())),
    };
    let mut jwk = jwk;
    jwk["kid"] = kid.clone().into();
    jwk["alg"] = alg.into();
    jwk["use"] = "sig".into();
    Ok(SigningKeyRecord {
        private_key: kek.seal(&kid, &pkcs8)?,
        kid,
        alg: alg.to_owned(),
        public_jwk: jwk.to_string(),
        created_at: now,
        activate_at,
        retired_at: None,
    })
}

/// The keys as last loaded, with what is derived from them.
pub struct KeyRing {
    keys: Vec<Arc<LoadedKey>>,
    fingerprint: Vec<(String, Option<DateTime<Utc>>)>,
    verifiers: HashMap<String, Verifier>,
}

/// The signing keys of this process, refreshed from the database.
pub struct Keys {
    kek: Kek,
    store: Store,
    ring: RwLock<Arc<KeyRing>>,
    issuer: String,
    audiences: Vec<String>,
    token_lifetime: Duration,
}

impl Keys {
    /// Loads the keys, creating the first one (with `alg`) if the database has none.
    pub async fn load(
        store: Store,
        kek: Kek,
        alg: &str,
        issuer: String,
        audiences: Vec<String>,
        token_lifetime: Duration,
    ) -> Result<Keys, KeyError> {
        let now = Utc::now();
        if store
            .list_signing_keys()
            .await?
            .iter()
            .all(|k| k.retired_at.is_some())
        {
            let first = generate(alg, &kek, now, now)?;
            store.add_signing_key(&first, false).await?;
        }
        let keys = Keys {
            kek,
            store,
            ring: RwLock::new(Arc::new(KeyRing {
                keys: Vec::new(),
                fingerprint: Vec::new(),
                verifiers: HashMap::new(),
            })),
            issuer,
            audiences,
            token_lifetime,
        };
        keys.refresh().await?;
        Ok(keys)
    }

    /// Re-reads the keys; rebuilds the ring only if they changed.
    pub async fn refresh(&self) -> Result<(), KeyError> {
        let records = self.store.list_signing_keys().await?;
        let fingerprint: Vec<_> = records
            .iter()
            .map(|r| (r.kid.clone(), r.retired_at))
            .collect();
        if self.current().fingerprint == fingerprint {
            return Ok(());
        }
        let mut keys = Vec::with_capacity(records.len());
        for r in records {
            let der = self.kek.open(&r.kid, &r.private_key)?;
            keys.push(Arc::new(LoadedKey {
                signer: Signer::from_pkcs8(&r.alg, &der)?,
                public_jwk: serde_json::from_str(&r.public_jwk)
                    .map_err(|e| KeyError::Rejected(e.to_string()))?,
                kid: r.kid,
                alg: r.alg,
                activate_at: r.activate_at,
                retired_at: r.retired_at,
            }));
        }
        let mut ring = KeyRing {
            keys,
            fingerprint,
            verifiers: HashMap::new(),
        };
        let jwks = Jwks::from_json(
            Self::jwks_of(&ring, self.token_lifetime)
                .to_string()
                .as_bytes(),
        )
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        for aud in &self.audiences {
            // The issuer's own verdicts (introspection, the /v1 API) use the issuer's clock:
            // a token is dead the second its `exp` passes, with no leeway. `nbf` keeps a little,
            // because another process sharing the key may run a slightly faster clock.
            let config = VerifierConfig::new(self.issuer.clone(), aud.clone())
                .with_expiry_leeway(std::time::Duration::ZERO)
                .with_not_before_leeway(NOT_BEFORE_LEEWAY);
            ring.verifiers.insert(
                aud.clone(),
                Verifier::with_static_jwks(config, jwks.clone()),
            );
        }
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
        Ok(())
    }

    fn current(&self) -> Arc<KeyRing> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The key that signs now: the newest one whose activation has come and that is not
    /// retired (every process makes the same choice).
    pub fn active(&self, now: DateTime<Utc>) -> Option<Arc<LoadedKey>> {
        let ring = self.current();
        let live =
            |k: &&Arc<LoadedKey>| k.activate_at <= now && k.retired_at.is_none_or(|r| r > now);
        ring.keys
            .iter()
            .filter(live)
            .max_by_key(|k| (k.activate_at, k.kid.clone()))
            .or_else(|| {
                ring.keys
                    .iter()
                    .filter(|k| k.activate_at <= now)
                    .max_by_key(|k| k.activate_at)
            })
            .cloned()
    }

    fn jwks_of(ring: &KeyRing, token_lifetime: Duration) -> serde_json::Value {
        let now = Utc::now();
        let keys: Vec<_> = ring
            .keys
            .iter()
            .filter(|k| {
                k.retired_at
                    .is_none_or(|r| r + token_lifetime + Duration::seconds(60) > now)
            })
            .map(|k| k.public_jwk.clone())
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// The published keys (RFC 7517 JWK Set): the signing key, keys waiting to sign, and
    /// retired keys whose tokens may still be alive.
    pub fn jwks(&self) -> serde_json::Value {
        Self::jwks_of(&self.current(), self.token_lifetime)
    }

    /// The algorithms of the published keys.
    pub fn algorithms(&self) -> Vec<String> {
        let mut algs: Vec<String> = self.current().keys.iter().map(|k| k.alg.clone()).collect();
        algs.sort();
        algs.dedup();
        algs
    }

    /// A verifier of this issuer's tokens for `audience`, if that audience is ours.
    pub fn verifier(&self, audience: &str) -> Option<Verifier> {
        self.current().verifiers.get(audience).cloned()
    }
}

/// Publishes a new key now and makes it the signing key after `publish_delay`; keys signing
/// until then retire at that moment. Returns the new key's `kid` and activation time.
pub async fn rotate(
    store: &Store,
    kek: &Kek,
    alg: &str,
    publish_delay: Duration,
) -> Result<(String, DateTime<Utc>), KeyError> {
    let now = Utc::now();
    let record = generate(alg, kek, now, now + publish_delay)?;
    store.add_signing_key(&record, true).await?;
    Ok((record.kid, record.activate_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = Kek::new([7; 32]);
        let sealed = kek.seal("kid1", b"private").unwrap();
        assert_eq!(kek.open("kid1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid2", &sealed).is_err());
        assert!(Kek::new([8; 32]).open("kid1", &sealed).is_err());
    }

    #[test]
    fn generated_keys_of_every_algorithm_sign() {
        let kek = Kek::new([1; 32]);
        for alg in ["ES256", "EdDSA", "RS256"] {
            let now = Utc::now();
            let record = generate(alg, &kek, now, now).unwrap();
            let der = kek.open(&record.kid, &record.private_key).unwrap();
            let signer = Signer::from_pkcs8(alg, &der).unwrap();
            assert!(!signer.sign(b"message").unwrap().is_empty(), "{alg}");
            let jwk: serde_json::Value = serde_json::from_str(&record.public_jwk).unwrap();
            assert_eq!(jwk["alg"], alg);
            assert!(
                jwk.get("d").is_none(),
                "a public JWK must not carry the private key"
            );
        }
    }
}
