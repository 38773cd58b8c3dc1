//! What the agent's tests share: a host clock, a board, the MLPerf Tiny
//! reference data (which a clone may not have beside it) and the requests
//! most tests make.

use std::path::{Path, PathBuf};
use std::time::Instant;

use heapless::Vec;
use vlab_firmware::{Agent, BoardInfo, TickClock};
use vlab_micro::{Interpreter, Model};
use vlab_protocol::{CHUNK, Event, PROTOCOL_VERSION, Request, Stream, TimerKind, chunk_crc};

/// Nanoseconds since the test began.
pub struct HostClock(pub Instant);

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

/// The board the tests pretend to be.
pub const INFO: BoardInfo = BoardInfo {
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
pub fn reference_data() -> Option<PathBuf> {
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
pub fn shared(dir: &Path, name: &str) -> std::vec::Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The events the agent answers `request` with.
pub fn ask(agent: &mut Agent<'_, HostClock>, request: Request) -> std::vec::Vec<Event> {
    let mut events = std::vec::Vec::new();
    agent.handle(request, &mut |e: &Event| events.push(e.clone()));
    events
}

/// `Hello`, expecting `Identify`.
pub fn hello(agent: &mut Agent<'_, HostClock>) -> vlab_protocol::Identify {
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

/// Uploads `model` chunk by chunk (each sent twice, as after a lost
/// answer), then commits it; the commit's answer.
pub fn upload(agent: &mut Agent<'_, HostClock>, model: &[u8]) -> std::vec::Vec<Event> {
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
pub fn arena_used(model: &[u8]) -> u32 {
    let mut arena = vec![0u8; 1 << 20];
    Interpreter::new(Model::parse(model).unwrap(), &mut arena)
        .unwrap()
        .arena_used() as u32
}

/// A single-operator model of the goldens (scripts/op_models.py).
pub fn op_model(name: &str) -> std::vec::Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/goldens/ops")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `model` with its graph's first output made tensor `tensor`, patched in
/// the flatbuffer: Model field 2 (subgraphs), subgraph 0, field 2 (outputs).
pub fn with_output(model: &[u8], tensor: i32) -> std::vec::Vec<u8> {
    let word = |at: usize| u32::from_le_bytes(model[at..at + 4].try_into().unwrap()) as usize;
    let deref = |at: usize| at + word(at);
    let field = |table: usize, f: usize| {
        let vtable = (table as i64 - i64::from(word(table) as i32)) as usize;
        let at = vtable + 4 + 2 * f;
        table + usize::from(u16::from_le_bytes(model[at..at + 2].try_into().unwrap()))
    };
    let root = deref(0);
    let graph = deref(deref(field(root, 2)) + 4);
    let outputs = deref(field(graph, 2));
    let mut patched = model.to_vec();
    patched[outputs + 4..outputs + 8].copy_from_slice(&tensor.to_le_bytes());
    patched
}

/// A flash slot as a flasher leaves it: the header, `model`, then `erased`
/// bytes of erased flash.
pub fn flash_image(model: &[u8], key: &str, erased: usize) -> std::vec::Vec<u8> {
    let header = vlab_protocol::SlotHeader::new(model, key).expect("a valid key");
    let mut image = header.encode().to_vec();
    image.extend_from_slice(model);
    image.resize(image.len() + erased, 0xff);
    image
}

/// An agent over fresh memory: the arena and slots of a small board.
pub fn with_agent<T>(flash: &[u8], test: impl FnOnce(&mut Agent<'_, HostClock>) -> T) -> T {
    let (mut slot, mut arena, mut samples) =
        (vec![0u8; 1 << 16], vec![0u8; 1 << 16], vec![0u32; 16]);
    let mem = vlab_firmware::Memory {
        model_slot: &mut slot,
        flash_slot: flash,
        arena: &mut arena,
        samples: &mut samples,
    };
    test(&mut Agent::new(INFO, HostClock(Instant::now()), mem))
}

/// The error code of an answer that is one error frame.
pub fn error(events: &[Event]) -> vlab_protocol::ErrorCode {
    match events {
        [Event::Error { code, .. }] => *code,
        other => panic!("expected one error, got {other:?}"),
    }
}

/// Writes every graph input of the loaded model, chunk by chunk.
pub fn write_inputs(agent: &mut Agent<'_, HostClock>, inputs: &[std::vec::Vec<u8>]) {
    for (index, input) in inputs.iter().enumerate() {
        for (i, chunk) in input.chunks(CHUNK).enumerate() {
            let request = Request::InputChunk {
                index: index as u8,
                offset: (i * CHUNK) as u32,
                data: Vec::from_slice(chunk).unwrap(),
            };
            let end = (i * CHUNK + chunk.len()) as u32;
            let stream = Stream::Input(index as u8);
            assert_eq!(ask(agent, request), vec![Event::Received { stream, end }]);
        }
    }
}

/// Output `index` of the last run, read chunk by chunk.
pub fn read_output(agent: &mut Agent<'_, HostClock>, index: u8) -> std::vec::Vec<u8> {
    let mut out = std::vec::Vec::new();
    loop {
        let offset = out.len() as u32;
        match &ask(agent, Request::ReadOutput { index, offset })[..] {
            [
                Event::Output {
                    index: i,
                    offset: o,
                    len,
                    data,
                },
            ] if (*i, *o) == (index, offset) => {
                out.extend_from_slice(data);
                if out.len() as u32 == *len {
                    return out;
                }
                assert!(
                    !data.is_empty(),
                    "output {index} stops at {offset} of {len} B"
                );
            }
            other => panic!("ReadOutput {index} at {offset}: {other:?}"),
        }
    }
}

/// Seeded input bytes for every graph input of `model`, and the outputs
/// vlab-micro gives for them on the host from the model's state at load.
pub fn host_run(
    model: &[u8],
    seed: u8,
) -> (
    std::vec::Vec<std::vec::Vec<u8>>,
    std::vec::Vec<std::vec::Vec<u8>>,
) {
    let model = Model::parse(model).unwrap();
    let mut arena = vec![0u8; 1 << 16];
    let mut it = Interpreter::new(model, &mut arena).unwrap();
    let mut inputs = std::vec::Vec::new();
    for i in 0..model.inputs().count() {
        let input = it.input_mut(i).unwrap();
        for (k, byte) in input.iter_mut().enumerate() {
            *byte = (k as u8).wrapping_mul(37).wrapping_add(seed);
        }
        inputs.push(input.to_vec());
    }
    it.invoke(&mut ()).unwrap();
    let outputs = (0..model.outputs().count())
        .map(|i| it.output(i).unwrap().to_vec())
        .collect();
    (inputs, outputs)
}

/// An in-memory byte stream standing in for the UART: what the host sent,
/// and what the agent wrote.
pub struct Pipe {
    incoming: std::vec::Vec<u8>,
    read: usize,
    /// What the agent wrote.
    pub outgoing: std::vec::Vec<u8>,
}

impl Pipe {
    /// A stream whose host sends `incoming`, then ends.
    pub fn new(incoming: std::vec::Vec<u8>) -> Self {
        Self {
            incoming,
            read: 0,
            outgoing: std::vec::Vec::new(),
        }
    }
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
