//! Running one dispatched job as Nomad's client and docker driver would run
//! the job file's task, but as a plain process: an allocation directory
//! with the task directory (`local/`, `secrets/`, `tmp/`), the artifacts
//! downloaded and unpacked, the templates rendered, then `program` with
//! `config.args` in `local/`, in its own process group, with the task's
//! environment and its stdout and stderr in one log file.
//!
//! Stopping sends SIGTERM to the process group and SIGKILL after the job
//! file's `kill_timeout`, capped at [`KILL_TIMEOUT_CAP`] so tests stay
//! quick. When the program ends, whatever it left in its group is killed,
//! as the end of a container would.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use flate2::read::GzDecoder;
use hcl::Expression;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::job_file::{Artifact, Registration, Template, value_string};
use super::{Event, Job, State};

/// The longest a stopped task gets between SIGTERM and SIGKILL here.
pub const KILL_TIMEOUT_CAP: Duration = Duration::from_secs(5);

/// Why a task failed before it started: its event's type and message.
type Failure = (&'static str, String);

/// How to start the task's program.
struct Launch {
    /// `config.args`, interpolated.
    args: Vec<String>,
    /// The whole environment.
    env: BTreeMap<String, String>,
}

/// Variables of the test process that reach the task.
fn passed_through(name: &str) -> bool {
    matches!(name, "PATH" | "HOME" | "LD_LIBRARY_PATH")
        || ["VLAB_", "ORT_", "TFLITE_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Runs dispatched job `id` to its end, recording its task's states and
/// events.
pub(super) fn run(state: &Arc<State>, id: &str) {
    let (registration, meta, alloc_id, log) = {
        let mut jobs = state.lock();
        let job = jobs.job_mut(id).expect("a dispatched job");
        (
            &state.registered[&job.dispatched.parent],
            job.meta.clone(),
            job.alloc.id.clone(),
            job.log.clone(),
        )
    };
    let task = &registration.task;
    let alloc_dir = state.dir.join(&alloc_id);
    let task_dir = alloc_dir.join(&task.name);
    let mut runtime: BTreeMap<String, String> = meta
        .iter()
        .map(|(k, v)| (format!("NOMAD_META_{k}"), v.clone()))
        .collect();
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    runtime.extend([
        ("NOMAD_TASK_DIR".to_owned(), path(task_dir.join("local"))),
        (
            "NOMAD_SECRETS_DIR".to_owned(),
            path(task_dir.join("secrets")),
        ),
        ("NOMAD_ALLOC_DIR".to_owned(), path(alloc_dir.join("alloc"))),
        ("NOMAD_ALLOC_ID".to_owned(), alloc_id.clone()),
        ("NOMAD_TASK_NAME".to_owned(), task.name.clone()),
        ("NOMAD_JOB_ID".to_owned(), id.to_owned()),
        ("NOMAD_JOB_NAME".to_owned(), id.to_owned()),
        ("NOMAD_JOB_PARENT_ID".to_owned(), registration.id.clone()),
    ]);

    note(
        state,
        id,
        Event::new("Task Setup", "Building Task Directory"),
    );
    let prepared = ["local", "secrets", "tmp"]
        .iter()
        .map(|d| task_dir.join(d))
        .chain(
            ["logs", "data", "tmp"]
                .iter()
                .map(|d| alloc_dir.join("alloc").join(d)),
        )
        .try_for_each(std::fs::create_dir_all)
        .map_err(|e| ("Setup Failure", format!("building the task directory: {e}")))
        .and_then(|()| prepare(state, id, registration, &runtime, &task_dir));
    let Launch { args, env } = match prepared {
        Ok(prepared) => prepared,
        Err((kind, message)) => {
            with_job(state, id, |job| {
                job.alloc.end("failed", Event::new(kind, message))
            });
            return;
        }
    };

    let mut jobs = state.lock();
    let closed = jobs.closed;
    let job = jobs.job_mut(id).expect("a dispatched job");
    if closed || job.stop {
        job.alloc
            .end("complete", Event::new("Killed", "Task successfully killed"));
        return;
    }
    let spawn = || {
        File::create(&log)
            .and_then(|out| Ok((out.try_clone()?, out)))
            .and_then(|(out, err)| {
                Command::new(&state.program)
                    .args(&args)
                    .current_dir(task_dir.join("local"))
                    .env_clear()
                    .envs(env.clone())
                    .process_group(0)
                    .stdin(Stdio::null())
                    .stdout(out)
                    .stderr(err)
                    .spawn()
            })
    };
    // A program written just before (the tests' scripts) can be busy for a
    // moment while another thread's fork still holds its write handle.
    let mut spawned = spawn();
    for _ in 0..10 {
        match &spawned {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                spawned = spawn();
            }
            _ => break,
        }
    }
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let message = format!("failed to start {}: {e}", state.program.display());
            job.alloc
                .end("failed", Event::new("Driver Failure", message));
            return;
        }
    };
    let group = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    job.process = Some(group);
    job.alloc.task_state = "running";
    job.alloc.client_status = "running";
    job.alloc
        .events
        .push(Event::new("Started", "Task started by client"));
    drop(jobs);

    let status = child.wait();
    with_job(state, id, |job| {
        job.process = None;
        // Whatever the program left behind goes with it; none left is fine.
        let _ = killpg(group, Signal::SIGKILL);
        let (exit_code, signal) = match &status {
            Ok(status) => match status.signal() {
                Some(signal) => (128 + signal, signal),
                None => (status.code().unwrap_or(-1), 0),
            },
            Err(_) => (-1, 0),
        };
        let mut terminated = Event::new(
            "Terminated",
            format!("Exit Code: {exit_code}, Signal: {signal}"),
        );
        terminated.exit_code = exit_code;
        terminated.signal = signal;
        if job.stop {
            job.alloc.events.push(terminated);
            job.alloc
                .end("complete", Event::new("Killed", "Task successfully killed"));
        } else if exit_code == 0 {
            job.alloc.end("complete", terminated);
        } else {
            job.alloc.end("failed", terminated);
        }
    });
}

