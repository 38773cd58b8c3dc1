//! Tensor descriptions shared by every engine: element types, shapes,
//! quantisation parameters, and input shape overrides.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::error::{Error, Result};
use crate::platform::field::Field;

/// Element type of a tensor, as far as the harness needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE-754 binary32.
    Float32,
    /// IEEE-754 binary64.
    Float64,
    /// Signed 8-bit integer (also quantised int8).
    Int8,
    /// Unsigned 8-bit integer (also quantised uint8).
    Uint8,
    /// Signed 16-bit integer.
    Int16,
    /// Unsigned 16-bit integer.
    Uint16,
    /// Signed 32-bit integer.
    Int32,
    /// Unsigned 32-bit integer.
    Uint32,
    /// Signed 64-bit integer.
    Int64,
    /// Unsigned 64-bit integer.
    Uint64,
    /// Boolean stored as one byte, 0 or 1.
    Bool,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Int8 | DType::Uint8 | DType::Bool => 1,
            DType::Int16 | DType::Uint16 => 2,
            DType::Float32 | DType::Int32 | DType::Uint32 => 4,
            DType::Float64 | DType::Int64 | DType::Uint64 => 8,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Int8 => "int8",
            DType::Uint8 => "uint8",
            DType::Int16 => "int16",
            DType::Uint16 => "uint16",
            DType::Int32 => "int32",
            DType::Uint32 => "uint32",
            DType::Int64 => "int64",
            DType::Uint64 => "uint64",
            DType::Bool => "bool",
        };
        f.write_str(name)
    }
}

/// Affine quantisation: `real = scale * (q - zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quantization {
    /// Scale factor.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// Name, element type, shape and quantisation of one model input or output.
///
/// A `None` dimension is unknown until the model runs (outputs only: the
/// harness requires every input dimension to be fixed before running).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TensorSpec {
    /// Tensor name as the model file gives it.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions; `null` where not known before running.
    pub shape: Vec<Option<usize>>,
    /// Quantisation parameters of a quantised tensor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<Quantization>,
}

impl TensorSpec {
    /// The fixed dimensions, or `None` if any is unknown.
    pub fn fixed_shape(&self) -> Option<Vec<usize>> {
        self.shape.iter().copied().collect()
    }

    /// Number of bytes of one tensor of this spec, if its shape is fixed.
    pub fn byte_size(&self) -> Option<usize> {
        self.shape.iter().try_fold(self.dtype.size(), |acc, d| {
            d.and_then(|d| acc.checked_mul(d))
        })
    }
}

/// Renders a shape as `1x3x224x224`, with `?` for unknown dimensions.
pub fn format_shape(shape: &[Option<usize>]) -> String {
    if shape.is_empty() {
        return "scalar".to_owned();
    }
    shape
        .iter()
        .map(|d| d.map_or_else(|| "?".to_owned(), |d| d.to_string()))
        .collect::<Vec<_>>()
        .join("x")
}

/// Input shapes given by the user (`NAME:1x3x224x224`), by input name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapeOverrides(BTreeMap<String, Vec<usize>>);

