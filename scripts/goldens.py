#!/usr/bin/env python3
"""Regenerates tests/goldens/ with TFLite Micro's reference interpreter.

For every fetched .tflite model (models/), every MLPerf Tiny model in
../shared/mlperf-tiny/ and every single-operator model in tests/goldens/ops/
(written by scripts/op_models.py), it runs TFLite Micro's Python interpreter (PyPI
`tflite-micro`, pinned below) on 5 seeded inputs, plus the MLPerf Tiny
reference inputs where they apply, and writes for each model:

  <model>.inputs.bin   the inputs, concatenated: a vlab TYPE2 dataset
  <model>.outputs.bin  TFLite Micro's outputs, concatenated: the expected raw_output.bin

and tests/goldens/manifest.json with each model's sha256, sample count,
output type and TFLite Micro's arena use. Run it through scripts/goldens.sh,
which installs the pinned package into a venv.
"""
import contextlib
import ctypes
import hashlib
import json
import os
import pathlib
import re
import sys
import tempfile

import numpy as np
from tflite_micro.python.tflite_micro import runtime

TFLM_VERSION = "0.dev20261023182759"
SEEDS = range(5)
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "goldens"
SHARED = ROOT.parent / "shared" / "mlperf-tiny"


def reference_inputs(name):
    """MLPerf Tiny reference inputs, already in the model's input type."""
    if name == "kws_ref_model.tflite":
        return [np.fromfile(SHARED / "kws01_reference_inputs.int8.bin", dtype=np.int8)]
    image = np.fromfile(SHARED / "ic01_reference_inputs.uint8.bin", dtype=np.uint8)
    if name == "pretrainedResnet_quant.tflite":
        return [(image.astype(np.int16) - 128).astype(np.int8)]
    if name == "pretrainedResnet.tflite":
        return [image.astype(np.float32)]
    return []


def seeded_input(detail, seed):
    """Seeded random input: int8/uint8 over the full range, floats in [-1, 1)."""
    rng = np.random.default_rng(seed)
    shape, dtype = tuple(detail["shape"]), detail["dtype"]
    if dtype == np.float32:
        return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=np.int64).astype(dtype)


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


def input_details(interpreter):
    """Details of every graph input, in order."""
    details = []
    while True:
        try:
            details.append(interpreter.get_input_details(len(details)))
        except Exception:  # past the last input
            return details


def output_details(interpreter):
    """Details of every graph output, in order."""
    details = []
    while True:
        try:
            details.append(interpreter.get_output_details(len(details)))
        except Exception:  # past the last output
            return details


def golden(path):
    data = path.read_bytes()
    interpreter = runtime.Interpreter.from_bytes(data, arena_size=4 * 1024 * 1024)
    with captured_output():
        inputs = input_details(interpreter)
        outputs = output_details(interpreter)
    # A sample is every input's bytes in input order: vlab's dataset layout.
    samples = [[x] for x in reference_inputs(path.name)]
    samples += [[seeded_input(d, 1000 * s + i) for i, d in enumerate(inputs)] for s in SEEDS]
    ins, outs = bytearray(), bytearray()
    for sample in samples:
        for i, (x, d) in enumerate(zip(sample, inputs)):
            x = x.reshape(tuple(d["shape"])).astype(d["dtype"])
            interpreter.set_input(x, i)
            ins += x.tobytes()
        interpreter.invoke()
        for i in range(len(outputs)):
            outs += interpreter.get_output(i).tobytes()
    with captured_output() as text:
        interpreter.print_allocations()
    total = re.search(r"Arena allocation total (\d+) bytes", text[0])
    head = re.search(r"Arena allocation head (\d+) bytes", text[0])
    (OUT / f"{path.name}.inputs.bin").write_bytes(ins)
    (OUT / f"{path.name}.outputs.bin").write_bytes(outs)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "samples": len(samples),
        "reference_samples": len(samples) - len(SEEDS),
        "output_dtype": np.dtype(outputs[0]["dtype"]).name,
        # Every output of a sample, in order: the layout of raw_output.bin.
        "outputs": [{"dtype": np.dtype(o["dtype"]).name, "bytes": int(np.prod(o["shape"])) * np.dtype(o["dtype"]).itemsize}
                    for o in outputs],
        "tflm_arena_total_bytes": int(total.group(1)) if total else None,
        "tflm_arena_head_bytes": int(head.group(1)) if head else None,
    }


def main():
    """Regenerates every golden, or with model file names as arguments only
    those (the other entries of the manifest are kept)."""
    OUT.mkdir(parents=True, exist_ok=True)
    models = (
        sorted((ROOT / "models").glob("*.tflite"))
        + sorted(SHARED.glob("*.tflite"))
        + sorted((OUT / "ops").glob("*.tflite"))
    )
    only = set(sys.argv[1:])
    manifest = {"tflite_micro": TFLM_VERSION, "models": {}, "unsupported_by_tflite_micro": {}}
    if only:
        manifest = json.loads((OUT / "manifest.json").read_text())
        models = [m for m in models if m.name in only]
        for section in ("models", "unsupported_by_tflite_micro"):
            for name in only:
                manifest[section].pop(name, None)
    for path in models:
        try:
            manifest["models"][path.name] = golden(path)
            print(f"goldens: {path.name}: {manifest['models'][path.name]['samples']} samples")
        except Exception as e:  # TFLite Micro refuses the model: record why.
            manifest["unsupported_by_tflite_micro"][path.name] = str(e).splitlines()[0][:200]
            print(f"goldens: {path.name}: TFLite Micro cannot run it: {e}")
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
