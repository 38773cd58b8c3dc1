//! `vlab bench`: benchmark a model on this machine.

use vlab_harness::report::summary_lines;
use vlab_harness::{
    BenchmarkSpec, Error, LoadOptions, OutputDir, Result, ShapeOverrides, Workload, run_benchmark,
};

use crate::cli::BenchArgs;
use crate::progress::Progress;

/// Default number of timed inferences for TYPE1.
const DEFAULT_ITERATIONS: usize = 100;

/// Runs the benchmark, writes the artifacts and prints the summary (or the
/// full report with `--json`).
pub fn run(args: &BenchArgs) -> Result<()> {
    let out = OutputDir::prepare(&args.out)?;
    let prepared = spec(args).and_then(|spec| Ok((spec, vlab_runtimes::engine(&args.engine)?)));
    let (spec, engine) = prepared.inspect_err(|e| out.write_failure(e))?;
    let mut progress = Progress::new(!args.json);
    let result = run_benchmark(engine, &spec, &out, &mut progress);
    progress.finish();
    let reports = result?;
    if args.json {
        let json = serde_json::to_string_pretty(&reports.full)
            .map_err(|e| Error::runtime(format!("cannot serialise the report: {e}")))?;
        println!("{json}");
    } else {
        for line in summary_lines(&reports.full) {
            println!("{line}");
        }
        println!("artifacts in {}", out.path().display());
    }
    Ok(())
}

fn spec(args: &BenchArgs) -> Result<BenchmarkSpec> {
    let workload = match &args.dataset {
        Some(path) => Workload::Dataset { path: path.clone() },
        None => Workload::Random {
            seed: args.seed,
            iterations: args.iterations.unwrap_or(DEFAULT_ITERATIONS),
        },
    };
    Ok(BenchmarkSpec {
        model: args.model.clone(),
        warmup: args.warmup,
        workload,
        load: LoadOptions {
            input_shapes: ShapeOverrides::parse(&args.input_shapes)?,
        },
        per_layer: args.per_layer,
    })
}
