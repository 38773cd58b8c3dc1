//! L2_NORMALIZATION and LOG_SOFTMAX (float32 and int8) along the last axis,
//! following TFLite Micro's l2norm.cc and log_softmax.cc and the reference
//! kernels they use.

use crate::error::Error;
use crate::kernels::unary_math::inv_sqrt_multiplier_exp;
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;
use crate::quant::{
    Fixed, exp_on_negative_values, multiply_by_quantized_multiplier,
    one_over_one_plus_x_for_x_in_0_1, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_multiply_by_pot,
};

/// Checks a last-axis operator: same type and shape, float32 or int8, and
/// returns (outer size, depth).
fn check(ctx: &PrepareCtx<'_, '_>) -> Result<(ElemType, usize, usize), Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if ctx.input_count() != 1 || ctx.output_count() != 1 {
        return Err(ctx.invalid("takes one input and one output"));
    }
    if input.dtype != out.dtype || input.shape != out.shape {
        return Err(ctx.invalid("output must match the input's type and shape"));
    }
    if !matches!(input.dtype, ElemType::F32 | ElemType::I8) {
        return Err(ctx.unsupported("types other than float32 or int8"));
    }
    if input.dtype == ElemType::I8 && (input.quant.is_none() || out.quant.is_none()) {
        return Err(ctx.invalid("int8 tensors without quantisation parameters"));
    }
    let dims = input.shape.dims();
    let depth = *dims.last().ok_or(ctx.invalid("scalar input"))?;
    let outer = input.shape.elements().checked_div(depth).unwrap_or(0);
    Ok((input.dtype, outer, depth))
}

/// A prepared L2_NORMALIZATION.
#[derive(Clone, Copy, Debug)]
pub struct L2NormParams {
    dtype: ElemType,
    outer: usize,
    depth: usize,
    zero_point: i32,
}

/// L2_NORMALIZATION.
pub struct L2Norm;

impl Op for L2Norm {
    type Params<'a> = L2NormParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<L2NormParams, Error> {
        let (dtype, outer, depth) = check(ctx)?;
        if ctx.input(0)?.shape.rank() > 4 {
            return Err(ctx.unsupported("input of more than 4 dimensions"));
        }
        let act = ctx.op.options()?.map_or(Ok(0), |o| o.u8(0, 0))?;
        if act != 0 {
            return Err(ctx.unsupported("fused activation"));
        }
        let zero_point = match dtype {
            ElemType::I8 => ctx.input(0)?.quant.map_or(0, |q| q.zero_point),
            _ => 0,
        };
        Ok(L2NormParams {
            dtype,
            outer,
            depth,
            zero_point,
        })
    }

    fn eval(p: &L2NormParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (x, y, depth) = (input.data, out.data, p.depth);
        for row in 0..p.outer {
            let base = row * depth;
            if p.dtype == ElemType::F32 {
                let mut sum = 0.0f32;
                for c in 0..depth {
                    let v = f32_at(x, base + c);
                    sum += v * v;
                }
                let norm = libm::sqrtf(sum).max(1e-6);
                for c in 0..depth {
                    put_f32(y, base + c, f32_at(x, base + c) / norm);
                }
                continue;
            }
            let diff = |c: usize| i32::from(x[base + c] as i8).wrapping_sub(p.zero_point);
            let mut acc = 0i32;
            for c in 0..depth {
                let d = diff(c);
                acc = acc.wrapping_add(d.wrapping_mul(d));
            }
            let (m, s) = inv_sqrt_multiplier_exp(acc);
            for c in 0..depth {
                let v = multiply_by_quantized_multiplier(diff(c), m, s + 7);
                y[base + c] = v.clamp(-128, 127) as i8 as u8;
            }
        }
        Ok(())
    }
}

/// A prepared LOG_SOFTMAX.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmaxParams {
    dtype: ElemType,
    outer: usize,
    depth: usize,
    input_multiplier: i32,
    input_left_shift: i32,
    reverse_divisor: i32,
    reverse_shift: i32,
    diff_min: i32,
}

/// LOG_SOFTMAX.
pub struct LogSoftmax;

