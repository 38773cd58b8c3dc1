#!/usr/bin/env bash
# vlab's ONNX Runtime medians next to ONNX Runtime's Python API, same run
# (docs/performance.md). Needs scripts/setup.sh (the .venv/engines venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet -p vlab-bridge
ORT_DYLIB_PATH="$(ls .venv/engines/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*)" \
    .venv/engines/bin/python scripts/ort-fidelity.py target/release/vlab
