//! TRANSPOSE_CONV, float32, int8 (per-channel int8 weights, int32 bias)
//! and int16 (int8 weights, int64 or int16 bias), following TFLite Micro's
//! `transpose_conv.cc` and the reference kernels it runs. The reference
//! scatters every input element into the output; this gathers, for each
//! output element, the same products in the same order (input row,
//! column, channel ascending), so float sums are identical and integer
//! sums exact.

use crate::error::Error;
use crate::kernels::conv::out_size_and_pad;
use crate::kernels::requant::{
    bias_at, channel_multipliers, put_quantized, quantized_at, requantize,
};
use crate::kernels::{EvalCtx, Op, PrepareCtx, clamp_f32, f32_at, i32_at, nhwc, put_f32};
use crate::model::ElemType;
use crate::rescale::Rescale;

/// A prepared TRANSPOSE_CONV.
#[derive(Clone, Copy, Debug)]
pub struct TransposeConvParams<'a> {
    stride: (usize, usize),
    pad: (usize, usize),
    float_act: (f32, f32),
    int_act: (i32, i32),
    input_offset: i32,
    output_offset: i32,
    /// Per output channel: its rescale.
    channels: &'a [Rescale],
}

/// TRANSPOSE_CONV.
pub struct TransposeConv;

impl Op for TransposeConv {
    type Params<'a> = TransposeConvParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<TransposeConvParams<'a>, Error> {
        if !(3..=4).contains(&ctx.input_count()) || ctx.output_count() != 1 {
            return Err(ctx.invalid("TRANSPOSE_CONV takes 3 or 4 inputs and gives one output"));
        }
        let (filter, input, out) = (ctx.input(1)?, ctx.input(2)?, ctx.output);
        let (Some(f), Some(i), Some(o)) = (nhwc(&filter), nhwc(&input), nhwc(&out)) else {
            return Err(ctx.invalid("filter, input and output must be 4-D"));
        };
        if f[3] != i[3] || f[0] != o[3] || i[0] != o[0] {
            return Err(ctx.invalid("filter, input and output shapes do not match"));
        }
        let shape = ctx.input(0)?;
        if shape.dtype != ElemType::I32 || shape.shape.elements() != 4 {
            return Err(ctx.invalid("output_shape must be 4 int32 values"));
        }
        if let Some(d) = shape.data
            && (d.len() < 16 || (0..4).any(|k| usize::try_from(i32_at(d, k)).ok() != Some(o[k])))
        {
            return Err(ctx.unsupported("an output_shape other than the output's (dynamic shapes)"));
        }
        let opts = ctx.options()?;
        let same = match opts.u8(0, 0)? {
            0 => true,
            1 => false,
            _ => return Err(ctx.unsupported("padding other than SAME or VALID")),
        };
        let dim = |v: i32| usize::try_from(v).ok().filter(|&v| v > 0);
        let (Some(sw), Some(sh)) = (dim(opts.i32(1, 0)?), dim(opts.i32(2, 0)?)) else {
            return Err(ctx.invalid("strides must be positive"));
        };
        // As TFLite: the padding of a convolution from the output to the input.
        let (_, pad_h) = out_size_and_pad(same, o[1], f[1], sh, 1);
        let (_, pad_w) = out_size_and_pad(same, o[2], f[2], sw, 1);
        let activation = opts.u8(3, 0)?;
        let bias = ctx.input_opt(3)?;
        let mut p = TransposeConvParams {
            stride: (sh, sw),
            pad: (pad_h, pad_w),
            float_act: (f32::NEG_INFINITY, f32::INFINITY),
            int_act: (0, 0),
            input_offset: 0,
            output_offset: 0,
            channels: &[],
        };
        match (input.dtype, filter.dtype, out.dtype) {
            (ElemType::F32, ElemType::F32, ElemType::F32) => {
                if bias.is_some_and(|b| b.dtype != ElemType::F32 || b.shape.elements() != o[3]) {
                    return Err(ctx.invalid("bias must be float32, one per output channel"));
                }
                p.float_act = ctx.activation(activation)?.float;
            }
            (ElemType::I8 | ElemType::I16, ElemType::I8, t) if t == input.dtype => {
                let (Some(iq), Some(_), Some(oq)) = (input.quant, filter.quant, out.quant) else {
                    return Err(ctx.invalid("quantised layer without quantisation parameters"));
                };
                if filter.channel_scales.is_some() && filter.quantized_dimension != 0 {
                    return Err(ctx.invalid(
                        "per-channel weights must be quantised along the output channels",
                    ));
                }
                let want_bias: &[ElemType] = if t == ElemType::I8 {
                    &[ElemType::I32]
                } else {
                    &[ElemType::I64, ElemType::I16]
                };
                if bias.is_some_and(|b| !want_bias.contains(&b.dtype) || b.shape.elements() != o[3])
                {
                    return Err(ctx.unsupported(
                        "bias other than int32 (int8) or int64/int16 (int16), one per output channel",
                    ));
                }
                // TFLite Micro's int16 kernel takes no offsets.
                if t == ElemType::I16 && (iq.zero_point != 0 || oq.zero_point != 0) {
                    return Err(ctx.unsupported("int16 with nonzero zero points"));
                }
                p.int_act = ctx.activation(activation)?.int;
                p.input_offset = -iq.zero_point;
                p.output_offset = oq.zero_point;
                p.channels = channel_multipliers(ctx, &input, &filter, &out, o[3])?;
            }
            _ => {
                return Err(ctx.unsupported(
                    "types other than all float32, int8 with int8 weights, or int16 with int8 weights",
                ));
            }
        }
        Ok(p)
    }

