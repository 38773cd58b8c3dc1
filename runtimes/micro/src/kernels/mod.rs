//! Operator kernels: preparation (checking an operator once, at load time)
//! and evaluation, with TFLite Micro's reference semantics.

mod conv;
mod conv_int8;
mod elementwise;
mod fully_connected;
mod pool;
mod quantize;
mod shape_ops;
mod softmax;

use crate::error::Error;
use crate::model::{ElemType, Operator, QParams, TensorInfo};
use crate::opcode::Opcode;
use crate::quant::quantize_value;

/// Most inputs an operator may have in this build.
pub const MAX_OP_INPUTS: usize = 16;

/// A tensor an operator reads.
#[derive(Clone, Copy)]
pub struct Input<'x> {
    /// Raw little-endian bytes.
    pub data: &'x [u8],
    /// Type, shape and quantisation.
    pub info: TensorInfo<'x>,
}

/// The tensor an operator writes.
pub struct Output<'x> {
    /// Raw little-endian bytes.
    pub data: &'x mut [u8],
    /// Type, shape and quantisation.
    pub info: TensorInfo<'x>,
}

/// A prepared operator, ready to evaluate.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    /// CONV_2D.
    Conv(conv::ConvParams),
    /// DEPTHWISE_CONV_2D.
    Depthwise(conv::ConvParams),
    /// FULLY_CONNECTED.
    FullyConnected(fully_connected::FcParams),
    /// AVERAGE_POOL_2D and MAX_POOL_2D.
    Pool(pool::PoolParams),
    /// ADD, MUL.
    Binary(elementwise::BinaryParams),
    /// RELU, RELU6, LOGISTIC, TANH.
    Unary(elementwise::UnaryParams),
    /// SOFTMAX.
    Softmax(softmax::SoftmaxParams),
    /// QUANTIZE.
    Quantize(quantize::QuantizeParams),
    /// DEQUANTIZE.
    Dequantize(QParams),
    /// RESHAPE: the bytes are unchanged.
    Copy,
    /// SHAPE.
    Shape,
    /// STRIDED_SLICE.
    StridedSlice(shape_ops::SliceParams),
    /// PACK.
    Pack(shape_ops::PackParams),
    /// CONCATENATION.
    Concat(shape_ops::PackParams),
    /// PAD.
    Pad(shape_ops::PadParams),
    /// MEAN.
    Mean(shape_ops::MeanParams),
}

/// What preparation sees of an operator.
pub struct PrepareCtx<'a, 'm> {
    /// Operator index in the graph.
    pub index: usize,
    /// The operator.
    pub op: &'a Operator<'m>,
    /// Its inputs (absent ones are `None`).
    pub inputs: &'a [Option<TensorInfo<'m>>],
    /// Its output.
    pub output: TensorInfo<'m>,
}

