//! Kernels for every ARMv7 core (cfg `arm_v7` from build.rs), the
//! Cortex-M3 (`thumbv7m`) included, which has no DSP extension, in inline
//! assembly through `core::arch::asm!`: two int8 products in one 64-bit
//! multiply-accumulate.
//!
//! The inputs of two output pixels are packed into one word, `x0 + x1 x
//! 2^22`. SMLAL multiplies it by a weight and adds to a 64-bit sum, so the
//! sum is `S0 + S1 x 2^22` exactly, where `S0` and `S1` are the two pixels'
//! dot products. While `|S0| < 2^21`, which [`BLOCK`] products of int8
//! bytes (each at most 2^14) guarantee, the low 22 bits sign-extended are
//! `S0` and the rest is `S1`: one load and one SMLAL per two products
//! instead of two loads and two MLAs. The convolutions' pair loops take
//! dsp.rs's SMLAD kernels on the M4/M7 instead; the depthwise pairs
//! (depthwise_pairs.rs) take these on every ARMv7 core. ARMv7-A Linux runs
//! this module's tests under qemu-arm.
#![allow(unsafe_code)]

use crate::rescale::Rescale;
use core::arch::asm;

/// Products summed in one 64-bit sum before it is split: below 2^21 /
/// 2^14 = 128, and a multiple of the loop's four.
pub(crate) const BLOCK: usize = 124;

/// Packs the patches of two output pixels for [`pair_dot2`]: word `k` is
/// `p0[k] + p1[k] x 2^22`.
#[cfg(any(not(arm_dsp), test))]
pub(crate) fn pack_pair(p0: &[u8], p1: &[u8], out: &mut [u32]) {
    for ((&a, &b), o) in p0.iter().zip(p1).zip(out.iter_mut()) {
        *o = (i32::from(a as i8) + (i32::from(b as i8) << 22)) as u32;
    }
}

/// The two dot products packed in a 64-bit sum `lo + hi x 2^32`.
#[inline(always)]
pub(crate) fn split(lo: u32, hi: u32) -> (i32, i32) {
    let total = (i64::from(hi as i32) << 32) | i64::from(lo);
    let s0 = ((lo as i32) << 10) >> 10;
    (s0, ((total - i64::from(s0)) >> 22) as i32)
}

/// `[[dot(p0, a), dot(p1, a)], [dot(p0, b), dot(p1, b)]]` for two patches
/// packed by [`pack_pair`] (`p0` and `p1` are the same patches raw, for
/// the last up to three products of each block) and two filters.
#[cfg(any(not(arm_dsp), test))]
pub(crate) fn pair_dot2(packed: &[u32], p0: &[u8], p1: &[u8], a: &[u8], b: &[u8]) -> [[i32; 2]; 2] {
    let n = packed
        .len()
        .min(p0.len())
        .min(p1.len())
        .min(a.len())
        .min(b.len());
    let mut sums = [[0i32; 2]; 2];
    for start in (0..n).step_by(BLOCK) {
        let len = BLOCK.min(n - start);
        let steps = len / 4;
        let (mut la, mut ha, mut lb, mut hb) = (0u32, 0u32, 0u32, 0u32);
        if steps > 0 {
            let wa = a[start..].as_ptr();
            let stride = (b[start..].as_ptr() as isize).wrapping_sub(wa as isize);
            // SAFETY: reads words start..start + 4 x steps of `packed` and
            // the same bytes of `a` and of `b` (at `wa + stride`), all in
            // bounds as 4 x steps <= len <= n - start. Pure arithmetic
            // otherwise; the flags are clobbered by SUBS.
            unsafe {
                asm!(
                    "2:",
                    "ldr {v}, [{vp}], #4",
                    "ldrsb {y}, [{wp}, {stride}]",
                    "ldrsb {x}, [{wp}], #1",
                    "smlal {la}, {ha}, {v}, {x}",
                    "smlal {lb}, {hb}, {v}, {y}",
                    "ldr {v}, [{vp}], #4",
                    "ldrsb {y}, [{wp}, {stride}]",
                    "ldrsb {x}, [{wp}], #1",
                    "smlal {la}, {ha}, {v}, {x}",
                    "smlal {lb}, {hb}, {v}, {y}",
                    "ldr {v}, [{vp}], #4",
                    "ldrsb {y}, [{wp}, {stride}]",
                    "ldrsb {x}, [{wp}], #1",
                    "smlal {la}, {ha}, {v}, {x}",
                    "smlal {lb}, {hb}, {v}, {y}",
                    "ldr {v}, [{vp}], #4",
                    "ldrsb {y}, [{wp}, {stride}]",
                    "ldrsb {x}, [{wp}], #1",
                    "smlal {la}, {ha}, {v}, {x}",
                    "smlal {lb}, {hb}, {v}, {y}",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    vp = inout(reg) packed[start..].as_ptr() => _,
                    wp = inout(reg) wa => _,
                    stride = in(reg) stride,
                    n = inout(reg) steps => _,
                    la = inout(reg) la, ha = inout(reg) ha,
                    lb = inout(reg) lb, hb = inout(reg) hb,
                    v = out(reg) _, x = out(reg) _, y = out(reg) _,
                    options(nostack, readonly),
                );
            }
        }
        let (mut a0, mut a1) = split(la, ha);
        let (mut b0, mut b1) = split(lb, hb);
        for k in start + 4 * steps..start + len {
            let (x0, x1) = (i32::from(p0[k] as i8), i32::from(p1[k] as i8));
            let (wa, wb) = (i32::from(a[k] as i8), i32::from(b[k] as i8));
            (a0, a1, b0, b1) = (a0 + x0 * wa, a1 + x1 * wa, b0 + x0 * wb, b1 + x1 * wb);
        }
        sums[0] = [sums[0][0].wrapping_add(a0), sums[0][1].wrapping_add(a1)];
        sums[1] = [sums[1][0].wrapping_add(b0), sums[1][1].wrapping_add(b1)];
    }
    sums
}

