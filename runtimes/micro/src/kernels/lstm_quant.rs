//! The integer arithmetic of UNIDIRECTIONAL_SEQUENCE_LSTM (lstm.rs), as
//! TFLite Micro's `lstm_eval_common.cc` prepares it and `lstm_eval.h`
//! evaluates it: int8 (or int16) activations, per-tensor int8 weights,
//! int32 (int64) biases and an int16 cell state. Each gate's two fully
//! connected layers give int16 values of scale 2^-12, added with
//! saturation; the int16 sigmoid and tanh give scale 2^-15; the cell and
//! hidden updates are requantised products.

use crate::error::Error;
use crate::kernels::batch_matmul::multiply_by_quantized_multiplier_i64;
use crate::kernels::lstm::{
    CELL_STATE, GATE_BIAS, GATE_CELL, GATE_FORGET, GATE_INPUT, GATE_OUTPUT, HIDDEN_STATE, INPUT,
    INPUT_WEIGHTS, LstmParams, RECURRENT_WEIGHTS, Step, Tensors,
};
use crate::kernels::sigmoid_int16::{Int16Sigmoid, log2_rounded};
use crate::kernels::{Input, PrepareCtx};
use crate::model::{ElemType, TensorInfo};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};

/// Scale of a gate's fully connected output, the sigmoid's and tanh's input.
const GATE_INPUT_SCALE: f32 = 1.0 / 4096.0;
/// Scale of the sigmoid's and tanh's output.
const GATE_OUTPUT_SCALE: f32 = 1.0 / 32768.0;

/// One fully connected layer of a gate.
#[derive(Clone, Copy, Debug)]
struct Fc {
    input_offset: i32,
    weights_offset: i32,
    multiplier: i32,
    shift: i32,
}

/// A requantised element-wise product.
#[derive(Clone, Copy, Debug)]
struct Product {
    multiplier: i32,
    shift: i32,
    offset: i32,
    range: (i32, i32),
}

impl Product {
    fn new(real: f64, offset: i32, range: (i32, i32)) -> Self {
        let (multiplier, shift) = quantize_multiplier(real);
        Product {
            multiplier,
            shift,
            offset,
            range,
        }
    }

    fn apply(&self, a: i16, b: i16) -> i32 {
        let p = i32::from(a) * i32::from(b);
        (self.offset + multiply_by_quantized_multiplier(p, self.multiplier, self.shift))
            .clamp(self.range.0, self.range.1)
    }
}

/// A prepared integer LSTM.
#[derive(Clone, Copy, Debug)]
pub struct LstmQuant {
    /// int16 activations (int64 biases) rather than int8 (int32 biases).
    wide: bool,
    /// Per gate: the input and the recurrent fully connected layer.
    gates: [[Fc; 2]; 4],
    forget_times_cell: Product,
    input_times_cell_gate: Product,
    output_times_tanh: Product,
    /// The quantised cell clip; 0 for none.
    cell_clip: i16,
    sigmoid: Int16Sigmoid,
    gate_tanh: Int16Sigmoid,
    cell_tanh: Int16Sigmoid,
}

