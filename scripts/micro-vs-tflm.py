#!/usr/bin/env python3
"""Speed and arena of engine `micro` against TFLite Micro's reference
interpreter, on the same machine, model and input, in one run.

For each real model with goldens (tests/goldens/manifest.json: fetched and
MLPerf Tiny models, not the single-operator ones), or the model file names
given after N and ROUNDS, it takes the
first golden input and, in ROUNDS alternating rounds, times N invoke() calls
of TFLite Micro's Python interpreter and runs `vlab bench --engine micro` on
a dataset of the same input repeated N times. It prints the median over the
rounds of each side's median, their ratio, the range of the per-round
ratios (the shared machine's noise), and both arena sizes, as a Markdown
table. Run it through scripts/micro-vs-tflm.sh [N] [ROUNDS] [MODEL...].
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
from tflite_micro.python.tflite_micro import runtime

ROOT = pathlib.Path(__file__).resolve().parent.parent
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
VLAB = ROOT / "target" / "release" / "vlab"
# The MLPerf Tiny reference data: VLAB_REFERENCE_DATA (relative to the
# repository root), by default ../shared/mlperf-tiny beside the repository.
SHARED = ROOT / os.environ.get("VLAB_REFERENCE_DATA", "../shared/mlperf-tiny")


def model_path(name):
    fetched = ROOT / "models" / name
    return fetched if fetched.exists() else SHARED / name


def tflm_median(path, sample):
    interpreter = runtime.Interpreter.from_file(str(path), arena_size=4 * 1024 * 1024)
    detail = interpreter.get_input_details(0)
    x = np.frombuffer(sample, dtype=detail["dtype"]).reshape(tuple(detail["shape"]))
    interpreter.set_input(x, 0)
    for _ in range(5):
        interpreter.invoke()
    times = []
    for _ in range(N):
        start = time.perf_counter_ns()
        interpreter.invoke()
        times.append(time.perf_counter_ns() - start)
    return float(np.median(times))


def micro_median(path, sample):
    with tempfile.TemporaryDirectory() as tmp:
        dataset = pathlib.Path(tmp) / "dataset.bin"
        dataset.write_bytes(sample * N)
        out = subprocess.run(
            [VLAB, "bench", "--engine", "micro", "--model", path, "--dataset", dataset,
             "--warmup", "5", "--out", pathlib.Path(tmp) / "out", "--json"],
            check=True, capture_output=True, text=True).stdout
        return json.loads(out)["timing"]["statistics"]["median"]


def main():
    manifest = json.loads((ROOT / "tests" / "goldens" / "manifest.json").read_text())
    chosen = sys.argv[3:]
    names = chosen or sorted(n for n in manifest["models"] if model_path(n).exists())
    arenas = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "vlab-micro", "--example", "arena", "--"]
        + [str(model_path(n)) for n in names],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout
    arena = {pathlib.Path(line.split("\t")[0]).name: line.split("\t")[1] for line in arenas.splitlines()}
    print("| model | TFLite Micro median | micro median | speed-up | per-round range | micro arena "
          "| TFLite Micro arena (activations / total) |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        entry = manifest["models"][name]
        inputs = (ROOT / "tests" / "goldens" / f"{name}.inputs.bin").read_bytes()
        sample = inputs[: len(inputs) // entry["samples"]]
        path = model_path(name)
        rounds = [(tflm_median(path, sample), micro_median(path, sample)) for _ in range(ROUNDS)]
        tflm = float(np.median([t for t, _ in rounds]))
        micro = float(np.median([m for _, m in rounds]))
        ratios = [t / m for t, m in rounds]
        print(f"| {name} | {tflm / 1e3:.1f} us | {micro / 1e3:.1f} us | {tflm / micro:.2f}x "
              f"| {min(ratios):.2f}-{max(ratios):.2f}x | {arena[name]} B "
              f"| {entry['tflm_arena_head_bytes']} / {entry['tflm_arena_total_bytes']} B |")


if __name__ == "__main__":
    main()
