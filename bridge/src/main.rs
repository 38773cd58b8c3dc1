//! `vlab`: benchmark ML models on edge targets and report in the lab's
//! pipeline format.

mod cli;
mod commands;
mod engine_flags;
mod progress;
mod stdout;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Errors name a setting by the flag that sets it.
    vlab_harness::platform::field::name_fields(cli::flag);
    // A benchmark stops cleanly on SIGINT and SIGTERM (vlab_harness::interrupt).
    let watched = match cli.command {
        cli::Command::Bench(_)
        | cli::Command::Job
        | cli::Command::MlperfTiny(cli::MlperfTinyCommand::Serve(_)) => {
            vlab_harness::interrupt::watch()
        }
        _ => Ok(()),
    };
    let result = watched.and_then(|()| match cli.command {
        cli::Command::Bench(args) => commands::bench::run(&args),
        cli::Command::Schema => commands::schema::run(),
        cli::Command::Boards(args) => commands::boards::run(&args),
        cli::Command::Engines => commands::engines::run(),
        cli::Command::Job => commands::job::run(),
        cli::Command::Probes => commands::probes::run(),
        cli::Command::Flash(args) => commands::flash::run(&args),
        cli::Command::Report(args) => commands::report::run(&args),
        cli::Command::Compare(args) => commands::compare::run(&args),
        cli::Command::Nomad(cli::NomadCommand::ClientConfig(args)) => {
            commands::nomad::client_config(&args)
        }
        cli::Command::Lab(cli::LabCommand::Serve(args)) => commands::lab::serve(&args),
        cli::Command::Lab(cli::LabCommand::AddUser(args)) => commands::lab::add_user(&args),
        cli::Command::MlperfTiny(cli::MlperfTinyCommand::Serve(args)) => {
            commands::mlperf_tiny::serve(&args)
        }
        cli::Command::MlperfTiny(cli::MlperfTinyCommand::Run(args)) => {
            commands::mlperf_tiny::run(&args)
        }
        cli::Command::EngineWorker { wire_version: true } => {
            println!("{}", vlab_harness::isolation::WIRE_VERSION);
            Ok(())
        }
        cli::Command::EngineWorker {
            wire_version: false,
        } => commands::worker::serve(),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message());
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
