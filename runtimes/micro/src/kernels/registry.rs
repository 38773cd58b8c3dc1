//! The operators vlab-micro implements: one line each. A line names the
//! builtin operator (or a custom operator's code) and the type that
//! implements [`Op`] for it; this macro makes the prepared-operator enum
//! and the two dispatches from the list.

use super::{EvalCtx, Op, PrepareCtx};
use crate::error::Error;
use crate::opcode::Opcode;

use super::{
    binary_ops, control, conv, elementwise, fully_connected, pool, quantize, shape_ops, softmax,
    variables,
};

operators! {
    builtin {
        ADD => elementwise::Binary,
        ADD_N => binary_ops::AddN,
        ASSIGN_VARIABLE => variables::AssignVariable,
        AVERAGE_POOL_2D => pool::Pool,
        CALL_ONCE => control::CallOnce,
        CONCATENATION => shape_ops::Concatenation,
        CONV_2D => conv::Conv2d,
        DEPTHWISE_CONV_2D => conv::DepthwiseConv2d,
        DEQUANTIZE => quantize::Dequantize,
        DIV => binary_ops::Arith,
        EQUAL => binary_ops::Compare,
        FLOOR_DIV => binary_ops::Arith,
        FLOOR_MOD => binary_ops::Arith,
        FULLY_CONNECTED => fully_connected::FullyConnected,
        GREATER => binary_ops::Compare,
        GREATER_EQUAL => binary_ops::Compare,
        IF => control::If,
        LESS => binary_ops::Compare,
        LESS_EQUAL => binary_ops::Compare,
        LOGICAL_AND => binary_ops::Logical,
        LOGICAL_OR => binary_ops::Logical,
        LOGISTIC => elementwise::Unary,
        MAXIMUM => binary_ops::MaxMin,
        MAX_POOL_2D => pool::Pool,
        MEAN => shape_ops::Mean,
        MINIMUM => binary_ops::MaxMin,
        MUL => elementwise::Binary,
        NOT_EQUAL => binary_ops::Compare,
        PACK => shape_ops::Pack,
        PAD => shape_ops::Pad,
        PRELU => binary_ops::Prelu,
        QUANTIZE => quantize::Quantize,
        READ_VARIABLE => variables::ReadVariable,
        RELU => elementwise::Unary,
        RELU6 => elementwise::Unary,
        RESHAPE => shape_ops::Reshape,
        SELECT_V2 => binary_ops::SelectV2,
        SHAPE => shape_ops::ShapeOf,
        SOFTMAX => softmax::Softmax,
        SQUARED_DIFFERENCE => binary_ops::Arith,
        STRIDED_SLICE => shape_ops::StridedSlice,
        SUB => elementwise::Binary,
        TANH => elementwise::Unary,
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
