//! TYPE2 datasets saved with NumPy's `np.save`: the `.npy` header states
//! the element type and shape, so vlab checks them against the model's
//! input before reading any sample, and a float64 array for a float32 input
//! (or int8 data for a float model) is an error instead of garbage inputs.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek};

use npyz::{DType as NpyDType, NpyHeader, Order, TypeChar, TypeStr};

use crate::seam::tensor::{DType, TensorSpec, format_shape};

/// The first bytes of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// If the file behind `reader` (positioned at its start) is a `.npy` array,
/// checks it against the one input it must hold and leaves `reader` at its
/// first sample. Returns the number of samples, or `None` for a raw
/// dataset. Errors are problems with the file, in words.
pub(crate) fn samples(
    reader: &mut BufReader<File>,
    len: u64,
    inputs: &[TensorSpec],
) -> Result<Option<usize>, String> {
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    if !head.starts_with(MAGIC) {
        return Ok(None);
    }
    let header = NpyHeader::from_reader(&mut *reader)
        .map_err(|e| format!("not a readable .npy file: {e}"))?;
    let offset = reader.stream_position().map_err(|e| e.to_string())?;
    let [input] = inputs else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(format!(
            "a .npy file holds one array, but {} inputs come from the dataset ({}); \
             write them as a raw dataset (docs/datasets.md)",
            inputs.len(),
            names.join(", ")
        ));
    };
    let NpyDType::Plain(element) = header.dtype() else {
        return Err(format!(
            "holds a structured array; input '{}' is {}",
            input.name, input.dtype
        ));
    };
    check_element(&element, input)?;
    if header.order() == Order::Fortran && header.shape().len() > 1 {
        return Err(
            "holds a Fortran-order array; save it in C order (np.ascontiguousarray)".to_owned(),
        );
    }
    let samples = sample_count(header.shape(), input)?;
    let data = header.len() * input.dtype.size() as u64;
    if len.saturating_sub(offset) != data {
        return Err(format!(
            "its header promises {data} bytes of data but the file holds {}",
            len.saturating_sub(offset)
        ));
    }
    usize::try_from(samples)
        .map(Some)
        .map_err(|_| "too many samples for this machine".to_owned())
}

/// The element type must be the input's, little-endian.
fn check_element(element: &TypeStr, input: &TensorSpec) -> Result<(), String> {
    let expected = match input.dtype {
        DType::Float32 | DType::Float64 => TypeChar::Float,
        DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => TypeChar::Int,
        DType::Uint8 | DType::Uint16 | DType::Uint32 | DType::Uint64 => TypeChar::Uint,
        DType::Bool => TypeChar::Bool,
    };
    let same = element.type_char() == expected
        && element.size_field() == input.dtype.size() as u64
        && element.endianness() != npyz::Endianness::Big;
    if same {
        Ok(())
    } else {
        Err(format!(
            "holds '{element}' elements; input '{}' is {} (convert with .astype)",
            input.name, input.dtype
        ))
    }
}

/// Samples in an array of `shape`: `(N, ...)` with one input's elements
/// after the first axis, or exactly one sample of the input's elements.
fn sample_count(shape: &[u64], input: &TensorSpec) -> Result<u64, String> {
    let per_sample: u64 = input.shape.iter().map(|d| d.unwrap_or(0) as u64).product();
    let rest: u64 = shape.iter().skip(1).product();
    let all: u64 = shape.iter().product();
    match shape.first() {
        Some(&n) if rest == per_sample && n > 0 => Ok(n),
        _ if all == per_sample => Ok(1),
        _ => Err(format!(
            "holds an array of shape ({}); input '{}' is {}, so the array must be \
             (N, ...) with {per_sample} elements per sample",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            input.name,
            format_shape(&input.shape)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dtype: DType, shape: &[usize]) -> TensorSpec {
        TensorSpec {
            name: "x".into(),
            dtype,
            shape: shape.iter().copied().map(Some).collect(),
            quantization: None,
        }
    }

    #[test]
    fn sample_count_accepts_a_leading_sample_axis() {
        let input = spec(DType::Float32, &[1, 49, 10, 1]);
        assert_eq!(sample_count(&[5, 49, 10, 1], &input), Ok(5));
        assert_eq!(sample_count(&[5, 1, 49, 10, 1], &input), Ok(5));
        assert_eq!(sample_count(&[1, 49, 10, 1], &input), Ok(1));
        assert_eq!(sample_count(&[5, 490], &input), Ok(5));
        let err = sample_count(&[5, 48, 10], &input).unwrap_err();
        assert!(err.contains("shape (5, 48, 10)"), "{err}");
        assert!(err.contains("490 elements per sample"), "{err}");
    }

    #[test]
    fn element_type_must_match() {
        let input = spec(DType::Float32, &[2]);
        let f4: TypeStr = "<f4".parse().unwrap();
        let f8: TypeStr = "<f8".parse().unwrap();
        let big: TypeStr = ">f4".parse().unwrap();
        assert!(check_element(&f4, &input).is_ok());
        let err = check_element(&f8, &input).unwrap_err();
        assert!(
            err.contains("holds '<f8' elements; input 'x' is float32"),
            "{err}"
        );
        assert!(check_element(&big, &input).is_err());
        let i1: TypeStr = "|i1".parse().unwrap();
        assert!(check_element(&i1, &spec(DType::Int8, &[2])).is_ok());
        assert!(check_element(&i1, &spec(DType::Uint8, &[2])).is_err());
    }
}
