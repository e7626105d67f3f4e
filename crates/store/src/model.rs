//! The records the store reads and writes, in domain types.

use chrono::{DateTime, TimeZone, Utc};
use tollgate_domain::{ClientType, PrincipalKind, Role, ScopeSet, SecretLifetimeCap};

/// Converts stored Unix milliseconds to a UTC time.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Converts a UTC time to stored Unix milliseconds.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// An organization (tenant) and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// The "M2M API authentication" switch; off by default.
    pub m2m_enabled: bool,
    /// The longest lifetime a new secret may be given (default: 24 calendar months).
    pub secret_max_lifetime: SecretLifetimeCap,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A person or a service principal.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `usr_…` or `sp_…`
    pub id: String,
    /// The organization it belongs to.
    pub org_id: String,
    /// Person or service principal.
    pub kind: PrincipalKind,
    /// Display name.
    pub name: String,
    /// People only: the sign-in email, lower case.
    pub email: Option<String>,
    /// Current role.
    pub role: Role,
    /// Deactivated principals cannot act.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A new person, password already hashed.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// `usr_…`
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// Lower-case email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role (never API admin).
    pub role: Role,
    /// Creation time.
    pub now: DateTime<Utc>,
}

/// An open "new client" draft: a reserved client ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The reserved ID.
    pub client_id: String,
    /// Organization.
    pub org_id: String,
    /// The person who opened it; only they may save it.
    pub person_id: String,
    /// The type chosen when it was opened.
    pub client_type: ClientType,
    /// Opening time.
    pub created_at: DateTime<Utc>,
    /// After this the draft is discarded.
    pub expires_at: DateTime<Utc>,
}

/// An API client as read back, with its principal.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    /// The 32-character client ID.
    pub client_id: String,
    /// Organization.
    pub org_id: String,
    /// Service account or personal.
    pub client_type: ClientType,
    /// Display name.
    pub name: String,
    /// Description, possibly empty.
    pub description: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// The principal it acts as: its service principal, or the person for a personal client.
    pub principal_id: String,
    /// That principal's name.
    pub principal_name: String,
    /// That principal's current role.
    pub role: Role,
    /// Whether that principal is active.
    pub principal_active: bool,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Set once deleted or revoked.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Who deleted or revoked it.
    pub deleted_by: Option<String>,
    /// That person's name.
    pub deleted_by_name: Option<String>,
    /// Whether an Admin revoked it through the governance list.
    pub revoked_by_admin: bool,
}

/// A new API client with its first secret.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// The draft's client ID.
    pub client_id: String,
    /// Organization.
    pub org_id: String,
    /// Type (must match the draft).
    pub client_type: ClientType,
    /// Display name.
    pub name: String,
    /// Uniqueness key of the name.
    pub name_key: String,
    /// Description.
    pub description: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// The creating person.
    pub created_by: String,
    /// For a service account: its new service principal (`sp_…` id and role).
    pub service_principal: Option<(String, Role)>,
    /// Creation time.
    pub now: DateTime<Utc>,
}

/// Changes to a client; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    /// New name and its key.
    pub name: Option<(String, String)>,
    /// New description.
    pub description: Option<String>,
    /// New scopes.
    pub scopes: Option<ScopeSet>,
    /// New role (service accounts).
    pub role: Option<Role>,
}

/// A secret's metadata; the value is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretMeta {
    /// `sec_…`
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// Prefix and last four characters.
    pub hint: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Last successful authentication.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new secret: its metadata and keyed hash.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// `sec_…`
    pub id: String,
    /// HMAC-SHA-256 of the value.
    pub hash: [u8; 32],
    /// Prefix and last four characters.
    pub hint: String,
    /// Who created it.
    pub created_by: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// What the token endpoint needs to authenticate a client, in one read.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client ID.
    pub client_id: String,
    /// Organization.
    pub org_id: String,
    /// Whether the organization has M2M API authentication on.
    pub m2m_enabled: bool,
    /// When the organization last turned M2M off, if ever: tokens issued at or before it are
    /// dead for good.
    pub m2m_disabled_at: Option<DateTime<Utc>>,
    /// Service account or personal.
    pub client_type: ClientType,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// The acting principal.
    pub principal_id: String,
    /// Its kind.
    pub principal_kind: PrincipalKind,
    /// Its current role.
    pub role: Role,
    /// Whether it is active.
    pub principal_active: bool,
    /// When the principal was last deactivated, if ever: tokens issued at or before it are
    /// dead for good.
    pub principal_deactivated_at: Option<DateTime<Utc>>,
    /// The live and expired secrets: `(id, hash, expires_at)`.
    pub secrets: Vec<(String, [u8; 32], DateTime<Utc>)>,
}

impl ClientCredentials {
    /// What the client may do now: its scopes ∩ its principal's current role.
    pub fn effective_scopes(&self) -> ScopeSet {
        self.scopes.intersection(self.role.permissions())
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Position in the log (increasing).
    pub id: i64,
    /// Organization, if the event belongs to one.
    pub org_id: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `person`, `service_principal`, `client` or `system`.
    pub actor_type: String,
    /// Who acted.
    pub actor_id: Option<String>,
    /// What was done, such as `api_client.create`.
    pub action: String,
    /// Kind of the target.
    pub target_type: Option<String>,
    /// The target's id.
    pub target_id: Option<String>,
    /// Source address of the request.
    pub source_ip: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// Extra facts (never a secret).
    pub details: serde_json::Value,
}

/// A token-signing key as stored: the private half is encrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    /// Key id (`kid`).
    pub kid: String,
    /// JOSE algorithm: `ES256`, `EdDSA` or `RS256`.
    pub alg: String,
    /// The private key, encrypted with the key-encryption key.
    pub private_key: Vec<u8>,
    /// The public JWK (JSON).
    pub public_jwk: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// From this time on it signs (it is published from creation).
    pub activate_at: DateTime<Utc>,
    /// From this time on it no longer signs; it stays published while its tokens live.
    pub retired_at: Option<DateTime<Utc>>,
}
