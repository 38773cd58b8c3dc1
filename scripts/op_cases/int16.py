"""int16 cases of operators common in 16x8 models. CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED (int16 activations, int8 weights):
per-channel and per-tensor weights, int64 bias, int32 bias (CONV_2D and
FULLY_CONNECTED, which then accumulate in int32) or none (with
`quantized_bias_type` int32 or not), SAME and VALID padding, strides,
dilation, depth multiplier, groups, fused activations, batches, and input
and output zero points (FULLY_CONNECTED). AVERAGE_POOL_2D and MAX_POOL_2D:
padding, strides, partial windows, fused activations, a zero point."""
import numpy as np

from tflite_builder import AVERAGE_POOL_2D, CONV_2D, FULLY_CONNECTED, INT16, INT32, INT8, MAX_POOL_2D, OPTIONS, ModelBuilder

DEPTHWISE_CONV_2D, DEPTHWISE_OPTIONS, INT64 = 4, 2, 4
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


def weight_quant(channels, per_channel, rng):
    """int8 weight quantisation along axis `channels[1]`: per channel or per tensor."""
    count, axis = channels
    if per_channel:
        return [float(s) for s in rng.uniform(0.002, 0.012, count)], [0] * count, axis
    return 0.0152, 0


def biases(rng, count, kind):
    """A constant bias: int64, int32 or none."""
    if kind is None:
        return None
    values = rng.integers(-2_000_000, 2_000_000, size=count)
    return values.astype("<i8" if kind == INT64 else "<i4").tobytes(), kind


def layer(m, rng, inputs, filt, per_channel, axis, bias, units):
    """Adds the int8 weights (shape `filt`, channels along `axis`) and the bias."""
    w = m.tensor("weights", filt, INT8, weight_quant((filt[axis], axis), per_channel, rng),
                 data=rng.integers(-127, 128, size=filt).astype(np.int8).tobytes())
    inputs.append(w)
    b = biases(rng, units, bias)
    if b is not None:
        inputs.append(m.tensor("bias", [units], b[1], data=b[0]))
    return inputs


def conv(name, inp, filt, out, same=True, stride=(1, 1), dilation=(1, 1), act=NONE, bias=INT64,
         per_channel=True, bias_type=0, out_scale=1 / 512, seed=0):
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.tensor("x", inp, INT16, (1 / 4096, 0))
    inputs = layer(m, rng, [x], filt, per_channel, 0, bias, filt[0])
    y = m.tensor("y", out, INT16, (out_scale, 0))

    def options(b):
        b.StartObject(7)
        b.PrependInt8Slot(0, 0 if same else 1, 0)
        b.PrependInt32Slot(1, stride[1], 0)
        b.PrependInt32Slot(2, stride[0], 0)
        b.PrependInt8Slot(3, act, 0)
        b.PrependInt32Slot(4, dilation[1], 1)
        b.PrependInt32Slot(5, dilation[0], 1)
        b.PrependInt8Slot(6, bias_type, 0)
        return b.EndObject()
    return name, m.finish(CONV_2D, inputs, [y], OPTIONS["conv"], options)


def depthwise(name, inp, filt, out, multiplier=1, same=True, stride=(1, 1), dilation=(1, 1), act=NONE,
              bias=INT64, per_channel=True, out_scale=1 / 1024, seed=0):
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.tensor("x", inp, INT16, (1 / 4096, 0))
    inputs = layer(m, rng, [x], filt, per_channel, 3, bias, filt[3])
    y = m.tensor("y", out, INT16, (out_scale, 0))

    def options(b):
        b.StartObject(7)
        b.PrependInt8Slot(0, 0 if same else 1, 0)
        b.PrependInt32Slot(1, stride[1], 0)
        b.PrependInt32Slot(2, stride[0], 0)
        b.PrependInt32Slot(3, multiplier, 0)
        b.PrependInt8Slot(4, act, 0)
        b.PrependInt32Slot(5, dilation[1], 1)
        b.PrependInt32Slot(6, dilation[0], 1)
        return b.EndObject()
    return name, m.finish(DEPTHWISE_CONV_2D, inputs, [y], DEPTHWISE_OPTIONS, options)


def fully_connected(name, inp, units, act=NONE, bias=INT64, per_channel=False, bias_type=0, keep_dims=False,
                    zero_points=(0, 0), out_scale=1 / 256, in_scale=1 / 4096, seed=0):
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.tensor("x", inp, INT16, (in_scale, zero_points[0]))
    inputs = layer(m, rng, [x], [units, inp[-1]], per_channel, 0, bias, units)
    out = inp[:-1] + [units] if keep_dims else [int(np.prod(inp[:-1])), units]
    y = m.tensor("y", out, INT16, (out_scale, zero_points[1]))

    def options(b):
        b.StartObject(5)
        b.PrependInt8Slot(0, act, 0)
        b.PrependBoolSlot(2, keep_dims, False)
        b.PrependInt8Slot(4, bias_type, 0)
        return b.EndObject()
    return name, m.finish(FULLY_CONNECTED, inputs, [y], OPTIONS["fc"], options)


