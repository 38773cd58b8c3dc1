//! Image resizing of 4-D NHWC tensors to a constant `[height, width]`:
//! RESIZE_BILINEAR (float32, and int8 in fixed point with 10 fractional
//! bits) and RESIZE_NEAREST_NEIGHBOR (float32, int8, int16), with the
//! `align_corners` and `half_pixel_centers` options, as TFLite's reference
//! kernels compute them.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, i32_at, nhwc, put_f32};
use crate::model::ElemType;
use crate::opcode::Opcode;

/// Largest input or output height and width: the fixed-point arithmetic
/// of the int8 kernel stays within `i32` below it.
const MAX_SIDE: usize = 1 << 16;

/// A prepared resize: its options (the sizes are the tensors' shapes).
#[derive(Clone, Copy, Debug)]
pub struct ResizeParams {
    align_corners: bool,
    half_pixel_centers: bool,
}

/// Checks what both resizes share: an NHWC input and output of the same
/// type, a constant int32 `[2]` size that is the output's height and width,
/// and sides in `1..=MAX_SIDE`. Returns the input and output dimensions.
fn check_shapes(ctx: &PrepareCtx<'_, '_>) -> Result<([usize; 4], [usize; 4]), Error> {
    if ctx.input_count() != 2 || ctx.output_count() != 1 {
        return Err(ctx.invalid("a resize takes two inputs and gives one output"));
    }
    let (input, out) = (ctx.input(0)?, ctx.output);
    let (Some(i), Some(o)) = (nhwc(&input), nhwc(&out)) else {
        return Err(ctx.invalid("input and output must be 4-D"));
    };
    if out.dtype != input.dtype {
        return Err(ctx.invalid("output must have the input's type"));
    }
    let size = ctx.input(1)?;
    if size.dtype != ElemType::I32 || size.shape.rank() != 1 || size.shape.dim(0) != 2 {
        return Err(ctx.invalid("size must be int32 [2]"));
    }
    let data = ctx.constant(1)?;
    // While only checking, a size computed at prepare time has no bytes yet.
    if data.len() >= 8 {
        let (h, w) = (i32_at(data, 0), i32_at(data, 1));
        if usize::try_from(h).ok() != Some(o[1]) || usize::try_from(w).ok() != Some(o[2]) {
            return Err(ctx.invalid("output height and width must be the size"));
        }
    }
    if o[0] != i[0] || o[3] != i[3] {
        return Err(ctx.invalid("output must have the input's batches and channels"));
    }
    let sides = [i[1], i[2], o[1], o[2]];
    if sides.contains(&0) {
        return Err(ctx.unsupported("resize from or to an empty image"));
    }
    if sides.iter().any(|&s| s > MAX_SIDE) {
        return Err(ctx.unsupported("resize with a side above 65536"));
    }
    Ok((i, o))
}

/// Reads the two options (field ids for RESIZE_BILINEAR's table, where
/// two deprecated fields come first, or RESIZE_NEAREST_NEIGHBOR's).
fn options(ctx: &PrepareCtx<'_, '_>) -> Result<ResizeParams, Error> {
    let first = if ctx.op.opcode == Opcode::RESIZE_BILINEAR {
        2
    } else {
        0
    };
    let (align_corners, half_pixel_centers) = match ctx.op.options()? {
        Some(o) => (o.u8(first, 0)? != 0, o.u8(first + 1, 0)? != 0),
        None => (false, false),
    };
    Ok(ResizeParams {
        align_corners,
        half_pixel_centers,
    })
}

/// Source coordinate scale of an axis, in float.
fn scale_f32(input: usize, output: usize, align_corners: bool) -> f32 {
    if align_corners && output > 1 {
        (input - 1) as f32 / (output - 1) as f32
    } else {
        input as f32 / output as f32
    }
}

/// Source coordinate scale of an axis, with 10 fractional bits, rounded.
fn scale_q10(input: usize, output: usize, align_corners: bool) -> i32 {
    let (i, o) = if align_corners && output > 1 {
        (input as i32 - 1, output as i32 - 1)
    } else {
        (input as i32, output as i32)
    };
    ((1 << 10) * i + o / 2) / o
}

