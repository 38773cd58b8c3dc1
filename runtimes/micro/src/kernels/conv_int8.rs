//! Fast int8 paths for CONV_2D (one group) and DEPTHWISE_CONV_2D, and
//! CONV_2D's patch path for int16 too.
//!
//! Integer sums do not depend on their order, so these loops reorder
//! TFLite's reference computation for speed and stay bit-exact:
//! `sum(w * (x + offset))` over the taps inside the image becomes
//! `dot(w, x) + offset * sum(w)`, each filter row inside the image is one
//! contiguous dot product, and depthwise channels are accumulated side by
//! side. Per-channel requantisation parameters come from prepare
//! ([`ConvParams::channels`]); the biases of a block of [`BLOCK`] channels
//! are gathered on the stack.

use crate::kernels::conv::ConvParams;
use crate::kernels::requant::{bias_at, put_quantized, requantize};
use crate::kernels::{Input, Output, dot_i8, i16_at, sum_i8};
use crate::model::ElemType;

/// Output channels handled together.
const BLOCK: usize = 64;

/// The range of filter taps `[first, last)` along one axis that fall inside
/// the input, for an output position whose window starts at `origin`.
#[inline(always)]
fn taps(origin: isize, filter: usize, input: usize) -> (usize, usize) {
    let first = (-origin).clamp(0, filter as isize) as usize;
    let last = (input as isize - origin).clamp(0, filter as isize) as usize;
    (first, last.max(first))
}

/// Requantisation parameters of a block of output channels.
struct Requant<'p> {
    channels: &'p [(i32, i32)],
    bias: [i64; BLOCK],
}

impl<'p> Requant<'p> {
    fn new(p: &'p ConvParams<'_>, bias: Option<&Input<'_>>, c0: usize, n: usize) -> Self {
        let mut r = Requant {
            channels: &p.channels[c0..c0 + n],
            bias: [0; BLOCK],
        };
        if let Some(b) = bias {
            for (k, v) in r.bias.iter_mut().enumerate().take(n) {
                *v = bias_at(b, c0 + k);
            }
        }
        r
    }

    /// Stores channel `k`'s output from its sum of products.
    #[inline(always)]
    fn apply(&self, out: &mut Output<'_>, at: usize, k: usize, acc: i64, p: &ConvParams<'_>) {
        let (bias, channel) = (self.bias[k], self.channels[k]);
        let v = requantize(acc, bias, p.wide, channel, p.output_offset, p.act.int);
        put_quantized(out.data, out.info.dtype, at, v);
    }
}

/// Longest filter patch (`filter height x width x input channels`) the
/// patch path gathers on the stack; longer int8 patches take the row path.
pub(crate) const MAX_PATCH: usize = 2048;

/// CONV_2D, int8 or (patches up to [`MAX_PATCH`]) int16, one group, no
/// dilation.
///
/// Each output pixel's input patch is gathered once per block of channels
/// as `x + input_offset` (0 for taps outside the image, which TFLite skips),
/// so every channel is one contiguous dot product with its filter (summed
/// in int64 for int16: its products reach 2^22).
pub fn conv(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let patch_len = fh * fw * ic;
    let int16 = input.info.dtype == ElemType::I16;
    if !int16 && (patch_len > MAX_PATCH || !(-255..=255).contains(&p.input_offset)) {
        return conv_rows(p, input, filter, bias, out, dims);
    }
    let mut patch = [0i16; MAX_PATCH];
    let row = fw * ic;
    for c0 in (0..oc).step_by(BLOCK) {
        let n = BLOCK.min(oc - c0);
        let rq = Requant::new(p, bias, c0, n);
        for b in 0..batches {
            for oy in 0..oh {
                let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                for ox in 0..ow {
                    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    for fy in 0..fh {
                        let iy = y0 + fy as isize;
                        let dst = &mut patch[fy * row..(fy + 1) * row];
                        if iy < 0 || iy >= ih as isize {
                            dst.fill(0);
                            continue;
                        }
                        let (fx0, fx1) = taps(x0, fw, iw);
                        dst[..fx0 * ic].fill(0);
                        dst[fx1 * ic..].fill(0);
                        let ix = (x0 + fx0 as isize) as usize;
                        let start = ((b * ih + iy as usize) * iw + ix) * ic;
                        let dst = &mut dst[fx0 * ic..fx1 * ic];
                        if int16 {
                            // int16 convolutions have no input offset.
                            for (j, d) in dst.iter_mut().enumerate() {
                                *d = i16_at(input.data, start + j);
                            }
                        } else {
                            let src = &input.data[start..][..dst.len()];
                            for (d, &x) in dst.iter_mut().zip(src) {
                                *d = (i32::from(x as i8) + p.input_offset) as i16;
                            }
                        }
                    }
                    let patch = &patch[..patch_len];
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for k in 0..n {
                        let ws = &filter.data[(c0 + k) * patch_len..][..patch_len];
                        let acc = if int16 {
                            ws.iter().zip(patch).fold(0i64, |a, (&w, &x)| {
                                a + i64::from(i32::from(w as i8) * i32::from(x))
                            })
                        } else {
                            i64::from(ws.iter().zip(patch).fold(0i32, |a, (&w, &x)| {
                                a.wrapping_add(i32::from(w as i8) * i32::from(x))
                            }))
                        };
                        rq.apply(out, o + k, k, acc, p);
                    }
                }
            }
        }
    }
}

