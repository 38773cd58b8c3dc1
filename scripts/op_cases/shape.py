"""Cases of the shape, layout, gather and reduction operators (vlab-micro
kernels/layout.rs, gather.rs, reduce.rs, shape_ops.rs)."""
import numpy as np

from tflite_builder import ModelBuilder

F32, I32, I64, BOOL, I16, I8 = 0, 2, 4, 6, 7, 9
CONCATENATION, GATHER, TRANSPOSE, MEAN, SQUEEZE, SPLIT, SLICE = 2, 36, 39, 40, 43, 49, 65
EXPAND_DIMS, SUM, REDUCE_MAX, UNPACK, REDUCE_MIN, SPLIT_V = 70, 74, 82, 88, 89, 102
# BuiltinOptions union indices.
O_CONCAT, O_GATHER, O_TRANSPOSE, O_REDUCER, O_SQUEEZE, O_SPLIT = 10, 23, 26, 27, 30, 35
O_SLICE, O_EXPAND_DIMS, O_UNPACK, O_SPLIT_V = 48, 52, 64, 79

NP = {F32: "<f4", I32: "<i4", I64: "<i8", BOOL: "?", I16: "<i2", I8: "i1"}
SUFFIX = {F32: "f32", I32: "int32", I64: "int64", BOOL: "bool", I16: "int16", I8: "int8"}
# Quantisation of byte-moving operators' tensors (same on input and output).
Q = {I8: (0.05, 3), I16: (0.01, 0)}


def const(values, dtype):
    return np.array(values, dtype=NP[dtype]).tobytes()


def options(fields):
    """A builder of an options table from (slot, kind, value) fields."""
    def build(b):
        vecs = {}
        for slot, kind, value in fields:
            if kind == "vec_i32":
                b.StartVector(4, len(value), 4)
                for v in reversed(value):
                    b.PrependInt32(v)
                vecs[slot] = b.EndVector()
        b.StartObject(max([s for s, _, _ in fields], default=-1) + 1)
        for slot, kind, value in fields:
            if kind == "i32":
                b.PrependInt32Slot(slot, value, 0)
            elif kind == "bool":
                b.PrependBoolSlot(slot, value, False)
            elif kind == "i8":
                b.PrependInt8Slot(slot, value, 0)
            else:
                b.PrependUOffsetTRelativeSlot(slot, vecs[slot], 0)
        return b.EndObject()
    return build


def model(name, opcode, inputs, outputs, opt_type=0, fields=()):
    """inputs/outputs: (shape, dtype, quant, constant values or None)."""
    m = ModelBuilder()
    ins = [m.tensor(f"in{i}", list(s), t, q, None if d is None else const(d, t))
           for i, (s, t, q, d) in enumerate(inputs)]
    outs = [m.tensor(f"out{i}", list(s), t, q) for i, (s, t, q, *_) in enumerate(outputs)]
    return name, m.finish(opcode, ins, outs, opt_type, options(list(fields)) if opt_type else None)


def x(shape, t, q=None, data=None):
    return (shape, t, Q.get(t) if q is None else q, data)


def c(values, t=I32, shape=None):
    values = list(np.array(values).reshape(-1))
    return ([len(values)] if shape is None else shape, t, None, values)


