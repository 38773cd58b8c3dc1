//! The DWT cycle counter as a 64-bit tick counter: the 32-bit CYCCNT wraps
//! every 2^32 cycles (36 s at 120 MHz), so each read extends it by the
//! wraps seen since the last read. Inferences are read at least once per
//! wrap period (every run reads it before and after each inference), which
//! keeps the count exact for any inference shorter than one period.

use cortex_m::peripheral::{DCB, DWT};
use vlab_protocol::TimerKind;

/// CYCCNT on the core clock.
pub struct DwtClock {
    hz: u32,
    last: u32,
    high: u64,
}

impl DwtClock {
    /// Enables the trace unit and starts the cycle counter at the core
    /// clock `hz`. Returns `None` on a core without one (Cortex-M0+).
    pub fn start(mut dcb: DCB, mut dwt: DWT, hz: u32) -> Option<Self> {
        if !DWT::has_cycle_counter() {
            return None;
        }
        dcb.enable_trace();
        DWT::unlock();
        dwt.set_cycle_count(0);
        dwt.enable_cycle_counter();
        Some(Self {
            hz,
            last: 0,
            high: 0,
        })
    }
}

impl vlab_firmware::Clock for DwtClock {
    fn now(&mut self) -> u64 {
        let count = DWT::cycle_count();
        if count < self.last {
            self.high += 1 << 32;
        }
        self.last = count;
        self.high | u64::from(count)
    }
}

impl vlab_firmware::TickClock for DwtClock {
    fn hz(&self) -> u32 {
        self.hz
    }

    fn kind(&self) -> TimerKind {
        TimerKind::Dwt
    }
}
