//! Index arithmetic shared by the operators that move data in N dimensions:
//! dimensions padded to a fixed rank, row-major strides, outer/axis/inner
//! splits and walks over every multi-index.

use crate::model::Shape;

/// Dimensions padded on the left with ones to rank `R`; `None` when the
/// shape has more than `R` dimensions.
pub(crate) fn padded<const R: usize>(dims: &[usize]) -> Option<[usize; R]> {
    let mut out = [1usize; R];
    out.get_mut(R.checked_sub(dims.len())?..)?
        .copy_from_slice(dims);
    Some(out)
}

/// Row-major strides (in elements) of dimensions `d`.
pub(crate) fn strides<const R: usize>(d: &[usize; R]) -> [usize; R] {
    let mut s = [1usize; R];
    for k in (0..R.saturating_sub(1)).rev() {
        s[k] = s[k + 1] * d[k + 1];
    }
    s
}

/// `(product of the dimensions before axis, dimension axis, product of the
/// dimensions after it)`.
pub(crate) fn split_at_axis(shape: &Shape, axis: usize) -> (usize, usize, usize) {
    let d = shape.dims();
    let outer = d[..axis.min(d.len())].iter().product();
    let inner = d.get(axis + 1..).map_or(1, |r| r.iter().product());
    (outer, shape.dim(axis), inner)
}

/// A negative axis counted from the end of `rank`, made positive; `None`
/// when outside `0..rank`.
pub(crate) fn resolve_axis(axis: i64, rank: usize) -> Option<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    usize::try_from(a).ok().filter(|&a| a < rank)
}

/// Calls `f` with every multi-index of `dims`, row-major.
pub(crate) fn for_each_index<const R: usize>(dims: &[usize; R], mut f: impl FnMut(&[usize; R])) {
    if dims.contains(&0) {
        return;
    }
    let mut index = [0usize; R];
    loop {
        f(&index);
        let mut k = R;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < dims[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

/// `sum(index[k] * strides[k])`.
#[inline(always)]
pub(crate) fn offset<const R: usize>(index: &[usize; R], strides: &[usize; R]) -> usize {
    index.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// Integer values of a constant int32 or int64 tensor's bytes.
pub(crate) fn int_at(bytes: &[u8], wide: bool, i: usize) -> i64 {
    if wide {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        i64::from_le_bytes(b)
    } else {
        i64::from(super::i32_at(bytes, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_and_padding() {
        let d: [usize; 4] = padded(&[3, 4]).unwrap();
        assert_eq!(d, [1, 1, 3, 4]);
        assert_eq!(strides(&d), [12, 12, 4, 1]);
        assert!(padded::<2>(&[1, 2, 3]).is_none());
        assert_eq!(resolve_axis(-1, 3), Some(2));
        assert_eq!(resolve_axis(3, 3), None);
        let shape = Shape::new(&[2, 3, 5]).unwrap();
        assert_eq!(split_at_axis(&shape, 1), (2, 3, 5));
        let mut n = 0;
        for_each_index(&[2usize, 3], |_| n += 1);
        assert_eq!(n, 6);
    }
}
