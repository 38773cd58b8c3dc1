//! vlab-harness: the library at the centre of vlab.
//!
//! It defines the engine seam ([`Engine`], [`Session`]), owns the clock, the
//! warmup and the measured loop ([`measure`]), runs it in this process or
//! in a supervised worker ([`Runner`], [`isolation`]), computes statistics
//! ([`Statistics`]) and writes the pipeline's artifacts ([`OutputDir`]).
//! Engines live in `vlab-runtimes`; transports and boards in `vlab-bridge`.
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
pub mod delivery;
pub mod engine;
pub mod error;
pub mod host;
pub mod host_runner;
pub mod inputs;
pub mod interrupt;
pub mod isolation;
pub mod job;
pub mod measure;
pub mod memory;
pub mod model;
mod npy;
pub mod params;
pub mod partial;
pub mod report;
mod run;
pub mod runner;
pub mod stats;
pub mod target;
pub mod tensor;

pub use artifacts::OutputDir;
pub use engine::{Engine, LoadOptions, OperatorTime, OutputTensor, Session};
pub use error::{Error, ErrorKind, Result};
pub use host_runner::HostRunner;
pub use measure::{
    BenchmarkSpec, BenchmarkType, LayerStats, Measurement, Observer, Phase, Recorded, Workload,
    measure,
};
pub use model::{ModelCapacity, ModelFile, ModelFormat};
pub use params::{EngineOptions, InputValues, Parameters};
pub use report::{ContractReport, DeviceInfo, Reports, TargetInfo, VlabReport};
pub use run::{benchmark_to_dir, run_benchmark, write_reports};
pub use runner::{Finished, Loaded, Runner, Timed};
pub use stats::Statistics;
pub use target::{InProcess, Target};
pub use tensor::{DType, Quantization, ShapeOverrides, TensorSpec};
