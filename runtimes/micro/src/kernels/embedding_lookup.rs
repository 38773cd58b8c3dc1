//! EMBEDDING_LOOKUP: rows of a table picked by int32 indices, as TFLite
//! Micro's embedding_lookup: float32 rows copied, int8 rows copied or
//! dequantised to float32 (zero point 0).

use crate::error::Error;
use crate::kernels::layout::accept;
use crate::kernels::{EvalCtx, Op, PrepareCtx, i32_at, put_f32};
use crate::model::ElemType;

/// A prepared EMBEDDING_LOOKUP.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingParams {
    /// Rows of the table.
    rows: usize,
    /// Elements of a row.
    columns: usize,
    /// The table's scale when int8 rows are dequantised to float32.
    dequantize: Option<f32>,
}

/// EMBEDDING_LOOKUP.
pub struct EmbeddingLookup;

impl Op for EmbeddingLookup {
    type Params<'a> = EmbeddingParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<EmbeddingParams, Error> {
        let (lookup, table, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if lookup.dtype != ElemType::I32 || lookup.shape.rank() != 1 {
            return Err(ctx.unsupported("EMBEDDING_LOOKUP indices other than a 1-D int32 tensor"));
        }
        accept(
            ctx,
            table.dtype,
            &[ElemType::F32, ElemType::I8],
            "EMBEDDING_LOOKUP of types other than float32 or int8",
        )?;
        let dequantize = match (table.dtype, out.dtype) {
            (ElemType::F32, ElemType::F32) | (ElemType::I8, ElemType::I8) => None,
            (ElemType::I8, ElemType::F32) => {
                let q = table
                    .quant
                    .filter(|q| q.zero_point == 0)
                    .ok_or(ctx.invalid("an int8 table to dequantise needs zero point 0"))?;
                Some(q.scale)
            }
            _ => return Err(ctx.invalid("output type does not match the table")),
        };
        let d = table.shape.dims();
        if d.len() < 2 {
            return Err(ctx.invalid("the table must have at least two dimensions"));
        }
        let count = lookup.shape.dim(0);
        let want = core::iter::once(&count).chain(&d[1..]);
        if !out.shape.dims().iter().eq(want) {
            return Err(ctx.invalid("output must be one table row per index"));
        }
        let p = EmbeddingParams {
            rows: d[0],
            columns: d[1..].iter().product(),
            dequantize,
        };
        if let Some(c) = lookup.data.filter(|c| c.len() >= lookup.bytes()) {
            let bad = (0..lookup.shape.elements())
                .any(|i| usize::try_from(i32_at(c, i)).map_or(true, |r| r >= p.rows));
            if bad && p.rows > 0 {
                return Err(ctx.invalid("an index is out of range"));
            }
        }
        Ok(p)
    }

    fn eval(p: &EmbeddingParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        if p.rows == 0 {
            // An empty table leaves the output as it is, as TFLite Micro does.
            return Ok(());
        }
        let lookup = ctx.inputs.get(0)?;
        let table = ctx.inputs.get(1)?;
        let out = ctx.outputs.get(0)?;
        let n = p.columns;
        let row_bytes = n * table.info.dtype.size();
        for i in 0..lookup.info.shape.elements() {
            let r = usize::try_from(i32_at(lookup.data, i))
                .ok()
                .filter(|&r| r < p.rows)
                .ok_or(Error::Usage("EMBEDDING_LOOKUP index out of range"))?;
            match p.dequantize {
                None => out.data[i * row_bytes..(i + 1) * row_bytes]
                    .copy_from_slice(&table.data[r * row_bytes..(r + 1) * row_bytes]),
                Some(scale) => {
                    for k in 0..n {
                        let v = table.data[r * n + k] as i8;
                        put_f32(out.data, i * n + k, f32::from(v) * scale);
                    }
                }
            }
        }
        Ok(())
    }
}
