//! Data in and out of the ready model: `InputChunk` writes an input where
//! the layout says it is; `ReadOutput`, `ReadSamples` and `ReadLayer` read
//! back what the last run left.

use heapless::Vec;
use vlab_micro::Model;
use vlab_protocol::{CHUNK, ErrorCode, Event, MAX_SAMPLES, Stream};

use super::Agent;
use super::failure::{Failure, fail, no_model};
use super::layout::OutputAt;
use crate::clock::TickClock;

impl<C: TickClock> Agent<'_, C> {
    /// `InputChunk`: a piece of an input, written straight into its tensor.
    pub(super) fn input_chunk(
        &mut self,
        index: u8,
        offset: u32,
        data: &[u8],
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let ready = self.slot.ready().ok_or_else(no_model)?;
        let input = ready.layout.inputs.get(usize::from(index)).copied();
        let input =
            input.ok_or_else(|| fail(ErrorCode::BadIndex, format_args!("no input {index}")))?;
        let too_long = || {
            fail(
                ErrorCode::BadIndex,
                format_args!("input {index} is {} B", input.len),
            )
        };
        let (offset, end) = (
            offset as usize,
            (offset as usize).saturating_add(data.len()),
        );
        if end > input.len {
            return Err(too_long());
        }
        let dest = self
            .mem
            .arena
            .get_mut(input.start + offset..input.start + end);
        dest.ok_or_else(too_long)?.copy_from_slice(data);
        send(&Event::Received {
            stream: Stream::Input(index),
            end: end as u32,
        });
        Ok(())
    }

    /// `ReadOutput`: up to a chunk of output `index` of the last run, from
    /// `offset`, where the layout says it is.
    pub(super) fn read_output(
        &mut self,
        index: u8,
        offset: u32,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let Some(ready) = self.slot.ready().filter(|r| r.last_run.is_some()) else {
            return Err(fail(ErrorCode::NoRun, format_args!("no run yet")));
        };
        let out = match ready.layout.outputs.get(usize::from(index)) {
            Some(OutputAt::Arena(span)) => span.of(self.mem.arena),
            Some(OutputAt::Model(span)) => {
                span.of(ready.stored.bytes(self.mem.model_slot, self.mem.flash_slot))
            }
            Some(OutputAt::Absent) | None => {
                return Err(fail(ErrorCode::BadIndex, format_args!("no output {index}")));
            }
        };
        let start = (offset as usize).min(out.len());
        let chunk = out.get(start..(start + CHUNK).min(out.len()));
        send(&Event::Output {
            index,
            offset,
            len: out.len() as u32,
            data: Vec::from_slice(chunk.unwrap_or_default()).unwrap_or_default(),
        });
        Ok(())
    }

    /// `ReadSamples`: up to [`MAX_SAMPLES`] per-inference ticks of the last
    /// run from inference `first`.
    pub(super) fn read_samples(
        &mut self,
        first: u32,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let kept = self.slot.last_run().map_or(0, |r| r.samples);
        if kept == 0 {
            return Err(fail(ErrorCode::NoRun, format_args!("no samples kept")));
        }
        let start = (first as usize).min(kept);
        let end = (start + MAX_SAMPLES).min(kept);
        let ticks = self.mem.samples.get(start..end).unwrap_or_default();
        send(&Event::Samples {
            first,
            ticks: Vec::from_slice(ticks).unwrap_or_default(),
        });
        Ok(())
    }

    /// `ReadLayer`: the last run's ticks of operator `index`.
    pub(super) fn read_layer(
        &mut self,
        index: u16,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let layers = self.slot.last_run().map_or(0, |r| r.layers);
        let i = usize::from(index);
        let ticks = self.layer_ticks.get(i).copied().filter(|_| i < layers);
        let (Some(ready), Some(ticks)) = (self.slot.ready(), ticks) else {
            return Err(fail(
                ErrorCode::NoRun,
                format_args!("no operator {i} timed ({layers} timed)"),
            ));
        };
        let model = ready.stored.bytes(self.mem.model_slot, self.mem.flash_slot);
        let model =
            Model::parse(model).map_err(|e| fail(ErrorCode::ModelRejected, format_args!("{e}")))?;
        send(&Event::LayerSample {
            index,
            opcode: model.operator(i).map_or(0, |op| op.opcode.0) as u16,
            ticks,
        });
        Ok(())
    }
}
