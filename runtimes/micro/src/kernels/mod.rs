//! Operators. Each is a type implementing [`Op`] (checking the operator
//! once, when the model is prepared, then evaluating it), in a file of its
//! own or of its family, registered by one line in `registry.rs`. Their
//! arithmetic follows TFLite Micro's reference kernels.

#[macro_use]
mod operators_macro;
mod activations;
mod arg_minmax;
// First, so that its requantisation macros reach dsp.rs.
#[cfg(arm_v7)]
#[macro_use]
mod v7m;
mod batch_matmul;
mod binary_ops;
mod broadcast;
mod control;
mod conv;
mod conv_f32;
mod conv_int8;
#[cfg(arm_v7)]
mod conv_quads;
mod cumsum;
mod densify;
#[cfg(arm_v7)]
mod depthwise_pairs;
mod detection_postprocess;
mod dot;
#[cfg(arm_dsp)]
mod dsp;
mod dynamic_update_slice;
mod elementwise;
mod embedding_lookup;
mod fill;
mod fully_connected;
mod gather;
mod gather_nd;
mod layout;
mod lstm;
mod lstm_quant;
mod mirror_pad;
mod nd;
mod nms;
mod normalization;
mod pool;
mod quantize;
mod registry;
mod requant;
mod resize;
mod reverse;
mod shape_ops;
mod sigmoid;
mod sigmoid_int16;
mod softmax;
mod space_batch;
mod space_depth;
mod svdf;
mod transpose_conv;
mod unary_math;
#[cfg(any(arm_v6m, test))]
mod v6m;
mod variables;

pub(crate) use dot::{dot_and_sum_i8, dot_i8, sum_i8};
pub use registry::{IMPLEMENTED, Implemented, Kernel, eval, prepare};

use crate::arena::Tail;
use crate::error::{Error, OpRef};
use crate::flat::Table;
use crate::model::{ElemType, Model, Operator, Subgraph, TensorInfo};
use crate::quant::quantize_value;
use crate::tables::{Loc, Resource, Slot};

/// Prepares operator `O` and keeps its parameters in the arena
/// ([`PrepareCtx::keep`]). Never inlined, so that the registry's dispatch
/// takes the stack of the one operator it prepares, not of all of them.
#[inline(never)]
fn prepare_kept<'a, O: Op>(
    ctx: &mut PrepareCtx<'_, 'a>,
) -> Result<Option<&'a O::Params<'a>>, Error> {
    let params = O::prepare(ctx)?;
    ctx.keep(params)
}

/// An operator: its checks and precomputation at prepare time, and its
/// evaluation.
pub trait Op {
    /// What preparation computes for evaluation. It may borrow the model
    /// and data kept in the arena ([`PrepareCtx::persist`]) for `'a`.
    type Params<'a>: Copy;

    /// Checks the operator's tensors and options and computes its
    /// parameters; an unsupported case is [`PrepareCtx::unsupported`].
    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<Self::Params<'a>, Error>;

    /// Evaluates the operator.
    fn eval(params: &Self::Params<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error>;
}

/// A tensor an operator reads.
#[derive(Clone, Copy)]
pub struct Input<'x> {
    /// Raw little-endian bytes.
    pub data: &'x [u8],
    /// Type, shape and quantisation.
    pub info: TensorInfo<'x>,
}

/// A tensor an operator writes.
pub struct Output<'x> {
    /// Raw little-endian bytes.
    pub data: &'x mut [u8],
    /// Type, shape and quantisation.
    pub info: TensorInfo<'x>,
}

/// Where preparation reads tensor descriptions from.
#[derive(Clone, Copy)]
// One value per operator, at prepare time only: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Tensors<'c, 'a> {
    /// The interpreter's table of the subgraph.
    Slots(&'c [Slot<'a>]),
    /// The model itself, when checking without an arena.
    Model(Subgraph<'a>),
}

