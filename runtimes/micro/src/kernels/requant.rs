//! Per-channel requantisation of int8 convolutions and fully connected
//! layers, computed once at prepare time and kept in the arena, as TFLite
//! Micro does: `quantize_multiplier` runs in (soft-float, on a Cortex-M)
//! f64 arithmetic, far too slow for every inference.

use crate::error::Error;
use crate::kernels::PrepareCtx;
use crate::model::TensorInfo;
use crate::quant::quantize_multiplier;

/// The multiplier and shift of each of `channels` output channels:
/// `input scale x channel's weight scale / output scale`.
pub(crate) fn channel_multipliers<'a>(
    ctx: &mut PrepareCtx<'_, 'a>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    out: &TensorInfo<'_>,
    channels: usize,
) -> Result<&'a [(i32, i32)], Error> {
    if let Some(scales) = filter.channel_scales
        && scales.len() != channels
    {
        return Err(ctx.invalid("per-channel weights must have one scale per output channel"));
    }
    let is = f64::from(input.quant.map_or(0.0, |q| q.scale));
    let os = f64::from(out.quant.map_or(1.0, |q| q.scale));
    ctx.persist(channels, |c| {
        quantize_multiplier(is * f64::from(filter.channel_scale(c)) / os)
    })
}
