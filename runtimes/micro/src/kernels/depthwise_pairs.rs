//! DEPTHWISE_CONV_2D, int8, depth multiplier 1, no dilation, on ARMv7
//! cores (cfg `arm_v7`): two horizontally adjacent output pixels per
//! 64-bit multiply-accumulate.
//!
//! One channel at a time. The input rows a band of output rows reads are
//! packed into words `P[k] = x[k] + x[k + stride] x 2^22`, padded with the
//! input's zero point as
//! [`gather_patch`](crate::kernels::conv_int8::gather_patch) pads. Output
//! pixels `ox` and `ox + 1` read input columns `ox x stride + fx` and that
//! plus `stride`, so their two sums are one SMLAL chain over
//! `P[ox x stride + fx]` (v7m.rs), split exactly while the filter has at
//! most [`MAX_TAPS`] taps. The channel's weights and requantisation stay
//! fixed over the whole band: a 3x3 filter's pairs run in one assembly
//! loop with its [`Finish`] ([`pairs3x3`]). A band is as many output rows
//! as the operator's working memory holds ([`scratch_words`]): the whole
//! image when it is small, so each input is packed once.

use crate::kernels::conv::ConvParams;
use crate::kernels::v7m::{
    BLOCK, Finish, PairGrid, Pairs3x3, Requant, pack_rows, pack_run, pack_slide, pairs3x3, requant,
    smlal, split, taps3x3,
};

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
/// weights as words, and the packed rows of the largest band that fits
/// [`BAND_WORDS`] (at least one output row).
pub(crate) fn scratch_words(
    (fh, fw): (usize, usize),
    (oh, ow): (usize, usize),
    (sy, sx): (usize, usize),
) -> usize {
    let width = packed_width(ow, sx, fw);
    let fit = (BAND_WORDS / width).saturating_sub(fh) / sy.max(1) + 1;
    fh * fw + packed_rows(fit.min(oh), fh, sy) * width
}

