"""Cases of ARG_MAX and ARG_MIN (vlab-micro kernels/arg_minmax.rs): float32
and int8 inputs, int32 outputs (TFLite Micro refuses int64 ones), axes
first, middle and last (negative)."""
from op_cases.shape import F32, I8, I32, SUFFIX, c, model, x

ARG_MAX, ARG_MIN = 56, 79
# BuiltinOptions union indices.
O_ARG_MAX, O_ARG_MIN = 40, 57


def models():
    out = []
    for op, o, name in ((ARG_MAX, O_ARG_MAX, "arg_max"), (ARG_MIN, O_ARG_MIN, "arg_min")):
        for t in (F32, I8):
            s = SUFFIX[t]
            fields = [(0, "i8", I32)]
            out.append(model(f"{name}_axis0_{s}", op, [x([7, 3, 2], t), c([0], shape=[])],
                             [x([3, 2], I32)], o, fields))
            out.append(model(f"{name}_axis1_{s}", op, [x([2, 40, 3], t), c([1], shape=[1])],
                             [x([2, 3], I32)], o, fields))
            out.append(model(f"{name}_last_axis_{s}", op, [x([1, 4, 4, 9], t), c([-1], shape=[])],
                             [x([1, 4, 4], I32)], o, fields))
    return out
