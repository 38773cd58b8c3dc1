//! CONV_2D, int8, one group, no dilation, on ARMv7 cores (cfg `arm_v7`):
//! two output pixels at a time.
//!
//! The raw patches of two output pixels (padded with the input's zero
//! point, as [`gather_patch`] does) are packed once into the layout of the
//! core's multiply-accumulate: signed halfword pairs for the M4/M7's SMLAD
//! (dsp.rs), or both pixels' bytes in one word for the M3's SMLAL (v7m.rs).
//! Each output channel's filter is then read once for both pixels, and
//! every output is that dot product plus its folded constant. The patches
//! live in the operator's working memory ([`scratch_words`]), not the stack.

use crate::arena::words_as_bytes;
use crate::kernels::conv::ConvParams;
use crate::kernels::conv_int8::{gather_patch, pixel_outputs, to_int8};
use crate::kernels::{Input, Output};

/// Working memory for patches of `len` bytes: both raw patches, rounded
/// up to whole words, and the packed pair (four bytes a product).
pub(crate) fn scratch_words(len: usize) -> usize {
    2 * len.div_ceil(4) + 4 * len.div_ceil(4)
}

/// CONV_2D over pixel pairs; `work` is [`scratch_words`] of the patch
/// length. Returns false, computing nothing, when `work` is too short or
/// the zero point is not an int8 value (a hostile model's), for the
/// caller's general path.
pub(crate) fn conv(
    p: &ConvParams<'_>,
    input: &Input<'_>,
    filter: &Input<'_>,
    out: &mut Output<'_>,
    dims: [usize; 9],
    work: &mut [u32],
) -> bool {
    let [batches, _, _, ic, oc, fh, fw, oh, ow] = dims;
    let len = fh * fw * ic;
    let zero_point = p.input_offset.wrapping_neg();
    if work.len() < scratch_words(len) || !(-128..=127).contains(&zero_point) || len == 0 {
        return false;
    }
    let pad = zero_point as i8 as u8;
    let (raw, packed) = work.split_at_mut(2 * len.div_ceil(4));
    let raw = words_as_bytes(raw);
    let (p0, p1) = raw.split_at_mut(len.div_ceil(4) * 4);
    let (p0, p1) = (&mut p0[..len], &mut p1[..len]);
    let pixels = oh * ow;
    let filters = &filter.data[..oc * len];
    for b in 0..batches {
        let pixel = |i: usize| (b, i / ow, i % ow);
        let mut first = 0;
        while first + 1 < pixels {
            gather_patch(p, input, dims, pixel(first), pad, p0);
            gather_patch(p, input, dims, pixel(first + 1), pad, p1);
            let o = (b * pixels + first) * oc;
            let (row0, row1) = out.data[o..o + 2 * oc].split_at_mut(oc);
            pair_outputs(p, (p0, p1), packed, filters, (row0, row1));
            first += 2;
        }
        if first < pixels {
            gather_patch(p, input, dims, pixel(first), pad, p0);
            let o = (b * pixels + first) * oc;
            pixel_outputs(p, p0, filter, &mut out.data[o..o + oc]);
        }
    }
    true
}

/// Both pixels' outputs, every channel, from their raw patches: packed
/// once, then each filter read once for both (M4/M7: SMLAD).
#[cfg(arm_dsp)]
fn pair_outputs(
    p: &ConvParams<'_>,
    (p0, p1): (&[u8], &[u8]),
    packed: &mut [u32],
    filters: &[u8],
    (row0, row1): (&mut [u8], &mut [u8]),
) {
    use crate::kernels::dsp::{pack_pair, pair_dot};
    let len = p0.len();
    pack_pair(p0, p1, packed);
    let (whole, packed) = (len & !3, &packed[..len & !3]);
    let channels = filters.chunks_exact(len).zip(p.channels).zip(p.folded);
    for (((w, r), &f), (o0, o1)) in channels.zip(row0.iter_mut().zip(row1.iter_mut())) {
        let (mut d0, mut d1) = pair_dot(packed, w);
        for k in whole..len {
            let wk = i32::from(w[k] as i8);
            d0 = d0.wrapping_add(i32::from(p0[k] as i8) * wk);
            d1 = d1.wrapping_add(i32::from(p1[k] as i8) * wk);
        }
        *o0 = to_int8(p, r, d0.wrapping_add(f));
        *o1 = to_int8(p, r, d1.wrapping_add(f));
    }
}

/// Both pixels' outputs, every channel, from their raw patches: packed
/// once, then two filters at a time read once for both (M3: SMLAL).
#[cfg(not(arm_dsp))]
fn pair_outputs(
    p: &ConvParams<'_>,
    (p0, p1): (&[u8], &[u8]),
    packed: &mut [u32],
    filters: &[u8],
    (row0, row1): (&mut [u8], &mut [u8]),
) {
    use crate::kernels::v7m::{pack_pair, pair_dot2};
    let len = p0.len();
    pack_pair(p0, p1, packed);
    let packed = &packed[..len];
    let mut pairs = filters.chunks_exact(2 * len);
    let rescales = p.channels.chunks_exact(2).zip(p.folded.chunks_exact(2));
    let rows = row0.chunks_exact_mut(2).zip(row1.chunks_exact_mut(2));
    for ((ws, (r, f)), (o0, o1)) in (&mut pairs).zip(rescales).zip(rows) {
        let (wa, wb) = ws.split_at(len);
        let [[a0, a1], [b0, b1]] = pair_dot2(packed, p0, p1, wa, wb);
        o0[0] = to_int8(p, &r[0], a0.wrapping_add(f[0]));
        o0[1] = to_int8(p, &r[1], b0.wrapping_add(f[1]));
        o1[0] = to_int8(p, &r[0], a1.wrapping_add(f[0]));
        o1[1] = to_int8(p, &r[1], b1.wrapping_add(f[1]));
    }
    if row0.len() % 2 == 1 {
        let c = row0.len() - 1;
        let w = pairs.remainder();
        let [[a0, a1], _] = pair_dot2(packed, p0, p1, w, w);
        row0[c] = to_int8(p, &p.channels[c], a0.wrapping_add(p.folded[c]));
        row1[c] = to_int8(p, &p.channels[c], a1.wrapping_add(p.folded[c]));
    }
}
