//! Tollgate's storage: durable state on SQLite (the embedded default) or PostgreSQL.
//!
//! Both engines run the same SQL, written once in `queries.rs` and expanded for each engine,
//! so they cannot drift apart; only connection set-up, migrations (same numbers, each in its
//! engine's dialect) and how a write transaction takes its lock differ. The server holds one
//! [`Store`] and never asks which engine is underneath.
//!
//! This crate owns transactions and the audit rows written inside them; it makes no
//! authorization decisions (the server does) and knows nothing of HTTP.

pub mod model;
#[macro_use]
mod queries;
#[macro_use]
pub mod compliance;
mod postgres;
mod sqlite;

use chrono::{DateTime, Utc};
pub use model::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
use tollgate_domain::{ClientType, Role, Scope, SecretLifetimeCap};

/// A failure of the storage engine itself; never caused by the caller's input, except
/// [`StoreError::UnstorableText`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The database refused text it cannot store: PostgreSQL refuses U+0000 in `text`
    /// (SQLSTATE 22021, `character_not_in_repertoire`) and characters its encoding lacks
    /// (22P05, `untranslatable_character`). Handlers check every input's shape first; this
    /// is the safety net that keeps such input a 400 rather than a 500. SQLite stores any
    /// text, so it has no equivalent.
    #[error("text the database cannot store")]
    UnstorableText(#[source] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration error")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        let unstorable = matches!(
            &e,
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05"))
        );
        if unstorable {
            StoreError::UnstorableText(e)
        } else {
            StoreError::Database(e)
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to refusing a statement).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            )
        )
    }
}

/// Why a write was not made. Everything but `Store` is the caller's to fix.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The target does not exist in this organization.
    #[error("not found")]
    NotFound,
    /// No open draft with this client ID belongs to this person.
    #[error("draft not found")]
    DraftNotFound,
    /// Another live client of the same organization and type has this name.
    #[error("name taken")]
    NameTaken,
    /// Another person has this email.
    #[error("email taken")]
    EmailTaken,
    /// The change would leave the organization without an active Admin.
    #[error("last active admin")]
    LastAdmin,
    /// The client already holds the maximum number of live secrets.
    #[error("secret limit reached")]
    SecretLimit,
    /// After the change a service account would hold a scope its role does not permit
    /// (checked inside the write, against the client's state at that moment).
    #[error("`{scope}` is not permitted for the {role} role")]
    ScopeBeyondRole {
        /// The first scope the role lacks.
        scope: Scope,
        /// The role the service principal would have.
        role: Role,
    },
    /// The person making the change is no longer an active Admin (checked inside the write).
    #[error("the actor is no longer an active admin")]
    ActorNotAdmin,
    /// The storage engine failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(e.into())
    }
}

/// A change of an organization's maximum secret lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapChange {
    /// Leave it as it is.
    Keep,
    /// Set it.
    Set(SecretLifetimeCap),
}

/// Which clients a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFilter<'a> {
    /// Every live service-account client of the organization.
    ServiceAccounts,
    /// A person's own personal clients, including those an Admin revoked.
    PersonalOf(&'a str),
    /// Every live personal client of the organization (the governance list).
    AllPersonal,
}

/// The storage used by the server: one engine or the other.
#[derive(Clone, Debug)]
pub enum Store {
    /// SQLite, the embedded default.
    Sqlite(SqliteStore),
    /// PostgreSQL, for several processes sharing one state.
    Postgres(PgStore),
}

