//! The float logistic function as TFLite's `reference_ops::Logistic`
//! computes it: 1 above 16.619047, `exp(x)` below -9 (where it equals the
//! logistic to float precision), `1 / (1 + exp(-x))` between.

/// `1 / (1 + exp(-x))`, with TFLite's cut-offs.
#[inline]
pub(crate) fn logistic_f32(x: f32) -> f32 {
    const UPPER: f32 = 16.619_047;
    const LOWER: f32 = -9.0;
    if x > UPPER {
        1.0
    } else if x < LOWER {
        libm::expf(x)
    } else {
        1.0 / (1.0 + libm::expf(-x))
    }
}
