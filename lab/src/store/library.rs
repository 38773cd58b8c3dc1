//! A user's models and datasets: rows naming blobs.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::accounts::UserId;
use super::{Blob, Store, now_ms};

/// A stored model, as `GET /api/models/list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// The reference `/run` takes as `model_ref`.
    pub model: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    /// Hex sha256.
    pub sha256: String,
    /// Milliseconds since the epoch.
    #[serde(skip)]
    pub uploaded_ms: i64,
    /// RFC 3339 time of the upload.
    pub uploaded_at: String,
}

/// A stored dataset.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    /// `<file name>_<sha256>`, as the client computes it.
    pub name: String,
    /// Hex sha256 of the bytes.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

impl Store {
    /// Records a model upload under a new reference.
    pub fn add_model(
        &self,
        user: UserId,
        model_ref: &str,
        file_name: &str,
        blob: &Blob,
    ) -> rusqlite::Result<()> {
        self.db().execute(
            "INSERT INTO models (ref, user_id, file_name, sha256, size, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![model_ref, user, file_name, blob.sha256, blob.size, now_ms()],
        )?;
        Ok(())
    }

    /// `user`'s model `model_ref`.
    pub fn model(&self, user: UserId, model_ref: &str) -> rusqlite::Result<Option<ModelRow>> {
        self.db()
            .query_row(
                "SELECT ref, file_name, size, sha256, uploaded_at FROM models
                 WHERE user_id = ?1 AND ref = ?2",
                params![user, model_ref],
                model_row,
            )
            .optional()
    }

    /// `user`'s models, newest first.
    pub fn models(&self, user: UserId) -> rusqlite::Result<Vec<ModelRow>> {
        let db = self.db();
        let mut statement = db.prepare_cached(
            "SELECT ref, file_name, size, sha256, uploaded_at FROM models
             WHERE user_id = ?1 ORDER BY uploaded_at DESC, ref",
        )?;
        statement.query_map([user], model_row)?.collect()
    }

    /// Records a dataset; the same name again is a no-op.
    pub fn add_dataset(&self, user: UserId, name: &str, blob: &Blob) -> rusqlite::Result<()> {
        self.db().execute(
            "INSERT OR IGNORE INTO datasets (user_id, name, sha256, size, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user, name, blob.sha256, blob.size, now_ms()],
        )?;
        Ok(())
    }

    /// `user`'s dataset `name`.
    pub fn dataset(&self, user: UserId, name: &str) -> rusqlite::Result<Option<DatasetRow>> {
        self.db()
            .query_row(
                "SELECT name, sha256, size FROM datasets WHERE user_id = ?1 AND name = ?2",
                params![user, name],
                |r| {
                    Ok(DatasetRow {
                        name: r.get(0)?,
                        sha256: r.get(1)?,
                        size: r.get(2)?,
                    })
                },
            )
            .optional()
    }

    /// The names of `user`'s datasets.
    pub fn dataset_names(&self, user: UserId) -> rusqlite::Result<Vec<String>> {
        let db = self.db();
        let mut statement =
            db.prepare_cached("SELECT name FROM datasets WHERE user_id = ?1 ORDER BY name")?;
        statement.query_map([user], |r| r.get(0))?.collect()
    }

    /// Deletes `user`'s dataset `name`; false if there was none. Its blob
    /// stays while a benchmark still uses it.
    pub fn delete_dataset(&self, user: UserId, name: &str) -> rusqlite::Result<bool> {
        let Some(row) = self.dataset(user, name)? else {
            return Ok(false);
        };
        self.db().execute(
            "DELETE FROM datasets WHERE user_id = ?1 AND name = ?2",
            params![user, name],
        )?;
        self.collect_garbage(&[row.sha256])?;
        Ok(true)
    }
}

fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelRow> {
    let uploaded_ms: i64 = r.get(4)?;
    Ok(ModelRow {
        model: r.get(0)?,
        file_name: r.get(1)?,
        size: r.get(2)?,
        sha256: r.get(3)?,
        uploaded_ms,
        uploaded_at: crate::clock::rfc3339(uploaded_ms),
    })
}
