//! The agent: a state machine over the model slot, one request in, its
//! events out.
//!
//! The agent's state between requests is one [`Slot`] value: empty, receiving
//! an upload, a refused model, or a model ready to run (with where its
//! inputs and outputs are in the arena, and the last run). [`Agent::handle`]
//! hands each request to its own short handler, which reads the slot,
//! answers, and moves the slot to its next state: `Hello` in identify.rs,
//! the model's arrival in model.rs, inputs and read-backs in transfer.rs,
//! `Run` in run.rs.

mod failure;
mod identify;
mod layout;
mod mlperf;
mod model;
mod run;
mod slot;
mod transfer;

use embedded_io::{Read, Write};
use vlab_protocol::{Decoder, ErrorCode, Event, MAX_FRAME, Request, encode};

use crate::clock::TickClock;
use crate::log;
use failure::{Failure, truncated};
use slot::Slot;

/// Most operators whose ticks a per-layer run keeps (the first ones of a
/// larger model are timed).
pub const MAX_LAYERS: usize = 512;

/// What a board says about itself.
#[derive(Debug, Clone, Copy)]
pub struct BoardInfo {
    /// Board name, as in its board.toml.
    pub name: &'static str,
    /// Core clock in Hz.
    pub core_clock_hz: u32,
    /// Firmware version, `major << 16 | minor << 8 | patch`.
    pub firmware_version: u32,
    /// First 8 bytes of the firmware build's hash.
    pub build_hash: [u8; 8],
    /// Deepest stack use so far in bytes, or 0 where the board cannot tell.
    pub stack_used: fn() -> u32,
}

/// The memory the agent works in, all lent by the board.
pub struct Memory<'a> {
    /// Where the model is uploaded.
    pub model_slot: &'a mut [u8],
    /// A model slot the flasher fills (empty where the board has none): a
    /// `ModelQuery` whose length and CRC match its start uses the model
    /// there, without an upload.
    pub flash_slot: &'a [u8],
    /// The tensor arena. It holds the interpreter's tables and the model's
    /// inputs too: a sample is written straight into its input tensor.
    pub arena: &'a mut [u8],
    /// Per-inference ticks of the last run, read back with `ReadSamples`.
    pub samples: &'a mut [u32],
}

/// The protocol a session speaks, picked by the host's first byte.
// One value on `serve`'s stack for the whole session, and no allocator to
// box the MLPerf Tiny state into.
#[allow(clippy::large_enum_variant)]
enum Mode {
    /// No byte yet.
    Undecided,
    /// vlab's framed protocol.
    Vlab,
    /// MLPerf Tiny's text protocol.
    Mlperf(mlperf::Mlperf),
}

/// The on-device agent.
pub struct Agent<'a, C: TickClock> {
    info: BoardInfo,
    clock: C,
    mem: Memory<'a>,
    decoder: Decoder,
    /// What the model slot holds, and what can be done with it.
    slot: Slot,
    /// Per-operator ticks of the last run's profiled inference.
    layer_ticks: [u32; MAX_LAYERS],
}

impl<'a, C: TickClock> Agent<'a, C> {
    /// An agent for a board, with its clock and memory.
    pub fn new(info: BoardInfo, clock: C, mem: Memory<'a>) -> Self {
        Self {
            info,
            clock,
            mem,
            decoder: Decoder::new(),
            slot: Slot::Empty,
            layer_ticks: [0; MAX_LAYERS],
        }
    }

    /// Serves requests from `io` until it reports the end of the stream.
    ///
    /// The host's first byte picks the protocol until the board resets: an
    /// ASCII letter (an MLPerf Tiny host's `name%`) selects MLPerf Tiny mode
    /// ([`mlperf`]); anything else, such as the first byte of a `Hello`
    /// frame, selects vlab's protocol. In it, corrupt frames are answered
    /// with `Error { BadFrame }`.
    pub fn serve<T: Read + Write>(&mut self, io: &mut T) -> Result<(), T::Error> {
        let mut buf = [0u8; 64];
        let mut mode = Mode::Undecided;
        loop {
            let n = io.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            for &byte in &buf[..n] {
                if let Mode::Undecided = mode {
                    mode = if byte.is_ascii_alphabetic() {
                        Mode::Mlperf(self.mlperf_start())
                    } else {
                        Mode::Vlab
                    };
                }
                match &mut mode {
                    Mode::Mlperf(state) => self.mlperf_byte(state, byte, io)?,
                    _ => self.vlab_byte(byte, io)?,
                }
            }
        }
    }

