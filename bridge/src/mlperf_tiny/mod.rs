//! MLPerf Tiny devices under test, driven from the host: the line layer
//! ([`lines`]) and the driver ([`dut`]) that identifies a device, uploads
//! samples with checks the protocol lacks, and times windows of
//! inferences (docs/mlperf-tiny.md).

pub mod dut;
pub mod lines;

pub use dut::{Dut, Window, input_bytes};
