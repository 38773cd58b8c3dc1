//! The measured run: load, first inference, warmup, timed inferences,
//! written once for every target; a [`Runner`] says how to reach it.
//!
//! This follows TFLite's `benchmark_model` and ONNX Runtime's `perf_test`:
//! init time (load and prepare) is timed once, then the first inference on
//! its own, then the warmup runs, then every timed inference, then the
//! profiled ones for per-layer statistics. How an inference is timed is
//! the runner's: the host's monotonic clock around the engine's run alone,
//! or a board's timer.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use cpu_time::ProcessTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::LoadOptions;
use crate::error::{Error, Result};
use crate::host_runner::elapsed_ns;
use crate::inputs::{InputSource, input_sizes};
use crate::interrupt;
use crate::memory::ProcessMemory;
use crate::model::ModelFile;
use crate::params::{EngineOptions, InputValues};
use crate::report::{DeviceInfo, TargetInfo};
use crate::runner::{Loaded, Runner};
use crate::stats::Statistics;
use crate::tensor::TensorSpec;

/// The contract's benchmark types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BenchmarkType {
    /// Random input data.
    #[serde(rename = "TYPE1")]
    Type1,
    /// The user's dataset, one inference per sample.
    #[serde(rename = "TYPE2")]
    Type2,
}

impl BenchmarkType {
    /// The contract's spelling (`TYPE1`, `TYPE2`).
    pub fn as_str(self) -> &'static str {
        match self {
            BenchmarkType::Type1 => "TYPE1",
            BenchmarkType::Type2 => "TYPE2",
        }
    }
}

/// Where the inputs of the timed inferences come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Workload {
    /// TYPE1: the same seeded random inputs for `iterations` inferences.
    Random {
        /// Seed of the input generator.
        seed: u64,
        /// Number of timed inferences.
        iterations: usize,
    },
    /// TYPE2: one timed inference per sample of a dataset file.
    Dataset {
        /// The dataset file; see [`crate::inputs`] for its layout.
        path: PathBuf,
    },
}

/// What to benchmark and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchmarkSpec {
    /// The model file.
    pub model: PathBuf,
    /// Untimed inferences after the first one and before the timed ones.
    pub warmup: usize,
    /// Inputs of the timed inferences.
    pub workload: Workload,
    /// Options passed to the engine's loader.
    pub load: LoadOptions,
    /// Inputs that hold one value in every element.
    pub input_values: InputValues,
    /// The parameters file the engine options and input settings came
    /// from, if any (named in user.log).
    pub parameters: Option<PathBuf>,
    /// Also time every operator, in separate profiled inferences after the timed ones.
    pub per_layer: bool,
}

impl BenchmarkSpec {
    /// A TYPE1 benchmark of `model` with `iterations` timed inferences,
    /// 5 warmup runs and seed 0.
    pub fn random(model: impl Into<PathBuf>, iterations: usize) -> Self {
        Self {
            model: model.into(),
            warmup: 5,
            workload: Workload::Random {
                seed: 0,
                iterations,
            },
            load: LoadOptions::default(),
            input_values: InputValues::default(),
            parameters: None,
            per_layer: false,
        }
    }

    /// A TYPE2 benchmark of `model` over the samples of `dataset`, with 5 warmup runs.
    pub fn dataset(model: impl Into<PathBuf>, dataset: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            warmup: 5,
            workload: Workload::Dataset {
                path: dataset.into(),
            },
            load: LoadOptions::default(),
            input_values: InputValues::default(),
            parameters: None,
            per_layer: false,
        }
    }

    /// The benchmark type this spec runs.
    pub fn benchmark_type(&self) -> BenchmarkType {
        match self.workload {
            Workload::Random { .. } => BenchmarkType::Type1,
            Workload::Dataset { .. } => BenchmarkType::Type2,
        }
    }

    /// Checks the spec before anything is loaded.
    pub fn validate(&self) -> Result<()> {
        if let Workload::Random { iterations: 0, .. } = self.workload {
            return Err(Error::input("--iterations must be at least 1"));
        }
        Ok(())
    }
}

/// The phases of a run, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Loading and preparing the model.
    Load,
    /// Warmup inferences.
    Warmup,
    /// Timed inferences.
    Measure,
    /// Profiled inferences, timing every operator.
    Profile,
}

