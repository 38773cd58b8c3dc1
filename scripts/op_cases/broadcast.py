"""Cases of FILL, BROADCAST_TO and BROADCAST_ARGS (vlab-micro kernels/fill.rs,
broadcast.rs). Their shape inputs are constants, as TFLite Micro requires
for FILL and BROADCAST_TO; BROADCAST_ARGS gets one shape from SHAPE of the
graph input (random shape values would not broadcast) and one constant."""
import numpy as np

from op_cases.shape import BOOL, F32, I16, I32, I64, I8, SUFFIX, c, model, x
from tflite_builder import GraphBuilder

U8 = 3
SUFFIX = {**SUFFIX, U8: "uint8"}
FILL, BROADCAST_TO, SHAPE, BROADCAST_ARGS = 94, 130, 77, 145
# BuiltinOptions union indices.
O_FILL, O_BROADCAST_TO, O_SHAPE = 68, 104, 55


def fill_cases():
    out = []
    for t in (F32, I32, I8):
        s = SUFFIX[t]
        out.append(model(f"fill_3d_{s}", FILL, [c([2, 3, 4]), x([], t)], [x([2, 3, 4], t)], O_FILL))
        out.append(model(f"fill_int64_dims_{s}", FILL, [c([5, 1], I64), x([], t)], [x([5, 1], t)], O_FILL))
    out.append(model("fill_int16_dims_f32", FILL, [c([3, 2], I16), x([], F32)], [x([3, 2], F32)], O_FILL))
    return out


def broadcast_to_cases():
    out = []
    for t in (F32, I8, I16, I32, I64, U8, BOOL):
        s = SUFFIX[t]
        q = (0.05, 3) if t in (I8, U8) else (0.01, 0) if t == I16 else None
        out.append(model(f"broadcast_to_extend_{s}", BROADCAST_TO, [x([3, 1], t, q), c([2, 3, 4])],
                         [x([2, 3, 4], t, q)], O_BROADCAST_TO))
        out.append(model(f"broadcast_to_int64_shape_{s}", BROADCAST_TO,
                         [x([1, 4, 1, 2], t, q), c([3, 4, 5, 2], I64)], [x([3, 4, 5, 2], t, q)], O_BROADCAST_TO))
    out.append(model("broadcast_to_5d_f32", BROADCAST_TO, [x([2, 1, 3, 1, 2], F32), c([2, 2, 3, 3, 2])],
                     [x([2, 2, 3, 3, 2], F32)], O_BROADCAST_TO))
    out.append(model("broadcast_to_same_shape_int8", BROADCAST_TO, [x([2, 3], I8), c([2, 3])],
                     [x([2, 3], I8)], O_BROADCAST_TO))
    return out


def broadcast_args(name, dtype, input_shape, other, out_len):
    g = GraphBuilder()
    s = g.subgraph()
    np_type = {I32: "<i4", I64: "<i8"}[dtype]
    inp = s.tensor("x", input_shape, F32)
    shape = s.tensor("shape", [len(input_shape)], dtype)
    const = s.tensor("other", [len(other)], dtype, data=np.array(other, dtype=np_type).tobytes())
    y = s.tensor("y", [out_len], dtype)

    def shape_options(b):
        b.StartObject(1)
        b.PrependInt8Slot(0, dtype, 0)
        return b.EndObject()
    s.op(SHAPE, [inp], [shape], O_SHAPE, shape_options)
    s.op(BROADCAST_ARGS, [shape, const], [y])
    s.inputs, s.outputs = [inp], [y]
    return name, g.finish()


def broadcast_args_cases():
    # TFLite Micro's SHAPE makes only int32; int64 shapes are graph inputs
    # broadcast with constant ones (any value broadcasts with 1).
    out = [broadcast_args("broadcast_args_longer_int32", I32, [2, 1, 3], [5, 1, 4, 1], 4),
           broadcast_args("broadcast_args_shorter_int32", I32, [1, 3, 1, 2], [4, 1], 4)]
    for t in (I32, I64):
        s = SUFFIX[t]
        out.append(model(f"broadcast_args_ones_longer_{s}", BROADCAST_ARGS, [x([2], t), c([1, 1, 1, 1], t)],
                         [x([4], t)]))
        out.append(model(f"broadcast_args_ones_shorter_{s}", BROADCAST_ARGS, [x([3], t), c([1], t)],
                         [x([3], t)]))
    return out


def models():
    return fill_cases() + broadcast_to_cases() + broadcast_args_cases()
