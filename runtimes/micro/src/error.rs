//! Errors of the interpreter. Every failure on model bytes is one of these,
//! never a panic.

use core::fmt;

use crate::opcode::Opcode;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The model bytes are not a valid TFLite flatbuffer; says which part.
    Malformed(&'static str),
    /// A tensor of a type vlab-micro does not support (the model is valid).
    UnsupportedType {
        /// Tensor index in its subgraph.
        tensor: usize,
        /// The tensor's name in the model.
        name: Name,
        /// The schema's name of the type.
        dtype: &'static str,
    },
    /// An operator, or an option of it, this interpreter does not implement.
    Unsupported {
        /// The operator's place in the model.
        at: OpRef,
        /// What is unsupported.
        what: &'static str,
    },
    /// An operator whose tensors do not fit its definition.
    Invalid {
        /// The operator's place in the model.
        at: OpRef,
        /// What is wrong.
        what: &'static str,
    },
    /// The model has more of something than this build supports.
    TooLarge(&'static str),
    /// The tensor arena is smaller than the model needs.
    ArenaTooSmall {
        /// Bytes the model needs (exact, or a lower bound: see `exact`).
        needed: usize,
        /// Bytes given.
        available: usize,
        /// Whether `needed` is exact. It is a lower bound when the arena
        /// could not even hold the interpreter's tables, so the plan of the
        /// activations could not be made.
        exact: bool,
    },
    /// Bad arguments from the caller (input index, byte count, ...).
    Usage(&'static str),
}

/// Where an operator is: its subgraph, its index there and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpRef {
    /// Subgraph index (0 is the one that runs).
    pub subgraph: usize,
    /// Operator index in the subgraph.
    pub index: usize,
    /// The operator.
    pub op: Opcode,
}

impl fmt::Display for OpRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            subgraph,
            index,
            op,
        } = self;
        match subgraph {
            0 => write!(f, "operator {index} ({op})"),
            s => write!(f, "operator {index} of subgraph {s} ({op})"),
        }
    }
}

/// A tensor's name, kept inline (errors carry no lifetime); names longer
/// than [`Name::CAPACITY`] bytes are cut at a character boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; Name::CAPACITY],
    len: u8,
    cut: bool,
}

impl Name {
    /// Bytes of a name kept.
    pub const CAPACITY: usize = 48;

    /// `name`, cut to [`Self::CAPACITY`] bytes.
    pub fn new(name: &str) -> Self {
        let mut len = name.len().min(Self::CAPACITY);
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0u8; Self::CAPACITY];
        bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
        Self {
            bytes,
            len: len as u8,
            cut: len < name.len(),
        }
    }

    /// The (possibly cut) name.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.cut {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(what) => write!(f, "malformed TFLite model: {what}"),
            Error::UnsupportedType {
                tensor,
                name,
                dtype,
            } => write!(
                f,
                "tensor {tensor} (\"{name}\") has type {dtype}, which vlab-micro does not support"
            ),
            Error::Unsupported { at, what } => write!(f, "{at}: unsupported: {what}"),
            Error::Invalid { at, what } => write!(f, "{at}: {what}"),
            Error::TooLarge(what) => write!(f, "model too large for this build: {what}"),
            Error::ArenaTooSmall {
                needed,
                available,
                exact,
            } => {
                let at_least = if *exact { "" } else { "at least " };
                write!(
                    f,
                    "tensor arena too small: the model needs {at_least}{needed} bytes, {available} given"
                )
            }
            Error::Usage(what) => f.write_str(what),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_at_a_character_boundary() {
        let long = "é".repeat(40);
        let name = Name::new(&long);
        assert!(name.as_str().len() <= Name::CAPACITY);
        assert!(long.starts_with(name.as_str()));
        assert!(name.to_string_lossless().ends_with("..."));
        assert_eq!(Name::new("conv").as_str(), "conv");
    }

    impl Name {
        fn to_string_lossless(self) -> heapless::String<64> {
            let mut s = heapless::String::new();
            let _ = fmt::Write::write_fmt(&mut s, format_args!("{self}"));
            s
        }
    }
}
