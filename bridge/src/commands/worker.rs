//! `vlab engine-worker` (hidden): the process an engine with a foreign
//! library runs in, so that its crash does not take vlab down
//! (vlab_harness::isolation explains the design). [`host`] chooses, per
//! engine, where `vlab bench` and `vlab job` run the measured loop.

use vlab_harness::isolation::{Isolated, serve as serve_job};
use vlab_harness::{Engine, Error, InProcess, Result, Target};

/// The hidden subcommand's name, as [`host`] starts it.
const SUBCOMMAND: &str = "engine-worker";

/// Where `engine` runs: in a worker (this same `vlab` binary, re-executed
/// with the hidden subcommand) when its library may crash, else here.
pub fn host(engine: &'static dyn Engine) -> Result<Box<dyn Target>> {
    if engine.library().is_none() {
        return Ok(Box::new(InProcess(engine)));
    }
    let program = std::env::current_exe().map_err(|e| {
        Error::runtime(format!(
            "cannot find the vlab binary to run the engine worker: {e}"
        ))
    })?;
    Ok(Box::new(Isolated::new(engine, program, [SUBCOMMAND])))
}

/// Serves the job the supervisor sends on stdin.
pub fn serve() -> Result<()> {
    serve_job(vlab_runtimes::engine)
}
