//! Fast int8 paths for CONV_2D (one group) and DEPTHWISE_CONV_2D.
//!
//! Integer sums do not depend on their order, so these loops reorder
//! TFLite's reference computation for speed and stay bit-exact:
//! `sum(w * (x + offset))` over a filter becomes `dot(w, x) + offset *
//! sum(w)`, and `bias + offset * sum(w)` of each output channel is folded
//! once, at prepare ([`ConvParams::folded`]), as CMSIS-NN does. A tap
//! outside the image, which TFLite skips, is an input equal to the zero
//! point (`x + offset = 0`): the convolution's gathered patch is padded
//! with it, so every output is one plain int8 dot product plus the folded
//! constant. Depthwise channels are accumulated side by side; near the
//! borders their sums are corrected by the taps left out.

use crate::kernels::conv::{ConvParams, taps};
use crate::kernels::dot::{add4, dot2_i8, mac4, word_at};
use crate::kernels::requant::rescale_i32;
use crate::kernels::{Input, Output, dot_i8, i32_at, sum_i8};
use crate::rescale::Rescale;

/// Output channels of a depthwise convolution accumulated together (off a
/// Cortex-M, or with a depth multiplier above 1).
const BLOCK: usize = 64;

/// Requantises channel `c`'s accumulator (bias included) to int8.
#[inline(always)]
pub(crate) fn requantise(p: &ConvParams<'_>, c: usize, acc: i32) -> u8 {
    to_int8(p, &p.channels[c], acc)
}

/// An accumulator (bias included) rescaled by `r`, offset and clamped to
/// the activation's range, as an int8 byte.
#[inline(always)]
pub(crate) fn to_int8(p: &ConvParams<'_>, r: &Rescale, acc: i32) -> u8 {
    let v = rescale_i32(r, acc).wrapping_add(p.output_offset);
    v.max(p.act.int.0).min(p.act.int.1) as i8 as u8
}

/// Channel `c`'s bias, or 0.
#[inline(always)]
fn bias_of(bias: Option<&Input<'_>>, c: usize) -> i32 {
    bias.map_or(0, |b| i32_at(b.data, c))
}

/// Channel `c`'s output from its sum of products `acc`: plus the folded
/// constant when every tap was inside the image, else plus the offset
/// times the weights inside (`wsum`) and the bias.
#[inline(always)]
fn finish_output(
    p: &ConvParams<'_>,
    bias: Option<&Input<'_>>,
    acc: i32,
    wsum: i32,
    inside: bool,
    c: usize,
) -> u8 {
    let acc = if inside {
        acc.wrapping_add(p.folded[c])
    } else {
        acc.wrapping_add(wsum.wrapping_mul(p.input_offset))
            .wrapping_add(bias_of(bias, c))
    };
    requantise(p, c, acc)
}

/// Longest filter patch (`filter height x width x input channels`) the
/// patch path gathers on the stack; longer patches take the row path.
const MAX_PATCH: usize = 4096;

/// CONV_2D, int8, one group, no dilation.
///
/// Each output pixel's input patch is gathered once, raw, padded with the
/// input's zero point, so every output channel is one contiguous int8 dot
/// product with its filter plus its folded constant.
pub fn conv(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, _, _, ic, oc, fh, fw, oh, ow] = dims;
    let patch_len = fh * fw * ic;
    let zero_point = p.input_offset.wrapping_neg();
    if patch_len > MAX_PATCH || !(-128..=127).contains(&zero_point) {
        return conv_rows(p, input, filter, bias, out, dims);
    }
    let pad = zero_point as i8 as u8;
    let mut patch = [0u8; MAX_PATCH];
    for b in 0..batches {
        for oy in 0..oh {
            for ox in 0..ow {
                gather_patch(
                    p,
                    input.data,
                    dims,
                    (b, oy, ox),
                    pad,
                    &mut patch[..patch_len],
                );
                let o = ((b * oh + oy) * ow + ox) * oc;
                pixel_outputs(p, &patch[..patch_len], filter, &mut out.data[o..o + oc]);
            }
        }
    }
}

