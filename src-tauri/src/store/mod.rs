//! SQLite storage: one file, `switchyard.db`, in the data directory. The only module that
//! speaks SQL.
//!
//! rusqlite is synchronous: async callers go through [`Store::run`], which moves the work to
//! tokio's blocking pool so a slow disk never stalls the pollers.
//!
//! One room per aggregate, each an `impl Store` block with its own tests: `migrations` (the
//! schema), `samples`, `audit`, `alerts`, `failovers`, `commands`, `drills`, `accounts` (users
//! and sessions), `certificates` (each region's certificate set) and `state`. This file keeps
//! the handle, opening, [`Store::run`] and the error.
//!
//! Rules kept here:
//! - Only this module speaks SQL; every other module sees [`Store`]'s methods and its types.
//! - One connection behind one mutex: a method's statements never interleave with another's.
//! - A failure is a [`StoreError`] variant; the constraint failures callers react to (the
//!   failover lock, the live-drill lock) are variants of their own that name the holder.

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod accounts;
mod alerts;
mod audit;
mod certificates;
mod commands;
mod deliveries;
mod drills;
mod failovers;
mod incidents;
mod migrations;
mod moving;
mod samples;
mod state;

pub use audit::AuditEntry;
pub use certificates::{
    CertificateChange, CertificateComparison, CertificateRow, CertificateSweepRecord,
};
pub use deliveries::{Mark, Outbound, Queued as OutboxRow};
pub use samples::Sample;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The data directory cannot hold the database; `why` says what is wrong with it.
    Unusable { dir: PathBuf, why: String },
    /// The database was written by a newer Switchyard, at a schema version this one does not
    /// know.
    NewerSchema { found: usize, known: usize },
    /// SQLite failed (the disk, a lock held too long, a defect in a statement).
    Database(String),
    /// Another failover is under way: the lock column refused a second. `holder` is its id.
    FailoverLocked { holder: String },
    /// Another live drill is running: the lock column refused a second. `holder` is its id.
    DrillLocked { holder: String },
    /// The audit entry does not exist, or its result is already written.
    AuditNotOpen { id: i64 },
    /// The alert was acknowledged already, by `by` at `at`.
    AlreadyAcknowledged {
        id: i64,
        by: String,
        at: switchyard_core::UnixMs,
    },
    /// A stored record could not be read back (its JSON or a code in it); the message names it.
    Unreadable(String),
    /// A value could not be encoded for storage; the message names it.
    Unencodable(String),
    /// The blocking task that ran the work panicked or was cancelled.
    TaskFailed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unusable { dir, why } => {
                write!(f, "data directory {} is not usable: {why}", dir.display())
            }
            StoreError::NewerSchema { found, known } => write!(
                f,
                "the database is at schema version {found}, newer than this Switchyard knows ({known})"
            ),
            StoreError::Database(e) => write!(f, "database error: {e}"),
            StoreError::FailoverLocked { holder } => {
                write!(f, "failover {holder} is in progress: one at a time")
            }
            StoreError::DrillLocked { holder } => {
                write!(f, "another live drill is running: {holder}")
            }
            StoreError::AuditNotOpen { id } => {
                write!(f, "audit entry {id} does not exist or is already finished")
            }
            StoreError::AlreadyAcknowledged { id, by, at } => write!(
                f,
                "alert {id} was acknowledged already, by {by} at {}",
                switchyard_core::time::utc_datetime(*at)
            ),
            StoreError::Unreadable(m) | StoreError::Unencodable(m) => f.write_str(m),
            StoreError::TaskFailed(e) => write!(f, "store task failed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// True when SQLite refused a row for a constraint (UNIQUE, PRIMARY KEY, CHECK).
fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`. The directory must exist or be
    /// creatable, and be writable; the error names the directory and what is wrong with it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let unusable = |why: String| StoreError::Unusable {
            dir: dir.to_path_buf(),
            why,
        };
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => return Err(unusable("it is not a directory".into())),
            Ok(m) if m.permissions().readonly() => return Err(unusable("it is read-only".into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| unusable(format!("cannot create it ({e})")))?;
            }
            Err(e) => return Err(unusable(e.to_string())),
        }
        let path = dir.join("switchyard.db");
        let conn = Connection::open(&path)
            .map_err(|e| unusable(format!("cannot open {} ({e})", path.display())))?;
        let store = Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        };
        store.migrate().map_err(|e| unusable(e.to_string()))?;
        Ok(store)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Store {
        let store = Store {
            conn: Arc::new(Mutex::new(
                Connection::open_in_memory().expect("in-memory sqlite"),
            )),
            path: PathBuf::from(":memory:"),
        };
        store
            .migrate()
            .expect("migrations apply to an empty database");
        store
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs blocking store work off the async threads.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::TaskFailed(e.to_string()))?
    }
}

/// JSON text for the store's TEXT columns.
fn to_json<T: serde::Serialize + ?Sized>(v: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Unencodable(format!("cannot encode {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_directories_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open(&file).err().unwrap().to_string();
        assert!(
            err.contains("plain-file is not usable: it is not a directory"),
            "{err}"
        );
        let err = Store::open(&file.join("below")).err().unwrap().to_string();
        assert!(err.contains("plain-file/below is not usable"), "{err}");
    }

    #[test]
    fn an_unusable_directory_is_its_own_variant_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(
            Store::open(&file).err(),
            Some(StoreError::Unusable {
                dir: file,
                why: "it is not a directory".into()
            })
        );
    }

    #[tokio::test]
    async fn work_run_off_the_async_threads_returns_its_result_and_its_error() {
        let s = Store::in_memory();
        s.run(|s| s.state_set("k", "v")).await.unwrap();
        assert_eq!(
            s.run(|s| s.state_get("k")).await.unwrap().as_deref(),
            Some("v")
        );
        let err = s.run(|s| s.audit_finish(404, 1, "ok")).await.err().unwrap();
        assert_eq!(err, StoreError::AuditNotOpen { id: 404 });
    }
}