impl<'m> PrepareCtx<'_, 'm> {
    /// An unsupported-feature error for this operator.
    pub fn unsupported(&self, what: &'static str) -> Error {
        Error::Unsupported {
            index: self.index,
            op: self.op.opcode,
            what,
        }
    }

    /// An invalid-operator error for this operator.
    pub fn invalid(&self, what: &'static str) -> Error {
        Error::Invalid {
            index: self.index,
            op: self.op.opcode,
            what,
        }
    }

    /// Input `i`, which must be present.
    pub fn input(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        self.inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or(self.invalid("a required input is missing"))
    }

    /// Constant data of input `i`.
    pub fn constant(&self, i: usize) -> Result<&'m [u8], Error> {
        self.input(i)?
            .data
            .ok_or(self.unsupported("this input must be a constant"))
    }

    /// The fused activation range of the output, for int8 or float.
    pub fn activation(&self, code: u8) -> Result<Range, Error> {
        let out = &self.output;
        let (lo, hi): (f32, f32) = match code {
            0 => (f32::NEG_INFINITY, f32::INFINITY),
            1 => (0.0, f32::INFINITY),
            2 => (-1.0, 1.0),
            3 => (0.0, 6.0),
            _ => {
                return Err(
                    self.unsupported("fused activation other than NONE, RELU, RELU_N1_TO_1, RELU6")
                );
            }
        };
        Ok(match out.dtype {
            ElemType::F32 => Range {
                float: (lo, hi),
                int: (0, 0),
            },
            ElemType::I8 => {
                let q = out
                    .quant
                    .ok_or(self.invalid("int8 output without quantisation"))?;
                let bound = |f: f32, default: i32| {
                    if f.is_finite() {
                        quantize_value(f, q.scale, q.zero_point)
                    } else {
                        default
                    }
                };
                Range {
                    float: (lo, hi),
                    int: (bound(lo, -128).max(-128), bound(hi, 127).min(127)),
                }
            }
            _ => return Err(self.unsupported("output type other than float32 or int8")),
        })
    }

    /// Checks the optional bias (input 2): a constant of `count` values,
    /// float32 for a float input, int32 for an int8 one.
    pub fn check_bias(&self, input: &TensorInfo<'m>, count: usize) -> Result<(), Error> {
        let Some(bias) = self.inputs.get(2).copied().flatten() else {
            return Ok(());
        };
        self.constant(2)?;
        let want = if input.dtype == ElemType::F32 {
            ElemType::F32
        } else {
            ElemType::I32
        };
        if bias.dtype != want || bias.shape.elements() != count {
            return Err(self.unsupported(
                "bias must be float32 (float model) or int32 (int8 model), one per output channel",
            ));
        }
        Ok(())
    }

    /// Reads the builtin options table.
    pub fn options(&self) -> Result<crate::flat::Table<'m>, Error> {
        self.op
            .options()?
            .ok_or(self.invalid("missing builtin options"))
    }
}

/// Output bounds of a fused activation: float bounds and int8 bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Float bounds.
    pub float: (f32, f32),
    /// Quantised bounds.
    pub int: (i32, i32),
}

/// Checks an operator and computes what evaluation needs.
pub fn prepare(ctx: &PrepareCtx<'_, '_>) -> Result<Kernel, Error> {
    Ok(match ctx.op.opcode {
        Opcode::CONV_2D => Kernel::Conv(conv::prepare(ctx, false)?),
        Opcode::DEPTHWISE_CONV_2D => Kernel::Depthwise(conv::prepare(ctx, true)?),
        Opcode::FULLY_CONNECTED => Kernel::FullyConnected(fully_connected::prepare(ctx)?),
        Opcode::AVERAGE_POOL_2D | Opcode::MAX_POOL_2D => Kernel::Pool(pool::prepare(ctx)?),
        Opcode::ADD | Opcode::MUL => Kernel::Binary(elementwise::prepare_binary(ctx)?),
        Opcode::RELU | Opcode::RELU6 | Opcode::LOGISTIC | Opcode::TANH => {
            Kernel::Unary(elementwise::prepare_unary(ctx)?)
        }
        Opcode::SOFTMAX => Kernel::Softmax(softmax::prepare(ctx)?),
        Opcode::QUANTIZE => Kernel::Quantize(quantize::prepare_quantize(ctx)?),
        Opcode::DEQUANTIZE => Kernel::Dequantize(quantize::prepare_dequantize(ctx)?),
        Opcode::RESHAPE => {
            shape_ops::prepare_reshape(ctx)?;
            Kernel::Copy
        }
        Opcode::SHAPE => {
            shape_ops::prepare_shape(ctx)?;
            Kernel::Shape
        }
        Opcode::STRIDED_SLICE => Kernel::StridedSlice(shape_ops::prepare_strided_slice(ctx)?),
        Opcode::PACK => Kernel::Pack(shape_ops::prepare_pack(ctx, false)?),
        Opcode::CONCATENATION => Kernel::Concat(shape_ops::prepare_pack(ctx, true)?),
        Opcode::PAD => Kernel::Pad(shape_ops::prepare_pad(ctx)?),
        Opcode::MEAN => Kernel::Mean(shape_ops::prepare_mean(ctx)?),
        _ => return Err(ctx.unsupported("operator not implemented")),
    })
}