/// Watches a run's progress. Called outside the timed region.
pub trait Observer {
    /// A phase starts with `steps` steps to go.
    fn phase(&mut self, _phase: Phase, _steps: usize) {}
    /// One step of the current phase is done.
    fn step(&mut self) {}
    /// The loop has just measured something; what a run measured before a
    /// failure is kept from these ([`crate::partial`]).
    fn recorded(&mut self, _value: &Recorded) {}
}

/// One value the measured loop has taken, as it is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Recorded {
    /// The model is loaded.
    Loaded {
        /// Engine version as the engine reports it.
        engine_version: String,
        /// The settings the engine runs with.
        options: EngineOptions,
        /// Model inputs as loaded.
        inputs: Vec<TensorSpec>,
        /// Load and prepare time, ns.
        init_ns: u64,
    },
    /// The first inference, ns.
    First(u64),
    /// One warmup inference, ns.
    Warmup(u64),
    /// One timed inference, ns.
    Sample(u64),
}

/// An observer that ignores everything.
impl Observer for () {}

/// Information about a TYPE2 dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatasetInfo {
    /// The dataset's file name.
    pub file_name: String,
    /// Number of samples, which is the number of timed inferences.
    pub samples: usize,
}

/// Everything measured in one run, before it becomes a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// Engine name.
    pub engine: String,
    /// Engine version as the engine reports it.
    pub engine_version: String,
    /// The settings the engine ran with.
    pub engine_options: EngineOptions,
    /// TYPE1 or TYPE2.
    pub benchmark_type: BenchmarkType,
    /// Seed of the random inputs (TYPE1).
    pub seed: Option<u64>,
    /// The dataset (TYPE2).
    pub dataset: Option<DatasetInfo>,
    /// Warmup runs requested.
    pub warmup: usize,
    /// Model inputs as loaded.
    pub inputs: Vec<TensorSpec>,
    /// Model outputs, with the shapes observed on the first inference.
    pub outputs: Vec<TensorSpec>,
    /// Load and prepare time.
    pub init_ns: u64,
    /// The first inference.
    pub first_inference_ns: u64,
    /// Each warmup inference.
    pub warmup_ns: Vec<u64>,
    /// Each timed inference, in order.
    pub samples_ns: Vec<u64>,
    /// Wall time of the whole timed loop, including work between inferences.
    pub measured_wall_ns: u64,
    /// Process CPU time over the timed loop, if the OS reports it.
    pub measured_cpu_ns: Option<u64>,
    /// Resident memory just before loading the model.
    pub rss_before_load: Option<u64>,
    /// Resident memory just after loading the model.
    pub rss_after_load: Option<u64>,
    /// Peak resident memory of the process at the end of the run.
    pub peak_rss: Option<u64>,
    /// Bytes written to the raw output (TYPE2).
    pub raw_output_bytes: u64,
    /// Per-operator statistics, with `per_layer`.
    pub layers: Option<Vec<LayerStats>>,
    /// The target that ran the model, and what the run used of it.
    pub target: TargetInfo,
    /// The device that ran the inferences, when it is not this machine.
    pub device: Option<DeviceInfo>,
}

/// Time statistics of one operator over the profiled inferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayerStats {
    /// Operator index in execution order.
    pub index: usize,
    /// Operator name.
    pub op: String,
    /// Median duration, ns.
    pub median_ns: f64,
    /// Mean duration, ns.
    pub mean_ns: f64,
    /// Shortest duration, ns.
    pub min_ns: f64,
    /// Share of the summed operator medians, percent.
    pub share_percent: f64,
}

/// Most profiled inferences a run makes for per-layer statistics.
const MAX_PROFILED: usize = 100;

