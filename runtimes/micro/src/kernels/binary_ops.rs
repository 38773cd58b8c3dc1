//! Binary operators beyond ADD, SUB and MUL: MAXIMUM, MINIMUM, the
//! comparisons, DIV, SQUARED_DIFFERENCE, FLOOR_DIV, FLOOR_MOD, PRELU,
//! SELECT_V2, ADD_N, LOGICAL_AND and LOGICAL_OR, with broadcasting, following TFLite Micro's reference kernels.

use crate::error::Error;
use crate::kernels::elementwise::{broadcast_strides, for_each_broadcast};
use crate::kernels::{EvalCtx, Op, PrepareCtx, clamp_f32, f32_at, i32_at, put_f32};
use crate::model::{ElemType, MAX_RANK};
use crate::opcode::Opcode;
use crate::quant::{
    multiply_by_quantized_multiplier, quantize_multiplier, reciprocal,
    saturating_rounding_doubling_high_mul,
};

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

/// A prepared comparison: its opcode, input type and, for int8, the
/// rescaling of each side (offset, multiplier, shift).
#[derive(Clone, Copy, Debug)]
pub struct CompareParams {
    op: Opcode,
    dtype: ElemType,
    a: (i32, i32, i32),
    b: (i32, i32, i32),
}

/// EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS and LESS_EQUAL: a bool
/// output; int8 sides are rescaled to a common scale first, as TFLite does.
pub struct Compare;

/// TFLite's left shift of int8 comparison operands before rescaling.
const COMPARE_LEFT_SHIFT: u32 = 8;

impl Op for Compare {
    type Params<'a> = CompareParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<CompareParams, Error> {
        let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        let op = ctx.op.opcode;
        if a.dtype != b.dtype || out.dtype != ElemType::Bool {
            return Err(ctx.invalid("inputs must have one type and the output must be bool"));
        }
        let equality = matches!(op, Opcode::EQUAL | Opcode::NOT_EQUAL);
        if !(matches!(
            a.dtype,
            ElemType::F32 | ElemType::I8 | ElemType::I32 | ElemType::I64
        ) || (equality && a.dtype == ElemType::Bool))
        {
            return Err(ctx.unsupported(
                "types other than float32, int8, int32, int64 (and bool for EQUAL, NOT_EQUAL)",
            ));
        }
        if broadcast_strides(&a.shape, &out.shape).is_none()
            || broadcast_strides(&b.shape, &out.shape).is_none()
        {
            return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
        }
        let mut p = CompareParams {
            op,
            dtype: a.dtype,
            a: (0, 0, 0),
            b: (0, 0, 0),
        };
        if a.dtype == ElemType::I8 {
            let (Some(qa), Some(qb)) = (a.quant, b.quant) else {
                return Err(ctx.invalid("int8 inputs without quantisation parameters"));
            };
            if !(qa.scale > 0.0 && qa.scale < 1.0 && qb.scale > 0.0 && qb.scale < 1.0) {
                return Err(ctx.unsupported("int8 comparison with an input scale outside (0, 1)"));
            }
            let (ma, sa) = quantize_multiplier(f64::from(qa.scale));
            let (mb, sb) = quantize_multiplier(f64::from(qb.scale));
            p.a = (-qa.zero_point, ma, sa);
            p.b = (-qb.zero_point, mb, sb);
        }
        Ok(p)
    }

    fn eval(p: &CompareParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
        let op = p.op;
        fn cmp<T: PartialOrd>(op: Opcode, x: T, y: T) -> bool {
            match op {
                Opcode::EQUAL => x == y,
                Opcode::NOT_EQUAL => x != y,
                Opcode::GREATER => x > y,
                Opcode::GREATER_EQUAL => x >= y,
                Opcode::LESS => x < y,
                _ => x <= y,
            }
        }
        macro_rules! run {
            ($t:ty, $n:expr) => {
                for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                    let x = <$t>::from_le_bytes(a.data[$n * i..$n * i + $n].try_into().unwrap());
                    let y = <$t>::from_le_bytes(b.data[$n * j..$n * j + $n].try_into().unwrap());
                    out.data[o] = u8::from(cmp(op, x, y));
                })
            };
        }
        match p.dtype {
            ElemType::F32 => run!(f32, 4),
            ElemType::I32 => run!(i32, 4),
            ElemType::I64 => run!(i64, 8),
            ElemType::Bool => for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                out.data[o] = u8::from(cmp(op, a.data[i] != 0, b.data[j] != 0));
            }),
            _ => {
                let scale = |v: u8, (off, m, s): (i32, i32, i32)| {
                    let shifted = i32::from(v as i8)
                        .wrapping_add(off)
                        .wrapping_shl(COMPARE_LEFT_SHIFT);
                    multiply_by_quantized_multiplier(shifted, m, s)
                };
                for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                    let (x, y) = (scale(a.data[i], p.a), scale(b.data[j], p.b));
                    out.data[o] = u8::from(cmp(op, x, y));
                })
            }
        }
        Ok(())
    }
}

