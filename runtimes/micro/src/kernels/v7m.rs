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
//! instead of two loads and two MLAs. The convolution's pixel quads
//! (conv_quads.rs) take these on the M3 and dsp.rs's SMLAD kernels on the
//! M4/M7; the depthwise pairs (depthwise_pairs.rs) and the requantisation
//! ([`requant`]) take these on every ARMv7 core. ARMv7-A Linux runs this
//! module's tests under qemu-arm.
#![allow(unsafe_code)]

use crate::rescale::Rescale;
use core::arch::asm;

/// Products summed in one 64-bit sum before it is split: below 2^21 /
/// 2^14 = 128, and a multiple of the loop's four.
pub(crate) const BLOCK: usize = 124;

/// The two dot products packed in a 64-bit sum `lo + hi x 2^32`.
#[inline(always)]
pub(crate) fn split(lo: u32, hi: u32) -> (i32, i32) {
    let total = (i64::from(hi as i32) << 32) | i64::from(lo);
    let s0 = ((lo as i32) << 10) >> 10;
    (s0, ((total - i64::from(s0)) >> 22) as i32)
}

/// Words [`pack_quad`] writes for patches of `len` bytes: two a byte.
#[cfg(any(not(arm_dsp), test))]
pub(crate) fn quad_words(len: usize) -> usize {
    2 * len
}

/// Packs the patches of four output pixels for [`quad_dot`]: words `2k`
/// and `2k + 1` are `p0[k] + p1[k] x 2^22` and `p2[k] + p3[k] x 2^22`.
#[cfg(any(not(arm_dsp), test))]
pub(crate) fn pack_quad([p0, p1, p2, p3]: [&[u8]; 4], out: &mut [u32]) {
    let pack = |a: u8, b: u8| (i32::from(a as i8) + (i32::from(b as i8) << 22)) as u32;
    let bytes = p0.iter().zip(p1).zip(p2.iter().zip(p3));
    for (((&a, &b), (&c, &d)), o) in bytes.zip(out.chunks_exact_mut(2)) {
        o[0] = pack(a, b);
        o[1] = pack(c, d);
    }
}

