#!/usr/bin/env python3
"""vlab's latency next to each engine's own Python timing loop, same run.

For every fetched model and engine setting, ROUNDS alternating rounds of
`vlab bench` (its median of ITERATIONS timed inferences) and a Python loop
timed with perf_counter_ns around the inference call only, on one thread:

- ort: onnxruntime's InferenceSession.run (same library file as vlab; 1
  intra-op and 1 inter-op thread, ORT_ENABLE_ALL, CPU provider).
- tflite: TfLiteInterpreterInvoke of the same libtensorflowlite_c.so vlab
  loads, called through ctypes (1 thread, the XNNPACK delegate on or off as
  vlab's --xnnpack), and LiteRT's Python Interpreter.invoke
  (ai-edge-litert, its own TFLite build; XNNPACK on: the default op
  resolver, off: BUILTIN_WITHOUT_DEFAULT_DELEGATES).

Prints a markdown table of medians over the rounds and the ratios.
Usage: scripts/fidelity.sh (it sets up the venv and runs this).
"""
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from ai_edge_litert import interpreter as litert

ROUNDS, ITERATIONS, WARMUP = 21, 100, 10
# Both sides run on this CPU, so a migration between cores (or a busy
# neighbour on the other core) cannot favour one of them.
CPU = 1
ONNX = [("light_squeezenet.onnx", {}), ("silero_vad.onnx", {"input": (1, 576), "state": (2, 1, 128), "sr": 16000})]
TFLITE = ["models/keyword_spotting.tflite", "models/image_classification.tflite",
          "models/anomaly_detection.tflite", "models/tiny_cnn.tflite", "models/tflite_micro_speech.tflite",
          # One RELU on 48 floats: the engine's work is ~0.2 us, so the
          # Python median is mostly the cost of one call from Python.
          "tests/goldens/ops/relu_f32.tflite"]


def random_feed(dtype, shape, rng):
    if np.issubdtype(dtype, np.floating):
        return rng.uniform(-1, 1, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def time_loop(call):
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(ITERATIONS):
        start = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times)


