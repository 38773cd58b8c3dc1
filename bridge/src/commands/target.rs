//! Where a benchmark runs, chosen once for `vlab bench` and `vlab job`:
//! this machine with an engine (in a supervised worker when the engine's
//! library may crash), a board, a Linux board over SSH, or an MLPerf Tiny
//! device under test.
//! Either way the harness's one measured loop runs it and writes the same
//! artifacts.

use vlab_bridge::board::def::Protocol;
use vlab_bridge::board::{BoardOptions, BoardTarget};
use vlab_bridge::linux::{LinuxBoardDef, SshTarget};
use vlab_bridge::mlperf_tiny::DutTarget;
use vlab_harness::{BenchmarkSpec, Observer, OutputDir, Reports, Result, Target, run_benchmark};

use crate::commands::worker;

/// The target a command asks for.
pub enum Choice {
    /// This machine, with the engine of this name.
    Host(String),
    /// A board.
    Board(Box<BoardOptions>),
    /// A Linux board over SSH, with this engine (the board's first when `None`).
    Linux {
        /// The board.
        board: Box<LinuxBoardDef>,
        /// The engine.
        engine: Option<String>,
    },
}

/// Benchmarks `spec` on `choice` and writes every artifact into `out`,
/// error.log included when the target cannot be set up.
pub fn benchmark(
    choice: Result<Choice>,
    spec: &BenchmarkSpec,
    out: &OutputDir,
    observer: &mut dyn Observer,
) -> Result<Reports> {
    let target = choice
        .and_then(|choice| target(choice, out))
        .inspect_err(|e| out.write_failure(e))?;
    run_benchmark(target.as_ref(), spec, out, observer)
}

fn target(choice: Choice, out: &OutputDir) -> Result<Box<dyn Target>> {
    match choice {
        Choice::Host(engine) => vlab_runtimes::engine(&engine).and_then(worker::host),
        Choice::Board(options) if options.board.protocol == Protocol::MlperfTiny => {
            Ok(Box::new(DutTarget::new(*options)?))
        }
        Choice::Board(options) => Ok(Box::new(BoardTarget::new(*options, out)?)),
        Choice::Linux { board, engine } => {
            Ok(Box::new(SshTarget::new(*board, engine.as_deref(), out)?))
        }
    }
}
