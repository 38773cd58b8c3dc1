#!/usr/bin/env bash
# Fuzzes vlab-micro's parse + plan + prepare + invoke with cargo-fuzz
# (libFuzzer), seeded with every fetched and MLPerf Tiny .tflite model
# (VLAB_REFERENCE_DATA, default ../shared/mlperf-tiny).
# Usage: scripts/fuzz-micro.sh [SECONDS]   (default 600)
# cargo-fuzz needs nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1
# lets rustc accept them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus=runtimes/micro/fuzz/corpus/parse_prepare
mkdir -p "$corpus"
cp models/*.tflite "$corpus"/ 2>/dev/null || true
cp "${VLAB_REFERENCE_DATA:-../shared/mlperf-tiny}"/*.tflite "$corpus"/ 2>/dev/null || true
cd runtimes/micro/fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_prepare --fuzz-dir . "${PWD}/corpus/parse_prepare" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=400000
