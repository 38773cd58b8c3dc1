//! Engine `micro`: vlab's own no_std TFLite interpreter (vlab-micro) running
//! on the host, computing exactly what it computes on a microcontroller.

use std::time::Instant;

use vlab_harness::{
    DType, Engine, Error, LoadOptions, ModelFile, ModelFormat, OperatorTime, OutputTensor,
    Quantization, Result, Session, TensorSpec,
};
use vlab_micro::model::{ElemType, TensorInfo};
use vlab_micro::{Clock, Interpreter, Model, Profiler, arena_bytes_required};

/// The host's monotonic clock in nanoseconds, as vlab-micro's profiling clock.
struct HostClock(Instant);

impl Clock for HostClock {
    fn now(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The micro engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct Micro;

/// The model's bytes, the arena, and the interpreter that borrows both
/// (ouroboros, because the interpreter borrows the arena mutably, which
/// self_cell cannot express).
#[ouroboros::self_referencing]
struct Loaded {
    model: Vec<u8>,
    arena: Vec<u8>,
    #[borrows(model, mut arena)]
    #[not_covariant]
    interpreter: Interpreter<'this>,
}

impl Engine for Micro {
    fn name(&self) -> &'static str {
        "micro"
    }

    fn version(&self) -> Result<String> {
        Ok(format!("vlab-micro {}", vlab_micro::VERSION))
    }

    fn formats(&self) -> &'static [ModelFormat] {
        &[ModelFormat::Tflite]
    }

    fn load(&self, model: &ModelFile, options: &LoadOptions) -> Result<Box<dyn Session>> {
        Ok(Box::new(prepare(model, options)?))
    }
}

/// What a board running vlab-micro in its firmware needs to know of a
/// model before it runs it, from one preparation on this machine.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// The model's inputs, in model order.
    pub inputs: Vec<TensorSpec>,
    /// The model's outputs, in model order.
    pub outputs: Vec<TensorSpec>,
    /// Arena bytes the board needs at least: activations and variables
    /// (the interpreter's own tables are smaller on a 32-bit core than here).
    pub arena_bytes: usize,
    /// Operators in the model's main subgraph, as the firmware profiles them.
    pub operators: usize,
}

/// Prepares `model` as the firmware would, checking every operator and
/// listing every problem at once, and says what it needs.
pub fn footprint(model: &ModelFile, options: &LoadOptions) -> Result<Footprint> {
    let session = prepare(model, options)?;
    let (arena_bytes, operators) = session.loaded.with_interpreter(|interpreter| {
        let usage = interpreter.arena_use();
        (
            usage.activations + usage.variables,
            interpreter.model().operator_count(),
        )
    });
    Ok(Footprint {
        inputs: session.inputs,
        outputs: session.outputs,
        arena_bytes,
        operators,
    })
}

