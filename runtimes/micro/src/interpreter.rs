//! The interpreter: a prepared model over a caller-provided arena, with
//! its tables wherever the caller keeps them.

use core::borrow::BorrowMut;

use heapless::Vec;

use crate::error::Error;
use crate::kernels::{self, Input, Kernel, MAX_OP_INPUTS, Output, PrepareCtx};
use crate::model::{MAX_OPS, MAX_TENSORS, Model, TensorInfo};
use crate::opcode::Opcode;
use crate::plan::plan;
use crate::profile::OpHook;

/// Where a tensor's bytes are.
#[derive(Clone, Copy, Debug)]
enum Loc<'m> {
    /// Not used by the graph.
    Absent,
    /// Constant data inside the model.
    Const(&'m [u8]),
    /// In the arena.
    Arena { offset: usize, len: usize },
}

/// One prepared operator.
#[derive(Clone, Copy, Debug)]
struct Step {
    opcode: Opcode,
    kernel: Kernel,
    inputs: [u16; MAX_OP_INPUTS],
    input_count: usize,
    output: u16,
}

/// Marks an absent optional input in [`Step::inputs`].
const ABSENT: u16 = u16::MAX;

/// Bytes of arena `model` needs, known before any arena exists.
pub fn arena_bytes_required(model: &Model<'_>) -> Result<usize, Error> {
    Ok(plan(model)?.arena_bytes)
}

/// The interpreter's per-tensor and per-operator tables, sized for
/// [`MAX_TENSORS`] tensors and [`MAX_OPS`] operators: tens of KiB, most of
/// an interpreter. [`Interpreter::with_tables`] fills them in place where
/// the caller keeps them (one stack frame or static memory on a
/// microcontroller, where every copy would cost RAM; a `Box` on a host),
/// so the interpreter itself stays small to move.
pub struct Tables<'m> {
    tensors: Vec<TensorInfo<'m>, MAX_TENSORS>,
    locs: Vec<Loc<'m>, MAX_TENSORS>,
    steps: Vec<Step, MAX_OPS>,
}

impl Tables<'_> {
    /// Empty tables.
    pub const fn new() -> Self {
        Self {
            tensors: Vec::new(),
            locs: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl<'m> Tables<'m> {
    /// Where tensor `t`'s bytes are.
    fn loc(&self, t: usize) -> Loc<'m> {
        self.locs.get(t).copied().unwrap_or(Loc::Absent)
    }

    /// Tensor `t`'s type, shape and quantisation.
    fn tensor(&self, t: usize) -> Option<TensorInfo<'m>> {
        self.tensors.get(t).copied()
    }
}

impl Default for Tables<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// A model prepared to run in an arena.
///
/// The arena is anything that derefs to bytes: `&mut [u8]` on a
/// microcontroller, an owned buffer on a host. The tables are the
/// interpreter's own by default, or lent ([`Self::with_tables`]).
pub struct Interpreter<'m, A, T = Tables<'m>> {
    model: Model<'m>,
    arena: A,
    arena_used: usize,
    tables: T,
}

impl<'m, A: AsRef<[u8]> + AsMut<[u8]>> Interpreter<'m, A> {
    /// Plans the arena and prepares every operator, in tables of its own.
    /// Fails on an unsupported operator or option (naming the operator and
    /// its index) or when the arena is too small (giving the size needed).
    pub fn new(model: Model<'m>, arena: A) -> Result<Self, Error> {
        Self::with_tables(model, arena, Tables::new())
    }
}

