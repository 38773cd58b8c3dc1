//! DENSIFY: a sparse constant (TFLite's `SparsityParameters`: dense and
//! CSR levels in a traversal order, with optional blocks) expanded into its
//! dense tensor once, at prepare time, as TensorFlow Lite's
//! `FormatConverter::SparseToDense` does. TFLite Micro has no DENSIFY; with
//! it, models converted with sparse weights run.

use crate::error::Error;
use crate::flat::{Table, Vector};
use crate::kernels::{EvalCtx, Op, PrepareCtx};
use crate::model::{ElemType, TensorInfo};

/// Most levels (tensor dimensions plus block dimensions) a sparse tensor
/// may have here.
const MAX_LEVELS: usize = 8;

/// One level of the traversal: every index, or a compressed row of them.
#[derive(Clone, Copy)]
enum Level<'a> {
    /// All `size` indices, in order.
    Dense,
    /// For each parent position `p`, the indices `indices[segments[p]..segments[p + 1]]`.
    Sparse {
        segments: IndexVector<'a>,
        indices: IndexVector<'a>,
    },
}

/// A `SparseIndexVector`: int32, uint16 or uint8 values.
#[derive(Clone, Copy)]
struct IndexVector<'a> {
    values: Vector<'a>,
    width: u8,
}

impl<'a> IndexVector<'a> {
    /// The union in fields `type_id` (its type) and `type_id + 1` of `t`.
    fn read(t: &Table<'a>, type_id: usize) -> Result<Self, &'static str> {
        let width = match t.u8(type_id, 0).map_err(|_| "sparse index vector")? {
            1 => 4,
            2 => 2,
            3 => 1,
            _ => return Err("a CSR level without its index vectors"),
        };
        let values = t
            .table(type_id + 1)
            .ok()
            .flatten()
            .and_then(|v| v.vector(0, width).ok().flatten())
            .ok_or("a CSR level without its index vectors")?;
        Ok(Self {
            values,
            width: width as u8,
        })
    }

    fn get(&self, i: usize) -> Option<usize> {
        match self.width {
            4 => self
                .values
                .i32(i)
                .ok()
                .and_then(|v| usize::try_from(v).ok()),
            2 => self.values.u16(i).ok().map(usize::from),
            _ => self.values.u8(i).ok().map(usize::from),
        }
    }
}

/// A validated sparse layout of a tensor.
struct Layout<'a> {
    /// Dimensions of the tensor.
    rank: usize,
    /// Levels: `rank` tensor dimensions, then one per block dimension.
    levels: usize,
    dims: [usize; MAX_LEVELS],
    /// The dimension each level walks (`traversal_order`).
    order: [usize; MAX_LEVELS],
    /// Per block dimension: the tensor dimension it splits, and its size.
    block_dim: [usize; MAX_LEVELS],
    block_size: [usize; MAX_LEVELS],
    /// Per level: how many indices it has, and how they are stored.
    size: [usize; MAX_LEVELS],
    level: [Level<'a>; MAX_LEVELS],
}

impl<'a> Layout<'a> {
    fn read(info: &TensorInfo<'a>, sparsity: &Table<'a>) -> Result<Self, &'static str> {
        let dims = info.shape.dims();
        let rank = dims.len();
        let vector = |id| sparsity.vector(id, 4).ok().flatten();
        let order = vector(0).unwrap_or(Vector::EMPTY);
        let block_map = vector(1).unwrap_or(Vector::EMPTY);
        let meta = vector(2).ok_or("sparsity without dimension metadata")?;
        let levels = order.len();
        if levels > MAX_LEVELS || levels != rank + block_map.len() || meta.len() != levels {
            return Err("traversal order, block map and metadata that do not match the shape");
        }
        let mut l = Layout {
            rank,
            levels,
            dims: [0; MAX_LEVELS],
            order: [0; MAX_LEVELS],
            block_dim: [0; MAX_LEVELS],
            block_size: [0; MAX_LEVELS],
            size: [0; MAX_LEVELS],
            level: [Level::Dense; MAX_LEVELS],
        };
        l.dims[..rank].copy_from_slice(dims);
        let index = |v: &Vector<'_>, i| v.i32(i).ok().and_then(|x| usize::try_from(x).ok());
        let mut blocked = l.dims;
        for b in 0..block_map.len() {
            let d = index(&block_map, b)
                .filter(|&d| d < rank)
                .ok_or("block map")?;
            let size = meta
                .table(rank + b)
                .and_then(|m| m.i32(1, 0))
                .ok()
                .and_then(|s| usize::try_from(s).ok())
                .filter(|&s| s > 0 && blocked[d].is_multiple_of(s))
                .ok_or("a block size that does not divide its dimension")?;
            (l.block_dim[b], l.block_size[b]) = (d, size);
            blocked[d] /= size;
        }
        let mut seen = [false; MAX_LEVELS];
        for i in 0..levels {
            // Tensor dimensions come first, then the blocks in block order,
            // as TensorFlow Lite's converter writes them.
            let d = index(&order, i)
                .filter(|&d| if i < rank { d < rank } else { d == i })
                .filter(|&d| !seen[d])
                .ok_or("a traversal order other than the dimensions, then the blocks in order")?;
            seen[d] = true;
            l.order[i] = d;
            l.size[i] = if d < rank {
                blocked[d]
            } else {
                l.block_size[d - rank]
            };
            let m = meta.table(i).map_err(|_| "dimension metadata")?;
            l.level[i] = match m.u8(0, 0).map_err(|_| "dimension metadata")? {
                0 => {
                    if usize::try_from(m.i32(1, 0).unwrap_or(-1)) != Ok(l.size[i]) {
                        return Err("a dense level whose size does not match the shape");
                    }
                    Level::Dense
                }
                1 => Level::Sparse {
                    segments: IndexVector::read(&m, 2)?,
                    indices: IndexVector::read(&m, 4)?,
                },
                _ => return Err("a dimension format other than DENSE or SPARSE_CSR"),
            };
        }
        Ok(l)
    }

