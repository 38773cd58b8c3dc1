//! vlab firmware for the ST NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F): the
//! vlab-firmware agent serves the wire protocol on LPUART1, which the
//! on-board ST-LINK V3 bridges to the host's USB as a virtual COM port, at
//! 120 MHz from the PLL, timing inferences with the DWT cycle counter.
//! Its defmt logs travel in the protocol's Log frames. The model comes
//! over the link into RAM, or is written by `vlab` through the probe into
//! flash bank 2 (board.toml's flash slot).

#![no_std]
#![no_main]

mod lpuart;

use cortex_m_rt::entry;
use embassy_stm32::rcc::{Pll, PllMul, PllPreDiv, PllRDiv, PllSource, Sysclk};
use static_cell::ConstStaticCell;
use vlab_board_support::build::{build_hash, decimal, version};
use vlab_board_support::{DwtClock, flash_slot, stack};
use vlab_firmware::{Agent, BoardInfo, Memory};

/// Core clock, Hz: HSI16 / 1 x 15 / 2.
const CORE_CLOCK_HZ: u32 = decimal(env!("VLAB_CORE_CLOCK_HZ")) as u32;
/// Model slot in RAM, filled over the link.
const MODEL_SLOT_BYTES: usize = 96 << 10;
/// Tensor arena.
const ARENA_BYTES: usize = 96 << 10;
/// Input staging.
const INPUT_BYTES: usize = 16 << 10;
/// Per-inference samples a run keeps.
const MAX_SAMPLES: usize = 4 << 10;

static MODEL_SLOT: ConstStaticCell<[u8; MODEL_SLOT_BYTES]> =
    ConstStaticCell::new([0; MODEL_SLOT_BYTES]);
static ARENA: ConstStaticCell<[u8; ARENA_BYTES]> = ConstStaticCell::new([0; ARENA_BYTES]);
static INPUTS: ConstStaticCell<[u8; INPUT_BYTES]> = ConstStaticCell::new([0; INPUT_BYTES]);
static SAMPLES: ConstStaticCell<[u32; MAX_SAMPLES]> = ConstStaticCell::new([0; MAX_SAMPLES]);

/// The firmware's build hash, also a symbol the host reads from the ELF
/// and, through the probe, from the board's flash.
// `no_mangle` is an unsafe attribute: the `VLAB_` name is unique in the image.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
#[used]
static VLAB_BUILD_HASH: [u8; 8] = build_hash(env!("VLAB_BUILD_HASH"));

/// What this firmware says about the board.
const INFO: BoardInfo = BoardInfo {
    name: env!("VLAB_BOARD_NAME"),
    core_clock_hz: CORE_CLOCK_HZ,
    firmware_version: version(env!("CARGO_PKG_VERSION")),
    build_hash: build_hash(env!("VLAB_BUILD_HASH")),
    stack_used: stack::used,
};

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
    let mut link = lpuart::Lpuart::new(p.LPUART1, p.PG8, p.PG7);
    // SAFETY: board.toml's flash slot is flash bank 2, always mapped, not
    // part of the image (memory.x gives the firmware bank 1) and written
    // only by the probe while the core is halted.
    #[allow(unsafe_code)]
    let flash_slot = unsafe {
        flash_slot::contents(
            decimal(env!("VLAB_FLASH_SLOT_ADDRESS")),
            decimal(env!("VLAB_FLASH_SLOT_BYTES")),
        )
    };
    let memory = Memory {
        model_slot: MODEL_SLOT.take(),
        flash_slot,
        arena: ARENA.take(),
        inputs: INPUTS.take(),
        samples: SAMPLES.take(),
    };
    let mut agent = Agent::new(INFO, clock, memory);
    loop {
        // A UART error (overrun, framing) ends one `serve`; the host
        // resends whatever was lost.
        let _ = agent.serve(&mut link);
    }
}

/// A panic resets the board: the host sees the link go quiet, and the
/// next run starts from a clean state.
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
