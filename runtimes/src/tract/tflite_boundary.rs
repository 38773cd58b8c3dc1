//! Float boundaries of fully quantised TFLite models, for tract.
//!
//! Fully quantised TFLite models often take float inputs and give float
//! outputs: the first operators QUANTIZE each float input to int8 or uint8
//! and the last operators DEQUANTIZE the results. tract-tflite 0.23 has no
//! QUANTIZE or DEQUANTIZE operator, so it refuses these models although it
//! runs their quantised core. This module cuts those boundary operators out
//! of a copy of the flatbuffer, so tract loads only the core, and tells the
//! session which inputs and outputs to (de)quantise itself, with TFLite's
//! reference arithmetic (see [`quantize_f32`] and [`dequantize`]).
//!
//! The cut edits the copy in place instead of re-serialising: the model's
//! `inputs` and `outputs` vectors are pointed at the quantised tensors, and
//! the `operators` vector is narrowed by moving its start past the leading
//! operators and shortening its length past the trailing ones. Every other
//! byte is untouched, so tensors, buffers and offsets stay valid. No
//! maintained crate re-serialises TFLite models from Rust.

use tract_tflite::tflite::{self, BuiltinOperator, TensorType};
use vlab_harness::{DType, Quantization};

/// A quantisation the session performs at a model boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Name of the float tensor the model declares at this boundary.
    pub float_name: String,
    /// The quantised tensor's storage type (int8 or uint8).
    pub dtype: DType,
    /// Its quantisation parameters.
    pub quantization: Quantization,
}

/// A TFLite model with its float boundary operators cut out.
#[derive(Debug, Clone)]
pub struct CutModel {
    /// The edited flatbuffer.
    pub bytes: Vec<u8>,
    /// Per model input: the quantisation to apply before tract runs, or
    /// `None` where the input goes to tract unchanged.
    pub inputs: Vec<Option<Boundary>>,
    /// Per model output: the dequantisation to apply after tract runs, or
    /// `None` where tract's output is used unchanged.
    pub outputs: Vec<Option<Boundary>>,
}

/// Cuts leading QUANTIZE and trailing DEQUANTIZE operators at the float
/// boundaries of subgraph 0. Returns `None` when there are none, or when the
/// model is not a valid flatbuffer (tract then reports the problem).
pub fn cut(bytes: &[u8]) -> Option<CutModel> {
    let model = tflite::root_as_model(bytes).ok()?;
    let graph = model.subgraphs()?.get(0);
    let (ops, opcodes, tensors) = (
        graph.operators()?,
        model.operator_codes()?,
        graph.tensors()?,
    );
    let (graph_inputs, graph_outputs) = (graph.inputs()?, graph.outputs()?);

    // (builtin operator, input tensor, output tensor) of a one-in, one-out operator.
    let unary = |i: usize| -> Option<(BuiltinOperator, i32, i32)> {
        let op = ops.get(i);
        let index = usize::try_from(op.opcode_index())
            .ok()
            .filter(|&x| x < opcodes.len())?;
        let code = opcodes.get(index);
        let builtin = BuiltinOperator(
            code.builtin_code()
                .0
                .max(i32::from(code.deprecated_builtin_code())),
        );
        let (ins, outs) = (op.inputs()?, op.outputs()?);
        (ins.len() == 1 && outs.len() == 1).then(|| (builtin, ins.get(0), outs.get(0)))
    };
    let consumers = |tensor: i32| {
        ops.iter()
            .filter(|op| op.inputs().is_some_and(|v| v.iter().any(|t| t == tensor)))
            .count()
    };
    let tensor = |index: i32| {
        usize::try_from(index)
            .ok()
            .filter(|&i| i < tensors.len())
            .map(|i| tensors.get(i))
    };
    let is_float = |index: i32| tensor(index).is_some_and(|t| t.type_() == TensorType::FLOAT32);
    // The boundary between float tensor `float` and quantised tensor `quantised`.
    let boundary = |float: i32, quantised: i32| -> Option<Boundary> {
        let t = tensor(quantised)?;
        let dtype = match t.type_() {
            TensorType::INT8 => DType::Int8,
            TensorType::UINT8 => DType::Uint8,
            _ => return None,
        };
        let q = t.quantization()?;
        let (scale, zero_point) = (q.scale()?, q.zero_point()?);
        if scale.len() != 1 || zero_point.len() != 1 {
            return None;
        }
        Some(Boundary {
            float_name: tensor(float)?.name().unwrap_or_default().to_owned(),
            dtype,
            quantization: Quantization {
                scale: scale.get(0),
                zero_point: i32::try_from(zero_point.get(0)).ok()?,
            },
        })
    };

    let mut inputs: Vec<Option<Boundary>> = vec![None; graph_inputs.len()];
    let mut new_inputs: Vec<i32> = graph_inputs.iter().collect();
    let mut lead = 0;
    while lead < ops.len() {
        let Some((BuiltinOperator::QUANTIZE, from, to)) = unary(lead) else {
            break;
        };
        let Some(pos) = graph_inputs.iter().position(|t| t == from) else {
            break;
        };
        if !is_float(from) || consumers(from) != 1 || inputs[pos].is_some() {
            break;
        }
        let Some(b) = boundary(from, to) else { break };
        inputs[pos] = Some(b);
        new_inputs[pos] = to;
        lead += 1;
    }

    let mut outputs: Vec<Option<Boundary>> = vec![None; graph_outputs.len()];
    let mut new_outputs: Vec<i32> = graph_outputs.iter().collect();
    let mut trail = 0;
    while lead + trail < ops.len() {
        let Some((BuiltinOperator::DEQUANTIZE, from, to)) = unary(ops.len() - 1 - trail) else {
            break;
        };
        let Some(pos) = graph_outputs.iter().position(|t| t == to) else {
            break;
        };
        if !is_float(to) || consumers(to) != 0 || outputs[pos].is_some() {
            break;
        }
        let Some(b) = boundary(to, from) else { break };
        outputs[pos] = Some(b);
        new_outputs[pos] = from;
        trail += 1;
    }
    if lead == 0 && trail == 0 {
        return None;
    }

    let mut out = bytes.to_vec();
    write_words(
        &mut out,
        offset_in(bytes, graph_inputs.bytes())?,
        new_inputs.iter().map(|&t| t as u32),
    );
    write_words(
        &mut out,
        offset_in(bytes, graph_outputs.bytes())?,
        new_outputs.iter().map(|&t| t as u32),
    );
    // The `operators` field holds an offset, relative to the field itself, to
    // the vector's length word; the elements follow that word.
    let field =
        graph._tab.loc() + usize::from(graph._tab.vtable().get(tflite::SubGraph::VT_OPERATORS));
    let new_start = offset_in(bytes, ops.bytes())? - 4 + 4 * lead;
    let kept = u32::try_from(ops.len() - lead - trail).ok()?;
    write_words(&mut out, new_start, [kept]);
    write_words(
        &mut out,
        field,
        [u32::try_from(new_start.checked_sub(field)?).ok()?],
    );
    Some(CutModel {
        bytes: out,
        inputs,
        outputs,
    })
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)
}

