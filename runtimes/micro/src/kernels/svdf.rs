//! SVDF (singular value decomposition filter), float32 and int8 with an
//! int16 or int8 state, following TFLite Micro's `EvalFloatSvdfReference`
//! and `EvalIntegerSvdfReference`.
//!
//! Each invocation shifts the activation state (a variable tensor, kept
//! across invocations) left by one, writes each filter's feature
//! projection of the input into its newest column, then sums each filter's
//! memory against its time weights and each unit's `rank` filters.

use crate::error::Error;
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, clamp_f32, f32_at, i32_at, put_f32,
};
use crate::model::ElemType;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// A prepared SVDF.
#[derive(Clone, Copy, Debug)]
pub struct SvdfParams {
    batches: usize,
    inputs: usize,
    filters: usize,
    memory: usize,
    rank: usize,
    act: Range,
    /// For int8: input, state and output zero points, and the feature and
    /// output requantisations.
    input_zero_point: i32,
    state_zero_point: i32,
    output_zero_point: i32,
    feature_scale: (i32, i32),
    output_scale: (i32, i32),
}

/// SVDF.
pub struct Svdf;

impl Op for Svdf {
    type Params<'a> = SvdfParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SvdfParams, Error> {
        if ctx.input_count() != 5 || ctx.output_count() != 1 {
            return Err(ctx.invalid("SVDF takes 5 inputs and gives 1 output"));
        }
        let (input, feature, time) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
        let (bias, state, out) = (ctx.input_opt(3)?, ctx.input(4)?, ctx.output);
        ctx.constant(1)?;
        ctx.constant(2)?;
        let o = ctx.options()?;
        let rank = usize::try_from(o.i32(0, 0)?)
            .ok()
            .filter(|&r| r > 0)
            .ok_or(ctx.invalid("rank must be positive"))?;
        let (&[batches, inputs], &[filters, feature_inputs], &[time_filters, memory]) =
            (input.shape.dims(), feature.shape.dims(), time.shape.dims())
        else {
            return Err(ctx.invalid("input, feature and time weights must be 2-D"));
        };
        let units = filters / rank;
        if feature_inputs != inputs
            || time_filters != filters
            || memory == 0
            || !filters.is_multiple_of(rank)
            || out.shape.dims() != [batches, units]
            || state.shape.dims() != [batches, memory * filters]
            || bias.is_some_and(|b| b.shape.elements() != units)
        {
            return Err(ctx.invalid("shapes that do not match an SVDF"));
        }
        if !state.is_variable || state.data.is_some() {
            return Err(ctx.invalid("the activation state (input 4) must be a variable tensor"));
        }
        let mut p = SvdfParams {
            batches,
            inputs,
            filters,
            memory,
            rank,
            act: ctx.activation(o.u8(1, 0)?)?,
            input_zero_point: 0,
            state_zero_point: 0,
            output_zero_point: 0,
            feature_scale: (0, 0),
            output_scale: (0, 0),
        };
        use ElemType::*;
        match (
            input.dtype,
            feature.dtype,
            time.dtype,
            state.dtype,
            out.dtype,
        ) {
            (F32, F32, F32, F32, F32) => {
                if bias.is_some_and(|b| b.dtype != F32) {
                    return Err(ctx.invalid("a float SVDF's bias must be float32"));
                }
            }
            (I8, I8, I16, I16, I8) | (I8, I8, I8, I8, I8) => {
                let (Some(qi), Some(qf), Some(qt), Some(qs), Some(qo)) = (
                    input.quant,
                    feature.quant,
                    time.quant,
                    state.quant,
                    out.quant,
                ) else {
                    return Err(ctx.invalid("int8 SVDF without quantisation parameters"));
                };
                if bias.is_some_and(|b| b.dtype != I32) {
                    return Err(ctx.invalid("an int8 SVDF's bias must be int32"));
                }
                p.feature_scale = quantize_multiplier(f64::from(qi.scale * qf.scale / qs.scale));
                p.output_scale = quantize_multiplier(f64::from(qs.scale * qt.scale / qo.scale));
                p.input_zero_point = qi.zero_point;
                p.state_zero_point = qs.zero_point;
                p.output_zero_point = qo.zero_point;
            }
            _ => {
                return Err(ctx.unsupported(
                    "types other than float32, or int8 with int16 or int8 time weights and state",
                ));
            }
        }
        Ok(p)
    }

    fn eval(p: &SvdfParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let (input, feature, time, bias) = (i.get(0)?, i.get(1)?, i.get(2)?, i.opt(3)?);
        let state = ctx.state.variable(4)?;
        let out = ctx.outputs.get(0)?;
        match state.info.dtype {
            ElemType::F32 => eval_float(p, input, feature, time, bias, state, out),
            ElemType::I16 => eval_int::<2>(p, input, feature, time, bias, state, out),
            _ => eval_int::<1>(p, input, feature, time, bias, state, out),
        }
        Ok(())
    }
}

