//! DYNAMIC_UPDATE_SLICE: the operand with a block overwritten by the update,
//! at start indices (int32 or int64, possibly computed) clamped so that the
//! block fits, as TFLite Micro's dynamic_update_slice (float32, int8, int16
//! or int32).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::{for_each_index, int_at, offset, padded, strides};
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::{ElemType, MAX_RANK};

/// DYNAMIC_UPDATE_SLICE.
pub struct DynamicUpdateSlice;

impl Op for DynamicUpdateSlice {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (operand, update, starts, out) =
            (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?, ctx.output);
        accept(
            ctx,
            operand.dtype,
            &[ElemType::F32, ElemType::I8, ElemType::I16, ElemType::I32],
            "DYNAMIC_UPDATE_SLICE of types other than float32, int8, int16 or int32",
        )?;
        if update.dtype != operand.dtype || out.dtype != operand.dtype {
            return Err(ctx.invalid("operand, update and output must have one type"));
        }
        if !matches!(starts.dtype, ElemType::I32 | ElemType::I64) {
            return Err(
                ctx.unsupported("DYNAMIC_UPDATE_SLICE start indices other than int32 or int64")
            );
        }
        let rank = operand.shape.rank();
        if starts.shape.rank() != 1 || starts.shape.dim(0) != rank {
            return Err(ctx.invalid("start indices must be 1-D, one per operand dimension"));
        }
        let fits = update.shape.rank() == rank
            && (0..rank).all(|k| update.shape.dim(k) <= operand.shape.dim(k));
        if !fits {
            return Err(ctx.invalid("the update must have the operand's rank and fit in it"));
        }
        if out.shape != operand.shape {
            return Err(ctx.invalid("output must have the operand's shape"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (operand, update, starts) =
            (ctx.inputs.get(0)?, ctx.inputs.get(1)?, ctx.inputs.get(2)?);
        let out = ctx.outputs.get(0)?.data;
        let (od, ud) = (operand.info.shape.dims(), update.info.shape.dims());
        if operand.data.len() == update.data.len() {
            out.copy_from_slice(update.data);
            return Ok(());
        }
        out.copy_from_slice(operand.data);
        if update.data.is_empty() {
            return Ok(());
        }
        let shape = |d: &[usize]| padded::<MAX_RANK>(d).ok_or(Error::Usage("rank above 6"));
        let (o_dims, u_dims) = (shape(od)?, shape(ud)?);
        let pad = MAX_RANK - od.len();
        let wide = starts.info.dtype == ElemType::I64;
        let mut start = [0usize; MAX_RANK];
        for (k, s) in start.iter_mut().enumerate().skip(pad) {
            let room = (o_dims[k] - u_dims[k]) as i64;
            *s = int_at(starts.data, wide, k - pad).clamp(0, room) as usize;
        }
        let (o_strides, u_strides) = (strides(&o_dims), strides(&u_dims));
        let elem = operand.info.dtype.size();
        let row = u_dims[MAX_RANK - 1] * elem;
        // One row of the last dimension at a time.
        let mut rows = u_dims;
        rows[MAX_RANK - 1] = 1;
        for_each_index(&rows, |index| {
            let mut at = *index;
            for (a, s) in at.iter_mut().zip(&start) {
                *a += s;
            }
            let dst = offset(&at, &o_strides) * elem;
            let src = offset(index, &u_strides) * elem;
            out[dst..dst + row].copy_from_slice(&update.data[src..src + row]);
        });
        Ok(())
    }
}
