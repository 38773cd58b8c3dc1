"""L2_POOL_2D, float32 (the only type TFLite Micro takes): SAME and VALID
padding, odd sizes, fused activation."""
from tflite_builder import FLOAT32, ModelBuilder

L2_POOL_2D, POOL_OPTIONS = 12, 5


def l2_pool(name, in_shape, out_shape, same, stride, filt, activation=0):
    m = ModelBuilder()
    x = m.tensor("x", in_shape, FLOAT32)
    y = m.tensor("y", out_shape, FLOAT32)

    def options(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, 0 if same else 1, 0)
        b.PrependInt32Slot(1, stride[1], 0)
        b.PrependInt32Slot(2, stride[0], 0)
        b.PrependInt32Slot(3, filt[1], 0)
        b.PrependInt32Slot(4, filt[0], 0)
        b.PrependInt8Slot(5, activation, 0)
        return b.EndObject()
    return name, m.finish(L2_POOL_2D, [x], [y], POOL_OPTIONS, options)


def models():
    return [
        l2_pool("l2_pool_same_f32", [2, 7, 9, 3], [2, 4, 3, 3], True, (2, 3), (3, 2)),
        l2_pool("l2_pool_valid_f32", [1, 8, 7, 5], [1, 3, 3, 5], False, (2, 2), (3, 3)),
        l2_pool("l2_pool_relu6_f32", [1, 5, 5, 2], [1, 5, 5, 2], True, (1, 1), (2, 2), 3),
    ]
