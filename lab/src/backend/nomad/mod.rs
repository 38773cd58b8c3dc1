//! The Nomad backend: each benchmark is a dispatch of the parameterized job
//! registered for its target (`deploy/nomad/vlab-benchmark.nomad.hcl`,
//! docs/nomad.md). The dispatch's meta names the job's files and carries a
//! signed, expiring URL of them; the job fetches that archive, which also
//! holds the API's address and the job's own token, runs `vlab job` and
//! delivers its artifacts to the server like a local job does. The backend
//! follows the dispatched job until Nomad reports it dead, and stops it on
//! cancel and on timeout.

mod client;
mod outcome;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::client::{CallError, Client};
use super::{Backend, Ended, Launch, Running};

/// The file in a job's work folder that holds its dispatched job's id while
/// it runs, so a restarted server can stop what a killed one left behind.
const DISPATCH_FILE: &str = "nomad.job";

/// How long Nomad may stay unreachable before a running job counts as lost.
const UNREACHABLE_LIMIT: Duration = Duration::from_secs(120);

/// Dispatches jobs to a Nomad cluster.
pub struct Nomad {
    client: Client,
    job_prefix: String,
    poll: Duration,
}

impl Nomad {
    /// Dispatches to the agent at `address` with `token` as its ACL token.
    /// A target's registered job is `job_prefix` then the target's name;
    /// running jobs are polled every `poll`.
    pub fn new(address: String, token: Option<String>, job_prefix: String, poll: Duration) -> Self {
        Self {
            client: Client::new(&address, token),
            job_prefix,
            poll,
        }
    }
}

impl Backend for Nomad {
    fn name(&self) -> &'static str {
        "nomad"
    }

    fn run(&self, launch: Launch, cancel: CancellationToken) -> Running {
        let client = self.client.clone();
        let parent = format!("{}{}", self.job_prefix, launch.target);
        let poll = self.poll;
        Box::pin(async move {
            let meta = dispatch_meta(&launch);
            let id = match client.dispatch(&parent, &meta).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!("job {}: Nomad refused {parent}: {e}", launch.job_id);
                    return Ended::Lost(format!(
                        "the lab could not hand the benchmark to Nomad ({})",
                        user_words(&e)
                    ));
                }
            };
            tracing::info!("job {}: dispatched as Nomad job {id}", launch.job_id);
            let record = std::fs::create_dir_all(&launch.work_dir)
                .and_then(|()| std::fs::write(launch.work_dir.join(DISPATCH_FILE), &id));
            if let Err(e) = record {
                tracing::warn!("job {}: cannot record its Nomad job: {e}", launch.job_id);
            }
            let ended = follow(&client, &id, launch.timeout, poll, &cancel).await;
            let _ = std::fs::remove_file(launch.work_dir.join(DISPATCH_FILE));
            ended
        })
    }

    fn stop_orphan(&self, work_dir: &Path) {
        let Ok(id) = std::fs::read_to_string(work_dir.join(DISPATCH_FILE)) else {
            return;
        };
        match self.client.stop_blocking(id.trim()) {
            Ok(()) => tracing::info!("stopped Nomad job {id} that a stopped server left"),
            Err(e) => tracing::warn!("cannot stop Nomad job {id}: {e}"),
        }
        let _ = std::fs::remove_file(work_dir.join(DISPATCH_FILE));
    }
}

/// The dispatch meta of `launch`: the keys the job file's `parameterized`
/// block declares.
fn dispatch_meta(launch: &Launch) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::from([
        ("job_id".to_owned(), launch.job_id.clone()),
        ("engine".to_owned(), launch.engine.clone()),
        ("benchmark_type".to_owned(), launch.benchmark_type.clone()),
        ("model".to_owned(), launch.model.name.clone()),
        ("files_url".to_owned(), launch.files_url.clone()),
    ]);
    if let Some(n) = launch.nb_inference {
        meta.insert("nb_inference".into(), n.to_string());
    }
    if let Some(dataset) = &launch.dataset {
        meta.insert("dataset".into(), dataset.name.clone());
    }
    if let Some(parameters) = &launch.parameters {
        meta.insert("parameters".into(), parameters.name.clone());
    }
    meta
}

/// Polls job `id` until it is dead, stopping it on cancel or timeout.
async fn follow(
    client: &Client,
    id: &str,
    timeout: Duration,
    poll: Duration,
    cancel: &CancellationToken,
) -> Ended {
    let deadline = Instant::now() + timeout;
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let stop_as = tokio::select! {
            () = cancel.cancelled() => Some(Ended::Canceled),
            () = tokio::time::sleep_until(deadline) => Some(Ended::TimedOut),
            () = tokio::time::sleep(poll) => None,
        };
        if let Some(ended) = stop_as {
            stop(client, id).await;
            return ended;
        }
        match poll_once(client, id).await {
            Ok(Some(ended)) => return ended,
            Ok(None) => unreachable_since = None,
            Err(e) => {
                let since = *unreachable_since.get_or_insert_with(Instant::now);
                tracing::warn!("Nomad job {id}: {e}");
                if since.elapsed() >= UNREACHABLE_LIMIT {
                    stop(client, id).await;
                    return Ended::Lost(
                        "the lab lost contact with Nomad while the benchmark ran".into(),
                    );
                }
            }
        }
    }
}

/// How job `id` ended, or `None` while it runs.
async fn poll_once(client: &Client, id: &str) -> Result<Option<Ended>, CallError> {
    let Some(job) = client.job(id).await? else {
        return Ok(Some(Ended::Lost(
            "Nomad no longer knows the benchmark's job".into(),
        )));
    };
    if job.status != "dead" {
        return Ok(None);
    }
    Ok(Some(outcome::ended(&client.allocations(id).await?)))
}

/// Stops job `id`, logging a failure: the job is being given up on either way.
async fn stop(client: &Client, id: &str) {
    if let Err(e) = client.stop(id).await {
        tracing::warn!("cannot stop Nomad job {id}: {e}");
    }
}

/// A call error in words for a benchmark's error.log: Nomad's own message
/// for a refusal, no addresses.
fn user_words(e: &CallError) -> String {
    match e {
        CallError::Refused { status, message } => format!("Nomad answered {status}: {message}"),
        CallError::Unreachable(_) => "Nomad is unreachable".into(),
    }
}
