//! Kernels for the Cortex-M4/M7 DSP extension (`thumbv7em`, cfg `arm_dsp`
//! from build.rs), in inline assembly through `core::arch::asm!`: the only
//! way to reach SXTB16 and SMLAD on stable Rust. Each instruction has one
//! safe wrapper; every block is pure register arithmetic (no memory, no
//! stack). This and arena.rs are the crate's only `unsafe` modules.
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
