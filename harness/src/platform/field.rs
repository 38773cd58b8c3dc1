//! The settings of a benchmark as error messages name them. The library
//! names the field of the benchmark spec (`iterations`); a front end
//! renames them once, at start-up, to what its users type (the `vlab`
//! command line: `--iterations`), so one message serves both.

use std::fmt;
use std::sync::OnceLock;

/// A setting a user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `BenchmarkSpec::model`.
    Model,
    /// `BenchmarkSpec`'s timed inference count (TYPE1).
    Iterations,
    /// `BenchmarkSpec::warmup`.
    Warmup,
    /// `BenchmarkSpec::per_layer`.
    PerLayer,
    /// `LoadOptions::input_shapes`.
    InputShapes,
    /// `BenchmarkSpec::input_values`.
    InputValues,
    /// A board run's preload of the model into its flash slot.
    Preload,
    /// A board run's transport.
    Transport,
}

impl Field {
    /// The name the library gives it: the spec's field.
    pub fn spec_name(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::Iterations => "iterations",
            Field::Warmup => "warmup",
            Field::PerLayer => "per_layer",
            Field::InputShapes => "input_shapes",
            Field::InputValues => "input_values",
            Field::Preload => "preload",
            Field::Transport => "transport",
        }
    }
}

/// How this process names fields, when a front end chose.
static NAMES: OnceLock<fn(Field) -> &'static str> = OnceLock::new();

/// Makes messages name every field as `names` says from now on. The first
/// call wins; a front end makes it before anything can fail.
pub fn name_fields(names: fn(Field) -> &'static str) {
    let _ = NAMES.set(names);
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NAMES.get().map_or(self.spec_name(), |names| names(*self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_named_as_the_spec_names_it() {
        assert_eq!(Field::PerLayer.to_string(), "per_layer");
        assert_eq!(Field::InputShapes.spec_name(), "input_shapes");
    }
}
