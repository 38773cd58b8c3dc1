"""Unary element-wise operators and activations: ABS, RSQRT, LOG, SQRT,
SQUARE, NEG, EXP, SIN, COS, FLOOR, CEIL, ROUND, LOGICAL_NOT, LEAKY_RELU,
HARD_SWISH and ELU; int16 LOGISTIC and TANH."""
from tflite_builder import FLOAT32, INT8, ModelBuilder

INT16, BOOL = 7, 6
FLOOR, EXP, NEG, SIN, LOG, SQRT, RSQRT, LOGICAL_NOT, SQUARE = 8, 47, 59, 66, 73, 75, 76, 87, 92
LEAKY_RELU, ABS, CEIL, COS, ELU, ROUND, HARD_SWISH = 98, 101, 104, 108, 111, 116, 117
LEAKY_RELU_OPTIONS = 75
INT32, INT64 = 2, 4
RELU, RELU6, CAST, ZEROS_LIKE = 19, 21, 53, 93
L2_NORMALIZATION, LOG_SOFTMAX = 11, 50
QUANTIZE, DEQUANTIZE, UINT8 = 114, 6, 3
SOFTMAX, SOFTMAX_OPTIONS = 25, 9
LOGISTIC, TANH = 14, 28


def cast(src, dst, shape=(3, 7)):
    names = {FLOAT32: "f32", INT8: "int8", INT16: "int16", INT32: "int32"}
    m = ModelBuilder()
    x = m.tensor("x", list(shape), src)
    y = m.tensor("y", list(shape), dst)
    return f"cast_{names[src]}_to_{names[dst]}", m.finish(CAST, [x], [y])


def unary(name, opcode, dtype, in_q=None, out_q=None, shape=(2, 3, 5), options_type=0, options=None,
          out_dtype=None):
    m = ModelBuilder()
    x = m.tensor("x", list(shape), dtype, in_q)
    y = m.tensor("y", list(shape), dtype if out_dtype is None else out_dtype, out_q)
    return name, m.finish(opcode, [x], [y], options_type, options)


def leaky(alpha):
    def options(b):
        b.StartObject(1)
        b.PrependFloat32Slot(0, alpha, 0.0)
        return b.EndObject()
    return options


