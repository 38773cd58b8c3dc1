//! Per-operator times from ONNX Runtime's own profiler.
//!
//! ONNX Runtime profiles a whole session: a session created with profiling
//! on records every inference until profiling ends, then writes its trace
//! ([`super::trace`]) and cannot start profiling again. So vlab never
//! profiles the session it times, whose inferences run without the
//! profiler: a batch of profiled inferences runs on a second session made
//! from the same model with the same options plus profiling. Its first
//! inference pays the new session's lazy set-up, as the timed session's
//! first inference does, and is left out; the others are the profiled
//! ones. The trace goes to a temporary folder, removed once it is read.

use std::path::Path;
use std::time::Duration;

use ort::session::Session as OrtSession;
use vlab_harness::{Error, OperatorTime, Result};

use super::Settings;
use super::trace;

/// Longest a batch of profiled inferences on one profiling session runs
/// before its trace is read: the measured loop learns of each batch's
/// inferences (and of a signal) only then. A model slower than this gets
/// a profiling session per profiled inference.
pub(super) const BATCH_TIME: Duration = Duration::from_secs(1);

/// A new session over `model` with `settings` and profiling on, writing
/// its trace into `dir`.
pub(super) fn session(
    settings: &Settings,
    env: &ort::environment::Environment,
    model: &[u8],
    dir: &Path,
) -> Result<OrtSession> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::runtime(format!("ONNX Runtime: a profiling session: {e}"))
    };
    let builder = settings.builder(env).map_err(|e| failed(&e))?;
    let mut builder = builder
        .with_profiling(dir.join("vlab-ort"))
        .map_err(|e| failed(&e))?;
    builder.commit_from_memory(model).map_err(|e| failed(&e))
}

/// Ends profiling on `session`, which ran one inference left out and then
/// `profiled` inferences, and returns the operator times of each profiled
/// one, nodes in the order they started.
pub(super) fn finish(mut session: OrtSession, profiled: usize) -> Result<Vec<Vec<OperatorTime>>> {
    let path = session
        .end_profiling()
        .map_err(|e| Error::runtime(format!("ONNX Runtime: ending profiling: {e}")))?;
    drop(session);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::runtime(format!(
            "ONNX Runtime's profiling trace {path} cannot be read: {e}"
        ))
    })?;
    let runs = trace::runs(&text).map_err(Error::runtime)?;
    if runs.len() != profiled + 1 {
        return Err(Error::runtime(format!(
            "ONNX Runtime's profiling trace holds {} inferences where {} ran \
             (its profiler keeps at most a million events)",
            runs.len(),
            profiled + 1
        )));
    }
    Ok(runs
        .into_iter()
        .skip(1)
        .map(|nodes| {
            nodes
                .into_iter()
                .enumerate()
                .map(|(index, node)| OperatorTime {
                    index,
                    op: node.op,
                    ns: node.ns,
                })
                .collect()
        })
        .collect())
}
