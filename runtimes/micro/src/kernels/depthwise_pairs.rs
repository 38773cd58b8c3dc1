//! DEPTHWISE_CONV_2D, int8, depth multiplier 1, no dilation, on ARMv7
//! cores (cfg `arm_v7`): two horizontally adjacent output pixels per
//! 64-bit multiply-accumulate.
//!
//! One channel at a time. The input rows a band of output rows reads are
//! packed once into words `P[k] = x[k] + x[k + stride] x 2^22`, padded with
//! the input's zero point as
//! [`gather_patch`](crate::kernels::conv_int8::gather_patch) pads. Output
//! pixels `ox` and `ox + 1` read input columns `ox x stride + fx` and that
//! plus `stride`, so their two sums are one SMLAL chain over
//! `P[ox x stride + fx]` (v7m.rs), split exactly while the filter has at
//! most [`MAX_TAPS`] taps. The channel's weights, rescale and folded
//! constant stay fixed over the whole band. A band is as many output rows
//! as the operator's working memory holds ([`scratch_words`]): the whole
//! image when it is small, so each input is packed once.

use crate::kernels::conv::ConvParams;
use crate::kernels::v7m::{BLOCK, Requant, requant, smlal, split, taps3x3};

/// Most filter taps one packed sum holds before its split could overflow.
pub(crate) const MAX_TAPS: usize = BLOCK;

/// Most packed words [`scratch_words`] asks for (2 KiB), whatever the
/// image size. The scratch region adds to the arena; a band four times
/// larger would save only some per-channel bookkeeping (about 2% of a
/// keyword-spotting inference, docs/micro.md).
const BAND_WORDS: usize = 512;

/// Width of a packed row: the input columns an output row reads.
fn packed_width(ow: usize, stride: usize, fw: usize) -> usize {
    (ow.max(1) - 1) * stride + fw
}

/// Packed input rows that `band` output rows read.
fn packed_rows(band: usize, fh: usize, stride: usize) -> usize {
    (band.max(1) - 1) * stride + fh
}

/// Working memory in words for a depthwise convolution with a `fh` x `fw`
/// filter, `oh` x `ow` outputs and strides `(sy, sx)`: the channel's
/// weights as words, and the raw and the packed rows of the largest band
/// that fits [`BAND_WORDS`] (at least one output row).
pub(crate) fn scratch_words(
    (fh, fw): (usize, usize),
    (oh, ow): (usize, usize),
    (sy, sx): (usize, usize),
) -> usize {
    let width = packed_width(ow, sx, fw);
    let fit = (BAND_WORDS / (2 * width)).saturating_sub(fh) / sy.max(1) + 1;
    fh * fw + 2 * packed_rows(fit.min(oh), fh, sy) * width
}

