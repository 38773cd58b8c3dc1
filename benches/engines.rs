//! Engine benches: tract inference of the fetched models through vlab's
//! engine seam, next to a bare loop of the same tract calls, so the cost of
//! the seam and of the harness's timed run can be read off as a ratio taken
//! in one run. Results: docs/performance.md.
//!
//! ```sh
//! models/fetch.sh && cargo bench -p vlab-runtimes --bench engines
//! ```

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use support::{bare_tract, model};
use vlab_harness::inputs::random_inputs;
use vlab_harness::{Engine, LoadOptions};
use vlab_runtimes::tract::Tract;

/// Models tract can run, with `--input-shape`-free inputs.
const MODELS: [&str; 4] = [
    "keyword_spotting.tflite",
    "tflite_micro_speech.tflite",
    "tiny_cnn.tflite",
    "light_squeezenet.onnx",
];

fn engines(c: &mut Criterion) {
    for name in MODELS {
        let model = model(name);
        let mut group = c.benchmark_group(name);
        let mut session = Tract.load(&model, &LoadOptions::default()).unwrap();
        let inputs = random_inputs(session.inputs(), &Default::default(), 0).unwrap();
        for (ix, bytes) in inputs.iter().enumerate() {
            session.set_input(ix, bytes).unwrap();
        }
        let (mut state, values) = bare_tract(&model, &inputs);
        group.bench_function("bare_tract_loop", |b| {
            b.iter(|| state.run(black_box(values.clone())).unwrap())
        });
        group.bench_function("vlab_session_run", |b| b.iter(|| session.run().unwrap()));
        // What the harness's measured loop does per inference: two clock reads
        // around the run and one stored sample.
        let mut samples = Vec::with_capacity(1 << 20);
        group.bench_function("vlab_timed_run", |b| {
            b.iter(|| {
                let start = Instant::now();
                session.run().unwrap();
                samples.push(start.elapsed().as_nanos() as u64);
            })
        });
        black_box(&samples);
        group.finish();
    }
}

criterion_group!(benches, engines);
criterion_main!(benches);
