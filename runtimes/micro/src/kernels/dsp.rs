//! Kernels for the Cortex-M4/M7 DSP extension (`thumbv7em`, cfg `arm_dsp`
//! from build.rs), in inline assembly through `core::arch::asm!`: the only
//! way to reach SXTB16 and SMLAD on stable Rust. Each instruction has one
//! safe wrapper, pure register arithmetic; the pair loop's blocks also
//! read memory, within the slices their safe wrapper checks. This, v7m.rs
//! and arena.rs are the crate's only `unsafe` modules.
#![allow(unsafe_code)]

use core::arch::asm;

/// SXTB16: bytes 0 and 2 of `x`, sign-extended to the two halfwords.
#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only arithmetic, no memory access.
    unsafe {
        asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// SXTB16 with ROR #8: bytes 1 and 3 of `x`, sign-extended to the two
/// halfwords.
#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only arithmetic, no memory access.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// SMLAD: `acc + lo(a) * lo(b) + hi(a) * hi(b)` on signed halfwords,
/// wrapping (it sets the sticky Q flag on overflow, which nothing reads).
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only arithmetic, no memory access; it may set the
    // Q flag, so flags are not declared preserved.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a,
             b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack));
    }
    r
}

/// SMLABB: `acc + lo(a) * lo(b)` on signed halfwords.
#[inline(always)]
fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only arithmetic, no memory access; it may set Q.
    unsafe {
        asm!("smlabb {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a,
             b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack));
    }
    r
}

/// SMLATT: `acc + hi(a) * hi(b)` on signed halfwords.
#[inline(always)]
fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only arithmetic, no memory access; it may set Q.
    unsafe {
        asm!("smlatt {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a,
             b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack));
    }
    r
}

/// Four int8 bytes as one little-endian word.
#[inline(always)]
fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// `sum(a[i] * b[i])` of int8 bytes: four products per two SMLADs, each
/// word's even and odd bytes unpacked by SXTB16.
#[inline(always)]
pub(crate) fn dot_i8(a: &[u8], b: &[u8]) -> i32 {
    let (mut wa, mut wb) = (a.chunks_exact(4), b.chunks_exact(4));
    let mut acc = 0i32;
    for (x, w) in (&mut wa).zip(&mut wb) {
        let (x, w) = (word(x), word(w));
        acc = smlad(sxtb16(x), sxtb16(w), acc);
        acc = smlad(sxtb16_ror8(x), sxtb16_ror8(w), acc);
    }
    let tail = wa.remainder().iter().zip(wb.remainder());
    tail.fold(acc, |acc, (&x, &w)| {
        acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
    })
}

/// `(dot_i8(x, a), dot_i8(x, b))`: each word of `x` unpacked once for both
/// filters, two SMLADs per filter and word. The three runs are indexed
/// together, so each load is one register-offset LDR.
#[inline(always)]
pub(crate) fn dot2_i8(x: &[u8], a: &[u8], b: &[u8]) -> (i32, i32) {
    let n = x.len().min(a.len()).min(b.len());
    let words = n & !3;
    let (x, a, b) = (&x[..n], &a[..n], &b[..n]);
    let (mut sa, mut sb) = (0i32, 0i32);
    let mut i = 0;
    while i < words {
        let xw = word(&x[i..i + 4]);
        let (x02, x13) = (sxtb16(xw), sxtb16_ror8(xw));
        let (aw, bw) = (word(&a[i..i + 4]), word(&b[i..i + 4]));
        sa = smlad(x02, sxtb16(aw), sa);
        sa = smlad(x13, sxtb16_ror8(aw), sa);
        sb = smlad(x02, sxtb16(bw), sb);
        sb = smlad(x13, sxtb16_ror8(bw), sb);
        i += 4;
    }
    for i in words..n {
        let xv = i32::from(x[i] as i8);
        sa = sa.wrapping_add(xv * i32::from(a[i] as i8));
        sb = sb.wrapping_add(xv * i32::from(b[i] as i8));
    }
    (sa, sb)
}

/// `acc[j] + x[j] * w[j]` for the four int8 lanes of words `x` and `w`:
/// bytes 0 and 2 unpacked by SXTB16 and bytes 1 and 3 by SXTB16 ROR 8, each
/// lane's product added by SMLABB (bottom halves) or SMLATT (top halves).
#[inline(always)]
pub(crate) fn mac4(acc: [i32; 4], x: u32, w: u32) -> [i32; 4] {
    let (x02, w02) = (sxtb16(x), sxtb16(w));
    let (x13, w13) = (sxtb16_ror8(x), sxtb16_ror8(w));
    [
        smlabb(x02, w02, acc[0]),
        smlabb(x13, w13, acc[1]),
        smlatt(x02, w02, acc[2]),
        smlatt(x13, w13, acc[3]),
    ]
}

