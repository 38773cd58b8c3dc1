//! `db load`, `db HEX`, `db print`: the input buffer, in the RAM model slot
//! (which this mode leaves unused: its model is in the flash slot). Every
//! write is bounds-checked against the size `db load` declared, and that
//! size against the buffer.

use embedded_io::Write;

use super::Mlperf;
use super::reply::{error, line};
use crate::agent::Agent;
use crate::clock::TickClock;

/// Input bytes per `m-buffer-` line of `db print`.
const PRINT_BYTES: usize = 8;

/// The input buffer's fill.
#[derive(Default)]
pub struct Db {
    /// Bytes `db load` announced.
    pub declared: usize,
    /// Bytes received since.
    pub written: usize,
}

impl<C: TickClock> Agent<'_, C> {
    /// `db load N`.
    pub(super) fn db_load<W: Write>(
        &mut self,
        state: &mut Mlperf,
        n: usize,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let capacity = self.mem.model_slot.len();
        state.db = Db::default();
        if n > capacity {
            return error(
                out,
                format_args!("db load {n} exceeds the input buffer of {capacity} bytes"),
            );
        }
        state.db.declared = n;
        line(out, format_args!("m-[Expecting {n} bytes]"))
    }

    /// `db HEX`: the digits are all checked before any byte is written;
    /// digits past the declared size are dropped, as in the reference.
    pub(super) fn db_hex<W: Write>(
        &mut self,
        state: &mut Mlperf,
        hex: &str,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let db = &mut state.db;
        if db.declared == 0 {
            return error(out, format_args!("db load must come before db data"));
        }
        if !hex.len().is_multiple_of(2) {
            // The reference firmware's words, spelling included: hosts may
            // match them.
            return error(out, format_args!("Insufficent number of hex digits"));
        }
        if let Some(bad) = hex
            .as_bytes()
            .chunks(2)
            .find(|pair| pair.iter().any(|d| !d.is_ascii_hexdigit()))
        {
            let bad = core::str::from_utf8(bad).unwrap_or("??");
            return error(out, format_args!("Invalid hex digit '{bad}'"));
        }
        let was_full = db.written == db.declared;
        for pair in hex.as_bytes().chunks(2) {
            if db.written == db.declared {
                break;
            }
            let Some(slot) = self.mem.model_slot.get_mut(db.written) else {
                break;
            };
            *slot = (digit(pair[0]) << 4) | digit(pair[1]);
            db.written += 1;
        }
        if !was_full && db.written == db.declared {
            line(out, format_args!("m-load-done"))?;
        }
        Ok(())
    }

    /// `db print`: the bytes received, eight to an `m-buffer-` line, as
    /// lowercase hex joined by `-`.
    pub(super) fn db_print<W: Write>(&self, state: &Mlperf, out: &mut W) -> Result<(), W::Error> {
        let received = self
            .mem
            .model_slot
            .get(..state.db.written)
            .unwrap_or_default();
        for bytes in received.chunks(PRINT_BYTES) {
            let mut text: heapless::String<{ 9 + 3 * PRINT_BYTES }> = heapless::String::new();
            let _ = text.push_str("m-buffer");
            for byte in bytes {
                let _ = core::fmt::Write::write_fmt(&mut text, format_args!("-{byte:02x}"));
            }
            line(out, format_args!("{text}"))?;
        }
        Ok(())
    }
}

/// The value of one hex digit, checked by the caller.
fn digit(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d.to_ascii_lowercase().wrapping_sub(b'a').wrapping_add(10),
    }
}
