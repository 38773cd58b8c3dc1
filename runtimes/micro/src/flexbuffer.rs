//! A minimal FlexBuffers reader: the scalar values of a root map, looked up
//! by key, as custom operators keep their options (`custom_options`).
//!
//! No maintained `no_std` FlexBuffers reader exists (the `flexbuffers`
//! crate needs `std` and serde), so this one reads only what operator
//! options use: a root map whose values are null, integers, unsigned
//! integers, floats (inline or indirect) and booleans. Every read is
//! bounds-checked: hostile bytes give an [`Error`], never a panic. Values
//! convert as FlexBuffers' `AsInt32`, `AsFloat` and `AsBool` do.

use crate::error::Error;

/// Type codes of the FlexBuffers format (`flexbuffers.h`).
const NULL: u8 = 0;
const INT: u8 = 1;
const UINT: u8 = 2;
const FLOAT: u8 = 3;
const INDIRECT_INT: u8 = 6;
const INDIRECT_UINT: u8 = 7;
const INDIRECT_FLOAT: u8 = 8;
const MAP: u8 = 9;
const BOOL: u8 = 26;

/// The error of any malformed FlexBuffer.
const MALFORMED: Error = Error::Malformed("custom options: malformed FlexBuffer");

/// A scalar value of a map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// Null, or a key the map does not have.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float (a 32-bit one widened).
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// As `AsInt64` then a cast to 32 bits, as FlexBuffers' `AsInt32`.
    pub fn as_i32(self) -> i32 {
        (match self {
            Value::Null => 0,
            Value::Int(v) => v,
            Value::UInt(v) => v as i64,
            Value::Float(v) => v as i64,
            Value::Bool(v) => i64::from(v),
        }) as i32
    }

    /// As FlexBuffers' `AsFloat`.
    pub fn as_f32(self) -> f32 {
        match self {
            Value::Null => 0.0,
            Value::Int(v) => v as f32,
            Value::UInt(v) => v as f32,
            Value::Float(v) => v as f32,
            Value::Bool(v) => f32::from(u8::from(v)),
        }
    }

    /// As FlexBuffers' `AsBool`: true when not zero.
    pub fn as_bool(self) -> bool {
        match self {
            Value::Null => false,
            Value::Int(v) => v != 0,
            Value::UInt(v) => v != 0,
            Value::Float(v) => v as u64 != 0,
            Value::Bool(v) => v,
        }
    }

    /// Whether the value is null (or the key absent).
    pub fn is_null(self) -> bool {
        self == Value::Null
    }
}

/// The root map of a FlexBuffer.
#[derive(Clone, Copy, Debug)]
pub struct Map<'a> {
    buf: &'a [u8],
    /// Where the values start.
    data: usize,
    /// Bytes per value.
    width: usize,
    len: usize,
    /// Where the keys' offsets start, and bytes per offset.
    keys: usize,
    keys_width: usize,
}

