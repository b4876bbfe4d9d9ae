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
    /// A second connection to the same file with foreign key checks off, for
    /// [`Store::write_for_connection`] only (file databases only). Turning the checks off and on
    /// around each write instead made SQLite recompile every cached statement each time (a
    /// tenth of an import's database time).
    unchecked: Option<Mutex<Connection>>,
    /// Runs WAL checkpoints off the commit path (file databases only); stopped on drop.
    _checkpointer: Option<checkpointer::Checkpointer>,
}

/// Every connection's settings.
fn configure(conn: &Connection, foreign_keys: bool) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Before WAL mode and the first table, so only a new database takes it (an existing one
    // keeps its own). A payment row with its raw JSON is about 2 KB: two never fit a 4 KiB
    // page, so each took a page of its own; 8 KiB pages hold three. Import benchmark: about
    // 20% less database and faster commits (bigger pages would make the random pages of
    // the external-id indexes costlier to rewrite).
    conn.pragma_update(None, "page_size", 8192)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    // A sync commits whole groups of pages in one transaction (`app/src/sync.rs`): a
    // statement journal, when one is needed, stays in memory instead of a temporary file, and
    // 8 MiB of page cache (SQLite's default is 2 MiB) keeps a group's dirty pages from
    // spilling mid-transaction.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -8192)?;
    raw::register(conn)?;
    Ok(())
}

/// A file database's connections leave checkpoints to the background checkpointer.
fn file_settings(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    checkpointer::skip_checkpoint_on_close(conn)?;
    // A WAL that grew during a large import shrinks back when it next restarts.
    conn.pragma_update(None, "journal_size_limit", 32 * 1024 * 1024)?;
    Ok(())
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
        let mut store = Self::setup(Connection::open(path)?)?;
        file_settings(&store.conn())?;
        let unchecked = Connection::open(path)?;
        configure(&unchecked, false)?;
        file_settings(&unchecked)?;
        store.unchecked = Some(Mutex::new(unchecked));
        store._checkpointer = Some(checkpointer::Checkpointer::start(path)?);
        Ok(store)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store> {
        configure(&conn, true)?;
        migrations::run(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            unchecked: None,
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

    /// Runs `f` in one IMMEDIATE transaction that writes rows of connection `connection_id`
    /// only (a sync's page group): the connection is checked to exist once, at the start,
    /// instead of by a foreign key check per row. Every foreign key in the schema refers to
    /// `connections(id)`, and the write lock held from the check to the commit keeps the
    /// connection from going meanwhile, so the rows stay as consistent as with the checks.
    /// Why: a per-row foreign key check may fail half-way through a statement, so SQLite gave
    /// each multi-row upsert a statement journal (see `upsert`).
    /// Fails with [`StoreError::NotFound`] if the connection is gone.
    pub fn write_for_connection<T>(
        &self,
        connection_id: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        // An in-memory store (tests) has no second connection: its rows keep their per-row
        // checks besides this one.
        let mut conn = match &self.unchecked {
            Some(unchecked) => unchecked.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.conn(),
        };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?1)",
            [connection_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(StoreError::NotFound(format!("connection {connection_id}")));
        }
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
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
    with_test_connection(Store::open_in_memory().unwrap())
}

/// `store` with one Stripe connection `c1` named "Main".
#[cfg(test)]
fn with_test_connection(store: Store) -> Store {
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

    fn foreign_keys_on(store: &Store) -> bool {
        store
            .conn()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_write_for_a_connection_checks_it_once_and_turns_foreign_keys_back_on() {
        let dir = tempfile::tempdir().unwrap();
        let file_store = with_test_connection(Store::open_folder(dir.path()).unwrap());
        for store in [test_store(), file_store] {
            write_for_connection_checks(store);
        }
    }

    fn write_for_connection_checks(store: Store) {
        let insert = |tx: &rusqlite::Transaction<'_>, connection: &str| {
            tx.execute(
                "INSERT INTO sync_cursors (connection_id, stream, updated_at) VALUES (?1, 's', 'now')",
                [connection],
            )
            .map_err(StoreError::from)
        };
        store
            .write_for_connection("c1", |tx| insert(tx, "c1"))
            .unwrap();
        assert!(foreign_keys_on(&store));
        let missing = store.write_for_connection("gone", |tx| insert(tx, "gone"));
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
        assert!(foreign_keys_on(&store));
        // An error inside rolls the whole write back.
        let failed = store.write_for_connection("c1", |tx| {
            tx.execute("DELETE FROM sync_cursors", [])?;
            Err::<(), _>(StoreError::Invalid("stop".into()))
        });
        assert!(failed.is_err());
        let cursors: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM sync_cursors", [], |r| r.get(0))
            .unwrap();
        assert_eq!(cursors, 1);
        assert!(foreign_keys_on(&store));
        // Outside such a write, a row of a missing connection is refused as before.
        let tx_less = store.conn().execute(
            "INSERT INTO sync_cursors (connection_id, stream, updated_at) VALUES ('gone', 's', 'now')",
            [],
        );
        assert!(tx_less.is_err());
    }

    #[test]
    fn reopening_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open_folder(dir.path()).unwrap());
        Store::open_folder(dir.path()).unwrap();
    }
}
