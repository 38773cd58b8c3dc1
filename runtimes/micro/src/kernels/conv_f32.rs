//! Fast float32 paths for CONV_2D (one group, no dilation) and
//! DEPTHWISE_CONV_2D (no dilation), with float32 weights.
//!
//! Each output's sum is taken in TFLite's reference order (filter row,
//! column, input channel; rows outside the image skipped), so results
//! match its kernels to the last rounding but for the sign of a zero sum.
//! The speed comes from the loop order: a convolution's sums advance a
//! block of output pixels side by side, one vector lane each, for several
//! output channels at once, independent chains a superscalar or
//! pipelined FPU overlaps; a depthwise convolution's advance a block of
//! output channels, contiguous in input and weights alike.

use core::ops::Range;

use crate::kernels::conv::{ConvParams, taps};
use crate::kernels::{clamp_f32, f32_at, floats, put_f32};

/// Output pixels of a row summed side by side: the lanes of the vector
/// sums. On the M4F, 4: the VFMA block (dsp.rs) keeps 4 pixels x
/// [`CHANNELS`] sums, 4 inputs and 4 weights in its 32 single registers.
const PIXELS: usize = if cfg!(arm_vfma) { 4 } else { 8 };

/// Output channels whose sums share each packed input.
const CHANNELS: usize = 4;

/// Taps packed at a time: a stack block of `TAPS x PIXELS` floats (2 KiB).
const TAPS: usize = 64;

/// Depthwise output channels accumulated together on the stack.
const BLOCK: usize = 64;

/// The pixels of a row that one packed block of taps serves.
struct Pixels {
    /// Output tensor index of the first pixel's first channel.
    out: usize,
    /// Pixels in the block (`PIXELS` but at a row's end).
    count: usize,
    /// Output channels: the step from one pixel's outputs to the next.
    oc: usize,
}

/// One packed block of taps and where its weights start.
struct Pass<'a> {
    /// The taps, one lane per pixel.
    block: &'a [[f32; PIXELS]],
    /// The filter, output channel-major.
    filter: &'a [u8],
    /// Taps per output channel in the filter.
    per_channel: usize,
    /// The filter tap of the block's first.
    first: usize,
    /// Whether this is the sums' first block (else they are in `out`).
    fresh: bool,
}

/// CONV_2D, float32, one group, no dilation.
///
/// Per output row, blocks of [`PIXELS`] pixels: their input taps, in
/// TFLite's order, are packed [`TAPS`] at a time into a tap-major block
/// with one lane per pixel, then every output channel's weights run over
/// it ([`sums`]). Taps left or right of the image are packed as zeros;
/// rows above or below are skipped, as TFLite skips them.
pub fn conv(
    p: &ConvParams<'_>,
    input: &[u8],
    filter: &[u8],
    bias: Option<&[u8]>,
    out: &mut [u8],
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let row = fw * ic;
    let mut patch = [[0f32; PIXELS]; TAPS];
    for b in 0..batches {
        for oy in 0..oh {
            let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
            let (fy0, fy1) = taps(y0, fh, ih);
            let count = (fy1 - fy0) * row;
            for ox0 in (0..ow).step_by(PIXELS) {
                let pixels = Pixels {
                    out: ((b * oh + oy) * ow + ox0) * oc,
                    count: PIXELS.min(ow - ox0),
                    oc,
                };
                let x0 = (ox0 * p.stride.1) as isize - p.pad.1 as isize;
                for t0 in (0..count).step_by(TAPS) {
                    let len = TAPS.min(count - t0);
                    for (q, run) in runs(t0, len, ic) {
                        let (fy, fx) = (fy0 + q / fw, q % fw);
                        let iy = (y0 + fy as isize) as usize;
                        let lanes = &mut patch[q * ic + run.start - t0..][..run.len()];
                        for k in 0..pixels.count {
                            let ix = x0 + (k * p.stride.1 + fx) as isize;
                            let inside = (0..iw as isize).contains(&ix);
                            let pixel = ((b * ih + iy) * iw + ix.max(0) as usize) * ic;
                            for (lane, i) in lanes.iter_mut().zip(run.clone()) {
                                lane[k] = if inside {
                                    f32_at(input, pixel + i)
                                } else {
                                    0.0
                                };
                            }
                        }
                    }
                    let pass = Pass {
                        block: &patch[..len],
                        filter,
                        per_channel: fh * row,
                        first: fy0 * row + t0,
                        fresh: t0 == 0,
                    };
                    let mut c = 0;
                    while c + CHANNELS <= oc {
                        sums::<CHANNELS>(&pass, &pixels, c, out);
                        c += CHANNELS;
                    }
                    for c in c..oc {
                        sums::<1>(&pass, &pixels, c, out);
                    }
                }
                for k in 0..pixels.count {
                    for c in 0..oc {
                        let o = pixels.out + k * oc + c;
                        let sum = if count == 0 { 0.0 } else { f32_at(out, o) };
                        let bias = bias.map_or(0.0, |b| f32_at(b, c));
                        put_f32(out, o, clamp_f32(sum + bias, p.act.float));
                    }
                }
            }
        }
    }
}

