//! SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (float32, int8) on 3-D
//! `[batch, height, channels]` and 4-D NHWC tensors: the spatial blocks of
//! a (padded) image become batches, and back (with crops), as TFLite's
//! reference kernels order them.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at};
use crate::model::{ElemType, Shape};

/// A prepared SPACE_TO_BATCH_ND or BATCH_TO_SPACE_ND: block height and
/// width, and the padding (or crop) before the height and the width.
#[derive(Clone, Copy, Debug)]
pub struct BlockParams {
    block: [usize; 2],
    before: [usize; 2],
}

/// `[batch, height, width, channels]` of a 3-D (width 1) or 4-D shape.
fn dims4(shape: &Shape) -> [usize; 4] {
    let d = shape.dims();
    match d {
        [b, h, c] => [*b, *h, 1, *c],
        [b, h, w, c] => [*b, *h, *w, *c],
        _ => [0; 4],
    }
}

/// Checks either operator: `to_batch` for SPACE_TO_BATCH_ND (input 2 is
/// the paddings), otherwise BATCH_TO_SPACE_ND (input 2 is the crops).
fn prepare_blocks(ctx: &PrepareCtx<'_, '_>, to_batch: bool) -> Result<BlockParams, Error> {
    if ctx.input_count() != 3 || ctx.output_count() != 1 {
        return Err(ctx.invalid("takes three inputs and gives one output"));
    }
    let (input, out) = (ctx.input(0)?, ctx.output);
    accept(
        ctx,
        input.dtype,
        &[ElemType::F32, ElemType::I8],
        "SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND of types other than float32 or int8",
    )?;
    let rank = input.shape.rank();
    if out.dtype != input.dtype || !(3..=4).contains(&rank) || out.shape.rank() != rank {
        return Err(ctx.invalid("input and output must be 3-D or 4-D, of one type and rank"));
    }
    let spatial = rank - 2;
    let (block, edges) = (ctx.input(1)?, ctx.input(2)?);
    if block.dtype != ElemType::I32
        || edges.dtype != ElemType::I32
        || block.shape.dims() != [spatial]
        || edges.shape.dims() != [spatial, 2]
    {
        return Err(
            ctx.invalid("block shape must be int32 [rank - 2], paddings or crops [rank - 2, 2]")
        );
    }
    let (b, e) = (ctx.constant(1)?, ctx.constant(2)?);
    let mut p = BlockParams {
        block: [1; 2],
        before: [0; 2],
    };
    if b.len() < 4 * spatial || e.len() < 8 * spatial {
        return Ok(p); // only checking: computed constants have no bytes yet
    }
    let (i, o) = (dims4(&input.shape), dims4(&out.shape));
    let mut blocks = 1usize;
    for k in 0..spatial {
        let size = usize::try_from(i32_at(b, k)).ok().filter(|&s| s > 0);
        let lo = usize::try_from(i32_at(e, 2 * k)).ok();
        let hi = usize::try_from(i32_at(e, 2 * k + 1)).ok();
        let (Some(size), Some(lo), Some(hi)) = (size, lo, hi) else {
            return Err(
                ctx.invalid("block sizes must be positive, paddings and crops not negative")
            );
        };
        // The spatial tensor's side, with its padding (or crops).
        let (space, blocked) = if to_batch {
            (i[1 + k], o[1 + k])
        } else {
            (o[1 + k], i[1 + k])
        };
        let whole = space.checked_add(lo).and_then(|s| s.checked_add(hi));
        if whole != blocked.checked_mul(size) {
            return Err(
                ctx.invalid("output shape does not match the block shape and paddings or crops")
            );
        }
        blocks = blocks.saturating_mul(size);
        p.block[k] = size;
        p.before[k] = lo;
    }
    let (space_batch, batch) = if to_batch { (i[0], o[0]) } else { (o[0], i[0]) };
    if Some(batch) != space_batch.checked_mul(blocks) || i[3] != o[3] {
        return Err(ctx.invalid("output batches or channels do not match the block shape"));
    }
    Ok(p)
}

/// Calls `f(space, batch)` with the element offsets of a pixel of the
/// spatial tensor (`space` dimensions, `None` when the pixel falls in the
/// padding or crops) and of the pixel of the batched tensor (`batch`
/// dimensions) it moves to, for every pixel of the batched tensor.
fn for_each_pixel(
    p: &BlockParams,
    space: [usize; 4],
    batch: [usize; 4],
    mut f: impl FnMut(Option<usize>, usize),
) {
    let [bh, bw] = p.block;
    let [top, left] = p.before;
    let mut at = 0;
    for b in 0..batch[0] {
        let (image, shift) = (b % space[0], b / space[0]);
        let (shift_h, shift_w) = (shift / bw, shift % bw);
        for y in 0..batch[1] {
            let sy = (y * bh + shift_h)
                .checked_sub(top)
                .filter(|&v| v < space[1]);
            for x in 0..batch[2] {
                let sx = (x * bw + shift_w)
                    .checked_sub(left)
                    .filter(|&v| v < space[2]);
                let from = sy
                    .zip(sx)
                    .map(|(sy, sx)| ((image * space[1] + sy) * space[2] + sx) * space[3]);
                f(from, at);
                at += batch[3];
            }
        }
    }
}

/// SPACE_TO_BATCH_ND: the padding is zero bytes (TFLite Micro never sets
/// the pad value its reference kernel takes).
pub struct SpaceToBatchNd;

impl Op for SpaceToBatchNd {
    type Params<'a> = BlockParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BlockParams, Error> {
        prepare_blocks(ctx, true)
    }

    fn eval(p: &BlockParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (space, batch) = (dims4(&input.info.shape), dims4(&out.info.shape));
        let elem = out.info.dtype.size();
        let n = batch[3] * elem;
        for_each_pixel(p, space, batch, |from, to| {
            let dst = &mut out.data[to * elem..to * elem + n];
            match from {
                Some(from) => dst.copy_from_slice(&input.data[from * elem..from * elem + n]),
                None => dst.fill(0),
            }
        });
        Ok(())
    }
}

/// BATCH_TO_SPACE_ND.
pub struct BatchToSpaceNd;

impl Op for BatchToSpaceNd {
    type Params<'a> = BlockParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BlockParams, Error> {
        prepare_blocks(ctx, false)
    }

    fn eval(p: &BlockParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (batch, space) = (dims4(&input.info.shape), dims4(&out.info.shape));
        let elem = out.info.dtype.size();
        let n = batch[3] * elem;
        for_each_pixel(p, space, batch, |to, from| {
            if let Some(to) = to {
                out.data[to * elem..to * elem + n]
                    .copy_from_slice(&input.data[from * elem..from * elem + n]);
            }
        });
        Ok(())
    }
}
