//! The worker side: read the job from stdin, run the one measured loop
//! ([`crate::measure`]) in this process and report everything it does to
//! the supervisor over stdout.
//!
//! The timed loop runs here, so a timed inference costs what it costs in
//! process: the clock reads stay around `Session::run` alone, and what is
//! measured reaches the supervisor in batches, at most [`FLUSH_EVERY`]
//! apart (a crash loses at most that much of the record), not as one
//! message per inference.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::wire::{Event, Job, read_message, write_message};
use crate::platform::error::{Error, Result};
use crate::record::{Observer, Phase, Recorded};
use crate::runner::host::HostRunner;
use crate::runner::measure;
use crate::seam::engine::Engine;
use crate::seam::model::ModelFile;

/// Longest the worker keeps measured values before sending them.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Serves one job: the engine called `job.engine`, found with `find`,
/// measures the model the supervisor sends. Returns when the result is
/// sent; an `Err` means the supervisor could not be reached.
pub fn serve(find: impl Fn(&str) -> Result<&'static dyn Engine>) -> Result<()> {
    crate::platform::interrupt::watch_as_worker()?;
    let lost = |e: std::io::Error| Error::runtime(format!("engine worker: the pipe to vlab: {e}"));
    // The messages get stdout's pipe to themselves; whatever the engine's
    // library prints on stdout goes to stderr instead of into the stream.
    let channel = nix::unistd::dup(std::io::stdout())
        .and_then(|pipe| nix::unistd::dup2_stdout(std::io::stderr()).map(|()| pipe))
        .map_err(|e| lost(e.into()))?;
    let (job, bytes) = receive().map_err(lost)?;
    stop_when_orphaned();
    let sender = Rc::new(RefCell::new(Sender {
        out: BufWriter::new(File::from(channel)),
        warmup: Vec::new(),
        samples: Vec::new(),
        steps: 0,
        last_flush: Instant::now(),
    }));
    let result = find(&job.engine).and_then(|engine| {
        let bytes = match &job.model_at {
            Some(path) => read_model_at(path, job.model_bytes)?,
            None => bytes,
        };
        let model = ModelFile::from_bytes(&job.model_path, bytes)?;
        let mut observer = Forward(sender.clone());
        let mut raw = BufWriter::new(Forward(sender.clone()));
        let mut runner = HostRunner::new(engine)?;
        if let Some(path) = &job.model_at {
            runner = runner.model_at(path.clone());
        }
        let measured = measure(
            &mut runner,
            Some(&model),
            &job.spec,
            &mut observer,
            &mut raw,
        );
        raw.flush()
            .map_err(|e| Error::runtime(format!("cannot write raw output: {e}")))?;
        measured
    });
    let mut sender = sender.borrow_mut();
    sender.flush().map_err(lost)?;
    write_message(&mut sender.out, &Event::Done(result.map(Box::new))).map_err(lost)?;
    sender.out.flush().map_err(lost)?;
    SENT.store(true, Ordering::SeqCst);
    Ok(())
}

/// Whether the result is sent: stdin closing after that is the normal end.
static SENT: AtomicBool = AtomicBool::new(false);

/// The job on stdin, and the model bytes that follow it unless the model
/// is at `model_at`.
fn receive() -> std::io::Result<(Job, Vec<u8>)> {
    let mut stdin = std::io::stdin().lock();
    let job: Job = read_message(&mut stdin)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no job on stdin"))?;
    let mut bytes = Vec::new();
    if job.model_at.is_none() {
        (&mut stdin).take(job.model_bytes).read_to_end(&mut bytes)?;
    }
    Ok((job, bytes))
}

/// Reads the model the supervisor placed at `path`, which must be
/// `expected` bytes long.
fn read_model_at(path: &Path, expected: u64) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    if bytes.len() as u64 != expected {
        return Err(Error::runtime(format!(
            "engine worker: {} holds {} bytes, not the model's {expected}",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// How long a worker runs on without its supervisor's heartbeat.
pub const ORPHANED_AFTER: Duration = Duration::from_secs(15);

/// Ends this process once stdin closes or the supervisor's heartbeat
/// ([`super::HEARTBEAT`]) stops: the supervisor, or the connection to it,
/// is gone, and nobody would read the result.
fn stop_when_orphaned() {
    let start = Instant::now();
    let heard = Arc::new(AtomicU64::new(0));
    let reader = heard.clone();
    std::thread::spawn(move || {
        let mut beats = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut beats), Ok(n) if n > 0) {
            reader.store(millis(start), Ordering::SeqCst);
        }
        orphaned("the supervisor's pipe closed");
    });
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let silent = millis(start).saturating_sub(heard.load(Ordering::SeqCst));
            if silent > ORPHANED_AFTER.as_millis() as u64 {
                orphaned("no heartbeat from the supervisor");
            }
        }
    });
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Ends the process: normally once the result is sent (the engine is idle
/// then), else at once with SIGKILL after a word on stderr: the engine may
/// be mid-inference on another thread, and its library's static
/// destructors, which `exit` runs, can wait forever for that thread's
/// locks.
fn orphaned(why: &str) -> ! {
    if SENT.load(Ordering::SeqCst) {
        std::process::exit(0);
    }
    // Not eprintln!, which panics when stderr's reader is gone too.
    let _ = writeln!(std::io::stderr(), "vlab engine worker: {why}; stopping");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    std::process::abort()
}

/// The stream to the supervisor, with the progress not sent yet.
struct Sender {
    out: BufWriter<File>,
    warmup: Vec<u64>,
    samples: Vec<u64>,
    steps: usize,
    last_flush: Instant,
}

impl Sender {
    /// Sends the pending progress and pushes everything down the pipe.
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.warmup.is_empty() || !self.samples.is_empty() || self.steps > 0 {
            let event = Event::Progress {
                warmup: std::mem::take(&mut self.warmup),
                samples: std::mem::take(&mut self.samples),
                steps: std::mem::take(&mut self.steps),
            };
            write_message(&mut self.out, &event)?;
        }
        self.last_flush = Instant::now();
        self.out.flush()
    }

    fn flush_if_due(&mut self) {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            // A lost supervisor shows at the end, when `Done` cannot be sent.
            let _ = self.flush();
        }
    }
}

/// The measured loop's observer and raw output in the worker: both go to
/// the one stream, in order.
struct Forward(Rc<RefCell<Sender>>);

impl Observer for Forward {
    fn phase(&mut self, phase: Phase, steps: usize) {
        let mut sender = self.0.borrow_mut();
        // The last phase's values first, then the new phase.
        let _ = sender.flush();
        let _ = write_message(&mut sender.out, &Event::Phase(phase, steps));
        let _ = sender.out.flush();
    }

    fn step(&mut self) {
        let mut sender = self.0.borrow_mut();
        sender.steps += 1;
        sender.flush_if_due();
    }

    fn recorded(&mut self, value: &Recorded) {
        let mut sender = self.0.borrow_mut();
        match value {
            Recorded::Warmup(ns) => sender.warmup.push(*ns),
            Recorded::Sample(ns) => sender.samples.push(*ns),
            // Sent at once: a crash right after them leaves them on record.
            Recorded::Loaded { .. } | Recorded::First(_) => {
                let _ = sender.flush();
                let _ = write_message(&mut sender.out, &Event::Recorded(value.clone()));
                let _ = sender.out.flush();
            }
        }
    }
}

impl Write for Forward {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut sender = self.0.borrow_mut();
        write_message(&mut sender.out, &Event::Raw(bytes.len()))?;
        sender.out.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().out.flush()
    }
}
