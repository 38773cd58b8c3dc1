//! REVERSE_V2: the input with the order of its elements along constant,
//! contiguous axes reversed (the only axes TFLite Micro takes), for
//! float32, int8, uint8, int16, int32, int64 and bool.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::resolve_axis;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at};
use crate::model::{ElemType, MAX_RANK};

/// A prepared REVERSE_V2: the first and last reversed axis.
#[derive(Clone, Copy, Debug)]
pub struct ReverseParams {
    first: u8,
    last: u8,
}

/// REVERSE_V2.
pub struct ReverseV2;

impl Op for ReverseV2 {
    type Params<'a> = ReverseParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ReverseParams, Error> {
        if ctx.input_count() != 2 || ctx.output_count() != 1 {
            return Err(ctx.invalid("REVERSE_V2 takes two inputs and gives one output"));
        }
        let (input, out) = (ctx.input(0)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[
                ElemType::F32,
                ElemType::I8,
                ElemType::U8,
                ElemType::I16,
                ElemType::I32,
                ElemType::I64,
                ElemType::Bool,
            ],
            "REVERSE_V2 of types other than float32, int8, uint8, int16, int32, int64, bool",
        )?;
        if out.dtype != input.dtype || out.shape.dims() != input.shape.dims() {
            return Err(ctx.invalid("output must have the input's type and shape"));
        }
        let rank = input.shape.rank();
        let axes = ctx.input(1)?;
        let n = axes.shape.elements();
        if axes.dtype != ElemType::I32 || axes.shape.rank() != 1 || n > rank || rank > MAX_RANK {
            return Err(ctx.invalid("axes must be int32 [n], n at most the input's rank"));
        }
        if n == 0 {
            return Err(ctx.unsupported("REVERSE_V2 of no axes"));
        }
        let data = ctx.constant(1)?;
        if data.len() < 4 * n {
            // Only checking, and the axes are computed at prepare time.
            return Ok(ReverseParams { first: 0, last: 0 });
        }
        let mut seen = [false; MAX_RANK];
        for k in 0..n {
            let a = resolve_axis(i64::from(i32_at(data, k)), rank)
                .ok_or(ctx.invalid("axis out of range"))?;
            if seen[a] {
                return Err(ctx.unsupported("REVERSE_V2 of an axis given twice"));
            }
            seen[a] = true;
        }
        let first = seen.iter().position(|&s| s).unwrap_or(0);
        let last = first + n - 1;
        if !seen[first..=last].iter().all(|&s| s) {
            return Err(ctx.unsupported("REVERSE_V2 of axes that are not contiguous"));
        }
        Ok(ReverseParams {
            first: first as u8,
            last: last as u8,
        })
    }

    fn eval(p: &ReverseParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let d = input.info.shape.dims();
        let (first, last) = (usize::from(p.first), usize::from(p.last));
        let outer: usize = d[..first].iter().product();
        let middle: usize = d[first..=last].iter().product();
        let chunk = d[last + 1..].iter().product::<usize>() * input.info.dtype.size();
        for i in 0..outer {
            for j in 0..middle {
                let from = (i * middle + j) * chunk;
                let to = (i * middle + middle - 1 - j) * chunk;
                out.data[to..to + chunk].copy_from_slice(&input.data[from..from + chunk]);
            }
        }
        Ok(())
    }
}
