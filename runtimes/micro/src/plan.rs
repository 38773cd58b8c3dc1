//! Memory planning: where each activation tensor of a subgraph lives.
//!
//! Lifetimes come from the graph: a tensor lives from the operator that
//! produces it to the last operator that reads it. Graph inputs and
//! outputs live for the whole subgraph, so inputs set once stay valid for
//! every invocation. Tensors are placed greedily, largest first, at the
//! lowest offset that no tensor alive at the same time occupies (TFLite
//! Micro's `GreedyMemoryPlanner` strategy), each on a 16-byte boundary.
//! The plan is made in the interpreter's tensor table itself, so it needs
//! no memory of its own.

use crate::error::Error;
use crate::model::Subgraph;
use crate::tables::{Loc, Slot, Step};

/// Alignment of every tensor in the arena, in bytes.
pub const ALIGN: usize = 16;

/// Places the activations of one subgraph from arena offset `base`;
/// returns the bytes they take.
pub fn plan(
    graph: &Subgraph<'_>,
    slots: &mut [Slot<'_>],
    steps: &[Step<'_>],
    base: usize,
) -> Result<usize, Error> {
    let last = steps.len().saturating_sub(1) as u32;
    let is_activation = |s: &Slot<'_>| matches!(s.loc, Loc::Absent);
    let touch = |slot: &mut Slot<'_>, at: u32| {
        if is_activation(slot) {
            slot.life = Some(match slot.life {
                Some((first, l)) => (first.min(at), l.max(at)),
                None => (at, at),
            });
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if step.kernel.is_none() {
            continue;
        }
        for t in step.op.inputs().chain(step.op.outputs()) {
            if let Some(slot) = slots.get_mut(t) {
                touch(slot, i as u32);
            }
        }
    }
    for t in graph.inputs().chain(graph.outputs()) {
        if let Some(slot) = slots.get_mut(t)
            && is_activation(slot)
        {
            slot.life = Some((0, last));
        }
    }
    let size = |s: &Slot<'_>| s.info.bytes().div_ceil(ALIGN) * ALIGN;
    // Largest first; ties by first use, then index, for a deterministic plan.
    let key = |t: usize, s: &Slot<'_>| (core::cmp::Reverse(size(s)), s.life.map_or(0, |l| l.0), t);
    let mut bytes = 0usize;
    loop {
        let next = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.life.is_some() && is_activation(s))
            .min_by_key(|&(t, s)| key(t, s))
            .map(|(t, _)| t);
        let Some(t) = next else { break };
        let (first, last) = slots[t].life.unwrap_or((0, 0));
        let len = size(&slots[t]);
        let placed = |s: &Slot<'_>| match (s.loc, s.life) {
            (Loc::Arena { offset, .. }, Some((f, l))) if f <= last && first <= l => {
                Some((offset as usize - base, size(s)))
            }
            _ => None,
        };
        let fits = |at: usize| {
            slots
                .iter()
                .filter_map(placed)
                .all(|(start, n)| at + len <= start || start + n <= at)
        };
        let at = core::iter::once(0)
            .chain(slots.iter().filter_map(placed).map(|(start, n)| start + n))
            .filter(|&c| fits(c))
            .min()
            .unwrap_or(0);
        let offset = u32::try_from(base + at).map_err(|_| Error::TooLarge("arena above 4 GiB"))?;
        slots[t].loc = Loc::Arena {
            offset,
            len: slots[t].info.bytes() as u32,
        };
        bytes = bytes.max(at + len);
    }
    Ok(bytes)
}
