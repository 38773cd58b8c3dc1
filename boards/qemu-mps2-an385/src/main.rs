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

mod clock;
mod flash_slot;
mod stack;
mod uart;

use core::fmt::Write as _;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hio};
use static_cell::ConstStaticCell;
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
    let clock = clock::SysTickClock::start(core.SYST, CORE_CLOCK_HZ);
    let mut uart = uart::Uart0::enable();
    let memory = Memory {
        model_slot: MODEL_SLOT.take(),
        flash_slot: flash_slot::contents(),
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

/// `major.minor.patch` packed as `major << 16 | minor << 8 | patch`.
const fn version(v: &str) -> u32 {
    let bytes = v.as_bytes();
    let (mut packed, mut part, mut i) = (0u32, 0u32, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                packed = packed << 8 | part;
                part = 0;
            }
            d @ b'0'..=b'9' => part = part * 10 + (d - b'0') as u32,
            _ => break,
        }
        i += 1;
    }
    packed << 8 | part
}

/// A decimal number from build.rs, at compile time.
const fn decimal(digits: &str) -> usize {
    let bytes = digits.as_bytes();
    let (mut value, mut i) = (0usize, 0);
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

/// The build hash build.rs computed, 16 hex digits, as 8 bytes.
const fn build_hash(hex: &str) -> [u8; 8] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        }
    }
    let h = hex.as_bytes();
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 && 2 * i + 1 < h.len() {
        out[i] = nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}
