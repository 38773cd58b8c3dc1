//! CONV_2D, int8, one group, no dilation, on ARMv7 cores (cfg `arm_v7`):
//! four output pixels at a time, one output channel at a time.
//!
//! The raw patches of a band of output pixels (padded with the input's
//! zero point, as [`gather_patch`] does) are packed once, four pixels
//! together, into the layout of the core's multiply-accumulate
//! ([`Quads`]): signed halfword pairs for the M4/M7's SMLAD (dsp.rs), or
//! two pixels' bytes in one word for the M3's SMLAL (v7m.rs). Then each
//! output channel's filter, rescale and folded constant are read once for
//! the whole band, and every output is one dot product plus the folded
//! constant, requantised four at a time by [`requant4`]. A band is as many pixels as the
//! operator's working memory holds ([`scratch_words`]).

use crate::arena::words_as_bytes;
use crate::kernels::conv::ConvParams;
use crate::kernels::conv_int8::gather_patch;
use crate::kernels::v7m::{Finish, Requant, finish, requant, requant4};

/// Most words [`scratch_words`] asks for (2 KiB), whatever the
/// image size. The scratch region adds to the arena; a band four times
/// larger would save only some per-channel bookkeeping (about 2% of a
/// keyword-spotting inference, docs/micro.md).
const BAND_WORDS: usize = 512;

/// How a core multiplies four packed patches by one filter.
pub(crate) trait Quads {
    /// Words the packed form of four patches of `len` bytes takes.
    fn words(len: usize) -> usize;
    /// Packs four patches of equal length into `out` ([`Quads::words`]).
    fn pack(patches: [&[u8]; 4], out: &mut [u32]);
    /// The four patches' dot products with `w`, as long as each patch.
    fn dot(packed: &[u32], w: &[u8]) -> [i32; 4];
    /// Whether the core has a [`Quads::channel`] loop: where it has not,
    /// no [`Finish`] is made for it.
    const CHANNEL: bool = false;
    /// Every whole quad of `packed` against the filter of `len` weights
    /// that `w` starts with (and the filters after it follow), finished
    /// into `out[4 q oc + j oc]`, in one loop; false, computing nothing,
    /// where the core has no such loop or it does not apply (the caller
    /// then takes the quads one at a time).
    fn channel(
        _packed: &[u32],
        _w: &[u8],
        _len: usize,
        _finish: Finish,
        _out: &mut [u8],
        _oc: usize,
    ) -> bool {
        false
    }
}

/// The M4/M7's SMLAD over SXTB16-unpacked halfwords (dsp.rs).
#[cfg(arm_dsp)]
pub(crate) struct Smlad;

#[cfg(arm_dsp)]
impl Quads for Smlad {
    #[inline(always)]
    fn words(len: usize) -> usize {
        crate::kernels::dsp::quad_words(len)
    }
    #[inline(always)]
    fn pack(patches: [&[u8]; 4], out: &mut [u32]) {
        crate::kernels::dsp::pack_quad(patches, out)
    }
    #[inline(always)]
    fn dot(packed: &[u32], w: &[u8]) -> [i32; 4] {
        crate::kernels::dsp::quad_dot(packed, w)
    }
    const CHANNEL: bool = true;
    fn channel(
        packed: &[u32],
        w: &[u8],
        len: usize,
        finish: Finish,
        out: &mut [u8],
        oc: usize,
    ) -> bool {
        crate::kernels::dsp::quad_channel(packed, w, len, finish, out, oc)
    }
}

/// The M3's two products per SMLAL (v7m.rs).
#[cfg(any(not(arm_dsp), test))]
pub(crate) struct Smlal;

#[cfg(any(not(arm_dsp), test))]
impl Quads for Smlal {
    #[inline(always)]
    fn words(len: usize) -> usize {
        crate::kernels::v7m::quad_words(len)
    }
    #[inline(always)]
    fn pack(patches: [&[u8]; 4], out: &mut [u32]) {
        crate::kernels::v7m::pack_quad(patches, out)
    }
    #[inline(always)]
    fn dot(packed: &[u32], w: &[u8]) -> [i32; 4] {
        crate::kernels::v7m::quad_dot(packed, w)
    }
}

/// This core's kernels.
#[cfg(arm_dsp)]
pub(crate) type Native = Smlad;
/// This core's kernels.
#[cfg(not(arm_dsp))]
pub(crate) type Native = Smlal;

/// Whether each pixel's patch is a run of the input as it lies: a 1x1
/// filter without padding, whose patches need no gathering.
pub(crate) fn direct(fh: usize, fw: usize, pad: (usize, usize)) -> bool {
    fh == 1 && fw == 1 && pad == (0, 0)
}

