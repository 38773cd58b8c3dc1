//! A bounds-checked flatbuffer reader.
//!
//! Every read checks its range against the buffer and returns
//! [`Error::Malformed`] instead of panicking. Nothing recurses and every loop
//! over a vector is bounded by a length already checked against the buffer,
//! so hostile bytes cannot cause a hang or unbounded recursion. The
//! `flatbuffers` crate's verifier needs `alloc`-free generated code that the
//! TFLite schema does not ship for `no_std`, hence this reader.

use crate::error::Error;

fn read<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N], Error> {
    pos.checked_add(N)
        .and_then(|end| buf.get(pos..end))
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Malformed("read past the end of the model"))
}

/// A little-endian u32 at `pos`.
pub fn u32_at(buf: &[u8], pos: usize) -> Result<u32, Error> {
    read::<4>(buf, pos).map(u32::from_le_bytes)
}

/// The position an unsigned offset stored at `pos` points to.
fn follow(buf: &[u8], pos: usize) -> Result<usize, Error> {
    let offset = u32_at(buf, pos)? as usize;
    pos.checked_add(offset)
        .filter(|&p| p < buf.len())
        .ok_or(Error::Malformed("offset points past the end"))
}

/// A table: an object with optional fields described by a vtable.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub fn root(buf: &'a [u8]) -> Result<Self, Error> {
        Self::at(buf, follow(buf, 0)?)
    }

    /// The table starting at `pos`.
    pub fn at(buf: &'a [u8], pos: usize) -> Result<Self, Error> {
        let soffset = i32::from_le_bytes(read::<4>(buf, pos)?);
        let vtable = (pos as i64)
            .checked_sub(i64::from(soffset))
            .and_then(|v| usize::try_from(v).ok())
            .ok_or(Error::Malformed("vtable offset out of range"))?;
        let vtable_len = usize::from(u16::from_le_bytes(read::<2>(buf, vtable)?));
        if vtable_len < 4
            || vtable_len % 2 != 0
            || vtable.checked_add(vtable_len).is_none_or(|e| e > buf.len())
        {
            return Err(Error::Malformed("bad vtable"));
        }
        Ok(Self {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Position of field `id`, or `None` when the field is absent.
    fn field(&self, id: usize) -> Result<Option<usize>, Error> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = u16::from_le_bytes(read::<2>(self.buf, self.vtable + slot)?);
        Ok((offset != 0).then_some(self.pos + usize::from(offset)))
    }

    /// A scalar field of `N` bytes, or `None` when absent.
    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>, Error> {
        self.field(id)?.map(|p| read::<N>(self.buf, p)).transpose()
    }

    /// An `i8` field.
    pub fn i8(&self, id: usize, default: i8) -> Result<i8, Error> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] as i8))
    }

    /// A `u8` field (also enums and bools stored as one byte).
    pub fn u8(&self, id: usize, default: u8) -> Result<u8, Error> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }

    /// An `i32` field.
    pub fn i32(&self, id: usize, default: i32) -> Result<i32, Error> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    /// A `u32` field.
    pub fn u32(&self, id: usize, default: u32) -> Result<u32, Error> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    /// A `u64` field.
    pub fn u64(&self, id: usize, default: u64) -> Result<u64, Error> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// An `f32` field.
    pub fn f32(&self, id: usize, default: f32) -> Result<f32, Error> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }

    /// A sub-table field.
    pub fn table(&self, id: usize) -> Result<Option<Table<'a>>, Error> {
        self.field(id)?
            .map(|p| Table::at(self.buf, follow(self.buf, p)?))
            .transpose()
    }

    /// A vector field whose elements are `elem` bytes wide.
    pub fn vector(&self, id: usize, elem: usize) -> Result<Option<Vector<'a>>, Error> {
        self.field(id)?
            .map(|p| Vector::at(self.buf, follow(self.buf, p)?, elem))
            .transpose()
    }

    /// A string field.
    pub fn string(&self, id: usize) -> Result<Option<&'a str>, Error> {
        match self.vector(id, 1)? {
            Some(v) => core::str::from_utf8(v.bytes())
                .map(Some)
                .map_err(|_| Error::Malformed("string is not UTF-8")),
            None => Ok(None),
        }
    }
}

