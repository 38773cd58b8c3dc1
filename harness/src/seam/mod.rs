//! The engine seam: what an inference engine implements so the harness
//! can benchmark it ([`engine`]), and the descriptions it speaks in:
//! tensors ([`tensor`]), model files ([`model`]) or the model a device
//! holds ([`held`]), the options an engine
//! declares and the values given for them ([`options`]), and the parameters
//! file ([`params`]).

pub mod engine;
pub mod held;
pub mod model;
pub mod options;
pub mod params;
pub mod tensor;
