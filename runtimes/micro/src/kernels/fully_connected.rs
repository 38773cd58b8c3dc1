//! FULLY_CONNECTED, float32, int8 (per-tensor or per-channel weights) and
//! int16 (int8 weights, int64 or int32 bias), following TFLite's
//! `reference_ops::FullyConnected` and `reference_integer_ops::FullyConnected`
//! (and `FullyConnectedPerChannel`).

use crate::error::Error;
use crate::kernels::conv::float_weight;
use crate::kernels::dot::{Dot4Input, UNPACKED_WORDS, dot2_i8, dot4_rows};
use crate::kernels::requant::{
    accumulates_in_i64, bias_at, channel_multipliers, put_quantized, requantize, rescale_i32,
};
#[cfg(arm_v7)]
use crate::kernels::v7m::{Requant, requant4};
use crate::kernels::{
    EvalCtx, Input, Op, Output, PrepareCtx, Range, clamp_f32, dot_and_sum_i8, dot_i8, f32_at,
    floats, i16_at, i32_at, put_f32, sum_i8,
};
use crate::model::ElemType;
use crate::rescale::Rescale;
use core::mem::MaybeUninit;

/// Quantisation and activation of a fully connected layer.
#[derive(Clone, Copy, Debug)]
pub struct FcParams<'a> {
    act: Range,
    input_offset: i32,
    filter_offset: i32,
    output_offset: i32,
    /// Per output unit of a quantised layer (one entry for per-tensor
    /// weights): its rescale.
    channels: &'a [Rescale],
    /// Whether an int16 layer accumulates in int64 (else int32).
    wide: bool,
    /// Per output unit of an int8 layer with constant weights: `bias +
    /// input_offset x sum(weights)`, what the sum adds to `dot(weights,
    /// input)` (empty otherwise).
    folded: &'a [i32],
}

/// Checks a fully connected layer.
pub fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<FcParams<'a>, Error> {
    // The weights may be a tensor computed by the graph (as in attention
    // blocks), not only a constant: TFLite Micro takes both.
    let (input, filter, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output);
    let o = ctx.options()?;
    if o.u8(1, 0)? != 0 {
        return Err(ctx.unsupported("shuffled weights format"));
    }
    let f = filter.shape.dims();
    if f.len() != 2 || f[1] == 0 || input.shape.elements() % f[1] != 0 {
        return Err(ctx.invalid("weights must be 2-D and divide the input"));
    }
    let batches = input.shape.elements() / f[1];
    if out.shape.elements() != batches * f[0] {
        return Err(ctx.invalid("output size does not match batches x units"));
    }
    ctx.check_bias(&input, f[0])?;
    let (input_offset, filter_offset, output_offset) = match (input.dtype, filter.dtype, out.dtype)
    {
        (ElemType::F32, ElemType::F32, ElemType::F32) => (0, 0, 0),
        // Hybrid (weights-only quantised): float arithmetic on dequantised weights.
        (ElemType::F32, ElemType::I8, ElemType::F32) => {
            if filter.quant.is_none_or(|q| q.zero_point != 0) {
                return Err(ctx.unsupported("hybrid weights without symmetric quantisation"));
            }
            (0, 0, 0)
        }
        (ElemType::I8, ElemType::I8, ElemType::I8) => {
            let (Some(iq), Some(fq), Some(oq)) = (input.quant, filter.quant, out.quant) else {
                return Err(ctx.invalid("int8 layer without quantisation parameters"));
            };
            (-iq.zero_point, -fq.zero_point, oq.zero_point)
        }
        (ElemType::I16, ElemType::I8, ElemType::I16) => {
            let (Some(iq), Some(fq), Some(oq)) = (input.quant, filter.quant, out.quant) else {
                return Err(ctx.invalid("int16 layer without quantisation parameters"));
            };
            if fq.zero_point != 0 {
                return Err(ctx.unsupported("int16 layer with a non-zero weight zero point"));
            }
            (-iq.zero_point, 0, oq.zero_point)
        }
        _ => {
            return Err(ctx.unsupported(
                "types other than all float32, all int8, int16 with int8 weights, or float32 with int8 weights",
            ));
        }
    };
    let channels = match (input.dtype, filter.channel_scales) {
        (ElemType::F32, _) => &[],
        (_, Some(_)) => channel_multipliers(ctx, &input, &filter, &out, f[0])?,
        (_, None) => channel_multipliers(ctx, &input, &filter, &out, 1)?,
    };
    let wide = input.dtype == ElemType::I16 && accumulates_in_i64(ctx, o.u8(4, 0)?)?;
    let folded = match (input.dtype, filter.data) {
        (ElemType::I8, Some(weights)) if weights.len() == f[0] * f[1] => {
            let bias = ctx.input_opt(2)?.and_then(|b| b.data);
            let bias_of = |u: usize| {
                bias.and_then(|b| b.get(4 * u..4 * u + 4))
                    .map_or(0, |b| i32_at(b, 0))
            };
            let depth = f[1];
            ctx.persist(f[0], |u| {
                let sum = weights.get(u * depth..(u + 1) * depth).map_or(0, sum_i8);
                bias_of(u).wrapping_add(input_offset.wrapping_mul(sum))
            })?
        }
        _ => &[],
    };
    Ok(FcParams {
        act: ctx.activation(o.u8(0, 0)?)?,
        input_offset,
        filter_offset,
        output_offset,
        channels,
        wide,
        folded,
    })
}

