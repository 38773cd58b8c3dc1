//! An embassy-stm32 blocking UART as the agent's `embedded_io` byte stream,
//! shared by the STM32 boards (each includes this file with `#[path]`, so
//! that it compiles against the board's own embassy-stm32 chip feature).
//! embassy-stm32's blocking UART speaks embedded-io 0.6 and implements no
//! `Read`; the agent takes embedded-io 0.7, hence this adapter.

use embassy_stm32::mode::Blocking;
use embassy_stm32::usart::{Error, Uart};

/// The link to the host: a UART the board has configured.
pub struct UartLink {
    uart: Uart<'static, Blocking>,
}

/// A UART error, as `embedded_io` reports it.
#[derive(Debug)]
pub struct LinkError(Error);

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UART: {:?}", self.0)
    }
}

impl core::error::Error for LinkError {}

impl embedded_io::Error for LinkError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0 {
            Error::Overrun => embedded_io::ErrorKind::OutOfMemory,
            _ => embedded_io::ErrorKind::InvalidData,
        }
    }
}

impl UartLink {
    /// The link over `uart`.
    pub fn new(uart: Uart<'static, Blocking>) -> Self {
        Self { uart }
    }
}

impl embedded_io::ErrorType for UartLink {
    type Error = LinkError;
}

impl embedded_io::Read for UartLink {
    /// One byte at a time: the agent wants whatever has arrived, and a
    /// blocking read of more would wait for bytes that may never come.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let Some(first) = buf.first_mut() else {
            return Ok(0);
        };
        self.uart
            .blocking_read(core::slice::from_mut(first))
            .map_err(LinkError)?;
        Ok(1)
    }
}

impl embedded_io::Write for UartLink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.uart.blocking_write(buf).map_err(LinkError)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.uart.blocking_flush().map_err(LinkError)
    }
}
