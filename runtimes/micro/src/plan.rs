//! Memory planning: where each activation tensor lives in the arena.
//!
//! Lifetimes come from the graph: a tensor lives from the operator that
//! produces it to the last operator that reads it. Graph inputs live from
//! the start to their last reader, so later tensors may reuse their bytes
//! (as in TFLite Micro): inputs must be set before every invocation. Graph
//! outputs live to the end. Tensors are then placed greedily, largest first,
//! at the lowest offset that no tensor alive at the same time occupies
//! (TFLite Micro's `GreedyMemoryPlanner` strategy), each on a 16-byte
//! boundary.

use crate::error::Error;
use crate::model::{MAX_TENSORS, Model};

/// Alignment of every tensor in the arena, in bytes.
pub const ALIGN: usize = 16;

/// Where each tensor lives.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Arena offset of each tensor, or `None` for constants and unused tensors.
    pub offsets: [Option<u32>; MAX_TENSORS],
    /// Arena bytes the plan needs.
    pub arena_bytes: usize,
}

/// Plans the arena for `model`.
pub fn plan(model: &Model<'_>) -> Result<Plan, Error> {
    let n_tensors = model.tensor_count();
    let n_ops = model.operator_count();
    let last_op = n_ops.saturating_sub(1) as u32;
    // (first, last) operator index of each arena tensor.
    let mut life: [Option<(u32, u32)>; MAX_TENSORS] = [None; MAX_TENSORS];
    let mut sizes = [0usize; MAX_TENSORS];
    let touch = |life: &mut [Option<(u32, u32)>; MAX_TENSORS], t: usize, at: u32| {
        life[t] = Some(match life[t] {
            Some((first, last)) => (first.min(at), last.max(at)),
            None => (at, at),
        });
    };
    for i in 0..n_ops {
        let op = model.operator(i)?;
        for slot in 0..op.input_count() {
            if let Some(t) = op.input(slot)
                && model.tensor(t)?.data.is_none()
            {
                touch(&mut life, t, i as u32);
            }
        }
        for slot in 0..op.output_count() {
            if let Some(t) = op.output(slot) {
                touch(&mut life, t, i as u32);
            }
        }
    }
    for t in model.inputs() {
        if model.tensor(t)?.data.is_none() {
            touch(&mut life, t, 0);
        }
    }
    for t in model.outputs() {
        if model.tensor(t)?.data.is_none() {
            let first = life[t].map_or(last_op, |l| l.0);
            life[t] = Some((first, last_op));
        }
    }

    let mut order = [0u16; MAX_TENSORS];
    let mut count = 0;
    for t in 0..n_tensors {
        if life[t].is_some() {
            sizes[t] = model.tensor(t)?.bytes().div_ceil(ALIGN) * ALIGN;
            order[count] = t as u16;
            count += 1;
        }
    }
    // Largest first; ties by first use, then index, for a deterministic plan.
    let order = &mut order[..count];
    order.sort_unstable_by_key(|&t| {
        let t = usize::from(t);
        (core::cmp::Reverse(sizes[t]), life[t].map_or(0, |l| l.0), t)
    });

    let mut offsets: [Option<u32>; MAX_TENSORS] = [None; MAX_TENSORS];
    let mut arena_bytes = 0usize;
    for (k, &t) in order.iter().enumerate() {
        let t = usize::from(t);
        let (first, last) = life[t].unwrap_or((0, 0));
        let overlaps = |u: usize| life[u].is_some_and(|(f, l)| f <= last && first <= l);
        let placed = &order[..k];
        let fits = |at: usize| {
            placed
                .iter()
                .map(|&u| usize::from(u))
                .filter(|&u| overlaps(u))
                .all(|u| {
                    let start = offsets[u].unwrap_or(0) as usize;
                    at + sizes[t] <= start || start + sizes[u] <= at
                })
        };
        let candidates = core::iter::once(0).chain(
            placed
                .iter()
                .map(|&u| usize::from(u))
                .filter(|&u| overlaps(u))
                .map(|u| offsets[u].unwrap_or(0) as usize + sizes[u]),
        );
        let at = candidates.filter(|&c| fits(c)).min().unwrap_or(0);
        offsets[t] = Some(u32::try_from(at).map_err(|_| Error::TooLarge("arena above 4 GiB"))?);
        arena_bytes = arena_bytes.max(at + sizes[t]);
    }
    Ok(Plan {
        offsets,
        arena_bytes,
    })
}
