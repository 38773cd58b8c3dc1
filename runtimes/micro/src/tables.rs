//! The interpreter's tables, kept in the arena's tail: one slot per tensor
//! and one step per operator of every subgraph, and the resource variables.

use crate::kernels::Kernel;
use crate::model::{Operator, TensorInfo};

/// Where a tensor's bytes are.
#[derive(Clone, Copy, Debug)]
pub enum Loc<'a> {
    /// Not used by the graph.
    Absent,
    /// Constant data: in the model, or computed at prepare time.
    Const(&'a [u8]),
    /// In the activations, at an offset from the arena's start.
    Arena {
        /// Offset in the arena.
        offset: u32,
        /// Bytes.
        len: u32,
    },
    /// A variable tensor, in the variables region.
    Var {
        /// Offset in the variables region.
        offset: u32,
        /// Bytes.
        len: u32,
    },
}

/// One tensor of a subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Slot<'a> {
    /// Type, shape and quantisation; `data` is set for constants.
    pub info: TensorInfo<'a>,
    /// Where its bytes are.
    pub loc: Loc<'a>,
    /// First and last operator that uses it (planning), when it is an
    /// activation.
    pub life: Option<(u32, u32)>,
    /// The resource variable it is a handle to, when a VAR_HANDLE of the
    /// same subgraph made it.
    pub handle: Option<u32>,
}

impl<'a> Slot<'a> {
    /// The slot of a tensor before planning: constants where their data
    /// is, variables to be placed, every other tensor not yet placed.
    pub fn new(info: TensorInfo<'a>) -> Self {
        let loc = match info.data {
            Some(data) => Loc::Const(data),
            None if info.is_variable => Loc::Var { offset: 0, len: 0 },
            None => Loc::Absent,
        };
        Self {
            info,
            loc,
            life: None,
            handle: None,
        }
    }
}

/// One prepared operator.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    /// The operator.
    pub op: Operator<'a>,
    /// What evaluation needs; `None` when it folded into a constant.
    pub kernel: Option<Kernel<'a>>,
}

/// One subgraph's tables, once prepared.
#[derive(Clone, Copy)]
pub struct Graph<'a> {
    /// One slot per tensor.
    pub slots: &'a [Slot<'a>],
    /// One step per operator, in execution order.
    pub steps: &'a [Step<'a>],
}

impl Graph<'_> {
    /// Tables not yet made.
    pub const EMPTY: Self = Self {
        slots: &[],
        steps: &[],
    };
}

/// One subgraph's tables while they are filled.
pub struct GraphBuild<'a> {
    /// One slot per tensor.
    pub slots: &'a mut [Slot<'a>],
    /// One step per operator, in execution order.
    pub steps: &'a mut [Step<'a>],
}

impl GraphBuild<'_> {
    /// Tables not yet made.
    pub fn empty() -> Self {
        Self {
            slots: &mut [],
            steps: &mut [],
        }
    }
}

/// A resource variable: named by its container and shared name, its bytes
/// in the variables region.
#[derive(Clone, Copy, Debug)]
pub struct Resource<'a> {
    /// VAR_HANDLE's `container`.
    pub container: &'a str,
    /// VAR_HANDLE's `shared_name`.
    pub name: &'a str,
    /// Offset in the variables region.
    pub offset: u32,
    /// Bytes (the largest value assigned or read).
    pub len: u32,
    /// Whether a VAR_HANDLE named it.
    pub used: bool,
}

impl Resource<'_> {
    /// A table entry not yet used.
    pub const UNUSED: Self = Self {
        container: "",
        name: "",
        offset: 0,
        len: 0,
        used: false,
    };
}