    fn eval(p: &TransposeConvParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let (filter, input) = (ctx.inputs.get(1)?, ctx.inputs.get(2)?);
        let bias = ctx.inputs.opt(3)?;
        let out = ctx.outputs.get(0)?;
        let (Some([_, fh, fw, ic]), Some([_, ih, iw, _]), Some([batches, oh, ow, oc])) =
            (nhwc(&filter.info), nhwc(&input.info), nhwc(&out.info))
        else {
            return Err(Error::Usage("transpose conv shapes"));
        };
        let dtype = input.info.dtype;
        if dtype != ElemType::F32 && p.channels.len() != oc {
            return Err(Error::Usage("transpose conv not prepared"));
        }
        let (sh, sw) = (p.stride.0 as isize, p.stride.1 as isize);
        // Input rows (or columns) whose window covers output row `o`, ascending.
        let span = |o: usize, pad: usize, f: usize, s: isize, n: usize| {
            let top = o as isize + pad as isize;
            let lo = (top - f as isize + 1).max(0);
            let lo = (lo + s - 1) / s;
            let hi = (top / s + 1).min(n as isize);
            lo.max(0)..hi.max(lo.max(0))
        };
        for b in 0..batches {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..oc {
                        let at = ((b * oh + oy) * ow + ox) * oc + c;
                        let (mut facc, mut iacc) = (0f32, 0i64);
                        for y in span(oy, p.pad.0, fh, sh, ih) {
                            let fy = (oy as isize + p.pad.0 as isize - y * sh) as usize;
                            for x in span(ox, p.pad.1, fw, sw, iw) {
                                let fx = (ox as isize + p.pad.1 as isize - x * sw) as usize;
                                let ib = ((b * ih + y as usize) * iw + x as usize) * ic;
                                let fb = ((c * fh + fy) * fw + fx) * ic;
                                for k in 0..ic {
                                    if dtype == ElemType::F32 {
                                        facc += f32_at(input.data, ib + k)
                                            * f32_at(filter.data, fb + k);
                                    } else {
                                        let v = quantized_at(input.data, dtype, ib + k)
                                            .wrapping_add(p.input_offset);
                                        let w = i32::from(filter.data[fb + k] as i8);
                                        iacc = iacc.wrapping_add(i64::from(v.wrapping_mul(w)));
                                    }
                                }
                            }
                        }
                        if dtype == ElemType::F32 {
                            if let Some(bias) = bias {
                                facc += f32_at(bias.data, c);
                            }
                            put_f32(out.data, at, clamp_f32(facc, p.float_act));
                        } else {
                            let bias = bias.as_ref().map_or(0, |b| bias_at(b, c));
                            let wide = dtype == ElemType::I16;
                            let v = requantize(
                                iacc,
                                bias,
                                wide,
                                p.channels[c],
                                p.output_offset,
                                p.int_act,
                            );
                            put_quantized(out.data, dtype, at, v);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
