//! Element-wise operators: ADD, SUB and MUL (float32, int8, int16, int32) with broadcasting, RELU, RELU6,
//! LOGISTIC and TANH (float32, int8; int16 in sigmoid_int16.rs), following TFLite Micro's reference kernels.

use crate::error::Error;
use crate::kernels::sigmoid::logistic_f32;
use crate::kernels::sigmoid_int16::Int16Sigmoid;
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, clamp_f32, f32_at, i16_at, i32_at, put_f32,
};
use crate::model::{ElemType, MAX_RANK, Shape};
use crate::opcode::Opcode;
use crate::quant::{
    Fixed, logistic_q4, multiply_by_quantized_multiplier, quantize_multiplier, quantize_value,
    rounding_divide_by_pot, tanh_q4,
};
use crate::rescale::Rescale;

/// Quantised requantisation of one ADD or MUL operand.
#[derive(Clone, Copy, Debug, Default)]
struct Operand {
    offset: i32,
    multiplier: i32,
    shift: i32,
}

/// A prepared ADD or MUL.
#[derive(Clone, Copy, Debug)]
pub struct BinaryParams {
    mul: bool,
    sub: bool,
    act: Range,
    a: Operand,
    b: Operand,
    out: Operand,
    left_shift: i32,
    /// Whether an int8 ADD or SUB computes through [`SumTables`]
    /// ([`uses_sum_tables`]), in the scratch region other operators'
    /// reservations made, where it holds them ([`Work::all`]): it reserves
    /// none, so the tables never grow the arena.
    tables: bool,
}

/// Checks an ADD or MUL.
pub fn prepare_binary(ctx: &PrepareCtx<'_, '_>) -> Result<BinaryParams, Error> {
    let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
    if a.dtype != out.dtype
        || b.dtype != out.dtype
        || !matches!(
            out.dtype,
            ElemType::F32 | ElemType::I8 | ElemType::I16 | ElemType::I32
        )
    {
        return Err(
            ctx.unsupported("types other than all float32, all int8, all int16 or all int32")
        );
    }
    if broadcast_strides(&a.shape, &out.shape).is_none()
        || broadcast_strides(&b.shape, &out.shape).is_none()
    {
        return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
    }
    let mul = ctx.op.opcode == Opcode::MUL;
    let code = ctx.op.options()?.map_or(Ok(0), |o| o.u8(0, 0))?;
    let act = match out.dtype {
        ElemType::F32 | ElemType::I8 | ElemType::I16 => ctx.activation(code)?,
        _ => {
            // TFLite Micro's int32 ADD ignores the fused activation.
            let int = match (ctx.op.opcode == Opcode::ADD, code) {
                (true, _) | (false, 0) => (i32::MIN, i32::MAX),
                (false, 1) => (0, i32::MAX),
                (false, 2) => (-1, 1),
                (false, 3) => (0, 6),
                _ => return Err(ctx.unsupported("fused activation of int32")),
            };
            Range {
                float: (0.0, 0.0),
                int,
            }
        }
    };
    let mut p = BinaryParams {
        mul,
        sub: ctx.op.opcode == Opcode::SUB,
        act,
        a: Operand::default(),
        b: Operand::default(),
        out: Operand::default(),
        left_shift: 0,
        tables: false,
    };
    if out.dtype == ElemType::I32 && (a.quant.is_some() || b.quant.is_some()) {
        return Err(ctx.unsupported("quantised int32"));
    }
    if matches!(out.dtype, ElemType::I8 | ElemType::I16) {
        let (Some(qa), Some(qb), Some(qo)) = (a.quant, b.quant, out.quant) else {
            return Err(ctx.invalid("int8 or int16 operands without quantisation parameters"));
        };
        if out.dtype == ElemType::I16
            && mul
            && (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0)
        {
            return Err(ctx.unsupported("int16 MUL with a zero point other than 0"));
        }
        p.a.offset = -qa.zero_point;
        p.b.offset = -qb.zero_point;
        p.out.offset = qo.zero_point;
        if mul {
            let (m, s) = quantize_multiplier(
                f64::from(qa.scale) * f64::from(qb.scale) / f64::from(qo.scale),
            );
            p.out.multiplier = m;
            p.out.shift = s;
        } else {
            p.left_shift = if out.dtype == ElemType::I16 { 15 } else { 20 };
            [
                (p.a.multiplier, p.a.shift),
                (p.b.multiplier, p.b.shift),
                (p.out.multiplier, p.out.shift),
            ] = sum_rescales(p.left_shift, qa.scale, qb.scale, qo.scale);
        }
    }
    p.tables = uses_sum_tables(&p, out.dtype, out.shape.elements());
    Ok(p)
}

