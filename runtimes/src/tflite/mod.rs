//! Engine `tflite`: TensorFlow Lite itself, through its C API loaded at run
//! time from `TFLITE_DYLIB_PATH`, the venv `scripts/setup.sh` fills from the
//! PyPI `pymicro-wakeword` wheel (libtensorflowlite_c.so, TFLite 2.17), or
//! the system. The interpreter runs on one thread, like
//! `benchmark_model --num_threads=1`, with the XNNPACK delegate as
//! TensorFlow Lite's own interpreter applies it by default; `threads` and
//! `xnnpack` change that (docs/engines.md).

mod ffi;
mod profiler;
mod signature;

use std::sync::OnceLock;

use vlab_harness::{
    DType, Engine, EngineSettings, Error, LoadOptions, ModelFile, ModelFormat, OperatorTime,
    OptionDecl, OptionValue, OutputTensor, Quantization, Result, Session, TensorSpec,
};

use crate::dylib::LibrarySearch;
use ffi::{Api, Interpreter, TensorDesc};
use profiler::OpProfiler;

/// Where the TensorFlow Lite C library may be.
pub const LIBRARY: LibrarySearch = LibrarySearch {
    env: "TFLITE_DYLIB_PATH",
    venv_files: &["pymicro_wakeword/lib/libtensorflowlite_c.so"],
    system_name: "libtensorflowlite_c.so",
};

/// The options tflite takes.
const OPTIONS: &[OptionDecl] = &[
    OptionDecl::count("threads", 1, "interpreter threads (and XNNPACK's)"),
    OptionDecl::switch(
        "xnnpack",
        true,
        "the XNNPACK delegate (off where the library lacks it)",
    ),
];

/// The TensorFlow Lite engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tflite;

static API: OnceLock<std::result::Result<Api, String>> = OnceLock::new();

fn api() -> Result<&'static Api> {
    API.get_or_init(|| {
        let path = LIBRARY
            .find()
            .map_err(|why| format!("TensorFlow Lite C library {why}"))?;
        Api::load(&path).map_err(|e| format!("TensorFlow Lite C library {}: {e}", path.display()))
    })
    .as_ref()
    .map_err(|why| Error::runtime(why.clone()))
}

impl Engine for Tflite {
    fn name(&self) -> &'static str {
        "tflite"
    }

    fn version(&self) -> Result<String> {
        Ok(api()?.version())
    }

    fn formats(&self) -> &'static [ModelFormat] {
        &[ModelFormat::Tflite]
    }

    fn library(&self) -> Option<&'static str> {
        Some("TensorFlow Lite")
    }

    fn options(&self) -> &'static [OptionDecl] {
        OPTIONS
    }

    fn load(&self, model: &ModelFile, options: &LoadOptions) -> Result<Box<dyn Session>> {
        let api = api()?;
        let mut settings = options.settings(self)?;
        let threads = settings.count("threads")?;
        let threads = i32::try_from(threads).map_err(|_| Error::input("threads is too large"))?;
        // On unless asked otherwise, where the library has it.
        if !options.engine.gives("xnnpack") && !api.has_xnnpack() {
            settings.set("xnnpack", OptionValue::Switch(false));
        }
        let xnnpack = settings.switch("xnnpack")?;
        let mut interpreter = Interpreter::new(api, model.bytes(), threads, xnnpack, None)
            .map_err(|e| model.error(e))?;
        let (mut inputs, mut outputs) = tensors(model, &interpreter)?;
        let shapes = &options.input_shapes;
        shapes.check_names(inputs.iter().map(|s| s.name.as_str()))?;
        // Dynamic dimensions are in the signature; the shape holds placeholders.
        let signatures = signature::input_signatures(model.bytes());
        let mut resize = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let declared = signatures
                .get(i)
                .cloned()
                .flatten()
                .filter(|s| s.len() == input.shape.len())
                .unwrap_or_else(|| input.shape.clone());
            let shape = match shapes.get(&input.name) {
                Some(_) => shapes.resolve(&input.name, Some(&declared))?,
                None => shapes.resolve(&input.name, Some(&batch_defaulted(&declared, input)))?,
            };
            if input.fixed_shape().as_ref() != Some(&shape) {
                resize.push((i, shape));
            }
        }
        if !resize.is_empty() {
            interpreter
                .resize_inputs(&resize)
                .map_err(|e| model.error(e))?;
            (inputs, outputs) = tensors(model, &interpreter)?;
        }
        Ok(Box::new(TfliteSession {
            interpreter,
            api,
            threads,
            xnnpack,
            resized: resize,
            profiled: None,
            options: settings,
            inputs,
            outputs,
        }))
    }
}

/// `declared` with a dynamic batch (leading) dimension set to the size the
/// model allocates for it. TFLite's converter writes -1 there for a Keras
/// model's open batch and 1 in `shape`, and TFLite's own tools run such a
/// model at that size, so only the other dynamic dimensions need a shape.
fn batch_defaulted(declared: &[Option<usize>], input: &TensorSpec) -> Vec<Option<usize>> {
    let mut dims = declared.to_vec();
    if let (Some(first @ None), Some(&allocated)) = (dims.first_mut(), input.shape.first()) {
        *first = allocated;
    }
    dims
}

