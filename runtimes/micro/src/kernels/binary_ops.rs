//! Binary operators beyond ADD, SUB and MUL: MAXIMUM and MINIMUM with
//! broadcasting, following TFLite Micro's reference kernels.

use crate::error::Error;
use crate::kernels::elementwise::{broadcast_strides, for_each_broadcast};
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::ElemType;
use crate::opcode::Opcode;

/// A prepared MAXIMUM or MINIMUM.
#[derive(Clone, Copy, Debug)]
pub struct MaxMinParams {
    max: bool,
    dtype: ElemType,
}

/// MAXIMUM and MINIMUM: the raw values compared (no requantisation).
pub struct MaxMin;

impl Op for MaxMin {
    type Params<'a> = MaxMinParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MaxMinParams, Error> {
        let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if a.dtype != out.dtype || b.dtype != out.dtype {
            return Err(ctx.invalid("inputs and output must have one type"));
        }
        if !matches!(
            out.dtype,
            ElemType::F32 | ElemType::I8 | ElemType::I16 | ElemType::I32 | ElemType::I64
        ) {
            return Err(ctx.unsupported("types other than float32, int8, int16, int32, int64"));
        }
        if broadcast_strides(&a.shape, &out.shape).is_none()
            || broadcast_strides(&b.shape, &out.shape).is_none()
        {
            return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
        }
        Ok(MaxMinParams {
            max: ctx.op.opcode == Opcode::MAXIMUM,
            dtype: out.dtype,
        })
    }

    fn eval(p: &MaxMinParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
        let max = p.max;
        macro_rules! run {
            ($t:ty, $n:expr) => {
                for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                    let x = <$t>::from_le_bytes(a.data[$n * i..$n * i + $n].try_into().unwrap());
                    let y = <$t>::from_le_bytes(b.data[$n * j..$n * j + $n].try_into().unwrap());
                    // As TFLite: `x > y ? x : y` and `x < y ? x : y`.
                    let v = if max {
                        if x > y { x } else { y }
                    } else if x < y {
                        x
                    } else {
                        y
                    };
                    out.data[$n * o..$n * o + $n].copy_from_slice(&v.to_le_bytes());
                })
            };
        }
        match p.dtype {
            ElemType::F32 => run!(f32, 4),
            ElemType::I8 => run!(i8, 1),
            ElemType::I16 => run!(i16, 2),
            ElemType::I32 => run!(i32, 4),
            _ => run!(i64, 8),
        }
        Ok(())
    }
}
