//! API clients: their types, names, descriptions, the scope-granting rule and secret expiry.

use crate::role::Role;
use crate::scope::{Scope, ScopeSet};
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The two kinds of API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Acts as its own service principal, with the role an Admin picked; managed by Admins.
    ServiceAccount,
    /// Acts as the person who created it, with their current role; private to them.
    Personal,
}

impl ClientType {
    /// The wire identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::ServiceAccount => "service_account",
            ClientType::Personal => "personal",
        }
    }

    /// Parses the wire identifier.
    pub fn parse(s: &str) -> Option<ClientType> {
        match s {
            "service_account" => Some(ClientType::ServiceAccount),
            "personal" => Some(ClientType::Personal),
            _ => None,
        }
    }
}

/// The longest client name, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// The longest client description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// A client's name: trimmed, NFC-normalised, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientName {
    display: String,
    key: String,
}

/// Why a name or description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The name is empty after trimming.
    #[error("name must not be empty")]
    EmptyName,
    /// The name is longer than 100 characters.
    #[error("name must be at most 100 characters")]
    NameTooLong,
    /// The description is longer than 1,000 characters.
    #[error("description must be at most 1000 characters")]
    DescriptionTooLong,
    /// The text holds control characters.
    #[error("{0} must not contain control characters")]
    ControlCharacters(&'static str),
}

impl ClientName {
    /// Trims and normalises a name and checks its length.
    pub fn parse(raw: &str) -> Result<ClientName, TextError> {
        let display: String = raw.trim().nfc().collect();
        if display.is_empty() {
            return Err(TextError::EmptyName);
        }
        if display.chars().count() > NAME_MAX_CHARS {
            return Err(TextError::NameTooLong);
        }
        if display.chars().any(char::is_control) {
            return Err(TextError::ControlCharacters("name"));
        }
        let key = display.to_lowercase().nfc().collect();
        Ok(ClientName { display, key })
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The uniqueness key: NFC, lower case. Two names with the same key clash.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A client's optional description (up to 1,000 characters; line breaks allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Normalises a description and checks its length.
    pub fn parse(raw: &str) -> Result<Description, TextError> {
        let text: String = raw.trim().nfc().collect();
        if text.chars().count() > DESCRIPTION_MAX_CHARS {
            return Err(TextError::DescriptionTooLong);
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(TextError::ControlCharacters("description"));
        }
        Ok(Description(text))
    }

    /// The description text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a set of scopes cannot be granted. Each variant names the first offending scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// A client needs at least one scope.
    #[error("a client needs at least one scope")]
    NoScopes,
    /// The person granting does not hold this scope themselves.
    #[error("you cannot grant `{scope}`: it is beyond your own permissions")]
    BeyondGrantor {
        /// The first scope the grantor lacks.
        scope: Scope,
    },
    /// The service account's role does not permit this scope.
    #[error("`{scope}` is not permitted for the {role} role")]
    BeyondRole {
        /// The first scope the role lacks.
        scope: Scope,
        /// The service account's role.
        role: Role,
    },
}

/// Rule 6: a client has at least one scope; a person grants only scopes they hold, and a
/// service account's scopes also lie within its role.
pub fn check_grant(
    requested: ScopeSet,
    grantor_role: Role,
    service_account_role: Option<Role>,
) -> Result<(), GrantError> {
    if requested.is_empty() {
        return Err(GrantError::NoScopes);
    }
    if let Some(role) = service_account_role {
        if let Some(scope) = requested.difference(role.permissions()).next() {
            return Err(GrantError::BeyondRole { scope, role });
        }
    }
    if let Some(scope) = requested.difference(grantor_role.permissions()).next() {
        return Err(GrantError::BeyondGrantor { scope });
    }
    Ok(())
}

/// The default lifetime of a secret, in calendar months.
pub const DEFAULT_SECRET_MONTHS: u32 = 6;

/// Why a requested secret expiry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// The date is not in the future.
    #[error("secret_expires_at must be in the future")]
    NotInFuture,
    /// The date is beyond the organization's maximum lifetime.
    #[error("secret_expires_at must be no later than {max} (the organization's maximum secret lifetime is {days} days)")]
    BeyondMaximum {
        /// The latest allowed expiry.
        max: DateTime<Utc>,
        /// The organization's maximum lifetime in days.
        days: i64,
    },
}