impl Op for LogSoftmax {
    type Params<'a> = LogSoftmaxParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<LogSoftmaxParams, Error> {
        let (dtype, outer, depth) = check(ctx)?;
        let mut p = LogSoftmaxParams {
            dtype,
            outer,
            depth,
            input_multiplier: 0,
            input_left_shift: 0,
            reverse_divisor: 0,
            reverse_shift: 0,
            diff_min: 0,
        };
        if let (ElemType::I8, Some(qi), Some(qo)) = (dtype, ctx.input(0)?.quant, ctx.output.quant) {
            if qo.scale != 16.0 / 256.0 || qo.zero_point != 127 {
                return Err(ctx.unsupported("int8 output quantisation other than 16/256, 127"));
            }
            const INTEGER_BITS: i32 = 5;
            let real = (f64::from(qi.scale) * f64::from(1i32 << (31 - INTEGER_BITS)))
                .min((1i64 << 31) as f64 - 1.0);
            let (m, left) = quantize_multiplier(real);
            if left < 0 || m <= 0 {
                return Err(ctx.unsupported("int8 input scale too small for LOG_SOFTMAX"));
            }
            let reverse = f64::from(1i32 << (31 - left).clamp(0, 30)) / f64::from(m);
            let (d, rs) = quantize_multiplier(reverse);
            if rs > 0 || left > 31 {
                return Err(ctx.unsupported("int8 input scale too large for LOG_SOFTMAX"));
            }
            p.input_multiplier = m;
            p.input_left_shift = left;
            p.reverse_divisor = d;
            p.reverse_shift = rs;
            let radius = f64::from((1i32 << INTEGER_BITS) - 1)
                * (1i64 << (31 - INTEGER_BITS)) as f64
                / (1i64 << left) as f64;
            p.diff_min = -(libm::floor(radius) as i32);
        }
        Ok(p)
    }

    fn eval(p: &LogSoftmaxParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (x, y, depth) = (input.data, out.data, p.depth);
        for row in 0..p.outer {
            let base = row * depth;
            if p.dtype == ElemType::F32 {
                let mut max = f32::MIN;
                for c in 0..depth {
                    let v = f32_at(x, base + c);
                    if max < v {
                        max = v;
                    }
                }
                let mut sum = 0.0f32;
                for c in 0..depth {
                    sum += libm::expf(f32_at(x, base + c) - max);
                }
                let log_sum = libm::logf(sum);
                for c in 0..depth {
                    put_f32(y, base + c, f32_at(x, base + c) - max - log_sum);
                }
                continue;
            }
            let value = |c: usize| i32::from(x[base + c] as i8);
            let max = (0..depth).map(value).fold(-128, i32::max);
            let mut sum = Fixed::<12>(0);
            for c in 0..depth {
                let diff = value(c) - max;
                if diff >= p.diff_min {
                    let q5 = multiply_by_quantized_multiplier(
                        diff,
                        p.input_multiplier,
                        p.input_left_shift,
                    );
                    let e = exp_on_negative_values(Fixed::<5>(q5));
                    sum = sum.plus(e.rescale::<12>());
                }
            }
            let log_sum = log_x_for_x_ge_1_q5(sum).0;
            let shifted = log_sum.wrapping_add(i32::MIN);
            let adjusted_diff_min = (p.diff_min - 1).max(multiply_by_quantized_multiplier(
                shifted,
                p.reverse_divisor,
                p.reverse_shift,
            ));
            for c in 0..depth {
                let diff = value(c) - max;
                let v = if diff > adjusted_diff_min {
                    let q5 = multiply_by_quantized_multiplier(
                        diff,
                        p.input_multiplier,
                        p.input_left_shift,
                    );
                    (rounding_divide_by_pot(q5.wrapping_sub(log_sum), 31 - 5 - 4) + 127)
                        .clamp(-128, 127)
                } else {
                    -128
                };
                y[base + c] = v as i8 as u8;
            }
        }
        Ok(())
    }
}

