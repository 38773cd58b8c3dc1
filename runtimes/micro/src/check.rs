//! Checking a model against what vlab-micro implements, before any arena
//! exists: every problem at once, not only the first.

use crate::error::{Error, OpRef};
use crate::kernels::{self, PrepareCtx, Tensors};
use crate::model::{Model, TensorInfo};

/// Checks every tensor type and every operator (with its options and
/// types) of every subgraph of `model`, calling `report` once per problem;
/// returns how many there were. A model with none prepares wherever its
/// arena fits.
pub fn check(model: &Model<'_>, mut report: impl FnMut(Error)) -> usize {
    let mut problems = 0;
    let mut problem = |e: Error| {
        problems += 1;
        report(e);
    };
    for s in 0..model.subgraph_count() {
        let Ok(graph) = model.subgraph(s).inspect_err(|&e| problem(e)) else {
            continue;
        };
        for t in 0..graph.tensor_count() {
            if let Err(e) = graph.tensor(t) {
                problem(e);
            }
        }
        for index in 0..graph.operator_count() {
            let op = match graph.operator(index) {
                Ok(op) => op,
                Err(e) => {
                    problem(e);
                    continue;
                }
            };
            let output = op
                .output(0)
                .and_then(|t| graph.tensor(t).ok())
                .unwrap_or_else(TensorInfo::empty);
            let mut ctx = PrepareCtx {
                at: OpRef {
                    subgraph: s,
                    index,
                    op: op.opcode,
                },
                op,
                output,
                model: *model,
                tensors: Tensors::Model(graph),
                tail: None,
                resources: None,
                short: 0,
                folded: None,
                handle: None,
                scratch: 0,
            };
            match kernels::prepare(&mut ctx) {
                // Reported once, for the tensor.
                Ok(_) | Err(Error::UnsupportedType { .. }) => {}
                Err(e) => problem(e),
            }
        }
    }
    problems
}