/// What preparation sees of an operator, and what it may keep.
pub struct PrepareCtx<'c, 'a> {
    /// Where the operator is.
    pub at: OpRef,
    /// The operator.
    pub op: Operator<'a>,
    /// Type, shape and quantisation of output 0.
    pub output: TensorInfo<'a>,
    pub(crate) model: Model<'a>,
    pub(crate) tensors: Tensors<'c, 'a>,
    /// Memory for prepared data; `None` when only checking.
    pub(crate) tail: Option<&'c mut Tail<'a>>,
    /// Resource variables of the model; `None` when only checking.
    pub(crate) resources: Option<&'c mut [Resource<'a>]>,
    /// Bytes that prepared data needed beyond the arena.
    pub(crate) short: usize,
    /// Output 0 computed at prepare time, when the operator folded.
    pub(crate) folded: Option<&'a [u8]>,
    /// The resource id output 0 holds, when the operator makes a handle.
    pub(crate) handle: Option<u32>,
    /// Words of working memory the operators prepared so far requested
    /// ([`PrepareCtx::scratch`]).
    pub(crate) scratch: usize,
}

impl<'a> PrepareCtx<'_, 'a> {
    /// An unsupported-feature error for this operator.
    pub fn unsupported(&self, what: &'static str) -> Error {
        Error::Unsupported { at: self.at, what }
    }

    /// An invalid-operator error for this operator.
    pub fn invalid(&self, what: &'static str) -> Error {
        Error::Invalid { at: self.at, what }
    }

    /// Number of input slots (absent ones included).
    pub fn input_count(&self) -> usize {
        self.op.input_count()
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.op.output_count()
    }

    fn tensor(&self, t: usize) -> Result<TensorInfo<'a>, Error> {
        match self.tensors {
            Tensors::Slots(slots) => slots
                .get(t)
                .map(|s| s.info)
                .ok_or(Error::Malformed("tensor index out of range")),
            Tensors::Model(graph) => {
                let mut info = graph.tensor(t)?;
                if info.data.is_none() && produced_by_folding(&graph, t) {
                    // Checking without an arena: a tensor that a folding
                    // operator computes at prepare time is a constant.
                    info.data = Some(&[]);
                }
                Ok(info)
            }
        }
    }

    /// Input `i`, which must be present.
    pub fn input(&self, i: usize) -> Result<TensorInfo<'a>, Error> {
        self.input_opt(i)?
            .ok_or(self.invalid("a required input is missing"))
    }

    /// Input `i`, or `None` when absent.
    pub fn input_opt(&self, i: usize) -> Result<Option<TensorInfo<'a>>, Error> {
        self.op.input(i).map(|t| self.tensor(t)).transpose()
    }

    /// Output `i`.
    pub fn output_at(&self, i: usize) -> Result<TensorInfo<'a>, Error> {
        let t = self
            .op
            .output(i)
            .ok_or(self.invalid("a required output is missing"))?;
        self.tensor(t)
    }

    /// Constant data of input `i`. While only checking, a constant computed
    /// at prepare time has no bytes yet.
    pub fn constant(&self, i: usize) -> Result<&'a [u8], Error> {
        self.input(i)?
            .data
            .ok_or(self.unsupported("this input must be a constant"))
    }

    /// Whether this is a check without an arena (no data is computed).
    pub fn checking_only(&self) -> bool {
        self.tail.is_none()
    }

    /// Keeps `n` values `fill(0)`, `fill(1)`, ... in the arena for
    /// evaluation: data computed once at prepare time. While only checking,
    /// nothing is computed and the slice is empty.
    pub fn persist<T: Copy>(
        &mut self,
        n: usize,
        fill: impl FnMut(usize) -> T,
    ) -> Result<&'a [T], Error> {
        let Some(tail) = self.tail.as_deref_mut() else {
            return Ok(&[]);
        };
        match tail.take(n, fill) {
            Some(values) => Ok(values),
            None => {
                self.short += crate::arena::tail_bytes::<T>(n);
                Ok(&[])
            }
        }
    }

    /// Keeps `value` in the arena, as [`Self::persist`] keeps one value:
    /// `None` while only checking or when the arena is short.
    pub fn keep<T: Copy>(&mut self, value: T) -> Result<Option<&'a T>, Error> {
        Ok(self.persist(1, |_| value)?.first())
    }

    /// Computes output 0 now, once: `fill` writes its bytes, and the
    /// operator never runs during an inference (its output is a constant).
    pub fn fold(&mut self, fill: impl FnOnce(&mut [u8]) -> Result<(), Error>) -> Result<(), Error> {
        let Some(tail) = self.tail.as_deref_mut() else {
            return Ok(());
        };
        let bytes = self.output.bytes();
        match tail.bytes(bytes, true) {
            Some(out) => {
                fill(out)?;
                self.folded = Some(out);
            }
            None => {
                self.short += bytes.div_ceil(crate::arena::TAIL_ALIGN) * crate::arena::TAIL_ALIGN
            }
        }
        Ok(())
    }

    /// Reserves `words` 32-bit words of working memory, which evaluation
    /// gets back with [`Work::get`], for data that an operator rewrites at
    /// every evaluation (TFLite Micro's scratch buffers). As TFLite
    /// Micro's, the memory is shared with other operators (each one's
    /// reservations start at the region's beginning, and the region is as
    /// large as the largest): the interpreter keeps it in the arena's tail
    /// after the variables, counted as persistent. Its content at the start
    /// of an evaluation is whatever another operator left.
    pub fn scratch(&mut self, words: usize) -> Result<Scratch, Error> {
        let too_large = Error::TooLarge("scratch memory above 4 GiB");
        let offset = u32::try_from(self.scratch).map_err(|_| too_large)?;
        let len = u32::try_from(words).map_err(|_| too_large)?;
        self.scratch = self
            .scratch
            .checked_add(words)
            .filter(|&w| w <= u32::MAX as usize / 4)
            .ok_or(too_large)?;
        Ok(Scratch { offset, len })
    }

    /// Subgraph `index` of the model (the callee of a control-flow operator).
    pub fn subgraph(&self, index: usize) -> Result<Subgraph<'a>, Error> {
        if index >= self.model.subgraph_count() {
            return Err(self.invalid("calls a subgraph the model does not have"));
        }
        self.model.subgraph(index)
    }

    /// The resource variables table, `None` while only checking.
    pub fn resources(&mut self) -> Option<&mut [Resource<'a>]> {
        self.resources.as_deref_mut()
    }

    /// Output 0 is a handle to resource `id`.
    pub fn set_handle(&mut self, id: u32) {
        self.handle = Some(id);
    }

    /// The resource id input `i` is a handle to, when a VAR_HANDLE of this
    /// subgraph made it.
    pub fn handle_of(&self, i: usize) -> Option<u32> {
        match (self.tensors, self.op.input(i)) {
            (Tensors::Slots(slots), Some(t)) => slots.get(t).and_then(|s| s.handle),
            _ => None,
        }
    }

    /// The fused activation range of the output, for int8 or float.
    pub fn activation(&self, code: u8) -> Result<Range, Error> {
        let out = &self.output;
        let (lo, hi): (f32, f32) = match code {
            0 => (f32::NEG_INFINITY, f32::INFINITY),
            1 => (0.0, f32::INFINITY),
            2 => (-1.0, 1.0),
            3 => (0.0, 6.0),
            _ => {
                return Err(
                    self.unsupported("fused activation other than NONE, RELU, RELU_N1_TO_1, RELU6")
                );
            }
        };
        Ok(match out.dtype {
            ElemType::F32 => Range {
                float: (lo, hi),
                int: (0, 0),
            },
            ElemType::I8 | ElemType::I16 => {
                let q = out
                    .quant
                    .ok_or(self.invalid("quantised output without quantisation"))?;
                let (min, max) = if out.dtype == ElemType::I8 {
                    (-128, 127)
                } else {
                    (-32768, 32767)
                };
                let bound = |f: f32, default: i32| {
                    if f.is_finite() {
                        quantize_value(f, q.scale, q.zero_point)
                    } else {
                        default
                    }
                };
                Range {
                    float: (lo, hi),
                    int: (bound(lo, min).max(min), bound(hi, max).min(max)),
                }
            }
            _ => return Err(self.unsupported("output type other than float32, int8 or int16")),
        })
    }

    /// Checks the optional bias (input 2): a constant of `count` values,
    /// float32 for a float input, int32 for an int8 one, int64 or int32 for
    /// an int16 one.
    pub fn check_bias(&self, input: &TensorInfo<'a>, count: usize) -> Result<(), Error> {
        let Some(bias) = self.input_opt(2)? else {
            return Ok(());
        };
        self.constant(2)?;
        let want: &[ElemType] = match input.dtype {
            ElemType::F32 => &[ElemType::F32],
            ElemType::I16 => &[ElemType::I64, ElemType::I32],
            _ => &[ElemType::I32],
        };
        if !want.contains(&bias.dtype) || bias.shape.elements() != count {
            return Err(self.unsupported(
                "bias other than float32 (float), int32 (int8) or int64/int32 (int16), one per output channel",
            ));
        }
        Ok(())
    }

    /// Reads the builtin options table.
    pub fn options(&self) -> Result<Table<'a>, Error> {
        self.op
            .options()?
            .ok_or(self.invalid("missing builtin options"))
    }
}

