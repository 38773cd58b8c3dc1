//! Activations: LEAKY_RELU (float32, int8, int16), HARD_SWISH (float32,
//! int8) and ELU (float32, int8 by a lookup table), following TFLite
//! Micro's leaky_relu.cc, hard_swish.cc and elu.cc.

use crate::error::Error;
use crate::kernels::elementwise;
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;
use crate::opcode::Opcode;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot};

/// Checks the one input and output of an activation: same type and size.
fn check_unary(
    ctx: &PrepareCtx<'_, '_>,
    types: &[ElemType],
    what: &'static str,
) -> Result<ElemType, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if ctx.input_count() != 1 || ctx.output_count() != 1 {
        return Err(ctx.invalid("takes one input and one output"));
    }
    if input.dtype != out.dtype || input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output must match the input's type and size"));
    }
    if !types.contains(&input.dtype) {
        return Err(ctx.unsupported(what));
    }
    if input.dtype != ElemType::F32 && (input.quant.is_none() || out.quant.is_none()) {
        return Err(ctx.invalid("quantised tensors without quantisation parameters"));
    }
    Ok(input.dtype)
}

/// A prepared LEAKY_RELU.
#[derive(Clone, Copy, Debug)]
pub struct LeakyReluParams {
    dtype: ElemType,
    alpha: f32,
    in_zp: i32,
    out_zp: i32,
    identity: (i32, i32),
    alpha_q: (i32, i32),
}

/// LEAKY_RELU.
pub struct LeakyRelu;

impl Op for LeakyRelu {
    type Params<'a> = LeakyReluParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<LeakyReluParams, Error> {
        let dtype = check_unary(
            ctx,
            &[ElemType::F32, ElemType::I8, ElemType::I16],
            "types other than float32, int8 or int16",
        )?;
        let alpha = ctx.op.options()?.map_or(Ok(0.0), |o| o.f32(0, 0.0))?;
        let mut p = LeakyReluParams {
            dtype,
            alpha,
            in_zp: 0,
            out_zp: 0,
            identity: (0, 0),
            alpha_q: (0, 0),
        };
        if let (Some(qi), Some(qo)) = (ctx.input(0)?.quant, ctx.output.quant) {
            p.in_zp = qi.zero_point;
            p.out_zp = qo.zero_point;
            p.alpha_q = quantize_multiplier(f64::from(qi.scale * alpha / qo.scale));
            p.identity = quantize_multiplier(f64::from(qi.scale / qo.scale));
        }
        Ok(p)
    }

    fn eval(p: &LeakyReluParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.shape.elements();
        let (x, y) = (input.data, out.data);
        let negative = p.alpha_q.0 < 0;
        let safe_alpha = p.alpha_q.0.wrapping_abs();
        let quantised = |v: i32| {
            let v = v.wrapping_sub(p.in_zp);
            let scaled = if v >= 0 {
                multiply_by_quantized_multiplier(v, p.identity.0, p.identity.1)
            } else {
                let s = multiply_by_quantized_multiplier(v, safe_alpha, p.alpha_q.1);
                if negative { s.wrapping_neg() } else { s }
            };
            p.out_zp.wrapping_add(scaled)
        };
        match p.dtype {
            ElemType::F32 => {
                for i in 0..n {
                    let v = f32_at(x, i);
                    put_f32(y, i, if v > 0.0 { v } else { v * p.alpha });
                }
            }
            ElemType::I8 => {
                for i in 0..n {
                    y[i] = quantised(i32::from(x[i] as i8)).clamp(-128, 127) as i8 as u8;
                }
            }
            _ => {
                for i in 0..n {
                    let v = i16::from_le_bytes([x[2 * i], x[2 * i + 1]]);
                    let r = quantised(i32::from(v)).clamp(-32768, 32767) as i16;
                    y[2 * i..2 * i + 2].copy_from_slice(&r.to_le_bytes());
                }
            }
        }
        Ok(())
    }
}

/// A prepared HARD_SWISH.
#[derive(Clone, Copy, Debug)]
pub struct HardSwishParams {
    dtype: ElemType,
    in_zp: i32,
    out_zp: i32,
    out_multiplier: i16,
    out_exponent: i32,
    reluish_multiplier: i16,
    reluish_exponent: i32,
}

/// TFLite's `DownScaleInt32ToInt16Multiplier`.
fn down_scale_multiplier(m: i32) -> i16 {
    const ROUNDING: i32 = 1 << 15;
    if m >= i32::MAX - ROUNDING {
        i16::MAX
    } else {
        (m.wrapping_add(ROUNDING) >> 16) as i16
    }
}

