//! A session with a board's firmware: requests out, events in, over any
//! [`Link`]. Every request is safe to send again (docs/protocol.md), so a
//! lost or corrupted frame in either direction costs a resend, never a
//! wrong result: an answer is taken only when it names what was asked.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use vlab_harness::platform::field::Field;
use vlab_harness::{Error, Result};
use vlab_protocol::{
    CHUNK, Decoder, ErrorCode, Event, Identify, MAX_FRAME, PROTOCOL_VERSION, Request, RunSummary,
    Stream, check_version, chunk_crc, encode,
};

use crate::transport::Link;

/// How long to wait for the answer to a quick request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts at a quick request before giving up.
const ATTEMPTS: u32 = 10;
/// Quiet time after which a `Run` is sent again, doubling up to a cap.
const RUN_RESEND_FIRST: Duration = Duration::from_secs(2);
const RUN_RESEND_MAX: Duration = Duration::from_secs(30);

/// Takes the bytes of the firmware's `Log` frames as they arrive.
pub type LogSink = Box<dyn FnMut(&[u8]) + Send>;

/// What one `Run` request asks the board to do, in this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunRequest {
    /// Untimed inferences first.
    pub warmup: u32,
    /// Timed inferences.
    pub iterations: u32,
    /// Keep each timed inference's ticks, for [`Session::read_samples`].
    pub keep_samples: bool,
    /// Then one profiled inference, for [`Session::read_layer`].
    pub per_layer: bool,
}

impl RunRequest {
    /// `iterations` timed inferences, their ticks kept.
    pub fn timed(iterations: u32) -> Self {
        Self {
            iterations,
            keep_samples: true,
            ..Self::default()
        }
    }

    /// `warmup` untimed inferences.
    pub fn warmup(warmup: u32) -> Self {
        Self {
            warmup,
            ..Self::default()
        }
    }

    /// One profiled inference.
    pub fn profiled() -> Self {
        Self {
            per_layer: true,
            ..Self::default()
        }
    }
}

/// An open session.
pub struct Session {
    link: Box<dyn Link>,
    decoder: Decoder,
    /// Bytes read but not yet decoded.
    pending: VecDeque<u8>,
    /// What the board said about itself.
    identify: Identify,
    /// Requests sent again.
    resent: u64,
    /// Frames from the board dropped as corrupt.
    corrupt: u64,
    /// Longest a run may take.
    run_timeout: Duration,
    /// Identifier of the next run.
    next_run: u32,
    /// Called when the link fails, to explain why (e.g. QEMU exited).
    on_link_error: Box<dyn FnMut() -> Option<String> + Send>,
    /// Takes the bytes of the firmware's `Log` frames.
    on_log: Option<LogSink>,
}

/// A failed exchange: what to tell the user.
fn board_error(code: ErrorCode, detail: &str, during: &str) -> Error {
    let what = match code {
        ErrorCode::ModelTooLarge => "the model does not fit in the board's model slot",
        ErrorCode::ArenaTooSmall => "the model's tensor arena does not fit in the board's RAM",
        ErrorCode::ModelRejected => "the board's interpreter refused the model",
        ErrorCode::Version => "protocol version mismatch",
        ErrorCode::Inference => "inference failed on the board",
        ErrorCode::TooManySamples => "more iterations than the board can keep samples of",
        _ => "the board refused a request",
    };
    Error::runtime(format!("{what} ({during}: {code:?}: {detail})"))
}

impl Session {
    /// Opens a session: `Hello`, then the version check.
    pub async fn open(
        link: Box<dyn Link>,
        run_timeout: Duration,
        on_link_error: Box<dyn FnMut() -> Option<String> + Send>,
    ) -> Result<Self> {
        let mut session = Self {
            link,
            decoder: Decoder::new(),
            pending: VecDeque::new(),
            identify: Identify {
                protocol_version: 0,
                firmware_version: 0,
                build_hash: [0; 8],
                board: heapless::String::new(),
                core_clock_hz: 0,
                timer: vlab_protocol::TimerKind::SysTick,
                timer_hz: 0,
                arena_bytes: 0,
                model_slot_bytes: 0,
                max_samples: 0,
                capabilities: vlab_protocol::Capabilities(0),
            },
            resent: 0,
            corrupt: 0,
            run_timeout,
            next_run: 1,
            on_link_error,
            on_log: None,
        };
        let hello = Request::Hello {
            protocol_version: PROTOCOL_VERSION,
        };
        let identify = session
            .exchange(&hello, "Hello", |e| match e {
                Event::Identify(id) => Some(id.clone()),
                _ => None,
            })
            .await?;
        check_version(PROTOCOL_VERSION, identify.protocol_version)
            .map_err(|e| Error::runtime(e.to_string()))?;
        if identify.timer_hz == 0 {
            return Err(Error::runtime("the board reports a timer of 0 Hz"));
        }
        session.identify = identify;
        Ok(session)
    }

