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

self_cell::self_cell!(
    /// The model's bytes and the interpreter that borrows them.
    struct Loaded {
        owner: Vec<u8>,
        #[covariant]
        dependent: MicroInterpreter,
    }
);

type MicroInterpreter<'m> = Interpreter<'m, Vec<u8>>;

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
        options.engine.check_supported("micro", &[])?;
        let fail = |e: vlab_micro::Error| model.error(format!("micro cannot run this model: {e}"));
        let loaded = Loaded::try_new(model.bytes().to_vec(), |bytes| {
            let parsed = Model::parse(bytes)?;
            let arena = vec![0u8; arena_bytes_required(&parsed)?];
            Interpreter::new(parsed, arena)
        })
        .map_err(fail)?;
        let interpreter = loaded.borrow_dependent();
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
        let shapes = &options.input_shapes;
        shapes.check_names(inputs.iter().map(|s| s.name.as_str()))?;
        for input in &inputs {
            shapes.resolve(&input.name, Some(&input.shape))?;
        }
        let staged = inputs
            .iter()
            .map(|s| vec![0u8; s.byte_size().unwrap_or(0)])
            .collect();
        Ok(Box::new(MicroSession {
            loaded,
            staged,
            inputs,
            outputs,
        }))
    }
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

/// Copies the staged inputs into the interpreter's arena.
fn copy_inputs(
    staged: &[Vec<u8>],
    interpreter: &mut MicroInterpreter<'_>,
) -> std::result::Result<(), vlab_micro::Error> {
    for (index, bytes) in staged.iter().enumerate() {
        interpreter.input_mut(index)?.copy_from_slice(bytes);
    }
    Ok(())
}

struct MicroSession {
    loaded: Loaded,
    /// Inputs as last set: the interpreter may reuse input bytes during an
    /// inference, so they are copied in before each one.
    staged: Vec<Vec<u8>>,
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
        let staged = self
            .staged
            .get_mut(index)
            .ok_or_else(|| Error::runtime(format!("micro: no input {index}")))?;
        if staged.len() != bytes.len() {
            return Err(Error::runtime(format!(
                "micro: input {index} takes {} bytes, got {}",
                staged.len(),
                bytes.len()
            )));
        }
        staged.copy_from_slice(bytes);
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        let staged = &self.staged;
        self.loaded
            .with_dependent_mut(|_, interpreter| {
                copy_inputs(staged, interpreter)?;
                interpreter.invoke(&mut ())
            })
            .map_err(|e| Error::runtime(format!("micro inference failed: {e}")))
    }

    fn profiles_operators(&self) -> bool {
        true
    }

    fn run_profiled(&mut self) -> Result<Vec<OperatorTime>> {
        self.loaded.with_dependent_mut(|_, interpreter| {
            let n = interpreter.model().operator_count();
            let mut ticks = vec![0u64; n];
            copy_inputs(&self.staged, interpreter)
                .map_err(|e| Error::runtime(format!("micro: {e}")))?;
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
            .borrow_dependent()
            .output(index)
            .map_err(|e| Error::runtime(format!("micro: {e}")))?;
        Ok(OutputTensor {
            shape: spec.shape.iter().map(|d| d.unwrap_or(0)).collect(),
            bytes,
        })
    }
}
