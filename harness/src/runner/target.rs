//! Where a benchmark runs, chosen once at the edge: an engine in this
//! process ([`InProcess`]), an engine in a supervised worker process
//! ([`crate::runner::isolation::Isolated`]), or a board (vlab-bridge). Every target
//! measures with the one measured loop ([`measure`]); only the [`Runner`]
//! it drives differs.
//!
//! [`Runner`]: crate::runner::Runner

use std::io::Write;

use crate::platform::error::Result;
use crate::record::{Measurement, Observer};
use crate::runner::host::HostRunner;
use crate::runner::measure;
use crate::seam::engine::Engine;
use crate::seam::model::{ModelCapacity, ModelFile};
use crate::spec::BenchmarkSpec;

/// A place to benchmark on.
pub trait Target {
    /// The engine's name, as reports put it.
    fn engine(&self) -> &str;

    /// Where the run happens, as user.log says it (`with engine tract`,
    /// `on board qemu-mps2-an385`).
    fn describe(&self) -> String {
        format!("with engine {}", self.engine())
    }

    /// The largest model the target takes.
    fn model_capacity(&self) -> ModelCapacity {
        ModelCapacity::host()
    }

    /// Whether the target runs a model it holds (an MLPerf Tiny device
    /// under test) rather than a model file vlab sends.
    fn holds_model(&self) -> bool {
        false
    }

    /// Measures `model` (`None` when the target holds its own) as `spec`
    /// says with the one measured loop: progress and every measured value
    /// go to `observer`, TYPE2 outputs to `raw_output`.
    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement>;
}

/// The engine runs in this process.
#[derive(Clone, Copy)]
pub struct InProcess<'a>(pub &'a dyn Engine);

impl Target for InProcess<'_> {
    fn engine(&self) -> &str {
        self.0.name()
    }

    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        let mut runner = HostRunner::new(self.0)?;
        measure(&mut runner, model, spec, observer, raw_output)
    }
}
