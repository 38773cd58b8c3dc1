//! Tail allocations: typed tables carved off the end of the caller's
//! arena, as TensorFlow Lite Micro's persistent allocations are, so the
//! interpreter's tables are sized to the model and need no allocator.
//!
//! This is the crate's one `unsafe` module besides the inline assembly: it
//! turns an aligned run of arena bytes into an initialised `&mut [T]`, and
//! lets words of working memory be written as bytes. No maintained `no_std` crate
//! carves non-`Pod` values (the tables hold references into the model) out
//! of a caller's `&mut [u8]` with the caller's lifetime, hence this one
//! function.
#![allow(unsafe_code)]

use core::mem::{align_of, size_of};

/// Every tail allocation starts on this boundary and is a multiple of it,
/// so the bytes a model needs do not depend on where the arena is.
pub const TAIL_ALIGN: usize = 16;

/// Bytes a tail allocation of `n` values of `T` takes.
pub const fn tail_bytes<T>(n: usize) -> usize {
    (n * size_of::<T>()).div_ceil(TAIL_ALIGN) * TAIL_ALIGN
}

/// The free front of an arena, handing out allocations from its end.
pub struct Tail<'a> {
    free: &'a mut [u8],
    taken: usize,
    pad: usize,
}

impl<'a> Tail<'a> {
    /// All of `arena` is free. Its end is first rounded down to
    /// [`TAIL_ALIGN`] (see [`Self::pad`]).
    pub fn new(arena: &'a mut [u8]) -> Self {
        let end = arena.as_ptr() as usize + arena.len();
        let pad = (end % TAIL_ALIGN).min(arena.len());
        let len = arena.len() - pad;
        Self {
            free: &mut arena[..len],
            taken: 0,
            pad,
        }
    }

    /// Bytes lost at the arena's end to align it (0 when it ends on a
    /// [`TAIL_ALIGN`] boundary).
    pub fn pad(&self) -> usize {
        self.pad
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// `n` bytes off the end, zeroed when `zero` (else as they were);
    /// `None` when they do not fit.
    pub fn bytes(&mut self, n: usize, zero: bool) -> Option<&'a mut [u8]> {
        let size = n.div_ceil(TAIL_ALIGN) * TAIL_ALIGN;
        let at = self.free.len().checked_sub(size)?;
        let free = core::mem::take(&mut self.free);
        let (rest, chunk) = free.split_at_mut(at);
        self.free = rest;
        self.taken += size;
        let chunk = &mut chunk[..n];
        if zero {
            chunk.fill(0);
        }
        Some(chunk)
    }

    /// `n` values `fill(0)`, `fill(1)`, ... off the end; `None` when they
    /// do not fit.
    pub fn take<T>(&mut self, n: usize, mut fill: impl FnMut(usize) -> T) -> Option<&'a mut [T]> {
        let filled: Result<_, core::convert::Infallible> = self.try_take(n, |i| Ok(fill(i)));
        filled.ok().flatten()
    }

    /// [`Self::take`] with a fallible `fill`: its first error is returned
    /// (the bytes stay taken).
    pub fn try_take<T, E>(
        &mut self,
        n: usize,
        mut fill: impl FnMut(usize) -> Result<T, E>,
    ) -> Result<Option<&'a mut [T]>, E> {
        const {
            assert!(align_of::<T>() <= TAIL_ALIGN);
            // Nothing in the arena is ever dropped.
            assert!(!core::mem::needs_drop::<T>());
        };
        if size_of::<T>() == 0 {
            // An operator without parameters: values that take no memory.
            for i in 0..n {
                fill(i)?;
            }
            let ptr = core::ptr::NonNull::<T>::dangling().as_ptr();
            // SAFETY: a dangling, aligned pointer is a valid slice of any
            // length of a zero-sized type; the values need no drop.
            return Ok(Some(unsafe { core::slice::from_raw_parts_mut(ptr, n) }));
        }
        let Some(chunk) = n
            .checked_mul(size_of::<T>())
            .and_then(|b| self.bytes(b, false))
        else {
            return Ok(None);
        };
        let ptr = chunk.as_mut_ptr().cast::<T>();
        for i in 0..n {
            let value = fill(i)?;
            // SAFETY: `chunk` is `n * size_of::<T>()` bytes that this
            // allocation owns for 'a, and its start is TAIL_ALIGN-aligned
            // (the free region's end is aligned and every allocation is a
            // multiple of TAIL_ALIGN), which satisfies T's alignment (checked
            // above). Element i is in bounds; `write` drops nothing.
            unsafe { ptr.add(i).write(value) };
        }
        // SAFETY: all `n` elements were initialised above, the memory is
        // aligned for T and borrowed exclusively for 'a through `chunk`.
        Ok(Some(unsafe { core::slice::from_raw_parts_mut(ptr, n) }))
    }

    /// The free front, for the activations.
    pub fn into_front(self) -> &'a mut [u8] {
        self.free
    }
}

/// `words` as bytes, in memory order: working memory that a kernel fills
/// byte by byte and reads word by word. `bytemuck` would do this with a
/// dependency for one line.
#[cfg(arm_v7)]
pub fn words_as_bytes(words: &mut [u32]) -> &mut [u8] {
    let len = core::mem::size_of_val(words);
    // SAFETY: the bytes are the words' own memory, borrowed exclusively for
    // the same lifetime; every byte pattern is a valid u8 and u32, and u8
    // needs no alignment.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_disjoint_and_counted() {
        let mut arena = [0u8; 256];
        let mut tail = Tail::new(&mut arena[3..]);
        assert!(tail.pad() < TAIL_ALIGN);
        let a = tail.take(3, |i| i as u64 * 10).unwrap();
        let b = tail.take(5, |i| i as u16).unwrap();
        assert_eq!(a, [0, 10, 20]);
        assert_eq!(b, [0, 1, 2, 3, 4]);
        assert_eq!(a.as_ptr() as usize % 8, 0);
        assert_eq!(tail.taken(), 32 + 16);
        assert!(tail.take(1000, |_| 0u8).is_none());
        let front = tail.into_front();
        assert!(front.as_ptr() as usize + front.len() <= b.as_ptr() as usize);
        a[0] = 7;
        assert_eq!(a[0], 7);
    }
}