/// The float source coordinate of output index `v` and the two input
/// indices around it (the lower not below 0, the upper not past the edge).
#[inline(always)]
fn source_f32(v: usize, scale: f32, half_pixel: bool, size: usize) -> (f32, usize, usize) {
    let at = if half_pixel {
        (v as f32 + 0.5) * scale - 0.5
    } else {
        v as f32 * scale
    };
    let low = (libm::floorf(at) as i32).max(0) as usize;
    let high = (libm::ceilf(at) as i32).min(size as i32 - 1).max(0) as usize;
    (at, low, high)
}

/// The fixed-point source coordinate (10 fractional bits) of output index
/// `v` and the two input indices around it.
#[inline(always)]
fn source_q10(v: usize, scale: i32, half_pixel: bool, size: usize) -> (i32, usize, usize) {
    let at = if half_pixel {
        v as i32 * scale + scale / 2 - (1 << 9)
    } else {
        v as i32 * scale
    };
    let low = (at / (1 << 10)).max(0) as usize;
    let high = ((at + (1 << 10) - 1) / (1 << 10))
        .min(size as i32 - 1)
        .max(0) as usize;
    (at, low, high)
}

/// RESIZE_BILINEAR.
pub struct ResizeBilinear;

impl Op for ResizeBilinear {
    type Params<'a> = ResizeParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ResizeParams, Error> {
        let (i, o) = check_shapes(ctx)?;
        let dtype = ctx.output.dtype;
        accept(
            ctx,
            dtype,
            &[ElemType::F32, ElemType::I8],
            "RESIZE_BILINEAR of types other than float32 or int8",
        )?;
        let p = options(ctx)?;
        if p.align_corners && p.half_pixel_centers {
            return Err(ctx.invalid("align_corners and half_pixel_centers are both set"));
        }
        // The lower source index grows with the output index and is not
        // clamped to the edge: the last one must fall inside the input.
        for (input, output) in [(i[1], o[1]), (i[2], o[2])] {
            let last = if dtype == ElemType::F32 {
                let scale = scale_f32(input, output, p.align_corners);
                source_f32(output - 1, scale, p.half_pixel_centers, input).1
            } else {
                let scale = scale_q10(input, output, p.align_corners);
                source_q10(output - 1, scale, p.half_pixel_centers, input).1
            };
            if last >= input {
                return Err(ctx.unsupported(
                    "RESIZE_BILINEAR whose scale reads past the input's edge (large upscaling)",
                ));
            }
        }
        Ok(p)
    }

    fn eval(p: &ResizeParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (Some(i), Some(o)) = (nhwc(&input.info), nhwc(&out.info)) else {
            return Err(Error::Usage("resize rank"));
        };
        if input.info.dtype == ElemType::F32 {
            bilinear_f32(p, i, [o[1], o[2]], input.data, out.data);
        } else {
            bilinear_i8(p, i, [o[1], o[2]], input.data, out.data);
        }
        Ok(())
    }
}

/// Float32 RESIZE_BILINEAR of `src` (dimensions `i`) to `[height, width]`.
fn bilinear_f32(p: &ResizeParams, i: [usize; 4], [oh, ow]: [usize; 2], src: &[u8], dst: &mut [u8]) {
    let [batches, ih, iw, depth] = i;
    let at = |b: usize, y: usize, x: usize| ((b * ih + y) * iw + x) * depth;
    let (sy, sx) = (
        scale_f32(ih, oh, p.align_corners),
        scale_f32(iw, ow, p.align_corners),
    );
    let mut written = 0;
    for b in 0..batches {
        for y in 0..oh {
            let (fy, y0, y1) = source_f32(y, sy, p.half_pixel_centers, ih);
            let (dy, ry) = (fy - y0 as f32, 1.0 - (fy - y0 as f32));
            for x in 0..ow {
                let (fx, x0, x1) = source_f32(x, sx, p.half_pixel_centers, iw);
                let (dx, rx) = (fx - x0 as f32, 1.0 - (fx - x0 as f32));
                let (a, bl, c, d) = (at(b, y0, x0), at(b, y1, x0), at(b, y0, x1), at(b, y1, x1));
                for ch in 0..depth {
                    let v = f32_at(src, a + ch) * ry * rx
                        + f32_at(src, bl + ch) * dy * rx
                        + f32_at(src, c + ch) * ry * dx
                        + f32_at(src, d + ch) * dy * dx;
                    put_f32(dst, written, v);
                    written += 1;
                }
            }
        }
    }
}

