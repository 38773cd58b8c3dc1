//! The engine seam: what an inference engine implements so the harness
//! can benchmark it ([`engine`]), and the descriptions it speaks in:
//! tensors ([`tensor`]), model files ([`model`]) and engine options
//! ([`params`]).

pub mod engine;
pub mod model;
pub mod params;
pub mod tensor;
