//! One output channel's requantisation, prepared once at load:
//! TFLite's `MultiplyByQuantizedMultiplier` (a rounding doubling high
//! multiply, then a rounding division by a power of two) in one 64-bit
//! multiply-accumulate and one shift, with the same result for every
//! input.
//!
//! Why it is exact. With `P = x * m` (the multiplier `m` is never
//! negative), the high multiply is `h = floor((P + 2^30) / 2^31)` and the
//! division by `2^e` rounding half away from zero is `floor((h + 2^(e-1) -
//! [h < 0]) / 2^e)`. Nested floors of integer divisions merge:
//! `floor((floor(a / b) + c) / d) = floor((a + c b) / (b d))`, so the result
//! is `floor((P + 2^30 + 2^(30+e) - [h < 0] 2^31) / 2^(31+e))`. `h < 0`
//! exactly when `x < 0`, except when `-2^30 <= P < 0`, where `h = 0` and
//! subtracting `2^31` still floors to 0. The shift by `31 + e >= 32` is
//! a shift of the high word by `e - 1`. On a Cortex-M that is SMLAL, an
//! arithmetic shift and a 64-bit add for the sign: about 6 instructions
//! against about 15 for the two-step form.

use crate::quant::quantize_multiplier;

/// TFLite's multiplier and shift of one channel: 8 bytes, as every
/// channel of every layer keeps one in the arena (the single-multiply
/// form's constant follows from the right shift, [`Rescale::round`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescale {
    /// The Q31 multiplier, `0..2^31`.
    multiplier: i32,
    /// The left shift applied to the accumulator first, `0..=31`.
    left: u8,
    /// The rounding right shift, `0..=31`.
    right: u8,
}

impl Rescale {
    /// The rescale of TFLite's `(multiplier, shift)`, as
    /// [`quantize_multiplier`] gives them (a negative multiplier, which it
    /// never gives, is taken as 0).
    pub fn new(multiplier: i32, shift: i32) -> Self {
        let left = shift.clamp(0, 31) as u8;
        let right = shift.saturating_neg().clamp(0, 31) as u8;
        Rescale {
            multiplier: multiplier.max(0),
            left,
            right,
        }
    }

    /// The rescale of a real multiplier (`input scale x weight scale /
    /// output scale`).
    pub fn of_real(real: f64) -> Self {
        let (multiplier, shift) = quantize_multiplier(real);
        Rescale::new(multiplier, shift)
    }

    /// The single-multiply form's rounding constant: `2^30 + 2^(30 +
    /// right)`, just `2^30` when `right` is 0.
    /// Built from 32-bit shifts, as a Cortex-M3 has no 64-bit shift: the
    /// high word is `2^(right - 2)` (none below 2), and `2^31` joins the
    /// low word when `right` is 1.
    #[inline(always)]
    fn round(&self) -> i64 {
        let right = u32::from(self.right);
        let hi = (1u32 << right) >> 2;
        let lo = (1u32 << 30) | (u32::from(right == 1) << 31);
        (i64::from(hi) << 32) | i64::from(lo)
    }

    /// The Q31 multiplier.
    pub fn multiplier(&self) -> i32 {
        self.multiplier
    }

    /// The single-multiply form's parts: the rounding constant, the
    /// multiplier, the left shift and the right shift, for kernels that
    /// apply it in assembly (v7m.rs).
    #[cfg(arm_v7)]
    pub(crate) fn parts(&self) -> (i64, i32, u32, u32) {
        (
            self.round(),
            self.multiplier,
            u32::from(self.left),
            u32::from(self.right),
        )
    }

    /// The left and right shifts, each `0..=31`, for the Cortex-M0+'s
    /// requantisation in 32-bit multiplies (v6m.rs).
    #[cfg(any(arm_v6m, test))]
    pub(crate) fn shifts(&self) -> (u32, u32) {
        (u32::from(self.left), u32::from(self.right))
    }

    /// TFLite's shift: positive to the left, negative to the right.
    pub fn shift(&self) -> i32 {
        i32::from(self.left) - i32::from(self.right)
    }

    /// `MultiplyByQuantizedMultiplier(x, multiplier, shift)`.
    #[inline(always)]
    pub fn apply(&self, x: i32) -> i32 {
        let x = x.wrapping_shl(u32::from(self.left));
        let p = i64::from(x) * i64::from(self.multiplier) + self.round();
        if self.right == 0 {
            return (p >> 31) as i32;
        }
        let p = p + (i64::from(x >> 31) << 31);
        ((p >> 32) as i32) >> (self.right - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::multiply_by_quantized_multiplier;

    /// Accumulators from a linear congruential walk, with the extremes.
    fn accumulators(mut seed: u32) -> impl Iterator<Item = i32> {
        let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX - 1, i32::MAX];
        edges.into_iter().chain((0..3000).map(move |i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Small, mid-sized and full-range accumulators alike.
            (seed as i32) >> (i % 28)
        }))
    }

    #[test]
    fn equals_tflites_two_step_form_at_every_shift() {
        let multipliers = [
            0,
            1,
            1 << 30,
            (1 << 30) + 1,
            1_518_500_250,
            i32::MAX - 1,
            i32::MAX,
        ];
        for shift in -31..=31 {
            for (k, &m) in multipliers.iter().enumerate() {
                let r = Rescale::new(m, shift);
                assert_eq!((r.multiplier(), r.shift()), (m, shift));
                for x in accumulators((shift + 40) as u32 * 31 + k as u32) {
                    let want = multiply_by_quantized_multiplier(x, m, shift);
                    assert_eq!(r.apply(x), want, "x {x} m {m} shift {shift}");
                }
            }
        }
    }

    #[test]
    fn out_of_range_shifts_clamp_as_tflite_does() {
        for (shift, x) in [(-40, 1 << 30), (40, 3), (-32, -5)] {
            let r = Rescale::new(1 << 30, shift);
            assert_eq!(
                r.apply(x),
                multiply_by_quantized_multiplier(x, 1 << 30, shift)
            );
        }
    }
}
