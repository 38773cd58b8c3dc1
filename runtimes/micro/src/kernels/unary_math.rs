//! Element-wise math: ABS, RSQRT (float32 and quantised), SIN, COS, LOG,
//! SQRT, SQUARE, NEG, EXP, FLOOR, CEIL, ROUND (float32) and LOGICAL_NOT
//! (bool), following TFLite Micro's elementwise.cc, neg.cc, exp.cc,
//! floor.cc, ceil.cc and round.cc.

use crate::error::Error;
use crate::kernels::{EvalCtx, Op, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;
use crate::opcode::Opcode;
use crate::quant::{Fixed, multiply_by_quantized_multiplier, quantize_multiplier};

/// Requantisation of a quantised ABS or RSQRT.
#[derive(Clone, Copy, Debug, Default)]
struct Requant {
    in_zp: i32,
    out_zp: i32,
    multiplier: i32,
    shift: i32,
    rescale: bool,
    /// Whether the int16 ABS input is quantised at all.
    quantised: bool,
}

/// A prepared element-wise math operator.
#[derive(Clone, Copy, Debug)]
pub struct MathParams {
    op: Opcode,
    dtype: ElemType,
    q: Requant,
}

/// ABS, RSQRT, SIN, COS, LOG, SQRT, SQUARE, NEG, EXP, FLOOR, CEIL, ROUND, LOGICAL_NOT.
pub struct Math;

impl Op for Math {
    type Params<'a> = MathParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<MathParams, Error> {
        let (input, out, op) = (ctx.input(0)?, ctx.output, ctx.op.opcode);
        if ctx.input_count() != 1 || ctx.output_count() != 1 {
            return Err(ctx.invalid("takes one input and one output"));
        }
        if input.dtype != out.dtype {
            return Err(ctx.invalid("output type differs from the input's"));
        }
        if input.shape.elements() != out.shape.elements()
            || (op == Opcode::EXP && input.shape != out.shape)
        {
            return Err(ctx.invalid("output shape differs from the input's"));
        }
        let dtype = input.dtype;
        let supported = match op {
            Opcode::ABS => matches!(dtype, ElemType::F32 | ElemType::I8 | ElemType::I16),
            Opcode::RSQRT => matches!(dtype, ElemType::F32 | ElemType::I8),
            Opcode::LOGICAL_NOT => dtype == ElemType::Bool,
            _ => dtype == ElemType::F32,
        };
        if !supported {
            return Err(ctx.unsupported(match op {
                Opcode::ABS => "types other than float32, int8 or int16",
                Opcode::RSQRT => "types other than float32 or int8",
                Opcode::LOGICAL_NOT => "types other than bool",
                _ => "types other than float32",
            }));
        }
        let mut q = Requant::default();
        let quantised = dtype == ElemType::I8 || (dtype == ElemType::I16 && input.quant.is_some());
        if quantised {
            let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
                return Err(ctx.invalid("quantised tensors without quantisation parameters"));
            };
            q.quantised = true;
            q.in_zp = qi.zero_point;
            q.out_zp = qo.zero_point;
            if dtype == ElemType::I16 && (q.in_zp != 0 || q.out_zp != 0) {
                return Err(ctx.invalid("int16 zero points must be 0"));
            }
            q.rescale = qi.scale != qo.scale;
            if op == Opcode::ABS {
                if q.rescale {
                    (q.multiplier, q.shift) = quantize_multiplier(f64::from(qi.scale / qo.scale));
                }
            } else {
                let scale = 1.0 / f64::from(libm::sqrtf(qi.scale) * qo.scale);
                (q.multiplier, q.shift) = quantize_multiplier(scale);
            }
        }
        Ok(MathParams { op, dtype, q })
    }

    fn eval(p: &MathParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.shape.elements();
        let (x, y) = (input.data, out.data);
        match p.dtype {
            ElemType::F32 => {
                let f: fn(f32) -> f32 = match p.op {
                    Opcode::ABS => libm::fabsf,
                    Opcode::RSQRT => |v| 1.0 / libm::sqrtf(v),
                    Opcode::SIN => libm::sinf,
                    Opcode::COS => libm::cosf,
                    Opcode::LOG => libm::logf,
                    Opcode::SQRT => libm::sqrtf,
                    Opcode::SQUARE => |v| v * v,
                    Opcode::NEG => |v| -v,
                    Opcode::EXP => libm::expf,
                    Opcode::FLOOR => libm::floorf,
                    Opcode::CEIL => libm::ceilf,
                    _ => round_half_even,
                };
                for i in 0..n {
                    put_f32(y, i, f(f32_at(x, i)));
                }
            }
            ElemType::Bool => {
                for i in 0..n {
                    y[i] = u8::from(x[i] == 0);
                }
            }
            ElemType::I8 => {
                for i in 0..n {
                    let v = i32::from(x[i] as i8);
                    let r = if p.op == Opcode::ABS {
                        abs_quantised(&p.q, v)
                    } else {
                        rsqrt_quantised(&p.q, v)?
                    };
                    y[i] = r.clamp(-128, 127) as i8 as u8;
                }
            }
            _ => {
                for i in 0..n {
                    let v = i16::from_le_bytes([x[2 * i], x[2 * i + 1]]);
                    let r = if p.q.quantised {
                        abs_quantised(&p.q, i32::from(v)).clamp(-32768, 32767) as i16
                    } else {
                        v.wrapping_abs()
                    };
                    y[2 * i..2 * i + 2].copy_from_slice(&r.to_le_bytes());
                }
            }
        }
        Ok(())
    }
}

