#!/usr/bin/env python3
"""Regenerates tests/goldens/ with TFLite Micro's reference interpreter.

For every fetched .tflite model (models/), every MLPerf Tiny model in
../shared/mlperf-tiny/ (or VLAB_REFERENCE_DATA) and every single-operator
model in tests/goldens/ops/ (written by scripts/op_models.py), it runs
TFLite Micro's Python interpreter (PyPI `tflite-micro`, pinned below) on 5
seeded inputs, plus the MLPerf Tiny reference inputs where they apply, and
writes for each model:

  <model>.inputs.bin   the inputs, concatenated: a vlab TYPE2 dataset
  <model>.outputs.bin  TFLite Micro's outputs, concatenated: the expected raw_output.bin

and tests/goldens/manifest.json with each model's sha256, sample count,
output type and TFLite Micro's arena use. Run it through scripts/goldens.sh,
which installs the pinned packages into a venv.

`goldens.py MODEL.tflite...` (re)writes the goldens of just those models and
merges their entries into the manifest, leaving every other file and entry
as it is.

Beyond that base case:
- Models with float16 weights (DEQUANTIZE from float16) or sparse weights
  (DENSIFY), which TFLite Micro refuses, get their goldens from LiteRT's Python interpreter (PyPI
  `ai-edge-litert`, pinned below) on its builtin reference kernels, the
  closest LiteRT has to TFLite Micro's reference arithmetic; every entry
  says which reference produced it (`reference`, `reference_version`).
- Stateful models (resource variables: VAR_HANDLE, READ_VARIABLE,
  ASSIGN_VARIABLE; or variable tensors, the state of SVDF and LSTM) get
  STREAM_SAMPLES samples fed in order as one stream: one interpreter, fresh state at load, invoked sample after sample with the
  state carried over, never reset (`stateful: true`). A consumer must
  likewise run the samples in order from fresh state, with no inference
  before them.
- A sample holds every output in output order (vlab's raw_output.bin).
- Models with large inputs get fewer samples, so that a model's inputs stay
  within MAX_INPUT_BYTES (at least one sample); `samples` says how many.
- Models in PENDING_MICRO (real models whose operators vlab-micro does not
  implement yet) go under `models_pending_micro` instead of `models`:
  tests/cli/goldens.rs checks every entry of `models` against engine micro,
  so a model moves there once vlab-micro runs it.
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import model_inventory  # noqa: E402  (scripts/model_inventory.py)

TFLM_VERSION = "0.dev20261023182759"
LITERT_VERSION = "2.3.0"
SEEDS = range(5)
STREAM_SAMPLES = 32
STREAM_SEARCH = 1500
MAX_INPUT_BYTES = 512 * 1024
# Real models (models/fetch.sh) with goldens that vlab-micro cannot run yet.
PENDING_MICRO = set()
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "goldens"
# The MLPerf Tiny reference data: VLAB_REFERENCE_DATA (relative to the
# repository root), by default ../shared/mlperf-tiny beside the repository.
SHARED = ROOT / os.environ.get("VLAB_REFERENCE_DATA", "../shared/mlperf-tiny")


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
    """Seeded random input: integers over the full range, floats in [-1, 1), bools either."""
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


def tensor_details(get):
    """Details of every graph input (or output), in order."""
    details = []
    while True:
        try:
            details.append(get(len(details)))
        except Exception:  # past the last one
            return details


def input_details(interpreter):
    return tensor_details(interpreter.get_input_details)


class Tflm:
    """TFLite Micro's Python interpreter: the reference wherever it runs."""

    name, version = "tflite-micro", TFLM_VERSION

    def __init__(self, data):
        self.it = runtime.Interpreter.from_bytes(data, arena_size=4 * 1024 * 1024)
        with captured_output():  # the probe past the last one prints an error
            self.inputs = input_details(self.it)
            self.outputs = tensor_details(self.it.get_output_details)

    def run(self, sample):
        for i, x in enumerate(sample):
            self.it.set_input(x, i)
        self.it.invoke()
        return [self.it.get_output(i) for i in range(len(self.outputs))]

    def reset(self):
        self.it.reset()

    def arena(self):
        with captured_output() as text:
            self.it.print_allocations()
        total = re.search(r"Arena allocation total (\d+) bytes", text[0])
        head = re.search(r"Arena allocation head (\d+) bytes", text[0])
        return {
            "tflm_arena_total_bytes": int(total.group(1)) if total else None,
            "tflm_arena_head_bytes": int(head.group(1)) if head else None,
        }


