//! An MLPerf Tiny device under test as a benchmark [`Target`]: a board
//! whose board.toml says `protocol = "mlperf-tiny"`, reached over its
//! serial port or a TCP serial server, measured by the one measured loop
//! through a [`DutRunner`].

use std::io::Write;

use vlab_harness::{
    BenchmarkSpec, Error, Measurement, ModelFile, Observer, Result, Target, measure,
};

use super::runner::{DutRunner, ENGINE};
use crate::board::{BoardDef, BoardOptions, TransportDef};
use crate::transport::Transport;

/// A device under test to benchmark on, its link checked.
pub struct DutTarget {
    board: BoardDef,
    transport: Transport,
    at: String,
    baud: u32,
}

impl DutTarget {
    /// The device of `options`; fails on an option that does not apply to
    /// a device vlab neither launches nor sends models to.
    pub fn new(options: BoardOptions) -> Result<Self> {
        let name = &options.board.name;
        let refuse = |flag: &str, why: &str| {
            Err(Error::input(format!(
                "{flag}: board {name} is an MLPerf Tiny device, {why}"
            )))
        };
        if options.preload {
            return refuse("--preload", "which holds its model in its own firmware");
        }
        if options.firmware.is_some() {
            return refuse("--firmware", "running its vendor's firmware");
        }
        if options.probe.is_some() {
            return refuse("--probe", "reached over its UART");
        }
        if options.inject_faults.is_some() {
            return refuse(
                "--inject-faults",
                "and MLPerf Tiny's protocol resends nothing",
            );
        }
        let (transport, at, baud) = match &options.board.transport {
            TransportDef::Serial {
                path: Some(path),
                baud,
            } => (Transport::Serial, path.clone(), *baud),
            TransportDef::Tcp {
                address: Some(address),
            } => (Transport::Tcp, address.clone(), 115_200),
            _ => {
                return refuse("board.toml", "reached by a serial path or TCP address");
            }
        };
        if let Some(asked) = options.transport.filter(|&t| t != transport) {
            return Err(Error::input(format!(
                "--transport {asked}: board {name} is an MLPerf Tiny device reached over {transport} only"
            )));
        }
        Ok(Self {
            board: options.board,
            transport,
            at,
            baud,
        })
    }
}

impl Target for DutTarget {
    fn engine(&self) -> &str {
        ENGINE
    }

    fn describe(&self) -> String {
        format!("on MLPerf Tiny device {}", self.board.name)
    }

    fn holds_model(&self) -> bool {
        true
    }

    fn measure(
        &self,
        model: Option<&ModelFile>,
        spec: &BenchmarkSpec,
        observer: &mut dyn Observer,
        raw_output: &mut dyn Write,
    ) -> Result<Measurement> {
        let mut runner = DutRunner::new(&self.board, self.transport, self.at.clone(), self.baud)?;
        measure(&mut runner, model, spec, observer, raw_output)
    }
}
