#!/usr/bin/env python3
"""Writes tiny single-operator .tflite models into tests/goldens/ops/, for
conformance tests of operators and options the fetched models do not use.

The models are built with the flatbuffers builder directly from the TFLite
schema's field numbers, so no TensorFlow is needed. scripts/goldens.py then
runs them through TFLite Micro like every other model.
"""
import pathlib

import flatbuffers
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "goldens" / "ops"
# Models vlab-micro must refuse at load time, naming the operator; no goldens.
UNSUPPORTED = OUT.parent.parent / "models" / "unsupported"
# Models that load but whose arena (4 MiB) is larger than any board's RAM.
LARGE = OUT.parent.parent / "models"

FLOAT32, INT32, INT8 = 0, 2, 9
ADD, AVERAGE_POOL_2D, CONCATENATION, LOGISTIC, MAX_POOL_2D, MUL = 0, 1, 2, 14, 17, 18
RELU, RELU6, TANH, PAD, MEAN = 19, 21, 28, 34, 40
GELU = 150
OPTIONS = {"pool": 5, "concat": 10, "add": 11, "mul": 21, "pad": 22, "reducer": 27}


class ModelBuilder:
    """One subgraph, one operator."""

    def __init__(self):
        self.b = flatbuffers.Builder(1024)
        self.tensors, self.buffers = [], [b""]

    def vector(self, values, kind):
        size, prepend = {"i32": (4, "PrependInt32"), "f32": (4, "PrependFloat32"), "i64": (8, "PrependInt64"),
                         "u8": (1, "PrependUint8"), "off": (4, "PrependUOffsetTRelative")}[kind]
        self.b.StartVector(size, len(values), size)
        for v in reversed(values):
            getattr(self.b, prepend)(v)
        return self.b.EndVector()

    def tensor(self, name, shape, dtype, quant=None, data=None, signature=None):
        """Adds a tensor; `data` (bytes) makes it a constant; `signature` is
        its shape_signature, -1 for a dynamic dimension."""
        buffer = 0
        if data is not None:
            self.buffers.append(data)
            buffer = len(self.buffers) - 1
        self.tensors.append((name, shape, dtype, quant, buffer, signature))
        return len(self.tensors) - 1

    def finish(self, opcode, inputs, outputs, options_type=0, options=None):
        b = self.b
        buffers = []
        for data in self.buffers:
            vec = self.vector(list(data), "u8") if data else None
            b.StartObject(3)
            if vec is not None:
                b.PrependUOffsetTRelativeSlot(0, vec, 0)
            buffers.append(b.EndObject())
        tensors = []
        for name, shape, dtype, quant, buffer, signature in self.tensors:
            name_off = b.CreateString(name)
            shape_off = self.vector(shape, "i32")
            signature_off = self.vector(signature, "i32") if signature is not None else None
            q_off = None
            if quant is not None:
                scale = self.vector([quant[0]], "f32")
                zp = self.vector([quant[1]], "i64")
                b.StartObject(7)
                b.PrependUOffsetTRelativeSlot(2, scale, 0)
                b.PrependUOffsetTRelativeSlot(3, zp, 0)
                q_off = b.EndObject()
            b.StartObject(8)
            b.PrependUOffsetTRelativeSlot(0, shape_off, 0)
            b.PrependInt8Slot(1, dtype, -1)
            b.PrependUint32Slot(2, buffer, 0xFFFFFFFF)
            b.PrependUOffsetTRelativeSlot(3, name_off, 0)
            if q_off is not None:
                b.PrependUOffsetTRelativeSlot(4, q_off, 0)
            if signature_off is not None:
                b.PrependUOffsetTRelativeSlot(7, signature_off, 0)
            tensors.append(b.EndObject())
        opts = options(b) if options else None
        op_in, op_out = self.vector(inputs, "i32"), self.vector(outputs, "i32")
        b.StartObject(5)
        b.PrependUint32Slot(0, 0, 1)
        b.PrependUOffsetTRelativeSlot(1, op_in, 0)
        b.PrependUOffsetTRelativeSlot(2, op_out, 0)
        if opts is not None:
            b.PrependUint8Slot(3, options_type, 0)
            b.PrependUOffsetTRelativeSlot(4, opts, 0)
        operator = b.EndObject()
        graph_inputs = [i for i in inputs if self.tensors[i][4] == 0]
        sg_tensors, sg_in = self.vector(tensors, "off"), self.vector(graph_inputs, "i32")
        sg_out, sg_ops = self.vector(outputs, "i32"), self.vector([operator], "off")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, sg_tensors, 0)
        b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
        b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
        b.PrependUOffsetTRelativeSlot(3, sg_ops, 0)
        subgraph = b.EndObject()
        b.StartObject(4)
        b.PrependInt8Slot(0, min(opcode, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, opcode, 0)
        code = b.EndObject()
        codes, subgraphs, bufs = self.vector([code], "off"), self.vector([subgraph], "off"), self.vector(buffers, "off")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, codes, 0)
        b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
        b.PrependUOffsetTRelativeSlot(4, bufs, 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())


def unary(name, opcode, dtype, in_q, out_q, shape=(1, 4, 4, 3), signature=None):
    m = ModelBuilder()
    x = m.tensor("x", list(shape), dtype, in_q, signature=signature)
    y = m.tensor("y", list(shape), dtype, out_q, signature=signature)
    return name, m.finish(opcode, [x], [y])


