//! The agent: one request in, its events out.

use core::fmt::Write as _;

use embedded_io::{Read, Write};
use heapless::{String, Vec};
use vlab_micro::{Interpreter, Model, Profiler};
use vlab_protocol::{
    CHUNK, Capabilities, Decoder, ErrorCode, Event, Identify, MAX_FRAME, MAX_SAMPLES,
    PROTOCOL_VERSION, Request, RunSummary, Stream, chunk_crc, encode,
};

use crate::clock::TickClock;
use crate::log;

/// Most operators whose ticks a per-layer run keeps (the first ones of a
/// larger model are timed).
pub const MAX_LAYERS: usize = 512;

/// Most graph inputs and outputs the agent serves.
const MAX_TENSORS: usize = 16;

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

/// The on-device agent.
pub struct Agent<'a, C: TickClock> {
    info: BoardInfo,
    clock: C,
    mem: Memory<'a>,
    decoder: Decoder,
    /// Expected length of the model being uploaded.
    upload: Option<usize>,
    /// Bytes of model in the slot.
    model_len: usize,
    /// CRC-32 of the prepared model in the slot.
    model_crc: Option<u32>,
    /// The model is the one in [`Memory::flash_slot`], not the RAM slot.
    in_flash: bool,
    /// The last finished run, whose outputs, samples and layers can be read.
    last_run: Option<LastRun>,
    /// What preparing the loaded model found, kept so that inputs and
    /// outputs are reached without preparing it again.
    prepared: Option<Prepared>,
    /// Per-operator ticks of the last run's profiled inference.
    layer_ticks: [u32; MAX_LAYERS],
}

/// The loaded model as prepared in the arena: its arena use and where its
/// inputs and outputs are (bytes from the arena's start; `None` for an
/// output that is not an activation).
struct Prepared {
    arena_used: u32,
    inputs: Vec<(usize, usize), MAX_TENSORS>,
    outputs: Vec<Option<(usize, usize)>, MAX_TENSORS>,
}

/// What the agent keeps of its last run.
#[derive(Clone, Copy)]
struct LastRun {
    summary: RunSummary,
    /// Samples kept in [`Memory::samples`].
    samples: usize,
    /// Operators timed in `layer_ticks` (0 without per-layer).
    layers: usize,
}

/// A failed request: what to answer.
struct Failure(ErrorCode, String<64>);