/// A prepared DIV, SQUARED_DIFFERENCE, FLOOR_DIV or FLOOR_MOD.
#[derive(Clone, Copy, Debug)]
pub struct ArithParams {
    op: Opcode,
    dtype: ElemType,
    float: (f32, f32),
    int: (i32, i32),
    /// Quantised SQUARED_DIFFERENCE: (offset, multiplier, shift) of each
    /// input and of the output, and the inputs' left shift.
    q: [(i32, i32, i32); 3],
    left_shift: u32,
}

/// DIV (float32, int32, int8; fused activation), SQUARED_DIFFERENCE (float32,
/// int32, int8, int16), FLOOR_DIV and FLOOR_MOD (float32), as TFLite Micro takes them.
pub struct Arith;

impl Op for Arith {
    type Params<'a> = ArithParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ArithParams, Error> {
        let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        let op = ctx.op.opcode;
        if a.dtype != out.dtype || b.dtype != out.dtype {
            return Err(ctx.invalid("inputs and output must have one type"));
        }
        let int_ok = matches!(op, Opcode::DIV | Opcode::SQUARED_DIFFERENCE);
        let div8 = op == Opcode::DIV && out.dtype == ElemType::I8;
        let quant_ok =
            op == Opcode::SQUARED_DIFFERENCE && matches!(out.dtype, ElemType::I8 | ElemType::I16);
        if !(out.dtype == ElemType::F32
            || (int_ok && out.dtype == ElemType::I32)
            || quant_ok
            || div8)
        {
            return Err(ctx.unsupported(
                "types other than float32 (int32 for DIV and SQUARED_DIFFERENCE, int8 for DIV, int8 and int16 for SQUARED_DIFFERENCE)",
            ));
        }
        let mut q = [(0, 0, 0); 3];
        let mut left_shift = 0;
        if quant_ok {
            let (Some(qa), Some(qb), Some(qo)) = (a.quant, b.quant, out.quant) else {
                return Err(ctx.invalid("quantised tensors without quantisation parameters"));
            };
            if out.dtype == ElemType::I16
                && (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0)
            {
                return Err(ctx.unsupported("int16 with a zero point other than 0"));
            }
            left_shift = if out.dtype == ElemType::I8 { 7 } else { 0 };
            let twice = 2.0 * f64::from(qa.scale.max(qb.scale));
            let (ma, sa) = quantize_multiplier(f64::from(qa.scale) / twice);
            let (mb, sb) = quantize_multiplier(f64::from(qb.scale) / twice);
            let denom = f64::from((1i32 << (2 * left_shift)) as f32 * qo.scale);
            let (mo, so) = quantize_multiplier(twice * twice / denom);
            q = [
                (-qa.zero_point, ma, sa),
                (-qb.zero_point, mb, sb),
                (qo.zero_point, mo, so),
            ];
        }
        if out.dtype == ElemType::I32 && (a.quant.is_some() || b.quant.is_some()) {
            return Err(ctx.unsupported("quantised int32"));
        }
        if broadcast_strides(&a.shape, &out.shape).is_none()
            || broadcast_strides(&b.shape, &out.shape).is_none()
        {
            return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
        }
        let code = if op == Opcode::DIV {
            ctx.op.options()?.map_or(Ok(0), |o| o.u8(0, 0))?
        } else {
            0
        };
        let (float, int) = match code {
            0 => ((f32::NEG_INFINITY, f32::INFINITY), (i32::MIN, i32::MAX)),
            1 => ((0.0, f32::INFINITY), (0, i32::MAX)),
            2 => ((-1.0, 1.0), (-1, 1)),
            3 => ((0.0, 6.0), (0, 6)),
            _ => {
                return Err(
                    ctx.unsupported("fused activation other than NONE, RELU, RELU_N1_TO_1, RELU6")
                );
            }
        };
        let mut int = int;
        if div8 {
            let (Some(qa), Some(qb), Some(qo)) = (a.quant, b.quant, out.quant) else {
                return Err(ctx.invalid("int8 tensors without quantisation parameters"));
            };
            int = ctx.activation(code)?.int;
            // TFLite computes this multiplier in float32.
            let (m, sh) = quantize_multiplier(f64::from(qa.scale / (qb.scale * qo.scale)));
            q = [
                (-qa.zero_point, 0, 0),
                (-qb.zero_point, 0, 0),
                (qo.zero_point, m, sh),
            ];
        }
        Ok(ArithParams {
            op,
            dtype: out.dtype,
            float,
            int,
            q,
            left_shift,
        })
    }

    fn eval(p: &ArithParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
        if p.op == Opcode::DIV && p.dtype == ElemType::I8 {
            let mut zero = false;
            for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                let mut x = p.q[0].0.wrapping_add(i32::from(a.data[i] as i8));
                let mut y = p.q[1].0.wrapping_add(i32::from(b.data[j] as i8));
                if y == 0 {
                    zero = true;
                    out.data[o] = 0;
                    return;
                }
                if y < 0 {
                    (x, y) = (x.wrapping_neg(), y.wrapping_neg());
                }
                let (inv, recip_shift) = reciprocal(y, 31);
                let headroom = if x >= 0 {
                    x.leading_zeros() as i32 - 1
                } else {
                    (!x).leading_zeros() as i32 - 1
                };
                let quotient =
                    saturating_rounding_doubling_high_mul(x.wrapping_shl(headroom as u32), inv);
                let (_, m, sh) = p.q[2];
                let shift = sh - recip_shift - headroom;
                let v = multiply_by_quantized_multiplier(quotient, m, shift)
                    .wrapping_add(p.q[2].0)
                    .clamp(p.int.0, p.int.1);
                out.data[o] = v as i8 as u8;
            });
            return if zero {
                Err(Error::Usage("int8 DIV by zero"))
            } else {
                Ok(())
            };
        }
        if matches!(p.dtype, ElemType::I8 | ElemType::I16) {
            let wide = p.dtype == ElemType::I16;
            let (lo, hi) = if wide { (-32768, 32767) } else { (-128, 127) };
            let at = |d: &[u8], i: usize| {
                if wide {
                    i32::from(i16::from_le_bytes([d[2 * i], d[2 * i + 1]]))
                } else {
                    i32::from(d[i] as i8)
                }
            };
            let scale = |v: i32, (off, m, sh): (i32, i32, i32)| {
                let shifted = v.wrapping_add(off).wrapping_shl(p.left_shift);
                multiply_by_quantized_multiplier(shifted, m, sh)
            };
            for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                let d = scale(at(a.data, i), p.q[0]).wrapping_sub(scale(at(b.data, j), p.q[1]));
                let (_, m, sh) = p.q[2];
                let v = multiply_by_quantized_multiplier(d.wrapping_mul(d), m, sh)
                    .wrapping_add(p.q[2].0)
                    .clamp(lo, hi);
                if wide {
                    out.data[2 * o..2 * o + 2].copy_from_slice(&(v as i16).to_le_bytes());
                } else {
                    out.data[o] = v as i8 as u8;
                }
            });
            return Ok(());
        }
        if p.dtype == ElemType::I32 {
            let mut zero = false;
            for_each_broadcast(&sa, &sb, &so, |o, i, j| {
                let (x, y) = (i32_at(a.data, i), i32_at(b.data, j));
                let v = if p.op == Opcode::DIV {
                    if y == 0 {
                        zero = true;
                        0
                    } else {
                        x.wrapping_div(y)
                    }
                } else {
                    let d = x.wrapping_sub(y);
                    d.wrapping_mul(d)
                };
                let v = v.clamp(p.int.0, p.int.1);
                out.data[4 * o..4 * o + 4].copy_from_slice(&v.to_le_bytes());
            });
            return if zero {
                Err(Error::Usage("int32 DIV by zero"))
            } else {
                Ok(())
            };
        }
        for_each_broadcast(&sa, &sb, &so, |o, i, j| {
            let (x, y) = (f32_at(a.data, i), f32_at(b.data, j));
            let v = match p.op {
                Opcode::DIV => clamp_f32(x / y, p.float),
                Opcode::SQUARED_DIFFERENCE => (x - y) * (x - y),
                Opcode::FLOOR_DIV => libm::floorf(x / y),
                _ => {
                    let m = libm::fmodf(x, y);
                    if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
                        m + y
                    } else {
                        m
                    }
                }
            };
            put_f32(out.data, o, v);
        });
        Ok(())
    }
}

