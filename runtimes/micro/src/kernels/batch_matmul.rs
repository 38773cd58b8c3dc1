//! BATCH_MATMUL, float32, int8 and int16, following TFLite Micro's
//! `batch_matmul.cc` and `reference_ops::BatchMatMul`: the batch
//! dimensions broadcast, `adj_x` / `adj_y` transpose the last two
//! dimensions of each operand, and every output element sums over the
//! shared dimension in ascending order.

use crate::error::Error;
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, put_f32};
use crate::model::{ElemType, MAX_RANK, Shape};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// A prepared BATCH_MATMUL.
#[derive(Clone, Copy, Debug)]
pub struct BatchMatMulParams {
    adj_x: bool,
    adj_y: bool,
    /// Output rank: both operands are viewed with this many dimensions.
    rank: usize,
    lhs: [usize; MAX_RANK],
    rhs: [usize; MAX_RANK],
    out: [usize; MAX_RANK],
    lhs_zero: i32,
    rhs_zero: i32,
    out_zero: i32,
    multiplier: i32,
    shift: i32,
}

/// `shape` with leading ones up to `rank` dimensions.
fn extended(shape: &Shape, rank: usize) -> [usize; MAX_RANK] {
    let mut dims = [1; MAX_RANK];
    let d = shape.dims();
    dims[rank - d.len()..rank].copy_from_slice(d);
    dims
}

/// The 64-bit-accumulator variant of TFLite's
/// `MultiplyByQuantizedMultiplier` (int16 layers): the multiplier reduced
/// to 16 bits, one rounding shift.
pub(crate) fn multiply_by_quantized_multiplier_i64(x: i64, multiplier: i32, shift: i32) -> i32 {
    let reduced = if multiplier < 0x7FFF_0000 {
        (multiplier + (1 << 15)) >> 16
    } else {
        0x7FFF
    };
    let total_shift = (15 - shift).clamp(1, 63);
    let round = 1i64 << (total_shift - 1);
    (x.wrapping_mul(i64::from(reduced)).wrapping_add(round) >> total_shift) as i32
}

/// BATCH_MATMUL.
pub struct BatchMatMul;

impl Op for BatchMatMul {
    type Params<'a> = BatchMatMulParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BatchMatMulParams, Error> {
        if ctx.input_count() != 2 || ctx.output_count() != 1 {
            return Err(ctx.invalid("BATCH_MATMUL takes two inputs and gives one output"));
        }
        let (l, r, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if l.dtype != r.dtype || l.dtype != out.dtype {
            return Err(ctx.unsupported("operands or output of different types"));
        }
        if !matches!(l.dtype, ElemType::F32 | ElemType::I8 | ElemType::I16) {
            return Err(ctx.unsupported("types other than float32, int8 and int16"));
        }
        let (lr, rr) = (l.shape.rank(), r.shape.rank());
        if !(2..=5).contains(&lr) || !(2..=5).contains(&rr) {
            return Err(ctx.unsupported("operands of rank other than 2 to 5"));
        }
        let o = ctx.options()?;
        let (adj_x, adj_y) = (o.u8(0, 0)? != 0, o.u8(1, 0)? != 0);
        if o.u8(2, 0)? != 0 && l.dtype == ElemType::F32 {
            return Err(ctx.unsupported("asymmetric_quantize_inputs (hybrid)"));
        }
        let rank = lr.max(rr);
        let (lhs, rhs) = (extended(&l.shape, rank), extended(&r.shape, rank));
        let mut want = [1usize; MAX_RANK];
        for d in 0..rank - 2 {
            if lhs[d] != rhs[d] && lhs[d] != 1 && rhs[d] != 1 {
                return Err(ctx.invalid("batch dimensions that do not broadcast"));
            }
            want[d] = if lhs[d] == 1 { rhs[d] } else { lhs[d] };
        }
        let (rows, depth_l) = if adj_x {
            (lhs[rank - 1], lhs[rank - 2])
        } else {
            (lhs[rank - 2], lhs[rank - 1])
        };
        let (depth_r, cols) = if adj_y {
            (rhs[rank - 1], rhs[rank - 2])
        } else {
            (rhs[rank - 2], rhs[rank - 1])
        };
        if depth_l != depth_r {
            return Err(ctx.invalid("operands with different accumulation depths"));
        }
        want[rank - 2] = rows;
        want[rank - 1] = cols;
        if out.shape.dims() != &want[..rank] {
            return Err(ctx.invalid("output shape is not the broadcast product shape"));
        }
        let mut p = BatchMatMulParams {
            adj_x,
            adj_y,
            rank,
            lhs,
            rhs,
            out: want,
            lhs_zero: 0,
            rhs_zero: 0,
            out_zero: 0,
            multiplier: 0,
            shift: 0,
        };
        if l.dtype != ElemType::F32 {
            let (Some(lq), Some(rq), Some(oq)) = (l.quant, r.quant, out.quant) else {
                return Err(ctx.invalid("quantised operands without quantisation parameters"));
            };
            if l.channel_scales.is_some() || r.channel_scales.is_some() {
                return Err(ctx.unsupported("per-channel quantised operands"));
            }
            if l.dtype == ElemType::I16
                && (lq.zero_point != 0 || rq.zero_point != 0 || oq.zero_point != 0)
            {
                return Err(ctx.unsupported("int16 with nonzero zero points"));
            }
            // As TFLite: the scales' product in float, then the division in double.
            let real = f64::from(lq.scale * rq.scale) / f64::from(oq.scale);
            if real.is_nan() || real < 0.0 {
                return Err(ctx.invalid("negative or undefined multiplier"));
            }
            (p.multiplier, p.shift) = quantize_multiplier(real);
            (p.lhs_zero, p.rhs_zero, p.out_zero) = (lq.zero_point, rq.zero_point, oq.zero_point);
        }
        Ok(p)
    }