/// gemmlowp's 16-bit `SaturatingRoundingDoublingHighMul`.
fn srdhm16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    let ab = i32::from(a) * i32::from(b);
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// TFLite's 16-bit `SaturatingDoublingHighMul` (truncating).
fn sdhm16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    ((i32::from(a) * i32::from(b)) / (1 << 15)) as i16
}

/// TFLite's 16-bit `SaturatingLeftShift`.
fn saturating_left_shift16(v: i16, amount: i32) -> i16 {
    let r = i64::from(v) * (1i64 << amount.clamp(0, 31));
    r.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// gemmlowp's `RoundingDivideByPOT` on 16 bits.
fn rdbp16(v: i16, exponent: i32) -> i16 {
    rounding_divide_by_pot(i32::from(v), exponent.min(15)) as i16
}

/// HARD_SWISH.
pub struct HardSwish;

impl Op for HardSwish {
    type Params<'a> = HardSwishParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<HardSwishParams, Error> {
        let dtype = check_unary(
            ctx,
            &[ElemType::F32, ElemType::I8],
            "types other than float32 or int8",
        )?;
        let mut p = HardSwishParams {
            dtype,
            in_zp: 0,
            out_zp: 0,
            out_multiplier: 0,
            out_exponent: 0,
            reluish_multiplier: 0,
            reluish_exponent: 0,
        };
        if let (ElemType::I8, Some(qi), Some(qo)) = (dtype, ctx.input(0)?.quant, ctx.output.quant) {
            p.in_zp = qi.zero_point;
            p.out_zp = qo.zero_point;
            let hires = (1.0f32 / 128.0) * qi.scale;
            let reluish_scale = 3.0f32 / 32768.0;
            let (m, e) = quantize_multiplier(f64::from(hires / qo.scale));
            if m < 0 || e > 0 {
                return Err(
                    ctx.unsupported("int8 HARD_SWISH with output scale below input scale / 128")
                );
            }
            p.out_multiplier = down_scale_multiplier(m);
            p.out_exponent = e;
            let (m, e) = quantize_multiplier(f64::from(hires / reluish_scale));
            if m < 0 {
                return Err(ctx.invalid("negative scale"));
            }
            p.reluish_multiplier = down_scale_multiplier(m);
            p.reluish_exponent = e;
        }
        Ok(p)
    }

    fn eval(p: &HardSwishParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.shape.elements();
        let (x, y) = (input.data, out.data);
        if p.dtype == ElemType::F32 {
            for i in 0..n {
                let v = f32_at(x, i);
                // std::min(6, std::max(0, v + 3)) with TFLite's operand order.
                let lo = if 0.0 < v + 3.0 { v + 3.0 } else { 0.0 };
                let r = if lo < 6.0 { lo } else { 6.0 };
                put_f32(y, i, v * r / 6.0);
            }
            return Ok(());
        }
        for i in 0..n {
            let input_value = (i32::from(x[i] as i8).wrapping_sub(p.in_zp)) as i16;
            let hires = input_value.wrapping_mul(1 << 7);
            let preshift = srdhm16(hires, p.out_multiplier);
            let mut reluish = hires;
            if p.reluish_exponent > 0 {
                reluish = saturating_left_shift16(reluish, p.reluish_exponent - 1);
            }
            reluish = srdhm16(reluish, p.reluish_multiplier);
            if p.reluish_exponent > 0 {
                reluish = saturating_left_shift16(reluish, 1);
            }
            if p.reluish_exponent < 0 {
                reluish = rdbp16(reluish, -p.reluish_exponent);
            }
            let reluish = ((i32::from(reluish) + (1 << 15)) >> 1) as i16;
            let pre_out = sdhm16(reluish, preshift);
            let v = rdbp16(pre_out, -p.out_exponent).wrapping_add(p.out_zp as i16);
            y[i] = v.clamp(-128, 127) as i8 as u8;
        }
        Ok(())
    }
}

/// A prepared ELU: the int8 lookup table.
#[derive(Clone, Copy, Debug)]
pub struct EluParams<'a> {
    table: &'a [i8],
}

/// ELU.
pub struct Elu;