/// Words of the four raw patches of `len` bytes, none when the patches
/// are [`direct`].
fn raw_words(len: usize, direct: bool) -> usize {
    if direct { 0 } else { 4 * len.div_ceil(4) }
}

/// Working memory in words for patches of `len` bytes and `pixels` output
/// pixels: the four raw patches (unless [`direct`]), and the packed quads
/// of the largest band that fits [`BAND_WORDS`] (at least one quad).
pub(crate) fn scratch_words<Q: Quads>(len: usize, pixels: usize, direct: bool) -> usize {
    let (quad, raw) = (Q::words(len).max(1), raw_words(len, direct));
    let fit = (BAND_WORDS.saturating_sub(raw) / quad).max(1);
    raw + fit.min(pixels.div_ceil(4).max(1)) * quad
}

/// Where the filter rows of a patch lie in the input, for patches packed
/// a row at a time instead of gathered.
struct Rows {
    /// Whether rows can be packed one by one: each row a whole number of
    /// four-byte groups (both cores pack two words a byte, the M4/M7 four
    /// bytes at a time), and more than one row.
    packable: bool,
    /// Bytes of one filter row (`fw ic`).
    len: usize,
    /// Bytes from one input row to the next (`iw ic`).
    step: usize,
    dims: [usize; 9],
    stride: (usize, usize),
    pad: (usize, usize),
}

impl Rows {
    fn new(p: &ConvParams<'_>, dims: [usize; 9]) -> Self {
        let [_, _, iw, ic, _, fh, fw, _, _] = dims;
        let len = fw * ic;
        Self {
            packable: fh > 1 && len.is_multiple_of(4),
            len,
            step: iw * ic,
            dims,
            stride: p.stride,
            pad: p.pad,
        }
    }

    /// The input offset of the first byte of output pixel `(b, oy, ox)`'s
    /// patch, where the whole patch lies inside the input; `None` where
    /// padding takes part, or rows are not [`Rows::packable`].
    fn inside(&self, (b, oy, ox): (usize, usize, usize)) -> Option<usize> {
        let [_, ih, iw, ic, _, fh, fw, _, _] = self.dims;
        let y = (oy * self.stride.0).checked_sub(self.pad.0)?;
        let x = (ox * self.stride.1).checked_sub(self.pad.1)?;
        (self.packable && y + fh <= ih && x + fw <= iw).then_some(((b * ih + y) * iw + x) * ic)
    }
}

/// CONV_2D over pixel quads, in bands of as many quads as `work` holds.
/// Returns false, computing nothing, when `work` holds less than one
/// quad, a zero point is not an int8 value (a hostile model's), or a
/// slice is shorter than `dims` say, for the caller's general path.
/// Never inlined: its frame would add to the general paths' stack
/// buffers in the caller's (1 KiB more firmware stack).
#[inline(never)]
pub(crate) fn conv<Q: Quads>(
    p: &ConvParams<'_>,
    input: &[u8],
    filter: &[u8],
    out: &mut [u8],
    dims: [usize; 9],
    work: &mut [u32],
) -> bool {
    let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
    let len = fh * fw * ic;
    let zero_point = p.input_offset.wrapping_neg();
    let quad = Q::words(len);
    let pixels = batches * oh * ow;
    let (sy, sx) = p.stride;
    // A direct patch must lie inside the input, which a checked model's
    // shapes ensure; anything else takes the gathering path.
    let direct =
        direct(fh, fw, p.pad) && oh.saturating_sub(1) * sy < ih && ow.saturating_sub(1) * sx < iw;
    let raw_len = raw_words(len, direct);
    let held = work.len().saturating_sub(raw_len) / quad.max(1);
    if len == 0
        || held == 0
        || !(-128..=127).contains(&zero_point)
        || input.len() < batches * ih * iw * ic
        || filter.len() < oc * len
        || out.len() < pixels * oc
        || p.channels.len() < oc
        || p.folded.len() < oc
    {
        return false;
    }
    let pad = zero_point as i8 as u8;
    let (raw, packed) = work.split_at_mut(raw_len);
    let raw = words_as_bytes(raw);
    let pixel = |i: usize| (i / (oh * ow), i / ow % oh, i % ow);
    let run = |i: usize| {
        let (b, y, x) = pixel(i);
        &input[((b * ih + y * sy) * iw + x * sx) * ic..][..ic]
    };
    let rows = Rows::new(p, dims);
    let requant_of =
        |c: usize| Requant::new(&p.channels[c], p.folded[c], p.output_offset, p.act.int);
    for first in (0..pixels).step_by(4 * held) {
        let count = (4 * held).min(pixels - first);
        let band = &mut packed[..count.div_ceil(4) * quad];
        for (q, packed) in band.chunks_exact_mut(quad).enumerate() {
            // The last quad repeats its last pixel; those outputs are not
            // written.
            let at = |j: usize| first + (4 * q + j).min(count - 1);
            if direct {
                Q::pack([0, 1, 2, 3].map(|j| run(at(j))), packed);
                continue;
            }
            let inside = [0, 1, 2, 3].map(|j| rows.inside(pixel(at(j))));
            let mut patches = raw.chunks_exact_mut(len.div_ceil(4) * 4);
            for (j, patch) in (&mut patches).take(4).enumerate() {
                if inside[j].is_none() {
                    gather_patch(p, input, dims, pixel(at(j)), pad, &mut patch[..len]);
                }
            }
            let gathered = |j: usize| &raw[j * len.div_ceil(4) * 4..][..len];
            if !rows.packable || inside.iter().all(Option::is_none) {
                Q::pack([0, 1, 2, 3].map(gathered), packed);
                continue;
            }
            // Patches inside the input are packed a filter row at a time
            // from where the rows lie; the others from their gathered copy.
            for (fy, packed) in packed.chunks_exact_mut(2 * rows.len).take(fh).enumerate() {
                let source = |j: usize| match inside[j] {
                    Some(at) => &input[at + fy * rows.step..][..rows.len],
                    None => &gathered(j)[fy * rows.len..][..rows.len],
                };
                Q::pack([0, 1, 2, 3].map(source), packed);
            }
        }
        let outputs = &mut out[first * oc..(first + count) * oc];
        let whole = count / 4;
        for (c, w) in filter.chunks_exact(len).take(oc).enumerate() {
            let rest = &filter[c * len..];
            if Q::CHANNEL && channel::<Q>(p, c, band, rest, len, &mut outputs[c..], whole, oc) {
                continue;
            }
            let k = requant_of(c);
            let (full, last) = band.split_at(whole * quad);
            for (q, packed) in full.chunks_exact(quad).enumerate() {
                let o = &mut outputs[4 * q * oc + c..][..3 * oc + 1];
                let [y0, y1, y2, y3] = requant4(Q::dot(packed, w), &k);
                (o[0], o[oc], o[2 * oc], o[3 * oc]) = (y0, y1, y2, y3);
            }
            if !last.is_empty() {
                let sums = Q::dot(last, w);
                let column = outputs[4 * whole * oc + c..].iter_mut().step_by(oc);
                for (o, &sum) in column.zip(&sums) {
                    *o = requant(sum, &k);
                }
            }
        }
    }
    true
}

