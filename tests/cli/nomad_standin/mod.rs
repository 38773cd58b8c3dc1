//! A stand-in for Nomad: the one test double the project allows, because
//! Nomad cannot be installed here. It serves the part of Nomad's HTTP API
//! that the lab's Nomad backend uses, with Nomad's JSON field names:
//!
//! - `POST /v1/job/{id}/dispatch`: dispatches a parameterized job, checking
//!   the meta against the job file's `parameterized` block;
//! - `GET /v1/job/{id}`: a job's status, stop flag and merged meta;
//! - `GET /v1/job/{id}/allocations`: the dispatched job's one allocation
//!   with its task's state and events;
//! - `DELETE /v1/job/{id}` (`?purge=true`): stops the job's task;
//!
//! with the `X-Nomad-Token` ACL check when it has a token, and 404 for
//! anything else. Its jobs are deploy/nomad/vlab-benchmark.nomad.hcl,
//! registered once per target (job_file.rs), and each dispatched job runs
//! for real, as Nomad's client and docker driver would run it (artifact,
//! template, env, args), but as a plain process on this machine (task.rs).
//!
//! Where it departs from Nomad: a refused dispatch is a 400 (Nomad answers
//! 500 with the same words), a stopped task gets at most 5 s between
//! SIGTERM and SIGKILL whatever the job's `kill_timeout`, and nothing is
//! scheduled: every dispatch is placed at once on this machine.

mod api;
mod job_file;
mod task;
mod tests;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use self::job_file::Registration;
use crate::support::root;

/// A running stand-in. Dropping it stops the server and kills the tasks
/// still running.
pub struct NomadStandin {
    addr: SocketAddr,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Holds the task directories; declared last, so removed last.
    _dir: tempfile::TempDir,
}

/// One dispatch the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Dispatched {
    /// The parameterized job dispatched (`vlab-benchmark-T`).
    pub parent: String,
    /// The dispatched job's id (`vlab-benchmark-T/dispatch-SECS-HEX`).
    pub id: String,
    /// The meta the dispatch request carried.
    pub meta: BTreeMap<String, String>,
}

/// What the server and the tasks share.
struct State {
    /// The registered parameterized jobs by id.
    registered: BTreeMap<String, Registration>,
    /// The ACL token every request must carry, if any.
    acl_token: Option<String>,
    /// The binary every task runs.
    program: PathBuf,
    /// Extra environment of every task.
    env: Vec<(String, String)>,
    /// Where the allocation directories go.
    dir: PathBuf,
    /// The dispatched jobs.
    jobs: Mutex<Jobs>,
}

/// The dispatched jobs and the Raft-like index.
#[derive(Default)]
struct Jobs {
    /// The last index handed out.
    index: u64,
    /// Every dispatched job, in dispatch order.
    list: Vec<Job>,
    /// Set when the stand-in drops: no task starts after that.
    closed: bool,
}

/// A dispatched job and its one allocation.
struct Job {
    /// What was dispatched.
    dispatched: Dispatched,
    /// Job meta defaults, then the target's, then the dispatch's.
    meta: BTreeMap<String, String>,
    /// Whether the job was stopped (`DELETE`).
    stop: bool,
    /// Whether the job was purged: the API no longer knows it.
    purged: bool,
    /// Its allocation.
    alloc: Alloc,
    /// The task's stdout and stderr.
    log: PathBuf,
    /// The task's process group while it runs.
    process: Option<Pid>,
}

/// An allocation of one task.
struct Alloc {
    /// Its id.
    id: String,
    /// The index it was created at.
    create_index: u64,
    /// "pending", "running", "complete" or "failed".
    client_status: &'static str,
    /// "run" or "stop".
    desired_status: &'static str,
    /// The task's state: "pending", "running" or "dead".
    task_state: &'static str,
    /// Whether the task failed.
    failed: bool,
    /// The task's events, oldest first.
    events: Vec<Event>,
}