    fn eval(p: &BatchMatMulParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (l, r) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let n = p.rank;
        let (rows, cols) = (p.out[n - 2], p.out[n - 1]);
        let depth = if p.adj_x { p.lhs[n - 2] } else { p.lhs[n - 1] };
        let (lm, rm) = (p.lhs[n - 2] * p.lhs[n - 1], p.rhs[n - 2] * p.rhs[n - 1]);
        let batches: usize = p.out[..n - 2].iter().product();
        // Element (i, k) of the left matrix and (k, j) of the right one.
        let li = |i: usize, k: usize| if p.adj_x { k * rows + i } else { i * depth + k };
        let ri = |k: usize, j: usize| if p.adj_y { j * depth + k } else { k * cols + j };
        for b in 0..batches {
            // The operands' matrices of output batch b, broadcasting.
            let (mut rest, mut lb, mut rb, mut ls, mut rs) = (b, 0, 0, 1, 1);
            for d in (0..n - 2).rev() {
                let idx = rest % p.out[d];
                rest /= p.out[d];
                if p.lhs[d] != 1 {
                    lb += idx * ls;
                }
                if p.rhs[d] != 1 {
                    rb += idx * rs;
                }
                ls *= p.lhs[d];
                rs *= p.rhs[d];
            }
            let (lo, ro, oo) = (lb * lm, rb * rm, b * rows * cols);
            for i in 0..rows {
                for j in 0..cols {
                    let at = oo + i * cols + j;
                    match l.info.dtype {
                        ElemType::F32 => {
                            let mut total = 0f32;
                            for k in 0..depth {
                                total +=
                                    f32_at(l.data, lo + li(i, k)) * f32_at(r.data, ro + ri(k, j));
                            }
                            put_f32(out.data, at, total);
                        }
                        ElemType::I8 => {
                            let mut total = 0i32;
                            for k in 0..depth {
                                let x = i32::from(l.data[lo + li(i, k)] as i8) - p.lhs_zero;
                                let y = i32::from(r.data[ro + ri(k, j)] as i8) - p.rhs_zero;
                                total = total.wrapping_add(x.wrapping_mul(y));
                            }
                            let v = multiply_by_quantized_multiplier(total, p.multiplier, p.shift)
                                .wrapping_add(p.out_zero);
                            out.data[at] = v.clamp(-128, 127) as i8 as u8;
                        }
                        _ => {
                            let at16 = |d: &[u8], e: usize| {
                                i64::from(i16::from_le_bytes([d[2 * e], d[2 * e + 1]]))
                            };
                            let mut total = 0i64;
                            for k in 0..depth {
                                total = total.wrapping_add(
                                    at16(l.data, lo + li(i, k))
                                        .wrapping_mul(at16(r.data, ro + ri(k, j))),
                                );
                            }
                            let v =
                                multiply_by_quantized_multiplier_i64(total, p.multiplier, p.shift)
                                    .wrapping_add(p.out_zero)
                                    .clamp(-32768, 32767) as i16;
                            out.data[2 * at..2 * at + 2].copy_from_slice(&v.to_le_bytes());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