    /// Takes one byte of vlab's protocol; a whole frame is carried out and
    /// answered.
    fn vlab_byte<T: Write>(&mut self, byte: u8, io: &mut T) -> Result<(), T::Error> {
        let Some(frame) = self.decoder.push::<Request>(byte) else {
            return Ok(());
        };
        let mut written = Ok(());
        let mut send = |event: &Event| {
            if written.is_ok() {
                written = write_event(io, event);
            }
        };
        match frame {
            Ok(request) => self.handle(request, &mut send),
            Err(e) => {
                let detail = truncated(format_args!("{e}"));
                log::warning!("bad frame from the host: {=str}", detail.as_str());
                send(&Event::Error {
                    code: ErrorCode::BadFrame,
                    detail,
                })
            }
        }
        #[cfg(feature = "uart-log")]
        send_logs(&mut send);
        written
    }

    /// Carries out one request, passing every event it produces to `send`.
    pub fn handle(&mut self, request: Request, send: &mut dyn FnMut(&Event)) {
        if let Err(Failure(code, detail)) = self.dispatch(request, send) {
            match code {
                // The link lost or mangled something; the host resends.
                ErrorCode::BadFrame | ErrorCode::BadChunk => {
                    log::warning!("request refused: {=str}", detail.as_str())
                }
                _ => log::error!("request failed: {=str}", detail.as_str()),
            }
            send(&Event::Error { code, detail });
        }
    }

    /// Hands `request` to its handler.
    fn dispatch(&mut self, request: Request, send: &mut dyn FnMut(&Event)) -> Result<(), Failure> {
        match request {
            Request::Hello { .. } => self.hello(send),
            Request::ModelQuery { len, crc } => self.model_query(len, crc, send),
            Request::ModelBegin { len } => self.model_begin(len, send),
            Request::ModelChunk { offset, crc, data } => self.model_chunk(offset, crc, &data, send),
            Request::ModelCommit { crc } => self.model_commit(crc, send),
            Request::InputChunk {
                index,
                offset,
                data,
            } => self.input_chunk(index, offset, &data, send),
            Request::Run {
                id,
                warmup,
                iterations,
                samples,
                per_layer,
            } => self.run(
                run::Plan {
                    id,
                    warmup,
                    iterations,
                    samples,
                    per_layer,
                },
                send,
            ),
            Request::ReadSamples { first } => self.read_samples(first, send),
            Request::ReadLayer { index } => self.read_layer(index, send),
            Request::ReadOutput { index, offset } => self.read_output(index, offset, send),
        }
    }
}

/// Sends the logs buffered by [`crate::uart_log`] in `Log` frames.
#[cfg(feature = "uart-log")]
fn send_logs(send: &mut dyn FnMut(&Event)) {
    loop {
        let mut chunk = [0u8; vlab_protocol::MAX_LOG];
        let (n, dropped) = crate::uart_log::drain(&mut chunk);
        if dropped > 0 {
            log::warning!(
                "{=u32} log frames dropped: the log buffer was full",
                dropped
            );
        }
        if n == 0 {
            return;
        }
        send(&Event::Log(
            heapless::Vec::from_slice(&chunk[..n]).unwrap_or_default(),
        ));
    }
}

/// Encodes and writes one event frame. Every event fits in a frame by
/// construction (bounded fields), so an encoding failure cannot happen; it
/// would drop the event rather than stop the agent.
fn write_event<T: Write>(io: &mut T, event: &Event) -> Result<(), T::Error> {
    let mut frame = [0u8; MAX_FRAME];
    match encode(event, &mut frame) {
        Ok(n) => io.write_all(&frame[..n]),
        Err(_) => Ok(()),
    }
}
