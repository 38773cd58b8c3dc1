//! vlab firmware for QEMU's MPS2 machines: `mps2-an385` (Cortex-M3) and
//! `mps2-an386` (Cortex-M4F), which share the memory map, UART and SysTick.
//! The board name and clock come from the crate's board.toml (build.rs).
//!
//! It serves vlab's wire protocol on UART0 with the vlab-firmware agent and
//! times inferences with SysTick (QEMU has no DWT cycle counter). A panic or
//! a fault prints its cause on the semihosting console and ends QEMU with a
//! failure exit status, so the host sees it in QEMU's output and exit code.

#![no_std]
#![no_main]

mod uart;

use core::fmt::Write as _;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hio};
use static_cell::ConstStaticCell;
use vlab_board_support::build::{build_hash, decimal, version};
use vlab_board_support::{SysTickClock, flash_slot, stack};
use vlab_firmware::{Agent, BoardInfo, Memory};

/// Core clock of the board, Hz; SysTick counts at this rate.
const CORE_CLOCK_HZ: u32 = decimal(env!("VLAB_CORE_CLOCK_HZ")) as u32;
/// Model slot, filled over the link.
const MODEL_SLOT_BYTES: usize = 1 << 20;
/// Tensor arena.
const ARENA_BYTES: usize = 1 << 20;
/// Input staging.
const INPUT_BYTES: usize = 64 << 10;
/// Per-inference samples a run keeps.
const MAX_SAMPLES: usize = 16 << 10;

static MODEL_SLOT: ConstStaticCell<[u8; MODEL_SLOT_BYTES]> =
    ConstStaticCell::new([0; MODEL_SLOT_BYTES]);
static ARENA: ConstStaticCell<[u8; ARENA_BYTES]> = ConstStaticCell::new([0; ARENA_BYTES]);
static INPUTS: ConstStaticCell<[u8; INPUT_BYTES]> = ConstStaticCell::new([0; INPUT_BYTES]);
static SAMPLES: ConstStaticCell<[u32; MAX_SAMPLES]> = ConstStaticCell::new([0; MAX_SAMPLES]);

/// The firmware's build hash, also kept as a symbol in the image so that
/// the host can read it from the ELF (and, with a probe, from the board's
/// flash) to tell whether the board runs this build.
// `no_mangle` is an unsafe attribute: the symbol name must be unique in
// the image, which the `VLAB_` prefix ensures.
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
    let Some(core) = cortex_m::Peripherals::take() else {
        fail(format_args!("core peripherals taken twice"));
    };
    let clock = SysTickClock::start(core.SYST, CORE_CLOCK_HZ);
    let mut uart = uart::Uart0::enable();
    // SAFETY: board.toml places the slot in QEMU's PSRAM, always mapped,
    // outside the image, written only by QEMU's loader at launch.
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
    // The UART never reports the end of its stream, so this serves forever.
    let Ok(()) = agent.serve(&mut uart);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Prints `message` on the semihosting console and ends QEMU with a failure
/// exit status.
fn fail(message: core::fmt::Arguments<'_>) -> ! {
    if let Ok(mut stderr) = hio::hstderr() {
        let _ = writeln!(stderr, "vlab firmware: {message}");
    }
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fail(format_args!("panic: {info}"))
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    fail(format_args!("hard fault at pc {:#010x}", frame.pc()))
}