/// The `(multiplier, shift)` rescales of a quantised ADD or SUB whose
/// operands and output have scales `a`, `b` and `out` (TFLite Micro's
/// add.cc and sub.cc): each operand, shifted left by `left_shift`, to the
/// scale of twice the larger operand scale, then their sum to the output's.
fn sum_rescales(left_shift: i32, a: f32, b: f32, out: f32) -> [(i32, i32); 3] {
    let twice_max = 2.0 * f64::from(a.max(b));
    [
        quantize_multiplier(f64::from(a) / twice_max),
        quantize_multiplier(f64::from(b) / twice_max),
        quantize_multiplier(twice_max / (f64::from(1i32 << left_shift) * f64::from(out))),
    ]
}

/// Output elements from which an int8 ADD or SUB computes through
/// [`SumTables`]: building the tables costs about as much as 60 elements
/// computed directly, so from a few hundred on they pay.
const SUM_TABLE_MIN_ELEMENTS: usize = 256;

/// 32-bit words of scratch memory [`SumTables`] take: one value for each
/// of the 256 bytes of each operand.
const SUM_TABLE_WORDS: usize = 2 * 256;

/// Whether a prepared binary operator with `elements` output elements of
/// type `dtype` computes through [`SumTables`]: an int8 ADD or SUB of at
/// least [`SUM_TABLE_MIN_ELEMENTS`] whose multipliers [`Rescale`] applies
/// exactly (those that are not negative, as every valid scale gives).
fn uses_sum_tables(p: &BinaryParams, dtype: ElemType, elements: usize) -> bool {
    dtype == ElemType::I8
        && !p.mul
        && elements >= SUM_TABLE_MIN_ELEMENTS
        && [p.a, p.b, p.out].iter().all(|o| o.multiplier >= 0)
}

/// An int8 ADD or SUB by table lookup. Each operand's rescaled value,
/// `MultiplyByQuantizedMultiplier((x + offset) << left_shift)`, depends on
/// its byte only: both are looked up in a 256-entry table indexed by the
/// raw byte, leaving the sum's rescale as the only multiply per element.
/// For SUB, the second table holds the negated values, as `x - y` wraps to
/// the same value as `x + (-y)`. The tables live in scratch memory (as i32
/// bit patterns in its u32 words), rebuilt at every evaluation.
struct SumTables<'w> {
    /// The first operand's rescaled value of every byte.
    a: &'w [u32; 256],
    /// The second operand's rescaled value of every byte (negated for SUB).
    b: &'w [u32; 256],
    /// The rescale of the sum to the output's scale.
    out: Rescale,
    /// The output zero point.
    offset: i32,
    /// The fused activation's bounds.
    bounds: (i32, i32),
}

