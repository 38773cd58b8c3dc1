//! The interpreter: a model prepared in a caller's arena, which holds
//! everything it needs: the activations at the front; the variables, the
//! operators' working memory, the data computed at prepare time and the
//! tables of every subgraph in the tail.

use crate::arena::{Tail, tail_bytes};
use crate::error::{Error, OpRef};
use crate::kernels::{self, EvalCtx, Inputs, Kernel, Outputs, PrepareCtx, State, Tensors, Work};
use crate::model::{ElemType, Model, TensorInfo};
use crate::opcode::Opcode;
use crate::plan::plan;
use crate::profile::OpHook;
use crate::tables::{Graph, GraphBuild, Loc, Resource, Slot, Step};

/// Deepest nesting of control-flow calls (IF, WHILE, CALL_ONCE).
const MAX_CALL_DEPTH: usize = 8;

/// How the arena is used, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArenaUse {
    /// Activations of every subgraph.
    pub activations: usize,
    /// Variable tensors and resource variables.
    pub variables: usize,
    /// Data computed at prepare time, the working memory some operators
    /// keep (scratch) and the interpreter's tables. An
    /// arena whose end is not on a 16-byte boundary needs up to 15 bytes
    /// more than the total.
    pub persistent: usize,
}

impl ArenaUse {
    /// Bytes of arena in use.
    pub fn total(&self) -> usize {
        self.activations + self.variables + self.persistent
    }
}

/// A model prepared to run in an arena.
pub struct Interpreter<'a> {
    model: Model<'a>,
    graphs: &'a [Graph<'a>],
    activations: &'a mut [u8],
    vars: &'a mut [u8],
    resources: &'a [Resource<'a>],
    /// Working memory of the operators that asked for it
    /// ([`PrepareCtx::scratch`]), after the variables in the tail.
    scratch: &'a mut [u32],
    /// Subgraphs in the model; the first as many bytes of `vars` say, per
    /// subgraph, whether a CALL_ONCE has run it.
    subgraphs: usize,
    usage: ArenaUse,
}

