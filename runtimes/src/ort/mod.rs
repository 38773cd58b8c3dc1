//! Engine `ort`: ONNX Runtime through the `ort` crate, with the library
//! loaded at run time (`load-dynamic`) from `ORT_DYLIB_PATH`, the venv
//! `scripts/setup.sh` fills from the PyPI `onnxruntime` wheel, or the
//! system. The library is checked before use: `ort`'s own loader panics when
//! it is missing, `init_from` returns an error instead, and refuses a
//! library older than the API version compiled in (ONNX Runtime 1.22).
//!
//! By default sessions run on the CPU execution provider with one intra-op
//! and one inter-op thread and every graph optimisation, like
//! `onnxruntime_perf_test -x 1 -y 1`; `threads`, `inter_threads`,
//! `optimization` and `execution_provider` change that (docs/engines.md).
//!
//! Per-operator times come from ONNX Runtime's own profiler, on a separate
//! profiling session ([`profiling`]) whose trace [`trace`] reads.

mod profiling;
mod trace;

use std::sync::OnceLock;
use std::time::Instant;

use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider, ExecutionProviderDispatch};
use ort::memory::Allocator;
use ort::session::Session as OrtSession;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::{DynTensor, TensorElementType, ValueType};
use vlab_harness::{
    DType, Engine, EngineSettings, Error, LoadOptions, ModelFile, ModelFormat, OperatorTime,
    OptionDecl, OutputTensor, Profiled, Result, Session, TensorSpec,
};

use crate::dylib::LibrarySearch;

/// Where the ONNX Runtime library may be.
pub const LIBRARY: LibrarySearch = LibrarySearch {
    env: "ORT_DYLIB_PATH",
    venv_files: &["onnxruntime/capi/libonnxruntime.so"],
    system_name: "libonnxruntime.so",
};

/// The ONNX Runtime engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ort;

/// The loaded library: one environment per process, as ONNX Runtime wants.
struct Runtime {
    env: Environment,
    version: String,
}

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            let path = LIBRARY
                .find()
                .map_err(|why| format!("ONNX Runtime library {why}"))?;
            let builder = ort::init_from(&path)
                .map_err(|e| format!("ONNX Runtime library {}: {e}", path.display()))?;
            let env = builder
                .with_name("vlab")
                .with_telemetry(false)
                .build()
                .map_err(|e| format!("ONNX Runtime {}: {e}", path.display()))?;
            // Failures reach the user once, through vlab's error; ONNX
            // Runtime's own log would repeat them on stderr.
            env.set_log_level(ort::logging::LogLevel::Fatal);
            Ok(Runtime {
                env,
                version: library_version(&path)?,
            })
        })
        .as_ref()
        .map_err(|why| Error::runtime(why.clone()))
}

/// The version the library reports (`OrtGetApiBase()->GetVersionString()`).
/// `ort` checks it while loading but does not expose it.
#[allow(unsafe_code)]
fn library_version(path: &std::path::Path) -> std::result::Result<String, String> {
    let failed = |e: &dyn std::fmt::Display| format!("ONNX Runtime {}: {e}", path.display());
    // SAFETY: this is the library `ort::init_from` has just loaded and
    // checked, so loading it again only takes another reference to it.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| failed(&e))?;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime
    // release (onnxruntime_c_api.h); ort checked the symbol exists.
    let get_base = unsafe {
        lib.get::<unsafe extern "system" fn() -> *const ort::sys::OrtApiBase>(b"OrtGetApiBase")
    }
    .map_err(|e| failed(&e))?;
    // SAFETY: the call takes no arguments and returns a pointer to a static
    // table, or null, which is checked.
    let base = unsafe { get_base() };
    if base.is_null() {
        return Err(failed(&"OrtGetApiBase returned null"));
    }
    // SAFETY: `base` points to the library's static `OrtApiBase`, whose
    // `GetVersionString` returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(((*base).GetVersionString)()) };
    Ok(version.to_string_lossy().into_owned())
}

