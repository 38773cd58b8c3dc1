//! Shared by the engine benches: fetched models and bare tract plans.

use std::path::Path;

use tract_onnx::prelude::*;
use vlab_harness::{ModelCapacity, ModelFile, ModelFormat};
use vlab_runtimes::tract::tflite_boundary;

/// A fetched model, or a panic saying how to fetch it.
pub fn model(name: &str) -> ModelFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name);
    ModelFile::read(&path, &ModelCapacity::host())
        .unwrap_or_else(|e| panic!("{}; run models/fetch.sh first", e.message()))
}

/// The same model as a bare tract plan, loaded the way the engine loads it,
/// with the inputs the session gets (quantised where the engine quantises).
pub fn bare_tract(model: &ModelFile, inputs: &[Vec<u8>]) -> (TypedSimpleState, TVec<TValue>) {
    let cut = tflite_boundary::cut(model.bytes()).filter(|_| model.format() == ModelFormat::Tflite);
    let graph = match model.format() {
        ModelFormat::Onnx => tract_onnx::onnx()
            .model_for_read(&mut model.bytes())
            .unwrap()
            .into_typed()
            .unwrap(),
        ModelFormat::Tflite => {
            let mut bytes = cut.as_ref().map_or(model.bytes(), |c| c.bytes.as_slice());
            tract_tflite::tflite().model_for_read(&mut bytes).unwrap()
        }
    };
    let plan = graph.into_optimized().unwrap().into_runnable().unwrap();
    let values = inputs
        .iter()
        .enumerate()
        .map(|(ix, bytes)| {
            let fact = plan.model().input_fact(ix).unwrap();
            let mut tensor =
                Tensor::zero_dt(fact.datum_type, fact.shape.as_concrete().unwrap()).unwrap();
            match cut.as_ref().and_then(|c| c.inputs[ix].as_ref()) {
                Some(boundary) => {
                    tflite_boundary::quantize_f32(boundary, bytes, tensor.as_bytes_mut())
                }
                None => tensor.as_bytes_mut().copy_from_slice(bytes),
            }
            tensor.into_tvalue()
        })
        .collect();
    (plan.spawn().unwrap(), values)
}