/// Delegates a call to whichever engine the store holds.
macro_rules! delegate {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and applies migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::Postgres(PgStore::connect(url, max_connections).await?)
        } else {
            Store::Sqlite(SqliteStore::connect(url, max_connections).await?)
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The engine's name, for logs and health checks.
    pub fn engine(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        delegate!(self.migrate())
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self.ping())
    }

    /// Number of organizations (zero on a fresh install).
    pub async fn count_orgs(&self) -> Result<i64, StoreError> {
        delegate!(self.count_orgs())
    }

    /// Creates an organization with its first Admin.
    pub async fn create_org(
        &self,
        org_id: &str,
        name: &str,
        admin: &NewPerson,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.create_org(org_id, name, admin, audit))
    }

    /// Reads an organization.
    pub async fn get_org(&self, org_id: &str) -> Result<Option<Org>, StoreError> {
        delegate!(self.get_org(org_id))
    }

    /// Changes an organization's settings. When a person acts (the audit event's actor), the
    /// change is refused with [`WriteError::ActorNotAdmin`] unless that person is, inside the
    /// same transaction, still an active Admin of the organization.
    pub async fn update_org(
        &self,
        org_id: &str,
        m2m_enabled: Option<bool>,
        secret_max_lifetime: CapChange,
        audit: &AuditEvent,
    ) -> Result<Org, WriteError> {
        delegate!(self.update_org(org_id, m2m_enabled, secret_max_lifetime, audit))
    }

    /// Finds a person by (lower-case) email, with their password hash.
    pub async fn find_person_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(Principal, String)>, StoreError> {
        delegate!(self.find_person_by_email(email))
    }

    /// Reads a principal of an organization.
    pub async fn get_principal(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<Principal>, StoreError> {
        delegate!(self.get_principal(org_id, id))
    }

    /// Lists an organization's principals of one kind (or all), ordered by id.
    pub async fn list_principals(
        &self,
        org_id: &str,
        kind: Option<tollgate_domain::PrincipalKind>,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Principal>, StoreError> {
        delegate!(self.list_principals(org_id, kind, after_id, limit))
    }

    /// Adds a person. When a person acts (the audit event's actor), the change is refused with
    /// [`WriteError::ActorNotAdmin`] unless that person is, inside the same transaction, still
    /// an active Admin of the organization.
    pub async fn create_person(
        &self,
        person: &NewPerson,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.create_person(person, audit))
    }

    /// Changes a person's role or active state, refusing to leave no active Admin.
    /// Deactivation also ends their sessions. With `actor_id`, the change is refused with
    /// [`WriteError::ActorNotAdmin`] unless that person is, inside the same transaction,
    /// still an active Admin of the organization.
    pub async fn update_person(
        &self,
        org_id: &str,
        person_id: &str,
        role: Option<Role>,
        active: Option<bool>,
        actor_id: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<Principal, WriteError> {
        delegate!(self.update_person(org_id, person_id, role, active, actor_id, audit))
    }

    /// Stores a new session (by the hash of its token).
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        person_id: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        delegate!(self.create_session(token_hash, person_id, csrf_token, now, expires_at))
    }

    /// The active person and CSRF token of a live session.
    pub async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Principal, String, DateTime<Utc>)>, StoreError> {
        delegate!(self.get_session(token_hash, now))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        delegate!(self.delete_session(token_hash))
    }

    /// Reserves a client ID; `Ok(false)` if the ID is already in use (draw another).
    /// `audit` is written in the same transaction when the draft is stored.
    pub async fn create_draft(
        &self,
        draft: &Draft,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        delegate!(self.create_draft(draft, audit))
    }

    /// Discards a person's draft; `Ok(false)` if there was none. `audit` is written in the
    /// same transaction when a draft was discarded.
    pub async fn delete_draft(
        &self,
        org_id: &str,
        person_id: &str,
        client_id: &str,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        delegate!(self.delete_draft(org_id, person_id, client_id, audit))
    }

    /// Saves a draft as a client with its first secret (and its service principal).
    pub async fn create_client(
        &self,
        client: &NewClient,
        secret: &NewSecret,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.create_client(client, secret, audit))
    }

    /// Reads a client, deleted or not.
    pub async fn get_client(
        &self,
        org_id: &str,
        client_id: &str,
    ) -> Result<Option<ApiClient>, StoreError> {
        delegate!(self.get_client(org_id, client_id))
    }

    /// Lists clients of an organization.
    pub async fn list_clients(
        &self,
        org_id: &str,
        filter: ClientFilter<'_>,
    ) -> Result<Vec<ApiClient>, StoreError> {
        delegate!(self.list_clients(org_id, filter))
    }

    /// Changes a live client. For a service account, the scopes and role it would have
    /// afterwards are checked inside the transaction (the client's row locked), so two
    /// concurrent changes cannot together give it a scope beyond its role
    /// ([`WriteError::ScopeBeyondRole`]).
    pub async fn update_client(
        &self,
        org_id: &str,
        client_id: &str,
        changes: &ClientChanges,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.update_client(org_id, client_id, changes, audit))
    }

    /// Deletes (or, for the governance list, revokes) a live client: its secrets go, its
    /// service principal is deactivated, and the row stays so history still names it.
    pub async fn delete_client(
        &self,
        org_id: &str,
        client_id: &str,
        deleted_by: &str,
        revoked_by_admin: bool,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.delete_client(org_id, client_id, deleted_by, revoked_by_admin, audit))
    }

    /// The secrets of clients, by client.
    pub async fn list_secrets(&self, client_ids: &[String]) -> Result<Vec<SecretMeta>, StoreError> {
        delegate!(self.list_secrets(client_ids))
    }

    /// Adds a secret unless the client already holds `cap` live ones.
    pub async fn add_secret(
        &self,
        client_id: &str,
        secret: &NewSecret,
        cap: i64,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.add_secret(client_id, secret, cap, now, audit))
    }

    /// Revokes one secret of a client.
    pub async fn delete_secret(
        &self,
        client_id: &str,
        secret_id: &str,
        audit: &AuditEvent,
    ) -> Result<(), WriteError> {
        delegate!(self.delete_secret(client_id, secret_id, audit))
    }

    /// Everything the token endpoint needs about a live client, in one read.
    pub async fn client_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<ClientCredentials>, StoreError> {
        delegate!(self.client_credentials(client_id))
    }

    /// Records the last successful use of secrets (batched by the caller).
    pub async fn touch_secrets(&self, uses: &[(String, DateTime<Utc>)]) -> Result<(), StoreError> {
        delegate!(self.touch_secrets(uses))
    }

    /// Appends one event to the audit log, outside any other write.
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        delegate!(self.append_audit(event))
    }

    /// Reads an organization's audit log, newest first, before `before_id`.
    pub async fn list_audit(
        &self,
        org_id: &str,
        before_id: i64,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        delegate!(self.list_audit(org_id, before_id, limit))
    }

    /// Every signing key, oldest first.
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        delegate!(self.list_signing_keys())
    }

    /// Adds a signing key (see the engines' `add_signing_key`).
    pub async fn add_signing_key(
        &self,
        key: &SigningKeyRecord,
        retire_others: bool,
    ) -> Result<bool, StoreError> {
        delegate!(self.add_signing_key(key, retire_others))
    }

    /// Records a revoked access token.
    pub async fn revoke_token(
        &self,
        jti: &str,
        org_id: &str,
        client_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        delegate!(self.revoke_token(jti, org_id, client_id, expires_at, now))
    }

    /// Whether an access token was revoked.
    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        delegate!(self.is_token_revoked(jti))
    }
}

/// The wire names of client types, as stored.
pub(crate) fn parse_client_type(s: &str) -> Result<ClientType, StoreError> {
    ClientType::parse(s).ok_or_else(|| StoreError::Corrupt(format!("client type {s}")))
}

/// Roles as stored.
pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("role {s}")))
}
