//! Identifiers: client IDs and the prefixed ids of every other record.
//!
//! Prefixes make subjects of different kinds impossible to confuse: a person is `usr_…`,
//! a service principal `sp_…`, so a token's `sub` says what it names.

use rand::{CryptoRng, Rng, RngCore};
use serde::{Deserialize, Serialize};
use std::fmt;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` characters drawn uniformly from `[0-9A-Za-z]`.
pub fn random_base62(rng: &mut (impl RngCore + CryptoRng), n: usize) -> String {
    (0..n)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// A new record id: `prefix_` followed by 22 base62 characters (131 bits).
pub fn new_id(prefix: &str, rng: &mut (impl RngCore + CryptoRng)) -> String {
    format!("{prefix}_{}", random_base62(rng, RECORD_ID_RANDOM_LEN))
}

/// The number of random characters after a record id's `prefix_`.
pub const RECORD_ID_RANDOM_LEN: usize = 22;

/// Whether `s` has the shape of a record id made by [`new_id`] with `prefix`.
///
/// Handlers check path and body ids with this before any query, so text that no record
/// could have (a NUL, a control character, a long string) is answered like a missing
/// record without ever reaching the database.
pub fn is_record_id(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|random| {
            random.len() == RECORD_ID_RANDOM_LEN
                && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Whether `s` has the shape of a principal's id: a person's (`usr_…`) or a service
/// principal's (`sp_…`).
pub fn is_principal_id(s: &str) -> bool {
    is_record_id(PERSON_PREFIX, s) || is_record_id(SERVICE_PRINCIPAL_PREFIX, s)
}

/// Id prefix of organizations.
pub const ORG_PREFIX: &str = "org";
/// Id prefix of people.
pub const PERSON_PREFIX: &str = "usr";
/// Id prefix of service principals.
pub const SERVICE_PRINCIPAL_PREFIX: &str = "sp";
/// Id prefix of client secrets.
pub const SECRET_PREFIX: &str = "sec";

/// The kind of a principal, as written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A human who signs in to the console.
    Person,
    /// The non-human identity of a service-account client; never signs in.
    ServicePrincipal,
}

impl PrincipalKind {
    /// The wire identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Person => "person",
            PrincipalKind::ServicePrincipal => "service_principal",
        }
    }

    /// Parses the wire identifier.
    pub fn parse(s: &str) -> Option<PrincipalKind> {
        match s {
            "person" => Some(PrincipalKind::Person),
            "service_principal" => Some(PrincipalKind::ServicePrincipal),
            _ => None,
        }
    }
}

/// An API client's public identifier: exactly 32 characters `[A-Za-z0-9]` from a CSPRNG.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

/// The length of every client ID.
pub const CLIENT_ID_LEN: usize = 32;

/// The text is not a well-formed client ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a client ID is exactly 32 characters from A-Z, a-z and 0-9")]
pub struct MalformedClientId;

impl ClientId {
    /// A fresh random client ID (190 bits of entropy).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> ClientId {
        ClientId(random_base62(rng, CLIENT_ID_LEN))
    }

    /// Checks the shape of a client ID.
    pub fn parse(s: &str) -> Result<ClientId, MalformedClientId> {
        if s.len() == CLIENT_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(ClientId(s.to_owned()))
        } else {
            Err(MalformedClientId)
        }
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn generated_client_ids_are_32_alphanumerics_and_distinct() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = ClientId::generate(&mut rng);
        let b = ClientId::generate(&mut rng);
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(ClientId::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn malformed_client_ids_are_refused() {
        for bad in [
            "",
            "short",
            &"a".repeat(33),
            &format!("{}-", "a".repeat(31)),
        ] {
            assert!(ClientId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn record_ids_are_recognised_only_with_their_prefix_and_shape() {
        let mut rng = StdRng::seed_from_u64(2);
        let person = new_id(PERSON_PREFIX, &mut rng);
        assert!(is_record_id(PERSON_PREFIX, &person));
        assert!(!is_record_id(SECRET_PREFIX, &person));
        assert!(is_principal_id(&person));
        assert!(is_principal_id(&new_id(SERVICE_PRINCIPAL_PREFIX, &mut rng)));
        assert!(!is_principal_id(&new_id("prg", &mut rng)));
        for bad in [
            "usr_",
            "usr_missing",
            "usr",
            &format!("{person}x"),
            &person.replace('_', "-"),
            &format!("usr_{}\u{0}", "a".repeat(21)),
            &format!("usr_{}é", "a".repeat(20)),
        ] {
            assert!(!is_record_id(PERSON_PREFIX, bad), "{bad:?}");
        }
    }

    #[test]
    fn record_ids_carry_their_kind() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!(new_id(PERSON_PREFIX, &mut rng).starts_with("usr_"));
        assert!(new_id(SERVICE_PRINCIPAL_PREFIX, &mut rng).starts_with("sp_"));
    }
}