/// A prepared PRELU: for int8, offsets and the multipliers of the positive
/// side (`input scale / output scale`) and of the negative side
/// (`input scale * alpha scale / output scale`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PreluParams {
    int8: bool,
    wide: bool,
    input_offset: i32,
    alpha_offset: i32,
    output_offset: i32,
    pos: (i32, i32),
    neg: (i32, i32),
}

/// PRELU (float32, int8, int16 with an int8 alpha) with the alpha broadcast to the input.
pub struct Prelu;

impl Op for Prelu {
    type Params<'a> = PreluParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<PreluParams, Error> {
        let (x, alpha, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        let alpha_ok =
            alpha.dtype == out.dtype || (out.dtype == ElemType::I16 && alpha.dtype == ElemType::I8);
        if x.dtype != out.dtype || !alpha_ok {
            return Err(ctx.unsupported(
                "types other than all float32, all int8, or int16 with an int8 alpha",
            ));
        }
        if !matches!(out.dtype, ElemType::F32 | ElemType::I8 | ElemType::I16) {
            return Err(ctx.unsupported("types other than float32, int8 or int16"));
        }
        if broadcast_strides(&x.shape, &out.shape).is_none()
            || broadcast_strides(&alpha.shape, &out.shape).is_none()
        {
            return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
        }
        let mut p = PreluParams {
            wide: out.dtype == ElemType::I16,
            ..PreluParams::default()
        };
        if matches!(out.dtype, ElemType::I8 | ElemType::I16) {
            let (Some(qx), Some(qa), Some(qo)) = (x.quant, alpha.quant, out.quant) else {
                return Err(ctx.invalid("int8 tensors without quantisation parameters"));
            };
            p.int8 = true;
            p.input_offset = -qx.zero_point;
            p.alpha_offset = -qa.zero_point;
            p.output_offset = qo.zero_point;
            p.pos = quantize_multiplier(f64::from(qx.scale) / f64::from(qo.scale));
            p.neg = quantize_multiplier(
                f64::from(qx.scale) * f64::from(qa.scale) / f64::from(qo.scale),
            );
        }
        Ok(p)
    }