/// `[dot(p0, w), dot(p1, w), dot(p2, w), dot(p3, w)]` for four patches
/// packed by [`pack_quad`], over the bytes both hold. Per weight: one LDM
/// of both packed words, one LDRSB, two SMLALs, so four products in four
/// instructions; the sums are split every [`BLOCK`] products.
#[cfg(any(not(arm_dsp), test))]
#[inline(always)]
pub(crate) fn quad_dot(packed: &[u32], w: &[u8]) -> [i32; 4] {
    let mut left = (packed.len() / 2).min(w.len());
    let (mut xp, mut wp) = (packed.as_ptr(), w.as_ptr());
    let mut sums = [0i32; 4];
    while left > 0 {
        let len = BLOCK.min(left);
        left -= len;
        let (mut la, mut ha, mut lb, mut hb) = (0u32, 0u32, 0u32, 0u32);
        // SAFETY: reads the next 2 len words of `packed` and len bytes of
        // `w`: over the blocks, at most the 2 n words and n bytes both
        // hold (n the length it starts `left` at). The pointers advance
        // past what was read; the counters and r2, r3 are declared
        // clobbered, the flags are clobbered by SUBS and CMP.
        unsafe {
            asm!(
                "cmp {g}, #0",
                "beq 3f",
                "2:",
                "ldm {xp}!, {{r2, r3}}",
                "ldrsb {x}, [{wp}], #1",
                "smlal {la}, {ha}, r2, {x}",
                "smlal {lb}, {hb}, r3, {x}",
                "ldm {xp}!, {{r2, r3}}",
                "ldrsb {x}, [{wp}], #1",
                "smlal {la}, {ha}, r2, {x}",
                "smlal {lb}, {hb}, r3, {x}",
                "ldm {xp}!, {{r2, r3}}",
                "ldrsb {x}, [{wp}], #1",
                "smlal {la}, {ha}, r2, {x}",
                "smlal {lb}, {hb}, r3, {x}",
                "ldm {xp}!, {{r2, r3}}",
                "ldrsb {x}, [{wp}], #1",
                "smlal {la}, {ha}, r2, {x}",
                "smlal {lb}, {hb}, r3, {x}",
                "subs {g}, {g}, #1",
                "bne 2b",
                "3:",
                "cmp {r}, #0",
                "beq 5f",
                "4:",
                "ldm {xp}!, {{r2, r3}}",
                "ldrsb {x}, [{wp}], #1",
                "smlal {la}, {ha}, r2, {x}",
                "smlal {lb}, {hb}, r3, {x}",
                "subs {r}, {r}, #1",
                "bne 4b",
                "5:",
                xp = inout(reg) xp,
                wp = inout(reg) wp,
                g = inout(reg) len / 4 => _,
                r = inout(reg) len % 4 => _,
                la = inout(reg) la, ha = inout(reg) ha,
                lb = inout(reg) lb, hb = inout(reg) hb,
                x = out(reg) _,
                out("r2") _, out("r3") _,
                options(nostack, readonly),
            );
        }
        let (s0, s1) = split(la, ha);
        let (s2, s3) = split(lb, hb);
        for (sum, s) in sums.iter_mut().zip([s0, s1, s2, s3]) {
            *sum = sum.wrapping_add(s);
        }
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

/// The start of one sum's requantisation inside [`requant4`]: the folded
/// constant, left shift, multiplier and rounding constant by one LDM, the
/// add, the shift and the 64-bit product plus the rounding in r5, r8.
#[rustfmt::skip]
macro_rules! requant_product {
    ($v:literal) => {
        concat!(
            "ldm {k}, {{r2, r3, r4, r5, r8}}\n",
            "add ", $v, ", ", $v, ", r2\n",
            "lsl ", $v, ", ", $v, ", r3\n",
            "smlal r5, r8, ", $v, ", r4\n",
        )
    };
}

/// The end of one sum's requantisation inside [`requant4`]: the output
/// offset and the clamp to the activation range.
#[rustfmt::skip]
macro_rules! requant_clamp {
    ($v:literal) => {
        concat!(
            "ldrd r2, r3, [{k}, #28]\n",
            "ldr r4, [{k}, #36]\n",
            "add ", $v, ", ", $v, ", r2\n",
            "cmp ", $v, ", r3\n",
            "it lt\n",
            "movlt ", $v, ", r3\n",
            "cmp ", $v, ", r4\n",
            "it gt\n",
            "movgt ", $v, ", r4\n",
        )
    };
}

/// One sum's requantisation inside [`requant4`] with the right shift less
/// one in `{rs}`: the sign correction, then the high word shifted.
#[rustfmt::skip]
macro_rules! requant_right {
    ($v:literal) => {
        concat!(
            requant_product!($v),
            "and r2, ", $v, ", #0x80000000\n",
            "adds r5, r5, r2\n",
            "adc r8, r8, ", $v, ", asr #31\n",
            "asr ", $v, ", r8, {rs}\n",
            requant_clamp!($v),
        )
    };
}

/// One sum's requantisation inside [`requant4`] without a right shift:
/// bits 31..63 of the product plus the rounding constant.
#[rustfmt::skip]
macro_rules! requant_left {
    ($v:literal) => {
        concat!(
            requant_product!($v),
            "lsr r5, r5, #31\n",
            "orr ", $v, ", r5, r8, lsl #1\n",
            requant_clamp!($v),
        )
    };
}

/// [`requant`] of four sums of one channel: the choice between a right
/// shift and none made once, the shift held in a register, no call or
/// reload between the four.
#[inline(always)]
pub(crate) fn requant4(sums: [i32; 4], k: &Requant) -> [u8; 4] {
    let [mut a, mut b, mut c, mut d] = sums;
    // SAFETY: reads the ten words of `*k` (repr(C), so at offsets 0..40);
    // r2-r5 and r8 are declared clobbered; the labels are local, and each
    // path ends at label 3.
    unsafe {
        asm!(
            "ldr {rs}, [{k}, #20]",
            "cmp {rs}, #0",
            "beq 2f",
            "sub {rs}, {rs}, #1",
            requant_right!("{a}"),
            requant_right!("{b}"),
            requant_right!("{c}"),
            requant_right!("{d}"),
            "b 3f",
            "2:",
            requant_left!("{a}"),
            requant_left!("{b}"),
            requant_left!("{c}"),
            requant_left!("{d}"),
            "3:",
            k = in(reg) k, rs = out(reg) _,
            a = inout(reg) a, b = inout(reg) b, c = inout(reg) c, d = inout(reg) d,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _,
            options(pure, readonly, nostack),
        );
    }
    [a, b, c, d].map(|v| v as i8 as u8)
}

/// One output channel's requantisation in the form the [`finish`]
/// instructions take: six words held in r2-r5, r8 and r10 while a kernel
/// requantises every output of the channel, with no reload and no 64-bit
/// sum.
///
/// Why it is exact (rescale.rs has the two-step form it equals). With no
/// left shift, TFLite's high multiply of an accumulator `a` by `m` is
/// `h = floor((a m + 2^30) / 2^31)` for either sign of `a m`, which is the
/// rounding high multiply `floor((2a m + 2^31) / 2^32)` of `2a` by `m`:
/// SMMULR on the M4/M7, SMULL plus the low word's top bit on the M3, while
/// `|a| < 2^30` keeps `2a` in range. The division by `2^e` rounding half
/// away from zero is `floor((h - [h < 0] + 2^(e-1)) / 2^e)`; nested floors
/// of integer divisions merge, so that is `(((h - [h < 0]) >> (e - 1)) +
/// 1) >> 1`, and the output offset `o` rides in the last shift as `2o + 1`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Finish {
    twice_folded: i32,
    multiplier: i32,
    right_less_one: u32,
    twice_offset_plus_one: i32,
    low: i32,
    high: i32,
}

impl Finish {
    /// The finish of a channel with rescale `r`, folded constant `folded`,
    /// output offset `offset` and activation range `(low, high)`, whose
    /// sums of products never exceed `bound` in magnitude. `None` where
    /// this form is not exact: a left shift or no right shift, an
    /// accumulator that could reach 2^30, an offset beyond 2^20.
    pub(crate) fn new(
        r: &Rescale,
        folded: i32,
        offset: i32,
        (low, high): (i32, i32),
        bound: u32,
    ) -> Option<Self> {
        let (_, multiplier, left, right) = r.parts();
        let reach = bound.checked_add(folded.unsigned_abs())?;
        if left != 0 || right == 0 || reach >= 1 << 30 || offset.unsigned_abs() >= 1 << 20 {
            return None;
        }
        Some(Finish {
            twice_folded: 2 * folded,
            multiplier,
            right_less_one: right - 1,
            twice_offset_plus_one: 2 * offset + 1,
            low,
            high,
        })
    }

    /// Whether the activation range is the whole int8 range, which one
    /// SSAT clamps to ([`clamp_int8`]).
    pub(crate) fn saturates_int8(&self) -> bool {
        (self.low, self.high) == (-128, 127)
    }
}

/// The end of a [`Finish`]: the sign correction, the shift by `e - 1`,
/// the offset and the last halving, then `$clamp` to the activation
/// range ([`clamp_range`] or [`clamp_int8`]).
#[rustfmt::skip]
macro_rules! finish_tail {
    ($v:literal, $clamp:ident) => {
        concat!(
            "add ", $v, ", ", $v, ", ", $v, ", asr #31\n",
            "asr ", $v, ", ", $v, ", r4\n",
            "add ", $v, ", ", $v, ", r5\n",
            "asr ", $v, ", ", $v, ", #1\n",
            $clamp!($v),
        )
    };
}

/// `$v` clamped to the [`Finish`]'s activation range, held in r8 (low)
/// and r10 (high).
#[rustfmt::skip]
macro_rules! clamp_range {
    ($v:literal) => {
        concat!(
            "cmp ", $v, ", r8\n",
            "it lt\n",
            "movlt ", $v, ", r8\n",
            "cmp ", $v, ", r10\n",
            "it gt\n",
            "movgt ", $v, ", r10\n",
        )
    };
}

/// `$v` clamped to -128..=127 by one SSAT (ARMv7-M has it, DSP or not):
/// [`clamp_range`] where the activation range is the whole int8 range
/// ([`Finish::saturates_int8`]), as it is for an output without
/// activation or a RELU whose zero point is -128.
#[rustfmt::skip]
macro_rules! clamp_int8 {
    ($v:literal) => {
        concat!("ssat ", $v, ", #8, ", $v, "\n")
    };
}

/// A sum of products `$v` requantised by the [`Finish`] in r2-r5, r8,
/// r10, on the M4/M7: the doubled accumulator's rounding high multiply is
/// one SMMULR (the M3's scratch `$t` is left alone).
#[cfg(arm_dsp)]
#[rustfmt::skip]
macro_rules! finish_smmulr {
    ($v:literal, $t:literal, $clamp:ident) => {
        concat!(
            "/* ", $t, " unused */\n",
            "add ", $v, ", r2, ", $v, ", lsl #1\n",
            "smmulr ", $v, ", ", $v, ", r3\n",
            finish_tail!($v, $clamp),
        )
    };
}

/// [`finish_smmulr`] on the M3, which has no SMMULR: SMULL into `$t` and
/// `$v`, and the low word's top bit added as the rounding.
#[cfg(any(not(arm_dsp), test))]
#[rustfmt::skip]
macro_rules! finish_smull {
    ($v:literal, $t:literal, $clamp:ident) => {
        concat!(
            "add ", $v, ", r2, ", $v, ", lsl #1\n",
            "smull ", $t, ", ", $v, ", ", $v, ", r3\n",
            "add ", $v, ", ", $v, ", ", $t, ", lsr #31\n",
            finish_tail!($v, $clamp),
        )
    };
}

/// Where a band of one depthwise channel's packed rows and outputs lie,
/// for [`Pairs3x3`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PairGrid {
    /// Words per packed row.
    pub(crate) width: usize,
    /// Strides (rows, columns).
    pub(crate) stride: (usize, usize),
    /// Output columns.
    pub(crate) ow: usize,
    /// Output channels: the step between a row's outputs.
    pub(crate) oc: usize,
}