def layout_cases():
    out = []
    for t in (F32, I8, I16):
        s = SUFFIX[t]
        out.append(model(f"expand_dims_axis1_{s}", EXPAND_DIMS, [x([3, 5, 2], t), c([1], shape=[1])],
                         [x([3, 1, 5, 2], t)], O_EXPAND_DIMS))
        out.append(model(f"expand_dims_negative_axis_{s}", EXPAND_DIMS, [x([3, 5], t), c([-1], shape=[])],
                         [x([3, 5, 1], t)], O_EXPAND_DIMS))
        out.append(model(f"transpose_4d_{s}", TRANSPOSE, [x([2, 3, 5, 4], t), c([0, 3, 1, 2])],
                         [x([2, 4, 3, 5], t)], O_TRANSPOSE))
        out.append(model(f"transpose_5d_{s}", TRANSPOSE, [x([2, 3, 1, 5, 4], t), c([4, 2, 0, 3, 1])],
                         [x([4, 1, 2, 5, 3], t)], O_TRANSPOSE))
        out.append(model(f"transpose_2d_{s}", TRANSPOSE, [x([7, 3], t), c([1, 0])],
                         [x([3, 7], t)], O_TRANSPOSE))
    for t in (F32, I8, I16, I32, I64, BOOL):
        s = SUFFIX[t]
        out.append(model(f"squeeze_dims_{s}", SQUEEZE, [x([1, 3, 1, 5, 1], t)], [x([3, 5, 1], t)],
                         O_SQUEEZE, [(0, "vec_i32", [0, -3])]))
        out.append(model(f"squeeze_all_{s}", SQUEEZE, [x([1, 3, 1, 5, 1], t)], [x([3, 5], t)],
                         O_SQUEEZE, [(0, "vec_i32", [])]))
    for t in (F32, I8, I16, I32):
        s = SUFFIX[t]
        out.append(model(f"split_axis1_{s}", SPLIT, [c([1], shape=[]), x([2, 6, 3], t)],
                         [x([2, 2, 3], t)] * 3, O_SPLIT, [(0, "i32", 3)]))
        out.append(model(f"split_negative_axis_{s}", SPLIT, [c([-1], shape=[1]), x([3, 2, 4], t)],
                         [x([3, 2, 2], t)] * 2, O_SPLIT, [(0, "i32", 2)]))
        out.append(model(f"split_v_axis1_{s}", SPLIT_V, [x([2, 7, 3], t), c([2, 4, 1]), c([1], shape=[])],
                         [x([2, 2, 3], t), x([2, 4, 3], t), x([2, 1, 3], t)], O_SPLIT_V, [(0, "i32", 3)]))
        out.append(model(f"split_v_last_axis_{s}", SPLIT_V, [x([3, 5], t), c([3, -1]), c([-1], shape=[1])],
                         [x([3, 3], t), x([3, 2], t)], O_SPLIT_V, [(0, "i32", 2)]))
        out.append(model(f"unpack_axis0_{s}", UNPACK, [x([3, 2, 5], t)], [x([2, 5], t)] * 3,
                         O_UNPACK, [(0, "i32", 3), (1, "i32", 0)]))
        out.append(model(f"unpack_axis_last_{s}", UNPACK, [x([3, 2, 4], t)], [x([3, 2], t)] * 4,
                         O_UNPACK, [(0, "i32", 4), (1, "i32", -1)]))
    for t in (F32, I8, I16, I32):
        s = SUFFIX[t]
        out.append(model(f"slice_3d_{s}", SLICE, [x([4, 5, 6], t), c([1, 0, 2]), c([2, -1, 3])],
                         [x([2, 5, 3], t)], O_SLICE))
        out.append(model(f"slice_5d_int64_begin_{s}", SLICE,
                         [x([2, 3, 4, 3, 5], t), c([1, 1, 0, 1, 2], I64), c([1, 2, 3, -1, 2], I64)],
                         [x([1, 2, 3, 2, 2], t)], O_SLICE))
    for t in (F32, I8):
        s = SUFFIX[t]
        out.append(model(f"gather_axis0_{s}", GATHER, [x([5, 3, 2], t), c([4, 0, 2, 2], shape=[2, 2])],
                         [x([2, 2, 3, 2], t)], O_GATHER, [(0, "i32", 0)]))
        out.append(model(f"gather_axis2_{s}", GATHER, [x([2, 3, 4], t), c([3, 1, 0])],
                         [x([2, 3, 3], t)], O_GATHER, [(0, "i32", -1)]))
        out.append(model(f"gather_batch_dims_{s}", GATHER,
                         [x([2, 3, 4, 2], t), c([[0, 3, 3], [2, 1, 0]], shape=[2, 3])],
                         [x([2, 3, 3, 2], t)], O_GATHER, [(0, "i32", 2), (1, "i32", 1)]))
    for t in (F32, I8, I16, I32, I64):
        s = SUFFIX[t]
        q = (0.01, 0) if t == I16 else None
        out.append(model(f"concat_axis1_{s}", CONCATENATION, [x([2, 3, 2], t, q), x([2, 1, 2], t, q), x([2, 4, 2], t, q)],
                         [x([2, 8, 2], t, q)], O_CONCAT, [(0, "i32", 1)]))
        out.append(model(f"concat_negative_axis_{s}", CONCATENATION, [x([3, 2], t, q), x([3, 5], t, q)],
                         [x([3, 7], t, q)], O_CONCAT, [(0, "i32", -1)]))
    return out


def models():
    return layout_cases()


