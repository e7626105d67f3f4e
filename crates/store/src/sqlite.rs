//! The SQLite engine: the embedded default. WAL journal, `synchronous=FULL` so an
//! acknowledged write survives a crash, and write transactions that take the database
//! lock up front (`BEGIN IMMEDIATE`) so concurrent writers queue instead of failing.

use crate::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Storage on a SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the SQLite database at `url` (`sqlite://path`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Signing-key changes need no lock of their own: `BEGIN IMMEDIATE` already holds the
    /// database's write lock for the whole transaction.
    async fn lock_signing_keys(
        _conn: &mut <Sqlite as sqlx::Database>::Connection,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    queries!(Sqlite, "");
    compliance_queries!(Sqlite, "");
}
