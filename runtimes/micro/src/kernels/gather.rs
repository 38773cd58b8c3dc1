//! GATHER: slices of the parameters picked by int32 indices, with batch
//! dimensions, as TFLite Micro's gather.

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::nd::resolve_axis;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at};
use crate::model::ElemType;

/// A prepared GATHER.
#[derive(Clone, Copy, Debug)]
pub struct GatherParams {
    batch: usize,
    outer: usize,
    axis_size: usize,
    inner: usize,
    coords: usize,
}

/// GATHER.
pub struct Gather;

impl Op for Gather {
    type Params<'a> = GatherParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<GatherParams, Error> {
        let (input, coords, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        accept(
            ctx,
            input.dtype,
            &[ElemType::F32, ElemType::I8],
            "GATHER of types other than float32 or int8",
        )?;
        if coords.dtype != ElemType::I32 {
            return Err(ctx.unsupported("GATHER indices other than int32"));
        }
        let o = ctx.options()?;
        let (rank, crank) = (input.shape.rank(), coords.shape.rank());
        let axis =
            resolve_axis(i64::from(o.i32(0, 0)?), rank).ok_or(ctx.invalid("axis out of range"))?;
        let batch_dims = i64::from(o.i32(1, 0)?);
        let batch_dims = if batch_dims < 0 {
            batch_dims + crank as i64
        } else {
            batch_dims
        };
        let batch_dims = usize::try_from(batch_dims)
            .ok()
            .filter(|&b| b <= axis && b < rank && b <= crank)
            .ok_or(ctx.invalid("batch_dims out of range"))?;
        if (0..batch_dims).any(|i| input.shape.dim(i) != coords.shape.dim(i)) {
            return Err(ctx.invalid("batch dimensions of params and indices differ"));
        }
        // Output: params[..axis], indices[batch_dims..], params[axis + 1..].
        let mut want = [0usize; crate::model::MAX_RANK];
        let mut n = 0;
        let dims = input.shape.dims()[..axis]
            .iter()
            .chain(&coords.shape.dims()[batch_dims..])
            .chain(&input.shape.dims()[axis + 1..]);
        for &d in dims {
            *want
                .get_mut(n)
                .ok_or(ctx.unsupported("output rank above 6"))? = d;
            n += 1;
        }
        if out.dtype != input.dtype || out.shape.dims() != &want[..n] {
            return Err(ctx.invalid("output shape or type does not match the gather"));
        }
        let d = input.shape.dims();
        let p = GatherParams {
            batch: d[..batch_dims].iter().product(),
            outer: d[batch_dims..axis].iter().product(),
            axis_size: d[axis],
            inner: d[axis + 1..].iter().product(),
            coords: coords.shape.dims()[batch_dims..].iter().product(),
        };
        if let Some(c) = coords.data.filter(|c| c.len() >= coords.bytes()) {
            let bad = (0..coords.shape.elements())
                .any(|i| usize::try_from(i32_at(c, i)).map_or(true, |v| v >= p.axis_size));
            if bad {
                return Err(ctx.invalid("an index is out of range"));
            }
        }
        Ok(p)
    }

    fn eval(p: &GatherParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let coords = ctx.inputs.get(1)?.data;
        let out = ctx.outputs.get(0)?;
        let chunk = p.inner * input.info.dtype.size();
        let mut o = 0;
        for b in 0..p.batch {
            for outer in 0..p.outer {
                for c in 0..p.coords {
                    let index = usize::try_from(i32_at(coords, b * p.coords + c))
                        .ok()
                        .filter(|&i| i < p.axis_size)
                        .ok_or(Error::Usage("GATHER index out of range"))?;
                    let src = ((b * p.outer + outer) * p.axis_size + index) * chunk;
                    out.data[o..o + chunk].copy_from_slice(&input.data[src..src + chunk]);
                    o += chunk;
                }
            }
        }
        Ok(())
    }
}