/// The depthwise convolution over pixel pairs, in bands of as many output
/// rows as `work` holds. Returns false, computing nothing, when the shape
/// is not one this path takes (a depth multiplier above 1, too many taps,
/// a zero point outside int8, working memory short of one output row),
/// for the caller's general path.
///
/// Per band, the raw rows are the zero point where they lie in the
/// padding, written once; per channel, only their inside is rewritten,
/// then the packed rows are one pass over them.
pub(crate) fn depthwise(
    p: &ConvParams<'_>,
    input: &[u8],
    filter: &[u8],
    out: &mut [u8],
    dims: [usize; 9],
    work: &mut [u32],
) -> bool {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let (sy, sx) = p.stride;
    let zero_point = p.input_offset.wrapping_neg();
    let taps = fh * fw;
    let width = packed_width(ow, sx, fw);
    let rows_held = work.len().saturating_sub(taps) / (2 * width);
    if p.depth_multiplier != 1
        || ic != oc
        || taps == 0
        || taps > MAX_TAPS
        || ih == 0
        || iw == 0
        || sy == 0
        || sx == 0
        || !(-128..=127).contains(&zero_point)
        || rows_held < fh
        || input.len() < batches * ih * iw * ic
        || filter.len() < taps * oc
        || out.len() < batches * oh * ow * oc
        || p.channels.len() < oc
        || p.folded.len() < oc
    {
        return false;
    }
    if oh == 0 || ow == 0 {
        return true;
    }
    let band = ((rows_held - fh) / sy + 1).min(oh);
    let (weights, planes) = work.split_at_mut(taps);
    let (raw, packed) = planes.split_at_mut(rows_held * width);
    let grid = Grid {
        width,
        stride: (sy, sx),
        ow,
        oc,
    };
    // Columns of a raw row that hold the input row's pixels.
    let (left, inside) = (p.pad.1.min(width), iw.min(width - p.pad.1.min(width)));
    for b in 0..batches {
        let image = &input[b * ih * iw * ic..][..ih * iw * ic];
        let plane_out = &mut out[b * oh * ow * oc..][..oh * ow * oc];
        for oy0 in (0..oh).step_by(band) {
            let rows = band.min(oh - oy0);
            let words = packed_rows(rows, fh, sy) * width;
            let (raw, packed) = (&mut raw[..words], &mut packed[..words]);
            raw.fill(zero_point as u32);
            let y0 = (oy0 * sy) as isize - p.pad.0 as isize;
            // Raw rows `r` whose input row `y0 + r` lies inside the image.
            let held = words / width;
            let first = if y0 < 0 { y0.unsigned_abs() } else { 0 }.min(held);
            let last = (ih as isize - y0).clamp(0, held as isize) as usize;
            for c in 0..oc {
                for (w, &f) in weights.iter_mut().zip(filter[c..].iter().step_by(oc)) {
                    *w = i32::from(f as i8) as u32;
                }
                for r in first..last {
                    let iy = (y0 + r as isize) as usize;
                    let pixels = image[iy * iw * ic..][..inside * ic].chunks_exact(ic);
                    let dst = &mut raw[r * width + left..][..inside];
                    for (d, pixel) in dst.iter_mut().zip(pixels) {
                        *d = i32::from(pixel[c] as i8) as u32;
                    }
                }
                pack(raw, sx, packed);
                let finish = Requant::new(&p.channels[c], p.folded[c], p.output_offset, p.act.int);
                let out_rows = &mut plane_out[oy0 * ow * oc + c..];
                if fh == 3 && fw == 3 {
                    channel3x3(&finish, packed, weights, out_rows, rows, &grid);
                } else {
                    channel_any(&finish, packed, weights, out_rows, rows, &grid, fw);
                }
            }
        }
    }
    true
}

/// `packed[k] = raw[k] + raw[k + stride] x 2^22`, in one pass over the
/// band's rows as one run: where `k + stride` crosses into the next row,
/// the high half belongs to an output past the row's end, which is
/// computed alongside its partner and dropped. The last `stride` words
/// have no high half.
fn pack(raw: &[u32], stride: usize, packed: &mut [u32]) {
    let stride = stride.min(raw.len());
    let paired = raw.len() - stride;
    let (body, tail) = packed.split_at_mut(paired);
    for ((p, &x), &ahead) in body.iter_mut().zip(raw).zip(&raw[stride..]) {
        *p = x.wrapping_add(ahead << 22);
    }
    tail.copy_from_slice(&raw[paired..]);
}

/// Where a band's outputs go and how its packed rows are laid out.
struct Grid {
    /// Words per packed row.
    width: usize,
    /// Strides (rows, columns).
    stride: (usize, usize),
    /// Output columns.
    ow: usize,
    /// Output channels: the step between a row's outputs.
    oc: usize,
}