class Litert:
    """LiteRT's interpreter on its builtin reference kernels (no XNNPACK)."""

    name, version = "litert", LITERT_VERSION

    def __init__(self, data):
        from ai_edge_litert import interpreter as litert

        self.it = litert.Interpreter(
            model_content=data, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF
        )
        self.it.allocate_tensors()
        self.inputs = self.it.get_input_details()
        self.outputs = self.it.get_output_details()

    def run(self, sample):
        for x, d in zip(sample, self.inputs):
            self.it.set_tensor(d["index"], x)
        self.it.invoke()
        return [self.it.get_tensor(d["index"]) for d in self.outputs]

    def reset(self):
        self.it.reset_all_variables()

    def arena(self):
        return {}


def stream_search(engine, seed):
    """A stream of STREAM_SAMPLES samples whose outputs depend on the state.

    Seeded random frames give a wake-word model all-zero outputs, which a
    stateless implementation would match as well. So, deterministically
    (seeded), STREAM_SEARCH times: replace one frame with random values in a
    random sub-range, replay the stream from fresh state, and keep the change
    unless the summed output drops. The outputs then rise above zero and
    differ from what the same samples give from fresh state.
    """
    rng = np.random.default_rng(seed)
    inputs = engine.inputs

    def frame():
        x = []
        for d in inputs:
            shape, dtype = tuple(d["shape"]), np.dtype(d["dtype"])
            if dtype.kind == "f":
                lo = rng.uniform(-1.0, 1.0)
                x.append(rng.uniform(lo, rng.uniform(lo, 1.0), size=shape).astype(dtype))
            else:
                info = np.iinfo(dtype)
                lo = int(rng.integers(info.min, info.max, endpoint=True))
                hi = int(rng.integers(lo, info.max, endpoint=True))
                x.append(rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64).astype(dtype))
        return x

    def score(stream):
        engine.reset()
        total = 0.0
        for sample in stream:
            for y in engine.run(sample):
                base = np.iinfo(y.dtype).min if y.dtype.kind in "iu" else 0
                total += float(np.sum(y.astype(np.float64) - base))
        return total

    stream = [[seeded_input(d, 1000 * s + i) for i, d in enumerate(inputs)] for s in range(STREAM_SAMPLES)]
    best = score(stream)
    for _ in range(STREAM_SEARCH):
        t = int(rng.integers(len(stream)))
        old, stream[t] = stream[t], frame()
        new = score(stream)
        if new >= best:
            best = new
        else:
            stream[t] = old
    return stream


