//! A board as a benchmark [`Target`]: the edge's choice of where to run,
//! checked before anything starts (the board exists, its route is one vlab
//! takes), then the one measured loop driving a [`BoardRunner`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use vlab_harness::{
    BenchmarkSpec, Measurement, ModelCapacity, ModelFile, ModelFormat, Observer, OutputDir, Result,
    Target, measure,
};

use super::def::{BoardDef, LaunchDef};
use super::firmware::Firmware;
use super::route::Route;
use super::runner::BoardRunner;
use crate::transport::Transport;

/// How to reach and drive a board.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// The board.
    pub board: BoardDef,
    /// Transport instead of the board's.
    pub transport: Option<Transport>,
    /// Firmware ELF instead of the board's.
    pub firmware: Option<PathBuf>,
    /// Longest a run may take on the board.
    pub run_timeout: Duration,
    /// Corrupt the link at this per-byte rate, for robustness tests.
    pub inject_faults: Option<f64>,
    /// Put the model in the board's flash slot at launch (emulated boards).
    pub preload: bool,
    /// Show every firmware log line on stderr as it arrives.
    pub verbose: bool,
    /// Which debug probe, instead of board.toml's `probe`: `VID:PID[:SERIAL]`.
    pub probe: Option<String>,
}

/// A board to benchmark on, its route planned.
pub struct BoardTarget {
    options: BoardOptions,
    route: Route,
    out: OutputDir,
}

impl BoardTarget {
    /// The board of `options`, whose firmware logs go into `out`; fails
    /// when vlab cannot reach it as `options` say.
    pub fn new(options: BoardOptions, out: &OutputDir) -> Result<Self> {
        let route = Route::plan(&options.board, options.transport, options.preload)?;
        Ok(Self {
            options,
            route,
            out: out.clone(),
        })
    }

    /// The firmware ELF, read once: it must exist when vlab launches or
    /// flashes the board; a running board's is read when it is there, for
    /// its logs and flash size.
    fn firmware(&self) -> Result<Option<Arc<Firmware>>> {
        let board = &self.options.board;
        let elf = match &self.options.firmware {
            Some(elf) => elf.clone(),
            None => board.elf()?,
        };
        if elf.is_file() {
            return Firmware::read(&elf).map(|f| Some(Arc::new(f)));
        }
        match self.route.launch {
            LaunchDef::Running => Ok(None),
            _ => Err(board.firmware_missing(&elf)),
        }
    }
}

impl Target for BoardTarget {
    fn engine(&self) -> &str {
        "micro"
    }

    fn describe(&self) -> String {
        format!("on board {}", self.options.board.name)
    }

    fn model_capacity(&self) -> ModelCapacity {
        self.options.board.model_capacity()
    }

    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        let model = ModelFile::needed(model)?;
        if model.format() != ModelFormat::Tflite {
            return Err(model.error(format!(
                "boards run vlab-micro, which loads .tflite models, not {}",
                model.format()
            )));
        }
        // Loading on this machine first checks every operator and lists
        // every problem at once, and says how much arena the board needs.
        let footprint = vlab_runtimes::micro::footprint(model, &spec.load)?;
        let firmware = self.firmware()?;
        let mut runner =
            BoardRunner::new(&self.options, &self.route, &self.out, firmware, footprint)?;
        measure(&mut runner, Some(model), spec, observer, raw_output)
    }
}