    /// What the board said about itself.
    pub fn identify(&self) -> &Identify {
        &self.identify
    }

    /// Requests sent again after a lost or corrupted frame.
    pub fn resent(&self) -> u64 {
        self.resent
    }

    /// Whether the board already holds `model`, prepared, in its RAM slot
    /// or its flash slot.
    pub async fn has_model(&mut self, model: &[u8]) -> Result<bool> {
        let len = u32::try_from(model.len())
            .map_err(|_| Error::input("the model is larger than 4 GiB"))?;
        let query = Request::ModelQuery {
            len,
            crc: chunk_crc(model),
        };
        self.exchange(&query, "ModelQuery", |e| match e {
            Event::ModelStatus { present, .. } => Some(*present),
            _ => None,
        })
        .await
    }

    /// Uploads `model` into the RAM slot, and has the board prepare it.
    /// Returns the arena the board says the model needs.
    pub async fn upload_model(&mut self, model: &[u8]) -> Result<u32> {
        let len = u32::try_from(model.len())
            .map_err(|_| Error::input("the model is larger than 4 GiB"))?;
        let crc = chunk_crc(model);
        self.exchange(&Request::ModelBegin { len }, "ModelBegin", |e| {
            matches!(
                e,
                Event::Received {
                    stream: Stream::Model,
                    end: 0
                }
            )
            .then_some(())
        })
        .await?;
        for (i, chunk) in model.chunks(CHUNK).enumerate() {
            let offset = (i * CHUNK) as u32;
            let end = offset + chunk.len() as u32;
            let request = Request::ModelChunk {
                offset,
                crc: chunk_crc(chunk),
                data: heapless::Vec::from_slice(chunk).unwrap_or_default(),
            };
            self.exchange(&request, "ModelChunk", |e| match e {
                Event::Received {
                    stream: Stream::Model,
                    end: got,
                } if *got >= end => Some(()),
                _ => None,
            })
            .await?;
        }
        let arena = self
            .exchange(&Request::ModelCommit { crc }, "ModelCommit", |e| match e {
                Event::ModelStatus {
                    present: true,
                    arena_bytes,
                } => Some(*arena_bytes),
                _ => None,
            })
            .await?;
        Ok(arena)
    }

