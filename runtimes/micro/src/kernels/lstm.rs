//! UNIDIRECTIONAL_SEQUENCE_LSTM, float32, following TFLite Micro's
//! `lstm_eval.h` (`LstmStep`): the standard LSTM TFLite Micro takes, without
//! peepholes, projection or layer normalisation, time-major or batch-major.
//!
//! Each step computes the forget, input, cell and output gates from the
//! input and the previous hidden state (input FC with the gate's bias, plus
//! recurrent FC), updates the cell state (`f * c + i * g`, clipped), and
//! writes the new hidden state (`o * tanh(c)`) to the step's output rows.
//! Every element of a step depends only on the previous hidden state, so
//! the new hidden state is written to the output first and copied into the
//! hidden state once the step is done: no scratch buffers.

use crate::error::Error;
use crate::kernels::sigmoid::logistic_f32;
use crate::kernels::{EvalCtx, Input, Op, PrepareCtx, f32_at, put_f32};
use crate::model::ElemType;

/// Input tensors, as TFLite numbers them (lstm_shared.h).
const INPUT: usize = 0;
/// Input-to-gate weights, in gate order input, forget, cell, output.
const INPUT_WEIGHTS: usize = 1;
/// Recurrent (hidden-to-gate) weights, in the same order.
const RECURRENT_WEIGHTS: usize = 5;
/// Peephole weights (cell-to-gate), unsupported.
const PEEPHOLES: core::ops::Range<usize> = 9..12;
/// Gate biases, in the same order.
const GATE_BIAS: usize = 12;
/// Projection weights and bias, unsupported.
const PROJECTION: core::ops::Range<usize> = 16..18;
/// The hidden (output) state and the cell state: variable tensors.
const HIDDEN_STATE: usize = 18;
const CELL_STATE: usize = 19;
/// Layer-normalisation coefficients, unsupported.
const LAYER_NORM: core::ops::Range<usize> = 20..24;

/// Gates, in TFLite's tensor order.
const GATE_INPUT: usize = 0;
const GATE_FORGET: usize = 1;
const GATE_CELL: usize = 2;
const GATE_OUTPUT: usize = 3;

/// A prepared LSTM.
#[derive(Clone, Copy, Debug)]
pub struct LstmParams {
    time_major: bool,
    time_steps: usize,
    batches: usize,
    inputs: usize,
    state: usize,
    cell_clip: f32,
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
            || cell.shape.dims() != hidden.shape.dims()
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
            let (w, r, b) = (
                ctx.input(INPUT_WEIGHTS + gate)?,
                ctx.input(RECURRENT_WEIGHTS + gate)?,
                ctx.input(GATE_BIAS + gate)?,
            );
            ctx.constant(INPUT_WEIGHTS + gate)?;
            ctx.constant(RECURRENT_WEIGHTS + gate)?;
            ctx.constant(GATE_BIAS + gate)?;
            if w.shape.dims() != [state, inputs]
                || r.shape.dims() != [state, state]
                || b.shape.dims() != [state]
            {
                return Err(ctx.invalid("gate weights or biases that do not match the state"));
            }
            if [w.dtype, r.dtype, b.dtype] != [ElemType::F32; 3] {
                return Err(ctx.unsupported("an LSTM other than all float32"));
            }
        }
        if [input.dtype, hidden.dtype, cell.dtype, out.dtype] != [ElemType::F32; 4] {
            return Err(ctx.unsupported("an LSTM other than all float32"));
        }
        Ok(LstmParams {
            time_major,
            time_steps,
            batches,
            inputs,
            state,
            cell_clip,
        })
    }

    fn eval(p: &LstmParams, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let i = &ctx.inputs;
        let input = i.get(INPUT)?;
        let gate_tensors = |g: usize| -> Result<[Input<'_>; 3], Error> {
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
        let [hidden, cell] = ctx.state.variable_pair(HIDDEN_STATE, CELL_STATE)?;
        let out = ctx.outputs.get(0)?;
        let (s, n_in) = (p.state, p.inputs);
        // One step: `rows` batch rows of the input from `input_at`, of the
        // states from `state_at`, written to the output from `output_at`.
        let mut step = |rows: usize, input_at: usize, state_at: usize, output_at: usize| {
            for r in 0..rows {
                let x = (input_at + r * n_in, state_at + r * s);
                for u in 0..s {
                    let gate = |g: usize| {
                        let [w, rec, bias] = &gates[g];
                        let mut fc_in = 0f32;
                        for d in 0..n_in {
                            fc_in += f32_at(input.data, x.0 + d) * f32_at(w.data, u * n_in + d);
                        }
                        fc_in += f32_at(bias.data, u);
                        let mut fc_rec = 0f32;
                        for k in 0..s {
                            fc_rec += f32_at(hidden.data, x.1 + k) * f32_at(rec.data, u * s + k);
                        }
                        fc_in + fc_rec
                    };
                    let forget = logistic_f32(gate(GATE_FORGET));
                    let input_gate = logistic_f32(gate(GATE_INPUT));
                    let cell_gate = libm::tanhf(gate(GATE_CELL));
                    let at = x.1 + u;
                    let mut c = forget * f32_at(cell.data, at) + input_gate * cell_gate;
                    if p.cell_clip > 0.0 {
                        c = c.min(p.cell_clip).max(-p.cell_clip);
                    }
                    put_f32(cell.data, at, c);
                    let output_gate = logistic_f32(gate(GATE_OUTPUT));
                    put_f32(
                        out.data,
                        output_at + r * s + u,
                        libm::tanhf(c) * output_gate,
                    );
                }
            }
            let n = rows * s * 4;
            hidden.data[state_at * 4..state_at * 4 + n]
                .copy_from_slice(&out.data[output_at * 4..output_at * 4 + n]);
        };
        if p.time_major {
            for t in 0..p.time_steps {
                let rows = p.batches;
                step(rows, t * rows * n_in, 0, t * rows * s);
            }
        } else {
            for b in 0..p.batches {
                for t in 0..p.time_steps {
                    let row = b * p.time_steps + t;
                    step(1, row * n_in, b * s, row * s);
                }
            }
        }
        Ok(())
    }
}
