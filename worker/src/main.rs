//! `vlab-worker`: vlab's engine worker and nothing else, for Linux boards
//! reached over SSH (docs/boards.md). The `vlab` binary serves the same
//! worker under its hidden `engine-worker` subcommand, but it also carries
//! the probe, serial, lab-server and CLI code a board never runs; without
//! them the worker cross-builds in a fraction of the time and is a fraction
//! of the size to copy. It takes the same command line as `vlab`'s
//! subcommand, so a board runs either the same way:
//!
//! ```text
//! vlab-worker engine-worker                   serve the job sent on stdin
//! vlab-worker engine-worker --wire-version    print the wire version
//! ```
//!
//! Two fixed command lines, both written by vlab itself, need no argument
//! parser; anything else is refused with the usage.

use std::process::ExitCode;

/// How the worker is started.
const USAGE: &str = "usage: vlab-worker engine-worker [--wire-version]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let served = match args.as_slice() {
        ["engine-worker", "--wire-version"] => {
            println!("{}", vlab_harness::isolation::WIRE_VERSION);
            return ExitCode::SUCCESS;
        }
        ["--version"] => {
            println!("vlab-worker {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        ["engine-worker"] => vlab_harness::isolation::serve(vlab_runtimes::engine),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message());
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
