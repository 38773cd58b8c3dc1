//! Benchmarks and their artifacts. A benchmark moves
//! pending → queued → running → success | failed | canceled; every move
//! is one conditional `UPDATE`, so two writers cannot both make it.

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::accounts::{UserId, token_hash};
use super::{Blob, Store, now_ms};
use crate::clock::rfc3339;

/// Where a benchmark is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Accepted; its files are being stored.
    Pending,
    /// Waiting for a target.
    Queued,
    /// Placed on a target and running.
    Running,
    /// Ended with a report.
    Success,
    /// Ended without a usable result; error.log says why.
    Failed,
    /// Stopped by its user.
    Canceled,
}

impl Status {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// The status spelled `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Queued,
            Self::Running,
            Self::Success,
            Self::Failed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Success, failed or canceled: nothing will change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Canceled)
    }
}

/// A benchmark as submitted.
#[derive(Debug, Clone)]
pub struct NewBenchmark {
    /// Its owner.
    pub user: UserId,
    /// `TYPE1` or `TYPE2`.
    pub benchmark_type: String,
    /// Target type.
    pub device: String,
    /// Engine.
    pub engine: String,
    /// The model's file name in the job's folder.
    pub model_file_name: String,
    /// The model blob.
    pub model_sha256: String,
    /// TYPE2: the dataset's name and blob.
    pub dataset: Option<(String, String)>,
    /// The parameters file's text (TOML), if any.
    pub parameters: Option<String>,
    /// TYPE1's inference count.
    pub nb_inference: Option<u32>,
    /// Target instances the user allows, if restricted.
    pub target_uids: Option<Vec<String>>,
}

/// A stored benchmark.
#[derive(Debug, Clone)]
pub struct BenchmarkRow {
    /// URL-safe id.
    pub id: String,
    /// Submission order.
    pub seq: i64,
    /// Owner.
    pub user: UserId,
    /// Where it is.
    pub status: Status,
    /// Everything it was submitted with.
    pub spec: NewBenchmark,
    /// The target instance it ran on.
    pub target_uid: Option<String>,
    /// Times it was started.
    pub attempts: u32,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// When it last started.
    pub started_at: Option<i64>,
    /// When it turned terminal.
    pub finished_at: Option<i64>,
}

impl BenchmarkRow {
    /// The benchmark as `GET /api/benchmarks/{id}` shows it.
    pub fn info(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status.as_str(),
            "benchmark_type": self.spec.benchmark_type,
            "device": self.spec.device,
            "engine": self.spec.engine,
            "model_file_name": self.spec.model_file_name,
            "dataset_name": self.spec.dataset.as_ref().map(|d| &d.0),
            "nb_inference": self.spec.nb_inference,
            "target_uids": self.spec.target_uids,
            "target_uid": self.target_uid,
            "attempts": self.attempts,
            "created_at": rfc3339(self.created_at),
            "started_at": self.started_at.map(rfc3339),
            "finished_at": self.finished_at.map(rfc3339),
        })
    }
}

/// Filters of `GET /api/benchmarks`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Engine name.
    pub engine: Option<String>,
    /// Target type.
    pub device: Option<String>,
    /// `TYPE1`/`TYPE2`.
    pub benchmark_type: Option<String>,
    /// Model file name.
    pub model: Option<String>,
    /// Status.
    pub status: Option<Status>,
}

const COLUMNS: &str = "id, seq, user_id, status, benchmark_type, device, engine, model_file_name,
     model_sha256, dataset_name, dataset_sha256, parameters, nb_inference, target_uids,
     target_uid, attempts, created_at, started_at, finished_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BenchmarkRow> {
    let status: String = r.get(3)?;
    let dataset_name: Option<String> = r.get(9)?;
    let dataset_sha: Option<String> = r.get(10)?;
    let uids: Option<String> = r.get(13)?;
    Ok(BenchmarkRow {
        id: r.get(0)?,
        seq: r.get(1)?,
        user: r.get(2)?,
        status: Status::parse(&status).unwrap_or(Status::Failed),
        spec: NewBenchmark {
            user: r.get(2)?,
            benchmark_type: r.get(4)?,
            device: r.get(5)?,
            engine: r.get(6)?,
            model_file_name: r.get(7)?,
            model_sha256: r.get(8)?,
            dataset: dataset_name.zip(dataset_sha),
            parameters: r.get(11)?,
            nb_inference: r.get(12)?,
            target_uids: uids.and_then(|text| serde_json::from_str(&text).ok()),
        },
        target_uid: r.get(14)?,
        attempts: r.get(15)?,
        created_at: r.get(16)?,
        started_at: r.get(17)?,
        finished_at: r.get(18)?,
    })
}