def golden(path):
    data = path.read_bytes()
    info = model_inventory.inventory(data)
    refused, text = None, []
    try:
        with captured_output() as text:
            engine = Tflm(data)
    except Exception as e:
        if not (info["float16_constants"] or "DENSIFY" in info["ops"]):
            raise
        # float16 or sparse weights: TFLite Micro refuses them, LiteRT is the reference.
        refused = model_inventory.first_error(text[0] if text else "", e)
        engine = Litert(data)
    inputs, outputs = engine.inputs, engine.outputs
    # Resource variables, or variable tensors (SVDF's and LSTM's state).
    stateful = info["resource_variables"] or info["variable_tensors"] > 0
    sample_bytes = sum(int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize for d in inputs)
    if stateful:
        seeds = range(STREAM_SAMPLES)
    else:
        seeds = range(max(1, min(len(SEEDS), MAX_INPUT_BYTES // max(1, sample_bytes))))
    # A sample is every input's bytes in input order: vlab's dataset layout.
    samples = [[x] for x in reference_inputs(path.name)]
    if stateful:
        samples += stream_search(engine, 0)
        # The goldens come from a fresh interpreter, its state as loaded.
        engine = type(engine)(data)
    else:
        samples += [[seeded_input(d, 1000 * s + i) for i, d in enumerate(inputs)] for s in seeds]
    ins, outs = bytearray(), bytearray()
    # One interpreter for all samples, in order: a stateful model's samples
    # are one stream, its state fresh at load and carried from one to the next.
    for sample in samples:
        sample = [x.reshape(tuple(d["shape"])).astype(d["dtype"]) for x, d in zip(sample, inputs)]
        for x in sample:
            ins += x.tobytes()
        # Every output in output order, like vlab's raw_output.bin.
        for y in engine.run(sample):
            outs += y.tobytes()
    if stateful:
        # How many samples give other outputs than from fresh state.
        fresh, dependent, size = type(engine)(data), 0, len(outs) // len(samples)
        for k, sample in enumerate(samples):
            fresh.reset()
            sample = [x.reshape(tuple(d["shape"])).astype(d["dtype"]) for x, d in zip(sample, inputs)]
            got = b"".join(y.tobytes() for y in fresh.run(sample))
            dependent += got != bytes(outs[k * size:(k + 1) * size])
    (OUT / f"{path.name}.inputs.bin").write_bytes(ins)
    (OUT / f"{path.name}.outputs.bin").write_bytes(outs)
    entry = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "samples": len(samples),
        "reference_samples": len(samples) - len(seeds),
        "output_dtype": np.dtype(outputs[0]["dtype"]).name,
        # Every output of a sample, in order: the layout of raw_output.bin.
        "outputs": [
            {
                "dtype": np.dtype(d["dtype"]).name,
                "shape": [int(x) for x in d["shape"]],
                "bytes": int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize,
            }
            for d in outputs
        ],
        **(engine.arena() if isinstance(engine, Tflm) else {"tflm_arena_total_bytes": None, "tflm_arena_head_bytes": None}),
    }
    trimmed = len(seeds) < len(SEEDS)
    if engine.name != "tflite-micro" or stateful or trimmed or path.name in PENDING_MICRO:
        # Plain TFLite Micro entries leave these out, as they always have.
        entry.update(
            reference=engine.name,
            reference_version=engine.version,
            stateful=stateful,
        )
        if engine.name == "litert":
            entry["reference_kernels"] = "BUILTIN_REF"
        if refused:
            entry["tflite_micro_refuses"] = refused
        if stateful:
            entry["stream"] = "samples in order through one interpreter; state fresh at load, never reset"
            entry["stream_inputs"] = f"seeded frames, then a seeded {STREAM_SEARCH}-step search keeping frame changes that do not lower the summed output"
            entry["state_dependent_samples"] = dependent
        if trimmed:
            entry["trimmed"] = f"{len(seeds)} sample(s): inputs are {sample_bytes} bytes each"
    return entry


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    every = (
        sorted((ROOT / "models").glob("*.tflite"))
        + sorted(SHARED.glob("*.tflite"))
        + sorted((OUT / "ops").glob("*.tflite"))
    )
    # Arguments: model paths, or file names of the models above.
    by_name = {m.name: m for m in every}
    chosen = [by_name.get(a) or pathlib.Path(a).resolve() for a in sys.argv[1:]]
    models = chosen or every
    manifest = {"tflite_micro": TFLM_VERSION, "models": {}, "unsupported_by_tflite_micro": {}}
    if chosen:  # merge into the manifest as it is
        manifest = json.loads((OUT / "manifest.json").read_text())
    manifest.setdefault("models_pending_micro", {})
    for path in models:
        for section in ("models", "models_pending_micro", "unsupported_by_tflite_micro"):
            manifest[section].pop(path.name, None)
        section = "models_pending_micro" if path.name in PENDING_MICRO else "models"
        try:
            entry = golden(path)
            manifest[section][path.name] = entry
            print(f"goldens: {path.name}: {entry['samples']} samples from {entry.get('reference', 'tflite-micro')}")
        except Exception as e:  # neither reference runs the model: record why.
            manifest["unsupported_by_tflite_micro"][path.name] = str(e).splitlines()[0][:200]
            print(f"goldens: {path.name}: TFLite Micro cannot run it: {e}")
    if not manifest["models_pending_micro"]:
        del manifest["models_pending_micro"]
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
