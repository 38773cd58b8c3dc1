//! Operators that move data without arithmetic on it: RESHAPE, SHAPE,
//! STRIDED_SLICE, PACK, CONCATENATION, PAD, PADV2; and MEAN (float32, int8, int16).

use crate::error::Error;
use crate::kernels::nd;
use crate::kernels::{EvalCtx, Input, Inputs, Op, Output, PrepareCtx, f32_at, i32_at, put_f32};
use crate::model::{ElemType, TensorInfo};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// Checks a RESHAPE: same type and element count.
pub fn prepare_reshape(ctx: &PrepareCtx<'_, '_>) -> Result<(), Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if input.dtype != out.dtype || input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output must have the input's type and element count"));
    }
    Ok(())
}

/// Checks a SHAPE.
pub fn prepare_shape(ctx: &PrepareCtx<'_, '_>) -> Result<(), Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if !matches!(out.dtype, ElemType::I32 | ElemType::I64)
        || out.shape.elements() != input.shape.rank()
    {
        return Err(
            ctx.invalid("output must be int32 or int64 with one element per input dimension")
        );
    }
    Ok(())
}

/// SHAPE.
pub fn eval_shape(input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    for (i, &d) in input.info.shape.dims().iter().enumerate() {
        match out.info.dtype {
            ElemType::I64 => out.data[8 * i..8 * i + 8].copy_from_slice(&(d as i64).to_le_bytes()),
            _ => out.data[4 * i..4 * i + 4].copy_from_slice(&(d as i32).to_le_bytes()),
        }
    }
    Ok(())
}

/// Rank every slicing and padding operator works in, as TFLite Micro does.
const RANK: usize = 5;

/// A prepared STRIDED_SLICE: per-axis start, stop and stride in 5-D,
/// stored as `i32` (as TFLite Micro does) to keep every prepared operator
/// small: the interpreter holds one per operator.
#[derive(Clone, Copy, Debug)]
pub struct SliceParams {
    pub(crate) start: [i32; RANK],
    pub(crate) stop: [i32; RANK],
    pub(crate) stride: [i32; RANK],
}

impl SliceParams {
    /// The whole of a 5-D tensor of ones: start 0, stop 1, stride 1.
    pub(crate) fn identity() -> Self {
        SliceParams {
            start: [0; RANK],
            stop: [1; RANK],
            stride: [1; RANK],
        }
    }
}

/// Checks a STRIDED_SLICE and resolves its constant begin, end and strides.
pub fn prepare_strided_slice(ctx: &PrepareCtx<'_, '_>) -> Result<SliceParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let o = ctx.options()?;
    let (begin_mask, end_mask, ellipsis, new_axis, shrink) = (
        o.i32(0, 0)?,
        o.i32(1, 0)?,
        o.i32(2, 0)?,
        o.i32(3, 0)?,
        o.i32(4, 0)?,
    );
    if ellipsis != 0 || new_axis != 0 || o.u8(5, 0)? != 0 {
        return Err(ctx.unsupported("ellipsis, new-axis masks or offset"));
    }
    let rank = input.shape.rank();
    let indices = |i: usize| -> Result<&[u8], Error> {
        let t = ctx.input(i)?;
        if t.dtype != ElemType::I32 || t.shape.elements() != rank {
            return Err(
                ctx.invalid("begin, end and strides must be int32 with one value per input axis")
            );
        }
        ctx.constant(i)
    };
    let (begin, end, strides) = (indices(1)?, indices(2)?, indices(3)?);
    if input.dtype != out.dtype || rank > RANK {
        return Err(ctx.unsupported("rank above 5 or an output type other than the input's"));
    }
    let dims = nd::padded::<RANK>(input.shape.dims()).ok_or(ctx.unsupported("rank above 5"))?;
    let pad = RANK - rank;
    let mut p = SliceParams {
        start: [0; RANK],
        stop: [1; RANK],
        stride: [1; RANK],
    };
    let mut elements = 1usize;
    for axis in 0..rank {
        let size = dims[pad + axis] as i64;
        let stride = i64::from(i32_at(strides, axis));
        if stride == 0 {
            return Err(ctx.invalid("a stride of zero"));
        }
        let bit = 1 << axis;
        let mut start = if begin_mask & bit != 0 {
            if stride > 0 { 0 } else { size - 1 }
        } else {
            i64::from(i32_at(begin, axis))
        };
        if start < 0 {
            start += size;
        }
        start = if stride > 0 {
            start.clamp(0, size)
        } else {
            start.clamp(-1, size - 1)
        };
        let stop = if shrink & bit != 0 {
            start + 1
        } else {
            let mut stop = if end_mask & bit != 0 {
                if stride > 0 { size } else { -1 }
            } else {
                i64::from(i32_at(end, axis))
            };
            if stop < 0 && end_mask & bit == 0 {
                stop += size;
            }
            if stride > 0 {
                stop.clamp(0, size)
            } else {
                stop.clamp(-1, size - 1)
            }
        };
        elements *= slice_len(start, stop, stride) as usize;
        let narrow =
            |v: i64| i32::try_from(v).map_err(|_| ctx.invalid("a slice axis of 2^31 or more"));
        p.start[pad + axis] = narrow(start)?;
        p.stop[pad + axis] = narrow(stop)?;
        p.stride[pad + axis] = narrow(stride)?;
    }
    if elements != out.shape.elements() {
        return Err(ctx.invalid("output size does not match the slice"));
    }
    Ok(p)
}