impl Engine for Ort {
    fn name(&self) -> &'static str {
        "ort"
    }

    fn version(&self) -> Result<String> {
        Ok(runtime()?.version.clone())
    }

    fn formats(&self) -> &'static [ModelFormat] {
        &[ModelFormat::Onnx]
    }

    fn library(&self) -> Option<&'static str> {
        Some("ONNX Runtime")
    }

    fn options(&self) -> &'static [OptionDecl] {
        OPTIONS
    }

    fn load(&self, model: &ModelFile, options: &LoadOptions) -> Result<Box<dyn Session>> {
        let runtime = runtime()?;
        let chosen = options.settings(self)?;
        let settings = Settings::from_options(&chosen)?;
        let rejected = |e: &dyn std::fmt::Display| model.error(format!("ONNX Runtime: {e}"));
        let session = settings
            .builder(&runtime.env)
            .and_then(|mut b| b.commit_from_memory(model.bytes()))
            .map_err(|e| rejected(&e))?;
        let shapes = &options.input_shapes;
        shapes.check_names(session.inputs().iter().map(|i| i.name()))?;
        let mut inputs = Vec::new();
        let mut values = Vec::new();
        for outlet in session.inputs() {
            let (ty, declared) = tensor_type(model, outlet.name(), outlet.dtype())?;
            let shape = shapes.resolve(outlet.name(), Some(&declared))?;
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            let value = DynTensor::new(&Allocator::default(), ty, dims).map_err(|e| {
                Error::runtime(format!("ONNX Runtime: input '{}': {e}", outlet.name()))
            })?;
            values.push(value);
            inputs.push(TensorSpec {
                name: outlet.name().to_owned(),
                dtype: dtype(model, outlet.name(), ty)?,
                shape: shape.into_iter().map(Some).collect(),
                quantization: None,
            });
        }
        let outputs = session
            .outputs()
            .iter()
            .map(|outlet| {
                let (ty, declared) = tensor_type(model, outlet.name(), outlet.dtype())?;
                Ok(TensorSpec {
                    name: outlet.name().to_owned(),
                    dtype: dtype(model, outlet.name(), ty)?,
                    shape: declared,
                    quantization: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let results = vec![(Vec::new(), Vec::new()); outputs.len()];
        Ok(Box::new(OrtSessionAdapter {
            session,
            settings,
            model: model.bytes().to_vec(),
            options: chosen,
            inputs,
            outputs,
            values,
            results,
        }))
    }
}

/// The options ort takes; their defaults are vlab's.
const OPTIONS: &[OptionDecl] = &[
    OptionDecl::count("threads", 1, "intra-op threads (run one operator)"),
    OptionDecl::count(
        "inter_threads",
        1,
        "inter-op threads (run operators side by side)",
    ),
    OptionDecl::choice(
        "optimization",
        &["disable", "basic", "extended", "layout", "all"],
        "all",
        "graph optimisation level",
    ),
    OptionDecl::choice(
        "execution_provider",
        &["cpu", "xnnpack", "cuda", "tensorrt", "openvino"],
        "cpu",
        "execution provider",
    ),
];

/// The session settings, in ONNX Runtime's terms.
struct Settings {
    threads: usize,
    inter_threads: usize,
    optimization: (&'static str, GraphOptimizationLevel),
    provider: Provider,
}

/// Graph optimisation levels by the names ONNX Runtime's tools use.
const LEVELS: [(&str, GraphOptimizationLevel); 5] = [
    ("disable", GraphOptimizationLevel::Disable),
    ("basic", GraphOptimizationLevel::Level1),
    ("extended", GraphOptimizationLevel::Level2),
    ("layout", GraphOptimizationLevel::Level3),
    ("all", GraphOptimizationLevel::All),
];

/// The execution providers vlab can ask ONNX Runtime for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Cpu,
    Xnnpack,
    Cuda,
    TensorRt,
    OpenVino,
}

impl Provider {
    const ALL: [Provider; 5] = [
        Provider::Cpu,
        Provider::Xnnpack,
        Provider::Cuda,
        Provider::TensorRt,
        Provider::OpenVino,
    ];

    fn name(self) -> &'static str {
        match self {
            Provider::Cpu => "cpu",
            Provider::Xnnpack => "xnnpack",
            Provider::Cuda => "cuda",
            Provider::TensorRt => "tensorrt",
            Provider::OpenVino => "openvino",
        }
    }

    /// Whether the loaded library was built with this provider.
    fn is_available(self) -> bool {
        let available = match self {
            Provider::Cpu => return true,
            Provider::Xnnpack => ep::XNNPACK::is_available(),
            Provider::Cuda => ep::CUDA::is_available(),
            Provider::TensorRt => ep::TensorRT::is_available(),
            Provider::OpenVino => ep::OpenVINO::is_available(),
        };
        available.unwrap_or(false)
    }

    /// The registration for a session; `None` for the CPU provider, which
    /// every session has (registering `ep::CPU` would also turn ONNX
    /// Runtime's memory arena off, unlike its own tools).
    fn dispatch(self) -> Option<ExecutionProviderDispatch> {
        let dispatch = match self {
            Provider::Cpu => return None,
            Provider::Xnnpack => ep::XNNPACK::default().build(),
            Provider::Cuda => ep::CUDA::default().build(),
            Provider::TensorRt => ep::TensorRT::default().build(),
            Provider::OpenVino => ep::OpenVINO::default().build(),
        };
        Some(dispatch.error_on_failure())
    }
}

impl Settings {
    fn from_options(options: &EngineSettings) -> Result<Self> {
        let level = options.choice("optimization")?;
        let optimization = LEVELS
            .into_iter()
            .find(|(name, _)| *name == level)
            .ok_or_else(|| {
                Error::runtime(format!("optimization '{level}' has no ONNX Runtime level"))
            })?;
        let wanted = options.choice("execution_provider")?;
        let provider = Provider::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| {
                Error::runtime(format!(
                    "execution provider '{wanted}' is not one vlab knows"
                ))
            })?;
        if !provider.is_available() {
            let here: Vec<&str> = Provider::ALL
                .into_iter()
                .filter(|p| p.is_available())
                .map(Provider::name)
                .collect();
            return Err(Error::runtime(format!(
                "execution provider '{}': this ONNX Runtime library was built without it \
                 (it has: {})",
                provider.name(),
                here.join(", ")
            )));
        }
        Ok(Self {
            threads: options.count("threads")?,
            inter_threads: options.count("inter_threads")?,
            optimization,
            provider,
        })
    }

    fn builder(&self, env: &Environment) -> ort::Result<SessionBuilder> {
        let builder = OrtSession::builder(env)?
            .with_intra_threads(self.threads)?
            .with_inter_threads(self.inter_threads)?
            .with_optimization_level(self.optimization.1)?;
        Ok(match self.provider.dispatch() {
            Some(provider) => builder.with_execution_providers([provider])?,
            None => builder,
        })
    }
}

/// A tensor outlet's element type and declared shape (`None`: dynamic).
fn tensor_type(
    model: &ModelFile,
    name: &str,
    value: &ValueType,
) -> Result<(TensorElementType, Vec<Option<usize>>)> {
    match value {
        ValueType::Tensor { ty, shape, .. } => Ok((
            *ty,
            shape.iter().map(|&d| usize::try_from(d).ok()).collect(),
        )),
        other => Err(model.error(format!(
            "'{name}' is a {other}, not a tensor; vlab benchmarks tensor inputs and outputs"
        ))),
    }
}

fn dtype(model: &ModelFile, name: &str, ty: TensorElementType) -> Result<DType> {
    Ok(match ty {
        TensorElementType::Float32 => DType::Float32,
        TensorElementType::Float64 => DType::Float64,
        TensorElementType::Int8 => DType::Int8,
        TensorElementType::Uint8 => DType::Uint8,
        TensorElementType::Int16 => DType::Int16,
        TensorElementType::Uint16 => DType::Uint16,
        TensorElementType::Int32 => DType::Int32,
        TensorElementType::Uint32 => DType::Uint32,
        TensorElementType::Int64 => DType::Int64,
        TensorElementType::Uint64 => DType::Uint64,
        TensorElementType::Bool => DType::Bool,
        other => {
            return Err(model.error(format!(
                "'{name}' has element type {other}, which vlab does not generate or compare"
            )));
        }
    })
}

/// A model loaded into ONNX Runtime.
struct OrtSessionAdapter {
    session: OrtSession,
    /// What `session` was made with, for the profiling sessions.
    settings: Settings,
    /// The model, for the profiling sessions.
    model: Vec<u8>,
    options: EngineSettings,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
    /// The input tensors, allocated once and refilled by `set_input`.
    values: Vec<DynTensor>,
    /// Each output of the last run: shape and little-endian bytes.
    results: Vec<(Vec<usize>, Vec<u8>)>,
}

/// Runs `$body` with `$t` bound to the Rust type of element type `$ty`.
macro_rules! with_element_type {
    ($ty:expr, $t:ident => $body:expr, $other:expr) => {
        match $ty {
            TensorElementType::Float32 => {
                type $t = f32;
                $body
            }
            TensorElementType::Float64 => {
                type $t = f64;
                $body
            }
            TensorElementType::Int8 => {
                type $t = i8;
                $body
            }
            TensorElementType::Uint8 => {
                type $t = u8;
                $body
            }
            TensorElementType::Int16 => {
                type $t = i16;
                $body
            }
            TensorElementType::Uint16 => {
                type $t = u16;
                $body
            }
            TensorElementType::Int32 => {
                type $t = i32;
                $body
            }
            TensorElementType::Uint32 => {
                type $t = u32;
                $body
            }
            TensorElementType::Int64 => {
                type $t = i64;
                $body
            }
            TensorElementType::Uint64 => {
                type $t = u64;
                $body
            }
            TensorElementType::Bool => {
                type $t = bool;
                $body
            }
            _ => $other,
        }
    };
}

impl Session for OrtSessionAdapter {
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
        let value = self
            .values
            .get_mut(index)
            .ok_or_else(|| Error::runtime(format!("no input {index}")))?;
        let failed = |e: ort::Error| Error::runtime(format!("ONNX Runtime: input {index}: {e}"));
        let ty = *value.data_type();
        with_element_type!(ty, T => {
            let (_, data) = value.try_extract_tensor_mut::<T>().map_err(failed)?;
            let size = std::mem::size_of::<T>();
            let expected = std::mem::size_of_val(data);
            if bytes.len() != expected {
                return Err(Error::runtime(format!(
                    "input {index}: {} bytes given, {expected} expected",
                    bytes.len()
                )));
            }
            for (slot, chunk) in data.iter_mut().zip(bytes.chunks_exact(size)) {
                *slot = <T as Le>::from_le(chunk);
            }
            Ok(())
        }, Err(Error::runtime(format!("input {index}: unsupported element type {ty}"))))
    }

    fn run(&mut self) -> Result<()> {
        run_session(
            &mut self.session,
            &self.inputs,
            &self.values,
            &mut self.results,
        )
    }

    fn profiles_operators(&self) -> bool {
        true
    }

    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        let mut times = Vec::new();
        self.run_profiled_many(1, &mut |run| {
            times = run;
            Ok(())
        })?;
        Ok(times)
    }

    fn run_profiled_many(&mut self, runs: usize, each: Profiled<'_>) -> Result<()> {
        let env = &runtime()?.env;
        let mut left = runs;
        while left > 0 {
            let dir = tempfile::Builder::new()
                .prefix("vlab-ort-profile")
                .tempdir()
                .map_err(|e| Error::runtime(format!("a folder for ONNX Runtime's profile: {e}")))?;
            let mut profiled = profiling::session(&self.settings, env, &self.model, dir.path())?;
            // Left out of the times: it pays the new session's set-up.
            run_session(&mut profiled, &self.inputs, &self.values, &mut self.results)?;
            let started = Instant::now();
            let mut batch = 0;
            while batch < left && (batch == 0 || started.elapsed() < profiling::BATCH_TIME) {
                run_session(&mut profiled, &self.inputs, &self.values, &mut self.results)?;
                batch += 1;
            }
            for times in profiling::finish(profiled, batch)? {
                each(times)?;
            }
            left -= batch;
        }
        Ok(())
    }

    fn output(&self, index: usize) -> Result<OutputTensor<'_>> {
        let (shape, bytes) = self
            .results
            .get(index)
            .ok_or_else(|| Error::runtime(format!("no output {index}")))?;
        Ok(OutputTensor {
            shape: shape.clone(),
            bytes,
        })
    }
}

