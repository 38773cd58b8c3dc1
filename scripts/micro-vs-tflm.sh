#!/usr/bin/env bash
# Speed and arena of engine `micro` against TFLite Micro, in one run:
# installs the pinned tflite-micro into .venv/goldens, builds vlab, runs
# scripts/micro-vs-tflm.py [ITERATIONS].
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv/goldens
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --pre "tflite-micro==0.dev20261023182759" "numpy<3"
cargo build --quiet --release -p vlab-bridge
"$venv/bin/python" scripts/micro-vs-tflm.py "$@"
