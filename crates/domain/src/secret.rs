//! Client secrets: their format, their keyed hash and the one constant-time comparison.
//!
//! Format (documented in the README for secret scanners): `tgs_` + 43 base62 characters from a
//! CSPRNG (256 bits) + 6 base62 characters encoding the CRC-32 of everything before them.
//! A scanner recognises the prefix and checks the checksum offline, without asking Tollgate.
//!
//! Only `HMAC-SHA-256(pepper, secret)` is stored. The secret has 256 bits of entropy, so a
//! fast keyed hash is enough; a password hash would only cap token throughput.

use crate::ids::random_base62;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// The prefix every Tollgate client secret starts with.
pub const SECRET_PREFIX: &str = "tgs_";
const RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;
/// The total length of a client secret.
pub const SECRET_LEN: usize = SECRET_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

/// A client secret's value. Its `Debug` is redacted and it has no `PartialEq`:
/// secrets are compared only through [`SecretHash::matches`].
pub struct SecretValue(SecretString);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([REDACTED])")
    }
}

/// The text does not have the shape of a Tollgate client secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a Tollgate client secret")]
pub struct MalformedSecret;

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ascii")
}

impl SecretValue {
    /// A fresh secret.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> SecretValue {
        let body = format!("{SECRET_PREFIX}{}", random_base62(rng, RANDOM_LEN));
        let sum = checksum(&body);
        SecretValue(SecretString::from(format!("{body}{sum}")))
    }

    /// Checks the prefix, length, alphabet and checksum of a presented secret.
    pub fn parse(text: &str) -> Result<SecretValue, MalformedSecret> {
        let well_formed = text.len() == SECRET_LEN
            && text.starts_with(SECRET_PREFIX)
            && text[SECRET_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
            && checksum(&text[..SECRET_LEN - CHECKSUM_LEN]) == text[SECRET_LEN - CHECKSUM_LEN..];
        if well_formed {
            Ok(SecretValue(SecretString::from(text.to_owned())))
        } else {
            Err(MalformedSecret)
        }
    }

    /// The value, for the one response that shows it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// What lists show instead of the value: the prefix and the last four characters.
    pub fn hint(&self) -> String {
        let value = self.expose();
        format!("{SECRET_PREFIX}…{}", &value[value.len() - 4..])
    }
}

/// The server-side key of the secret hash. Lives in configuration or a key file, never in
/// the database, so a stolen database alone cannot test guesses.
#[derive(Clone)]
pub struct SecretPepper([u8; 32]);

impl fmt::Debug for SecretPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPepper([REDACTED])")
    }
}

impl SecretPepper {
    /// A pepper from 32 key bytes.
    pub fn new(key: [u8; 32]) -> SecretPepper {
        SecretPepper(key)
    }

    /// `HMAC-SHA-256(pepper, value)`.
    pub fn hash(&self, value: &SecretValue) -> SecretHash {
        self.hash_bytes(value.expose().as_bytes())
    }

    /// `HMAC-SHA-256(pepper, bytes)`, for presented text that failed [`SecretValue::parse`]:
    /// hashing it anyway keeps the failure path as slow as the success path.
    pub fn hash_bytes(&self, bytes: &[u8]) -> SecretHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(bytes);
        SecretHash(mac.finalize().into_bytes().into())
    }
}

/// A stored secret hash.
#[derive(Clone, Copy)]
pub struct SecretHash(pub [u8; 32]);

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    /// Rebuilds a hash read from storage; `None` if it is not 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<SecretHash> {
        bytes.try_into().ok().map(SecretHash)
    }

    /// The one comparison of secrets: constant time in the contents.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn generated_secrets_parse_and_carry_prefix_and_checksum() {
        let mut rng = StdRng::seed_from_u64(3);
        let secret = SecretValue::generate(&mut rng);
        assert_eq!(secret.expose().len(), SECRET_LEN);
        assert!(secret.expose().starts_with("tgs_"));
        assert!(SecretValue::parse(secret.expose()).is_ok());
    }

    #[test]
    fn a_single_changed_character_fails_the_checksum() {
        let mut rng = StdRng::seed_from_u64(4);
        let value = SecretValue::generate(&mut rng).expose().to_owned();
        let mut bytes = value.into_bytes();
        bytes[10] = if bytes[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            SecretValue::parse(std::str::from_utf8(&bytes).unwrap()).err(),
            Some(MalformedSecret)
        );
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let mut rng = StdRng::seed_from_u64(5);
        let secret = SecretValue::generate(&mut rng);
        assert!(!format!("{secret:?}").contains(&secret.expose()[4..]));
    }

    #[test]
    fn hint_is_prefix_and_last_four() {
        let mut rng = StdRng::seed_from_u64(6);
        let secret = SecretValue::generate(&mut rng);
        let v = secret.expose();
        assert_eq!(secret.hint(), format!("tgs_…{}", &v[v.len() - 4..]));
    }

    #[test]
    fn hashes_depend_on_the_pepper_and_compare_equal_only_for_the_same_secret() {
        let mut rng = StdRng::seed_from_u64(8);
        let (a, b) = (
            SecretValue::generate(&mut rng),
            SecretValue::generate(&mut rng),
        );
        let pepper = SecretPepper::new([1; 32]);
        assert!(pepper.hash(&a).matches(&pepper.hash(&a)));
        assert!(!pepper.hash(&a).matches(&pepper.hash(&b)));
        assert!(!SecretPepper::new([2; 32])
            .hash(&a)
            .matches(&pepper.hash(&a)));
    }
}
