//! What every layer stands on: errors with their exit codes ([`error`]),
//! how messages name a setting ([`field`]), SIGINT and SIGTERM ([`interrupt`]), the process's memory ([`memory`])
//! and a description of this machine ([`host`]).

pub mod error;
pub mod field;
pub mod host;
pub mod interrupt;
pub mod memory;