/// FULLY_CONNECTED.
pub fn eval(
    p: &FcParams<'_>,
    input: Input<'_>,
    filter: Input<'_>,
    bias: Option<Input<'_>>,
    out: Output<'_>,
) -> Result<(), Error> {
    let f = filter.info.shape.dims();
    let (units, depth) = (f[0], f[1]);
    let batches = input.info.shape.elements() / depth;
    if input.info.dtype == ElemType::F32 && filter.info.dtype == ElemType::F32 {
        eval_f32(p, &input, &filter, bias.as_ref(), out);
        return Ok(());
    }
    if input.info.dtype == ElemType::F32 {
        for b in 0..batches {
            for u in 0..units {
                let scale = filter.info.channel_scale(u);
                let mut total = 0f32;
                for d in 0..depth {
                    total += f32_at(input.data, b * depth + d)
                        * float_weight(&filter, u * depth + d, scale);
                }
                let bias = bias.map_or(0.0, |b| f32_at(b.data, u));
                put_f32(
                    out.data,
                    b * units + u,
                    clamp_f32(total + bias, p.act.float),
                );
            }
        }
        return Ok(());
    }
    if p.channels.len() != units && p.channels.len() != 1 {
        return Err(Error::Usage(
            "fully connected layer prepared for other weights",
        ));
    }
    let per_channel = p.channels.len() == units;
    if input.info.dtype == ElemType::I16 {
        eval_int16(p, &input, &filter, bias.as_ref(), out, per_channel);
        return Ok(());
    }
    // sum((w + fo) * (x + io)) = dot(w, x) + io * sum(w) + fo * sum(x + io),
    // with bias + io * sum(w) folded at prepare for constant weights.
    // Integer sums are exact in any order (wrapping), so this stays bit-exact.
    let folded = p.folded.len() == units;
    for b in 0..batches {
        let xs = &input.data[b * depth..(b + 1) * depth];
        // Symmetric int8 weights (filter offset 0) need no input sum.
        let xsum = match p.filter_offset {
            0 => 0,
            _ => xs.iter().fold(0i32, |a, &x| {
                a.wrapping_add(i32::from(x as i8).wrapping_add(p.input_offset))
            }),
        };
        let row = |u: usize| &filter.data[u * depth..(u + 1) * depth];
        let (xterm, offset, (low, high)) = (
            p.filter_offset.wrapping_mul(xsum),
            p.output_offset,
            p.act.int,
        );
        let finish = |u: usize, wx: i32| {
            let rescale = &p.channels[if per_channel { u } else { 0 }];
            let v = rescale_i32(rescale, wx.wrapping_add(xterm)).wrapping_add(offset);
            v.clamp(low, high) as i8 as u8
        };
        let o = &mut out.data[b * units..(b + 1) * units];
        if folded {
            // Four units per pass over the input, then two, then one.
            let mut u = 0;
            let mut work = [MaybeUninit::uninit(); UNPACKED_WORDS];
            let input = Dot4Input::new(xs, &mut work);
            let rows = filter.data.chunks_exact(4 * depth.max(1));
            let quads = o
                .chunks_exact_mut(4)
                .zip(p.folded.chunks_exact(4))
                .zip(rows);
            // One layer-wide scale: the four requantised in one asm block.
            #[cfg(arm_v7)]
            let shared =
                (!per_channel).then(|| Requant::new(&p.channels[0], xterm, offset, (low, high)));
            for ((o4, folded4), rows) in quads {
                let Some(dots) = dot4_rows(&input, rows) else {
                    break;
                };
                let mut sums = dots;
                for (s, f) in sums.iter_mut().zip(folded4) {
                    *s = s.wrapping_add(*f);
                }
                #[cfg(arm_v7)]
                if let Some(k) = &shared {
                    o4.copy_from_slice(&requant4(sums, k));
                    u += 4;
                    continue;
                }
                for (y, s) in o4.iter_mut().zip(sums) {
                    *y = finish(u, s);
                    u += 1;
                }
            }
            while u + 2 <= units {
                let (d0, d1) = dot2_i8(xs, row(u), row(u + 1));
                o[u] = finish(u, d0.wrapping_add(p.folded[u]));
                o[u + 1] = finish(u + 1, d1.wrapping_add(p.folded[u + 1]));
                u += 2;
            }
            if u < units {
                o[u] = finish(u, dot_i8(xs, row(u)).wrapping_add(p.folded[u]));
            }
            continue;
        }
        for (u, y) in o.iter_mut().enumerate() {
            let (dot, wsum) = dot_and_sum_i8(xs, row(u));
            let wx = dot
                .wrapping_add(p.input_offset.wrapping_mul(wsum))
                .wrapping_add(bias.map_or(0, |b| i32_at(b.data, u)));
            *y = finish(u, wx);
        }
    }
    Ok(())
}