    fn eval(p: &PreluParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (x, alpha) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let (sx, sa, so) = (x.info.shape, alpha.info.shape, out.info.shape);
        if !p.int8 {
            for_each_broadcast(&sx, &sa, &so, |o, i, j| {
                let (v, a) = (f32_at(x.data, i), f32_at(alpha.data, j));
                put_f32(out.data, o, if v >= 0.0 { v } else { v * a });
            });
            return Ok(());
        }
        let wide = p.wide;
        for_each_broadcast(&sx, &sa, &so, |o, i, j| {
            let raw = if wide {
                i32::from(i16::from_le_bytes([x.data[2 * i], x.data[2 * i + 1]]))
            } else {
                i32::from(x.data[i] as i8)
            };
            let v = p.input_offset.wrapping_add(raw);
            let y = if v >= 0 {
                multiply_by_quantized_multiplier(v, p.pos.0, p.pos.1)
            } else {
                let a = p.alpha_offset.wrapping_add(i32::from(alpha.data[j] as i8));
                multiply_by_quantized_multiplier(v.wrapping_mul(a), p.neg.0, p.neg.1)
            };
            let y = y.wrapping_add(p.output_offset);
            if wide {
                let y = y.clamp(-32768, 32767) as i16;
                out.data[2 * o..2 * o + 2].copy_from_slice(&y.to_le_bytes());
            } else {
                out.data[o] = y.clamp(-128, 127) as i8 as u8;
            }
        });
        Ok(())
    }
}