/// A vector of fixed-size elements.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
    elem: usize,
}

impl<'a> Vector<'a> {
    /// A vector with no elements.
    pub const EMPTY: Vector<'static> = Vector {
        buf: &[],
        start: 0,
        len: 0,
        elem: 1,
    };

    fn at(buf: &'a [u8], pos: usize, elem: usize) -> Result<Self, Error> {
        let len = u32_at(buf, pos)? as usize;
        let start = pos + 4;
        let end = len.checked_mul(elem).and_then(|n| start.checked_add(n));
        if end.is_none_or(|e| e > buf.len()) {
            return Err(Error::Malformed("vector runs past the end"));
        }
        Ok(Self {
            buf,
            start,
            len,
            elem,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw element bytes.
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.start..self.start + self.len * self.elem]
    }

    fn element<const N: usize>(&self, i: usize) -> Result<[u8; N], Error> {
        if i >= self.len || N != self.elem {
            return Err(Error::Malformed("vector index out of range"));
        }
        read::<N>(self.buf, self.start + i * self.elem)
    }

    /// Element `i` of an `i32` vector.
    pub fn i32(&self, i: usize) -> Result<i32, Error> {
        self.element::<4>(i).map(i32::from_le_bytes)
    }

    /// Element `i` of a `u8` vector.
    pub fn u8(&self, i: usize) -> Result<u8, Error> {
        self.element::<1>(i).map(|[b]| b)
    }

    /// Element `i` of a `u16` vector.
    pub fn u16(&self, i: usize) -> Result<u16, Error> {
        self.element::<2>(i).map(u16::from_le_bytes)
    }

    /// Element `i` of an `f32` vector.
    pub fn f32(&self, i: usize) -> Result<f32, Error> {
        self.element::<4>(i).map(f32::from_le_bytes)
    }

    /// Element `i` of an `i64` vector.
    pub fn i64(&self, i: usize) -> Result<i64, Error> {
        self.element::<8>(i).map(i64::from_le_bytes)
    }

    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize) -> Result<Table<'a>, Error> {
        self.element::<4>(i)?;
        Table::at(self.buf, follow(self.buf, self.start + i * 4)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root table with one i32 field (id 0) = 7 and one vector field (id 1) = [1, 2].
    fn sample() -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&12u32.to_le_bytes()); // root -> table at 12
        // vtable at 4: len 8, table len 12, field0 at +4, field1 at +8
        b[4..6].copy_from_slice(&8u16.to_le_bytes());
        b[6..8].copy_from_slice(&12u16.to_le_bytes());
        b[8..10].copy_from_slice(&4u16.to_le_bytes());
        b[10..12].copy_from_slice(&8u16.to_le_bytes());
        b[12..16].copy_from_slice(&8i32.to_le_bytes()); // soffset: vtable at 12 - 8 = 4
        b[16..20].copy_from_slice(&7i32.to_le_bytes());
        b[20..24].copy_from_slice(&4u32.to_le_bytes()); // vector at 24
        b[24..28].copy_from_slice(&2u32.to_le_bytes());
        b[28..32].copy_from_slice(&1i32.to_le_bytes());
        b[32..36].copy_from_slice(&2i32.to_le_bytes());
        b
    }

    #[test]
    fn reads_fields_and_defaults() {
        let b = sample();
        let t = Table::root(&b).unwrap();
        assert_eq!(t.i32(0, 0).unwrap(), 7);
        assert_eq!(t.i32(5, 42).unwrap(), 42);
        let v = t.vector(1, 4).unwrap().unwrap();
        assert_eq!((v.len(), v.i32(0).unwrap(), v.i32(1).unwrap()), (2, 1, 2));
        assert!(v.i32(2).is_err());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = sample();
        for len in 0..b.len() {
            let cut = &b[..len];
            let _ = Table::root(cut).and_then(|t| {
                t.i32(0, 0)?;
                t.vector(1, 4)?.map(|v| v.i32(1)).transpose()
            });
        }
        let mut huge = sample();
        huge[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Table::root(&huge).unwrap().vector(1, 4).is_err());
    }
}
