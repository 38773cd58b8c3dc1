//! Resource variables: VAR_HANDLE, READ_VARIABLE and ASSIGN_VARIABLE, the
//! state of streaming models. A variable is named by VAR_HANDLE's
//! container and shared name, model-wide; its bytes live in the arena's
//! variables region, zero at load, and keep their value across invocations.

use crate::error::Error;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at};
use crate::model::ElemType;

/// VAR_HANDLE: the handle (resource id) of a named variable.
pub struct VarHandle;

impl Op for VarHandle {
    type Params<'a> = i32;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<i32, Error> {
        let o = ctx.options()?;
        let (container, name) = (o.string(0)?.unwrap_or(""), o.string(1)?.unwrap_or(""));
        if ctx.output.dtype != ElemType::Resource {
            return Err(ctx.invalid("output must be a resource tensor"));
        }
        let Some(table) = ctx.resources() else {
            return Ok(0);
        };
        let id = match table
            .iter()
            .position(|r| r.used && r.container == container && r.name == name)
        {
            Some(id) => id,
            None => {
                let id = table
                    .iter()
                    .position(|r| !r.used)
                    .ok_or(Error::Usage("resource table full"))?;
                table[id].used = true;
                table[id].container = container;
                table[id].name = name;
                id
            }
        };
        ctx.set_handle(id as u32);
        Ok(id as i32)
    }

    fn eval(id: &i32, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let out = ctx.outputs.get(0)?;
        out.data
            .get_mut(..4)
            .ok_or(Error::Usage("resource handle"))?
            .copy_from_slice(&id.to_le_bytes());
        Ok(())
    }
}

/// Records that resource `id` holds at least `bytes` bytes.
fn size_resource(ctx: &mut PrepareCtx<'_, '_>, handle: usize, bytes: usize) -> Result<(), Error> {
    if ctx.input(handle)?.dtype != ElemType::Resource {
        return Err(ctx.invalid("the handle must be a resource tensor"));
    }
    let Some(id) = ctx.handle_of(handle) else {
        if ctx.checking_only() {
            return Ok(());
        }
        return Err(ctx.unsupported("a resource handle that no VAR_HANDLE of this subgraph makes"));
    };
    if let Some(r) = ctx.resources().and_then(|t| t.get_mut(id as usize)) {
        r.len = r.len.max(bytes as u32);
    }
    Ok(())
}

/// The resource id a handle tensor holds.
fn handle(ctx: &EvalCtx<'_>, i: usize) -> Result<i32, Error> {
    let h = ctx.inputs.get(i)?;
    if h.data.len() < 4 {
        return Err(Error::Usage("resource handle"));
    }
    Ok(i32_at(h.data, 0))
}

/// READ_VARIABLE: the value of a variable.
pub struct ReadVariable;

impl Op for ReadVariable {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let bytes = ctx.output.bytes();
        size_resource(ctx, 0, bytes)
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let id = handle(ctx, 0)?;
        let value = ctx.state.resource(id)?;
        let out = ctx.outputs.get(0)?;
        let n = out.data.len();
        out.data.copy_from_slice(
            value
                .get(..n)
                .ok_or(Error::Usage("variable smaller than its read"))?,
        );
        Ok(())
    }
}

/// ASSIGN_VARIABLE: sets a variable's value.
pub struct AssignVariable;

impl Op for AssignVariable {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let bytes = ctx.input(1)?.bytes();
        size_resource(ctx, 0, bytes)
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let id = handle(ctx, 0)?;
        let value = ctx.inputs.get(1)?.data;
        let var = ctx.state.resource(id)?;
        var.get_mut(..value.len())
            .ok_or(Error::Usage("value larger than its variable"))?
            .copy_from_slice(value);
        Ok(())
    }
}
