//! The pipeline's job contract: what a Nomad batch job's environment says
//! to run (../shared/reference/vlab-contract.md, docs/job.md).
//!
//! [`JobEnv::from_vars`] reads every variable at once and reports every
//! missing or invalid one in a single error, so a misconfigured job is
//! fixed in one round trip.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pipeline::delivery::{DEFAULT_TEMPLATE, Delivery};

use crate::platform::error::{Error, Result};
use crate::spec::BenchmarkType;

/// Default folder of the job's files when `VLAB_WORKDIR` is not set.
pub const DEFAULT_WORKDIR: &str = ".";

/// A benchmark job as its environment describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnv {
    /// `TARGET`: the target (board) name; `host` is the machine vlab runs on.
    pub target: String,
    /// `RUNTIME`: the inference engine name.
    pub runtime: String,
    /// `BENCHMARK_TYPE`: TYPE1 or TYPE2 (TYPE3 is refused).
    pub benchmark_type: BenchmarkType,
    /// `NB_INFERENCE`: timed inferences of a TYPE1 job.
    pub nb_inference: Option<usize>,
    /// `MODEL_FILENAME`, inside the work folder.
    pub model: PathBuf,
    /// `DATASET_FILENAME` (TYPE2), inside the work folder.
    pub dataset: Option<PathBuf>,
    /// `PARAMETERS_FILENAME`, inside the work folder, if given.
    pub parameters: Option<PathBuf>,
    /// `VLAB_WORKDIR`: the job's folder [default: the current folder].
    pub workdir: PathBuf,
    /// `VLAB_BOARDS_DIR`: board definitions, if given.
    pub boards_dir: Option<PathBuf>,
    /// `VLAB_API_URL`: where artifacts are delivered, if anywhere.
    pub api_url: Option<String>,
    /// `VLAB_API_TOKEN`: bearer token for the API.
    pub api_token: Option<String>,
    /// `VLAB_JOB_ID`: the job's id in the API (required with `VLAB_API_URL`).
    pub job_id: Option<String>,
    /// `VLAB_API_PATH`: an artifact's path below the API URL
    /// [default: [`DEFAULT_TEMPLATE`]].
    pub api_path: String,
    /// `VLAB_DELIVERY_DEADLINE`: seconds the whole delivery may take,
    /// retries included [default: 300].
    pub delivery_deadline: Duration,
}

impl JobEnv {
    /// How to deliver this job's artifacts, when it has an API.
    pub fn delivery(&self) -> Option<Delivery> {
        Some(Delivery {
            api_url: self.api_url.clone()?,
            job_id: self.job_id.clone()?,
            token: self.api_token.clone(),
            template: self.api_path.clone(),
            deadline: self.delivery_deadline,
            first_backoff: Duration::from_millis(200),
        })
    }

    /// The contract's artifacts of this job, in delivery order.
    pub fn artifacts(&self) -> &'static [&'static str] {
        match self.benchmark_type {
            BenchmarkType::Type1 => &["report.json", "user.log", "error.log"],
            BenchmarkType::Type2 => &["report.json", "user.log", "error.log", "raw_output.bin"],
        }
    }
}