impl<'w> SumTables<'w> {
    /// Fills the tables of `p` in `words`, with `out` the rescale of the
    /// sum (TFLite's output multiplier and shift of `p`); `None` when
    /// `words` holds fewer than [`SUM_TABLE_WORDS`].
    fn build(p: &BinaryParams, out: Rescale, words: &'w mut [u32]) -> Option<Self> {
        let (a, rest) = words.split_first_chunk_mut::<256>()?;
        let b = rest.first_chunk_mut::<256>()?;
        let (ra, rb) = (
            Rescale::new(p.a.multiplier, p.a.shift),
            Rescale::new(p.b.multiplier, p.b.shift),
        );
        let rescaled = |r: Rescale, offset: i32, byte: u8| {
            let x = i32::from(byte as i8).wrapping_add(offset);
            r.apply(x.wrapping_shl(p.left_shift as u32))
        };
        for (byte, (ta, tb)) in (0..=255u8).zip(a.iter_mut().zip(b.iter_mut())) {
            *ta = rescaled(ra, p.a.offset, byte) as u32;
            let y = rescaled(rb, p.b.offset, byte);
            *tb = if p.sub { y.wrapping_neg() } else { y } as u32;
        }
        Some(SumTables {
            a,
            b,
            out,
            offset: p.out.offset,
            bounds: p.act.int,
        })
    }

    /// The output byte of operand bytes `x` and `y`.
    #[inline(always)]
    fn sum(&self, x: u8, y: u8) -> u8 {
        let raw = self.a[usize::from(x)].wrapping_add(self.b[usize::from(y)]) as i32;
        let v = self.out.apply(raw).wrapping_add(self.offset);
        // TFLite's order: the lower bound, then the upper one.
        v.max(self.bounds.0).min(self.bounds.1) as i8 as u8
    }
}

/// Element strides of `input` when broadcast to `out` (0 along broadcast axes).
pub(crate) fn broadcast_strides(input: &Shape, out: &Shape) -> Option<[usize; MAX_RANK]> {
    let (ir, or) = (input.rank(), out.rank());
    if ir > or {
        return None;
    }
    let mut strides = [0usize; MAX_RANK];
    let mut stride = 1;
    for k in (0..or).rev() {
        let d = if k + ir >= or {
            input.dims()[k + ir - or]
        } else {
            1
        };
        let o = out.dims()[k];
        if d == o {
            strides[k] = if d == 1 { 0 } else { stride };
        } else if d != 1 {
            return None;
        }
        stride *= d;
    }
    Some(strides)
}

/// Calls `f(output index, a index, b index)` for every output element.
pub(crate) fn for_each_broadcast(
    a: &Shape,
    b: &Shape,
    out: &Shape,
    mut f: impl FnMut(usize, usize, usize),
) {
    if a == out && b == out {
        (0..out.elements()).for_each(|i| f(i, i, i));
        return;
    }
    let (Some(sa), Some(sb)) = (broadcast_strides(a, out), broadcast_strides(b, out)) else {
        return;
    };
    let dims = out.dims();
    let mut index = [0usize; MAX_RANK];
    let (mut ia, mut ib) = (0usize, 0usize);
    for o in 0..out.elements() {
        f(o, ia, ib);
        for k in (0..dims.len()).rev() {
            index[k] += 1;
            ia += sa[k];
            ib += sb[k];
            if index[k] < dims[k] {
                break;
            }
            ia -= sa[k] * dims[k];
            ib -= sb[k] * dims[k];
            index[k] = 0;
        }
    }
}

