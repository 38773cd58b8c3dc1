//! Operators that rearrange elements without arithmetic on them:
//! EXPAND_DIMS, SQUEEZE, TRANSPOSE, SPLIT, SPLIT_V, UNPACK and SLICE.

use crate::error::Error;
use crate::kernels::nd::{self, int_at, resolve_axis, split_at_axis};
use crate::kernels::shape_ops::{SliceParams, eval_strided_slice};
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::{ElemType, TensorInfo};

/// Refuses an element type outside `types`, naming what is accepted.
pub(crate) fn accept(
    ctx: &PrepareCtx<'_, '_>,
    dtype: ElemType,
    types: &[ElemType],
    what: &'static str,
) -> Result<(), Error> {
    if types.contains(&dtype) {
        Ok(())
    } else {
        Err(ctx.unsupported(what))
    }
}

/// Same quantisation parameters (or none on both).
pub(crate) fn same_quant(a: &TensorInfo<'_>, b: &TensorInfo<'_>) -> bool {
    a.quant.map(|q| (q.scale, q.zero_point)) == b.quant.map(|q| (q.scale, q.zero_point))
}

/// Copies input 0's bytes to output 0 unchanged.
fn copy_through(ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
    let src = ctx.inputs.get(0)?.data;
    ctx.outputs
        .get(0)?
        .data
        .get_mut(..src.len())
        .ok_or(Error::Usage("output smaller than input"))?
        .copy_from_slice(src);
    Ok(())
}

/// The single value of a constant int32 axis tensor (input `i`).
fn constant_axis(ctx: &PrepareCtx<'_, '_>, i: usize) -> Result<i64, Error> {
    let t = ctx.input(i)?;
    if t.dtype != ElemType::I32 || t.shape.elements() != 1 || t.shape.rank() > 1 {
        return Err(ctx.unsupported("axis other than a single int32 value"));
    }
    let data = ctx
        .input(i)?
        .data
        .ok_or(ctx.unsupported("a non-constant axis tensor"))?;
    // While only checking, a folded constant has no bytes yet.
    Ok(if data.len() >= 4 {
        i64::from(super::i32_at(data, 0))
    } else {
        0
    })
}

/// EXPAND_DIMS: a byte copy; the output has a 1 inserted at the axis.
pub struct ExpandDims;

