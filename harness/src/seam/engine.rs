//! The engine seam: what an inference engine implements so the harness can
//! benchmark it. Engines only load and run; the harness owns the clock,
//! warmup, the measured loop, statistics and reports.

use crate::platform::error::{Error, Result};
use crate::seam::model::{ModelFile, ModelFormat};
use crate::seam::options::{EngineOptions, EngineSettings, OptionDecl};
use crate::seam::tensor::{ShapeOverrides, TensorSpec};

/// An inference engine (tract, ONNX Runtime, TFLite, ...).
pub trait Engine: Send + Sync {
    /// Short name used on the command line and in reports (`tract`).
    fn name(&self) -> &'static str;

    /// Version of the engine library as the library itself reports it, or
    /// the reason it cannot be used on this machine.
    fn version(&self) -> Result<String>;

    /// Model formats the engine can load.
    fn formats(&self) -> &'static [ModelFormat];

    /// The name of the foreign (C or C++) library the engine runs, as
    /// messages put it (`TensorFlow Lite`), when a crash inside it would take
    /// the process down; `None` for engines in safe Rust. The `vlab` binary
    /// runs such engines in a worker process ([`crate::runner::isolation`]).
    fn library(&self) -> Option<&'static str> {
        None
    }

    /// The options the engine takes, one declaration each; flags, the
    /// parameters file, validation, the report and `vlab engines` all come
    /// from them. Its `load` reads their values from
    /// [`LoadOptions::settings`].
    fn options(&self) -> &'static [OptionDecl] {
        &[]
    }

    /// Loads and prepares a model so that it is ready to run. Everything
    /// that happens once per model (parsing, optimisation, allocation)
    /// belongs here: the harness reports it as init time.
    fn load(&self, model: &ModelFile, options: &LoadOptions) -> Result<Box<dyn Session>>;
}

/// Options that apply when loading a model.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct LoadOptions {
    /// Shapes for inputs whose dimensions the model leaves open.
    pub input_shapes: ShapeOverrides,
    /// Engine options the user gave; the engine refuses those it does not
    /// declare.
    pub engine: EngineOptions,
}

impl LoadOptions {
    /// The settings `engine` runs with: the options given, checked against
    /// the options it declares, with the defaults of the others.
    pub fn settings(&self, engine: &dyn Engine) -> Result<EngineSettings> {
        self.engine.settings(engine.name(), engine.options())
    }
}

/// A model loaded into an engine, ready to run.
///
/// Every input has a fixed shape once loaded. Output shapes may only be known
/// after a run.
pub trait Session {
    /// The model's inputs, in model order.
    fn inputs(&self) -> &[TensorSpec];

    /// The model's outputs, in model order.
    fn outputs(&self) -> &[TensorSpec];

    /// The settings this session runs with, defaults included, as they go
    /// into the report.
    fn options(&self) -> EngineSettings {
        EngineSettings::default()
    }

    /// Sets input `index` from raw little-endian bytes of exactly the
    /// input's byte size.
    fn set_input(&mut self, index: usize, bytes: &[u8]) -> Result<()>;

    /// Runs one inference on the current inputs. This is what the harness times.
    fn run(&mut self) -> Result<()>;

    /// Output `index` of the last run.
    fn output(&self, index: usize) -> Result<OutputTensor<'_>>;

    /// Whether [`Session::run_profiled`] can time individual operators.
    fn profiles_operators(&self) -> bool {
        false
    }

    /// Sets the model's state (variables kept across inferences, as a
    /// streaming model has) back to its value at load. The harness calls it
    /// before a TYPE2 dataset, so the samples are one stream from the start.
    fn reset_state(&mut self) -> Result<()> {
        Ok(())
    }

    /// Runs one inference timing every operator, in execution order.
    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        Err(Error::input("this engine cannot time individual operators"))
    }

    /// Runs `runs` inferences timing every operator and hands each one's
    /// times, in execution order, to `each` as soon as the engine has them;
    /// an error from `each` stops the runs. The default calls
    /// [`Session::run_profiled`] once per run. An engine whose profiler
    /// reports only once profiling ends (ONNX Runtime writes its trace
    /// then) profiles a batch of runs at a time instead.
    fn run_profiled_many(&mut self, runs: usize, each: Profiled<'_>) -> Result<()> {
        for _ in 0..runs {
            each(self.run_profiled()?)?;
        }
        Ok(())
    }
}

/// Takes the operator times of each profiled inference, in order. An error
/// stops the profiled runs (a signal arrived, for instance).
pub type Profiled<'a> = &'a mut dyn FnMut(Vec<OperatorTime>) -> Result<()>;

/// The time one operator took in one profiled inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorTime {
    /// Operator index in the model's execution order.
    pub index: usize,
    /// Operator name (`CONV_2D`, ...).
    pub op: String,
    /// Duration in nanoseconds (or in the engine's ticks converted to ns).
    pub ns: u64,
}

/// One output of a run: its actual shape and raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor<'a> {
    /// Actual dimensions.
    pub shape: Vec<usize>,
    /// Raw little-endian element bytes, row-major.
    pub bytes: &'a [u8],
}