/// ADD, SUB or MUL, element by element (the int8 ADD or SUB that uses
/// [`SumTables`] is [`eval_sum_tables`]).
pub fn eval_binary(
    p: &BinaryParams,
    a: Input<'_>,
    b: Input<'_>,
    out: Output<'_>,
) -> Result<(), Error> {
    let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
    if out.info.dtype == ElemType::F32 {
        for_each_broadcast(&sa, &sb, &so, |o, i, j| {
            let (x, y) = (f32_at(a.data, i), f32_at(b.data, j));
            put_f32(
                out.data,
                o,
                clamp_f32(
                    if p.mul {
                        x * y
                    } else if p.sub {
                        x - y
                    } else {
                        x + y
                    },
                    p.act.float,
                ),
            );
        });
        return Ok(());
    }
    if out.info.dtype == ElemType::I32 {
        for_each_broadcast(&sa, &sb, &so, |o, i, j| {
            let (x, y) = (i32_at(a.data, i), i32_at(b.data, j));
            let v = if p.mul {
                x.wrapping_mul(y)
            } else if p.sub {
                x.wrapping_sub(y)
            } else {
                x.wrapping_add(y)
            };
            let v = v.clamp(p.act.int.0, p.act.int.1);
            out.data[4 * o..4 * o + 4].copy_from_slice(&v.to_le_bytes());
        });
        return Ok(());
    }
    if out.info.dtype == ElemType::I16 {
        for_each_broadcast(&sa, &sb, &so, |o, i, j| {
            let v = quantised(
                p,
                i32::from(i16_at(a.data, i)),
                i32::from(i16_at(b.data, j)),
            );
            out.data[2 * o..2 * o + 2].copy_from_slice(&(v as i16).to_le_bytes());
        });
        return Ok(());
    }
    each_int8(&a, &b, out, |x, y| {
        quantised(p, i32::from(x as i8), i32::from(y as i8)) as i8 as u8
    });
    Ok(())
}

/// The quantised result of a prepared int8 or int16 ADD, SUB or MUL of
/// inputs `x` and `y` (zero points not yet removed), as TFLite Micro
/// computes it element by element.
#[inline(always)]
fn quantised(p: &BinaryParams, x: i32, y: i32) -> i32 {
    let (x, y) = (x.wrapping_add(p.a.offset), y.wrapping_add(p.b.offset));
    let v = if p.mul {
        multiply_by_quantized_multiplier(x.wrapping_mul(y), p.out.multiplier, p.out.shift)
    } else {
        let sx = multiply_by_quantized_multiplier(
            x.wrapping_shl(p.left_shift as u32),
            p.a.multiplier,
            p.a.shift,
        );
        let sy = multiply_by_quantized_multiplier(
            y.wrapping_shl(p.left_shift as u32),
            p.b.multiplier,
            p.b.shift,
        );
        let raw = if p.sub {
            sx.wrapping_sub(sy)
        } else {
            sx.wrapping_add(sy)
        };
        multiply_by_quantized_multiplier(raw, p.out.multiplier, p.out.shift)
    };
    v.wrapping_add(p.out.offset).clamp(p.act.int.0, p.act.int.1)
}

/// Writes `f(x, y)` for every output byte of an int8 binary operator, `x`
/// and `y` the input bytes it broadcasts from: one pass over the bytes when
/// nothing is broadcast (as in a residual block's ADD).
#[inline(always)]
fn each_int8(a: &Input<'_>, b: &Input<'_>, out: Output<'_>, f: impl Fn(u8, u8) -> u8) {
    let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
    if sa.dims() == so.dims() && sb.dims() == so.dims() {
        let n = so.elements();
        zip_bytes(&a.data[..n], &b.data[..n], &mut out.data[..n], f);
        return;
    }
    for_each_broadcast(&sa, &sb, &so, |o, i, j| {
        out.data[o] = f(a.data[i], b.data[j])
    });
}

/// Writes `f(x, y)` for the bytes `x` and `y` at each index of `a`, `b` and
/// `out`. Never inlined: in a function of its own the loop is compiled
/// alone, and [`SumTables::sum`]'s rescale is one SMLAL on a Cortex-M4;
/// inlined into the operator's evaluation, LLVM turned it into a full
/// 64-bit multiply (UMULL and two MLAs) and spilled more constants.
#[inline(never)]
fn zip_bytes(a: &[u8], b: &[u8], out: &mut [u8], f: impl Fn(u8, u8) -> u8) {
    for (z, (&x, &y)) in out.iter_mut().zip(a.iter().zip(b)) {
        *z = f(x, y);
    }
}

/// The rescale of an ADD's or SUB's sum to the output's scale. Never
/// inlined: where LLVM sees that [`Rescale::new`] clamps the multiplier
/// to be positive, it multiplies unsigned in the element loop (UMULL and
/// two MLAs) and spills more.
#[inline(never)]
fn sum_rescale(p: &BinaryParams) -> Rescale {
    Rescale::new(p.out.multiplier, p.out.shift)
}