    /// Writes every stored value of `src` (elements of `width` bytes) to
    /// its place in `dst`, walking from `level` (of parent position `parent`).
    fn expand(
        &self,
        walk: &mut Walk<'_>,
        level: usize,
        parent: usize,
        at: &mut [usize; MAX_LEVELS],
    ) -> Result<(), &'static str> {
        if level == self.levels {
            return walk.put(self.flat_index(at));
        }
        let size = self.size[level];
        match self.level[level] {
            Level::Dense => {
                for i in 0..size {
                    at[level] = i;
                    self.expand(walk, level + 1, parent * size + i, at)?;
                }
            }
            Level::Sparse { segments, indices } => {
                let (Some(first), Some(last)) = (segments.get(parent), segments.get(parent + 1))
                else {
                    return Err("a CSR segment out of range");
                };
                for i in first..last {
                    at[level] = indices
                        .get(i)
                        .filter(|&x| x < size)
                        .ok_or("a CSR index out of range")?;
                    self.expand(walk, level + 1, i, at)?;
                }
            }
        }
        Ok(())
    }

    /// The dense element index of level indices `at` (all in range).
    fn flat_index(&self, at: &[usize; MAX_LEVELS]) -> usize {
        let mut idx = [0usize; MAX_LEVELS];
        for (&d, &i) in self.order.iter().zip(at).take(self.rank) {
            idx[d] = i;
        }
        let blocks = self.order.iter().zip(at).take(self.levels).skip(self.rank);
        for (&level_dim, &i) in blocks {
            let b = level_dim - self.rank;
            let d = self.block_dim[b];
            idx[d] = idx[d] * self.block_size[b] + i;
        }
        (0..self.rank).fold(0, |flat, d| flat * self.dims[d] + idx[d])
    }
}

/// Stored values read in order and written to the dense tensor.
struct Walk<'x> {
    src: &'x [u8],
    dst: &'x mut [u8],
    width: usize,
    next: usize,
}

impl Walk<'_> {
    fn put(&mut self, element: usize) -> Result<(), &'static str> {
        let w = self.width;
        let value = self
            .src
            .get(self.next * w..(self.next + 1) * w)
            .ok_or("fewer stored values than the sparse layout names")?;
        self.dst[element * w..(element + 1) * w].copy_from_slice(value);
        self.next += 1;
        Ok(())
    }
}

/// DENSIFY, of a float32, float16 or int8 constant.
pub struct Densify;

impl Op for Densify {
    type Params<'a> = ();

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<(), Error> {
        let (input, out) = (ctx.input(0)?, ctx.output);
        if !matches!(input.dtype, ElemType::F32 | ElemType::F16 | ElemType::I8) {
            return Err(ctx.unsupported("types other than float32, float16 or int8"));
        }
        if out.dtype != input.dtype || out.shape.dims() != input.shape.dims() {
            return Err(ctx.invalid("output must have the input's type and shape"));
        }
        let (Some(src), Some(sparsity)) = (input.data, input.sparsity) else {
            return Err(ctx.unsupported("an input other than a sparse constant"));
        };
        let layout = Layout::read(&input, &sparsity).map_err(|what| ctx.invalid(what))?;
        let width = input.dtype.size();
        let mut failure = None;
        ctx.fold(|dst| {
            dst.fill(0);
            let mut walk = Walk {
                src,
                dst,
                width,
                next: 0,
            };
            let mut at = [0; MAX_LEVELS];
            failure = layout.expand(&mut walk, 0, 0, &mut at).err();
            Ok(())
        })?;
        match failure {
            Some(what) => Err(ctx.invalid(what)),
            None => Ok(()),
        }
    }

    fn eval(_: &(), _: &mut EvalCtx<'_>) -> Result<(), Error> {
        Err(Error::Usage(
            "DENSIFY is computed when the model is prepared",
        ))
    }
}
