//! vlab firmware for the ST STM32F746G-DISCO (STM32F746NG, Cortex-M7): the
//! vlab-firmware agent serves the wire protocol on USART1, which the
//! on-board ST-LINK V2-1 bridges to the host's USB as a virtual COM port,
//! at 216 MHz from the PLL, timing inferences with the DWT cycle counter.
//! Its defmt logs travel in the protocol's Log frames. The model comes
//! over the link into RAM, or is written by `vlab` through the probe into
//! flash sectors 6-7 (board.toml's flash slot).

#![no_std]
#![no_main]

#[path = "../../stm32/uart_link.rs"]
mod uart_link;

use cortex_m_rt::entry;
use embassy_stm32::rcc::{
    APBPrescaler, Pll, PllMul, PllPDiv, PllPreDiv, PllQDiv, PllSource, Sysclk,
};
use embassy_stm32::usart::{self, Uart};
use uart_link::UartLink;
use vlab_board_support::{DwtClock, serve_forever, stack};
use vlab_firmware::Agent;

/// Baud rate of the link (board.toml's `baud`).
const BAUD: u32 = 115_200;

// Model slot in RAM (filled over the link), tensor arena (inputs included)
// and the per-inference samples a run keeps: 216 KiB of the 320 KiB of
// RAM, which leaves the agent's stack (68 KiB deep for the MLPerf Tiny
// models, docs/performance.md) room to spare; the core clock (HSI16 / 8
// x 216 / 2) comes from board.toml.
vlab_board_support::declare_firmware! {
    model_slot: 96 << 10,
    arena: 96 << 10,
    samples: 2 << 10,
}

#[entry]
fn main() -> ! {
    stack::paint();
    let mut config = embassy_stm32::Config::default();
    config.rcc.hsi = true;
    config.rcc.pll_src = PllSource::HSI;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV8,
        mul: PllMul::MUL216,
        divp: Some(PllPDiv::DIV2),
        divq: Some(PllQDiv::DIV9),
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    // APB1 at most 54 MHz, APB2 at most 108 MHz.
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    let p = embassy_stm32::init(config);
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let Some(clock) = DwtClock::start(core.DCB, core.DWT, CORE_CLOCK_HZ) else {
        panic!("the Cortex-M7 has a cycle counter");
    };
    // USART1 on PA9 (TX) and PB7 (RX): the ST-LINK's virtual COM port.
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = BAUD;
    let Ok(uart) = Uart::new_blocking(p.USART1, p.PB7, p.PA9, uart_config) else {
        panic!("USART1 cannot run at {BAUD} baud");
    };
    let mut agent = Agent::new(INFO, clock, memory());
    serve_forever(&mut agent, &mut UartLink::new(uart))
}
