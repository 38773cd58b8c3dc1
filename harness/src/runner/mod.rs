//! The Runner seam: what the one measured loop ([`crate::measure`]) drives.
//!
//! A runner is a model loaded on some target: an engine session in this
//! process ([`crate::runner::host::HostRunner`]), or a board's firmware
//! behind a protocol session (vlab-bridge's board runner). The loop owns
//! the phases, the inputs, the statistics and the record; a runner only
//! loads, runs and reports durations, each in nanoseconds and measured
//! where the target measures best: the host with its monotonic clock, a
//! board with its own timer, converted in the runner.

pub mod host;
pub mod isolation;
mod measure;
pub mod target;

pub use measure::measure;

use std::io::Write;

use crate::platform::error::Result;
use crate::record::{DeviceInfo, DutInfo, TargetInfo};
use crate::seam::engine::{OperatorTime, Profiled};
use crate::seam::held::HeldModel;
use crate::seam::model::ModelFile;
use crate::seam::options::EngineSettings;
use crate::seam::tensor::TensorSpec;
use crate::spec::BenchmarkSpec;

/// Takes the duration of each inference, in ns, in order, as the runner
/// learns it. An error stops the run (a signal arrived, for instance).
pub type Timed<'a> = &'a mut dyn FnMut(u64) -> Result<()>;

/// A model on a target, driven by the measured loop.
pub trait Runner {
    /// The engine's name, as reports put it (`tract`, `micro`).
    fn engine(&self) -> &str;

    /// Whether the inferences run in this process, so that its CPU time and
    /// memory describe them (not a board's, nor a worker's).
    fn in_this_process(&self) -> bool;

    /// Loads `model` as `spec` says and makes it ready to run, or with
    /// `None` readies the model the target holds; the loop times this call
    /// as the run's init time.
    fn load(&mut self, model: Option<&ModelFile>, spec: &BenchmarkSpec) -> Result<Loaded>;

    /// Whether [`Runner::profile`] can time individual operators.
    fn profiles_operators(&self) -> bool;

    /// Sets every input, in model order, from raw little-endian bytes.
    fn set_inputs(&mut self, inputs: &[Vec<u8>]) -> Result<()>;

    /// Runs the first inference after loading, timed on its own: it often
    /// pays for lazy set-up, so it is not one of the timed inferences.
    fn first(&mut self) -> Result<u64> {
        let mut first = 0;
        self.run(1, &mut |ns| {
            first = ns;
            Ok(())
        })?;
        Ok(first)
    }

    /// Runs `count` timed inferences on the inputs set last and hands each
    /// one's duration to `timed`.
    fn run(&mut self, count: usize, timed: Timed<'_>) -> Result<()>;

    /// Runs `count` warmup inferences. A target that does not time them
    /// (a board runs them in one request) calls `timed` for none.
    fn warm_up(&mut self, count: usize, timed: Timed<'_>) -> Result<()> {
        self.run(count, timed)
    }

    /// The model's outputs with the shapes the last inference produced.
    fn outputs(&mut self) -> Result<Vec<TensorSpec>>;

    /// Writes the last inference's outputs to `sink`, in model order, and
    /// returns the number of bytes written.
    fn write_outputs(&mut self, sink: &mut dyn Write) -> Result<u64>;

    /// Sets the model's state (variables kept across inferences) back to
    /// its value at load, so that a dataset is one stream from the start.
    fn reset_state(&mut self) -> Result<()>;

    /// Runs one inference timing every operator, in execution order.
    fn profile(&mut self) -> Result<Vec<OperatorTime>>;

    /// Runs `runs` profiled inferences and hands each one's operator times
    /// to `each`, as [`crate::Session::run_profiled_many`] does; the
    /// default calls [`Runner::profile`] once per run.
    fn profile_runs(&mut self, runs: usize, each: Profiled<'_>) -> Result<()> {
        for _ in 0..runs {
            each(self.profile()?)?;
        }
        Ok(())
    }

    /// How many profiled inferences to make when the loop would like
    /// `wanted`: a target whose operator times cost a round trip each may
    /// make fewer.
    fn profiled_runs(&self, wanted: usize) -> usize {
        wanted
    }

    /// What the target reports about itself and its resources once the
    /// inferences are over.
    fn finish(&mut self) -> Result<Finished>;
}

/// What loading the model established.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Engine version as the engine reports it.
    pub engine_version: String,
    /// The settings the engine runs with, defaults included.
    pub options: EngineSettings,
    /// The model's inputs, with fixed shapes.
    pub inputs: Vec<TensorSpec>,
    /// The model the target holds, when it was given no model file.
    pub held: Option<HeldModel>,
}

/// What a target says at the end of a run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The target, its size and what the run used of it.
    pub target: TargetInfo,
    /// The board that ran the inferences, when it is not this machine.
    pub device: Option<DeviceInfo>,
    /// The MLPerf Tiny device under test that ran the inferences.
    pub dut: Option<DutInfo>,
}
