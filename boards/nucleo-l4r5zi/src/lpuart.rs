//! LPUART1 (PG7 TX, PG8 RX: the ST-LINK's virtual COM port) as the
//! agent's `embedded_io` byte stream. embassy-stm32's blocking UART speaks
//! embedded-io 0.6; the agent takes 0.7, hence this adapter.

use embassy_stm32::Peri;
use embassy_stm32::mode::Blocking;
use embassy_stm32::peripherals::{LPUART1, PG7, PG8};
use embassy_stm32::usart::{Config, Error, Uart};

/// Baud rate of the link (board.toml's `baud`).
const BAUD: u32 = 115_200;

/// The link to the host.
pub struct Lpuart {
    uart: Uart<'static, Blocking>,
}

/// A UART error, as `embedded_io` reports it.
#[derive(Debug)]
pub struct LinkError(Error);

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "LPUART1: {:?}", self.0)
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

impl Lpuart {
    /// LPUART1 at [`BAUD`], 8N1. VDDIO2, which powers port G, is enabled
    /// by embassy-stm32's init on the STM32L4+.
    pub fn new(
        lpuart: Peri<'static, LPUART1>,
        rx: Peri<'static, PG8>,
        tx: Peri<'static, PG7>,
    ) -> Self {
        let mut config = Config::default();
        config.baudrate = BAUD;
        let Ok(uart) = Uart::new_blocking(lpuart, rx, tx, config) else {
            panic!("LPUART1 cannot run at {BAUD} baud");
        };
        Self { uart }
    }
}

impl embedded_io::ErrorType for Lpuart {
    type Error = LinkError;
}

impl embedded_io::Read for Lpuart {
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

impl embedded_io::Write for Lpuart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.uart.blocking_write(buf).map_err(LinkError)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.uart.blocking_flush().map_err(LinkError)
    }
}
