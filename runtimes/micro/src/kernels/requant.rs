//! Per-channel requantisation of int8 and int16 convolutions and fully
//! connected layers, computed once at prepare time and kept in the arena,
//! as TFLite Micro does: `quantize_multiplier` runs in (soft-float, on a
//! Cortex-M) f64 arithmetic, far too slow for every inference. Also the
//! accumulator choice and output arithmetic their reference loops share.

use crate::error::Error;
use crate::kernels::batch_matmul::multiply_by_quantized_multiplier_i64;
use crate::kernels::{Input, PrepareCtx, i16_at, nd};
use crate::model::{ElemType, TensorInfo};
use crate::rescale::Rescale;

/// The schema's `TensorType` code of int32.
const TENSOR_TYPE_INT32: u8 = 2;

/// The rescale of each of `channels` output channels: `input scale x
/// channel's weight scale / output scale`.
pub(crate) fn channel_multipliers<'a>(
    ctx: &mut PrepareCtx<'_, 'a>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    out: &TensorInfo<'_>,
    channels: usize,
) -> Result<&'a [Rescale], Error> {
    if let Some(scales) = filter.channel_scales
        && scales.len() != channels
    {
        return Err(ctx.invalid("per-channel weights must have one scale per output channel"));
    }
    let is = f64::from(input.quant.map_or(0.0, |q| q.scale));
    let os = f64::from(out.quant.map_or(1.0, |q| q.scale));
    ctx.persist(channels, |c| {
        Rescale::of_real(is * f64::from(filter.channel_scale(c)) / os)
    })
}

/// Whether an int16 (16x8) layer accumulates in int64, as TFLite Micro
/// picks: unless its bias (input 2) is int32, or it has none and its
/// `quantized_bias_type` option is int32.
pub(crate) fn accumulates_in_i64(
    ctx: &PrepareCtx<'_, '_>,
    quantized_bias_type: u8,
) -> Result<bool, Error> {
    Ok(match ctx.input_opt(2)? {
        Some(bias) => bias.dtype != ElemType::I32,
        None => quantized_bias_type != TENSOR_TYPE_INT32,
    })
}

/// Bias `c` of a quantised layer: int32, or int64 or int16 (int16 layers).
#[inline(always)]
pub(crate) fn bias_at(bias: &Input<'_>, c: usize) -> i64 {
    match bias.info.dtype {
        ElemType::I16 => i64::from(i16_at(bias.data, c)),
        t => nd::int_at(bias.data, t == ElemType::I64, c),
    }
}

/// Element `i` of an int8 or int16 tensor.
#[inline(always)]
pub(crate) fn quantized_at(data: &[u8], dtype: ElemType, i: usize) -> i32 {
    if dtype == ElemType::I16 {
        i32::from(i16_at(data, i))
    } else {
        i32::from(data[i] as i8)
    }
}

/// Stores `v` (already clamped to the type's range) as element `i` of an
/// int8 or int16 tensor.
#[inline(always)]
pub(crate) fn put_quantized(data: &mut [u8], dtype: ElemType, i: usize, v: i32) {
    if dtype == ElemType::I16 {
        data[2 * i..2 * i + 2].copy_from_slice(&(v as i16).to_le_bytes());
    } else {
        data[i] = v as i8 as u8;
    }
}

/// A quantised layer's output from its sum of products `acc` and `bias`:
/// in int32 (wrapping, as TFLite's int32 accumulators) or, when `wide`, in
/// int64 with the 64-bit `MultiplyByQuantizedMultiplier`, then the output
/// offset and the activation's clamp.
#[inline(always)]
pub(crate) fn requantize(
    acc: i64,
    bias: i64,
    wide: bool,
    rescale: Rescale,
    output_offset: i32,
    (lo, hi): (i32, i32),
) -> i32 {
    let v = if wide {
        let (multiplier, shift) = (rescale.multiplier(), rescale.shift());
        multiply_by_quantized_multiplier_i64(acc.wrapping_add(bias), multiplier, shift)
    } else {
        rescale_i32(&rescale, (acc as i32).wrapping_add(bias as i32))
    };
    v.wrapping_add(output_offset).clamp(lo, hi)
}

/// `r.apply(x)`: on a Cortex-M0+ in 32-bit multiplies ([`v6m::rescale`]),
/// where `apply`'s 64-bit multiply is a library call.
///
/// [`v6m::rescale`]: crate::kernels::v6m::rescale
#[inline(always)]
pub(crate) fn rescale_i32(r: &Rescale, x: i32) -> i32 {
    #[cfg(arm_v6m)]
    {
        crate::kernels::v6m::rescale(r, x)
    }
    #[cfg(not(arm_v6m))]
    {
        r.apply(x)
    }
}
