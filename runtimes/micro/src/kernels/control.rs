//! IF, WHILE and CALL_ONCE: operators that run other subgraphs. They are
//! checked here; the interpreter runs them, since running a subgraph takes
//! the whole arena.

use crate::error::Error;
use crate::kernels::{EvalCtx, Op, PrepareCtx};

/// A subgraph index from option field `field`, checked.
fn subgraph_option(ctx: &PrepareCtx<'_, '_>, field: usize) -> Result<usize, Error> {
    let index = usize::try_from(ctx.options()?.i32(field, 0)?)
        .map_err(|_| ctx.invalid("negative subgraph index"))?;
    if index == 0 || index == ctx.at.subgraph {
        return Err(ctx.unsupported("a subgraph that calls itself or subgraph 0"));
    }
    ctx.subgraph(index)?;
    Ok(index)
}

/// Checks that subgraph `callee` takes the operator's inputs from `skip`
/// on (same count, types and sizes) and, when `outputs`, gives its outputs.
fn check_call(
    ctx: &PrepareCtx<'_, '_>,
    callee: usize,
    skip: usize,
    outputs: bool,
) -> Result<(), Error> {
    let g = ctx.subgraph(callee)?;
    let same = |a: crate::model::TensorInfo<'_>, b: crate::model::TensorInfo<'_>| {
        a.dtype == b.dtype && a.bytes() == b.bytes()
    };
    if g.inputs().count() + skip != ctx.input_count() {
        return Err(ctx.invalid("the called subgraph takes another number of inputs"));
    }
    for (k, t) in g.inputs().enumerate() {
        if !same(ctx.input(k + skip)?, g.tensor(t)?) {
            return Err(
                ctx.unsupported("a called subgraph input of another type or size (dynamic shapes)")
            );
        }
    }
    if outputs {
        if g.outputs().count() != ctx.output_count() {
            return Err(ctx.invalid("the called subgraph gives another number of outputs"));
        }
        for (k, t) in g.outputs().enumerate() {
            if !same(ctx.output_at(k)?, g.tensor(t)?) {
                return Err(ctx.unsupported(
                    "a called subgraph output of another type or size (dynamic shapes)",
                ));
            }
        }
    }
    Ok(())
}

/// A prepared IF: the subgraphs of its two branches.
#[derive(Clone, Copy, Debug)]
pub struct IfParams {
    /// Runs when the condition is true.
    pub then_branch: usize,
    /// Runs when it is false.
    pub else_branch: usize,
}

/// IF: runs one of two subgraphs on inputs 1.. depending on input 0.
pub struct If;

impl Op for If {
    type Params<'a> = IfParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<IfParams, Error> {
        let then_branch = subgraph_option(ctx, 0)?;
        let else_branch = subgraph_option(ctx, 1)?;
        if ctx.input(0)?.shape.elements() != 1 {
            return Err(ctx.invalid("the condition must have one element"));
        }
        check_call(ctx, then_branch, 1, true)?;
        check_call(ctx, else_branch, 1, true)?;
        Ok(IfParams {
            then_branch,
            else_branch,
        })
    }

    fn eval(_: &IfParams, _: &mut EvalCtx<'_>) -> Result<(), Error> {
        Err(Error::Usage("IF runs in the interpreter"))
    }
}

/// A prepared WHILE: its condition and body subgraphs.
#[derive(Clone, Copy, Debug)]
pub struct WhileParams {
    /// Gives a boolean: whether to run the body again.
    pub cond: usize,
    /// Maps the loop's values to their next values.
    pub body: usize,
}

/// WHILE: runs the body subgraph on the loop's values while the condition
/// subgraph is true.
pub struct While;

impl Op for While {
    type Params<'a> = WhileParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<WhileParams, Error> {
        let cond = subgraph_option(ctx, 0)?;
        let body = subgraph_option(ctx, 1)?;
        if ctx.input_count() != ctx.output_count() {
            return Err(ctx.invalid("WHILE needs as many outputs as inputs"));
        }
        for k in 0..ctx.output_count() {
            let (i, o) = (ctx.input(k)?, ctx.output_at(k)?);
            if i.dtype != o.dtype || i.bytes() != o.bytes() {
                return Err(
                    ctx.unsupported("loop values that change type or size (dynamic shapes)")
                );
            }
        }
        check_call(ctx, cond, 0, false)?;
        check_call(ctx, body, 0, true)?;
        Ok(WhileParams { cond, body })
    }

    fn eval(_: &WhileParams, _: &mut EvalCtx<'_>) -> Result<(), Error> {
        Err(Error::Usage("WHILE runs in the interpreter"))
    }
}

/// A prepared CALL_ONCE: the subgraph that initialises the model's state.
#[derive(Clone, Copy, Debug)]
pub struct CallOnceParams {
    /// The initialising subgraph.
    pub init: usize,
}

/// CALL_ONCE: runs a subgraph on the first invocation only.
pub struct CallOnce;

impl Op for CallOnce {
    type Params<'a> = CallOnceParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<CallOnceParams, Error> {
        let init = subgraph_option(ctx, 0)?;
        let g = ctx.subgraph(init)?;
        if g.inputs().count() != 0 || g.outputs().count() != 0 {
            return Err(ctx.invalid("the CALL_ONCE subgraph must take and give nothing"));
        }
        Ok(CallOnceParams { init })
    }

    fn eval(_: &CallOnceParams, _: &mut EvalCtx<'_>) -> Result<(), Error> {
        Err(Error::Usage("CALL_ONCE runs in the interpreter"))
    }
}