/// An int8 ADD or SUB through [`SumTables`], built in `words` of scratch
/// memory.
fn eval_sum_tables(
    p: &BinaryParams,
    words: &mut [u32],
    a: Input<'_>,
    b: Input<'_>,
    out: Output<'_>,
) -> Result<(), Error> {
    let rescale = sum_rescale(p);
    let tables = SumTables::build(p, rescale, words).ok_or(Error::Usage("scratch memory"))?;
    each_int8(&a, &b, out, move |x, y| tables.sum(x, y));
    Ok(())
}

/// The integer computation of a prepared RELU, RELU6, LOGISTIC or TANH.
#[derive(Clone, Copy, Debug)]
enum UnaryInt8 {
    /// RELU: requantise `(input zero point, output zero point, multiplier, shift)`, then clamp.
    Relu(i32, i32, i32, i32),
    /// RELU6: clamp in the input's quantisation.
    Clamp,
    /// LOGISTIC or TANH in gemmlowp fixed point: input zero point, range
    /// radius, multiplier and left shift to Q4.27.
    Fixed {
        zero_point: i32,
        radius: i32,
        multiplier: i32,
        shift: i32,
    },
    /// int16 LOGISTIC or TANH (kernels/sigmoid_int16.rs).
    Int16(Int16Sigmoid),
}

/// A prepared RELU, RELU6, LOGISTIC or TANH.
#[derive(Clone, Copy, Debug)]
pub struct UnaryParams {
    op: Opcode,
    bounds: (i32, i32),
    int8: UnaryInt8,
}

/// Checks a RELU, RELU6, LOGISTIC or TANH.
pub fn prepare_unary(ctx: &PrepareCtx<'_, '_>) -> Result<UnaryParams, Error> {
    let (input, out) = (ctx.input(0)?, ctx.output);
    let op = ctx.op.opcode;
    if input.dtype != out.dtype || input.shape.elements() != out.shape.elements() {
        return Err(ctx.invalid("output must match the input's type and size"));
    }
    if input.dtype == ElemType::F32 {
        return Ok(UnaryParams {
            op,
            bounds: (0, 0),
            int8: UnaryInt8::Clamp,
        });
    }
    if input.dtype == ElemType::I16 && matches!(op, Opcode::LOGISTIC | Opcode::TANH) {
        let int16 = Int16Sigmoid::prepare(ctx, &input, &out, op == Opcode::TANH)?;
        return Ok(UnaryParams {
            op,
            bounds: (0, 0),
            int8: UnaryInt8::Int16(int16),
        });
    }
    if input.dtype != ElemType::I8 {
        return Err(ctx.unsupported("types other than float32 or int8 (int16 for LOGISTIC, TANH)"));
    }
    let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
        return Err(ctx.invalid("int8 tensors without quantisation parameters"));
    };
    Ok(match op {
        Opcode::RELU6 => {
            let six = quantize_value(6.0, qi.scale, qi.zero_point).clamp(-128, 127);
            UnaryParams {
                op,
                bounds: (qi.zero_point, six),
                int8: UnaryInt8::Clamp,
            }
        }
        Opcode::RELU => {
            let (m, s) = quantize_multiplier(f64::from(qi.scale) / f64::from(qo.scale));
            let min = quantize_value(0.0, qo.scale, qo.zero_point).max(-128);
            UnaryParams {
                op,
                bounds: (min, 127),
                int8: UnaryInt8::Relu(qi.zero_point, qo.zero_point, m, s),
            }
        }
        _ => {
            // TFLite Micro's logistic_common.cc and tanh.cc: the input scaled to
            // Q4.27 by frexp, and the radius beyond which the output saturates.
            if op == Opcode::LOGISTIC && qo.zero_point != -128 {
                return Err(
                    ctx.unsupported("int8 LOGISTIC with an output zero point other than -128")
                );
            }
            let real = f64::from(qi.scale) * f64::from(1i32 << (31 - 4));
            let (q, shift) = libm::frexp(real);
            if !(0..=31).contains(&shift) {
                return Err(ctx.unsupported("input scale out of range for int8 LOGISTIC or TANH"));
            }
            let multiplier = libm::round(q * (1i64 << 31) as f64) as i64;
            let max_input_rescaled = 15.0 * (1i64 << 27) as f64 / (1i64 << shift) as f64;
            UnaryParams {
                op,
                bounds: (-128, 127),
                int8: UnaryInt8::Fixed {
                    zero_point: qi.zero_point,
                    radius: libm::floor(max_input_rescaled) as i32,
                    multiplier: multiplier.min(i64::from(i32::MAX)) as i32,
                    shift,
                },
            }
        }
    })
}

