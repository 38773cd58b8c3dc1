//! Element-wise operators: ADD, SUB and MUL (float32, int8, int16, int32) with broadcasting, RELU, RELU6,
//! LOGISTIC and TANH (float32, int8; int16 in sigmoid_int16.rs), following TFLite Micro's reference kernels.

use crate::error::Error;
use crate::kernels::sigmoid::logistic_f32;
use crate::kernels::sigmoid_int16::Int16Sigmoid;
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, clamp_f32, f32_at, i32_at, put_f32,
};
use crate::model::{ElemType, MAX_RANK, Shape};
use crate::opcode::Opcode;
use crate::quant::{
    Fixed, logistic_q4, multiply_by_quantized_multiplier, quantize_multiplier, quantize_value,
    rounding_divide_by_pot, tanh_q4,
};

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
            let twice_max = 2.0 * f64::from(qa.scale.max(qb.scale));
            (p.a.multiplier, p.a.shift) = quantize_multiplier(f64::from(qa.scale) / twice_max);
            (p.b.multiplier, p.b.shift) = quantize_multiplier(f64::from(qb.scale) / twice_max);
            (p.out.multiplier, p.out.shift) = quantize_multiplier(
                twice_max / (f64::from(1i32 << p.left_shift) * f64::from(qo.scale)),
            );
        }
    }
    Ok(p)
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

/// ADD or MUL.
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
    let wide = out.info.dtype == ElemType::I16;
    let at = |d: &[u8], i: usize| {
        if wide {
            i32::from(i16::from_le_bytes([d[2 * i], d[2 * i + 1]]))
        } else {
            i32::from(d[i] as i8)
        }
    };
    // The quantised result of inputs `x` and `y` (zero points not yet removed).
    let quantised = |x: i32, y: i32| {
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
    };
    if !wide && sa.dims() == so.dims() && sb.dims() == so.dims() {
        // No broadcast (as in a residual block's ADD): one pass over the bytes.
        let n = so.elements();
        let pairs = a.data[..n].iter().zip(&b.data[..n]);
        for (y, (&x0, &x1)) in out.data[..n].iter_mut().zip(pairs) {
            *y = quantised(i32::from(x0 as i8), i32::from(x1 as i8)) as i8 as u8;
        }
        return Ok(());
    }
    for_each_broadcast(&sa, &sb, &so, |o, i, j| {
        let v = quantised(at(a.data, i), at(b.data, j));
        if wide {
            out.data[2 * o..2 * o + 2].copy_from_slice(&(v as i16).to_le_bytes());
        } else {
            out.data[o] = v as i8 as u8;
        }
    });
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
        let i = &ctx.inputs;
        eval_binary(p, i.get(0)?, i.get(1)?, ctx.outputs.get(0)?)
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
