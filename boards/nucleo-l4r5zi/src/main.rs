//! vlab firmware for the ST NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F): the
//! vlab-firmware agent serves the wire protocol on LPUART1, which the
//! on-board ST-LINK V3 bridges to the host's USB as a virtual COM port, at
//! 120 MHz from the PLL, timing inferences with the DWT cycle counter.
//! Its defmt logs travel in the protocol's Log frames. The model comes
//! over the link into RAM, or is written by `vlab` through the probe into
//! flash bank 2 (board.toml's flash slot).

#![no_std]
#![no_main]

#[path = "../../stm32/uart_link.rs"]
mod uart_link;

use cortex_m_rt::entry;
use embassy_stm32::rcc::{Pll, PllMul, PllPreDiv, PllRDiv, PllSource, Sysclk};
use embassy_stm32::usart::{self, Uart};
use uart_link::UartLink;
use vlab_board_support::{DwtClock, serve_forever, stack};
use vlab_firmware::Agent;

/// Baud rate of the link (board.toml's `baud`).
const BAUD: u32 = 115_200;

// Model slot in RAM (filled over the link), tensor arena (inputs included)
// and the per-inference samples a run keeps; the core clock (HSI16 / 1 x 15
// / 2) comes from board.toml.
vlab_board_support::declare_firmware! {
    model_slot: 96 << 10,
    arena: 96 << 10,
    samples: 4 << 10,
}

#[entry]
fn main() -> ! {
    stack::paint();
    let mut config = embassy_stm32::Config::default();
    config.rcc.hsi = true;
    config.rcc.pll = Some(Pll {
        source: PllSource::HSI,
        prediv: PllPreDiv::DIV1,
        mul: PllMul::MUL15,
        divp: None,
        divq: None,
        divr: Some(PllRDiv::DIV2),
    });
    config.rcc.sys = Sysclk::PLL1_R;
    let p = embassy_stm32::init(config);
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals taken twice");
    };
    let Some(clock) = DwtClock::start(core.DCB, core.DWT, CORE_CLOCK_HZ) else {
        panic!("the Cortex-M4 has a cycle counter");
    };
    // LPUART1 on PG7 (TX) and PG8 (RX): the ST-LINK's virtual COM port.
    // VDDIO2, which powers port G, is enabled by embassy-stm32's init.
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = BAUD;
    let Ok(uart) = Uart::new_blocking(p.LPUART1, p.PG8, p.PG7, uart_config) else {
        panic!("LPUART1 cannot run at {BAUD} baud");
    };
    let mut agent = Agent::new(INFO, clock, memory());
    serve_forever(&mut agent, &mut UartLink::new(uart))
}