fn eval_float(
    p: &SvdfParams,
    input: Input<'_>,
    feature: Input<'_>,
    time: Input<'_>,
    bias: Option<Input<'_>>,
    state: Output<'_>,
    out: Output<'_>,
) {
    let (mem, filters, units) = (p.memory, p.filters, p.filters / p.rank);
    let st = state.data;
    st.copy_within(4.., 0);
    for b in 0..p.batches {
        for f in 0..filters {
            let mut dot = 0f32;
            for k in 0..p.inputs {
                dot +=
                    f32_at(feature.data, f * p.inputs + k) * f32_at(input.data, b * p.inputs + k);
            }
            put_f32(st, (b * filters + f) * mem + mem - 1, dot);
        }
    }
    for b in 0..p.batches {
        for u in 0..units {
            let mut total = bias.map_or(0.0, |bias| f32_at(bias.data, u));
            for f in u * p.rank..(u + 1) * p.rank {
                let mut dot = 0f32;
                for j in 0..mem {
                    dot += f32_at(time.data, f * mem + j) * f32_at(st, (b * filters + f) * mem + j);
                }
                total += dot;
            }
            put_f32(out.data, b * units + u, clamp_f32(total, p.act.float));
        }
    }
}

/// The integer SVDF, with a state (and time weights) of `W` bytes a value.
fn eval_int<const W: usize>(
    p: &SvdfParams,
    input: Input<'_>,
    feature: Input<'_>,
    time: Input<'_>,
    bias: Option<Input<'_>>,
    state: Output<'_>,
    out: Output<'_>,
) {
    let (mem, filters, units) = (p.memory, p.filters, p.filters / p.rank);
    let value = |b: &[u8], i: usize| -> i32 {
        if W == 2 {
            i32::from(i16::from_le_bytes([b[2 * i], b[2 * i + 1]]))
        } else {
            i32::from(b[i] as i8)
        }
    };
    let (lo, hi) = if W == 2 {
        (i32::from(i16::MIN), i32::from(i16::MAX))
    } else {
        (-128, 127)
    };
    let st = state.data;
    st.copy_within(W.., 0);
    for b in 0..p.batches {
        for f in 0..filters {
            let mut dot = 0i32;
            for k in 0..p.inputs {
                let x = i32::from(input.data[b * p.inputs + k] as i8) - p.input_zero_point;
                dot = dot.wrapping_add(i32::from(feature.data[f * p.inputs + k] as i8) * x);
            }
            let (m, s) = p.feature_scale;
            // Clamped to the state's range before the zero point is added,
            // then narrowed (wrapping), as the pinned TFLite Micro does.
            let v = multiply_by_quantized_multiplier(dot, m, s)
                .clamp(lo, hi)
                .wrapping_add(p.state_zero_point);
            let at = (b * filters + f) * mem + mem - 1;
            st[at * W..(at + 1) * W].copy_from_slice(&v.to_le_bytes()[..W]);
        }
    }
    for b in 0..p.batches {
        for u in 0..units {
            let mut total = bias.map_or(0, |bias| i32_at(bias.data, u));
            for f in u * p.rank..(u + 1) * p.rank {
                let mut dot = 0i32;
                for j in 0..mem {
                    let s = value(st, (b * filters + f) * mem + j) - p.state_zero_point;
                    dot = dot.wrapping_add(value(time.data, f * mem + j).wrapping_mul(s));
                }
                total = total.wrapping_add(dot);
            }
            let (m, s) = p.output_scale;
            let v = multiply_by_quantized_multiplier(total, m, s).wrapping_add(p.output_zero_point);
            out.data[b * units + u] = v.clamp(-128, 127) as i8 as u8;
        }
    }
}
