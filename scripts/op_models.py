#!/usr/bin/env python3
"""Writes tiny single-operator .tflite models into tests/goldens/ops/, for
conformance tests of every operator, data type and option case: the ones
below, and those of each operator family in scripts/op_cases/*.py (each
has `models()`, returning (name, bytes) pairs built with
scripts/tflite_builder.py). scripts/goldens.py then runs them through
TFLite Micro like every other model.
"""
import importlib
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "goldens" / "ops"
# Models vlab-micro must refuse at load time, naming the operator; no goldens.
UNSUPPORTED = OUT.parent.parent / "models" / "unsupported"
# Models that load but whose arena (4 MiB) is larger than any board's RAM.
LARGE = OUT.parent.parent / "models"

from tflite_builder import (ADD, AVERAGE_POOL_2D, CONCATENATION, FLOAT32, GELU, INT8, INT32, LOGISTIC,
                            MAX_POOL_2D, MEAN, MUL, OPTIONS, CONV_2D, FULLY_CONNECTED, PAD, RELU, RELU6, TANH, ModelBuilder)

def unary(name, opcode, dtype, in_q, out_q, shape=(1, 4, 4, 3), signature=None):
    m = ModelBuilder()
    x = m.tensor("x", list(shape), dtype, in_q, signature=signature)
    y = m.tensor("y", list(shape), dtype, out_q)
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


def image_conv(name, size=96, channels=3, filters=8):
    """A float32 image model the size of a small camera frame: one 3x3
    CONV_2D, stride 2, RELU. Its input (110,592 B at 96x96x3) is larger
    than any fixed staging buffer a board could afford."""
    rng = np.random.default_rng(96)
    m = ModelBuilder()
    x = m.tensor("image", [1, size, size, channels], FLOAT32)
    w = m.tensor("filter", [filters, 3, 3, channels], FLOAT32,
                 data=rng.uniform(-0.5, 0.5, (filters, 3, 3, channels)).astype("<f4").tobytes())
    bias = m.tensor("bias", [filters], FLOAT32, data=rng.uniform(-0.1, 0.1, filters).astype("<f4").tobytes())
    y = m.tensor("features", [1, size // 2, size // 2, filters], FLOAT32)

    def options(b):
        b.StartObject(6)
        b.PrependInt8Slot(0, 0, 0)  # SAME
        b.PrependInt32Slot(1, 2, 0)
        b.PrependInt32Slot(2, 2, 0)
        b.PrependInt8Slot(3, 1, 0)  # RELU
        return b.EndObject()
    return name, m.finish(CONV_2D, [x, w, bias], [y], OPTIONS["conv"], options)


def fc_weights_input(name):
    """FULLY_CONNECTED whose weights are a graph input, not a constant."""
    m = ModelBuilder()
    x = m.tensor("x", [2, 5], FLOAT32)
    w = m.tensor("w", [3, 5], FLOAT32)
    y = m.tensor("y", [2, 3], FLOAT32)

    def options(b):
        b.StartObject(4)
        b.PrependInt8Slot(0, 0, 0)
        return b.EndObject()
    return name, m.finish(FULLY_CONNECTED, [x, w], [y], OPTIONS["fc"], options)


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
        image_conv("image_96x96x3_f32"),
        fc_weights_input("fully_connected_weights_input_f32"),
    ]
    # One file per operator family in scripts/op_cases/, each with models().
    cases = pathlib.Path(__file__).resolve().parent / "op_cases"
    for case in sorted(cases.glob("[!_]*.py")):
        models += importlib.import_module(f"op_cases.{case.stem}").models()
    names = [name for name, _ in models]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        sys.exit(f"op_models: two cases named {sorted(duplicates)}")
    for name, data in models:
        (OUT / f"{name}.tflite").write_bytes(data)
        print(f"op_models: {name}.tflite ({len(data)} bytes)")
    UNSUPPORTED.mkdir(parents=True, exist_ok=True)
    # Three problems at once: two COMPLEX64 tensors and an operator vlab-micro lacks.
    refused = [unary("gelu_f32", GELU, FLOAT32, None, None), unary("gelu_complex64", GELU, 8, None, None)]
    # TFLite_Detection_PostProcess cases TFLite Micro cannot run either.
    refused += importlib.import_module("op_cases.detection").unsupported()
    for name, data in refused:
        (UNSUPPORTED / f"{name}.tflite").write_bytes(data)
        print(f"op_models: unsupported/{name}.tflite ({len(data)} bytes)")
    # A dynamic input: shape_signature [-1, -1] with the placeholder shape [1, 1].
    dynamic = unary("dynamic_relu_f32", RELU, FLOAT32, None, None, shape=(1, 1), signature=[-1, -1])
    for name, data in [unary("large_arena_f32", RELU, FLOAT32, None, None, shape=(1, 512, 512, 2)), dynamic]:
        (LARGE / f"{name}.tflite").write_bytes(data)
        print(f"op_models: {name}.tflite ({len(data)} bytes)")


if __name__ == "__main__":
    main()
