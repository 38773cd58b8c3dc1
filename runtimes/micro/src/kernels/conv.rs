//! CONV_2D and DEPTHWISE_CONV_2D, float32, int8 (per-channel or
//! per-tensor quantised weights, int32 bias) and int16 (int8 weights, int64
//! bias, or for CONV_2D int32), following TFLite's `reference_ops::Conv`,
//! `reference_integer_ops::ConvPerChannel` and their depthwise
//! counterparts.

use crate::error::Error;
use crate::kernels::requant::{
    accumulates_in_i64, bias_at, channel_multipliers, put_quantized, quantized_at, requantize,
};
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, Work, clamp_f32, conv_f32, conv_int8, f32_at,
    i32_at, nhwc, put_f32, sum_i8,
};
#[cfg(arm_v7)]
use crate::kernels::{conv_quads, depthwise_pairs};
use crate::model::ElemType;
use crate::rescale::Rescale;

/// Geometry and quantisation of a convolution.
#[derive(Clone, Copy, Debug)]
pub struct ConvParams<'a> {
    pub(crate) stride: (usize, usize),
    pub(crate) dilation: (usize, usize),
    pub(crate) pad: (usize, usize),
    pub(crate) depth_multiplier: usize,
    pub(crate) act: Range,
    pub(crate) input_offset: i32,
    pub(crate) output_offset: i32,
    /// Per output channel of a quantised convolution: the requantisation
    /// multiplier and shift (empty for float).
    pub(crate) channels: &'a [Rescale],
    /// Per output channel of an int8 convolution: `bias + input_offset *
    /// sum(weights)`, what the accumulator adds to `dot(weights, input)`
    /// when every tap is inside the image (empty otherwise).
    pub(crate) folded: &'a [i32],
    /// Whether an int16 convolution accumulates in int64 (else int32).
    pub(crate) wide: bool,
    /// Working memory for the pixel-pair paths of an int8 CONV_2D or
    /// DEPTHWISE_CONV_2D on ARMv7 cores (conv_quads.rs, depthwise_pairs.rs).
    #[cfg(arm_v7)]
    pub(crate) pairs: Option<crate::kernels::Scratch>,
}

/// Output size and leading padding of one spatial axis, as TFLite computes them.
pub fn out_size_and_pad(
    same: bool,
    input: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
) -> (usize, usize) {
    let effective = (filter.saturating_sub(1)) * dilation + 1;
    let out = if same {
        input.div_ceil(stride)
    } else {
        (input + stride).saturating_sub(effective) / stride
    };
    let total = ((out.max(1) - 1) * stride + effective).saturating_sub(input);
    (out, total / 2)
}

/// The range of filter taps `[first, last)` along one axis that fall inside
/// the input, for an output position whose window starts at `origin`.
#[inline(always)]
pub(crate) fn taps(origin: isize, filter: usize, input: usize) -> (usize, usize) {
    let first = (-origin).clamp(0, filter as isize) as usize;
    let last = (input as isize - origin).clamp(0, filter as isize) as usize;
    (first, last.max(first))
}

