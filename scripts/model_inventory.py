#!/usr/bin/env python3
"""Inventory of .tflite models: what an interpreter needs to run them.

    .venv/goldens/bin/python scripts/model_inventory.py MODEL.tflite... [--json] [--no-run]

For each model it prints the subgraph, tensor and operator counts, the
tensor types, every builtin or custom operator with the types it is used
with (inputs -> outputs, `const` marking constant inputs), whether the
model has resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE)
and float16 weights, and whether TFLite Micro's Python interpreter (PyPI
`tflite-micro`, the version scripts/goldens.sh pins) loads and runs it on a
seeded input, with TFLite Micro's error if it does not; the same for
LiteRT's interpreter (PyPI `ai-edge-litert`) on its reference kernels.
`--json` prints one JSON object instead (docs/model-coverage.md is written
from it). The flatbuffer is read with the PyPI `tflite` package (pure-Python
schema bindings, pinned in scripts/goldens.sh); run it in .venv/goldens.
"""
import argparse
import collections
import contextlib
import ctypes
import hashlib
import json
import os
import pathlib
import sys
import tempfile

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

TYPE_NAMES = {v: k.lower() for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
RESOURCE_OPS = {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}


def op_name(model, op):
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        return "CUSTOM:" + code.CustomCode().decode()
    return BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")


def inventory(data):
    """Static facts about the model, from the flatbuffer alone."""
    model = tflite.Model.GetRootAsModel(data, 0)
    ops = collections.OrderedDict()  # name -> {"count", "signatures"}
    tensor_types = collections.Counter()
    tensors = operators = 0
    float16_constants = variable_tensors = 0
    for s in range(model.SubgraphsLength()):
        g = model.Subgraphs(s)
        tensors += g.TensorsLength()
        operators += g.OperatorsLength()

        def is_const(t):
            b = model.Buffers(t.Buffer())
            return t.Buffer() != 0 and b is not None and (b.DataLength() > 0 or b.Offset() > 1)

        for t in range(g.TensorsLength()):
            tensor = g.Tensors(t)
            kind = TYPE_NAMES.get(tensor.Type(), str(tensor.Type()))
            tensor_types[kind] += 1
            if kind == "float16" and is_const(tensor):
                float16_constants += 1
            variable_tensors += bool(tensor.IsVariable())
        for o in range(g.OperatorsLength()):
            op = g.Operators(o)
            name = op_name(model, op)

            def types(indices, const_marks):
                out = []
                for i in indices:
                    if i < 0:
                        out.append("-")
                        continue
                    t = g.Tensors(int(i))
                    kind = TYPE_NAMES.get(t.Type(), str(t.Type()))
                    out.append(kind + ("(const)" if const_marks and is_const(t) else ""))
                return ",".join(out)

            ins = op.InputsAsNumpy() if op.InputsLength() else []
            outs = op.OutputsAsNumpy() if op.OutputsLength() else []
            sig = f"{types(ins, True)} -> {types(outs, False)}"
            entry = ops.setdefault(name, {"count": 0, "signatures": collections.Counter()})
            entry["count"] += 1
            entry["signatures"][sig] += 1
    main = model.Subgraphs(0)

    def io(indices):
        return [
            {
                "name": main.Tensors(int(i)).Name().decode(),
                "dtype": TYPE_NAMES.get(main.Tensors(int(i)).Type()),
                "shape": [int(x) for x in main.Tensors(int(i)).ShapeAsNumpy()] if main.Tensors(int(i)).ShapeLength() else [],
            }
            for i in indices
        ]

    activations = sorted(
        {t for t in tensor_types if t in ("float32", "int8", "uint8", "int16")}
    )
    if float16_constants:
        precision = "float16 weights"
    elif "float32" in activations and ({"int8", "uint8", "int16"} & set(activations)):
        precision = "mixed"
    else:
        precision = "/".join(activations) or "?"
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "subgraphs": model.SubgraphsLength(),
        "tensors": tensors,
        "operators": operators,
        "precision": precision,
        "tensor_types": dict(sorted(tensor_types.items())),
        "float16_constants": float16_constants,
        "resource_variables": bool(RESOURCE_OPS & set(ops)),
        "variable_tensors": variable_tensors,
        "inputs": io(main.InputsAsNumpy() if main.InputsLength() else []),
        "outputs": io(main.OutputsAsNumpy() if main.OutputsLength() else []),
        "ops": {
            k: {"count": v["count"], "signatures": dict(v["signatures"])} for k, v in ops.items()
        },
    }


