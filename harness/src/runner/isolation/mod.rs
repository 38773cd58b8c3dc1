//! Crash isolation: an engine whose foreign library may crash (SIGSEGV,
//! SIGABRT inside TensorFlow Lite or ONNX Runtime) runs in a worker
//! process that vlab supervises, so a crash becomes an error
//! (`TensorFlow Lite crashed during inference (SIGSEGV)`, exit code 1)
//! and the run's artifacts so far are kept.
//!
//! **Design: re-execution, not fork.** The supervisor starts a fresh
//! program, normally the `vlab` binary itself with its hidden
//! `engine-worker` subcommand, which calls [`serve`]. `fork` without `exec`
//! would copy a multi-threaded process (tokio, the progress bar's thread)
//! in which only async-signal-safe calls are allowed afterwards; a new
//! process has none of that and loads the engine's library only in the
//! worker. The job (engine name, spec, model bytes) goes to the worker's
//! stdin, and its events come back on its stdout ([`wire`]); its stderr is
//! the user's, as the engine's own messages are today.
//!
//! **The timed loop runs in the worker**: the worker calls the one
//! measured loop ([`crate::measure`]) with an observer that forwards
//! progress and measured values in batches ([`worker`]), so the cost of a
//! timed inference is the in-process cost, and the loop is written once.
//! The supervisor replays the events into the caller's observer, writes
//! TYPE2 outputs where the caller asked, and returns the worker's
//! measurement, or, when the worker ends without one, an error naming the
//! signal or exit status and whether the model was loading or running.
//!
//! **The worker may be elsewhere.** The program can be `ssh` running vlab
//! on a Linux board (vlab-bridge's SSH boards): the pipes are the same, the
//! model can already be on the board ([`Isolated::model_at`]), and how an
//! end without a result reads (ssh's own exit status 255 is a lost
//! connection, not the worker's) is the launcher's ([`Isolated::ending`]).
//! The supervisor sends the worker a heartbeat on its stdin every
//! [`HEARTBEAT`]; the worker stops when stdin closes or stays silent for
//! [`worker::ORPHANED_AFTER`], so a worker whose supervisor or connection
//! is gone (a dead network leaves the board's sshd none the wiser) does
//! not run on.

mod exit;
mod wire;
mod worker;

pub use exit::{Stage, ended_error};
pub use wire::WIRE_VERSION;
pub use worker::{FLUSH_EVERY, ORPHANED_AFTER, serve};

use std::ffi::OsString;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wire::{Event, Job, read_message, write_message};

use crate::platform::error::{Error, Result};
use crate::platform::interrupt::Forwarding;
use crate::record::{Measurement, Observer, Recorded};
use crate::runner::target::Target;
use crate::seam::engine::Engine;
use crate::seam::model::ModelFile;
use crate::spec::BenchmarkSpec;

/// How a worker's end without a result becomes an error: given the
/// library's name, the stage and the worker program's exit status.
pub type Ending = Box<dyn Fn(&str, Stage, ExitStatus) -> Error>;

/// Runs an engine's measured loop in a supervised worker process.
pub struct Isolated<'a> {
    engine: &'a dyn Engine,
    library: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    model_at: Option<PathBuf>,
    ending: Ending,
}

impl<'a> Isolated<'a> {
    /// A runner for `engine` (whose [`Engine::library`] names it in crash
    /// messages) that starts `program args...` as its worker; the worker
    /// must call [`serve`].
    pub fn new(
        engine: &'a dyn Engine,
        program: PathBuf,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            engine,
            library: engine.library().unwrap_or("the engine"),
            program,
            args: args.into_iter().map(Into::into).collect(),
            model_at: None,
            ending: Box::new(ended_error),
        }
    }

    /// The worker reads the model from `path` on its own machine instead of
    /// from its stdin: a copy vlab put there (and cached) beforehand.
    pub fn model_at(mut self, path: PathBuf) -> Self {
        self.model_at = Some(path);
        self
    }

    /// How an end without a result reads, instead of [`ended_error`].
    pub fn ending(mut self, ending: Ending) -> Self {
        self.ending = ending;
        self
    }
}

