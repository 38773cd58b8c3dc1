//! One module per `vlab` subcommand.

pub mod bench;
pub mod boards;
pub mod compare;
pub mod engines;
pub mod flash;
pub mod job;
pub mod lab;
pub mod mlperf_tiny;
pub mod nomad;
pub mod probes;
pub mod report;
pub mod schema;
pub mod target;
pub mod worker;
