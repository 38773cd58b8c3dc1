//! SysTick as a 64-bit tick counter, for cores without a cycle counter
//! (Cortex-M0+) and for QEMU, whose cores have none: the 24-bit down-counter wraps every
//! 2^24 ticks (0.67 s at 25 MHz), and its exception counts the wraps.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;
use vlab_protocol::TimerKind;

/// SysTick's reload value: the whole 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;

/// Wraps of the counter since [`SysTickClock::start`].
static WRAPS: AtomicU32 = AtomicU32::new(0);

// A load and a store rather than `fetch_add`, which the Cortex-M0+ lacks:
// the exception cannot preempt itself, and `restart` writes `WRAPS` with
// interrupts off, so nothing writes in between.
#[exception]
fn SysTick() {
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// SysTick on the core clock, with wrap counting.
pub struct SysTickClock {
    syst: SYST,
    hz: u32,
}

impl SysTickClock {
    /// Starts SysTick counting at the core clock `hz`.
    pub fn start(mut syst: SYST, hz: u32) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self { syst, hz }
    }
}

impl vlab_firmware::Clock for SysTickClock {
    fn now(&mut self) -> u64 {
        loop {
            let wraps = WRAPS.load(Ordering::Acquire);
            let current = SYST::get_current();
            // A wrap after `wraps` was read whose exception has not run yet.
            let pending = SCB::is_pendst_pending();
            if WRAPS.load(Ordering::Acquire) != wraps {
                continue;
            }
            let wraps = u64::from(wraps) + u64::from(pending && current > RELOAD / 2);
            return (wraps << 24) | u64::from(RELOAD - current);
        }
    }
}

impl vlab_firmware::TickClock for SysTickClock {
    fn hz(&self) -> u32 {
        self.hz
    }

    fn kind(&self) -> TimerKind {
        TimerKind::SysTick
    }

    /// Restarts the counter at the top of a fresh wrap period.
    fn restart(&mut self) {
        cortex_m::interrupt::free(|_| {
            let before = vlab_firmware::Clock::now(self);
            // Writing the current value clears it; the next tick reloads.
            self.syst.clear_current();
            while SYST::get_current() == 0 {}
            SCB::clear_pendst();
            // The count restarts at `wraps << 24`, after `before`.
            let wraps = (before >> 24) as u32 + 1;
            WRAPS.store(wraps, Ordering::Release);
        });
    }
}