/// A prepared SELECT_V2: the element size of x, y and the output.
#[derive(Clone, Copy, Debug)]
pub struct SelectParams {
    size: usize,
}

/// SELECT_V2 (float32, int8, int16): `condition ? x : y`, all three
/// broadcast to the output; the bytes are copied unchanged.
pub struct SelectV2;

impl Op for SelectV2 {
    type Params<'a> = SelectParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<SelectParams, Error> {
        let (c, x, y, out) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?, ctx.output);
        if c.dtype != ElemType::Bool || x.dtype != y.dtype || x.dtype != out.dtype {
            return Err(ctx.invalid("a bool condition and x, y, output of one type"));
        }
        if !matches!(out.dtype, ElemType::F32 | ElemType::I8 | ElemType::I16) {
            return Err(ctx.unsupported("types other than float32, int8 or int16"));
        }
        for t in [&c, &x, &y] {
            if broadcast_strides(&t.shape, &out.shape).is_none() {
                return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
            }
        }
        Ok(SelectParams {
            size: out.dtype.size(),
        })
    }

    fn eval(p: &SelectParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let (c, x, y) = (i.get(0)?, i.get(1)?, i.get(2)?);
        let out = ctx.outputs.get(0)?;
        let so = out.info.shape;
        let (Some(sc), Some(sx), Some(sy)) = (
            broadcast_strides(&c.info.shape, &so),
            broadcast_strides(&x.info.shape, &so),
            broadcast_strides(&y.info.shape, &so),
        ) else {
            return Err(Error::Usage("SELECT_V2 shapes"));
        };
        let dims = so.dims();
        let n = p.size;
        let mut index = [0usize; MAX_RANK];
        let (mut ic, mut ix, mut iy) = (0usize, 0usize, 0usize);
        for o in 0..so.elements() {
            let (src, at) = if c.data[ic] != 0 {
                (x.data, ix)
            } else {
                (y.data, iy)
            };
            out.data[n * o..n * o + n].copy_from_slice(&src[n * at..n * at + n]);
            for k in (0..dims.len()).rev() {
                index[k] += 1;
                ic += sc[k];
                ix += sx[k];
                iy += sy[k];
                if index[k] < dims[k] {
                    break;
                }
                ic -= sc[k] * dims[k];
                ix -= sx[k] * dims[k];
                iy -= sy[k] * dims[k];
                index[k] = 0;
            }
        }
        Ok(())
    }
}

/// A prepared ADD_N; for int8 (one quantisation on every input): input
/// offset, input multiplier and shift, output offset, multiplier, shift.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddNParams {
    int8: bool,
    input: (i32, i32, i32),
    output: (i32, i32, i32),
}

/// TFLite Micro's left shift of int8 ADD_N operands.
const ADD_N_LEFT_SHIFT: u32 = 20;

/// ADD_N (float32, int8): the inputs, all of the output's shape, summed in
/// order.
pub struct AddN;