/// `rows` output rows of one channel: `out[(oy x ow + ox) x oc]`, each
/// pair `(ox, ox + 1)` from `sums(packed rows from the output row's first,
/// first packed column)`.
#[inline(always)]
fn band_outputs(
    finish: &Requant,
    packed: &[u32],
    out: &mut [u8],
    rows: usize,
    grid: &Grid,
    sums: impl Fn(&[u32], usize) -> (i32, i32),
) {
    let (sy, sx) = grid.stride;
    for oy in 0..rows {
        let from = &packed[oy * sy * grid.width..];
        let row = &mut out[oy * grid.ow * grid.oc..];
        let mut ox = 0;
        while ox + 1 < grid.ow {
            let (s0, s1) = sums(from, ox * sx);
            row[ox * grid.oc] = requant(s0, finish);
            row[(ox + 1) * grid.oc] = requant(s1, finish);
            ox += 2;
        }
        if ox < grid.ow {
            row[ox * grid.oc] = requant(sums(from, ox * sx).0, finish);
        }
    }
}

/// One channel's band, 3x3 filter: one SMLAL chain per output pair
/// (`taps3x3`).
#[inline(never)]
fn channel3x3(
    finish: &Requant,
    packed: &[u32],
    weights: &[u32],
    out: &mut [u8],
    rows: usize,
    grid: &Grid,
) {
    let Ok(w) = <&[u32; 9]>::try_from(&weights[..9]) else {
        return;
    };
    let width = grid.width;
    band_outputs(finish, packed, out, rows, grid, |x, k| {
        let (lo, hi) = taps3x3(&x[k..], width, w);
        split(lo, hi)
    });
}