    /// Sends every input, in model order.
    pub async fn send_inputs(&mut self, inputs: &[Vec<u8>]) -> Result<()> {
        for (index, bytes) in inputs.iter().enumerate() {
            let index = u8::try_from(index)
                .map_err(|_| Error::input("the model has more than 255 inputs"))?;
            for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
                let offset = (i * CHUNK) as u32;
                let end = offset + chunk.len() as u32;
                let request = Request::InputChunk {
                    index,
                    offset,
                    data: heapless::Vec::from_slice(chunk).unwrap_or_default(),
                };
                self.exchange(&request, "InputChunk", |e| {
                    matches!(e, Event::Received { stream: Stream::Input(i), end: got } if *i == index && *got == end)
                        .then_some(())
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Makes the run `request` asks for and returns the board's summary.
    /// Waits up to the run timeout, sending the `Run` again when the board
    /// stays quiet (its `Done` may have been lost; the board answers a
    /// repeated run id without running again).
    pub async fn run(&mut self, request: RunRequest) -> Result<RunSummary> {
        let RunRequest {
            warmup,
            iterations,
            keep_samples: samples,
            per_layer,
        } = request;
        if samples && iterations > self.identify.max_samples {
            return Err(Error::input(format!(
                "{} {iterations}: board {} keeps at most {} samples a run",
                Field::Iterations,
                self.identify.board,
                self.identify.max_samples
            )));
        }
        let id = self.next_run;
        self.next_run += 1;
        let request = Request::Run {
            id,
            warmup,
            iterations,
            samples,
            per_layer,
        };
        let deadline = Instant::now() + self.run_timeout;
        let mut quiet = RUN_RESEND_FIRST;
        self.send(&request).await?;
        loop {
            let wait_until = (Instant::now() + quiet).min(deadline);
            match self.next_event(wait_until).await? {
                Some(Event::Done(summary)) if summary.id == id => return Ok(summary),
                Some(Event::Error {
                    code: ErrorCode::BadFrame,
                    ..
                }) => {}
                Some(Event::Error { code, detail }) => {
                    return Err(board_error(code, &detail, "Run"));
                }
                Some(_) => continue,
                None if Instant::now() >= deadline => {
                    return Err(Error::runtime(format!(
                        "the board did not finish the run within {} s (--timeout)",
                        self.run_timeout.as_secs()
                    )));
                }
                None => quiet = (quiet * 2).min(RUN_RESEND_MAX),
            }
            self.resent += 1;
            self.send(&request).await?;
        }
    }

    /// The per-inference ticks of the last run.
    pub async fn read_samples(&mut self, count: u32) -> Result<Vec<u64>> {
        let mut ticks = Vec::with_capacity(count as usize);
        while (ticks.len() as u32) < count {
            let first = ticks.len() as u32;
            let got = self
                .exchange(
                    &Request::ReadSamples { first },
                    "ReadSamples",
                    |e| match e {
                        Event::Samples { first: f, ticks } if *f == first && !ticks.is_empty() => {
                            Some(ticks.clone())
                        }
                        _ => None,
                    },
                )
                .await?;
            ticks.extend(got.iter().map(|&t| u64::from(t)));
        }
        ticks.truncate(count as usize);
        Ok(ticks)
    }

    /// The ticks and opcode of operator `index` in the last run's profiled inference.
    pub async fn read_layer(&mut self, index: u16) -> Result<(u16, u64)> {
        self.exchange(&Request::ReadLayer { index }, "ReadLayer", |e| match e {
            Event::LayerSample {
                index: i,
                opcode,
                ticks,
            } if *i == index => Some((*opcode, u64::from(*ticks))),
            _ => None,
        })
        .await
    }

    /// Output `index` of the last run.
    pub async fn read_output(&mut self, index: u8) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        loop {
            let offset = bytes.len() as u32;
            let (len, data) = self
                .exchange(
                    &Request::ReadOutput { index, offset },
                    "ReadOutput",
                    |e| match e {
                        Event::Output {
                            index: i,
                            offset: o,
                            len,
                            data,
                        } if *i == index && *o == offset => Some((*len, data.clone())),
                        _ => None,
                    },
                )
                .await?;
            bytes.extend_from_slice(&data);
            if bytes.len() as u32 >= len || data.is_empty() {
                bytes.truncate(len as usize);
                return Ok(bytes);
            }
        }
    }

    /// Sends `request` until an event `accept` takes arrives, resending
    /// after a timeout or a `BadFrame` answer; any other error answer fails.
    async fn exchange<T>(
        &mut self,
        request: &Request,
        name: &str,
        accept: impl Fn(&Event) -> Option<T>,
    ) -> Result<T> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                self.resent += 1;
            }
            self.send(request).await?;
            let deadline = Instant::now() + REPLY_TIMEOUT;
            while let Some(event) = self.next_event(deadline).await? {
                match event {
                    Event::Error {
                        code: ErrorCode::BadFrame,
                        ..
                    } => break,
                    Event::Error { code, detail } => {
                        return Err(board_error(code, &detail, name));
                    }
                    other => {
                        if let Some(answer) = accept(&other) {
                            return Ok(answer);
                        }
                    }
                }
            }
        }
        Err(Error::runtime(format!(
            "the board did not answer {name} after {ATTEMPTS} attempts ({} corrupt frames received)",
            self.corrupt
        )))
    }

    async fn send(&mut self, request: &Request) -> Result<()> {
        let mut frame = [0u8; MAX_FRAME];
        let n = encode(request, &mut frame)
            .map_err(|e| Error::runtime(format!("cannot encode a request: {e}")))?;
        let written = async {
            self.link.write_all(&frame[..n]).await?;
            self.link.flush().await
        }
        .await;
        match written {
            Ok(()) => Ok(()),
            Err(e) => Err(self.link_error(&e).await),
        }
    }

    /// Passes the bytes of every `Log` frame from now on to `on_log`
    /// (without it they are dropped).
    pub fn on_log(&mut self, on_log: LogSink) {
        self.on_log = Some(on_log);
    }

    /// The next valid event, or `None` at `deadline`. Corrupt frames are
    /// counted and skipped; `Log` frames go to the log callback.
    async fn next_event(&mut self, deadline: Instant) -> Result<Option<Event>> {
        loop {
            while let Some(byte) = self.pending.pop_front() {
                match self.decoder.push::<Event>(byte) {
                    None => {}
                    Some(Ok(Event::Log(bytes))) => {
                        if let Some(on_log) = &mut self.on_log {
                            on_log(&bytes);
                        }
                    }
                    Some(Ok(event)) => return Ok(Some(event)),
                    Some(Err(_)) => self.corrupt += 1,
                }
            }
            let mut buf = [0u8; 1024];
            match timeout_at(deadline, self.link.read(&mut buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => {
                    let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                    return Err(self.link_error(&eof).await);
                }
                Ok(Ok(n)) => self.pending.extend(&buf[..n]),
                Ok(Err(e)) => return Err(self.link_error(&e).await),
            }
        }
    }

    async fn link_error(&mut self, e: &std::io::Error) -> Error {
        // Give an emulator a moment to finish exiting, so its status shows.
        tokio::time::sleep(Duration::from_millis(100)).await;
        match (self.on_link_error)() {
            Some(why) => Error::runtime(format!("the link to the board closed: {why}")),
            None => Error::runtime(format!("the link to the board failed: {e}")),
        }
    }
}
