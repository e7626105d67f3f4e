//! The PostgreSQL engine: several Tollgate processes share one state through it.
//! Write transactions run at READ COMMITTED and lock the rows their checks depend on
//! (`FOR UPDATE`), so invariants such as "one active Admin remains" hold across processes.

use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The advisory-lock key of signing-key changes (an arbitrary constant: "tg keys" in ASCII).
const SIGNING_KEYS_LOCK: i64 = 0x0074_6720_6b65_7973;

/// Storage on a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the PostgreSQL database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PgStore { pool })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Serialises signing-key changes across processes with a transaction-scoped advisory
    /// lock (released at commit or rollback): there is no row to lock before the first key
    /// exists.
    async fn lock_signing_keys(
        conn: &mut <Postgres as sqlx::Database>::Connection,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SIGNING_KEYS_LOCK)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    queries!(Postgres, " FOR UPDATE");
    compliance_queries!(Postgres, " FOR UPDATE");
}