impl<'m, A: AsRef<[u8]> + AsMut<[u8]>, T: BorrowMut<Tables<'m>>> Interpreter<'m, A, T> {
    /// [`Interpreter::new`] with `tables` (e.g. `&mut Tables`) filled in
    /// place instead of tables of its own. Their previous contents do not
    /// matter.
    pub fn with_tables(model: Model<'m>, arena: A, mut tables: T) -> Result<Self, Error> {
        let plan = plan(&model)?;
        let available = arena.as_ref().len();
        if plan.arena_bytes > available {
            return Err(Error::ArenaTooSmall {
                needed: plan.arena_bytes,
                available,
            });
        }
        let Tables {
            tensors,
            locs,
            steps,
        } = tables.borrow_mut();
        tensors.clear();
        locs.clear();
        steps.clear();
        // Model::parse checked the counts against the capacities.
        let full = Error::TooLarge("more tensors or operators than this build holds");
        for t in 0..model.tensor_count() {
            let info = model.tensor(t)?;
            let loc = match (info.data, plan.offsets[t]) {
                (Some(data), _) => Loc::Const(data),
                (None, Some(offset)) => Loc::Arena {
                    offset: offset as usize,
                    len: info.bytes(),
                },
                (None, None) => Loc::Absent,
            };
            locs.push(loc).map_err(|_| full)?;
            tensors.push(info).map_err(|_| full)?;
        }
        for index in 0..model.operator_count() {
            let op = model.operator(index)?;
            if op.output_count() != 1 {
                return Err(Error::Unsupported {
                    index,
                    op: op.opcode,
                    what: "operators with more than one output",
                });
            }
            if op.input_count() > MAX_OP_INPUTS {
                return Err(Error::Unsupported {
                    index,
                    op: op.opcode,
                    what: "more than 16 inputs",
                });
            }
            let mut inputs = [ABSENT; MAX_OP_INPUTS];
            let mut infos = [None; MAX_OP_INPUTS];
            for slot in 0..op.input_count() {
                if let Some(t) = op.input(slot) {
                    inputs[slot] = t as u16;
                    infos[slot] = tensors.get(t).copied();
                }
            }
            let output = op.output(0).ok_or(Error::Malformed("operator output"))?;
            let out_info = *tensors
                .get(output)
                .ok_or(Error::Malformed("operator output"))?;
            if !matches!(locs.get(output), Some(Loc::Arena { .. })) {
                return Err(Error::Invalid {
                    index,
                    op: op.opcode,
                    what: "writes to a constant tensor",
                });
            }
            let ctx = PrepareCtx {
                index,
                op: &op,
                inputs: &infos[..op.input_count()],
                output: out_info,
            };
            let kernel = kernels::prepare(&ctx)?;
            let step = Step {
                opcode: op.opcode,
                kernel,
                inputs,
                input_count: op.input_count(),
                output: output as u16,
            };
            steps.push(step).map_err(|_| full)?;
        }
        Ok(Self {
            model,
            arena,
            arena_used: plan.arena_bytes,
            tables,
        })
    }

    /// Arena bytes in use.
    pub fn arena_used(&self) -> usize {
        self.arena_used
    }

    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// Tensor index of graph input `i`.
    fn graph_tensor(
        &self,
        mut list: impl Iterator<Item = usize>,
        i: usize,
    ) -> Result<usize, Error> {
        list.nth(i)
            .ok_or(Error::Usage("no such graph input or output"))
    }

    /// Type and shape of graph input `i`.
    pub fn input_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = self.graph_tensor(self.model.inputs(), i)?;
        let info = self.tables.borrow().tensor(t);
        info.ok_or(Error::Usage("no such graph input"))
    }

    /// Type and shape of graph output `i`.
    pub fn output_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = self.graph_tensor(self.model.outputs(), i)?;
        let info = self.tables.borrow().tensor(t);
        info.ok_or(Error::Usage("no such graph output"))
    }

    /// The bytes of graph input `i`, to fill before every [`Self::invoke`]:
    /// an invocation may reuse them for intermediate tensors.
    pub fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let t = self.graph_tensor(self.model.inputs(), i)?;
        match self.tables.borrow().loc(t) {
            Loc::Arena { offset, len } => self
                .arena
                .as_mut()
                .get_mut(offset..offset + len)
                .ok_or(Error::Usage("input")),
            _ => Err(Error::Usage("graph input is a constant")),
        }
    }

    /// The bytes of graph output `i` after [`Self::invoke`].
    pub fn output(&self, i: usize) -> Result<&[u8], Error> {
        let t = self.graph_tensor(self.model.outputs(), i)?;
        match self.tables.borrow().loc(t) {
            Loc::Arena { offset, len } => self
                .arena
                .as_ref()
                .get(offset..offset + len)
                .ok_or(Error::Usage("output")),
            Loc::Const(data) => Ok(data),
            Loc::Absent => Err(Error::Usage("graph output is not computed")),
        }
    }

    /// Runs every operator once, calling `hook` around each.
    pub fn invoke<H: OpHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        let Tables {
            tensors,
            locs,
            steps,
        } = self.tables.borrow();
        for (index, step) in steps.iter().enumerate() {
            hook.before(index, step.opcode);
            let output = usize::from(step.output);
            let (Some(Loc::Arena { offset, len }), Some(out_info)) =
                (locs.get(output).copied(), tensors.get(output).copied())
            else {
                return Err(Error::Usage("operator output not in the arena"));
            };
            let (left, rest) = self.arena.as_mut().split_at_mut(offset);
            let (out, right) = rest.split_at_mut(len);
            let (left, right): (&[u8], &[u8]) = (left, right);
            let end = offset + len;
            let mut inputs: [Option<Input<'_>>; MAX_OP_INPUTS] = [None; MAX_OP_INPUTS];
            for (slot, &t) in step.inputs.iter().enumerate().take(step.input_count) {
                if t == ABSENT {
                    continue;
                }
                let t = usize::from(t);
                let data = match locs.get(t).copied().unwrap_or(Loc::Absent) {
                    Loc::Const(data) => data,
                    Loc::Arena { offset: o, len: l } if o + l <= offset => &left[o..o + l],
                    Loc::Arena { offset: o, len: l } if o >= end => &right[o - end..o - end + l],
                    _ => return Err(Error::Usage("operator input overlaps its output")),
                };
                inputs[slot] = tensors.get(t).map(|&info| Input { data, info });
            }
            kernels::eval(
                &step.kernel,
                &inputs[..step.input_count],
                Output {
                    data: out,
                    info: out_info,
                },
            )?;
            hook.after(index, step.opcode);
        }
        Ok(())
    }
}
