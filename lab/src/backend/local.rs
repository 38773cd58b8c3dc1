//! The local backend: each benchmark is a `vlab job` child process on this
//! machine, in its own work folder and its own process group, with the
//! contract's environment. It delivers its artifacts over HTTP to the
//! server's artifact endpoint with its per-job token, the same path a Nomad
//! job takes.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{Backend, Ended, Launch, Running};

/// The file in a job's work folder that holds its process group id while
/// it runs, so a restarted server can stop what a killed one left behind.
const PGID_FILE: &str = "job.pgid";

/// How long a stopped job has between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Runs jobs as child processes of `program job`.
pub struct Local {
    program: PathBuf,
    env: Vec<(String, String)>,
}

impl Local {
    /// Jobs run `program job` (the `vlab` binary) with `env` added to the
    /// contract's variables (e.g. `VLAB_BOARDS_DIR`).
    pub fn new(program: PathBuf, env: Vec<(String, String)>) -> Self {
        Self { program, env }
    }
}

impl Backend for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn run(&self, launch: Launch, cancel: CancellationToken) -> Running {
        let program = self.program.clone();
        let env = self.env.clone();
        Box::pin(async move {
            match run_child(&program, &env, &launch, cancel).await {
                Ok(ended) => ended,
                Err(e) => {
                    tracing::error!("job {}: cannot start vlab job: {e}", launch.job_id);
                    Ended::Lost("the lab could not start the benchmark's process".into())
                }
            }
        })
    }

    fn stop_orphan(&self, work_dir: &Path) {
        stop_process_group(work_dir);
    }
}

/// The contract's variables for `launch`, as a job's environment.
pub fn contract_env(launch: &Launch) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("TARGET", launch.target.clone()),
        ("RUNTIME", launch.engine.clone()),
        ("BENCHMARK_TYPE", launch.benchmark_type.clone()),
        ("MODEL_FILENAME", launch.model.name.clone()),
        ("VLAB_JOB_ID", launch.job_id.clone()),
        ("VLAB_API_URL", launch.api_url.clone()),
        ("VLAB_API_TOKEN", launch.token.clone()),
    ];
    if let Some(n) = launch.nb_inference {
        env.push(("NB_INFERENCE", n.to_string()));
    }
    if let Some(dataset) = &launch.dataset {
        env.push(("DATASET_FILENAME", dataset.name.clone()));
    }
    if let Some(parameters) = &launch.parameters {
        env.push(("PARAMETERS_FILENAME", parameters.name.clone()));
    }
    env
}

async fn run_child(
    program: &Path,
    extra_env: &[(String, String)],
    launch: &Launch,
    cancel: CancellationToken,
) -> std::io::Result<Ended> {
    let work = &launch.work_dir;
    std::fs::create_dir_all(work)?;
    for file in std::iter::once(&launch.model)
        .chain(launch.dataset.as_ref())
        .chain(launch.parameters.as_ref())
    {
        link_or_copy(&file.path, &work.join(&file.name))?;
    }
    let log = std::fs::File::create(work.join("job-process.log"))?;
    let mut command = Command::new(program);
    command
        .arg("job")
        .current_dir(work)
        .env_clear()
        .envs(inherited())
        .envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(contract_env(launch))
        // Relative, so that messages in error.log name files of the job's
        // folder without the lab's host path.
        .env("VLAB_WORKDIR", ".")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    // Its own process group, so that a stop reaches what it started (QEMU).
    command.as_std_mut().process_group(0);
    let mut child = command.spawn()?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    if let Some(pgid) = pgid {
        std::fs::write(work.join(PGID_FILE), pgid.as_raw().to_string())?;
    }
    let ended = tokio::select! {
        status = child.wait() => finished(status?),
        () = tokio::time::sleep(launch.timeout) => {
            stop(&mut child, pgid).await;
            Ended::TimedOut
        }
        () = cancel.cancelled() => {
            stop(&mut child, pgid).await;
            Ended::Canceled
        }
    };
    let _ = std::fs::remove_file(work.join(PGID_FILE));
    Ok(ended)
}

