"""Binary operators: SUB (int8 requantisation, broadcasting, fused
activation), MAXIMUM and MINIMUM (every type TFLite Micro takes)."""
from tflite_builder import FLOAT32, INT8, INT32, ModelBuilder

INT16, INT64, BOOL = 7, 4, 6
SUB, MAXIMUM, MINIMUM = 41, 55, 57
SUB_OPTIONS, MAXMIN_OPTIONS = 28, 39


def _binary(name, opcode, dtype, qa, qb, qo, shape_a, shape_b, shape_o, opt_type, options):
    m = ModelBuilder()
    a = m.tensor("a", shape_a, dtype, qa)
    b = m.tensor("b", shape_b, dtype, qb)
    y = m.tensor("y", shape_o, dtype, qo)
    return name, m.finish(opcode, [a, b], [y], opt_type, options)


def _act(code):
    def options(b):
        b.StartObject(2)
        b.PrependInt8Slot(0, code, 0)
        return b.EndObject()
    return options


def _empty(b):
    b.StartObject(0)
    return b.EndObject()


def models():
    out = []
    shape = [1, 3, 5, 3]
    for act, tag in ((0, "none"), (1, "relu")):
        out.append(_binary(f"sub_broadcast_{tag}_float32", SUB, FLOAT32, None, None, None,
                           shape, [5, 1], shape, SUB_OPTIONS, _act(act)))
        out.append(_binary(f"sub_broadcast_{tag}_int8", SUB, INT8, (0.013, -7), (0.021, 11), (0.027, 3),
                           shape, [5, 1], shape, SUB_OPTIONS, _act(act)))
    out.append(_binary("sub_same_relu6_int8", SUB, INT8, (0.05, 2), (0.031, -20), (0.022, -100),
                       shape, shape, shape, SUB_OPTIONS, _act(3)))
    out.append(_binary("sub_same_relun1to1_float32", SUB, FLOAT32, None, None, None,
                       shape, shape, shape, SUB_OPTIONS, _act(2)))
    for opcode, op in ((MAXIMUM, "maximum"), (MINIMUM, "minimum")):
        for dtype, tag, q in ((FLOAT32, "float32", None), (INT8, "int8", (0.02, -3)),
                              (INT16, "int16", None), (INT32, "int32", None), (INT64, "int64", None)):
            out.append(_binary(f"{op}_broadcast_{tag}", opcode, dtype, q, q, q,
                               [2, 3, 1, 5], [4, 1], [2, 3, 4, 5], MAXMIN_OPTIONS, _empty))
            out.append(_binary(f"{op}_same_{tag}", opcode, dtype, q, q, q,
                               [3, 7], [3, 7], [3, 7], MAXMIN_OPTIONS, _empty))
    # Comparisons: bool output; int8 sides rescaled to one scale by TFLM.
    for opcode, op in ((71, "equal"), (72, "not_equal"), (61, "greater"), (62, "greater_equal"),
                       (58, "less"), (63, "less_equal")):
        types = [(FLOAT32, "float32", None, None), (INT8, "int8", (0.02, -3), (0.035, 9)),
                 (INT32, "int32", None, None), (INT64, "int64", None, None)]
        if op in ("equal", "not_equal"):
            types.append((BOOL, "bool", None, None))
            # Equal scales, so equality is hit on random int8 inputs.
            types.append((INT8, "samescale_int8", (0.02, -3), (0.02, -3)))
        for dtype, tag, qa, qb in types:
            m = ModelBuilder()
            a = m.tensor("a", [2, 3, 1, 5], dtype, qa)
            b = m.tensor("b", [4, 1], dtype, qb)
            y = m.tensor("y", [2, 3, 4, 5], BOOL)
            out.append((f"{op}_broadcast_{tag}", m.finish(opcode, [a, b], [y])))
    # DIV (fused activation), SQUARED_DIFFERENCE, FLOOR_DIV, FLOOR_MOD.
    for act, tag in ((0, "none"), (1, "relu")):
        for dtype, dt in ((FLOAT32, "float32"), (INT32, "int32")):
            out.append(_binary(f"div_broadcast_{tag}_{dt}", 42, dtype, None, None, None,
                               [2, 3, 1, 5], [4, 1], [2, 3, 4, 5], 29, _act(act)))
    for opcode, op, types in ((99, "squared_difference", ((FLOAT32, "float32"), (INT32, "int32"))),
                              (90, "floor_div", ((FLOAT32, "float32"),)),
                              (95, "floor_mod", ((FLOAT32, "float32"),))):
        for dtype, dt in types:
            m = ModelBuilder()
            a = m.tensor("a", [2, 3, 1, 5], dtype)
            b = m.tensor("b", [4, 1], dtype)
            y = m.tensor("y", [2, 3, 4, 5], dtype)
            out.append((f"{op}_broadcast_{dt}", m.finish(opcode, [a, b], [y])))
    # PRELU: alpha broadcast along the channels and along two axes.
    for alpha_shape, tag in (([3], "channel"), ([5, 1], "broadcast")):
        out.append(_binary(f"prelu_{tag}_float32", 54, FLOAT32, None, None, None,
                           [1, 4, 5, 3], alpha_shape, [1, 4, 5, 3], 0, None))
        out.append(_binary(f"prelu_{tag}_int8", 54, INT8, (0.021, 5), (0.0043, -17), (0.015, -9),
                           [1, 4, 5, 3], alpha_shape, [1, 4, 5, 3], 0, None))
    # ADD, SUB, MUL on int16 (general rescaling, zero points 0 for MUL) and int32.
    for opcode, op, opt in ((0, "add", 11), (41, "sub", 28), (18, "mul", 21)):
        q16 = ((0.0007, 0), (0.0011, 0), (0.0009, 0)) if op == "mul" else \
              ((0.0007, 3), (0.0011, -5), (0.0013, 7))
        for act, tag in ((0, "none"), (1, "relu")):
            out.append(_binary(f"{op}_broadcast_{tag}_int16", opcode, INT16, *q16,
                               [2, 3, 1, 5], [4, 1], [2, 3, 4, 5], opt, _act(act)))
            out.append(_binary(f"{op}_broadcast_{tag}_int32", opcode, INT32, None, None, None,
                               [2, 3, 1, 5], [4, 1], [2, 3, 4, 5], opt, _act(act)))
    # int8 DIV: a constant divisor that is never its zero point.
    for act, tag in ((0, "none"), (1, "relu")):
        m = ModelBuilder()
        a = m.tensor("a", [2, 3, 1, 5], INT8, (0.03, -4))
        b = m.tensor("b", [4, 1], INT8, (0.02, 6), data=bytes([v & 0xFF for v in (40, -90, 7, 120)]))
        y = m.tensor("y", [2, 3, 4, 5], INT8, (0.05, 2))
        out.append((f"div_const_{tag}_int8", m.finish(42, [a, b], [y], 29, _act(act))))
    # Quantised SQUARED_DIFFERENCE (int16: zero points 0).
    for dtype, tag, qs in ((INT8, "int8", ((0.013, -7), (0.021, 11), (0.0019, -120))),
                           (INT16, "int16", ((0.0005, 0), (0.0008, 0), (0.03, 0)))):
        out.append(_binary(f"squared_difference_broadcast_{tag}", 99, dtype, *qs,
                           [2, 3, 1, 5], [4, 1], [2, 3, 4, 5], 0, None))
    # LOGICAL_AND, LOGICAL_OR.
    for opcode, op in ((86, "logical_and"), (84, "logical_or")):
        m = ModelBuilder()
        a = m.tensor("a", [2, 3, 1, 5], BOOL)
        b = m.tensor("b", [4, 1], BOOL)
        y = m.tensor("y", [2, 3, 4, 5], BOOL)
        out.append((f"{op}_broadcast_bool", m.finish(opcode, [a, b], [y])))
    # int16 PRELU with an int8 alpha.
    m = ModelBuilder()
    x = m.tensor("x", [1, 4, 5, 3], INT16, (0.0004, 0))
    al = m.tensor("alpha", [3], INT8, (0.006, 10))
    y = m.tensor("y", [1, 4, 5, 3], INT16, (0.0003, 0))
    out.append(("prelu_channel_int16", m.finish(54, [x, al], [y])))
    # SELECT_V2: a constant bool condition broadcast against x and y.
    cond = bytes([1, 0, 0, 1, 1, 0, 1])
    for dtype, tag, q in ((FLOAT32, "float32", None), (INT8, "int8", (0.02, -3)), (INT16, "int16", (0.001, 0))):
        m = ModelBuilder()
        c = m.tensor("c", [7], BOOL, data=cond)
        x = m.tensor("x", [3, 1, 7], dtype, q)
        y = m.tensor("y", [2, 1], dtype, q)
        o = m.tensor("o", [3, 2, 7], dtype, q)
        out.append((f"select_v2_broadcast_{tag}", m.finish(123, [c, x, y], [o])))
    # ADD_N: three float32 inputs.
    m = ModelBuilder()
    ins = [m.tensor(f"x{k}", [2, 5, 3], FLOAT32) for k in range(3)]
    o = m.tensor("o", [2, 5, 3], FLOAT32)
    out.append(("add_n_three_float32", m.finish(106, ins, [o])))
    m = ModelBuilder()
    ins = [m.tensor(f"x{k}", [2, 5, 3], INT8, (0.017, -6)) for k in range(3)]
    o = m.tensor("o", [2, 5, 3], INT8, (0.041, 4))
    out.append(("add_n_three_int8", m.finish(106, ins, [o])))
    return out