/// TFLite's `round` kernel: half to even.
fn round_half_even(v: f32) -> f32 {
    let floor = libm::floorf(v);
    let diff = v - floor;
    if diff < 0.5 || (diff == 0.5 && libm::fmodf(floor, 2.0) == 0.0) {
        floor
    } else {
        floor + 1.0
    }
}

/// Quantised ABS before clamping.
fn abs_quantised(q: &Requant, v: i32) -> i32 {
    let value = v.wrapping_sub(q.in_zp).wrapping_abs();
    if q.rescale {
        multiply_by_quantized_multiplier(value, q.multiplier, q.shift).wrapping_add(q.out_zp)
    } else {
        value.wrapping_add(q.out_zp)
    }
}

/// Quantised RSQRT before clamping; a value below the zero point is an error
/// as in TFLite Micro.
fn rsqrt_quantised(q: &Requant, v: i32) -> Result<i32, Error> {
    if v < q.in_zp {
        return Err(Error::Usage("RSQRT of a negative value"));
    }
    let value = v.wrapping_sub(q.in_zp);
    if value == 0 {
        return Ok(i32::MAX);
    }
    const SHIFT: i32 = 20;
    let (m, s) = inv_sqrt_multiplier_exp(value);
    let data = multiply_by_quantized_multiplier(1, m, s + SHIFT);
    Ok(
        multiply_by_quantized_multiplier(data, q.multiplier, q.shift - SHIFT)
            .wrapping_add(q.out_zp),
    )
}

/// TFLite's `GetInvSqrtQuantizedMultiplierExp` with a reversed shift: `1 /
/// sqrt(input)` as a Q0.31 multiplier and a left shift.
pub(crate) fn inv_sqrt_multiplier_exp(mut input: i32) -> (i32, i32) {
    if input <= 1 {
        return (i32::MAX, 0);
    }
    let mut shift = 11i32;
    while input >= 1 << 29 {
        input /= 4;
        shift += 1;
    }
    let max_left_shift_bits = (input as u32).leading_zeros() as i32 - 1;
    let left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    shift -= left_shift_bit_pairs;
    input <<= 2 * left_shift_bit_pairs;
    let fixed_input = Fixed::<3>(input >> 1);
    let half_input = Fixed::<3>(crate::quant::rounding_divide_by_pot(fixed_input.0, 1));
    let half_three = Fixed::<3>((1 << 28) + (1 << 27));
    let mut x = Fixed::<3>::one();
    for _ in 0..5 {
        let x2: Fixed<6> = x.times(x);
        let x3: Fixed<9> = x2.times(x);
        let x3: Fixed<3> = x3.rescale();
        let a: Fixed<6> = half_three.times(x);
        let b: Fixed<6> = half_input.times(x3);
        x = a.minus(b).rescale();
    }
    let half_sqrt_2 = Fixed::<0>(1518500250);
    let x: Fixed<3> = x.times(half_sqrt_2);
    let mut raw = x.0;
    if shift < 0 {
        raw = raw.wrapping_shl((-shift) as u32);
        shift = 0;
    }
    (raw, -shift)
}