/// The depthwise convolution over pixel pairs, in bands of as many output
/// rows as `work` holds. Returns false when the shape is not one this
/// path takes (a depth multiplier above 1, too many taps, a zero point
/// outside int8, working memory short of one output row), for the
/// caller's general path, which then computes every output.
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
    let rows_held = work.len().saturating_sub(taps) / width;
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
    let (weights, packed) = work.split_at_mut(taps);
    let grid = PairGrid {
        width,
        stride: (sy, sx),
        ow,
        oc,
    };
    // A sum of products is at most 2^14 a tap.
    let bound = (taps as u32) << 14;
    for b in 0..batches {
        let image = &input[b * ih * iw * ic..][..ih * iw * ic];
        let plane_out = &mut out[b * oh * ow * oc..][..oh * ow * oc];
        for oy0 in (0..oh).step_by(band) {
            let rows = band.min(oh - oy0);
            let packed = &mut packed[..packed_rows(rows, fh, sy) * width];
            let source = Source {
                first_row: (oy0 * sy) as isize - p.pad.0 as isize,
                dims: (ih, iw, ic),
                left: p.pad.1,
                stride: sx,
                zero_point: zero_point as u32,
            };
            for c in 0..oc {
                for (w, &f) in weights.iter_mut().zip(filter[c..].iter().step_by(oc)) {
                    *w = i32::from(f as i8) as u32;
                }
                pack_channel(image, c, &source, width, packed);
                let out_rows = &mut plane_out[oy0 * ow * oc + c..];
                let fast = Finish::new(
                    &p.channels[c],
                    p.folded[c],
                    p.output_offset,
                    p.act.int,
                    bound,
                );
                let three = <[u32; 9]>::try_from(&weights[..]).ok();
                let pairs = fast.zip(three).and_then(|(f, w)| Pairs3x3::new(w, f, grid));
                if let Some(mut k) = pairs {
                    if !channel_pairs(&mut k, packed, out_rows, rows) {
                        return false;
                    }
                    continue;
                }
                let finish = Requant::new(&p.channels[c], p.folded[c], p.output_offset, p.act.int);
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

/// Where a band's packed rows come from.
struct Source {
    /// The input row of the first packed row (negative in the padding).
    first_row: isize,
    /// The input's height, width and channels.
    dims: (usize, usize, usize),
    /// Columns of padding before the input's first.
    left: usize,
    /// The column stride.
    stride: usize,
    /// The input's zero point, which the padding holds.
    zero_point: u32,
}

/// Channel `c`'s packed rows of a band from the batch's `image`, each
/// `width` words: row `r` is input row `first_row + r`, or padding. With
/// stride 1 and padding before the input, the rows inside the image are
/// one [`pack_rows`] loop.
fn pack_channel(image: &[u8], c: usize, source: &Source, width: usize, packed: &mut [u32]) {
    let (ih, iw, ic) = source.dims;
    let zp = source.zero_point;
    let pad = zp.wrapping_add(zp << 22);
    let rows = packed.len() / width;
    // Rows `first..last` hold input rows.
    let first = (-source.first_row).clamp(0, rows as isize) as usize;
    let last = (ih as isize - source.first_row).clamp(first as isize, rows as isize) as usize;
    if source.stride == 1 && first < last {
        let left = source.left.min(width);
        let inside = iw.min(width - left);
        let at = (source.first_row + first as isize) as usize * iw * ic + c;
        let (before, rest) = packed.split_at_mut(first * width);
        let (body, after) = rest.split_at_mut((last - first) * width);
        let steps = (ic, iw * ic);
        if let Some(src) = image.get(at..)
            && pack_rows(src, steps, (left, inside), zp, width, body)
        {
            before.fill(pad);
            after.fill(pad);
            return;
        }
    }
    for (r, row) in packed.chunks_exact_mut(width).enumerate() {
        match usize::try_from(source.first_row + r as isize) {
            Ok(iy) if iy < ih => pack_row(&image[iy * iw * ic + c..], source, row),
            _ => row.fill(pad),
        }
    }
}

/// One packed row from `src`, whose `j`th value is `src[j x ic]`: word
/// `k` is `v[k] + v[k + stride] x 2^22`, where `v` is the zero point for
/// the `left` columns of padding, the input's values, then the zero
/// point again. Where a word holds an input value, it comes from one
/// [`pack_slide`] (stride 1) or [`pack_run`].
fn pack_row(src: &[u8], source: &Source, row: &mut [u32]) {
    let (_, iw, ic) = source.dims;
    let (left, s, zp) = (source.left.min(row.len()), source.stride, source.zero_point);
    let inside = iw.min(row.len() - left);
    let pad = zp.wrapping_add(zp << 22);
    if s == 1 && inside > 0 {
        // Word `start` is the first with an input value, x[-1] the value
        // before it: the padding's, or the input's first.
        let (start, before, values) = match left.checked_sub(1) {
            Some(start) => (start, zp, src),
            None => (
                0,
                i32::from(src[0] as i8) as u32,
                src.get(ic..).unwrap_or_default(),
            ),
        };
        let n = inside - usize::from(left == 0);
        let (head, rest) = row.split_at_mut(start);
        head.fill(pad);
        let (run, tail) = rest.split_at_mut(n.min(rest.len()));
        if let Some(last) = pack_slide(before, values, ic, run) {
            if let Some((end, after)) = tail.split_first_mut() {
                *end = last.wrapping_add(zp << 22);
                after.fill(pad);
            }
            return;
        }
    }
    let sext = |b: u8| i32::from(b as i8) as u32;
    let value = |k: usize| match k.checked_sub(left) {
        Some(j) if j < inside => sext(src[j * ic]),
        _ => zp,
    };
    let word = |k: usize| value(k).wrapping_add(value(k + s) << 22);
    let core = inside.saturating_sub(s);
    let (head, rest) = row.split_at_mut(left);
    let (body, tail) = rest.split_at_mut(core);
    for (k, w) in head.iter_mut().enumerate() {
        *w = word(k);
    }
    if !pack_run(src, ic, s, body) {
        for (j, w) in body.iter_mut().enumerate() {
            *w = word(left + j);
        }
    }
    for (i, w) in tail.iter_mut().enumerate() {
        *w = word(left + core + i);
    }
}

/// One channel's band, 3x3 filter with a [`Finish`]: every row in one
/// [`pairs3x3`] loop, or a row of one output at a time. False when the
/// slices are short of what the loop reads and writes.
#[inline(never)]
fn channel_pairs(k: &mut Pairs3x3, packed: &[u32], out: &mut [u8], rows: usize) -> bool {
    let PairGrid {
        width,
        stride: (sy, _),
        ow,
        oc,
    } = k.grid();
    if ow > 1 {
        return pairs3x3(k, packed, out, rows);
    }
    for r in 0..rows {
        match (packed.get(r * sy * width..), out.get_mut(r * oc)) {
            (Some(x), Some(o)) if x.len() >= 2 * width + 3 => *o = k.single(x),
            _ => return false,
        }
    }
    true
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
    grid: &PairGrid,
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
    grid: &PairGrid,
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
    grid: &PairGrid,
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
            let least = fh * fw + fh * width;
            let more = least + width * walk.below(4);
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
