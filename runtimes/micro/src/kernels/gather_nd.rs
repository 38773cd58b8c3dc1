//! GATHER_ND: slices of the parameters addressed by the innermost dimension
//! of int32 indices, as TFLite Micro's gather_nd (float32 or int8
//! parameters, at most 5 index components).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at};
use crate::model::ElemType;

/// Most index components TFLite Micro takes.
const MAX_INDICES_ND: usize = 5;

/// A prepared GATHER_ND.
#[derive(Clone, Copy, Debug)]
pub struct GatherNdParams {
    /// Index components per slice.
    nd: usize,
    /// Number of slices gathered.
    slices: usize,
    /// Elements per slice.
    slice: usize,
    /// Elements of the parameters.
    flat: usize,
    /// Elements a step of each index component moves.
    step: [usize; MAX_INDICES_ND],
}

impl GatherNdParams {
    /// Where slice `i` starts in the parameters, as TFLite Micro computes
    /// it: the components weighted by their steps, checked only against
    /// the whole parameters; `None` when out of bounds.
    fn start(&self, indices: &[u8], i: usize) -> Option<usize> {
        let pos = (0..self.nd).fold(0i64, |pos, j| {
            let index = i64::from(i32_at(indices, i * self.nd + j));
            pos.saturating_add(index.saturating_mul(self.step[j] as i64))
        });
        usize::try_from(pos)
            .ok()
            .filter(|&p| p.checked_add(self.slice).is_some_and(|e| e <= self.flat))
    }
}

/// GATHER_ND.
pub struct GatherNd;

impl Op for GatherNd {
    type Params<'a> = GatherNdParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<GatherNdParams, Error> {
        let (params, indices, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        accept(
            ctx,
            params.dtype,
            &[ElemType::F32, ElemType::I8],
            "GATHER_ND of types other than float32 or int8",
        )?;
        if indices.dtype != ElemType::I32 {
            return Err(ctx.unsupported("GATHER_ND indices other than int32"));
        }
        let (prank, irank) = (params.shape.rank(), indices.shape.rank());
        if prank < 1 || irank < 1 {
            return Err(ctx.invalid("parameters and indices must have at least one dimension"));
        }
        let nd = indices.shape.dim(irank - 1);
        if nd > prank {
            return Err(ctx.invalid("more index components than parameter dimensions"));
        }
        if nd > MAX_INDICES_ND {
            return Err(ctx.unsupported("GATHER_ND of more than 5 index components"));
        }
        // Output: indices[..-1], params[nd..].
        let (pd, id) = (params.shape.dims(), indices.shape.dims());
        let want = id[..irank - 1].iter().chain(&pd[nd..]);
        if out.dtype != params.dtype
            || out.shape.rank() != irank - 1 + prank - nd
            || !out.shape.dims().iter().eq(want)
        {
            return Err(ctx.invalid("output shape or type does not match the gather"));
        }
        let mut p = GatherNdParams {
            nd,
            slices: id[..irank - 1].iter().product(),
            slice: pd[nd..].iter().product(),
            flat: params.shape.elements(),
            step: [0; MAX_INDICES_ND],
        };
        for (j, step) in p.step.iter_mut().enumerate().take(nd) {
            *step = pd[j + 1..].iter().product();
        }
        let constant = indices.data.filter(|c| c.len() >= indices.bytes());
        if constant.is_some_and(|c| (0..p.slices).any(|i| p.start(c, i).is_none())) {
            return Err(ctx.invalid("an index is out of range"));
        }
        Ok(p)
    }

    fn eval(p: &GatherNdParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let params = ctx.inputs.get(0)?;
        let indices = ctx.inputs.get(1)?.data;
        let out = ctx.outputs.get(0)?;
        let elem = params.info.dtype.size();
        let chunk = p.slice * elem;
        for i in 0..p.slices {
            let src = p
                .start(indices, i)
                .ok_or(Error::Usage("GATHER_ND index out of range"))?
                * elem;
            out.data[i * chunk..(i + 1) * chunk].copy_from_slice(&params.data[src..src + chunk]);
        }
        Ok(())
    }
}
