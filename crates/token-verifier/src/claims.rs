//! The claims of a verified Tollgate access token, typed (RFC 9068 §2.2 plus Tollgate's own).
//!
//! This module owns [`AccessClaims`] and how it is read out of a verified payload. It must not
//! check signatures, issuer, audience or time: the verifier does, before these are handed out.

use crate::error::VerifyError;
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

/// The role Tollgate granted the principal in its organization (`role` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Every scope in the organization.
    Admin,
    /// Service principals only: every read scope, restricted fields included.
    ApiAdmin,
    /// Compliance programs, controls, risks, tasks and audits.
    ComplianceManager,
    /// Read-only access without restricted fields.
    User,
    /// Only the audits that list the principal as an auditor.
    ExternalAuditor,
}

impl Role {
    /// The wire name (`admin`, `api_admin`, `compliance_manager`, `user`, `external_auditor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ApiAdmin => "api_admin",
            Role::ComplianceManager => "compliance_manager",
            Role::User => "user",
            Role::ExternalAuditor => "external_auditor",
        }
    }

    fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "api_admin" => Some(Role::ApiAdmin),
            "compliance_manager" => Some(Role::ComplianceManager),
            "user" => Some(Role::User),
            "external_auditor" => Some(Role::ExternalAuditor),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who the token was issued to (`principal_type` claim); agrees with the `sub` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// A person; `sub` starts with `usr_`.
    Person,
    /// A service principal (an API client acting for itself); `sub` starts with `sp_`.
    ServicePrincipal,
}

impl PrincipalType {
    /// The wire name (`person`, `service_principal`).
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Person => "person",
            PrincipalType::ServicePrincipal => "service_principal",
        }
    }

    fn subject_prefix(self) -> &'static str {
        match self {
            PrincipalType::Person => "usr_",
            PrincipalType::ServicePrincipal => "sp_",
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a Tollgate access token that passed every check of
/// [`Verifier::verify`](crate::Verifier::verify).
///
/// RFC 9068 §2.2 names `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`; Tollgate also
/// always sends `nbf`, `scope` (§2.2.3), `org`, `role` and `principal_type`. All are required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The issuer, equal to the configured one.
    pub iss: String,
    /// The principal: `usr_…` for a person, `sp_…` for a service principal.
    pub sub: String,
    /// Every audience the token names (a single string on the wire becomes one element).
    pub aud: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Start of validity, seconds since the epoch.
    pub nbf: i64,
    /// The token's unique id (RFC 7519 §4.1.7).
    pub jti: String,
    /// The OAuth client the token was issued to (RFC 9068 §2.2).
    pub client_id: String,
    /// The granted scopes, space-delimited (RFC 6749 §3.3); see [`AccessClaims::scopes`].
    pub scope: String,
    /// The organization the principal acts in.
    pub org: String,
    /// The principal's role in `org`.
    pub role: Role,
    /// Whether `sub` is a person or a service principal.
    pub principal_type: PrincipalType,
}