def models():
    out = []
    for name, op in [("abs", ABS), ("rsqrt", RSQRT), ("log", LOG), ("sqrt", SQRT), ("square", SQUARE),
                     ("neg", NEG), ("exp", EXP), ("sin", SIN), ("cos", COS), ("floor", FLOOR),
                     ("ceil", CEIL), ("round", ROUND), ("hard_swish", HARD_SWISH), ("elu", ELU)]:
        out.append(unary(f"{name}_f32", op, FLOAT32))
    out += [
        # ABS: requantised, same scale, int16 quantised and not.
        unary("abs_rescale_int8", ABS, INT8, (0.05, 7), (0.03, -100)),
        unary("abs_same_scale_int8", ABS, INT8, (0.05, -3), (0.05, 4)),
        unary("abs_rescale_int16", ABS, INT16, (0.002, 0), (0.0015, 0)),
        unary("abs_plain_int16", ABS, INT16),
        # RSQRT: input zero point -128 so that every input is >= 0.
        unary("rsqrt_int8", RSQRT, INT8, (0.03, -128), (0.05, -120)),
        unary("rsqrt_small_scale_int8", RSQRT, INT8, (0.001, -128), (0.7, -128)),
        unary("leaky_relu_f32", LEAKY_RELU, FLOAT32, options_type=LEAKY_RELU_OPTIONS, options=leaky(0.2)),
        unary("leaky_relu_int8", LEAKY_RELU, INT8, (0.05, 3), (0.03, -20),
              options_type=LEAKY_RELU_OPTIONS, options=leaky(0.3)),
        unary("leaky_relu_negative_alpha_int8", LEAKY_RELU, INT8, (0.04, -7), (0.05, 10),
              options_type=LEAKY_RELU_OPTIONS, options=leaky(-0.5)),
        unary("leaky_relu_int16", LEAKY_RELU, INT16, (0.001, 0), (0.0007, 0),
              options_type=LEAKY_RELU_OPTIONS, options=leaky(0.1)),
        unary("hard_swish_int8", HARD_SWISH, INT8, (0.05, -10), (0.03, -60)),
        unary("hard_swish_wide_int8", HARD_SWISH, INT8, (0.1, 5), (0.04, -100)),
        unary("hard_swish_narrow_int8", HARD_SWISH, INT8, (0.01, 20), (0.005, -3)),
        unary("elu_int8", ELU, INT8, (0.05, 10), (0.04, 30)),
    ]
    out += [
        unary("relu_int16", RELU, INT16, (0.001, 0), (0.0006, 0)),
        unary("relu6_int16", RELU6, INT16, (0.0003, 0), (0.0003, 0)),
        unary("relu6_zero_point_int16", RELU6, INT16, (0.0004, -1000), (0.0004, -1000)),
        unary("l2_normalization_f32", L2_NORMALIZATION, FLOAT32, shape=(3, 2, 7)),
        unary("l2_normalization_int8", L2_NORMALIZATION, INT8, (0.05, -4), (1 / 128, 0), shape=(3, 2, 7)),
        unary("l2_normalization_rank2_int8", L2_NORMALIZATION, INT8, (0.3, 11), (1 / 128, 0), shape=(4, 33)),
        unary("log_softmax_f32", LOG_SOFTMAX, FLOAT32, shape=(3, 2, 7)),
        unary("log_softmax_int8", LOG_SOFTMAX, INT8, (0.1, -3), (16 / 256, 127), shape=(3, 2, 7)),
        unary("log_softmax_fine_scale_int8", LOG_SOFTMAX, INT8, (0.02, 5), (16 / 256, 127), shape=(4, 33)),
        unary("log_softmax_coarse_scale_int8", LOG_SOFTMAX, INT8, (0.5, 0), (16 / 256, 127), shape=(2, 9)),
        unary("zeros_like_f32", ZEROS_LIKE, FLOAT32),
        unary("zeros_like_int8", ZEROS_LIKE, INT8, (0.1, 3), (0.1, 3)),
        unary("zeros_like_int32", ZEROS_LIKE, INT32),
        unary("zeros_like_int64", ZEROS_LIKE, INT64),
    ]
    for src, dst in [(INT8, FLOAT32), (INT8, INT32), (INT8, INT16), (INT16, INT8), (INT16, FLOAT32),
                     (INT32, INT8), (INT32, INT16), (INT32, FLOAT32), (FLOAT32, INT32), (FLOAT32, INT8),
                     (FLOAT32, INT16)]:
        out.append(cast(src, dst))
    names = {FLOAT32: "f32", INT8: "int8", INT16: "int16", INT32: "int32", UINT8: "uint8"}
    for src, dst, qi, qo in [
        (FLOAT32, INT16, None, (0.0001, 0)),
        (FLOAT32, INT16, None, (0.00005, 300)),
        (INT16, INT8, (0.0003, 0), (0.008, -5)),
        (INT16, INT16, (0.0003, 0), (0.0007, 0)),
        (INT16, INT32, (0.001, 0), (0.0003, 7)),
        (INT8, INT16, (0.05, 3), (0.0002, 0)),
        (INT8, INT32, (0.05, -9), (0.0013, 2)),
        (INT8, UINT8, (0.05, -3), (0.05, 125)),
        (INT32, INT8, (1e-9, 0), (0.05, 4)),
        (INT32, INT16, (1e-7, 0), (0.01, 0)),
        (UINT8, INT8, (0.05, 131), (0.03, -6)),
    ]:
        name = f"quantize_{names[src]}_to_{names[dst]}" + ("_zero_point" if qo[1] == 300 else "")
        out.append(unary(name, QUANTIZE, src, qi, qo, shape=(3, 11), out_dtype=dst))
    out.append(unary("dequantize_uint8", DEQUANTIZE, UINT8, (0.02, 120), None, shape=(3, 11), out_dtype=FLOAT32))
    out.append(unary("dequantize_int16", DEQUANTIZE, INT16, (0.0004, 0), None, shape=(3, 11), out_dtype=FLOAT32))
    out.append(unary("dequantize_zero_point_int16", DEQUANTIZE, INT16, (0.0004, -77), None, shape=(3, 11),
                     out_dtype=FLOAT32))
    def beta(value):
        def options(b):
            b.StartObject(1)
            b.PrependFloat32Slot(0, value, 0.0)
            return b.EndObject()
        return options
    out += [
        unary("softmax_int16", SOFTMAX, INT16, (0.0005, 0), (1 / 32768, 0), shape=(3, 2, 7),
              options_type=SOFTMAX_OPTIONS, options=beta(1.0)),
        unary("softmax_beta_int16", SOFTMAX, INT16, (0.0002, 0), (1 / 32768, 0), shape=(4, 33),
              options_type=SOFTMAX_OPTIONS, options=beta(0.7)),
        unary("softmax_int8_to_int16", SOFTMAX, INT8, (0.1, -3), (1 / 65536, -32768), shape=(3, 2, 7),
              options_type=SOFTMAX_OPTIONS, options=beta(1.0), out_dtype=INT16),
    ]
    # int16 LOGISTIC and TANH: output scale 2^-15; input scales a power of
    # two taken as is (2^-12, and 2^-11 for TANH), and others rescaled.
    q15 = (2 ** -15, 0)
    cases = (("logistic", LOGISTIC, [("pot", 2 ** -12), ("", 0.0002), ("fine", 3e-5), ("coarse", 2 ** -9)]),
             ("tanh", TANH, [("pot", 2 ** -12), ("pot11", 2 ** -11), ("", 0.0001), ("fine", 2e-5),
                             ("coarse", 2 ** -8)]))
    for name, op, scales in cases:
        for label, scale in scales:
            out.append(unary(f"{name}_{label + '_' if label else ''}int16", op, INT16, (scale, 0), q15,
                             shape=(4, 64)))
    out.append(unary("logical_not_bool", LOGICAL_NOT, BOOL))
    return out
