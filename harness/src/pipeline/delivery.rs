//! Delivering a job's artifacts to the lab's API over HTTP (docs/job.md).
//!
//! Each artifact is one `PUT` of the file's bytes to
//! `{api}{template}` with `{job_id}` and `{name}` filled in, by default
//! `{api}/jobs/{job_id}/artifacts/{name}`, with the bearer token. `PUT` of
//! the same bytes to the same place is idempotent, so delivering again
//! after a crash is safe. Connection failures, timeouts, 429 and 5xx
//! answers are retried with exponential backoff and jitter until an overall
//! deadline; any other answer fails at once. Messages never contain the
//! token or the API's address.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::platform::error::{Error, Result, describe_io};

/// The default path of an artifact below the API's base URL.
pub const DEFAULT_TEMPLATE: &str = "/jobs/{job_id}/artifacts/{name}";

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The API's base URL (`VLAB_API_URL`).
    pub api_url: String,
    /// The job's id (`VLAB_JOB_ID`).
    pub job_id: String,
    /// Bearer token (`VLAB_API_TOKEN`).
    pub token: Option<String>,
    /// Artifact path below `api_url`, with `{job_id}` and `{name}`.
    pub template: String,
    /// Longest the whole delivery may take, retries included.
    pub deadline: Duration,
    /// Wait before the first retry; each later wait doubles, with jitter.
    pub first_backoff: Duration,
}

/// What one artifact's delivery took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The artifact's file name.
    pub name: String,
    /// Requests sent, the successful one included.
    pub attempts: u32,
}

/// Longest single wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Longest one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Delivery {
    /// Delivers the files `names` from `dir`, in order. Fails with a
    /// delivery error (exit code 3) naming the artifact and the last
    /// answer; the files stay where they are.
    pub fn deliver(&self, dir: &Path, names: &[&str]) -> Result<Vec<Delivered>> {
        let start = Instant::now();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        names
            .iter()
            .map(|name| {
                let path = dir.join(name);
                let body = std::fs::read(&path).map_err(|e| {
                    Error::delivery(format!("cannot read artifact {name}: {}", describe_io(&e)))
                })?;
                self.put(&agent, name, &body, start)
            })
            .collect()
    }

    fn url(&self, name: &str) -> String {
        let path = self
            .template
            .replace("{job_id}", &self.job_id)
            .replace("{name}", name);
        format!("{}{path}", self.api_url.trim_end_matches('/'))
    }

    /// One artifact, retried until it is accepted, refused, or the deadline
    /// passes.
    fn put(
        &self,
        agent: &ureq::Agent,
        name: &str,
        body: &[u8],
        start: Instant,
    ) -> Result<Delivered> {
        let url = self.url(name);
        let mut backoff = self.first_backoff;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let mut request = agent
                .put(&url)
                .header("Content-Type", "application/octet-stream");
            if let Some(token) = &self.token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            let outcome = match request.send(body) {
                Ok(response) if response.status().is_success() => {
                    return Ok(Delivered {
                        name: name.to_owned(),
                        attempts,
                    });
                }
                Ok(response) => {
                    let status = response.status();
                    let retry = status.is_server_error() || status.as_u16() == 429;
                    (format!("the API answered HTTP {}", status.as_u16()), retry)
                }
                Err(e) => (
                    format!("the API could not be reached ({})", describe(&e)),
                    true,
                ),
            };
            let (why, retry) = outcome;
            let wait = jittered(backoff);
            if !retry || start.elapsed() + wait > self.deadline {
                return Err(Error::delivery(format!(
                    "delivering {name} failed after {attempts} attempt{}: {why}; \
                     the artifacts are kept in the output folder",
                    if attempts == 1 { "" } else { "s" }
                )));
            }
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// `base` times a random factor in [0.5, 1.5), so that many jobs failing
/// together do not retry together.
fn jittered(base: Duration) -> Duration {
    base.mul_f64(rand::rng().random_range(0.5..1.5))
}

/// A transport failure in words, without the address it was for.
fn describe(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused"
        }
        ureq::Error::Io(_) => "connection failed",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::Tls(_) => "TLS failure",
        _ => "request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(template: &str) -> Delivery {
        Delivery {
            api_url: "http://api:8080/".into(),
            job_id: "j1".into(),
            token: None,
            template: template.into(),
            deadline: Duration::from_secs(1),
            first_backoff: Duration::from_millis(10),
        }
    }

    #[test]
    fn urls_follow_the_template() {
        assert_eq!(
            delivery(DEFAULT_TEMPLATE).url("report.json"),
            "http://api:8080/jobs/j1/artifacts/report.json"
        );
        assert_eq!(
            delivery("/v2/{job_id}/{name}").url("user.log"),
            "http://api:8080/v2/j1/user.log"
        );
    }

    #[test]
    fn jitter_stays_within_half_to_one_and_a_half() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d < Duration::from_millis(150));
        }
    }
}
