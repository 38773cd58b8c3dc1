//! Engine `tract`: Sonos' pure-Rust inference engine, for ONNX (tract-onnx)
//! and TFLite (tract-tflite) models.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::Instant;

use tflite_boundary::{Boundary, dequantize, quantize_f32};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{DimLike, bail};
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_core::ops::source::TypedSource;
use tract_onnx::tract_core::plan::eval;
use tract_onnx::tract_hir::infer::{Factoid, InferenceFact};
use vlab_harness::{
    DType, Engine, Error, LoadOptions, ModelFile, ModelFormat, OperatorTime, OutputTensor,
    Quantization, Result, Session, ShapeOverrides, TensorSpec,
};

pub mod tflite_boundary;

/// Version of the tract crates this engine is built with; a test checks it
/// against Cargo.lock.
pub const TRACT_VERSION: &str = "0.23.9";

/// The tract engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tract;

impl Engine for Tract {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn version(&self) -> Result<String> {
        Ok(TRACT_VERSION.to_owned())
    }

    fn formats(&self) -> &'static [ModelFormat] {
        &[ModelFormat::Onnx, ModelFormat::Tflite]
    }

    fn load(&self, model: &ModelFile, options: &LoadOptions) -> Result<Box<dyn Session>> {
        options.settings(self)?;
        let loaded = guarded(
            || match model.format() {
                ModelFormat::Onnx => load_onnx(model, &options.input_shapes),
                ModelFormat::Tflite => load_tflite(model, &options.input_shapes),
            },
            |what| {
                model.error(format!(
                    "tract crashed loading this model ({what}); tract cannot run it"
                ))
            },
        )?;
        Ok(Box::new(
            TractSession::new(loaded).map_err(|e| model.error(tract_reason(&e)))?,
        ))
    }
}

thread_local! {
    /// Set while this thread runs tract code under [`guarded`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs tract code, turning a tract panic on a model it cannot handle into
/// an error about the model. The panic hook stays quiet for panics caught
/// here and defers to the previous hook for every other panic.
fn guarded<T>(f: impl FnOnce() -> Result<T>, on_panic: impl FnOnce(&str) -> Error) -> Result<T> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        Err(on_panic(what))
    })
}

/// tract's error chain on one line, without the debug dumps of operators
/// it embeds, led by the operator tract stopped at when it names one.
fn tract_reason(e: &TractError) -> String {
    let full = format!("{e:#}");
    let operator = full
        .match_indices("builtin_code: ")
        .find(|(at, _)| !full[..*at].ends_with('_'))
        .and_then(|(at, key)| full[at + key.len()..].split([',', ' ', '\n']).next())
        .map(|op| format!(" (operator {op})"))
        .unwrap_or_default();
    format!("tract cannot run this model{operator}: {}", condense(&full))
}

