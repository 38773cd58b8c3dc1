"""AVERAGE_POOL_2D, int8: channel counts that are and are not a multiple of
vlab-micro's eight-channel groups, padded windows (SAME), VALID, strides and
fused activations."""
from op_cases.int16 import pool
from tflite_builder import AVERAGE_POOL_2D, INT8

RELU, RELU6 = 1, 3


def models():
    return [
        pool("average_pool_same_11_channels_int8", AVERAGE_POOL_2D, [1, 7, 6, 11], [1, 3, 2, 11], (3, 4),
             (3, 3), q=(1 / 32, -5), dtype=INT8),
        pool("average_pool_valid_relu6_19_channels_int8", AVERAGE_POOL_2D, [2, 5, 5, 19], [2, 2, 2, 19],
             (3, 3), (2, 2), same=False, act=RELU6, q=(1 / 16, 10), dtype=INT8),
        pool("average_pool_same_stride1_relu_int8", AVERAGE_POOL_2D, [1, 9, 9, 8], [1, 9, 9, 8], (3, 3),
             (1, 1), act=RELU, q=(1 / 64, -128), dtype=INT8),
    ]
