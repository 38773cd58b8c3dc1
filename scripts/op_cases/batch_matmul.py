"""BATCH_MATMUL: float32, int8, int16; adj_x / adj_y; broadcast batch
dimensions of different ranks; a constant right operand."""
import numpy as np

from tflite_builder import FLOAT32, INT16, INT8, ModelBuilder

BATCH_MATMUL, OPTIONS = 126, 101


def batch_matmul(name, dtype, lhs, rhs, out, adj_x=False, adj_y=False, q=None, constant_rhs=False):
    m = ModelBuilder()
    ql, qr, qo = q if q else (None, None, None)
    a = m.tensor("lhs", lhs, dtype, ql)
    data = None
    if constant_rhs:
        rng = np.random.default_rng(7)
        data = rng.integers(-128, 128, size=rhs).astype(np.int8).tobytes() if dtype == INT8 else \
            rng.uniform(-1, 1, size=rhs).astype("<f4").tobytes()
    c = m.tensor("rhs", rhs, dtype, qr, data=data)
    y = m.tensor("y", out, dtype, qo)

    def options(b):
        b.StartObject(3)
        b.PrependBoolSlot(0, adj_x, False)
        b.PrependBoolSlot(1, adj_y, False)
        return b.EndObject()
    return name, m.finish(BATCH_MATMUL, [a, c], [y], OPTIONS, options)


def models():
    q8 = ((0.02, 3), (0.015, -7), (0.11, -4))
    q8b = ((0.03, -20), (0.01, 5), (0.09, 11))
    q16 = ((1 / 4096, 0), (1 / 2048, 0), (1 / 512, 0))
    return [
        batch_matmul("batch_matmul_broadcast_f32", FLOAT32, [2, 3, 4, 5], [1, 5, 6], [2, 3, 4, 6]),
        batch_matmul("batch_matmul_adj_x_f32", FLOAT32, [3, 5, 4], [3, 5, 2], [3, 4, 2], adj_x=True),
        batch_matmul("batch_matmul_adj_y_f32", FLOAT32, [2, 1, 3, 5], [1, 4, 6, 5], [2, 4, 3, 6], adj_y=True),
        batch_matmul("batch_matmul_adj_xy_f32", FLOAT32, [5, 3], [2, 4, 5], [2, 3, 4], adj_x=True, adj_y=True),
        batch_matmul("batch_matmul_const_rhs_f32", FLOAT32, [2, 3, 7], [7, 5], [2, 3, 5], constant_rhs=True),
        batch_matmul("batch_matmul_broadcast_int8", INT8, [2, 3, 4, 5], [1, 5, 6], [2, 3, 4, 6], q=q8),
        batch_matmul("batch_matmul_adj_xy_int8", INT8, [2, 1, 9, 3], [1, 4, 6, 9], [2, 4, 3, 6], True, True, q8b),
        batch_matmul("batch_matmul_const_rhs_int8", INT8, [3, 4, 11], [11, 5], [3, 4, 5], q=q8, constant_rhs=True),
        batch_matmul("batch_matmul_broadcast_int16", INT16, [2, 3, 4, 5], [1, 5, 6], [2, 3, 4, 6], q=q16),
        batch_matmul("batch_matmul_adj_x_int16", INT16, [3, 5, 4], [1, 5, 2], [3, 4, 2], adj_x=True, q=q16),
    ]