/// Drops `{ ... }` blocks and collapses whitespace.
fn condense(text: &str) -> String {
    let mut depth = 0usize;
    let mut kept = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

type Plan = Arc<TypedRunnableModel>;

/// A prepared plan and the float boundaries the session handles itself.
struct Loaded {
    plan: Plan,
    float_inputs: Vec<Option<Boundary>>,
    float_outputs: Vec<Option<Boundary>>,
}

fn load_onnx(model: &ModelFile, shapes: &ShapeOverrides) -> Result<Loaded> {
    let err = |e: TractError| model.error(tract_reason(&e));
    let mut graph = tract_onnx::onnx()
        .model_for_read(&mut model.bytes())
        .map_err(err)?;
    let names = input_names(&graph);
    shapes.check_names(names.iter().map(String::as_str))?;
    for (ix, name) in names.iter().enumerate() {
        let fact = graph.input_fact(ix).map_err(err)?.clone();
        let declared = declared_dims(&fact);
        let shape = shapes.resolve(name, declared.as_deref())?;
        let dt = fact.datum_type.concretize().ok_or_else(|| {
            model.error(format!("input '{name}' has no element type in the model"))
        })?;
        graph
            .set_input_fact(ix, InferenceFact::dt_shape(dt, shape))
            .map_err(err)?;
    }
    let plan = graph
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    Ok(Loaded {
        plan,
        float_inputs: vec![],
        float_outputs: vec![],
    })
}

fn load_tflite(model: &ModelFile, shapes: &ShapeOverrides) -> Result<Loaded> {
    let err = |e: TractError| model.error(tract_reason(&e));
    let cut = tflite_boundary::cut(model.bytes());
    let mut bytes = cut.as_ref().map_or(model.bytes(), |c| c.bytes.as_slice());
    let mut graph = tract_tflite::tflite()
        .model_for_read(&mut bytes)
        .map_err(err)?;
    let (float_inputs, float_outputs) = cut.map(|c| (c.inputs, c.outputs)).unwrap_or_default();
    let names: Vec<String> = input_names(&graph)
        .into_iter()
        .enumerate()
        .map(|(ix, name)| {
            float_inputs
                .get(ix)
                .cloned()
                .flatten()
                .map_or(name, |b| b.float_name)
        })
        .collect();
    shapes.check_names(names.iter().map(String::as_str))?;
    for (ix, name) in names.iter().enumerate() {
        let fact = graph.input_fact(ix).map_err(err)?.clone();
        let declared: Vec<Option<usize>> = fact.shape.iter().map(|d| d.to_usize().ok()).collect();
        let shape = shapes.resolve(name, Some(&declared))?;
        if declared.iter().any(Option::is_none) {
            graph
                .set_input_fact(ix, fact.datum_type.fact(shape))
                .map_err(err)?;
        }
    }
    let plan = graph
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    Ok(Loaded {
        plan,
        float_inputs,
        float_outputs,
    })
}

fn input_names<F, O>(graph: &Graph<F, O>) -> Vec<String>
where
    F: Fact + Clone + 'static,
    O: std::fmt::Debug + std::fmt::Display + AsRef<dyn Op> + AsMut<dyn Op> + Clone + 'static,
{
    graph
        .inputs
        .iter()
        .map(|o| graph.node(o.node).name.clone())
        .collect()
}

/// The dimensions an ONNX input declares: `None` overall when the rank is
/// unknown, `None` per dimension when it is symbolic.
fn declared_dims(fact: &InferenceFact) -> Option<Vec<Option<usize>>> {
    if fact.shape.is_open() {
        return None;
    }
    Some(
        fact.shape
            .dims()
            .map(|d| d.concretize().and_then(|d| d.to_usize().ok()))
            .collect(),
    )
}

/// A float tensor at a model boundary and its bytes, (de)quantised by the session.
struct FloatBoundary {
    boundary: Boundary,
    bytes: Vec<u8>,
}

struct TractSession {
    state: TypedSimpleState,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
    input_values: TVec<TValue>,
    output_values: TVec<TValue>,
    float_inputs: Vec<Option<FloatBoundary>>,
    float_outputs: Vec<Option<FloatBoundary>>,
}

impl TractSession {
    fn new(loaded: Loaded) -> TractResult<Self> {
        let model = loaded.plan.model();
        let boundary = |list: &[Option<Boundary>], ix: usize| list.get(ix).cloned().flatten();
        let inputs = (0..model.inputs.len())
            .map(|ix| {
                let tract_spec = spec(
                    &model.node(model.inputs[ix].node).name,
                    model.input_fact(ix)?,
                )?;
                Ok(as_float(tract_spec, boundary(&loaded.float_inputs, ix)))
            })
            .collect::<TractResult<Vec<_>>>()?;
        let outputs = (0..model.outputs.len())
            .map(|ix| {
                let outlet = model.outputs[ix];
                let name = model
                    .outlet_label(outlet)
                    .unwrap_or(&model.node(outlet.node).name);
                Ok(as_float(
                    spec(name, model.output_fact(ix)?)?,
                    boundary(&loaded.float_outputs, ix),
                ))
            })
            .collect::<TractResult<Vec<_>>>()?;
        let input_values = (0..model.inputs.len())
            .map(|ix| {
                let fact = model.input_fact(ix)?;
                let shape: Vec<usize> = fact
                    .shape
                    .as_concrete()
                    .map(<[usize]>::to_vec)
                    .unwrap_or_default();
                Ok(Tensor::zero_dt(fact.datum_type, &shape)?.into_tvalue())
            })
            .collect::<TractResult<TVec<_>>>()?;
        let staged = |list: &[Option<Boundary>], n: usize| {
            (0..n)
                .map(|ix| {
                    boundary(list, ix).map(|boundary| FloatBoundary {
                        boundary,
                        bytes: vec![],
                    })
                })
                .collect()
        };
        Ok(Self {
            state: loaded.plan.spawn()?,
            float_inputs: staged(&loaded.float_inputs, inputs.len()),
            float_outputs: staged(&loaded.float_outputs, outputs.len()),
            inputs,
            outputs,
            input_values,
            output_values: tvec![],
        })
    }

    /// Runs one inference on the current inputs. With `times`, every node
    /// that computes (all but the model's inputs and constants) is timed on
    /// its own through tract's per-node evaluation hook, in plan order.
    fn invoke(&mut self, times: Option<&mut Vec<OperatorTime>>) -> Result<()> {
        for index in 0..self.float_inputs.len() {
            if let Some(staged) = self.float_inputs[index].take() {
                self.with_input_tensor(index, |dest| {
                    quantize_f32(&staged.boundary, &staged.bytes, dest)
                });
                self.float_inputs[index] = Some(staged);
            }
        }
        let (state, inputs) = (&mut self.state, &self.input_values);
        self.output_values = guarded(
            || {
                let ran = match times {
                    None => state.run(inputs.clone()),
                    Some(times) => {
                        state.run_plan_with_eval(inputs.clone(), |ctx, op_state, node, values| {
                            if node.op_is::<TypedSource>() || node.op_is::<Const>() {
                                return eval(ctx, op_state, node, values);
                            }
                            let start = Instant::now();
                            let outputs = eval(ctx, op_state, node, values);
                            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                            times.push(OperatorTime {
                                index: times.len(),
                                op: node.op().name().into_owned(),
                                ns,
                            });
                            outputs
                        })
                    }
                };
                ran.map_err(|e| Error::runtime(format!("tract inference failed: {e:#}")))
            },
            |what| Error::runtime(format!("tract crashed during inference: {what}")),
        )?;
        for (staged, value) in self.float_outputs.iter_mut().zip(&self.output_values) {
            if let Some(staged) = staged {
                dequantize(&staged.boundary, value.as_bytes(), &mut staged.bytes);
            }
        }
        Ok(())
    }

    /// Gives input `index`'s tensor to `fill`, without copying it when tract
    /// holds no other reference.
    fn with_input_tensor(&mut self, index: usize, fill: impl FnOnce(&mut [u8])) {
        let value = std::mem::replace(
            &mut self.input_values[index],
            Tensor::default().into_tvalue(),
        );
        let mut tensor = value.into_tensor();
        fill(tensor.as_bytes_mut());
        self.input_values[index] = tensor.into_tvalue();
    }
}

/// The spec the user sees for a tensor tract handles in quantised form.
fn as_float(spec: TensorSpec, boundary: Option<Boundary>) -> TensorSpec {
    match boundary {
        Some(b) => TensorSpec {
            name: b.float_name,
            dtype: DType::Float32,
            quantization: None,
            ..spec
        },
        None => spec,
    }
}

impl Session for TractSession {
    fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    fn set_input(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        let expected = self
            .inputs
            .get(index)
            .and_then(TensorSpec::byte_size)
            .ok_or_else(|| Error::runtime(format!("tract: no input {index}")))?;
        if bytes.len() != expected {
            return Err(Error::runtime(format!(
                "tract: input {index} takes {expected} bytes, got {}",
                bytes.len()
            )));
        }
        match &mut self.float_inputs[index] {
            Some(staged) => staged.bytes = bytes.to_vec(),
            None => self.with_input_tensor(index, |dest| dest.copy_from_slice(bytes)),
        }
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        self.invoke(None)
    }

    fn profiles_operators(&self) -> bool {
        true
    }

    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        let mut times = Vec::new();
        self.invoke(Some(&mut times))?;
        Ok(times)
    }

    fn output(&self, index: usize) -> Result<OutputTensor<'_>> {
        let value = self.output_values.get(index).ok_or_else(|| {
            Error::runtime(format!("tract: no output {index} (has the model run?)"))
        })?;
        let bytes = match &self.float_outputs[index] {
            Some(staged) => staged.bytes.as_slice(),
            None => value.as_bytes(),
        };
        Ok(OutputTensor {
            shape: value.shape().to_vec(),
            bytes,
        })
    }
}

