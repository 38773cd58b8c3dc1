//! One module per `vlab` subcommand.

pub mod bench;
pub mod schema;