/// Number of indices from `start` towards `stop` (exclusive) by `step`.
fn slice_len(start: i64, stop: i64, step: i64) -> u64 {
    let (span, step) = if step > 0 {
        (stop - start, step)
    } else {
        (start - stop, -step)
    };
    (span.max(0) as u64).div_ceil(step as u64)
}

/// STRIDED_SLICE.
pub fn eval_strided_slice(p: &SliceParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let dims = nd::padded::<RANK>(input.info.shape.dims()).ok_or(Error::Usage("slice rank"))?;
    let strides = nd::strides(&dims);
    let elem = input.info.dtype.size();
    let mut written = 0;
    let range = |k: usize| {
        let (start, stop, step) = (
            i64::from(p.start[k]),
            i64::from(p.stop[k]),
            i64::from(p.stride[k]),
        );
        (0..slice_len(start, stop, step) as i64).map(move |i| (start + i * step) as usize)
    };
    for a in range(0) {
        for b in range(1) {
            for c in range(2) {
                for d in range(3) {
                    for e in range(4) {
                        let src =
                            (a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3] + e)
                                * elem;
                        out.data[written..written + elem]
                            .copy_from_slice(&input.data[src..src + elem]);
                        written += elem;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A prepared PACK or CONCATENATION: inputs joined along `axis`.
#[derive(Clone, Copy, Debug)]
pub struct PackParams {
    axis: usize,
}

fn same_quant(a: &TensorInfo<'_>, b: &TensorInfo<'_>) -> bool {
    a.quant.map(|q| (q.scale, q.zero_point)) == b.quant.map(|q| (q.scale, q.zero_point))
}

/// Checks a PACK (`concat` false) or CONCATENATION (`concat` true).
pub fn prepare_pack(ctx: &PrepareCtx<'_, '_>, concat: bool) -> Result<PackParams, Error> {
    let out = ctx.output;
    let o = ctx.options()?;
    let (axis, act) = if concat {
        (o.i32(0, 0)?, o.u8(1, 0)?)
    } else {
        (o.i32(1, 0)?, 0)
    };
    if act != 0 {
        return Err(ctx.unsupported("fused activation on CONCATENATION"));
    }
    let first = ctx.input(0)?;
    if concat
        && !matches!(
            out.dtype,
            ElemType::F32
                | ElemType::I8
                | ElemType::I16
                | ElemType::I32
                | ElemType::I64
                | ElemType::Bool
        )
    {
        return Err(ctx.unsupported(
            "CONCATENATION of types other than float32, int8, int16, int32, int64, bool",
        ));
    }
    if concat && out.dtype == ElemType::I16 && out.quant.is_some_and(|q| q.zero_point != 0) {
        return Err(ctx.invalid("int16 CONCATENATION with a non-zero zero point"));
    }
    let rank = if concat {
        first.shape.rank()
    } else {
        first.shape.rank() + 1
    };
    let axis = if axis < 0 { axis + rank as i32 } else { axis };
    let axis = usize::try_from(axis)
        .ok()
        .filter(|&a| a < rank)
        .ok_or(ctx.invalid("axis out of range"))?;
    let mut along = 0;
    for i in 0..ctx.input_count() {
        let t = ctx.input(i)?;
        if t.dtype != out.dtype || !same_quant(&t, &out) || t.shape.rank() != first.shape.rank() {
            return Err(
                ctx.unsupported("inputs whose type, rank or quantisation differ from the output's")
            );
        }
        let matches = (0..first.shape.rank())
            .all(|k| (concat && k == axis) || t.shape.dim(k) == first.shape.dim(k));
        if !matches {
            return Err(ctx.invalid("input shapes differ outside the joined axis"));
        }
        along += if concat { t.shape.dim(axis) } else { 1 };
    }
    let expected = first.shape.elements() / first.shape.dim(axis).max(1) * along;
    let expected = if concat {
        expected
    } else {
        first.shape.elements() * ctx.input_count()
    };
    if out.shape.elements() != expected {
        return Err(ctx.invalid("output size does not match the joined inputs"));
    }
    Ok(PackParams { axis })
}

/// PACK or CONCATENATION.
pub fn eval_pack(p: &PackParams, inputs: &Inputs<'_>, out: Output<'_>) -> Result<(), Error> {
    let elem = out.info.dtype.size();
    let outer: usize = out.info.shape.dims()[..p.axis].iter().product();
    let mut written = 0;
    for o in 0..outer {
        for i in 0..inputs.count() {
            let Some(input) = inputs.opt(i)? else {
                continue;
            };
            let dims = input.info.shape.dims();
            let chunk = dims[p.axis..].iter().product::<usize>() * elem;
            out.data[written..written + chunk]
                .copy_from_slice(&input.data[o * chunk..(o + 1) * chunk]);
            written += chunk;
        }
    }
    Ok(())
}

/// A prepared PAD or PADV2: leading padding per axis in 5-D, and the fill
/// bytes when there is no constant-value input (input 2).
#[derive(Clone, Copy, Debug)]
pub struct PadParams {
    before: [usize; RANK],
    fill: [u8; 4],
}

/// Checks a PAD or PADV2 with constant paddings and, optionally, the value
/// to pad with (input 2, one element of the input's type).
pub fn prepare_pad(ctx: &PrepareCtx<'_, '_>) -> Result<PadParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if !(2..=3).contains(&ctx.input_count()) {
        return Err(ctx.invalid("PAD takes two or three inputs"));
    }
    let paddings = ctx.input(1)?;
    let rank = input.shape.rank();
    if paddings.dtype != ElemType::I32
        || paddings.shape.elements() != 2 * rank
        || rank > RANK
        || out.dtype != input.dtype
    {
        return Err(ctx.unsupported("paddings other than constant int32 [rank, 2] up to rank 5"));
    }
    let pads = ctx.constant(1)?;
    let mut before = [0usize; RANK];
    for axis in 0..rank {
        let (lo, hi) = (i32_at(pads, 2 * axis), i32_at(pads, 2 * axis + 1));
        let (Ok(lo), Ok(hi)) = (usize::try_from(lo), usize::try_from(hi)) else {
            return Err(ctx.invalid("negative padding"));
        };
        if out.shape.dim(axis) != input.shape.dim(axis) + lo + hi {
            return Err(ctx.invalid("output shape does not match the paddings"));
        }
        before[RANK - rank + axis] = lo;
    }
    let value = ctx.input_opt(2)?;
    if let Some(v) = value {
        if v.dtype != input.dtype || v.shape.elements() != 1 {
            return Err(ctx.invalid("the pad value must be one element of the input's type"));
        }
        let q = |t: &TensorInfo<'_>| t.quant.map(|q| (q.scale, q.zero_point));
        if input.dtype == ElemType::I8 && q(&v) != q(&out) {
            return Err(ctx.invalid("an int8 pad value must have the output's quantisation"));
        }
    }
    let fill = match out.dtype {
        ElemType::I8 => {
            let zero = out.quant.map_or(0, |q| q.zero_point);
            let zero =
                i8::try_from(zero).map_err(|_| ctx.invalid("output zero point outside int8"))?;
            [zero as u8, 0, 0, 0]
        }
        ElemType::F32 | ElemType::I16 | ElemType::I32 => [0; 4],
        _ => return Err(ctx.unsupported("types other than float32, int8, int16, int32")),
    };
    Ok(PadParams { before, fill })
}

/// PAD and PADV2: `value` is input 2's bytes, when present.
pub fn eval_pad(
    p: &PadParams,
    input: Input<'_>,
    value: Option<Input<'_>>,
    out: Output<'_>,
) -> Result<(), Error> {
    let (Some(id), Some(od)) = (
        nd::padded::<RANK>(input.info.shape.dims()),
        nd::padded::<RANK>(out.info.shape.dims()),
    ) else {
        return Err(Error::Usage("pad rank"));
    };
    let (is, elem) = (nd::strides(&id), out.info.dtype.size());
    let fill = match value {
        Some(v) => v.data.get(..elem).ok_or(Error::Usage("pad value"))?,
        None => &p.fill[..elem],
    };
    let mut index = [0usize; RANK];
    for o in 0..out.info.shape.elements() {
        let inside = (0..RANK).all(|k| index[k] >= p.before[k] && index[k] < p.before[k] + id[k]);
        let dst = &mut out.data[o * elem..(o + 1) * elem];
        if inside {
            let src: usize = (0..RANK)
                .map(|k| (index[k] - p.before[k]) * is[k])
                .sum::<usize>()
                * elem;
            dst.copy_from_slice(&input.data[src..src + elem]);
        } else {
            dst.copy_from_slice(fill);
        }
        for k in (0..RANK).rev() {
            index[k] += 1;
            if index[k] < od[k] {
                break;
            }
            index[k] = 0;
        }
    }
    Ok(())
}

/// How an int8 or int16 MEAN rescales its sums (TFLite Micro's
/// QuantizedMeanOrSum): `sum(x) - input_zp * n`, times `input_scale /
/// output_scale` divided by `n` in fixed point, plus the output zero point.
#[derive(Clone, Copy, Debug)]
struct MeanInt {
    input_zp: i32,
    multiplier: i32,
    shift: i32,
    output_zp: i32,
    wide: bool,
}

/// A prepared MEAN: which of the 5-D axes are reduced, and the int8 path.
#[derive(Clone, Copy, Debug)]
pub struct MeanParams {
    reduced: [bool; RANK],
    int8: Option<MeanInt>,
    /// SUM: the sums are not divided by their count.
    sum: bool,
}

/// Checks a MEAN over constant axes.
pub fn prepare_mean(ctx: &PrepareCtx<'_, '_>) -> Result<MeanParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if input.dtype != out.dtype
        || !matches!(input.dtype, ElemType::F32 | ElemType::I8 | ElemType::I16)
    {
        return Err(ctx.unsupported("MEAN of types other than float32, int8, int16"));
    }
    let axes = ctx.input(1)?;
    let rank = input.shape.rank();
    if axes.dtype != ElemType::I32 || rank > RANK {
        return Err(ctx.unsupported("axes other than constant int32, or rank above 5"));
    }
    let data = ctx.constant(1)?;
    let mut reduced = [false; RANK];
    let mut kept = 1;
    for i in 0..axes.shape.elements() {
        let a = i32_at(data, i);
        let a = if a < 0 { a + rank as i32 } else { a };
        let a = usize::try_from(a)
            .ok()
            .filter(|&a| a < rank)
            .ok_or(ctx.invalid("axis out of range"))?;
        reduced[RANK - rank + a] = true;
    }
    for axis in 0..rank {
        if !reduced[RANK - rank + axis] {
            kept *= input.shape.dim(axis);
        }
    }
    if out.shape.elements() != kept {
        return Err(ctx.invalid("output size does not match the reduction"));
    }
    let int8 = if input.dtype != ElemType::F32 {
        let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
            return Err(ctx.invalid("quantised MEAN without quantisation parameters"));
        };
        let (multiplier, shift) = quantize_multiplier(f64::from(qi.scale) / f64::from(qo.scale));
        Some(MeanInt {
            input_zp: qi.zero_point,
            multiplier,
            shift,
            output_zp: qo.zero_point,
            wide: input.dtype == ElemType::I16,
        })
    } else {
        None
    };
    Ok(MeanParams {
        reduced,
        int8,
        sum: false,
    })
}

/// MEAN: for each output, sums its inputs in input order, then divides by
/// their count (int8, int16: as TFLite Micro's QuantizedMeanOrSum, see [`MeanInt`]).
pub fn eval_mean(p: &MeanParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let d = nd::padded::<RANK>(input.info.shape.dims()).ok_or(Error::Usage("mean rank"))?;
    let strides = nd::strides(&d);
    let (mut kept, mut reduced) = ([1usize; RANK], [1usize; RANK]);
    for k in 0..RANK {
        if p.reduced[k] {
            reduced[k] = d[k]
        } else {
            kept[k] = d[k]
        }
    }
    let n = reduced.iter().product::<usize>().max(1) as i64;
    // The multiplier divided by n, as QuantizedMeanOrSum does.
    let scaled = p.int8.map(|q| {
        if p.sum {
            return (q.multiplier, q.shift);
        }
        let shift = (63 - (n as u64).leading_zeros() as i32)
            .min(32)
            .min(31 + q.shift);
        let m = ((i64::from(q.multiplier) << shift) / n) as i32;
        (m, q.shift - shift)
    });
    let mut o = 0;
    nd::for_each_index(&kept, |at| {
        let base: usize = (0..RANK).map(|k| at[k] * strides[k]).sum();
        let (mut sum_i, mut sum_f) = (0i32, 0f32);
        nd::for_each_index(&reduced, |r| {
            let i = base + (0..RANK).map(|k| r[k] * strides[k]).sum::<usize>();
            match p.int8 {
                Some(q) if q.wide => {
                    sum_i = sum_i.wrapping_add(i32::from(i16::from_le_bytes([
                        input.data[2 * i],
                        input.data[2 * i + 1],
                    ])))
                }
                Some(_) => sum_i = sum_i.wrapping_add(i32::from(input.data[i] as i8)),
                None => sum_f += f32_at(input.data, i),
            }
        });
        match (p.int8, scaled) {
            (Some(q), Some((m, shift))) => {
                let acc = sum_i.wrapping_sub(q.input_zp.wrapping_mul(n as i32));
                let v = multiply_by_quantized_multiplier(acc, m, shift).wrapping_add(q.output_zp);
                if q.wide {
                    let v = v.clamp(-32768, 32767) as i16;
                    out.data[2 * o..2 * o + 2].copy_from_slice(&v.to_le_bytes());
                } else {
                    out.data[o] = v.clamp(-128, 127) as i8 as u8;
                }
            }
            _ if p.sum => put_f32(out.data, o, sum_f),
            _ => put_f32(out.data, o, sum_f / n as f32),
        }
        o += 1;
    });
    Ok(())
}

/// RESHAPE: the bytes are unchanged.
pub struct Reshape;

impl Op for Reshape {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        prepare_reshape(ctx)
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let src = ctx.inputs.get(0)?.data;
        ctx.outputs
            .get(0)?
            .data
            .get_mut(..src.len())
            .ok_or(Error::Usage("reshape size mismatch"))?
            .copy_from_slice(src);
        Ok(())
    }
}

/// SHAPE.
pub struct ShapeOf;

impl Op for ShapeOf {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        prepare_shape(ctx)
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_shape(ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// STRIDED_SLICE.
pub struct StridedSlice;

impl Op for StridedSlice {
    type Params<'a> = SliceParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SliceParams, Error> {
        prepare_strided_slice(ctx)
    }

    fn eval(p: &SliceParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_strided_slice(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// PACK.
pub struct Pack;

impl Op for Pack {
    type Params<'a> = PackParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<PackParams, Error> {
        prepare_pack(ctx, false)
    }

    fn eval(p: &PackParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_pack(p, &ctx.inputs, ctx.outputs.get(0)?)
    }
}

/// CONCATENATION.
pub struct Concatenation;

impl Op for Concatenation {
    type Params<'a> = PackParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<PackParams, Error> {
        prepare_pack(ctx, true)
    }

    fn eval(p: &PackParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_pack(p, &ctx.inputs, ctx.outputs.get(0)?)
    }
}

/// PAD and PADV2 (float32, int8, int16, int32): the value to pad with is
/// input 2 when present, otherwise zero (int8: the output's zero point).
pub struct Pad;

impl Op for Pad {
    type Params<'a> = PadParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<PadParams, Error> {
        prepare_pad(ctx)
    }

    fn eval(p: &PadParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let value = ctx.inputs.opt(2)?;
        eval_pad(p, ctx.inputs.get(0)?, value, ctx.outputs.get(0)?)
    }
}

/// MEAN.
pub struct Mean;

impl Op for Mean {
    type Params<'a> = MeanParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MeanParams, Error> {
        prepare_mean(ctx)
    }

    fn eval(p: &MeanParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_mean(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// A prepared REDUCE_MAX (`max` true) or REDUCE_MIN: the reduced 5-D axes.
#[derive(Clone, Copy, Debug)]
pub struct MinMaxParams {
    reduced: [bool; RANK],
    max: bool,
}

/// Checks a REDUCE_MAX or REDUCE_MIN: float32, or int8 with the output's
/// quantisation, over constant axes.
fn prepare_min_max(ctx: &PrepareCtx<'_, '_>, max: bool) -> Result<MinMaxParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    if input.dtype == ElemType::I8
        && input.quant.map(|q| (q.scale, q.zero_point))
            != out.quant.map(|q| (q.scale, q.zero_point))
    {
        return Err(ctx.unsupported("int8 REDUCE_MAX/MIN whose output quantisation differs"));
    }
    if !matches!(input.dtype, ElemType::F32 | ElemType::I8) {
        return Err(ctx.unsupported("REDUCE_MAX/MIN of types other than float32 or int8"));
    }
    let p = prepare_mean(ctx)?;
    Ok(MinMaxParams {
        reduced: p.reduced,
        max,
    })
}

/// REDUCE_MAX or REDUCE_MIN, in input order from the type's extreme.
fn eval_min_max(p: &MinMaxParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let d = nd::padded::<RANK>(input.info.shape.dims()).ok_or(Error::Usage("reduce rank"))?;
    let strides = nd::strides(&d);
    let (mut kept, mut reduced) = ([1usize; RANK], [1usize; RANK]);
    for k in 0..RANK {
        if p.reduced[k] {
            reduced[k] = d[k]
        } else {
            kept[k] = d[k]
        }
    }
    let float = input.info.dtype == ElemType::F32;
    let mut o = 0;
    nd::for_each_index(&kept, |at| {
        let base: usize = (0..RANK).map(|k| at[k] * strides[k]).sum();
        let (mut vf, mut vi) = if p.max {
            (f32::MIN, i8::MIN)
        } else {
            (f32::MAX, i8::MAX)
        };
        nd::for_each_index(&reduced, |r| {
            let i = base + (0..RANK).map(|k| r[k] * strides[k]).sum::<usize>();
            if float {
                let x = f32_at(input.data, i);
                if (p.max && x > vf) || (!p.max && x < vf) {
                    vf = x;
                }
            } else {
                let x = input.data[i] as i8;
                if (p.max && x > vi) || (!p.max && x < vi) {
                    vi = x;
                }
            }
        });
        if float {
            put_f32(out.data, o, vf);
        } else {
            out.data[o] = vi as u8;
        }
        o += 1;
    });
    Ok(())
}

/// REDUCE_MAX.
pub struct ReduceMax;

impl Op for ReduceMax {
    type Params<'a> = MinMaxParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MinMaxParams, Error> {
        prepare_min_max(ctx, true)
    }

    fn eval(p: &MinMaxParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_min_max(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// REDUCE_MIN.
pub struct ReduceMin;

impl Op for ReduceMin {
    type Params<'a> = MinMaxParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MinMaxParams, Error> {
        prepare_min_max(ctx, false)
    }

    fn eval(p: &MinMaxParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_min_max(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

/// SUM: MEAN's reduction without the division by the count.
pub struct Sum;

impl Op for Sum {
    type Params<'a> = MeanParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MeanParams, Error> {
        Ok(MeanParams {
            sum: true,
            ..prepare_mean(ctx)?
        })
    }

    fn eval(p: &MeanParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_mean(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}