/// Runs one inference of `session` on `values` (the inputs `inputs`
/// describe, in order) and keeps each output's shape and bytes in
/// `results`.
fn run_session(
    session: &mut OrtSession,
    inputs: &[TensorSpec],
    values: &[DynTensor],
    results: &mut [(Vec<usize>, Vec<u8>)],
) -> Result<()> {
    let feed: Vec<(&str, &DynTensor)> =
        inputs.iter().map(|s| s.name.as_str()).zip(values).collect();
    let outputs = session
        .run(feed)
        .map_err(|e| Error::runtime(format!("ONNX Runtime: {e}")))?;
    for (slot, (_, value)) in results.iter_mut().zip(outputs.iter()) {
        let ty = match value.dtype() {
            ValueType::Tensor { ty, .. } => *ty,
            other => return Err(Error::runtime(format!("ONNX Runtime output is a {other}"))),
        };
        with_element_type!(ty, T => {
            let (shape, data) = value
                .try_extract_tensor::<T>()
                .map_err(|e| Error::runtime(format!("ONNX Runtime: {e}")))?;
            slot.0.clear();
            slot.0.extend(shape.iter().map(|&d| d.max(0) as usize));
            slot.1.clear();
            slot.1.reserve(std::mem::size_of_val(data));
            for &x in data {
                x.put_le(&mut slot.1);
            }
        }, return Err(Error::runtime(format!("ONNX Runtime output of type {ty}"))));
    }
    Ok(())
}

/// Little-endian conversions of the element types.
trait Le: Sized {
    fn from_le(bytes: &[u8]) -> Self;
    /// Appends the value's little-endian bytes to `out`.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! le_numbers {
    ($($t:ty),*) => {$(
        impl Le for $t {
            fn from_le(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

le_numbers!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);

impl Le for bool {
    fn from_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vlab_harness::OptionKind;

    fn choices(option: &str) -> Vec<&'static str> {
        OPTIONS
            .iter()
            .find_map(|d| match d.kind {
                OptionKind::Choice { names, .. } if d.name == option => Some(names.to_vec()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn the_declared_choices_are_the_ones_ort_maps() {
        assert_eq!(choices("optimization"), LEVELS.map(|(name, _)| name));
        assert_eq!(
            choices("execution_provider"),
            Provider::ALL.map(Provider::name)
        );
    }
}
