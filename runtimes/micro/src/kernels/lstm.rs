//! UNIDIRECTIONAL_SEQUENCE_LSTM, following TFLite Micro's `lstm_eval.h`
//! (`LstmStep`): the standard LSTM TFLite Micro takes, without peepholes,
//! projection or layer normalisation, time-major or batch-major; float32,
//! or int8 / int16 activations with int8 weights and an int16 cell state
//! (lstm_quant.rs).
//!
//! Each step computes the forget, input, cell and output gates from the
//! input and the previous hidden state (input FC with the gate's bias, plus
//! recurrent FC), updates the cell state (`f * c + i * g`, clipped), and
//! writes the new hidden state (`o * tanh(c)`) to the step's output rows.
//! Every element of a step depends only on the previous hidden state, so
//! the new hidden state is written to the output first and copied into the
//! hidden state once the step is done: no scratch buffers.

use crate::error::Error;
use crate::kernels::lstm_quant::LstmQuant;
use crate::kernels::sigmoid::logistic_f32;
use crate::kernels::{EvalCtx, Input, Op, Output, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;

/// Input tensors, as TFLite numbers them (lstm_shared.h).
pub(crate) const INPUT: usize = 0;
/// Input-to-gate weights, in gate order input, forget, cell, output.
pub(crate) const INPUT_WEIGHTS: usize = 1;
/// Recurrent (hidden-to-gate) weights, in the same order.
pub(crate) const RECURRENT_WEIGHTS: usize = 5;
/// Peephole weights (cell-to-gate), unsupported.
const PEEPHOLES: core::ops::Range<usize> = 9..12;
/// Gate biases, in the same order.
pub(crate) const GATE_BIAS: usize = 12;
/// Projection weights and bias, unsupported.
const PROJECTION: core::ops::Range<usize> = 16..18;
/// The hidden (output) state and the cell state: variable tensors.
pub(crate) const HIDDEN_STATE: usize = 18;
pub(crate) const CELL_STATE: usize = 19;
/// Layer-normalisation coefficients, unsupported.
const LAYER_NORM: core::ops::Range<usize> = 20..24;

/// Gates, in TFLite's tensor order.
pub(crate) const GATE_INPUT: usize = 0;
pub(crate) const GATE_FORGET: usize = 1;
pub(crate) const GATE_CELL: usize = 2;
pub(crate) const GATE_OUTPUT: usize = 3;

/// A prepared LSTM.
#[derive(Clone, Copy, Debug)]
pub struct LstmParams {
    time_major: bool,
    time_steps: usize,
    batches: usize,
    pub(crate) inputs: usize,
    pub(crate) state: usize,
    cell_clip: f32,
    /// The integer arithmetic, for int8 or int16 activations.
    quant: Option<LstmQuant>,
}

/// One gate's weights, recurrent weights and bias.
pub(crate) type GateTensors<'x> = [Input<'x>; 3];

