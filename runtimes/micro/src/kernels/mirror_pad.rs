//! MIRROR_PAD (float32, int8): padding that mirrors the input at its
//! edges, REFLECT (without the edge element) or SYMMETRIC (with it), as
//! TFLite Micro's kernel indexes it.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::{self, int_at};
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::{ElemType, MAX_RANK};

/// A prepared MIRROR_PAD: the padding before each axis (padded on the left
/// to `MAX_RANK` axes) and whether the edge is left out (REFLECT).
#[derive(Clone, Copy, Debug)]
pub struct MirrorPadParams {
    before: [u32; MAX_RANK],
    reflect: bool,
}

/// The input index that output index `at` of an axis (of `size` input
/// elements, `before` of padding ahead of them) copies. Past the end the
/// mirrored index stops at 0, as TFLite Micro's does.
#[inline(always)]
fn source(at: usize, before: usize, size: usize, reflect: bool) -> usize {
    let skip = usize::from(reflect);
    if at < before {
        before - 1 + skip - at
    } else if at - before < size {
        at - before
    } else {
        let past = at - before - size;
        (size - 1).saturating_sub(skip + past)
    }
}

/// MIRROR_PAD.
pub struct MirrorPad;

impl Op for MirrorPad {
    type Params<'a> = MirrorPadParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MirrorPadParams, Error> {
        if ctx.input_count() != 2 || ctx.output_count() != 1 {
            return Err(ctx.invalid("MIRROR_PAD takes two inputs and gives one output"));
        }
        let (input, out) = (ctx.input(0)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8],
            "MIRROR_PAD of types other than float32 or int8",
        )?;
        let rank = input.shape.rank();
        if out.dtype != input.dtype || out.shape.rank() != rank {
            return Err(ctx.invalid("output must have the input's type and rank"));
        }
        let paddings = ctx.input(1)?;
        let wide = paddings.dtype == ElemType::I64;
        if !matches!(paddings.dtype, ElemType::I32 | ElemType::I64)
            || paddings.shape.dims() != [rank, 2]
        {
            return Err(ctx.invalid("paddings must be int32 or int64 [rank, 2]"));
        }
        let reflect = match ctx.options()?.u8(0, 0)? {
            0 => true,
            1 => false,
            _ => return Err(ctx.unsupported("mirror pad mode other than REFLECT or SYMMETRIC")),
        };
        let data = ctx.constant(1)?;
        let mut p = MirrorPadParams {
            before: [0; MAX_RANK],
            reflect,
        };
        if data.len() < paddings.bytes() {
            return Ok(p); // only checking: computed constants have no bytes yet
        }
        for k in 0..rank {
            let (lo, hi) = (int_at(data, wide, 2 * k), int_at(data, wide, 2 * k + 1));
            let (Ok(lo), Ok(hi)) = (u32::try_from(lo), u32::try_from(hi)) else {
                return Err(ctx.invalid("negative or too large padding"));
            };
            let size = input.shape.dim(k);
            let expected = size
                .checked_add(lo as usize)
                .and_then(|s| s.checked_add(hi as usize));
            if expected != Some(out.shape.dim(k)) {
                return Err(ctx.invalid("output shape does not match the paddings"));
            }
            // The mirror before the input must stay inside it.
            let room = size.saturating_sub(usize::from(reflect));
            if (size == 0 && lo + hi > 0) || lo as usize > room {
                return Err(ctx.invalid("padding before an axis is larger than the input mirrors"));
            }
            p.before[MAX_RANK - rank + k] = lo;
        }
        Ok(p)
    }

    fn eval(p: &MirrorPadParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let (Some(id), Some(od)) = (
            nd::padded::<MAX_RANK>(input.info.shape.dims()),
            nd::padded::<MAX_RANK>(out.info.shape.dims()),
        ) else {
            return Err(Error::Usage("mirror pad rank"));
        };
        let strides = nd::strides(&id);
        let elem = out.info.dtype.size();
        let mut o = 0;
        nd::for_each_index(&od, |at| {
            let from = (0..MAX_RANK)
                .map(|k| source(at[k], p.before[k] as usize, id[k], p.reflect) * strides[k])
                .sum::<usize>()
                * elem;
            out.data[o..o + elem].copy_from_slice(&input.data[from..from + elem]);
            o += elem;
        });
        Ok(())
    }
}