/// The interpreter's inputs and outputs as the harness describes them.
fn tensors(
    model: &ModelFile,
    interpreter: &Interpreter,
) -> Result<(Vec<TensorSpec>, Vec<TensorSpec>)> {
    let (n_in, n_out) = interpreter.counts();
    let describe = |desc: Option<TensorDesc>, what: &str, i: usize| {
        desc.ok_or_else(|| model.error(format!("TensorFlow Lite has no {what} {i}")))
            .and_then(|d| spec(model, &d))
    };
    let inputs = (0..n_in)
        .map(|i| describe(interpreter.input_desc(i), "input", i))
        .collect::<Result<Vec<_>>>()?;
    let outputs = (0..n_out)
        .map(|i| describe(interpreter.output_desc(i), "output", i))
        .collect::<Result<Vec<_>>>()?;
    Ok((inputs, outputs))
}

/// The harness's description of a TFLite tensor.
fn spec(model: &ModelFile, d: &TensorDesc) -> Result<TensorSpec> {
    // TfLiteType codes (tensorflow/lite/core/c/c_api_types.h).
    let dtype = match d.type_code {
        1 => DType::Float32,
        2 => DType::Int32,
        3 => DType::Uint8,
        4 => DType::Int64,
        6 => DType::Bool,
        7 => DType::Int16,
        9 => DType::Int8,
        11 => DType::Float64,
        13 => DType::Uint64,
        16 => DType::Uint32,
        17 => DType::Uint16,
        code => {
            return Err(model.error(format!(
                "tensor '{}' has TfLiteType {code}, which vlab does not generate or compare",
                d.name
            )));
        }
    };
    Ok(TensorSpec {
        name: d.name.clone(),
        dtype,
        shape: d.dims.iter().copied().map(Some).collect(),
        quantization: (d.quantization.scale != 0.0).then_some(Quantization {
            scale: d.quantization.scale,
            zero_point: d.quantization.zero_point,
        }),
    })
}

/// A model loaded into a TensorFlow Lite interpreter.
struct TfliteSession {
    interpreter: Interpreter,
    api: &'static Api,
    /// What `interpreter` was built with, for the profiled one.
    threads: i32,
    xnnpack: bool,
    resized: Vec<(usize, Vec<usize>)>,
    /// A second interpreter, with a profiler, built on the first profiled
    /// inference: the timed interpreter runs without one.
    profiled: Option<Interpreter>,
    options: EngineSettings,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
}

impl Session for TfliteSession {
    fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    fn options(&self) -> EngineSettings {
        self.options.clone()
    }

    fn set_input(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        self.interpreter
            .set_input(index, bytes)
            .map_err(|e| Error::runtime(format!("TensorFlow Lite: {e}")))
    }

    fn run(&mut self) -> Result<()> {
        self.interpreter
            .invoke()
            .map_err(|e| Error::runtime(format!("TensorFlow Lite: {e}")))
    }

    fn profiles_operators(&self) -> bool {
        self.api.has_profiler()
    }

    /// Runs the profiled interpreter on the timed one's inputs. Only the
    /// main subgraph's operators are reported: a control-flow operator's
    /// time holds its subgraphs', and a delegate's kernel (XNNPACK's) is
    /// one operator holding every node it took over.
    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        let failed = |e: String| Error::runtime(format!("TensorFlow Lite: {e}"));
        let first = self.profiled.is_none();
        if first {
            let mut built = Interpreter::new(
                self.api,
                self.interpreter.model_bytes(),
                self.threads,
                self.xnnpack,
                Some(OpProfiler::new()),
            )
            .map_err(failed)?;
            if !self.resized.is_empty() {
                built.resize_inputs(&self.resized).map_err(failed)?;
            }
            self.profiled = Some(built);
        }
        let Some(profiled) = self.profiled.as_mut() else {
            return Err(Error::runtime("TensorFlow Lite: no profiled interpreter"));
        };
        for index in 0..self.inputs.len() {
            let bytes = self.interpreter.input_bytes(index).ok_or_else(|| {
                Error::runtime(format!("TensorFlow Lite input {index} has no data"))
            })?;
            profiled.set_input(index, bytes).map_err(failed)?;
        }
        if first {
            // Left out, as the timed interpreter's first inference is.
            profiled.invoke().map_err(failed)?;
        }
        profiled.invoke_profiled().map_err(failed)?;
        let events = profiled.profiler().map(|p| p.events()).unwrap_or_default();
        Ok(events
            .iter()
            .filter(|e| e.subgraph == 0)
            .filter_map(|e| Some((e.op.clone(), e.ns?)))
            .enumerate()
            .map(|(index, (op, ns))| OperatorTime { index, op, ns })
            .collect())
    }

    fn output(&self, index: usize) -> Result<OutputTensor<'_>> {
        let spec = self
            .outputs
            .get(index)
            .ok_or_else(|| Error::runtime(format!("no output {index}")))?;
        let bytes = self
            .interpreter
            .output_bytes(index)
            .ok_or_else(|| Error::runtime(format!("TensorFlow Lite output {index} has no data")))?;
        Ok(OutputTensor {
            shape: spec.shape.iter().map(|d| d.unwrap_or(0)).collect(),
            bytes,
        })
    }
}
