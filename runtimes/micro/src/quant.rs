//! Fixed-point arithmetic exactly as TFLite Micro's reference kernels do it
//! (tensorflow/lite/kernels/internal/common.h, quantization_util.cc and
//! gemmlowp's fixedpoint.h), so that int8 results are bit-exact.

/// `round(a * b / 2^31)` with gemmlowp's rounding and saturation.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    // gemmlowp adds a nudge of 2^30 (1 - 2^30 when negative) and divides by
    // 2^31 rounding toward zero; for a negative sum that division is
    // `(x + 2^31 - 1) >> 31`, so both cases are `(ab + 2^30) >> 31`: one
    // multiply-accumulate and a shift, no sign test.
    ((i64::from(a) * i64::from(b) + (1i64 << 30)) >> 31) as i32
}

/// Division by `2^exponent` rounding half away from zero.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    // Valid models stay within 0..=31; hostile ones must not make the shifts panic.
    let exponent = exponent.clamp(0, 31);
    let mask = (1u32 << exponent).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier` (double rounding, the default build).
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let (left, right) = if shift > 0 {
        (shift.min(31), 0)
    } else {
        (0, shift.saturating_neg())
    };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_shl(left as u32), multiplier),
        right,
    )
}

/// TFLite's `QuantizeMultiplier`: a real multiplier as a Q31 value and a shift.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(real);
    let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    (q_fixed as i32, shift)
}

/// TFLite's `Quantize(f)` used for activation bounds: `zp + round(f / scale)`, in float.
pub fn quantize_value(f: f32, scale: f32, zero_point: i32) -> i32 {
    zero_point.saturating_add(libm::roundf(f / scale) as i32)
}

/// A gemmlowp fixed-point number with `I` integer bits (raw / 2^(31 - I)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed<const I: i32>(pub i32);

impl<const I: i32> Fixed<I> {
    /// One, saturated to the largest value when `I` is 0.
    pub fn one() -> Self {
        Fixed(if I == 0 { i32::MAX } else { 1 << (31 - I) })
    }

    /// `2^exponent`.
    pub fn pot(exponent: i32) -> Self {
        Fixed(1 << (31 - I + exponent))
    }

    /// Sum (gemmlowp adds int32 raws without saturation).
    pub fn plus(self, o: Self) -> Self {
        Fixed(self.0.wrapping_add(o.0))
    }

    /// Difference.
    pub fn minus(self, o: Self) -> Self {
        Fixed(self.0.wrapping_sub(o.0))
    }

    /// Product with a number of `J` integer bits, giving `I + J` integer bits.
    pub fn times<const J: i32, const K: i32>(self, o: Fixed<J>) -> Fixed<K> {
        debug_assert_eq!(K, I + J);
        Fixed(saturating_rounding_doubling_high_mul(self.0, o.0))
    }

    /// The same value with `J` integer bits.
    pub fn rescale<const J: i32>(self) -> Fixed<J> {
        Fixed(saturating_rounding_multiply_by_pot(self.0, I - J))
    }
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT`.
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent == 0 {
        x
    } else if exponent < 0 {
        rounding_divide_by_pot(x, -exponent)
    } else {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exponent
        }
    }
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl`.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: Fixed<0>) -> Fixed<0> {
    let constant_term = Fixed::<0>(1895147668);
    let constant_1_over_3 = Fixed::<0>(715827883);
    let x = a.plus(Fixed::<0>::pot(-3));
    let x2: Fixed<0> = x.times(x);
    let x3: Fixed<0> = x2.times(x);
    let x4: Fixed<0> = x2.times(x2);
    let x4_over_4 = Fixed::<0>(saturating_rounding_multiply_by_pot(x4.0, -2));
    let inner: Fixed<0> = x4_over_4.plus(x3).times(constant_1_over_3);
    let poly = Fixed::<0>(saturating_rounding_multiply_by_pot(inner.plus(x2).0, -1));
    let scaled: Fixed<0> = constant_term.times(x.plus(poly));
    constant_term.plus(scaled)
}

/// gemmlowp's `exp_on_negative_values` for an input with `I` integer bits.
pub fn exp_on_negative_values<const I: i32>(a: Fixed<I>) -> Fixed<0> {
    let fractional_bits = 31 - I;
    let one_quarter = Fixed::<I>::pot(-2);
    let mask = one_quarter.0 - 1;
    let a_mod_quarter_minus_one_quarter = Fixed::<I>(a.0 & mask).minus(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        a_mod_quarter_minus_one_quarter.rescale::<0>(),
    );
    let remainder = a_mod_quarter_minus_one_quarter.minus(a).0;
    const BARREL: [(i32, i32); 7] = [
        (-2, 1672461947),
        (-1, 1302514674),
        (0, 790015084),
        (1, 290630308),
        (2, 39332535),
        (3, 720401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if I > exponent {
            let shift = fractional_bits + exponent;
            if remainder & (1 << shift) != 0 {
                result = result.times(Fixed::<0>(multiplier));
            }
        }
    }
    if I > 5 {
        let clamp = -(1i32 << (36 - I));
        if a.0 < clamp {
            result = Fixed(0);
        }
    }
    if a.0 == 0 { Fixed::<0>::one() } else { result }
}

/// gemmlowp's `RoundingHalfSum`.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// The Newton-Raphson iteration gemmlowp's `one_over_one_plus_x_for_x_in_0_1`
/// and `one_minus_x_over_one_plus_x_for_x_in_0_1` share: about
/// `1 / half_denominator` where `half_denominator = (1 + a) / 2`.
fn newton_reciprocal(a: Fixed<0>) -> Fixed<2> {
    let half_denominator = Fixed::<0>(rounding_half_sum(a.0, Fixed::<0>::one().0));
    let constant_48_over_17 = Fixed::<2>(1515870810);
    let constant_neg_32_over_17 = Fixed::<2>(-1010580540);
    let mut x: Fixed<2> = constant_48_over_17.plus(half_denominator.times(constant_neg_32_over_17));
    for _ in 0..3 {
        let half_denominator_times_x: Fixed<2> = half_denominator.times(x);
        let one_minus = Fixed::<2>::one().minus(half_denominator_times_x);
        let product: Fixed<4> = x.times(one_minus);
        x = x.plus(product.rescale::<2>());
    }
    x
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1`.
pub fn one_over_one_plus_x_for_x_in_0_1(a: Fixed<0>) -> Fixed<0> {
    // ExactMulByPot<-1> keeps the raw value with one integer bit less.
    Fixed::<1>(newton_reciprocal(a).0).rescale::<0>()
}

