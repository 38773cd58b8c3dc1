//! vlab-runtimes: inference engine adapters for Linux targets.
//!
//! Each engine lives in its own module and implements
//! [`vlab_harness::Engine`]; [`ENGINES`] registers it. Adding an engine is one
//! new module plus one line in [`ENGINES`]; adding an engine option is one
//! line in its engine's `OPTIONS`.
//!
//! The `tract` feature (on by default) builds the tract engine. Its
//! compile is most of a build's time, so a board's engine worker may leave
//! it out (`scripts/build-targets.sh --no-tract`).

mod dylib;
pub mod micro;
pub mod ort;
pub mod tflite;
#[cfg(feature = "tract")]
pub mod tract;

pub use dylib::LibrarySearch;
use vlab_harness::{Engine, Error, Result};

/// Every engine vlab knows, in the order `vlab engines` lists them.
pub static ENGINES: &[&dyn Engine] = &[
    #[cfg(feature = "tract")]
    &tract::Tract,
    &ort::Ort,
    &tflite::Tflite,
    &micro::Micro,
];

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

/// Where the shared library of the engine called `name` is looked for;
/// `None` for an engine built into vlab.
pub fn library(name: &str) -> Option<&'static LibrarySearch> {
    match name {
        "ort" => Some(&ort::LIBRARY),
        "tflite" => Some(&tflite::LIBRARY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vlab_harness::OptionKind;

    #[test]
    fn finds_registered_engines_and_rejects_others() {
        assert_eq!(engine("micro").unwrap().name(), "micro");
        let Err(err) = engine("tensorrt") else {
            panic!("tensorrt is not an engine")
        };
        assert!(err.message().contains("unknown engine 'tensorrt'"));
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn declarations_are_sound() {
        let declared = ENGINES
            .iter()
            .flat_map(|e| e.options().iter().map(move |d| (e.name(), d)));
        for (engine, decl) in declared {
            if let OptionKind::Choice { names, default } = decl.kind {
                assert!(names.contains(&default), "{engine} {}", decl.name);
            }
            // One flag serves every engine with an option of this name.
            for other in ENGINES.iter().flat_map(|e| e.options()) {
                if other.name == decl.name {
                    assert_eq!(other.values(), decl.values(), "{engine} {}", decl.name);
                }
            }
        }
    }

    /// The table of engine options in docs/engines.md, as the declarations
    /// give it.
    fn options_table() -> String {
        let mut table =
            "| option | engine | values | default | sets |\n|---|---|---|---|---|\n".to_owned();
        for engine in ENGINES {
            for decl in engine.options() {
                let values = match decl.kind {
                    OptionKind::Count { .. } => "a whole number, at least 1".to_owned(),
                    OptionKind::Switch { .. } => {
                        "`on`, `off` (`true`, `false` in the file)".to_owned()
                    }
                    OptionKind::Choice { names, .. } => {
                        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        names.join(", ")
                    }
                };
                table += &format!(
                    "| `{}` | {} | {values} | `{}` | {} |\n",
                    decl.name,
                    engine.name(),
                    decl.default_value(),
                    decl.help
                );
            }
        }
        table
    }

    #[test]
    fn the_documented_options_are_the_declared_ones() {
        let docs = include_str!("../../docs/engines.md");
        let table = options_table();
        assert!(
            docs.contains(&table),
            "docs/engines.md's option table is stale; it should read:\n{table}"
        );
    }
}