/// A task event.
struct Event {
    /// Its type ("Received", "Started", "Terminated", ...).
    kind: &'static str,
    /// Its display message.
    message: String,
    /// The exit code, for "Terminated".
    exit_code: i32,
    /// The signal, for "Terminated".
    signal: i32,
    /// When, in Unix nanoseconds.
    time: u128,
}

impl NomadStandin {
    /// Serves on 127.0.0.1:0 in a background tokio runtime (own thread).
    /// `targets`: the job file is "registered" once per target, as
    /// `nomad job run -var target=T` would: parameterized job ids
    /// `vlab-benchmark-T`. `acl_token`: when Some, every request must carry
    /// header `X-Nomad-Token` equal to it, else 403 with body "Permission
    /// denied". `program`: the binary the task runs, with the job file's
    /// `config.args`. `env`: extra environment for every task.
    pub fn start(
        targets: &[&str],
        acl_token: Option<&str>,
        program: &Path,
        env: &[(&str, &str)],
    ) -> NomadStandin {
        let path = root().join("deploy/nomad/vlab-benchmark.nomad.hcl");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: hcl::Body =
            hcl::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let registered = targets
            .iter()
            .map(|target| {
                let registration = Registration::new(&file, target);
                (registration.id.clone(), registration)
            })
            .collect();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let state = Arc::new(State {
            registered,
            acl_token: acl_token.map(str::to_owned),
            program: program.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            dir: dir.path().canonicalize().expect("the temporary folder"),
            jobs: Mutex::default(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking socket");
        let addr = listener.local_addr().expect("a bound socket");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let app = api::router(state.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app).await.expect("the server runs");
        });
        NomadStandin {
            addr,
            state,
            runtime: Some(runtime),
            _dir: dir,
        }
    }

    /// The API's address, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every dispatch accepted, in dispatch order.
    pub fn dispatched(&self) -> Vec<Dispatched> {
        self.state
            .lock()
            .list
            .iter()
            .map(|job| job.dispatched.clone())
            .collect()
    }

    /// The stdout and stderr of dispatched job `dispatched_id`'s task so
    /// far (empty when it has not started or is unknown).
    pub fn logs(&self, dispatched_id: &str) -> String {
        let log = self
            .state
            .lock()
            .list
            .iter()
            .find(|job| job.dispatched.id == dispatched_id)
            .map(|job| job.log.clone());
        log.and_then(|log| std::fs::read(log).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for NomadStandin {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        let mut jobs = self.state.lock();
        jobs.closed = true;
        for job in &jobs.list {
            if let Some(group) = job.process {
                // Already gone is fine.
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
    }
}

impl State {
    /// The jobs, locked.
    fn lock(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().expect("no stand-in thread panicked")
    }
}

impl Jobs {
    /// The next index.
    fn next_index(&mut self) -> u64 {
        self.index += 1;
        self.index
    }

    /// The dispatched job `id`, purged or not.
    fn job_mut(&mut self, id: &str) -> Option<&mut Job> {
        self.list.iter_mut().find(|job| job.dispatched.id == id)
    }
}

impl Job {
    /// The job's status: "pending", "running" or "dead", from its task's.
    fn status(&self) -> &'static str {
        self.alloc.task_state
    }
}

impl Alloc {
    /// The task ended: dead, with `client_status` ("complete" or "failed")
    /// and `event`.
    fn end(&mut self, client_status: &'static str, event: Event) {
        self.events.push(event);
        self.task_state = "dead";
        self.client_status = client_status;
        self.failed = client_status == "failed";
    }
}

impl Event {
    /// An event of type `kind` saying `message`.
    fn new(kind: &'static str, message: impl Into<String>) -> Event {
        Event {
            kind,
            message: message.into(),
            exit_code: 0,
            signal: 0,
            time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        }
    }
}

/// A random id shaped like Nomad's UUIDs.
fn uuid() -> String {
    let hex = format!(
        "{:016x}{:016x}",
        RandomState::new().hash_one(1),
        RandomState::new().hash_one(2)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
