"""Cases of DYNAMIC_UPDATE_SLICE (vlab-micro kernels/dynamic_update_slice.rs):
float32, int8, int16 and int32; constant int32 starts inside and outside the
operand (clamped), int32 and int64 starts as graph inputs (random, so
clamped to either end), and an update as large as the operand."""
from op_cases.shape import F32, I16, I32, I64, I8, SUFFIX, c, model, x

DYNAMIC_UPDATE_SLICE = 151
# BuiltinOptions union index.
O_DUS = 117


def models():
    out = []
    for t in (F32, I8, I16, I32):
        s = SUFFIX[t]
        name = f"dynamic_update_slice_{{}}_{s}"
        out.append(model(name.format("const_starts"), DYNAMIC_UPDATE_SLICE,
                         [x([4, 5, 3], t), x([2, 2, 3], t), c([1, 2, 0])], [x([4, 5, 3], t)], O_DUS))
        out.append(model(name.format("clamped_starts"), DYNAMIC_UPDATE_SLICE,
                         [x([3, 6], t), x([2, 2], t), c([-1, 7])], [x([3, 6], t)], O_DUS))
        for st in (I32, I64):
            out.append(model(name.format(f"input_starts_{SUFFIX[st]}"), DYNAMIC_UPDATE_SLICE,
                             [x([2, 4, 3, 5], t), x([1, 2, 3, 2], t), x([4], st)], [x([2, 4, 3, 5], t)], O_DUS))
        out.append(model(name.format("whole"), DYNAMIC_UPDATE_SLICE,
                         [x([3, 4], t), x([3, 4], t), c([1, 1], I64)], [x([3, 4], t)], O_DUS))
    return out
