//! UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and integer (int8 or int16
//! activations, int8 weights, int32 or int64 biases, an int16 cell state),
//! following TFLite Micro's `lstm_eval.h` (`LstmStep`): the standard LSTM
//! TFLite Micro takes, without peepholes, projection or layer
//! normalisation, time-major or batch-major.
//!
//! The integer LSTM (`PrepareGateParametersInteger`) computes every gate's
//! input and recurrent fully connected layers into int16 at a scale of
//! 2^-12, adds them saturating, takes the int16 sigmoid or tanh (2^-15),
//! multiplies gates and cell state with requantisation (`MulElementwise`),
//! and the hidden state is `o * tanh(c)` requantised to the hidden state's
//! type.
//!
//! Each step computes the forget, input, cell and output gates from the
//! input and the previous hidden state (input FC with the gate's bias, plus
//! recurrent FC), updates the cell state (`f * c + i * g`, clipped), and
//! writes the new hidden state (`o * tanh(c)`) to the step's output rows.
//! Every element of a step depends only on the previous hidden state, so
//! the new hidden state is written to the output first and copied into the
//! hidden state once the step is done: no scratch buffers.

use crate::error::Error;
use crate::kernels::requant::{bias_at, put_quantized, quantized_at, requantize};
use crate::kernels::sigmoid::logistic_f32;
use crate::kernels::sigmoid_int16::{Int16Sigmoid, checked_log2};
use crate::kernels::{EvalCtx, Input, Op, PrepareCtx, f32_at, i16_at, put_f32};
use crate::model::{ElemType, TensorInfo};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

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

/// The int16 range.
const I16_RANGE: (i32, i32) = (-32768, 32767);
/// Scale of the gates' fully connected outputs (the nonlinearities' input).
const GATE_INPUT_SCALE: f64 = 1.0 / 4096.0;
/// Scale of the nonlinearities' outputs.
const GATE_OUTPUT_SCALE: f64 = 1.0 / 32768.0;

/// The requantisation of an integer LSTM.
#[derive(Clone, Copy, Debug)]
struct IntegerLstm {
    /// int16 activations, accumulating in int64 (else int8, in int32).
    wide: bool,
    input_offset: i32,
    hidden_offset: i32,
    /// Per gate: the input and the recurrent layer's weight offset and
    /// multiplier to the gate scale.
    input_fc: [(i32, (i32, i32)); 4],
    recurrent_fc: [(i32, (i32, i32)); 4],
    /// `forget x cell`, `input x cell gate` (both to the cell scale) and
    /// `output x tanh(cell)` (to the hidden state's).
    forget_mul: (i32, i32),
    input_mul: (i32, i32),
    output_mul: (i32, i32),
    hidden_zero_point: i32,
    hidden_range: (i32, i32),
    /// The cell clip in cell-state units, when the clip is positive.
    cell_clip: Option<i32>,
    /// tanh of the cell state, from its power-of-two scale.
    cell_tanh: Int16Sigmoid,
}

/// A prepared LSTM.
#[derive(Clone, Copy, Debug)]
pub struct LstmParams {
    time_major: bool,
    time_steps: usize,
    batches: usize,
    inputs: usize,
    state: usize,
    cell_clip: f32,
    /// The requantisation of an integer LSTM (`None`: float32).
    integer: Option<IntegerLstm>,
}

/// The multiplier of `scale` (a product of scales over the output's).
fn multiplier(ctx: &PrepareCtx<'_, '_>, scale: f64) -> Result<(i32, i32), Error> {
    if !(scale.is_finite() && scale >= 0.0) {
        return Err(ctx.invalid("quantisation scales with an undefined multiplier"));
    }
    Ok(quantize_multiplier(scale))
}

