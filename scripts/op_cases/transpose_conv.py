"""TRANSPOSE_CONV: float32, int8 (per-channel and per-tensor weights,
int32 bias), int16 (int8 weights, int64 bias); SAME and VALID padding,
unequal strides, fused activation, with and without bias."""
import numpy as np

from tflite_builder import FLOAT32, INT16, INT32, INT8, ModelBuilder

TRANSPOSE_CONV, OPTIONS, INT64 = 67, 49, 4


def transpose_conv(name, dtype, inp, filt, out, same, stride, activation=0, bias=True, q=None, seed=0):
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    shape = m.tensor("output_shape", [4], INT32, data=np.array(out, dtype="<i4").tobytes())
    qi, qf, qo = q if q else (None, None, None)
    if dtype == FLOAT32:
        w = rng.uniform(-1, 1, size=filt).astype("<f4").tobytes()
        wt = FLOAT32
    else:
        w = rng.integers(-127, 128, size=filt).astype(np.int8).tobytes()
        wt = INT8
    weights = m.tensor("weights", filt, wt, qf, data=w)
    x = m.tensor("x", inp, dtype, qi)
    inputs = [shape, weights, x]
    if bias:
        if dtype == FLOAT32:
            b, bt = rng.uniform(-1, 1, size=out[3]).astype("<f4").tobytes(), FLOAT32
        elif dtype == INT8:
            b, bt = rng.integers(-3000, 3000, size=out[3]).astype("<i4").tobytes(), INT32
        else:
            b, bt = rng.integers(-200000, 200000, size=out[3]).astype("<i8").tobytes(), INT64
        inputs.append(m.tensor("bias", [out[3]], bt, data=b))
    y = m.tensor("y", out, dtype, qo)

    def options(b):
        b.StartObject(5)
        b.PrependInt8Slot(0, 0 if same else 1, 0)
        b.PrependInt32Slot(1, stride[1], 0)
        b.PrependInt32Slot(2, stride[0], 0)
        b.PrependInt8Slot(3, activation, 0)
        return b.EndObject()
    return name, m.finish(TRANSPOSE_CONV, inputs, [y], OPTIONS, options)


def models():
    per_channel = ([0.004, 0.007, 0.0021, 0.011], [0, 0, 0, 0], 0)
    q8 = ((0.03, -5), per_channel, (0.09, 6))
    q8t = ((0.02, 9), (0.006, 0), (0.05, -11))
    q16 = ((1 / 2048, 0), ([0.003, 0.0045, 0.0021], [0, 0, 0], 0), (1 / 256, 0))
    return [
        transpose_conv("transpose_conv_same_f32", FLOAT32, [1, 4, 5, 3], [4, 3, 3, 3], [1, 8, 10, 4], True, (2, 2)),
        transpose_conv("transpose_conv_valid_nobias_f32", FLOAT32, [2, 3, 3, 2], [3, 2, 3, 2], [2, 6, 5, 3], False,
                       (2, 1), bias=False),
        transpose_conv("transpose_conv_relu_f32", FLOAT32, [1, 3, 4, 2], [2, 3, 2, 2], [1, 6, 8, 2], True, (2, 2), 1),
        transpose_conv("transpose_conv_same_per_channel_int8", INT8, [1, 4, 5, 3], [4, 3, 3, 3], [1, 8, 10, 4], True,
                       (2, 2), q=q8, seed=1),
        transpose_conv("transpose_conv_valid_relu_int8", INT8, [2, 3, 3, 2], [3, 2, 3, 2], [2, 6, 5, 3], False,
                       (2, 1), 1, q=q8t, seed=2),
        transpose_conv("transpose_conv_nobias_int8", INT8, [1, 5, 3, 4], [4, 2, 2, 4], [1, 10, 6, 4], True, (2, 2),
                       bias=False, q=q8, seed=3),
        transpose_conv("transpose_conv_same_int16", INT16, [1, 4, 3, 2], [3, 3, 3, 2], [1, 8, 6, 3], True, (2, 2),
                       q=q16, seed=4),
        transpose_conv("transpose_conv_nobias_int16", INT16, [1, 3, 3, 2], [3, 2, 2, 2], [1, 6, 6, 3], False, (2, 2),
                       bias=False, q=q16, seed=5),
        transpose_conv("transpose_conv_relu6_int16", INT16, [1, 4, 3, 2], [3, 3, 3, 2], [1, 8, 6, 3], True, (2, 2),
                       3, q=q16, seed=6),
    ]
