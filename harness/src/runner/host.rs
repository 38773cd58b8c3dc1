//! The host runner: an engine session in this process, timed with the
//! monotonic clock ([`std::time::Instant`]). Only [`Session::run`] lies
//! between the two clock reads of a timed inference; setting inputs and
//! reading outputs happen outside them, as in TFLite's `benchmark_model`
//! and ONNX Runtime's `perf_test`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::platform::error::{Error, Result};
use crate::platform::host::HostInfo;
use crate::platform::sampler::Sampler;
use crate::platform::storage;
use crate::platform::system::Root;
use crate::record::TargetInfo;
use crate::runner::{Finished, Loaded, Runner, Timed};
use crate::seam::engine::{Engine, OperatorTime, Profiled, Session};
use crate::seam::model::ModelFile;
use crate::seam::tensor::TensorSpec;
use crate::spec::BenchmarkSpec;

/// An engine of this process, and the session it loaded.
pub struct HostRunner<'a> {
    engine: &'a dyn Engine,
    /// The engine library's version, asked before anything is timed.
    version: String,
    session: Option<Box<dyn Session>>,
    /// Where the model file is on this machine, for its filesystem.
    model_at: Option<PathBuf>,
    /// The machine's temperature and frequency from just before the load.
    sampler: Option<Sampler>,
    temperature_before: Option<f64>,
}

impl<'a> HostRunner<'a> {
    /// A runner for `engine`, with nothing loaded yet; fails when the
    /// engine cannot be used on this machine.
    pub fn new(engine: &'a dyn Engine) -> Result<Self> {
        // Read before the loop times the load, which this would add to.
        let root = Root::default();
        Ok(Self {
            engine,
            version: engine.version()?,
            session: None,
            model_at: None,
            temperature_before: root.temperature_celsius(),
            sampler: Some(Sampler::start(root)),
        })
    }

    /// The model file is at `path` on this machine, whatever its name in
    /// the spec (a worker on a board reads the copy vlab put there).
    pub fn model_at(mut self, path: PathBuf) -> Self {
        self.model_at = Some(path);
        self
    }

    fn session(&mut self) -> Result<&mut dyn Session> {
        match &mut self.session {
            Some(session) => Ok(session.as_mut()),
            None => Err(Error::runtime("the measured loop ran before loading")),
        }
    }

    fn loaded(&self) -> Result<&dyn Session> {
        match &self.session {
            Some(session) => Ok(session.as_ref()),
            None => Err(Error::runtime("the measured loop ran before loading")),
        }
    }
}

impl Runner for HostRunner<'_> {
    fn engine(&self) -> &str {
        self.engine.name()
    }

    fn in_this_process(&self) -> bool {
        true
    }

    fn load(&mut self, model: Option<&ModelFile>, spec: &BenchmarkSpec) -> Result<Loaded> {
        let model = ModelFile::needed(model)?;
        if self.model_at.is_none() {
            self.model_at = Some(model.path().to_path_buf());
        }
        if !self.engine.formats().contains(&model.format()) {
            return Err(model.error(format!(
                "engine {} cannot load {} models",
                self.engine.name(),
                model.format()
            )));
        }
        let session = self.engine.load(model, &spec.load)?;
        let loaded = Loaded {
            engine_version: self.version.clone(),
            options: session.options(),
            inputs: session.inputs().to_vec(),
            held: None,
        };
        self.session = Some(session);
        Ok(loaded)
    }

    fn profiles_operators(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.profiles_operators())
    }

    fn set_inputs(&mut self, inputs: &[Vec<u8>]) -> Result<()> {
        let session = self.session()?;
        inputs
            .iter()
            .enumerate()
            .try_for_each(|(i, bytes)| session.set_input(i, bytes))
    }

    fn run(&mut self, count: usize, timed: Timed<'_>) -> Result<()> {
        let session = self.session()?;
        for _ in 0..count {
            let start = Instant::now();
            session.run()?;
            let ns = elapsed_ns(start);
            timed(ns)?;
        }
        Ok(())
    }

    fn outputs(&mut self) -> Result<Vec<TensorSpec>> {
        let session = self.loaded()?;
        session
            .outputs()
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let out = session.output(i)?;
                Ok(TensorSpec {
                    shape: out.shape.iter().copied().map(Some).collect(),
                    ..spec.clone()
                })
            })
            .collect()
    }

    fn write_outputs(&mut self, sink: &mut dyn Write) -> Result<u64> {
        let session = self.loaded()?;
        let mut written = 0u64;
        for i in 0..session.outputs().len() {
            let out = session.output(i)?;
            sink.write_all(out.bytes)
                .map_err(|e| Error::runtime(format!("cannot write raw_output.bin: {e}")))?;
            written += out.bytes.len() as u64;
        }
        Ok(written)
    }

    fn reset_state(&mut self) -> Result<()> {
        self.session()?.reset_state()
    }

    fn profile(&mut self) -> Result<Vec<OperatorTime>> {
        self.session()?.run_profiled()
    }

    fn profile_runs(&mut self, runs: usize, each: Profiled<'_>) -> Result<()> {
        self.session()?.run_profiled_many(runs, each)
    }

    fn finish(&mut self) -> Result<Finished> {
        let mut target = TargetInfo::host(&HostInfo::current());
        let storage = self.model_at.as_deref().and_then(storage::holding);
        target.flash_bytes = storage.map(|s| s.total);
        target.flash_used_bytes = storage.map(|s| s.used);
        target.temperature_before_celsius = self.temperature_before;
        target.system = Some(Root::default().system());
        target.over_run = self.sampler.take().map(Sampler::finish).unwrap_or_default();
        Ok(Finished {
            target,
            device: None,
            dut: None,
        })
    }
}

/// Nanoseconds since `start`.
pub(crate) fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
