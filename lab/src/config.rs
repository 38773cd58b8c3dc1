//! The lab's configuration file (`lab.toml`, docs/lab.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::LabError;

/// The whole configuration, as read from `lab.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    /// Address and port to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// URL the jobs reach this server at [default: `http://{listen}`].
    #[serde(default)]
    pub public_url: Option<String>,
    /// The database, blobs and job folders live here (relative paths are
    /// relative to the config file).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Largest upload (a model or a dataset), in MiB.
    #[serde(default = "default_upload_limit_mib")]
    pub upload_limit_mib: u64,
    /// Longest a benchmark may run, in seconds, before it is killed.
    #[serde(default = "default_job_timeout_s")]
    pub job_timeout_s: u64,
    /// Hours an access token stays valid.
    #[serde(default = "default_token_hours")]
    pub token_hours: u64,
    /// Board definitions [default: the `vlab` binary's usual search].
    #[serde(default)]
    pub boards_dir: Option<PathBuf>,
    /// Who may log in.
    #[serde(default)]
    pub users: Vec<UserEntry>,
    /// What the lab offers.
    #[serde(default)]
    pub targets: Vec<TargetEntry>,
    /// Where benchmarks run.
    #[serde(default)]
    pub backend: BackendConfig,
}

/// One user: an email and an argon2 PHC hash of their password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// Login name.
    pub email: String,
    /// `$argon2id$...`, as `vlab lab add-user` writes it.
    pub password_hash: String,
}

/// One target instance the lab offers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// A board name from the boards folder, or `host`.
    pub name: String,
    /// This instance's unique id [default: `{name}-{n}`, n counting
    /// instances of the same name from 0].
    #[serde(default)]
    pub uid: Option<String>,
    /// Jobs it runs at once. Boards always run one; the host defaults to
    /// one, because benchmarks that share cores measure each other.
    #[serde(default)]
    pub slots: Option<u32>,
    /// Engines offered [default: all the target can run here].
    #[serde(default)]
    pub engines: Option<Vec<String>>,
}

/// Where benchmarks run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// A `vlab job` child process per benchmark on this machine.
    #[default]
    Local,
    /// A dispatched Nomad job per benchmark (docs/nomad.md).
    Nomad {
        /// Nomad's HTTP API, e.g. `http://127.0.0.1:4646`.
        address: String,
        /// ACL token sent as `X-Nomad-Token`, if the cluster needs one.
        #[serde(default)]
        token: Option<String>,
        /// Prefix of the registered parameterized jobs
        /// [default: `vlab-benchmark-`, then the target name].
        #[serde(default = "default_job_prefix")]
        job_prefix: String,
        /// Seconds between two polls of a job's allocations.
        #[serde(default = "default_poll_s")]
        poll_s: f64,
    },
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("vlab-lab")
}
fn default_upload_limit_mib() -> u64 {
    1024
}
fn default_job_timeout_s() -> u64 {
    3600
}
fn default_token_hours() -> u64 {
    24
}
fn default_job_prefix() -> String {
    "vlab-benchmark-".to_owned()
}
fn default_poll_s() -> f64 {
    1.0
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            public_url: None,
            data_dir: default_data_dir(),
            upload_limit_mib: default_upload_limit_mib(),
            job_timeout_s: default_job_timeout_s(),
            token_hours: default_token_hours(),
            boards_dir: None,
            users: Vec::new(),
            targets: Vec::new(),
            backend: BackendConfig::Local,
        }
    }
}

impl LabConfig {
    /// Reads and checks `path`; relative paths in it become relative to its
    /// folder.
    pub fn load(path: &Path) -> Result<Self, LabError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LabError::config(path, format!("cannot be read: {e}")))?;
        let mut config: LabConfig =
            toml::from_str(&text).map_err(|e| LabError::config(path, toml_message(&e, &text)))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        if let Some(dir) = &config.boards_dir
            && dir.is_relative()
        {
            config.boards_dir = Some(base.join(dir));
        }
        config.check().map_err(|m| LabError::config(path, m))?;
        Ok(config)
    }

    /// The URL jobs deliver to.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Largest upload in bytes.
    pub fn upload_limit(&self) -> usize {
        usize::try_from(self.upload_limit_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }

    /// The job timeout.
    pub fn job_timeout(&self) -> Duration {
        Duration::from_secs(self.job_timeout_s)
    }

    /// How long an access token lives.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_hours * 3600)
    }

    fn check(&self) -> Result<(), String> {
        if self.upload_limit_mib == 0 {
            return Err("upload_limit_mib must be at least 1".into());
        }
        if self.job_timeout_s == 0 {
            return Err("job_timeout_s must be at least 1".into());
        }
        if self.token_hours == 0 {
            return Err("token_hours must be at least 1".into());
        }
        let mut emails = std::collections::BTreeSet::new();
        for user in &self.users {
            if !emails.insert(user.email.as_str()) {
                return Err(format!("user {} is listed twice", user.email));
            }
            if !user.password_hash.starts_with("$argon2") {
                return Err(format!(
                    "user {}: password_hash is not an argon2 hash (write users with `vlab lab add-user`)",
                    user.email
                ));
            }
        }
        for target in &self.targets {
            if target.slots == Some(0) {
                return Err(format!("target {}: slots must be at least 1", target.name));
            }
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err("public_url must start with http:// or https://".into());
        }
        if let BackendConfig::Nomad {
            address, poll_s, ..
        } = &self.backend
        {
            if !(address.starts_with("http://") || address.starts_with("https://")) {
                return Err("backend.address must start with http:// or https://".into());
            }
            if !(poll_s.is_finite() && *poll_s > 0.0) {
                return Err("backend.poll_s must be a positive number of seconds".into());
            }
        }
        Ok(())
    }
}

/// A TOML error with its line, without repeating the whole source.
fn toml_message(e: &toml::de::Error, text: &str) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_and_defaults_fill_the_rest() {
        let text = "listen = \"127.0.0.1:0\"\njob_timeout = 5\n";
        let e = toml::from_str::<LabConfig>(text).unwrap_err();
        assert!(toml_message(&e, text).starts_with("line 2: unknown field `job_timeout`"));
        let config: LabConfig =
            toml::from_str("[backend]\nkind = \"nomad\"\naddress = \"http://n:4646\"\n").unwrap();
        assert_eq!(config.job_timeout_s, 3600);
        assert!(
            matches!(config.backend, BackendConfig::Nomad { ref job_prefix, .. } if job_prefix == "vlab-benchmark-")
        );
        let bad = LabConfig {
            upload_limit_mib: 0,
            ..LabConfig::default()
        };
        assert_eq!(
            bad.check().unwrap_err(),
            "upload_limit_mib must be at least 1"
        );
    }
}
