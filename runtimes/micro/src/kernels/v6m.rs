//! Kernels for the Cortex-M0+ (cfg `arm_v6m` from build.rs, `thumbv6m`).
//! ARMv6-M multiplies only 32 x 32 -> 32 bits (MULS, no SMULL), so Rust's
//! 64-bit multiply is a call to `__aeabi_lmul`, and most of its
//! instructions reach r0-r7 alone (r7 the frame pointer), so a loop with
//! more than seven live values spills to the stack. Here:
//! - the requantisation of the int8 layers, [`rescale`]: `Rescale::apply`
//!   from four 16 x 16-bit products, each exact in one MULS;
//! - the int8 dot products, [`dot_i8`] and [`dot2_i8`]: inline assembly,
//!   four products an iteration, the pointers, index and temporaries in six
//!   low registers and [`dot2_i8`]'s two sums in high ones.
//!
//! The portable code stays the reference: the tests compare the
//! requantisation with `Rescale::apply` on every host, the assembly with
//! the definition on ARMv7-A Linux (`armv7`, ARM state, which has each of
//! its instructions) under qemu-arm (scripts/test.sh).
#![allow(unsafe_code)]

use crate::rescale::Rescale;
#[cfg(target_arch = "arm")]
use core::arch::asm;

/// [`Rescale::apply`] (TFLite's `MultiplyByQuantizedMultiplier`) in 32-bit
/// operations, for every accumulator `x` and every rescale: four MULS
/// where `apply` calls `__aeabi_lmul`.
///
/// Why it is exact. With `a` the accumulator shifted left, the multiplier
/// `0 <= m < 2^31`, `P = a m`, `s = [a < 0]` and the right shift `e`,
/// `apply` returns `floor((P + 2^30) / 2^31)` when `e = 0` and
/// `floor((P + 2^30 + 2^(30+e) - s 2^31) / 2^(31+e))` when `e >= 1`
/// (rescale.rs). With `k = 0` when `e = 0` and `k = 2^(e-1) - s >= 0`
/// when `e >= 1`, both are `floor(T / 2^(31+e))`, `T = P + 2^30 + 2^31 k`.
///
/// [`product_words`] gives `P = hi 2^32 + mid 2^16 + low` with `0 <= low
/// < 2^16`, `-2^30 <= hi < 2^30` and `0 <= mid < 2^31 + 2^15`. As `2^30 +
/// 2^31 k` is a multiple of `2^16` and `low` is below it, `floor(T / 2^31)
/// = 2 hi + floor((mid + 2^14 + 2^15 k) / 2^15) = 2 hi + q + k`, with `q =
/// floor((mid + 2^14) / 2^15) <= 2^16 + 1` (`mid + 2^14` is below `2^32`:
/// one unsigned word). When `e = 0` the result is `2 hi + q`, exact in 32
/// bits (`-2^31 <= 2 hi < 2^31`, the result is below `2^31`). When `e >= 1`,
/// nested floors merge (`floor(floor(u / v) / w) = floor(u / (v w))`):
/// `floor(T / 2^(31+e)) = floor((2 hi + q + k) / 2^e) = floor((hi +
/// floor((q + k) / 2)) / 2^(e-1))`. `q + k <= 2^16 + 1 + 2^30` fits an
/// unsigned word, `hi + floor((q + k) / 2) < 2^30 + 2^29 + 2^16` a signed
/// one, and the last floor is an arithmetic shift right by `e - 1`.
///
/// In the Cortex-M0+ firmware's convolution, 39 instructions from the
/// loads of the rescale to the result (four MULS, shifts, adds, a branch on
/// `e = 0`), where `apply` took 38 and the 37 of `__aeabi_lmul`.
#[inline(always)]
pub(crate) fn rescale(r: &Rescale, x: i32) -> i32 {
    let (left, right) = r.shifts();
    let a = x.wrapping_shl(left);
    let (hi, mid) = product_words(a, r.multiplier());
    let q = (mid + (1 << 14)) >> 15;
    if right == 0 {
        return 2 * hi + q as i32;
    }
    let k = (1u32 << (right - 1)) - u32::from(a < 0);
    (hi + ((q + k) >> 1) as i32) >> (right - 1)
}

/// `P = a m` for `0 <= m < 2^31` as `(hi, mid)`, `P = hi 2^32 + mid 2^16 +
/// low` with `0 <= low < 2^16` (dropped), from 16-bit halves: `a = ah
/// 2^16 + al` and `m = mh 2^16 + ml`, with `0 <= al, ml < 2^16`, `-2^15 <=
/// ah < 2^15` and `0 <= mh < 2^15`.
///
/// Each product of halves is exact in one 32-bit MULS: `|ah mh| <= 2^30 -
/// 2^15`, `|ah ml| < 2^31`, `0 <= al mh < 2^31`, `0 <= al ml < 2^32`
/// (unsigned). `P = ah mh 2^32 + (ah ml + al mh) 2^16 + al ml`; splitting
/// `ah ml` and `al ml` at bit 16 (floor and remainder), `hi = ah mh +
/// floor(ah ml / 2^16)`, in `-2^30..2^30`, and `mid = (ah ml mod 2^16) +
/// al mh + floor(al ml / 2^16) <= (2^16 - 1) + (2^31 - 2^16 - 2^15 + 1) +
/// (2^16 - 2) = 2^31 + 2^15 - 2`, one unsigned word.
#[inline(always)]
fn product_words(a: i32, m: i32) -> (i32, u32) {
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let (mh, ml) = (m >> 16, m & 0xFFFF);
    let cross = ah * ml;
    let hi = ah * mh + (cross >> 16);
    let low_product = (al as u32) * (ml as u32);
    let mid = (cross as u32 & 0xFFFF) + (al * mh) as u32 + (low_product >> 16);
    (hi, mid)
}

