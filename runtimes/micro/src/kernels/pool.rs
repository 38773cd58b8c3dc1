//! AVERAGE_POOL_2D and MAX_POOL_2D, float32, int8 and int16, and
//! L2_POOL_2D, float32, following TFLite's reference pooling kernels.

use crate::error::Error;
use crate::kernels::conv::out_size_and_pad;
use crate::kernels::requant::{put_quantized, quantized_at};
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, clamp_f32, f32_at, nhwc, put_f32,
};
use crate::model::ElemType;
use crate::opcode::Opcode;

/// Window geometry of a pooling layer.
#[derive(Clone, Copy, Debug)]
pub struct PoolParams {
    average: bool,
    /// L2_POOL_2D: the root of the window's mean square.
    l2: bool,
    filter: (usize, usize),
    stride: (usize, usize),
    pad: (usize, usize),
    act: Range,
}

/// Checks a pooling layer.
pub fn prepare(ctx: &PrepareCtx<'_, '_>) -> Result<PoolParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let o = ctx.options()?;
    let same = match o.u8(0, 0)? {
        0 => true,
        1 => false,
        _ => return Err(ctx.unsupported("padding other than SAME or VALID")),
    };
    let dim = |v: i32| usize::try_from(v).ok().filter(|&v| v > 0);
    let (Some(sw), Some(sh), Some(fw), Some(fh)) = (
        dim(o.i32(1, 1)?),
        dim(o.i32(2, 1)?),
        dim(o.i32(3, 1)?),
        dim(o.i32(4, 1)?),
    ) else {
        return Err(ctx.invalid("stride and filter size must be positive"));
    };
    let (Some(i), Some(os)) = (nhwc(&input), nhwc(&out)) else {
        return Err(ctx.invalid("input and output must be 4-D"));
    };
    let (oh, pad_h) = out_size_and_pad(same, i[1], fh, sh, 1);
    let (ow, pad_w) = out_size_and_pad(same, i[2], fw, sw, 1);
    if os != [i[0], oh, ow, i[3]] {
        return Err(ctx.invalid("output shape does not match the pooling"));
    }
    if input.dtype != out.dtype
        || !matches!(input.dtype, ElemType::F32 | ElemType::I8 | ElemType::I16)
    {
        return Err(ctx.unsupported("types other than float32, int8 or int16"));
    }
    let l2 = ctx.op.opcode == Opcode::L2_POOL_2D;
    if l2 && input.dtype != ElemType::F32 {
        return Err(ctx.unsupported("L2_POOL_2D of types other than float32"));
    }
    if input.dtype != ElemType::F32
        && input.quant.map(|q| (q.scale, q.zero_point))
            != out.quant.map(|q| (q.scale, q.zero_point))
    {
        return Err(ctx.unsupported("quantised pooling that changes quantisation"));
    }
    Ok(PoolParams {
        average: ctx.op.opcode == Opcode::AVERAGE_POOL_2D,
        l2,
        filter: (fh, fw),
        stride: (sh, sw),
        pad: (pad_h, pad_w),
        act: ctx.activation(o.u8(5, 0)?)?,
    })
}

