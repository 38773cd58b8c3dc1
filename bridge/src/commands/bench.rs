//! `vlab bench`: benchmark a model on this machine.

use vlab_harness::views::text::summary_lines;
use vlab_harness::{
    BenchmarkSpec, Error, InputValues, LoadOptions, OutputDir, Parameters, Result, ShapeOverrides,
    Workload,
};

use std::time::Duration;

use vlab_bridge::board::def::Protocol;
use vlab_bridge::board::{BoardDef, BoardOptions, Boards, board_engine};

use crate::cli::BenchArgs;
use crate::commands::target::{Choice, benchmark};
use crate::progress::Progress;
use crate::stdout::say;

/// Default number of timed inferences for TYPE1.
const DEFAULT_ITERATIONS: usize = 100;

/// Runs the benchmark, writes the artifacts and prints the summary (or the
/// full report with `--json`).
pub fn run(args: &BenchArgs) -> Result<()> {
    let out = OutputDir::prepare(&args.out)?;
    let spec = spec(args).inspect_err(|e| out.write_failure(e))?;
    let mut progress = Progress::new(!args.json);
    let choice = match &args.board {
        Some(board) => board_choice(args, board),
        None => Ok(Choice::Host(
            args.engine.clone().unwrap_or_else(|| "tract".to_owned()),
        )),
    };
    let result = benchmark(choice, &spec, &out, &mut progress);
    progress.finish();
    let reports = result?;
    if args.json {
        let json = serde_json::to_string_pretty(&reports.full)
            .map_err(|e| Error::runtime(format!("cannot serialise the report: {e}")))?;
        say!("{json}");
    } else {
        for line in summary_lines(&reports.full) {
            say!("{line}");
        }
        say!("artifacts in {}", out.path().display());
    }
    Ok(())
}

/// How to run on `board`: a Linux board over SSH with the engine asked
/// for, or an MCU board.
fn board_choice(args: &BenchArgs, board: &str) -> Result<Choice> {
    let boards = Boards::load(&Boards::default_dir(args.boards_dir.as_deref()))?;
    let Some(linux) = boards.linux_board(board) else {
        return board_options(args, boards.get(board)?).map(|o| Choice::Board(Box::new(o)));
    };
    let mcu_only = [
        ("--transport", args.transport.is_some()),
        ("--firmware", args.firmware.is_some()),
        ("--preload", args.preload),
        ("--probe", args.probe.is_some()),
        ("--inject-faults", args.inject_faults.is_some()),
    ];
    if let Some((flag, _)) = mcu_only.iter().find(|(_, given)| *given) {
        return Err(Error::input(format!(
            "{flag}: board {board} is a Linux board reached over SSH; the flag is for MCU boards"
        )));
    }
    Ok(Choice::Linux {
        board: Box::new(linux.clone()),
        engine: args.engine.clone(),
    })
}

/// How to run on the MCU `board`: the engine is the firmware's.
fn board_options(args: &BenchArgs, board: &BoardDef) -> Result<BoardOptions> {
    let engine = board_engine(board);
    if let Some(asked) = args.engine.as_deref().filter(|&e| e != engine) {
        return Err(Error::input(format!(
            "--engine {asked}: board {} runs the {engine} engine{}",
            board.name,
            match board.protocol {
                Protocol::Vlab => " (vlab-micro in the firmware)",
                Protocol::MlperfTiny => " (its vendor's MLPerf Tiny port)",
            }
        )));
    }
    if let Some(rate) = args.inject_faults.filter(|r| !(0.0..=0.3).contains(r)) {
        return Err(Error::input(format!(
            "--inject-faults {rate}: give a per-byte rate between 0 and 0.3"
        )));
    }
    Ok(BoardOptions {
        probe: args.probe.clone(),
        verbose: args.verbose,
        board: board.clone(),
        transport: args.transport,
        firmware: args.firmware.clone(),
        run_timeout: Duration::from_secs(args.timeout),
        inject_faults: args.inject_faults,
        preload: args.preload,
    })
}

fn spec(args: &BenchArgs) -> Result<BenchmarkSpec> {
    let workload = match &args.dataset {
        Some(path) => Workload::Dataset { path: path.clone() },
        None => Workload::Random {
            seed: args.seed,
            iterations: args.iterations.unwrap_or(DEFAULT_ITERATIONS),
        },
    };
    let parameters = args
        .params
        .clone()
        .or_else(|| args.model.as_deref().and_then(Parameters::beside));
    let file = match &parameters {
        Some(path) => Parameters::read(path)?,
        None => Parameters::default(),
    };
    Ok(BenchmarkSpec {
        model: args.model.clone(),
        warmup: args.warmup,
        workload,
        load: LoadOptions {
            input_shapes: file.shapes(ShapeOverrides::parse(&args.input_shapes)?),
            engine: file.engine.clone().overlaid(args.engine_options.0.clone()),
        },
        input_values: file.values(InputValues::parse(&args.input_values)?),
        parameters,
        per_layer: args.per_layer,
    })
}
