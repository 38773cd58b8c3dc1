//! A validated view of a TFLite model (schema v3), read in place from the
//! model's bytes.
//!
//! [`Model::parse`] checks every table, vector and index the interpreter
//! will use, so that later accesses cannot go out of bounds.

use crate::error::{Error, Name};
use crate::flat::{Table, Vector};
use crate::opcode::Opcode;

/// Highest tensor rank supported.
pub const MAX_RANK: usize = 6;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    /// 32-bit float.
    F32,
    /// 16-bit IEEE float: constant weights only, expanded to float32 when
    /// the model is prepared.
    F16,
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
    /// A handle to a resource variable (an `i32` id in the arena).
    Resource,
}

impl ElemType {
    /// The type of schema code `code`, or the schema's name of a type this
    /// build does not support.
    fn from_schema(code: i8) -> Result<Self, &'static str> {
        Ok(match code {
            0 => ElemType::F32,
            1 => ElemType::F16,
            2 => ElemType::I32,
            3 => ElemType::U8,
            4 => ElemType::I64,
            6 => ElemType::Bool,
            7 => ElemType::I16,
            9 => ElemType::I8,
            13 => ElemType::Resource,
            5 => return Err("STRING"),
            8 => return Err("COMPLEX64"),
            10 => return Err("FLOAT64"),
            11 => return Err("COMPLEX128"),
            12 => return Err("UINT64"),
            14 => return Err("VARIANT"),
            15 => return Err("UINT32"),
            16 => return Err("UINT16"),
            17 => return Err("INT4"),
            18 => return Err("BFLOAT16"),
            _ => return Err("an unknown type"),
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElemType::I8 | ElemType::U8 | ElemType::Bool => 1,
            ElemType::I16 | ElemType::F16 => 2,
            ElemType::F32 | ElemType::I32 | ElemType::Resource => 4,
            ElemType::I64 => 8,
        }
    }

    /// The schema's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ElemType::F32 => "FLOAT32",
            ElemType::F16 => "FLOAT16",
            ElemType::I8 => "INT8",
            ElemType::U8 => "UINT8",
            ElemType::I16 => "INT16",
            ElemType::I32 => "INT32",
            ElemType::I64 => "INT64",
            ElemType::Bool => "BOOL",
            ElemType::Resource => "RESOURCE",
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

/// A tensor of a subgraph.
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
    /// Whether the tensor is a variable: state kept across invocations
    /// (as SVDF and LSTM state tensors are), zero at load.
    pub is_variable: bool,
    /// The axis of per-channel quantisation.
    pub quantized_dimension: usize,
    /// The sparsity table of a sparse constant (for DENSIFY).
    pub sparsity: Option<Table<'a>>,
}

impl TensorInfo<'_> {
    /// A scalar float32 with nothing else: what an absent tensor reads as.
    pub fn empty() -> Self {
        TensorInfo {
            dtype: ElemType::F32,
            shape: Shape::default(),
            quant: None,
            channel_scales: None,
            data: None,
            name: "",
            is_variable: false,
            quantized_dimension: 0,
            sparsity: None,
        }
    }

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

/// One operator of a subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    /// The builtin operator.
    pub opcode: Opcode,
    /// Operator version from the model.
    pub version: i32,
    /// The custom code of a `CUSTOM` operator.
    pub custom_code: Option<&'a str>,
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

    /// Tensor indices of the inputs that are present.
    pub fn inputs(&self) -> impl Iterator<Item = usize> + 'a {
        indices(self.inputs)
    }

    /// Tensor indices of the outputs.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + 'a {
        indices(self.outputs)
    }

    /// The builtin options table, if present.
    pub fn options(&self) -> Result<Option<Table<'a>>, Error> {
        self.table.table(4)
    }

    /// The flexbuffer of a custom operator's options, if present.
    pub fn custom_options(&self) -> Result<Option<&'a [u8]>, Error> {
        Ok(self.table.vector(5, 1)?.map(|v| v.bytes()))
    }
}

/// The non-negative indices of an index vector.
fn indices(v: Vector<'_>) -> impl Iterator<Item = usize> + '_ {
    (0..v.len()).filter_map(move |i| v.i32(i).ok().and_then(|t| usize::try_from(t).ok()))
}

/// One subgraph: its tensors, operators and graph inputs and outputs.
#[derive(Clone, Copy, Debug)]
pub struct Subgraph<'a> {
    model: Model<'a>,
    tensors: Vector<'a>,
    operators: Vector<'a>,
    inputs: Vector<'a>,
    outputs: Vector<'a>,
}