/// Writes little-endian 32-bit words from byte offset `at`.
fn write_words(buf: &mut [u8], at: usize, words: impl IntoIterator<Item = u32>) {
    for (i, w) in words.into_iter().enumerate() {
        buf[at + 4 * i..at + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
}

/// TFLite's reference QUANTIZE of little-endian f32 bytes into int8 or
/// uint8: `clamp(round(x / scale) + zero_point)`, rounding half away from zero.
pub fn quantize_f32(b: &Boundary, floats: &[u8], out: &mut [u8]) {
    let (lo, hi) = match b.dtype {
        DType::Int8 => (-128, 127),
        _ => (0, 255),
    };
    for (q, x) in out.iter_mut().zip(floats.chunks_exact(4)) {
        let x = f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
        let v = ((x / b.quantization.scale).round() as i32)
            .saturating_add(b.quantization.zero_point)
            .clamp(lo, hi);
        *q = v as u8;
    }
}

/// TFLite's reference DEQUANTIZE of int8 or uint8 bytes into little-endian
/// f32 bytes: `scale * (q - zero_point)`.
pub fn dequantize(b: &Boundary, quantised: &[u8], out: &mut Vec<u8>) {
    out.clear();
    for &q in quantised {
        let q = match b.dtype {
            DType::Int8 => i32::from(q as i8),
            _ => i32::from(q),
        };
        let x = b.quantization.scale * (q - b.quantization.zero_point) as f32;
        out.extend_from_slice(&x.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int8(scale: f32, zero_point: i32) -> Boundary {
        Boundary {
            float_name: "x".into(),
            dtype: DType::Int8,
            quantization: Quantization { scale, zero_point },
        }
    }

    #[test]
    fn quantize_rounds_half_away_from_zero_and_clamps() {
        let floats: Vec<u8> = [0.25f32, -0.25, 1.0, 1000.0, -1000.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let mut out = [0u8; 5];
        quantize_f32(&int8(0.5, 10), &floats, &mut out);
        assert_eq!(out.map(|q| q as i8), [11, 9, 12, 127, -128]);
    }

    #[test]
    fn dequantize_applies_scale_and_zero_point() {
        let mut out = Vec::new();
        dequantize(&int8(0.5, -128), &[0x80, 0x7f], &mut out);
        let values: Vec<f32> = out
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(values, [0.0, 127.5]);
    }

    #[test]
    fn garbage_is_not_cut() {
        assert!(cut(b"not a flatbuffer at all").is_none());
    }
}