impl Op for ExpandDims {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8, ElemType::I16],
            "EXPAND_DIMS of types other than float32, int8, int16",
        )?;
        let axis = constant_axis(ctx, 1)?;
        let rank = input.shape.rank();
        let axis = resolve_axis(axis, rank + 1).ok_or(ctx.invalid("axis out of range"))?;
        let d = input.shape.dims();
        let ok = out.dtype == input.dtype
            && out.shape.rank() == rank + 1
            && (0..=rank).all(|i| {
                let want = match i.cmp(&axis) {
                    core::cmp::Ordering::Less => d[i],
                    core::cmp::Ordering::Equal => 1,
                    core::cmp::Ordering::Greater => d[i - 1],
                };
                out.shape.dim(i) == want
            });
        if !ok {
            return Err(ctx.invalid("output must be the input with a 1 inserted at the axis"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        copy_through(ctx)
    }
}

/// SQUEEZE: a byte copy; the output drops dimensions of size 1.
pub struct Squeeze;

impl Op for Squeeze {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        let rank = input.shape.rank();
        let mut squeeze = [false; crate::model::MAX_RANK];
        let dims = match ctx.op.options()? {
            Some(o) => o.vector(0, 4)?,
            None => None,
        };
        match dims.filter(|v| !v.is_empty()) {
            None => {
                for (k, s) in squeeze.iter_mut().enumerate().take(rank) {
                    *s = input.shape.dim(k) == 1;
                }
            }
            Some(v) => {
                for i in 0..v.len() {
                    let a = resolve_axis(i64::from(v.i32(i)?), rank)
                        .filter(|&a| input.shape.dim(a) == 1)
                        .ok_or(ctx.invalid("squeezed dimension out of range or not of size 1"))?;
                    squeeze[a] = true;
                }
            }
        }
        let mut o = 0;
        let mut ok = out.dtype == input.dtype;
        for (k, &s) in squeeze.iter().enumerate().take(rank) {
            if !s {
                ok &= out.shape.dim(o) == input.shape.dim(k) && o < out.shape.rank();
                o += 1;
            }
        }
        if !ok || o != out.shape.rank() {
            return Err(ctx.invalid("output must be the input without the squeezed dimensions"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        copy_through(ctx)
    }
}

/// Highest rank TFLite Micro's TRANSPOSE takes.
const TRANSPOSE_RANK: usize = 5;

/// A prepared TRANSPOSE: output axis `k` is input axis `perm[k]`, in 5-D.
#[derive(Clone, Copy, Debug)]
pub struct TransposeParams {
    perm: [u8; TRANSPOSE_RANK],
}

/// TRANSPOSE.
pub struct Transpose;

impl Op for Transpose {
    type Params<'a> = TransposeParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<TransposeParams, Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8, ElemType::I16],
            "TRANSPOSE of types other than float32, int8, int16",
        )?;
        let rank = input.shape.rank();
        if rank > TRANSPOSE_RANK {
            return Err(ctx.unsupported("TRANSPOSE of rank above 5"));
        }
        let perm = ctx.input(1)?;
        if perm.dtype != ElemType::I32 || perm.shape.rank() != 1 || perm.shape.dim(0) != rank {
            return Err(ctx.invalid("perm must be int32 with one value per input axis"));
        }
        let data = ctx.constant(1)?;
        let mut p = TransposeParams {
            perm: [0, 1, 2, 3, 4],
        };
        if data.len() < 4 * rank {
            // Only checking, and perm is computed at prepare time.
            return Ok(p);
        }
        let pad = TRANSPOSE_RANK - rank;
        let mut seen = [false; TRANSPOSE_RANK];
        for k in 0..rank {
            let a = usize::try_from(super::i32_at(data, k))
                .ok()
                .filter(|&a| a < rank && !seen[a])
                .ok_or(ctx.invalid("perm is not a permutation of the input axes"))?;
            seen[a] = true;
            p.perm[pad + k] = (pad + a) as u8;
            if out.shape.dim(k) != input.shape.dim(a) {
                return Err(ctx.invalid("output shape does not match the permutation"));
            }
        }
        if out.dtype != input.dtype || out.shape.rank() != rank {
            return Err(ctx.invalid("output must have the input's type and rank"));
        }
        Ok(p)
    }

    fn eval(p: &TransposeParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let d: [usize; TRANSPOSE_RANK] =
            nd::padded(input.info.shape.dims()).ok_or(Error::Usage("transpose rank"))?;
        let s = nd::strides(&d);
        let mut od = [1usize; TRANSPOSE_RANK];
        let mut os = [0usize; TRANSPOSE_RANK];
        for k in 0..TRANSPOSE_RANK {
            od[k] = d[p.perm[k] as usize];
            os[k] = s[p.perm[k] as usize];
        }
        let elem = input.info.dtype.size();
        let mut o = 0;
        nd::for_each_index(&od, |at| {
            let src = nd::offset(at, &os) * elem;
            out.data[o..o + elem].copy_from_slice(&input.data[src..src + elem]);
            o += elem;
        });
        Ok(())
    }
}

/// A prepared SPLIT, SPLIT_V or UNPACK: the input tensor and the axis.
#[derive(Clone, Copy, Debug)]
pub struct SplitParams {
    input: u8,
    axis: u8,
}

/// Checks the outputs of a split of `input` along `axis`: same type and
/// quantisation; the same dimensions off the axis; `unpack` drops the axis,
/// otherwise the sizes along it add up to the input's.
fn check_split(
    ctx: &PrepareCtx<'_, '_>,
    input: &TensorInfo<'_>,
    axis: usize,
    unpack: bool,
) -> Result<(), Error> {
    let rank = input.shape.rank();
    let mut along = 0;
    for i in 0..ctx.output_count() {
        let o = ctx.output_at(i)?;
        if o.dtype != input.dtype || !same_quant(&o, input) {
            return Err(ctx.invalid("outputs must have the input's type and quantisation"));
        }
        let ok = if unpack {
            o.shape.rank() + 1 == rank
                && (0..rank - 1)
                    .all(|k| o.shape.dim(k) == input.shape.dim(if k < axis { k } else { k + 1 }))
        } else {
            o.shape.rank() == rank
                && (0..rank).all(|k| k == axis || o.shape.dim(k) == input.shape.dim(k))
        };
        if !ok {
            return Err(ctx.invalid("an output shape does not match the split"));
        }
        along += if unpack { 1 } else { o.shape.dim(axis) };
    }
    if along != input.shape.dim(axis) {
        return Err(ctx.invalid("the outputs do not add up to the input along the axis"));
    }
    Ok(())
}

const SPLIT_TYPES: &[ElemType] = &[ElemType::F32, ElemType::I8, ElemType::I16, ElemType::I32];

/// Writes each outer block of the input to the outputs in turn, each taking
/// its size along the axis (one element for UNPACK).
fn eval_split(p: &SplitParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
    let input = ctx.inputs.get(usize::from(p.input))?;
    let axis = usize::from(p.axis);
    let (outer, _, inner) = split_at_axis(&input.info.shape, axis);
    let elem = input.info.dtype.size();
    let mut at = 0;
    for k in 0..outer {
        for i in 0..ctx.outputs.count() {
            let out = ctx.outputs.get(i)?;
            let rank_kept = out.info.shape.rank() == input.info.shape.rank();
            let along = if rank_kept {
                out.info.shape.dim(axis)
            } else {
                1
            };
            let chunk = along * inner * elem;
            out.data[k * chunk..(k + 1) * chunk].copy_from_slice(&input.data[at..at + chunk]);
            at += chunk;
        }
    }
    Ok(())
}

/// SPLIT: input 0 is the axis, input 1 the tensor; equal outputs.
pub struct Split;

impl Op for Split {
    type Params<'a> = SplitParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SplitParams, Error> {
        let input = ctx.input(1)?;
        accept(
            ctx,
            input.dtype,
            SPLIT_TYPES,
            "SPLIT of types other than float32, int8, int16, int32",
        )?;
        let axis = resolve_axis(constant_axis(ctx, 0)?, input.shape.rank())
            .ok_or(ctx.invalid("axis out of range"))?;
        check_split(ctx, &input, axis, false)?;
        let first = ctx.output_at(0)?.shape.dim(axis);
        for i in 1..ctx.output_count() {
            if ctx.output_at(i)?.shape.dim(axis) != first {
                return Err(ctx.invalid("SPLIT outputs must be of equal size"));
            }
        }
        Ok(SplitParams {
            input: 1,
            axis: axis as u8,
        })
    }

    fn eval(p: &SplitParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_split(p, ctx)
    }
}

