//! The four calls of Nomad's HTTP API the backend makes: dispatch a
//! parameterized job, read a job, list its allocations, stop it.
//!
//! ureq rather than an async client: the backend makes one call per
//! running job per poll, so a blocking call on tokio's blocking pool costs
//! nothing that matters, and ureq is already in the workspace.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// How long one call may take before Nomad counts as unreachable.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A Nomad agent's HTTP API.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    address: String,
    token: Option<String>,
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// Nomad answered with an error status.
    Refused {
        /// The HTTP status.
        status: u16,
        /// Nomad's message.
        message: String,
    },
    /// Nomad could not be reached, or its answer could not be read.
    Unreachable(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { status, message } => write!(f, "HTTP {status}: {message}"),
            Self::Unreachable(why) => write!(f, "{why}"),
        }
    }
}

/// `GET /v1/job/:id`, the part the backend reads.
#[derive(Debug, Deserialize)]
pub struct Job {
    /// `pending`, `running` or `dead`.
    #[serde(rename = "Status")]
    pub status: String,
}

/// One entry of `GET /v1/job/:id/allocations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Allocation {
    /// `pending`, `running`, `complete`, `failed` or `lost`.
    pub client_status: String,
    /// Raft index of its creation: a rescheduled allocation has a higher one.
    #[serde(default)]
    pub create_index: u64,
    /// Task name to its state.
    #[serde(default)]
    pub task_states: Option<HashMap<String, TaskState>>,
}

/// A task's state within an allocation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskState {
    /// What happened to the task, oldest first.
    #[serde(default)]
    pub events: Option<Vec<TaskEvent>>,
}

/// One task event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskEvent {
    /// `Received`, `Started`, `Terminated`, `Killed`, `Driver Failure`, ...
    #[serde(rename = "Type")]
    pub kind: String,
    /// The process's exit code, for `Terminated`.
    #[serde(default)]
    pub exit_code: i64,
    /// The signal that ended the process, or 0.
    #[serde(default)]
    pub signal: i64,
    /// Nomad's words for the event.
    #[serde(default)]
    pub display_message: String,
}

#[derive(Deserialize)]
struct DispatchAnswer {
    #[serde(rename = "DispatchedJobID")]
    dispatched_job_id: String,
}

impl Client {
    /// A client of the agent at `address` (`http://host:4646`), sending
    /// `token` as `X-Nomad-Token` when there is one.
    pub fn new(address: &str, token: Option<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            agent,
            address: address.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// Dispatches the parameterized job `parent` with `meta`; the answer is
    /// the dispatched job's id.
    pub async fn dispatch(
        &self,
        parent: &str,
        meta: &BTreeMap<String, String>,
    ) -> Result<String, CallError> {
        let body = serde_json::json!({ "Meta": meta, "Payload": "" });
        let url = self.job_url(parent, "/dispatch");
        let answer: DispatchAnswer = self
            .call(move |c| c.agent.post(&url).header_opt(&c.token).send_json(&body))
            .await?;
        Ok(answer.dispatched_job_id)
    }

    /// The job `id`, or `None` if Nomad does not know it.
    pub async fn job(&self, id: &str) -> Result<Option<Job>, CallError> {
        let url = self.job_url(id, "");
        match self
            .call(move |c| c.agent.get(&url).header_opt(&c.token).call())
            .await
        {
            Ok(job) => Ok(Some(job)),
            Err(CallError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The allocations of job `id`.
    pub async fn allocations(&self, id: &str) -> Result<Vec<Allocation>, CallError> {
        let url = self.job_url(id, "/allocations");
        self.call(move |c| c.agent.get(&url).header_opt(&c.token).call())
            .await
    }

    /// Stops job `id` (its allocations are killed).
    pub async fn stop(&self, id: &str) -> Result<(), CallError> {
        let client = self.clone();
        let id = id.to_owned();
        tokio::task::spawn_blocking(move || client.stop_blocking(&id))
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?
    }

    /// [`Client::stop`], blocking the calling thread.
    pub fn stop_blocking(&self, id: &str) -> Result<(), CallError> {
        let url = self.job_url(id, "");
        let response = self.agent.delete(&url).header_opt(&self.token).call();
        read::<serde_json::Value>(response).map(|_| ())
    }

    /// `/v1/job/ID{suffix}`, the id percent-encoded: a dispatched job's id
    /// holds a `/`.
    fn job_url(&self, id: &str, suffix: &str) -> String {
        format!(
            "{}/v1/job/{}{suffix}",
            self.address,
            utf8_percent_encode(id, NON_ALPHANUMERIC)
        )
    }

    /// Runs one blocking request on tokio's blocking pool and reads its
    /// JSON answer.
    async fn call<T, F>(&self, request: F) -> Result<T, CallError>
    where
        T: DeserializeOwned + Send + 'static,
        F: FnOnce(&Client) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>
            + Send
            + 'static,
    {
        let client = self.clone();
        tokio::task::spawn_blocking(move || read(request(&client)))
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?
    }
}

/// A response's JSON body, or why there is none.
fn read<T: DeserializeOwned>(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<T, CallError> {
    let mut response =
        response.map_err(|e| CallError::Unreachable(format!("Nomad is unreachable: {e}")))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let message = response
            .body_mut()
            .read_to_string()
            .unwrap_or_default()
            .trim()
            .to_owned();
        return Err(CallError::Refused { status, message });
    }
    response.body_mut().read_json().map_err(|e| {
        CallError::Unreachable(format!("Nomad's answer is not what it should be: {e}"))
    })
}

/// Adds `X-Nomad-Token` when there is a token.
trait TokenHeader: Sized {
    fn header_opt(self, token: &Option<String>) -> Self;
}

impl<B> TokenHeader for ureq::RequestBuilder<B> {
    fn header_opt(self, token: &Option<String>) -> Self {
        match token {
            Some(token) => self.header("X-Nomad-Token", token),
            None => self,
        }
    }
}