/// One 3x3 depthwise channel's constants for [`pairs3x3`], laid out for
/// its loads: the nine weights (sign-extended, row-major), the
/// [`Finish`]; the bytes between packed rows, the bytes from the third
/// row's taps back to the next pair's, the bytes between outputs, the
/// end of the row's pairs; at a row's end, the bytes from the input
/// pointer to the next row's, whether a row ends on a single output, the
/// bytes between the rows' ends, and the band's end. The grid, which the
/// assembly does not read, follows.
#[repr(C)]
pub(crate) struct Pairs3x3 {
    weights: [u32; 9],
    finish: Finish,
    step: u32,
    back: u32,
    out_step: u32,
    end: usize,
    row_x: u32,
    odd: u32,
    row_bytes: u32,
    band_end: usize,
    grid: PairGrid,
}

impl Pairs3x3 {
    /// The constants of a channel with filter `weights` and `finish` over
    /// `grid`. `None` when a step does not fit 32 bits.
    pub(crate) fn new(weights: [u32; 9], finish: Finish, grid: PairGrid) -> Option<Self> {
        let bytes = |words: usize| u32::try_from(words.checked_mul(4)?).ok();
        let step = bytes(grid.width)?;
        Some(Pairs3x3 {
            weights,
            finish,
            step,
            back: (2 * step).wrapping_sub(bytes(2 * grid.stride.1)?),
            out_step: u32::try_from(grid.oc).ok()?,
            end: 0,
            row_x: 0,
            odd: 0,
            row_bytes: u32::try_from(grid.ow.checked_mul(grid.oc)?).ok()?,
            band_end: 0,
            grid,
        })
    }

    /// The grid the constants were made for.
    pub(crate) fn grid(&self) -> PairGrid {
        self.grid
    }

    /// The output of the pixel whose taps start at `x[0]` alone: the low
    /// sum of [`taps3x3`], finished.
    pub(crate) fn single(&self, x: &[u32]) -> u8 {
        let (lo, _) = taps3x3(x, self.grid.width, &self.weights);
        finish(((lo as i32) << 10) >> 10, &self.finish)
    }

    /// Sets the pointers and row steps for `rows` rows from `x` into
    /// `out`; false when a row has no pair or the rows would read or write
    /// past either.
    fn start(&mut self, x: &[u32], out: &[u8], rows: usize) -> bool {
        let PairGrid {
            width,
            stride: (sy, sx),
            ow,
            oc,
        } = self.grid;
        let (pairs, odd) = (ow / 2, ow % 2);
        if rows == 0 || pairs == 0 {
            return false;
        }
        let reads = (rows - 1) * sy * width + 2 * (pairs + odd - 1) * sx + 2 * width + 3;
        if x.len() < reads || out.len() <= (rows * ow - 1) * oc {
            return false;
        }
        let at = out.as_ptr() as usize;
        self.end = at + 2 * pairs * oc;
        self.band_end = at + rows * ow * oc;
        self.odd = odd as u32;
        self.row_x = (sy * width * 4).wrapping_sub((pairs + odd) * 8 * sx) as u32;
        true
    }
}

