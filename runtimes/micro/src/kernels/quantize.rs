//! QUANTIZE (float32 to int8/uint8/int16, and the int8/uint8/int16/int32
//! requantisations TFLite Micro takes) and DEQUANTIZE (int8/uint8/int16 to
//! float32), following TFLite's reference kernels.

use crate::error::Error;
use crate::kernels::{EvalCtx, Input, Op, Output, PrepareCtx, f32_at, put_f32};
use crate::model::{ElemType, QParams};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// A prepared QUANTIZE.
#[derive(Clone, Copy, Debug)]
pub struct QuantizeParams {
    out: QParams,
    range: (i32, i32),
    /// Input zero point, multiplier and shift when requantising int8.
    requantize: Option<(i32, i32, i32)>,
}

fn range(dtype: ElemType) -> Option<(i32, i32)> {
    match dtype {
        ElemType::I8 => Some((-128, 127)),
        ElemType::U8 => Some((0, 255)),
        ElemType::I16 => Some((-32768, 32767)),
        ElemType::I32 => Some((i32::MIN, i32::MAX)),
        _ => None,
    }
}

/// Checks a QUANTIZE.
pub fn prepare_quantize(ctx: &PrepareCtx<'_, '_>) -> Result<QuantizeParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let r = range(out.dtype)
        .ok_or(ctx.unsupported("output type other than int8, uint8, int16 or int32"))?;
    let q = out
        .quant
        .ok_or(ctx.invalid("output without quantisation parameters"))?;
    if input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output size must equal the input size"));
    }
    use ElemType::*;
    let requantize = match (input.dtype, out.dtype) {
        (F32, I8 | U8 | I16) => None,
        (I8, I8 | U8 | I16 | I32) | (U8, I8 | U8) | (I16, I8 | I16 | I32) | (I32, I8 | I16) => {
            let qi = input
                .quant
                .ok_or(ctx.invalid("input without quantisation parameters"))?;
            let (m, s) = quantize_multiplier(f64::from(qi.scale) / f64::from(q.scale));
            Some((qi.zero_point, m, s))
        }
        _ => return Err(ctx.unsupported(
            "type pair other than float32 to int8/uint8/int16, or int8/uint8/int16/int32 requantisation",
        )),
    };
    Ok(QuantizeParams {
        out: q,
        range: r,
        requantize,
    })
}

/// QUANTIZE.
pub fn eval_quantize(p: &QuantizeParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let (from, to) = (input.info.dtype, out.info.dtype);
    for i in 0..input.info.shape.elements() {
        let v = match p.requantize {
            None => (libm::roundf(f32_at(input.data, i) / p.out.scale) as i32)
                .saturating_add(p.out.zero_point),
            Some((in_zp, m, s)) => multiply_by_quantized_multiplier(
                int_at(from, input.data, i).wrapping_sub(in_zp),
                m,
                s,
            )
            .wrapping_add(p.out.zero_point),
        };
        put_int(to, out.data, i, v.clamp(p.range.0, p.range.1));
    }
    Ok(())
}

/// Integer element `i` of an int8, uint8, int16 or int32 tensor.
fn int_at(dtype: ElemType, b: &[u8], i: usize) -> i32 {
    match dtype {
        ElemType::I8 => i32::from(b[i] as i8),
        ElemType::I16 => i32::from(i16::from_le_bytes([b[2 * i], b[2 * i + 1]])),
        ElemType::I32 => crate::kernels::i32_at(b, i),
        _ => i32::from(b[i]),
    }
}

/// Stores `v` (already in range) as element `i` of an int8, uint8, int16
/// or int32 tensor.
fn put_int(dtype: ElemType, b: &mut [u8], i: usize, v: i32) {
    match dtype {
        ElemType::I16 => b[2 * i..2 * i + 2].copy_from_slice(&(v as i16).to_le_bytes()),
        ElemType::I32 => b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes()),
        _ => b[i] = v as u8,
    }
}

/// Checks a DEQUANTIZE.
pub fn prepare_dequantize(ctx: &PrepareCtx<'_, '_>) -> Result<QParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if out.dtype != ElemType::F32
        || !matches!(input.dtype, ElemType::I8 | ElemType::U8 | ElemType::I16)
    {
        return Err(ctx.unsupported("types other than int8, uint8 or int16 to float32"));
    }
    if input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output size must equal the input size"));
    }
    input
        .quant
        .ok_or(ctx.invalid("input without quantisation parameters"))
}

/// DEQUANTIZE.
pub fn eval_dequantize(q: &QParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    dequantize(q, input.info.dtype, input.data, out.data);
    Ok(())
}

/// Dequantizes int8 or uint8 `data` into float32 bytes `out`.
fn dequantize(q: &QParams, dtype: ElemType, data: &[u8], out: &mut [u8]) {
    let width = if dtype == ElemType::I16 { 2 } else { 1 };
    let n = (data.len() / width).min(out.len() / 4);
    for i in 0..n {
        let v = int_at(dtype, data, i);
        put_f32(
            out,
            i,
            (f64::from(q.scale) * f64::from(v.wrapping_sub(q.zero_point))) as f32,
        );
    }
}

/// Expands float16 `data` into float32 bytes `out`.
fn widen_f16(data: &[u8], out: &mut [u8]) {
    for (i, h) in data.chunks_exact(2).enumerate().take(out.len() / 4) {
        let v = half::f16::from_le_bytes([h[0], h[1]]).to_f32();
        put_f32(out, i, v);
    }
}

/// QUANTIZE.
pub struct Quantize;

impl Op for Quantize {
    type Params<'a> = QuantizeParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<QuantizeParams, Error> {
        prepare_quantize(ctx)
    }

    fn eval(p: &QuantizeParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_quantize(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// DEQUANTIZE. Of a constant (float16 weights, or quantised ones) it is
/// computed once, at prepare time: vlab-micro runs the float16-weight
/// models that TFLite Micro refuses.
pub struct Dequantize;

impl Op for Dequantize {
    type Params<'a> = QParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<QParams, Error> {
        let input = ctx.input(0)?;
        if input.dtype != ElemType::F16 {
            let q = prepare_dequantize(ctx)?;
            if let Some(data) = input.data {
                ctx.fold(|out| {
                    dequantize(&q, input.dtype, data, out);
                    Ok(())
                })?;
            }
            return Ok(q);
        }
        if ctx.output.dtype != ElemType::F32
            || input.shape.elements() != ctx.output.shape.elements()
        {
            return Err(ctx.invalid("float16 must dequantize to float32 of the same size"));
        }
        let data = input
            .data
            .ok_or(ctx.unsupported("float16 activations (only float16 constants are)"))?;
        ctx.fold(|out| {
            widen_f16(data, out);
            Ok(())
        })?;
        Ok(QParams::default())
    }

    fn eval(p: &QParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_dequantize(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}