/// Checks a (depthwise) convolution and computes its parameters.
pub fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>, depthwise: bool) -> Result<ConvParams<'a>, Error> {
    let (input, filter, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
    ctx.constant(1)?;
    let o = ctx.options()?;
    let same = match o.u8(0, 0)? {
        0 => true,
        1 => false,
        _ => return Err(ctx.unsupported("padding other than SAME or VALID")),
    };
    let stride = (o.i32(2, 1)?, o.i32(1, 1)?);
    let (mult, act_field, dil_h, dil_w) = if depthwise {
        (o.i32(3, 1)?, 4, 6, 5)
    } else {
        (1, 3, 5, 4)
    };
    let dilation = (o.i32(dil_h, 1)?, o.i32(dil_w, 1)?);
    let positive = |v: i32| usize::try_from(v).ok().filter(|&v| v > 0);
    let (Some(sh), Some(sw), Some(dh), Some(dw)) = (
        positive(stride.0),
        positive(stride.1),
        positive(dilation.0),
        positive(dilation.1),
    ) else {
        return Err(ctx.invalid("stride and dilation must be positive"));
    };
    let (Some(i), Some(f), Some(oshape)) = (nhwc(&input), nhwc(&filter), nhwc(&out)) else {
        return Err(ctx.invalid("input, filter and output must be 4-D"));
    };
    let (oh, pad_h) = out_size_and_pad(same, i[1], f[1], sh, dh);
    let (ow, pad_w) = out_size_and_pad(same, i[2], f[2], sw, dw);
    if oshape[0] != i[0] || oshape[1] != oh || oshape[2] != ow {
        return Err(ctx.invalid("output shape does not match the convolution"));
    }
    let depth_multiplier = if depthwise {
        let m = positive(mult).ok_or(ctx.invalid("depth multiplier must be positive"))?;
        if f[0] != 1 || f[3] != oshape[3] || i[3] * m != oshape[3] {
            return Err(ctx.invalid("depthwise filter shape does not match input and output"));
        }
        m
    } else {
        let groups = if f[3] > 0 && i[3] % f[3] == 0 {
            i[3] / f[3]
        } else {
            0
        };
        if f[0] != oshape[3] || groups == 0 || oshape[3] % groups != 0 {
            return Err(ctx.invalid("filter shape does not match input and output channels"));
        }
        1
    };
    ctx.check_bias(&input, oshape[3])?;
    let (input_offset, output_offset) = match (input.dtype, filter.dtype, out.dtype) {
        (ElemType::F32, ElemType::F32, ElemType::F32) => (0, 0),
        // Hybrid (weights-only quantised): float arithmetic on dequantised weights.
        (ElemType::F32, ElemType::I8, ElemType::F32) => {
            if filter.quant.is_none_or(|q| q.zero_point != 0) {
                return Err(ctx.unsupported("hybrid weights without symmetric quantisation"));
            }
            (0, 0)
        }
        (ElemType::I8, ElemType::I8, ElemType::I8)
        | (ElemType::I16, ElemType::I8, ElemType::I16) => {
            let (iq, oq) = (input.quant, out.quant);
            let (Some(iq), Some(oq), Some(fq)) = (iq, oq, filter.quant) else {
                return Err(ctx.invalid("quantised convolution without quantisation parameters"));
            };
            if fq.zero_point != 0 {
                return Err(ctx.unsupported("int8 weights with a non-zero zero point"));
            }
            // TFLite Micro's int16 kernels take no offsets.
            if input.dtype == ElemType::I16 && (iq.zero_point != 0 || oq.zero_point != 0) {
                return Err(ctx.unsupported("int16 with nonzero zero points"));
            }
            (-iq.zero_point, oq.zero_point)
        }
        _ => {
            return Err(ctx.unsupported(
                "types other than all float32, all int8, int16 with int8 weights, or float32 with int8 weights",
            ));
        }
    };
    // TFLite Micro's int16 depthwise kernel takes an int64 bias only; CONV_2D
    // picks its accumulator by the bias type.
    let wide = match (input.dtype, depthwise) {
        (ElemType::I16, true) => {
            if ctx.input_opt(2)?.is_some_and(|b| b.dtype != ElemType::I64) {
                return Err(ctx.unsupported("int16 depthwise bias other than int64"));
            }
            true
        }
        (ElemType::I16, false) => accumulates_in_i64(ctx, o.u8(6, 0)?)?,
        _ => false,
    };
    let channels = if input.dtype == ElemType::F32 {
        &[]
    } else {
        channel_multipliers(ctx, &input, &filter, &out, oshape[3])?
    };
    let folded = if input.dtype == ElemType::I8 {
        let weights = ctx.constant(1)?;
        let bias = ctx.input_opt(2)?.and_then(|b| b.data);
        let per_channel = f[1] * f[2] * f[3];
        let sum = |c: usize| -> i32 {
            if depthwise {
                let taps = weights.iter().skip(c).step_by(oshape[3]);
                taps.fold(0i32, |s, &w| s.wrapping_add(i32::from(w as i8)))
            } else {
                weights
                    .get(c * per_channel..(c + 1) * per_channel)
                    .map_or(0, sum_i8)
            }
        };
        let bias_of = |c: usize| {
            bias.and_then(|b| b.get(4 * c..4 * c + 4))
                .map_or(0, |b| i32_at(b, 0))
        };
        ctx.persist(oshape[3], |c| {
            bias_of(c).wrapping_add(input_offset.wrapping_mul(sum(c)))
        })?
    } else {
        &[]
    };
    #[cfg(arm_v7)]
    let pairs = match (input.dtype, (dh, dw), depthwise) {
        (ElemType::I8, (1, 1), false) if f[3] == i[3] => {
            let (len, pixels) = (f[1] * f[2] * f[3], i[0] * oh * ow);
            let direct = conv_quads::direct(f[1], f[2], (pad_h, pad_w));
            let words = conv_quads::scratch_words::<conv_quads::Native>(len, pixels, direct);
            Some(ctx.scratch(words)?)
        }
        (ElemType::I8, (1, 1), true)
            if depth_multiplier == 1 && f[1] * f[2] <= depthwise_pairs::MAX_TAPS =>
        {
            let words = depthwise_pairs::scratch_words((f[1], f[2]), (oh, ow), (sh, sw));
            Some(ctx.scratch(words)?)
        }
        _ => None,
    };
    Ok(ConvParams {
        stride: (sh, sw),
        dilation: (dh, dw),
        pad: (pad_h, pad_w),
        depth_multiplier,
        act: ctx.activation(o.u8(act_field, 0)?)?,
        input_offset,
        output_offset,
        channels,
        folded,
        wide,
        #[cfg(arm_v7)]
        pairs,
    })
}

