//! The operators vlab-micro implements: one line each. A line names the
//! builtin operator (or a custom operator's code) and the type that
//! implements [`Op`] for it; this macro makes the prepared-operator enum
//! and the two dispatches from the list.

use super::{EvalCtx, Op, PrepareCtx};
use crate::error::Error;
use crate::opcode::Opcode;

use super::{
    activations, control, conv, elementwise, fully_connected, normalization, pool, quantize,
    shape_ops, unary_math, variables,
};

operators! {
    builtin {
        ABS => unary_math::Math,
        ADD => elementwise::Binary,
        ASSIGN_VARIABLE => variables::AssignVariable,
        AVERAGE_POOL_2D => pool::Pool,
        CALL_ONCE => control::CallOnce,
        CAST => unary_math::Cast,
        CEIL => unary_math::Math,
        CONCATENATION => shape_ops::Concatenation,
        CONV_2D => conv::Conv2d,
        COS => unary_math::Math,
        DEPTHWISE_CONV_2D => conv::DepthwiseConv2d,
        DEQUANTIZE => quantize::Dequantize,
        ELU => activations::Elu,
        EXP => unary_math::Math,
        FLOOR => unary_math::Math,
        FULLY_CONNECTED => fully_connected::FullyConnected,
        HARD_SWISH => activations::HardSwish,
        IF => control::If,
        L2_NORMALIZATION => normalization::L2Norm,
        LEAKY_RELU => activations::LeakyRelu,
        LOG => unary_math::Math,
        LOG_SOFTMAX => normalization::LogSoftmax,
        LOGICAL_NOT => unary_math::Math,
        LOGISTIC => elementwise::Unary,
        MAX_POOL_2D => pool::Pool,
        MEAN => shape_ops::Mean,
        MUL => elementwise::Binary,
        NEG => unary_math::Math,
        PACK => shape_ops::Pack,
        PAD => shape_ops::Pad,
        QUANTIZE => quantize::Quantize,
        READ_VARIABLE => variables::ReadVariable,
        RELU => activations::Relu,
        RELU6 => activations::Relu,
        RESHAPE => shape_ops::Reshape,
        ROUND => unary_math::Math,
        RSQRT => unary_math::Math,
        SHAPE => shape_ops::ShapeOf,
        SIN => unary_math::Math,
        SOFTMAX => normalization::Softmax,
        SQRT => unary_math::Math,
        SQUARE => unary_math::Math,
        STRIDED_SLICE => shape_ops::StridedSlice,
        TANH => elementwise::Unary,
        VAR_HANDLE => variables::VarHandle,
        WHILE => control::While,
        ZEROS_LIKE => unary_math::ZerosLike,
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