/// The server's own environment variables a job keeps: what finding
/// programs and libraries needs, and vlab's engine library settings.
fn inherited() -> impl Iterator<Item = (String, String)> {
    std::env::vars().filter(|(key, _)| {
        matches!(
            key.as_str(),
            "PATH" | "HOME" | "LANG" | "TMPDIR" | "LD_LIBRARY_PATH"
        ) || (key.starts_with("VLAB_")
            && !matches!(
                key.as_str(),
                "VLAB_API_URL" | "VLAB_API_TOKEN" | "VLAB_JOB_ID" | "VLAB_WORKDIR"
            ))
            || key.starts_with("ORT_")
    })
}

fn finished(status: ExitStatus) -> Ended {
    let detail = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended without a status".to_owned(),
    };
    Ended::Finished {
        success: status.success(),
        detail,
    }
}

/// SIGTERM to the job's process group, then SIGKILL after the grace time.
async fn stop(child: &mut tokio::process::Child, pgid: Option<Pid>) {
    if let Some(pgid) = pgid {
        let _ = killpg(pgid, Signal::SIGTERM);
        if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
            // The group may hold children that outlive the job itself.
            let _ = killpg(pgid, Signal::SIGKILL);
            return;
        }
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let _ = child.kill().await;
}

/// Stops the process group recorded in `work_dir`, if any: a job a killed
/// server left running.
fn stop_process_group(work_dir: &Path) {
    let Ok(text) = std::fs::read_to_string(work_dir.join(PGID_FILE)) else {
        return;
    };
    if let Ok(raw) = text.trim().parse::<i32>()
        && raw > 1
    {
        let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
    }
    let _ = std::fs::remove_file(work_dir.join(PGID_FILE));
}

/// A hard link of the blob (cheap, same file system), else a copy.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(to);
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::JobFile;

    fn launch(dir: &Path, timeout: Duration) -> Launch {
        let model = dir.join("blob");
        std::fs::write(&model, b"model").unwrap();
        Launch {
            job_id: "j1".into(),
            target: "host".into(),
            target_uid: "host-0".into(),
            engine: "tract".into(),
            benchmark_type: "TYPE1".into(),
            nb_inference: Some(3),
            model: JobFile {
                name: "m.onnx".into(),
                path: model,
            },
            dataset: None,
            parameters: None,
            api_url: "http://127.0.0.1:1".into(),
            token: "t".into(),
            files_url: String::new(),
            work_dir: dir.join("work"),
            timeout,
        }
    }

    /// A stand-in for `vlab`: a shell script that reports its environment
    /// and then sleeps or exits as told. The real `vlab job` runs in the
    /// end-to-end tests (tests/cli/lab.rs).
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake-vlab");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn a_job_gets_the_contract_env_and_its_exit_status_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(
            dir.path(),
            "echo \"$1 $TARGET $RUNTIME $NB_INFERENCE $MODEL_FILENAME $VLAB_JOB_ID\" > seen; cat m.onnx >> seen; exit 3",
        );
        let local = Local::new(program, vec![]);
        let launch = launch(dir.path(), Duration::from_secs(30));
        let ended = local.run(launch, CancellationToken::new()).await;
        assert_eq!(
            ended,
            Ended::Finished {
                success: false,
                detail: "exit status 3".into()
            }
        );
        let seen = std::fs::read_to_string(dir.path().join("work/seen")).unwrap();
        assert_eq!(seen, "job host tract 3 m.onnx j1\nmodel");
        assert!(!dir.path().join("work").join(PGID_FILE).exists());
    }

    #[tokio::test]
    async fn timeout_and_cancel_kill_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        // The job starts a grandchild that would outlive a plain kill.
        let program = script(dir.path(), "sleep 300 & echo $! > grandchild; wait");
        let local = Local::new(program, vec![]);
        let ended = local
            .run(
                launch(dir.path(), Duration::from_millis(300)),
                CancellationToken::new(),
            )
            .await;
        assert_eq!(ended, Ended::TimedOut);
        let grandchild: i32 = std::fs::read_to_string(dir.path().join("work/grandchild"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The signal reaches the whole group at once, but each process
        // dies in its own time: wait for the grandchild, within a limit.
        let gone = || {
            nix::sys::signal::kill(Pid::from_raw(grandchild), None).is_err()
                || std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                    .is_ok_and(|s| s.contains(") Z "))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !gone() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(gone(), "the grandchild {grandchild} still runs");

        let cancel = CancellationToken::new();
        let running = local.run(launch(dir.path(), Duration::from_secs(30)), cancel.clone());
        let trigger = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        };
        let (ended, ()) = tokio::join!(running, trigger);
        assert_eq!(ended, Ended::Canceled);
    }
}