/// The runs of one filter position's `ic` contiguous taps that taps
/// `t0..t0 + len` cover: each run's position index and its channels.
fn runs(t0: usize, len: usize, ic: usize) -> impl Iterator<Item = (usize, Range<usize>)> {
    (t0 / ic..(t0 + len).div_ceil(ic)).map(move |q| {
        let start = t0.max(q * ic) - q * ic;
        let end = (t0 + len).min((q + 1) * ic) - q * ic;
        (q, start..end)
    })
}

/// Adds one packed block of taps times the weights of output channels
/// `c..c + C` to those channels' sums of `pixels`, which `out` holds
/// between blocks.
#[inline(always)]
fn sums<const C: usize>(pass: &Pass<'_>, pixels: &Pixels, c: usize, out: &mut [u8]) {
    let at = |j: usize, k: usize| pixels.out + k * pixels.oc + c + j;
    let mut acc = [[0f32; PIXELS]; C];
    if !pass.fresh {
        for (j, acc) in acc.iter_mut().enumerate() {
            for (k, a) in acc.iter_mut().enumerate().take(pixels.count) {
                *a = f32_at(out, at(j, k));
            }
        }
    }
    let len = pass.block.len();
    let weights: [&[u8]; C] = core::array::from_fn(|j| {
        &pass.filter[4 * ((c + j) * pass.per_channel + pass.first)..][..4 * len]
    });
    #[cfg(arm_vfma)]
    if let (Ok(acc), Ok(weights)) = (
        <&mut [[f32; PIXELS]; 4]>::try_from(&mut acc[..]),
        <[&[u8]; 4]>::try_from(&weights[..]),
    ) && crate::kernels::dsp::fused_block(pass.block, weights, acc)
    {
        store(acc, pixels, c, out);
        return;
    }
    for (t, xs) in pass.block.iter().enumerate() {
        for (acc, w) in acc.iter_mut().zip(weights) {
            let w = f32_at(w, t);
            for (a, x) in acc.iter_mut().zip(xs) {
                *a += w * x;
            }
        }
    }
    store(&acc, pixels, c, out);
}

/// Stores sums `acc[j][k]` of output channel `c + j`, pixel `k`.
fn store(acc: &[[f32; PIXELS]], pixels: &Pixels, c: usize, out: &mut [u8]) {
    for (j, acc) in acc.iter().enumerate() {
        for (k, &a) in acc.iter().enumerate().take(pixels.count) {
            put_f32(out, pixels.out + k * pixels.oc + c + j, a);
        }
    }
}

