//! `vlab job`: run the benchmark a pipeline job's environment describes
//! (docs/job.md) and write its artifacts into `VLAB_WORKDIR/output`.

use std::path::PathBuf;
use std::time::Duration;

use vlab_harness::pipeline::job::JobEnv;
use vlab_harness::{BenchmarkSpec, BenchmarkType, LoadOptions, OutputDir, Parameters, Result};

use vlab_bridge::board::def::Protocol;
use vlab_bridge::board::{BoardOptions, Boards, board_engine};

use crate::commands::target::{Choice, benchmark};
use crate::progress::Progress;
use crate::stdout::say;

/// The folder inside the job's work folder that receives the artifacts.
pub const OUTPUT_FOLDER: &str = "output";

/// Longest a job's run on a board may take.
const BOARD_TIMEOUT: Duration = Duration::from_secs(3600);

/// Reads the job, runs it on its target and writes the artifacts.
pub fn run() -> Result<()> {
    let workdir: PathBuf = std::env::var_os("VLAB_WORKDIR")
        .filter(|w| !w.is_empty())
        .map_or_else(
            || vlab_harness::pipeline::job::DEFAULT_WORKDIR.into(),
            PathBuf::from,
        );
    let out = OutputDir::prepare(&workdir.join(OUTPUT_FOLDER))?;
    let job = JobEnv::from_env().inspect_err(|e| out.write_failure(e))?;
    let mut spec = spec(&job).inspect_err(|e| out.write_failure(e))?;
    let mut progress = Progress::new(false);
    let choice = match job.target.as_str() {
        "host" => Ok(Choice::Host(job.runtime.clone())),
        _ => board_choice(&job),
    };
    if let Ok(Choice::Board(options)) = &choice
        && options.board.protocol == Protocol::MlperfTiny
    {
        // The pipeline always places a model; a device under test runs
        // the one it holds, which the reports name instead.
        spec.model = None;
        out.log(&format!(
            "the job's model {} stays here: target {} is an MLPerf Tiny device that runs the model it holds",
            job.model.display(),
            job.target
        ))?;
    }
    let result = benchmark(choice, &spec, &out, &mut progress);
    progress.finish();
    let delivered = deliver(&job, &out);
    result?;
    if let Err(e) = delivered {
        out.write_failure(&e);
        return Err(e);
    }
    say!("artifacts in {}", out.path().display());
    Ok(())
}

/// Sends the job's artifacts that exist to the lab's API, when the job has
/// one. After a failed benchmark that is user.log and error.log.
fn deliver(job: &JobEnv, out: &OutputDir) -> Result<()> {
    let Some(delivery) = job.delivery() else {
        return Ok(());
    };
    let present: Vec<&str> = job
        .artifacts()
        .iter()
        .copied()
        .filter(|name| out.path().join(name).is_file())
        .collect();
    // Reported on stderr: user.log is already delivered by now.
    for done in delivery.deliver(out.path(), &present)? {
        eprintln!(
            "delivered {} ({} attempt{})",
            done.name,
            done.attempts,
            if done.attempts == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// The benchmark the job asks for, with its parameters file.
fn spec(job: &JobEnv) -> Result<BenchmarkSpec> {
    let mut spec = match (job.benchmark_type, &job.dataset) {
        (BenchmarkType::Type2, Some(dataset)) => BenchmarkSpec::dataset(&job.model, dataset),
        _ => BenchmarkSpec::random(&job.model, job.nb_inference.unwrap_or(1)),
    };
    if let Some(path) = &job.parameters {
        let parameters = Parameters::read(path)?;
        spec.load = LoadOptions {
            input_shapes: parameters.shapes(Default::default()),
            engine: parameters.engine.clone(),
        };
        spec.input_values = parameters.values(Default::default());
        spec.parameters = Some(path.clone());
    }
    Ok(spec)
}

/// A board target: the board must be defined. A Linux board runs the job's
/// runtime if it offers it; an MCU board's engine must be the runtime
/// (`micro`; `mlperf-tiny` for an MLPerf Tiny device).
fn board_choice(job: &JobEnv) -> Result<Choice> {
    let boards = Boards::load(&Boards::default_dir(job.boards_dir.as_deref()))?;
    if let Some(linux) = boards.linux_board(&job.target) {
        return Ok(Choice::Linux {
            board: Box::new(linux.clone()),
            engine: Some(job.runtime.clone()),
        });
    }
    let board = boards.get(&job.target)?;
    let engine = board_engine(board);
    if job.runtime != engine {
        return Err(vlab_harness::Error::input(format!(
            "RUNTIME={}: target {} is a board, which runs the {engine} engine",
            job.runtime, job.target
        )));
    }
    Ok(Choice::Board(Box::new(BoardOptions {
        probe: None,
        verbose: false,
        board: board.clone(),
        transport: None,
        firmware: None,
        run_timeout: BOARD_TIMEOUT,
        inject_faults: None,
        preload: false,
    })))
}
