//! DEPTH_TO_SPACE and SPACE_TO_DEPTH (float32, int8): blocks of
//! `block_size x block_size` pixels of a 4-D NHWC tensor moved into the
//! channels of one pixel, and back, as TFLite's reference kernels order them.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx, nhwc};
use crate::model::ElemType;

/// A prepared DEPTH_TO_SPACE or SPACE_TO_DEPTH: its block size.
#[derive(Clone, Copy, Debug)]
pub struct BlockParams {
    block: usize,
}

/// Checks either operator and returns its parameters. `to_space`: the
/// output is the spatial tensor (DEPTH_TO_SPACE).
fn prepare_block(ctx: &PrepareCtx<'_, '_>, to_space: bool) -> Result<BlockParams, Error> {
    if ctx.input_count() != 1 || ctx.output_count() != 1 {
        return Err(ctx.invalid("takes one input and gives one output"));
    }
    let (input, out) = (ctx.input(0)?, ctx.output);
    accept(
        ctx,
        input.dtype,
        &[ElemType::F32, ElemType::I8],
        "DEPTH_TO_SPACE and SPACE_TO_DEPTH of types other than float32 or int8",
    )?;
    if out.dtype != input.dtype {
        return Err(ctx.invalid("output must have the input's type"));
    }
    let (Some(i), Some(o)) = (nhwc(&input), nhwc(&out)) else {
        return Err(ctx.invalid("input and output must be 4-D"));
    };
    let block = ctx.options()?.i32(0, 0)?;
    let block = usize::try_from(block)
        .ok()
        .filter(|&b| b > 0)
        .ok_or(ctx.invalid("block_size must be positive"))?;
    let area = block.checked_mul(block);
    let want = if to_space {
        if area.is_none_or(|a| i[3] % a != 0) {
            return Err(ctx.invalid("input channels must be a multiple of block_size squared"));
        }
        area.and_then(|a| {
            Some([
                i[0],
                i[1].checked_mul(block)?,
                i[2].checked_mul(block)?,
                i[3] / a,
            ])
        })
    } else {
        if i[1] % block != 0 || i[2] % block != 0 {
            return Err(ctx.invalid("input height and width must be multiples of block_size"));
        }
        area.and_then(|a| i[3].checked_mul(a))
            .map(|d| [i[0], i[1] / block, i[2] / block, d])
    };
    if want != Some(o) {
        return Err(ctx.invalid("output shape does not match block_size"));
    }
    Ok(BlockParams { block })
}

/// Calls `f(space, depth)` with the byte offsets of every pixel of the
/// spatial tensor (dimensions `dims`, in order) and of its place among the
/// channels of the depth tensor: pixel `(b, h, w)` is channels
/// `((h % block) * block + w % block) * depth` onwards of pixel
/// `(b, h / block, w / block)`.
fn for_each_pixel(block: usize, dims: [usize; 4], elem: usize, mut f: impl FnMut(usize, usize)) {
    let [batches, height, width, depth] = dims;
    let chunk = depth * elem;
    let (small_h, small_w) = (height / block, width / block);
    let mut at = 0;
    for b in 0..batches {
        for h in 0..height {
            for w in 0..width {
                let pixel = (b * small_h + h / block) * small_w + w / block;
                let slot = (h % block) * block + w % block;
                f(at, (pixel * block * block + slot) * chunk);
                at += chunk;
            }
        }
    }
}

/// DEPTH_TO_SPACE.
pub struct DepthToSpace;

impl Op for DepthToSpace {
    type Params<'a> = BlockParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BlockParams, Error> {
        prepare_block(ctx, true)
    }

    fn eval(p: &BlockParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let dims = nhwc(&out.info).ok_or(Error::Usage("depth to space rank"))?;
        let n = dims[3] * out.info.dtype.size();
        for_each_pixel(p.block, dims, out.info.dtype.size(), |space, depth| {
            out.data[space..space + n].copy_from_slice(&input.data[depth..depth + n]);
        });
        Ok(())
    }
}

/// SPACE_TO_DEPTH.
pub struct SpaceToDepth;

impl Op for SpaceToDepth {
    type Params<'a> = BlockParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BlockParams, Error> {
        prepare_block(ctx, false)
    }

    fn eval(p: &BlockParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let dims = nhwc(&input.info).ok_or(Error::Usage("space to depth rank"))?;
        let n = dims[3] * out.info.dtype.size();
        for_each_pixel(p.block, dims, out.info.dtype.size(), |space, depth| {
            out.data[depth..depth + n].copy_from_slice(&input.data[space..space + n]);
        });
        Ok(())
    }
}
