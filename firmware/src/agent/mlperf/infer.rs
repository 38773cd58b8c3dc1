//! `infer N W` and `results`: the input buffer into the model's input, W
//! untimed and N timed inferences, the two timestamps and the outputs.
//!
//! Unlike the reference firmware, both timestamps are read from the 64-bit
//! clock around the loop and printed after it, with the UART drained
//! first, so that no UART time falls in the window and nothing wraps.

use embedded_io::Write;
use vlab_micro::Interpreter;
use vlab_micro::model::{ElemType, TensorInfo};

use super::reply::{error, line};
use super::{Mlperf, decimal, input};
use crate::agent::Agent;
use crate::agent::layout::prepare;
use crate::agent::slot::Slot;
use crate::clock::TickClock;

impl<C: TickClock> Agent<'_, C> {
    /// `infer N W`.
    pub(super) fn infer<W: Write>(
        &mut self,
        state: &mut Mlperf,
        iterations: u32,
        warmup: u32,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let Slot::Ready(ready) = &self.slot else {
            return match &state.refused {
                Some(why) => error(
                    out,
                    format_args!("The flash slot's model does not load: {why}"),
                ),
                None => error(
                    out,
                    format_args!("No model in the flash slot: put one there with vlab"),
                ),
            };
        };
        if ready.layout.inputs.len() != 1 {
            return error(
                out,
                format_args!(
                    "The model takes {} inputs; MLPerf Tiny gives one",
                    ready.layout.inputs.len()
                ),
            );
        }
        state.results = false;
        let model = ready.stored.bytes(self.mem.model_slot, self.mem.flash_slot);
        let db = self
            .mem
            .model_slot
            .get(..state.db.written)
            .unwrap_or_default();
        let mut it = match prepare(model, &mut *self.mem.arena, false) {
            Ok(it) => it,
            Err(failure) => return error(out, format_args!("{}", failure.1.as_str())),
        };
        let loaded = match (it.input_info(0), it.input_mut(0)) {
            (Ok(info), Ok(tensor)) => input::load(&state.key, &info, db, tensor),
            _ => return error(out, format_args!("The model's input cannot be written")),
        };
        if let Err(mismatch) = loaded {
            return error(
                out,
                format_args!(
                    "Input db has {} bytes, the model's input takes {}",
                    mismatch.given, mismatch.wanted
                ),
            );
        }
        let clock = &mut self.clock;
        clock.restart();
        line(out, format_args!("m-warmup-start-{warmup}"))?;
        for _ in 0..warmup {
            if let Err(e) = it.invoke(&mut ()) {
                return error(out, format_args!("Inference failed: {e}"));
            }
        }
        line(out, format_args!("m-warmup-done"))?;
        line(out, format_args!("m-infer-start-{iterations}"))?;
        out.flush()?;
        let start = vlab_micro::Clock::now(clock);
        for _ in 0..iterations {
            if let Err(e) = it.invoke(&mut ()) {
                return error(out, format_args!("Inference failed: {e}"));
            }
        }
        let end = vlab_micro::Clock::now(clock);
        let hz = clock.hz();
        line(out, format_args!("m-lap-us-{}", micros(start, hz)))?;
        line(out, format_args!("m-lap-us-{}", micros(end, hz)))?;
        line(out, format_args!("m-infer-done"))?;
        state.results = true;
        results_line(&it, out)
    }

    /// `results`: the last inference's outputs again.
    pub(super) fn results<W: Write>(
        &mut self,
        state: &Mlperf,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let Slot::Ready(ready) = &self.slot else {
            return error(out, format_args!("No inference has run yet"));
        };
        if !state.results {
            return error(out, format_args!("No inference has run yet"));
        }
        let model = ready.stored.bytes(self.mem.model_slot, self.mem.flash_slot);
        // Resuming lays the model out as before without touching its
        // tensors, so the outputs are the last inference's.
        match prepare(model, &mut *self.mem.arena, false) {
            Ok(it) => results_line(&it, out),
            Err(failure) => error(out, format_args!("{}", failure.1.as_str())),
        }
    }
}

/// Ticks of a `hz` clock in microseconds.
pub(super) fn micros(ticks: u64, hz: u32) -> u64 {
    let us = u128::from(ticks) * 1_000_000 / u128::from(hz.max(1));
    u64::try_from(us).unwrap_or(u64::MAX)
}

/// `m-results-[v0,v1,...]`: every output's values, dequantized, as
/// decimals with three places ([`decimal`]), outputs one after the other.
fn results_line<W: Write>(it: &Interpreter<'_>, out: &mut W) -> Result<(), W::Error> {
    out.write_all(b"m-results-[")?;
    let mut first = true;
    for i in 0..it.model().outputs().count() {
        let (Ok(info), Ok(bytes)) = (it.output_info(i), it.output(i)) else {
            continue;
        };
        for value in values(&info, bytes) {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            decimal::write(out, value)?;
        }
    }
    out.write_all(b"]\r\n")
}

/// The real values of a tensor's bytes: `scale * (q - zero_point)` for a
/// quantized integer tensor.
fn values<'b>(info: &TensorInfo<'_>, bytes: &'b [u8]) -> impl Iterator<Item = f32> + 'b {
    let (scale, zero) = info.quant.map_or((1.0, 0), |q| (q.scale, q.zero_point));
    let dtype = info.dtype;
    let size = dtype.size();
    bytes.chunks_exact(size).map(move |b| {
        let q = match dtype {
            ElemType::F32 => return f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ElemType::I8 => i32::from(b[0] as i8),
            ElemType::U8 | ElemType::Bool => i32::from(b[0]),
            ElemType::I16 => i32::from(i16::from_le_bytes([b[0], b[1]])),
            ElemType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ElemType::I64 | ElemType::F16 | ElemType::Resource => return f32::NAN,
        };
        (q - zero) as f32 * scale
    })
}
