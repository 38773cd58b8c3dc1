//! The agent on the host, driven through its request handler and through a
//! byte stream, with the MLPerf Tiny KWS model and its reference input. The
//! byte stream is an in-memory buffer: the real UART and QEMU board come with
//! the board crate.

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use heapless::Vec;
use vlab_firmware::{Agent, BoardInfo, Memory, TickClock};
use vlab_micro::{Interpreter, Model};
use vlab_protocol::{
    CHUNK, Decoder, ErrorCode, Event, MAX_FRAME, PROTOCOL_VERSION, Request, Stream, TimerKind,
    chunk_crc, encode,
};

struct HostClock(Instant);

impl vlab_micro::Clock for HostClock {
    fn now(&mut self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

impl TickClock for HostClock {
    fn hz(&self) -> u32 {
        1_000_000_000
    }
    fn kind(&self) -> TimerKind {
        TimerKind::SysTick
    }
}

const INFO: BoardInfo = BoardInfo {
    name: "host-test",
    core_clock_hz: 1,
    firmware_version: 0x0001_0000,
    build_hash: [7; 8],
    stack_used: || 0,
};

/// The MLPerf Tiny reference data folder: `VLAB_REFERENCE_DATA` (a relative
/// path is taken from the repository root), by default
/// ../shared/mlperf-tiny beside the repository. `None` when it is absent,
/// after printing that the calling test is skipped and why.
fn reference_data() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join(
        std::env::var_os("VLAB_REFERENCE_DATA")
            .map_or_else(|| PathBuf::from("../shared/mlperf-tiny"), PathBuf::from),
    );
    if dir.is_dir() {
        return Some(dir);
    }
    let thread = std::thread::current();
    eprintln!(
        "{}: skipped: MLPerf Tiny reference data not found at {} (set VLAB_REFERENCE_DATA)",
        thread.name().unwrap_or("test"),
        dir.display()
    );
    None
}

/// File `name` of the reference data in `dir`.
fn shared(dir: &Path, name: &str) -> std::vec::Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ask(agent: &mut Agent<'_, HostClock>, request: Request) -> std::vec::Vec<Event> {
    let mut events = std::vec::Vec::new();
    agent.handle(request, &mut |e: &Event| events.push(e.clone()));
    events
}

fn hello(agent: &mut Agent<'_, HostClock>) -> vlab_protocol::Identify {
    match &ask(
        agent,
        Request::Hello {
            protocol_version: PROTOCOL_VERSION,
        },
    )[..]
    {
        [Event::Identify(id)] => id.clone(),
        other => panic!("Hello: {other:?}"),
    }
}

fn upload(agent: &mut Agent<'_, HostClock>, model: &[u8]) -> std::vec::Vec<Event> {
    assert_eq!(
        ask(
            agent,
            Request::ModelBegin {
                len: model.len() as u32
            }
        ),
        vec![Event::Received {
            stream: Stream::Model,
            end: 0
        }]
    );
    for (i, chunk) in model.chunks(CHUNK).enumerate() {
        let request = Request::ModelChunk {
            offset: (i * CHUNK) as u32,
            crc: chunk_crc(chunk),
            data: Vec::from_slice(chunk).unwrap(),
        };
        let end = (i * CHUNK + chunk.len()) as u32;
        let received = vec![Event::Received {
            stream: Stream::Model,
            end,
        }];
        assert_eq!(ask(agent, request.clone()), received);
        // A resent chunk (its answer lost) is harmless.
        assert_eq!(ask(agent, request), received);
    }
    ask(
        agent,
        Request::ModelCommit {
            crc: chunk_crc(model),
        },
    )
}

/// Arena bytes `model` takes on this host: its activations (16,000 B for
/// kws_ref_model) plus the interpreter's tables, whose size depends on the
/// pointer width.
fn arena_used(model: &[u8]) -> u32 {
    let mut arena = vec![0u8; 1 << 20];
    Interpreter::new(Model::parse(model).unwrap(), &mut arena)
        .unwrap()
        .arena_used() as u32
}

#[test]
fn runs_mlperf_kws_and_matches_tflite_micro() {
    let Some(reference) = reference_data() else {
        return;
    };
    let (mut slot, mut arena, mut samples) =
        (vec![0u8; 1 << 17], vec![0u8; 1 << 16], vec![0u32; 100]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);

    let id = hello(&mut agent);
    assert_eq!(
        (id.protocol_version, id.board.as_str(), id.arena_bytes),
        (PROTOCOL_VERSION, "host-test", 1 << 16)
    );

    let model = shared(&reference, "kws_ref_model.tflite");
    let query = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model),
    };
    assert_eq!(
        ask(&mut agent, query.clone()),
        vec![Event::ModelStatus {
            present: false,
            arena_bytes: 0
        }]
    );
    assert_eq!(
        upload(&mut agent, &model),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );
    assert_eq!(
        ask(&mut agent, query),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );

    let input = shared(&reference, "kws01_reference_inputs.int8.bin");
    let chunk = Request::InputChunk {
        index: 0,
        offset: 0,
        data: Vec::from_slice(&input[..CHUNK]).unwrap(),
    };
    assert_eq!(
        ask(&mut agent, chunk),
        vec![Event::Received {
            stream: Stream::Input(0),
            end: CHUNK as u32
        }]
    );
    let chunk = Request::InputChunk {
        index: 0,
        offset: CHUNK as u32,
        data: Vec::from_slice(&input[CHUNK..]).unwrap(),
    };
    assert_eq!(
        ask(&mut agent, chunk),
        vec![Event::Received {
            stream: Stream::Input(0),
            end: input.len() as u32
        }]
    );

    let run = Request::Run {
        id: 1,
        warmup: 1,
        iterations: 70,
        samples: true,
        per_layer: true,
    };
    let [Event::Done(summary)] = ask(&mut agent, run.clone())[..] else {
        panic!("no Done")
    };
    assert_eq!(
        (summary.id, summary.iterations, summary.arena_used),
        (1, 70, arena_used(&model))
    );
    assert!(summary.min_ticks <= summary.max_ticks && summary.total_ticks >= summary.max_ticks);
    // The same run resent (its Done lost) is answered, not run again.
    assert_eq!(ask(&mut agent, run), vec![Event::Done(summary)]);

    let mut ticks = std::vec::Vec::new();
    while ticks.len() < 70 {
        let first = ticks.len() as u32;
        match &ask(&mut agent, Request::ReadSamples { first })[..] {
            [Event::Samples { first: f, ticks: t }] if *f == first && !t.is_empty() => {
                ticks.extend_from_slice(t)
            }
            other => panic!("ReadSamples {first}: {other:?}"),
        }
    }
    assert_eq!(ticks.len(), 70, "every inference accounted for");
    assert_eq!(u64::from(*ticks.iter().max().unwrap()), summary.max_ticks);
    for index in 0..13 {
        match &ask(&mut agent, Request::ReadLayer { index })[..] {
            [Event::LayerSample { index: i, .. }] => assert_eq!(*i, index),
            other => panic!("ReadLayer {index}: {other:?}"),
        }
    }
    assert!(
        matches!(
            &ask(&mut agent, Request::ReadLayer { index: 13 })[..],
            [Event::Error {
                code: ErrorCode::NoRun,
                ..
            }]
        ),
        "kws_ref_model has 13 operators"
    );

    let Event::Output { len, data, .. } = &ask(
        &mut agent,
        Request::ReadOutput {
            index: 0,
            offset: 0,
        },
    )[0] else {
        panic!("no Output")
    };
    let scores: std::vec::Vec<i8> = data.iter().map(|&b| b as i8).collect();
    assert_eq!(*len, 12);
    // TFLite Micro's answer (shared/mlperf-tiny/README.md).
    assert_eq!(
        scores,
        [
            -128, -128, -128, -128, -128, 127, -128, -128, -128, -128, -128, -128
        ]
    );
}