/// Reads an unsigned little-endian integer of `width` bytes at `at`.
fn uint(buf: &[u8], at: usize, width: usize) -> Result<u64, Error> {
    let bytes = buf.get(at..at.checked_add(width).ok_or(MALFORMED)?);
    let bytes = bytes.ok_or(MALFORMED)?;
    if !matches!(width, 1 | 2 | 4 | 8) {
        return Err(MALFORMED);
    }
    Ok(bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Reads a signed little-endian integer of `width` bytes at `at`.
fn int(buf: &[u8], at: usize, width: usize) -> Result<i64, Error> {
    let v = uint(buf, at, width)?;
    let shift = 64 - 8 * width as u32;
    Ok(((v << shift) as i64) >> shift)
}

/// Reads a float of `width` bytes (4 or 8) at `at`.
fn float(buf: &[u8], at: usize, width: usize) -> Result<f64, Error> {
    let v = uint(buf, at, width)?;
    match width {
        4 => Ok(f64::from(f32::from_bits(v as u32))),
        8 => Ok(f64::from_bits(v)),
        _ => Err(MALFORMED),
    }
}

/// The position an offset of `width` bytes at `at` points back to.
fn indirect(buf: &[u8], at: usize, width: usize) -> Result<usize, Error> {
    let offset = usize::try_from(uint(buf, at, width)?).map_err(|_| MALFORMED)?;
    at.checked_sub(offset).ok_or(MALFORMED)
}

/// Bytes of a packed type's own width code (its low two bits).
fn own_width(packed: u8) -> usize {
    1 << (packed & 3)
}

impl<'a> Map<'a> {
    /// The root of `buf`, which must be a map.
    pub fn root(buf: &'a [u8]) -> Result<Self, Error> {
        let n = buf.len();
        if n < 3 {
            return Err(MALFORMED);
        }
        let root_width = usize::from(buf[n - 1]);
        let packed = buf[n - 2];
        let at = (n - 2).checked_sub(root_width).ok_or(MALFORMED)?;
        if packed >> 2 != MAP {
            return Err(Error::Malformed("custom options: not a FlexBuffer map"));
        }
        let data = indirect(buf, at, root_width)?;
        let width = own_width(packed);
        let field = |k: usize| data.checked_sub(k * width).ok_or(MALFORMED);
        let len = usize::try_from(uint(buf, field(1)?, width)?).map_err(|_| MALFORMED)?;
        let keys_width = usize::try_from(uint(buf, field(2)?, width)?).map_err(|_| MALFORMED)?;
        let keys = indirect(buf, field(3)?, width)?;
        let map = Self {
            buf,
            data,
            width,
            len,
            keys,
            keys_width,
        };
        // Values, then one type byte per value; and the keys' offsets.
        let values_end = len
            .checked_mul(width + 1)
            .and_then(|b| b.checked_add(data))
            .ok_or(MALFORMED)?;
        let keys_end = len
            .checked_mul(keys_width)
            .and_then(|b| b.checked_add(keys))
            .ok_or(MALFORMED)?;
        if values_end > n || keys_end > n || !matches!(keys_width, 1 | 2 | 4 | 8) {
            return Err(MALFORMED);
        }
        Ok(map)
    }

    /// Key `i`, its bytes up to (not including) its terminating zero.
    fn key(&self, i: usize) -> Result<&'a [u8], Error> {
        let at = indirect(self.buf, self.keys + i * self.keys_width, self.keys_width)?;
        let rest = self.buf.get(at..).ok_or(MALFORMED)?;
        let end = rest.iter().position(|&b| b == 0).ok_or(MALFORMED)?;
        Ok(&rest[..end])
    }

    /// Value `i`.
    fn value(&self, i: usize) -> Result<Value, Error> {
        let (buf, w) = (self.buf, self.width);
        let at = self.data + i * w;
        let packed = *buf.get(self.data + self.len * w + i).ok_or(MALFORMED)?;
        Ok(match packed >> 2 {
            NULL => Value::Null,
            INT => Value::Int(int(buf, at, w)?),
            UINT => Value::UInt(uint(buf, at, w)?),
            FLOAT => Value::Float(float(buf, at, w)?),
            BOOL => Value::Bool(uint(buf, at, w)? != 0),
            INDIRECT_INT => Value::Int(int(buf, indirect(buf, at, w)?, own_width(packed))?),
            INDIRECT_UINT => Value::UInt(uint(buf, indirect(buf, at, w)?, own_width(packed))?),
            INDIRECT_FLOAT => Value::Float(float(buf, indirect(buf, at, w)?, own_width(packed))?),
            _ => {
                return Err(Error::Malformed(
                    "custom options: a value is not a number or a boolean",
                ));
            }
        })
    }

    /// The value of `key`; [`Value::Null`] when the map does not have it.
    pub fn get(&self, key: &str) -> Result<Value, Error> {
        for i in 0..self.len {
            if self.key(i)? == key.as_bytes() {
                return self.value(i);
            }
        }
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"a": 3, "b": 0.5, "c": true, "d": -2, "e": 10.0}` as Python's
    /// `flatbuffers.flexbuffers.Dumps` writes it (4-byte values).
    const SAMPLE: [u8; 56] = [
        0x61, 0x00, 0x62, 0x00, 0x63, 0x00, 0x64, 0x00, 0x65, 0x00, 0x05, 0x0b, 0x0a, 0x09, 0x08,
        0x07, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x03, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x01, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x00,
        0x00, 0x20, 0x41, 0x06, 0x0e, 0x6a, 0x06, 0x0e, 0x19, 0x26, 0x01,
    ];

    #[test]
    fn reads_every_scalar() {
        let m = Map::root(&SAMPLE).unwrap();
        assert_eq!(m.get("a").unwrap(), Value::Int(3));
        assert_eq!(m.get("b").unwrap().as_f32(), 0.5);
        assert!(m.get("c").unwrap().as_bool());
        assert_eq!(m.get("d").unwrap().as_i32(), -2);
        assert_eq!(m.get("e").unwrap().as_f32(), 10.0);
        assert_eq!(m.get("e").unwrap().as_i32(), 10);
        assert!(m.get("missing").unwrap().is_null());
        assert_eq!(m.get("missing").unwrap().as_i32(), 0);
    }

    #[test]
    fn scalar_conversions() {
        assert_eq!(Value::Float(-2.7).as_i32(), -2);
        assert_eq!(Value::UInt(7).as_f32(), 7.0);
        assert_eq!(Value::Int(1 << 33).as_i32(), 0);
        assert!(!Value::Int(0).as_bool());
        assert!(Value::Float(1.5).as_bool());
        assert_eq!(int(&[0xff, 0x7f], 0, 2), Ok(0x7fff));
        assert_eq!(int(&[0x00, 0x80], 0, 2), Ok(-0x8000));
    }

    #[test]
    fn truncated_input_is_an_error() {
        for n in 0..SAMPLE.len() {
            let cut = &SAMPLE[..n];
            let read = Map::root(cut).and_then(|m| m.get("e"));
            assert!(read.is_err() || read == Ok(Value::Null), "{n}: {read:?}");
        }
    }

    #[test]
    fn corrupted_input_never_panics() {
        let mut bytes = SAMPLE;
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff, 0x26, 0x27] {
                let old = bytes[i];
                bytes[i] = v;
                if let Ok(m) = Map::root(&bytes) {
                    for key in ["a", "b", "c", "d", "e", "z"] {
                        let _ = m.get(key);
                    }
                }
                bytes[i] = old;
            }
        }
    }

    #[test]
    fn non_map_roots_are_refused() {
        assert!(Map::root(&[]).is_err());
        assert!(Map::root(&[0x05, 0x04, 0x01]).is_err()); // an inline int
        assert!(Map::root(&[0x00, 0x24, 0xff]).is_err()); // a root wider than the buffer
    }
}