/// Channel `c` of a band of `whole` whole quads (and a partial one
/// after) against its filter, the first `len` bytes of `w` (the filters
/// after it follow), by [`Quads::channel`], finished by a [`Finish`], into
/// `out` from the channel's first output. False, computing nothing, where
/// the channel takes no [`Finish`] or the core's loop does not apply.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "one band's geometry, read in place"
)]
fn channel<Q: Quads>(
    p: &ConvParams<'_>,
    c: usize,
    band: &[u32],
    w: &[u8],
    len: usize,
    out: &mut [u8],
    whole: usize,
    oc: usize,
) -> bool {
    // A sum of products is at most 2^14 a filter byte.
    let Some(bound) = u32::try_from(len).ok().and_then(|n| n.checked_mul(1 << 14)) else {
        return false;
    };
    let Some(f) = Finish::new(
        &p.channels[c],
        p.folded[c],
        p.output_offset,
        p.act.int,
        bound,
    ) else {
        return false;
    };
    let (full, last) = band.split_at(whole * Q::words(len));
    if !Q::channel(full, w, len, f, out, oc) {
        return false;
    }
    if !last.is_empty() {
        let sums = Q::dot(last, &w[..len]);
        for (o, &sum) in out[4 * whole * oc..].iter_mut().step_by(oc).zip(&sums) {
            *o = finish(sum, &f);
        }
    }
    true
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

    /// TFLite's reference convolution: every tap inside the image, `w x
    /// (x + input offset)`, plus the bias.
    fn reference(
        p: &ConvParams<'_>,
        input: &[u8],
        filter: &[u8],
        bias: &[i32],
        dims: [usize; 9],
    ) -> Vec<u8> {
        let [batches, ih, iw, ic, oc, fh, fw, oh, ow] = dims;
        let mut out = vec![0u8; batches * oh * ow * oc];
        for (o, out) in out.iter_mut().enumerate() {
            let (c, i) = (o % oc, o / oc);
            let (b, oy, ox) = (i / (oh * ow), i / ow % oh, i % ow);
            let mut acc = bias[c];
            for fy in 0..fh {
                for fx in 0..fw {
                    let iy = (oy * p.stride.0 + fy) as isize - p.pad.0 as isize;
                    let ix = (ox * p.stride.1 + fx) as isize - p.pad.1 as isize;
                    if iy < 0 || ix < 0 || iy >= ih as isize || ix >= iw as isize {
                        continue;
                    }
                    for k in 0..ic {
                        let x = input[((b * ih + iy as usize) * iw + ix as usize) * ic + k];
                        let x = i32::from(x as i8).wrapping_add(p.input_offset);
                        let w = i32::from(filter[((c * fh + fy) * fw + fx) * ic + k] as i8);
                        acc = acc.wrapping_add(w * x);
                    }
                }
            }
            *out = to_int8(p, &p.channels[c], acc);
        }
        out
    }

    /// Random shapes, strides, paddings, zero points, scales and working
    /// memory sizes through `Q`'s kernels, against the definition.
    fn quads_equal_the_definition<Q: Quads>() {
        let mut walk = Walk(3);
        for case in 0..400 {
            let any_filter = (1 + walk.below(4), 1 + walk.below(4));
            let (fh, fw) = walk.pick(&[(1, 1), (3, 3), any_filter]);
            let (few, many) = (1 + walk.below(9), 1 + walk.below(70));
            let ic = walk.pick(&[few, 16, 64, many]);
            let (ih, iw) = (1 + walk.below(9), 1 + walk.below(9));
            let (sy, sx) = (1 + walk.below(2), 1 + walk.below(3));
            let (batches, oc) = (1 + walk.below(2), 1 + walk.below(7));
            let same = walk.below(2) == 0;
            let (oh, pad_h) = out_size_and_pad(same, ih, fh, sy, 1);
            let (ow, pad_w) = out_size_and_pad(same, iw, fw, sx, 1);
            let any = walk.below(256) as i32 - 128;
            let zero_point = walk.pick(&[-128, 127, 0, -5, any]);
            let channels = walk.rescales(oc);
            let len = fh * fw * ic;
            let input: Vec<u8> = (0..batches * ih * iw * ic)
                .map(|i| bytes(case)[i % 512] ^ (i / 512) as u8)
                .collect();
            let filter: Vec<u8> = (0..oc * len)
                .map(|i| bytes(case + 10_000)[i % 512] ^ (i / 512) as u8)
                .collect();
            let bias: Vec<i32> = (0..oc).map(|_| walk.next() as i32 - (1 << 23)).collect();
            let folded: Vec<i32> = (0..oc)
                .map(|c| {
                    let w = &filter[c * len..(c + 1) * len];
                    let sum = w.iter().fold(0i32, |s, &w| s + i32::from(w as i8));
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
            let dims = [batches, ih, iw, ic, oc, fh, fw, oh, ow];
            // Every pixel in one band, or bands of one to three quads.
            let pixels = batches * oh * ow;
            let direct = direct(fh, fw, (pad_h, pad_w));
            let bands = raw_words(len, direct) + Q::words(len) * (1 + walk.below(3));
            let words = walk.pick(&[scratch_words::<Q>(len, pixels, direct), bands]);
            let mut work = vec![0u32; words];
            let mut got = vec![0u8; pixels * oc];
            assert!(
                conv::<Q>(&p, &input, &filter, &mut got, dims, &mut work),
                "case {case} {dims:?}"
            );
            let want = reference(&p, &input, &filter, &bias, dims);
            assert_eq!(got, want, "case {case} {dims:?} stride {:?}", p.stride);
        }
    }

    #[test]
    fn smlal_quads_equal_the_definition() {
        quads_equal_the_definition::<Smlal>();
    }

    #[cfg(arm_dsp)]
    #[test]
    fn smlad_quads_equal_the_definition() {
        quads_equal_the_definition::<Smlad>();
    }

    #[test]
    fn what_it_cannot_take_is_left_to_the_general_path() {
        let channels = [Rescale::new(1 << 30, -1)];
        let folded = [0];
        let mut p = ConvParams {
            stride: (1, 1),
            dilation: (1, 1),
            pad: (0, 0),
            depth_multiplier: 1,
            act: Range {
                float: (0.0, 0.0),
                int: (-128, 127),
            },
            input_offset: -128,
            output_offset: 0,
            channels: &channels,
            folded: &folded,
            wide: false,
            pairs: None,
        };
        let dims = [1, 2, 2, 1, 1, 1, 1, 2, 2];
        let mut work = vec![0u32; scratch_words::<Native>(1, 4, false)];
        let mut out = [0u8; 4];
        assert!(
            !conv::<Native>(&p, &[0; 4], &[1], &mut out, dims, &mut work),
            "zero point 128"
        );
        p.input_offset = 0;
        assert!(
            !conv::<Native>(&p, &[0; 4], &[1], &mut out, dims, &mut work[..1]),
            "no working memory"
        );
        assert!(
            !conv::<Native>(&p, &[0; 3], &[1], &mut out, dims, &mut work),
            "input shorter than its shape"
        );
        assert!(conv::<Native>(&p, &[0; 4], &[1], &mut out, dims, &mut work));
    }
}
