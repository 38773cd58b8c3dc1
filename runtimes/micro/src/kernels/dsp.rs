//! Kernels for the Cortex-M4/M7 DSP extension (`thumbv7em`, cfg `arm_dsp`
//! from build.rs), in inline assembly through `core::arch::asm!`: the only
//! way to reach SXTB16 and SMLAD on stable Rust. Each instruction has one
//! safe wrapper, pure register arithmetic; the quad loop's blocks also
//! read memory, within the slices their safe wrapper checks. This, v7m.rs
//! and arena.rs are the crate's only `unsafe` modules.
#![allow(unsafe_code)]

use crate::kernels::v7m::Finish;
use core::arch::asm;
use core::mem::MaybeUninit;

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

/// Four output channels' sums of four pixels, `acc[j][k]`, plus every
/// tap `t` of `block` (four pixels' inputs, `block[t][k]`) times channel
/// `j`'s weight `t` (`weights[j]`, little-endian f32), each product added
/// with VFMA.F32, the FPv4-SP fused multiply-add (cfg `arm_vfma`): one
/// rounding. False, computing nothing, when a weight slice is short of
/// `block` or not word-aligned (VLDM needs aligned words).
#[cfg(arm_vfma)]
pub(crate) fn fused_block(
    block: &[[f32; 4]],
    weights: [&[u8]; 4],
    acc: &mut [[f32; 4]; 4],
) -> bool {
    let fits = |w: &[u8]| w.len() >= 4 * block.len() && (w.as_ptr() as usize).is_multiple_of(4);
    if block.is_empty() || !weights.iter().all(|w| fits(w)) {
        return block.is_empty();
    }
    let [w0, w1, w2, w3] = weights.map(<[u8]>::as_ptr);
    // Rust's `sreg` operands need a target feature stable Rust cannot
    // name, so the block saves the S registers it uses (s8-s31, callee-
    // and caller-saved alike) itself. s16-s31 hold `acc`; per tap one
    // VLDM takes the four inputs (s8-s11), four the channels' weights
    // (s12-s15), then sixteen VFMAs.
    // SAFETY: reads `block` (len taps) and `len` words of each weight
    // slice, checked above; reads and writes the 16 floats of `acc`; the
    // pushed registers are popped before the block ends.
    unsafe {
        asm!(
            "vpush {{d4-d15}}",
            "vldm {acc}, {{s16-s31}}",
            "2:",
            "vldmia {x}!, {{s8-s11}}",
            "vldmia {w0}!, {{s12}}",
            "vldmia {w1}!, {{s13}}",
            "vldmia {w2}!, {{s14}}",
            "vldmia {w3}!, {{s15}}",
            "vfma.f32 s16, s12, s8",
            "vfma.f32 s17, s12, s9",
            "vfma.f32 s18, s12, s10",
            "vfma.f32 s19, s12, s11",
            "vfma.f32 s20, s13, s8",
            "vfma.f32 s21, s13, s9",
            "vfma.f32 s22, s13, s10",
            "vfma.f32 s23, s13, s11",
            "vfma.f32 s24, s14, s8",
            "vfma.f32 s25, s14, s9",
            "vfma.f32 s26, s14, s10",
            "vfma.f32 s27, s14, s11",
            "vfma.f32 s28, s15, s8",
            "vfma.f32 s29, s15, s9",
            "vfma.f32 s30, s15, s10",
            "vfma.f32 s31, s15, s11",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstm {acc}, {{s16-s31}}",
            "vpop {{d4-d15}}",
            acc = in(reg) acc.as_mut_ptr(),
            x = inout(reg) block.as_ptr() => _,
            w0 = inout(reg) w0 => _,
            w1 = inout(reg) w1 => _,
            w2 = inout(reg) w2 => _,
            w3 = inout(reg) w3 => _,
            n = inout(reg) block.len() => _,
        );
    }
    true
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

/// Words [`pack_quad`] writes for patches of `len` bytes: eight per four
/// bytes, the last four zero-padded.
pub(crate) fn quad_words(len: usize) -> usize {
    8 * len.div_ceil(4)
}

/// Packs the patches of four output pixels for [`quad_dot`]: for each four
/// bytes of all four (zero-padded at the end), each pixel's even and odd
/// bytes as signed halfwords (SXTB16, SXTB16 ROR 8). Unpacked once per
/// four pixels, they serve every output channel.
pub(crate) fn pack_quad(p: [&[u8]; 4], out: &mut [u32]) {
    let len = p.iter().map(|p| p.len()).min().unwrap_or(0);
    for (g, o) in out.chunks_exact_mut(8).take(len.div_ceil(4)).enumerate() {
        for (pixel, o) in p.iter().zip(o.chunks_exact_mut(2)) {
            let w = match pixel.get(4 * g..4 * g + 4) {
                Some(bytes) => word(bytes),
                None => {
                    let tail = &pixel[4 * g..len];
                    u32::from_le_bytes([0, 1, 2, 3].map(|i| tail.get(i).copied().unwrap_or(0)))
                }
            };
            o[0] = sxtb16(w);
            o[1] = sxtb16_ror8(w);
        }
    }
}

/// One group of four weights against four packed pixels: the weights
/// loaded from `$wp` and unpacked (SXTB16, SXTB16 ROR 8) into `$w` and
/// `$t` once, then per pixel one LDM of its two halfword pairs and two
/// SMLADs.
#[rustfmt::skip]
macro_rules! quad_group_in {
    ($wp:literal, $w:literal, $t:literal) => {
        concat!(
            "ldr ", $w, ", [", $wp, "], #4\n",
            "sxtb16 ", $t, ", ", $w, "\n",
            "sxtb16 ", $w, ", ", $w, ", ror #8\n",
            "ldm {xp}!, {{r2, r3}}\n",
            "smlad {a0}, r2, ", $t, ", {a0}\n",
            "smlad {a0}, r3, ", $w, ", {a0}\n",
            "ldm {xp}!, {{r2, r3}}\n",
            "smlad {a1}, r2, ", $t, ", {a1}\n",
            "smlad {a1}, r3, ", $w, ", {a1}\n",
            "ldm {xp}!, {{r2, r3}}\n",
            "smlad {a2}, r2, ", $t, ", {a2}\n",
            "smlad {a2}, r3, ", $w, ", {a2}\n",
            "ldm {xp}!, {{r2, r3}}\n",
            "smlad {a3}, r2, ", $t, ", {a3}\n",
            "smlad {a3}, r3, ", $w, ", {a3}\n",
        )
    };
}

/// [`quad_group_in`] for [`quad_channel`], whose loop frees r0 (the
/// channel's pointer, pushed) and r6 (saved) to load two pixels' halfword
/// pairs per LDM (into r0, r2, r3, r6) from r1, the four sums in r9, r12,
/// lr and r11: per four weights one load, two SXTB16, two LDMs and eight
/// SMLADs, 13 instructions for 16 products.
#[rustfmt::skip]
macro_rules! quad_group_wide {
    () => {
        concat!(
            "ldr r8, [r4], #4\n",
            "sxtb16 r10, r8\n",
            "sxtb16 r8, r8, ror #8\n",
            "ldm r1!, {{r0, r2, r3, r6}}\n",
            "smlad r9, r0, r10, r9\n",
            "smlad r9, r2, r8, r9\n",
            "smlad r12, r3, r10, r12\n",
            "smlad r12, r6, r8, r12\n",
            "ldm r1!, {{r0, r2, r3, r6}}\n",
            "smlad lr, r0, r10, lr\n",
            "smlad lr, r2, r8, lr\n",
            "smlad r11, r3, r10, r11\n",
            "smlad r11, r6, r8, r11\n",
        )
    };
}

/// [`quad_group_in`] with the weight pointer and words in allocated
/// registers.
macro_rules! quad_group {
    () => {
        quad_group_in!("{wp}", "{w}", "{t}")
    };
}

/// `[dot(p0, w), dot(p1, w), dot(p2, w), dot(p3, w)]` over the bytes of
/// `w`, for four patches packed by [`pack_quad`]: per four weights one
/// load, two SXTB16 and, per pixel, one LDM and two SMLADs (15
/// instructions for 16 products), two groups an iteration.
#[inline(always)]
pub(crate) fn quad_dot(packed: &[u32], w: &[u8]) -> [i32; 4] {
    let groups = (packed.len() / 8).min(w.len() / 4);
    let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
    let (mut xp, mut wp) = (packed.as_ptr(), w.as_ptr());
    if groups % 2 == 1 {
        // SAFETY: reads words 0..8 of `packed` and bytes 0..4 of `w`, in
        // bounds as groups >= 1; r2, r3 are declared clobbered, the
        // pointers advance past what was read.
        unsafe {
            asm!(
                quad_group!(),
                xp = inout(reg) xp, wp = inout(reg) wp,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                w = out(reg) _, t = out(reg) _,
                out("r2") _, out("r3") _,
                options(nostack, readonly),
            );
        }
    }
    let pairs = groups / 2;
    if pairs > 0 {
        // SAFETY: reads the next 16 x pairs words of `packed` and 8 x pairs
        // bytes of `w`: with the group above, 8 x groups and 4 x groups, in
        // bounds by `groups`' definition. Same sums, two groups an
        // iteration; SUBS clobbers the flags.
        unsafe {
            asm!(
                "2:",
                quad_group!(),
                quad_group!(),
                "subs {n}, {n}, #1",
                "bne 2b",
                xp = inout(reg) xp => _, wp = inout(reg) wp => _,
                n = inout(reg) pairs => _,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                w = out(reg) _, t = out(reg) _,
                out("r2") _, out("r3") _,
                options(nostack, readonly),
            );
        }
    }
    let mut sums = [a0, a1, a2, a3];
    let tail = &w[(4 * groups).min(w.len())..];
    if let (1..=3, Some(last)) = (tail.len(), packed.get(8 * groups..8 * groups + 8)) {
        let mut t = [0u8; 4];
        t[..tail.len()].copy_from_slice(tail);
        let t = u32::from_le_bytes(t);
        let (even, odd) = (sxtb16(t), sxtb16_ror8(t));
        for (sum, x) in sums.iter_mut().zip(last.chunks_exact(2)) {
            *sum = smlad(x[1], odd, smlad(x[0], even, *sum));
        }
    }
    sums
}

/// One output channel of a convolution band for [`quad_channel`], laid
/// out for its loads: the channel's [`Finish`], then the output pointer
/// and the steps to a quad's second, third and fourth output, the end of
/// the band's whole quads, the filter and its weight groups in pairs,
/// rounded up.
#[repr(C)]
pub(crate) struct QuadChannel {
    finish: Finish,
    out: usize,
    steps: [u32; 3],
    end: usize,
    filter: usize,
    pairs: u32,
}

/// The body of [`quad_channel`]'s loop, `$entry` placed between the
/// accumulators' reset and the first weight group: nothing, or a branch
/// past the first group of the pair loop when the count of groups is odd;
/// each output clamped by `$clamp`.
#[rustfmt::skip]
macro_rules! quad_channel_loop {
    ($entry:literal, $clamp:ident) => {
        concat!(
            "push {{r6, r11}}\n",
            "2:\n",
            "ldr r4, [r0, #44]\n",
            "ldr r5, [r0, #48]\n",
            "mov r9, #0\n",
            "mov r12, #0\n",
            "mov lr, #0\n",
            "mov r11, #0\n",
            "push {{r0}}\n",
            $entry,
            "3:\n",
            quad_group_wide!(),
            "4:\n",
            quad_group_wide!(),
            "subs r5, r5, #1\n",
            "bne 3b\n",
            "pop {{r0}}\n",
            "ldm r0, {{r2, r3, r4, r5, r8, r10}}\n",
            finish_smmulr!("r9", "r2", $clamp),
            finish_smmulr!("r12", "r2", $clamp),
            finish_smmulr!("lr", "r2", $clamp),
            finish_smmulr!("r11", "r2", $clamp),
            "add r2, r0, #24\n",
            "ldm r2, {{r2, r3, r4, r5}}\n",
            "strb r9, [r2]\n",
            "strb r12, [r2, r3]\n",
            "strb lr, [r2, r4]\n",
            "strb r11, [r2, r5]\n",
            "add r2, r2, r3, lsl #2\n",
            "str r2, [r0, #24]\n",
            "ldr r3, [r0, #40]\n",
            "cmp r2, r3\n",
            "bne 2b\n",
            "pop {{r6, r11}}\n",
        )
    };
}

/// [`quad_channel_loop`] as one `asm!` with its operands: the channel
/// `$k` (a `*mut QuadChannel`, in r0) and the packed quads `$xp`.
macro_rules! quad_channel_asm {
    ($entry:literal, $clamp:ident, $k:ident, $xp:ident) => {
        asm!(
            quad_channel_loop!($entry, $clamp),
            in("r0") $k, inout("r1") $xp => _,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _,
            out("r8") _, out("r9") _, out("r10") _, out("r12") _, out("lr") _,
        )
    };
}

/// Every whole quad of a band against one filter of `len` weights, the
/// first `len` bytes of `w`, requantised by `finish` into `out[4 q oc + j
/// oc]` (pixel j of quad q): per quad, the [`quad_dot`] loop, four
/// [`Finish`]es and four stores, all in one assembly loop. A length off
/// four reads its last group's weights on into `w` past `len` (the next
/// filter's), which the packed patches' zero padding multiplies by zero.
/// False, computing nothing, where `w` ends before the last group, or
/// slices are short of the quads.
pub(crate) fn quad_channel(
    packed: &[u32],
    w: &[u8],
    len: usize,
    finish: Finish,
    out: &mut [u8],
    oc: usize,
) -> bool {
    let groups = len.div_ceil(4);
    let words = quad_words(len);
    if groups == 0 || w.len() < 4 * groups || !packed.len().is_multiple_of(words) {
        return packed.is_empty();
    }
    let quads = packed.len() / words;
    if quads == 0 {
        return true;
    }
    if out.len() <= (4 * quads - 1) * oc {
        return false;
    }
    let (Ok(oc32), Ok(pairs)) = (u32::try_from(oc), u32::try_from(groups.div_ceil(2))) else {
        return false;
    };
    let at = out.as_mut_ptr() as usize;
    let mut k = QuadChannel {
        finish,
        out: at,
        steps: [oc32, 2 * oc32, 3 * oc32],
        end: at + 4 * quads * oc,
        filter: w.as_ptr() as usize,
        pairs,
    };
    // SAFETY (every form of the loop): quad q reads packed[q words..(q + 1) words]
    // (the pointer runs on from quad to quad) and the first 4 x groups
    // bytes of `w` (an odd count enters the pair loop at its second
    // group), and writes out[4 q oc + j oc] for j in 0..4: in bounds by
    // the checks above. The weight pointer (r4) restarts from `k.filter`
    // each quad; the output pointer is kept in `k` and stops at `k.end`.
    // Every register is named, none allocated: r1-r5, r8-r10, r12 and lr
    // are declared clobbered; r0 (the channel, an input) is pushed while
    // the dot loop loads into it, and r6 and r11 (which Rust reserves on
    // some ARM targets, so it can name neither) are pushed before the loop
    // and popped after; SUBS, CMP and SMLAD clobber the flags.
    let saturates = finish.saturates_int8();
    let (k, xp) = (&mut k as *mut QuadChannel, packed.as_ptr());
    unsafe {
        match (groups % 2 == 1, saturates) {
            (true, true) => quad_channel_asm!("b 4f\n", clamp_int8, k, xp),
            (true, false) => quad_channel_asm!("b 4f\n", clamp_range, k, xp),
            (false, true) => quad_channel_asm!("", clamp_int8, k, xp),
            (false, false) => quad_channel_asm!("", clamp_range, k, xp),
        }
    }
    true
}

/// One weight word of one row into its unit's sum `$a`: the load from
/// `$at`, its even and odd bytes unpacked (SXTB16, SXTB16 ROR 8) and two
/// SMLADs against the input's unpacked pairs `$xe`, `$xo`.
#[rustfmt::skip]
macro_rules! fc_row {
    ($at:literal, $a:literal, $xe:literal, $xo:literal) => {
        concat!(
            "ldr {w}, ", $at, "\n",
            "sxtb16 {t}, {w}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad ", $a, ", {t}, ", $xe, ", ", $a, "\n",
            "smlad ", $a, ", {w}, ", $xo, ", ", $a, "\n",
        )
    };
}

/// The four rows' words against one unpacked input word: rows 1 and 3 at
/// a register offset `d` from rows 0 and 2, whose post-incremented loads
/// come last.
macro_rules! fc_rows {
    ($xe:literal, $xo:literal) => {
        concat!(
            fc_row!("[{p0}, {d}]", "{a1}", $xe, $xo),
            fc_row!("[{p1}, {d}]", "{a3}", $xe, $xo),
            fc_row!("[{p1}], #4", "{a2}", $xe, $xo),
            fc_row!("[{p0}], #4", "{a0}", $xe, $xo),
        )
    };
}

/// One input word into four units' sums: the word's even and odd bytes
/// unpacked (SXTB16, SXTB16 ROR 8) once, then [`fc_rows`].
macro_rules! fc_word {
    () => {
        concat!(
            "ldr {xo}, [{px}], #4\n",
            "sxtb16 {xe}, {xo}\n",
            "sxtb16 {xo}, {xo}, ror #8\n",
            fc_rows!("{xe}", "{xo}"),
        )
    };
}

/// `[dot(x, r0), dot(x, r1), dot(x, r2), dot(x, r3)]` of int8 bytes, where
/// `rows` holds the four rows `r0..r3`, each as long as `x`, one after
/// another (a fully connected layer's weights): per eight input bytes, 46
/// instructions for 32 products, and the loop's end test. `None` when
/// `rows` is shorter than four rows.
pub(crate) fn dot4_rows(x: &[u8], rows: &[u8]) -> Option<[i32; 4]> {
    let n = x.len();
    let rows = rows.get(..n.checked_mul(4)?)?;
    let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
    let done = n - n % 8;
    if done > 0 {
        let (px, p0) = (x.as_ptr(), rows.as_ptr());
        // SAFETY: reads x[..done] and, for j in 0..4, row j's first `done`
        // bytes at p0 + j n: p1 is row 2, and rows 1 and 3 are p0 and p1
        // plus n. Every pointer advances by `done` bytes and stops where x
        // ends. Twelve registers hold the pointers, the unpacked words and
        // the sums, so the end is pushed and compared from the stack, which
        // is restored; CMP and SMLAD clobber the flags.
        unsafe {
            asm!(
                "push {{{t}}}",
                "2:",
                fc_word!(),
                fc_word!(),
                "ldr {t}, [sp]",
                "cmp {px}, {t}",
                "bne 2b",
                "add sp, sp, #4",
                px = inout(reg) px => _,
                p0 = inout(reg) p0 => _,
                p1 = inout(reg) p0.add(2 * n) => _,
                d = in(reg) n,
                t = inout(reg) px.add(done) => _,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                xe = out(reg) _, xo = out(reg) _, w = out(reg) _,
                options(readonly),
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

/// Most input bytes [`unpack_input`] takes: 2 KiB of stack in the fully
/// connected layer, less than the convolutions' frames, so the firmware's
/// deepest stack stays where it was.
pub(crate) const UNPACKED_BYTES: usize = 1024;

/// Unpacks `x` for [`dot4_unpacked`]: per four bytes (zero-padded at the
/// end), the even bytes (SXTB16) then the odd ones (SXTB16 ROR 8) as
/// signed halfwords. `None` when `out` is too short. `out` need not be
/// initialised: zeroing 2 KiB of stack for every layer would cost more
/// than the unpacking saves.
pub(crate) fn unpack_input<'o>(x: &[u8], out: &'o mut [MaybeUninit<u32>]) -> Option<&'o [u32]> {
    let out = out.get_mut(..2 * x.len().div_ceil(4))?;
    let words = x.chunks_exact(4);
    let mut last = [0u8; 4];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    let words = words
        .map(word)
        .chain((!x.len().is_multiple_of(4)).then(|| u32::from_le_bytes(last)));
    for (pair, w) in out.chunks_exact_mut(2).zip(words) {
        pair[0].write(sxtb16(w));
        pair[1].write(sxtb16_ror8(w));
    }
    // SAFETY: the loop wrote every word of `out`, two per chunk of four
    // bytes of `x`, of which there are `out.len() / 2`.
    Some(unsafe { core::slice::from_raw_parts(out.as_ptr().cast::<u32>(), out.len()) })
}

/// One input word, unpacked by [`unpack_input`], into four units' sums:
/// one LDM of its halfword pairs (r2, r3), then [`fc_rows`].
macro_rules! fc_unpacked_word {
    () => {
        concat!("ldm {px}!, {{r2, r3}}\n", fc_rows!("r2", "r3"))
    };
}

/// [`dot4_rows`] with the input also unpacked (`unpacked`, from
/// [`unpack_input`] of `x`): per four input bytes, 21 instructions for 16
/// products, four words an iteration, then two more where eight bytes
/// remain. `None` when `rows` is shorter than four rows or `unpacked`
/// than `x` unpacked.
pub(crate) fn dot4_unpacked(x: &[u8], unpacked: &[u32], rows: &[u8]) -> Option<[i32; 4]> {
    let n = x.len();
    let rows = rows.get(..n.checked_mul(4)?)?;
    let (bulk, done) = (n - n % 16, n - n % 8);
    let unpacked = unpacked.get(..done / 2)?;
    let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
    let (mut px, mut p0) = (unpacked.as_ptr(), rows.as_ptr());
    // SAFETY (both blocks): rows start at p0 + j n for j in 0..4; p1 is row
    // 2, and rows 1 and 3 are p0 and p1 plus n. The pointers advance past
    // what is read: unpacked[..bulk / 2] and each row's first `bulk` bytes
    // in the loop, then up to done / 2 and `done` bytes. LDM needs the
    // word alignment `unpacked` has. CMP and SMLAD clobber the flags.
    let mut p1 = unsafe { p0.add(2 * n) };
    if bulk > 0 {
        // The end is pushed and compared from the stack, which is
        // restored: twelve registers hold the pointers, words and sums.
        unsafe {
            asm!(
                "push {{{t}}}",
                "2:",
                fc_unpacked_word!(),
                fc_unpacked_word!(),
                fc_unpacked_word!(),
                fc_unpacked_word!(),
                "ldr {t}, [sp]",
                "cmp {px}, {t}",
                "bne 2b",
                "add sp, sp, #4",
                px = inout(reg) px,
                p0 = inout(reg) p0,
                p1 = inout(reg) p1,
                d = in(reg) n,
                t = inout(reg) px.add(bulk / 2) => _,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                w = out(reg) _, out("r2") _, out("r3") _,
                options(readonly),
            );
        }
    }
    if done > bulk {
        unsafe {
            asm!(
                fc_unpacked_word!(),
                fc_unpacked_word!(),
                px = inout(reg) px => _,
                p0 = inout(reg) p0 => _,
                p1 = inout(reg) p1 => _,
                d = in(reg) n,
                a0 = inout(reg) a0, a1 = inout(reg) a1,
                a2 = inout(reg) a2, a3 = inout(reg) a3,
                w = out(reg) _, t = out(reg) _, out("r2") _, out("r3") _,
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
    fn four_row_dots_equal_the_definition_unpacked_or_not() {
        let mut work = [MaybeUninit::uninit(); UNPACKED_BYTES / 2];
        for n in 0..=130 {
            for seed in 0..6 {
                let x = bytes(seed);
                let rows = [bytes(seed + 100), bytes(seed + 200)];
                let rows = [&rows[0][..2 * n], &rows[1][..2 * n]].concat();
                let want = [0, 1, 2, 3].map(|j| dot_reference(&x[..n], &rows[j * n..(j + 1) * n]));
                assert_eq!(dot4_rows(&x[..n], &rows), Some(want), "n {n} seed {seed}");
                let unpacked = unpack_input(&x[..n], &mut work).unwrap();
                let got = dot4_unpacked(&x[..n], unpacked, &rows);
                assert_eq!(got, Some(want), "n {n} seed {seed}");
            }
        }
        let min = [0x80u8; 4 * UNPACKED_BYTES];
        let unpacked = unpack_input(&min[..UNPACKED_BYTES], &mut work).unwrap();
        let all = Some([UNPACKED_BYTES as i32 * 16384; 4]);
        assert_eq!(dot4_unpacked(&min[..UNPACKED_BYTES], unpacked, &min), all);
        assert_eq!(unpack_input(&min[..UNPACKED_BYTES + 1], &mut work), None);
    }

    #[test]
    fn quad_dots_equal_the_definition_at_every_length() {
        let mut packed = [0u32; 1024];
        for n in 0..=300 {
            for seed in 0..6 {
                let p = [0, 300, 500, 700].map(|k| bytes(seed + k));
                let w = bytes(seed + 900);
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
        let min = [0x80u8; 512];
        pack_quad([&min; 4], &mut packed);
        assert_eq!(quad_dot(&packed, &min), [512 * 16384; 4]);
    }
}
