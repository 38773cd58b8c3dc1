//! Stack high-water mark: the free RAM below the stack is painted with a
//! pattern at boot, and the deepest word no longer holding it shows how far
//! the stack has grown.

#![allow(unsafe_code)]

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The paint.
const PAINT: u32 = 0xC0DE_57AC;
/// Bytes below the stack pointer left unpainted at boot.
const MARGIN: usize = 256;

unsafe extern "C" {
    /// End of `.bss` (cortex-m-rt's linker script): the stack may grow down to here.
    static __sheap: u32;
    /// Initial stack pointer (cortex-m-rt's linker script).
    static _stack_start: u32;
}

/// Only the symbols' addresses are taken, never their values.
fn bottom() -> usize {
    addr_of!(__sheap) as usize
}

fn top() -> usize {
    addr_of!(_stack_start) as usize
}

/// Paints the free stack. Call first thing in `main`.
pub fn paint() {
    let limit = (cortex_m::register::msp::read() as usize).saturating_sub(MARGIN);
    let mut addr = bottom();
    while addr + 4 <= limit {
        // SAFETY: [bottom, limit) is RAM between the end of `.bss` and the
        // live stack, which nothing else uses.
        unsafe { write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

/// Deepest stack use since boot, bytes.
pub fn used() -> u32 {
    let mut addr = bottom();
    let top = top();
    // SAFETY: reads of RAM between the end of `.bss` and the initial stack
    // pointer, all mapped.
    while addr < top && unsafe { read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    (top - addr) as u32
}
