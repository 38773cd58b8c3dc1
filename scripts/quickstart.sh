#!/usr/bin/env bash
# Quick start: set up what is missing, then benchmark a real model
# (keyword spotting, TFLite int8) on this machine with the tract engine.
# The artifacts go to ./vlab-out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
cargo run --release --quiet -p vlab-bridge -- \
    bench --model models/keyword_spotting.tflite --iterations 100 --warmup 10 --out vlab-out