/// The `out.len()` output channels of one pixel from its gathered patch:
/// two filters per pass over the patch.
fn pixel_outputs(p: &ConvParams<'_>, patch: &[u8], filter: &Input<'_>, out: &mut [u8]) {
    let (len, oc) = (patch.len(), out.len());
    let mut pairs = filter.data[..oc * len].chunks_exact(2 * len);
    for (k, ws) in (&mut pairs).enumerate() {
        let (c, (wa, wb)) = (2 * k, ws.split_at(len));
        let (a, b) = dot2_i8(patch, wa, wb);
        out[c] = requantise(p, c, a.wrapping_add(p.folded[c]));
        out[c + 1] = requantise(p, c + 1, b.wrapping_add(p.folded[c + 1]));
    }
    if oc % 2 == 1 {
        let c = oc - 1;
        let acc = dot_i8(patch, pairs.remainder()).wrapping_add(p.folded[c]);
        out[c] = requantise(p, c, acc);
    }
}

/// Gathers the input patch of output pixel `(batch, y, x)` into `dst`
/// (`filter height x width x input channels` bytes), raw, with the taps
/// outside the image set to `pad`, the input's zero point.
#[inline(always)]
pub(crate) fn gather_patch(
    p: &ConvParams<'_>,
    input: &[u8],
    dims: [usize; 9],
    (b, oy, ox): (usize, usize, usize),
    pad: u8,
    dst: &mut [u8],
) {
    let [_, ih, iw, ic, _, _, fw, _, _] = dims;
    let row = fw * ic;
    if row == 0 {
        return;
    }
    let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
    let (fx0, fx1) = taps(x0, fw, iw);
    let ix = (x0 + fx0 as isize) as usize;
    for (fy, dst) in dst.chunks_exact_mut(row).enumerate() {
        let iy = y0 + fy as isize;
        if iy < 0 || iy >= ih as isize {
            dst.fill(pad);
            continue;
        }
        let src = &input[((b * ih + iy as usize) * iw + ix) * ic..][..(fx1 - fx0) * ic];
        let (left, rest) = dst.split_at_mut(fx0 * ic);
        let (inside, right) = rest.split_at_mut(src.len());
        // Rows are a few bytes (a 10x4 filter over one channel: 4): byte
        // loops, not the memcpy and memset calls these would become.
        for d in left.iter_mut().chain(right) {
            *d = pad;
        }
        for (d, &s) in inside.iter_mut().zip(src) {
            *d = s;
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
    for b in 0..batches {
        for oy in 0..oh {
            let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
            let (fy0, fy1) = taps(y0, fh, ih);
            for ox in 0..ow {
                let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                let (fx0, fx1) = taps(x0, fw, iw);
                let inside = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                let seg = (fx1 - fx0) * ic;
                let o = ((b * oh + oy) * ow + ox) * oc;
                for c in 0..oc {
                    let fbase = c * fh * row;
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
                    out.data[o + c] = finish_output(p, bias, acc, wsum, inside, c);
                }
            }
        }
    }
}

/// The window of one depthwise output pixel: the first input element of
/// each filter row inside the image, the filter rows and columns inside.
struct Window {
    /// Input element of tap (fy0, fx0), channel 0, and the step between
    /// input rows.
    input: usize,
    input_row: usize,
    /// Filter rows and columns inside the image.
    rows: (usize, usize),
    cols: (usize, usize),
}

/// Sums of four channels from `c` over a window: the products, and (for a
/// window cut by the border, `BORDER`) the weights of the taps inside.
#[inline(always)]
fn window_sums<const BORDER: bool>(
    input: &[u8],
    filter: &[u8],
    w: &Window,
    fw: usize,
    oc: usize,
    c: usize,
) -> ([i32; 4], [i32; 4]) {
    let (mut acc, mut wsum) = ([0i32; 4], [0i32; 4]);
    let mut x_row = w.input + c;
    for fy in w.rows.0..w.rows.1 {
        let (mut x, mut f) = (x_row, (fy * fw + w.cols.0) * oc + c);
        for _ in w.cols.0..w.cols.1 {
            let weights = word_at(filter, f);
            acc = mac4(acc, word_at(input, x), weights);
            if BORDER {
                wsum = add4(wsum, weights);
            }
            x += oc;
            f += oc;
        }
        x_row += w.input_row;
    }
    (acc, wsum)
}

/// DEPTHWISE_CONV_2D, int8, no dilation, one output channel per input
/// channel: four channels at a time, their sums in registers over the
/// taps ([`mac4`]).
fn depthwise_lanes(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    bias: Option<&Input<'_>>,
    out: &mut Output<'_>,
    dims: [usize; 9],
) {
    let [batches, ih, iw, _, oc, fh, fw, oh, ow] = dims;
    let finish = |acc, wsum, inside, c| finish_output(p, bias, acc, wsum, inside, c);
    for b in 0..batches {
        for oy in 0..oh {
            let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
            let rows = taps(y0, fh, ih);
            for ox in 0..ow {
                let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                let cols = taps(x0, fw, iw);
                let inside = rows == (0, fh) && cols == (0, fw);
                let (iy, ix) = (
                    (y0 + rows.0 as isize) as usize,
                    (x0 + cols.0 as isize) as usize,
                );
                let window = Window {
                    input: ((b * ih + iy) * iw + ix) * oc,
                    input_row: iw * oc,
                    rows,
                    cols,
                };
                let o = ((b * oh + oy) * ow + ox) * oc;
                let mut c = 0;
                while c + 4 <= oc {
                    let (acc, wsum) = if inside {
                        window_sums::<false>(input.data, filter.data, &window, fw, oc, c)
                    } else {
                        window_sums::<true>(input.data, filter.data, &window, fw, oc, c)
                    };
                    for j in 0..4 {
                        out.data[o + c + j] = finish(acc[j], wsum[j], inside, c + j);
                    }
                    c += 4;
                }
                for c in c..oc {
                    let (mut acc, mut wsum) = (0i32, 0i32);
                    for fy in rows.0..rows.1 {
                        for fx in cols.0..cols.1 {
                            let at = window.input + (fy - rows.0) * window.input_row;
                            let x = i32::from(input.data[at + (fx - cols.0) * oc + c] as i8);
                            let w = i32::from(filter.data[(fy * fw + fx) * oc + c] as i8);
                            acc = acc.wrapping_add(x * w);
                            wsum = wsum.wrapping_add(w);
                        }
                    }
                    out.data[o + c] = finish(acc, wsum, inside, c);
                }
            }
        }
    }
}

/// DEPTHWISE_CONV_2D, int8, no dilation.
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
    // On a Cortex-M the four-lane path keeps its sums in registers; a host
    // vectorises the block of channels below instead.
    if m == 1 && cfg!(target_arch = "arm") {
        return depthwise_lanes(p, input, filter, bias, out, dims);
    }
    for c0 in (0..oc).step_by(BLOCK) {
        let n = BLOCK.min(oc - c0);
        for b in 0..batches {
            for oy in 0..oh {
                let y0 = (oy * p.stride.0) as isize - p.pad.0 as isize;
                let (fy0, fy1) = taps(y0, fh, ih);
                for ox in 0..ow {
                    let x0 = (ox * p.stride.1) as isize - p.pad.1 as isize;
                    let (fx0, fx1) = taps(x0, fw, iw);
                    let inside = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                    let mut acc = [0i32; BLOCK];
                    let mut wsum = [0i32; BLOCK];
                    for fy in fy0..fy1 {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in fx0..fx1 {
                            let ix = (x0 + fx as isize) as usize;
                            let pixel = ((b * ih + iy) * iw + ix) * ic;
                            let ws = &filter.data[(fy * fw + fx) * oc + c0..][..n];
                            if m == 1 {
                                let xs = &input.data[pixel + c0..][..n];
                                for ((a, &x), &w) in acc.iter_mut().zip(xs).zip(ws) {
                                    *a = a.wrapping_add(i32::from(x as i8) * i32::from(w as i8));
                                }
                            } else {
                                for (k, (a, &w)) in acc.iter_mut().zip(ws).enumerate() {
                                    let x = i32::from(input.data[pixel + (c0 + k) / m] as i8);
                                    *a = a.wrapping_add(x * i32::from(w as i8));
                                }
                            }
                            if !inside {
                                for (s, &w) in wsum.iter_mut().zip(ws) {
                                    *s = s.wrapping_add(i32::from(w as i8));
                                }
                            }
                        }
                    }
                    let o = ((b * oh + oy) * ow + ox) * oc + c0;
                    for (k, (&a, &s)) in acc.iter().zip(&wsum).enumerate().take(n) {
                        out.data[o + k] = finish_output(p, bias, a, s, inside, c0 + k);
                    }
                }
            }
        }
    }
}