/// Whether a folding operator (DEQUANTIZE or DENSIFY of a constant)
/// produces tensor `t` of `graph`, its input a constant or itself folded
/// (DENSIFY then DEQUANTIZE of sparse float16 weights), in a chain of at
/// most [`MAX_FOLD_CHAIN`].
fn produced_by_folding(graph: &Subgraph<'_>, t: usize) -> bool {
    folded_within(graph, t, MAX_FOLD_CHAIN)
}

/// Longest chain of folding operators a check follows.
const MAX_FOLD_CHAIN: usize = 4;

fn folded_within(graph: &Subgraph<'_>, t: usize, depth: usize) -> bool {
    depth > 0
        && (0..graph.operator_count()).any(|i| {
            graph.operator(i).is_ok_and(|op| {
                op.outputs().any(|o| o == t)
                    && registry::folds(op.opcode)
                    && op.inputs().all(|i| {
                        graph.tensor(i).is_ok_and(|x| x.data.is_some())
                            || folded_within(graph, i, depth - 1)
                    })
            })
        })
}

/// What evaluation sees of an operator: its inputs, its outputs and the
/// model's state, as three parts that can be borrowed at once.
pub struct EvalCtx<'x> {
    /// The inputs.
    pub inputs: Inputs<'x>,
    /// The outputs.
    pub outputs: Outputs<'x>,
    /// Variables kept across invocations.
    pub state: State<'x>,
    /// Working memory ([`PrepareCtx::scratch`]).
    pub work: Work<'x>,
}

