"""Cases of GATHER_ND and EMBEDDING_LOOKUP (vlab-micro kernels/gather_nd.rs,
embedding_lookup.rs): float32 and int8 data, constant int32 indices (random
ones would be out of range)."""
from op_cases.shape import F32, I8, SUFFIX, c, model, x

EMBEDDING_LOOKUP, GATHER_ND = 7, 107
# BuiltinOptions union index.
O_GATHER_ND = 83


def gather_nd_cases():
    out = []
    for t in (F32, I8):
        s = SUFFIX[t]
        out.append(model(f"gather_nd_elements_{s}", GATHER_ND,
                         [x([3, 4, 2], t), c([[2, 3, 1], [0, 1, 0]], shape=[2, 3])],
                         [x([2], t)], O_GATHER_ND))
        out.append(model(f"gather_nd_rows_{s}", GATHER_ND,
                         [x([5, 3, 2], t), c([4, 0, 2], shape=[3, 1])],
                         [x([3, 3, 2], t)], O_GATHER_ND))
        out.append(model(f"gather_nd_slices_batched_{s}", GATHER_ND,
                         [x([4, 3, 2], t), c([[[3, 2], [0, 0]], [[1, 1], [2, 0]]], shape=[2, 2, 2])],
                         [x([2, 2, 2], t)], O_GATHER_ND))
        # TFLite Micro checks only the flat position: [0, 5] and [2, -1] of a 3x4.
        out.append(model(f"gather_nd_flat_position_{s}", GATHER_ND,
                         [x([3, 4], t), c([[0, 5], [2, -1]], shape=[2, 2])],
                         [x([2], t)], O_GATHER_ND))
    return out


def embedding_lookup_cases():
    out = []
    for t in (F32, I8):
        s = SUFFIX[t]
        out.append(model(f"embedding_lookup_2d_{s}", EMBEDDING_LOOKUP,
                         [c([5, 0, 2, 5]), x([6, 4], t)], [x([4, 4], t)]))
        out.append(model(f"embedding_lookup_3d_{s}", EMBEDDING_LOOKUP,
                         [c([1, 4, 0]), x([5, 2, 3], t)], [x([3, 2, 3], t)]))
    out.append(model("embedding_lookup_dequantize_int8", EMBEDDING_LOOKUP,
                     [c([3, 1, 3]), x([4, 5], I8, (0.02, 0))], [x([3, 5], F32)]))
    return out


def models():
    return gather_nd_cases() + embedding_lookup_cases()