#[test]
fn refuses_what_does_not_fit_and_keeps_serving() {
    let Some(reference) = reference_data() else {
        return;
    };
    let (mut slot, mut arena, mut samples) = (vec![0u8; 60_000], vec![0u8; 1000], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);
    let code = |events: std::vec::Vec<Event>| match &events[..] {
        [Event::Error { code, .. }] => *code,
        other => panic!("expected one error, got {other:?}"),
    };
    assert_eq!(
        code(ask(&mut agent, Request::ModelBegin { len: 2_000_000 })),
        ErrorCode::ModelTooLarge
    );
    assert_eq!(
        code(upload(
            &mut agent,
            &shared(&reference, "kws_ref_model.tflite")
        )),
        ErrorCode::ArenaTooSmall
    );
    assert_eq!(
        code(ask(
            &mut agent,
            Request::ReadOutput {
                index: 0,
                offset: 0
            }
        )),
        ErrorCode::NoRun
    );
    assert_eq!(
        ask(&mut agent, Request::ModelBegin { len: 10 }),
        vec![Event::Received {
            stream: Stream::Model,
            end: 0
        }]
    );
    let bad_chunk = Request::ModelChunk {
        offset: 999,
        crc: 0,
        data: Vec::new(),
    };
    assert_eq!(code(ask(&mut agent, bad_chunk)), ErrorCode::BadChunk);
}

