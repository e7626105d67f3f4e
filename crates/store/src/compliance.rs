//! Storage of the compliance resource API's objects (programs, controls, risks, tasks,
//! audits) and of the auditors each audit lists.
//!
//! Like `queries.rs`, the SQL is written once in `compliance_queries!`, expanded inside
//! `impl SqliteStore` and `impl PgStore`, and reached through [`Store`]'s delegating methods.
//! This module re-checks, inside each write transaction and with the rows locked, the facts the
//! server already validated (owners and assignees are still active people of the organization,
//! auditors still active principals, a control's program still exists), so a concurrent
//! deactivation cannot slip a non-person into an owner field. It makes no authorization
//! decisions: scopes, record rules and restricted fields are the server's.

use crate::model::from_millis;
use crate::{Principal, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tollgate_domain::compliance::ObjectKind;

/// A stored compliance object.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceObject {
    /// `prg_…`, `ctl_…`, `rsk_…`, `tsk_…` or `aud_…`
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Which of the five kinds.
    pub kind: ObjectKind,
    /// Display name.
    pub name: String,
    /// Description, possibly empty.
    pub description: String,
    /// Restricted field: only Admin and API admin principals see it.
    pub internal_notes: String,
    /// The responsible person (`usr_…`).
    pub owner_id: String,
    /// Controls only: the program it belongs to.
    pub program_id: Option<String>,
    /// Tasks only: the person it is assigned to.
    pub assignee_id: Option<String>,
    /// Audits only: the principals listed as auditors, by id.
    pub auditor_ids: Vec<String>,
    /// The principal whose client created it.
    pub created_by: String,
    /// The API client it was created through.
    pub created_via_client_id: String,
    /// The principal whose client last changed it.
    pub updated_by: String,
    /// The API client of the last change.
    pub via_client_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A new object, already validated by the server.
#[derive(Debug, Clone)]
pub struct NewComplianceObject {
    /// Its fresh id.
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Kind.
    pub kind: ObjectKind,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Restricted notes.
    pub internal_notes: String,
    /// Owner: an active person of the organization.
    pub owner_id: String,
    /// Controls: their program, of the same organization.
    pub program_id: Option<String>,
    /// Tasks: an active person of the organization.
    pub assignee_id: Option<String>,
    /// Audits: active principals of the organization, without duplicates.
    pub auditor_ids: Vec<String>,
    /// The acting principal (token `sub`).
    pub actor_id: String,
    /// The API client it came through (token `client_id`).
    pub client_id: String,
    /// Creation time.
    pub now: DateTime<Utc>,
}

/// Changes to an object; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ComplianceChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New restricted notes.
    pub internal_notes: Option<String>,
    /// New owner (an active person).
    pub owner_id: Option<String>,
    /// Controls: new program.
    pub program_id: Option<String>,
    /// Tasks: new assignee (an active person).
    pub assignee_id: Option<String>,
    /// Audits: the new full list of auditors.
    pub auditor_ids: Option<Vec<String>>,
}

