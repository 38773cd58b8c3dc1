#!/usr/bin/env bash
# Quick start: set up what is missing, then benchmark a real model
# (keyword spotting, TFLite int8) on this machine with the tract engine,
# then on the emulated Cortex-M3 board (QEMU mps2-an385) with vlab's
# firmware. The artifacts go to ./vlab-out and ./vlab-out-board.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
cargo run --release --quiet -p vlab-bridge -- \
    bench --model models/keyword_spotting.tflite --iterations 100 --warmup 10 --out vlab-out
cargo run --release --quiet -p vlab-bridge -- \
    bench --board qemu-mps2-an385 --model models/keyword_spotting.tflite \
    --iterations 20 --per-layer --out vlab-out-board
