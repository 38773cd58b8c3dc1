//! Turning queued benchmarks into running jobs and running jobs into
//! finished benchmarks. One loop places what the scheduler allows; each
//! placed job is one task that waits for its backend and then settles the
//! benchmark: artifacts first, then the terminal status.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::backend::{Ended, JobFile, Launch};
use crate::catalog::Requirement;
use crate::lab::Lab;
use crate::scheduler::{Scheduler, Waiting};
use crate::store::accounts::new_token;
use crate::store::benchmarks::{BenchmarkRow, Status};

/// Name of a job's parameters file in its work folder.
pub const PARAMETERS_FILE: &str = "parameters.vlab.toml";

/// Name of a TYPE2 job's dataset in its work folder.
pub const DATASET_FILE: &str = "dataset.bin";

/// How long a signed files URL stays valid after a job starts.
const FILES_URL_LIFETIME: Duration = Duration::from_secs(3600);

/// The message of a benchmark that ran when the server stopped, and had
/// already been re-run once.
pub const RESTARTED: &str = "the lab server restarted while this benchmark ran";

/// The dispatcher's state: the scheduler's slots and the running jobs'
/// cancel tokens.
#[derive(Debug)]
pub struct Dispatcher {
    wake: Notify,
    scheduler: Mutex<Scheduler>,
    running: Mutex<HashMap<String, (CancellationToken, String)>>,
}

