//! Where a prepared model's inputs and outputs are, found once when the
//! model is loaded: an input chunk is written, and an output chunk read, by
//! slicing, without preparing the model again. Preparing a model lays it
//! out by the model and the arena's size alone, so the layout holds for
//! every later preparation of the same model in the same arena (each run
//! resumes the model over the arena) until another model is loaded.
//!
//! An output in the activations keeps the last run's values until the
//! arena is written again: by the next run or load, or by an input chunk
//! whose tensor the planner put over it. As with TensorFlow Lite, a run's
//! outputs are read after it and before the next inputs.

use heapless::Vec;
use vlab_micro::{Interpreter, Model};
use vlab_protocol::ErrorCode;

use super::failure::{Failure, fail, no_model};

/// Most graph inputs and outputs the agent serves.
const MAX_TENSORS: usize = 16;

/// A byte range.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub start: usize,
    pub len: usize,
}

impl Span {
    /// These bytes of `bytes` (none, should they not all be there).
    pub fn of(self, bytes: &[u8]) -> &[u8] {
        bytes.get(self.start..self.end()).unwrap_or_default()
    }

    /// One past the span's last byte.
    pub fn end(self) -> usize {
        self.start.saturating_add(self.len)
    }

    /// Where `part` lies in `whole` (its address and length), if it does.
    fn within(part: &[u8], whole: (usize, usize)) -> Option<Span> {
        let start = part.as_ptr().addr().checked_sub(whole.0)?;
        let span = Span {
            start,
            len: part.len(),
        };
        (span.end() <= whole.1).then_some(span)
    }
}

/// Where a graph output's bytes are.
#[derive(Clone, Copy)]
pub(super) enum OutputAt {
    /// In the arena: an activation, a variable, or data computed at load.
    Arena(Span),
    /// In the model's bytes: a constant.
    Model(Span),
    /// Nowhere: the graph does not compute it.
    Absent,
}

/// A prepared model's arena use and where its inputs and outputs are.
pub(super) struct Layout {
    /// Bytes of arena the model uses.
    pub arena_used: u32,
    /// Each graph input, in the arena.
    pub inputs: Vec<Span, MAX_TENSORS>,
    /// Each graph output.
    pub outputs: Vec<OutputAt, MAX_TENSORS>,
}

impl Layout {
    /// Prepares `model` afresh over `arena` (its state as at load) and
    /// finds where its inputs and outputs are.
    ///
    /// This and the other functions that prepare an interpreter are never
    /// inlined, so that their frames are not kept side by side in their
    /// caller's.
    #[inline(never)]
    pub fn load(model: &[u8], arena: &mut [u8]) -> Result<Self, Failure> {
        if model.is_empty() {
            return Err(no_model());
        }
        // The interpreter gives a constant or variable output as bytes, not
        // as an arena offset: its address says where it is.
        let in_arena = (arena.as_ptr().addr(), arena.len());
        let in_model = (model.as_ptr().addr(), model.len());
        let it = prepare(model, arena, true)?;
        let too_many = || {
            fail(
                ErrorCode::ModelRejected,
                format_args!(
                    "more than {MAX_TENSORS} graph inputs or outputs, or a constant input"
                ),
            )
        };
        let mut inputs = Vec::new();
        for i in 0..it.model().inputs().count() {
            let range = it.input_range(i).map_err(|_| too_many())?;
            let span = Span {
                start: range.start,
                len: range.len(),
            };
            inputs.push(span).map_err(|_| too_many())?;
        }
        let mut outputs = Vec::new();
        for i in 0..it.model().outputs().count() {
            let at = match it.output(i) {
                Ok([]) => OutputAt::Arena(Span { start: 0, len: 0 }),
                Ok(bytes) => Span::within(bytes, in_arena)
                    .map(OutputAt::Arena)
                    .or_else(|| Span::within(bytes, in_model).map(OutputAt::Model))
                    .unwrap_or(OutputAt::Absent),
                Err(_) => OutputAt::Absent,
            };
            outputs.push(at).map_err(|_| too_many())?;
        }
        Ok(Self {
            arena_used: it.arena_used() as u32,
            inputs,
            outputs,
        })
    }
}

/// Parses `model` and prepares an interpreter over `arena`: afresh, or
/// resumed ([`Interpreter::resume`]).
pub(super) fn prepare<'m>(
    model: &'m [u8],
    arena: &'m mut [u8],
    fresh: bool,
) -> Result<Interpreter<'m>, Failure> {
    let model =
        Model::parse(model).map_err(|e| fail(ErrorCode::ModelRejected, format_args!("{e}")))?;
    let prepared = if fresh {
        Interpreter::new(model, arena)
    } else {
        Interpreter::resume(model, arena)
    };
    prepared.map_err(|e| match e {
        vlab_micro::Error::ArenaTooSmall {
            needed,
            available,
            exact,
        } => fail(
            ErrorCode::ArenaTooSmall,
            format_args!(
                "arena {}{needed} B > {available} B",
                if exact { "" } else { ">= " }
            ),
        ),
        e => fail(ErrorCode::ModelRejected, format_args!("{e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn a_part_is_found_where_it_lies_in_the_whole() {
        let whole = [0u8; 64];
        let at = (whole.as_ptr().addr(), whole.len());
        let span = Span::within(&whole[10..30], at).map(|s| (s.start, s.len));
        assert_eq!(span, Some((10, 20)));
        assert_eq!(Span::within(&whole[44..], at).map(|s| s.end()), Some(64));
        let other = [0u8; 8];
        assert!(Span::within(&other, at).is_none());
        let shorter = (at.0, 29);
        assert!(Span::within(&whole[10..30], shorter).is_none());
    }
}