/// Bytes of the tables of `model`: what the arena's tail holds before any
/// operator is prepared.
fn table_bytes(model: &Model<'_>) -> Result<(usize, usize), Error> {
    let n = model.subgraph_count();
    let mut bytes = tail_bytes::<Graph<'_>>(n) + tail_bytes::<GraphBuild<'_>>(n);
    let mut handles = 0;
    for s in 0..n {
        let g = model.subgraph(s)?;
        bytes +=
            tail_bytes::<Slot<'_>>(g.tensor_count()) + tail_bytes::<Step<'_>>(g.operator_count());
        for i in 0..g.operator_count() {
            if g.operator(i)?.opcode == Opcode::VAR_HANDLE {
                handles += 1;
            }
        }
    }
    Ok((bytes + tail_bytes::<Resource<'_>>(handles), handles))
}

impl<'a> Interpreter<'a> {
    /// Prepares every operator of every subgraph and plans the arena.
    /// Fails on an unsupported tensor type, operator or option (naming it)
    /// or when the arena is too small (giving the size needed).
    pub fn new(model: Model<'a>, arena: &'a mut [u8]) -> Result<Self, Error> {
        Self::prepare(model, arena, true)
    }

    /// [`Self::new`] over an arena this model was last prepared in, keeping
    /// its state (variables and whether CALL_ONCE ran) and its inputs: for a
    /// caller that cannot keep the interpreter between two uses of it, as
    /// the firmware agent between two requests. Over another arena the
    /// state and inputs are whatever bytes are there.
    pub fn resume(model: Model<'a>, arena: &'a mut [u8]) -> Result<Self, Error> {
        Self::prepare(model, arena, false)
    }

    fn prepare(model: Model<'a>, arena: &'a mut [u8], fresh: bool) -> Result<Self, Error> {
        let available = arena.len();
        let (tables, handles) = table_bytes(&model)?;
        let mut tail = Tail::new(arena);
        let too_small = |needed: usize, exact: bool| Error::ArenaTooSmall {
            needed,
            available,
            exact,
        };
        if tail.pad() + tables > available {
            return Err(too_small(tables, false));
        }
        let ns = model.subgraph_count();
        let full = Error::Usage("the interpreter's tables did not fit");
        let frozen = tail.take(ns, |_| Graph::EMPTY).ok_or(full)?;
        let graphs = tail.take(ns, |_| GraphBuild::empty()).ok_or(full)?;
        let resources = tail.take(handles, |_| Resource::UNUSED).ok_or(full)?;
        for (s, graph) in graphs.iter_mut().enumerate() {
            let g = model.subgraph(s)?;
            graph.slots = tail
                .try_take(g.tensor_count(), |t| g.tensor(t).map(Slot::new))?
                .ok_or(full)?;
            graph.steps = tail
                .try_take(g.operator_count(), |i| {
                    g.operator(i).map(|op| Step { op, kernel: None })
                })?
                .ok_or(full)?;
        }
        let mut short = 0;
        let mut resource_count = 0;
        let mut scratch_words = 0;
        for (s, graph) in graphs.iter_mut().enumerate() {
            for i in 0..graph.steps.len() {
                let step = graph.steps[i];
                let at = OpRef {
                    subgraph: s,
                    index: i,
                    op: step.op.opcode,
                };
                let first_output = step.op.output(0).and_then(|t| graph.slots.get(t));
                let mut ctx = PrepareCtx {
                    at,
                    op: step.op,
                    output: first_output.map_or_else(TensorInfo::empty, |s| s.info),
                    model,
                    tensors: Tensors::Slots(graph.slots),
                    tail: Some(&mut tail),
                    resources: Some(&mut resources[..]),
                    short: 0,
                    folded: None,
                    handle: None,
                    scratch: 0,
                };
                let kernel = kernels::prepare(&mut ctx)?;
                let (folded, handle) = (ctx.folded, ctx.handle);
                // Operators take turns with the scratch region: each one's
                // starts at word 0 (control-flow operators, which run other
                // operators inside theirs, reserve none).
                scratch_words = scratch_words.max(ctx.scratch);
                short += ctx.short;
                if short > 0 {
                    // Later operators may need this one's prepared data (a
                    // folded constant): stop, with what is known so far.
                    return Err(too_small(tail.taken() + short, false));
                }
                check_outputs(at, &step, graph.slots, folded.is_some())?;
                if let Some(t) = step.op.output(0)
                    && let Some(slot) = graph.slots.get_mut(t)
                {
                    if let Some(bytes) = folded {
                        slot.info.data = Some(bytes);
                        slot.loc = Loc::Const(bytes);
                    }
                    slot.handle = handle;
                }
                if let Some(id) = handle {
                    resource_count = resource_count.max(id as usize + 1);
                }
                graph.steps[i].kernel = kernel.filter(|_| folded.is_none());
            }
        }
        let resources = &mut resources[..resource_count];
        // CALL_ONCE's flags, one byte per subgraph, when there are callees.
        let flags = if ns > 1 { ns } else { 0 };
        let mut var_bytes = flags.div_ceil(crate::plan::ALIGN) * crate::plan::ALIGN;
        let mut place = |len: usize| {
            let offset = var_bytes;
            var_bytes += len.div_ceil(crate::plan::ALIGN) * crate::plan::ALIGN;
            (offset as u32, len as u32)
        };
        for graph in graphs.iter_mut() {
            for slot in graph.slots.iter_mut() {
                if let Loc::Var { .. } = slot.loc {
                    let (offset, len) = place(slot.info.bytes());
                    slot.loc = Loc::Var { offset, len };
                }
            }
        }
        for r in resources.iter_mut() {
            r.offset = place(r.len as usize).0;
        }
        let vars = match tail.bytes(var_bytes, fresh) {
            Some(vars) => vars,
            None => {
                short += var_bytes;
                &mut []
            }
        };
        let scratch = match tail.take(scratch_words, |_| 0u32) {
            Some(words) => words,
            None => {
                short += tail_bytes::<u32>(scratch_words);
                &mut []
            }
        };
        let persistent = tail.taken() - var_bytes.min(tail.taken());
        let front = tail.into_front();
        let mut activations = 0;
        for (s, graph) in graphs.iter_mut().enumerate() {
            let g = model.subgraph(s)?;
            activations += plan(&g, graph.slots, graph.steps, activations)?;
        }
        let usage = ArenaUse {
            activations,
            variables: var_bytes,
            persistent: persistent + short,
        };
        if short > 0 || activations > front.len() {
            return Err(too_small(usage.total(), true));
        }
        for (s, (graph, built)) in frozen.iter_mut().zip(graphs.iter_mut()).enumerate() {
            let slots: &'a mut [Slot<'a>] = core::mem::take(&mut built.slots);
            let steps: &'a mut [Step<'a>] = core::mem::take(&mut built.steps);
            *graph = Graph { slots, steps };
            check_layout(s, graph)?;
        }
        let graphs: &'a [Graph<'a>] = frozen;
        if fresh {
            clear_variables(vars, graphs);
        }
        Ok(Self {
            model,
            graphs,
            activations: &mut front[..activations],
            vars,
            resources,
            scratch,
            subgraphs: ns,
            usage,
        })
    }

    /// Bytes of arena in use.
    pub fn arena_used(&self) -> usize {
        self.usage.total()
    }

    /// How the arena is used.
    pub fn arena_use(&self) -> ArenaUse {
        self.usage
    }

    /// The model.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// Number of operators that [`OpHook`]s see: those of subgraph 0.
    pub fn operator_count(&self) -> usize {
        self.graphs.first().map_or(0, |g| g.steps.len())
    }

    fn main(&self) -> Result<&'a Graph<'a>, Error> {
        self.graphs
            .first()
            .ok_or(Error::Usage("the model has no subgraph"))
    }

    fn graph_tensor(
        &self,
        mut list: impl Iterator<Item = usize>,
        i: usize,
    ) -> Result<&'a Slot<'a>, Error> {
        let t = list
            .nth(i)
            .ok_or(Error::Usage("no such graph input or output"))?;
        self.main()?
            .slots
            .get(t)
            .ok_or(Error::Usage("no such graph input or output"))
    }

    /// Type and shape of graph input `i`.
    pub fn input_info(&self, i: usize) -> Result<TensorInfo<'a>, Error> {
        Ok(self.graph_tensor(self.model.inputs(), i)?.info)
    }

    /// Type and shape of graph output `i`.
    pub fn output_info(&self, i: usize) -> Result<TensorInfo<'a>, Error> {
        Ok(self.graph_tensor(self.model.outputs(), i)?.info)
    }

    /// The bytes of graph input `i`. They keep their value across
    /// invocations: set an input once to run on it many times.
    pub fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        match self.graph_tensor(self.model.inputs(), i)?.loc {
            Loc::Arena { offset, len } => self
                .activations
                .get_mut(offset as usize..(offset + len) as usize)
                .ok_or(Error::Usage("input")),
            _ => Err(Error::Usage("graph input is a constant")),
        }
    }

    /// Where graph input `i` lives in the arena (bytes from its start): a
    /// caller that prepares the model again with [`Self::resume`] may write
    /// an input there directly.
    pub fn input_range(&self, i: usize) -> Result<core::ops::Range<usize>, Error> {
        arena_range(self.graph_tensor(self.model.inputs(), i)?.loc)
    }

    /// Where graph output `i` lives in the arena, when it is an activation.
    pub fn output_range(&self, i: usize) -> Result<core::ops::Range<usize>, Error> {
        arena_range(self.graph_tensor(self.model.outputs(), i)?.loc)
    }

    /// The bytes of graph output `i` after [`Self::invoke`].
    pub fn output(&self, i: usize) -> Result<&[u8], Error> {
        let slot = self.graph_tensor(self.model.outputs(), i)?;
        read(slot.loc, self.activations, self.vars)
    }

    /// Sets every variable (variable tensors and resource variables) back
    /// to its value at load, and lets CALL_ONCE initialise again.
    pub fn reset_state(&mut self) {
        clear_variables(self.vars, self.graphs);
    }

    /// Runs subgraph 0 once, calling `hook` around each of its operators.
    pub fn invoke<H: OpHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        self.run(0, hook, 0)
    }

    fn run<H: OpHook>(&mut self, s: usize, hook: &mut H, depth: usize) -> Result<(), Error> {
        if depth > MAX_CALL_DEPTH {
            return Err(Error::TooLarge("control flow nested more than 8 deep"));
        }
        let graph = self.graphs.get(s).ok_or(Error::Usage("no such subgraph"))?;
        for (index, step) in graph.steps.iter().enumerate() {
            let Some(kernel) = &step.kernel else {
                continue;
            };
            if s == 0 {
                hook.before(index, step.op.opcode);
            }
            match kernel {
                Kernel::IF(p) => {
                    let cond = self.input(graph, step, 0)?;
                    let branch = if cond.iter().any(|&b| b != 0) {
                        p.then_branch
                    } else {
                        p.else_branch
                    };
                    self.call(s, step, 1, branch, &mut (), depth)?;
                    self.copy_results(branch, s, step)?;
                }
                Kernel::WHILE(p) => {
                    self.seed_outputs(s, step)?;
                    loop {
                        self.pass_outputs(s, step, p.cond)?;
                        self.run(p.cond, &mut (), depth + 1)?;
                        if !self.truth(p.cond)? {
                            break;
                        }
                        self.pass_outputs(s, step, p.body)?;
                        self.run(p.body, &mut (), depth + 1)?;
                        self.copy_results(p.body, s, step)?;
                    }
                }
                Kernel::CALL_ONCE(p) => {
                    let flag = self
                        .vars
                        .get_mut(..self.subgraphs)
                        .and_then(|f| f.get_mut(p.init));
                    if let Some(flag @ 0) = flag {
                        *flag = 1;
                        self.run(p.init, &mut (), depth + 1)?;
                    }
                }
                kernel => self.eval(graph, step, kernel)?,
            }
            if s == 0 {
                hook.after(index, step.op.opcode);
            }
        }
        Ok(())
    }

    /// Evaluates one data operator.
    fn eval(
        &mut self,
        graph: &'a Graph<'a>,
        step: &Step<'a>,
        kernel: &Kernel<'a>,
    ) -> Result<(), Error> {
        let (mut low_end, mut high_start) = (usize::MAX, 0usize);
        for t in step.op.outputs() {
            if let Some(Loc::Arena { offset, len }) = graph.slots.get(t).map(|s| s.loc) {
                low_end = low_end.min(offset as usize);
                high_start = high_start.max((offset + len) as usize);
            }
        }
        if low_end == usize::MAX {
            (low_end, high_start) = (0, 0);
        }
        let (low, rest) = self.activations.split_at_mut(low_end);
        let (block, high) = rest.split_at_mut(high_start - low_end);
        let mut ctx = EvalCtx {
            inputs: Inputs {
                op: step.op,
                slots: graph.slots,
                low,
                high: (high, high_start),
            },
            outputs: Outputs {
                op: step.op,
                slots: graph.slots,
                block: (block, low_end),
            },
            state: State {
                vars: self.vars,
                resources: self.resources,
                op: step.op,
                slots: graph.slots,
            },
            work: Work {
                words: self.scratch,
            },
        };
        kernels::eval(kernel, &mut ctx)
    }

    /// The bytes of input `i` of `step`.
    fn input(&self, graph: &Graph<'a>, step: &Step<'a>, i: usize) -> Result<&[u8], Error> {
        let t = step
            .op
            .input(i)
            .ok_or(Error::Usage("operator input missing"))?;
        let slot = graph.slots.get(t).ok_or(Error::Usage("operator input"))?;
        read(slot.loc, self.activations, self.vars)
    }

    /// Whether output 0 of subgraph `s` (a WHILE condition) is true.
    fn truth(&self, s: usize) -> Result<bool, Error> {
        let graph = self.graphs.get(s).ok_or(Error::Usage("no such subgraph"))?;
        let g = self.model.subgraph(s)?;
        let t = g
            .outputs()
            .next()
            .ok_or(Error::Usage("condition without output"))?;
        let slot = graph.slots.get(t).ok_or(Error::Usage("condition output"))?;
        // TFLite Micro reads the first element only.
        Ok(read(slot.loc, self.activations, self.vars)?
            .first()
            .is_some_and(|&b| b != 0))
    }

    /// Copies the inputs of `step` (of subgraph `s`) from input `skip` on
    /// into the inputs of subgraph `callee`, and runs it.
    fn call<H: OpHook>(
        &mut self,
        s: usize,
        step: &Step<'a>,
        skip: usize,
        callee: usize,
        hook: &mut H,
        depth: usize,
    ) -> Result<(), Error> {
        let g = self.model.subgraph(callee)?;
        for (k, to) in g.inputs().enumerate() {
            let from = step.op.input(k + skip).ok_or(Error::Usage("call input"))?;
            self.copy((s, from), (callee, to))?;
        }
        self.run(callee, hook, depth + 1)
    }

    /// WHILE: its inputs become its outputs before the first pass.
    fn seed_outputs(&mut self, s: usize, step: &Step<'a>) -> Result<(), Error> {
        for (k, to) in step.op.outputs().enumerate() {
            let from = step.op.input(k).ok_or(Error::Usage("while input"))?;
            self.copy((s, from), (s, to))?;
        }
        Ok(())
    }

    /// WHILE: its outputs (the loop's values) into subgraph `callee`'s inputs.
    fn pass_outputs(&mut self, s: usize, step: &Step<'a>, callee: usize) -> Result<(), Error> {
        let g = self.model.subgraph(callee)?;
        for (from, to) in step.op.outputs().zip(g.inputs()) {
            self.copy((s, from), (callee, to))?;
        }
        Ok(())
    }

    /// Copies the outputs of subgraph `callee` into the outputs of `step`.
    fn copy_results(&mut self, callee: usize, s: usize, step: &Step<'a>) -> Result<(), Error> {
        let g = self.model.subgraph(callee)?;
        for (from, to) in g.outputs().zip(step.op.outputs()) {
            self.copy((callee, from), (s, to))?;
        }
        Ok(())
    }

    /// Copies tensor `from` to tensor `to`, each given as (subgraph, tensor).
    fn copy(&mut self, from: (usize, usize), to: (usize, usize)) -> Result<(), Error> {
        let slot = |(s, t): (usize, usize)| {
            self.graphs
                .get(s)
                .and_then(|g| g.slots.get(t))
                .map(|s| s.loc)
                .ok_or(Error::Usage("no such tensor"))
        };
        let (src, dst) = (slot(from)?, slot(to)?);
        let Loc::Arena { offset, len } = dst else {
            return Err(Error::Usage("a control-flow result must be an activation"));
        };
        let (offset, len) = (offset as usize, len as usize);
        match src {
            Loc::Arena { offset: o, len: l } if l as usize == len => {
                self.activations
                    .copy_within(o as usize..o as usize + len, offset);
            }
            Loc::Const(data) if data.len() == len => {
                self.activations[offset..offset + len].copy_from_slice(data);
            }
            Loc::Var { offset: o, len: l } if l as usize == len => {
                let o = o as usize;
                self.activations[offset..offset + len].copy_from_slice(&self.vars[o..o + len]);
            }
            _ => return Err(Error::Usage("control-flow operands differ in size")),
        }
        Ok(())
    }
}