impl Dispatcher {
    /// A dispatcher over `scheduler`.
    pub fn new(scheduler: Scheduler) -> Self {
        Self {
            wake: Notify::new(),
            scheduler: Mutex::new(scheduler),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Something changed: a job was queued or a slot freed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops running job `id`, if it runs. Returns whether it did.
    pub fn cancel(&self, id: &str) -> bool {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.get(id).map(|(cancel, _)| cancel.cancel()).is_some()
    }

    /// The job token of running job `id` (for its files archive).
    pub fn job_token(&self, id: &str) -> Option<String> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.get(id).map(|(_, token)| token.clone())
    }

    /// Jobs running on instance `uid` (for the target listing).
    pub fn busy(&self, uid: &str) -> u32 {
        self.scheduler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .running_on(uid)
    }
}

/// Brings the store back to a consistent state after a stop: pending
/// benchmarks are queued; running ones are re-run once, or failed with
/// [`RESTARTED`] if they already were. Processes a killed server left
/// behind are stopped first.
pub fn recover(lab: &Lab) -> rusqlite::Result<()> {
    for row in lab.store.in_status(Status::Pending)? {
        lab.store
            .transition(&row.id, Status::Pending, Status::Queued)?;
    }
    for row in lab.store.in_status(Status::Running)? {
        lab.backend.stop_orphan(&lab.job_dir(&row.id));
        if row.attempts < 2 {
            tracing::info!(
                "benchmark {} ran when the server stopped: queued again",
                row.id
            );
            lab.store
                .transition(&row.id, Status::Running, Status::Queued)?;
        } else {
            tracing::info!(
                "benchmark {} ran when the server stopped twice: failed",
                row.id
            );
            write_error_log(
                lab,
                &row.id,
                &format!("{RESTARTED}, and it had been re-run once already.\n"),
            );
            lab.store
                .transition(&row.id, Status::Running, Status::Failed)?;
        }
        let _ = std::fs::remove_dir_all(lab.job_dir(&row.id));
    }
    Ok(())
}

/// Places queued benchmarks whenever woken, forever.
pub async fn run(lab: Arc<Lab>) {
    loop {
        if let Err(e) = place(&lab) {
            tracing::error!("placing queued benchmarks failed: {e}");
        }
        lab.dispatcher.wake.notified().await;
    }
}

fn place(lab: &Arc<Lab>) -> rusqlite::Result<()> {
    let queued = lab.store.in_status(Status::Queued)?;
    if queued.is_empty() {
        return Ok(());
    }
    let waiting: Vec<Waiting> = queued
        .iter()
        .map(|row| Waiting {
            id: row.id.clone(),
            user: row.user,
            need: requirement(lab, row),
        })
        .collect();
    let placements = lab
        .dispatcher
        .scheduler
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .place(&waiting);
    for placement in placements {
        let Some(row) = queued.iter().find(|r| r.id == placement.id) else {
            continue;
        };
        let token = new_token();
        if !lab.store.start(&row.id, &placement.uid, &token)? {
            release(lab, &placement.uid);
            continue;
        }
        match launch(lab, row, &placement.uid, token) {
            Ok(launch) => {
                let cancel = CancellationToken::new();
                lab.dispatcher
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(row.id.clone(), (cancel.clone(), launch.token.clone()));
                let lab = Arc::clone(lab);
                tokio::spawn(async move {
                    let id = launch.job_id.clone();
                    let uid = launch.target_uid.clone();
                    let ended = lab.backend.run(launch, cancel).await;
                    settle(&lab, &id, ended);
                    lab.dispatcher
                        .running
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                    release(&lab, &uid);
                });
            }
            Err(e) => {
                tracing::error!("benchmark {}: cannot prepare its work folder: {e}", row.id);
                write_error_log(
                    lab,
                    &row.id,
                    "The lab could not prepare the benchmark's files.\n",
                );
                lab.store
                    .transition(&row.id, Status::Running, Status::Failed)?;
                release(lab, &placement.uid);
            }
        }
    }
    Ok(())
}

fn release(lab: &Lab, uid: &str) {
    lab.dispatcher
        .scheduler
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .release(uid);
    lab.dispatcher.wake();
}

/// What a stored benchmark needs of a target.
pub fn requirement(lab: &Lab, row: &BenchmarkRow) -> Requirement {
    Requirement {
        kind: row.spec.device.clone(),
        engine: row.spec.engine.clone(),
        benchmark_type: row.spec.benchmark_type.clone(),
        model_size: std::fs::metadata(lab.store.blobs.path(&row.spec.model_sha256))
            .map_or(0, |m| m.len()),
        uids: row.spec.target_uids.clone(),
    }
}

fn launch(lab: &Lab, row: &BenchmarkRow, uid: &str, token: String) -> std::io::Result<Launch> {
    let work_dir = lab.job_dir(&row.id);
    std::fs::create_dir_all(&work_dir)?;
    let parameters = match &row.spec.parameters {
        Some(text) => {
            let path: PathBuf = lab.job_inputs_dir(&row.id).join(PARAMETERS_FILE);
            std::fs::create_dir_all(lab.job_inputs_dir(&row.id))?;
            std::fs::write(&path, text)?;
            Some(JobFile {
                name: PARAMETERS_FILE.into(),
                path,
            })
        }
        None => None,
    };
    let files_path = format!("/files/{}/job.tar.gz", row.id);
    let expires = crate::store::now_ms() / 1000 + FILES_URL_LIFETIME.as_secs() as i64;
    Ok(Launch {
        job_id: row.id.clone(),
        target: row.spec.device.clone(),
        target_uid: uid.to_owned(),
        engine: row.spec.engine.clone(),
        benchmark_type: row.spec.benchmark_type.clone(),
        nb_inference: row.spec.nb_inference,
        model: JobFile {
            name: row.spec.model_file_name.clone(),
            path: lab.store.blobs.path(&row.spec.model_sha256),
        },
        dataset: row.spec.dataset.as_ref().map(|(_, sha)| JobFile {
            name: DATASET_FILE.into(),
            path: lab.store.blobs.path(sha),
        }),
        parameters,
        api_url: lab.public_url.clone(),
        files_url: format!(
            "{}{files_path}?{}",
            lab.public_url,
            lab.signer.query(&files_path, expires)
        ),
        token,
        work_dir,
        timeout: lab.config.job_timeout(),
    })
}

/// Settles a job that ended: its error.log if the job left none, then its
/// terminal status.
fn settle(lab: &Lab, id: &str, ended: Ended) {
    let Ok(Some(row)) = lab.store.benchmark_any(id) else {
        // Deleted while it ran.
        let _ = std::fs::remove_dir_all(lab.job_dir(id));
        let _ = std::fs::remove_dir_all(lab.job_inputs_dir(id));
        return;
    };
    let has = |name: &str| {
        lab.store
            .artifact(id, &[name])
            .ok()
            .flatten()
            .is_some_and(|b| b.size > 0)
    };
    let (status, note) = match ended {
        Ended::Canceled => (
            Status::Canceled,
            Some("The benchmark was canceled by its user.\n".to_owned()),
        ),
        Ended::TimedOut => (
            Status::Failed,
            Some(format!(
                "The benchmark ran longer than this lab's job timeout ({} s) and was stopped.\n",
                lab.config.job_timeout_s
            )),
        ),
        Ended::Lost(why) => (Status::Failed, Some(format!("{why}\n"))),
        Ended::Finished { success: true, .. } if has("report.json") => (Status::Success, None),
        Ended::Finished { detail, .. } if has("error.log") => {
            tracing::info!("benchmark {id}: the job ended with {detail}");
            (Status::Failed, None)
        }
        Ended::Finished { detail, .. } => (
            Status::Failed,
            Some(format!(
                "The benchmark's process ended ({detail}) without delivering {}.\n",
                if has("report.json") {
                    "an error log"
                } else {
                    "a report"
                }
            )),
        ),
    };
    if let Some(note) = note {
        write_error_log(lab, id, &note);
    }
    if let Err(e) = lab.store.transition(id, row.status, status) {
        tracing::error!("benchmark {id}: cannot record its end: {e}");
    }
    let _ = std::fs::remove_dir_all(lab.job_dir(id));
    let _ = std::fs::remove_dir_all(lab.job_inputs_dir(id));
}

/// Stores `text` as the benchmark's error.log, after what the job wrote.
pub fn write_error_log(lab: &Lab, id: &str, text: &str) {
    let mut log = lab
        .store
        .artifact(id, &["error.log"])
        .ok()
        .flatten()
        .and_then(|b| std::fs::read(lab.store.blobs.path(&b.sha256)).ok())
        .unwrap_or_default();
    log.extend_from_slice(text.as_bytes());
    let stored = lab
        .store
        .blobs
        .put(&log)
        .map_err(|e| format!("{e:?}"))
        .and_then(|blob| {
            lab.store
                .put_artifact(id, "error.log", &blob)
                .map_err(|e| e.to_string())
        });
    if let Err(e) = stored {
        tracing::error!("benchmark {id}: cannot store its error.log: {e}");
    }
}
