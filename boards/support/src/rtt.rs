//! The RTT link (feature `rtt`) for boards reached through a debug probe:
//! SEGGER RTT ring buffers in RAM that the probe reads and writes while the
//! core runs. Up channel 0 carries the firmware's defmt logs, up and down
//! channel 1 the protocol's frames; the host finds the control block at
//! the ELF's `_SEGGER_RTT` symbol.

use rtt_target::{ChannelMode, DownChannel, UpChannel, rtt_init, set_defmt_channel};

/// The protocol's channel pair, as the agent's `embedded_io` byte stream.
pub struct RttLink {
    up: UpChannel,
    down: DownChannel,
}

impl RttLink {
    /// Sets up the RTT control block and its channels, and makes up
    /// channel 0 defmt's global logger. Call it once: a second call does
    /// not link (duplicate symbol).
    pub fn init() -> Self {
        let channels = rtt_init! {
            up: {
                0: {
                    size: 1024,
                    mode: ChannelMode::NoBlockSkip,
                    name: "defmt"
                }
                1: {
                    size: 4096,
                    mode: ChannelMode::BlockIfFull,
                    name: "vlab"
                }
            }
            down: {
                0: {
                    size: 16,
                    name: "Terminal"
                }
                1: {
                    size: 4096,
                    name: "vlab"
                }
            }
        };
        set_defmt_channel(channels.up.0);
        Self {
            up: channels.up.1,
            down: channels.down.1,
        }
    }
}

impl embedded_io::ErrorType for RttLink {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for RttLink {
    /// Waits for at least one byte from the host: RTT has no end of stream.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.down.read(buf);
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

impl embedded_io::Write for RttLink {
    /// Blocks while the up buffer is full (the host drains it), so no
    /// protocol byte is dropped.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(self.up.write(buf))
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.up.flush();
        Ok(())
    }
}