/// Why a compliance write was not made. Everything but `Store` is the caller's to fix.
#[derive(Debug, thiserror::Error)]
pub enum ComplianceWriteError {
    /// The object does not exist in this organization.
    #[error("not found")]
    NotFound,
    /// The control's program does not exist in this organization.
    #[error("program not found")]
    ProgramNotFound,
    /// An owner or assignee is no longer an active person of the organization, or an
    /// auditor no longer an active principal (changed since the server checked).
    #[error("{field} is no longer valid")]
    PrincipalChanged {
        /// The field naming it.
        field: &'static str,
    },
    /// The program still has controls.
    #[error("program has controls")]
    ProgramHasControls,
    /// The storage engine failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ComplianceWriteError {
    fn from(e: sqlx::Error) -> Self {
        ComplianceWriteError::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ComplianceRow {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) internal_notes: String,
    pub(crate) owner_id: String,
    pub(crate) program_id: Option<String>,
    pub(crate) assignee_id: Option<String>,
    pub(crate) created_by: String,
    pub(crate) created_via_client_id: String,
    pub(crate) updated_by: String,
    pub(crate) via_client_id: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

pub(crate) const OBJECT_SELECT: &str = "SELECT id, org_id, kind, name, description, \
    internal_notes, owner_id, program_id, assignee_id, created_by, created_via_client_id, \
    updated_by, via_client_id, created_at, updated_at FROM compliance_objects";

/// Builds objects from rows and the `(audit_id, principal_id)` pairs of their auditors.
pub(crate) fn assemble(
    rows: Vec<ComplianceRow>,
    auditors: Vec<(String, String)>,
) -> Result<Vec<ComplianceObject>, StoreError> {
    let mut by_audit: HashMap<String, Vec<String>> = HashMap::new();
    for (audit_id, principal_id) in auditors {
        by_audit.entry(audit_id).or_default().push(principal_id);
    }
    rows.into_iter()
        .map(|r| {
            let mut auditor_ids = by_audit.remove(&r.id).unwrap_or_default();
            auditor_ids.sort();
            Ok(ComplianceObject {
                kind: ObjectKind::parse(&r.kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("object kind {}", r.kind)))?,
                id: r.id,
                org_id: r.org_id,
                name: r.name,
                description: r.description,
                internal_notes: r.internal_notes,
                owner_id: r.owner_id,
                program_id: r.program_id,
                assignee_id: r.assignee_id,
                auditor_ids,
                created_by: r.created_by,
                created_via_client_id: r.created_via_client_id,
                updated_by: r.updated_by,
                via_client_id: r.via_client_id,
                created_at: from_millis(r.created_at),
                updated_at: from_millis(r.updated_at),
            })
        })
        .collect()
}

/// The distinct ids among `ids`, in order of first appearance.
pub(crate) fn distinct<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    out
}