/// Weight `i` as a float: stored float32, or a hybrid model's int8 weight
/// times its channel's scale.
#[inline(always)]
pub(crate) fn float_weight(filter: &Input<'_>, i: usize, scale: f32) -> f32 {
    if filter.info.dtype == ElemType::I8 {
        f32::from(filter.data[i] as i8) * scale
    } else {
        f32_at(filter.data, i)
    }
}

/// `weight f x (input i + offset)` of a quantised convolution, in int32 as
/// TFLite's kernels compute it.
#[inline(always)]
fn product(p: &ConvParams<'_>, input: &Input<'_>, filter: &Input<'_>, i: usize, f: usize) -> i64 {
    let x = quantized_at(input.data, input.info.dtype, i).wrapping_add(p.input_offset);
    i64::from(i32::from(filter.data[f] as i8).wrapping_mul(x))
}

/// CONV_2D.
pub fn eval_conv(
    p: &ConvParams<'_>,
    input: Input<'_>,
    filter: Input<'_>,
    bias: Option<Input<'_>>,
    mut out: Output<'_>,
    #[cfg_attr(not(arm_v7), expect(unused_variables))] work: &mut Work<'_>,
) -> Result<(), Error> {
    let (Some([batches, ih, iw, ic]), Some([oc, fh, fw, fic]), Some([_, oh, ow, _])) =
        (nhwc(&input.info), nhwc(&filter.info), nhwc(&out.info))
    else {
        return Err(Error::Usage("convolution shapes"));
    };
    let float = input.info.dtype == ElemType::F32;
    if !float && p.channels.len() != oc {
        return Err(Error::Usage("convolution prepared for another output"));
    }
    let dtype = input.info.dtype;
    let weight = |i: usize, scale: f32| float_weight(&filter, i, scale);
    if fic == ic && p.dilation == (1, 1) {
        let dims = [batches, ih, iw, ic, oc, fh, fw, oh, ow];
        #[cfg(arm_v7)]
        if let Some(pairs) = p.pairs
            && p.folded.len() == oc
            && conv_quads::conv::<conv_quads::Native>(
                p,
                input.data,
                filter.data,
                out.data,
                dims,
                work.rest(pairs)?,
            )
        {
            return Ok(());
        }
        if dtype == ElemType::I8 && p.folded.len() == oc {
            conv_int8::conv(p, &input, &filter, bias.as_ref(), &mut out, dims);
            return Ok(());
        }
        if filter.info.dtype == ElemType::F32 {
            conv_f32::conv(
                p,
                input.data,
                filter.data,
                bias.as_ref().map(|b| b.data),
                out.data,
                dims,
            );
            return Ok(());
        }
    }
    let filters_per_group = oc / (ic / fic);
    for c in 0..oc {
        let group = c / filters_per_group;
        let scale = filter.info.channel_scale(c);
        let channel = if float {
            Rescale::new(0, 0)
        } else {
            p.channels[c]
        };
        let fbase = c * fh * fw * fic;
        for b in 0..batches {
            for oy in 0..oh {
                let iy0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                for ox in 0..ow {
                    let ix0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let o = ((b * oh + oy) * ow + ox) * oc + c;
                    let mut acc_i = 0i64;
                    let mut acc_f = 0f32;
                    for fy in 0..fh {
                        let iy = iy0 + (fy * p.dilation.0) as isize;
                        if iy < 0 || iy >= ih as isize {
                            continue;
                        }
                        for fx in 0..fw {
                            let ix = ix0 + (fx * p.dilation.1) as isize;
                            if ix < 0 || ix >= iw as isize {
                                continue;
                            }
                            let ibase =
                                ((b * ih + iy as usize) * iw + ix as usize) * ic + group * fic;
                            let fb = fbase + (fy * fw + fx) * fic;
                            if float {
                                for k in 0..fic {
                                    acc_f += f32_at(input.data, ibase + k) * weight(fb + k, scale);
                                }
                            } else {
                                for k in 0..fic {
                                    acc_i = acc_i.wrapping_add(product(
                                        p,
                                        &input,
                                        &filter,
                                        ibase + k,
                                        fb + k,
                                    ));
                                }
                            }
                        }
                    }
                    if float {
                        let bias = bias.map_or(0.0, |b| f32_at(b.data, c));
                        put_f32(out.data, o, clamp_f32(acc_f + bias, p.act.float));
                    } else {
                        let bias = bias.as_ref().map_or(0, |b| bias_at(b, c));
                        let v =
                            requantize(acc_i, bias, p.wide, channel, p.output_offset, p.act.int);
                        put_quantized(out.data, dtype, o, v);
                    }
                }
            }
        }
    }
    Ok(())
}

