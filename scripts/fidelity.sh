#!/usr/bin/env bash
# vlab's ort and tflite medians next to each engine's own Python timing loop,
# in the same run (docs/performance.md). Needs scripts/setup.sh; adds a
# .venv/fidelity venv with onnxruntime and LiteRT's Python interpreter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv/fidelity
if [ ! -e "$venv/.complete" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        onnxruntime==1.31.1 ai-edge-litert==2.3.0
    touch "$venv/.complete"
fi
cargo build --release --quiet -p vlab-bridge
ort_lib="$(ls .venv/engines/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*)"
tflite_lib="$(ls .venv/engines/lib/python3*/site-packages/pymicro_wakeword/lib/libtensorflowlite_c.so)"
ORT_DYLIB_PATH="$ort_lib" TFLITE_DYLIB_PATH="$tflite_lib" \
    "$venv/bin/python" scripts/fidelity.py target/release/vlab "$tflite_lib" 2>/dev/null
