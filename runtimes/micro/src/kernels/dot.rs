//! Integer dot products and sums of int8 bytes, the inner loops of the
//! convolutions and fully connected layers. Sums wrap, so any order of
//! accumulation gives the same result; the DSP kernels (dsp.rs, Cortex-M4
//! and M7) reorder them, the Cortex-M0+'s (v6m.rs) keep their sums in high
//! registers, the portable ones are the reference the board goldens hold
//! them to.

use core::mem::MaybeUninit;

/// `sum(a[i] * b[i])` of int8 bytes (wrapping).
#[inline(always)]
pub(crate) fn dot_i8(a: &[u8], b: &[u8]) -> i32 {
    #[cfg(arm_dsp)]
    {
        crate::kernels::dsp::dot_i8(a, b)
    }
    #[cfg(arm_v6m)]
    {
        crate::kernels::v6m::dot_i8(a, b)
    }
    #[cfg(not(any(arm_dsp, arm_v6m)))]
    {
        a.iter().zip(b).fold(0i32, |acc, (&x, &w)| {
            acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
        })
    }
}

/// `(dot_i8(x, a), dot_i8(x, b))`: two filters against one input, which is
/// read once.
#[inline(always)]
pub(crate) fn dot2_i8(x: &[u8], a: &[u8], b: &[u8]) -> (i32, i32) {
    #[cfg(arm_dsp)]
    {
        crate::kernels::dsp::dot2_i8(x, a, b)
    }
    #[cfg(arm_v6m)]
    {
        crate::kernels::v6m::dot2_i8(x, a, b)
    }
    #[cfg(all(target_arch = "arm", not(any(arm_dsp, arm_v6m))))]
    {
        // A Cortex-M3: one pass, each input byte loaded once.
        let lanes = x.iter().zip(a).zip(b);
        lanes.fold((0i32, 0i32), |(sa, sb), ((&x, &a), &b)| {
            let x = i32::from(x as i8);
            (
                sa.wrapping_add(x * i32::from(a as i8)),
                sb.wrapping_add(x * i32::from(b as i8)),
            )
        })
    }
    #[cfg(not(target_arch = "arm"))]
    {
        // A host: two separate reductions, each of which compilers vectorise.
        (dot_i8(x, a), dot_i8(x, b))
    }
}

/// Words of working memory a [`Dot4Input`] unpacks its bytes into: on
/// Cortex-M4/M7, halfwords for up to `dsp::UNPACKED_BYTES` input bytes;
/// elsewhere none.
#[cfg(arm_dsp)]
pub(crate) const UNPACKED_WORDS: usize = crate::kernels::dsp::UNPACKED_BYTES / 2;
/// Words of working memory a [`Dot4Input`] unpacks its bytes into: on
/// Cortex-M4/M7, halfwords for up to `dsp::UNPACKED_BYTES` input bytes;
/// elsewhere none.
#[cfg(not(arm_dsp))]
pub(crate) const UNPACKED_WORDS: usize = 0;

/// An input vector for [`dot4_rows`], shared by all the units of a fully
/// connected layer: on Cortex-M4/M7 its bytes are unpacked to halfwords
/// once, not once per four units (when it fits [`UNPACKED_WORDS`]).
pub(crate) struct Dot4Input<'x> {
    x: &'x [u8],
    #[cfg(arm_dsp)]
    unpacked: Option<&'x [u32]>,
}

impl<'x> Dot4Input<'x> {
    /// The input `x`, unpacked into `work` where the core gains by it.
    pub(crate) fn new(x: &'x [u8], work: &'x mut [MaybeUninit<u32>; UNPACKED_WORDS]) -> Self {
        #[cfg(arm_dsp)]
        {
            let unpacked = crate::kernels::dsp::unpack_input(x, work);
            Dot4Input { x, unpacked }
        }
        #[cfg(not(arm_dsp))]
        {
            let _ = work;
            Dot4Input { x }
        }
    }
}