impl AccessClaims {
    /// The granted scopes, one by one (RFC 6749 §3.3: space-delimited, case-sensitive).
    pub fn scopes(&self) -> impl Iterator<Item = &str> + '_ {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether the token grants exactly this scope (case-sensitive, no wildcards).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// `Ok` when the token grants `scope`; otherwise the refusal to answer with 403
    /// `insufficient_scope` (RFC 6750 §3.1).
    pub fn require_scope(&self, scope: &str) -> Result<(), InsufficientScope> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(InsufficientScope {
                scope: scope.to_owned(),
            })
        }
    }

    /// Reads the claims out of a payload whose signature, issuer, audience and times the caller
    /// has already checked or is about to check.
    pub(crate) fn from_payload(payload: &Map<String, Value>) -> Result<AccessClaims, VerifyError> {
        let principal_type = match required_str(payload, "principal_type")? {
            "person" => PrincipalType::Person,
            "service_principal" => PrincipalType::ServicePrincipal,
            _ => {
                return Err(VerifyError::InvalidClaim {
                    claim: "principal_type",
                })
            }
        };
        let sub = required_str(payload, "sub")?;
        if !sub.starts_with(principal_type.subject_prefix()) {
            return Err(VerifyError::InvalidClaim { claim: "sub" });
        }
        let role = Role::parse(required_str(payload, "role")?)
            .ok_or(VerifyError::InvalidClaim { claim: "role" })?;
        Ok(AccessClaims {
            iss: required_str(payload, "iss")?.to_owned(),
            sub: sub.to_owned(),
            aud: audiences(payload)?,
            exp: required_int(payload, "exp")?,
            iat: required_int(payload, "iat")?,
            nbf: required_int(payload, "nbf")?,
            jti: required_str(payload, "jti")?.to_owned(),
            client_id: required_str(payload, "client_id")?.to_owned(),
            scope: required_str(payload, "scope")?.to_owned(),
            org: required_str(payload, "org")?.to_owned(),
            role,
            principal_type,
        })
    }
}

/// The token lacks a scope the request needs; answer 403 `insufficient_scope` (RFC 6750 §3.1).
///
/// With the `axum` feature it is an `IntoResponse` carrying
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="<scope>"`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the access token lacks the scope {scope:?}")]
pub struct InsufficientScope {
    /// The scope that was required.
    pub scope: String,
}

fn required<'a>(
    payload: &'a Map<String, Value>,
    claim: &'static str,
) -> Result<&'a Value, VerifyError> {
    match payload.get(claim) {
        None | Some(Value::Null) => Err(VerifyError::MissingClaim { claim }),
        Some(value) => Ok(value),
    }
}

fn required_str<'a>(
    payload: &'a Map<String, Value>,
    claim: &'static str,
) -> Result<&'a str, VerifyError> {
    required(payload, claim)?
        .as_str()
        .ok_or(VerifyError::InvalidClaim { claim })
}

/// RFC 7519 §2 NumericDate; Tollgate sends whole seconds, so fractions are refused.
fn required_int(payload: &Map<String, Value>, claim: &'static str) -> Result<i64, VerifyError> {
    required(payload, claim)?
        .as_i64()
        .ok_or(VerifyError::InvalidClaim { claim })
}

/// RFC 7519 §4.1.3: `aud` is one string or an array of strings.
fn audiences(payload: &Map<String, Value>) -> Result<Vec<String>, VerifyError> {
    const CLAIM: &str = "aud";
    match required(payload, CLAIM)? {
        Value::String(aud) => Ok(vec![aud.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or(VerifyError::InvalidClaim { claim: CLAIM })
            })
            .collect(),
        _ => Err(VerifyError::InvalidClaim { claim: CLAIM }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_with_scope(scope: &str) -> AccessClaims {
        AccessClaims {
            iss: "https://auth".into(),
            sub: "sp_1".into(),
            aud: vec!["api".into()],
            exp: 2,
            iat: 1,
            nbf: 1,
            jti: "j".into(),
            client_id: "c".into(),
            scope: scope.into(),
            org: "o".into(),
            role: Role::ApiAdmin,
            principal_type: PrincipalType::ServicePrincipal,
        }
    }

    #[test]
    fn scopes_are_split_on_spaces_and_matched_exactly() {
        let claims = claims_with_scope("control.read  risk.write");

        assert_eq!(
            claims.scopes().collect::<Vec<_>>(),
            ["control.read", "risk.write"]
        );
        assert!(claims.has_scope("risk.write"));
        assert!(!claims.has_scope("risk"));
        assert!(!claims.has_scope(""));
    }

    #[test]
    fn require_scope_names_the_missing_scope() {
        let claims = claims_with_scope("control.read");

        assert_eq!(claims.require_scope("control.read"), Ok(()));
        assert_eq!(
            claims.require_scope("audit.read"),
            Err(InsufficientScope {
                scope: "audit.read".into()
            })
        );
    }
}