/// A short detail for an error frame, truncated to fit.
fn detail(args: core::fmt::Arguments<'_>) -> String<64> {
    struct Truncating(String<64>);
    impl core::fmt::Write for Truncating {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for c in s.chars() {
                if self.0.push(c).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }
    let mut t = Truncating(String::new());
    let _ = t.write_fmt(args);
    t.0
}

fn fail(code: ErrorCode, args: core::fmt::Arguments<'_>) -> Failure {
    Failure(code, detail(args))
}

impl<'a, C: TickClock> Agent<'a, C> {
    /// An agent for a board, with its clock and memory.
    pub fn new(info: BoardInfo, clock: C, mem: Memory<'a>) -> Self {
        Self {
            info,
            clock,
            mem,
            decoder: Decoder::new(),
            upload: None,
            model_len: 0,
            model_crc: None,
            in_flash: false,
            last_run: None,
            prepared: None,
            layer_ticks: [0; MAX_LAYERS],
        }
    }

    /// Serves requests from `io` until it reports the end of the stream.
    /// Corrupt frames are answered with `Error { BadFrame }`.
    pub fn serve<T: Read + Write>(&mut self, io: &mut T) -> Result<(), T::Error> {
        let mut buf = [0u8; 64];
        loop {
            let n = io.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            for &byte in &buf[..n] {
                let Some(frame) = self.decoder.push::<Request>(byte) else {
                    continue;
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
                        let detail = detail(format_args!("{e}"));
                        log::warning!("bad frame from the host: {=str}", detail.as_str());
                        send(&Event::Error {
                            code: ErrorCode::BadFrame,
                            detail,
                        })
                    }
                }
                #[cfg(feature = "uart-log")]
                send_logs(&mut send);
                written?;
            }
        }
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

    fn dispatch(&mut self, request: Request, send: &mut dyn FnMut(&Event)) -> Result<(), Failure> {
        match request {
            Request::Hello { .. } => {
                log::info!(
                    "vlab firmware on {=str}: {=usize} B model slot, {=usize} B arena",
                    self.info.name,
                    self.mem.model_slot.len(),
                    self.mem.arena.len()
                );
                send(&Event::Identify(self.identify()))
            }
            Request::ModelQuery { len, crc } => {
                let present = (self.model_crc == Some(crc) && self.model_len == len as usize)
                    || self.use_flash_slot(len as usize, crc)?;
                // A benchmark starts from the model's state at load.
                if present {
                    self.check_model()?;
                }
                let arena_bytes = if present { self.arena_needed()? } else { 0 };
                send(&Event::ModelStatus {
                    present,
                    arena_bytes,
                });
            }
            Request::ModelBegin { len } => {
                let (len, slot) = (len as usize, self.mem.model_slot.len());
                if len > slot {
                    return Err(fail(
                        ErrorCode::ModelTooLarge,
                        format_args!("model {len} B > slot {slot} B"),
                    ));
                }
                (self.upload, self.model_len, self.model_crc, self.last_run) =
                    (Some(len), 0, None, None);
                self.prepared = None;
                self.in_flash = false;
                send(&Event::Received {
                    stream: Stream::Model,
                    end: 0,
                });
            }
            Request::ModelChunk { offset, crc, data } => {
                let expected = self.upload.ok_or(fail(
                    ErrorCode::BadChunk,
                    format_args!("no upload in progress"),
                ))?;
                // A chunk at or before the end received so far is taken, so
                // that a chunk resent after a lost answer is harmless.
                let (offset, end) = (offset as usize, offset as usize + data.len());
                if offset > self.model_len || end > expected || chunk_crc(&data) != crc {
                    return Err(fail(
                        ErrorCode::BadChunk,
                        format_args!("chunk at {offset}: {} B received", self.model_len),
                    ));
                }
                self.mem.model_slot[offset..end].copy_from_slice(&data);
                self.model_len = self.model_len.max(end);
                send(&Event::Received {
                    stream: Stream::Model,
                    end: self.model_len as u32,
                });
            }
            Request::ModelCommit { crc } => {
                if self.upload.is_none() && self.model_crc == Some(crc) {
                    // A resent commit: the model is already prepared.
                    let arena_bytes = self.arena_needed()?;
                    send(&Event::ModelStatus {
                        present: true,
                        arena_bytes,
                    });
                    return Ok(());
                }
                if self.upload != Some(self.model_len) {
                    return Err(fail(
                        ErrorCode::BadChunk,
                        format_args!("model incomplete: {} B received", self.model_len),
                    ));
                }
                self.upload = None;
                if chunk_crc(&self.mem.model_slot[..self.model_len]) != crc {
                    return Err(fail(
                        ErrorCode::ModelCrc,
                        format_args!("model CRC mismatch"),
                    ));
                }
                self.check_model()?;
                let arena_bytes = self.arena_needed()?;
                self.model_crc = Some(crc);
                log::info!(
                    "model received: {=usize} B, tensor arena {=u32} B",
                    self.model_len,
                    arena_bytes
                );
                send(&Event::ModelStatus {
                    present: true,
                    arena_bytes,
                });
            }
            Request::InputChunk {
                index,
                offset,
                data,
            } => {
                let (start, size) = self.input_span(usize::from(index))?;
                let (offset, end) = (offset as usize, offset as usize + data.len());
                if end > size {
                    return Err(fail(
                        ErrorCode::BadIndex,
                        format_args!("input {index} is {size} B"),
                    ));
                }
                self.mem.arena[start + offset..start + end].copy_from_slice(&data);
                send(&Event::Received {
                    stream: Stream::Input(index),
                    end: end as u32,
                });
            }
            Request::Run {
                id,
                warmup,
                iterations,
                samples,
                per_layer,
            } => match self.last_run {
                Some(last) if last.summary.id == id => send(&Event::Done(last.summary)),
                _ => {
                    self.last_run = None;
                    let last = self.run(id, warmup, iterations, samples, per_layer)?;
                    self.last_run = Some(last);
                    log::info!(
                        "run {=u32}: {=u32} warmup, {=u32} timed, {=u64} to {=u64} ticks",
                        id,
                        warmup,
                        iterations,
                        last.summary.min_ticks,
                        last.summary.max_ticks
                    );
                    send(&Event::Done(last.summary));
                }
            },
            Request::ReadSamples { first } => {
                let kept = self.last_run.map_or(0, |r| r.samples);
                let start = (first as usize).min(kept);
                let end = (start + MAX_SAMPLES).min(kept);
                if kept == 0 {
                    return Err(fail(ErrorCode::NoRun, format_args!("no samples kept")));
                }
                send(&Event::Samples {
                    first,
                    ticks: Vec::from_slice(&self.mem.samples[start..end]).unwrap_or_default(),
                });
            }
            Request::ReadLayer { index } => {
                let layers = self.last_run.map_or(0, |r| r.layers);
                let i = usize::from(index);
                if i >= layers {
                    return Err(fail(
                        ErrorCode::NoRun,
                        format_args!("no operator {i} timed ({layers} timed)"),
                    ));
                }
                let opcode = self.model()?.operator(i).map_or(0, |op| op.opcode.0);
                send(&Event::LayerSample {
                    index,
                    opcode: opcode as u16,
                    ticks: self.layer_ticks[i],
                });
            }
            Request::ReadOutput { index, offset } => {
                if self.last_run.is_none() {
                    return Err(fail(ErrorCode::NoRun, format_args!("no run yet")));
                }
                send(&self.read_output(index, offset)?);
            }
        }
        Ok(())
    }

    /// Prepares the loaded model afresh (its state and inputs at zero) and
    /// keeps where its inputs and outputs are.
    ///
    /// This and the other functions that prepare an interpreter are never
    /// inlined, so that their frames are not kept side by side in their
    /// caller's.
    #[inline(never)]
    fn check_model(&mut self) -> Result<(), Failure> {
        self.prepared = None;
        let it = self.interpreter(true)?;
        let span = |r: core::ops::Range<usize>| (r.start, r.len());
        let count = it.model().inputs().count();
        let inputs = (0..count)
            .map(|i| it.input_range(i).map(span))
            .collect::<Result<Vec<_, MAX_TENSORS>, _>>();
        let outputs = (0..it.model().outputs().count())
            .map(|i| Ok(it.output_range(i).ok().map(span)))
            .collect::<Result<Vec<_, MAX_TENSORS>, vlab_micro::Error>>();
        let arena_used = it.arena_used() as u32;
        let (Ok(inputs), Ok(outputs)) = (inputs, outputs) else {
            return Err(fail(
                ErrorCode::ModelRejected,
                format_args!(
                    "more than {MAX_TENSORS} graph inputs or outputs, or a constant input"
                ),
            ));
        };
        self.prepared = Some(Prepared {
            arena_used,
            inputs,
            outputs,
        });
        Ok(())
    }

    /// Up to a chunk of output `index` of the last run, from `offset`.
    #[inline(never)]
    fn read_output(&mut self, index: u8, offset: u32) -> Result<Event, Failure> {
        let no_output = || fail(ErrorCode::BadIndex, format_args!("no output {index}"));
        let span = self
            .prepared
            .as_ref()
            .and_then(|p| p.outputs.get(usize::from(index)).copied())
            .ok_or_else(no_output)?;
        let chunk = |out: &[u8]| {
            let start = (offset as usize).min(out.len());
            Event::Output {
                index,
                offset,
                len: out.len() as u32,
                data: Vec::from_slice(&out[start..(start + CHUNK).min(out.len())])
                    .unwrap_or_default(),
            }
        };
        match span {
            Some((start, len)) => Ok(chunk(&self.mem.arena[start..start + len])),
            // A constant output: where the model (or the prepared data) holds it.
            None => {
                let it = self.interpreter(false)?;
                let out = it.output(usize::from(index)).map_err(|_| no_output())?;
                Ok(chunk(out))
            }
        }
    }

    fn identify(&self) -> Identify {
        Identify {
            protocol_version: PROTOCOL_VERSION,
            firmware_version: self.info.firmware_version,
            build_hash: self.info.build_hash,
            board: detail_name(self.info.name),
            core_clock_hz: self.info.core_clock_hz,
            timer: self.clock.kind(),
            timer_hz: self.clock.hz(),
            arena_bytes: self.mem.arena.len() as u32,
            model_slot_bytes: self.mem.model_slot.len() as u32,
            max_samples: self.mem.samples.len() as u32,
            capabilities: Capabilities(
                Capabilities::PER_LAYER
                    | if self.mem.flash_slot.is_empty() {
                        0
                    } else {
                        Capabilities::FLASH_SLOT
                    }
                    | if cfg!(feature = "uart-log") {
                        Capabilities::DEFMT_LOG
                    } else {
                        0
                    },
            ),
        }
    }

    /// Whether the flash slot starts with a model of `len` bytes and CRC
    /// `crc`; if so, it becomes the model, prepared.
    fn use_flash_slot(&mut self, len: usize, crc: u32) -> Result<bool, Failure> {
        let flash = self.mem.flash_slot;
        if len == 0 || len > flash.len() || chunk_crc(&flash[..len]) != crc {
            return Ok(false);
        }
        (self.upload, self.model_len, self.model_crc, self.last_run) = (None, len, None, None);
        self.prepared = None;
        self.in_flash = true;
        self.check_model()?;
        self.model_crc = Some(crc);
        log::info!("model found in the flash slot: {=usize} B", len);
        Ok(true)
    }

    /// The model's bytes, in whichever slot holds it.
    fn model_bytes(&self) -> &[u8] {
        model_bytes(
            self.mem.model_slot,
            self.mem.flash_slot,
            self.in_flash,
            self.model_len,
        )
    }

    fn model(&self) -> Result<Model<'_>, Failure> {
        if self.model_len == 0 || self.upload.is_some() {
            return Err(fail(ErrorCode::NoModel, format_args!("no model loaded")));
        }
        Model::parse(self.model_bytes())
            .map_err(|e| fail(ErrorCode::ModelRejected, format_args!("{e}")))
    }

    /// Arena bytes the loaded model uses, preparing it if it is not yet.
    fn arena_needed(&mut self) -> Result<u32, Failure> {
        if self.prepared.is_none() {
            self.check_model()?;
        }
        Ok(self.prepared.as_ref().map_or(0, |p| p.arena_used))
    }

    /// The loaded model prepared over the arena: afresh (state and inputs
    /// zero), or resumed (state and inputs as the last run left them).
    fn interpreter(&mut self, fresh: bool) -> Result<Interpreter<'_>, Failure> {
        if self.model_len == 0 || self.upload.is_some() {
            return Err(fail(ErrorCode::NoModel, format_args!("no model loaded")));
        }
        let bytes = model_bytes(
            self.mem.model_slot,
            self.mem.flash_slot,
            self.in_flash,
            self.model_len,
        );
        prepare(bytes, &mut *self.mem.arena, fresh)
    }

    /// Where input `index` lives in the arena, and its size.
    fn input_span(&mut self, index: usize) -> Result<(usize, usize), Failure> {
        if self.prepared.is_none() {
            self.check_model()?;
        }
        self.prepared
            .as_ref()
            .and_then(|p| p.inputs.get(index).copied())
            .ok_or(fail(ErrorCode::BadIndex, format_args!("no input {index}")))
    }

    /// Runs `warmup` untimed and `iterations` timed inferences, keeping the
    /// samples and per-operator ticks for reading back.
    #[inline(never)]
    fn run(
        &mut self,
        id: u32,
        warmup: u32,
        iterations: u32,
        keep_samples: bool,
        per_layer: bool,
    ) -> Result<LastRun, Failure> {
        let capacity = self.mem.samples.len();
        if keep_samples && iterations as usize > capacity {
            return Err(fail(
                ErrorCode::TooManySamples,
                format_args!("{iterations} iterations > {capacity} samples kept"),
            ));
        }
        let mut clock = &mut self.clock;
        let kept = &mut *self.mem.samples;
        let bytes = model_bytes(
            self.mem.model_slot,
            self.mem.flash_slot,
            self.in_flash,
            self.model_len,
        );
        // The inputs are in the arena, where InputChunk wrote them, and the
        // state carries on from the last run (one stream of samples).
        let mut it = prepare(bytes, &mut *self.mem.arena, false)?;
        let inference = |e: vlab_micro::Error| fail(ErrorCode::Inference, format_args!("{e}"));
        clock.restart();
        for _ in 0..warmup {
            it.invoke(&mut ()).map_err(inference)?;
        }
        let mut summary = RunSummary {
            id,
            iterations,
            total_ticks: 0,
            min_ticks: if iterations == 0 { 0 } else { u64::MAX },
            max_ticks: 0,
            arena_used: it.arena_used() as u32,
            stack_used: 0,
        };
        for i in 0..iterations as usize {
            let start = vlab_micro::Clock::now(&mut clock);
            it.invoke(&mut ()).map_err(inference)?;
            let ticks = vlab_micro::Clock::now(&mut clock).saturating_sub(start);
            summary.total_ticks += ticks;
            summary.min_ticks = summary.min_ticks.min(ticks);
            summary.max_ticks = summary.max_ticks.max(ticks);
            if let Some(slot) = kept.get_mut(i).filter(|_| keep_samples) {
                *slot = u32::try_from(ticks).unwrap_or(u32::MAX);
            }
        }
        let mut layers = 0;
        if per_layer {
            let mut ticks = [0u64; MAX_LAYERS];
            it.invoke(&mut Profiler::new(&mut clock, &mut ticks))
                .map_err(inference)?;
            layers = it.operator_count().min(MAX_LAYERS);
            for (kept, &t) in self.layer_ticks.iter_mut().zip(&ticks[..layers]) {
                *kept = u32::try_from(t).unwrap_or(u32::MAX);
            }
        }
        summary.stack_used = (self.info.stack_used)();
        Ok(LastRun {
            summary,
            samples: if keep_samples { iterations as usize } else { 0 },
            layers,
        })
    }
}