def mean(name, dtype, in_q, out_q, keep_dims):
    m = ModelBuilder()
    x = m.tensor("x", [1, 5, 4, 3], dtype, in_q)
    axes = m.tensor("axes", [2], INT32, data=np.array([1, 2], dtype="<i4").tobytes())
    y = m.tensor("y", [1, 1, 1, 3] if keep_dims else [1, 3], dtype, out_q)

    def options(b):
        b.StartObject(1)
        b.PrependBoolSlot(0, keep_dims, False)
        return b.EndObject()
    return name, m.finish(MEAN, [x, axes], [y], OPTIONS["reducer"], options)


def binary(name, opcode, dtype, qa, qb, qo, shape_b, kind):
    m = ModelBuilder()
    a = m.tensor("a", [1, 3, 4, 2], dtype, qa)
    c = m.tensor("b", shape_b, dtype, qb)
    y = m.tensor("y", [1, 3, 4, 2], dtype, qo)

    def options(b):
        b.StartObject(1)
        b.PrependInt8Slot(0, 1, 0)  # fused RELU
        return b.EndObject()
    return name, m.finish(opcode, [a, c], [y], OPTIONS[kind], options)


def max_pool(name, dtype, q):
    m = ModelBuilder()
    x = m.tensor("x", [1, 7, 7, 2], dtype, q)
    y = m.tensor("y", [1, 4, 4, 2], dtype, q)

    def options(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, 0, 0)  # SAME
        b.PrependInt32Slot(1, 2, 0)
        b.PrependInt32Slot(2, 2, 0)
        b.PrependInt32Slot(3, 3, 0)
        b.PrependInt32Slot(4, 3, 0)
        return b.EndObject()
    return name, m.finish(MAX_POOL_2D, [x], [y], OPTIONS["pool"], options)


def pad(name, dtype, q):
    m = ModelBuilder()
    x = m.tensor("x", [1, 3, 3, 2], dtype, q)
    pads = m.tensor("pads", [4, 2], INT32, data=np.array([0, 0, 1, 2, 2, 1, 0, 0], dtype="<i4").tobytes())
    y = m.tensor("y", [1, 6, 6, 2], dtype, q)
    return name, m.finish(PAD, [x, pads], [y], OPTIONS["pad"], lambda b: (b.StartObject(0), b.EndObject())[1])


def concat(name, dtype, q):
    m = ModelBuilder()
    a = m.tensor("a", [1, 2, 3, 2], dtype, q)
    c = m.tensor("b", [1, 2, 3, 3], dtype, q)
    y = m.tensor("y", [1, 2, 3, 5], dtype, q)

    def options(b):
        b.StartObject(2)
        b.PrependInt32Slot(0, 3, 0)
        return b.EndObject()
    return name, m.finish(CONCATENATION, [a, c], [y], OPTIONS["concat"], options)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    q = (0.05, 3)
    models = [
        unary("logistic_int8", LOGISTIC, INT8, (0.1, -5), (1 / 256, -128)),
        unary("tanh_int8", TANH, INT8, (0.06, 2), (1 / 128, 0)),
        unary("logistic_f32", LOGISTIC, FLOAT32, None, None),
        unary("tanh_f32", TANH, FLOAT32, None, None),
        unary("relu_int8", RELU, INT8, (0.1, -5), (0.07, -128)),
        unary("relu6_int8", RELU6, INT8, (0.1, -5), (0.1, -5)),
        unary("relu_f32", RELU, FLOAT32, None, None),
        mean("mean_keep_dims_int8", INT8, (0.05, 3), (0.04, -2), True),
        mean("mean_int8_same_quant", INT8, (0.05, 3), (0.05, 3), False),
        mean("mean_f32", FLOAT32, None, None, True),
        binary("mul_broadcast_int8", MUL, INT8, (0.05, 1), (0.03, -4), (0.02, 7), [1, 1, 1, 2], "mul"),
        binary("add_broadcast_int8", ADD, INT8, (0.05, 1), (0.03, -4), (0.06, 7), [1, 3, 1, 2], "add"),
        binary("mul_broadcast_f32", MUL, FLOAT32, None, None, None, [1, 1, 4, 1], "mul"),
        max_pool("max_pool_same_int8", INT8, q),
        pad("pad_int8", INT8, q),
        pad("pad_f32", FLOAT32, None),
        concat("concat_int8", INT8, q),
    ]
    for name, data in models:
        (OUT / f"{name}.tflite").write_bytes(data)
        print(f"op_models: {name}.tflite ({len(data)} bytes)")
    UNSUPPORTED.mkdir(parents=True, exist_ok=True)
    for name, data in [unary("gelu_f32", GELU, FLOAT32, None, None)]:
        (UNSUPPORTED / f"{name}.tflite").write_bytes(data)
        print(f"op_models: unsupported/{name}.tflite ({len(data)} bytes)")
    # A dynamic input: shape_signature [-1, -1] with the placeholder shape [1, 1].
    dynamic = unary("dynamic_relu_f32", RELU, FLOAT32, None, None, shape=(1, 1), signature=[-1, -1])
    for name, data in [unary("large_arena_f32", RELU, FLOAT32, None, None, shape=(1, 512, 512, 2)), dynamic]:
        (LARGE / f"{name}.tflite").write_bytes(data)
        print(f"op_models: {name}.tflite ({len(data)} bytes)")


if __name__ == "__main__":
    main()