/// Rule 9: a secret's expiry. Default: six calendar months from `now`, capped by the
/// organization's maximum; a custom date must lie in `(now, now + max_days]`.
pub fn secret_expiry(
    now: DateTime<Utc>,
    requested: Option<DateTime<Utc>>,
    max_lifetime_days: i64,
) -> Result<DateTime<Utc>, ExpiryError> {
    let max = now + Duration::days(max_lifetime_days);
    match requested {
        None => {
            let six_months = now
                .checked_add_months(Months::new(DEFAULT_SECRET_MONTHS))
                .unwrap_or(max);
            Ok(six_months.min(max))
        }
        Some(at) if at <= now => Err(ExpiryError::NotInFuture),
        Some(at) if at > max => Err(ExpiryError::BeyondMaximum {
            max,
            days: max_lifetime_days,
        }),
        Some(at) => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn scopes(names: &[&str]) -> ScopeSet {
        ScopeSet::parse_list(names).unwrap()
    }

    #[test]
    fn names_are_trimmed_normalised_and_compared_without_case() {
        let composed = ClientName::parse("  Caf\u{e9} Sync ").unwrap();
        let decomposed = ClientName::parse("CAFE\u{301} sync").unwrap();
        assert_eq!(composed.as_str(), "Caf\u{e9} Sync");
        assert_eq!(composed.key(), decomposed.key());
    }

    #[test]
    fn names_must_be_one_to_a_hundred_characters() {
        assert_eq!(ClientName::parse("   "), Err(TextError::EmptyName));
        assert!(ClientName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            ClientName::parse(&"a".repeat(101)),
            Err(TextError::NameTooLong)
        );
        assert!(ClientName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn descriptions_are_limited_to_a_thousand_characters() {
        assert!(Description::parse(&"x".repeat(1000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(1001)),
            Err(TextError::DescriptionTooLong)
        );
    }

    #[test]
    fn a_client_needs_a_scope() {
        assert_eq!(
            check_grant(ScopeSet::empty(), Role::Admin, None),
            Err(GrantError::NoScopes)
        );
    }

    #[test]
    fn a_person_cannot_grant_beyond_their_role() {
        let err = check_grant(
            scopes(&["control.read", "control.create"]),
            Role::User,
            None,
        );
        assert_eq!(
            err,
            Err(GrantError::BeyondGrantor {
                scope: "control.create".parse().unwrap()
            })
        );
    }

    #[test]
    fn a_service_account_cannot_hold_scopes_beyond_its_role() {
        let err = check_grant(scopes(&["audit.delete"]), Role::Admin, Some(Role::ApiAdmin));
        assert!(matches!(
            err,
            Err(GrantError::BeyondRole {
                role: Role::ApiAdmin,
                ..
            })
        ));
        assert!(check_grant(scopes(&["audit.read"]), Role::Admin, Some(Role::ApiAdmin)).is_ok());
    }

    #[test]
    fn secrets_expire_after_six_calendar_months_by_default() {
        let now = Utc.with_ymd_and_hms(2026, 8, 31, 12, 0, 0).unwrap();
        let at = secret_expiry(now, None, 730).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2027, 2, 28, 12, 0, 0).unwrap());
    }

    #[test]
    fn default_expiry_is_capped_by_a_short_maximum() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            secret_expiry(now, None, 30).unwrap(),
            now + Duration::days(30)
        );
    }

    #[test]
    fn custom_expiry_must_be_future_and_within_the_maximum() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            secret_expiry(now, Some(now), 730),
            Err(ExpiryError::NotInFuture)
        );
        assert!(matches!(
            secret_expiry(now, Some(now + Duration::days(731)), 730),
            Err(ExpiryError::BeyondMaximum { .. })
        ));
        let ok = now + Duration::days(730);
        assert_eq!(secret_expiry(now, Some(ok), 730), Ok(ok));
    }
}
