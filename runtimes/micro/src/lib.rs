//! vlab-micro: a `no_std`, allocation-free TFLite interpreter for
//! microcontrollers, with TFLite Micro's reference semantics.
//!
//! The model is a borrowed `&[u8]` holding a standard `.tflite` file and the
//! caller provides the tensor arena as `&mut [u8]`, so one firmware image can
//! run any model delivered at run time.
//!
//! ```
//! # fn demo(bytes: &[u8]) -> Result<(), vlab_micro::Error> {
//! use vlab_micro::{Interpreter, Model, arena_bytes_required};
//! let model = Model::parse(bytes)?;
//! let mut arena = [0u8; 64 * 1024];
//! assert!(arena_bytes_required(&model)? <= arena.len());
//! let mut interpreter = Interpreter::new(model, &mut arena[..])?;
//! interpreter.input_mut(0)?.fill(0);
//! interpreter.invoke(&mut ())?;
//! let _scores = interpreter.output(0)?;
//! # Ok(()) }
//! ```

#![no_std]

pub mod error;
mod flat;
mod interpreter;
mod kernels;
pub mod model;
pub mod opcode;
mod plan;
pub mod profile;
pub mod quant;

pub use error::Error;
pub use interpreter::{Interpreter, Tables, arena_bytes_required};
pub use model::Model;
pub use opcode::Opcode;
pub use profile::{Clock, OpHook, Profiler};

/// Version of this crate, reported as the `micro` engine's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