/// Evaluates a prepared operator.
pub fn eval(kernel: &Kernel, inputs: &[Option<Input<'_>>], out: Output<'_>) -> Result<(), Error> {
    let input = |i: usize| {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or(Error::Usage("operator input missing"))
    };
    match kernel {
        Kernel::Conv(p) => conv::eval_conv(
            p,
            input(0)?,
            input(1)?,
            inputs.get(2).copied().flatten(),
            out,
        ),
        Kernel::Depthwise(p) => conv::eval_depthwise(
            p,
            input(0)?,
            input(1)?,
            inputs.get(2).copied().flatten(),
            out,
        ),
        Kernel::FullyConnected(p) => fully_connected::eval(
            p,
            input(0)?,
            input(1)?,
            inputs.get(2).copied().flatten(),
            out,
        ),
        Kernel::Pool(p) => pool::eval(p, input(0)?, out),
        Kernel::Binary(p) => elementwise::eval_binary(p, input(0)?, input(1)?, out),
        Kernel::Unary(p) => elementwise::eval_unary(p, input(0)?, out),
        Kernel::Softmax(p) => softmax::eval(p, input(0)?, out),
        Kernel::Quantize(p) => quantize::eval_quantize(p, input(0)?, out),
        Kernel::Dequantize(q) => quantize::eval_dequantize(q, input(0)?, out),
        Kernel::Copy => {
            let src = input(0)?.data;
            out.data
                .get_mut(..src.len())
                .ok_or(Error::Usage("reshape size mismatch"))?
                .copy_from_slice(src);
            Ok(())
        }
        Kernel::Shape => shape_ops::eval_shape(input(0)?, out),
        Kernel::StridedSlice(p) => shape_ops::eval_strided_slice(p, input(0)?, out),
        Kernel::Pack(p) | Kernel::Concat(p) => shape_ops::eval_pack(p, inputs, out),
        Kernel::Pad(p) => shape_ops::eval_pad(p, input(0)?, out),
        Kernel::Mean(p) => shape_ops::eval_mean(p, input(0)?, out),
    }
}

/// `sum(a[i] * b[i])` of int8 bytes (wrapping, so any order is exact).
#[inline(always)]
pub(crate) fn dot_i8(a: &[u8], b: &[u8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &w)| {
        acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
    })
}

/// `sum(a[i])` of int8 bytes.
#[inline(always)]
pub(crate) fn sum_i8(a: &[u8]) -> i32 {
    a.iter()
        .fold(0i32, |acc, &x| acc.wrapping_add(i32::from(x as i8)))
}

/// `(sum(a[i] * b[i]), sum(b[i]))` of int8 bytes in one pass.
#[inline(always)]
pub(crate) fn dot_and_sum_i8(a: &[u8], b: &[u8]) -> (i32, i32) {
    a.iter().zip(b).fold((0i32, 0i32), |(dot, sum), (&x, &w)| {
        let w = i32::from(w as i8);
        (
            dot.wrapping_add(i32::from(x as i8) * w),
            sum.wrapping_add(w),
        )
    })
}

/// Little-endian f32 `i` of a byte slice.
#[inline(always)]
pub(crate) fn f32_at(b: &[u8], i: usize) -> f32 {
    f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Little-endian i32 `i` of a byte slice.
#[inline(always)]
pub(crate) fn i32_at(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Stores f32 `v` at index `i`.
#[inline(always)]
pub(crate) fn put_f32(b: &mut [u8], i: usize, v: f32) {
    b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
}

/// Clamps a float to an activation range.
#[inline(always)]
pub(crate) fn clamp_f32(v: f32, (lo, hi): (f32, f32)) -> f32 {
    v.max(lo).min(hi)
}

/// The dimensions of a 4-D NHWC tensor.
pub(crate) fn nhwc(info: &TensorInfo<'_>) -> Option<[usize; 4]> {
    let d = info.shape.dims();
    (d.len() == 4).then(|| [d[0], d[1], d[2], d[3]])
}
