//! vlab firmware for the Nordic nRF52840-DK (nRF52840, Cortex-M4F): the
//! vlab-firmware agent serves the wire protocol over RTT through the
//! on-board J-Link (up/down channel 1) and logs through defmt on RTT up
//! channel 0, at 64 MHz from the 32 MHz crystal, timing inferences with
//! the DWT cycle counter. The model comes over RTT into RAM, or is written
//! by `vlab` through the probe into the second half of the flash
//! (board.toml's flash slot).

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use embassy_nrf::config::HfclkSource;
use vlab_board_support::{DwtClock, RttLink, serve_forever, stack};
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
    let mut config = embassy_nrf::config::Config::default();
    // The crystal (±40 ppm) rather than the internal RC (±1.5 %): tick
    // counts become times through this clock.
    config.hfclk_source = HfclkSource::ExternalXtal;
    let _peripherals = embassy_nrf::init(config);
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let Some(clock) = DwtClock::start(core.DCB, core.DWT, CORE_CLOCK_HZ) else {
        panic!("the Cortex-M4 has a cycle counter");
    };
    let mut agent = Agent::new(INFO, clock, memory());
    serve_forever(&mut agent, &mut link)
}