impl ShapeOverrides {
    /// Parses `NAME:D1xD2x...` arguments. A scalar is written `NAME:` (no dimensions).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self> {
        let mut map = BTreeMap::new();
        for arg in args {
            let arg = arg.as_ref();
            let (name, dims) = arg.rsplit_once(':').ok_or_else(|| {
                Error::input(format!(
                    "{} {arg}: expected NAME:DIMS, for example input:1x3x224x224",
                    Field::InputShapes
                ))
            })?;
            if name.is_empty() {
                return Err(Error::input(format!(
                    "{} {arg}: the input name is empty",
                    Field::InputShapes
                )));
            }
            let dims = if dims.is_empty() {
                Vec::new()
            } else {
                dims.split(['x', 'X', ','])
                    .map(|d| {
                        d.trim().parse::<usize>().map_err(|_| {
                            Error::input(format!(
                                "{} {arg}: dimension '{d}' is not a non-negative integer",
                                Field::InputShapes
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            };
            if map.insert(name.to_owned(), dims).is_some() {
                return Err(Error::input(format!(
                    "{}: input '{name}' given twice",
                    Field::InputShapes
                )));
            }
        }
        Ok(Self(map))
    }

    /// These overrides plus `dims` for input `name`, unless it already has one.
    pub fn with_default(mut self, name: &str, dims: Vec<usize>) -> Self {
        self.0.entry(name.to_owned()).or_insert(dims);
        self
    }

    /// The override for an input, if given.
    pub fn get(&self, name: &str) -> Option<&[usize]> {
        self.0.get(name).map(Vec::as_slice)
    }

    /// Names of every overridden input.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Decides the concrete shape of one input from what the model declares
    /// (`None` for a dynamic dimension, or `None` overall when even the rank is
    /// unknown) and the user's override. Engines call this so every engine
    /// reports shape problems the same way.
    pub fn resolve(&self, input: &str, declared: Option<&[Option<usize>]>) -> Result<Vec<usize>> {
        match (self.get(input), declared) {
            (Some(given), Some(declared)) => {
                let compatible = given.len() == declared.len()
                    && given
                        .iter()
                        .zip(declared)
                        .all(|(g, d)| d.is_none_or(|d| d == *g));
                if compatible {
                    Ok(given.to_vec())
                } else {
                    Err(Error::input(format!(
                        "{} {input}:{}: the model declares input '{input}' as {}",
                        Field::InputShapes,
                        format_shape(&given.iter().copied().map(Some).collect::<Vec<_>>()),
                        format_shape(declared)
                    )))
                }
            }
            (Some(given), None) => Ok(given.to_vec()),
            (None, Some(declared)) => declared
                .iter()
                .copied()
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::input(format!(
                        "input '{input}' has dynamic shape {}; give it with {} {input}:{} \
                     or in a parameters file (docs/parameters.md)",
                        format_shape(declared),
                        Field::InputShapes,
                        declared
                            .iter()
                            .map(|d| d.map_or_else(|| "N".to_owned(), |d| d.to_string()))
                            .collect::<Vec<_>>()
                            .join("x")
                    ))
                }),
            (None, None) => Err(Error::input(format!(
                "input '{input}' has unknown rank and shape; give it with {} {input}:D1xD2x...",
                Field::InputShapes
            ))),
        }
    }

    /// Fails if an override names an input the model does not have.
    pub fn check_names<'a>(&self, inputs: impl IntoIterator<Item = &'a str> + Clone) -> Result<()> {
        for name in self.names() {
            if !inputs.clone().into_iter().any(|i| i == name) {
                let known: Vec<&str> = inputs.into_iter().collect();
                return Err(Error::input(format!(
                    "{} {name}: the model has no input '{name}' (inputs: {})",
                    Field::InputShapes,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shapes_and_scalars() {
        let o = ShapeOverrides::parse(&["input:1x3x224x224", "sr:"]).unwrap();
        assert_eq!(o.get("input"), Some(&[1, 3, 224, 224][..]));
        assert_eq!(o.get("sr"), Some(&[][..]));
    }

    #[test]
    fn rejects_bad_overrides() {
        assert!(ShapeOverrides::parse(&["nocolon"]).is_err());
        assert!(ShapeOverrides::parse(&["x:1xa"]).is_err());
        assert!(ShapeOverrides::parse(&["x:1", "x:2"]).is_err());
    }

    #[test]
    fn dynamic_dimension_without_override_names_the_input() {
        let err = ShapeOverrides::default()
            .resolve("audio", Some(&[Some(1), None]))
            .unwrap_err();
        assert!(err.message().contains("'audio'"), "{}", err.message());
        assert!(
            err.message().contains("input_shapes audio:1xN"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn override_must_match_fixed_dimensions() {
        let o = ShapeOverrides::parse(&["a:2x5"]).unwrap();
        assert_eq!(o.resolve("a", Some(&[None, Some(5)])).unwrap(), vec![2, 5]);
        assert!(o.resolve("a", Some(&[Some(1), Some(5)])).is_err());
        assert!(o.resolve("a", Some(&[Some(5)])).is_err());
    }

    #[test]
    fn byte_size_needs_fixed_shape() {
        let spec = TensorSpec {
            name: "x".into(),
            dtype: DType::Float32,
            shape: vec![Some(2), Some(3)],
            quantization: None,
        };
        assert_eq!(spec.byte_size(), Some(24));
        let dynamic = TensorSpec {
            shape: vec![None, Some(3)],
            ..spec
        };
        assert_eq!(dynamic.byte_size(), None);
    }
}