fn spec(name: &str, fact: &TypedFact) -> TractResult<TensorSpec> {
    let (dtype, quantization) = dtype(fact.datum_type)?;
    Ok(TensorSpec {
        name: name.to_owned(),
        dtype,
        shape: fact.shape.iter().map(|d| d.to_usize().ok()).collect(),
        quantization,
    })
}

fn dtype(dt: DatumType) -> TractResult<(DType, Option<Quantization>)> {
    let quantization = dt.is_quantized().then(|| {
        let (zero_point, scale) = dt.zp_scale();
        Quantization { scale, zero_point }
    });
    let dtype = match dt.unquantized() {
        DatumType::F32 => DType::Float32,
        DatumType::F64 => DType::Float64,
        DatumType::I8 => DType::Int8,
        DatumType::U8 => DType::Uint8,
        DatumType::I16 => DType::Int16,
        DatumType::U16 => DType::Uint16,
        DatumType::I32 => DType::Int32,
        DatumType::U32 => DType::Uint32,
        DatumType::I64 => DType::Int64,
        DatumType::U64 => DType::Uint64,
        DatumType::Bool => DType::Bool,
        other => bail!("tensors of type {other:?} are not supported by vlab"),
    };
    Ok((dtype, quantization))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tract_version_matches_cargo_lock() {
        let lock = include_str!("../../../Cargo.lock");
        let needle = format!("name = \"tract-core\"\nversion = \"{TRACT_VERSION}\"");
        assert!(
            lock.contains(&needle),
            "update TRACT_VERSION to the tract-core version in Cargo.lock"
        );
    }

    #[test]
    fn quantised_types_map_to_storage_type_and_parameters() {
        let (dt, q) = dtype(DatumType::I8.with_zp_scale(-128, 0.5)).unwrap();
        assert_eq!(dt, DType::Int8);
        assert_eq!(
            q,
            Some(Quantization {
                scale: 0.5,
                zero_point: -128
            })
        );
        assert_eq!(dtype(DatumType::F32).unwrap(), (DType::Float32, None));
        assert!(dtype(DatumType::String).is_err());
    }
}