/// Working memory an operator reserved at prepare time: where it is in the
/// interpreter's scratch region, in 32-bit words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scratch {
    offset: u32,
    len: u32,
}

/// The interpreter's scratch region, which every [`Scratch`] is part of.
pub struct Work<'x> {
    pub(crate) words: &'x mut [u32],
}

impl Work<'_> {
    /// The words `s` reserved.
    pub fn get(&mut self, s: Scratch) -> Result<&mut [u32], Error> {
        let (o, n) = (s.offset as usize, s.len as usize);
        self.words
            .get_mut(o..o + n)
            .ok_or(Error::Usage("scratch memory"))
    }

    /// The whole region, for an operator that reserved none but can use
    /// what other operators' reservations made room for (an int8 ADD's
    /// tables): operators take turns with it.
    pub fn all(&mut self) -> &mut [u32] {
        self.words
    }

    /// The words `s` reserved and every word after them to the region's
    /// end: operators take turns with the region, so an operator may use
    /// what a larger reservation of another one left room for (larger
    /// convolution bands, at no cost in arena).
    #[cfg_attr(not(arm_v7), expect(dead_code))]
    pub fn rest(&mut self, s: Scratch) -> Result<&mut [u32], Error> {
        let (o, n) = (s.offset as usize, s.len as usize);
        match self.words.get_mut(o..) {
            Some(rest) if rest.len() >= n => Ok(rest),
            _ => Err(Error::Usage("scratch memory")),
        }
    }
}

