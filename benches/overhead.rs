//! The harness's overhead on per-inference latency: the median of vlab's
//! measured loop (`vlab_harness::measure`, exactly what `vlab bench` runs)
//! against the median of a bare, individually timed loop of the same tract
//! calls on the same inputs. The two alternate in short rounds so that drift
//! of a shared machine's speed hits both alike. Results: docs/performance.md.
//!
//! ```sh
//! models/fetch.sh && cargo bench -p vlab-runtimes --bench overhead [-- MODEL ROUNDS PER_ROUND]
//! ```

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::sink;
use std::time::Instant;

use support::{bare_tract, model};
use vlab_harness::inputs::random_inputs;
use vlab_harness::{BenchmarkSpec, Engine, HostRunner, LoadOptions, Statistics, Workload, measure};
use vlab_runtimes::tract::Tract;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let name = args
        .first()
        .map_or("keyword_spotting.tflite", String::as_str);
    let rounds: usize = args.get(1).map_or(30, |a| a.parse().unwrap());
    let per_round: usize = args.get(2).map_or(20, |a| a.parse().unwrap());
    let model = model(name);

    let session = Tract.load(&model, &LoadOptions::default()).unwrap();
    let inputs = random_inputs(session.inputs(), &Default::default(), 0).unwrap();
    let (mut state, values) = bare_tract(&model, &inputs);
    let spec = BenchmarkSpec {
        warmup: 2,
        per_layer: false,
        workload: Workload::Random {
            seed: 0,
            iterations: per_round,
        },
        ..BenchmarkSpec::random(model.path(), per_round)
    };

    let (mut bare, mut harness) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for _ in 0..2 {
            state.run(values.clone()).unwrap();
        }
        for _ in 0..per_round {
            let start = Instant::now();
            state.run(values.clone()).unwrap();
            bare.push(start.elapsed().as_nanos() as u64);
        }
        harness.extend(
            measure(
                &mut HostRunner::new(&Tract).unwrap(),
                Some(&model),
                &spec,
                &mut (),
                &mut sink(),
            )
            .unwrap()
            .samples_ns,
        );
    }
    let (b, h) = (
        Statistics::from_samples(&bare).unwrap(),
        Statistics::from_samples(&harness).unwrap(),
    );
    println!("model {name}: {rounds} rounds of {per_round} inferences each way");
    println!(
        "bare tract loop  median {:.3} ms  mean {:.3} ms",
        b.median / 1e6,
        b.mean / 1e6
    );
    println!(
        "vlab measure()   median {:.3} ms  mean {:.3} ms",
        h.median / 1e6,
        h.mean / 1e6
    );
    println!(
        "harness overhead on the median: {:+.2}%",
        (h.median / b.median - 1.0) * 100.0
    );
}