impl LstmQuant {
    /// Checks the types and quantisation and derives the arithmetic.
    pub(crate) fn prepare(ctx: &PrepareCtx<'_, '_>, cell_clip: f32) -> Result<Self, Error> {
        let (input, hidden, cell) = (
            ctx.input(INPUT)?,
            ctx.input(HIDDEN_STATE)?,
            ctx.input(CELL_STATE)?,
        );
        let wide = match input.dtype {
            ElemType::I8 => false,
            ElemType::I16 => true,
            _ => return Err(ctx.unsupported("activations other than int8 or int16")),
        };
        let bias_type = if wide { ElemType::I64 } else { ElemType::I32 };
        let q = |t: &TensorInfo<'_>| {
            t.quant
                .ok_or(ctx.invalid("a quantised LSTM tensor without quantisation parameters"))
        };
        let (qi, qh, qc) = (q(&input)?, q(&hidden)?, q(&cell)?);
        let fc = |q_in: crate::model::QParams, w: &TensorInfo<'_>| -> Result<Fc, Error> {
            if w.dtype != ElemType::I8 || w.channel_scales.is_some() {
                return Err(ctx.unsupported("LSTM weights other than per-tensor int8"));
            }
            let qw = q(w)?;
            let real = f64::from(q_in.scale) * f64::from(qw.scale) / f64::from(GATE_INPUT_SCALE);
            let (multiplier, shift) = quantize_multiplier(real);
            Ok(Fc {
                input_offset: -q_in.zero_point,
                weights_offset: -qw.zero_point,
                multiplier,
                shift,
            })
        };
        let mut gates = [[Fc {
            input_offset: 0,
            weights_offset: 0,
            multiplier: 0,
            shift: 0,
        }; 2]; 4];
        for (g, gate) in gates.iter_mut().enumerate() {
            if ctx.input(GATE_BIAS + g)?.dtype != bias_type {
                return Err(ctx.unsupported(
                    "LSTM biases other than int32 (int8 activations) or int64 (int16)",
                ));
            }
            *gate = [
                fc(qi, &ctx.input(INPUT_WEIGHTS + g)?)?,
                fc(qh, &ctx.input(RECURRENT_WEIGHTS + g)?)?,
            ];
        }
        let cs = qc.scale;
        let int16 = (i32::from(i16::MIN), i32::from(i16::MAX));
        let hidden_range = if wide { int16 } else { (-128, 127) };
        let product = |a: f32, b: f32| f64::from(a) * f64::from(b);
        // tanh of the cell state: its input rescaled from the cell's
        // power-of-two scale, as lstm_eval.cc's Tanh does.
        let left = 15 + log2_rounded(cs) - 3;
        let cell_tanh = if left < 0 {
            Int16Sigmoid::new(true, 3, left.unsigned_abs())
        } else {
            Int16Sigmoid::new(true, 3 << left.min(16), 0)
        };
        Ok(LstmQuant {
            wide,
            gates,
            forget_times_cell: Product::new(
                product(GATE_OUTPUT_SCALE, cs) / f64::from(cs),
                0,
                int16,
            ),
            input_times_cell_gate: Product::new(
                product(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE) / f64::from(cs),
                0,
                int16,
            ),
            output_times_tanh: Product::new(
                product(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE) / f64::from(qh.scale),
                qh.zero_point,
                hidden_range,
            ),
            cell_clip: if cell_clip > 0.0 {
                (f64::from(cell_clip) / f64::from(cs)).clamp(-32768.0, 32767.0) as i16
            } else {
                0
            },
            sigmoid: Int16Sigmoid::new(false, 3, 0),
            gate_tanh: Int16Sigmoid::new(true, 3, 0),
            cell_tanh,
        })
    }

    /// One step.
    pub(crate) fn step(&self, p: &LstmParams, at: Step, t: &mut Tensors<'_, '_>) {
        let (s, n_in) = (p.state, p.inputs);
        let (input, gates, hidden) = (&t.input, &t.gates, t.hidden);
        let act = |data: &[u8], i: usize| -> i32 {
            if self.wide {
                i32::from(i16::from_le_bytes([data[2 * i], data[2 * i + 1]]))
            } else {
                i32::from(data[i] as i8)
            }
        };
        for r in 0..at.rows {
            let (x, h) = (at.input + r * n_in, at.state + r * s);
            for u in 0..s {
                let gate = |g: usize| -> i16 {
                    let [w, rec, bias] = &gates[g];
                    let [fc_in, fc_rec] = &self.gates[g];
                    let mut acc_in = 0i64;
                    for d in 0..n_in {
                        let wv = i32::from(w.data[u * n_in + d] as i8) + fc_in.weights_offset;
                        acc_in +=
                            i64::from(wv) * i64::from(act(input.data, x + d) + fc_in.input_offset);
                    }
                    acc_in += self.bias(bias, u);
                    let mut acc_rec = 0i64;
                    for k in 0..s {
                        let rv = i32::from(rec.data[u * s + k] as i8) + fc_rec.weights_offset;
                        acc_rec += i64::from(rv)
                            * i64::from(act(hidden.data, h + k) + fc_rec.input_offset);
                    }
                    let sum = self.requantise(acc_in, fc_in) + self.requantise(acc_rec, fc_rec);
                    sum.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
                };
                let forget = self.sigmoid.apply(gate(GATE_FORGET));
                let input_gate = self.sigmoid.apply(gate(GATE_INPUT));
                let cell_gate = self.gate_tanh.apply(gate(GATE_CELL));
                let at_cell = 2 * (h + u);
                let old = i16::from_le_bytes([t.cell.data[at_cell], t.cell.data[at_cell + 1]]);
                let kept = self.forget_times_cell.apply(forget, old);
                let added = self.input_times_cell_gate.apply(input_gate, cell_gate);
                let mut c = (kept + added).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
                if self.cell_clip > 0 {
                    c = c.clamp(-self.cell_clip, self.cell_clip);
                }
                t.cell.data[at_cell..at_cell + 2].copy_from_slice(&c.to_le_bytes());
                let output_gate = self.sigmoid.apply(gate(GATE_OUTPUT));
                let v = self
                    .output_times_tanh
                    .apply(self.cell_tanh.apply(c), output_gate);
                let o = at.output + r * s + u;
                if self.wide {
                    t.out.data[2 * o..2 * o + 2].copy_from_slice(&(v as i16).to_le_bytes());
                } else {
                    t.out.data[o] = v as i8 as u8;
                }
            }
        }
    }

    /// Bias `u` of an int32 or int64 bias tensor.
    fn bias(&self, bias: &Input<'_>, u: usize) -> i64 {
        if self.wide {
            let b = &bias.data[8 * u..8 * u + 8];
            i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        } else {
            i64::from(crate::kernels::i32_at(bias.data, u))
        }
    }

    /// A fully connected sum requantised to the gate's int16 scale (int8
    /// activations sum in int32, wrapping, as TFLite Micro's do).
    fn requantise(&self, acc: i64, fc: &Fc) -> i32 {
        let v = if self.wide {
            multiply_by_quantized_multiplier_i64(acc, fc.multiplier, fc.shift)
        } else {
            multiply_by_quantized_multiplier(acc as i32, fc.multiplier, fc.shift)
        };
        v.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
    }
}