/// Int8 RESIZE_BILINEAR of `src` (dimensions `i`) to `[height, width]`,
/// in fixed point: weights with 10 fractional bits, products with 20.
fn bilinear_i8(p: &ResizeParams, i: [usize; 4], [oh, ow]: [usize; 2], src: &[u8], dst: &mut [u8]) {
    let [batches, ih, iw, depth] = i;
    let at = |b: usize, y: usize, x: usize| ((b * ih + y) * iw + x) * depth;
    let (sy, sx) = (
        scale_q10(ih, oh, p.align_corners),
        scale_q10(iw, ow, p.align_corners),
    );
    let one = 1i64 << 10;
    let value = |k: usize| i64::from(src[k] as i8);
    let mut written = 0;
    for b in 0..batches {
        for y in 0..oh {
            let (qy, y0, y1) = source_q10(y, sy, p.half_pixel_centers, ih);
            let dy = i64::from(qy) - one * y0 as i64;
            for x in 0..ow {
                let (qx, x0, x1) = source_q10(x, sx, p.half_pixel_centers, iw);
                let dx = i64::from(qx) - one * x0 as i64;
                let (a, bl, c, d) = (at(b, y0, x0), at(b, y1, x0), at(b, y0, x1), at(b, y1, x1));
                for ch in 0..depth {
                    let sum = value(a + ch) * (one - dy) * (one - dx)
                        + value(bl + ch) * dy * (one - dx)
                        + value(c + ch) * (one - dy) * dx
                        + value(d + ch) * dy * dx;
                    // Rounds half away from zero, then truncates to int8
                    // as TFLite's static_cast does.
                    let round = if sum > 0 { 1 << 19 } else { -(1 << 19) };
                    dst[written] = ((sum + round) / (1 << 20)) as i8 as u8;
                    written += 1;
                }
            }
        }
    }
}

/// The input index nearest to output index `v` of an axis.
#[inline(always)]
fn nearest(v: usize, input: usize, output: usize, p: &ResizeParams) -> usize {
    let scale = scale_f32(input, output, p.align_corners);
    let offset = if p.half_pixel_centers { 0.5 } else { 0.0 };
    let at = (v as f32 + offset) * scale;
    let index = if p.align_corners {
        libm::roundf(at) as i32
    } else {
        libm::floorf(at) as i32
    };
    index.clamp(0, input as i32 - 1) as usize
}

/// RESIZE_NEAREST_NEIGHBOR.
pub struct ResizeNearestNeighbor;

impl Op for ResizeNearestNeighbor {
    type Params<'a> = ResizeParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ResizeParams, Error> {
        check_shapes(ctx)?;
        accept(
            ctx,
            ctx.output.dtype,
            &[ElemType::F32, ElemType::I8, ElemType::I16],
            "RESIZE_NEAREST_NEIGHBOR of types other than float32, int8, int16",
        )?;
        options(ctx)
    }

    fn eval(p: &ResizeParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (Some(i), Some(o)) = (nhwc(&input.info), nhwc(&out.info)) else {
            return Err(Error::Usage("resize rank"));
        };
        let [batches, ih, iw, depth] = i;
        let (oh, ow) = (o[1], o[2]);
        let pixel = depth * input.info.dtype.size();
        let mut written = 0;
        for b in 0..batches {
            for y in 0..oh {
                let sy = nearest(y, ih, oh, p);
                for x in 0..ow {
                    let sx = nearest(x, iw, ow, p);
                    let from = ((b * ih + sy) * iw + sx) * pixel;
                    out.data[written..written + pixel]
                        .copy_from_slice(&input.data[from..from + pixel]);
                    written += pixel;
                }
            }
        }
        Ok(())
    }
}
