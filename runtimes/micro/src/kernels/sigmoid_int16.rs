//! int16 LOGISTIC and TANH as TFLite Micro computes them: the input
//! rescaled so that 2^12 / 3 is 1.0, then sigmoid read from a 256-entry
//! table with linear interpolation (tanh through
//! `tanh(x) = 2 sigmoid(2x) - 1`), zero points 0 and an output scale of
//! 2^-15.

use crate::error::Error;
use crate::kernels::{Input, Output, PrepareCtx};
use crate::model::TensorInfo;

/// Sigmoid of `i / 24` in unsigned 0.16 fixed point, `i` in `0..256`: the
/// values of TensorFlow Lite's `sigmoid_table_uint16`, which are tuned for
/// linear interpolation between them (not plain rounding of the function),
/// so only these exact values give its results.
#[rustfmt::skip]
const SIGMOID: [u16; 256] = [
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
];

/// TFLite's `CheckedLog2`: `log2(x)` rounded, when `x` is within 1e-3 (in
/// the exponent) of a power of two, computed in float32 as TFLite does.
pub(crate) fn checked_log2(x: f32) -> Option<i32> {
    let log2 = libm::logf(x) * (1.0 / libm::logf(2.0));
    let rounded = libm::roundf(log2);
    ((log2 - rounded).abs() < 1e-3).then_some(rounded as i32)
}

/// The prepared rescaling of an int16 LOGISTIC or TANH input:
/// `(x * multiplier + rounding) >> shift`.
#[derive(Clone, Copy, Debug)]
pub struct Int16Sigmoid {
    tanh: bool,
    multiplier: i32,
    shift: u32,
}

impl Int16Sigmoid {
    /// Checks the quantisation of an int16 LOGISTIC (`tanh` false) or TANH
    /// and derives the input rescaling.
    pub fn prepare(
        ctx: &PrepareCtx<'_, '_>,
        input: &TensorInfo<'_>,
        out: &TensorInfo<'_>,
        tanh: bool,
    ) -> Result<Self, Error> {
        let (Some(qi), Some(qo)) = (input.quant, out.quant) else {
            return Err(ctx.invalid("int16 tensors without quantisation parameters"));
        };
        if qi.zero_point != 0 || qo.zero_point != 0 {
            return Err(ctx.unsupported("int16 LOGISTIC or TANH with a zero point other than 0"));
        }
        if checked_log2(qo.scale) != Some(-15) {
            return Err(
                ctx.unsupported("int16 LOGISTIC or TANH with an output scale other than 2^-15")
            );
        }
        // A power-of-two input scale of 2^-12 (or, for TANH, 2^-11) needs
        // only a multiplication by 3 (by 6).
        let pot_shift = checked_log2(qi.scale).map(|l| 12 + l);
        let (multiplier, shift) = match pot_shift {
            Some(0) => (3, 0),
            Some(1) if tanh => (6, 0),
            _ => {
                let mut m = f64::from(qi.scale) * 4096.0 * 3.0;
                let mut shift = 0;
                while m <= 32767.0 / 2.0 && shift <= 30 {
                    shift += 1;
                    m *= 2.0;
                }
                if m.is_nan() || m > 32767.0 {
                    return Err(
                        ctx.unsupported("int16 LOGISTIC or TANH with an input scale this large")
                    );
                }
                (m as i32, shift)
            }
        };
        Ok(Int16Sigmoid {
            tanh,
            multiplier,
            shift,
        })
    }

    /// TFLite's `Logistic` / `Tanh(input_multiplier, input_left_shift)` as
    /// the LSTM calls them: a power-of-two input scale of 2^(left_shift - 12)
    /// when `multiplier` is 0, else `(x * multiplier) >> left_shift`.
    pub(crate) fn fixed(tanh: bool, multiplier: i32, left_shift: u32) -> Self {
        if multiplier == 0 {
            Int16Sigmoid {
                tanh,
                multiplier: 3 << left_shift,
                shift: 0,
            }
        } else {
            Int16Sigmoid {
                tanh,
                multiplier,
                shift: left_shift,
            }
        }
    }

    /// The input rescaled so that 2^12 / 3 is 1.0.
    fn rescale(&self, x: i16) -> i32 {
        let round = if self.shift > 0 {
            1 << (self.shift - 1)
        } else {
            0
        };
        i32::from(x)
            .wrapping_mul(self.multiplier)
            .wrapping_add(round)
            >> self.shift
    }

    /// Sigmoid of `|x|` in the table's steps of `2^bits`, interpolated:
    /// 0.16 fixed point with `bits` more fractional bits; `None` past the
    /// table's end.
    fn interpolate(abs: u32, bits: u32) -> Option<u32> {
        let i = (abs >> bits) as usize;
        let (a, b) = (u32::from(*SIGMOID.get(i)?), u32::from(*SIGMOID.get(i + 1)?));
        let fraction = abs & ((1 << bits) - 1);
        Some((a << bits) + fraction * (b - a))
    }

    /// Evaluates every element.
    pub fn eval(&self, input: Input<'_>, out: Output<'_>) {
        let pairs = input.data.chunks_exact(2).zip(out.data.chunks_exact_mut(2));
        for (x, y) in pairs {
            let r = self.value(i16::from_le_bytes([x[0], x[1]]));
            y.copy_from_slice(&r.to_le_bytes());
        }
    }

    /// The sigmoid (or tanh) of one input.
    pub(crate) fn value(&self, x: i16) -> i16 {
        let v = self.rescale(x);
        let abs = v.unsigned_abs();
        if self.tanh {
            // Index steps of 2^8: the input doubled.
            let s = Self::interpolate(abs, 8).map_or(0xFFFF << 8, |s| s as i32);
            let r = if v >= 0 {
                s - (1 << 23) + (1 << 7)
            } else {
                -s + (1 << 23) + (1 << 7) - 1
            };
            (r >> 8) as i16
        } else {
            let s = Self::interpolate(abs, 9).unwrap_or(0x7FFF << 10);
            let r = if v >= 0 {
                s + (1 << 9)
            } else {
                (1u32 << 25) - s + (1 << 9) - 1
            };
            (r >> 10) as i16
        }
    }
}
