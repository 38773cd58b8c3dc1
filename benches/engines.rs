//! Engine benches: tract inference of the fetched models through vlab's
//! engine seam, next to a bare loop of the same tract calls, so the cost of
//! the seam and of the harness's timed run can be read off as a ratio taken
//! in one run. Results: docs/performance.md.
//!
//! ```sh
//! models/fetch.sh && cargo bench -p vlab-runtimes --bench engines
//! ```

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use tract_onnx::prelude::*;
use vlab_harness::inputs::random_inputs;
use vlab_harness::{Engine, LoadOptions, ModelFile, ModelFormat, Session};
use vlab_runtimes::tract::{Tract, tflite_boundary};

/// Models tract can run, with `--input-shape`-free inputs.
const MODELS: [&str; 4] =
    ["keyword_spotting.tflite", "tflite_micro_speech.tflite", "tiny_cnn.tflite", "light_squeezenet.onnx"];

fn model(name: &str) -> ModelFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
    ModelFile::read(&path).unwrap_or_else(|e| panic!("{}; run models/fetch.sh first", e.message()))
}

/// The same model as a bare tract plan, loaded the way the engine loads it,
/// with zero inputs of the plan's own types.
fn bare_tract(model: &ModelFile) -> (TypedSimpleState, TVec<TValue>) {
    let graph = match model.format() {
        ModelFormat::Onnx => tract_onnx::onnx().model_for_read(&mut model.bytes()).unwrap().into_typed().unwrap(),
        ModelFormat::Tflite => {
            let cut = tflite_boundary::cut(model.bytes());
            let mut bytes = cut.as_ref().map_or(model.bytes(), |c| c.bytes.as_slice());
            tract_tflite::tflite().model_for_read(&mut bytes).unwrap()
        }
    };
    let plan = graph.into_optimized().unwrap().into_runnable().unwrap();
    let inputs = (0..plan.model().inputs.len())
        .map(|ix| {
            let fact = plan.model().input_fact(ix).unwrap();
            Tensor::zero_dt(fact.datum_type, fact.shape.as_concrete().unwrap()).unwrap().into_tvalue()
        })
        .collect();
    (plan.spawn().unwrap(), inputs)
}

fn vlab_session(model: &ModelFile) -> Box<dyn Session> {
    let mut session = Tract.load(model, &LoadOptions::default()).unwrap();
    for (ix, bytes) in random_inputs(session.inputs(), 0).unwrap().iter().enumerate() {
        session.set_input(ix, bytes).unwrap();
    }
    session
}

fn engines(c: &mut Criterion) {
    for name in MODELS {
        let model = model(name);
        let mut group = c.benchmark_group(name);
        let (mut state, inputs) = bare_tract(&model);
        group.bench_function("bare_tract_loop", |b| b.iter(|| state.run(black_box(inputs.clone())).unwrap()));
        let mut session = vlab_session(&model);
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