/// Stops `job`'s task: SIGTERM to its process group now, SIGKILL after
/// `kill_timeout` (at most [`KILL_TIMEOUT_CAP`]) if it still runs. A task
/// not started yet never starts.
pub(super) fn stop(state: &Arc<State>, job: &mut Job, kill_timeout: Duration) {
    if job.stop {
        return;
    }
    job.stop = true;
    job.alloc.desired_status = "stop";
    let Some(group) = job.process else {
        return;
    };
    let timeout = kill_timeout.min(KILL_TIMEOUT_CAP);
    job.alloc.events.push(Event::new(
        "Killing",
        format!(
            "Sent interrupt. Waiting {}s before force killing",
            timeout.as_secs()
        ),
    ));
    // A group that just ended needs no signal.
    let _ = killpg(group, Signal::SIGTERM);
    let state = state.clone();
    let id = job.dispatched.id.clone();
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        let mut jobs = state.lock();
        if jobs
            .job_mut(&id)
            .is_some_and(|job| job.process == Some(group))
        {
            let _ = killpg(group, Signal::SIGKILL);
        }
    });
}

/// Downloads the artifacts and renders the templates into `task_dir`;
/// returns how to start the program.
fn prepare(
    state: &State,
    id: &str,
    registration: &Registration,
    runtime: &BTreeMap<String, String>,
    task_dir: &Path,
) -> Result<Launch, Failure> {
    let task = &registration.task;
    let strings = Strings {
        registration,
        runtime,
        task_dir,
    };
    if !task.artifacts.is_empty() {
        let event = Event::new("Downloading Artifacts", "Client is downloading artifacts");
        note(state, id, event);
    }
    for artifact in &task.artifacts {
        fetch(&strings, artifact).map_err(|e| ("Failed Artifact Download", e))?;
    }

    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(name, _)| passed_through(name))
        .collect();
    env.extend(runtime.clone());
    for (name, expr) in &task.env {
        let value = strings.string(expr).map_err(|e| ("Failed Validation", e))?;
        env.insert(name.clone(), value);
    }
    for template in &task.templates {
        let text = render(&strings, template)
            .map_err(|e| ("Task hook failed", format!("Template failed: {e}")))?;
        if template.env {
            env.extend(env_lines(&text));
        }
    }
    env.extend(state.env.iter().cloned());

    let args = match &task.args {
        None => Vec::new(),
        Some(expr) => match registration.interpolate(expr, runtime) {
            Ok(hcl::Value::Array(items)) => items
                .iter()
                .map(value_string)
                .collect::<Result<_, _>>()
                .map_err(|e| ("Failed Validation", format!("config.args: {e}")))?,
            other => return Err(("Failed Validation", format!("config.args: {other:?}"))),
        },
    };
    Ok(Launch { args, env })
}