/// FULLY_CONNECTED, float32: each unit summed in TFLite's order, four
/// units side by side over one pass of the input (independent chains the
/// FPU overlaps).
fn eval_f32(
    p: &FcParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: Output<'_>,
) {
    let f = filter.info.shape.dims();
    let (units, depth) = (f[0], f[1]);
    let row = |u: usize| &filter.data[4 * u * depth..4 * (u + 1) * depth];
    let finish = |total: f32, u: usize| {
        let bias = bias.map_or(0.0, |b| f32_at(b.data, u));
        clamp_f32(total + bias, p.act.float)
    };
    for b in 0..input.info.shape.elements() / depth {
        let xs = &input.data[4 * b * depth..4 * (b + 1) * depth];
        let mut u = 0;
        while u + 4 <= units {
            let mut acc = [0f32; 4];
            let ws = floats(row(u)).zip(floats(row(u + 1)));
            let ws = ws.zip(floats(row(u + 2)).zip(floats(row(u + 3))));
            for (x, ((w0, w1), (w2, w3))) in floats(xs).zip(ws) {
                acc[0] += x * w0;
                acc[1] += x * w1;
                acc[2] += x * w2;
                acc[3] += x * w3;
            }
            for (j, &a) in acc.iter().enumerate() {
                put_f32(out.data, b * units + u + j, finish(a, u + j));
            }
            u += 4;
        }
        for u in u..units {
            let total = floats(xs)
                .zip(floats(row(u)))
                .fold(0f32, |t, (x, w)| t + x * w);
            put_f32(out.data, b * units + u, finish(total, u));
        }
    }
}

/// FULLY_CONNECTED, int16 with int8 weights: TFLite's reference loop,
/// summing `weight x (input + offset)` in int32 products.
fn eval_int16(
    p: &FcParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: Output<'_>,
    per_channel: bool,
) {
    let f = filter.info.shape.dims();
    let (units, depth) = (f[0], f[1]);
    for b in 0..input.info.shape.elements() / depth {
        for u in 0..units {
            let acc = (0..depth).fold(0i64, |a, d| {
                let x = i32::from(i16_at(input.data, b * depth + d)).wrapping_add(p.input_offset);
                let w = i32::from(filter.data[u * depth + d] as i8);
                a.wrapping_add(i64::from(w.wrapping_mul(x)))
            });
            let channel = p.channels[if per_channel { u } else { 0 }];
            let bias = bias.map_or(0, |b| bias_at(b, u));
            let v = requantize(acc, bias, p.wide, channel, p.output_offset, p.act.int);
            put_quantized(out.data, ElemType::I16, b * units + u, v);
        }
    }
}

/// FULLY_CONNECTED.
pub struct FullyConnected;

impl Op for FullyConnected {
    type Params<'a> = FcParams<'a>;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<FcParams<'a>, Error> {
        prepare(ctx)
    }

    fn eval(p: &FcParams<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        eval(p, i.get(0)?, i.get(1)?, i.opt(2)?, ctx.outputs.get(0)?)
    }
}
