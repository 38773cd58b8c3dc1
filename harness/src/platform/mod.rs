//! What every layer stands on: errors with their exit codes ([`error`]),
//! SIGINT and SIGTERM ([`interrupt`]), the process's memory ([`memory`])
//! and a description of this machine ([`host`]).

pub mod error;
pub mod host;
pub mod interrupt;
pub mod memory;
