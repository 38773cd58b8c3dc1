"""Unary element-wise operators and activations: ABS, RSQRT, LOG, SQRT,
SQUARE, NEG, EXP, SIN, COS, FLOOR, CEIL, ROUND, LOGICAL_NOT, LEAKY_RELU,
HARD_SWISH and ELU."""
from tflite_builder import FLOAT32, INT8, ModelBuilder

INT16, BOOL = 7, 6
FLOOR, EXP, NEG, SIN, LOG, SQRT, RSQRT, LOGICAL_NOT, SQUARE = 8, 47, 59, 66, 73, 75, 76, 87, 92
LEAKY_RELU, ABS, CEIL, COS, ELU, ROUND, HARD_SWISH = 98, 101, 104, 108, 111, 116, 117
LEAKY_RELU_OPTIONS = 75


def unary(name, opcode, dtype, in_q=None, out_q=None, shape=(2, 3, 5), options_type=0, options=None):
    m = ModelBuilder()
    x = m.tensor("x", list(shape), dtype, in_q)
    y = m.tensor("y", list(shape), dtype, out_q)
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
    return out
