//! ARG_MAX and ARG_MIN: the index of the largest (smallest) value along a
//! constant axis, as TFLite Micro's arg_min_max (float32 or int8 input,
//! int32 axis and output; the first index wins a tie).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::{resolve_axis, split_at_axis};
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, i32_at};
use crate::model::ElemType;
use crate::opcode::Opcode;

/// A prepared ARG_MAX or ARG_MIN: the input split around the axis.
#[derive(Clone, Copy, Debug)]
pub struct ArgParams {
    max: bool,
    outer: usize,
    axis_size: usize,
    inner: usize,
}

/// ARG_MAX and ARG_MIN.
pub struct ArgMinMax;

impl Op for ArgMinMax {
    type Params<'a> = ArgParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ArgParams, Error> {
        let (input, axis, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8],
            "ARG_MAX/ARG_MIN of types other than float32 or int8",
        )?;
        if axis.dtype != ElemType::I32 || axis.shape.elements() != 1 {
            return Err(ctx.unsupported("ARG_MAX/ARG_MIN axis other than one int32 value"));
        }
        if out.dtype != ElemType::I32 {
            return Err(ctx.unsupported("ARG_MAX/ARG_MIN output other than int32"));
        }
        let data = ctx.constant(1)?;
        let rank = input.shape.rank();
        // While only checking, a folded constant has no bytes yet.
        let axis = if data.len() >= 4 { i32_at(data, 0) } else { 0 };
        let axis = resolve_axis(i64::from(axis), rank).ok_or(ctx.invalid("axis out of range"))?;
        let d = input.shape.dims();
        let want = d[..axis].iter().chain(&d[axis + 1..]);
        if out.shape.rank() + 1 != rank || !out.shape.dims().iter().eq(want) {
            return Err(ctx.invalid("output must be the input's shape without the axis"));
        }
        let (outer, axis_size, inner) = split_at_axis(&input.shape, axis);
        Ok(ArgParams {
            max: ctx.op.opcode == Opcode::ARG_MAX,
            outer,
            axis_size,
            inner,
        })
    }

    fn eval(p: &ArgParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let float = input.info.dtype == ElemType::F32;
        // Whether value `a` replaces the best so far, `b`: a strict
        // comparison, so NaN never replaces and is never replaced.
        let better = |a: usize, b: usize| {
            if float {
                let (a, b) = (f32_at(input.data, a), f32_at(input.data, b));
                if p.max { a > b } else { a < b }
            } else {
                let (a, b) = (input.data[a] as i8, input.data[b] as i8);
                if p.max { a > b } else { a < b }
            }
        };
        for outer in 0..p.outer {
            for inner in 0..p.inner {
                let at = |i: usize| (outer * p.axis_size + i) * p.inner + inner;
                let mut best = 0;
                for i in 1..p.axis_size {
                    if better(at(i), at(best)) {
                        best = i;
                    }
                }
                let o = 4 * (outer * p.inner + inner);
                out.data[o..o + 4].copy_from_slice(&(best as i32).to_le_bytes());
            }
        }
        Ok(())
    }
}