impl Target for Isolated<'_> {
    fn engine(&self) -> &str {
        self.engine.name()
    }

    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        let model = ModelFile::needed(model)?;
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot start vlab's engine worker {}: {e}",
                    self.program.display()
                ))
            })?;
        let _forwarding = Forwarding::to(child.id());
        let job = Job {
            engine: self.engine.name().to_owned(),
            model_path: model.path().to_path_buf(),
            model_bytes: model.bytes().len() as u64,
            model_at: self.model_at.clone(),
            spec: spec.clone(),
        };
        let done = Arc::new(AtomicBool::new(false));
        if let Some(mut stdin) = child.stdin.take() {
            // A worker that dies before reading it all closes the pipe; its
            // exit status then says why, so a failed send is not the error.
            let bytes = if self.model_at.is_some() {
                &[][..]
            } else {
                model.bytes()
            };
            let sent = write_message(&mut stdin, &job)
                .and_then(|()| stdin.write_all(bytes))
                .and_then(|()| stdin.flush());
            if sent.is_ok() {
                heartbeat(stdin, done.clone());
            }
        }
        let mut stage = Stage::Load;
        let relayed = match child.stdout.take() {
            Some(stdout) => relay(stdout, observer, raw_output, &mut stage),
            None => Ok(None),
        };
        if relayed.is_err() {
            // Our side failed (the raw output cannot be written): stop it.
            let _ = child.kill();
        }
        let status = child.wait();
        done.store(true, Ordering::SeqCst);
        let status = status
            .map_err(|e| Error::runtime(format!("cannot wait for vlab's engine worker: {e}")))?;
        match relayed? {
            Some(result) => result,
            None => Err((self.ending)(self.library, stage, status)),
        }
    }
}

/// How often the supervisor tells its worker it is still there.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Sends a byte to the worker's `stdin` every [`HEARTBEAT`] until `done`
/// or the pipe breaks, then closes it.
fn heartbeat(mut stdin: ChildStdin, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !done.load(Ordering::SeqCst) {
            if stdin.write_all(&[0]).and_then(|()| stdin.flush()).is_err() {
                break;
            }
            std::thread::sleep(HEARTBEAT);
        }
    });
}

/// Replays the worker's events until its result; `None` when the stream
/// ends (or breaks) before one, which means the worker died.
fn relay(
    stdout: ChildStdout,
    observer: &mut dyn Observer,
    raw_output: &mut dyn Write,
    stage: &mut Stage,
) -> Result<Option<Result<Measurement>>> {
    let mut input = BufReader::new(stdout);
    let mut raw = Vec::new();
    loop {
        let Ok(Some(event)) = read_message::<Event>(&mut input) else {
            return Ok(None);
        };
        match event {
            Event::Phase(phase, steps) => observer.phase(phase, steps),
            Event::Recorded(value) => {
                if matches!(value, Recorded::Loaded { .. }) {
                    *stage = Stage::Inference;
                }
                observer.recorded(&value);
            }
            Event::Progress {
                warmup,
                samples,
                steps,
            } => {
                let warmup = warmup.into_iter().map(Recorded::Warmup);
                for value in warmup.chain(samples.into_iter().map(Recorded::Sample)) {
                    observer.recorded(&value);
                }
                (0..steps).for_each(|_| observer.step());
            }
            Event::Raw(len) => {
                raw.clear();
                if (&mut input).take(len as u64).read_to_end(&mut raw).is_err() || raw.len() != len
                {
                    return Ok(None);
                }
                raw_output
                    .write_all(&raw)
                    .map_err(|e| Error::runtime(format!("cannot write raw_output.bin: {e}")))?;
            }
            Event::Done(result) => return Ok(Some(result.map(|m| *m))),
        }
    }
}