/// gemmlowp's `one_minus_x_over_one_plus_x_for_x_in_0_1`.
fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: Fixed<0>) -> Fixed<0> {
    newton_reciprocal(a).minus(Fixed::<2>::one()).rescale::<0>()
}

/// gemmlowp's `logistic` for an input with 4 integer bits.
pub fn logistic_q4(a: Fixed<4>) -> Fixed<0> {
    if a.0 == 0 {
        return Fixed(1 << 30);
    }
    let abs = if a.0 > 0 {
        a
    } else {
        Fixed(a.0.wrapping_neg())
    };
    let positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(Fixed::<4>(abs.0.wrapping_neg())));
    if a.0 > 0 {
        positive
    } else {
        Fixed::<0>::one().minus(positive)
    }
}

/// gemmlowp's `tanh` for an input with 4 integer bits.
pub fn tanh_q4(a: Fixed<4>) -> Fixed<0> {
    if a.0 == 0 {
        return Fixed(0);
    }
    let n = if a.0 < 0 { a.0 } else { a.0.wrapping_neg() };
    // ExactMulByPot<1> keeps the raw value with one integer bit more.
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(Fixed::<5>(n)));
    if a.0 < 0 {
        Fixed(t.0.wrapping_neg())
    } else {
        t
    }
}

/// TFLite's `GetReciprocal`: 1 / x for `x` with `integer_bits` integer
/// bits, as a Q0.31 value and the number of bits above one.
pub fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = integer_bits - headroom_plus_one;
    let shifted_sum_minus_one = ((x as u32) << headroom_plus_one).wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(Fixed(shifted_sum_minus_one)).0,
        num_bits_over_unit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_tflite() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-4, 1), -2);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
    }

    /// gemmlowp's definition, with its sign-dependent nudge.
    fn doubling_high_mul_reference(a: i32, b: i32) -> i32 {
        if a == b && a == i32::MIN {
            return i32::MAX;
        }
        let ab = i64::from(a) * i64::from(b);
        let nudge = if ab >= 0 {
            1i64 << 30
        } else {
            1 - (1i64 << 30)
        };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn rounding_divide_by_pot_rounds_half_away_from_zero_at_every_exponent() {
        for e in 0..=31 {
            for x in [
                i32::MIN,
                i32::MIN + 1,
                -7,
                -6,
                -5,
                -1,
                0,
                1,
                5,
                6,
                7,
                i32::MAX - 1,
                i32::MAX,
            ] {
                let exact = f64::from(x) / 2f64.powi(e);
                let want = if exact >= 0.0 {
                    libm::floor(exact + 0.5)
                } else {
                    -libm::floor(-exact + 0.5)
                };
                assert_eq!(f64::from(rounding_divide_by_pot(x, e)), want, "{x} / 2^{e}");
            }
        }
    }

    #[test]
    fn doubling_high_mul_equals_gemmlowps_definition() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30) - 1,
            -(1 << 30),
            -3,
            -1,
            0,
            1,
            3,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX - 1,
            i32::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(
                    saturating_rounding_doubling_high_mul(a, b),
                    doubling_high_mul_reference(a, b),
                    "{a} x {b}"
                );
            }
        }
        // A linear congruential walk over the whole range.
        let mut x = 0x1234_5678u32;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let a = x as i32;
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let b = (x as i32) >> (x % 24);
            assert_eq!(
                saturating_rounding_doubling_high_mul(a, b),
                doubling_high_mul_reference(a, b),
                "{a} x {b}"
            );
        }
    }

    #[test]
    fn quantize_multiplier_matches_frexp_convention() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        let (m, s) = quantize_multiplier(0.003);
        let back = m as f64 / (1u64 << 31) as f64 * libm::pow(2.0, s as f64);
        assert!((back - 0.003).abs() < 1e-9);
        assert_eq!(multiply_by_quantized_multiplier(1000, 1 << 30, -1), 250);
    }

    #[test]
    fn fixed_point_exp_and_reciprocal_approximate_the_reals() {
        // exp(-1) with 5 integer bits: raw = -1 * 2^26.
        let e = exp_on_negative_values(Fixed::<5>(-(1 << 26)));
        assert!((f64::from(e.0) / 2f64.powi(31) - (-1f64).exp()).abs() < 1e-6);
        assert_eq!(exp_on_negative_values(Fixed::<5>(0)).0, i32::MAX);
        // 1 / (1 + 0.5)
        let r = one_over_one_plus_x_for_x_in_0_1(Fixed(1 << 30));
        assert!((f64::from(r.0) / 2f64.powi(31) - 2.0 / 3.0).abs() < 1e-6);
    }
}