/// DEPTHWISE_CONV_2D, float32, no dilation.
pub fn depthwise(
    p: &ConvParams<'_>,
    input: &[u8],
    filter: &[u8],
    bias: Option<&[u8]>,
    out: &mut [u8],
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let m = p.depth_multiplier;
    for c0 in (0..oc).step_by(BLOCK) {
        let n = BLOCK.min(oc - c0);
        for b in 0..batches {
            for oy in 0..oh {
                let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                let (fy0, fy1) = taps(y0, fh, ih);
                for ox in 0..ow {
                    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let (fx0, fx1) = taps(x0, fw, iw);
                    let mut acc = [0f32; BLOCK];
                    for fy in fy0..fy1 {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in fx0..fx1 {
                            let ix = (x0 + fx as isize) as usize;
                            let pixel = ((b * ih + iy) * iw + ix) * ic;
                            let ws = floats(&filter[4 * ((fy * fw + fx) * oc + c0)..][..4 * n]);
                            if m == 1 {
                                let xs = floats(&input[4 * (pixel + c0)..][..4 * n]);
                                for ((a, x), w) in acc.iter_mut().zip(xs).zip(ws) {
                                    *a += x * w;
                                }
                            } else {
                                for (k, (a, w)) in acc.iter_mut().zip(ws).enumerate() {
                                    *a += f32_at(input, pixel + (c0 + k) / m) * w;
                                }
                            }
                        }
                    }
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for (k, &a) in acc.iter().enumerate().take(n) {
                        let bias = bias.map_or(0.0, |b| f32_at(b, c0 + k));
                        put_f32(out, o + k, clamp_f32(a + bias, p.act.float));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Range;
    use crate::kernels::conv::out_size_and_pad;
    use crate::kernels::dot::tests::Walk;
    use alloc::vec;
    use alloc::vec::Vec;

    /// TFLite's reference (depthwise) convolution: per output, a sum from
    /// zero over every tap inside the image in filter row, column and
    /// channel order, plus the bias, clamped.
    fn reference(
        p: &ConvParams<'_>,
        depthwise: bool,
        [input, filter, bias]: [&[f32]; 3],
        dims: [usize; 9],
    ) -> Vec<f32> {
        let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
        let mut out = vec![0f32; batches * oh * ow * oc];
        for (o, out) in out.iter_mut().enumerate() {
            let (c, i) = (o % oc, o / oc);
            let (b, oy, ox) = (i / (oh * ow), i / ow % oh, i % ow);
            let mut sum = 0f32;
            for fy in 0..fh {
                for fx in 0..fw {
                    let iy = (oy * p.stride.0 + fy) as isize - p.pad.0 as isize;
                    let ix = (ox * p.stride.1 + fx) as isize - p.pad.1 as isize;
                    if iy < 0 || ix < 0 || iy >= ih as isize || ix >= iw as isize {
                        continue;
                    }
                    let pixel = ((b * ih + iy as usize) * iw + ix as usize) * ic;
                    if depthwise {
                        let w = filter[(fy * fw + fx) * oc + c];
                        sum += input[pixel + c / p.depth_multiplier] * w;
                    } else {
                        for k in 0..ic {
                            sum += input[pixel + k] * filter[((c * fh + fy) * fw + fx) * ic + k];
                        }
                    }
                }
            }
            *out = clamp_f32(sum + bias[c], p.act.float);
        }
        out
    }

    fn le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Random shapes, strides, paddings and activation ranges through
    /// both kernels, against the definition. The sums are in the same
    /// order, so they must be equal, not only close.
    #[test]
    fn float_convolutions_equal_the_definition() {
        let mut walk = Walk(11);
        for case in 0..300 {
            let dw = case % 3 == 0;
            let any_filter = (1 + walk.below(5), 1 + walk.below(5));
            let (fh, fw) = walk.pick(&[(1, 1), (3, 3), any_filter]);
            let any_channels = 1 + walk.below(40);
            let ic = walk.pick(&[1, 3, 16, any_channels]);
            let m = if dw { 1 + walk.below(3) } else { 1 };
            let oc = if dw { ic * m } else { 1 + walk.below(11) };
            let (ih, iw) = (1 + walk.below(9), 1 + walk.below(20));
            let (sy, sx) = (1 + walk.below(2), 1 + walk.below(3));
            let batches = 1 + walk.below(2);
            let same = walk.below(2) == 0;
            let (oh, pad_h) = out_size_and_pad(same, ih, fh, sy, 1);
            let (ow, pad_w) = out_size_and_pad(same, iw, fw, sx, 1);
            let mut float = || (walk.next() as f32 / (1 << 23) as f32) - 1.0;
            let input: Vec<f32> = (0..batches * ih * iw * ic).map(|_| float()).collect();
            let filter_len = if dw { fh * fw * oc } else { oc * fh * fw * ic };
            let filter: Vec<f32> = (0..filter_len).map(|_| float()).collect();
            let bias: Vec<f32> = (0..oc).map(|_| float()).collect();
            let bound = walk.pick(&[(f32::MIN, f32::MAX), (0.0, 6.0), (-1.0, 1.0)]);
            let p = ConvParams {
                stride: (sy, sx),
                dilation: (1, 1),
                pad: (pad_h, pad_w),
                depth_multiplier: m,
                act: Range {
                    float: bound,
                    int: (0, 0),
                },
                input_offset: 0,
                output_offset: 0,
                channels: &[],
                folded: &[],
                wide: false,
                #[cfg(arm_v7)]
                pairs: None,
            };
            let dims = [batches, ih, iw, ic, oc, fh, fw, oh, ow];
            let mut got = vec![0u8; 4 * batches * oh * ow * oc];
            let (x, w, b) = (le(&input), le(&filter), le(&bias));
            let kernel = if dw { depthwise } else { conv };
            kernel(&p, &x, &w, Some(&b), &mut got, dims);
            let want = reference(&p, dw, [&input, &filter, &bias], dims);
            let got: Vec<f32> = floats(&got).collect();
            assert_eq!(got, want, "case {case} {dims:?} stride {:?}", p.stride);
        }
    }
}