/// ZEROS_LIKE: float32, int8, int32 or int64 zeros of the input's shape.
pub struct ZerosLike;

impl Op for ZerosLike {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let input = ctx.input(0)?;
        if ctx.input_count() != 1 || input.dtype != ctx.output.dtype {
            return Err(ctx.invalid("one input of the output's type"));
        }
        if !matches!(
            input.dtype,
            ElemType::F32 | ElemType::I8 | ElemType::I32 | ElemType::I64
        ) {
            return Err(ctx.unsupported("types other than float32, int8, int32 or int64"));
        }
        if input.shape.elements() != ctx.output.shape.elements() {
            return Err(ctx.invalid("output shape differs from the input's"));
        }
        Ok(())
    }

    fn eval(_: &(), ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        ctx.outputs.get(0)?.data.fill(0);
        Ok(())
    }
}

/// A prepared CAST: the two types.
#[derive(Clone, Copy, Debug)]
pub struct CastParams {
    from: ElemType,
    to: ElemType,
}

/// CAST between int8, int16, int32, float32 (and from bool), as TFLite
/// Micro's cast.cc (a C++ `static_cast` per element).
pub struct Cast;

/// Reads element `i` of `b` as a wide value: integers exactly, floats as f64.
#[derive(Clone, Copy)]
enum Wide {
    Int(i64),
    Float(f32),
}

fn read_wide(t: ElemType, b: &[u8], i: usize) -> Wide {
    match t {
        ElemType::I8 => Wide::Int(i64::from(b[i] as i8)),
        ElemType::Bool => Wide::Int(i64::from(b[i] != 0)),
        ElemType::I16 => Wide::Int(i64::from(i16::from_le_bytes([b[2 * i], b[2 * i + 1]]))),
        ElemType::I32 => Wide::Int(i64::from(crate::kernels::i32_at(b, i))),
        _ => Wide::Float(f32_at(b, i)),
    }
}

impl Op for Cast {
    type Params<'a> = CastParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<CastParams, Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        if ctx.input_count() != 1 || ctx.output_count() != 1 {
            return Err(ctx.invalid("takes one input and one output"));
        }
        use ElemType::*;
        if !matches!(input.dtype, I8 | I16 | I32 | F32 | Bool) {
            return Err(
                ctx.unsupported("input types other than int8, int16, int32, float32 or bool")
            );
        }
        if !matches!(out.dtype, I8 | I16 | I32 | F32) {
            return Err(ctx.unsupported("output types other than int8, int16, int32 or float32"));
        }
        if input.shape.elements() != out.shape.elements() {
            return Err(ctx.invalid("output shape differs from the input's"));
        }
        Ok(CastParams {
            from: input.dtype,
            to: out.dtype,
        })
    }

    fn eval(p: &CastParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let input = ctx.inputs.get(0)?;
        let out = ctx.outputs.get(0)?;
        let n = input.info.shape.elements();
        let (x, y) = (input.data, out.data);
        for i in 0..n {
            let v = read_wide(p.from, x, i);
            // Float to integer truncates toward zero; out of range it goes
            // through int32 as the usual compilers do.
            let int = match v {
                Wide::Int(v) => v,
                Wide::Float(f) => i64::from(f as i32),
            };
            match p.to {
                ElemType::I8 => y[i] = int as i8 as u8,
                ElemType::I16 => y[2 * i..2 * i + 2].copy_from_slice(&(int as i16).to_le_bytes()),
                ElemType::I32 => y[4 * i..4 * i + 4].copy_from_slice(&(int as i32).to_le_bytes()),
                _ => {
                    let f = match v {
                        Wide::Int(v) => v as f32,
                        Wide::Float(f) => f,
                    };
                    put_f32(y, i, f);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_sqrt_approximates_the_real() {
        for v in [2, 3, 17, 100, 255, 12345] {
            let (m, s) = inv_sqrt_multiplier_exp(v);
            let real = f64::from(m) / 2f64.powi(31) * 2f64.powi(s);
            assert!(
                (real - 1.0 / f64::from(v).sqrt()).abs() < 1e-6,
                "{v}: {real}"
            );
        }
    }

    #[test]
    fn round_is_half_to_even() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-2.5), -2.0);
        assert_eq!(round_half_even(-0.4), 0.0);
    }
}