/// Packs the patches of two output pixels for [`pair_dot`]: for each four
/// bytes of both, pixel 0's even and odd bytes as signed halfwords
/// (SXTB16, SXTB16 ROR 8), then pixel 1's. Unpacked once per pixel pair,
/// they serve every output channel.
pub(crate) fn pack_pair(p0: &[u8], p1: &[u8], out: &mut [u32]) {
    let words = p0.chunks_exact(4).zip(p1.chunks_exact(4));
    for ((a, b), o) in words.zip(out.chunks_exact_mut(4)) {
        let (a, b) = (word(a), word(b));
        o.copy_from_slice(&[sxtb16(a), sxtb16_ror8(a), sxtb16(b), sxtb16_ror8(b)]);
    }
}

/// `(dot(p0, w), dot(p1, w))` over the first `4 x groups` bytes, for two
/// patches packed by [`pack_pair`] (`4 x groups` words): per four bytes,
/// one LDM of both pixels' halfwords, one load and two SXTB16 of the
/// weights, four SMLADs.
pub(crate) fn pair_dot(packed: &[u32], w: &[u8]) -> (i32, i32) {
    let groups = (packed.len() / 4).min(w.len() / 4);
    let (mut a0, mut a1) = (0i32, 0i32);
    let (mut xp, mut wp) = (packed.as_ptr(), w.as_ptr());
    if groups % 2 == 1 {
        // SAFETY: reads words 0..4 of `packed` and bytes 0..4 of `w`, in
        // bounds as groups >= 1; r2-r5 are declared clobbered, the pointers
        // advance past what was read.
        unsafe {
            asm!(
                "ldm {xp}!, {{r2, r3, r4, r5}}",
                "ldr {w}, [{wp}], #4",
                "sxtb16 {t}, {w}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {a0}, r2, {t}, {a0}",
                "smlad {a0}, r3, {w}, {a0}",
                "smlad {a1}, r4, {t}, {a1}",
                "smlad {a1}, r5, {w}, {a1}",
                xp = inout(reg) xp, wp = inout(reg) wp,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                w = out(reg) _, t = out(reg) _,
                out("r2") _, out("r3") _, out("r4") _, out("r5") _,
                options(nostack, readonly),
            );
        }
    }
    let pairs = groups / 2;
    if pairs > 0 {
        // SAFETY: reads the next 8 x pairs words of `packed` and 8 x pairs
        // bytes of `w`: together with the group above, 4 x groups of each,
        // in bounds by `groups`' definition. Same sums as above, two groups
        // an iteration.
        unsafe {
            asm!(
                "2:",
                "ldm {xp}!, {{r2, r3, r4, r5}}",
                "ldr {w}, [{wp}], #4",
                "sxtb16 {t}, {w}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {a0}, r2, {t}, {a0}",
                "smlad {a0}, r3, {w}, {a0}",
                "smlad {a1}, r4, {t}, {a1}",
                "smlad {a1}, r5, {w}, {a1}",
                "ldm {xp}!, {{r2, r3, r4, r5}}",
                "ldr {w}, [{wp}], #4",
                "sxtb16 {t}, {w}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {a0}, r2, {t}, {a0}",
                "smlad {a0}, r3, {w}, {a0}",
                "smlad {a1}, r4, {t}, {a1}",
                "smlad {a1}, r5, {w}, {a1}",
                "subs {n}, {n}, #1",
                "bne 2b",
                xp = inout(reg) xp => _, wp = inout(reg) wp => _,
                n = inout(reg) pairs => _,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                w = out(reg) _, t = out(reg) _,
                out("r2") _, out("r3") _, out("r4") _, out("r5") _,
                options(nostack, readonly),
            );
        }
    }
    (a0, a1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot::tests::{bytes, dot_reference};

    #[test]
    fn pair_dots_equal_the_definition_at_every_length() {
        let mut packed = [0u32; 512];
        for n in 0..=300 {
            for seed in 0..6 {
                let (p0, p1, w) = (bytes(seed), bytes(seed + 500), bytes(seed + 900));
                let whole = n & !3;
                pack_pair(&p0[..n], &p1[..n], &mut packed);
                let got = pair_dot(&packed[..whole], &w[..n]);
                let want = (
                    dot_reference(&p0[..whole], &w[..whole]),
                    dot_reference(&p1[..whole], &w[..whole]),
                );
                assert_eq!(got, want, "n {n} seed {seed}");
            }
        }
        let min = [0x80u8; 512];
        pack_pair(&min, &min, &mut packed);
        assert_eq!(pair_dot(&packed, &min), (512 * 16384, 512 * 16384));
    }
}
