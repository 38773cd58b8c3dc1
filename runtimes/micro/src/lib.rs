//! vlab-micro: a `no_std`, allocation-free TFLite interpreter for
//! microcontrollers, with TFLite Micro's reference semantics.
//!
//! The model is a borrowed `&[u8]` holding a standard `.tflite` file and the
//! caller provides the tensor arena as `&mut [u8]`, so one firmware image can
//! run any model delivered at run time.
//!
//! ```
//! # fn demo(bytes: &[u8]) -> Result<(), vlab_micro::Error> {
//! use vlab_micro::{Interpreter, Model};
//! let model = Model::parse(bytes)?;
//! let mut arena = [0u8; 64 * 1024];
//! // Tables, prepared data, variables and activations all live in the arena;
//! // a too small one is `Error::ArenaTooSmall`, with the bytes needed.
//! let mut interpreter = Interpreter::new(model, &mut arena[..])?;
//! interpreter.input_mut(0)?.fill(0);
//! interpreter.invoke(&mut ())?;
//! let _scores = interpreter.output(0)?;
//! # Ok(()) }
//! ```

#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;

mod arena;
mod check;
pub mod error;
pub mod flat;
mod flexbuffer;
mod interpreter;
mod kernels;
pub mod model;
pub mod opcode;
mod plan;
pub mod profile;
pub mod quant;
pub mod rescale;
mod tables;

pub use check::check;
pub use error::Error;
#[cfg(feature = "alloc")]
pub use interpreter::arena_bytes_required;
pub use interpreter::{ArenaUse, Interpreter};
pub use kernels::{IMPLEMENTED, Implemented};
pub use model::Model;
pub use opcode::Opcode;
pub use profile::{Clock, OpHook, Profiler};

/// Version of this crate, reported as the `micro` engine's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
