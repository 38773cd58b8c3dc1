//! A validated view of a TFLite model (schema v3), read in place from the
//! model's bytes.
//!
//! [`Model::parse`] checks every table, vector and index the interpreter
//! will use, so that later accesses cannot go out of bounds.

use crate::error::Error;
use crate::flat::{Table, Vector};
use crate::opcode::Opcode;

/// Most tensors a model may have in this build.
pub const MAX_TENSORS: usize = 256;
/// Most operators a model may have in this build.
pub const MAX_OPS: usize = 256;
/// Highest tensor rank supported.
pub const MAX_RANK: usize = 6;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    /// 32-bit float.
    F32,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Boolean, one byte.
    Bool,
}

impl ElemType {
    fn from_schema(code: i8) -> Option<Self> {
        Some(match code {
            0 => ElemType::F32,
            2 => ElemType::I32,
            3 => ElemType::U8,
            4 => ElemType::I64,
            6 => ElemType::Bool,
            7 => ElemType::I16,
            9 => ElemType::I8,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElemType::I8 | ElemType::U8 | ElemType::Bool => 1,
            ElemType::I16 => 2,
            ElemType::F32 | ElemType::I32 => 4,
            ElemType::I64 => 8,
        }
    }
}

/// A tensor shape of at most [`MAX_RANK`] dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape {
    dims: [usize; MAX_RANK],
    rank: usize,
}

impl Shape {
    /// A shape from dimensions; `None` if the rank is too high.
    pub fn new(dims: &[usize]) -> Option<Self> {
        let mut s = Shape {
            dims: [0; MAX_RANK],
            rank: dims.len(),
        };
        s.dims.get_mut(..dims.len())?.copy_from_slice(dims);
        Some(s)
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Dimension `i`, or 1 past the rank.
    pub fn dim(&self, i: usize) -> usize {
        if i < self.rank { self.dims[i] } else { 1 }
    }

    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.dims().iter().product()
    }
}

/// Per-tensor affine quantisation (`real = scale * (q - zero_point)`), or
/// the first channel's parameters of a per-channel quantised tensor.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct QParams {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// A tensor of subgraph 0.
#[derive(Clone, Copy, Debug)]
pub struct TensorInfo<'a> {
    /// Element type.
    pub dtype: ElemType,
    /// Shape.
    pub shape: Shape,
    /// Quantisation, if any.
    pub quant: Option<QParams>,
    /// Per-channel scales, when the tensor has more than one.
    pub channel_scales: Option<Vector<'a>>,
    /// Constant data, for weights and biases.
    pub data: Option<&'a [u8]>,
    /// Name in the model.
    pub name: &'a str,
}

impl TensorInfo<'_> {
    /// Bytes of the tensor's data.
    pub fn bytes(&self) -> usize {
        self.shape.elements() * self.dtype.size()
    }

    /// Scale of channel `c` (the per-tensor scale when not per-channel).
    pub fn channel_scale(&self, c: usize) -> f32 {
        match self.channel_scales {
            Some(v) => v.f32(c).unwrap_or(0.0),
            None => self.quant.map_or(0.0, |q| q.scale),
        }
    }
}

/// One operator of subgraph 0.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    /// The builtin operator.
    pub opcode: Opcode,
    /// Operator version from the model.
    pub version: i32,
    table: Table<'a>,
    inputs: Vector<'a>,
    outputs: Vector<'a>,
}

impl<'a> Operator<'a> {
    /// Number of input slots (some may be -1, "absent").
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Tensor index of input `i`, or `None` when absent (-1).
    pub fn input(&self, i: usize) -> Option<usize> {
        self.inputs
            .i32(i)
            .ok()
            .and_then(|t| usize::try_from(t).ok())
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of output `i`.
    pub fn output(&self, i: usize) -> Option<usize> {
        self.outputs
            .i32(i)
            .ok()
            .and_then(|t| usize::try_from(t).ok())
    }

    /// The builtin options table, if present.
    pub fn options(&self) -> Result<Option<Table<'a>>, Error> {
        self.table.table(4)
    }
}

/// A parsed and validated TFLite model.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    bytes: &'a [u8],
    tensors: Vector<'a>,
    operators: Vector<'a>,
    opcodes: Vector<'a>,
    buffers: Vector<'a>,
    inputs: Vector<'a>,
    outputs: Vector<'a>,
}