/// AVERAGE_POOL_2D or MAX_POOL_2D.
pub fn eval(p: &PoolParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let (Some([batches, ih, iw, depth]), Some([_, oh, ow, _])) =
        (nhwc(&input.info), nhwc(&out.info))
    else {
        return Err(Error::Usage("pooling shapes"));
    };
    let dtype = input.info.dtype;
    let float = dtype == ElemType::F32;
    for b in 0..batches {
        for oy in 0..oh {
            let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
            let fy0 = (-y0).max(0) as usize;
            let fy1 = (ih as isize - y0).clamp(0, p.filter.0 as isize) as usize;
            for ox in 0..ow {
                let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                let fx0 = (-x0).max(0) as usize;
                let fx1 = (iw as isize - x0).clamp(0, p.filter.1 as isize) as usize;
                let count = (fy1.saturating_sub(fy0) * fx1.saturating_sub(fx0)) as i64;
                if count == 0 {
                    return Err(Error::Usage("pooling window outside the input"));
                }
                if p.average && dtype == ElemType::I8 && count <= 1 << 23 {
                    let window = Window {
                        rows: ((y0 + fy0 as isize) as usize, fy1 - fy0),
                        columns: ((x0 + fx0 as isize) as usize, fx1 - fx0),
                        count: count as i32,
                    };
                    let o = ((b * oh + oy) * ow + ox) * depth;
                    let image = &input.data[b * ih * iw * depth..][..ih * iw * depth];
                    average_i8(p, image, (iw, depth), window, &mut out.data[o..o + depth]);
                    continue;
                }
                for c in 0..depth {
                    let at = |fy: usize, fx: usize| {
                        let y = (y0 + fy as isize) as usize;
                        let x = (x0 + fx as isize) as usize;
                        ((b * ih + y) * iw + x) * depth + c
                    };
                    let o = ((b * oh + oy) * ow + ox) * depth + c;
                    let window = (fy0..fy1).flat_map(|fy| (fx0..fx1).map(move |fx| (fy, fx)));
                    if float {
                        let v = if p.l2 {
                            let squares = window
                                .map(|(fy, fx)| f32_at(input.data, at(fy, fx)))
                                .fold(0f32, |a, v| a + v * v);
                            libm::sqrtf(squares / count as f32)
                        } else if p.average {
                            window
                                .map(|(fy, fx)| f32_at(input.data, at(fy, fx)))
                                .sum::<f32>()
                                / count as f32
                        } else {
                            window
                                .map(|(fy, fx)| f32_at(input.data, at(fy, fx)))
                                .fold(f32::MIN, f32::max)
                        };
                        put_f32(out.data, o, clamp_f32(v, p.act.float));
                    } else {
                        let values = window
                            .map(|(fy, fx)| i64::from(quantized_at(input.data, dtype, at(fy, fx))));
                        let v = if p.average {
                            let acc: i64 = values.sum();
                            if acc > 0 {
                                (acc + count / 2) / count
                            } else {
                                (acc - count / 2) / count
                            }
                        } else {
                            values.fold(i64::MIN, i64::max)
                        };
                        let v = v.clamp(i64::from(p.act.int.0), i64::from(p.act.int.1));
                        put_quantized(out.data, dtype, o, v as i32);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The input pixels one output of a pooling layer averages: the first row
/// and how many, the first column and how many, and their product.
struct Window {
    rows: (usize, usize),
    columns: (usize, usize),
    count: i32,
}

/// Channels whose sums [`average_i8`] keeps in registers at once.
const LANES: usize = 8;

/// Int8 AVERAGE_POOL_2D of one output pixel, all channels: each window
/// pixel's channels are one contiguous run, summed [`LANES`] channels at
/// a time in int32 (exact: a window holds at most 2^23 values of at most
/// 2^7), then divided rounding half away from zero as TFLite Micro does.
fn average_i8(
    p: &PoolParams,
    image: &[u8],
    (iw, depth): (usize, usize),
    w: Window,
    out: &mut [u8],
) {
    let (low, high) = p.act.int;
    let half = w.count / 2;
    for (c0, out) in (0..depth).step_by(LANES).zip(out.chunks_mut(LANES)) {
        let mut acc = [0i32; LANES];
        for y in w.rows.0..w.rows.0 + w.rows.1 {
            for x in w.columns.0..w.columns.0 + w.columns.1 {
                let pixel = &image[(y * iw + x) * depth + c0..][..out.len()];
                match <&[u8; LANES]>::try_from(pixel) {
                    // A whole group: of known length, unrolled, the sums
                    // in registers.
                    Ok(whole) => accumulate(&mut acc, whole),
                    Err(_) => accumulate(&mut acc, pixel),
                }
            }
        }
        for (o, &a) in out.iter_mut().zip(&acc) {
            let v = if a > 0 {
                (a + half) / w.count
            } else {
                (a - half) / w.count
            };
            *o = v.clamp(low, high) as i8 as u8;
        }
    }
}

/// Adds int8 `values` to `acc`, lane by lane.
#[inline(always)]
fn accumulate(acc: &mut [i32; LANES], values: &[u8]) {
    for (a, &v) in acc.iter_mut().zip(values) {
        *a += i32::from(v as i8);
    }
}

/// AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D.
pub struct Pool;

impl Op for Pool {
    type Params<'a> = PoolParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<PoolParams, Error> {
        prepare(ctx)
    }

    fn eval(p: &PoolParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}
