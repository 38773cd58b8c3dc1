//! The operators vlab-micro implements: one line each. A line names the
//! builtin operator (or a custom operator's code) and the type that
//! implements [`Op`] for it; this macro makes the prepared-operator enum
//! and the two dispatches from the list.

use super::{
    EvalCtx, Op, PrepareCtx, arg_minmax, broadcast, cumsum, detection_postprocess,
    dynamic_update_slice, embedding_lookup, fill, gather_nd, mirror_pad, prepare_kept, resize,
    reverse, space_batch, space_depth,
};
use crate::error::Error;
use crate::opcode::Opcode;

use super::{
    activations, batch_matmul, binary_ops, control, conv, densify, elementwise, fully_connected,
    gather, layout, lstm, normalization, pool, quantize, shape_ops, svdf, transpose_conv,
    unary_math, variables,
};

operators! {
    builtin {
        ABS => unary_math::Math,
        ADD => elementwise::Binary,
        ADD_N => binary_ops::AddN,
        ARG_MAX => arg_minmax::ArgMinMax,
        ARG_MIN => arg_minmax::ArgMinMax,
        ASSIGN_VARIABLE => variables::AssignVariable,
        AVERAGE_POOL_2D => pool::Pool,
        BATCH_MATMUL => batch_matmul::BatchMatMul,
        BATCH_TO_SPACE_ND => space_batch::BatchToSpaceNd,
        BROADCAST_ARGS => broadcast::BroadcastArgs,
        BROADCAST_TO => broadcast::BroadcastTo,
        CALL_ONCE => control::CallOnce,
        CAST => unary_math::Cast,
        CEIL => unary_math::Math,
        CONCATENATION => shape_ops::Concatenation,
        CONV_2D => conv::Conv2d,
        COS => unary_math::Math,
        CUMSUM => cumsum::Cumsum,
        DENSIFY => densify::Densify,
        DEPTHWISE_CONV_2D => conv::DepthwiseConv2d,
        DEPTH_TO_SPACE => space_depth::DepthToSpace,
        DEQUANTIZE => quantize::Dequantize,
        DIV => binary_ops::Arith,
        DYNAMIC_UPDATE_SLICE => dynamic_update_slice::DynamicUpdateSlice,
        ELU => activations::Elu,
        EMBEDDING_LOOKUP => embedding_lookup::EmbeddingLookup,
        EQUAL => binary_ops::Compare,
        EXP => unary_math::Math,
        EXPAND_DIMS => layout::ExpandDims,
        FILL => fill::Fill,
        FLOOR => unary_math::Math,
        FLOOR_DIV => binary_ops::Arith,
        FLOOR_MOD => binary_ops::Arith,
        FULLY_CONNECTED => fully_connected::FullyConnected,
        GATHER => gather::Gather,
        GATHER_ND => gather_nd::GatherNd,
        GREATER => binary_ops::Compare,
        GREATER_EQUAL => binary_ops::Compare,
        HARD_SWISH => activations::HardSwish,
        IF => control::If,
        L2_NORMALIZATION => normalization::L2Norm,
        L2_POOL_2D => pool::Pool,
        LEAKY_RELU => activations::LeakyRelu,
        LESS => binary_ops::Compare,
        LESS_EQUAL => binary_ops::Compare,
        LOG => unary_math::Math,
        LOGICAL_AND => binary_ops::Logical,
        LOGICAL_NOT => unary_math::Math,
        LOGICAL_OR => binary_ops::Logical,
        LOGISTIC => elementwise::Unary,
        LOG_SOFTMAX => normalization::LogSoftmax,
        MAXIMUM => binary_ops::MaxMin,
        MAX_POOL_2D => pool::Pool,
        MEAN => shape_ops::Mean,
        MINIMUM => binary_ops::MaxMin,
        MIRROR_PAD => mirror_pad::MirrorPad,
        MUL => elementwise::Binary,
        NEG => unary_math::Math,
        NOT_EQUAL => binary_ops::Compare,
        PACK => shape_ops::Pack,
        PAD => shape_ops::Pad,
        PADV2 => shape_ops::Pad,
        PRELU => binary_ops::Prelu,
        QUANTIZE => quantize::Quantize,
        READ_VARIABLE => variables::ReadVariable,
        REDUCE_MAX => shape_ops::ReduceMax,
        REDUCE_MIN => shape_ops::ReduceMin,
        RELU => activations::Relu,
        RELU6 => activations::Relu,
        RESHAPE => shape_ops::Reshape,
        RESIZE_BILINEAR => resize::ResizeBilinear,
        RESIZE_NEAREST_NEIGHBOR => resize::ResizeNearestNeighbor,
        REVERSE_V2 => reverse::ReverseV2,
        ROUND => unary_math::Math,
        RSQRT => unary_math::Math,
        SELECT_V2 => binary_ops::SelectV2,
        SHAPE => shape_ops::ShapeOf,
        SIN => unary_math::Math,
        SLICE => layout::Slice,
        SOFTMAX => normalization::Softmax,
        SPACE_TO_BATCH_ND => space_batch::SpaceToBatchNd,
        SPACE_TO_DEPTH => space_depth::SpaceToDepth,
        SPLIT => layout::Split,
        SPLIT_V => layout::SplitV,
        SQRT => unary_math::Math,
        SQUARE => unary_math::Math,
        SQUARED_DIFFERENCE => binary_ops::Arith,
        SQUEEZE => layout::Squeeze,
        STRIDED_SLICE => shape_ops::StridedSlice,
        SUB => elementwise::Binary,
        SUM => shape_ops::Sum,
        SVDF => svdf::Svdf,
        TANH => elementwise::Unary,
        TRANSPOSE => layout::Transpose,
        TRANSPOSE_CONV => transpose_conv::TransposeConv,
        UNIDIRECTIONAL_SEQUENCE_LSTM => lstm::Lstm,
        UNPACK => layout::Unpack,
        VAR_HANDLE => variables::VarHandle,
        WHILE => control::While,
        ZEROS_LIKE => unary_math::ZerosLike,
    }
    custom {
        TFLite_Detection_PostProcess => detection_postprocess::DetectionPostProcess,
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
