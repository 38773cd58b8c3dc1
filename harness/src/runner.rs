//! The Runner seam: where the one measured loop ([`measure`]) runs. In this
//! process ([`InProcess`]), or in a supervised worker process
//! ([`crate::isolation::Isolated`]) for engines whose foreign library could
//! crash vlab. Either way the loop, and so the timing, is the same code.

use std::io::Write;

use crate::engine::Engine;
use crate::error::Result;
use crate::measure::{BenchmarkSpec, Measurement, Observer, measure};
use crate::model::ModelFile;

/// Runs the measured loop of one benchmark somewhere.
pub trait Runner {
    /// The engine that runs the model.
    fn engine(&self) -> &dyn Engine;

    /// Loads `model` and measures it as `spec` says, like [`measure`]:
    /// progress and every measured value go to `observer`, TYPE2 outputs
    /// to `raw_output`.
    fn measure(
        &self,
        model: &ModelFile,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement>;
}

/// The engine runs in this process.
#[derive(Clone, Copy)]
pub struct InProcess<'a>(pub &'a dyn Engine);

impl Runner for InProcess<'_> {
    fn engine(&self) -> &dyn Engine {
        self.0
    }

    fn measure(
        &self,
        model: &ModelFile,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        measure(self.0, model, spec, observer, raw_output)
    }
}
