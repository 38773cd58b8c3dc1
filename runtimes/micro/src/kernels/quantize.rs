//! QUANTIZE (float32 to int8/uint8, and int8 requantisation) and DEQUANTIZE
//! (int8/uint8 to float32), following TFLite's reference kernels.

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
        _ => None,
    }
}

/// Checks a QUANTIZE.
pub fn prepare_quantize(ctx: &PrepareCtx<'_, '_>) -> Result<QuantizeParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let r = range(out.dtype).ok_or(ctx.unsupported("output type other than int8 or uint8"))?;
    let q = out
        .quant
        .ok_or(ctx.invalid("output without quantisation parameters"))?;
    if input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output size must equal the input size"));
    }
    let requantize = match input.dtype {
        ElemType::F32 => None,
        ElemType::I8 | ElemType::U8 => {
            let qi = input
                .quant
                .ok_or(ctx.invalid("input without quantisation parameters"))?;
            let (m, s) = quantize_multiplier(f64::from(qi.scale) / f64::from(q.scale));
            Some((qi.zero_point, m, s))
        }
        _ => return Err(ctx.unsupported("input type other than float32, int8 or uint8")),
    };
    Ok(QuantizeParams {
        out: q,
        range: r,
        requantize,
    })
}

/// QUANTIZE.
pub fn eval_quantize(p: &QuantizeParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let signed_in = input.info.dtype == ElemType::I8;
    for i in 0..input.info.shape.elements() {
        let v = match p.requantize {
            None => (libm::roundf(f32_at(input.data, i) / p.out.scale) as i32)
                .saturating_add(p.out.zero_point),
            Some((in_zp, m, s)) => {
                let x = if signed_in {
                    i32::from(input.data[i] as i8)
                } else {
                    i32::from(input.data[i])
                };
                multiply_by_quantized_multiplier(x.wrapping_sub(in_zp), m, s)
                    .wrapping_add(p.out.zero_point)
            }
        };
        out.data[i] = v.clamp(p.range.0, p.range.1) as u8;
    }
    Ok(())
}

/// Checks a DEQUANTIZE.
pub fn prepare_dequantize(ctx: &PrepareCtx<'_, '_>) -> Result<QParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if out.dtype != ElemType::F32 || range(input.dtype).is_none() {
        return Err(ctx.unsupported("types other than int8 or uint8 to float32"));
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
    let signed = dtype == ElemType::I8;
    for (i, &b) in data.iter().enumerate().take(out.len() / 4) {
        let v = if signed {
            i32::from(b as i8)
        } else {
            i32::from(b)
        };
        put_f32(
            out,
            i,
            (f64::from(q.scale) * f64::from(v - q.zero_point)) as f32,
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