impl Op for Elu {
    type Params<'a> = EluParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<EluParams<'a>, Error> {
        let dtype = check_unary(
            ctx,
            &[ElemType::F32, ElemType::I8],
            "types other than float32 or int8",
        )?;
        let mut table: &'a [i8] = &[];
        if let (ElemType::I8, Some(qi), Some(qo)) = (dtype, ctx.input(0)?.quant, ctx.output.quant) {
            let inverse_scale = 1.0 / qo.scale;
            table = ctx.persist(256, |k| {
                // Entry k is for the int8 value whose byte is k.
                let val = i32::from(k as u8 as i8);
                let dequantized = qi.scale * (val.wrapping_sub(qi.zero_point)) as f32;
                let transformed = if dequantized < 0.0 {
                    libm::expf(dequantized) - 1.0
                } else {
                    dequantized
                };
                let rescaled = libm::roundf(transformed * inverse_scale);
                let quantized = (rescaled + qo.zero_point as f32) as i32;
                quantized.clamp(-128, 127) as i8
            })?;
        }
        Ok(EluParams { table })
    }

    fn eval(p: &EluParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.shape.elements();
        let (x, y) = (input.data, out.data);
        if input.info.dtype == ElemType::F32 {
            for i in 0..n {
                let v = f32_at(x, i);
                put_f32(y, i, if v < 0.0 { libm::expm1f(v) } else { v });
            }
            return Ok(());
        }
        if p.table.len() != 256 {
            return Err(Error::Usage("ELU lookup table missing"));
        }
        for i in 0..n {
            y[i] = p.table[usize::from(x[i])] as u8;
        }
        Ok(())
    }
}

/// A prepared RELU or RELU6: int16 here, float32 and int8 in
/// [`elementwise::Unary`].
#[derive(Clone, Copy, Debug)]
pub enum ReluParams {
    /// float32 or int8.
    Other(elementwise::UnaryParams),
    /// int16 RELU: input zero point, output zero point, multiplier, shift
    /// and the output bounds.
    Relu16(i32, i32, i32, i32, (i32, i32)),
    /// int16 RELU6: clamp to the input's zero and six.
    Relu6_16(i32, i32),
}

/// RELU and RELU6 of float32, int8 and int16.
pub struct Relu;

impl Op for Relu {
    type Params<'a> = ReluParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ReluParams, Error> {
        let input = ctx.input(0)?;
        if input.dtype != ElemType::I16 {
            return elementwise::prepare_unary(ctx).map(ReluParams::Other);
        }
        check_unary(ctx, &[ElemType::I16], "int16")?;
        let (Some(qi), Some(qo)) = (input.quant, ctx.output.quant) else {
            return Err(ctx.invalid("int16 tensors without quantisation parameters"));
        };
        if ctx.op.opcode == Opcode::RELU6 {
            let six = libm::roundf(6.0 / qi.scale) as i32;
            let six = six.saturating_add(qi.zero_point).clamp(-32768, 32767);
            return Ok(ReluParams::Relu6_16(qi.zero_point, six));
        }
        if qi.zero_point != 0 || qo.zero_point != 0 {
            return Err(ctx.invalid("int16 RELU zero points must be 0"));
        }
        let (m, s) = quantize_multiplier(f64::from(qi.scale / qo.scale));
        let min = qo
            .zero_point
            .saturating_add(libm::roundf(0.0 / qo.scale) as i32)
            .max(-32768);
        Ok(ReluParams::Relu16(
            qi.zero_point,
            qo.zero_point,
            m,
            s,
            (min, 32767),
        ))
    }

    fn eval(p: &ReluParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (f, bounds): (&dyn Fn(i32) -> i32, (i32, i32)) = match p {
            ReluParams::Other(u) => {
                return elementwise::eval_unary(u, ctx.inputs.get(0)?, ctx.outputs.get(0)?);
            }
            &ReluParams::Relu16(in_zp, out_zp, m, s, bounds) => (
                &move |v: i32| {
                    out_zp.wrapping_add(multiply_by_quantized_multiplier(
                        v.wrapping_sub(in_zp),
                        m,
                        s,
                    ))
                },
                bounds,
            ),
            &ReluParams::Relu6_16(zero, six) => (&|v: i32| v, (zero, six)),
        };
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (x, y) = (input.data, out.data);
        for i in 0..input.info.shape.elements() {
            let v = i32::from(i16::from_le_bytes([x[2 * i], x[2 * i + 1]]));
            // max then min, as TFLite Micro does (bounds may cross).
            let r = f(v).max(bounds.0).min(bounds.1) as i16;
            y[2 * i..2 * i + 2].copy_from_slice(&r.to_le_bytes());
        }
        Ok(())
    }
}