def pool(name, opcode, inp, out, filt, stride, same=True, act=NONE, q=(1 / 1024, 0), dtype=INT16):
    m = ModelBuilder()
    x = m.tensor("x", inp, dtype, q)
    y = m.tensor("y", out, dtype, q)

    def options(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, 0 if same else 1, 0)
        b.PrependInt32Slot(1, stride[1], 0)
        b.PrependInt32Slot(2, stride[0], 0)
        b.PrependInt32Slot(3, filt[1], 0)
        b.PrependInt32Slot(4, filt[0], 0)
        b.PrependInt8Slot(5, act, 0)
        return b.EndObject()
    return name, m.finish(opcode, [x], [y], OPTIONS["pool"], options)


def models():
    return [
        conv("conv_same_per_channel_int16", [1, 5, 5, 3], [4, 3, 3, 3], [1, 5, 5, 4], seed=1),
        conv("conv_valid_stride_relu_per_tensor_int16", [2, 7, 6, 2], [3, 3, 2, 2], [2, 3, 3, 3], same=False,
             stride=(2, 2), act=RELU, per_channel=False, seed=2),
        conv("conv_dilated_nobias_relu6_int16", [1, 8, 7, 2], [3, 3, 3, 2], [1, 8, 7, 3], dilation=(2, 3),
             act=RELU6, bias=None, out_scale=1 / 2048, seed=3),
        conv("conv_int32_bias_int16", [1, 6, 5, 3], [5, 2, 3, 3], [1, 3, 3, 5], stride=(2, 2), bias=INT32,
             seed=4),
        conv("conv_nobias_int32_bias_type_int16", [1, 5, 5, 3], [4, 3, 3, 3], [1, 3, 3, 4], same=False,
             bias=None, bias_type=INT32, seed=5),
        conv("conv_grouped_relu_n1_to_1_int16", [1, 5, 4, 4], [6, 2, 2, 2], [1, 5, 4, 6], act=RELU_N1_TO_1,
             out_scale=1 / 8192, seed=6),
        depthwise("depthwise_same_relu_per_channel_int16", [1, 6, 6, 4], [1, 3, 3, 4], [1, 6, 6, 4], act=RELU,
                  seed=7),
        depthwise("depthwise_valid_multiplier_stride_int16", [2, 7, 7, 2], [1, 3, 3, 4], [2, 3, 3, 4],
                  multiplier=2, same=False, stride=(2, 2), per_channel=False, seed=8),
        depthwise("depthwise_dilated_nobias_relu6_int16", [1, 7, 8, 3], [1, 3, 2, 3], [1, 7, 8, 3],
                  dilation=(2, 2), act=RELU6, bias=None, out_scale=1 / 4096, seed=9),
        depthwise("depthwise_multiplier3_stride_per_channel_int16", [1, 6, 5, 2], [1, 2, 2, 6], [1, 3, 3, 6],
                  multiplier=3, stride=(2, 2), seed=10),
        fully_connected("fully_connected_per_tensor_int16", [2, 10], 6, seed=11),
        fully_connected("fully_connected_per_channel_relu_int16", [3, 12], 5, act=RELU, per_channel=True, seed=12),
        fully_connected("fully_connected_int32_bias_int16", [2, 16], 4, bias=INT32, per_channel=True, seed=13),
        fully_connected("fully_connected_nobias_int16", [1, 20], 7, bias=None, seed=14),
        fully_connected("fully_connected_nobias_int32_bias_type_int16", [2, 9], 3, bias=None, bias_type=INT32,
                        seed=15),
        fully_connected("fully_connected_keep_dims_relu6_int16", [2, 3, 8], 4, act=RELU6, keep_dims=True,
                        out_scale=1 / 1024, seed=16),
        fully_connected("fully_connected_zero_points_int16", [2, 10], 5, zero_points=(-300, 150), seed=17),
        # The pinned TFLite Micro takes the input and weight scales' product
        # of per-tensor weights in double (a float32 product, as in some
        # versions of GetQuantizedConvolutionMultipler, gives a different
        # 31-bit multiplier, and with int32 accumulation a different output).
        fully_connected("fully_connected_per_tensor_float_scale_product_int16", [16, 64], 32, bias=INT32,
                        in_scale=0.00066096, out_scale=0.0084, seed=18),
        pool("max_pool_same_relu_int16", MAX_POOL_2D, [1, 7, 7, 2], [1, 4, 4, 2], (3, 3), (2, 2), act=RELU,
             q=(1 / 1024, 100)),
        pool("max_pool_valid_int16", MAX_POOL_2D, [2, 6, 5, 3], [2, 3, 2, 3], (2, 2), (2, 2), same=False),
        pool("average_pool_same_int16", AVERAGE_POOL_2D, [1, 7, 6, 2], [1, 3, 2, 2], (3, 4), (3, 3)),
        pool("average_pool_valid_relu6_int16", AVERAGE_POOL_2D, [2, 5, 5, 3], [2, 2, 2, 3], (3, 3), (2, 2),
             same=False, act=RELU6, q=(1 / 4096, 0)),
    ]
