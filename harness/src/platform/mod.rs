//! What every layer stands on: errors with their exit codes ([`error`]),
//! how messages name a setting ([`field`]), SIGINT and SIGTERM ([`interrupt`]), the process's memory ([`memory`])
//! a description of this machine ([`host`]), its CPU, kernel and
//! temperature ([`system`]) and their course over a run ([`sampler`]),
//! and the filesystem that holds a file ([`storage`]).

pub mod error;
pub mod field;
pub mod host;
pub mod interrupt;
pub mod memory;
pub mod sampler;
pub mod storage;
pub mod system;
