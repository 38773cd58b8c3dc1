"""Cases of CUMSUM (vlab-micro kernels/cumsum.rs): float32 and int8, every
combination of exclusive and reverse, axes first, middle and last."""
from op_cases.shape import F32, I8, SUFFIX, c, model, x

CUMSUM = 128
# BuiltinOptions union index.
O_CUMSUM = 102


def models():
    out = []
    for t, qi, qo in ((F32, None, None), (I8, (0.05, 3), (0.4, -7))):
        s = SUFFIX[t]
        for exclusive in (False, True):
            for reverse in (False, True):
                flags = ("_exclusive" if exclusive else "") + ("_reverse" if reverse else "")
                fields = [(0, "bool", exclusive), (1, "bool", reverse)]
                out.append(model(f"cumsum_axis1{flags}_{s}", CUMSUM, [x([2, 6, 3], t, qi), c([1], shape=[])],
                                 [x([2, 6, 3], t, qo)], O_CUMSUM, fields))
        out.append(model(f"cumsum_last_axis_{s}", CUMSUM, [x([3, 2, 9], t, qi), c([-1], shape=[1])],
                         [x([3, 2, 9], t, qo)], O_CUMSUM, [(1, "bool", True)]))
        out.append(model(f"cumsum_axis0_exclusive_{s}", CUMSUM, [x([5, 4], t, qi), c([0], shape=[])],
                         [x([5, 4], t, qo)], O_CUMSUM, [(0, "bool", True)]))
    out.append(model("cumsum_same_scale_int8", CUMSUM, [x([4, 8], I8, (0.05, -2)), c([1], shape=[])],
                     [x([4, 8], I8, (0.05, -2))], O_CUMSUM, [(0, "bool", False)]))
    return out