impl JobEnv {
    /// Reads the job from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the job from `var` (a variable's value by name; empty values
    /// count as unset). Every problem is listed in one input error.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let mut required = |name: &str| {
            let value = get(name);
            if value.is_none() {
                problems.push(format!("{name} is not set"));
            }
            value
        };
        let target = required("TARGET");
        let runtime = required("RUNTIME");
        let kind = required("BENCHMARK_TYPE");
        let model = required("MODEL_FILENAME");

        let benchmark_type = match kind.as_deref() {
            Some("TYPE1") => Some(BenchmarkType::Type1),
            Some("TYPE2") => Some(BenchmarkType::Type2),
            Some("TYPE3") => {
                problems.push(
                    "BENCHMARK_TYPE=TYPE3 (on-device training) is not supported; use TYPE1 or TYPE2"
                        .to_owned(),
                );
                None
            }
            Some(other) => {
                problems.push(format!(
                    "BENCHMARK_TYPE={other} is not a benchmark type; use TYPE1 or TYPE2"
                ));
                None
            }
            None => None,
        };
        let nb_inference = match get("NB_INFERENCE") {
            Some(n) => match n.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    problems.push(format!("NB_INFERENCE={n} is not a positive whole number"));
                    None
                }
            },
            None => {
                if benchmark_type == Some(BenchmarkType::Type1) {
                    problems.push("NB_INFERENCE is not set (TYPE1 needs it)".to_owned());
                }
                None
            }
        };
        let dataset = get("DATASET_FILENAME");
        if benchmark_type == Some(BenchmarkType::Type2) && dataset.is_none() {
            problems.push("DATASET_FILENAME is not set (TYPE2 needs it)".to_owned());
        }
        let api_url = get("VLAB_API_URL");
        let job_id = get("VLAB_JOB_ID");
        if let Some(url) = &api_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push("VLAB_API_URL must start with http:// or https://".to_owned());
            }
            if job_id.is_none() {
                problems.push("VLAB_JOB_ID is not set (VLAB_API_URL needs it)".to_owned());
            }
        }
        let api_path = get("VLAB_API_PATH").unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned());
        if !api_path.contains("{name}") {
            problems.push("VLAB_API_PATH must contain {name}".to_owned());
        }
        let delivery_deadline = match get("VLAB_DELIVERY_DEADLINE") {
            None => Duration::from_secs(300),
            Some(s) => match s.parse::<u64>() {
                Ok(secs) => Duration::from_secs(secs),
                Err(_) => {
                    problems.push(format!(
                        "VLAB_DELIVERY_DEADLINE={s} is not a whole number of seconds"
                    ));
                    Duration::ZERO
                }
            },
        };
        let workdir = PathBuf::from(get("VLAB_WORKDIR").unwrap_or_else(|| DEFAULT_WORKDIR.into()));
        for (name, file) in [
            ("MODEL_FILENAME", model.as_deref()),
            ("DATASET_FILENAME", dataset.as_deref()),
            ("PARAMETERS_FILENAME", get("PARAMETERS_FILENAME").as_deref()),
        ] {
            if let Some(file) = file.filter(|f| !is_plain_name(f)) {
                problems.push(format!(
                    "{name}={file} must be a file name inside the job folder"
                ));
            }
        }

        if !problems.is_empty() {
            return Err(Error::input(format!(
                "the job's environment is incomplete: {}",
                problems.join("; ")
            )));
        }
        let (Some(target), Some(runtime), Some(benchmark_type), Some(model)) =
            (target, runtime, benchmark_type, model)
        else {
            return Err(Error::input("the job's environment is incomplete"));
        };
        Ok(Self {
            target,
            runtime,
            benchmark_type,
            nb_inference,
            model: workdir.join(model),
            dataset: dataset.map(|d| workdir.join(d)),
            parameters: get("PARAMETERS_FILENAME").map(|p| workdir.join(p)),
            boards_dir: get("VLAB_BOARDS_DIR").map(PathBuf::from),
            api_url,
            api_token: get("VLAB_API_TOKEN"),
            job_id,
            api_path,
            delivery_deadline,
            workdir,
        })
    }
}

/// A bare file name: no directories, not `.` or `..`.
fn is_plain_name(name: &str) -> bool {
    let path = Path::new(name);
    path.file_name().is_some_and(|f| f == path.as_os_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn reads_a_type1_job() {
        let job = JobEnv::from_vars(env(&[
            ("TARGET", "host"),
            ("RUNTIME", "tract"),
            ("BENCHMARK_TYPE", "TYPE1"),
            ("NB_INFERENCE", "10"),
            ("MODEL_FILENAME", "kws-2026.tflite"),
            ("VLAB_WORKDIR", "/job"),
            ("VLAB_API_URL", "http://127.0.0.1:8080"),
            ("VLAB_JOB_ID", "j1"),
        ]))
        .unwrap();
        assert_eq!(job.benchmark_type, BenchmarkType::Type1);
        assert_eq!(job.nb_inference, Some(10));
        assert_eq!(job.model, Path::new("/job/kws-2026.tflite"));
        assert_eq!(job.job_id.as_deref(), Some("j1"));
        assert_eq!(job.dataset, None);
    }

    #[test]
    fn lists_everything_that_is_missing_at_once() {
        let err = JobEnv::from_vars(env(&[("BENCHMARK_TYPE", "TYPE2")])).unwrap_err();
        let m = err.message();
        for missing in [
            "TARGET is not set",
            "RUNTIME is not set",
            "MODEL_FILENAME is not set",
            "DATASET_FILENAME is not set (TYPE2 needs it)",
        ] {
            assert!(m.contains(missing), "{m}");
        }
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn refuses_type3_bad_numbers_and_paths() {
        let err = JobEnv::from_vars(env(&[
            ("TARGET", "host"),
            ("RUNTIME", "tract"),
            ("BENCHMARK_TYPE", "TYPE3"),
            ("NB_INFERENCE", "ten"),
            ("MODEL_FILENAME", "../etc/model.onnx"),
            ("VLAB_API_URL", "ftp://x"),
        ]))
        .unwrap_err();
        let m = err.message();
        assert!(
            m.contains("TYPE3 (on-device training) is not supported"),
            "{m}"
        );
        assert!(m.contains("NB_INFERENCE=ten"), "{m}");
        assert!(
            m.contains("MODEL_FILENAME=../etc/model.onnx must be a file name"),
            "{m}"
        );
        assert!(m.contains("VLAB_API_URL must start with http"), "{m}");
        assert!(m.contains("VLAB_JOB_ID is not set"), "{m}");
    }
}