/// Sets every variable to its start value, as TFLite Micro's
/// `ResetVariableTensors` does: zero, or the zero point of an int8 variable
/// tensor (SVDF's and LSTM's state); resource variables and CALL_ONCE's
/// flags to zero.
fn clear_variables(vars: &mut [u8], graphs: &[Graph<'_>]) {
    vars.fill(0);
    for slot in graphs.iter().flat_map(|g| g.slots.iter()) {
        if let (Loc::Var { offset, len }, ElemType::I8, Some(q)) =
            (slot.loc, slot.info.dtype, slot.info.quant)
            && let Some(bytes) = vars.get_mut(offset as usize..(offset + len) as usize)
        {
            bytes.fill(q.zero_point as i8 as u8);
        }
    }
}

/// Checks that `step` writes only activations (or folded into a constant).
fn check_outputs(
    at: OpRef,
    step: &Step<'_>,
    slots: &[Slot<'_>],
    folded: bool,
) -> Result<(), Error> {
    for t in step.op.outputs() {
        let slot = slots.get(t).ok_or(Error::Malformed("operator output"))?;
        if slot.info.data.is_some() && !folded {
            return Err(Error::Invalid {
                at,
                what: "writes to a constant tensor",
            });
        }
    }
    Ok(())
}

/// Checks that no input of an operator with several outputs lies between
/// two of them, where evaluation could not lend it beside the outputs.
fn check_layout(s: usize, graph: &Graph<'_>) -> Result<(), Error> {
    let span = |t: usize| match graph.slots.get(t).map(|s| s.loc) {
        Some(Loc::Arena { offset, len }) => Some((offset as usize, (offset + len) as usize)),
        _ => None,
    };
    for (index, step) in graph.steps.iter().enumerate() {
        if step.op.output_count() < 2 || step.kernel.is_none() {
            continue;
        }
        let (low, high) = step
            .op
            .outputs()
            .filter_map(span)
            .fold((usize::MAX, 0), |(l, h), (a, b)| (l.min(a), h.max(b)));
        if step
            .op
            .inputs()
            .filter_map(span)
            .any(|(a, b)| a < high && low < b)
        {
            return Err(Error::Unsupported {
                at: OpRef {
                    subgraph: s,
                    index,
                    op: step.op.opcode,
                },
                what: "an input planned between two of its outputs",
            });
        }
    }
    Ok(())
}

/// The arena bytes of an activation.
fn arena_range(loc: Loc<'_>) -> Result<core::ops::Range<usize>, Error> {
    match loc {
        Loc::Arena { offset, len } => Ok(offset as usize..(offset + len) as usize),
        _ => Err(Error::Usage("not an activation")),
    }
}

/// The bytes at `loc`.
fn read<'x>(loc: Loc<'x>, activations: &'x [u8], vars: &'x [u8]) -> Result<&'x [u8], Error> {
    match loc {
        Loc::Arena { offset, len } => activations.get(offset as usize..(offset + len) as usize),
        Loc::Var { offset, len } => vars.get(offset as usize..(offset + len) as usize),
        Loc::Const(data) => Some(data),
        Loc::Absent => None,
    }
    .ok_or(Error::Usage("tensor is not computed"))
}

/// Bytes of arena `model` needs, found by preparing it in arenas of growing
/// size (the exact figure is known after at most a few tries).
#[cfg(feature = "alloc")]
pub fn arena_bytes_required(model: &Model<'_>) -> Result<usize, Error> {
    let mut size = 4096;
    loop {
        let mut arena = alloc::vec![0u8; size];
        match Interpreter::new(*model, &mut arena) {
            Ok(interpreter) => return Ok(interpreter.arena_used()),
            Err(Error::ArenaTooSmall { needed, exact, .. }) => {
                size = if exact {
                    needed.max(size + 16)
                } else {
                    needed.max(2 * size)
                };
            }
            Err(e) => return Err(e),
        }
    }
}