/// DEPTHWISE_CONV_2D.
pub fn eval_depthwise(
    p: &ConvParams<'_>,
    input: Input<'_>,
    filter: Input<'_>,
    bias: Option<Input<'_>>,
    mut out: Output<'_>,
    #[cfg_attr(not(arm_v7), expect(unused_variables))] work: &mut Work<'_>,
) -> Result<(), Error> {
    let (Some([batches, ih, iw, ic]), Some([_, fh, fw, oc]), Some([_, oh, ow, _])) =
        (nhwc(&input.info), nhwc(&filter.info), nhwc(&out.info))
    else {
        return Err(Error::Usage("depthwise shapes"));
    };
    let float = input.info.dtype == ElemType::F32;
    if !float && p.channels.len() != oc {
        return Err(Error::Usage("convolution prepared for another output"));
    }
    let dtype = input.info.dtype;
    let weight = |i: usize, scale: f32| float_weight(&filter, i, scale);
    if p.dilation == (1, 1) {
        let dims = [batches, ih, iw, ic, oc, fh, fw, oh, ow];
        #[cfg(arm_v7)]
        if let Some(pairs) = p.pairs
            && dtype == ElemType::I8
            && depthwise_pairs::depthwise(
                p,
                input.data,
                filter.data,
                out.data,
                dims,
                work.get(pairs)?,
            )
        {
            return Ok(());
        }
        if dtype == ElemType::I8 && p.folded.len() == oc {
            conv_int8::depthwise(p, &input, &filter, bias.as_ref(), &mut out, dims);
            return Ok(());
        }
        if filter.info.dtype == ElemType::F32 {
            conv_f32::depthwise(
                p,
                input.data,
                filter.data,
                bias.as_ref().map(|b| b.data),
                out.data,
                dims,
            );
            return Ok(());
        }
    }
    for c in 0..oc {
        let in_c = c / p.depth_multiplier;
        let scale = filter.info.channel_scale(c);
        let channel = if float {
            Rescale::new(0, 0)
        } else {
            p.channels[c]
        };
        for b in 0..batches {
            for oy in 0..oh {
                let iy0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                for ox in 0..ow {
                    let ix0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let mut acc_i = 0i64;
                    let mut acc_f = 0f32;
                    for fy in 0..fh {
                        let iy = iy0 + (fy * p.dilation.0) as isize;
                        if iy < 0 || iy >= ih as isize {
                            continue;
                        }
                        for fx in 0..fw {
                            let ix = ix0 + (fx * p.dilation.1) as isize;
                            if ix < 0 || ix >= iw as isize {
                                continue;
                            }
                            let i = ((b * ih + iy as usize) * iw + ix as usize) * ic + in_c;
                            let f = (fy * fw + fx) * oc + c;
                            if float {
                                acc_f += f32_at(input.data, i) * weight(f, scale);
                            } else {
                                acc_i = acc_i.wrapping_add(product(p, &input, &filter, i, f));
                            }
                        }
                    }
                    let o = ((b * oh + oy) * ow + ox) * oc + c;
                    if float {
                        let bias = bias.map_or(0.0, |b| f32_at(b.data, c));
                        put_f32(out.data, o, clamp_f32(acc_f + bias, p.act.float));
                    } else {
                        let bias = bias.as_ref().map_or(0, |b| bias_at(b, c));
                        let v =
                            requantize(acc_i, bias, p.wide, channel, p.output_offset, p.act.int);
                        put_quantized(out.data, dtype, o, v);
                    }
                }
            }
        }
    }
    Ok(())
}

/// CONV_2D.
pub struct Conv2d;

impl Op for Conv2d {
    type Params<'a> = ConvParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ConvParams<'a>, Error> {
        prepare(ctx, false)
    }

    fn eval(p: &ConvParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let out = ctx.outputs.get(0)?;
        eval_conv(p, i.get(0)?, i.get(1)?, i.opt(2)?, out, &mut ctx.work)
    }
}

/// DEPTHWISE_CONV_2D.
pub struct DepthwiseConv2d;

impl Op for DepthwiseConv2d {
    type Params<'a> = ConvParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<ConvParams<'a>, Error> {
        prepare(ctx, true)
    }

    fn eval(p: &ConvParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let out = ctx.outputs.get(0)?;
        eval_depthwise(p, i.get(0)?, i.get(1)?, i.opt(2)?, out, &mut ctx.work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_matches_tflite() {
        assert_eq!(out_size_and_pad(true, 49, 10, 2, 1), (25, 4));
        assert_eq!(out_size_and_pad(false, 49, 10, 2, 1), (20, 0));
        assert_eq!(out_size_and_pad(true, 32, 3, 1, 1), (32, 1));
        assert_eq!(out_size_and_pad(true, 8, 3, 1, 2), (8, 2));
    }
}
