"""Cases of the spatial operators (vlab-micro kernels/resize.rs,
space_depth.rs, space_batch.rs, mirror_pad.rs, reverse.rs and PADV2 in
shape_ops.rs): every type TFLite Micro takes for each, and every option."""
import numpy as np

from tflite_builder import ModelBuilder

F32, I32, U8, I64, BOOL, I16, I8 = 0, 2, 3, 4, 6, 7, 9
DEPTH_TO_SPACE, RESIZE_BILINEAR, SPACE_TO_DEPTH, PAD = 5, 23, 26, 34
BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, PADV2 = 37, 38, 60
RESIZE_NEAREST_NEIGHBOR, MIRROR_PAD, REVERSE_V2 = 97, 100, 105
# BuiltinOptions union indices.
O_RESIZE_BILINEAR, O_SPACE_TO_DEPTH, O_PAD, O_BATCH_TO_SPACE, O_SPACE_TO_BATCH = 15, 19, 22, 24, 25
O_PADV2, O_RESIZE_NEAREST, O_MIRROR_PAD, O_REVERSE_V2, O_DEPTH_TO_SPACE = 43, 74, 77, 81, 94

NP = {F32: "<f4", I32: "<i4", U8: "u1", I64: "<i8", BOOL: "?", I16: "<i2", I8: "i1"}
SUFFIX = {F32: "f32", I32: "int32", U8: "uint8", I64: "int64", BOOL: "bool", I16: "int16", I8: "int8"}
# Quantisation of the data tensors (same on input and output).
Q = {I8: (0.05, 3), U8: (0.05, 128), I16: (0.01, 0)}


def table(fields):
    """A builder of an options table from (slot, kind, value) fields."""
    def build(b):
        b.StartObject(max([s for s, _, _ in fields], default=-1) + 1)
        for slot, kind, value in fields:
            if kind == "i32":
                b.PrependInt32Slot(slot, value, 0)
            else:  # bool or byte enum
                b.PrependUint8Slot(slot, int(value), 0)
        return b.EndObject()
    return build


def model(name, opcode, inputs, outputs, opt_type=0, fields=()):
    """inputs/outputs: (shape, dtype, quant, constant values or None)."""
    m = ModelBuilder()
    ins = [m.tensor(f"in{i}", list(s), t, q, None if d is None else np.array(d, dtype=NP[t]).tobytes())
           for i, (s, t, q, d) in enumerate(inputs)]
    outs = [m.tensor(f"out{i}", list(s), t, q) for i, (s, t, q, _) in enumerate(outputs)]
    return name, m.finish(opcode, ins, outs, opt_type, table(list(fields)) if opt_type else None)


def x(shape, t, q=None, data=None):
    """A data tensor: a graph input, or a constant when `data` is given."""
    return (shape, t, Q.get(t) if q is None else q, data)


def c(values, t=I32, shape=None):
    """A constant index tensor."""
    values = list(np.array(values).reshape(-1))
    return ([len(values)] if shape is None else shape, t, None, values)


def resize_cases():
    out = []
    shapes = [
        ("up", [1, 4, 5, 3], [7, 12]),
        ("down", [2, 9, 7, 2], [4, 3]),
        ("mixed", [1, 3, 8, 4], [8, 5]),
        ("to_1x1", [1, 5, 4, 2], [1, 1]),
    ]
    options = [("", False, False), ("_align_corners", True, False), ("_half_pixel", False, True)]
    for op, name, opt, first, types in (
        (RESIZE_BILINEAR, "resize_bilinear", O_RESIZE_BILINEAR, 2, (F32, I8)),
        (RESIZE_NEAREST_NEIGHBOR, "resize_nearest", O_RESIZE_NEAREST, 0, (F32, I8, I16)),
    ):
        for t in types:
            for kind, shape, size in shapes:
                for suffix, align, half in options:
                    out.append(model(f"{name}_{kind}{suffix}_{SUFFIX[t]}", op,
                                     [x(shape, t), c(size)], [x([shape[0], *size, shape[3]], t)],
                                     opt, [(first, "bool", align), (first + 1, "bool", half)]))
    return out


def space_depth_cases():
    out = []
    for t in (F32, I8):
        s = SUFFIX[t]
        for space, depth, block in (([1, 4, 6, 2], [1, 2, 3, 8], 2), ([2, 3, 6, 3], [2, 1, 2, 27], 3),
                                    ([1, 2, 2, 3], [1, 2, 2, 3], 1)):
            out.append(model(f"depth_to_space_block{block}_{s}", DEPTH_TO_SPACE, [x(depth, t)], [x(space, t)],
                             O_DEPTH_TO_SPACE, [(0, "i32", block)]))
            out.append(model(f"space_to_depth_block{block}_{s}", SPACE_TO_DEPTH, [x(space, t)], [x(depth, t)],
                             O_SPACE_TO_DEPTH, [(0, "i32", block)]))
    return out