/// Checks an integer LSTM's tensors and derives its requantisation, as
/// TFLite Micro's `PrepareGateParametersInteger`.
fn prepare_integer(
    ctx: &PrepareCtx<'_, '_>,
    input: &TensorInfo<'_>,
    hidden: &TensorInfo<'_>,
    cell: &TensorInfo<'_>,
) -> Result<IntegerLstm, Error> {
    let wide = input.dtype == ElemType::I16;
    let (Some(iq), Some(hq), Some(cq)) = (input.quant, hidden.quant, cell.quant) else {
        return Err(ctx.invalid("an integer LSTM without quantisation parameters"));
    };
    let Some(power) = checked_log2(cq.scale) else {
        return Err(ctx.unsupported("an integer LSTM cell state scale other than a power of two"));
    };
    let bias_type = if wide { ElemType::I64 } else { ElemType::I32 };
    let layer = |i: usize, activation: f32| -> Result<(i32, (i32, i32)), Error> {
        let w = ctx.input(i)?;
        let Some(wq) = w
            .quant
            .filter(|_| w.dtype == ElemType::I8 && w.channel_scales.is_none())
        else {
            return Err(ctx.unsupported("LSTM weights other than per-tensor int8"));
        };
        let real = f64::from(activation) * f64::from(wq.scale) / GATE_INPUT_SCALE;
        Ok((-wq.zero_point, multiplier(ctx, real)?))
    };
    let mut p = IntegerLstm {
        wide,
        input_offset: -iq.zero_point,
        hidden_offset: -hq.zero_point,
        input_fc: [(0, (0, 0)); 4],
        recurrent_fc: [(0, (0, 0)); 4],
        forget_mul: multiplier(ctx, GATE_OUTPUT_SCALE)?,
        input_mul: multiplier(
            ctx,
            GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / f64::from(cq.scale),
        )?,
        output_mul: multiplier(
            ctx,
            GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / f64::from(hq.scale),
        )?,
        hidden_zero_point: hq.zero_point,
        hidden_range: if wide { I16_RANGE } else { (-128, 127) },
        cell_clip: None,
        cell_tanh: match 12 + power {
            s if s < 0 => Int16Sigmoid::fixed(true, 3, s.unsigned_abs()),
            s => Int16Sigmoid::fixed(true, 0, s as u32),
        },
    };
    for gate in 0..4 {
        if ctx.input(GATE_BIAS + gate)?.dtype != bias_type {
            return Err(ctx.unsupported("LSTM biases other than int32 (int8) or int64 (int16)"));
        }
        p.input_fc[gate] = layer(INPUT_WEIGHTS + gate, iq.scale)?;
        p.recurrent_fc[gate] = layer(RECURRENT_WEIGHTS + gate, hq.scale)?;
    }
    let clip = ctx.options()?.f32(1, 0.0)?;
    let units = f64::from(clip) / f64::from(cq.scale);
    p.cell_clip = (clip > 0.0).then(|| i32::from(units.clamp(-32768.0, 32767.0) as i16));
    Ok(p)
}