@contextlib.contextmanager
def captured_output():
    """Captures what C++ code prints on file descriptors 1 and 2."""
    with tempfile.TemporaryFile(mode="w+") as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        text = []
        try:
            yield text
        finally:
            ctypes.CDLL(None).fflush(None)
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            tmp.seek(0)
            text.append(tmp.read())


def seeded(shape, dtype, rng):
    if np.issubdtype(dtype, np.floating):
        return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=np.int64).astype(dtype)


def first_error(text, exc):
    """TFLite Micro's own message (it prints it) before the Python exception."""
    lines = [l.strip() for l in text.splitlines() if l.strip() and "Arena allocation" not in l]
    message = "; ".join(lines[:3])
    return (message + " | " if message else "") + str(exc).splitlines()[0][:200]


def run_tflm(data):
    from tflite_micro.python.tflite_micro import runtime

    text = []
    try:
        with captured_output() as text:
            it = runtime.Interpreter.from_bytes(data, arena_size=16 * 1024 * 1024)
            rng = np.random.default_rng(0)
            i = 0
            while True:
                try:
                    d = it.get_input_details(i)
                except Exception:
                    break
                it.set_input(seeded(tuple(d["shape"]), d["dtype"], rng), i)
                i += 1
            it.invoke()
            it.get_output(0)
    except Exception as e:  # TFLite Micro refuses the model
        return {"runs": False, "error": first_error(text[0] if text else "", e)}
    return {"runs": True}


def run_litert(data):
    from ai_edge_litert import interpreter as litert

    try:
        it = litert.Interpreter(
            model_content=data,
            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
        )
        it.allocate_tensors()
        rng = np.random.default_rng(0)
        for d in it.get_input_details():
            it.set_tensor(d["index"], seeded(tuple(d["shape"]), d["dtype"], rng))
        it.invoke()
    except Exception as e:
        return {"runs": False, "error": str(e).splitlines()[0][:200]}
    return {"runs": True}


def describe(name, info):
    lines = [
        f"{name}: {info['bytes']} bytes, sha256 {info['sha256'][:12]}, {info['precision']}",
        f"  subgraphs {info['subgraphs']}  tensors {info['tensors']}  operators {info['operators']}"
        f"  resource variables {'yes' if info['resource_variables'] else 'no'}"
        f"  float16 constants {info['float16_constants']}",
        "  tensor types: " + ", ".join(f"{k} {v}" for k, v in info["tensor_types"].items()),
        "  inputs:  " + "; ".join(f"{t['name']} {t['dtype']}{t['shape']}" for t in info["inputs"]),
        "  outputs: " + "; ".join(f"{t['name']} {t['dtype']}{t['shape']}" for t in info["outputs"]),
        "  operators:",
    ]
    for op, v in info["ops"].items():
        sigs = "; ".join(f"{s}" + (f" x{n}" if n > 1 else "") for s, n in v["signatures"].items())
        lines.append(f"    {op} x{v['count']}: {sigs}")
    for engine in ("tflite_micro", "litert"):
        if engine in info:
            r = info[engine]
            lines.append(f"  {engine}: " + ("runs" if r["runs"] else f"refuses: {r['error']}"))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", type=pathlib.Path)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-run", action="store_true", help="only parse; run no interpreter")
    args = p.parse_args()
    report = {}
    for path in args.models:
        data = path.read_bytes()
        info = inventory(data)
        if not args.no_run:
            info["tflite_micro"] = run_tflm(data)
            info["litert"] = run_litert(data)
        report[path.name] = info
        if not args.json:
            print(describe(path.name, info))
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