/// `[dot_i8(x, r0), .., dot_i8(x, r3)]` for four rows as long as `x`, one
/// after another in `rows` (four units of a fully connected layer), with
/// each input byte loaded once on ARMv7 cores (dsp.rs, v7m.rs). `None` when
/// `rows` is shorter than four rows.
#[inline(always)]
pub(crate) fn dot4_rows(input: &Dot4Input<'_>, rows: &[u8]) -> Option<[i32; 4]> {
    let x = input.x;
    #[cfg(arm_dsp)]
    {
        match input.unpacked {
            Some(unpacked) => crate::kernels::dsp::dot4_unpacked(x, unpacked, rows),
            None => crate::kernels::dsp::dot4_rows(x, rows),
        }
    }
    #[cfg(all(arm_v7, not(arm_dsp)))]
    {
        crate::kernels::v7m::dot4_rows(x, rows)
    }
    #[cfg(not(arm_v7))]
    {
        let n = x.len();
        let rows = rows.get(..n.checked_mul(4)?)?;
        let (a, b) = dot2_i8(x, &rows[..n], &rows[n..2 * n]);
        let (c, d) = dot2_i8(x, &rows[2 * n..3 * n], &rows[3 * n..]);
        Some([a, b, c, d])
    }
}

/// `sum(a[i])` of int8 bytes.
#[inline(always)]
pub(crate) fn sum_i8(a: &[u8]) -> i32 {
    a.iter()
        .fold(0i32, |acc, &x| acc.wrapping_add(i32::from(x as i8)))
}

/// `(sum(a[i] * b[i]), sum(b[i]))` of int8 bytes in one pass.
#[inline(always)]
pub(crate) fn dot_and_sum_i8(a: &[u8], b: &[u8]) -> (i32, i32) {
    a.iter().zip(b).fold((0i32, 0i32), |(dot, sum), (&x, &w)| {
        let w = i32::from(w as i8);
        (
            dot.wrapping_add(i32::from(x as i8) * w),
            sum.wrapping_add(w),
        )
    })
}

/// Four int8 bytes at `i` as one little-endian word (0 past the end, which
/// the kernels' checked shapes never reach).
#[inline(always)]
pub(crate) fn word_at(data: &[u8], i: usize) -> u32 {
    match data.get(i..).and_then(|d| d.first_chunk::<4>()) {
        Some(b) => u32::from_le_bytes(*b),
        None => 0,
    }
}

/// `acc[j] + x[j] * w[j]` for the four int8 lanes of words `x` and `w`
/// (four channels side by side, as a depthwise convolution's).
#[inline(always)]
pub(crate) fn mac4(acc: [i32; 4], x: u32, w: u32) -> [i32; 4] {
    #[cfg(arm_dsp)]
    {
        crate::kernels::dsp::mac4(acc, x, w)
    }
    #[cfg(not(arm_dsp))]
    {
        let lane = |v: u32, j: u32| i32::from((v >> (8 * j)) as u8 as i8);
        let mut out = acc;
        for (j, a) in (0u32..).zip(out.iter_mut()) {
            *a = a.wrapping_add(lane(x, j) * lane(w, j));
        }
        out
    }
}