/// Parses, checks and prepares `model` with an arena of the size it needs.
fn prepare(model: &ModelFile, options: &LoadOptions) -> Result<MicroSession> {
    options.settings(&Micro)?;
    let fail = |e: vlab_micro::Error| model.error(format!("micro cannot run this model: {e}"));
    let bytes = model.bytes().to_vec();
    let parsed = Model::parse(&bytes).map_err(fail)?;
    let mut problems = Vec::new();
    vlab_micro::check(&parsed, |e| problems.push(e.to_string()));
    match problems.len() {
        0 => {}
        1 => return Err(model.error(format!("micro cannot run this model: {}", problems[0]))),
        n => {
            return Err(model.error(format!(
                "micro cannot run this model ({n} problems): {}",
                problems.join("; ")
            )));
        }
    }
    let arena = vec![0u8; arena_bytes_required(&parsed).map_err(fail)?];
    let loaded = LoadedTryBuilder {
        model: bytes,
        arena,
        interpreter_builder: |bytes: &Vec<u8>, arena: &mut Vec<u8>| {
            Interpreter::new(Model::parse(bytes)?, arena)
        },
    }
    .try_build()
    .map_err(fail)?;
    let describe = |interpreter: &Interpreter<'_>| -> Result<(Vec<TensorSpec>, Vec<TensorSpec>)> {
        let inputs = (0..interpreter.model().inputs().count())
            .map(|i| {
                interpreter
                    .input_info(i)
                    .map_err(fail)
                    .and_then(|t| spec(model, &t))
            })
            .collect::<Result<Vec<_>>>()?;
        let outputs = (0..interpreter.model().outputs().count())
            .map(|i| {
                interpreter
                    .output_info(i)
                    .map_err(fail)
                    .and_then(|t| spec(model, &t))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((inputs, outputs))
    };
    let (inputs, outputs) = loaded.with_interpreter(describe)?;
    let shapes = &options.input_shapes;
    shapes.check_names(inputs.iter().map(|s| s.name.as_str()))?;
    for input in &inputs {
        shapes.resolve(&input.name, Some(&input.shape))?;
    }
    Ok(MicroSession {
        loaded,
        inputs,
        outputs,
    })
}

fn spec(model: &ModelFile, t: &TensorInfo<'_>) -> Result<TensorSpec> {
    let dtype = match t.dtype {
        ElemType::F32 => DType::Float32,
        ElemType::I8 => DType::Int8,
        ElemType::U8 => DType::Uint8,
        ElemType::I16 => DType::Int16,
        ElemType::I32 => DType::Int32,
        ElemType::I64 => DType::Int64,
        ElemType::Bool => DType::Bool,
        other => {
            return Err(model.error(format!(
                "graph input or output \"{}\" has type {}, which vlab cannot feed or read",
                t.name,
                other.name()
            )));
        }
    };
    if t.name.is_empty() {
        return Err(model.error("a graph input or output has no name"));
    }
    Ok(TensorSpec {
        name: t.name.to_owned(),
        dtype,
        shape: t.shape.dims().iter().copied().map(Some).collect(),
        quantization: t.quant.map(|q| Quantization {
            scale: q.scale,
            zero_point: q.zero_point,
        }),
    })
}

struct MicroSession {
    /// Inputs live in the arena and keep their value across inferences.
    loaded: Loaded,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
}

impl Session for MicroSession {
    fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    fn set_input(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        self.loaded.with_interpreter_mut(|interpreter| {
            let dest = interpreter
                .input_mut(index)
                .map_err(|_| Error::runtime(format!("micro: no input {index}")))?;
            if dest.len() != bytes.len() {
                return Err(Error::runtime(format!(
                    "micro: input {index} takes {} bytes, got {}",
                    dest.len(),
                    bytes.len()
                )));
            }
            dest.copy_from_slice(bytes);
            Ok(())
        })
    }

    fn run(&mut self) -> Result<()> {
        self.loaded
            .with_interpreter_mut(|interpreter| interpreter.invoke(&mut ()))
            .map_err(|e| Error::runtime(format!("micro inference failed: {e}")))
    }

    fn profiles_operators(&self) -> bool {
        true
    }

    fn reset_state(&mut self) -> Result<()> {
        self.loaded
            .with_interpreter_mut(|interpreter| interpreter.reset_state());
        Ok(())
    }

    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        self.loaded.with_interpreter_mut(|interpreter| {
            let n = interpreter.operator_count();
            let mut ticks = vec![0u64; n];
            interpreter
                .invoke(&mut Profiler::new(HostClock(Instant::now()), &mut ticks))
                .map_err(|e| Error::runtime(format!("micro inference failed: {e}")))?;
            (0..n)
                .map(|index| {
                    let op = interpreter
                        .model()
                        .operator(index)
                        .map_err(|e| Error::runtime(format!("micro: {e}")))?;
                    Ok(OperatorTime {
                        index,
                        op: op.opcode.name().to_owned(),
                        ns: ticks[index],
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
    }

    fn output(&self, index: usize) -> Result<OutputTensor<'_>> {
        let spec = self
            .outputs
            .get(index)
            .ok_or_else(|| Error::runtime(format!("micro: no output {index}")))?;
        let bytes = self
            .loaded
            .with_interpreter(|interpreter| interpreter.output(index))
            .map_err(|e| Error::runtime(format!("micro: {e}")))?;
        Ok(OutputTensor {
            shape: spec.shape.iter().map(|d| d.unwrap_or(0)).collect(),
            bytes,
        })
    }
}