/// The inputs of the operator being evaluated.
pub struct Inputs<'x> {
    pub(crate) op: Operator<'x>,
    pub(crate) slots: &'x [Slot<'x>],
    /// Activations below the outputs' block.
    pub(crate) low: &'x [u8],
    /// Activations above the outputs' block, and where they start.
    pub(crate) high: (&'x [u8], usize),
}

impl<'x> Inputs<'x> {
    /// Number of input slots (absent ones included).
    pub fn count(&self) -> usize {
        self.op.input_count()
    }

    /// Input `i`, which must be present.
    pub fn get(&self, i: usize) -> Result<Input<'x>, Error> {
        self.opt(i)?.ok_or(Error::Usage("operator input missing"))
    }

    /// Input `i`, or `None` when absent.
    pub fn opt(&self, i: usize) -> Result<Option<Input<'x>>, Error> {
        let Some(t) = self.op.input(i) else {
            return Ok(None);
        };
        let slot = self.slots.get(t).ok_or(Error::Usage("operator input"))?;
        let data = match slot.loc {
            Loc::Const(data) => data,
            Loc::Arena { offset, len } => {
                let (o, l) = (offset as usize, len as usize);
                let (high, start) = self.high;
                if o + l <= self.low.len() {
                    &self.low[o..o + l]
                } else if o >= start && o + l - start <= high.len() {
                    &high[o - start..o + l - start]
                } else {
                    return Err(Error::Usage("operator input overlaps its outputs"));
                }
            }
            Loc::Var { .. } => return Err(Error::Usage("a variable tensor is read through State")),
            Loc::Absent => return Err(Error::Usage("operator input is not computed")),
        };
        Ok(Some(Input {
            data,
            info: slot.info,
        }))
    }
}

/// The outputs of the operator being evaluated.
pub struct Outputs<'x> {
    pub(crate) op: Operator<'x>,
    pub(crate) slots: &'x [Slot<'x>],
    /// The block of activations that holds every output, and where it starts.
    pub(crate) block: (&'x mut [u8], usize),
}

impl Outputs<'_> {
    /// Number of outputs.
    pub fn count(&self) -> usize {
        self.op.output_count()
    }

    /// Output `i`.
    pub fn get(&mut self, i: usize) -> Result<Output<'_>, Error> {
        let t = self.op.output(i).ok_or(Error::Usage("operator output"))?;
        let slot = self.slots.get(t).ok_or(Error::Usage("operator output"))?;
        let Loc::Arena { offset, len } = slot.loc else {
            return Err(Error::Usage("operator output not in the arena"));
        };
        let (block, start) = (&mut *self.block.0, self.block.1);
        let o = (offset as usize)
            .checked_sub(start)
            .ok_or(Error::Usage("operator output"))?;
        let data = block
            .get_mut(o..o + len as usize)
            .ok_or(Error::Usage("operator output"))?;
        Ok(Output {
            data,
            info: slot.info,
        })
    }
}

/// Variables kept across invocations: resource variables, and the
/// variable tensors the operator being evaluated takes as inputs.
pub struct State<'x> {
    pub(crate) vars: &'x mut [u8],
    pub(crate) resources: &'x [Resource<'x>],
    pub(crate) op: Operator<'x>,
    pub(crate) slots: &'x [Slot<'x>],
}