/// SPLIT_V: input 0 the tensor, 1 the sizes, 2 the axis; the sizes are
/// the outputs' (static) sizes along the axis.
pub struct SplitV;

impl Op for SplitV {
    type Params<'a> = SplitParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SplitParams, Error> {
        if ctx.input_count() != 3 {
            return Err(ctx.invalid("SPLIT_V takes three inputs"));
        }
        let input = ctx.input(0)?;
        accept(
            ctx,
            input.dtype,
            SPLIT_TYPES,
            "SPLIT_V of types other than float32, int8, int16, int32",
        )?;
        let axis = resolve_axis(constant_axis(ctx, 2)?, input.shape.rank())
            .ok_or(ctx.invalid("axis out of range"))?;
        check_split(ctx, &input, axis, false)?;
        Ok(SplitParams {
            input: 0,
            axis: axis as u8,
        })
    }

    fn eval(p: &SplitParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_split(p, ctx)
    }
}

/// UNPACK: `num` outputs, the input sliced along the axis.
pub struct Unpack;

impl Op for Unpack {
    type Params<'a> = SplitParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SplitParams, Error> {
        let input = ctx.input(0)?;
        accept(
            ctx,
            input.dtype,
            SPLIT_TYPES,
            "UNPACK of types other than float32, int8, int16, int32",
        )?;
        let o = ctx.options()?;
        let (num, axis) = (o.i32(0, 0)?, o.i32(1, 0)?);
        let axis = resolve_axis(i64::from(axis), input.shape.rank())
            .ok_or(ctx.invalid("axis out of range"))?;
        if usize::try_from(num).ok() != Some(ctx.output_count()) {
            return Err(ctx.invalid("num must be the number of outputs"));
        }
        check_split(ctx, &input, axis, true)?;
        Ok(SplitParams {
            input: 0,
            axis: axis as u8,
        })
    }

    fn eval(p: &SplitParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_split(p, ctx)
    }
}

/// SLICE: a block of the input from constant begins and sizes (-1: to the
/// end), in 5-D as TFLite Micro does.
pub struct Slice;

impl Op for Slice {
    type Params<'a> = SliceParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SliceParams, Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[
                ElemType::F32,
                ElemType::I8,
                ElemType::I16,
                ElemType::I32,
                ElemType::Bool,
            ],
            "SLICE of types other than float32, int8, int16, int32, bool",
        )?;
        let rank = input.shape.rank();
        if rank > 5 {
            return Err(ctx.unsupported("SLICE of rank above 5"));
        }
        let (begin, size) = (ctx.input(1)?, ctx.input(2)?);
        let wide = begin.dtype == ElemType::I64;
        if begin.dtype != size.dtype
            || !matches!(begin.dtype, ElemType::I32 | ElemType::I64)
            || begin.shape.rank() != 1
            || size.shape.rank() != 1
            || begin.shape.dim(0) != rank
            || size.shape.dim(0) != rank
        {
            return Err(ctx.invalid("begin and size must be int32 or int64, one per input axis"));
        }
        let (b, s) = (ctx.constant(1)?, ctx.constant(2)?);
        let mut p = SliceParams::identity();
        if out.dtype != input.dtype || out.shape.rank() != rank {
            return Err(ctx.invalid("output must have the input's type and rank"));
        }
        if b.len() < begin.bytes() || s.len() < size.bytes() {
            return Ok(p); // only checking: computed constants have no bytes yet
        }
        let pad = 5 - rank;
        for k in 0..rank {
            let dim = input.shape.dim(k) as i64;
            let start = int_at(b, wide, k);
            let len = int_at(s, wide, k);
            let stop = if len == -1 {
                dim
            } else {
                start.saturating_add(len)
            };
            if start < 0 || start > dim || stop < start || stop > dim {
                return Err(ctx.invalid("slice outside the input"));
            }
            if out.shape.dim(k) as i64 != stop - start {
                return Err(ctx.invalid("output shape does not match the slice"));
            }
            p.start[pad + k] = start as i32;
            p.stop[pad + k] = stop as i32;
        }
        Ok(p)
    }

    fn eval(p: &SliceParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_strided_slice(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}