/// What a step reads and writes.
pub(crate) struct Tensors<'t, 'x> {
    pub(crate) input: Input<'x>,
    pub(crate) gates: [GateTensors<'x>; 4],
    pub(crate) hidden: &'t Output<'x>,
    pub(crate) cell: &'t mut Output<'x>,
    pub(crate) out: &'t mut Output<'x>,
}

/// UNIDIRECTIONAL_SEQUENCE_LSTM.
pub struct Lstm;

impl Op for Lstm {
    type Params<'a> = LstmParams;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<LstmParams, Error> {
        if ctx.input_count() != 24 || ctx.output_count() != 1 {
            return Err(ctx.invalid("an LSTM takes 24 inputs and gives 1 output"));
        }
        let absent = |r: core::ops::Range<usize>| -> Result<bool, Error> {
            for i in r {
                if ctx.input_opt(i)?.is_some() {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        if !absent(PEEPHOLES)? || !absent(PROJECTION)? || !absent(LAYER_NORM)? {
            return Err(ctx.unsupported("peepholes, projection or layer normalisation"));
        }
        let o = ctx.options()?;
        if o.u8(0, 0)? != 4 {
            return Err(ctx.unsupported("a cell activation other than TANH"));
        }
        let cell_clip = o.f32(1, 0.0)?;
        let time_major = o.u8(3, 0)? != 0;
        let (input, hidden, cell, out) = (
            ctx.input(INPUT)?,
            ctx.input(HIDDEN_STATE)?,
            ctx.input(CELL_STATE)?,
            ctx.output,
        );
        let &[d0, d1, inputs] = input.shape.dims() else {
            return Err(ctx.invalid("the input must be 3-D"));
        };
        let (time_steps, batches) = if time_major { (d0, d1) } else { (d1, d0) };
        let &[hidden_batches, state] = hidden.shape.dims() else {
            return Err(ctx.invalid("the hidden state must be 2-D"));
        };
        if hidden_batches != batches
            || cell.shape.elements() != batches * state
            || out.shape.dims() != [d0, d1, state]
        {
            return Err(ctx.invalid("state or output shapes that do not match the input"));
        }
        for t in [hidden, cell] {
            if !t.is_variable || t.data.is_some() {
                return Err(ctx.invalid("the hidden and cell states must be variable tensors"));
            }
        }
        for gate in 0..4 {
            for i in [
                INPUT_WEIGHTS + gate,
                RECURRENT_WEIGHTS + gate,
                GATE_BIAS + gate,
            ] {
                ctx.constant(i)?;
            }
            let (w, r, b) = (
                ctx.input(INPUT_WEIGHTS + gate)?,
                ctx.input(RECURRENT_WEIGHTS + gate)?,
                ctx.input(GATE_BIAS + gate)?,
            );
            if w.shape.dims() != [state, inputs]
                || r.shape.dims() != [state, state]
                || b.shape.dims() != [state]
            {
                return Err(ctx.invalid("gate weights or biases that do not match the state"));
            }
        }
        let quant = match (input.dtype, hidden.dtype, cell.dtype, out.dtype) {
            (ElemType::F32, ElemType::F32, ElemType::F32, ElemType::F32) => {
                for i in (INPUT_WEIGHTS..RECURRENT_WEIGHTS + 4).chain(GATE_BIAS..GATE_BIAS + 4) {
                    if ctx.input(i)?.dtype != ElemType::F32 {
                        return Err(ctx.unsupported("a float LSTM with weights other than float32"));
                    }
                }
                None
            }
            (a, h, ElemType::I16, o) if a == h && a == o => {
                Some(LstmQuant::prepare(ctx, cell_clip)?)
            }
            _ => {
                return Err(ctx.unsupported(
                    "types other than float32, or int8 or int16 activations with an int16 cell state",
                ));
            }
        };
        Ok(LstmParams {
            time_major,
            time_steps,
            batches,
            inputs,
            state,
            cell_clip,
            quant,
        })
    }

    fn eval(p: &LstmParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let input = i.get(INPUT)?;
        let gate_tensors = |g: usize| -> Result<GateTensors<'_>, Error> {
            Ok([
                i.get(INPUT_WEIGHTS + g)?,
                i.get(RECURRENT_WEIGHTS + g)?,
                i.get(GATE_BIAS + g)?,
            ])
        };
        let gates = [
            gate_tensors(0)?,
            gate_tensors(1)?,
            gate_tensors(2)?,
            gate_tensors(3)?,
        ];
        let [hidden, mut cell] = ctx.state.variable_pair(HIDDEN_STATE, CELL_STATE)?;
        let mut out = ctx.outputs.get(0)?;
        let width = out.info.dtype.size();
        let mut step = |at: Step| {
            let mut t = Tensors {
                input,
                gates,
                hidden: &hidden,
                cell: &mut cell,
                out: &mut out,
            };
            match &p.quant {
                Some(q) => q.step(p, at, &mut t),
                None => float_step(p, at, &mut t),
            }
            let (from, n) = (at.output * width, at.rows * p.state * width);
            hidden.data[at.state * width..at.state * width + n]
                .copy_from_slice(&out.data[from..from + n]);
        };
        if p.time_major {
            for t in 0..p.time_steps {
                let rows = p.batches;
                step(Step {
                    rows,
                    input: t * rows * p.inputs,
                    state: 0,
                    output: t * rows * p.state,
                });
            }
        } else {
            for b in 0..p.batches {
                for t in 0..p.time_steps {
                    let row = b * p.time_steps + t;
                    step(Step {
                        rows: 1,
                        input: row * p.inputs,
                        state: b * p.state,
                        output: row * p.state,
                    });
                }
            }
        }
        Ok(())
    }
}

/// One step: `rows` batch rows of the input from element `input`, of the
/// states from element `state`, written to the output from element `output`.
#[derive(Clone, Copy)]
pub(crate) struct Step {
    pub(crate) rows: usize,
    pub(crate) input: usize,
    pub(crate) state: usize,
    pub(crate) output: usize,
}

/// One float32 step.
fn float_step(p: &LstmParams, at: Step, t: &mut Tensors<'_, '_>) {
    let (s, n_in) = (p.state, p.inputs);
    let (input, gates, hidden) = (&t.input, &t.gates, t.hidden);
    for r in 0..at.rows {
        let (x, h) = (at.input + r * n_in, at.state + r * s);
        for u in 0..s {
            let gate = |g: usize| {
                let [w, rec, bias] = &gates[g];
                let mut fc_in = 0f32;
                for d in 0..n_in {
                    fc_in += f32_at(input.data, x + d) * f32_at(w.data, u * n_in + d);
                }
                fc_in += f32_at(bias.data, u);
                let mut fc_rec = 0f32;
                for k in 0..s {
                    fc_rec += f32_at(hidden.data, h + k) * f32_at(rec.data, u * s + k);
                }
                fc_in + fc_rec
            };
            let forget = logistic_f32(gate(GATE_FORGET));
            let input_gate = logistic_f32(gate(GATE_INPUT));
            let cell_gate = libm::tanhf(gate(GATE_CELL));
            let mut c = forget * f32_at(t.cell.data, h + u) + input_gate * cell_gate;
            if p.cell_clip > 0.0 {
                c = c.min(p.cell_clip).max(-p.cell_clip);
            }
            put_f32(t.cell.data, h + u, c);
            let output_gate = logistic_f32(gate(GATE_OUTPUT));
            put_f32(
                t.out.data,
                at.output + r * s + u,
                libm::tanhf(c) * output_gate,
            );
        }
    }
}