/// CONV_2D, int8, one group, no dilation: one dot product per filter row
/// inside the image, for patches too long for the stack.
fn conv_rows(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let row = fw * ic;
    for c0 in (0..oc).step_by(BLOCK) {
        let n = BLOCK.min(oc - c0);
        let rq = Requant::new(p, bias, c0, n);
        let mut full_sums = [0i32; BLOCK];
        for (k, s) in full_sums.iter_mut().enumerate().take(n) {
            let base = (c0 + k) * fh * row;
            *s = sum_i8(&filter.data[base..base + fh * row]);
        }
        for b in 0..batches {
            for oy in 0..oh {
                let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                let (fy0, fy1) = taps(y0, fh, ih);
                for ox in 0..ow {
                    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let (fx0, fx1) = taps(x0, fw, iw);
                    let inside = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                    let seg = (fx1 - fx0) * ic;
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for (k, &full_sum) in full_sums.iter().enumerate().take(n) {
                        let fbase = (c0 + k) * fh * row;
                        let mut acc = 0i32;
                        let mut wsum = 0i32;
                        for fy in fy0..fy1 {
                            let iy = (y0 + fy as isize) as usize;
                            let ix = (x0 + fx0 as isize) as usize;
                            let xs = &input.data[((b * ih + iy) * iw + ix) * ic..][..seg];
                            let ws = &filter.data[fbase + fy * row + fx0 * ic..][..seg];
                            acc = acc.wrapping_add(dot_i8(xs, ws));
                            if !inside {
                                wsum = wsum.wrapping_add(sum_i8(ws));
                            }
                        }
                        let wsum = if inside { full_sum } else { wsum };
                        let acc = acc.wrapping_add(wsum.wrapping_mul(p.input_offset));
                        rq.apply(out, o + k, k, i64::from(acc), p);
                    }
                }
            }
        }
    }
}

/// Most filter taps an int16 depthwise convolution sums in int32: its
/// products stay within 2^22, so up to this many are exact.
pub(crate) const MAX_INT16_TAPS: usize = 511;

/// DEPTHWISE_CONV_2D, int8 or (up to [`MAX_INT16_TAPS`] taps) int16, no
/// dilation.
pub fn depthwise(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let m = p.depth_multiplier;
    let int16 = input.info.dtype == ElemType::I16;
    for c0 in (0..oc).step_by(BLOCK) {
        let n = BLOCK.min(oc - c0);
        let rq = Requant::new(p, bias, c0, n);
        for b in 0..batches {
            for oy in 0..oh {
                let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                let (fy0, fy1) = taps(y0, fh, ih);
                for ox in 0..ow {
                    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let (fx0, fx1) = taps(x0, fw, iw);
                    let mut acc = [0i32; BLOCK];
                    for fy in fy0..fy1 {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in fx0..fx1 {
                            let ix = (x0 + fx as isize) as usize;
                            let pixel = ((b * ih + iy) * iw + ix) * ic;
                            let ws = &filter.data[(fy * fw + fx) * oc + c0..][..n];
                            if int16 {
                                // int16 convolutions have no input offset.
                                for (k, (a, &w)) in acc.iter_mut().zip(ws).enumerate() {
                                    let x = i32::from(i16_at(input.data, pixel + (c0 + k) / m));
                                    *a = a.wrapping_add(x * i32::from(w as i8));
                                }
                            } else if m == 1 {
                                let xs = &input.data[pixel + c0..][..n];
                                for ((a, &x), &w) in acc.iter_mut().zip(xs).zip(ws) {
                                    let x = i32::from(x as i8).wrapping_add(p.input_offset);
                                    *a = a.wrapping_add(x.wrapping_mul(i32::from(w as i8)));
                                }
                            } else {
                                for (k, (a, &w)) in acc.iter_mut().zip(ws).enumerate() {
                                    let x = i32::from(input.data[pixel + (c0 + k) / m] as i8)
                                        .wrapping_add(p.input_offset);
                                    *a = a.wrapping_add(x.wrapping_mul(i32::from(w as i8)));
                                }
                            }
                        }
                    }
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for (k, &a) in acc.iter().enumerate().take(n) {
                        rq.apply(out, o + k, k, i64::from(a), p);
                    }
                }
            }
        }
    }
}
