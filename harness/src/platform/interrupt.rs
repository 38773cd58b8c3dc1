//! SIGINT and SIGTERM end a run cleanly instead of killing the process
//! where it stands: [`watch`] installs handlers (signal-hook's) that only
//! note the signal, and the measured loop (and a board run's session)
//! asks [`check`] between inferences. The run then fails with an
//! [`ErrorKind::Interrupted`](crate::platform::error::ErrorKind) error, so
//! everything a run started (QEMU, a probe session, an engine worker) is
//! dropped and stopped on the way out, error.log says which signal ended
//! it, what was measured is kept as for any failure, and the process
//! exits 128 + the signal's number (130, 143), as a shell reports a
//! process a signal killed.
//!
//! A second signal kills the process at once, for a run stuck in a long
//! call. An engine worker (crate::runner::isolation) watches without that, and
//! its supervisor passes the signals it gets on to it ([`Forwarding`]), so
//! a signal sent to vlab alone (what Nomad and a lab's cancel do) and one
//! a terminal sends to the whole process group both stop the worker's
//! loop the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::platform::error::{Error, Result};

/// The number of the signal received, 0 while none was.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// Set by the first signal: the next one takes the default action.
static ARMED: AtomicBool = AtomicBool::new(false);

/// How often a [`Forwarding`] looks for a signal to pass on.
const FORWARD_POLL: Duration = Duration::from_millis(20);

/// Watches for SIGINT and SIGTERM in vlab's process: the first is noted,
/// a second kills it.
pub fn watch() -> Result<()> {
    for signal in [SIGINT, SIGTERM] {
        // The default action must be registered first, so that it sees
        // the flag as the signals before this one left it.
        flag::register_conditional_default(signal, &ARMED)
            .and_then(|_| flag::register_usize(signal, &RECEIVED, signal as usize))
            .and_then(|_| flag::register(signal, &ARMED))
            .map_err(|e| cannot_watch(signal, &e))?;
    }
    Ok(())
}

/// Watches in an engine worker, which may get a signal twice (from the
/// terminal and from its supervisor) and must not die of it.
pub fn watch_as_worker() -> Result<()> {
    for signal in [SIGINT, SIGTERM] {
        flag::register_usize(signal, &RECEIVED, signal as usize)
            .map_err(|e| cannot_watch(signal, &e))?;
    }
    Ok(())
}

fn cannot_watch(signal: i32, e: &std::io::Error) -> Error {
    let name = Signal::try_from(signal).map_or("a signal", Signal::as_str);
    Error::runtime(format!("cannot watch for {name}: {e}"))
}

/// The signal that interrupted the run, if one did.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => i32::try_from(n).ok().and_then(|n| Signal::try_from(n).ok()),
    }
}

/// Fails with the interruption once SIGINT or SIGTERM arrived.
#[inline]
pub fn check() -> Result<()> {
    match received() {
        None => Ok(()),
        Some(signal) => Err(Error::interrupted(signal as i32, signal.as_str())),
    }
}

/// While alive, passes the first SIGINT or SIGTERM on to a child process
/// (an engine worker), from a thread that looks for one every
/// [`FORWARD_POLL`].
pub struct Forwarding {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Forwarding {
    /// Passes the signal on to process `pid` until dropped, also one that
    /// arrived before.
    pub fn to(pid: u32) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let child = i32::try_from(pid).ok().map(Pid::from_raw);
        let thread = child.map(|child| {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    if let Some(signal) = received() {
                        // A worker that already ended needs no signal.
                        let _ = kill(child, signal);
                        return;
                    }
                    std::thread::sleep(FORWARD_POLL);
                }
            })
        });
        Forwarding { done, thread }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and signals; it cannot have panicked
            // in a way that matters here.
            let _ = thread.join();
        }
    }
}