impl Op for AddN {
    type Params<'a> = AddNParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<AddNParams, Error> {
        let out = ctx.output;
        if ctx.input_count() < 2 {
            return Err(ctx.invalid("ADD_N needs at least two inputs"));
        }
        if !matches!(out.dtype, ElemType::F32 | ElemType::I8) {
            return Err(ctx.unsupported("types other than float32 or int8"));
        }
        let first = ctx.input(0)?;
        for k in 0..ctx.input_count() {
            let t = ctx.input(k)?;
            if t.dtype != out.dtype || t.shape != out.shape {
                return Err(ctx.invalid("inputs must have the output's type and shape"));
            }
            if out.dtype == ElemType::I8 && t.quant != first.quant {
                return Err(ctx.invalid("int8 inputs must share one quantisation"));
            }
        }
        let mut p = AddNParams::default();
        if out.dtype == ElemType::I8 {
            let (Some(qi), Some(qo)) = (first.quant, out.quant) else {
                return Err(ctx.invalid("int8 tensors without quantisation parameters"));
            };
            let twice = 2.0 * f64::from(qi.scale);
            let (mi, si) = quantize_multiplier(f64::from(qi.scale) / twice);
            let (mo, so) = quantize_multiplier(
                twice / (f64::from(1i32 << ADD_N_LEFT_SHIFT) * f64::from(qo.scale)),
            );
            p = AddNParams {
                int8: true,
                input: (-qi.zero_point, mi, si),
                output: (qo.zero_point, mo, so),
            };
        }
        Ok(p)
    }

    fn eval(p: &AddNParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let out = ctx.outputs.get(0)?;
        let (off, mi, si) = p.input;
        let scale = |v: i32| {
            multiply_by_quantized_multiplier(
                v.wrapping_add(off).wrapping_shl(ADD_N_LEFT_SHIFT),
                mi,
                si,
            )
        };
        for e in 0..out.info.shape.elements() {
            if p.int8 {
                // As TFLite, the sum starts from the scaled zero of the input
                // offset, not from 0.
                let mut sum = scale(0);
                for k in 0..ctx.inputs.count() {
                    sum = sum.wrapping_add(scale(i32::from(ctx.inputs.get(k)?.data[e] as i8)));
                }
                let (zp, mo, so) = p.output;
                let v = multiply_by_quantized_multiplier(sum, mo, so)
                    .wrapping_add(zp)
                    .clamp(-128, 127);
                out.data[e] = v as i8 as u8;
            } else {
                let mut sum = 0.0f32;
                for k in 0..ctx.inputs.count() {
                    sum += f32_at(ctx.inputs.get(k)?.data, e);
                }
                put_f32(out.data, e, sum);
            }
        }
        Ok(())
    }
}

/// A prepared LOGICAL_AND or LOGICAL_OR.
#[derive(Clone, Copy, Debug)]
pub struct LogicalParams {
    and: bool,
}

/// LOGICAL_AND and LOGICAL_OR of bool tensors, with broadcasting.
pub struct Logical;

impl Op for Logical {
    type Params<'a> = LogicalParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<LogicalParams, Error> {
        let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
        if a.dtype != ElemType::Bool || b.dtype != ElemType::Bool || out.dtype != ElemType::Bool {
            return Err(ctx.unsupported("types other than bool"));
        }
        if broadcast_strides(&a.shape, &out.shape).is_none()
            || broadcast_strides(&b.shape, &out.shape).is_none()
        {
            return Err(ctx.invalid("input shapes do not broadcast to the output shape"));
        }
        Ok(LogicalParams {
            and: ctx.op.opcode == Opcode::LOGICAL_AND,
        })
    }

    fn eval(p: &LogicalParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (a, b) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let out = ctx.outputs.get(0)?;
        let (sa, sb, so) = (a.info.shape, b.info.shape, out.info.shape);
        for_each_broadcast(&sa, &sb, &so, |o, i, j| {
            let (x, y) = (a.data[i] != 0, b.data[j] != 0);
            out.data[o] = u8::from(if p.and { x && y } else { x || y });
        });
        Ok(())
    }
}
