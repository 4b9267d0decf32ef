//! The device's local store.
//!
//! Architecture invariant: this is the only crate that holds the device's SQL. Every user
//! write runs in one transaction together with its outbox row, under `synchronous=FULL`, so
//! a write that returned `Ok` survives a crash, a kill -9 or a power cut, and sync later sends
//! it exactly once.

mod codec;
mod dispatch;
mod evidence;
mod queries;
mod reference;
mod schema;
mod sync;
mod writes;

use std::path::Path;

use fieldbook_domain::{InvalidInput, RuleViolation};
use rusqlite::Connection;
use thiserror::Error;

pub use dispatch::DispatchCatalog;
pub use queries::{DayView, LIST_ORDER, ListPage, ListQuery, OutboxEntry, WorkOrderRow};
pub use reference::ImportBatch;
pub use sync::{Acknowledgement, Conflict, PreparedBodies, PulledChange, PulledRecord};
pub use writes::{NewAnswer, StatusChange};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("no {what} with id {id} on this device; it may have been reassigned or not synced yet")]
    NotFound { what: &'static str, id: String },
    #[error("the local database could not be opened or upgraded: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("the local database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a stored record could not be read back ({0}); the local database may be damaged")]
    Corrupt(String),
}

impl From<fieldbook_domain::AnswerError> for StoreError {
    fn from(err: fieldbook_domain::AnswerError) -> Self {
        match err {
            fieldbook_domain::AnswerError::Invalid(e) => StoreError::Invalid(e),
            fieldbook_domain::AnswerError::Rule(e) => StoreError::Rule(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The pragmas every connection runs with. `synchronous=FULL` makes each commit durable
/// in WAL mode before it returns (NORMAL may lose the last commits on power loss); sorts and
/// temporary indexes stay in memory rather than in temporary files. A write-ahead log that a
/// first sync grew to tens of megabytes is cut back to 8 MB when it is next started over.
pub const PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA journal_size_limit = 8388608;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA temp_store = MEMORY;
";

/// A handle on the device's database.
pub struct Store {
    conn: Connection,
    /// The checkpoint a bulk pull left running on a thread of its own (see
    /// `sync::checkpoint_in_background`); the store waits for it when it closes.
    checkpoint: Option<std::thread::JoinHandle<()>>,
    /// Set during a first sync's pull: see `Store::set_bulk_pull`.
    first_pull: Option<sync::FirstPull>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(checkpoint) = self.checkpoint.take() {
            let _ = checkpoint.join();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::init(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.execute_batch(PRAGMAS)?;
        // Every statement of an import and of the screens' queries stays prepared.
        conn.set_prepared_statement_cache_capacity(64);
        // A first sync killed part-way left its bulk indexes dropped: build them now, under the
        // schema that dropped them, before any migration.
        sync::restore_deferred_indexes(&mut conn)?;
        schema::migrations().to_latest(&mut conn)?;
        Ok(Store { conn, checkpoint: None, first_pull: None })
    }

    /// `PRAGMA integrity_check`, returning its first line (`ok` when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        setting_in(&self.conn, key)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        set_setting_in(&self.conn, key, value)
    }
}

/// A setting, read on a connection or inside a transaction.
pub(crate) fn setting_in(conn: &rusqlite::Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| row.get(0)).optional()?)
}

/// Stores a setting, on a connection or inside a transaction.
pub(crate) fn set_setting_in(conn: &rusqlite::Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
