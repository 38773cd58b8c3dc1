//! How a worker that ended without a result ended, in words: the signal
//! that killed it (`SIGSEGV`) or its exit status.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;

use crate::platform::error::Error;

/// What the worker was doing when it ended: loading the model, or running
/// inferences (first, warmup, timed or profiled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Loading and preparing the model.
    Load,
    /// Running inferences.
    Inference,
}

impl Stage {
    /// The stage as messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Inference => "inference",
        }
    }
}

/// The error for a worker running `library` that ended with `status`
/// during `stage` before sending its result.
pub fn ended_error(library: &str, stage: Stage, status: ExitStatus) -> Error {
    let stage = stage.as_str();
    match (status.signal(), status.code()) {
        (Some(signal), _) => {
            let name = Signal::try_from(signal)
                .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned());
            Error::runtime(format!("{library} crashed during {stage} ({name})"))
        }
        (None, Some(code)) => Error::runtime(format!(
            "{library} ended vlab's engine worker during {stage} with exit status {code}, before a result"
        )),
        (None, None) => Error::runtime(format!(
            "{library}: vlab's engine worker ended during {stage} before a result"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_is_named() {
        // Wait statuses: the low 7 bits are the signal, else the code << 8.
        let segv = ExitStatus::from_raw(11);
        assert_eq!(
            ended_error("TensorFlow Lite", Stage::Inference, segv).message(),
            "TensorFlow Lite crashed during inference (SIGSEGV)"
        );
        let abort = ExitStatus::from_raw(6);
        assert!(
            ended_error("ONNX Runtime", Stage::Load, abort)
                .message()
                .ends_with("crashed during load (SIGABRT)")
        );
        let exited = ended_error("ONNX Runtime", Stage::Load, ExitStatus::from_raw(3 << 8));
        assert!(
            exited.message().contains("exit status 3"),
            "{}",
            exited.message()
        );
        assert_eq!(exited.exit_code(), 1);
    }
}