/// gemmlowp's `RoundingHalfSum`.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// TFLite's `log_x_for_x_greater_than_or_equal_to_1` from 12 to 5 integer
/// bits.
fn log_x_for_x_ge_1_q5(input: Fixed<12>) -> Fixed<5> {
    const INPUT_BITS: i32 = 12;
    const ACCUM_BITS: i32 = 6;
    let log_2 = Fixed::<0>(1488522236);
    let sqrt_sqrt_half = Fixed::<0>(1805811301);
    let sqrt_half = Fixed::<0>(1518500250);
    let one_quarter = Fixed::<0>(536870912);
    let alpha_n = Fixed::<0>(117049297);
    let alpha_d = Fixed::<0>(127690142);
    let alpha_i = Fixed::<0>(1057819769);
    let alpha_f = Fixed::<0>(638450708);
    let shifted_quarter: Fixed<6> = one_quarter.rescale();

    let z_a = Fixed::<0>(input.0);
    let z_a_headroom_plus_1 = (z_a.0 as u32).leading_zeros() as i32;
    let r_a_tmp = Fixed::<0>(saturating_rounding_multiply_by_pot(
        z_a.0,
        z_a_headroom_plus_1 - 1,
    ));
    let r_a_tmp_half: Fixed<0> = r_a_tmp.times(sqrt_half);
    let r_a_raw = saturating_rounding_multiply_by_pot(r_a_tmp_half.0, 1);
    let z_a_pow_2_adj =
        saturating_rounding_multiply_by_pot(INPUT_BITS - z_a_headroom_plus_1, 31 - ACCUM_BITS)
            .saturating_add(shifted_quarter.0);

    let z_b: Fixed<0> = z_a.times(sqrt_half);
    let z_b_headroom = (z_b.0 as u32).leading_zeros() as i32 - 1;
    let r_b_raw = saturating_rounding_multiply_by_pot(z_a.0, z_b_headroom);
    let z_b_pow_2_adj =
        saturating_rounding_multiply_by_pot(INPUT_BITS - z_b_headroom, 31 - ACCUM_BITS)
            .saturating_sub(shifted_quarter.0);

    let r = Fixed::<0>(r_a_raw.min(r_b_raw));
    let z_pow_2_adj = Fixed::<6>(z_a_pow_2_adj.max(z_b_pow_2_adj));

    let p = Fixed::<0>(rounding_half_sum(r.0, sqrt_sqrt_half.0));
    let q = r.minus(sqrt_sqrt_half);
    let q = q.plus(q);

    let common_sq: Fixed<0> = q.times(q);
    let qr: Fixed<0> = q.times(r);
    let q_sq: Fixed<0> = q.times(common_sq);
    let q_sq_n: Fixed<0> = q_sq.times(alpha_n);
    let num = qr.plus(q_sq_n);
    let d_sq: Fixed<0> = alpha_d.times(common_sq);
    let inner = alpha_i.plus(q).plus(d_sq);
    let p_inner: Fixed<0> = p.times(inner);
    let f_q: Fixed<0> = alpha_f.times(q);
    let denom_minus_one = p_inner.plus(f_q);
    let recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one);

    let num_scaled: Fixed<6> = num.rescale();
    let a: Fixed<6> = z_pow_2_adj.times(log_2);
    let b: Fixed<6> = num_scaled.times(recip_denom);
    a.plus(b).rescale()
}

/// TFLite's `LUTPopulateInt16` for float transforms: 513 entries, the
/// last for the slope of the 512th.
fn lut_populate_i16(
    input_scale: f32,
    input_zp: i32,
    out_scale: f32,
    out_zp: i32,
    f: fn(f32) -> f32,
    k: usize,
) -> i16 {
    let input_min = input_scale * (-32768 - input_zp) as f32;
    let input_max = input_scale * (32767 - input_zp) as f32;
    let output_min = out_scale * (-32768 - out_zp) as f32;
    let output_max = out_scale * (32767 - out_zp) as f32;
    const STEPS: usize = 512;
    let step = (input_max - input_min) / STEPS as f32;
    let half_step = step / 2.0;
    let inv = 65536.0f32 / (output_max - output_min);
    let clamp = |v: f32| v.clamp(-32768.0, 32767.0) as i16;
    if k == STEPS {
        return clamp(libm::roundf(f(input_max) * inv));
    }
    let at = input_min + k as f32 * step;
    let val = f(at);
    let val_mid = f(at + half_step);
    let val_next = f(input_min + (k + 1) as f32 * step);
    let sample = libm::roundf(val * inv);
    let interp = libm::roundf((val_next * inv + libm::roundf(val * inv)) / 2.0);
    let mid = libm::roundf(val_mid * inv);
    let bias = libm::roundf((interp - mid) / 2.0);
    clamp(sample - bias)
}

