//! Errors of the interpreter. Every failure on model bytes is one of these,
//! never a panic.

use core::fmt;

use crate::opcode::Opcode;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The model bytes are not a valid TFLite flatbuffer; says which part.
    Malformed(&'static str),
    /// An operator, or an option of it, this interpreter does not implement.
    Unsupported {
        /// Operator index in subgraph 0.
        index: usize,
        /// The operator.
        op: Opcode,
        /// What is unsupported.
        what: &'static str,
    },
    /// An operator whose tensors do not fit its definition.
    Invalid {
        /// Operator index in subgraph 0.
        index: usize,
        /// The operator.
        op: Opcode,
        /// What is wrong.
        what: &'static str,
    },
    /// The model has more of something than this build supports.
    TooLarge(&'static str),
    /// The tensor arena is smaller than the model needs.
    ArenaTooSmall {
        /// Bytes the model needs.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// Bad arguments from the caller (input index, byte count, ...).
    Usage(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(what) => write!(f, "malformed TFLite model: {what}"),
            Error::Unsupported { index, op, what } => {
                write!(f, "operator {index} ({op}): unsupported: {what}")
            }
            Error::Invalid { index, op, what } => write!(f, "operator {index} ({op}): {what}"),
            Error::TooLarge(what) => write!(f, "model too large for this build: {what}"),
            Error::ArenaTooSmall { needed, available } => {
                write!(
                    f,
                    "tensor arena too small: the model needs {needed} bytes, {available} given"
                )
            }
            Error::Usage(what) => f.write_str(what),
        }
    }
}
