//! SOFTMAX, float32 and int8, following TFLite's `reference_ops::Softmax`
//! (gemmlowp fixed-point exp and reciprocal for int8).

use crate::error::Error;
use crate::kernels::{EvalCtx, Input, Op, Output, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;
use crate::quant::{
    Fixed, exp_on_negative_values, quantize_multiplier, reciprocal, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};

/// Integer bits of the scaled input differences.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials.
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// A prepared softmax.
#[derive(Clone, Copy, Debug)]
pub struct SoftmaxParams {
    beta: f32,
    input_multiplier: i32,
    input_left_shift: i32,
    diff_min: i32,
}

/// Checks a softmax and computes TFLite's fixed-point parameters.
pub fn prepare(ctx: &PrepareCtx<'_, '_>) -> Result<SoftmaxParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let beta = ctx.op.options()?.map_or(Ok(1.0), |o| o.f32(0, 1.0))?;
    if input.shape != out.shape || input.shape.rank() == 0 {
        return Err(ctx.invalid("output shape must equal the input shape"));
    }
    match (input.dtype, out.dtype) {
        (ElemType::F32, ElemType::F32) => Ok(SoftmaxParams {
            beta,
            input_multiplier: 0,
            input_left_shift: 0,
            diff_min: 0,
        }),
        (ElemType::I8, ElemType::I8) => {
            let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
                return Err(ctx.invalid("int8 tensors without quantisation parameters"));
            };
            if qo.zero_point != -128 || qo.scale != 1.0 / 256.0 {
                return Err(ctx.unsupported(
                    "int8 output quantisation other than scale 1/256, zero point -128",
                ));
            }
            // PreprocessSoftmaxScaling and CalculateInputRadius.
            let max_real = f64::from(i32::MAX);
            let real = (f64::from(beta)
                * f64::from(qi.scale)
                * f64::from(1i32 << (31 - SCALED_DIFF_INTEGER_BITS)))
            .min(max_real);
            let (input_multiplier, input_left_shift) = quantize_multiplier(real);
            if !(0..31).contains(&input_left_shift) {
                return Err(ctx.unsupported("input scale too small or too large for int8 softmax"));
            }
            let max_input_rescaled = f64::from((1i32 << SCALED_DIFF_INTEGER_BITS) - 1)
                * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
                / (1i64 << input_left_shift) as f64;
            let diff_min = -(libm::floor(max_input_rescaled) as i32);
            Ok(SoftmaxParams {
                beta,
                input_multiplier,
                input_left_shift,
                diff_min,
            })
        }
        _ => Err(ctx.unsupported("types other than float32 or int8 in and out")),
    }
}

/// SOFTMAX over the last axis.
pub fn eval(p: &SoftmaxParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let dims = input.info.shape.dims();
    let depth = dims[dims.len() - 1];
    if depth == 0 {
        return Ok(());
    }
    let rows = input.info.shape.elements() / depth;
    if input.info.dtype == ElemType::F32 {
        for r in 0..rows {
            let row = r * depth;
            let max = (0..depth)
                .map(|c| f32_at(input.data, row + c))
                .fold(f32::MIN, f32::max);
            let mut sum = 0f32;
            for c in 0..depth {
                let e = libm::expf((f32_at(input.data, row + c) - max) * p.beta);
                put_f32(out.data, row + c, e);
                sum += e;
            }
            for c in 0..depth {
                let e = f32_at(out.data, row + c);
                put_f32(out.data, row + c, e / sum);
            }
        }
        return Ok(());
    }
    let rescaled = |diff: i32| {
        Fixed::<SCALED_DIFF_INTEGER_BITS>(saturating_rounding_doubling_high_mul(
            diff.wrapping_mul(1 << p.input_left_shift),
            p.input_multiplier,
        ))
    };
    for r in 0..rows {
        let row = &input.data[r * depth..(r + 1) * depth];
        let max = row
            .iter()
            .map(|&x| i32::from(x as i8))
            .max()
            .unwrap_or(-128);
        let mut sum = Fixed::<ACCUMULATION_INTEGER_BITS>(0);
        for &x in row {
            let diff = i32::from(x as i8) - max;
            if diff >= p.diff_min {
                sum = sum.plus(
                    exp_on_negative_values(rescaled(diff)).rescale::<ACCUMULATION_INTEGER_BITS>(),
                );
            }
        }
        let (scale, bits_over_unit) = reciprocal(sum.0, ACCUMULATION_INTEGER_BITS);
        for (c, &x) in row.iter().enumerate() {
            let diff = i32::from(x as i8) - max;
            let v = if diff >= p.diff_min {
                let e = exp_on_negative_values(rescaled(diff));
                let product: Fixed<0> = Fixed::<0>(scale).times(e);
                let unsat = rounding_divide_by_pot(product.0, bits_over_unit + 31 - 8);
                unsat.wrapping_sub(128).clamp(-128, 127)
            } else {
                -128
            };
            out.data[r * depth + c] = v as i8 as u8;
        }
    }
    Ok(())
}

/// SOFTMAX.
pub struct Softmax;

impl Op for Softmax {
    type Params<'a> = SoftmaxParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SoftmaxParams, Error> {
        prepare(ctx)
    }

    fn eval(p: &SoftmaxParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}