/// RELU, RELU6, LOGISTIC or TANH.
pub fn eval_unary(p: &UnaryParams, input: Input<'_>, out: Output<'_>) -> Result<(), Error> {
    let n = input.info.shape.elements();
    if input.info.dtype == ElemType::F32 {
        for i in 0..n {
            let x = f32_at(input.data, i);
            let y = match p.op {
                Opcode::RELU => x.max(0.0),
                // max then min, not clamp: NaN becomes 0 as in TFLite.
                #[allow(clippy::manual_clamp)]
                Opcode::RELU6 => x.max(0.0).min(6.0),
                Opcode::LOGISTIC => logistic_f32(x),
                _ => libm::tanhf(x),
            };
            put_f32(out.data, i, y);
        }
        return Ok(());
    }
    if let UnaryInt8::Int16(int16) = p.int8 {
        int16.eval(input, out);
        return Ok(());
    }
    for i in 0..n {
        let x = i32::from(input.data[i] as i8);
        let y = match p.int8 {
            UnaryInt8::Relu(in_zp, out_zp, m, s) => out_zp.wrapping_add(
                multiply_by_quantized_multiplier(x.wrapping_sub(in_zp), m, s),
            ),
            // int16 returned above.
            UnaryInt8::Clamp | UnaryInt8::Int16(_) => x,
            UnaryInt8::Fixed {
                zero_point,
                radius,
                multiplier,
                shift,
            } => {
                let x = x.wrapping_sub(zero_point);
                if x <= -radius {
                    -128
                } else if x >= radius {
                    127
                } else {
                    let q4 = Fixed::<4>(multiply_by_quantized_multiplier(x, multiplier, shift));
                    if p.op == Opcode::LOGISTIC {
                        rounding_divide_by_pot(logistic_q4(q4).0, 31 - 8).wrapping_sub(128)
                    } else {
                        rounding_divide_by_pot(tanh_q4(q4).0, 31 - 7)
                    }
                }
            }
        };
        out.data[i] = y.clamp(p.bounds.0, p.bounds.1) as i8 as u8;
    }
    Ok(())
}

/// ADD, SUB and MUL.
pub struct Binary;

impl Op for Binary {
    type Params<'a> = BinaryParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<BinaryParams, Error> {
        prepare_binary(ctx)
    }

    fn eval(p: &BinaryParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        match ctx.work.all() {
            words if p.tables && words.len() >= SUM_TABLE_WORDS => {
                eval_sum_tables(p, words, a, b, out)
            }
            _ => eval_binary(p, a, b, out),
        }
    }
}

/// RELU, RELU6, LOGISTIC and TANH.
pub struct Unary;

