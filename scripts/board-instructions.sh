#!/usr/bin/env bash
# Instructions per inference, per operator, per MAC and per output of
# vlab-micro on both emulated boards, next to the goals
# (scripts/board-instructions.py; docs/performance.md).
#   usage: scripts/board-instructions.sh [MODEL.tflite...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv/goldens
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "tflite==2.18.0" "numpy<3"
echo "board-instructions: building vlab and the emulated boards' firmware"
cargo build --quiet --release -p vlab-bridge
scripts/build-firmware.sh qemu-mps2-an385 qemu-mps2-an386
"$venv/bin/python" scripts/board-instructions.py "$@"