impl<'a> Model<'a> {
    /// Parses and validates a model.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.get(4..8) != Some(b"TFL3") {
            return Err(Error::Malformed("no TFL3 file identifier"));
        }
        let root = Table::root(bytes)?;
        let subgraphs = root.vector(2, 4)?.ok_or(Error::Malformed("no subgraphs"))?;
        if subgraphs.is_empty() {
            return Err(Error::Malformed("no subgraphs"));
        }
        let graph = subgraphs.table(0)?;
        let model = Self {
            bytes,
            tensors: graph
                .vector(0, 4)?
                .ok_or(Error::Malformed("subgraph without tensors"))?,
            inputs: graph
                .vector(1, 4)?
                .ok_or(Error::Malformed("subgraph without inputs"))?,
            outputs: graph
                .vector(2, 4)?
                .ok_or(Error::Malformed("subgraph without outputs"))?,
            operators: graph
                .vector(3, 4)?
                .ok_or(Error::Malformed("subgraph without operators"))?,
            opcodes: root
                .vector(1, 4)?
                .ok_or(Error::Malformed("no operator codes"))?,
            buffers: root.vector(4, 4)?.ok_or(Error::Malformed("no buffers"))?,
        };
        if model.tensors.len() > MAX_TENSORS {
            return Err(Error::TooLarge("more than 256 tensors"));
        }
        if model.operators.len() > MAX_OPS {
            return Err(Error::TooLarge("more than 256 operators"));
        }
        for t in 0..model.tensors.len() {
            model.tensor(t)?;
        }
        for i in 0..model.operators.len() {
            let op = model.operator(i)?;
            for slot in 0..op.input_count() {
                let t = op.inputs.i32(slot)?;
                if t < -1 || t >= model.tensors.len() as i32 {
                    return Err(Error::Malformed("operator input index out of range"));
                }
            }
            for slot in 0..op.output_count() {
                if op.output(slot).is_none_or(|t| t >= model.tensors.len()) {
                    return Err(Error::Malformed("operator output index out of range"));
                }
            }
        }
        for list in [model.inputs, model.outputs] {
            for i in 0..list.len() {
                if usize::try_from(list.i32(i)?)
                    .ok()
                    .is_none_or(|t| t >= model.tensors.len())
                {
                    return Err(Error::Malformed("graph input or output index out of range"));
                }
            }
        }
        Ok(model)
    }

    /// The model's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }

    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// Tensor indices of the graph inputs.
    pub fn inputs(&self) -> impl Iterator<Item = usize> + 'a {
        let v = self.inputs;
        (0..v.len()).filter_map(move |i| v.i32(i).ok().and_then(|t| usize::try_from(t).ok()))
    }

    /// Tensor indices of the graph outputs.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + 'a {
        let v = self.outputs;
        (0..v.len()).filter_map(move |i| v.i32(i).ok().and_then(|t| usize::try_from(t).ok()))
    }

    /// Tensor `index`.
    pub fn tensor(&self, index: usize) -> Result<TensorInfo<'a>, Error> {
        let t = self.tensors.table(index)?;
        let dtype = ElemType::from_schema(t.i8(1, 0)?)
            .ok_or(Error::Malformed("tensor of an unsupported type"))?;
        let mut dims = [0usize; MAX_RANK];
        let rank = match t.vector(0, 4)? {
            Some(v) => {
                if v.len() > MAX_RANK {
                    return Err(Error::TooLarge("a tensor of rank above 6"));
                }
                for (i, d) in dims.iter_mut().enumerate().take(v.len()) {
                    *d = usize::try_from(v.i32(i)?)
                        .map_err(|_| Error::Malformed("negative tensor dimension"))?;
                }
                v.len()
            }
            None => 0,
        };
        let shape = Shape { dims, rank };
        let elements = shape
            .dims()
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.size()))
            .filter(|&n| n <= u32::MAX as usize)
            .ok_or(Error::Malformed("tensor too large"))?;
        let buffer = t.u32(2, 0)? as usize;
        if buffer >= self.buffers.len() {
            return Err(Error::Malformed("tensor buffer index out of range"));
        }
        let data = match self.buffers.table(buffer)?.vector(0, 1)? {
            Some(v) if !v.is_empty() => {
                if v.len() != elements {
                    return Err(Error::Malformed(
                        "constant tensor data does not match its shape",
                    ));
                }
                Some(v.bytes())
            }
            _ => {
                if self.buffers.table(buffer)?.u64(1, 0)? > 1 {
                    return Err(Error::TooLarge("tensor data stored outside the flatbuffer"));
                }
                None
            }
        };
        let (mut quant, mut channel_scales) = (None, None);
        if let Some(q) = t.table(4)?
            && let (Some(scales), Some(zps)) = (q.vector(2, 4)?, q.vector(3, 8)?)
            && !scales.is_empty()
            && scales.len() == zps.len()
        {
            let zero_point = i32::try_from(zps.i64(0)?)
                .map_err(|_| Error::Malformed("zero point out of range"))?;
            quant = Some(QParams {
                scale: scales.f32(0)?,
                zero_point,
            });
            if scales.len() > 1 {
                channel_scales = Some(scales);
            }
        }
        Ok(TensorInfo {
            dtype,
            shape,
            quant,
            channel_scales,
            data,
            name: t.string(3)?.unwrap_or(""),
        })
    }

    /// Operator `index`.
    pub fn operator(&self, index: usize) -> Result<Operator<'a>, Error> {
        let table = self.operators.table(index)?;
        let code_index = table.u32(0, 0)? as usize;
        if code_index >= self.opcodes.len() {
            return Err(Error::Malformed("operator code index out of range"));
        }
        let code = self.opcodes.table(code_index)?;
        let opcode = Opcode(i32::from(code.i8(0, 0)?).max(code.i32(3, 0)?));
        let version = code.i32(2, 1)?;
        let inputs = table
            .vector(1, 4)?
            .ok_or(Error::Malformed("operator without inputs"))?;
        let outputs = table
            .vector(2, 4)?
            .ok_or(Error::Malformed("operator without outputs"))?;
        Ok(Operator {
            opcode,
            version,
            table,
            inputs,
            outputs,
        })
    }
}