/// `acc[j] + w[j]` for the four int8 lanes of word `w`.
#[inline(always)]
pub(crate) fn add4(acc: [i32; 4], w: u32) -> [i32; 4] {
    let lane = |j: u32| i32::from((w >> (8 * j)) as u8 as i8);
    [
        acc[0].wrapping_add(lane(0)),
        acc[1].wrapping_add(lane(1)),
        acc[2].wrapping_add(lane(2)),
        acc[3].wrapping_add(lane(3)),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The definition: every product, in order, wrapping.
    pub(crate) fn dot_reference(a: &[u8], b: &[u8]) -> i32 {
        a.iter().zip(b).fold(0i32, |acc, (&x, &w)| {
            acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
        })
    }

    /// A linear congruential walk, for random shapes and parameters (the
    /// kernels' property tests).
    pub(crate) struct Walk(pub(crate) u32);

    impl Walk {
        /// The next 24 random bits.
        pub(crate) fn next(&mut self) -> u32 {
            self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            self.0 >> 8
        }
        /// A number below `n`.
        pub(crate) fn below(&mut self, n: usize) -> usize {
            self.next() as usize % n
        }
        /// One of `of`.
        pub(crate) fn pick<T: Copy>(&mut self, of: &[T]) -> T {
            of[self.below(of.len())]
        }
        /// `n` channel rescales with multipliers near 2^31 or from 2^30
        /// up, shifts at the extremes -31 and 30 or small.
        #[cfg(arm_v7)]
        pub(crate) fn rescales(&mut self, n: usize) -> alloc::vec::Vec<crate::rescale::Rescale> {
            (0..n)
                .map(|_| {
                    let near = (1 << 30) + self.below(1 << 30) as i32;
                    let multiplier = self.pick(&[i32::MAX, near]);
                    let small = -(self.below(12) as i32);
                    let shift = self.pick(&[-31, 30, -1, 0, small, small]);
                    crate::rescale::Rescale::new(multiplier, shift)
                })
                .collect()
        }
    }

    /// 512 bytes of a linear congruential walk, with the extremes -128,
    /// 127, 0 and -1 mixed in.
    pub(crate) fn bytes(mut seed: u32) -> [u8; 512] {
        let mut data = [0u8; 512];
        for (i, d) in data.iter_mut().enumerate() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *d = match (seed >> 28) % 8 {
                0 => 0x80,
                1 => 0x7F,
                2 => 0,
                3 => 0xFF,
                _ => (seed >> 8) as u8 ^ i as u8,
            };
        }
        data
    }

    #[test]
    fn the_dot_products_equal_the_definition_at_every_length() {
        for n in 0..=67 {
            for seed in 0..40 {
                let (x, a, b) = (bytes(seed), bytes(seed + 1000), bytes(seed + 2000));
                let (x, a, b) = (&x[..n], &a[..n], &b[..n]);
                assert_eq!(dot_i8(x, a), dot_reference(x, a), "n {n} seed {seed}");
                let want = (dot_reference(x, a), dot_reference(x, b));
                assert_eq!(dot2_i8(x, a, b), want, "n {n} seed {seed}");
                let (dot, sum) = dot_and_sum_i8(x, a);
                assert_eq!((dot, sum), (dot_reference(x, a), sum_i8(a)));
                let rows = [bytes(seed + 3000), bytes(seed + 4000)];
                let rows = [&rows[0][..2 * n], &rows[1][..2 * n]].concat();
                let want = [0, 1, 2, 3].map(|j| dot_reference(x, &rows[j * n..(j + 1) * n]));
                let mut work = [MaybeUninit::uninit(); UNPACKED_WORDS];
                let input = Dot4Input::new(x, &mut work);
                assert_eq!(dot4_rows(&input, &rows), Some(want), "n {n} seed {seed}");
                if n > 0 {
                    assert_eq!(dot4_rows(&input, &rows[..4 * n - 1]), None);
                }
            }
        }
        // All extremes: 512 products of -128 x -128 sum to 2^23.
        let min = [0x80u8; 512];
        assert_eq!(dot_i8(&min, &min), 512 * 16384);
    }

    #[test]
    fn four_lane_macs_equal_the_definition() {
        for seed in 0..2000 {
            let (x, w) = (bytes(seed), bytes(seed + 7));
            let (xw, ww) = (word_at(&x, 0), word_at(&w, 0));
            let acc = [i32::MAX - 5, -3, i32::MIN + 7, 11];
            let mut want = acc;
            let mut sums = acc;
            for j in 0..4 {
                let (x, w) = (i32::from(x[j] as i8), i32::from(w[j] as i8));
                want[j] = want[j].wrapping_add(x * w);
                sums[j] = sums[j].wrapping_add(w);
            }
            assert_eq!(mac4(acc, xw, ww), want, "seed {seed}");
            assert_eq!(add4(acc, ww), sums, "seed {seed}");
        }
        assert_eq!(word_at(&[1, 2, 3], 0), 0, "past the end");
    }
}
