//! FILL: an output of a constant shape, every element the scalar value, as
//! TFLite Micro's fill (float32, int32 or int8 values).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::ElemType;

/// Value `i` of a constant integer tensor of type `dtype` (int8, int16,
/// int32 or int64), `None` past its end.
fn int_value(bytes: &[u8], dtype: ElemType, i: usize) -> Option<i64> {
    let n = dtype.size();
    let b = bytes.get(i * n..(i + 1) * n)?;
    Some(match dtype {
        ElemType::I8 => i64::from(b[0] as i8),
        ElemType::I16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
        ElemType::I32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    })
}

/// FILL.
pub struct Fill;

impl Op for Fill {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (dims, value, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if value.shape.rank() != 0 {
            return Err(ctx.invalid("the value must be a scalar"));
        }
        if value.dtype != out.dtype {
            return Err(ctx.invalid("output type must be the value's"));
        }
        accept(
            ctx,
            value.dtype,
            &[ElemType::F32, ElemType::I32, ElemType::I8],
            "FILL of types other than float32, int32 or int8",
        )?;
        accept(
            ctx,
            dims.dtype,
            &[ElemType::I8, ElemType::I16, ElemType::I32, ElemType::I64],
            "FILL dimensions other than int8, int16, int32 or int64",
        )?;
        if dims.shape.rank() != 1 || dims.shape.dim(0) != out.shape.rank() {
            return Err(ctx.invalid("dimensions must be 1-D, one per output dimension"));
        }
        let data = ctx.constant(0)?;
        // While only checking, a folded constant has no bytes yet.
        if data.len() >= dims.bytes() {
            let same = out.shape.dims().iter().enumerate().all(|(i, &d)| {
                int_value(data, dims.dtype, i).is_some_and(|v| i64::try_from(d) == Ok(v))
            });
            if !same {
                return Err(ctx.invalid("output shape does not match the dimensions"));
            }
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let value = ctx.inputs.get(1)?;
        let out = ctx.outputs.get(0)?;
        let n = value.info.dtype.size();
        let v = value
            .data
            .get(..n)
            .ok_or(Error::Usage("FILL value missing"))?;
        for chunk in out.data.chunks_exact_mut(n) {
            chunk.copy_from_slice(v);
        }
        Ok(())
    }
}
