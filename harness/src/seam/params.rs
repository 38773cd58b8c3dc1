//! Benchmark parameters: engine options and per-input settings.
//!
//! They come from a parameters file (the contract's `PARAMETERS_FILENAME`,
//! `vlab bench --params`, or `MODEL.vlab.toml` beside the model) and from
//! command-line flags, which win over the file. The file is TOML:
//!
//! ```toml
//! [engine]
//! threads = 1             # ort: intra-op threads; tflite: interpreter threads
//! inter_threads = 1       # ort: inter-op threads
//! optimization = "all"    # ort: disable, basic, extended, all
//! execution_provider = "cpu"  # ort: cpu, xnnpack, cuda, tensorrt, openvino
//! xnnpack = true          # tflite: the XNNPACK delegate on or off
//!
//! [inputs.sr]             # one table per model input, by name
//! shape = []              # the shape of an input with dynamic dimensions
//! value = 16000           # every element holds this value (TYPE1 and TYPE2)
//! ```
//!
//! An input with a `value` is not part of a TYPE2 dataset's samples: each
//! sample holds the other inputs, in model order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::error::{Error, Result, file_name};
use crate::platform::field::Field;
use crate::seam::tensor::{DType, ShapeOverrides};

/// Engine settings. `None` leaves a setting at the engine's vlab default;
/// each engine refuses settings it does not have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineOptions {
    /// Threads that run one operator: ONNX Runtime's intra-op threads,
    /// TensorFlow Lite's interpreter threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// ONNX Runtime's inter-op threads (operators run side by side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inter_threads: Option<usize>,
    /// Graph optimisation level (ONNX Runtime: disable, basic, extended, all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization: Option<String>,
    /// Execution provider (ONNX Runtime: cpu, xnnpack, cuda, tensorrt, openvino).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_provider: Option<String>,
    /// TensorFlow Lite's XNNPACK delegate on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xnnpack: Option<bool>,
}

impl EngineOptions {
    /// The settings given, by name.
    fn given(&self) -> Vec<&'static str> {
        let Self {
            threads,
            inter_threads,
            optimization,
            execution_provider,
            xnnpack,
        } = self;
        [
            ("threads", threads.is_some()),
            ("inter_threads", inter_threads.is_some()),
            ("optimization", optimization.is_some()),
            ("execution_provider", execution_provider.is_some()),
            ("xnnpack", xnnpack.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The given settings as `name=value` words, for logs and summaries.
    pub fn describe(&self) -> String {
        let Self {
            threads,
            inter_threads,
            optimization,
            execution_provider,
            xnnpack,
        } = self;
        let words = [
            threads.map(|n| format!("threads={n}")),
            inter_threads.map(|n| format!("inter_threads={n}")),
            optimization.as_ref().map(|o| format!("optimization={o}")),
            execution_provider
                .as_ref()
                .map(|p| format!("execution_provider={p}")),
            xnnpack.map(|x| format!("xnnpack={}", if x { "on" } else { "off" })),
        ];
        words.into_iter().flatten().collect::<Vec<_>>().join(" ")
    }

    /// Refuses every given setting outside `supported`, naming them and
    /// what `engine` does take.
    pub fn check_supported(&self, engine: &str, supported: &[&str]) -> Result<()> {
        let refused: Vec<&str> = self
            .given()
            .into_iter()
            .filter(|name| !supported.contains(name))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        let takes = if supported.is_empty() {
            "it takes no engine options".to_owned()
        } else {
            format!("it takes {}", supported.join(", "))
        };
        Err(Error::input(format!(
            "engine {engine} has no option {}; {takes}",
            refused.join(", ")
        )))
    }

    /// These settings with every setting `over` gives replacing ours.
    pub fn overlaid(self, over: Self) -> Self {
        Self {
            threads: over.threads.or(self.threads),
            inter_threads: over.inter_threads.or(self.inter_threads),
            optimization: over.optimization.or(self.optimization),
            execution_provider: over.execution_provider.or(self.execution_provider),
            xnnpack: over.xnnpack.or(self.xnnpack),
        }
    }

    /// A thread count that must be at least 1.
    pub fn thread_count(value: Option<usize>, name: &str) -> Result<usize> {
        match value {
            None => Ok(1),
            Some(0) => Err(Error::input(format!("{name} must be at least 1"))),
            Some(n) => Ok(n),
        }
    }
}

/// Settings of one model input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputParams {
    /// Concrete shape for an input whose dimensions the model leaves open.
    pub shape: Option<Vec<usize>>,
    /// A value every element of the input holds, instead of random or
    /// dataset data.
    pub value: Option<f64>,
}

/// Everything a parameters file holds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// Engine settings.
    #[serde(default)]
    pub engine: EngineOptions,
    /// Per-input settings, by input name.
    #[serde(default)]
    pub inputs: BTreeMap<String, InputParams>,
}

