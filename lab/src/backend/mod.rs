//! Where a placed benchmark runs: a child process on this machine
//! ([`local`]) or a dispatched Nomad job ([`nomad`]). Both hand the job the
//! same inputs and get its artifacts back the same way: the job's `vlab job`
//! delivers them to the server's artifact endpoint with a per-job token.

pub mod local;
pub mod nomad;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// One input file of a job: its name in the job's work folder and where the
/// server keeps its bytes.
#[derive(Debug, Clone)]
pub struct JobFile {
    /// File name in the job's work folder (the contract's `*_FILENAME`).
    pub name: String,
    /// The stored blob.
    pub path: PathBuf,
}

/// Everything a backend needs to start one benchmark.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The benchmark's id in the API (`VLAB_JOB_ID`).
    pub job_id: String,
    /// Target type, a board name or `host` (`TARGET`).
    pub target: String,
    /// The target instance the scheduler chose.
    pub target_uid: String,
    /// Engine name (`RUNTIME`).
    pub engine: String,
    /// `TYPE1` or `TYPE2` (`BENCHMARK_TYPE`).
    pub benchmark_type: String,
    /// TYPE1's inference count (`NB_INFERENCE`).
    pub nb_inference: Option<u32>,
    /// The model (`MODEL_FILENAME`).
    pub model: JobFile,
    /// TYPE2's dataset (`DATASET_FILENAME`).
    pub dataset: Option<JobFile>,
    /// Engine parameters file (`PARAMETERS_FILENAME`).
    pub parameters: Option<JobFile>,
    /// Base URL the job delivers its artifacts to (`VLAB_API_URL`).
    pub api_url: String,
    /// The job's own token: it may write this job's artifacts and nothing
    /// else (`VLAB_API_TOKEN`).
    pub token: String,
    /// Signed, expiring URL of a `.tar.gz` holding the input files and a
    /// `job.env` with `VLAB_API_URL` and `VLAB_API_TOKEN`, for backends
    /// whose jobs fetch their inputs (Nomad's `artifact` stanza).
    pub files_url: String,
    /// A folder on this machine the backend may use for the job.
    pub work_dir: PathBuf,
    /// Longest the job may run before it is killed.
    pub timeout: Duration,
}

/// How a job ended, as its backend saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The job's process ran to its end. `success` is a zero exit status;
    /// `detail` says how it ended in words a user can read (no host paths).
    Finished {
        /// The job exited with status 0.
        success: bool,
        /// How it ended, e.g. "exit status 2" or "killed by signal 9".
        detail: String,
    },
    /// The job ran past its timeout and was killed.
    TimedOut,
    /// The job was canceled through its token and was stopped.
    Canceled,
    /// The backend lost the job (it could not be started or followed).
    Lost(String),
}

/// A boxed future of how a job ends.
pub type Running = Pin<Box<dyn Future<Output = Ended> + Send>>;

/// A place to run jobs. One implementation per backend; the server picks
/// one from the config's `[backend]` table.
pub trait Backend: Send + Sync + 'static {
    /// The backend's name in logs and docs (`local`, `nomad`).
    fn name(&self) -> &'static str;

    /// Starts `launch` and resolves when the job has ended. Cancelling
    /// `cancel` stops the job (its whole process group, or its Nomad job)
    /// and resolves with [`Ended::Canceled`].
    fn run(&self, launch: Launch, cancel: CancellationToken) -> Running;

    /// Stops what a killed server left running for the job whose work
    /// folder is `work_dir`, from what [`Backend::run`] recorded there.
    /// Called once per such job at start-up, before the lab serves; it may
    /// block.
    fn stop_orphan(&self, work_dir: &Path);
}