/// The one measured loop: loads the model with `runner` and measures it as
/// `spec` says, on whatever target the runner drives. Progress and every
/// measured value go to `observer`; TYPE2 outputs go to `raw_output`,
/// every sample's outputs in model order, samples in dataset order.
pub fn measure(
    runner: &mut dyn Runner,
    model: &ModelFile,
    spec: &BenchmarkSpec,
    observer: &mut dyn Observer,
    raw_output: &mut dyn Write,
) -> Result<Measurement> {
    spec.validate()?;
    let local = runner.in_this_process();

    observer.phase(Phase::Load, 1);
    let before_load = local.then(ProcessMemory::current);
    let start = Instant::now();
    let loaded = runner.load(model, spec)?;
    let init_ns = elapsed_ns(start);
    interrupt::check()?;
    let after_load = local.then(ProcessMemory::current);
    observer.step();

    if spec.per_layer && !runner.profiles_operators() {
        return Err(Error::input(format!(
            "--per-layer: engine {} cannot time individual operators",
            runner.engine()
        )));
    }
    let Loaded {
        engine_version,
        options,
        inputs,
    } = loaded;
    input_sizes(&inputs)?;
    observer.recorded(&Recorded::Loaded {
        engine_version: engine_version.clone(),
        options: options.clone(),
        inputs: inputs.clone(),
        init_ns,
    });
    let mut source = InputSource::open(&spec.workload, &inputs, &spec.input_values)?;
    let mut buffers = Vec::new();
    source.first(&mut buffers)?;
    runner.set_inputs(&buffers)?;

    let first_inference_ns = runner.first()?;
    observer.recorded(&Recorded::First(first_inference_ns));
    let outputs = runner.outputs()?;

    observer.phase(Phase::Warmup, spec.warmup);
    let mut warmup_ns = Vec::with_capacity(spec.warmup);
    interrupt::check()?;
    runner.warm_up(spec.warmup, &mut |ns| {
        warmup_ns.push(ns);
        observer.recorded(&Recorded::Warmup(ns));
        observer.step();
        interrupt::check()
    })?;

    let count = source.count();
    observer.phase(Phase::Measure, count);
    let mut samples_ns = Vec::with_capacity(count);
    let mut keep = |ns| {
        samples_ns.push(ns);
        observer.recorded(&Recorded::Sample(ns));
        observer.step();
        interrupt::check()
    };
    let mut raw_output_bytes = 0u64;
    let cpu_start = local.then(|| ProcessTime::try_now().ok()).flatten();
    let wall_start = Instant::now();
    interrupt::check()?;
    if let Some(iterations) = source.random_iterations() {
        runner.run(iterations, &mut keep)?;
    } else {
        // The first inference and the warmups ran on the first sample: the
        // dataset is one stream from the model's state at load.
        runner.reset_state()?;
        while source.next_sample(&mut buffers)? {
            runner.set_inputs(&buffers)?;
            runner.run(1, &mut keep)?;
            raw_output_bytes += runner.write_outputs(raw_output)?;
        }
    }
    let measured_wall_ns = elapsed_ns(wall_start);
    let layers = if spec.per_layer {
        let runs = runner.profiled_runs(count.clamp(1, MAX_PROFILED)).max(1);
        observer.phase(Phase::Profile, runs);
        Some(profile(runner, runs, observer)?)
    } else {
        None
    };
    let measured_cpu_ns = cpu_start
        .and_then(|c| c.try_elapsed().ok())
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let finished = runner.finish()?;

    Ok(Measurement {
        engine: runner.engine().to_owned(),
        engine_version,
        engine_options: options,
        benchmark_type: spec.benchmark_type(),
        seed: source.seed(),
        dataset: source.dataset_info(),
        warmup: spec.warmup,
        inputs,
        outputs,
        init_ns,
        first_inference_ns,
        warmup_ns,
        samples_ns,
        measured_wall_ns,
        measured_cpu_ns,
        rss_before_load: before_load.and_then(|m| m.rss),
        rss_after_load: after_load.and_then(|m| m.rss),
        peak_rss: local.then(ProcessMemory::current).and_then(|m| m.peak_rss),
        raw_output_bytes,
        layers,
        target: finished.target,
        device: finished.device,
    })
}

/// Times every operator over `runs` profiled inferences.
fn profile(
    runner: &mut dyn Runner,
    runs: usize,
    observer: &mut dyn Observer,
) -> Result<Vec<LayerStats>> {
    let mut per_op: Vec<(usize, String, Vec<u64>)> = Vec::new();
    for _ in 0..runs {
        interrupt::check()?;
        let times = runner.profile()?;
        if per_op.is_empty() {
            per_op = times
                .iter()
                .map(|t| (t.index, t.op.clone(), Vec::with_capacity(runs)))
                .collect();
        }
        for (slot, t) in per_op.iter_mut().zip(times) {
            slot.2.push(t.ns);
        }
        observer.step();
    }
    let stats: Vec<(usize, String, Statistics)> = per_op
        .into_iter()
        .filter_map(|(index, op, ns)| Statistics::from_samples(&ns).map(|s| (index, op, s)))
        .collect();
    let total: f64 = stats.iter().map(|(_, _, s)| s.median).sum();
    Ok(stats
        .into_iter()
        .map(|(index, op, s)| LayerStats {
            index,
            op,
            median_ns: s.median,
            mean_ns: s.mean,
            min_ns: s.min,
            share_percent: if total > 0.0 {
                s.median / total * 100.0
            } else {
                0.0
            },
        })
        .collect())
}
