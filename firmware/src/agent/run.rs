//! `Run`: warmup and timed inferences of the ready model, with the samples
//! and per-operator ticks kept for reading back.

use vlab_micro::Profiler;
use vlab_protocol::{ErrorCode, Event, RunSummary};

use super::failure::{Failure, fail, no_model};
use super::layout::prepare;
use super::slot::{LastRun, Slot};
use super::{Agent, MAX_LAYERS};
use crate::clock::TickClock;
use crate::log;

/// What a `Run` asks for.
pub(super) struct Plan {
    /// The host's identifier of the run.
    pub id: u32,
    /// Untimed inferences first.
    pub warmup: u32,
    /// Timed inferences.
    pub iterations: u32,
    /// Keep every timed inference's ticks.
    pub samples: bool,
    /// Time every operator of one extra inference.
    pub per_layer: bool,
}

impl<C: TickClock> Agent<'_, C> {
    /// `Run`: runs `plan`, unless it is the last run, resent (its `Done`
    /// lost), whose `Done` is sent again.
    pub(super) fn run(&mut self, plan: Plan, send: &mut dyn FnMut(&Event)) -> Result<(), Failure> {
        if let Some(last) = self.slot.last_run().filter(|r| r.summary.id == plan.id) {
            send(&Event::Done(last.summary));
            return Ok(());
        }
        self.slot.set_last_run(None);
        let last = self.timed_run(&plan)?;
        self.slot.set_last_run(Some(last));
        log::info!(
            "run {=u32}: {=u32} warmup, {=u32} timed, {=u64} to {=u64} ticks",
            plan.id,
            plan.warmup,
            plan.iterations,
            last.summary.min_ticks,
            last.summary.max_ticks
        );
        send(&Event::Done(last.summary));
        Ok(())
    }

    /// Runs `plan.warmup` untimed and `plan.iterations` timed inferences,
    /// keeping the samples and per-operator ticks for reading back.
    #[inline(never)]
    fn timed_run(&mut self, plan: &Plan) -> Result<LastRun, Failure> {
        let capacity = self.mem.samples.len();
        if plan.samples && plan.iterations as usize > capacity {
            return Err(fail(
                ErrorCode::TooManySamples,
                format_args!("{} iterations > {capacity} samples kept", plan.iterations),
            ));
        }
        let Slot::Ready(ready) = &self.slot else {
            return Err(no_model());
        };
        let mut clock = &mut self.clock;
        let kept = &mut *self.mem.samples;
        let model = ready.stored.bytes(self.mem.model_slot, self.mem.flash_slot);
        // The inputs are in the arena, where InputChunk wrote them, and the
        // state carries on from the last run (one stream of samples).
        let mut it = prepare(model, &mut *self.mem.arena, false)?;
        let inference = |e: vlab_micro::Error| fail(ErrorCode::Inference, format_args!("{e}"));
        clock.restart();
        for _ in 0..plan.warmup {
            it.invoke(&mut ()).map_err(inference)?;
        }
        let mut summary = RunSummary {
            id: plan.id,
            iterations: plan.iterations,
            total_ticks: 0,
            min_ticks: if plan.iterations == 0 { 0 } else { u64::MAX },
            max_ticks: 0,
            arena_used: it.arena_used() as u32,
            stack_used: 0,
        };
        for i in 0..plan.iterations as usize {
            let start = vlab_micro::Clock::now(&mut clock);
            it.invoke(&mut ()).map_err(inference)?;
            let ticks = vlab_micro::Clock::now(&mut clock).saturating_sub(start);
            summary.total_ticks += ticks;
            summary.min_ticks = summary.min_ticks.min(ticks);
            summary.max_ticks = summary.max_ticks.max(ticks);
            if let Some(slot) = kept.get_mut(i).filter(|_| plan.samples) {
                *slot = u32::try_from(ticks).unwrap_or(u32::MAX);
            }
        }
        let mut layers = 0;
        if plan.per_layer {
            let mut ticks = [0u64; MAX_LAYERS];
            it.invoke(&mut Profiler::new(&mut clock, &mut ticks))
                .map_err(inference)?;
            layers = it.operator_count().min(MAX_LAYERS);
            for (kept, &t) in self.layer_ticks.iter_mut().zip(&ticks[..layers]) {
                *kept = u32::try_from(t).unwrap_or(u32::MAX);
            }
        }
        summary.stack_used = (self.info.stack_used)();
        Ok(LastRun {
            summary,
            samples: if plan.samples {
                plan.iterations as usize
            } else {
                0
            },
            layers,
        })
    }
}
