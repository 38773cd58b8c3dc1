//! The inputs' `shape_signature` from the model's flatbuffer: TFLite keeps
//! a model's dynamic dimensions there (-1) and stores a placeholder size
//! (often 1) in `shape`, which is all its C API reports. The C API has no
//! call for the signature, so vlab reads it from subgraph 0 with the
//! flatbuffer schema tract-tflite generates, which vlab already links.

use tract_tflite::tflite;

/// Per model input, in model order: the declared dimensions with `None`
/// where the signature says -1, or `None` when the input has no signature
/// (its `shape` is then the whole truth). Empty when the flatbuffer cannot
/// be read this way; TensorFlow Lite reports such a model itself.
pub fn input_signatures(model: &[u8]) -> Vec<Option<Vec<Option<usize>>>> {
    let read =
        || -> Option<Vec<Option<Vec<Option<usize>>>>> {
            let model = tflite::root_as_model(model).ok()?;
            let graph = model.subgraphs()?.get(0);
            let tensors = graph.tensors()?;
            let inputs = graph.inputs()?;
            inputs
                .iter()
                .map(|index| {
                    let tensor = tensors.get(usize::try_from(index).ok()?);
                    Some(tensor.shape_signature().map(|signature| {
                        signature.iter().map(|d| usize::try_from(d).ok()).collect()
                    }))
                })
                .collect()
        };
    read().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dynamic_dimensions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/models/dynamic_relu_f32.tflite"
        );
        let model = std::fs::read(path).unwrap();
        assert_eq!(input_signatures(&model), vec![Some(vec![None, None])]);
        let fixed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/goldens/ops/relu_f32.tflite"
        ))
        .unwrap();
        assert_eq!(input_signatures(&fixed), vec![None]);
    }
}
