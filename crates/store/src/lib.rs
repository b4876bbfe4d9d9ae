//! The local SQLite database. One file per workspace (`switchboard.db`), WAL mode, foreign keys
//! on, a busy timeout so the CLI and the app can share it, and embedded versioned migrations that
//! run at open. One module per table holds that table's queries.

pub mod backup;
pub mod balance_transactions;
mod checkpointer;
pub mod connections;
pub mod cursors;
pub mod customers;
pub mod disputes;
mod migrations;
pub mod oauth_grants;
pub mod outbox;
pub mod payment_requests;
pub mod payments;
pub mod payouts;
pub mod rate_budget;
pub mod raw;
pub mod refunds;
pub mod request_log;
pub mod secrets;
pub mod settings;
pub mod subscriptions;
pub mod sync_leases;
pub mod sync_runs;
pub mod totals;
mod upsert;
pub mod webhook_events;
pub mod workspace;

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use rusqlite;
pub use upsert::{ProviderObject, UpsertCounts};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database is newer (schema v{found}) than this version of Switchboard (v{supported}); update the app"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("stored data is invalid: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether the failure is the disk being full (SQLITE_FULL).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DiskFull)
    }

    /// Whether another writer held the database past the busy timeout.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// File name of a workspace database inside its folder.
pub const DB_FILE: &str = "switchboard.db";

/// A workspace database. The connection is behind a mutex: calls are short, and long work
/// (a sync page) takes one transaction per page.
pub struct Store {
    conn: Mutex<Connection>,
    /// Runs WAL checkpoints off the commit path (file databases only); stopped on drop.
    _checkpointer: Option<checkpointer::Checkpointer>,
}

impl Store {
    /// Opens (creating if needed) `<folder>/switchboard.db` and migrates it.
    pub fn open_folder(folder: &Path) -> Result<Store> {
        std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
        Self::open(&folder.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        let mut store = Self::setup(conn)?;
        {
            let conn = store.conn();
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            checkpointer::skip_checkpoint_on_close(&conn)?;
            // A WAL that grew during a large import shrinks back when it next restarts.
            conn.pragma_update(None, "journal_size_limit", 32 * 1024 * 1024)?;
        }
        store._checkpointer = Some(checkpointer::Checkpointer::start(path)?);
        Ok(store)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // Before WAL mode and the first table, so only a new database takes it (an existing one
        // keeps its own). A payment row with its raw JSON is about 2 KB: two never fit a 4 KiB
        // page, so each took a page of its own; 8 KiB pages hold three. Import benchmark: about
        // 20% less database and faster commits (bigger pages would make the random pages of
        // the external-id indexes costlier to rewrite).
        conn.pragma_update(None, "page_size", 8192)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A sync commits whole groups of pages in one transaction (`app/src/sync.rs`): each
        // upsert's statement journal stays in memory instead of a temporary file (it was a
        // third of the import benchmark's time), and 8 MiB of page cache (SQLite's default is
        // 2 MiB) keeps a group's dirty pages from spilling mid-transaction.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -8192)?;
        raw::register(&conn)?;
        migrations::run(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            _checkpointer: None,
        })
    }

    /// Runs `f` in one IMMEDIATE transaction committed with `synchronous=FULL`: in WAL mode
    /// the usual `NORMAL` survives a crash of the app but may lose the last commits on a power
    /// cut; a rotated refresh token must survive both (the provider has already invalidated
    /// the previous one), so its commit also syncs the WAL.
    pub fn write_durably<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.conn();
        conn.pragma_update(None, "synchronous", "FULL")?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        // Back to the workspace's setting whatever happened (the transaction is gone by now).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        result
    }

    /// The connection, for one module's queries. A poisoned lock is recovered: SQLite's own
    /// transactions keep the data consistent even if a holder panicked.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A new row id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An in-memory store with one Stripe connection `c1` named "Main", for this crate's tests.
#[cfg(test)]
pub(crate) fn test_store() -> Store {
    let store = Store::open_in_memory().unwrap();
    connections::insert(
        &store.conn(),
        &connections::NewConnection {
            id: "c1",
            provider: "stripe",
            name: "Main",
            account_id: None,
            api_base: "http://x",
        },
    )
    .unwrap();
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_with_wal_foreign_keys_and_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_folder(dir.path()).unwrap();
        let conn = store.conn();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        // Set before WAL mode, so a new database really has it.
        let page_size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, 8192);
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, migrations::LATEST);
    }

    #[test]
    fn reopening_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open_folder(dir.path()).unwrap());
        Store::open_folder(dir.path()).unwrap();
    }
}
