//! MLPerf Tiny mode: the agent as an MLPerf Tiny device under test, for
//! the official runners (docs/mlperf-tiny.md). The host's first byte
//! picks the mode ([`super::Agent::serve`]): an ASCII letter, as in an
//! MLPerf Tiny host's `name%`, selects this one until the board resets.
//!
//! Commands end with `%`. Replies are lines ending `\r\n`: `m-` messages
//! and `e-` errors, and every command, refused ones too, ends with
//! `m-ready`. Nothing is sent unasked. The model is the flash slot's, and
//! its MLPerf Tiny key comes from the slot's header. `db` fills a buffer
//! in the RAM model slot, and `infer` copies it into the model's input.
//!
//! Where the reference firmware misbehaves, this mode does not, in ways
//! the runners do not notice:
//! - an oversize `db load`, data before a `db load`, an empty command and
//!   a command over 80 characters are `e-` errors;
//! - `\r`, `\n` and NUL between commands are ignored;
//! - timestamps are 64-bit microseconds, read around the loop and printed
//!   after it ([`infer`]);
//! - results are real decimals.

mod command;
mod db;
mod decimal;
mod infer;
mod input;
mod line;
mod reply;

use embedded_io::Write;
use vlab_protocol::{MAX_KEY, SlotHeader};

use self::command::{Command, Refusal, parse};
use self::db::Db;
use self::line::{CommandLine, Line, MAX_COMMAND};
use self::reply::{error, line};
use super::Agent;
use crate::clock::TickClock;
use crate::log;

/// The vendor in `m-name-dut-[...]`.
const VENDOR: &str = "vlab";

/// The profile text, as the reference firmware's, for EEMBC parity.
const PROFILE: &str = "ULPMark for tinyML Firmware V0.0.1";

/// The help text, without the reference's typos.
const HELP: &[&str] = &[
    PROFILE,
    "",
    "help         : Print this information",
    "name         : Print the name of the device",
    "timestamp    : Print the time in microseconds",
    "db SUBCMD    : Manipulate the input byte buffer",
    "  load N     : Allocate N bytes and set the load counter",
    "  db HH[HH]* : Load 8-bit hex bytes until N bytes",
    "  print      : Print the bytes loaded as hex",
    "infer N [W=10]: Load the input, run W warmup then N timed inferences",
    "results      : Print the last inference's outputs",
];

/// The mode's state between bytes.
#[derive(Default)]
pub(super) struct Mlperf {
    line: CommandLine,
    db: Db,
    /// An inference ran since the last `infer` began.
    results: bool,
    /// The flash slot's MLPerf Tiny model key.
    key: heapless::String<MAX_KEY>,
    /// Why the flash slot's model did not load, if it did not.
    refused: Option<heapless::String<64>>,
}

impl<C: TickClock> Agent<'_, C> {
    /// Enters MLPerf Tiny mode: the flash slot's model becomes the model.
    pub(super) fn mlperf_start(&mut self) -> Mlperf {
        let found = SlotHeader::decode(self.mem.flash_slot)
            .filter(|h| h.model(self.mem.flash_slot).is_some());
        let mut state = Mlperf::default();
        let Some(header) = found else {
            log::warning!("MLPerf Tiny mode, and no model in the flash slot");
            return state;
        };
        match self.load_flash_slot(header.len as usize, header.crc) {
            Ok(_) => {
                let _ = state.key.push_str(header.key());
                log::info!(
                    "MLPerf Tiny mode, model {=str} from the flash slot",
                    header.key()
                )
            }
            Err(failure) => {
                log::error!(
                    "MLPerf Tiny mode: the flash slot's model does not load: {=str}",
                    failure.1.as_str()
                );
                state.refused = Some(failure.1);
            }
        }
        state
    }

    /// Takes one byte from the host; a whole command is carried out and
    /// answered, `m-ready` last.
    pub(super) fn mlperf_byte<W: Write>(
        &mut self,
        state: &mut Mlperf,
        byte: u8,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let Some(command) = state.line.push(byte) else {
            return Ok(());
        };
        match command {
            Line::Command(text) => self.mlperf_command(state, &text, out)?,
            Line::TooLong => error(
                out,
                format_args!("Command longer than {MAX_COMMAND} characters"),
            )?,
            Line::NotAscii => error(out, format_args!("Command is not ASCII"))?,
        }
        line(out, format_args!("m-ready"))
    }

    fn mlperf_command<W: Write>(
        &mut self,
        state: &mut Mlperf,
        text: &str,
        out: &mut W,
    ) -> Result<(), W::Error> {
        let command = match parse(text) {
            Ok(command) => command,
            Err(Refusal::Empty) => return error(out, format_args!("Empty command")),
            Err(Refusal::Unknown(word)) => {
                return error(out, format_args!("Unknown command: {word}"));
            }
            Err(Refusal::Usage(why)) => return error(out, format_args!("{why}")),
        };
        match command {
            Command::Name => line(out, format_args!("m-name-dut-[{VENDOR}]")),
            Command::Profile => {
                line(out, format_args!("m-profile-[{PROFILE}]"))?;
                let key = if state.key.is_empty() {
                    "none"
                } else {
                    &state.key
                };
                line(out, format_args!("m-model-[{key}]"))
            }
            Command::Timestamp => {
                let ticks = vlab_micro::Clock::now(&mut self.clock);
                let us = infer::micros(ticks, self.clock.hz());
                line(out, format_args!("m-lap-us-{us}"))
            }
            Command::Help => HELP
                .iter()
                .try_for_each(|text| line(out, format_args!("{text}"))),
            Command::DbLoad(n) => self.db_load(state, n, out),
            Command::DbHex(hex) => self.db_hex(state, hex, out),
            Command::DbPrint => self.db_print(state, out),
            Command::Infer { iterations, warmup } => self.infer(state, iterations, warmup, out),
            Command::Results => self.results(state, out),
        }
    }
}
