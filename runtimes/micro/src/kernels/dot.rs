//! Integer dot products and sums of int8 bytes, the inner loops of the
//! convolutions and fully connected layers. Sums wrap, so any order of
//! accumulation gives the same result; the DSP kernels (dsp.rs, Cortex-M4
//! and M7) reorder them, the portable ones are the reference the board
//! goldens hold them to.

/// `sum(a[i] * b[i])` of int8 bytes (wrapping).
#[inline(always)]
pub(crate) fn dot_i8(a: &[u8], b: &[u8]) -> i32 {
    #[cfg(arm_dsp)]
    {
        crate::kernels::dsp::dot_i8(a, b)
    }
    #[cfg(not(arm_dsp))]
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
    #[cfg(not(arm_dsp))]
    {
        let lanes = x.iter().zip(a).zip(b);
        lanes.fold((0i32, 0i32), |(sa, sb), ((&x, &a), &b)| {
            let x = i32::from(x as i8);
            (
                sa.wrapping_add(x * i32::from(a as i8)),
                sb.wrapping_add(x * i32::from(b as i8)),
            )
        })
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

/// `acc[j] += x[j] * w[j]` for four int8 lanes (four channels side by
/// side, as a depthwise convolution's).
#[inline(always)]
pub(crate) fn mac4(acc: &mut [i32; 4], x: &[u8], w: &[u8]) {
    #[cfg(arm_dsp)]
    {
        crate::kernels::dsp::mac4(acc, x, w);
    }
    #[cfg(not(arm_dsp))]
    {
        for ((a, &x), &w) in acc.iter_mut().zip(x).zip(w) {
            *a = a.wrapping_add(i32::from(x as i8) * i32::from(w as i8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every product, in order, wrapping.
    fn dot_reference(a: &[u8], b: &[u8]) -> i32 {
        a.iter().zip(b).fold(0i32, |acc, (&x, &w)| {
            acc.wrapping_add(i32::from(x as i8) * i32::from(w as i8))
        })
    }

    /// 512 bytes of a linear congruential walk, with the extremes -128,
    /// 127, 0 and -1 mixed in.
    fn bytes(mut seed: u32) -> [u8; 512] {
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
            let (x, w) = (&x[..4], &w[..4]);
            let mut got = [i32::MAX - 5, -3, i32::MIN + 7, 11];
            let mut want = got;
            mac4(&mut got, x, w);
            for ((a, &x), &w) in want.iter_mut().zip(x).zip(w) {
                *a = a.wrapping_add(i32::from(x as i8) * i32::from(w as i8));
            }
            assert_eq!(got, want, "seed {seed}");
        }
    }
}