/// Parses `model` and prepares an interpreter over `arena`: afresh, or
/// resumed ([`Interpreter::resume`]).
fn prepare<'m>(
    model: &'m [u8],
    arena: &'m mut [u8],
    fresh: bool,
) -> Result<Interpreter<'m>, Failure> {
    let model =
        Model::parse(model).map_err(|e| fail(ErrorCode::ModelRejected, format_args!("{e}")))?;
    let prepared = if fresh {
        Interpreter::new(model, arena)
    } else {
        Interpreter::resume(model, arena)
    };
    prepared.map_err(|e| match e {
        vlab_micro::Error::ArenaTooSmall {
            needed,
            available,
            exact,
        } => fail(
            ErrorCode::ArenaTooSmall,
            format_args!(
                "arena {}{needed} B > {available} B",
                if exact { "" } else { ">= " }
            ),
        ),
        e => fail(ErrorCode::ModelRejected, format_args!("{e}")),
    })
}

/// The first `len` bytes of the flash slot or the RAM slot.
fn model_bytes<'m>(ram: &'m [u8], flash: &'m [u8], in_flash: bool, len: usize) -> &'m [u8] {
    if in_flash { &flash[..len] } else { &ram[..len] }
}

/// The board name as the protocol carries it (at most 32 bytes).
fn detail_name(name: &str) -> String<32> {
    let mut s = String::new();
    for c in name.chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    s
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
            Vec::from_slice(&chunk[..n]).unwrap_or_default(),
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
