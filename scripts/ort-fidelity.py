#!/usr/bin/env python3
"""vlab's ONNX Runtime latency next to ONNX Runtime's own Python timing loop.

For each model, ROUNDS alternating rounds: `vlab bench --engine ort` (its
median of ITERATIONS timed inferences) and a Python loop over
`InferenceSession.run` with the same session options (1 intra-op and 1
inter-op thread, all graph optimisations), timed with perf_counter_ns around
`run` only. Prints the median of each side over the rounds and their ratio.
Usage: scripts/ort-fidelity.sh (it runs this in .venv/engines).
"""
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROUNDS, ITERATIONS, WARMUP = 5, 200, 10
MODELS = ["models/light_squeezenet.onnx"]


def python_median(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.uniform(-1, 1, i.shape).astype(np.float32) for i in session.get_inputs()}
    for _ in range(WARMUP):
        session.run(None, feeds)
    times = []
    for _ in range(ITERATIONS):
        start = time.perf_counter_ns()
        session.run(None, feeds)
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times)


def vlab_median(vlab, path):
    out = subprocess.run(
        [vlab, "bench", "--engine", "ort", "--model", path, "--iterations", str(ITERATIONS),
         "--warmup", str(WARMUP), "--out", "target/ort-fidelity", "--json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["timing"]["statistics"]["median"]


def main():
    vlab = sys.argv[1]
    print(f"onnxruntime {ort.__version__}, {ROUNDS} alternating rounds of {ITERATIONS} inferences")
    print("| model | vlab median | Python InferenceSession.run median | vlab / Python |")
    print("|---|---|---|---|")
    for path in MODELS:
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(vlab_median(vlab, path))
            theirs.append(python_median(path))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {path.split('/')[-1]} | {a / 1e3:.1f} us | {b / 1e3:.1f} us | {a / b:.3f} |")


if __name__ == "__main__":
    main()
