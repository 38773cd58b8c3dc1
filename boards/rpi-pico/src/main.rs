//! vlab firmware for the Raspberry Pi Pico (RP2040, Cortex-M0+): the
//! vlab-firmware agent serves the wire protocol over RTT through an SWD
//! probe (up/down channel 1) and logs through defmt on RTT up channel 0,
//! at 125 MHz (embassy-rp's default clocks from the 12 MHz crystal). The
//! Cortex-M0+ has no cycle counter, so inferences are timed with SysTick
//! on the core clock. The model comes over RTT into RAM, or is written by
//! `vlab` through the probe into the flash's second MiB (board.toml's
//! flash slot).

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vlab_board_support::{RttLink, SysTickClock, serve_forever, stack};
use vlab_firmware::Agent;

// Model slot in RAM (filled over the link), tensor arena (inputs included)
// and the per-inference samples a run keeps: 137 KiB of the 256 KiB of
// RAM, which leaves the agent's stack (68 KiB deep for the MLPerf Tiny
// models, docs/performance.md) room to spare.
vlab_board_support::declare_firmware! {
    model_slot: 64 << 10,
    arena: 64 << 10,
    samples: 1 << 10,
}

#[entry]
fn main() -> ! {
    stack::paint();
    let mut link = RttLink::init();
    let _peripherals = embassy_rp::init(embassy_rp::config::Config::default());
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let clock = SysTickClock::start(core.SYST, CORE_CLOCK_HZ);
    let mut agent = Agent::new(INFO, clock, memory());
    serve_forever(&mut agent, &mut link)
}
