//! vlab-runtimes: inference engine adapters for Linux targets.
//!
//! Each engine lives in its own module and implements
//! [`vlab_harness::Engine`]; [`ENGINES`] registers it. Adding an engine is one
//! new module plus one line in [`ENGINES`].

mod dylib;
pub mod micro;
pub mod ort;
pub mod tflite;
pub mod tract;

use vlab_harness::{Engine, Error, Result};

/// Every engine vlab knows, in the order `vlab engines` lists them.
pub static ENGINES: &[&dyn Engine] = &[&tract::Tract, &ort::Ort, &tflite::Tflite, &micro::Micro];

/// The engine called `name`.
pub fn engine(name: &str) -> Result<&'static dyn Engine> {
    ENGINES
        .iter()
        .copied()
        .find(|e| e.name() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = ENGINES.iter().map(|e| e.name()).collect();
            Error::input(format!(
                "unknown engine '{name}' (known: {})",
                known.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_registered_engines_and_rejects_others() {
        assert_eq!(engine("tract").unwrap().name(), "tract");
        let Err(err) = engine("tensorrt") else {
            panic!("tensorrt is not an engine")
        };
        assert!(err.message().contains("unknown engine 'tensorrt'"));
        assert_eq!(err.exit_code(), 2);
    }
}
