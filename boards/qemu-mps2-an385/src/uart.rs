//! UART0 of the MPS2 board: an Arm CMSDK APB UART at 0x4000_4000, polled.

#![allow(unsafe_code)]

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x4000_4000;
const DATA: usize = BASE;
const STATE: usize = BASE + 0x04;
const CTRL: usize = BASE + 0x08;
const BAUDDIV: usize = BASE + 0x10;

const STATE_TX_FULL: u32 = 1;
const STATE_RX_FULL: u32 = 1 << 1;
/// TX and RX enabled; the UART drops every byte until both are set.
const CTRL_TX_RX: u32 = 0b11;

fn read(register: usize) -> u32 {
    // SAFETY: `register` is one of the UART's 32-bit registers above, which
    // are always mapped on this machine and have no read side effects
    // beyond taking a received byte (DATA), which is the point.
    unsafe { read_volatile(register as *const u32) }
}

fn write(register: usize, value: u32) {
    // SAFETY: as in `read`; writes go to the UART's own registers only.
    unsafe { write_volatile(register as *mut u32, value) }
}

/// UART0, owned by the agent.
pub struct Uart0(());

impl Uart0 {
    /// Enables transmit and receive. The baud divisor is the smallest the
    /// UART accepts; QEMU does not pace the bytes by it.
    pub fn enable() -> Self {
        write(BAUDDIV, 16);
        write(CTRL, CTRL_TX_RX);
        Self(())
    }
}

impl embedded_io::ErrorType for Uart0 {
    type Error = Infallible;
}

impl embedded_io::Read for Uart0 {
    /// Waits for a byte, then takes every byte already received.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while read(STATE) & STATE_RX_FULL == 0 {}
        let mut n = 0;
        while n < buf.len() && read(STATE) & STATE_RX_FULL != 0 {
            buf[n] = read(DATA) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Uart0 {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &byte in buf {
            while read(STATE) & STATE_TX_FULL != 0 {}
            write(DATA, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
