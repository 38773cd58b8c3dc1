//! BROADCAST_TO (an input repeated along the axes where it has size 1, to a
//! constant shape of at most 5 dimensions) and BROADCAST_ARGS (the shape
//! two shapes broadcast to), as TFLite Micro's broadcast_to and
//! broadcast_args.

use crate::error::Error;
use crate::kernels::elementwise::for_each_broadcast;
use crate::kernels::nd::int_at;
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::ElemType;

/// Highest rank TFLite Micro's BROADCAST_TO takes.
const MAX_DIMS: usize = 5;

/// BROADCAST_TO.
pub struct BroadcastTo;

impl Op for BroadcastTo {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (input, shape, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if input.dtype == ElemType::Resource || input.dtype != out.dtype {
            return Err(ctx.invalid("output type must be the input's, not a resource"));
        }
        if !matches!(shape.dtype, ElemType::I32 | ElemType::I64) || shape.shape.rank() != 1 {
            return Err(ctx.unsupported("BROADCAST_TO shape other than a 1-D int32 or int64"));
        }
        let (ir, or) = (input.shape.rank(), out.shape.rank());
        if or > MAX_DIMS {
            return Err(ctx.unsupported("BROADCAST_TO of rank above 5"));
        }
        if shape.shape.dim(0) != or || ir > or {
            return Err(ctx.invalid("output rank must be the shape's length, at least the input's"));
        }
        let data = ctx.constant(1)?;
        let wide = shape.dtype == ElemType::I64;
        // While only checking, a folded constant has no bytes yet.
        if data.len() >= shape.bytes() {
            // TFLite Micro reads the shape as int32.
            let same =
                (0..or).all(|k| int_at(data, wide, k) as i32 as i64 == out.shape.dim(k) as i64);
            if !same {
                return Err(ctx.invalid("output shape does not match the shape input"));
            }
        }
        let ext = or - ir;
        let fits = (0..ir).all(|k| {
            let d = input.shape.dim(k);
            d == 1 || d == out.shape.dim(ext + k)
        });
        if !fits {
            return Err(ctx.invalid("the input does not broadcast to the output shape"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.dtype.size();
        let shape = input.info.shape;
        for_each_broadcast(&shape, &shape, &out.info.shape, |o, i, _| {
            out.data[o * n..(o + 1) * n].copy_from_slice(&input.data[i * n..(i + 1) * n]);
        });
        Ok(())
    }
}

/// BROADCAST_ARGS.
pub struct BroadcastArgs;

impl Op for BroadcastArgs {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if !matches!(a.dtype, ElemType::I32 | ElemType::I64) {
            return Err(ctx.unsupported("BROADCAST_ARGS of types other than int32 or int64"));
        }
        if b.dtype != a.dtype || out.dtype != a.dtype {
            return Err(ctx.invalid("both shapes and the output must have one type"));
        }
        if a.shape.rank() != 1 || b.shape.rank() != 1 || out.shape.rank() != 1 {
            return Err(ctx.invalid("shapes and output must be 1-D"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let wide = out.info.dtype == ElemType::I64;
        let (na, nb, n) = (
            a.info.shape.elements(),
            b.info.shape.elements(),
            out.info.shape.elements(),
        );
        // Dimension `k` from the end of a shape of `len` values, 1 before
        // it; TFLite Micro compares them as int32.
        let back = |data: &[u8], len: usize, k: usize| {
            if k < len {
                int_at(data, wide, len - 1 - k) as i32
            } else {
                1
            }
        };
        for k in 0..n {
            let (x, y) = (back(a.data, na, k), back(b.data, nb, k));
            let d = if x == 1 {
                y
            } else if y == 1 || x == y {
                x
            } else {
                return Err(Error::Usage(
                    "BROADCAST_ARGS of shapes that do not broadcast",
                ));
            };
            let o = n - 1 - k;
            if wide {
                out.data[8 * o..8 * o + 8].copy_from_slice(&i64::from(d).to_le_bytes());
            } else {
                out.data[4 * o..4 * o + 4].copy_from_slice(&d.to_le_bytes());
            }
        }
        Ok(())
    }
}
