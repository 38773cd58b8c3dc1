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
