//! vlab's own cost per timed inference, in nanoseconds, on the engines
//! users deploy: a one-operator model, so the engine's work is tiny and
//! what vlab adds around it shows.
//!
//! For each engine, rounds alternate between
//! - a batch: `Session::run` called `PER_ROUND` times between two clock
//!   reads, divided by `PER_ROUND` (no clock read per inference), and
//! - vlab's measured loop (`vlab_harness::measure`, what `vlab bench` runs)
//!   over `PER_ROUND` timed inferences,
//!
//! and the difference of their medians is the harness's overhead per
//! inference (two clock reads, the engine seam, the stored sample, the
//! observer call). The last row runs the loop as `vlab bench` runs
//! TensorFlow Lite: in a supervised engine worker (this bench binary
//! re-executed as one), timed inside the worker. Results:
//! docs/performance.md.
//!
//! ```sh
//! scripts/setup.sh && cargo bench -p vlab-runtimes --bench seam_overhead [-- ROUNDS PER_ROUND]
//! ```

#![allow(missing_docs, clippy::unwrap_used)]

use std::io::sink;
use std::path::Path;
use std::time::Instant;

use vlab_harness::inputs::random_inputs;
use vlab_harness::isolation::{Isolated, serve};
use vlab_harness::{
    BenchmarkSpec, Engine, EngineOptions, InProcess, LoadOptions, ModelCapacity, ModelFile,
    OptionSource, OptionValue, Statistics, Target, Workload,
};

/// The argument that makes this binary an engine worker.
const WORKER: &str = "engine-worker";

fn main() {
    if std::env::args().nth(1).as_deref() == Some(WORKER) {
        serve(vlab_runtimes::engine).unwrap();
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds: usize = args.first().map_or(30, |a| a.parse().unwrap());
    let per_round: usize = args.get(1).map_or(2000, |a| a.parse().unwrap());
    let model = ModelFile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/goldens/ops/relu_f32.tflite"),
        &ModelCapacity::host(),
    )
    .unwrap();
    println!(
        "model {} (one RELU on 1x4x4x3 float32): {rounds} rounds of {per_round} inferences each way",
        model.file_name()
    );
    println!("| engine | batch median per inference | measure() median | overhead per inference |");
    println!("|---|---|---|---|");
    let tflite_reference =
        EngineOptions::default().with("xnnpack", OptionValue::Switch(false), OptionSource::Code);
    let worker = std::env::current_exe().unwrap();
    let engines: [(&dyn Engine, &str, EngineOptions, bool); 4] = [
        (
            &vlab_runtimes::tflite::Tflite,
            "tflite (XNNPACK off)",
            tflite_reference.clone(),
            false,
        ),
        (
            &vlab_runtimes::tflite::Tflite,
            "tflite (XNNPACK on)",
            EngineOptions::default(),
            false,
        ),
        (
            &vlab_runtimes::micro::Micro,
            "micro",
            EngineOptions::default(),
            false,
        ),
        (
            &vlab_runtimes::tflite::Tflite,
            "tflite (XNNPACK off), engine worker",
            tflite_reference,
            true,
        ),
    ];
    for (engine, label, options, isolated) in engines {
        let target: Box<dyn Target> = if isolated {
            Box::new(Isolated::new(engine, worker.clone(), [WORKER]))
        } else {
            Box::new(InProcess(engine))
        };
        let load = LoadOptions {
            engine: options,
            ..LoadOptions::default()
        };
        let mut session = engine.load(&model, &load).unwrap();
        for (i, bytes) in random_inputs(session.inputs(), &Default::default(), 0)
            .unwrap()
            .iter()
            .enumerate()
        {
            session.set_input(i, bytes).unwrap();
        }
        let spec = BenchmarkSpec {
            warmup: 10,
            load,
            workload: Workload::Random {
                seed: 0,
                iterations: per_round,
            },
            ..BenchmarkSpec::random(model.path(), per_round)
        };
        let (mut batch, mut harness) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for _ in 0..10 {
                session.run().unwrap();
            }
            let start = Instant::now();
            for _ in 0..per_round {
                session.run().unwrap();
            }
            batch.push(start.elapsed().as_nanos() as u64 / per_round as u64);
            harness.extend(
                target
                    .measure(Some(&model), &spec, &mut (), &mut sink())
                    .unwrap()
                    .samples_ns,
            );
        }
        let (b, h) = (
            Statistics::from_samples(&batch).unwrap(),
            Statistics::from_samples(&harness).unwrap(),
        );
        println!(
            "| {label} | {:.0} ns | {:.0} ns | {:+.0} ns |",
            b.median,
            h.median,
            h.median - b.median
        );
    }
}
