//! What a run measured before it failed: [`Recorder`] keeps every value
//! the measured loop records, and [`PartialReport`] is the
//! `vlab-report.json.partial` written from them when the engine fails or
//! crashes after loading the model. Its name, like `raw_output.bin.partial`,
//! and its `complete: false` keep it from passing for a result: `vlab
//! report`, `vlab compare` and the pipeline read only `vlab-report.json`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::platform::error::Error;
use crate::record::{Observer, Phase, Recorded};
use crate::report::ModelInfo;
use crate::seam::options::EngineSettings;
use crate::seam::tensor::TensorSpec;
use crate::spec::BenchmarkType;
use crate::stats::Statistics;

/// Layout identifier of the partial report.
pub const PARTIAL_SCHEMA: &str = "vlab-partial-report/1";

/// Passes everything on to the observer it wraps and keeps what was measured.
pub struct Recorder<'a> {
    inner: &'a mut dyn Observer,
    /// `Recorded::Loaded`, the first of the values.
    loaded: Option<Recorded>,
    first: Option<u64>,
    warmup: Vec<u64>,
    samples: Vec<u64>,
}

impl<'a> Recorder<'a> {
    /// Records on the way to `inner`.
    pub fn new(inner: &'a mut dyn Observer) -> Self {
        Self {
            inner,
            loaded: None,
            first: None,
            warmup: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The partial report of a run that failed with `error`, or `None` when
    /// nothing was measured (the model never loaded).
    pub fn report(
        &self,
        engine: &str,
        benchmark_type: BenchmarkType,
        started: OffsetDateTime,
        error: &Error,
    ) -> Option<PartialReport> {
        let Some(Recorded::Loaded {
            engine_version,
            options,
            inputs,
            model,
            init_ns,
        }) = &self.loaded
        else {
            return None;
        };
        Some(PartialReport {
            schema: PARTIAL_SCHEMA.to_owned(),
            complete: false,
            error: error.message().to_owned(),
            vlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: started.format(&Rfc3339).unwrap_or_default(),
            failed_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            engine: engine.to_owned(),
            engine_version: engine_version.clone(),
            engine_options: options.clone(),
            model: model.as_ref().clone(),
            benchmark_type,
            inputs: inputs.clone(),
            init_ns: *init_ns,
            first_inference_ns: self.first,
            warmup_ns: self.warmup.clone(),
            samples_ns: self.samples.clone(),
            statistics: Statistics::from_samples(&self.samples),
        })
    }
}

impl Observer for Recorder<'_> {
    fn phase(&mut self, phase: Phase, steps: usize) {
        self.inner.phase(phase, steps);
    }

    fn step(&mut self) {
        self.inner.step();
    }

    fn recorded(&mut self, value: &Recorded) {
        match value {
            Recorded::Loaded { .. } => self.loaded = Some(value.clone()),
            Recorded::First(ns) => self.first = Some(*ns),
            Recorded::Warmup(ns) => self.warmup.push(*ns),
            Recorded::Sample(ns) => self.samples.push(*ns),
        }
        self.inner.recorded(value);
    }
}

/// `vlab-report.json.partial`: what an incomplete run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialReport {
    /// Layout identifier, `vlab-partial-report/1`.
    pub schema: String,
    /// Always `false`: the run did not finish.
    pub complete: bool,
    /// Why it did not: the message of error.log.
    pub error: String,
    /// Version of vlab that ran it.
    pub vlab_version: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it failed (RFC 3339, UTC).
    pub failed_at: String,
    /// Engine name.
    pub engine: String,
    /// Engine version as the engine reports it.
    pub engine_version: String,
    /// The settings the engine ran with.
    pub engine_options: EngineSettings,
    /// The model: the file vlab sent, or the one the device holds.
    pub model: ModelInfo,
    /// `TYPE1` or `TYPE2`.
    pub benchmark_type: BenchmarkType,
    /// Model inputs as loaded.
    pub inputs: Vec<TensorSpec>,
    /// Load and prepare time, ns.
    pub init_ns: u64,
    /// The first inference, ns, if it finished.
    pub first_inference_ns: Option<u64>,
    /// Each warmup inference that finished, ns.
    pub warmup_ns: Vec<u64>,
    /// Each timed inference that finished, ns (up to
    /// [`crate::runner::isolation::FLUSH_EVERY`] of the last ones may be missing
    /// after a crash).
    pub samples_ns: Vec<u64>,
    /// Statistics of `samples_ns`, when there are any.
    pub statistics: Option<Statistics>,
}