impl Store {
    /// Records a new benchmark as pending and returns its id.
    pub fn insert_benchmark(&self, new: &NewBenchmark) -> rusqlite::Result<String> {
        let id = hex::encode(rand::random::<[u8; 16]>());
        let uids = new
            .target_uids
            .as_ref()
            .map(|u| serde_json::to_string(u).unwrap_or_default());
        let (dataset_name, dataset_sha) = new.dataset.clone().unzip();
        self.db().execute(
            "INSERT INTO benchmarks (id, seq, user_id, status, benchmark_type, device, engine,
                 model_file_name, model_sha256, dataset_name, dataset_sha256, parameters,
                 nb_inference, target_uids, created_at)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM benchmarks), ?2, 'pending',
                 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                new.user,
                new.benchmark_type,
                new.device,
                new.engine,
                new.model_file_name,
                new.model_sha256,
                dataset_name,
                dataset_sha,
                new.parameters,
                new.nb_inference,
                uids,
                now_ms()
            ],
        )?;
        Ok(id)
    }

    /// Moves `id` from `from` to `to`; false if it was not in `from`.
    pub fn transition(&self, id: &str, from: Status, to: Status) -> rusqlite::Result<bool> {
        let finished = to.is_terminal().then(now_ms);
        let changed = self.db().execute(
            "UPDATE benchmarks SET status = ?3, finished_at = COALESCE(?4, finished_at),
                 job_token = CASE WHEN ?5 THEN NULL ELSE job_token END
             WHERE id = ?1 AND status = ?2",
            params![id, from.as_str(), to.as_str(), finished, to.is_terminal()],
        )?;
        Ok(changed == 1)
    }

    /// Starts queued `id` on `target_uid` with the job's own `token`
    /// (stored hashed); false if it is no longer queued.
    pub fn start(&self, id: &str, target_uid: &str, token: &str) -> rusqlite::Result<bool> {
        let changed = self.db().execute(
            "UPDATE benchmarks SET status = 'running', target_uid = ?2, job_token = ?3,
                 started_at = ?4, attempts = attempts + 1
             WHERE id = ?1 AND status = 'queued'",
            params![id, target_uid, token_hash(token), now_ms()],
        )?;
        Ok(changed == 1)
    }

    /// `user`'s benchmark `id`.
    pub fn benchmark(&self, user: UserId, id: &str) -> rusqlite::Result<Option<BenchmarkRow>> {
        self.db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM benchmarks WHERE id = ?1 AND user_id = ?2"),
                params![id, user],
                row,
            )
            .optional()
    }

    /// Benchmark `id`, whoever owns it (the server's own use).
    pub fn benchmark_any(&self, id: &str) -> rusqlite::Result<Option<BenchmarkRow>> {
        self.db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM benchmarks WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
    }

    /// The status of `user`'s benchmark `id`: one indexed lookup.
    pub fn status(&self, user: UserId, id: &str) -> rusqlite::Result<Option<Status>> {
        let text: Option<String> = self
            .db()
            .prepare_cached("SELECT status FROM benchmarks WHERE id = ?1 AND user_id = ?2")?
            .query_row(params![id, user], |r| r.get(0))
            .optional()?;
        Ok(text.and_then(|t| Status::parse(&t)))
    }

    /// Every benchmark in `status`, oldest first.
    pub fn in_status(&self, status: Status) -> rusqlite::Result<Vec<BenchmarkRow>> {
        let db = self.db();
        let mut statement = db.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM benchmarks WHERE status = ?1 ORDER BY seq"
        ))?;
        statement.query_map([status.as_str()], row)?.collect()
    }

    /// The status of running benchmark `id` if `token` is its job token.
    pub fn job_token_matches(&self, id: &str, token: &str) -> rusqlite::Result<bool> {
        let found: Option<i64> = self
            .db()
            .query_row(
                "SELECT 1 FROM benchmarks WHERE id = ?1 AND job_token = ?2 AND status = 'running'",
                params![id, token_hash(token)],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// Stores artifact `name` of benchmark `id`, replacing an earlier one.
    pub fn put_artifact(&self, id: &str, name: &str, blob: &Blob) -> rusqlite::Result<()> {
        let old: Option<String> = {
            let db = self.db();
            let old = db
                .query_row(
                    "SELECT sha256 FROM artifacts WHERE benchmark_id = ?1 AND name = ?2",
                    params![id, name],
                    |r| r.get(0),
                )
                .optional()?;
            db.execute(
                "INSERT OR REPLACE INTO artifacts (benchmark_id, name, sha256, size)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, name, blob.sha256, blob.size],
            )?;
            old
        };
        if let Some(old) = old.filter(|o| *o != blob.sha256) {
            self.collect_garbage(&[old])?;
        }
        Ok(())
    }

    /// The first of `names` that benchmark `id` has.
    pub fn artifact(&self, id: &str, names: &[&str]) -> rusqlite::Result<Option<Blob>> {
        let db = self.db();
        for name in names {
            let found = db
                .query_row(
                    "SELECT sha256, size FROM artifacts WHERE benchmark_id = ?1 AND name = ?2",
                    params![id, name],
                    |r| {
                        Ok(Blob {
                            sha256: r.get(0)?,
                            size: r.get(1)?,
                        })
                    },
                )
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// One page of `user`'s benchmarks, newest first, and how many match.
    pub fn list(
        &self,
        user: UserId,
        filter: &ListFilter,
        page: u32,
        page_length: u32,
    ) -> rusqlite::Result<(u64, Vec<BenchmarkRow>)> {
        let condition =
            "user_id = ?1 AND (?2 IS NULL OR engine = ?2) AND (?3 IS NULL OR device = ?3)
             AND (?4 IS NULL OR benchmark_type = ?4) AND (?5 IS NULL OR model_file_name = ?5)
             AND (?6 IS NULL OR status = ?6)";
        let status = filter.status.map(Status::as_str);
        let db = self.db();
        let total: u64 = db.query_row(
            &format!("SELECT COUNT(*) FROM benchmarks WHERE {condition}"),
            params![
                user,
                filter.engine,
                filter.device,
                filter.benchmark_type,
                filter.model,
                status
            ],
            |r| r.get(0),
        )?;
        let mut statement = db.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM benchmarks WHERE {condition} ORDER BY seq DESC LIMIT ?7 OFFSET ?8"
        ))?;
        let rows = statement
            .query_map(
                params![
                    user,
                    filter.engine,
                    filter.device,
                    filter.benchmark_type,
                    filter.model,
                    status,
                    page_length,
                    u64::from(page.saturating_sub(1)) * u64::from(page_length)
                ],
                row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok((total, rows))
    }

    /// Deletes benchmark `id` and its artifacts, and the blobs nothing
    /// else uses.
    pub fn delete_benchmark(&self, id: &str) -> rusqlite::Result<()> {
        let mut hashes: Vec<String> = Vec::new();
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            {
                let mut statement =
                    tx.prepare("SELECT sha256 FROM artifacts WHERE benchmark_id = ?1")?;
                for sha in statement.query_map([id], |r| r.get(0))? {
                    hashes.push(sha?);
                }
                let inputs: Option<(String, Option<String>)> = tx
                    .query_row(
                        "SELECT model_sha256, dataset_sha256 FROM benchmarks WHERE id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((model, dataset)) = inputs {
                    hashes.push(model);
                    hashes.extend(dataset);
                }
            }
            tx.execute("DELETE FROM artifacts WHERE benchmark_id = ?1", [id])?;
            tx.execute("DELETE FROM benchmarks WHERE id = ?1", [id])?;
            tx.commit()?;
        }
        self.collect_garbage(&hashes)
    }
}
