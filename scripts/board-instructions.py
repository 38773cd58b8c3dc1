#!/usr/bin/env python3
"""Instructions per inference of vlab-micro on the emulated boards, from the
boards' own tick counts, next to the goals of docs/performance.md.

    scripts/board-instructions.sh [MODEL.tflite...]

For every model (default: every MLPerf Tiny model and every fetched .tflite
model that fits the board) and both emulated boards (qemu-mps2-an385,
Cortex-M3; qemu-mps2-an386, Cortex-M4F), it runs `vlab bench --board B
--per-layer` and prints:

- instructions per inference: the median of `device.samples_ticks` x 1.25
  (QEMU's `-icount shift=5`: 32 ns an instruction, SysTick at 25 MHz);
- per operator: its median (`layers[].median_ns` / 32 ns), and per
  multiply-accumulate (convolutions, fully connected) or per output element
  (everything else), the operator's MACs and outputs counted from the model.

Instruction counts are exact and repeat run to run; they are not cycles on
a real core (docs/performance.md says what they leave out). `VLAB` names
the vlab binary (default target/release/vlab, which the .sh builds);
`BOARDS` (space-separated) narrows the boards.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The MLPerf Tiny reference data: VLAB_REFERENCE_DATA (relative to the
# repository root), by default ../shared/mlperf-tiny beside the repository.
SHARED = ROOT / os.environ.get("VLAB_REFERENCE_DATA", "../shared/mlperf-tiny")
# `BOARDS="qemu-mps2-an386"` narrows the run to the boards named.
ALL_BOARDS = ("qemu-mps2-an385", "qemu-mps2-an386")
BOARDS = tuple(os.environ.get("BOARDS", " ".join(ALL_BOARDS)).split())
NS_PER_INSTRUCTION = 32.0
INSTRUCTIONS_PER_TICK = 1.25
# Goals of issue 16, in instructions per inference (M3, M4F).
GOALS = {
    "kws_ref_model.tflite": (7.5e6, 5.0e6),
    "pretrainedResnet_quant.tflite": (31e6, 19e6),
    "ad01_int8.tflite": (0.75e6, 0.45e6),
}
# Models larger than the boards' model slot or arena are skipped.
MAX_MODEL_BYTES = 1 << 20


def shape(g, t):
    return [int(d) for d in g.Tensors(t).ShapeAsNumpy()] if g.Tensors(t).ShapeLength() else []


def operator_costs(path):
    """Per operator of subgraph 0: (name, MACs, output elements)."""
    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    g = model.Subgraphs(0)
    costs = []
    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = BUILTIN_OPCODE2NAME.get(builtin, str(builtin))
        ins, outs = op.InputsAsNumpy(), op.OutputsAsNumpy()
        out = shape(g, int(outs[0])) if len(outs) else []
        elements = int(np.prod(out)) if out else 0
        macs = 0
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV") and len(ins) > 1:
            f = shape(g, int(ins[1]))
            if name == "CONV_2D":
                macs = elements * f[1] * f[2] * f[3]
            elif name == "DEPTHWISE_CONV_2D":
                macs = elements * f[1] * f[2]
            else:
                macs = int(np.prod(shape(g, int(ins[2])))) * f[0] * f[1] * f[2]
        elif name == "FULLY_CONNECTED" and len(ins) > 1:
            f = shape(g, int(ins[1]))
            macs = elements * f[-1]
        costs.append((name, macs, elements))
    return costs


def run(board, model, out):
    vlab = os.environ.get("VLAB", str(ROOT / "target/release/vlab"))
    cmd = [vlab, "bench", "--board", board, "--boards-dir", str(ROOT / "boards"), "--model", str(model),
           "--iterations", "3", "--warmup", "1", "--per-layer", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    return json.loads((out / "vlab-report.json").read_text()), None


def millions(x):
    return f"{x / 1e6:.3f} M"


def main():
    models = [pathlib.Path(a).resolve() for a in sys.argv[1:]]
    if not models:
        models = sorted(SHARED.glob("*.tflite")) + sorted((ROOT / "models").glob("*.tflite"))
        models = [m for m in models if m.stat().st_size <= MAX_MODEL_BYTES]
    summary = []
    for model in models:
        costs = operator_costs(model)
        print(f"\n## {model.name}")
        per_board = {}
        for board in BOARDS:
            with tempfile.TemporaryDirectory() as tmp:
                report, error = run(board, model, pathlib.Path(tmp))
            if report is None:
                print(f"{board}: not run: {error}")
                continue
            ticks = sorted(report["device"]["samples_ticks"])
            per_board[board] = (ticks[len(ticks) // 2] * INSTRUCTIONS_PER_TICK, report.get("layers") or [])
        if not per_board:
            summary.append((model.name, None, None))
            continue
        print("| # | operator | MACs | outputs | " + " | ".join(
            f"{b} instructions | per MAC or output" for b in per_board) + " |")
        print("|---|---|---:|---:|" + "---:|---:|" * len(per_board))
        for i, (name, macs, outputs) in enumerate(costs):
            cells = []
            for _, layers in per_board.values():
                layer = next((l for l in layers if l["index"] == i), None)
                if layer is None:
                    cells += ["-", "-"]
                    continue
                n = layer["median_ns"] / NS_PER_INSTRUCTION
                unit = macs or outputs
                cells += [f"{n:,.0f}", f"{n / unit:.2f} / {'MAC' if macs else 'output'}" if unit else "-"]
            print(f"| {i} | {name} | {macs:,} | {outputs:,} | " + " | ".join(cells) + " |")
        total = [per_board.get(b, (None,))[0] for b in ALL_BOARDS]
        for b, n in zip(ALL_BOARDS, total):
            if n is not None:
                print(f"{b}: {millions(n)} instructions per inference")
        summary.append((model.name, *total))
    print("\n| model | AN385 (M3) | goal | AN386 (M4F) | goal |")
    print("|---|---:|---:|---:|---:|")
    for name, m3, m4 in summary:
        g3, g4 = GOALS.get(name, (None, None))
        cell = lambda v: millions(v) if v is not None else "-"
        print(f"| {name} | {cell(m3)} | {cell(g3)} | {cell(m4)} | {cell(g4)} |")


if __name__ == "__main__":
    main()