impl<'a> Subgraph<'a> {
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
        indices(self.inputs)
    }

    /// Tensor indices of the graph outputs.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + 'a {
        indices(self.outputs)
    }

    /// Tensor `index`. A tensor of a type vlab-micro does not support is
    /// [`Error::UnsupportedType`], naming it.
    pub fn tensor(&self, index: usize) -> Result<TensorInfo<'a>, Error> {
        let t = self.tensors.table(index)?;
        let name = t.string(3)?.unwrap_or("");
        let dtype = ElemType::from_schema(t.i8(1, 0)?).map_err(|dtype| Error::UnsupportedType {
            tensor: index,
            name: Name::new(name),
            dtype,
        })?;
        self.model.tensor_info(t, dtype, name)
    }

    /// Operator `index`.
    pub fn operator(&self, index: usize) -> Result<Operator<'a>, Error> {
        self.model.operator_info(self.operators.table(index)?)
    }

    /// Checks the tables, vectors and indices the interpreter will use;
    /// tensor types are checked when a tensor is used.
    fn validate(&self) -> Result<(), Error> {
        let tensors = self.tensors.len();
        for t in 0..tensors {
            match self.tensor(t) {
                Ok(_) | Err(Error::UnsupportedType { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for i in 0..self.operators.len() {
            let op = self.operator(i)?;
            for slot in 0..op.input_count() {
                let t = op.inputs.i32(slot)?;
                if t < -1 || t >= tensors as i32 {
                    return Err(Error::Malformed("operator input index out of range"));
                }
            }
            for slot in 0..op.output_count() {
                if op.output(slot).is_none_or(|t| t >= tensors) {
                    return Err(Error::Malformed("operator output index out of range"));
                }
            }
        }
        for list in [self.inputs, self.outputs] {
            for i in 0..list.len() {
                if usize::try_from(list.i32(i)?)
                    .ok()
                    .is_none_or(|t| t >= tensors)
                {
                    return Err(Error::Malformed("graph input or output index out of range"));
                }
            }
        }
        Ok(())
    }
}

/// A parsed and validated TFLite model.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    bytes: &'a [u8],
    subgraphs: Vector<'a>,
    opcodes: Vector<'a>,
    buffers: Vector<'a>,
}

impl<'a> Model<'a> {
    /// Parses and validates a model: every subgraph, tensor, buffer,
    /// operator and index the interpreter will touch.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.get(4..8) != Some(b"TFL3") {
            return Err(Error::Malformed("no TFL3 file identifier"));
        }
        let root = Table::root(bytes)?;
        let subgraphs = root.vector(2, 4)?.ok_or(Error::Malformed("no subgraphs"))?;
        if subgraphs.is_empty() {
            return Err(Error::Malformed("no subgraphs"));
        }
        let model = Self {
            bytes,
            subgraphs,
            opcodes: root
                .vector(1, 4)?
                .ok_or(Error::Malformed("no operator codes"))?,
            buffers: root.vector(4, 4)?.ok_or(Error::Malformed("no buffers"))?,
        };
        for s in 0..subgraphs.len() {
            model.subgraph(s)?.validate()?;
        }
        Ok(model)
    }

    /// The model's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of subgraphs (at least one).
    pub fn subgraph_count(&self) -> usize {
        self.subgraphs.len()
    }

    /// Subgraph `index`; subgraph 0 is the one that runs.
    pub fn subgraph(&self, index: usize) -> Result<Subgraph<'a>, Error> {
        let graph = self.subgraphs.table(index)?;
        let need = |v: Option<Vector<'a>>, what| v.ok_or(Error::Malformed(what));
        Ok(Subgraph {
            model: *self,
            tensors: need(graph.vector(0, 4)?, "subgraph without tensors")?,
            inputs: need(graph.vector(1, 4)?, "subgraph without inputs")?,
            outputs: need(graph.vector(2, 4)?, "subgraph without outputs")?,
            operators: need(graph.vector(3, 4)?, "subgraph without operators")?,
        })
    }

    /// Subgraph 0, the one that runs.
    pub fn main(&self) -> Subgraph<'a> {
        // Model::parse read subgraph 0 successfully.
        self.subgraph(0).unwrap_or(Subgraph {
            model: *self,
            tensors: Vector::EMPTY,
            operators: Vector::EMPTY,
            inputs: Vector::EMPTY,
            outputs: Vector::EMPTY,
        })
    }

    /// Number of tensors of subgraph 0.
    pub fn tensor_count(&self) -> usize {
        self.main().tensor_count()
    }

    /// Number of operators of subgraph 0.
    pub fn operator_count(&self) -> usize {
        self.main().operator_count()
    }

    /// Number of operators of every subgraph.
    pub fn total_operator_count(&self) -> usize {
        (0..self.subgraph_count())
            .filter_map(|s| self.subgraph(s).ok())
            .map(|g| g.operator_count())
            .sum()
    }

    /// Tensor indices of the graph inputs of subgraph 0.
    pub fn inputs(&self) -> impl Iterator<Item = usize> + 'a {
        let main = self.main();
        indices(main.inputs)
    }

    /// Tensor indices of the graph outputs of subgraph 0.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + 'a {
        let main = self.main();
        indices(main.outputs)
    }

    /// Tensor `index` of subgraph 0.
    pub fn tensor(&self, index: usize) -> Result<TensorInfo<'a>, Error> {
        self.main().tensor(index)
    }

    /// Operator `index` of subgraph 0.
    pub fn operator(&self, index: usize) -> Result<Operator<'a>, Error> {
        self.main().operator(index)
    }

    fn tensor_info(
        &self,
        t: Table<'a>,
        dtype: ElemType,
        name: &'a str,
    ) -> Result<TensorInfo<'a>, Error> {
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
        let sparsity = t.table(6)?;
        let buffer = t.u32(2, 0)? as usize;
        if buffer >= self.buffers.len() {
            return Err(Error::Malformed("tensor buffer index out of range"));
        }
        let data = match self.buffers.table(buffer)?.vector(0, 1)? {
            Some(v) if !v.is_empty() => {
                // A sparse constant holds only its non-zero blocks.
                if v.len() != elements && sparsity.is_none() {
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
        let (mut quant, mut channel_scales, mut quantized_dimension) = (None, None, 0);
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
            quantized_dimension = usize::try_from(q.i32(6, 0)?)
                .ok()
                .filter(|&d| d < rank.max(1))
                .ok_or(Error::Malformed("quantized dimension out of range"))?;
        }
        Ok(TensorInfo {
            dtype,
            shape,
            quant,
            channel_scales,
            data,
            name,
            is_variable: t.u8(5, 0)? != 0,
            quantized_dimension,
            sparsity,
        })
    }

    fn operator_info(&self, table: Table<'a>) -> Result<Operator<'a>, Error> {
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
            custom_code: code.string(1)?,
            table,
            inputs,
            outputs,
        })
    }
}
