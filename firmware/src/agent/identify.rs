//! `Hello`: what the board is.

use vlab_protocol::{Capabilities, Event, Identify, PROTOCOL_VERSION};

use super::Agent;
use super::failure::{Failure, truncated};
use crate::clock::TickClock;
use crate::log;

impl<C: TickClock> Agent<'_, C> {
    /// `Hello`: what the board is.
    pub(super) fn hello(&mut self, send: &mut dyn FnMut(&Event)) -> Result<(), Failure> {
        log::info!(
            "vlab firmware on {=str}: {=usize} B model slot, {=usize} B arena",
            self.info.name,
            self.mem.model_slot.len(),
            self.mem.arena.len()
        );
        send(&Event::Identify(self.identify()));
        Ok(())
    }

    /// The board, its clock, memory and capabilities.
    fn identify(&self) -> Identify {
        Identify {
            protocol_version: PROTOCOL_VERSION,
            firmware_version: self.info.firmware_version,
            build_hash: self.info.build_hash,
            board: truncated(format_args!("{}", self.info.name)),
            core_clock_hz: self.info.core_clock_hz,
            timer: self.clock.kind(),
            timer_hz: self.clock.hz(),
            arena_bytes: self.mem.arena.len() as u32,
            model_slot_bytes: self.mem.model_slot.len() as u32,
            max_samples: self.mem.samples.len() as u32,
            capabilities: Capabilities(
                Capabilities::PER_LAYER
                    | if self.mem.flash_slot.is_empty() {
                        0
                    } else {
                        Capabilities::FLASH_SLOT
                    }
                    | if cfg!(feature = "uart-log") {
                        Capabilities::DEFMT_LOG
                    } else {
                        0
                    },
            ),
        }
    }
}
