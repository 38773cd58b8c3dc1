//! Waiting on a link's futures from the measured loop's synchronous
//! runner methods, while watching for SIGINT and SIGTERM.

use std::time::Duration;

use tokio::runtime::Runtime;
use vlab_harness::{Error, Result};

/// How often a wait looks for SIGINT or SIGTERM.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Runs `work` to its end, or until SIGINT or SIGTERM arrives: then the
/// work is dropped where it waits, and the run ends with the signal's
/// error (dropping the runner then stops the session, and the emulator
/// if there is one).
pub fn wait<T>(runtime: &Runtime, work: impl Future<Output = Result<T>>) -> Result<T> {
    runtime.block_on(async {
        tokio::select! {
            result = work => result,
            interrupted = interruption() => Err(interrupted),
        }
    })
}

/// The error of the run's interruption, once SIGINT or SIGTERM arrived.
async fn interruption() -> Error {
    loop {
        if let Err(e) = vlab_harness::interrupt::check() {
            return e;
        }
        tokio::time::sleep(INTERRUPT_POLL).await;
    }
}
