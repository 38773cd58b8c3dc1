//! Fast float32 paths for CONV_2D (one group, no dilation) and
//! DEPTHWISE_CONV_2D (no dilation), with float32 weights.
//!
//! Each output's sum is taken in TFLite's reference order (filter row,
//! column, input channel; taps outside the image skipped), so results
//! match its kernels to the last rounding. The speed comes from the loop
//! order: each output pixel's input rows are read once for a block of
//! [`LANES`] output channels whose sums advance side by side, independent
//! chains a superscalar or pipelined FPU overlaps, and every row is one
//! contiguous run of input and weights.

use crate::kernels::conv::{ConvParams, taps};
use crate::kernels::{Input, Output, clamp_f32, f32_at, floats, put_f32};

/// Output channels of a convolution summed side by side.
const LANES: usize = 4;

/// Depthwise output channels accumulated together on the stack.
const BLOCK: usize = 64;

/// CONV_2D, float32, one group, no dilation.
pub fn conv(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let row = fw * ic;
    let per_channel = fh * row;
    let bias_of = |c: usize| bias.map_or(0.0, |b| f32_at(b.data, c));
    for b in 0..batches {
        for oy in 0..oh {
            let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
            let (fy0, fy1) = taps(y0, fh, ih);
            for ox in 0..ow {
                let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                let (fx0, fx1) = taps(x0, fw, iw);
                let seg = (fx1 - fx0) * ic;
                let ix = (x0 + fx0 as isize) as usize;
                let input_row = |fy: usize| {
                    let iy = (y0 + fy as isize) as usize;
                    &input.data[4 * ((b * ih + iy) * iw + ix) * ic..][..4 * seg]
                };
                let weights = |c: usize, fy: usize| {
                    &filter.data[4 * (c * per_channel + fy * row + fx0 * ic)..][..4 * seg]
                };
                let o = ((b * oh + oy) * ow + ox) * oc;
                let mut c = 0;
                while c + LANES <= oc {
                    let mut acc = [0f32; LANES];
                    for fy in fy0..fy1 {
                        // Equal lengths, so the indexing below is checked once.
                        let xs = input_row(fy);
                        let [w0, w1, w2, w3] =
                            [0, 1, 2, 3].map(|j| &weights(c + j, fy)[..xs.len()]);
                        for t in 0..seg {
                            let x = f32_at(xs, t);
                            acc[0] += x * f32_at(w0, t);
                            acc[1] += x * f32_at(w1, t);
                            acc[2] += x * f32_at(w2, t);
                            acc[3] += x * f32_at(w3, t);
                        }
                    }
                    for (j, a) in acc.iter().enumerate() {
                        let v = clamp_f32(a + bias_of(c + j), p.act.float);
                        put_f32(out.data, o + c + j, v);
                    }
                    c += LANES;
                }
                for c in c..oc {
                    let mut acc = 0f32;
                    for fy in fy0..fy1 {
                        for (x, w) in floats(input_row(fy)).zip(floats(weights(c, fy))) {
                            acc += x * w;
                        }
                    }
                    put_f32(out.data, o + c, clamp_f32(acc + bias_of(c), p.act.float));
                }
            }
        }
    }
}

/// DEPTHWISE_CONV_2D, float32, no dilation.
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
                            let ws =
                                floats(&filter.data[4 * ((fy * fw + fx) * oc + c0)..][..4 * n]);
                            if m == 1 {
                                let xs = floats(&input.data[4 * (pixel + c0)..][..4 * n]);
                                for ((a, x), w) in acc.iter_mut().zip(xs).zip(ws) {
                                    *a += x * w;
                                }
                            } else {
                                for (k, (a, w)) in acc.iter_mut().zip(ws).enumerate() {
                                    *a += f32_at(input.data, pixel + (c0 + k) / m) * w;
                                }
                            }
                        }
                    }
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for (k, &a) in acc.iter().enumerate().take(n) {
                        let bias = bias.map_or(0.0, |b| f32_at(b.data, c0 + k));
                        put_f32(out.data, o + k, clamp_f32(a + bias, p.act.float));
                    }
                }
            }
        }
    }
}