impl<'x> State<'x> {
    /// Input `i`, a variable tensor (such as SVDF's activation state),
    /// which the operator reads and updates.
    pub fn variable(&mut self, i: usize) -> Result<Output<'_>, Error> {
        let (range, info) = self.variable_at(i)?;
        let data = self
            .vars
            .get_mut(range)
            .ok_or(Error::Usage("variable tensor"))?;
        Ok(Output { data, info })
    }

    /// Inputs `i` and `j`, two distinct variable tensors (an LSTM's hidden
    /// and cell state).
    pub fn variable_pair(&mut self, i: usize, j: usize) -> Result<[Output<'_>; 2], Error> {
        let ((a, a_info), (b, b_info)) = (self.variable_at(i)?, self.variable_at(j)?);
        if a.end > b.start && b.end > a.start {
            return Err(Error::Usage("the two variable tensors overlap"));
        }
        let (first, second) = if a.start < b.start {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let vars = self
            .vars
            .get_mut(..second.end)
            .ok_or(Error::Usage("variable tensor"))?;
        let (low, high) = vars.split_at_mut(second.start);
        let (low, high) = (&mut low[first.clone()], high);
        let (a_data, b_data) = if a.start < b.start {
            (low, high)
        } else {
            (high, low)
        };
        Ok([
            Output {
                data: a_data,
                info: a_info,
            },
            Output {
                data: b_data,
                info: b_info,
            },
        ])
    }

    /// Where input `i`, a variable tensor, is in the variables region.
    fn variable_at(&self, i: usize) -> Result<(core::ops::Range<usize>, TensorInfo<'x>), Error> {
        let slot = self
            .op
            .input(i)
            .and_then(|t| self.slots.get(t))
            .ok_or(Error::Usage("operator input missing"))?;
        let Loc::Var { offset, len } = slot.loc else {
            return Err(Error::Usage("operator input is not a variable tensor"));
        };
        Ok((offset as usize..(offset + len) as usize, slot.info))
    }

    /// The bytes of resource variable `id`.
    pub fn resource(&mut self, id: i32) -> Result<&mut [u8], Error> {
        let r = usize::try_from(id)
            .ok()
            .and_then(|id| self.resources.get(id))
            .ok_or(Error::Usage("no such resource variable"))?;
        self.vars
            .get_mut(r.offset as usize..(r.offset + r.len) as usize)
            .ok_or(Error::Usage("resource variable"))
    }
}

/// Output bounds of a fused activation: float bounds and int8 bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Float bounds.
    pub float: (f32, f32),
    /// Quantised bounds.
    pub int: (i32, i32),
}

/// The float32 values of little-endian bytes, in order.
#[inline(always)]
pub(crate) fn floats(b: &[u8]) -> impl Iterator<Item = f32> + '_ {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Little-endian f32 `i` of a byte slice.
#[inline(always)]
pub(crate) fn f32_at(b: &[u8], i: usize) -> f32 {
    // One bounds check and one 4-byte load (byte-wise indexing makes the
    // vectoriser assemble floats from single bytes).
    let word: &[u8; 4] = b[4 * i..4 * i + 4].try_into().unwrap_or(&[0; 4]);
    f32::from_le_bytes(*word)
}

/// Little-endian i32 `i` of a byte slice.
#[inline(always)]
pub(crate) fn i32_at(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Little-endian i16 `i` of a byte slice.
#[inline(always)]
pub(crate) fn i16_at(b: &[u8], i: usize) -> i16 {
    i16::from_le_bytes([b[2 * i], b[2 * i + 1]])
}

/// Stores f32 `v` at index `i`.
#[inline(always)]
pub(crate) fn put_f32(b: &mut [u8], i: usize, v: f32) {
    b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
}

/// Clamps a float to an activation range.
#[inline(always)]
pub(crate) fn clamp_f32(v: f32, (lo, hi): (f32, f32)) -> f32 {
    v.max(lo).min(hi)
}

/// The dimensions of a 4-D NHWC tensor.
pub(crate) fn nhwc(info: &TensorInfo<'_>) -> Option<[usize; 4]> {
    let d = info.shape.dims();
    (d.len() == 4).then(|| [d[0], d[1], d[2], d[3]])
}
