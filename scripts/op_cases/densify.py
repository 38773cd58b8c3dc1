"""DENSIFY of sparse constant weights (CSR levels, with and without blocks;
float32, float16 and int8) feeding FULLY_CONNECTED. TFLite Micro has no
DENSIFY, so goldens.py takes these goldens from LiteRT's reference kernels."""
import numpy as np

from tflite_builder import FLOAT32, FULLY_CONNECTED, INT8, OPTIONS, GraphBuilder

FLOAT16, DEQUANTIZE, DENSIFY = 1, 6, 124
UNITS, DEPTH = 4, 8


def weights():
    """A [UNITS, DEPTH] matrix, mostly zero, whose non-zero values come in
    runs of 4 along the depth (so 1x4 blocks cover them)."""
    w = np.zeros((UNITS, DEPTH), dtype=np.float32)
    w[0, 0:4] = [0.5, -1.25, 0.0, 2.0]
    w[1, 4:8] = [1.5, 0.25, -0.75, 1.0]
    w[3, 0:4] = [-2.0, 0.125, 1.0, -0.5]
    w[3, 4:8] = [0.75, -1.0, 0.5, 0.25]
    return w


def index_vector(values, kind):
    """A SparseIndexVector, `kind` "i32" (Int32Vector) or "u8" (Uint8Vector):
    (union type, builder)."""
    union, width, prepend = {"i32": (1, 4, "PrependInt32"), "u8": (3, 1, "PrependUint8")}[kind]

    def build(b):
        b.StartVector(width, len(values), width)
        for v in reversed(values):
            getattr(b, prepend)(int(v))
        vec = b.EndVector()
        b.StartObject(1)
        b.PrependUOffsetTRelativeSlot(0, vec, 0)
        return b.EndObject()
    return union, build


def sparsity(order, block_map, levels):
    """SparsityParameters: `levels` are ("dense", size) or
    ("csr", segments, indices) index vectors, in traversal order."""
    def build(b):
        metas = []
        for level in levels:
            if level[0] == "dense":
                b.StartObject(6)
                b.PrependInt32Slot(1, level[1], 0)
                metas.append(b.EndObject())
                continue
            (seg_type, seg), (idx_type, idx) = level[1], level[2]
            seg_off, idx_off = seg(b), idx(b)
            b.StartObject(6)
            b.PrependInt8Slot(0, 1, 0)
            b.PrependUint8Slot(2, seg_type, 0)
            b.PrependUOffsetTRelativeSlot(3, seg_off, 0)
            b.PrependUint8Slot(4, idx_type, 0)
            b.PrependUOffsetTRelativeSlot(5, idx_off, 0)
            metas.append(b.EndObject())
        vectors = []
        for values, prepend in ((order, b.PrependInt32), (block_map, b.PrependInt32)):
            b.StartVector(4, len(values), 4)
            for v in reversed(values):
                prepend(v)
            vectors.append(b.EndVector())
        b.StartVector(4, len(metas), 4)
        for m in reversed(metas):
            b.PrependUOffsetTRelative(m)
        meta_vec = b.EndVector()
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, vectors[0], 0)
        if block_map:
            b.PrependUOffsetTRelativeSlot(1, vectors[1], 0)
        b.PrependUOffsetTRelativeSlot(2, meta_vec, 0)
        return b.EndObject()
    return build


def csr(w):
    """Row-compressed `w`: its sparsity and the stored values in order."""
    segments, indices, values = [0], [], []
    for row in w:
        for j, v in enumerate(row):
            if v != 0:
                indices.append(j)
                values.append(v)
        segments.append(len(indices))
    layout = sparsity([0, 1], [], [("dense", UNITS), ("csr", index_vector(segments, "i32"), index_vector(indices, "u8"))])
    return layout, np.array(values)


def blocked(w, block=4):
    """`w` in 1 x `block` blocks, the block columns row-compressed."""
    segments, indices, values = [0], [], []
    for row in w:
        for j in range(DEPTH // block):
            chunk = row[j * block:(j + 1) * block]
            if np.any(chunk != 0):
                indices.append(j)
                values.extend(chunk)
        segments.append(len(indices))
    layout = sparsity([0, 1, 2], [1], [("dense", UNITS), ("csr", index_vector(segments, "i32"), index_vector(indices, "i32")),
                                       ("dense", block)])
    return layout, np.array(values)


def fc_options(b):
    b.StartObject(4)
    return b.EndObject()


def model(storage, dtype, layout, values, quant=None):
    """x [1, DEPTH] -> FULLY_CONNECTED with DENSIFY(sparse weights) -> [1, UNITS]."""
    g = GraphBuilder()
    s = g.subgraph()
    act_q = (0.05, 3) if dtype == INT8 else None
    x = s.tensor("x", [1, DEPTH], dtype, act_q)
    raw = values.astype({FLOAT32: "<f4", FLOAT16: "<f2", INT8: "i1"}[storage]).tobytes()
    w_sparse = s.tensor("w_sparse", [UNITS, DEPTH], storage, quant, data=raw, sparsity=layout)
    w_dense = s.tensor("w_dense", [UNITS, DEPTH], storage, quant)
    s.op(DENSIFY, [w_sparse], [w_dense])
    if storage == FLOAT16:
        w = s.tensor("w", [UNITS, DEPTH], FLOAT32)
        s.op(DEQUANTIZE, [w_dense], [w])
    else:
        w = w_dense
    y = s.tensor("y", [1, UNITS], dtype, (0.1, -2) if dtype == INT8 else None)
    s.op(FULLY_CONNECTED, [x, w, -1], [y], OPTIONS["fc"], fc_options)
    s.inputs, s.outputs = [x], [y]
    return g.finish()


def models():
    w = weights()
    csr_layout, csr_values = csr(w)
    block_layout, block_values = blocked(w)
    scale = 0.02
    quantised = np.round(block_values / scale)
    return [
        ("densify_csr_f32", model(FLOAT32, FLOAT32, csr_layout, csr_values)),
        ("densify_block_f32", model(FLOAT32, FLOAT32, block_layout, block_values)),
        ("densify_block_f16", model(FLOAT16, FLOAT32, block_layout, block_values)),
        ("densify_block_int8", model(INT8, INT8, block_layout, quantised, quant=(scale, 0))),
    ]