/// A sum of products requantised by `k`, alone (the row ends of
/// [`pairs3x3`]; the tests of the M3's form on ARMv7-A).
macro_rules! finish_fn {
    ($(#[$doc:meta])* $name:ident, $mul:ident) => {
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name(sum: i32, k: &Finish) -> u8 {
            let mut v = sum;
            // SAFETY: reads the six words of `*k` (repr(C)); r2-r5, r8 and
            // r10 are declared clobbered.
            unsafe {
                asm!(
                    "ldm {k}, {{r2, r3, r4, r5, r8, r10}}",
                    $mul!("{v}", "{t}", clamp_range),
                    k = in(reg) k, v = inout(reg) v, t = out(reg) _,
                    out("r2") _, out("r3") _, out("r4") _, out("r5") _,
                    out("r8") _, out("r10") _,
                    options(pure, readonly, nostack),
                );
            }
            v as i8 as u8
        }
    };
}

/// One filter row of [`pair_taps`]: one LDM of three packed inputs, one
/// of three weights (the weight pointer left past them), then `$first`
/// (SMULL for the first row, SMLAL after) and two SMLALs into `{lo}`,
/// `{hi}`.
macro_rules! tap_row {
    ($first:literal) => {
        concat!(
            "ldm {x}, {{r2, r3, r4}}\n",
            "ldm {w}!, {{r5, r8, r10}}\n",
            $first,
            " {lo}, {hi}, r2, r5\n",
            "smlal {lo}, {hi}, r3, r8\n",
            "smlal {lo}, {hi}, r4, r10\n",
        )
    };
}

/// One output pair's nine taps inside [`pairs3x3`]: three [`tap_row`]s,
/// the input pointer left two row steps on.
macro_rules! pair_taps {
    () => {
        concat!(
            tap_row!("smull"),
            "add {x}, {x}, {step}\n",
            tap_row!("smlal"),
            "add {x}, {x}, {step}\n",
            tap_row!("smlal"),
        )
    };
}

/// One 3x3 depthwise channel over a band's rows, as [`pair_taps`] and two
/// [`Finish`]es a pair: the loop of the depthwise convolution, all in
/// registers but its constants, which two LDMs bring per pair (`$reload`
/// restores the row step where `$mul` took it); per row, an odd width's
/// last output alone and four loads to the next row.
macro_rules! pairs3x3_fn {
    ($(#[$doc:meta])* $name:ident, $mul:ident, $clamp:ident, $reload:literal) => {
        $(#[$doc])*
        fn $name(k: &mut Pairs3x3, x: &[u32], out: &mut [u8], rows: usize) -> bool {
            if !k.start(x, out, rows) {
                return false;
            }
            // SAFETY: output pixel ox of row r reads words r sy width + ox
            // sx + q width + 0..3 of `x` for q in 0..3 (a pair, ox even,
            // also those one stride on), and writes out[(r ow + ox) oc]:
            // in bounds by `start`. The weight pointer walks the nine
            // weights to the constants and back; the input pointer two row
            // steps and back to the next pair, and at a row's end to the
            // next row's; the output pointer stops at the band's end.
            // r2-r5, r8, r10 are declared clobbered; CMP clobbers the
            // flags.
            unsafe {
                asm!(
                    "2:",
                    pair_taps!(),
                    // The split: the low 22 bits sign-extended, and the
                    // rest plus their sign bit.
                    "lsr r2, {lo}, #22",
                    "orr r2, r2, {hi}, lsl #10",
                    "ubfx r3, {lo}, #21, #1",
                    "add {hi}, r2, r3",
                    "sbfx {lo}, {lo}, #0, #22",
                    "ldm {w}, {{r2, r3, r4, r5, r8, r10}}",
                    $mul!("{lo}", "{step}", $clamp),
                    $mul!("{hi}", "{step}", $clamp),
                    "ldrd r2, r3, [{w}, #32]",
                    "ldr r4, [{w}, #28]",
                    $reload,
                    "sub {w}, {w}, #36",
                    "sub {x}, {x}, r4",
                    "strb {lo}, [{out}]",
                    "strb {hi}, [{out}, r2]",
                    "add {out}, {out}, r2, lsl #1",
                    "cmp {out}, r3",
                    "bne 2b",
                    // An odd row's last output: one pair's taps, the low
                    // sum finished.
                    "ldr r4, [{w}, #80]",
                    "cmp r4, #0",
                    "beq 3f",
                    pair_taps!(),
                    "sbfx {lo}, {lo}, #0, #22",
                    "ldm {w}, {{r2, r3, r4, r5, r8, r10}}",
                    $mul!("{lo}", "{step}", $clamp),
                    "ldr r2, [{w}, #32]",
                    "ldr r4, [{w}, #28]",
                    $reload,
                    "sub {w}, {w}, #36",
                    "sub {x}, {x}, r4",
                    "strb {lo}, [{out}]",
                    "add {out}, {out}, r2",
                    // The row's end: on to the next row's inputs and
                    // outputs, until the band's end.
                    "3:",
                    "ldr r4, [{w}, #76]",
                    "ldr r3, [{w}, #72]",
                    "ldr r8, [{w}, #84]",
                    "ldr r10, [{w}, #88]",
                    "add {x}, {x}, r4",
                    "add r3, r3, r8",
                    "str r3, [{w}, #72]",
                    "cmp {out}, r10",
                    "bne 2b",
                    x = inout(reg) x.as_ptr() => _,
                    w = inout(reg) k as *mut Pairs3x3 => _,
                    out = inout(reg) out.as_mut_ptr() => _,
                    step = inout(reg) k.step => _,
                    lo = out(reg) _, hi = out(reg) _,
                    out("r2") _, out("r3") _, out("r4") _, out("r5") _,
                    out("r8") _, out("r10") _,
                    options(nostack),
                );
            }
            true
        }
    };
}

#[cfg(arm_dsp)]
finish_fn!(
    /// A sum requantised by `k` on the M4/M7 (SMMULR).
    finish, finish_smmulr
);
#[cfg(not(arm_dsp))]
finish_fn!(
    /// A sum requantised by `k` on the M3 (SMULL).
    finish, finish_smull
);
#[cfg(all(arm_dsp, test))]
finish_fn!(
    /// The M3's [`finish`], tested on ARMv7-A beside the M4's.
    finish_m3, finish_smull
);

#[cfg(arm_dsp)]
pairs3x3_fn!(
    /// [`pairs3x3`] on the M4/M7 (SMMULR), any activation range.
    pairs3x3_range, finish_smmulr, clamp_range, ""
);
#[cfg(arm_dsp)]
pairs3x3_fn!(
    /// [`pairs3x3`] on the M4/M7 (SMMULR), the whole int8 range.
    pairs3x3_int8, finish_smmulr, clamp_int8, ""
);
#[cfg(not(arm_dsp))]
pairs3x3_fn!(
    /// [`pairs3x3`] on the M3 (SMULL), any activation range.
    pairs3x3_range, finish_smull, clamp_range, "ldr {step}, [{w}, #24]"
);
#[cfg(not(arm_dsp))]
pairs3x3_fn!(
    /// [`pairs3x3`] on the M3 (SMULL), the whole int8 range.
    pairs3x3_int8, finish_smull, clamp_int8, "ldr {step}, [{w}, #24]"
);
#[cfg(all(arm_dsp, test))]
pairs3x3_fn!(
    /// The M3's [`pairs3x3_range`], tested on ARMv7-A beside the M4's.
    pairs3x3_m3_range, finish_smull, clamp_range, "ldr {step}, [{w}, #24]"
);
#[cfg(all(arm_dsp, test))]
pairs3x3_fn!(
    /// The M3's [`pairs3x3_int8`], tested on ARMv7-A beside the M4's.
    pairs3x3_m3_int8, finish_smull, clamp_int8, "ldr {step}, [{w}, #24]"
);

/// `rows` output rows of one channel, the first output at `out[0]`,
/// from packed rows starting at `x[0]`: pairs, and an odd row's last
/// output alone, clamped by one SSAT where the channel's activation range
/// is the whole int8 range. False, computing nothing, for a row of one
/// output or slices shorter than the rows need.
pub(crate) fn pairs3x3(k: &mut Pairs3x3, x: &[u32], out: &mut [u8], rows: usize) -> bool {
    if k.finish.saturates_int8() {
        pairs3x3_int8(k, x, out, rows)
    } else {
        pairs3x3_range(k, x, out, rows)
    }
}

/// The M3's [`pairs3x3`], tested on ARMv7-A beside the M4's.
#[cfg(all(arm_dsp, test))]
pub(crate) fn pairs3x3_m3(k: &mut Pairs3x3, x: &[u32], out: &mut [u8], rows: usize) -> bool {
    if k.finish.saturates_int8() {
        pairs3x3_m3_int8(k, x, out, rows)
    } else {
        pairs3x3_m3_range(k, x, out, rows)
    }
}

/// `out[j] = x[j] + x[j + stride] x 2^22` for the sign-extended int8
/// values `x[j] = src[j x step]`: a run of depthwise_pairs.rs's packed
/// rows, one channel's column of an NHWC row, for strides other than 1
/// ([`pack_slide`]). False, writing nothing, when `src` is short of the
/// values the run reads.
pub(crate) fn pack_run(src: &[u8], step: usize, stride: usize, out: &mut [u32]) -> bool {
    let n = out.len();
    let Some(last) = (n + stride)
        .checked_sub(1)
        .and_then(|i| i.checked_mul(step))
    else {
        return false;
    };
    if n == 0 || step == 0 || src.len() <= last {
        return n == 0;
    }
    // SAFETY: reads src[j step] and src[(j + stride) step] for j in 0..n,
    // within `last`, and writes out[..n]; the pointers advance past what
    // was read and written; CMP clobbers the flags.
    unsafe {
        asm!(
            "2:",
            "ldrsb {a}, [{p}]",
            "ldrsb {b}, [{p}, {ahead}]",
            "add {p}, {p}, {step}",
            "add {a}, {a}, {b}, lsl #22",
            "str {a}, [{o}], #4",
            "cmp {o}, {end}",
            "bne 2b",
            p = inout(reg) src.as_ptr() => _,
            o = inout(reg) out.as_mut_ptr() => _,
            step = in(reg) step,
            ahead = in(reg) stride * step,
            end = in(reg) out.as_mut_ptr().add(n),
            a = out(reg) _, b = out(reg) _,
            options(nostack),
        );
    }
    true
}

/// The stride-1 run of packed words: with `x[j] = src[j x step]`
/// sign-extended and `x[-1] = before`, `out[j] = x[j - 1] + x[j] x 2^22`
/// for j in 0..n, each value loaded once, two words an iteration (five
/// instructions a word). Returns `x[n - 1]` (`before` when `out` is
/// empty), or `None`, writing nothing, when `src` is short of n values.
pub(crate) fn pack_slide(before: u32, src: &[u8], step: usize, out: &mut [u32]) -> Option<u32> {
    let n = out.len();
    if n == 0 {
        return Some(before);
    }
    if step == 0 || src.len() <= (n - 1).checked_mul(step)? {
        return None;
    }
    let mut a = before;
    let (odd, rest) = out.split_at_mut(n % 2);
    if let Some(first) = odd.first_mut() {
        let v = i32::from(src[0] as i8) as u32;
        *first = a.wrapping_add(v << 22);
        a = v;
    }
    if !rest.is_empty() {
        // SAFETY: reads src[j step] for j in n % 2..n, within the check
        // above, and writes `rest`; the pointers advance past what was
        // read and written; CMP clobbers the flags.
        unsafe {
            asm!(
                "2:",
                "ldrsb {b}, [{q}]",
                "add {q}, {q}, {step}",
                "add {t}, {a}, {b}, lsl #22",
                "str {t}, [{o}], #4",
                "ldrsb {a}, [{q}]",
                "add {q}, {q}, {step}",
                "add {t}, {b}, {a}, lsl #22",
                "str {t}, [{o}], #4",
                "cmp {o}, {end}",
                "bne 2b",
                q = inout(reg) src.as_ptr().add((n % 2) * step) => _,
                o = inout(reg) rest.as_mut_ptr() => _,
                step = in(reg) step,
                end = in(reg) rest.as_mut_ptr().add(rest.len()),
                a = inout(reg) a,
                b = out(reg) _, t = out(reg) _,
                options(nostack),
            );
        }
    }
    Some(a)
}

/// A band's packed rows for stride 1 inside the input, laid out for
/// [`pack_rows`]' loads: per row, the words of padding before the first
/// with an input value, the input values, the words of padding after the
/// word that ends the run, and the bytes from one input row to the next.
#[repr(C)]
struct SlideRows {
    head: u32,
    run: u32,
    after: u32,
    row_bytes: u32,
}

/// Packed rows of width `width` (stride 1) for the input rows at `src`,
/// `row_bytes` apart, whose `j`th value is `src[j x step]`: `left` (at
/// least 1) columns of the zero point `zp`, `inside` input values, then
/// the zero point. Word `k` is `v[k] + v[k + 1] x 2^22`, as
/// [`pack_slide`] computes it for one row, here every row in one loop.
/// False, writing nothing, where that does not apply: no padding before
/// the input, no input value, a row that does not hold both, or `src`
/// short of the rows.
pub(crate) fn pack_rows(
    src: &[u8],
    (step, row_bytes): (usize, usize),
    (left, inside): (usize, usize),
    zp: u32,
    width: usize,
    out: &mut [u32],
) -> bool {
    let rows = out.len() / width.max(1);
    if left == 0 || inside == 0 || left + inside > width || rows == 0 {
        return false;
    }
    let reads = (rows - 1) * row_bytes + (inside - 1) * step;
    let fits = |v: usize| u32::try_from(v).ok();
    let (Some(head), Some(run), Some(after), Some(bytes)) = (
        fits(left - 1),
        fits(inside),
        fits(width - left - inside),
        fits(row_bytes),
    ) else {
        return false;
    };
    if src.len() <= reads || out.len() != rows * width {
        return false;
    }
    let k = SlideRows {
        head,
        run,
        after,
        row_bytes: bytes,
    };
    // SAFETY: row r reads src[r row_bytes + j step] for j < inside, within
    // `reads`, and writes words r width..(r + 1) width of `out` (head +
    // run + 1 + after = width); the pointers advance past what was read
    // and written, the counters stop at zero; SUBS and CMP clobber the
    // flags.
    unsafe {
        asm!(
            "2:",
            "ldr {n}, [{k}]",
            "cmp {n}, #0",
            "beq 4f",
            "3:",
            "str {pad}, [{o}], #4",
            "subs {n}, {n}, #1",
            "bne 3b",
            "4:",
            "mov {a}, {zp}",
            "ldr {n}, [{k}, #4]",
            "mov {q}, {src}",
            "5:",
            "ldrsb {b}, [{q}]",
            "add {q}, {q}, {step}",
            "add {t}, {a}, {b}, lsl #22",
            "str {t}, [{o}], #4",
            "mov {a}, {b}",
            "subs {n}, {n}, #1",
            "bne 5b",
            "add {t}, {a}, {zp}, lsl #22",
            "str {t}, [{o}], #4",
            "ldr {n}, [{k}, #8]",
            "cmp {n}, #0",
            "beq 7f",
            "6:",
            "str {pad}, [{o}], #4",
            "subs {n}, {n}, #1",
            "bne 6b",
            "7:",
            "ldr {t}, [{k}, #12]",
            "add {src}, {src}, {t}",
            "subs {rows}, {rows}, #1",
            "bne 2b",
            k = in(reg) &k as *const SlideRows,
            src = inout(reg) src.as_ptr() => _,
            o = inout(reg) out.as_mut_ptr() => _,
            rows = inout(reg) rows => _,
            step = in(reg) step,
            zp = in(reg) zp,
            pad = in(reg) zp.wrapping_add(zp << 22),
            q = out(reg) _, a = out(reg) _, b = out(reg) _, t = out(reg) _, n = out(reg) _,
            options(nostack),
        );
    }
    true
}

/// One input byte into four units' sums: LDRSB of the byte, then per row
/// LDRSB and MLA; rows 1 and 3 at a register offset `d` from rows 0 and
/// 2, whose post-incremented loads come last.
#[cfg(any(not(arm_dsp), test))]
macro_rules! fc_byte {
    () => {
        concat!(
            "ldrsb {x}, [{px}], #1\n",
            "ldrsb {t}, [{p0}, {d}]\n",
            "mla {a1}, {t}, {x}, {a1}\n",
            "ldrsb {t}, [{p1}, {d}]\n",
            "mla {a3}, {t}, {x}, {a3}\n",
            "ldrsb {t}, [{p1}], #1\n",
            "mla {a2}, {t}, {x}, {a2}\n",
            "ldrsb {t}, [{p0}], #1\n",
            "mla {a0}, {t}, {x}, {a0}\n",
        )
    };
}

/// `[dot(x, r0), dot(x, r1), dot(x, r2), dot(x, r3)]` of int8 bytes, where
/// `rows` holds the four rows `r0..r3`, each as long as `x`, one after
/// another (a fully connected layer's weights): each input byte is loaded
/// once for four units. `None` when `rows` is shorter than four rows.
#[cfg(any(not(arm_dsp), test))]
pub(crate) fn dot4_rows(x: &[u8], rows: &[u8]) -> Option<[i32; 4]> {
    let n = x.len();
    let rows = rows.get(..n.checked_mul(4)?)?;
    let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
    let done = n - n % 4;
    if done > 0 {
        let (px, p0) = (x.as_ptr(), rows.as_ptr());
        // SAFETY: reads x[..done] and, for j in 0..4, row j's first `done`
        // bytes at p0 + j n: p1 is row 2, and rows 1 and 3 are p0 and p1
        // plus n. Every pointer advances by `done` bytes and stops where x
        // ends; CMP clobbers the flags.
        unsafe {
            asm!(
                "2:",
                fc_byte!(),
                fc_byte!(),
                fc_byte!(),
                fc_byte!(),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) px => _,
                p0 = inout(reg) p0 => _,
                p1 = inout(reg) p0.add(2 * n) => _,
                d = in(reg) n,
                end = in(reg) px.add(done),
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                x = out(reg) _, t = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    let mut sums = [a0, a1, a2, a3];
    if done == n {
        return Some(sums);
    }
    for (j, sum) in sums.iter_mut().enumerate() {
        let row = &rows[j * n + done..(j + 1) * n];
        for (&x, &w) in x[done..].iter().zip(row) {
            *sum = sum.wrapping_add(i32::from(x as i8) * i32::from(w as i8));
        }
    }
    Some(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot::tests::{bytes, dot_reference};

    #[test]
    fn four_row_dots_equal_the_definition_at_every_length() {
        for n in 0..=130 {
            for seed in 0..6 {
                let x = bytes(seed);
                let rows = [bytes(seed + 100), bytes(seed + 200)];
                let rows = [&rows[0][..2 * n], &rows[1][..2 * n]].concat();
                let want = [0, 1, 2, 3].map(|j| dot_reference(&x[..n], &rows[j * n..(j + 1) * n]));
                assert_eq!(dot4_rows(&x[..n], &rows), Some(want), "n {n} seed {seed}");
            }
        }
        let min = [0x80u8; 512];
        assert_eq!(dot4_rows(&min[..128], &min), Some([128 * 16384; 4]));
    }

    #[test]
    fn quad_dots_equal_the_definition_across_blocks() {
        let mut packed = [0u32; 1024];
        for n in (0..=300).chain([372, 373, 496, 512]) {
            for seed in 0..4 {
                let p = [0, 300, 600, 800].map(|k| bytes(seed + k));
                let w = bytes(seed + 700);
                let p = p.each_ref().map(|p| &p[..n]);
                pack_quad(p, &mut packed);
                let got = quad_dot(&packed[..quad_words(n)], &w[..n]);
                assert_eq!(
                    got,
                    p.map(|p| dot_reference(p, &w[..n])),
                    "n {n} seed {seed}"
                );
            }
        }
        // Every product at its extreme, 2^14 each: the largest block sums.
        let (min, max) = ([0x80u8; 512], [0x7Fu8; 512]);
        pack_quad([&min, &max, &max, &min], &mut packed);
        assert_eq!(
            quad_dot(&packed, &min),
            [512 * 16384, -512 * 16256, -512 * 16256, 512 * 16384]
        );
    }

    #[test]
    fn packed_rows_pad_and_pair_as_one_row_at_a_time_does() {
        let src = bytes(21);
        let zp = 0xFFFF_FF80u32;
        for case in 0..300usize {
            let (left, inside, extra) = (1 + case % 3, 1 + case / 3 % 6, case / 18 % 3);
            let (step, rows) = (1 + case % 4, 1 + case / 54 % 4);
            let width = left + inside + extra;
            let row_bytes = inside * step + case % 5;
            let mut want = alloc::vec::Vec::new();
            for r in 0..rows {
                let v = |k: usize| match k.checked_sub(left) {
                    Some(j) if j < inside => i32::from(src[r * row_bytes + j * step] as i8) as u32,
                    _ => zp,
                };
                want.extend((0..width).map(|k| v(k).wrapping_add(v(k + 1) << 22)));
            }
            let mut out = alloc::vec![0u32; rows * width];
            let reads = (rows - 1) * row_bytes + (inside - 1) * step + 1;
            let geometry = ((step, row_bytes), (left, inside));
            let what = alloc::format!("case {case} {geometry:?} rows {rows}");
            assert!(
                pack_rows(&src[..reads], geometry.0, geometry.1, zp, width, &mut out),
                "{what}"
            );
            assert_eq!(out, want, "{what}");
            assert!(!pack_rows(
                &src[..reads - 1],
                geometry.0,
                geometry.1,
                zp,
                width,
                &mut out
            ));
            assert!(!pack_rows(
                &src,
                geometry.0,
                (0, inside),
                zp,
                width,
                &mut out
            ));
        }
    }

    /// The definition [`Finish`] stands for: the rescale of the sum plus
    /// the folded constant, plus the offset, clamped.
    fn finished(r: &Rescale, folded: i32, offset: i32, (low, high): (i32, i32), sum: i32) -> u8 {
        let v = r.apply(sum.wrapping_add(folded)).wrapping_add(offset);
        v.max(low).min(high) as i8 as u8
    }

    #[test]
    fn finish_equals_the_rescale_wherever_it_is_taken() {
        let mut seed = 5u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        let range = (-128, 127);
        assert!(Finish::new(&Rescale::new(1 << 30, 1), 0, 0, range, 9).is_none());
        assert!(Finish::new(&Rescale::new(1 << 30, 0), 0, 0, range, 9).is_none());
        assert!(Finish::new(&Rescale::new(1 << 30, -1), 1 << 29, 0, range, 1 << 29).is_none());
        assert!(Finish::new(&Rescale::new(1 << 30, -1), 0, 1 << 20, range, 9).is_none());
        for right in 1..=31 {
            for multiplier in [0, 1, 1 << 30, i32::MAX - 1, i32::MAX, (next() >> 1) as i32] {
                let r = Rescale::new(multiplier, -right);
                let bound = next() % (1 << 24);
                let folded = (next() as i32) >> (2 + next() % 30);
                let offset = (next() % 256) as i32 - 128;
                let range = [(-128, 127), (offset, 127), (-20, 90)][(next() % 3) as usize];
                let Some(k) = Finish::new(&r, folded, offset, range, bound) else {
                    continue;
                };
                let b = bound as i32;
                for i in 0..300 {
                    let sum = match i {
                        0 => b,
                        1 => -b,
                        2 => 0,
                        _ => (next() % (2 * bound + 1)) as i32 - b,
                    };
                    let want = finished(&r, folded, offset, range, sum);
                    let what = alloc::format!("right {right} multiplier {multiplier} sum {sum}");
                    assert_eq!(finish(sum, &k), want, "{what}");
                    #[cfg(arm_dsp)]
                    assert_eq!(finish_m3(sum, &k), want, "M3 {what}");
                }
            }
        }
    }

    /// `rows` packed rows of `width` words, as depthwise_pairs.rs packs
    /// them: random int8 values `v`, word `k` of a row `v[k] + v[k +
    /// stride] x 2^22`.
    fn packed_rows(rows: usize, width: usize, stride: usize, seed: u32) -> alloc::vec::Vec<u32> {
        let v = bytes(seed);
        let v = |i: usize| i32::from(v[i % 512] as i8);
        let row = width + stride;
        (0..rows * width)
            .map(|i| {
                let at = i / width * row + i % width;
                (v(at) + (v(at + stride) << 22)) as u32
            })
            .collect()
    }

    #[test]
    fn depthwise_pairs_equal_the_taps_finished() {
        let mut seed = 9u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        for case in 0..300 {
            let (sy, sx) = (1 + case % 3, 1 + case / 3 % 3);
            let (ow, oc, rows) = (1 + case / 9 % 8, 1 + case % 4, 1 + case / 5 % 4);
            let width = (ow - 1) * sx + 3;
            let x = packed_rows((rows - 1) * sy + 3, width, sx, case as u32);
            let w = bytes(case as u32 + 77);
            let weights = core::array::from_fn(|i| i32::from(w[i] as i8) as u32);
            let r = Rescale::new((next() >> 1) as i32, -(1 + (next() % 31) as i32));
            let (folded, offset) = ((next() as i32) >> 12, (next() % 256) as i32 - 128);
            let range = [(-128, 127), (offset, 127), (-20, 90)][case % 3];
            let finish = Finish::new(&r, folded, offset, range, 9 << 14).unwrap();
            let want: alloc::vec::Vec<u8> = (0..rows * ow)
                .map(|o| {
                    let at = o / ow * sy * width + o % ow * sx;
                    let (lo, hi) = taps3x3(&x[at..], width, &weights);
                    finished(&r, folded, offset, range, split(lo, hi).0)
                })
                .collect();
            let grid = PairGrid {
                width,
                stride: (sy, sx),
                ow,
                oc,
            };
            let mut k = Pairs3x3::new(weights, finish, grid).unwrap();
            let what = alloc::format!("case {case} {grid:?} rows {rows}");
            let mut out = alloc::vec![0u8; rows * ow * oc];
            if ow == 1 {
                assert!(!pairs3x3(&mut k, &x, &mut out, rows), "{what}");
                let got: alloc::vec::Vec<u8> =
                    (0..rows).map(|r| k.single(&x[r * sy * width..])).collect();
                assert_eq!(got, want, "{what}");
                continue;
            }
            assert!(pairs3x3(&mut k, &x, &mut out, rows), "{what}");
            let got: alloc::vec::Vec<u8> = out.iter().step_by(oc).copied().collect();
            assert_eq!(got, want, "{what}");
            #[cfg(arm_dsp)]
            {
                let mut m3 = alloc::vec![0u8; rows * ow * oc];
                assert!(pairs3x3_m3(&mut k, &x, &mut m3, rows));
                assert_eq!(m3, out, "M3 {what}");
            }
            // The last pair (or single) starts at column 2 (ceil(ow / 2) - 1) sx.
            let reads = (rows - 1) * sy * width + 2 * (ow.div_ceil(2) - 1) * sx + 2 * width + 3;
            assert!(!pairs3x3(&mut k, &x[..reads - 1], &mut out, rows), "{what}");
            let writes = (rows * ow - 1) * oc;
            assert!(!pairs3x3(&mut k, &x, &mut out[..writes], rows), "{what}");
        }
    }

    #[test]
    fn packed_runs_pair_each_value_with_the_one_a_stride_ahead() {
        let src = bytes(3);
        let v = |j: usize, step: usize| i32::from(src[j * step] as i8) as u32;
        for step in 1..6 {
            for n in 0..40 {
                for stride in 2..4 {
                    let want: alloc::vec::Vec<u32> = (0..n)
                        .map(|j| v(j, step).wrapping_add(v(j + stride, step) << 22))
                        .collect();
                    let mut out = alloc::vec![0u32; n];
                    let reads = (n + stride - 1) * step + 1;
                    assert!(pack_run(&src[..reads], step, stride, &mut out));
                    assert_eq!(out, want, "step {step} stride {stride} n {n}");
                    if n > 0 {
                        assert!(!pack_run(&src[..reads - 1], step, stride, &mut out));
                    }
                }
                let before = 0xFFFF_FF85;
                let x = |j: usize| if j == 0 { before } else { v(j - 1, step) };
                let want: alloc::vec::Vec<u32> =
                    (0..n).map(|j| x(j).wrapping_add(x(j + 1) << 22)).collect();
                let mut out = alloc::vec![0u32; n];
                let reads = n.saturating_sub(1) * step + 1;
                let last = pack_slide(before, &src[..reads], step, &mut out);
                assert_eq!(out, want, "step {step} n {n}");
                assert_eq!(last, Some(x(n)), "step {step} n {n}");
                if n > 0 {
                    assert_eq!(pack_slide(before, &src[..reads - 1], step, &mut out), None);
                }
            }
        }
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
                    let four = [sum, sum ^ 1, sum.wrapping_neg(), sum >> 3];
                    let want4 = four.map(|sum| requant(sum, &k));
                    assert_eq!(requant4(four, &k), want4, "shift {shift} sum {sum}");
                }
            }
        }
    }
}
