//! The SQL of every store operation, written once and expanded for each engine.
//!
//! `queries!` expands inside `impl SqliteStore` and `impl PgStore`. Each engine provides
//! `self.pool`, `self.begin_write()` (a transaction that holds the write lock, or will take
//! row locks), `Self::lock_signing_keys(conn)` (serialises changes of the signing keys inside
//! such a transaction) and the literal `$for_update` suffix that locks rows read inside it.
//! All SQL uses `$n` placeholders, which both engines accept.

use crate::model::*;
use crate::{parse_client_type, parse_role, StoreError};
use tollgate_domain::{PrincipalKind, ScopeSet};

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) m2m_enabled: bool,
    pub(crate) secret_max_lifetime_days: i64,
    pub(crate) secret_max_lifetime_months: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl From<OrgRow> for Org {
    fn from(r: OrgRow) -> Org {
        use tollgate_domain::SecretLifetimeCap;
        Org {
            id: r.id,
            name: r.name,
            m2m_enabled: r.m2m_enabled,
            // Months, when set, win over days (see migration 0005).
            secret_max_lifetime: match r.secret_max_lifetime_months {
                Some(m) => SecretLifetimeCap::CalendarMonths(
                    u32::try_from(m).unwrap_or(tollgate_domain::client::DEFAULT_MAX_SECRET_MONTHS),
                ),
                None => SecretLifetimeCap::Days(r.secret_max_lifetime_days),
            },
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PrincipalRow {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) role: String,
    pub(crate) active: bool,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl TryFrom<PrincipalRow> for Principal {
    type Error = StoreError;
    fn try_from(r: PrincipalRow) -> Result<Principal, StoreError> {
        Ok(Principal {
            kind: PrincipalKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("principal kind {}", r.kind)))?,
            role: parse_role(&r.role)?,
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            email: r.email,
            active: r.active,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonWithHashRow {
    #[sqlx(flatten)]
    pub(crate) principal: PrincipalRow,
    pub(crate) password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    #[sqlx(flatten)]
    pub(crate) principal: PrincipalRow,
    pub(crate) csrf_token: String,
    pub(crate) expires_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub(crate) client_id: String,
    pub(crate) org_id: String,
    pub(crate) client_type: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) scopes: String,
    pub(crate) principal_id: String,
    pub(crate) principal_name: String,
    pub(crate) role: String,
    pub(crate) principal_active: bool,
    pub(crate) created_by: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) deleted_at: Option<i64>,
    pub(crate) deleted_by: Option<String>,
    pub(crate) deleted_by_name: Option<String>,
    pub(crate) revoked_by_admin: bool,
}

pub(crate) fn parse_scopes(text: &str) -> Result<ScopeSet, StoreError> {
    ScopeSet::parse_space_delimited(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl TryFrom<ClientRow> for ApiClient {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<ApiClient, StoreError> {
        Ok(ApiClient {
            client_type: parse_client_type(&r.client_type)?,
            scopes: parse_scopes(&r.scopes)?,
            role: parse_role(&r.role)?,
            client_id: r.client_id,
            org_id: r.org_id,
            name: r.name,
            description: r.description,
            principal_id: r.principal_id,
            principal_name: r.principal_name,
            principal_active: r.principal_active,
            created_by: r.created_by,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
            deleted_at: r.deleted_at.map(from_millis),
            deleted_by: r.deleted_by,
            deleted_by_name: r.deleted_by_name,
            revoked_by_admin: r.revoked_by_admin,
        })
    }
}

pub(crate) const CLIENT_SELECT: &str = "SELECT c.client_id, c.org_id, c.client_type, c.name, \
    c.description, c.scopes, c.principal_id, p.name AS principal_name, p.role, \
    p.active AS principal_active, c.created_by, c.created_at, c.updated_at, c.deleted_at, \
    c.deleted_by, d.name AS deleted_by_name, c.revoked_by_admin \
    FROM api_clients c JOIN principals p ON p.id = c.principal_id \
    LEFT JOIN principals d ON d.id = c.deleted_by";

#[derive(sqlx::FromRow)]
pub(crate) struct SecretRow {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) hint: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) last_used_at: Option<i64>,
}

impl From<SecretRow> for SecretMeta {
    fn from(r: SecretRow) -> SecretMeta {
        SecretMeta {
            id: r.id,
            client_id: r.client_id,
            hint: r.hint,
            created_at: from_millis(r.created_at),
            expires_at: from_millis(r.expires_at),
            last_used_at: r.last_used_at.map(from_millis),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    pub(crate) client_id: String,
    pub(crate) org_id: String,
    pub(crate) m2m_enabled: bool,
    pub(crate) client_type: String,
    pub(crate) scopes: String,
    pub(crate) principal_id: String,
    pub(crate) kind: String,
    pub(crate) role: String,
    pub(crate) active: bool,
    pub(crate) m2m_disabled_at: Option<i64>,
    pub(crate) deactivated_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) id: i64,
    pub(crate) org_id: Option<String>,
    pub(crate) at: i64,
    pub(crate) actor_type: String,
    pub(crate) actor_id: Option<String>,
    pub(crate) action: String,
    pub(crate) target_type: Option<String>,
    pub(crate) target_id: Option<String>,
    pub(crate) source_ip: Option<String>,
    pub(crate) outcome: String,
    pub(crate) details: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> AuditEvent {
        AuditEvent {
            id: r.id,
            org_id: r.org_id,
            at: from_millis(r.at),
            actor_type: r.actor_type,
            actor_id: r.actor_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            source_ip: r.source_ip,
            outcome: r.outcome,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    pub(crate) kid: String,
    pub(crate) alg: String,
    pub(crate) private_key: Vec<u8>,
    pub(crate) public_jwk: String,
    pub(crate) created_at: i64,
    pub(crate) activate_at: i64,
    pub(crate) retired_at: Option<i64>,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: r.kid,
            alg: r.alg,
            private_key: r.private_key,
            public_jwk: r.public_jwk,
            created_at: from_millis(r.created_at),
            activate_at: from_millis(r.activate_at),
            retired_at: r.retired_at.map(from_millis),
        }
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

macro_rules! queries {
    ($Db:ty, $for_update:literal) => {
        /// Checks the database answers.
        pub async fn ping(&self) -> Result<(), $crate::StoreError> {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        }

        async fn insert_audit(
            conn: &mut <$Db as sqlx::Database>::Connection,
            e: &$crate::model::AuditEvent,
        ) -> Result<(), sqlx::Error> {
            sqlx::query(
                "INSERT INTO audit_events (org_id, at, actor_type, actor_id, action, target_type, \
                 target_id, source_ip, outcome, details) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            )
            .bind(&e.org_id)
            .bind($crate::model::to_millis(e.at))
            .bind(&e.actor_type)
            .bind(&e.actor_id)
            .bind(&e.action)
            .bind(&e.target_type)
            .bind(&e.target_id)
            .bind(&e.source_ip)
            .bind(&e.outcome)
            .bind(e.details.to_string())
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        async fn insert_person(
            conn: &mut <$Db as sqlx::Database>::Connection,
            p: &$crate::model::NewPerson,
        ) -> Result<(), $crate::WriteError> {
            let now = $crate::model::to_millis(p.now);
            sqlx::query(
                "INSERT INTO principals (id, org_id, kind, name, email, password_hash, role, \
                 active, created_at, updated_at) VALUES ($1,$2,'person',$3,$4,$5,$6,TRUE,$7,$7)",
            )
            .bind(&p.id)
            .bind(&p.org_id)
            .bind(&p.name)
            .bind(&p.email)
            .bind(&p.password_hash)
            .bind(p.role.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if $crate::queries::is_unique_violation(&e) {
                    $crate::WriteError::EmailTaken
                } else {
                    e.into()
                }
            })?;
            Ok(())
        }

        /// Serialises the organization's Admin-only changes (a PostgreSQL row lock on the
        /// organization; SQLite's write transaction already holds the database lock) and, when
        /// a person acts, checks they are still an active Admin. Their session was checked
        /// before this transaction; another Admin may have demoted or deactivated them since,
        /// and under this lock that cannot change until the transaction ends.
        async fn lock_org_for_admin(
            conn: &mut <$Db as sqlx::Database>::Connection,
            org_id: &str,
            actor_id: Option<&str>,
        ) -> Result<(), $crate::WriteError> {
            sqlx::query(concat!("SELECT id FROM organizations WHERE id = $1", $for_update))
                .bind(org_id)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(actor) = actor_id {
                let still_admin: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM principals WHERE org_id = $1 AND id = $2 \
                     AND kind = 'person' AND role = 'admin' AND active",
                )
                .bind(org_id)
                .bind(actor)
                .fetch_optional(&mut *conn)
                .await?;
                if still_admin.is_none() {
                    return Err($crate::WriteError::ActorNotAdmin);
                }
            }
            Ok(())
        }

        /// The acting person of an audited change, if a person acts.
        fn acting_person(audit: &$crate::model::AuditEvent) -> Option<&str> {
            (audit.actor_type == "person")
                .then_some(audit.actor_id.as_deref())
                .flatten()
        }

        /// Number of organizations.
        pub async fn count_orgs(&self) -> Result<i64, $crate::StoreError> {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(&self.pool)
                .await?)
        }

        /// Creates an organization with its first Admin.
        pub async fn create_org(
            &self,
            org_id: &str,
            name: &str,
            admin: &$crate::model::NewPerson,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            let now = $crate::model::to_millis(admin.now);
            sqlx::query(
                "INSERT INTO organizations (id, name, secret_max_lifetime_months, created_at, \
                 updated_at) VALUES ($1,$2,$3,$4,$4)",
            )
            .bind(org_id)
            .bind(name)
            .bind(i64::from(tollgate_domain::client::DEFAULT_MAX_SECRET_MONTHS))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Self::insert_person(&mut tx, admin).await?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Reads an organization.
        pub async fn get_org(
            &self,
            org_id: &str,
        ) -> Result<Option<$crate::model::Org>, $crate::StoreError> {
            let row: Option<$crate::queries::OrgRow> =
                sqlx::query_as("SELECT * FROM organizations WHERE id = $1")
                    .bind(org_id)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(row.map(Into::into))
        }

        /// Changes an organization's settings. Turning M2M off records the instant
        /// (`m2m_disabled_at`, the audit event's time) in the same statement, so that tokens
        /// issued before it stay dead when M2M is turned back on.
        pub async fn update_org(
            &self,
            org_id: &str,
            m2m_enabled: Option<bool>,
            cap: $crate::CapChange,
            audit: &$crate::model::AuditEvent,
        ) -> Result<$crate::model::Org, $crate::WriteError> {
            use tollgate_domain::SecretLifetimeCap;
            // (change the cap?, new days or keep, new months)
            let (set_cap, days, months) = match cap {
                $crate::CapChange::Keep => (false, None, None),
                $crate::CapChange::Set(SecretLifetimeCap::Days(d)) => (true, Some(d), None),
                $crate::CapChange::Set(SecretLifetimeCap::CalendarMonths(m)) => {
                    (true, None, Some(i64::from(m)))
                }
            };
            let mut tx = self.begin_write().await?;
            Self::lock_org_for_admin(&mut tx, org_id, Self::acting_person(audit)).await?;
            let row: Option<$crate::queries::OrgRow> = sqlx::query_as(
                "UPDATE organizations SET m2m_enabled = COALESCE($1, m2m_enabled), \
                 secret_max_lifetime_days = COALESCE($2, secret_max_lifetime_days), \
                 m2m_disabled_at = CASE WHEN m2m_enabled AND NOT COALESCE($1, m2m_enabled) \
                 THEN $5 ELSE m2m_disabled_at END, \
                 secret_max_lifetime_months = CASE WHEN $3 THEN $4 \
                 ELSE secret_max_lifetime_months END, \
                 updated_at = $5 WHERE id = $6 RETURNING *",
            )
            .bind(m2m_enabled)
            .bind(days)
            .bind(set_cap)
            .bind(months)
            .bind($crate::model::to_millis(audit.at))
            .bind(org_id)
            .fetch_optional(&mut *tx)
            .await?;
            let row = row.ok_or($crate::WriteError::NotFound)?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(row.into())
        }

        /// Finds a person by email, with their password hash.
        pub async fn find_person_by_email(
            &self,
            email: &str,
        ) -> Result<Option<($crate::model::Principal, String)>, $crate::StoreError> {
            let row: Option<$crate::queries::PersonWithHashRow> = sqlx::query_as(
                "SELECT id, org_id, kind, name, email, role, active, created_at, updated_at, \
                 password_hash FROM principals WHERE email = $1 AND kind = 'person'",
            )
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some((
                    r.principal.try_into()?,
                    r.password_hash.unwrap_or_default(),
                ))),
            }
        }

        /// Reads a principal of an organization.
        pub async fn get_principal(
            &self,
            org_id: &str,
            id: &str,
        ) -> Result<Option<$crate::model::Principal>, $crate::StoreError> {
            let row: Option<$crate::queries::PrincipalRow> = sqlx::query_as(
                "SELECT id, org_id, kind, name, email, role, active, created_at, updated_at \
                 FROM principals WHERE org_id = $1 AND id = $2",
            )
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.map(TryInto::try_into).transpose()
        }

        /// Lists principals of an organization, ordered by id, after a cursor.
        pub async fn list_principals(
            &self,
            org_id: &str,
            kind: Option<tollgate_domain::PrincipalKind>,
            after_id: Option<&str>,
            limit: i64,
        ) -> Result<Vec<$crate::model::Principal>, $crate::StoreError> {
            let rows: Vec<$crate::queries::PrincipalRow> = sqlx::query_as(
                "SELECT id, org_id, kind, name, email, role, active, created_at, updated_at \
                 FROM principals WHERE org_id = $1 AND ($2 IS NULL OR kind = $2) \
                 AND id > $3 ORDER BY id LIMIT $4",
            )
            .bind(org_id)
            .bind(kind.map(|k| k.as_str()))
            .bind(after_id.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// Adds a person.
        pub async fn create_person(
            &self,
            person: &$crate::model::NewPerson,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            Self::lock_org_for_admin(&mut tx, &person.org_id, Self::acting_person(audit)).await?;
            Self::insert_person(&mut tx, person).await?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Changes a person's role or active state; never leaves no active Admin.
        pub async fn update_person(
            &self,
            org_id: &str,
            person_id: &str,
            role: Option<tollgate_domain::Role>,
            active: Option<bool>,
            actor_id: Option<&str>,
            audit: &$crate::model::AuditEvent,
        ) -> Result<$crate::model::Principal, $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            Self::lock_org_for_admin(&mut tx, org_id, actor_id).await?;
            let current: Option<$crate::queries::PrincipalRow> = sqlx::query_as(
                "SELECT id, org_id, kind, name, email, role, active, created_at, updated_at \
                 FROM principals WHERE org_id = $1 AND id = $2 AND kind = 'person'",
            )
            .bind(org_id)
            .bind(person_id)
            .fetch_optional(&mut *tx)
            .await?;
            let current: $crate::model::Principal =
                current.ok_or($crate::WriteError::NotFound)?.try_into()?;
            let new_role = role.unwrap_or(current.role);
            let new_active = active.unwrap_or(current.active);
            let was_admin = current.active && current.role == tollgate_domain::Role::Admin;
            let stays_admin = new_active && new_role == tollgate_domain::Role::Admin;
            if was_admin && !stays_admin {
                let others: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM principals WHERE org_id = $1 AND kind = 'person' \
                     AND role = 'admin' AND active AND id <> $2",
                )
                .bind(org_id)
                .bind(person_id)
                .fetch_one(&mut *tx)
                .await?;
                if others == 0 {
                    return Err($crate::WriteError::LastAdmin);
                }
            }
            // Deactivation records its instant in the same statement, so that tokens issued
            // before it stay dead when the person is reactivated.
            let updated: $crate::queries::PrincipalRow = sqlx::query_as(
                "UPDATE principals SET role = $1, active = $2, updated_at = $3, \
                 deactivated_at = CASE WHEN active AND NOT $2 THEN $3 ELSE deactivated_at END \
                 WHERE id = $4 \
                 RETURNING id, org_id, kind, name, email, role, active, created_at, updated_at",
            )
            .bind(new_role.as_str())
            .bind(new_active)
            .bind($crate::model::to_millis(audit.at))
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?;
            if !new_active {
                sqlx::query("DELETE FROM sessions WHERE person_id = $1")
                    .bind(person_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(updated.try_into()?)
        }

        /// Stores a new session.
        pub async fn create_session(
            &self,
            token_hash: &[u8],
            person_id: &str,
            csrf_token: &str,
            now: chrono::DateTime<chrono::Utc>,
            expires_at: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), $crate::StoreError> {
            sqlx::query(
                "INSERT INTO sessions (token_hash, person_id, csrf_token, created_at, expires_at) \
                 VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(token_hash)
            .bind(person_id)
            .bind(csrf_token)
            .bind($crate::model::to_millis(now))
            .bind($crate::model::to_millis(expires_at))
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        /// The active person behind a live session, its CSRF token and expiry.
        pub async fn get_session(
            &self,
            token_hash: &[u8],
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<
            Option<($crate::model::Principal, String, chrono::DateTime<chrono::Utc>)>,
            $crate::StoreError,
        > {
            let row: Option<$crate::queries::SessionRow> = sqlx::query_as(
                "SELECT p.id, p.org_id, p.kind, p.name, p.email, p.role, p.active, p.created_at, \
                 p.updated_at, s.csrf_token, s.expires_at FROM sessions s \
                 JOIN principals p ON p.id = s.person_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.active",
            )
            .bind(token_hash)
            .bind($crate::model::to_millis(now))
            .fetch_optional(&self.pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some((
                    r.principal.try_into()?,
                    r.csrf_token,
                    $crate::model::from_millis(r.expires_at),
                ))),
            }
        }

        /// Ends a session.
        pub async fn delete_session(&self, token_hash: &[u8]) -> Result<(), $crate::StoreError> {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
            Ok(())
        }

        /// Reserves a client ID; `false` if it is taken by a client or another draft.
        pub async fn create_draft(
            &self,
            d: &$crate::model::Draft,
            audit: Option<&$crate::model::AuditEvent>,
        ) -> Result<bool, $crate::StoreError> {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM client_drafts WHERE expires_at <= $1")
                .bind($crate::model::to_millis(d.created_at))
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO client_drafts (client_id, org_id, person_id, client_type, \
                 created_at, expires_at) SELECT $1,$2,$3,$4,$5,$6 WHERE NOT EXISTS \
                 (SELECT 1 FROM api_clients WHERE client_id = $1) ON CONFLICT DO NOTHING",
            )
            .bind(&d.client_id)
            .bind(&d.org_id)
            .bind(&d.person_id)
            .bind(d.client_type.as_str())
            .bind($crate::model::to_millis(d.created_at))
            .bind($crate::model::to_millis(d.expires_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                if let Some(audit) = audit {
                    Self::insert_audit(&mut tx, audit).await?;
                }
            }
            tx.commit().await?;
            Ok(inserted == 1)
        }

        /// Discards a person's draft.
        pub async fn delete_draft(
            &self,
            org_id: &str,
            person_id: &str,
            client_id: &str,
            audit: Option<&$crate::model::AuditEvent>,
        ) -> Result<bool, $crate::StoreError> {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(
                "DELETE FROM client_drafts WHERE client_id = $1 AND org_id = $2 AND person_id = $3",
            )
            .bind(client_id)
            .bind(org_id)
            .bind(person_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            if let Some(audit) = audit {
                Self::insert_audit(&mut tx, audit).await?;
            }
            tx.commit().await?;
            Ok(true)
        }

        async fn insert_secret(
            conn: &mut <$Db as sqlx::Database>::Connection,
            client_id: &str,
            s: &$crate::model::NewSecret,
            now: i64,
        ) -> Result<(), sqlx::Error> {
            sqlx::query(
                "INSERT INTO client_secrets (id, client_id, secret_hash, hint, created_by, \
                 created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(&s.id)
            .bind(client_id)
            .bind(&s.hash[..])
            .bind(&s.hint)
            .bind(&s.created_by)
            .bind(now)
            .bind($crate::model::to_millis(s.expires_at))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Saves a draft as a client with its first secret and, for a service account,
        /// its service principal.
        pub async fn create_client(
            &self,
            c: &$crate::model::NewClient,
            secret: &$crate::model::NewSecret,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let now = $crate::model::to_millis(c.now);
            let mut tx = self.begin_write().await?;
            let claimed = sqlx::query(
                "DELETE FROM client_drafts WHERE client_id = $1 AND org_id = $2 \
                 AND person_id = $3 AND client_type = $4 AND expires_at > $5",
            )
            .bind(&c.client_id)
            .bind(&c.org_id)
            .bind(&c.created_by)
            .bind(c.client_type.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed != 1 {
                return Err($crate::WriteError::DraftNotFound);
            }
            let principal_id = match &c.service_principal {
                Some((sp_id, role)) => {
                    sqlx::query(
                        "INSERT INTO principals (id, org_id, kind, name, role, active, \
                         created_at, updated_at) VALUES ($1,$2,'service_principal',$3,$4,TRUE,$5,$5)",
                    )
                    .bind(sp_id)
                    .bind(&c.org_id)
                    .bind(&c.name)
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sp_id.clone()
                }
                None => c.created_by.clone(),
            };
            sqlx::query(
                "INSERT INTO api_clients (client_id, org_id, client_type, name, name_key, \
                 description, scopes, principal_id, created_by, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10)",
            )
            .bind(&c.client_id)
            .bind(&c.org_id)
            .bind(c.client_type.as_str())
            .bind(&c.name)
            .bind(&c.name_key)
            .bind(&c.description)
            .bind(c.scopes.to_space_delimited())
            .bind(&principal_id)
            .bind(&c.created_by)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if $crate::queries::is_unique_violation(&e) {
                    $crate::WriteError::NameTaken
                } else {
                    e.into()
                }
            })?;
            Self::insert_secret(&mut tx, &c.client_id, secret, now).await?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Reads a client, deleted or not.
        pub async fn get_client(
            &self,
            org_id: &str,
            client_id: &str,
        ) -> Result<Option<$crate::model::ApiClient>, $crate::StoreError> {
            let sql = format!(
                "{} WHERE c.org_id = $1 AND c.client_id = $2",
                $crate::queries::CLIENT_SELECT
            );
            let row: Option<$crate::queries::ClientRow> = sqlx::query_as(&sql)
                .bind(org_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
            row.map(TryInto::try_into).transpose()
        }

        /// Lists clients of an organization.
        pub async fn list_clients(
            &self,
            org_id: &str,
            filter: $crate::ClientFilter<'_>,
        ) -> Result<Vec<$crate::model::ApiClient>, $crate::StoreError> {
            let (condition, person) = match filter {
                $crate::ClientFilter::ServiceAccounts => (
                    "c.client_type = 'service_account' AND c.deleted_at IS NULL",
                    None,
                ),
                $crate::ClientFilter::PersonalOf(p) => (
                    "c.client_type = 'personal' AND c.principal_id = $2 \
                     AND (c.deleted_at IS NULL OR c.revoked_by_admin)",
                    Some(p),
                ),
                $crate::ClientFilter::AllPersonal => {
                    ("c.client_type = 'personal' AND c.deleted_at IS NULL", None)
                }
            };
            let sql = format!(
                "{} WHERE c.org_id = $1 AND {condition} ORDER BY c.created_at, c.client_id",
                $crate::queries::CLIENT_SELECT
            );
            let mut query = sqlx::query_as::<_, $crate::queries::ClientRow>(&sql).bind(org_id);
            if let Some(p) = person {
                query = query.bind(p);
            }
            let rows = query.fetch_all(&self.pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// Changes a live client (and its service principal's role and name).
        pub async fn update_client(
            &self,
            org_id: &str,
            client_id: &str,
            ch: &$crate::model::ClientChanges,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            // Locks the client and its principal (PostgreSQL; SQLite's write transaction
            // holds the database lock), so the check below sees the state this change
            // applies to and no concurrent change can slip in between.
            let current: Option<(String, String, String, String)> = sqlx::query_as(concat!(
                "SELECT c.principal_id, c.client_type, c.scopes, p.role FROM api_clients c \
                 JOIN principals p ON p.id = c.principal_id \
                 WHERE c.client_id = $1 AND c.org_id = $2 AND c.deleted_at IS NULL",
                $for_update
            ))
            .bind(client_id)
            .bind(org_id)
            .fetch_optional(&mut *tx)
            .await?;
            let (principal_id, client_type, scopes, role) =
                current.ok_or($crate::WriteError::NotFound)?;
            if client_type == "service_account" {
                let scopes = match ch.scopes {
                    Some(s) => s,
                    None => $crate::queries::parse_scopes(&scopes)?,
                };
                let role = match ch.role {
                    Some(r) => r,
                    None => $crate::parse_role(&role)?,
                };
                if let Some(scope) = scopes.difference(role.permissions()).next() {
                    return Err($crate::WriteError::ScopeBeyondRole { scope, role });
                }
            }
            sqlx::query(
                "UPDATE api_clients SET name = COALESCE($1, name), \
                 name_key = COALESCE($2, name_key), description = COALESCE($3, description), \
                 scopes = COALESCE($4, scopes), updated_at = $5 WHERE client_id = $6",
            )
            .bind(ch.name.as_ref().map(|n| n.0.clone()))
            .bind(ch.name.as_ref().map(|n| n.1.clone()))
            .bind(ch.description.clone())
            .bind(ch.scopes.map(|s| s.to_space_delimited()))
            .bind($crate::model::to_millis(audit.at))
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if $crate::queries::is_unique_violation(&e) {
                    $crate::WriteError::NameTaken
                } else {
                    e.into()
                }
            })?;
            if client_type == "service_account" {
                sqlx::query(
                    "UPDATE principals SET role = COALESCE($1, role), \
                     name = COALESCE($2, name), updated_at = $3 WHERE id = $4",
                )
                .bind(ch.role.map(|r| r.as_str()))
                .bind(ch.name.as_ref().map(|n| n.0.clone()))
                .bind($crate::model::to_millis(audit.at))
                .bind(&principal_id)
                .execute(&mut *tx)
                .await?;
            }
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Deletes or revokes a live client.
        pub async fn delete_client(
            &self,
            org_id: &str,
            client_id: &str,
            deleted_by: &str,
            revoked_by_admin: bool,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(
                "UPDATE api_clients SET deleted_at = $1, deleted_by = $2, revoked_by_admin = $3 \
                 WHERE client_id = $4 AND org_id = $5 AND deleted_at IS NULL",
            )
            .bind($crate::model::to_millis(audit.at))
            .bind(deleted_by)
            .bind(revoked_by_admin)
            .bind(client_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err($crate::WriteError::NotFound);
            }
            sqlx::query("DELETE FROM client_secrets WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE principals SET active = FALSE, updated_at = $1 WHERE kind = \
                 'service_principal' AND id = (SELECT principal_id FROM api_clients \
                 WHERE client_id = $2)",
            )
            .bind($crate::model::to_millis(audit.at))
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// The secrets of some clients, oldest first.
        pub async fn list_secrets(
            &self,
            client_ids: &[String],
        ) -> Result<Vec<$crate::model::SecretMeta>, $crate::StoreError> {
            if client_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut qb = sqlx::QueryBuilder::<$Db>::new(
                "SELECT id, client_id, hint, created_at, expires_at, last_used_at \
                 FROM client_secrets WHERE client_id IN (",
            );
            let mut list = qb.separated(", ");
            for id in client_ids {
                list.push_bind(id.clone());
            }
            qb.push(") ORDER BY created_at, id");
            let rows: Vec<$crate::queries::SecretRow> =
                qb.build_query_as().fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        /// Adds a secret unless the client holds `cap` live ones already.
        pub async fn add_secret(
            &self,
            client_id: &str,
            secret: &$crate::model::NewSecret,
            cap: i64,
            now: chrono::DateTime<chrono::Utc>,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let now = $crate::model::to_millis(now);
            let mut tx = self.begin_write().await?;
            let live: Option<String> = sqlx::query_scalar(concat!(
                "SELECT client_id FROM api_clients WHERE client_id = $1 AND deleted_at IS NULL",
                $for_update
            ))
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
            if live.is_none() {
                return Err($crate::WriteError::NotFound);
            }
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM client_secrets WHERE client_id = $1 AND expires_at > $2",
            )
            .bind(client_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if count >= cap {
                return Err($crate::WriteError::SecretLimit);
            }
            Self::insert_secret(&mut tx, client_id, secret, now).await?;
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Revokes one secret.
        pub async fn delete_secret(
            &self,
            client_id: &str,
            secret_id: &str,
            audit: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::WriteError> {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query("DELETE FROM client_secrets WHERE id = $1 AND client_id = $2")
                .bind(secret_id)
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != 1 {
                return Err($crate::WriteError::NotFound);
            }
            Self::insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Everything the token endpoint needs about a live client.
        pub async fn client_credentials(
            &self,
            client_id: &str,
        ) -> Result<Option<$crate::model::ClientCredentials>, $crate::StoreError> {
            let row: Option<$crate::queries::CredentialsRow> = sqlx::query_as(
                "SELECT c.client_id, c.org_id, o.m2m_enabled, o.m2m_disabled_at, c.client_type, \
                 c.scopes, c.principal_id, p.kind, p.role, p.active, p.deactivated_at \
                 FROM api_clients c \
                 JOIN organizations o ON o.id = c.org_id \
                 JOIN principals p ON p.id = c.principal_id \
                 WHERE c.client_id = $1 AND c.deleted_at IS NULL",
            )
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
            let Some(r) = row else { return Ok(None) };
            let secrets: Vec<(String, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT id, secret_hash, expires_at FROM client_secrets WHERE client_id = $1",
            )
            .bind(client_id)
            .fetch_all(&self.pool)
            .await?;
            let secrets = secrets
                .into_iter()
                .map(|(id, hash, exp)| {
                    let hash: [u8; 32] = hash
                        .try_into()
                        .map_err(|_| $crate::StoreError::Corrupt("secret hash".into()))?;
                    Ok((id, hash, $crate::model::from_millis(exp)))
                })
                .collect::<Result<Vec<_>, $crate::StoreError>>()?;
            Ok(Some($crate::model::ClientCredentials {
                client_type: $crate::parse_client_type(&r.client_type)?,
                scopes: $crate::queries::parse_scopes(&r.scopes)?,
                principal_kind: tollgate_domain::PrincipalKind::parse(&r.kind)
                    .ok_or_else(|| $crate::StoreError::Corrupt("principal kind".into()))?,
                role: $crate::parse_role(&r.role)?,
                client_id: r.client_id,
                org_id: r.org_id,
                m2m_enabled: r.m2m_enabled,
                m2m_disabled_at: r.m2m_disabled_at.map($crate::model::from_millis),
                principal_id: r.principal_id,
                principal_active: r.active,
                principal_deactivated_at: r.deactivated_at.map($crate::model::from_millis),
                secrets,
            }))
        }

        /// Records the last successful use of secrets.
        pub async fn touch_secrets(
            &self,
            uses: &[(String, chrono::DateTime<chrono::Utc>)],
        ) -> Result<(), $crate::StoreError> {
            if uses.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            for (id, at) in uses {
                sqlx::query(
                    "UPDATE client_secrets SET last_used_at = $1 WHERE id = $2 \
                     AND (last_used_at IS NULL OR last_used_at < $1)",
                )
                .bind($crate::model::to_millis(*at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        /// Appends one event to the audit log.
        pub async fn append_audit(
            &self,
            event: &$crate::model::AuditEvent,
        ) -> Result<(), $crate::StoreError> {
            let mut conn = self.pool.acquire().await?;
            Self::insert_audit(&mut conn, event).await?;
            Ok(())
        }

        /// An organization's audit log, newest first, before `before_id`.
        pub async fn list_audit(
            &self,
            org_id: &str,
            before_id: i64,
            limit: i64,
        ) -> Result<Vec<$crate::model::AuditEvent>, $crate::StoreError> {
            let rows: Vec<$crate::queries::AuditRow> = sqlx::query_as(
                "SELECT id, org_id, at, actor_type, actor_id, action, target_type, target_id, \
                 source_ip, outcome, details FROM audit_events WHERE org_id = $1 AND id < $2 \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(org_id)
            .bind(before_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        /// Every signing key, oldest first.
        pub async fn list_signing_keys(
            &self,
        ) -> Result<Vec<$crate::model::SigningKeyRecord>, $crate::StoreError> {
            let rows: Vec<$crate::queries::SigningKeyRow> = sqlx::query_as(
                "SELECT kid, alg, private_key, public_jwk, created_at, activate_at, retired_at \
                 FROM signing_keys ORDER BY activate_at, kid",
            )
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        /// Adds a signing key. With `retire_others`, every key still signing stops signing
        /// when the new one starts; otherwise the key is added only if there is none yet.
        pub async fn add_signing_key(
            &self,
            key: &$crate::model::SigningKeyRecord,
            retire_others: bool,
        ) -> Result<bool, $crate::StoreError> {
            let mut tx = self.begin_write().await?;
            // Two processes starting on an empty database must not both add a first key
            // (COUNT then INSERT is not atomic under READ COMMITTED), nor two rotations
            // interleave: every change of the key set runs one at a time.
            Self::lock_signing_keys(&mut tx).await?;
            let activate_at = $crate::model::to_millis(key.activate_at);
            if retire_others {
                sqlx::query(
                    "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1",
                )
                .bind(activate_at)
                .execute(&mut *tx)
                .await?;
            } else {
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&mut *tx)
                .await?;
                if existing > 0 {
                    return Ok(false);
                }
            }
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, \
                 activate_at, retired_at) VALUES ($1,$2,$3,$4,$5,$6,NULL)",
            )
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.private_key)
            .bind(&key.public_jwk)
            .bind($crate::model::to_millis(key.created_at))
            .bind(activate_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }

        /// Records a revoked access token until it would have expired.
        pub async fn revoke_token(
            &self,
            jti: &str,
            org_id: &str,
            client_id: &str,
            expires_at: chrono::DateTime<chrono::Utc>,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), $crate::StoreError> {
            sqlx::query(
                "INSERT INTO revoked_tokens (jti, org_id, client_id, expires_at, revoked_at) \
                 VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
            )
            .bind(jti)
            .bind(org_id)
            .bind(client_id)
            .bind($crate::model::to_millis(expires_at))
            .bind($crate::model::to_millis(now))
            .execute(&self.pool)
            .await?;
            sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
                .bind($crate::model::to_millis(now) - 3_600_000)
                .execute(&self.pool)
                .await?;
            Ok(())
        }

        /// Whether an access token was revoked.
        pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, $crate::StoreError> {
            let found: Option<String> =
                sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = $1")
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(found.is_some())
        }
    };
}