def space_batch_cases():
    out = []
    # (name, spatial shape, block, paddings, batched shape)
    shapes = [
        ("4d", [1, 4, 6, 3], [2, 3], [[0, 0], [0, 0]], [6, 2, 2, 3]),
        ("4d_padded", [2, 5, 3, 2], [2, 2], [[1, 0], [2, 1]], [8, 3, 3, 2]),
        ("3d", [2, 5, 4], [3], [[1, 3]], [6, 3, 4]),
    ]
    for t in (F32, I8):
        s = SUFFIX[t]
        for kind, space, block, pads, batch in shapes:
            out.append(model(f"space_to_batch_nd_{kind}_{s}", SPACE_TO_BATCH_ND,
                             [x(space, t), c(block), c(pads, shape=[len(block), 2])], [x(batch, t)],
                             O_SPACE_TO_BATCH))
            out.append(model(f"batch_to_space_nd_{kind}_{s}", BATCH_TO_SPACE_ND,
                             [x(batch, t), c(block), c(pads, shape=[len(block), 2])], [x(space, t)],
                             O_BATCH_TO_SPACE))
    return out


def mirror_pad_cases():
    out = []
    # (name, input shape, paddings, paddings type) per mode: REFLECT (0)
    # mirrors at most size - 1 elements, SYMMETRIC (1) at most size.
    shapes = {
        0: [("4d", [1, 3, 4, 2], [[0, 0], [2, 1], [1, 3], [0, 0]], I32),
            ("2d_int64_paddings", [3, 5], [[2, 2], [4, 4]], I64),
            # More after the end than the input mirrors: TFLite Micro's
            # index stops at 0.
            ("1d_long_after", [4], [[3, 6]], I32)],
        1: [("4d", [1, 3, 4, 2], [[0, 0], [3, 2], [4, 1], [0, 0]], I32),
            ("2d_int64_paddings", [3, 5], [[3, 3], [5, 5]], I64),
            ("1d_long_after", [4], [[4, 7]], I32),
            ("5d", [2, 1, 2, 3, 2], [[1, 1], [1, 0], [0, 2], [2, 3], [1, 1]], I32)],
    }
    for t in (F32, I8):
        for mode, name in ((0, "reflect"), (1, "symmetric")):
            for kind, shape, pads, pt in shapes[mode]:
                padded = [d + lo + hi for d, (lo, hi) in zip(shape, pads)]
                out.append(model(f"mirror_pad_{name}_{kind}_{SUFFIX[t]}", MIRROR_PAD,
                                 [x(shape, t), c(pads, pt, shape=[len(shape), 2])], [x(padded, t)],
                                 O_MIRROR_PAD, [(0, "i8", mode)]))
    return out


def pad_cases():
    out = []
    shapes = [
        ("3d", [2, 3, 4], [[1, 0], [0, 2], [3, 1]]),
        ("image", [1, 3, 3, 2], [[0, 0], [1, 2], [2, 1], [0, 0]]),
        ("5d", [2, 1, 2, 3, 2], [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]),
    ]
    values = {F32: 1.5, I8: -7, I16: -300, I32: 123456}
    for t in (F32, I8, I16, I32):
        s = SUFFIX[t]
        for kind, shape, pads in shapes:
            padded = [d + lo + hi for d, (lo, hi) in zip(shape, pads)]
            ins = [x(shape, t), c(pads, shape=[len(shape), 2])]
            out.append(model(f"padv2_{kind}_{s}", PADV2, ins + [x([1], t, data=[values[t]])],
                             [x(padded, t)], O_PADV2))
            if t in (I16, I32):  # PAD of float32 and int8 has cases of its own
                out.append(model(f"pad_{kind}_{s}", PAD, ins, [x(padded, t)], O_PAD))
        # The pad value a graph input, scalar.
        out.append(model(f"padv2_value_input_{s}", PADV2,
                         [x([2, 3, 4], t), c(shapes[0][2], shape=[3, 2]), x([], t)],
                         [x([3, 5, 8], t)], O_PADV2))
    out.append(model("pad_with_value_f32", PAD, [x([2, 3, 4], F32), c(shapes[0][2], shape=[3, 2]),
                                                 x([1], F32, data=[-2.25])], [x([3, 5, 8], F32)], O_PAD))
    return out


def reverse_cases():
    out = []
    shapes = [
        ("middle_axes", [2, 3, 4, 5], [2, 1]),
        ("last_axis", [2, 3, 4], [-1]),
        ("all_axes", [3, 4], [0, 1]),
        ("first_axis_5d", [2, 3, 4, 2, 3], [0]),
        ("inner_axes_6d", [2, 1, 3, 2, 2, 3], [3, -2, 5]),
    ]
    for t in (F32, I8, U8, I16, I32, I64, BOOL):
        for kind, shape, axes in shapes:
            out.append(model(f"reverse_v2_{kind}_{SUFFIX[t]}", REVERSE_V2, [x(shape, t), c(axes)],
                             [x(shape, t)], O_REVERSE_V2))
    return out


def models():
    return (resize_cases() + space_depth_cases() + space_batch_cases() + mirror_pad_cases()
            + pad_cases() + reverse_cases())