def ort_medians(path, fixed):
    """InferenceSession.run, and run_with_iobinding with the inputs and
    outputs bound once (no per-call feed conversion or new numpy outputs)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    types = {"tensor(float)": np.float32, "tensor(int64)": np.int64}
    feeds = {}
    for i in session.get_inputs():
        given = fixed.get(i.name)
        if isinstance(given, int):
            feeds[i.name] = np.array(given, dtype=types[i.type])
        else:
            feeds[i.name] = random_feed(types[i.type], given or i.shape, rng)
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    for o in session.get_outputs():
        binding.bind_output(o.name)
    return (time_loop(lambda: session.run(None, feeds)),
            time_loop(lambda: session.run_with_iobinding(binding)))


class TfliteC:
    """TensorFlow Lite's C API through ctypes: the library vlab loads."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        p = ctypes.c_void_p
        for name, res, args in [
            ("TfLiteModelCreateFromFile", p, [ctypes.c_char_p]),
            ("TfLiteInterpreterOptionsCreate", p, []),
            ("TfLiteInterpreterOptionsSetNumThreads", None, [p, ctypes.c_int32]),
            ("TfLiteInterpreterOptionsAddDelegate", None, [p, p]),
            ("TfLiteInterpreterCreate", p, [p, p]),
            ("TfLiteInterpreterAllocateTensors", ctypes.c_int, [p]),
            ("TfLiteInterpreterGetInputTensorCount", ctypes.c_int32, [p]),
            ("TfLiteInterpreterGetInputTensor", p, [p, ctypes.c_int32]),
            ("TfLiteTensorByteSize", ctypes.c_size_t, [p]),
            ("TfLiteTensorType", ctypes.c_int, [p]),
            ("TfLiteTensorCopyFromBuffer", ctypes.c_int, [p, p, ctypes.c_size_t]),
            ("TfLiteInterpreterInvoke", ctypes.c_int, [p]),
            ("TfLiteXNNPackDelegateOptionsDefault", XnnpackOptions, []),
            ("TfLiteXNNPackDelegateCreate", p, [ctypes.POINTER(XnnpackOptions)]),
        ]:
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        self.lib = lib

    def median(self, path, xnnpack):
        lib = self.lib
        model = lib.TfLiteModelCreateFromFile(path.encode())
        options = lib.TfLiteInterpreterOptionsCreate()
        lib.TfLiteInterpreterOptionsSetNumThreads(options, 1)
        if xnnpack:
            xo = lib.TfLiteXNNPackDelegateOptionsDefault()
            xo.num_threads = 1
            lib.TfLiteInterpreterOptionsAddDelegate(options, lib.TfLiteXNNPackDelegateCreate(ctypes.byref(xo)))
        interp = lib.TfLiteInterpreterCreate(model, options)
        assert interp and lib.TfLiteInterpreterAllocateTensors(interp) == 0
        rng = np.random.default_rng(0)
        for i in range(lib.TfLiteInterpreterGetInputTensorCount(interp)):
            t = lib.TfLiteInterpreterGetInputTensor(interp, i)
            size = lib.TfLiteTensorByteSize(t)
            if lib.TfLiteTensorType(t) == 1:  # kTfLiteFloat32: values in [-1, 1)
                data = rng.uniform(-1, 1, size // 4).astype(np.float32).view(np.uint8)
            else:
                data = rng.integers(0, 256, size, dtype=np.uint8)
            lib.TfLiteTensorCopyFromBuffer(t, data.ctypes.data, data.size)
        invoke = lib.TfLiteInterpreterInvoke
        return time_loop(lambda: invoke(interp))


class XnnpackOptions(ctypes.Structure):
    # num_threads and flags lead in every release; the rest gets room.
    _fields_ = [("num_threads", ctypes.c_int32), ("flags", ctypes.c_uint32), ("rest", ctypes.c_uint64 * 30)]


def litert_median(path, xnnpack):
    resolver = (litert.OpResolverType.AUTO if xnnpack
                else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it = litert.Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in it.get_input_details():
        it.set_tensor(d["index"], random_feed(d["dtype"], d["shape"], rng))
    return time_loop(it.invoke)


def vlab_median(vlab, args):
    out = subprocess.run(
        ["taskset", "-c", str(CPU), vlab, "bench", *args, "--iterations", str(ITERATIONS), "--warmup", str(WARMUP),
         "--out", "target/fidelity", "--json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["timing"]["statistics"]["median"]


def rounds(pairs):
    """Median over ROUNDS of each timing function (element-wise for those
    returning tuples), called in alternation."""
    results = [[] for _ in pairs]
    for _ in range(ROUNDS):
        for slot, f in zip(results, pairs):
            slot.append(f())
    return [tuple(map(statistics.median, zip(*r))) if isinstance(r[0], tuple) else statistics.median(r)
            for r in results]


def us(ns):
    return f"{ns / 1e3:.2f} us" if ns < 10_000 else f"{ns / 1e3:.1f} us"


def main():
    vlab, tflite_lib = sys.argv[1], sys.argv[2]
    os.sched_setaffinity(0, {CPU})
    print(f"onnxruntime {ort.__version__}; TFLite C library {os.path.basename(tflite_lib)}; "
          f"{ROUNDS} alternating rounds of {ITERATIONS} inferences, 1 thread, all on CPU {CPU}")
    print()
    print("| model | engine | vlab median | Python median | vlab / Python |")
    print("|---|---|---|---|---|")
    for name, fixed in ONNX:
        path = f"models/{name}"
        a, pair = rounds([lambda: vlab_median(vlab, ["--engine", "ort", "--model", path]),
                          lambda: ort_medians(path, fixed)])
        b, c = pair
        print(f"| {name} | ort (InferenceSession.run) | {us(a)} | {us(b)} | {a / b:.3f} |")
        print(f"| {name} | ort (run_with_iobinding) | {us(a)} | {us(c)} | {a / c:.3f} |", flush=True)
    c_api = TfliteC(tflite_lib)
    for path in TFLITE:
        name = os.path.basename(path)
        for xnnpack in (True, False):
            flag = "on" if xnnpack else "off"
            a, b, c = rounds([
                lambda: vlab_median(vlab, ["--engine", "tflite", "--xnnpack", flag, "--model", path]),
                lambda: c_api.median(path, xnnpack),
                lambda: litert_median(path, xnnpack)])
            print(f"| {name} | tflite XNNPACK {flag} (same library, ctypes invoke) | {us(a)} | {us(b)} | {a / b:.3f} |")
            print(f"| {name} | tflite XNNPACK {flag} (LiteRT Interpreter.invoke) | {us(a)} | {us(c)} | {a / c:.3f} |",
                  flush=True)


if __name__ == "__main__":
    main()