impl Op for Unary {
    type Params<'a> = UnaryParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<UnaryParams, Error> {
        prepare_unary(ctx)
    }

    fn eval(p: &UnaryParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        eval_unary(p, ctx.inputs.get(0)?, ctx.outputs.get(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prepared int8 ADD (or SUB) of operands `a` and `b` to `out`, each
    /// `(scale, zero point)`, with the activation bounds `act`.
    fn int8_sum(
        sub: bool,
        a: (f32, i32),
        b: (f32, i32),
        out: (f32, i32),
        act: (i32, i32),
    ) -> BinaryParams {
        let left_shift = 20;
        let [ra, rb, ro] = sum_rescales(left_shift, a.0, b.0, out.0);
        let operand = |(multiplier, shift): (i32, i32), offset: i32| Operand {
            offset,
            multiplier,
            shift,
        };
        BinaryParams {
            mul: false,
            sub,
            act: Range {
                float: (0.0, 0.0),
                int: act,
            },
            a: operand(ra, -a.1),
            b: operand(rb, -b.1),
            out: operand(ro, out.1),
            left_shift,
            tables: false,
        }
    }

    /// The rescale of the sum of `p` to its output.
    /// A quantised ADD or SUB: operand and output `(scale, zero point)`s
    /// and the fused activation's bounds.
    struct Case {
        a: (f32, i32),
        b: (f32, i32),
        out: (f32, i32),
        act: (i32, i32),
    }

    /// Extreme zero points, scale ratios near 1 and far from it, an output
    /// multiplier above 1 (whose left shift wraps), and the bounds of RELU,
    /// RELU6 and RELU_N1_TO_1.
    fn cases() -> [Case; 7] {
        let relu6 = |(s, z): (f32, i32)| (z, quantize_value(6.0, s, z).min(127));
        let case = |a, b, out, act| Case { a, b, out, act };
        [
            case((0.05, -3), (0.07, 10), (0.1, -20), (-128, 127)),
            case((0.02, -128), (0.02, 127), (0.03, 127), (-128, 127)),
            case(
                (0.039_215_7, 0),
                (0.039_215_6, 1),
                (0.04, -128),
                relu6((0.04, -128)),
            ),
            case((1.0, 5), (0.000_1, -100), (0.5, 3), (3, 127)),
            case((0.003, 127), (0.9, -128), (0.07, 0), (-14, 14)),
            case((0.1, 0), (0.1, 0), (1e-8, 0), (-128, 127)),
            case(
                (0.012, -60),
                (0.011, 90),
                (0.025, -128),
                relu6((0.025, -128)),
            ),
        ]
    }

    #[test]
    fn sum_tables_equal_the_element_by_element_formula_for_every_byte_pair() {
        let mut words = [0u32; SUM_TABLE_WORDS];
        for Case { a, b, out, act } in cases() {
            for sub in [false, true] {
                let p = int8_sum(sub, a, b, out, act);
                assert!(uses_sum_tables(&p, ElemType::I8, SUM_TABLE_MIN_ELEMENTS));
                let tables = SumTables::build(&p, sum_rescale(&p), &mut words).expect("512 words");
                for x in 0..=255u8 {
                    for y in 0..=255u8 {
                        let want = quantised(&p, i32::from(x as i8), i32::from(y as i8));
                        assert_eq!(
                            tables.sum(x, y),
                            want as i8 as u8,
                            "x {x} y {y} sub {sub} {a:?} {b:?} {out:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sum_tables_need_their_scratch_words() {
        let p = int8_sum(false, (0.1, 0), (0.1, 0), (0.2, 0), (-128, 127));
        let mut words = [0u32; SUM_TABLE_WORDS - 1];
        assert!(SumTables::build(&p, sum_rescale(&p), &mut words).is_none());
    }

    #[test]
    fn only_large_int8_sums_with_exact_rescales_use_tables() {
        let mut p = int8_sum(false, (0.1, 0), (0.1, 0), (0.2, 0), (-128, 127));
        assert!(!uses_sum_tables(
            &p,
            ElemType::I8,
            SUM_TABLE_MIN_ELEMENTS - 1
        ));
        assert!(!uses_sum_tables(&p, ElemType::I16, 1 << 16));
        p.a.multiplier = -1;
        assert!(!uses_sum_tables(&p, ElemType::I8, 1 << 16));
        p.a.multiplier = 1;
        p.mul = true;
        assert!(!uses_sum_tables(&p, ElemType::I8, 1 << 16));
    }
}
