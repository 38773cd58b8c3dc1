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
use vlab_board_support::{SysTickClock, stack};
use vlab_firmware::Agent;

// Model slot (filled over the link), tensor arena (inputs included) and the
// per-inference samples a run keeps. board.toml places the flash slot in
// QEMU's PSRAM, which QEMU's loader fills at launch (`--preload`).
vlab_board_support::declare_firmware! {
    model_slot: 1 << 20,
    arena: 1 << 20,
    samples: 16 << 10,
}

#[entry]
fn main() -> ! {
    stack::paint();
    let Some(core) = cortex_m::Peripherals::take() else {
        fail(format_args!("core peripherals taken twice"));
    };
    let clock = SysTickClock::start(core.SYST, CORE_CLOCK_HZ);
    let mut uart = uart::Uart0::enable();
    let mut agent = Agent::new(INFO, clock, memory());
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