/// The job file's strings as one task sees them.
struct Strings<'a> {
    /// The job the strings come from.
    registration: &'a Registration,
    /// The task's NOMAD_* variables.
    runtime: &'a BTreeMap<String, String>,
    /// The task directory.
    task_dir: &'a Path,
}

impl Strings<'_> {
    /// `expr` interpolated, as a string.
    fn string(&self, expr: &Expression) -> Result<String, String> {
        let value = self.registration.interpolate(expr, self.runtime)?;
        value_string(&value)
    }

    /// `expr` interpolated, as a path inside the task directory, which
    /// Nomad requires of artifact and template paths.
    fn path(&self, expr: &Expression) -> Result<PathBuf, String> {
        let relative = self.string(expr)?;
        let escapes = Path::new(&relative)
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
        if escapes {
            return Err(format!("{relative} escapes the task directory"));
        }
        Ok(self.task_dir.join(relative))
    }
}

/// Downloads `artifact` into its destination.
fn fetch(strings: &Strings, artifact: &Artifact) -> Result<(), String> {
    let source = strings.string(&artifact.source)?;
    let destination = strings.path(&artifact.destination)?;
    download(&source, &destination).map_err(|e| format!("GET {source}: {e}"))
}

/// Renders `template` (a copy: the job file's has no template actions) and
/// returns its text.
fn render(strings: &Strings, template: &Template) -> Result<String, String> {
    let source = strings.path(&template.source)?;
    let destination = strings.path(&template.destination)?;
    let text = std::fs::read_to_string(&source)
        .map_err(|e| format!("source {}: {e}", source.display()))?;
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&destination, &text)
        .map_err(|e| format!("destination {}: {e}", destination.display()))?;
    Ok(text)
}

/// GETs `source` into folder `destination`: unpacked when its path ends in
/// `.tar.gz` or `.tgz`, as go-getter does, else saved under its file name.
fn download(source: &str, destination: &Path) -> Result<(), String> {
    let response = ureq::get(source)
        .config()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .call()
        .map_err(|e| e.to_string())?;
    let path = source.split(['?', '#']).next().unwrap_or_default();
    let mut body = response.into_body().into_reader();
    std::fs::create_dir_all(destination).map_err(|e| e.to_string())?;
    if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
        tar::Archive::new(GzDecoder::new(body))
            .unpack(destination)
            .map_err(|e| format!("unpacking: {e}"))
    } else {
        let name = path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .ok_or("no file name in the URL")?;
        let mut file = File::create(destination.join(name)).map_err(|e| e.to_string())?;
        std::io::copy(&mut body, &mut file)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// The `KEY=VALUE` lines of an env template (blank lines and `#` comments
/// skipped, quotes around a value removed).
fn env_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let key = key.trim().trim_start_matches("export ").trim();
            let value = value.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(value);
            (key.to_owned(), unquoted.to_owned())
        })
        .collect()
}

/// Adds `event` to job `id`'s task.
fn note(state: &State, id: &str, event: Event) {
    with_job(state, id, |job| job.alloc.events.push(event));
}

/// Runs `f` on job `id`, locked.
fn with_job(state: &State, id: &str, f: impl FnOnce(&mut Job)) {
    if let Some(job) = state.lock().job_mut(id) {
        f(job);
    }
}
