//! The firmware's defmt logs, decoded on the host with defmt-decoder and
//! the string table of the firmware's ELF. They arrive as raw bytes (in
//! the protocol's `Log` frames on a UART, or on an RTT channel) and leave
//! as lines with a level.

use std::path::Path;

use defmt_decoder::{DecodeError, Encoding, Table};
use vlab_harness::{Error, Result};

/// A decoded log line of the firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The level (`None` for `defmt::println!`).
    pub level: Option<Level>,
    /// The formatted message.
    pub text: String,
}

/// A defmt log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `trace!`
    Trace,
    /// `debug!`
    Debug,
    /// `info!`
    Info,
    /// `warn!`
    Warn,
    /// `error!`
    Error,
}

impl Level {
    /// The level's name as log lines show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    fn from_defmt(level: defmt_parser::Level) -> Self {
        match level {
            defmt_parser::Level::Trace => Level::Trace,
            defmt_parser::Level::Debug => Level::Debug,
            defmt_parser::Level::Info => Level::Info,
            defmt_parser::Level::Warn => Level::Warn,
            defmt_parser::Level::Error => Level::Error,
        }
    }
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.level {
            Some(level) => write!(f, "{:<5} {}", level.as_str(), self.text),
            None => f.write_str(&self.text),
        }
    }
}

/// Decodes a firmware's defmt byte stream, which may arrive in pieces of
/// any size.
pub struct DefmtDecoder {
    table: Table,
    /// Bytes of a frame not yet complete.
    partial: Vec<u8>,
    /// Frames that did not decode (bytes lost on the link).
    malformed: u64,
}

impl DefmtDecoder {
    /// The decoder for the firmware ELF `bytes` read from `elf`, or `None`
    /// when the firmware does not log with defmt.
    pub fn from_elf(elf: &Path, bytes: &[u8]) -> Result<Option<Self>> {
        let table = Table::parse(bytes).map_err(|e| {
            Error::runtime(format!(
                "{}: cannot read its defmt log table: {e}",
                elf.display()
            ))
        })?;
        let Some(table) = table else {
            return Ok(None);
        };
        if table.encoding() != Encoding::Rzcobs {
            return Err(Error::runtime(format!(
                "{}: its defmt logs use the raw encoding, which cannot recover from bytes lost on the link; build it with defmt's default (rzcobs)",
                elf.display()
            )));
        }
        Ok(Some(Self {
            table,
            partial: Vec::new(),
            malformed: 0,
        }))
    }

    /// Takes `bytes` of the stream and returns the lines they complete.
    pub fn received(&mut self, bytes: &[u8]) -> Vec<LogLine> {
        self.partial.extend_from_slice(bytes);
        // rzcobs frames end with a zero byte: decode the complete ones and
        // keep the rest for the next bytes.
        let Some(end) = self.partial.iter().rposition(|&b| b == 0) else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        let mut decoder = self.table.new_stream_decoder();
        decoder.received(&complete);
        let mut lines = Vec::new();
        loop {
            match decoder.decode() {
                Ok(frame) => lines.push(LogLine {
                    level: frame.level().map(Level::from_defmt),
                    text: frame.display_message().to_string(),
                }),
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => self.malformed += 1,
            }
        }
        lines
    }

    /// Frames that could not be decoded so far.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The QEMU board's firmware, built by scripts/build-firmware.sh.
    fn firmware() -> std::path::PathBuf {
        let elf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../boards/target/thumbv7m-none-eabi/release/vlab-board-qemu-mps2-an385");
        assert!(elf.is_file(), "run scripts/build-firmware.sh first");
        elf
    }

    #[test]
    fn a_file_that_is_not_an_elf_is_an_error() {
        let Err(err) = DefmtDecoder::from_elf(Path::new("firmware.elf"), b"not an ELF") else {
            panic!("not an ELF")
        };
        assert!(
            err.message()
                .contains("firmware.elf: cannot read its defmt log table")
        );
    }

    #[test]
    fn garbage_bytes_decode_to_nothing_without_panicking() {
        let elf = firmware();
        let bytes = std::fs::read(&elf).unwrap();
        let mut decoder = DefmtDecoder::from_elf(&elf, &bytes).unwrap().unwrap();
        let lines = decoder.received(&[0xff, 0x13, 0x00, 0x42, 0x00, 0x07]);
        assert!(lines.is_empty());
        assert!(decoder.malformed() > 0);
    }
}