/// The compliance SQL, expanded inside each engine's `impl` (see [`crate::queries`] for what
/// the engine provides: `self.pool`, `self.begin_write()` and the row-lock suffix).
macro_rules! compliance_queries {
    ($Db:ty, $for_update:literal) => {
        /// Principals of an organization among `ids` (others, and unknown ids, are left out).
        pub async fn principals_by_ids(
            &self,
            org_id: &str,
            ids: &[String],
        ) -> Result<Vec<$crate::model::Principal>, $crate::StoreError> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut qb = sqlx::QueryBuilder::<$Db>::new(
                "SELECT id, org_id, kind, name, email, role, active, created_at, updated_at \
                 FROM principals WHERE org_id = ",
            );
            qb.push_bind(org_id.to_owned());
            qb.push(" AND id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(id.clone());
            }
            qb.push(")");
            let rows: Vec<$crate::queries::PrincipalRow> =
                qb.build_query_as().fetch_all(&self.pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// Locks the principals among `ids` that satisfy `condition` and says whether all did.
        async fn lock_principals(
            conn: &mut <$Db as sqlx::Database>::Connection,
            org_id: &str,
            ids: &[String],
            condition: &str,
        ) -> Result<bool, sqlx::Error> {
            if ids.is_empty() {
                return Ok(true);
            }
            let mut qb =
                sqlx::QueryBuilder::<$Db>::new("SELECT id FROM principals WHERE org_id = ");
            qb.push_bind(org_id.to_owned());
            qb.push(" AND ");
            qb.push(condition);
            qb.push(" AND id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(id.clone());
            }
            qb.push(")");
            qb.push($for_update);
            let found: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *conn).await?;
            Ok(found.len() == ids.len())
        }

        /// Re-checks, with the rows locked, what the server validated: owner and assignee are
        /// active people, auditors active principals, the program exists.
        async fn lock_references(
            conn: &mut <$Db as sqlx::Database>::Connection,
            org_id: &str,
            owner_id: Option<&str>,
            assignee_id: Option<&str>,
            auditor_ids: Option<&[String]>,
            program_id: Option<&str>,
        ) -> Result<(), $crate::compliance::ComplianceWriteError> {
            use $crate::compliance::ComplianceWriteError as E;
            for (field, id) in [("owner_id", owner_id), ("assignee_id", assignee_id)] {
                if let Some(id) = id {
                    let ok = Self::lock_principals(
                        &mut *conn,
                        org_id,
                        &[id.to_owned()],
                        "kind = 'person' AND active",
                    )
                    .await?;
                    if !ok {
                        return Err(E::PrincipalChanged { field });
                    }
                }
            }
            if let Some(ids) = auditor_ids {
                let ids = $crate::compliance::distinct(ids.iter().map(String::as_str));
                if !Self::lock_principals(&mut *conn, org_id, &ids, "active").await? {
                    return Err(E::PrincipalChanged {
                        field: "auditor_ids",
                    });
                }
            }
            if let Some(program_id) = program_id {
                let found: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT id FROM compliance_objects WHERE org_id = $1 AND kind = 'program' \
                     AND id = $2",
                    $for_update
                ))
                .bind(org_id)
                .bind(program_id)
                .fetch_optional(&mut *conn)
                .await?;
                if found.is_none() {
                    return Err(E::ProgramNotFound);
                }
            }
            Ok(())
        }

        async fn insert_auditors(
            conn: &mut <$Db as sqlx::Database>::Connection,
            audit_id: &str,
            auditor_ids: &[String],
        ) -> Result<(), sqlx::Error> {
            for principal_id in $crate::compliance::distinct(auditor_ids.iter().map(String::as_str))
            {
                sqlx::query(
                    "INSERT INTO compliance_auditors (audit_id, principal_id) VALUES ($1, $2)",
                )
                .bind(audit_id)
                .bind(principal_id)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        async fn read_objects(
            conn: &mut <$Db as sqlx::Database>::Connection,
            rows: Vec<$crate::compliance::ComplianceRow>,
        ) -> Result<Vec<$crate::compliance::ComplianceObject>, $crate::StoreError> {
            let audit_ids: Vec<String> = rows
                .iter()
                .filter(|r| r.kind == "audit")
                .map(|r| r.id.clone())
                .collect();
            let mut auditors: Vec<(String, String)> = Vec::new();
            if !audit_ids.is_empty() {
                let mut qb = sqlx::QueryBuilder::<$Db>::new(
                    "SELECT audit_id, principal_id FROM compliance_auditors WHERE audit_id IN (",
                );
                let mut list = qb.separated(", ");
                for id in audit_ids {
                    list.push_bind(id);
                }
                qb.push(")");
                auditors = qb.build_query_as().fetch_all(&mut *conn).await?;
            }
            $crate::compliance::assemble(rows, auditors)
        }

        async fn read_object(
            conn: &mut <$Db as sqlx::Database>::Connection,
            org_id: &str,
            kind: tollgate_domain::compliance::ObjectKind,
            id: &str,
        ) -> Result<Option<$crate::compliance::ComplianceObject>, $crate::StoreError> {
            let sql = format!(
                "{} WHERE org_id = $1 AND kind = $2 AND id = $3",
                $crate::compliance::OBJECT_SELECT
            );
            let row: Option<$crate::compliance::ComplianceRow> = sqlx::query_as(&sql)
                .bind(org_id)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Self::read_objects(&mut *conn, vec![row]).await?.pop())
        }

        /// Stores a new object (and its auditors), re-checking its references.
        pub async fn create_compliance_object(
            &self,
            o: &$crate::compliance::NewComplianceObject,
        ) -> Result<$crate::compliance::ComplianceObject, $crate::compliance::ComplianceWriteError>
        {
            let mut tx = self.begin_write().await?;
            Self::lock_references(
                &mut tx,
                &o.org_id,
                Some(&o.owner_id),
                o.assignee_id.as_deref(),
                Some(&o.auditor_ids),
                o.program_id.as_deref(),
            )
            .await?;
            let now = $crate::model::to_millis(o.now);
            sqlx::query(
                "INSERT INTO compliance_objects (id, org_id, kind, name, description, \
                 internal_notes, owner_id, program_id, assignee_id, created_by, \
                 created_via_client_id, updated_by, via_client_id, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$10,$11,$12,$12)",
            )
            .bind(&o.id)
            .bind(&o.org_id)
            .bind(o.kind.as_str())
            .bind(&o.name)
            .bind(&o.description)
            .bind(&o.internal_notes)
            .bind(&o.owner_id)
            .bind(&o.program_id)
            .bind(&o.assignee_id)
            .bind(&o.actor_id)
            .bind(&o.client_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Self::insert_auditors(&mut tx, &o.id, &o.auditor_ids).await?;
            let created = Self::read_object(&mut tx, &o.org_id, o.kind, &o.id)
                .await?
                .ok_or($crate::compliance::ComplianceWriteError::NotFound)?;
            tx.commit().await?;
            Ok(created)
        }

        /// Reads one object of an organization.
        pub async fn get_compliance_object(
            &self,
            org_id: &str,
            kind: tollgate_domain::compliance::ObjectKind,
            id: &str,
        ) -> Result<Option<$crate::compliance::ComplianceObject>, $crate::StoreError> {
            let mut conn = self.pool.acquire().await?;
            Self::read_object(&mut conn, org_id, kind, id).await
        }

        /// Lists an organization's objects of one kind by id, after `after_id`; with
        /// `listed`, only audits that list that principal as an auditor.
        pub async fn list_compliance_objects(
            &self,
            org_id: &str,
            kind: tollgate_domain::compliance::ObjectKind,
            after_id: Option<&str>,
            limit: i64,
            listed: Option<&str>,
        ) -> Result<Vec<$crate::compliance::ComplianceObject>, $crate::StoreError> {
            let sql = format!(
                "{} WHERE org_id = $1 AND kind = $2 AND id > $3 AND ($4 IS NULL OR id IN \
                 (SELECT audit_id FROM compliance_auditors WHERE principal_id = $4)) \
                 ORDER BY id LIMIT $5",
                $crate::compliance::OBJECT_SELECT
            );
            let mut conn = self.pool.acquire().await?;
            let rows: Vec<$crate::compliance::ComplianceRow> = sqlx::query_as(&sql)
                .bind(org_id)
                .bind(kind.as_str())
                .bind(after_id.unwrap_or(""))
                .bind(listed)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            Self::read_objects(&mut conn, rows).await
        }

        /// Changes an object, re-checking the references it changes. With `listed`, the
        /// object must (still, under the row lock) be an audit that lists that principal as an
        /// auditor, else it is [`ComplianceWriteError::NotFound`]: an External auditor taken
        /// off an audit while its request was in flight cannot change it.
        ///
        /// [`ComplianceWriteError::NotFound`]: $crate::compliance::ComplianceWriteError::NotFound
        #[allow(clippy::too_many_arguments)]
        pub async fn update_compliance_object(
            &self,
            org_id: &str,
            kind: tollgate_domain::compliance::ObjectKind,
            id: &str,
            listed: Option<&str>,
            ch: &$crate::compliance::ComplianceChanges,
            actor_id: &str,
            client_id: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<$crate::compliance::ComplianceObject, $crate::compliance::ComplianceWriteError>
        {
            let mut tx = self.begin_write().await?;
            let exists: Option<String> = sqlx::query_scalar(concat!(
                "SELECT id FROM compliance_objects WHERE org_id = $1 AND kind = $2 AND id = $3",
                $for_update
            ))
            .bind(org_id)
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                return Err($crate::compliance::ComplianceWriteError::NotFound);
            }
            if let Some(principal_id) = listed {
                let listing: Option<String> = sqlx::query_scalar(
                    "SELECT audit_id FROM compliance_auditors WHERE audit_id = $1 AND principal_id = $2",
                )
                .bind(id)
                .bind(principal_id)
                .fetch_optional(&mut *tx)
                .await?;
                if listing.is_none() {
                    return Err($crate::compliance::ComplianceWriteError::NotFound);
                }
            }
            Self::lock_references(
                &mut tx,
                org_id,
                ch.owner_id.as_deref(),
                ch.assignee_id.as_deref(),
                ch.auditor_ids.as_deref(),
                ch.program_id.as_deref(),
            )
            .await?;
            sqlx::query(
                "UPDATE compliance_objects SET name = COALESCE($1, name), \
                 description = COALESCE($2, description), \
                 internal_notes = COALESCE($3, internal_notes), \
                 owner_id = COALESCE($4, owner_id), program_id = COALESCE($5, program_id), \
                 assignee_id = COALESCE($6, assignee_id), updated_by = $7, \
                 via_client_id = $8, updated_at = $9 WHERE id = $10",
            )
            .bind(&ch.name)
            .bind(&ch.description)
            .bind(&ch.internal_notes)
            .bind(&ch.owner_id)
            .bind(&ch.program_id)
            .bind(&ch.assignee_id)
            .bind(actor_id)
            .bind(client_id)
            .bind($crate::model::to_millis(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(auditors) = &ch.auditor_ids {
                sqlx::query("DELETE FROM compliance_auditors WHERE audit_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::insert_auditors(&mut tx, id, auditors).await?;
            }
            let updated = Self::read_object(&mut tx, org_id, kind, id)
                .await?
                .ok_or($crate::compliance::ComplianceWriteError::NotFound)?;
            tx.commit().await?;
            Ok(updated)
        }

        /// Deletes an object (an audit's auditor list goes with it); a program only once it
        /// has no controls.
        pub async fn delete_compliance_object(
            &self,
            org_id: &str,
            kind: tollgate_domain::compliance::ObjectKind,
            id: &str,
        ) -> Result<(), $crate::compliance::ComplianceWriteError> {
            let mut tx = self.begin_write().await?;
            let exists: Option<String> = sqlx::query_scalar(concat!(
                "SELECT id FROM compliance_objects WHERE org_id = $1 AND kind = $2 AND id = $3",
                $for_update
            ))
            .bind(org_id)
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                return Err($crate::compliance::ComplianceWriteError::NotFound);
            }
            if kind == tollgate_domain::compliance::ObjectKind::Program {
                let control: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM compliance_objects WHERE program_id = $1 LIMIT 1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if control.is_some() {
                    return Err($crate::compliance::ComplianceWriteError::ProgramHasControls);
                }
            }
            sqlx::query("DELETE FROM compliance_auditors WHERE audit_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM compliance_objects WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
    };
}

/// Delegates a call to whichever engine the store holds.
macro_rules! delegate_compliance {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Principals of an organization among `ids`; unknown ids and other organizations'
    /// principals are left out.
    pub async fn principals_by_ids(
        &self,
        org_id: &str,
        ids: &[String],
    ) -> Result<Vec<Principal>, StoreError> {
        delegate_compliance!(self.principals_by_ids(org_id, ids))
    }

    /// Stores a new compliance object, re-checking under lock that its owner and assignee are
    /// active people, its auditors active principals and its program present.
    pub async fn create_compliance_object(
        &self,
        object: &NewComplianceObject,
    ) -> Result<ComplianceObject, ComplianceWriteError> {
        delegate_compliance!(self.create_compliance_object(object))
    }

    /// Reads one object of an organization (`None` for other organizations' objects).
    pub async fn get_compliance_object(
        &self,
        org_id: &str,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<ComplianceObject>, StoreError> {
        delegate_compliance!(self.get_compliance_object(org_id, kind, id))
    }

    /// Lists an organization's objects of one kind by id after `after_id`; with `listed`,
    /// only the audits listing that principal.
    pub async fn list_compliance_objects(
        &self,
        org_id: &str,
        kind: ObjectKind,
        after_id: Option<&str>,
        limit: i64,
        listed: Option<&str>,
    ) -> Result<Vec<ComplianceObject>, StoreError> {
        delegate_compliance!(self.list_compliance_objects(org_id, kind, after_id, limit, listed))
    }

    /// Changes an object, recording who changed it and through which client; with `listed`,
    /// only an audit that lists that principal as an auditor (checked under the row lock).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_compliance_object(
        &self,
        org_id: &str,
        kind: ObjectKind,
        id: &str,
        listed: Option<&str>,
        changes: &ComplianceChanges,
        actor_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ComplianceObject, ComplianceWriteError> {
        delegate_compliance!(self
            .update_compliance_object(org_id, kind, id, listed, changes, actor_id, client_id, now))
    }

    /// Deletes an object; a program only once it has no controls.
    pub async fn delete_compliance_object(
        &self,
        org_id: &str,
        kind: ObjectKind,
        id: &str,
    ) -> Result<(), ComplianceWriteError> {
        delegate_compliance!(self.delete_compliance_object(org_id, kind, id))
    }
}
