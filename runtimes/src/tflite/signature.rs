//! The inputs' `shape_signature` from the model's flatbuffer: TFLite keeps
//! a model's dynamic dimensions there (-1) and stores a placeholder size
//! (often 1) in `shape`, which is all its C API reports. The C API has no
//! call for the signature, so vlab reads it from subgraph 0 with
//! vlab-micro's bounds-checked flatbuffer reader.

use vlab_micro::error::Error;
use vlab_micro::flat::Table;

/// `Model.subgraphs` in TFLite's schema (field ids count from 0).
const MODEL_SUBGRAPHS: usize = 2;
/// `SubGraph.tensors`.
const SUBGRAPH_TENSORS: usize = 0;
/// `SubGraph.inputs`.
const SUBGRAPH_INPUTS: usize = 1;
/// `Tensor.shape_signature`.
const TENSOR_SHAPE_SIGNATURE: usize = 7;

/// Per model input, in model order: the declared dimensions with `None`
/// where the signature says -1, or `None` when the input has no signature
/// (its `shape` is then the whole truth). Empty when the flatbuffer cannot
/// be read this way; TensorFlow Lite reports such a model itself.
pub fn input_signatures(model: &[u8]) -> Vec<Option<Vec<Option<usize>>>> {
    read(model).unwrap_or_default()
}

fn read(model: &[u8]) -> Result<Vec<Option<Vec<Option<usize>>>>, Error> {
    let missing = || Error::Malformed("no subgraph 0 with tensors and inputs");
    let graph = Table::root(model)?
        .vector(MODEL_SUBGRAPHS, 4)?
        .ok_or_else(missing)?
        .table(0)?;
    let tensors = graph.vector(SUBGRAPH_TENSORS, 4)?.ok_or_else(missing)?;
    let inputs = graph.vector(SUBGRAPH_INPUTS, 4)?.ok_or_else(missing)?;
    (0..inputs.len())
        .map(|i| {
            let index = usize::try_from(inputs.i32(i)?)
                .map_err(|_| Error::Malformed("negative input tensor index"))?;
            let Some(signature) = tensors.table(index)?.vector(TENSOR_SHAPE_SIGNATURE, 4)? else {
                return Ok(None);
            };
            (0..signature.len())
                .map(|d| Ok(usize::try_from(signature.i32(d)?).ok()))
                .collect::<Result<Vec<_>, Error>>()
                .map(Some)
        })
        .collect()
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

    #[test]
    fn bytes_that_are_no_model_give_nothing() {
        assert!(input_signatures(b"not a flatbuffer").is_empty());
        assert!(input_signatures(&[]).is_empty());
    }
}
