//! What the supervisor and its worker say to each other over the worker's
//! stdin and stdout pipes, and how a message is framed.
//!
//! A message is a 4-byte little-endian length and that many bytes of JSON.
//! JSON (serde_json, which vlab already uses) rather than a compact binary
//! format such as postcard: the report types leave absent fields out
//! (`skip_serializing_if`), which only a self-describing format reads back,
//! and messages are few (a handful per phase, one batch of measured values
//! per [`super::worker`] flush), so their size does not matter. Bulk bytes
//! (the model, TYPE2 outputs) follow their message unframed.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::platform::error::Error;
use crate::record::{Measurement, Phase, Recorded};
use crate::spec::BenchmarkSpec;

/// The version of what supervisor and worker say to each other, bumped
/// with every change to [`Job`] or [`Event`]: a worker on a board may be
/// another build of vlab, and `vlab engine-worker --wire-version` says
/// which version it speaks before it is given a job.
pub const WIRE_VERSION: u32 = 2;

/// Longest message accepted; a longer length means the stream is not ours.
const MAX_MESSAGE: u32 = 256 << 20;

/// The supervisor's one message: what to measure. `model_bytes` bytes of
/// the model file follow it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    /// The engine's registered name.
    pub engine: String,
    /// The model's path, for names and messages (the worker does not read it).
    pub model_path: PathBuf,
    /// Length of the model bytes that follow, or of the file `model_at`.
    pub model_bytes: u64,
    /// Where the worker's machine already holds the model file (a remote
    /// board's copy); `None`: the bytes follow on stdin.
    pub model_at: Option<PathBuf>,
    /// What to measure.
    pub spec: BenchmarkSpec,
}

/// The worker's messages, in the order things happen.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Event {
    /// [`crate::Observer::phase`].
    Phase(Phase, usize),
    /// The model loaded, or the first inference ran: sent at once.
    Recorded(Recorded),
    /// Inferences measured and steps done since the last progress message.
    Progress {
        /// Warmup inferences, ns.
        warmup: Vec<u64>,
        /// Timed inferences, ns.
        samples: Vec<u64>,
        /// [`crate::Observer::step`] calls.
        steps: usize,
    },
    /// This many bytes of TYPE2 output follow.
    Raw(usize),
    /// The measured loop's result; the last message.
    Done(Result<Box<Measurement>, Error>),
}

/// Writes one framed message.
pub(crate) fn write_message<T: Serialize>(out: &mut dyn Write, message: &T) -> io::Result<()> {
    let json = serde_json::to_vec(message)?;
    let len = u32::try_from(json.len())
        .ok()
        .filter(|&len| len <= MAX_MESSAGE)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "message too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&json)
}

/// Reads one framed message; `None` when the stream ends before one starts.
pub(crate) fn read_message<T: DeserializeOwned>(input: &mut dyn Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes"),
        ));
    }
    let mut json = vec![0u8; len as usize];
    input.read_exact(&mut json)?;
    Ok(Some(serde_json::from_slice(&json)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_back_and_the_end_is_none() {
        let mut stream = Vec::new();
        let sent = Event::Progress {
            warmup: vec![7],
            samples: vec![9, 8],
            steps: 3,
        };
        write_message(&mut stream, &sent).unwrap();
        let mut input = stream.as_slice();
        let Some(Event::Progress {
            warmup,
            samples,
            steps,
        }) = read_message(&mut input).unwrap()
        else {
            panic!("a progress message")
        };
        assert_eq!((warmup, samples, steps), (vec![7], vec![9, 8], 3));
        assert!(read_message::<Event>(&mut input).unwrap().is_none());
    }

    #[test]
    fn a_length_beyond_the_limit_is_refused() {
        let stream = u32::MAX.to_le_bytes();
        assert!(read_message::<Event>(&mut stream.as_slice()).is_err());
    }
}