/// SMLAL: the 64-bit `lo + hi x 2^32` plus `x * w`, signed.
#[inline(always)]
pub(crate) fn smlal(lo: u32, hi: u32, x: u32, w: u32) -> (u32, u32) {
    let (mut lo, mut hi) = (lo, hi);
    // SAFETY: register-only arithmetic, no memory access, flags untouched.
    unsafe {
        asm!("smlal {lo}, {hi}, {x}, {w}", lo = inout(reg) lo, hi = inout(reg) hi,
             x = in(reg) x, w = in(reg) w, options(pure, nomem, nostack, preserves_flags));
    }
    (lo, hi)
}

/// `lo + hi x 2^32` of a 3x3 filter `w` (row-major) over three packed
/// rows `width` words apart from `x[0]`: per filter row one LDM of the
/// three inputs, one of the three weights and three SMLALs (the first a
/// SMULL).
#[inline(always)]
pub(crate) fn taps3x3(x: &[u32], width: usize, w: &[u32; 9]) -> (u32, u32) {
    let x = &x[..2 * width + 3];
    let (lo, hi): (u32, u32);
    // SAFETY: reads words 0..3, width..width + 3 and 2 width..2 width + 3
    // of `x` (in bounds by the slicing above) and the nine words of `w`;
    // the stepped pointers and r2-r5, r8 and r10 are declared clobbered.
    unsafe {
        asm!(
            "ldm {x}, {{r2, r3, r4}}",
            "ldm {w}!, {{r5, r8, r10}}",
            "smull {lo}, {hi}, r2, r5",
            "smlal {lo}, {hi}, r3, r8",
            "smlal {lo}, {hi}, r4, r10",
            "add {x}, {x}, {step}",
            "ldm {x}, {{r2, r3, r4}}",
            "ldm {w}!, {{r5, r8, r10}}",
            "smlal {lo}, {hi}, r2, r5",
            "smlal {lo}, {hi}, r3, r8",
            "smlal {lo}, {hi}, r4, r10",
            "add {x}, {x}, {step}",
            "ldm {x}, {{r2, r3, r4}}",
            "ldm {w}, {{r5, r8, r10}}",
            "smlal {lo}, {hi}, r2, r5",
            "smlal {lo}, {hi}, r3, r8",
            "smlal {lo}, {hi}, r4, r10",
            x = inout(reg) x.as_ptr() => _, w = inout(reg) w.as_ptr() => _,
            step = in(reg) width * 4,
            lo = out(reg) lo, hi = out(reg) hi,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _, out("r10") _,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    (lo, hi)
}

/// One output channel's finish, laid out for [`requant`]'s loads: the
/// folded constant, the [`Rescale`] in its single-multiply form, the
/// output offset and the activation range.
#[repr(C)]
pub(crate) struct Requant {
    folded: i32,
    left: u32,
    multiplier: i32,
    round_lo: u32,
    round_hi: i32,
    right: u32,
    right_less_one: u32,
    offset: i32,
    low: i32,
    high: i32,
}

impl Requant {
    /// The finish of a channel with rescale `r`, folded constant `folded`,
    /// output offset `offset` and activation range `(low, high)`.
    pub(crate) fn new(r: &Rescale, folded: i32, offset: i32, (low, high): (i32, i32)) -> Self {
        let (round, multiplier, left, right) = r.parts();
        Requant {
            folded,
            left,
            multiplier,
            round_lo: round as u32,
            round_hi: (round >> 32) as i32,
            right,
            right_less_one: right.saturating_sub(1),
            offset,
            low,
            high,
        }
    }
}

/// The int8 output of a sum of products `sum`: `clamp(r.apply(sum +
/// folded) + offset)`, as [`Rescale::apply`] and `to_int8` compute it.
/// One LDM brings the constants of the add, the left shift and the SMLAL
/// of the rounding constant plus the product; a right shift takes the
/// high word (corrected by `-2^31` for a negative product), none takes
/// bits 31..63.
#[inline(always)]
pub(crate) fn requant(sum: i32, k: &Requant) -> u8 {
    let mut v = sum;
    // SAFETY: reads the ten words of `*k` (repr(C), so at offsets 0..40);
    // r2-r5, r8 and r10 are declared clobbered; the labels are local.
    unsafe {
        asm!(
            "ldm {k}, {{r2, r3, r4, r5, r8, r10}}",
            "add {v}, {v}, r2",
            "lsl {v}, {v}, r3",
            "smlal r5, r8, {v}, r4",
            "cmp r10, #0",
            "beq 2f",
            "and r2, {v}, #0x80000000",
            "adds r5, r5, r2",
            "adc r8, r8, {v}, asr #31",
            "ldr r2, [{k}, #24]",
            "asr {v}, r8, r2",
            "b 3f",
            "2:",
            "lsr r5, r5, #31",
            "orr {v}, r5, r8, lsl #1",
            "3:",
            "ldrd r2, r3, [{k}, #28]",
            "ldr r4, [{k}, #36]",
            "add {v}, {v}, r2",
            "cmp {v}, r3",
            "it lt",
            "movlt {v}, r3",
            "cmp {v}, r4",
            "it gt",
            "movgt {v}, r4",
            k = in(reg) k, v = inout(reg) v,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _, out("r10") _,
            options(pure, readonly, nostack),
        );
    }
    v as i8 as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot::tests::{bytes, dot_reference};

    #[test]
    fn packed_pair_dots_equal_the_definition_across_blocks() {
        let mut packed = [0u32; 512];
        for n in (0..=300).chain([372, 373, 496, 512]) {
            for seed in 0..4 {
                let (p0, p1) = (bytes(seed), bytes(seed + 300));
                let (a, b) = (bytes(seed + 600), bytes(seed + 700));
                let (p0, p1, a, b) = (&p0[..n], &p1[..n], &a[..n], &b[..n]);
                pack_pair(p0, p1, &mut packed);
                let got = pair_dot2(&packed[..n], p0, p1, a, b);
                let want = [
                    [dot_reference(p0, a), dot_reference(p1, a)],
                    [dot_reference(p0, b), dot_reference(p1, b)],
                ];
                assert_eq!(got, want, "n {n} seed {seed}");
            }
        }
        // Every product at its extreme, 2^14 each: the largest block sums.
        let (min, max) = ([0x80u8; 512], [0x7Fu8; 512]);
        pack_pair(&min, &max, &mut packed);
        let got = pair_dot2(&packed, &min, &max, &min, &max);
        assert_eq!(
            got,
            [[512 * 16384, -512 * 16256], [-512 * 16256, 512 * 16129]]
        );
    }

    #[test]
    fn requant_equals_the_rescale_at_every_shift() {
        let mut seed = 11u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX];
        for shift in -31..=31 {
            for multiplier in [0, 1, 1 << 30, i32::MAX, (next() >> 1) as i32] {
                let r = Rescale::new(multiplier, shift);
                let folded = next() as i32 >> 8;
                let offset = (next() % 256) as i32 - 128;
                let range = [(-128, 127), (offset, 127), (-20, 90)][(next() % 3) as usize];
                let k = Requant::new(&r, folded, offset, range);
                for i in 0..200 {
                    let sum = if i < edges.len() {
                        edges[i]
                    } else {
                        next() as i32 >> (i % 31)
                    };
                    let v = r.apply(sum.wrapping_add(folded)).wrapping_add(offset);
                    let want = v.max(range.0).min(range.1) as i8 as u8;
                    assert_eq!(
                        requant(sum, &k),
                        want,
                        "shift {shift} multiplier {multiplier} sum {sum}"
                    );
                }
            }
        }
    }
}
