//! The operators vlab-micro implements: one line each. A line names the
//! builtin operator (or a custom operator's code) and the type that
//! implements [`Op`] for it; this macro makes the prepared-operator enum
//! and the two dispatches from the list.

use super::{EvalCtx, Op, PrepareCtx};
use crate::error::Error;
use crate::opcode::Opcode;

use super::{
    control, conv, elementwise, fully_connected, gather, layout, pool, quantize, shape_ops,
    softmax, variables,
};

operators! {
    builtin {
        ADD => elementwise::Binary,
        ASSIGN_VARIABLE => variables::AssignVariable,
        AVERAGE_POOL_2D => pool::Pool,
        CALL_ONCE => control::CallOnce,
        CONCATENATION => shape_ops::Concatenation,
        CONV_2D => conv::Conv2d,
        DEPTHWISE_CONV_2D => conv::DepthwiseConv2d,
        DEQUANTIZE => quantize::Dequantize,
        EXPAND_DIMS => layout::ExpandDims,
        FULLY_CONNECTED => fully_connected::FullyConnected,
        GATHER => gather::Gather,
        IF => control::If,
        LOGISTIC => elementwise::Unary,
        MAX_POOL_2D => pool::Pool,
        MEAN => shape_ops::Mean,
        MUL => elementwise::Binary,
        PACK => shape_ops::Pack,
        PAD => shape_ops::Pad,
        QUANTIZE => quantize::Quantize,
        READ_VARIABLE => variables::ReadVariable,
        REDUCE_MAX => shape_ops::ReduceMax,
        REDUCE_MIN => shape_ops::ReduceMin,
        RELU => elementwise::Unary,
        RELU6 => elementwise::Unary,
        RESHAPE => shape_ops::Reshape,
        SHAPE => shape_ops::ShapeOf,
        SLICE => layout::Slice,
        SOFTMAX => softmax::Softmax,
        SPLIT => layout::Split,
        SPLIT_V => layout::SplitV,
        SQUEEZE => layout::Squeeze,
        SUM => shape_ops::Sum,
        STRIDED_SLICE => shape_ops::StridedSlice,
        TANH => elementwise::Unary,
        TRANSPOSE => layout::Transpose,
        UNPACK => layout::Unpack,
        VAR_HANDLE => variables::VarHandle,
        WHILE => control::While,
    }
    custom {
    }
}

/// Operators whose output is computed once at prepare time when every
/// input is a constant (they call [`PrepareCtx::fold`]).
pub fn folds(op: Opcode) -> bool {
    matches!(op, Opcode::DEQUANTIZE | Opcode::DENSIFY)
}

/// The builtin operators and custom codes vlab-micro implements.
pub struct Implemented {
    /// Builtin operators.
    pub builtin: &'static [Opcode],
    /// Custom operator codes.
    pub custom: &'static [&'static str],
}