/// TFLite's 513-entry int16 `LUTLookup` with interpolation.
fn lut_lookup_i16(value: i16, lut: &[i16]) -> i16 {
    let index = (256 + (i32::from(value) >> 7)) as usize;
    let offset = i32::from(value & 0x7f);
    let base = lut[index];
    let slope = i32::from(lut[index + 1].wrapping_sub(base));
    let delta = (slope * offset + 64) >> 7;
    (i32::from(base) + delta) as i16
}

/// The int16 (or int8 to int16) part of a prepared SOFTMAX.
#[derive(Clone, Copy, Debug)]
pub enum SoftmaxParams<'a> {
    /// float32, or int8 to int8.
    Other(super::softmax::SoftmaxParams),
    /// int8 to int16: input multiplier, left shift, diff_min.
    Int8To16(i32, i32, i32),
    /// int16: input multiplier, shift, exp table, 1 / (1 + x) table.
    Int16(i32, i32, &'a [i16], &'a [i16]),
}

/// SOFTMAX: float32 and int8 in `softmax.rs`; int16, and int8 to int16, here.
pub struct Softmax;

impl Op for Softmax {
    type Params<'a> = SoftmaxParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SoftmaxParams<'a>, Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        if out.dtype != ElemType::I16 {
            return <super::softmax::Softmax as Op>::prepare(ctx).map(SoftmaxParams::Other);
        }
        if ctx.input_count() != 1 || input.shape != out.shape || input.shape.rank() == 0 {
            return Err(ctx.invalid("output shape must equal the input shape"));
        }
        let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
            return Err(ctx.invalid("quantised tensors without quantisation parameters"));
        };
        let beta = ctx.op.options()?.map_or(Ok(1.0), |o| o.f32(0, 1.0))?;
        match input.dtype {
            ElemType::I8 => {
                if qo.zero_point != -32768 || (qo.scale - 1.0 / 65536.0).abs() > 0.001 / 65536.0 {
                    return Err(
                        ctx.unsupported("int16 output quantisation other than 1/65536, -32768")
                    );
                }
                let real = (f64::from(beta) * f64::from(qi.scale) * f64::from(1i32 << 26))
                    .min(f64::from(i32::MAX));
                let (m, left) = quantize_multiplier(real);
                if !(0..31).contains(&left) {
                    return Err(
                        ctx.unsupported("input scale too small or too large for int8 softmax")
                    );
                }
                let radius = 31.0 * (1i64 << 26) as f64 / (1i64 << left) as f64;
                Ok(SoftmaxParams::Int8To16(
                    m,
                    left,
                    -(libm::floor(radius) as i32),
                ))
            }
            ElemType::I16 => {
                if qi.zero_point != 0 || qo.zero_point != 0 {
                    return Err(ctx.invalid("int16 softmax zero points must be 0"));
                }
                if (qo.scale - 1.0 / 32768.0).abs() > 0.001 / 32768.0 {
                    return Err(ctx.unsupported("int16 output scale other than 1/32768"));
                }
                let (m, s) =
                    quantize_multiplier(f64::from(qi.scale) * f64::from(beta) / (10.0 / 65535.0));
                let range = 65535.0f32;
                let exp = ctx.persist(513, |k| {
                    lut_populate_i16(10.0 / range, 32767, 2.0 / range, 0, libm::expf, k)
                })?;
                let recip = ctx.persist(513, |k| {
                    lut_populate_i16(1.0 / range, -32768, 2.0 / range, 0, |v| 1.0 / (1.0 + v), k)
                })?;
                Ok(SoftmaxParams::Int16(m, s, exp, recip))
            }
            _ => Err(ctx.unsupported("int16 output from an input other than int8 or int16")),
        }
    }

    fn eval(p: &SoftmaxParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        if let SoftmaxParams::Other(q) = p {
            return <super::softmax::Softmax as Op>::eval(q, ctx);
        }
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let dims = input.info.shape.dims();
        let depth = dims[dims.len() - 1];
        if depth == 0 {
            return Ok(());
        }
        let rows = input.info.shape.elements() / depth;
        let (x, y) = (input.data, out.data);
        let put =
            |y: &mut [u8], i: usize, v: i16| y[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        match *p {
            SoftmaxParams::Int8To16(m, left, diff_min) => {
                let rescaled = |d: i32| Fixed::<5>(multiply_by_quantized_multiplier(d, m, left));
                for r in 0..rows {
                    let base = r * depth;
                    let value = |c: usize| i32::from(x[base + c] as i8);
                    let max = (0..depth).map(value).fold(-128, i32::max);
                    let mut sum = Fixed::<12>(0);
                    for c in 0..depth {
                        let d = value(c) - max;
                        if d >= diff_min {
                            sum = sum.plus(exp_on_negative_values(rescaled(d)).rescale::<12>());
                        }
                    }
                    let (scale, bits_over_unit) = crate::quant::reciprocal(sum.0, 12);
                    let exponent = bits_over_unit + 31 - 16;
                    for c in 0..depth {
                        let d = value(c) - max;
                        let v = if d >= diff_min {
                            let product: Fixed<0> =
                                Fixed::<0>(scale).times(exp_on_negative_values(rescaled(d)));
                            (rounding_divide_by_pot(product.0, exponent) - 32768)
                                .clamp(-32768, 32767)
                        } else {
                            -32768
                        };
                        put(y, base + c, v as i16);
                    }
                }
            }
            SoftmaxParams::Int16(m, s, exp, recip) => {
                if exp.len() != 513 || recip.len() != 513 {
                    return Err(Error::Usage("SOFTMAX lookup tables missing"));
                }
                for r in 0..rows {
                    let base = r * depth;
                    let value = |c: usize| {
                        i32::from(i16::from_le_bytes([
                            x[2 * (base + c)],
                            x[2 * (base + c) + 1],
                        ]))
                    };
                    let max = (0..depth).map(value).fold(-32768, i32::max);
                    let mut sum = 0i32;
                    for c in 0..depth {
                        let scaled = multiply_by_quantized_multiplier(value(c) - max, m, s);
                        let sym = scaled.wrapping_add(32767).clamp(-32768, 32767) as i16;
                        let e = lut_lookup_i16(sym, exp);
                        put(y, base + c, e);
                        sum = sum.wrapping_add(i32::from(e));
                    }
                    let headroom_plus_one = (sum as u32).leading_zeros() as i32;
                    let shifted = (((i64::from(sum) << (headroom_plus_one - 1).clamp(0, 62))
                        + (1 << 13))
                        >> 14) as i32;
                    let sym = shifted
                        .wrapping_add(-((1 << 15) + (1 << 16)))
                        .clamp(-32768, 32767) as i16;
                    let reciprocal = i64::from(lut_lookup_i16(sym, recip));
                    let right_shift = (31 - headroom_plus_one).clamp(1, 62);
                    let round = 1i64 << (right_shift - 1);
                    for c in 0..depth {
                        let i = base + c;
                        let e = i64::from(i16::from_le_bytes([y[2 * i], y[2 * i + 1]]));
                        let v = ((e * reciprocal + round) >> right_shift) as i32;
                        put(y, i, v.clamp(0, 32767) as i16);
                    }
                }
            }
            SoftmaxParams::Other(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_approximates_the_real() {
        for v in [1.0f64, 1.5, 3.0, 40.0, 1000.0] {
            let raw = (v * 2f64.powi(31 - 12)) as i32;
            let got = f64::from(log_x_for_x_ge_1_q5(Fixed(raw)).0) / 2f64.powi(31 - 5);
            assert!((got - v.ln()).abs() < 1e-4, "{v}: {got}");
        }
    }
}