def mean_cases():
    out = []
    for t, qi, qo in ((I8, (0.05, 3), (0.02, -7)), (I16, (0.01, 0), (0.004, 0))):
        s = SUFFIX[t]
        out.append(model(f"mean_axes12_requant_{s}", MEAN, [x([1, 2, 2, 384], t, qi), c([1, 2])],
                         [x([1, 384], t, qo)], O_REDUCER, [(0, "bool", False)]))
        out.append(model(f"mean_axis_last_keep_dims_{s}", MEAN, [x([2, 3, 5], t, qi), c([-1])],
                         [x([2, 3, 1], t, qo)], O_REDUCER, [(0, "bool", True)]))
        out.append(model(f"mean_axes02_{s}", MEAN, [x([3, 4, 5], t, qi), c([0, 2])],
                         [x([4], t, qo)], O_REDUCER, [(0, "bool", False)]))
    return out


def models():
    return layout_cases() + mean_cases()


def min_max_cases():
    out = []
    for op, name in ((REDUCE_MAX, "reduce_max"), (REDUCE_MIN, "reduce_min")):
        for t in (F32, I8):
            s = SUFFIX[t]
            out.append(model(f"{name}_axes12_{s}", op, [x([1, 3, 4, 5], t), c([1, 2])],
                             [x([1, 5], t)], O_REDUCER, [(0, "bool", False)]))
            out.append(model(f"{name}_axis0_keep_dims_{s}", op, [x([3, 4, 5], t), c([0])],
                             [x([1, 4, 5], t)], O_REDUCER, [(0, "bool", True)]))
    return out


def models():
    return layout_cases() + mean_cases() + min_max_cases()


def sum_cases():
    out = []
    for t, qi, qo in ((F32, None, None), (I8, (0.05, 3), (0.4, -7)), (I16, (0.01, 0), (0.05, 0))):
        s = SUFFIX[t]
        out.append(model(f"sum_axes12_{s}", SUM, [x([1, 2, 3, 7], t, qi), c([1, 2])],
                         [x([1, 7], t, qo)], O_REDUCER, [(0, "bool", False)]))
        out.append(model(f"sum_axis_last_keep_dims_{s}", SUM, [x([2, 3, 5], t, qi), c([-1])],
                         [x([2, 3, 1], t, qo)], O_REDUCER, [(0, "bool", True)]))
    return out


def models():
    return layout_cases() + mean_cases() + min_max_cases() + sum_cases()


RESHAPE, STRIDED_SLICE, PACK = 22, 45, 83
O_RESHAPE, O_STRIDED_SLICE, O_PACK = 17, 32, 59


def byte_moving_cases():
    """The types TFLite Micro's byte-moving kernels take beyond those above."""
    out = []
    for t in (F32, I8, I16, I32, I64, BOOL):
        s = SUFFIX[t]
        out.append(model(f"reshape_3d_to_2d_{s}", RESHAPE, [x([2, 3, 4], t), c([4, -1])], [x([4, 6], t)],
                         O_RESHAPE, [(0, "vec_i32", [4, 6])]))
    for t in (F32, I8, I16, I32, BOOL):
        s = SUFFIX[t]
        out.append(model(f"strided_slice_masks_{s}", STRIDED_SLICE,
                         [x([3, 5, 4], t), c([1, 4, 0]), c([3, 0, 3]), c([1, -2, 1])], [x([2, 2, 3], t)],
                         O_STRIDED_SLICE, [(0, "i32", 0b100), (1, "i32", 0)]))
        out.append(model(f"strided_slice_shrink_{s}", STRIDED_SLICE,
                         [x([4, 6], t), c([2, 1]), c([3, 6]), c([1, 2])], [x([3], t)],
                         O_STRIDED_SLICE, [(4, "i32", 0b01)]))
    for t in (F32, I8, I16, I32, I64):
        s = SUFFIX[t]
        out.append(model(f"pack_axis1_{s}", PACK, [x([3, 4], t)] * 3, [x([3, 3, 4], t)],
                         O_PACK, [(0, "i32", 3), (1, "i32", 1)]))
    out.append(model("concat_axis1_bool", CONCATENATION, [x([2, 3], BOOL), x([2, 2], BOOL)], [x([2, 5], BOOL)],
                     O_CONCAT, [(0, "i32", 1)]))
    out.append(model("slice_3d_bool", SLICE, [x([4, 5, 6], BOOL), c([1, 0, 2]), c([2, -1, 3])],
                     [x([2, 5, 3], BOOL)], O_SLICE))
    return out


def models():
    return layout_cases() + mean_cases() + min_max_cases() + sum_cases() + byte_moving_cases()
