//! MLPerf Tiny devices under test, driven from the host: the line layer
//! ([`lines`]) and the driver ([`dut`]) that identifies a device, uploads
//! samples with checks the protocol lacks, and times windows of
//! inferences; the official runner's performance and accuracy flows
//! ([`flow`]) over datasets in its layout ([`dataset`]), scored as it
//! scores them ([`score`]) (docs/mlperf-tiny.md). A device is also a
//! benchmark target of the one measured loop ([`target`], [`runner`]),
//! each sample timed as [`plan`] decides.

pub mod dataset;
pub mod dut;
pub mod flow;
pub mod lines;
pub mod plan;
pub mod runner;
pub mod score;
pub mod target;

pub use dut::{Dut, Window, input_bytes};
pub use target::DutTarget;
