//! Kernels for ARMv7 cores without the DSP extension, the Cortex-M3
//! (`thumbv7m`, cfg `arm_v7` from build.rs), in inline assembly through
//! `core::arch::asm!`: two int8 products in one 64-bit multiply-accumulate.
//!
//! The inputs of two output pixels are packed into one word, `x0 + x1 x
//! 2^22`. SMLAL multiplies it by a weight and adds to a 64-bit sum, so the
//! sum is `S0 + S1 x 2^22` exactly, where `S0` and `S1` are the two pixels'
//! dot products. While `|S0| < 2^21`, which [`BLOCK`] products of int8
//! bytes (each at most 2^14) guarantee, the low 22 bits sign-extended are
//! `S0` and the rest is `S1`: one load and one SMLAL per two products
//! instead of two loads and two MLAs. The M4/M7 take dsp.rs's SMLAD
//! kernels instead; ARMv7-A Linux runs this module's tests under qemu-arm.
#![allow(unsafe_code)]

use core::arch::asm;

/// Products summed in one 64-bit sum before it is split: below 2^21 /
/// 2^14 = 128, and a multiple of the loop's four.
const BLOCK: usize = 124;

/// Packs the patches of two output pixels for [`pair_dot2`]: word `k` is
/// `p0[k] + p1[k] x 2^22`.
pub(crate) fn pack_pair(p0: &[u8], p1: &[u8], out: &mut [u32]) {
    for ((&a, &b), o) in p0.iter().zip(p1).zip(out.iter_mut()) {
        *o = (i32::from(a as i8) + (i32::from(b as i8) << 22)) as u32;
    }
}

/// The two dot products packed in a 64-bit sum `lo + hi x 2^32`.
#[inline(always)]
fn split(lo: u32, hi: u32) -> (i32, i32) {
    let total = (i64::from(hi as i32) << 32) | i64::from(lo);
    let s0 = ((lo as i32) << 10) >> 10;
    (s0, ((total - i64::from(s0)) >> 22) as i32)
}

/// `[[dot(p0, a), dot(p1, a)], [dot(p0, b), dot(p1, b)]]` for two patches
/// packed by [`pack_pair`] (`p0` and `p1` are the same patches raw, for
/// the last up to three products of each block) and two filters.
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
}
