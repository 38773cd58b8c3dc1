#!/usr/bin/env bash
# Regenerates tests/goldens/ with the pinned TFLite Micro Python interpreter,
# installed from PyPI into .venv/goldens, with LiteRT's interpreter (the
# reference for float16-weight models TFLite Micro refuses) and the `tflite`
# schema bindings scripts/model_inventory.py reads models with.
# `scripts/goldens.sh MODEL.tflite...` regenerates only those models' goldens.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv/goldens
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --pre "tflite-micro==0.dev20261023182759" "numpy<3" "flatbuffers==25.12.19"
"$venv/bin/pip" install --quiet --disable-pip-version-check "tflite==2.18.0" "ai-edge-litert==2.3.0"
"$venv/bin/python" scripts/op_models.py
"$venv/bin/python" scripts/goldens.py "$@"
