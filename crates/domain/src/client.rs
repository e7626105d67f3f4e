//! API clients: their types, names, descriptions, the scope-granting rule and secret expiry.

use crate::role::Role;
use crate::scope::{Scope, ScopeSet};
use caseless::Caseless;
use chrono::{DateTime, Duration, Months, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
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
        Ok(ClientName {
            key: name_key(&display),
            display,
        })
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The uniqueness key: two names with the same key clash. See [`name_key`].
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The uniqueness key of a name: Unicode canonical caseless matching (Unicode §3.13,
/// D145: NFD, then full default case folding, then normalised again; NFC here, which
/// compares equal exactly when NFD does). So "Straße" and "STRASSE" clash, and so do
/// "ΣΊΣΥΦΟΣ", "σίσυφος" and "σίσυφοσ"; plain lower-casing would miss both.
///
/// The key is computed here, never in SQL, so the stored `name_key` of every client
/// follows this one function.
pub fn name_key(name: &str) -> String {
    name.nfd().default_case_fold().nfc().collect()
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
/// The default maximum lifetime an organization allows a secret, in calendar months.
pub const DEFAULT_MAX_SECRET_MONTHS: u32 = 24;

/// The longest lifetime an organization allows a new secret.
///
/// Organizations start at [`SecretLifetimeCap::DEFAULT`], 24 calendar months, counted like
/// the six-month default ([`DateTime::checked_add_months`]: 31 August plus six months is
/// 28 February). An Admin may instead set a number of days
/// (`secret_max_lifetime_days`), which is counted as exact 24-hour days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretLifetimeCap {
    /// That many calendar months after the secret's creation.
    CalendarMonths(u32),
    /// That many days (of 24 hours) after the secret's creation.
    Days(i64),
}

impl SecretLifetimeCap {
    /// The default: 24 calendar months.
    pub const DEFAULT: SecretLifetimeCap =
        SecretLifetimeCap::CalendarMonths(DEFAULT_MAX_SECRET_MONTHS);

    /// The latest expiry a secret created at `now` may have.
    pub fn latest(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            SecretLifetimeCap::CalendarMonths(m) => now
                .checked_add_months(Months::new(m))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            SecretLifetimeCap::Days(d) => now
                .checked_add_signed(Duration::days(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

impl fmt::Display for SecretLifetimeCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretLifetimeCap::CalendarMonths(m) => write!(f, "{m} calendar months"),
            SecretLifetimeCap::Days(1) => f.write_str("1 day"),
            SecretLifetimeCap::Days(d) => write!(f, "{d} days"),
        }
    }
}

/// Why a requested secret expiry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// The date is not in the future.
    #[error("secret_expires_at must be in the future")]
    NotInFuture,
    /// The date is beyond the organization's maximum lifetime.
    #[error("secret_expires_at must be no later than {} (the organization's maximum secret lifetime is {cap})", .max.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))]
    BeyondMaximum {
        /// The latest allowed expiry.
        max: DateTime<Utc>,
        /// The organization's maximum lifetime.
        cap: SecretLifetimeCap,
    },
}

/// Rule 9: a secret's expiry. Default: six calendar months from `now`, capped by the
/// organization's maximum; a custom date must lie in `(now, cap.latest(now)]`.
///
/// Times are kept to the millisecond (as stored), so a requested date is truncated to
/// milliseconds before it is checked: the answer that creates a secret shows exactly the
/// expiry every later read shows. `now` is expected at millisecond precision too.
pub fn secret_expiry(
    now: DateTime<Utc>,
    requested: Option<DateTime<Utc>>,
    cap: SecretLifetimeCap,
) -> Result<DateTime<Utc>, ExpiryError> {
    let max = cap.latest(now).trunc_subsecs(3);
    match requested.map(|at| at.trunc_subsecs(3)) {
        None => {
            let six_months = now
                .checked_add_months(Months::new(DEFAULT_SECRET_MONTHS))
                .unwrap_or(max);
            Ok(six_months.min(max))
        }
        Some(at) if at <= now => Err(ExpiryError::NotInFuture),
        Some(at) if at > max => Err(ExpiryError::BeyondMaximum { max, cap }),
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
    fn names_clash_under_full_unicode_case_folding() {
        let key = |n: &str| ClientName::parse(n).unwrap().key().to_owned();
        assert_eq!(key("Straße"), key("STRASSE"));
        assert_eq!(key("Straße"), key("strasse"));
        assert_eq!(key("ΣΊΣΥΦΟΣ"), key("σίσυφος"));
        assert_eq!(key("σίσυφος"), key("σίσυφοσ"));
        assert_eq!(key("ﬁle sync"), key("FILE SYNC"));
        // Canonically equivalent spellings clash too, whatever their case.
        assert_eq!(key("\u{1f80}"), key("\u{1f08}\u{345}"));
        assert_ne!(key("Strasse"), key("Strase"));
        assert_ne!(key("σ"), key("ο"));
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
        let at = secret_expiry(now, None, SecretLifetimeCap::DEFAULT).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2027, 2, 28, 12, 0, 0).unwrap());
    }

    #[test]
    fn default_expiry_is_capped_by_a_short_maximum() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            secret_expiry(now, None, SecretLifetimeCap::Days(30)).unwrap(),
            now + Duration::days(30)
        );
    }

    #[test]
    fn custom_expiry_must_be_future_and_within_the_maximum() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let cap = SecretLifetimeCap::Days(730);
        assert_eq!(
            secret_expiry(now, Some(now), cap),
            Err(ExpiryError::NotInFuture)
        );
        assert!(matches!(
            secret_expiry(now, Some(now + Duration::days(731)), cap),
            Err(ExpiryError::BeyondMaximum { .. })
        ));
        let ok = now + Duration::days(730);
        assert_eq!(secret_expiry(now, Some(ok), cap), Ok(ok));
    }

    #[test]
    fn the_default_maximum_is_24_calendar_months_not_730_days() {
        // 2027-03-01 + 24 months crosses 29 February 2028: 731 days.
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 9, 30, 0).unwrap();
        let last = Utc.with_ymd_and_hms(2029, 3, 1, 9, 30, 0).unwrap();
        assert_eq!(last - now, Duration::days(731));
        let cap = SecretLifetimeCap::DEFAULT;
        assert_eq!(secret_expiry(now, Some(last), cap), Ok(last));
        let err = secret_expiry(now, Some(last + Duration::milliseconds(1)), cap).unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret_expires_at must be no later than 2029-03-01T09:30:00.000Z (the organization's maximum secret lifetime is 24 calendar months)"
        );
        // Month ends clamp as they do for the six-month default.
        let end = Utc.with_ymd_and_hms(2026, 8, 31, 0, 0, 0).unwrap();
        assert_eq!(
            SecretLifetimeCap::DEFAULT.latest(end),
            Utc.with_ymd_and_hms(2028, 8, 31, 0, 0, 0).unwrap()
        );
        let leap = Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(
            SecretLifetimeCap::DEFAULT.latest(leap),
            Utc.with_ymd_and_hms(2030, 2, 28, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_custom_expiry_is_kept_to_the_millisecond() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let precise = now + Duration::days(10) + Duration::nanoseconds(123_456_789);
        let at = secret_expiry(now, Some(precise), SecretLifetimeCap::DEFAULT).unwrap();
        assert_eq!(at, now + Duration::days(10) + Duration::milliseconds(123));
        // Less than a millisecond ahead is not in the future once truncated.
        assert_eq!(
            secret_expiry(
                now,
                Some(now + Duration::microseconds(999)),
                SecretLifetimeCap::DEFAULT
            ),
            Err(ExpiryError::NotInFuture)
        );
    }
}
