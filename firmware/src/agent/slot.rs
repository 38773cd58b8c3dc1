//! The model slot's state: the one value that says what the agent holds
//! between requests, and so which requests it can serve.
//!
//! ```text
//! any ──ModelBegin──> Receiving ──ModelChunk──> Receiving
//! Receiving, complete ──ModelCommit──> Ready, or Refused (bad CRC, does not prepare)
//! any ──ModelQuery finding the flash slot's model──> Ready, or Refused
//! Ready ──Run──> Ready with a last run, whose outputs, samples and layers can be read
//! ```
//!
//! Requests that need a model (`InputChunk`, `Run`) are refused with
//! `NoModel` outside `Ready`, and reads with `NoRun` until a run finished.

use vlab_protocol::{RunSummary, SLOT_HEADER_BYTES};

use super::layout::Layout;

/// Which of the board's slots holds the model.
#[derive(Clone, Copy)]
pub(super) enum Source {
    /// The RAM model slot, filled by an upload.
    Ram,
    /// The flash slot, filled by the flasher.
    Flash,
}

/// A model's bytes: the first `len` of the RAM slot, or of the flash slot
/// after its header.
#[derive(Clone, Copy)]
pub(super) struct Stored {
    pub source: Source,
    pub len: usize,
}

impl Stored {
    /// The model's bytes, given the RAM and the flash slot.
    pub fn bytes<'m>(self, ram: &'m [u8], flash: &'m [u8]) -> &'m [u8] {
        let slot = match self.source {
            Source::Ram => ram,
            Source::Flash => flash.get(SLOT_HEADER_BYTES..).unwrap_or_default(),
        };
        slot.get(..self.len).unwrap_or_default()
    }
}

/// What the model slot holds.
// A ready model's layout makes `Ready` the large variant; there is one
// slot, in the agent, and no allocator to box it into.
#[allow(clippy::large_enum_variant)]
pub(super) enum Slot {
    /// No model: the state at boot.
    Empty,
    /// An upload in progress: `expected` bytes announced, the first
    /// `received` of them in the RAM slot.
    Receiving { expected: usize, received: usize },
    /// A model of `len` bytes whose commit or flash-slot load was refused
    /// (bad CRC, or it does not prepare): there, but not used.
    Refused { len: usize },
    /// A model prepared in the arena, ready to take inputs and run.
    Ready(Ready),
}

/// A model ready to run.
pub(super) struct Ready {
    /// Where its bytes are.
    pub stored: Stored,
    /// CRC-32 of its bytes.
    pub crc: u32,
    /// Where its inputs and outputs are in the arena.
    pub layout: Layout,
    /// The last finished run, whose outputs, samples and layers can be read.
    pub last_run: Option<LastRun>,
}

/// What the agent keeps of its last run.
#[derive(Clone, Copy)]
pub(super) struct LastRun {
    pub summary: RunSummary,
    /// Samples kept in [`crate::Memory::samples`].
    pub samples: usize,
    /// Operators timed in the agent's layer ticks (0 without per-layer).
    pub layers: usize,
}

impl Slot {
    /// Bytes of model received or held: what a commit that cannot be taken
    /// reports.
    pub fn len(&self) -> usize {
        match self {
            Slot::Empty => 0,
            Slot::Receiving { received, .. } => *received,
            Slot::Refused { len } => *len,
            Slot::Ready(ready) => ready.stored.len,
        }
    }

    /// The ready model, if there is one.
    pub fn ready(&self) -> Option<&Ready> {
        match self {
            Slot::Ready(ready) => Some(ready),
            _ => None,
        }
    }

    /// The ready model's last finished run, if there is one.
    pub fn last_run(&self) -> Option<&LastRun> {
        self.ready().and_then(|ready| ready.last_run.as_ref())
    }

    /// Makes `last` the ready model's last run (`None`: a run that failed
    /// or is under way leaves nothing to read).
    pub fn set_last_run(&mut self, last: Option<LastRun>) {
        if let Slot::Ready(ready) = self {
            ready.last_run = last;
        }
    }
}
