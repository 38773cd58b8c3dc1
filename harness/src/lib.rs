//! vlab-harness: the library at the centre of vlab.
//!
//! Its folders are its layers; every arrow points down this list:
//!
//! - [`pipeline`]: the cluster job's contract and the delivery of artifacts;
//! - `run`: one benchmark from model file to artifacts ([`run_benchmark`]);
//! - [`artifacts`]: the output folder, which writes the bytes it is given;
//! - [`views`]: reports as people read them (text, HTML, charts);
//! - [`report`]: the reports as data (`vlab-report.json`, `report.json`,
//!   the partial report), and [`compare`] of two of them;
//! - [`runner`]: the Runner seam, the one measured loop and the targets
//!   that run it (this process, a worker process);
//! - [`record`]: what a run measured; [`stats`]: statistics of it;
//! - [`inputs`]: where the inputs come from (TYPE1 random, TYPE2 dataset);
//! - [`spec`]: what to benchmark;
//! - [`seam`]: what an engine implements (engine, tensor, model, options);
//! - [`platform`]: errors, signals, memory and the host's description.
//!
//! Engines live in `vlab-runtimes`; transports and boards in `vlab-bridge`,
//! whose board target drives the same loop.
//!
//! ```no_run
//! # fn demo(engine: &dyn vlab_harness::Engine) -> vlab_harness::Result<()> {
//! use vlab_harness::{BenchmarkSpec, benchmark_to_dir};
//! let spec = BenchmarkSpec::random("models/keyword_spotting.tflite", 100);
//! let reports = benchmark_to_dir(engine, &spec, "vlab-out".as_ref())?;
//! println!("median {} s", reports.contract.inference_latency.median);
//! # Ok(()) }
//! ```

pub mod artifacts;
pub mod compare;
pub mod inputs;
pub mod pipeline;
pub mod platform;
pub mod record;
pub mod report;
mod run;
pub mod runner;
pub mod seam;
pub mod spec;
pub mod stats;
pub mod views;

pub use artifacts::OutputDir;
pub use platform::error::{self, Error, ErrorKind, Result};
pub use platform::interrupt;
pub use record::{
    DeviceInfo, DutInfo, InjectedFaults, LayerStats, Measurement, Observer, Phase, Recorded,
    TargetInfo,
};
pub use report::{ContractReport, Reports, VlabReport};
pub use run::{benchmark_to_dir, run_benchmark, write_reports};
pub use runner::host::HostRunner;
pub use runner::isolation;
pub use runner::target::{InProcess, Target};
pub use runner::{Finished, Loaded, Runner, Timed, measure};
pub use seam::engine::{Engine, LoadOptions, OperatorTime, OutputTensor, Profiled, Session};
pub use seam::held::HeldModel;
pub use seam::model::{ModelCapacity, ModelFile, ModelFormat};
pub use seam::options::{
    EngineOptions, EngineSettings, OptionDecl, OptionKind, OptionSource, OptionValue,
};
pub use seam::params::{InputValues, Parameters};
pub use seam::tensor::{DType, Quantization, ShapeOverrides, TensorSpec};
pub use spec::{BenchmarkSpec, BenchmarkType, Workload};
pub use stats::Statistics;