impl Parameters {
    /// Reads a parameters file; a syntax error or an unknown key names the
    /// file, the line and the key.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let line = 1 + text.as_bytes()[..span.start.min(text.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            Error::file(path, format!("{}{at}", e.message()))
        })
    }

    /// The parameters file that travels with `model`: `NAME.vlab.toml`
    /// beside `NAME.onnx` or `NAME.tflite`, when it exists.
    pub fn beside(model: &Path) -> Option<PathBuf> {
        let candidate = model.with_extension("vlab.toml");
        candidate.is_file().then_some(candidate)
    }

    /// The input shapes these parameters give, with `over` (from the command
    /// line) winning for the inputs it names.
    pub fn shapes(&self, over: ShapeOverrides) -> ShapeOverrides {
        self.inputs
            .iter()
            .filter_map(|(name, input)| Some((name, input.shape.as_ref()?)))
            .fold(over, |shapes, (name, dims)| {
                shapes.with_default(name, dims.clone())
            })
    }

    /// The input values these parameters give, with `over` winning.
    pub fn values(&self, over: InputValues) -> InputValues {
        self.inputs
            .iter()
            .filter_map(|(name, input)| Some((name, input.value?)))
            .fold(over, |mut values, (name, value)| {
                values.0.entry(name.clone()).or_insert(value);
                values
            })
    }

    /// A short description of where parameters came from, for user.log.
    pub fn describe_source(path: &Path) -> String {
        format!("parameters from {}", file_name(path))
    }
}

/// Inputs that hold one value in every element, by input name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputValues(BTreeMap<String, f64>);

impl InputValues {
    /// Parses `NAME=VALUE` arguments (`--input-value sr=16000`).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self> {
        let mut map = BTreeMap::new();
        for arg in args {
            let arg = arg.as_ref();
            let bad = |why: &str| Error::input(format!("{} {arg}: {why}", Field::InputValues));
            let (name, value) = arg
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=VALUE, for example sr=16000"))?;
            if name.is_empty() {
                return Err(bad("the input name is empty"));
            }
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| bad(&format!("'{value}' is not a number")))?;
            if map.insert(name.to_owned(), value).is_some() {
                return Err(bad(&format!("input '{name}' given twice")));
            }
        }
        Ok(Self(map))
    }

    /// The value of input `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// Whether no input has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Names of the inputs with a value.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every element of an input of `dtype` with `count` elements holding
    /// the value, little-endian. The value must fit the type exactly.
    pub fn fill(name: &str, value: f64, dtype: DType, count: usize) -> Result<Vec<u8>> {
        let element = element_bytes(value, dtype).ok_or_else(|| {
            Error::input(format!(
                "input '{name}' is {dtype}, which cannot hold the value {value}"
            ))
        })?;
        Ok(element.repeat(count))
    }
}

