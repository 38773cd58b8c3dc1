//! CUMSUM: running sums along a constant axis, optionally exclusive (each
//! sum leaves its own element out) and reversed (summed from the end), as
//! TFLite Micro's cumsum (float32, and int8 in its fixed-point scheme).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::{resolve_axis, split_at_axis};
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, i32_at, put_f32};
use crate::model::ElemType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// Bits int8 values are shifted left by before summing, as TFLite Micro.
const LEFT_SHIFT: i32 = 20;

/// The int8 arithmetic of a prepared CUMSUM.
#[derive(Clone, Copy, Debug)]
struct Int8Sum {
    input_zero_point: i32,
    output_zero_point: i32,
    input_multiplier: i32,
    input_shift: i32,
    output_multiplier: i32,
    output_shift: i32,
}

impl Int8Sum {
    /// Quantised value `v` (already offset by the input zero point) in the
    /// scale the sums are made in.
    fn scale_in(&self, v: i32) -> i32 {
        multiply_by_quantized_multiplier(
            v.wrapping_mul(1 << LEFT_SHIFT),
            self.input_multiplier,
            self.input_shift,
        )
    }

    /// A sum back in the output's quantisation.
    fn scale_out(&self, sum: i32) -> u8 {
        let v = multiply_by_quantized_multiplier(sum, self.output_multiplier, self.output_shift)
            .wrapping_add(self.output_zero_point);
        v.clamp(-128, 127) as i8 as u8
    }
}

/// A prepared CUMSUM.
#[derive(Clone, Copy, Debug)]
pub struct CumsumParams {
    exclusive: bool,
    reverse: bool,
    /// Elements before, along and after the axis.
    split: (usize, usize, usize),
    int8: Option<Int8Sum>,
}

/// CUMSUM.
pub struct Cumsum;

impl Op for Cumsum {
    type Params<'a> = CumsumParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<CumsumParams, Error> {
        let (input, axis, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8],
            "CUMSUM of types other than float32 or int8",
        )?;
        if axis.dtype != ElemType::I32 || axis.shape.elements() != 1 {
            return Err(ctx.unsupported("CUMSUM axis other than one int32 value"));
        }
        if out.dtype != input.dtype || out.shape != input.shape {
            return Err(ctx.invalid("output must have the input's type and shape"));
        }
        let data = ctx.constant(1)?;
        // While only checking, a folded constant has no bytes yet.
        let axis = if data.len() >= 4 { i32_at(data, 0) } else { 0 };
        let axis = resolve_axis(i64::from(axis), input.shape.rank())
            .ok_or(ctx.invalid("axis out of range"))?;
        let options = ctx.op.options()?;
        // Absent options are both flags off.
        let flag = |slot: usize| options.map_or(Ok(false), |o| o.u8(slot, 0).map(|v| v != 0));
        let int8 = if input.dtype == ElemType::I8 {
            let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
                return Err(ctx.invalid("int8 tensors without quantisation parameters"));
            };
            let twice = 2.0 * f64::from(qi.scale);
            let (input_multiplier, input_shift) = quantize_multiplier(f64::from(qi.scale) / twice);
            let (output_multiplier, output_shift) =
                quantize_multiplier(twice / (f64::from(1i32 << LEFT_SHIFT) * f64::from(qo.scale)));
            if input_shift > 0 || output_shift > 0 {
                return Err(ctx.unsupported("int8 CUMSUM with an output scale this small"));
            }
            Some(Int8Sum {
                input_zero_point: qi.zero_point,
                output_zero_point: qo.zero_point,
                input_multiplier,
                input_shift,
                output_multiplier,
                output_shift,
            })
        } else {
            None
        };
        Ok(CumsumParams {
            exclusive: flag(0)?,
            reverse: flag(1)?,
            split: split_at_axis(&input.shape, axis),
            int8,
        })
    }

    fn eval(p: &CumsumParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?.data;
        let out = ctx.outputs.get(0)?.data;
        let (before, depth, after) = p.split;
        for b in 0..before {
            for a in 0..after {
                let at = |d: usize| {
                    let d = if p.reverse { depth - 1 - d } else { d };
                    (b * depth + d) * after + a
                };
                match p.int8 {
                    None => {
                        let mut sum = 0.0f32;
                        for d in 0..depth {
                            let i = at(d);
                            let next = sum + f32_at(input, i);
                            put_f32(out, i, if p.exclusive { sum } else { next });
                            sum = next;
                        }
                    }
                    Some(q) => {
                        // TFLite Micro starts the sum at the scaled input
                        // offset, not at zero.
                        let mut sum = q.scale_in(-q.input_zero_point);
                        for d in 0..depth {
                            let i = at(d);
                            let x = i32::from(input[i] as i8).wrapping_sub(q.input_zero_point);
                            let next = sum.wrapping_add(q.scale_in(x));
                            out[i] = q.scale_out(if p.exclusive { sum } else { next });
                            sum = next;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