/// One channel's band, any filter of at most [`MAX_TAPS`] taps: one SMLAL
/// per tap and output pair.
#[inline(never)]
fn channel_any(
    finish: &Requant,
    packed: &[u32],
    weights: &[u32],
    out: &mut [u8],
    rows: usize,
    grid: &Grid,
    fw: usize,
) {
    let width = grid.width;
    band_outputs(finish, packed, out, rows, grid, |x, k| {
        let (mut lo, mut hi) = (0u32, 0u32);
        for (fy, w) in weights.chunks_exact(fw).enumerate() {
            for (&x, &w) in x[fy * width + k..][..fw].iter().zip(w) {
                (lo, hi) = smlal(lo, hi, x, w);
            }
        }
        split(lo, hi)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Range;
    use crate::kernels::conv::out_size_and_pad;
    use crate::kernels::conv_int8::to_int8;
    use crate::kernels::dot::tests::{Walk, bytes};
    use crate::rescale::Rescale;
    use alloc::vec;
    use alloc::vec::Vec;

    /// TFLite's reference depthwise convolution (depth multiplier 1):
    /// every tap inside the image, `w x (x + input offset)`, plus the bias.
    fn reference(
        p: &ConvParams<'_>,
        input: &[u8],
        filter: &[u8],
        bias: &[i32],
        dims: [usize; 9],
    ) -> Vec<u8> {
        let [batches, ih, iw, _, oc, fh, fw, oh, ow] = dims;
        let mut out = vec![0u8; batches * oh * ow * oc];
        for b in 0..batches {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..oc {
                        let mut acc = bias[c];
                        for fy in 0..fh {
                            for fx in 0..fw {
                                let iy = (oy * p.stride.0 + fy) as isize - p.pad.0 as isize;
                                let ix = (ox * p.stride.1 + fx) as isize - p.pad.1 as isize;
                                if iy < 0 || ix < 0 || iy >= ih as isize || ix >= iw as isize {
                                    continue;
                                }
                                let i = ((b * ih + iy as usize) * iw + ix as usize) * oc + c;
                                let x = i32::from(input[i] as i8).wrapping_add(p.input_offset);
                                let w = i32::from(filter[(fy * fw + fx) * oc + c] as i8);
                                acc = acc.wrapping_add(w * x);
                            }
                        }
                        out[((b * oh + oy) * ow + ox) * oc + c] = to_int8(p, &p.channels[c], acc);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn pair_depthwise_equals_the_definition() {
        let mut walk = Walk(7);
        let mut checked = 0;
        for case in 0..600 {
            let three = case % 3 == 0;
            let (fh, fw) = if three {
                (3, 3)
            } else {
                (1 + walk.below(6), 1 + walk.below(6))
            };
            let (ih, iw) = (1 + walk.below(11), 1 + walk.below(11));
            let (sy, sx) = (1 + walk.below(3), 1 + walk.below(3));
            let (batches, oc) = (1 + walk.below(2), 1 + walk.below(9));
            let same = walk.below(2) == 0;
            let (oh, pad_h) = out_size_and_pad(same, ih, fh, sy, 1);
            let (ow, pad_w) = out_size_and_pad(same, iw, fw, sx, 1);
            if oh == 0 || ow == 0 {
                continue;
            }
            let any = walk.below(256) as i32 - 128;
            let zero_point = walk.pick(&[-128, 127, 0, -5, any]);
            let channels = walk.rescales(oc);
            let input: Vec<u8> = (0..batches * ih * iw * oc)
                .map(|i| bytes(case)[i % 512] ^ (i / 512) as u8)
                .collect();
            let filter: Vec<u8> = bytes(case + 10_000)[..fh * fw * oc].to_vec();
            let bias: Vec<i32> = (0..oc).map(|_| walk.next() as i32 - (1 << 23)).collect();
            let folded: Vec<i32> = (0..oc)
                .map(|c| {
                    let sum = filter[c..]
                        .iter()
                        .step_by(oc)
                        .fold(0i32, |s, &w| s + i32::from(w as i8));
                    bias[c].wrapping_add(sum.wrapping_mul(-zero_point))
                })
                .collect();
            let p = ConvParams {
                stride: (sy, sx),
                dilation: (1, 1),
                pad: (pad_h, pad_w),
                depth_multiplier: 1,
                act: Range {
                    float: (f32::MIN, f32::MAX),
                    int: walk.pick(&[(-128, 127), (-128, 0), (-20, 90)]),
                },
                input_offset: -zero_point,
                output_offset: walk.below(256) as i32 - 128,
                channels: &channels,
                folded: &folded,
                wide: false,
                pairs: None,
            };
            let dims = [batches, ih, iw, oc, oc, fh, fw, oh, ow];
            // The whole image as one band, or bands of fewer output rows.
            let width = packed_width(ow, sx, fw);
            let least = fh * fw + 2 * fh * width;
            let more = least + 2 * width * walk.below(4);
            let words = walk.pick(&[scratch_words((fh, fw), (oh, ow), (sy, sx)), least, more]);
            let mut work = vec![0u32; words];
            let mut got = vec![0u8; batches * oh * ow * oc];
            assert!(
                depthwise(&p, &input, &filter, &mut got, dims, &mut work),
                "case {case} {dims:?}"
            );
            let want = reference(&p, &input, &filter, &bias, dims);
            assert_eq!(
                got, want,
                "case {case} {dims:?} stride {:?} pad {:?}",
                p.stride, p.pad
            );
            checked += 1;
        }
        assert!(checked > 400, "{checked} shapes checked");
    }

    #[test]
    fn shapes_it_cannot_take_are_left_to_the_general_path() {
        let channels = [Rescale::new(1 << 30, -1)];
        let folded = [0];
        let mut p = ConvParams {
            stride: (1, 1),
            dilation: (1, 1),
            pad: (0, 0),
            depth_multiplier: 2,
            act: Range {
                float: (0.0, 0.0),
                int: (-128, 127),
            },
            input_offset: 0,
            output_offset: 0,
            channels: &channels,
            folded: &folded,
            wide: false,
            pairs: None,
        };
        let dims = [1, 2, 2, 1, 1, 1, 1, 2, 2];
        let mut work = [0u32; 8];
        let mut out = [0u8; 4];
        assert!(
            !depthwise(&p, &[0; 4], &[1], &mut out, dims, &mut work),
            "multiplier 2"
        );
        p.depth_multiplier = 1;
        p.input_offset = -128;
        assert!(
            !depthwise(&p, &[0; 4], &[1], &mut out, dims, &mut work),
            "zero point 128"
        );
        p.input_offset = 0;
        assert!(
            !depthwise(&p, &[0; 4], &[1], &mut out, dims, &mut work[..1]),
            "no working memory"
        );
        assert!(depthwise(&p, &[0; 4], &[1], &mut out, dims, &mut work));
    }
}