/// An in-memory byte stream: what the host sent, and what the agent wrote.
struct Pipe {
    incoming: std::vec::Vec<u8>,
    read: usize,
    outgoing: std::vec::Vec<u8>,
}

impl embedded_io::ErrorType for Pipe {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.incoming.len() - self.read);
        buf[..n].copy_from_slice(&self.incoming[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

impl embedded_io::Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.outgoing.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn a_bad_frame_gets_an_error_frame_and_the_agent_keeps_serving() {
    let mut hello = [0u8; MAX_FRAME];
    let n = encode(
        &Request::Hello {
            protocol_version: PROTOCOL_VERSION,
        },
        &mut hello,
    )
    .unwrap();
    let mut corrupt = hello[..n].to_vec();
    corrupt[2] ^= 0x40;
    let mut incoming = corrupt;
    incoming.extend_from_slice(&hello[..n]);
    let mut pipe = Pipe {
        incoming,
        read: 0,
        outgoing: std::vec::Vec::new(),
    };
    let (mut slot, mut arena, mut samples) = (vec![0u8; 1024], vec![0u8; 1024], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &[],
        arena: &mut arena,
        samples: &mut samples,
    };
    Agent::new(INFO, HostClock(Instant::now()), mem)
        .serve(&mut pipe)
        .unwrap();
    let mut decoder = Decoder::new();
    let events: std::vec::Vec<Event> = pipe
        .outgoing
        .iter()
        .filter_map(|&b| decoder.push::<Event>(b))
        .map(Result::unwrap)
        .collect();
    assert!(
        matches!(
            &events[0],
            Event::Error {
                code: ErrorCode::BadFrame,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(matches!(&events[1], Event::Identify(_)), "{events:?}");
    assert_eq!(events.len(), 2);
}

#[test]
fn a_model_in_the_flash_slot_is_used_without_an_upload() {
    let Some(reference) = reference_data() else {
        return;
    };
    let model = shared(&reference, "kws_ref_model.tflite");
    let mut flash = model.clone();
    flash.resize(model.len() + 1000, 0xff); // erased flash after the model
    let (mut slot, mut arena, mut samples) = (vec![0u8; 16], vec![0u8; 1 << 16], vec![0u32; 4]);
    let mem = Memory {
        model_slot: &mut slot,
        flash_slot: &flash,
        arena: &mut arena,
        samples: &mut samples,
    };
    let mut agent = Agent::new(INFO, HostClock(Instant::now()), mem);
    let id = hello(&mut agent);
    assert!(id.capabilities.has(vlab_protocol::Capabilities::FLASH_SLOT));
    // A model that is not there is not found.
    let other = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model) ^ 1,
    };
    assert_eq!(
        ask(&mut agent, other),
        vec![Event::ModelStatus {
            present: false,
            arena_bytes: 0
        }]
    );
    let query = Request::ModelQuery {
        len: model.len() as u32,
        crc: chunk_crc(&model),
    };
    assert_eq!(
        ask(&mut agent, query),
        vec![Event::ModelStatus {
            present: true,
            arena_bytes: arena_used(&model)
        }]
    );
    let input = shared(&reference, "kws01_reference_inputs.int8.bin");
    for (offset, chunk) in [(0, &input[..CHUNK]), (CHUNK, &input[CHUNK..])] {
        let request = Request::InputChunk {
            index: 0,
            offset: offset as u32,
            data: Vec::from_slice(chunk).unwrap(),
        };
        assert!(matches!(
            ask(&mut agent, request)[..],
            [Event::Received { .. }]
        ));
    }
    let run = Request::Run {
        id: 1,
        warmup: 0,
        iterations: 1,
        samples: false,
        per_layer: false,
    };
    assert!(matches!(ask(&mut agent, run)[..], [Event::Done(_)]));
    let Event::Output { data, .. } = &ask(
        &mut agent,
        Request::ReadOutput {
            index: 0,
            offset: 0,
        },
    )[0] else {
        panic!("no Output")
    };
    assert_eq!(data[5] as i8, 127, "TFLite Micro's answer: class 5");
}