impl IntegerLstm {
    /// Element `u` of one batch row of an integer step, `(x.0, x.1, u)`
    /// with `x` where the row starts in the input and in the states:
    /// updates the cell state and returns the new hidden state.
    fn unit(
        &self,
        gates: &[[Input<'_>; 3]; 4],
        input: &Input<'_>,
        hidden: &[u8],
        cell: &mut [u8],
        (x0, x1, u): (usize, usize, usize),
        (n_in, s): (usize, usize),
    ) -> i32 {
        let x = (x0, x1);
        let dtype = input.info.dtype;
        // sum((w + weight offset) x (v + offset)) over row `u` of `w`.
        let fc = |data: &[u8], at: usize, len: usize, offset: i32, w: &Input<'_>, w_offset: i32| {
            (0..len).fold(0i64, |a, d| {
                let v = quantized_at(data, dtype, at + d).wrapping_add(offset);
                let w = i32::from(w.data[u * len + d] as i8).wrapping_add(w_offset);
                a.wrapping_add(i64::from(w.wrapping_mul(v)))
            })
        };
        let gate = |g: usize| {
            let [w, rec, bias] = &gates[g];
            let (w_offset, m) = self.input_fc[g];
            let acc = fc(input.data, x.0, n_in, self.input_offset, w, w_offset);
            let from_input = requantize(acc, bias_at(bias, u), self.wide, m, 0, I16_RANGE);
            let (r_offset, m) = self.recurrent_fc[g];
            let acc = fc(hidden, x.1, s, self.hidden_offset, rec, r_offset);
            let from_hidden = requantize(acc, 0, self.wide, m, 0, I16_RANGE);
            from_input
                .saturating_add(from_hidden)
                .clamp(I16_RANGE.0, I16_RANGE.1) as i16
        };
        let mul = |a: i16, b: i16, (m, shift): (i32, i32), offset: i32, (lo, hi): (i32, i32)| {
            multiply_by_quantized_multiplier(i32::from(a) * i32::from(b), m, shift)
                .wrapping_add(offset)
                .clamp(lo, hi)
        };
        let sigmoid = Int16Sigmoid::fixed(false, 0, 0);
        let forget = sigmoid.value(gate(GATE_FORGET));
        let input_gate = sigmoid.value(gate(GATE_INPUT));
        let cell_gate = Int16Sigmoid::fixed(true, 0, 0).value(gate(GATE_CELL));
        let at = x.1 + u;
        let kept = mul(forget, i16_at(cell, at), self.forget_mul, 0, I16_RANGE);
        let added = mul(input_gate, cell_gate, self.input_mul, 0, I16_RANGE);
        let mut c = (kept + added).clamp(I16_RANGE.0, I16_RANGE.1);
        if let Some(clip) = self.cell_clip {
            c = c.min(clip).max(-clip);
        }
        put_quantized(cell, ElemType::I16, at, c);
        let output_gate = sigmoid.value(gate(GATE_OUTPUT));
        let tanh_cell = self.cell_tanh.value(c as i16);
        mul(
            tanh_cell,
            output_gate,
            self.output_mul,
            self.hidden_zero_point,
            self.hidden_range,
        )
    }
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
            if input.dtype == ElemType::F32 && [w.dtype, r.dtype, b.dtype] != [ElemType::F32; 3] {
                return Err(ctx.unsupported("a float32 LSTM with weights of other types"));
            }
        }
        let integer = match (input.dtype, cell.dtype) {
            (ElemType::F32, ElemType::F32) => None,
            (ElemType::I8 | ElemType::I16, ElemType::I16) => {
                Some(prepare_integer(ctx, &input, &hidden, &cell)?)
            }
            _ => {
                return Err(ctx.unsupported(
                    "an LSTM other than float32, or int8 or int16 with an int16 cell state",
                ));
            }
        };
        if hidden.dtype != input.dtype || out.dtype != input.dtype {
            return Err(ctx.invalid("hidden state or output of a type other than the input's"));
        }
        Ok(LstmParams {
            time_major,
            time_steps,
            batches,
            inputs,
            state,
            cell_clip,
            integer,
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
        let (dtype, size) = (out.info.dtype, out.info.dtype.size());
        // One step: `rows` batch rows of the input from `input_at`, of the
        // states from `state_at`, written to the output from `output_at`.
        let mut step = |rows: usize, input_at: usize, state_at: usize, output_at: usize| {
            for r in 0..rows {
                let x = (input_at + r * n_in, state_at + r * s);
                for u in 0..s {
                    let o = output_at + r * s + u;
                    if let Some(q) = &p.integer {
                        let h = q.unit(
                            &gates,
                            &input,
                            hidden.data,
                            cell.data,
                            (x.0, x.1, u),
                            (n_in, s),
                        );
                        put_quantized(out.data, dtype, o, h);
                        continue;
                    }
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
                    put_f32(out.data, o, libm::tanhf(c) * output_gate);
                }
            }
            let n = rows * s * size;
            hidden.data[state_at * size..state_at * size + n]
                .copy_from_slice(&out.data[output_at * size..output_at * size + n]);
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
