//! The lab's store: one SQLite database (WAL) for users, tokens, models,
//! datasets, benchmarks and artifacts, and a folder of blobs named by
//! their sha256 ([`blobs`]).
//!
//! One connection behind a mutex: every statement is an indexed lookup or
//! a small write, far shorter than an HTTP round trip, and SQLite
//! serialises writers anyway.

pub mod accounts;
pub mod benchmarks;
pub mod blobs;
pub mod library;
mod migrations;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::error::LabError;
pub use blobs::{Blob, BlobError, Blobs};

/// The database and the blobs.
pub struct Store {
    conn: Mutex<Connection>,
    /// The blob folder.
    pub blobs: Blobs,
}

impl Store {
    /// Opens (or creates) the store in `data_dir` and brings its schema up
    /// to date.
    pub fn open(data_dir: &Path) -> Result<Self, LabError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            LabError::system(format!(
                "cannot create the data folder {}: {e}",
                data_dir.display()
            ))
        })?;
        let db = data_dir.join("lab.sqlite3");
        let mut conn = Connection::open(&db)
            .map_err(|e| LabError::system(format!("cannot open {}: {e}", db.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?
            .map_err(|m| LabError::system(format!("{}: {m}", db.display())))?;
        let blobs = Blobs::open(data_dir).map_err(|e| {
            LabError::system(format!(
                "cannot use the blob folder in {}: {e}",
                data_dir.display()
            ))
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
            blobs,
        })
    }

    /// The connection, for one short statement or transaction.
    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (it rolls
        // back an open transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the blobs in `hashes` that nothing refers to (uploads of a
    /// refused request).
    pub fn forget(&self, hashes: &[String]) -> rusqlite::Result<()> {
        self.collect_garbage(hashes)
    }

    /// Removes the blobs in `hashes` that no model, dataset or artifact
    /// refers to any more.
    fn collect_garbage(&self, hashes: &[String]) -> rusqlite::Result<()> {
        let db = self.db();
        for sha in hashes {
            let used: bool = db.query_row(
                "SELECT EXISTS (SELECT 1 FROM models WHERE sha256 = ?1)
                     OR EXISTS (SELECT 1 FROM datasets WHERE sha256 = ?1)
                     OR EXISTS (SELECT 1 FROM artifacts WHERE sha256 = ?1)
                     OR EXISTS (SELECT 1 FROM benchmarks WHERE model_sha256 = ?1
                                                        OR dataset_sha256 = ?1)",
                [sha],
                |r| r.get(0),
            )?;
            if !used {
                self.blobs.remove(sha);
            }
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