/// One element of `dtype` holding `value`, or `None` when the type cannot
/// hold it exactly (a fraction in an integer type, out of range).
fn element_bytes(value: f64, dtype: DType) -> Option<Vec<u8>> {
    /// Converts to an integer type when the value is a whole number in range.
    fn whole<T: TryFrom<i128>>(value: f64) -> Option<T> {
        let ok = value.fract() == 0.0 && value.abs() < 2f64.powi(100);
        ok.then(|| T::try_from(value as i128).ok()).flatten()
    }
    Some(match dtype {
        DType::Float32 => (value as f32).to_le_bytes().to_vec(),
        DType::Float64 => value.to_le_bytes().to_vec(),
        DType::Int8 => whole::<i8>(value)?.to_le_bytes().to_vec(),
        DType::Uint8 => whole::<u8>(value)?.to_le_bytes().to_vec(),
        DType::Int16 => whole::<i16>(value)?.to_le_bytes().to_vec(),
        DType::Uint16 => whole::<u16>(value)?.to_le_bytes().to_vec(),
        DType::Int32 => whole::<i32>(value)?.to_le_bytes().to_vec(),
        DType::Uint32 => whole::<u32>(value)?.to_le_bytes().to_vec(),
        DType::Int64 => whole::<i64>(value)?.to_le_bytes().to_vec(),
        DType::Uint64 => whole::<u64>(value)?.to_le_bytes().to_vec(),
        DType::Bool => vec![u8::from(whole::<u8>(value).filter(|&b| b <= 1)? == 1)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Parameters, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn parses_engine_and_input_settings() {
        let p = parse(
            "[engine]\nthreads = 2\nxnnpack = false\n\n[inputs.sr]\nshape = []\nvalue = 16000\n",
        )
        .unwrap();
        assert_eq!(p.engine.threads, Some(2));
        assert_eq!(p.engine.xnnpack, Some(false));
        assert_eq!(p.inputs["sr"].value, Some(16000.0));
        assert_eq!(p.inputs["sr"].shape, Some(vec![]));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = parse("[engine]\nthreds = 2\n").unwrap_err();
        assert!(err.message().contains("threds"), "{}", err.message());
        assert!(parse("[inputs.x]\nshap = [1]\n").is_err());
    }

    #[test]
    fn read_names_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("vlab-params-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.vlab.toml");
        std::fs::write(&path, "[engine]\nthreads = 1\nbogus = 3\n").unwrap();
        let err = Parameters::read(&path).unwrap_err();
        assert!(err.message().contains("p.vlab.toml"), "{}", err.message());
        assert!(err.message().contains("line 3"), "{}", err.message());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn command_line_wins_over_the_file() {
        let file = EngineOptions {
            threads: Some(4),
            xnnpack: Some(true),
            ..Default::default()
        };
        let cli = EngineOptions {
            threads: Some(2),
            ..Default::default()
        };
        let merged = file.overlaid(cli);
        assert_eq!(merged.threads, Some(2));
        assert_eq!(merged.xnnpack, Some(true));

        let p = parse("[inputs.sr]\nvalue = 8000\n[inputs.x]\nvalue = 1\n").unwrap();
        let values = p.values(InputValues::parse(&["sr=16000"]).unwrap());
        assert_eq!(values.get("sr"), Some(16000.0));
        assert_eq!(values.get("x"), Some(1.0));
    }

    #[test]
    fn unsupported_options_are_named() {
        let o = EngineOptions {
            xnnpack: Some(false),
            threads: Some(1),
            ..Default::default()
        };
        let err = o.check_supported("ort", &["threads"]).unwrap_err();
        assert!(
            err.message()
                .contains("engine ort has no option xnnpack; it takes threads"),
            "{}",
            err.message()
        );
        assert!(
            o.check_supported("tract", &[])
                .unwrap_err()
                .message()
                .contains("takes no engine options")
        );
        assert!(o.check_supported("tflite", &["threads", "xnnpack"]).is_ok());
    }

    #[test]
    fn values_fill_exactly_or_are_refused() {
        assert_eq!(
            InputValues::fill("sr", 16000.0, DType::Int64, 1).unwrap(),
            16000i64.to_le_bytes()
        );
        assert_eq!(
            InputValues::fill("x", 0.5, DType::Float32, 2).unwrap(),
            [0.5f32.to_le_bytes(), 0.5f32.to_le_bytes()].concat()
        );
        assert!(InputValues::fill("x", 0.5, DType::Int32, 1).is_err());
        assert!(InputValues::fill("x", 300.0, DType::Int8, 1).is_err());
        assert!(InputValues::fill("x", -1.0, DType::Uint16, 1).is_err());
        assert!(InputValues::fill("x", 2.0, DType::Bool, 1).is_err());
        assert!(InputValues::parse(&["sr"]).is_err());
        assert!(InputValues::parse(&["sr=abc"]).is_err());
        assert!(InputValues::parse(&["sr=1", "sr=2"]).is_err());
    }
}