/// `sum` plus the products of the int8 bytes of `a` and `b` (wrapping):
/// the bytes past an assembly loop's last full iteration.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn add_products(sum: i32, a: &[u8], b: &[u8]) -> i32 {
    a.iter().zip(b).fold(sum, |acc, (&x, &w)| {
        acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
    })
}

/// One product of [`dot_i8`]'s loop: bytes `i` (negative, from the end)
/// of `a` and `b`, sign-extended, multiplied and added to the sum; `i`
/// steps on, its flags set for the loop's branch.
#[cfg(target_arch = "arm")]
macro_rules! v6m_product {
    () => {
        concat!(
            "ldrsb {x}, [{a}, {i}]\n",
            "ldrsb {w}, [{b}, {i}]\n",
            "muls {x}, {w}, {x}\n",
            "adds {sum}, {sum}, {x}\n",
            "adds {i}, #1\n",
        )
    };
}

/// `sum(a[i] * b[i])` of int8 bytes (wrapping), as
/// `kernels::dot::dot_i8`: four products in 21 instructions, LDRSB with a
/// negative index counting up to 0 from the ends of both slices.
#[cfg(target_arch = "arm")]
#[inline(always)]
pub(crate) fn dot_i8(a: &[u8], b: &[u8]) -> i32 {
    let n = a.len().min(b.len());
    let done = n - n % 4;
    let mut sum = 0i32;
    if done > 0 {
        // SAFETY: reads a[..done] and b[..done] (done <= both lengths) at
        // a + done + i and b + done + i for i from -done up to -1. Writes
        // only the declared registers; ADDS and MULS clobber the flags.
        unsafe {
            asm!(
                "2:",
                v6m_product!(),
                v6m_product!(),
                v6m_product!(),
                v6m_product!(),
                "bne 2b",
                a = in(reg) a.as_ptr().add(done),
                b = in(reg) b.as_ptr().add(done),
                i = inout(reg) done.wrapping_neg() => _,
                sum = inout(reg) sum,
                x = out(reg) _,
                w = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    add_products(sum, &a[done..n], &b[done..n])
}

/// One input byte of [`dot2_i8`]'s loop: byte `i` (negative, from the end)
/// of `x` times those of `a` and `b`, added to the sums in r8 and r9; `i`
/// steps on, its flags set for the loop's branch.
#[cfg(target_arch = "arm")]
macro_rules! v6m_pair {
    () => {
        concat!(
            "ldrsb {t}, [{x}, {i}]\n",
            "ldrsb {u}, [{a}, {i}]\n",
            "muls {u}, {t}, {u}\n",
            "add r8, {u}\n",
            "ldrsb {u}, [{b}, {i}]\n",
            "muls {u}, {t}, {u}\n",
            "add r9, {u}\n",
            "adds {i}, #1\n",
        )
    };
}

/// `(dot_i8(x, a), dot_i8(x, b))`, as `kernels::dot::dot2_i8`: each input
/// byte loaded once, four products (two input bytes) in 17 instructions.
/// The three pointers, the index and two temporaries fill six low
/// registers; the two sums sit in r8 and r9, which ADD reaches.
#[cfg(target_arch = "arm")]
#[inline(always)]
pub(crate) fn dot2_i8(x: &[u8], a: &[u8], b: &[u8]) -> (i32, i32) {
    let n = x.len().min(a.len()).min(b.len());
    let done = n - n % 2;
    let (mut sa, mut sb) = (0i32, 0i32);
    if done > 0 {
        // SAFETY: reads x[..done], a[..done] and b[..done] (done <= all
        // three lengths) at the slice plus done plus i, for i from -done
        // up to -1. Writes only the declared registers, r8 and r9
        // included; ADDS and MULS clobber the flags.
        unsafe {
            asm!(
                "movs {t}, #0",
                "mov r8, {t}",
                "mov r9, {t}",
                "2:",
                v6m_pair!(),
                v6m_pair!(),
                "bne 2b",
                "mov {t}, r8",
                "mov {u}, r9",
                x = in(reg) x.as_ptr().add(done),
                a = in(reg) a.as_ptr().add(done),
                b = in(reg) b.as_ptr().add(done),
                i = inout(reg) done.wrapping_neg() => _,
                t = out(reg) sa,
                u = out(reg) sb,
                out("r8") _,
                out("r9") _,
                options(nostack, readonly),
            );
        }
    }
    let (x, a, b) = (&x[done..n], &a[done..n], &b[done..n]);
    (add_products(sa, x, a), add_products(sb, x, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot::tests::Walk;
    use crate::quant::multiply_by_quantized_multiplier;

    /// Accumulators at and around the edges of `i32` and of its 16-bit
    /// halves.
    const EDGE_ACCUMULATORS: [i32; 17] = [
        i32::MIN,
        i32::MIN + 1,
        -(1 << 16) - 1,
        -(1 << 16),
        -(1 << 15) - 1,
        -(1 << 15),
        -2,
        -1,
        0,
        1,
        2,
        (1 << 15) - 1,
        1 << 15,
        (1 << 16) - 1,
        1 << 16,
        i32::MAX - 1,
        i32::MAX,
    ];

    /// Multipliers at the edges of `0..2^31` and of their 16-bit halves,
    /// and one of TFLite's (`sqrt(1/2)`).
    const EDGE_MULTIPLIERS: [i32; 13] = [
        0,
        1,
        2,
        0xFFFF,
        0x1_0000,
        0x1_0001,
        0x7FFF_0000,
        0x7FFF_FFFF - 0xFFFF,
        1 << 30,
        (1 << 30) + 1,
        1_518_500_250,
        i32::MAX - 1,
        i32::MAX,
    ];

    /// A random 32-bit word.
    fn word(walk: &mut Walk) -> u32 {
        (walk.next() << 8) ^ walk.next()
    }

    /// Checks [`rescale`] against `Rescale::apply` and TFLite's form.
    fn check(x: i32, multiplier: i32, shift: i32) {
        let r = Rescale::new(multiplier, shift);
        let want = r.apply(x);
        assert_eq!(rescale(&r, x), want, "x {x} m {multiplier} shift {shift}");
        let tflite = multiply_by_quantized_multiplier(x, r.multiplier(), r.shift());
        assert_eq!(want, tflite, "x {x} m {multiplier} shift {shift}");
    }

    #[test]
    fn the_32_bit_rescale_equals_apply_at_the_edges() {
        for shift in -33..=33 {
            for m in EDGE_MULTIPLIERS {
                for x in EDGE_ACCUMULATORS {
                    check(x, m, shift);
                }
            }
        }
    }

    #[test]
    fn the_32_bit_rescale_equals_apply_on_random_triples() {
        let mut walk = Walk(7);
        for _ in 0..16_000_000 {
            // Full-range words, and accumulators and multipliers of every
            // magnitude.
            let x = (word(&mut walk) as i32) >> walk.below(32);
            let m = (word(&mut walk) >> 1 >> walk.below(31)) as i32;
            let shift = walk.below(63) as i32 - 31;
            check(x, m, shift);
        }
    }

    #[test]
    fn the_32_bit_rescale_rounds_ties_as_apply() {
        // Powers of two as multipliers put a product exactly halfway
        // between two results at every right shift.
        let mut walk = Walk(11);
        for p in 0..31 {
            for shift in -31..=31 {
                for x in (-600..=600).chain((0..300).map(|_| word(&mut walk) as i32)) {
                    check(x, 1 << p, shift);
                }
            }
        }
    }

    #[cfg(target_arch = "arm")]
    mod assembly {
        use super::super::*;
        use crate::kernels::dot::tests::{Walk, bytes, dot_reference};

        #[test]
        fn the_dot_products_equal_the_definition_at_random_lengths() {
            let mut walk = Walk(3);
            for round in 0..2000u32 {
                let n = walk.below(301);
                let start = walk.below(4);
                let (x, a, b) = (bytes(round), bytes(round + 5000), bytes(round + 9000));
                let (x, a, b) = (&x[start..start + n], &a[..n], &b[start..][..n]);
                assert_eq!(dot_i8(x, a), dot_reference(x, a), "n {n}");
                let want = (dot_reference(x, a), dot_reference(x, b));
                assert_eq!(dot2_i8(x, a, b), want, "n {n}");
                assert_eq!(dot_i8(x, &a[..n / 2]), dot_reference(x, &a[..n / 2]));
            }
        }

        #[test]
        fn the_dot_products_sum_the_extremes() {
            let (min, max) = ([0x80u8; 300], [0x7Fu8; 300]);
            for n in [0, 1, 2, 3, 4, 5, 299, 300] {
                let m = n as i32;
                assert_eq!(dot_i8(&min[..n], &min[..n]), m * 16384);
                assert_eq!(dot_i8(&min[..n], &max[..n]), -m * 16256);
                let want = (m * 16129, -m * 16256);
                assert_eq!(dot2_i8(&max[..n], &max[..n], &min[..n]), want);
            }
        }

        #[test]
        fn the_dot_products_wrap() {
            // 2^17 products of -128 x -128 sum to 2^31: wrapped to i32::MIN.
            let min = alloc::vec![0x80u8; 1 << 17];
            assert_eq!(dot_i8(&min, &min), i32::MIN);
            assert_eq!(dot2_i8(&min, &min, &min), (i32::MIN, i32::MIN));
        }
    }
}
