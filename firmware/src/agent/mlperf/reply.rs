//! Reply lines: `m-` messages and `e-` errors, each ended by `\r\n`.

use core::fmt::Arguments;

use embedded_io::{Write, WriteFmtError};

/// Writes one line, `\r\n` added. A formatting error (which the agent's
/// own arguments cannot cause) loses the line, not the link.
pub fn line<W: Write>(out: &mut W, text: Arguments<'_>) -> Result<(), W::Error> {
    match out.write_fmt(format_args!("{text}\r\n")) {
        Ok(()) | Err(WriteFmtError::FmtError) => Ok(()),
        Err(WriteFmtError::Other(e)) => Err(e),
    }
}

/// Writes an error line: `e-[text]`.
pub fn error<W: Write>(out: &mut W, text: Arguments<'_>) -> Result<(), W::Error> {
    line(out, format_args!("e-[{text}]"))
}
